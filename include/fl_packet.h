/* fl_packet.h - a decoded packet: what capture/ hands to analysis/.
 *
 * Pointers refer into the capture buffer and live only until the next packet.
 * All lengths are already clamped to the declared IP/L4 lengths, so link-layer
 * padding never reaches a dissector.
 */
#ifndef FL_PACKET_H
#define FL_PACKET_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

/* An IPv4 or IPv6 address. IPv4 uses b[0..3]; the other bytes are zero so
 * that addresses compare and hash with memcmp. */
typedef struct fl_addr {
    uint8_t family; /* 4 or 6; 0 = none */
    uint8_t b[16];
} fl_addr;

static inline bool fl_addr_eq(const fl_addr *a, const fl_addr *b)
{
    return a->family == b->family && memcmp(a->b, b->b, 16) == 0;
}

/* Text form into buf (at least 46 bytes); returns buf. */
char *fl_addr_str(const fl_addr *a, char *buf, size_t len);
/* Parse dotted IPv4 or IPv6 text; returns false on bad input. */
bool fl_addr_parse(const char *text, fl_addr *out);

enum {
    FL_TCP_FIN = 0x01,
    FL_TCP_SYN = 0x02,
    FL_TCP_RST = 0x04,
    FL_TCP_PSH = 0x08,
    FL_TCP_ACK = 0x10,
    FL_TCP_URG = 0x20,
};

/* Ports the pipeline decides on (IANA service name and port registry);
 * transport protocols are IPPROTO_TCP / IPPROTO_UDP from <netinet/in.h>. */
enum {
    FL_PORT_DNS = 53,    /* RFC 1035 */
    FL_PORT_MDNS = 5353, /* RFC 6762 */
    FL_PORT_HTTP_PROXY = 3128,
    FL_PORT_HTTP_ALT = 8080,
    FL_PORT_HTTPS_ALT = 8443,
};

enum {
    FL_PKT_FRAGMENT = 0x01,   /* non-first IP fragment: no L4 header here */
    FL_PKT_ICMP_ERROR = 0x02, /* ICMP/ICMPv6 error quoting another packet */
    FL_PKT_TUNNELED = 0x04,   /* came out of GRE/ERSPAN/VXLAN/IP-in-IP */
    FL_PKT_L4_TRUNC = 0x08,   /* L4 payload shorter than declared (snaplen or
                                 first fragment): parse what is there */
};

typedef struct fl_packet {
    uint64_t ts_us;    /* packet time, microseconds since the epoch */
    uint32_t wire_len; /* original length on the wire */
    const uint8_t *l3; /* innermost IP header (for nDPI) */
    uint32_t l3_len;   /* clamped to the IP total length and caplen */
    fl_addr src, dst;
    uint16_t sport, dport; /* 0 for protocols without ports */
    uint16_t vlan;         /* outermost 802.1Q VLAN id, 0 if none */
    uint8_t ip_version;    /* 4 or 6 */
    uint8_t l4_proto;      /* IPPROTO_* of the innermost transport */
    uint8_t tcp_flags;     /* FL_TCP_* */
    uint8_t flags;         /* FL_PKT_* */
    uint32_t tcp_seq, tcp_ack;
    const uint8_t *payload; /* L4 payload */
    uint32_t payload_len;
} fl_packet;

#endif
