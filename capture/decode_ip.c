/* decode_ip.c - IPv4, IPv6 (extension headers), TCP, UDP, ICMP/ICMPv6.
 *
 * Lengths are clamped as soon as they are read (masscan, tcpdump): the IP
 * total length cuts off link-layer padding, the UDP length cuts off what
 * follows the datagram. A declared length longer than what was captured is
 * not an error: the packet is reported with FL_PKT_L4_TRUNC and parsers use
 * what is there. Only a header that is itself cut short is an error.
 */
#include "decode_int.h"
#include "fl_cursor.h"

enum {
    IPPROTO_ICMP_ = 1,
    IPPROTO_IPIP_ = 4,
    IPPROTO_TCP_ = 6,
    IPPROTO_UDP_ = 17,
    IPPROTO_IPV6_ = 41,
    IPPROTO_GRE_ = 47,
    IPPROTO_ICMPV6_ = 58,
};

#define VXLAN_PORT 4789 /* RFC 7348, IANA */
/* A sane bound on IPv6 extension headers in one packet; the length already
 * bounds the loop, this bounds the time a crafted packet can take. */
#define MAX_IPV6_EXT 16

static inline void set_v4(fl_addr *a, const uint8_t *b)
{
    a->family = 4;
    memcpy(a->b, b, 4);
    memset(a->b + 4, 0, 12);
}

static inline void set_v6(fl_addr *a, const uint8_t *b)
{
    a->family = 6;
    memcpy(a->b, b, 16);
}

/* TCP (RFC 9293): data offset in 32-bit words, at least 5, and the header
 * must fit in the segment the IP header declares. Options cut off by the
 * snaplen leave the fixed header usable: FL_PKT_L4_TRUNC, empty payload. */
static fl_decode_result tcp(fl_dec *d, const uint8_t *p, uint32_t cap, uint32_t decl)
{
    if (cap < 20)
        return fl_dec_fail(d, FL_DERR_truncated_tcp);
    fl_cursor c = fl_cursor_make(p, cap);
    uint16_t sport = fl_cur_be16(&c), dport = fl_cur_be16(&c);
    uint32_t seq = fl_cur_be32(&c), ack = fl_cur_be32(&c);
    uint32_t doff = (uint32_t)(fl_cur_u8(&c) >> 4) * 4u;
    uint8_t flags = fl_cur_u8(&c) & 0x3f; /* FL_TCP_*; ECE/CWR are not reported */
    if (doff < 20 || doff > decl)
        return fl_dec_fail(d, FL_DERR_bad_tcp_header);
    fl_packet *k = d->pkt;
    k->sport = sport;
    k->dport = dport;
    k->tcp_seq = seq;
    k->tcp_ack = ack;
    k->tcp_flags = flags;
    if (doff > cap) {
        k->flags |= FL_PKT_L4_TRUNC;
        k->payload = p + cap;
        k->payload_len = 0;
    } else {
        k->payload = p + doff;
        k->payload_len = cap - doff;
    }
    return FL_DECODE_OK;
}

/* UDP (RFC 768): the length field covers header and data. Longer than the IP
 * payload is malformed, except in a first fragment, where the rest of the
 * datagram follows in other fragments. Zero in IPv6 is a jumbogram (RFC 2675). */
static fl_decode_result udp(fl_dec *d, const uint8_t *p, uint32_t cap, uint32_t decl,
                            bool first_frag)
{
    if (cap < 8)
        return fl_dec_fail(d, FL_DERR_truncated_udp);
    fl_packet *k = d->pkt;
    fl_cursor c = fl_cursor_make(p, cap);
    uint16_t sport = fl_cur_be16(&c), dport = fl_cur_be16(&c);
    uint32_t ulen = fl_cur_be16(&c);
    if (ulen == 0 && k->ip_version == 6) {
        ulen = decl;
    } else if (ulen < 8) {
        return fl_dec_fail(d, FL_DERR_bad_udp_length);
    } else if (ulen > decl) {
        if (!first_frag)
            return fl_dec_fail(d, FL_DERR_bad_udp_length);
        ulen = decl;
    }
    uint32_t avail = cap < ulen ? cap : ulen;
    k->sport = sport;
    k->dport = dport;
    k->payload = p + 8;
    k->payload_len = avail - 8;
    if (k->dport == VXLAN_PORT) {
        bool opened = false;
        fl_decode_result r = fl_dec_vxlan(d, k->payload, k->payload_len, &opened);
        if (opened || r != FL_DECODE_OK)
            return r;
    }
    return FL_DECODE_OK;
}

/* ICMP (RFC 792) / ICMPv6 (RFC 4443). Error messages quote the start of the
 * offending datagram; that quote is payload, never a packet of its own, so a
 * quoted TCP RST or DNS response is not counted as traffic. The payload is
 * what follows the 8-byte ICMP header (for errors: the quoted IP header). */
