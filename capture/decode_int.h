/* decode_int.h - private to capture/decode_*.c: the decoder's state and the
 * entry points each layer file offers the others.
 *
 * Every function takes (p, len): p points at the first byte of its header and
 * len is what may be read there (already clamped by the outer layers to the
 * captured bytes and to any declared length). Each one reads its header
 * through the checked cursor (fl_cursor.h) and tests len or the cursor's bad
 * flag before it trusts a value; nothing indexes packet bytes directly.
 */
#ifndef FL_DECODE_INT_H
#define FL_DECODE_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "fl_decode.h"

/* VLAN tags, MPLS labels, metadata headers and tunnels together. Real traffic
 * uses a handful (QinQ + MPLS + one tunnel); the cap bounds the work a crafted
 * frame can cause. */
#define FL_DEC_MAX_LAYERS 16

/* Ethertypes we dispatch on. */
enum {
    FL_ETH_IPV4 = 0x0800,
    FL_ETH_ARP = 0x0806,
    FL_ETH_VLAN = 0x8100,     /* IEEE 802.1Q */
    FL_ETH_QINQ = 0x88a8,     /* IEEE 802.1ad */
    FL_ETH_QINQ_OLD = 0x9100, /* pre-802.1ad vendor QinQ */
    FL_ETH_IPV6 = 0x86dd,
    FL_ETH_MPLS_UC = 0x8847,
    FL_ETH_MPLS_MC = 0x8848,
    FL_ETH_PPPOE_S = 0x8864,
    FL_ETH_CISCO_MD = 0x8909, /* Cisco MetaData (SGT) */
    FL_ETH_TEB = 0x6558,      /* transparent Ethernet bridging (GRE) */
    FL_ETH_ERSPAN12 = 0x88be,
    FL_ETH_ERSPAN3 = 0x22eb,
};

typedef struct fl_dec {
    fl_packet *pkt;
    fl_decode_error why;
    uint8_t layers; /* encapsulation layers opened so far */
    bool vlan_seen; /* the outermost tag has been recorded */
} fl_dec;

static inline fl_decode_result fl_dec_fail(fl_dec *d, fl_decode_error e)
{
    d->why = e;
    return FL_DECODE_ERROR;
}

/* One more encapsulation layer; false (and why = too_many_layers) past the cap. */
static inline bool fl_dec_layer(fl_dec *d)
{
    if (d->layers >= FL_DEC_MAX_LAYERS) {
        d->why = FL_DERR_too_many_layers;
        return false;
    }
    d->layers++;
    return true;
}

/* Entering a tunnel: what the outer transport set no longer describes the
 * packet; the inner layers will set it again. The outer VLAN stays. */
static inline bool fl_dec_tunnel(fl_dec *d)
{
    if (!fl_dec_layer(d))
        return false;
    fl_packet *k = d->pkt;
    k->flags = FL_PKT_TUNNELED;
    k->sport = k->dport = 0;
    k->tcp_flags = 0;
    k->tcp_seq = k->tcp_ack = 0;
    return true;
}

/* decode_link.c */
fl_decode_result fl_dec_ethernet(fl_dec *d, const uint8_t *p, uint32_t len);

/* decode_ip.c */
fl_decode_result fl_dec_ip(fl_dec *d, const uint8_t *p, uint32_t len); /* by version nibble */
fl_decode_result fl_dec_ipv4(fl_dec *d, const uint8_t *p, uint32_t len);
fl_decode_result fl_dec_ipv6(fl_dec *d, const uint8_t *p, uint32_t len);

/* decode_tunnel.c. Each returns FL_DECODE_OK with *opened = false when the
 * header is not a tunnel it opens (the caller then reports the outer packet). */
fl_decode_result fl_dec_gre(fl_dec *d, const uint8_t *p, uint32_t len, bool *opened);
fl_decode_result fl_dec_vxlan(fl_dec *d, const uint8_t *p, uint32_t len, bool *opened);

#endif
