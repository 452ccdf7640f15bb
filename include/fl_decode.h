/* fl_decode.h - link layer to transport header, bounds-checked.
 *
 * Link types: Ethernet (802.1Q, QinQ, MPLS, Cisco SGT metadata), FDDI,
 * Linux cooked SLL and SLL2, raw IP, BSD null/loopback. Tunnels opened to the
 * innermost packet: GRE, ERSPAN I/II/III, VXLAN, IP-in-IP. IPv4 (non-first
 * fragments carry no L4 header), IPv6 with extension headers, TCP, UDP, ICMP.
 */
#ifndef FL_DECODE_H
#define FL_DECODE_H

#include "fl_packet.h"

/* Reasons a packet could not be decoded; counted, never logged per packet. */
#define FL_DECODE_ERRORS(X)                                                                        \
    X(unsupported_linktype)                                                                        \
    X(truncated_link)                                                                              \
    X(truncated_ip)                                                                                \
    X(bad_ip_version)                                                                              \
    X(bad_ipv4_header)                                                                             \
    X(bad_ipv6_header)                                                                             \
    X(truncated_tcp)                                                                               \
    X(bad_tcp_header)                                                                              \
    X(truncated_udp)                                                                               \
    X(bad_udp_length)                                                                              \
    X(truncated_icmp)                                                                              \
    X(truncated_tunnel)                                                                            \
    X(bad_tunnel)                                                                                  \
    X(too_many_layers)

typedef enum fl_decode_error {
#define FL_X(name) FL_DERR_##name,
    FL_DECODE_ERRORS(FL_X)
#undef FL_X
        FL_DERR_COUNT
} fl_decode_error;

typedef enum fl_decode_result {
    FL_DECODE_OK = 0, /* an IP packet; *pkt filled */
    FL_DECODE_NOT_IP, /* ARP, LLDP, STP...: fine, not ours */
    FL_DECODE_ERROR,  /* malformed: *why says how */
} fl_decode_result;

const char *fl_decode_error_name(fl_decode_error e);

/* Decode one captured frame of DLT `linktype`. Fills every field of *pkt
 * except ts_us and wire_len (the caller's). */
fl_decode_result fl_decode_packet(int linktype, const uint8_t *data, uint32_t caplen,
                                  fl_packet *pkt, fl_decode_error *why);

/* True when the decoder knows this DLT. */
bool fl_decode_linktype_supported(int linktype);

#endif
