/* decode_link.c - link layers down to the IP header.
 *
 * Ethernet II and 802.3 (LLC/SNAP), 802.1Q/802.1ad tags, MPLS, Cisco MetaData
 * (SGT), PPPoE sessions, FDDI, Linux cooked v1/v2, raw IP, BSD null/loopback.
 * Anything that is not IP (ARP, LLDP, STP, IPX, CDP...) is FL_DECODE_NOT_IP:
 * normal traffic, not an error.
 */
#include "decode_int.h"
#include "fl_cursor.h"

static const char *const error_names[FL_DERR_COUNT] = {
#define FL_X(name) #name,
    FL_DECODE_ERRORS(FL_X)
#undef FL_X
};

const char *fl_decode_error_name(fl_decode_error e)
{
    return (unsigned)e < FL_DERR_COUNT ? error_names[e] : "unknown";
}

/* DLT / LINKTYPE values (pcap-linktype(7)); spelled out so that this file
 * does not need <pcap.h> (only source_pcap.c includes it). */
enum {
    DLT_NULL_ = 0,
    DLT_EN10MB_ = 1,
    DLT_FDDI_ = 10,
    DLT_RAW_ = 12,        /* Linux and most BSDs */
    DLT_RAW_OPENBSD = 14, /* OpenBSD's DLT_RAW */
    LINKTYPE_RAW_ = 101,  /* what the file says; libpcap maps it to 12 */
    DLT_LOOP_ = 108,
    DLT_LINUX_SLL_ = 113,
    LINKTYPE_IPV4_ = 228,
    LINKTYPE_IPV6_ = 229,
    DLT_LINUX_SLL2_ = 276,
};

bool fl_decode_linktype_supported(int linktype)
{
    switch (linktype) {
    case DLT_NULL_:
    case DLT_EN10MB_:
    case DLT_FDDI_:
    case DLT_RAW_:
    case DLT_RAW_OPENBSD:
    case LINKTYPE_RAW_:
    case DLT_LOOP_:
    case DLT_LINUX_SLL_:
    case LINKTYPE_IPV4_:
    case LINKTYPE_IPV6_:
    case DLT_LINUX_SLL2_:
        return true;
    default:
        return false;
    }
}

static fl_decode_result ethertype(fl_dec *d, uint16_t type, const uint8_t *p, uint32_t len);

/* IEEE 802.2 LLC, with SNAP (RFC 1042: DSAP=SSAP=0xAA, UI) carrying an
 * ethertype. Other SAPs (STP 0x42, IPX 0xE0, NetBIOS 0xF0...) are not IP. */
static fl_decode_result llc(fl_dec *d, const uint8_t *p, uint32_t len)
{
    fl_cursor c = fl_cursor_make(p, len);
    uint32_t dsap_ssap_ctl = fl_cur_be24(&c);
    if (c.bad)
        return fl_dec_fail(d, FL_DERR_truncated_link);
    if (dsap_ssap_ctl != 0xaaaa03)
        return FL_DECODE_NOT_IP;
    fl_cur_skip(&c, 3); /* SNAP organization code */
    uint16_t type = fl_cur_be16(&c);
    if (c.bad)
        return fl_dec_fail(d, FL_DERR_truncated_link);
    if (type <= 1500) /* a length again: not an ethertype, not IP */
        return FL_DECODE_NOT_IP;
    return ethertype(d, type, p + 8, len - 8);
}

/* MPLS label stack (RFC 3032): 4 bytes a label, S bit ends the stack. There
 * is no protocol field: the first nibble after the stack says IPv4 or IPv6
 * (RFC 4928); anything else (a pseudowire) is not opened. */
static fl_decode_result mpls(fl_dec *d, const uint8_t *p, uint32_t len)
{
    for (;;) {
        if (!fl_dec_layer(d))
            return FL_DECODE_ERROR;
        fl_cursor c = fl_cursor_make(p, len);
        uint32_t entry = fl_cur_be32(&c);
        if (c.bad)
            return fl_dec_fail(d, FL_DERR_truncated_link);
        bool bottom = (entry & 0x100) != 0;
        p += 4;
        len -= 4;
        if (bottom)
            break;
    }
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
        return FL_DECODE_NOT_IP;
    }
}

/* PPPoE session stage (RFC 2516): ver/type 0x11, code 0, session id, length
 * (of the PPP frame, protocol field included), then the PPP protocol
 * (RFC 1661; 0x0021 IPv4, 0x0057 IPv6). */
