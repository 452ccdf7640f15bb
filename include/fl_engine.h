/* fl_engine.h - the analysis pipeline for one packet stream.
 *
 * frame -> decode -> flow table -> nDPI classification and provider
 * attribution -> TCP tracking -> TLS / HTTP / DNS dissectors -> counters
 * per provider and bucket. Runs on packet time: timers (SYN, TLS, DNS
 * timeouts, idle flows) expire as packet time passes, or as the caller
 * advances it (live capture on a silent link).
 */
#ifndef FL_ENGINE_H
#define FL_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "fl_aggregate.h"
#include "fl_config.h"
#include "fl_decode.h"
#include "fl_detector.h"
#include "fl_flow.h"
#include "fl_provider.h"
#include "fl_source.h"

typedef struct fl_engine fl_engine;

typedef struct fl_engine_stats {
    uint64_t packets, bytes;
    uint64_t first_ts_us, last_ts_us;
    uint64_t decode_errors; /* sum of the below */
    uint64_t decode_error[FL_DERR_COUNT];
    uint64_t not_ip;      /* ARP, LLDP...: fine */
    uint64_t fragments;   /* non-first fragments (no L4) */
    uint64_t icmp_errors; /* ICMP errors: not their flow's traffic */
    uint64_t flows_tcp, flows_udp, flows_other;
    uint64_t one_way_flows;
    uint64_t flows_evicted;        /* pushed out at the flow cap */
    uint64_t classify_unavailable; /* no nDPI slot free */
    uint64_t dns_pending_dropped;  /* pending-query table full */
    uint64_t dns_unmatched_responses;
    uint64_t timers_forced; /* timer ring full: expired early */
    uint64_t tcp_gaps;      /* sequence gaps in dissected flows */
    struct {                /* QUIC capture health, per flow */
        uint64_t flows;     /* first packet a QUIC long header */
        uint64_t handshakes, answered, unanswered, one_way;
        uint64_t server_hello, close_server, close_client, vn, vn_none, retry;
        uint64_t snis;            /* distinct SNIs (up to FL_QUIC_SNI_SET) */
        uint64_t decode_errors;   /* malformed or undecryptable Initials */
        uint64_t reasm_exhausted; /* reassembly pool found empty */
        uint64_t fallbacks;       /* TCP ClientHellos after a QUIC failure */
        uint32_t versions[8];     /* of handshakes, ascending, first 8 */
        uint32_t nversions;
    } quic;
    uint64_t tls_out_of_step; /* TLS flows whose record framing was lost */
    uint64_t time_jumps;      /* packet time discontinuities (below) */
    uint64_t jump_unsettled;  /* handshakes, queries pending at one: no verdict */
} fl_engine_stats;

/* Packet time that steps, forward or back, by more than this (or twice the
 * longest timeout or idle timeout configured, if longer) is a capture
 * discontinuity, not elapsed time: what came due before it is counted, what
 * was still pending is cut without a verdict (jump_unsettled), and the
 * bucket series starts again (README: Tests, test_hostile). An hour: longer than any quiet spell within one conversation and
 * than reordering across merged interfaces (seconds), far shorter than the
 * clock errors it is for (days to years). */
#define FL_TIME_JUMP_MIN_US (3600ULL * 1000000)

/* One counted failure, for the analyst's event log (--events): who, what,
 * why. Pointers are valid during the call only. */
typedef struct fl_failure_info {
    uint64_t ts_us;    /* packet time it was counted at */
    fl_counter signal; /* tcp_refused, tls_failures, dns_servfail, ... */
    uint16_t provider;
    const char *service;            /* SNI / Host / queried name; NULL unknown */
    const fl_addr *client, *server; /* server NULL when not known */
    uint16_t client_port, server_port;
    uint8_t ip_proto;
    const char *reason; /* "server RST before SYN-ACK", "fatal alert 40", ... */
} fl_failure_info;

/* Called once per failure counter increment, where the failure is counted
 * (so per signal the calls equal the counters). */
typedef void (*fl_failure_fn)(void *ctx, const fl_failure_info *fi);

/* cfg must outlive the engine. */
fl_engine *fl_engine_new(const fl_config *cfg, char *err, size_t errlen);
void fl_engine_free(fl_engine *e);

/* Closed buckets go here too (Redis); set before the first packet. */
void fl_engine_set_bucket_sink(fl_engine *e, fl_bucket_close_fn fn, void *ctx);

/* Alert events (raised / resolved) go here too (Redis, log). */
void fl_engine_set_alert_sink(fl_engine *e, fl_alert_fn fn, void *ctx);

/* Every counted failure goes here too (--events); NULL: none. */
void fl_engine_set_failure_sink(fl_engine *e, fl_failure_fn fn, void *ctx);

/* One captured frame: decode and process. */
void fl_engine_frame(fl_engine *e, const fl_frame *fr);
/* One decoded packet. */
void fl_engine_packet(fl_engine *e, const fl_packet *pkt);
/* Packet time passes without a packet (live idle ticks). */
void fl_engine_tick(fl_engine *e, uint64_t now_us);
/* End of input: end every flow, expire every timer, close every bucket. */
void fl_engine_finish(fl_engine *e);

/* SIGHUP: re-read the provider ranges and operator rules named by cfg
 * (which may be a new config: its detector thresholds take effect at the
 * next bucket). False, with err, if the files are bad: the old tables stay. */
bool fl_engine_reload(fl_engine *e, const fl_config *cfg, char *err, size_t errlen);

/* Forget every flow, timer, pending query, count, alert and statistic, as
 * if the engine were new, but keep the provider tables and nDPI (building
 * those is what costs: ~100 ms). Names learned from DNS answers are kept.
 * For fuzzing and tests that analyse many small captures; false if out of
 * memory (then only fl_engine_free may be called). */
bool fl_engine_reset(fl_engine *e);

void fl_engine_get_stats(const fl_engine *e, fl_engine_stats *st);
fl_aggregate *fl_engine_aggregate(fl_engine *e);
fl_providers *fl_engine_providers(fl_engine *e);
fl_detector *fl_engine_detector(fl_engine *e);
/* The HTTPS size baselines (fl_https_modes.h), e.g. to observe responses. */
struct fl_https_modes *fl_engine_https(fl_engine *e);
void fl_engine_flow_stats(const fl_engine *e, fl_flow_stats *st);

#endif
