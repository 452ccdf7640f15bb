/* engine_int.h - the engine's state, shared by the pipeline's files only.
 *
 * engine.c      set-up, packet entry, packet time and housekeeping
 * attribute.c   counting a flow's facts, provider attribution, nDPI glue
 * timeouts.c    SYN and TLS handshake timers
 * tcp_flow.c    TCP state, choice of dissector, stream payload
 * dns_flow.c    DNS messages (UDP and TCP) and query timeouts
 * flow_end.c    a flow's start and end
 * quic_flow.c   QUIC flows, their timer and the TCP fallback match
 * https_flow.c  TLS flows after the handshake: requests, responses, signals
 */
#ifndef FL_ENGINE_INT_H
#define FL_ENGINE_INT_H

#include "fl_dns_pending.h"
#include "fl_engine.h"
#include "fl_https_modes.h"
#include "fl_timer_ring.h"

#define FL_US 1000000ULL

enum { FL_TIMER_SYN = 1, FL_TIMER_TLS = 2, FL_TIMER_HTTPS = 3 };

typedef struct fl_eng_quic fl_eng_quic;

struct fl_engine {
    const fl_config *cfg;
    fl_classifier *cls;
    fl_providers *prov;
    fl_flow_table *flows;
    fl_aggregate *agg;
    fl_bucket_close_fn sink;
    void *sink_ctx;
    fl_detector *det;
    fl_alert_fn alert_sink;
    void *alert_ctx;
    fl_failure_fn fail_sink; /* --events */
    void *fail_ctx;
    char why[64];                  /* reason of the next failure, set where it is known */
    const char *why_service;       /* DNS: the queried name, for the next failure */
    uint32_t why_service_id;       /* DNS timeout: the queried name's id, same use */
    const fl_https_conn *why_conn; /* a held HTTPS response: its connection's ends */

    uint64_t now_us; /* monotonic packet time (within a segment) */
    uint64_t next_housekeeping;
    uint64_t jump_us; /* a larger step of packet time: a discontinuity */
    bool started;

    uint64_t syn_timeout_us, tls_timeout_us, dns_timeout_us;
    fl_timer_ring timers_syn, timers_tls;
    fl_dns_pending *dq;         /* DNS queries waiting for an answer */
    fl_eng_quic *quic;          /* QUIC reassembly pool, timers, fallback table */
    fl_timer_ring timers_https; /* the TLS record walker's (https_flow.c) */
    fl_https_modes *https;      /* per-SNI response sizes, HTTPS signals */

    bool closing; /* freeing: flows end without counting */
    fl_engine_stats st;
    fl_dns_msg dns_msg; /* scratch: one message at a time */
    /* the payload dns_msg holds already (read to classify the flow, for
     * dns_flow.c to count next): parsed once */
    const uint8_t *dns_msg_of;
};

/* attribute.c */
void fl_eng_emit(fl_engine *e, uint64_t ts, uint16_t provider, fl_counter c, uint32_t n);
void fl_eng_flow_fact(fl_engine *e, fl_flow *f, uint64_t ts, fl_counter c, uint32_t n);
void fl_eng_failure(fl_engine *e, fl_flow *f, uint64_t ts, uint16_t provider, const fl_addr *client,
                    fl_counter c, uint32_t n);
/* The reason of the next failure counted (printf format), for --events;
 * without it a default per counter is used. */
void fl_eng_why(fl_engine *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void fl_eng_attribute(fl_engine *e, fl_flow *f, uint16_t provider_hint);
/* The flow counted for its service, once: when attributed with its service
 * known, else when nDPI names it, at its first failure, or at its end. */
void fl_eng_service_flow(fl_engine *e, fl_flow *f, uint64_t ts);
void fl_eng_classify(fl_engine *e, fl_flow *f, const fl_packet *pkt);
void fl_eng_classify_stop(fl_engine *e, fl_flow *f);

/* timeouts.c */
void fl_eng_timer_push(fl_engine *e, fl_timer_ring *r, fl_flow *f, uint8_t kind, uint64_t deadline);
void fl_eng_timers_run(fl_engine *e, fl_timer_ring *r, uint64_t now);
void fl_eng_check_syn_timeout(fl_engine *e, fl_flow *f, uint64_t ts);
void fl_eng_check_tls_timeout(fl_engine *e, fl_flow *f, uint64_t ts);

/* tcp_flow.c */
void fl_eng_tcp_packet(fl_engine *e, fl_flow *f, const fl_packet *pkt, bool from_client);

/* dns_flow.c */
void fl_eng_dns_message(fl_engine *e, fl_flow *f, const uint8_t *data, uint32_t len, uint64_t ts);
void fl_eng_dns_tcp_feed(fl_engine *e, fl_flow *f, const uint8_t *data, uint32_t len, uint64_t ts);
void fl_eng_dns_expire(fl_engine *e, uint64_t now);

/* https_flow.c */
void fl_eng_https_feed(fl_engine *e, fl_flow *f, bool from_client, const uint8_t *data,
                       uint32_t len, uint64_t ts);
void fl_eng_https_gap(fl_engine *e, fl_flow *f);
void fl_eng_https_close(fl_engine *e, fl_flow *f, bool by_server, uint64_t ts);
void fl_eng_https_timer(fl_engine *e, fl_flow *f, uint64_t ts);
void fl_eng_https_quic(fl_engine *e, fl_flow *f, bool from_client, const uint8_t *data,
                       uint32_t len, uint64_t ts);
void fl_eng_https_settle(fl_engine *e, fl_flow *f, bool drained);
void fl_eng_https_released(void *ctx, uint16_t provider, uint32_t service,
                           const fl_https_conn *conn, uint64_t ts);

/* flow_end.c */
fl_flow *fl_eng_flow_begin(fl_engine *e, const fl_packet *pkt, bool *from_client);
void fl_eng_flow_end(void *ctx, fl_flow *f, fl_flow_end_why why);

/* quic_flow.c */
fl_eng_quic *fl_eng_quic_new(const fl_config *cfg, uint32_t timer_cap);
void fl_eng_quic_free(fl_eng_quic *q);
/* A UDP packet of a flow that is QUIC or may become it; true if it was. */
bool fl_eng_quic_packet(fl_engine *e, fl_flow *f, const fl_packet *pkt, bool from_client);
void fl_eng_quic_timers_run(fl_engine *e, uint64_t now);
void fl_eng_quic_forget(fl_engine *e);
bool fl_eng_quic_timer_pending(const fl_flow *f);
void fl_eng_quic_timeout(fl_engine *e, fl_flow *f, uint64_t ts);
void fl_eng_quic_flow_end(fl_engine *e, fl_flow *f, bool drained);
/* A TCP flow's first ClientHello segment: a fallback from QUIC? */
void fl_eng_quic_tcp_hello(fl_engine *e, const fl_flow *f, const uint8_t *data, uint32_t len,
                           uint64_t ts);

#endif
