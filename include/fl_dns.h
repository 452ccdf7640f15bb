/* fl_dns.h - DNS message parser (RFC 1035) and DNS-over-TCP framing.
 *
 * Pure parsing: no counting, no provider logic. Names come out lower-cased,
 * dotted, without the trailing dot; compression pointers are followed with
 * loop protection.
 */
#ifndef FL_DNS_H
#define FL_DNS_H

#include <stdbool.h>
#include <stdint.h>
#include "fl_packet.h"

#define FL_DNS_NAME_MAX 255
#define FL_DNS_MAX_CNAMES 8
#define FL_DNS_MAX_ADDRS 8

enum {
    FL_DNS_RCODE_NOERROR = 0,
    FL_DNS_RCODE_SERVFAIL = 2,
    FL_DNS_RCODE_NXDOMAIN = 3,
    FL_DNS_RCODE_REFUSED = 5,
};
enum { FL_DNS_TYPE_A = 1, FL_DNS_TYPE_CNAME = 5, FL_DNS_TYPE_AAAA = 28 };

typedef struct fl_dns_msg {
    uint16_t id;
    bool response; /* QR bit */
    uint8_t opcode;
    uint8_t rcode; /* header RCODE (4 bits) */
    uint16_t qdcount, ancount, nscount, arcount;
    bool has_question; /* first question parsed */
    uint16_t qtype, qclass;
    char qname[FL_DNS_NAME_MAX + 1];
    /* Responses only: from the answer section. */
    bool answered_qtype;   /* some answer RR has type == qtype */
    bool answers_complete; /* all ancount answer RRs parsed */
    uint8_t ncnames;       /* CNAME targets in answer order (the chain) */
    char cnames[FL_DNS_MAX_CNAMES][FL_DNS_NAME_MAX + 1];
    uint8_t naddrs; /* A/AAAA addresses in the answer section */
    fl_addr addrs[FL_DNS_MAX_ADDRS];
} fl_dns_msg;

typedef enum fl_dns_parse_result {
    FL_DNS_OK = 0, /* header parsed; the rest as far as it was sound */
    FL_DNS_BAD,    /* not even a 12-byte header / not plausible DNS */
} fl_dns_parse_result;

/* Parse one DNS message. The header alone makes FL_DNS_OK: a response cut by
 * fragmentation or snaplen still has its rcode. */
fl_dns_parse_result fl_dns_parse(const uint8_t *data, uint32_t len, fl_dns_msg *out);

/* DNS over TCP (RFC 1035 4.2.2, RFC 7766): 2-byte length prefix, several
 * messages per segment, a message split across segments. A message that
 * lies inside one segment is handed over in place; a split one is copied into
 * a small buffer allocated on first need and kept for the flow (at most
 * FL_DNS_TCP_KEEP bytes of each message are kept: enough for the header,
 * the question and the first answers). */
#define FL_DNS_TCP_KEEP 1024

typedef struct fl_dns_tcp {
    uint8_t *buf;     /* NULL until a message is split */
    uint16_t msg_len; /* declared length of the current message */
    uint16_t got;     /* bytes of it seen so far */
    uint16_t kept;    /* bytes of it in buf */
    uint8_t len_have; /* 0..2 bytes of the length prefix seen */
    uint8_t len_hi;
} fl_dns_tcp;

typedef void (*fl_dns_msg_fn)(void *ctx, const uint8_t *msg, uint32_t len, bool cut);

/* Feed in-order stream bytes of one direction; calls on_msg for each
 * complete message (cut = only the first FL_DNS_TCP_KEEP bytes are given). */
void fl_dns_tcp_feed(fl_dns_tcp *st, const uint8_t *data, uint32_t len, fl_dns_msg_fn on_msg,
                     void *ctx);
/* Bytes were lost: the framing cannot be trusted any more; drop state. */
void fl_dns_tcp_reset(fl_dns_tcp *st);
void fl_dns_tcp_free(fl_dns_tcp *st);

#endif
