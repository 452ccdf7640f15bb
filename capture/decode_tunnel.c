/* decode_tunnel.c - GRE, ERSPAN I/II/III and VXLAN, opened to the inner frame.
 *
 * A span port behind a mirror session sees its traffic wrapped in these; the
 * flows that matter are the inner ones. The packet reported is the innermost
 * IP packet with FL_PKT_TUNNELED; the VLAN stays the outer frame's. A GRE
 * payload we do not open (PPTP's enhanced GRE, WCCP, NSH...) leaves the outer
 * packet as the answer, with l4_proto 47.
 */
#include "decode_int.h"
#include "fl_cursor.h"

/* GRE (RFC 2784, keys and sequence numbers RFC 2890): flags and version,
 * protocol type, then optional checksum+reserved (C), key (K), sequence (S).
 * The routing bit (RFC 1701) is obsolete and RFC 2784 says to discard such
 * packets: its variable-length routing fields would be misread. */
fl_decode_result fl_dec_gre(fl_dec *d, const uint8_t *p, uint32_t len, bool *opened)
{
    *opened = false;
    fl_cursor c = fl_cursor_make(p, len);
    uint16_t fv = fl_cur_be16(&c);
    uint16_t proto = fl_cur_be16(&c);
    if (c.bad)
        return fl_dec_fail(d, FL_DERR_truncated_tunnel);
    if ((fv & 0x0007) != 0)
        return FL_DECODE_OK; /* version 1: PPTP (RFC 2637), carries PPP */
    switch (proto) {
    case FL_ETH_IPV4:
    case FL_ETH_IPV6:
    case FL_ETH_TEB:
    case FL_ETH_ERSPAN12:
    case FL_ETH_ERSPAN3:
        break;
    default:
        return FL_DECODE_OK;
    }
    if (fv & 0x4000)
        return fl_dec_fail(d, FL_DERR_bad_tunnel);
    bool seq = (fv & 0x1000) != 0;
    uint32_t hlen = 4 + ((fv & 0x8000) ? 4u : 0u) + ((fv & 0x2000) ? 4u : 0u) + (seq ? 4u : 0u);
    if (len < hlen)
        return fl_dec_fail(d, FL_DERR_truncated_tunnel);
    p += hlen;
    len -= hlen;
    if (!fl_dec_tunnel(d))
        return FL_DECODE_ERROR;
    *opened = true;

    switch (proto) {
    case FL_ETH_IPV4:
        return fl_dec_ipv4(d, p, len);
    case FL_ETH_IPV6:
        return fl_dec_ipv6(d, p, len);
    case FL_ETH_TEB:
        return fl_dec_ethernet(d, p, len);
    case FL_ETH_ERSPAN12:
        /* ERSPAN (draft-foschiano-erspan): type I has no sequence number and
         * no header of its own; type II has the S bit and an 8-byte header
         * (version 1, VLAN, COS, En, T, session id, index). */
        if (!seq)
            return fl_dec_ethernet(d, p, len);
        if (len < 8)
            return fl_dec_fail(d, FL_DERR_truncated_tunnel);
        fl_cursor e = fl_cursor_make(p, len);
        if ((fl_cur_u8(&e) >> 4) != 1)
            return fl_dec_fail(d, FL_DERR_bad_tunnel);
        return fl_dec_ethernet(d, p + 8, len - 8);
    default: {
        /* ERSPAN type III: 12 bytes (version 2, VLAN, COS, BSO, T, session;
         * timestamp; SGT, P, frame type FT (5 bits), hardware id, D, Gra, O),
         * then an 8-byte platform-specific subheader when O is set.
         * FT 0 is an Ethernet frame, FT 2 an IP packet. */
        if (len < 12)
            return fl_dec_fail(d, FL_DERR_truncated_tunnel);
        fl_cursor e3 = fl_cursor_make(p, len);
        uint8_t ver = fl_cur_u8(&e3);
        fl_cur_skip(&e3, 9);
        uint8_t b10 = fl_cur_u8(&e3), b11 = fl_cur_u8(&e3);
        if ((ver >> 4) != 2)
            return fl_dec_fail(d, FL_DERR_bad_tunnel);
        uint32_t h = (b11 & 0x01) ? 20u : 12u;
        uint8_t ft = (b10 >> 2) & 0x1f;
        if (len < h)
            return fl_dec_fail(d, FL_DERR_truncated_tunnel);
        if (ft == 0)
            return fl_dec_ethernet(d, p + h, len - h);
        if (ft == 2)
            return fl_dec_ip(d, p + h, len - h);
        return fl_dec_fail(d, FL_DERR_bad_tunnel);
    }
    }
}

/* VXLAN (RFC 7348): flags (I = 0x08 says the VNI is valid), 3 reserved, VNI
 * (3), 1 reserved, then an Ethernet frame. Without the I flag the datagram is
 * left as plain UDP to port 4789: it may not be VXLAN at all. */
fl_decode_result fl_dec_vxlan(fl_dec *d, const uint8_t *p, uint32_t len, bool *opened)
{
    *opened = false;
    fl_cursor c = fl_cursor_make(p, len);
    uint8_t flags = fl_cur_u8(&c);
    if (len < 8 || !(flags & 0x08))
        return FL_DECODE_OK;
    if (!fl_dec_tunnel(d))
        return FL_DECODE_ERROR;
    *opened = true;
    return fl_dec_ethernet(d, p + 8, len - 8);
}