static fl_decode_result icmp(fl_dec *d, uint8_t proto, const uint8_t *p, uint32_t cap)
{
    if (cap < 4)
        return fl_dec_fail(d, FL_DERR_truncated_icmp);
    fl_packet *k = d->pkt;
    fl_cursor c = fl_cursor_make(p, cap);
    uint8_t type = fl_cur_u8(&c);
    bool err;
    if (proto == IPPROTO_ICMP_)
        /* unreachable, source quench, redirect, time exceeded, parameter problem */
        err = type == 3 || type == 4 || type == 5 || type == 11 || type == 12;
    else
        /* unreachable, packet too big, time exceeded, parameter problem */
        err = type >= 1 && type <= 4;
    if (err)
        k->flags |= FL_PKT_ICMP_ERROR;
    uint32_t hdr = 8;
    if (cap < hdr) {
        hdr = cap;
        k->flags |= FL_PKT_L4_TRUNC;
    }
    k->payload = p + hdr;
    k->payload_len = cap - hdr;
    return FL_DECODE_OK;
}

/* After the IP header: `cap` bytes captured of the `decl` the IP header
 * declares (cap <= decl). */
static fl_decode_result transport(fl_dec *d, uint8_t proto, const uint8_t *p, uint32_t cap,
                                  uint32_t decl, bool first_frag)
{
    switch (proto) {
    case IPPROTO_TCP_:
        return tcp(d, p, cap, decl);
    case IPPROTO_UDP_:
        return udp(d, p, cap, decl, first_frag);
    case IPPROTO_ICMP_:
    case IPPROTO_ICMPV6_:
        return icmp(d, proto, p, cap);
    case IPPROTO_GRE_: {
        bool opened = false;
        fl_decode_result r = fl_dec_gre(d, p, cap, &opened);
        if (opened || r != FL_DECODE_OK)
            return r;
        break;
    }
    case IPPROTO_IPIP_:
        /* RFC 2003. In a first fragment the inner header is complete and the
         * inner length check reports the rest as truncated. */
        if (!fl_dec_tunnel(d))
            return FL_DECODE_ERROR;
        return fl_dec_ipv4(d, p, cap);
    case IPPROTO_IPV6_:
        /* RFC 4213 (6in4) and IPv6-in-IPv6 (RFC 2473) */
        if (!fl_dec_tunnel(d))
            return FL_DECODE_ERROR;
        return fl_dec_ipv6(d, p, cap);
    default:
        break;
    }
    fl_packet *k = d->pkt;
    k->payload = p;
    k->payload_len = cap;
    return FL_DECODE_OK;
}

/* IPv4 (RFC 791). */
fl_decode_result fl_dec_ipv4(fl_dec *d, const uint8_t *p, uint32_t len)
{
    fl_cursor c = fl_cursor_make(p, len);
    uint8_t vihl = fl_cur_u8(&c);
    if (len < 20) {
        if (len >= 1 && (vihl >> 4) != 4)
            return fl_dec_fail(d, FL_DERR_bad_ip_version);
        return fl_dec_fail(d, FL_DERR_truncated_ip);
    }
    if ((vihl >> 4) != 4)
        return fl_dec_fail(d, FL_DERR_bad_ip_version);
    uint32_t ihl = (uint32_t)(vihl & 0x0f) * 4u;
    if (ihl < 20)
        return fl_dec_fail(d, FL_DERR_bad_ipv4_header);
    fl_cur_skip(&c, 1); /* type of service */
    uint32_t tot = fl_cur_be16(&c);
    fl_cur_skip(&c, 2); /* identification */
    uint16_t frag = fl_cur_be16(&c);
    fl_cur_skip(&c, 1); /* time to live */
    uint8_t proto = fl_cur_u8(&c);
    fl_cur_skip(&c, 2); /* header checksum */
    const uint8_t *src = fl_cur_take(&c, 4), *dst = fl_cur_take(&c, 4);
    if (tot == 0)
        tot = len; /* segmentation offload seen on the sending host (as Wireshark) */
    if (tot < ihl)
        return fl_dec_fail(d, FL_DERR_bad_ipv4_header);
    if (ihl > len)
        return fl_dec_fail(d, FL_DERR_truncated_ip);

    fl_packet *k = d->pkt;
    uint32_t iplen = tot;
    if (tot > len) {
        iplen = len;
        k->flags |= FL_PKT_L4_TRUNC;
    }
    set_v4(&k->src, src);
    set_v4(&k->dst, dst);
    k->l3 = p;
    k->l3_len = iplen;
    k->ip_version = 4;
    k->l4_proto = proto;

    const uint8_t *l4 = p + ihl;
    uint32_t cap = iplen - ihl;
    if (frag & 0x1fff) {
        /* Not the first fragment: its bytes are the middle of a datagram. */
        k->flags |= FL_PKT_FRAGMENT;
        k->payload = l4;
        k->payload_len = cap;
        return FL_DECODE_OK;
    }
    bool first_frag = (frag & 0x2000) != 0; /* MF with offset 0 */
    if (first_frag)
        k->flags |= FL_PKT_L4_TRUNC;
    return transport(d, proto, l4, cap, tot - ihl, first_frag);
}

