/* fl_flow.h - the bidirectional flow table.
 *
 * Preallocated at start-up to a fixed capacity (Suricata's memcap and
 * prealloc): flows live in one array, found through a chained hash of a
 * symmetric, seeded hash of the 5-tuple + VLAN, so both directions of a
 * conversation land on one entry. The client is the side that opened the
 * flow. Every flow sits on exactly one idle list (per timeout class),
 * ordered by last activity, so expiry and eviction of the oldest idle flow
 * are O(1) and allocate nothing.
 */
#ifndef FL_FLOW_H
#define FL_FLOW_H

#include <stdbool.h>
#include <stdint.h>
#include "fl_classify.h"
#include "fl_dns.h"
#include "fl_http.h"
#include "fl_packet.h"
#include "fl_quic.h"
#include "fl_quic_app.h"
#include "fl_tls.h"
#include "fl_tls_records.h"

#define FL_FLOW_NONE UINT32_MAX

/* Idle timeout classes: each has its own list and timeout. */
typedef enum fl_flow_class {
    FL_FC_TCP_OPENING = 0, /* SYN seen, not yet established */
    FL_FC_TCP_ESTABLISHED,
    FL_FC_TCP_CLOSED, /* FIN both ways or RST: linger for stragglers */
    FL_FC_UDP,
    FL_FC_OTHER,
    FL_FC_COUNT
} fl_flow_class;

/* What the engine runs on a flow's payload. */
typedef enum fl_flow_app {
    FL_APP_UNDECIDED = 0, /* no payload yet */
    FL_APP_NONE,          /* nothing we dissect */
    FL_APP_TLS,
    FL_APP_HTTP,
    FL_APP_DNS,  /* UDP or TCP */
    FL_APP_QUIC, /* UDP, first packet a QUIC long header */
} fl_flow_app;

/* Flow state bits. */
enum {
    FL_FS_HTTP_5XX = 1u << 0, /* an HTTP 5xx was counted: later ones are repeats */
    FL_FS_SYN = 1u << 2,      /* client SYN seen: an attempt */
    FL_FS_SYNACK = 1u << 3,
    FL_FS_ESTABLISHED = 1u << 4, /* handshake done (or joined mid-stream) */
    FL_FS_FIN_CLIENT = 1u << 5,
    FL_FS_FIN_SERVER = 1u << 6,
    FL_FS_RST = 1u << 7,
    FL_FS_CLIENT_NON_SYN = 1u << 8, /* client sent more than SYNs */
    FL_FS_ATTRIBUTED = 1u << 9,     /* provider decided, deferred facts out */
    FL_FS_FAILED = 1u << 10,        /* the flow had at least one failure */
    FL_FS_SYN_TIMER = 1u << 11,     /* a SYN timeout is pending */
    FL_FS_TLS_TIMER = 1u << 12,     /* a TLS handshake timeout is pending */
    FL_FS_GAP_CLIENT = 1u << 13,    /* bytes lost client->server */
    FL_FS_GAP_SERVER = 1u << 14,
    FL_FS_MIDSTREAM = 1u << 15,     /* TCP joined without a SYN */
    FL_FS_SEQ_CLIENT = 1u << 16,    /* next_seq[0] is known */
    FL_FS_SEQ_SERVER = 1u << 17,    /* next_seq[1] is known */
    FL_FS_CLASSIFIED = 1u << 18,    /* nDPI finished (or gave up) */
    FL_FS_RESET_COUNTED = 1u << 19, /* a server RST was already counted */
    FL_FS_PAYLOAD = 1u << 20,       /* some payload was seen */
    FL_FS_TIMED_OUT = 1u << 21,     /* the SYN timeout was counted */
    FL_FS_CLIENT_SPOKE = 1u << 22,  /* client payload seen, app undecided */
    FL_FS_RESP_ONLY = 1u << 23,     /* HTTP known only from the server's side */
    FL_FS_HTTPS_TIMER = 1u << 24,   /* the TLS record walker's timer is pending */
    FL_FS_SVC_COUNTED = 1u << 25,   /* counted among its service's flows */
    /* 26, 27: QUIC flows' own (quic_flow.c) */
    FL_FS_ACK_NOTED = 1u << 28, /* server side unseen: next_seq[1] holds the client's first ACK */
    FL_FS_SERVER_ACKED = 1u << 29, /* ...and a later ACK passed it: the server sent bytes */
    FL_FS_RESET_FAILED = 1u << 30, /* the server's RST was counted as tcp_resets */
};