static fl_decode_result pppoe(fl_dec *d, const uint8_t *p, uint32_t len)
{
    if (!fl_dec_layer(d))
        return FL_DECODE_ERROR;
    fl_cursor c = fl_cursor_make(p, len);
    uint16_t ver_code = fl_cur_be16(&c);
    fl_cur_skip(&c, 2); /* session id */
    uint16_t plen = fl_cur_be16(&c);
    uint16_t proto = fl_cur_be16(&c);
    if (c.bad)
        return fl_dec_fail(d, FL_DERR_truncated_link);
    if (ver_code != 0x1100)
        return FL_DECODE_NOT_IP;
    const uint8_t *body = p + 8;
    uint32_t blen = len - 8;
    if (plen >= 2 && (uint32_t)(plen - 2) < blen)
        blen = plen - 2u; /* drop Ethernet padding */
    switch (proto) {
    case 0x0021:
        return fl_dec_ipv4(d, body, blen);
    case 0x0057:
        return fl_dec_ipv6(d, body, blen);
    default:
        return FL_DECODE_NOT_IP; /* LCP, IPCP, CHAP... */
    }
}

static fl_decode_result ethertype(fl_dec *d, uint16_t type, const uint8_t *p, uint32_t len)
{
    for (;;) {
        switch (type) {
        case FL_ETH_IPV4:
            return fl_dec_ipv4(d, p, len);
        case FL_ETH_IPV6:
            return fl_dec_ipv6(d, p, len);
        case FL_ETH_VLAN:
        case FL_ETH_QINQ:
        case FL_ETH_QINQ_OLD:
            /* 802.1Q tag: TCI (PCP 3, DEI 1, VID 12), then the next type. */
            if (!fl_dec_layer(d))
                return FL_DECODE_ERROR;
            fl_cursor tag = fl_cursor_make(p, len);
            uint16_t tci = fl_cur_be16(&tag);
            type = fl_cur_be16(&tag);
            if (tag.bad)
                return fl_dec_fail(d, FL_DERR_truncated_link);
            if (!d->vlan_seen) {
                d->vlan_seen = true;
                if (!(d->pkt->flags & FL_PKT_TUNNELED))
                    d->pkt->vlan = tci & 0x0fff;
            }
            p += 4;
            len -= 4;
            continue;
        case FL_ETH_MPLS_UC:
        case FL_ETH_MPLS_MC:
            return mpls(d, p, len);
        case FL_ETH_PPPOE_S:
            return pppoe(d, p, len);
        case FL_ETH_CISCO_MD:
            /* Cisco MetaData: version 1, length 1, option type 2, SGT 2,
             * then the ethertype of what follows (the layout Wireshark's
             * packet-cisco-metadata.c decodes; seen in tls_sgt.pcap:
             * 01 01 00 01 00 02 08 00). */
            if (!fl_dec_layer(d))
                return FL_DECODE_ERROR;
            fl_cursor md = fl_cursor_make(p, len);
            fl_cur_skip(&md, 6);
            type = fl_cur_be16(&md);
            if (md.bad)
                return fl_dec_fail(d, FL_DERR_truncated_link);
            p += 8;
            len -= 8;
            continue;
        default:
            if (type <= 1500) {
                /* 802.3 length field (inside a tag too): LLC follows. */
                if (type < len)
                    len = type;
                return llc(d, p, len);
            }
            return FL_DECODE_NOT_IP;
        }
    }
}

fl_decode_result fl_dec_ethernet(fl_dec *d, const uint8_t *p, uint32_t len)
{
    fl_cursor c = fl_cursor_make(p, len);
    fl_cur_skip(&c, 12); /* destination, source */
    uint16_t type = fl_cur_be16(&c);
    if (c.bad)
        return fl_dec_fail(d, FL_DERR_truncated_link);
    return ethertype(d, type, p + 14, len - 14);
}

/* FDDI (ANSI X3.139): frame control, 6-byte destination, 6-byte source, then
 * LLC for asynchronous (0x50-0x57) and synchronous (0xD0-0xD7) LLC frames.
 * Wireshark calls pcap linktype 10 "fddi-swapped" because the MAC addresses
 * are bit-reversed; we never read them. libpcap on some old systems adds 3
 * bytes of padding before the frame control: not handled. */
static fl_decode_result fddi(fl_dec *d, const uint8_t *p, uint32_t len)
{
    if (len < 13)
        return fl_dec_fail(d, FL_DERR_truncated_link);
    fl_cursor c = fl_cursor_make(p, len);
    uint8_t fc = fl_cur_u8(&c) & 0xf8;
    if (fc != 0x50 && fc != 0xd0)
        return FL_DECODE_NOT_IP; /* SMT, MAC, token frames */
    return llc(d, p + 13, len - 13);
}

/* Linux cooked capture: the protocol is an ethertype, or a small value for
 * frames without one (ETH_P_802_2 = 4: LLC follows). */
static fl_decode_result cooked(fl_dec *d, uint16_t proto, const uint8_t *p, uint32_t len)
{
    if (proto == 0x0004)
        return llc(d, p, len);
    if (proto <= 1500)
        return FL_DECODE_NOT_IP; /* 802.3 Novell, CAN, netlink families... */
    return ethertype(d, proto, p, len);
}