/* The extension header chain from *off (RFC 8200 4): advances *nh and *off
 * to the upper-layer header; false (d->why set) if it is malformed. */
static bool ipv6_ext(fl_dec *d, const uint8_t *p, uint32_t tot, uint32_t iplen, uint8_t *nh,
                     uint32_t *off, bool *first_frag, bool *later_frag)
{
    uint8_t h = *nh;
    uint32_t o = *off;
    fl_decode_error why = FL_DERR_COUNT;
    for (unsigned n = 0; why == FL_DERR_COUNT; n++) {
        if (h != 0 && h != 43 && h != 44 && h != 60 && h != 51 && h != 135)
            break;
        if (n >= MAX_IPV6_EXT) {
            why = FL_DERR_too_many_layers;
            break;
        }
        if (o + 2 > tot || o + 2 > iplen) {
            why = o + 2 > tot ? FL_DERR_bad_ipv6_header : FL_DERR_truncated_ip;
            break;
        }
        fl_cursor e = fl_cursor_make(p + o, iplen - o);
        uint8_t next = fl_cur_u8(&e), elen = fl_cur_u8(&e);
        uint32_t hlen = h == 44 ? 8 : h == 51 ? ((uint32_t)elen + 2) * 4 : ((uint32_t)elen + 1) * 8;
        if (o + hlen > tot || o + hlen > iplen) {
            why = o + hlen > tot ? FL_DERR_bad_ipv6_header : FL_DERR_truncated_ip;
            break;
        }
        if (h == 44) {
            uint16_t fo = fl_cur_be16(&e);
            if (fo & 0xfff8)
                *later_frag = true;
            else if (fo & 0x0001)
                *first_frag = true;
        }
        h = next;
        o += hlen;
        if (*later_frag)
            break; /* what follows is the middle of a datagram */
    }
    *nh = h;
    *off = o;
    if (why != FL_DERR_COUNT)
        fl_dec_fail(d, why);
    return why == FL_DERR_COUNT;
}

/* IPv6 (RFC 8200) and its extension headers: hop-by-hop (0), routing (43),
 * fragment (44), destination options (60), mobility (135, RFC 6275) in units
 * of 8 bytes not counting the first 8; AH (51, RFC 4302) in units of 4 bytes
 * minus 2. ESP (50) and no-next-header (59) end the chain. */
fl_decode_result fl_dec_ipv6(fl_dec *d, const uint8_t *p, uint32_t len)
{
    fl_cursor c = fl_cursor_make(p, len);
    uint8_t vtc = fl_cur_u8(&c);
    if (len < 40) {
        if (len >= 1 && (vtc >> 4) != 6)
            return fl_dec_fail(d, FL_DERR_bad_ip_version);
        return fl_dec_fail(d, FL_DERR_truncated_ip);
    }
    if ((vtc >> 4) != 6)
        return fl_dec_fail(d, FL_DERR_bad_ip_version);
    fl_cur_skip(&c, 3); /* traffic class, flow label */
    uint32_t plen = fl_cur_be16(&c);
    uint8_t nh = fl_cur_u8(&c);
    fl_cur_skip(&c, 1); /* hop limit */
    const uint8_t *src = fl_cur_take(&c, 16), *dst = fl_cur_take(&c, 16);
    uint32_t tot = 40 + plen;
    if (plen == 0 && nh == 0)
        tot = len; /* jumbogram (RFC 2675): the length is in hop-by-hop */

    fl_packet *k = d->pkt;
    uint32_t iplen = tot;
    if (tot > len) {
        iplen = len;
        k->flags |= FL_PKT_L4_TRUNC;
    }
    set_v6(&k->src, src);
    set_v6(&k->dst, dst);
    k->l3 = p;
    k->l3_len = iplen;
    k->ip_version = 6;

    uint32_t off = 40;
    bool first_frag = false, later_frag = false;
    if (!ipv6_ext(d, p, tot, iplen, &nh, &off, &first_frag, &later_frag))
        return FL_DECODE_ERROR;
    k->l4_proto = nh;
    const uint8_t *l4 = p + off;
    uint32_t cap = iplen - off;
    if (later_frag) {
        k->flags |= FL_PKT_FRAGMENT;
        k->payload = l4;
        k->payload_len = cap;
        return FL_DECODE_OK;
    }
    if (first_frag)
        k->flags |= FL_PKT_L4_TRUNC;
    return transport(d, nh, l4, cap, tot - off, first_frag);
}

fl_decode_result fl_dec_ip(fl_dec *d, const uint8_t *p, uint32_t len)
{
    fl_cursor c = fl_cursor_make(p, len);
    uint8_t version = fl_cur_u8(&c) >> 4;
    if (c.bad)
        return fl_dec_fail(d, FL_DERR_truncated_ip);
    switch (version) {
    case 4:
        return fl_dec_ipv4(d, p, len);
    case 6:
        return fl_dec_ipv6(d, p, len);
    default:
        return fl_dec_fail(d, FL_DERR_bad_ip_version);
    }
}