typedef struct fl_flow {
    fl_addr client, server;
    uint16_t cport, sport;
    uint16_t vlan;
    uint8_t proto;
    uint8_t fclass; /* fl_flow_class */
    uint32_t hnext; /* hash chain */
    uint32_t lru_prev, lru_next;
    uint32_t gen; /* bumped when the slot is reused: timers check it */
    uint32_t hash;
    uint64_t first_us, last_us;
    uint32_t pkts[2];     /* [0] from client, [1] from server */
    uint32_t next_seq[2]; /* TCP: next expected sequence number per side */
    uint32_t client_isn;  /* TCP: the client SYN's sequence number */
    uint32_t state;       /* FL_FS_* */
    uint16_t provider;
    uint16_t resolver;          /* public resolver operator (DNS), 0 if none */
    uint32_t service;           /* interned service name id */
    uint16_t deferred_requests; /* HTTP requests seen before attribution */
    uint16_t failures;          /* failure facts of this flow (saturating) */
    uint8_t app;                /* fl_flow_app */
    uint8_t ndpi_pkts;          /* packets given to nDPI */
    fl_ndpi_flow *ndpi;         /* only while classifying */
    union {
        struct {
            fl_tls_session tls;
            fl_tls_walk tlsw; /* after the handshake (fl_tls_records.h) */
        };
        fl_http_conn http;
        fl_dns_tcp dns_tcp;
        struct {
            fl_quic_conn quic;
            fl_quic_app quic_app; /* requests and responses (fl_quic_app.h) */
        };
    } u;
} fl_flow;

typedef struct fl_flow_table fl_flow_table;

typedef struct fl_flow_stats {
    uint64_t created;
    uint64_t expired; /* idle timeout */
    uint64_t evicted; /* pushed out at the cap */
    uint32_t active;
    uint32_t capacity;
} fl_flow_stats;

/* Why a flow leaves the table. */
typedef enum fl_flow_end_why {
    FL_FLOW_END_IDLE = 0, /* idle longer than its class timeout */
    FL_FLOW_END_EVICTED,  /* pushed out at the cap for a new flow */
    FL_FLOW_END_REMOVED,  /* fl_flow_remove(): e.g. a new SYN reused the 5-tuple */
    FL_FLOW_END_DRAINED,  /* fl_flow_drain(): end of input */
    FL_FLOW_END_CUT,      /* fl_flow_cut(): a discontinuity in packet time */
} fl_flow_end_why;

/* Called for a flow leaving the table, before its slot is recycled. */
typedef void (*fl_flow_end_fn)(void *ctx, fl_flow *f, fl_flow_end_why why);

fl_flow_table *fl_flow_table_new(uint32_t capacity, uint64_t seed,
                                 const uint64_t idle_us[FL_FC_COUNT], fl_flow_end_fn on_end,
                                 void *ctx);
void fl_flow_table_free(fl_flow_table *t);

/* Find the flow of pkt; *from_client tells the direction. NULL if none. */
fl_flow *fl_flow_lookup(fl_flow_table *t, const fl_packet *pkt, bool *from_client);

/* Which side opened a flow we did not see begin (true: pkt's source is
 * the client): SYN / SYN-ACK, the DNS QR bit, well-known ports. */
bool fl_flow_guess_src_is_client(const fl_packet *pkt);

/* Create the flow of pkt with the given orientation (client = pkt's source
 * when src_is_client). At the cap the oldest idle flow is evicted first.
 * Never returns NULL for capacity >= 1. */
fl_flow *fl_flow_create(fl_flow_table *t, const fl_packet *pkt, bool src_is_client);

/* The flow was active at now_us: move it to the tail of its class list,
 * changing class if asked. */
void fl_flow_touch(fl_flow_table *t, fl_flow *f, fl_flow_class cls, uint64_t now_us);

/* End every flow idle for longer than its class timeout. */
void fl_flow_expire(fl_flow_table *t, uint64_t now_us);

/* End one flow now (e.g. a new SYN on a closed 5-tuple). */
void fl_flow_remove(fl_flow_table *t, fl_flow *f);

/* End every flow (end of input). */
void fl_flow_drain(fl_flow_table *t);
/* End every flow with FL_FLOW_END_CUT: packet time jumped, so what the
 * flows waited for can no longer be observed (fl_engine.h). */
void fl_flow_cut(fl_flow_table *t);

/* Slot index <-> flow, for timers that must survive slot reuse (check gen). */
uint32_t fl_flow_index(const fl_flow_table *t, const fl_flow *f);
fl_flow *fl_flow_at(fl_flow_table *t, uint32_t index);

void fl_flow_get_stats(const fl_flow_table *t, fl_flow_stats *st);

#endif