/* BSD null: address family in the capturing host's byte order. AF_INET is 2
 * everywhere; AF_INET6 is 24 (NetBSD/OpenBSD), 28 (FreeBSD), 30 (Darwin). */
static fl_decode_result bsd_af(fl_dec *d, uint32_t af, const uint8_t *p, uint32_t len)
{
    switch (af) {
    case 2:
        return fl_dec_ipv4(d, p, len);
    case 24:
    case 28:
    case 30:
        return fl_dec_ipv6(d, p, len);
    default:
        return FL_DECODE_NOT_IP;
    }
}

/* Linux cooked capture v1: packet type 2, ARPHRD 2, address length 2,
 * address 8, protocol 2. */
static fl_decode_result sll(fl_dec *d, const uint8_t *p, uint32_t len)
{
    fl_cursor c = fl_cursor_make(p, len);
    fl_cur_skip(&c, 14);
    uint16_t proto = fl_cur_be16(&c);
    if (c.bad)
        return fl_dec_fail(d, FL_DERR_truncated_link);
    return cooked(d, proto, p + 16, len - 16);
}

/* Linux cooked capture v2: protocol 2, reserved 2, ifindex 4, ARPHRD 2,
 * packet type 1, address length 1, address 8. */
static fl_decode_result sll2(fl_dec *d, const uint8_t *p, uint32_t len)
{
    fl_cursor c = fl_cursor_make(p, len);
    uint16_t proto = fl_cur_be16(&c);
    fl_cur_skip(&c, 18);
    if (c.bad)
        return fl_dec_fail(d, FL_DERR_truncated_link);
    return cooked(d, proto, p + 20, len - 20);
}

/* BSD loopback: a 4-byte address family, in the writing host's byte order
 * (DLT_NULL) or always big-endian (DLT_LOOP). */
static fl_decode_result null_link(fl_dec *d, const uint8_t *p, uint32_t len, bool big_endian)
{
    fl_cursor c = fl_cursor_make(p, len);
    const uint8_t *b = fl_cur_peek(&c, 4);
    uint32_t af = big_endian ? fl_cur_be32(&c) : fl_cur_le32(&c);
    if (c.bad)
        return fl_dec_fail(d, FL_DERR_truncated_link);
    if (!big_endian && (af & 0xffff0000u)) { /* written by a big-endian host */
        fl_cursor be = fl_cursor_make(b, 4);
        af = fl_cur_be32(&be);
    }
    return bsd_af(d, af, p + 4, len - 4);
}

fl_decode_result fl_decode_packet(int linktype, const uint8_t *data, uint32_t caplen,
                                  fl_packet *pkt, fl_decode_error *why)
{
    fl_dec d;
    d.pkt = pkt;
    d.why = FL_DERR_COUNT;
    d.layers = 0;
    d.vlan_seen = false;

    /* Every field but ts_us/wire_len; addresses are written in full by the IP
     * layer, so only their family is reset here. */
    pkt->l3 = NULL;
    pkt->l3_len = 0;
    pkt->src.family = pkt->dst.family = 0;
    pkt->sport = pkt->dport = 0;
    pkt->vlan = 0;
    pkt->ip_version = 0;
    pkt->l4_proto = 0;
    pkt->tcp_flags = 0;
    pkt->flags = 0;
    pkt->tcp_seq = pkt->tcp_ack = 0;
    pkt->payload = NULL;
    pkt->payload_len = 0;

    if (!data)
        caplen = 0;
    fl_decode_result r;
    switch (linktype) {
    case DLT_EN10MB_:
        r = fl_dec_ethernet(&d, data, caplen);
        break;
    case DLT_RAW_:
    case DLT_RAW_OPENBSD:
    case LINKTYPE_RAW_:
        r = fl_dec_ip(&d, data, caplen);
        break;
    case LINKTYPE_IPV4_:
        r = fl_dec_ipv4(&d, data, caplen);
        break;
    case LINKTYPE_IPV6_:
        r = fl_dec_ipv6(&d, data, caplen);
        break;
    case DLT_LINUX_SLL_:
        /* packet type 2, ARPHRD 2, address length 2, address 8, protocol 2 */
        r = sll(&d, data, caplen);
        break;
    case DLT_LINUX_SLL2_:
        /* protocol 2, reserved 2, ifindex 4, ARPHRD 2, packet type 1,
         * address length 1, address 8 */
        r = sll2(&d, data, caplen);
        break;
    case DLT_NULL_:
        r = null_link(&d, data, caplen, false);
        break;
    case DLT_LOOP_:
        r = null_link(&d, data, caplen, true);
        break;
    case DLT_FDDI_:
        r = fddi(&d, data, caplen);
        break;
    default:
        r = fl_dec_fail(&d, FL_DERR_unsupported_linktype);
        break;
    }
    if (r == FL_DECODE_ERROR && why)
        *why = d.why;
    return r;
}
