/* engine.c - the analysis pipeline: set-up, the packet entry, packet time.
 *
 * Per packet: one flow lookup, a few flag tests, and dissection only of the
 * packets that can carry a counted fact (payload of TLS flows until the
 * handshake is decided, HTTP message heads, DNS messages). nDPI sees a flow
 * only until it is classified. The jobs each live in their own file
 * (engine_int.h lists them).
 */
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "engine_int.h"
#include "fl_log.h"
#include "fl_run.h"
#include "fl_stage_times.h"
#include "fl_tls_records.h"

#define HOUSEKEEPING_US 50000ULL /* run timers at most every 50 ms of packet time */

static void housekeeping(fl_engine *e)
{
    FL_STAGE_DECL(prev);
    FL_STAGE_PUSH(prev, FL_STAGE_TIMERS);
    fl_eng_timers_run(e, &e->timers_syn, e->now_us);
    fl_eng_timers_run(e, &e->timers_tls, e->now_us);
    fl_eng_quic_timers_run(e, e->now_us);
    fl_eng_timers_run(e, &e->timers_https, e->now_us);
    fl_eng_dns_expire(e, e->now_us);
    fl_flow_expire(e->flows, e->now_us);
    fl_aggregate_advance(e->agg, e->now_us);
    e->next_housekeeping = e->now_us + HOUSEKEEPING_US;
    FL_STAGE_POP(prev);
}

/* Packet time stepped by more than jump_us, forward or back: a capture
 * discontinuity (files of different years merged, a clock stepped), not
 * time that passed. Within the segment before it everything runs as usual
 * up to its last packet time: timers and DNS queries whose deadline came
 * are counted. What was still pending then is cut without a verdict: its
 * answer, if any, is on the other side of the jump (a stepped clock) or
 * was never captured (a merged file ended); either way the capture cannot
 * tell, and booking it as a timeout would make every jump a burst of
 * failures. The bucket series ends and starts again at the new time, so no
 * time stands still for years after a backward jump (no flow would expire,
 * no bucket close, every fact would be late). */
static void discontinuity(fl_engine *e, uint64_t ts)
{
    bool back = ts < e->now_us;
    double by = (double)(back ? e->now_us - ts : ts - e->now_us) / 1e6;
    uint64_t unsettled = e->st.jump_unsettled;
    housekeeping(e); /* at the segment's last packet time */
    fl_flow_cut(e->flows);
    /* the timers of cut flows find their flow gone: popped, nothing counted */
    fl_eng_timers_run(e, &e->timers_syn, UINT64_MAX);
    fl_eng_timers_run(e, &e->timers_tls, UINT64_MAX);
    fl_eng_quic_timers_run(e, UINT64_MAX);
    fl_eng_timers_run(e, &e->timers_https, UINT64_MAX);
    fl_dns_query q;
    while (fl_dns_pending_expire(e->dq, UINT64_MAX, &q))
        e->st.jump_unsettled++;
    fl_aggregate_restart(e->agg);
    fl_detector_restart(e->det);
    fl_eng_quic_forget(e);
    e->now_us = ts;
    e->next_housekeeping = ts + HOUSEKEEPING_US;
    e->st.time_jumps++;
    /* the first few, then every power of two: a hostile capture that
     * alternates between two years cannot flood the log */
    uint64_t n = e->st.time_jumps;
    if (n <= 8 || (n & (n - 1)) == 0)
        FL_WARN("packet time jumps %s by %.0f s (%.1f days) at %.6f: a capture discontinuity "
                "(jump %llu); %llu pending handshakes or queries left without a verdict, "
                "buckets start again",
                back ? "back" : "forward", by, by / 86400, (double)ts / 1e6, (unsigned long long)n,
                (unsigned long long)(e->st.jump_unsettled - unsettled));
}

static void advance_time(fl_engine *e, uint64_t ts)
{
    if (!e->started) {
        e->started = true;
        e->now_us = ts;
        e->next_housekeeping = ts + HOUSEKEEPING_US;
    } else if (ts > e->now_us + e->jump_us || ts + e->jump_us < e->now_us) {
        discontinuity(e, ts);
    }
    if (ts > e->now_us)
        e->now_us = ts;
    if (e->now_us >= e->next_housekeeping)
        housekeeping(e);
}

void fl_engine_packet(fl_engine *e, const fl_packet *pkt)
{
    advance_time(e, pkt->ts_us);
    if (pkt->flags & FL_PKT_FRAGMENT) {
        e->st.fragments++;
        return;
    }
    if (pkt->flags & FL_PKT_ICMP_ERROR) {
        e->st.icmp_errors++;
        return;
    }
    bool from_client;
    FL_STAGE_DECL(prev);
    FL_STAGE_PUSH(prev, FL_STAGE_LOOKUP);
    fl_flow *f = fl_flow_lookup(e->flows, pkt, &from_client);
    if (f && pkt->l4_proto == IPPROTO_TCP &&
        (pkt->tcp_flags & (FL_TCP_SYN | FL_TCP_ACK)) == FL_TCP_SYN &&
        (!(f->state & FL_FS_SYN) || !from_client || pkt->tcp_seq != f->client_isn)) {
        /* A SYN with a new initial sequence number is a new connection on
         * the same 5-tuple (a retransmitted SYN keeps its number); so is a
         * SYN on a flow we joined mid-stream. */
        fl_flow_remove(e->flows, f);
        f = NULL;
    }
    if (!f && !(f = fl_eng_flow_begin(e, pkt, &from_client))) {
        FL_STAGE_POP(prev);
        return;
    }
    f->pkts[from_client ? 0 : 1]++;
    FL_STAGE_PUSH(prev, FL_STAGE_DISSECT);
    if (pkt->l4_proto == IPPROTO_UDP && pkt->payload_len &&
        fl_eng_quic_packet(e, f, pkt, from_client)) {
        fl_flow_touch(e->flows, f, FL_FC_UDP, pkt->ts_us);
        FL_STAGE_POP(prev);
        return;
    }

    FL_STAGE_SET(FL_STAGE_CLASSIFY);
    if (pkt->payload_len && !(f->state & FL_FS_CLASSIFIED))
        fl_eng_classify(e, f, pkt);
    if (f->provider != FL_PROVIDER_UNKNOWN && !(f->state & FL_FS_ATTRIBUTED) &&
        f->app != FL_APP_DNS && f->app != FL_APP_HTTP && f->app != FL_APP_UNDECIDED)
        fl_eng_attribute(e, f, 0);
    FL_STAGE_SET(FL_STAGE_DISSECT);

    if (pkt->l4_proto == IPPROTO_TCP) {
        fl_eng_tcp_packet(e, f, pkt, from_client);
        if ((f->state & FL_FS_CLASSIFIED) && !(f->state & FL_FS_ATTRIBUTED) &&
            f->app != FL_APP_HTTP && f->app != FL_APP_DNS && f->app != FL_APP_UNDECIDED)
            fl_eng_attribute(e, f, 0);
        FL_STAGE_POP(prev);
        return;
    }
    if (f->app == FL_APP_DNS && pkt->payload_len)
        fl_eng_dns_message(e, f, pkt->payload, pkt->payload_len, pkt->ts_us);
    else if ((f->state & FL_FS_CLASSIFIED) && !(f->state & FL_FS_ATTRIBUTED))
        fl_eng_attribute(e, f, 0);
    fl_flow_touch(e->flows, f, pkt->l4_proto == IPPROTO_UDP ? FL_FC_UDP : FL_FC_OTHER, pkt->ts_us);
    FL_STAGE_POP(prev);
}

/* Times are clamped below 2^62 us (146 000 years) so that adding a timeout
 * (at most 1e9 s, see config.c) to the clock never wraps. A clock that
 * jumps by years is a discontinuity (advance_time). */
#define FL_TIME_MAX_US (1ULL << 62)

static uint64_t frame_time(uint64_t ts)
{
    return ts > FL_TIME_MAX_US ? FL_TIME_MAX_US : ts;
}

void fl_engine_frame(fl_engine *e, const fl_frame *fr)
{
    e->st.packets++;
    e->st.bytes += fr->wire_len;
    if (!e->st.first_ts_us || fr->ts_us < e->st.first_ts_us)
        e->st.first_ts_us = fr->ts_us;
    if (fr->ts_us > e->st.last_ts_us)
        e->st.last_ts_us = fr->ts_us;
    uint64_t ts = frame_time(fr->ts_us);
    fl_packet pkt;
    fl_decode_error why = FL_DERR_COUNT;
    FL_STAGE_DECL(prev);
    FL_STAGE_PUSH(prev, FL_STAGE_DECODE);
    fl_decode_result ds = fl_decode_packet(fr->linktype, fr->data, fr->caplen, &pkt, &why);
    FL_STAGE_POP(prev);
    switch (ds) {
    case FL_DECODE_OK:
        pkt.ts_us = ts;
        pkt.wire_len = fr->wire_len;
        fl_engine_packet(e, &pkt);
        return;
    case FL_DECODE_NOT_IP:
        e->st.not_ip++;
        advance_time(e, ts);
        return;
    case FL_DECODE_ERROR:
        e->st.decode_errors++;
        if ((unsigned)why < FL_DERR_COUNT)
            e->st.decode_error[why]++;
        advance_time(e, ts);
        return;
    }
}

void fl_engine_tick(fl_engine *e, uint64_t now_us)
{
    if (e->started)
        advance_time(e, now_us);
}

void fl_engine_finish(fl_engine *e)
{
    /* Every flow ends; pending timers run out (no answer came in the
     * input); pending DNS queries time out at their deadlines. */
    fl_flow_drain(e->flows);
    fl_eng_timers_run(e, &e->timers_syn, UINT64_MAX);
    fl_eng_timers_run(e, &e->timers_tls, UINT64_MAX);
    fl_eng_quic_timers_run(e, UINT64_MAX);
    fl_eng_timers_run(e, &e->timers_https, UINT64_MAX);
    fl_eng_dns_expire(e, UINT64_MAX);
    fl_aggregate_finish(e->agg);
}

/* ------------------------------------------------------------------ */

static const char *provider_name_cb(void *ctx, uint16_t id)
{
    return fl_providers_name(ctx, id);
}

static void bucket_cb(void *ctx, const fl_bucket_entry *entries, size_t n)
{
    fl_engine *e = ctx;
    if (e->sink)
        e->sink(e->sink_ctx, entries, n);
    fl_detector_bucket(e->det, entries, n);
}

static void alert_cb(void *ctx, const fl_alert *a, bool resolved)
{
    fl_engine *e = ctx;
    if (e->alert_sink)
        e->alert_sink(e->alert_ctx, a, resolved);
}

void fl_engine_set_failure_sink(fl_engine *e, fl_failure_fn fn, void *ctx)
{
    e->fail_sink = fn;
    e->fail_ctx = ctx;
}

void fl_engine_set_alert_sink(fl_engine *e, fl_alert_fn fn, void *ctx)
{
    e->alert_sink = fn;
    e->alert_ctx = ctx;
}

struct fl_https_modes *fl_engine_https(fl_engine *e)
{
    return e->https;
}

fl_detector *fl_engine_detector(fl_engine *e)
{
    return e->det;
}

/* A step of packet time beyond twice the longest wait the engine models
 * (timeouts, idle timeouts, the HTTPS stall mark), and at least
 * FL_TIME_JUMP_MIN_US, is a discontinuity: a gap that long could not have
 * changed a verdict anyway (every timer and flow would have run out), so
 * only the bucket series and what straddles the jump see the difference. */
static uint64_t jump_bound(const fl_config *cfg)
{
    const double waits[] = { cfg->syn_timeout_s,      cfg->tls_timeout_s,
                             cfg->dns_timeout_s,      cfg->quic_timeout_s,
                             cfg->tcp_opening_idle_s, cfg->tcp_established_idle_s,
                             cfg->tcp_closed_idle_s,  cfg->udp_idle_s,
                             cfg->other_idle_s,       (double)FL_TLSREC_STALL_US / FL_US };
    double longest = 0;
    for (size_t i = 0; i < sizeof waits / sizeof waits[0]; i++)
        longest = waits[i] > longest ? waits[i] : longest;
    uint64_t b = (uint64_t)(2 * longest * FL_US); /* config caps each at 1e9 s */
    return b > FL_TIME_JUMP_MIN_US ? b : FL_TIME_JUMP_MIN_US;
}

fl_engine *fl_engine_new(const fl_config *cfg, char *err, size_t errlen)
{
    fl_engine *e = calloc(1, sizeof *e);
    if (!e) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    e->cfg = cfg;
    e->syn_timeout_us = (uint64_t)(cfg->syn_timeout_s * FL_US);
    e->tls_timeout_us = (uint64_t)(cfg->tls_timeout_s * FL_US);
    e->dns_timeout_us = (uint64_t)(cfg->dns_timeout_s * FL_US);
    e->jump_us = jump_bound(cfg);

    e->cls = fl_classifier_new(cfg->rules_file[0] ? cfg->rules_file : NULL, cfg->classify_cap, err,
                               errlen);
    if (!e->cls)
        goto fail;
    fl_providers_options po = {
        .ranges_path = cfg->ranges_file[0] ? cfg->ranges_file : NULL,
        .rules_path = cfg->rules_file[0] ? cfg->rules_file : NULL,
        .learned_max = cfg->learned_names_cap,
    };
    e->prov = fl_providers_new(e->cls, &po, err, errlen);
    if (!e->prov)
        goto fail;
    uint64_t idle[FL_FC_COUNT] = {
        [FL_FC_TCP_OPENING] = (uint64_t)(cfg->tcp_opening_idle_s * FL_US),
        [FL_FC_TCP_ESTABLISHED] = (uint64_t)(cfg->tcp_established_idle_s * FL_US),
        [FL_FC_TCP_CLOSED] = (uint64_t)(cfg->tcp_closed_idle_s * FL_US),
        [FL_FC_UDP] = (uint64_t)(cfg->udp_idle_s * FL_US),
        [FL_FC_OTHER] = (uint64_t)(cfg->other_idle_s * FL_US),
    };
    uint64_t seed = 0x5eed5eed5eedULL ^ (uint64_t)(uintptr_t)e;
    e->flows = fl_flow_table_new(cfg->flow_cap ? cfg->flow_cap : 1, seed, idle, fl_eng_flow_end, e);
    fl_aggregate_options ao = {
        .bucket_s = cfg->bucket_s ? cfg->bucket_s : 10,
        .grace_buckets = cfg->grace_buckets,
    };
    e->agg = fl_aggregate_new(&ao, provider_name_cb, e->prov, bucket_cb, e);
    e->det = fl_detector_new(cfg, alert_cb, e);
    uint32_t tcap = cfg->flow_cap ? cfg->flow_cap : 1;
    e->dq = fl_dns_pending_new(cfg->dns_pending_cap ? cfg->dns_pending_cap : 1);
    e->quic = fl_eng_quic_new(cfg, tcap);
    if (!e->flows || !e->agg || !e->det || !e->dq || !e->quic ||
        !fl_timer_ring_init(&e->timers_syn, tcap) || !fl_timer_ring_init(&e->timers_tls, tcap) ||
        !fl_timer_ring_init(&e->timers_https, tcap) ||
        !(e->https = fl_https_modes_new(cfg->https_sni_cap))) {
        snprintf(err, errlen, "out of memory for flow_cap=%u", cfg->flow_cap);
        goto fail;
    }
    fl_https_modes_set_release(e->https, fl_eng_https_released, e);
    return e;
fail:
    fl_engine_free(e);
    return NULL;
}

void fl_engine_free(fl_engine *e)
{
    if (!e)
        return;
    if (e->flows) {
        /* free per-flow resources without counting anything */
        e->closing = true;
        fl_flow_drain(e->flows);
        fl_flow_table_free(e->flows);
    }
    fl_aggregate_free(e->agg);
    fl_detector_free(e->det);
    fl_providers_free(e->prov);
    fl_classifier_free(e->cls);
    fl_timer_ring_free(&e->timers_syn);
    fl_timer_ring_free(&e->timers_tls);
    fl_timer_ring_free(&e->timers_https);
    fl_https_modes_free(e->https);
    fl_dns_pending_free(e->dq);
    fl_eng_quic_free(e->quic);
    free(e);
}

/* Everything a run learned goes; what is costly to build and the same for
 * every run (nDPI, the provider tables, the flow table's memory) stays. */
bool fl_engine_reset(fl_engine *e)
{
    const fl_config *cfg = e->cfg;
    e->closing = true;
    fl_flow_drain(e->flows);
    e->closing = false;
    fl_aggregate_free(e->agg);
    fl_detector_free(e->det);
    fl_dns_pending_free(e->dq);
    fl_eng_quic_free(e->quic);
    fl_https_modes_reset(e->https);
    fl_timer_ring_free(&e->timers_syn);
    fl_timer_ring_free(&e->timers_tls);
    fl_timer_ring_free(&e->timers_https);
    fl_aggregate_options ao = {
        .bucket_s = cfg->bucket_s ? cfg->bucket_s : 10,
        .grace_buckets = cfg->grace_buckets,
    };
    uint32_t tcap = cfg->flow_cap ? cfg->flow_cap : 1;
    e->agg = fl_aggregate_new(&ao, provider_name_cb, e->prov, bucket_cb, e);
    e->det = fl_detector_new(cfg, alert_cb, e);
    e->dq = fl_dns_pending_new(cfg->dns_pending_cap ? cfg->dns_pending_cap : 1);
    e->quic = fl_eng_quic_new(cfg, tcap);
    e->now_us = e->next_housekeeping = 0;
    e->started = false;
    memset(&e->st, 0, sizeof e->st);
    return e->agg && e->det && e->dq && e->quic && e->https &&
           fl_timer_ring_init(&e->timers_syn, tcap) && fl_timer_ring_init(&e->timers_tls, tcap) &&
           fl_timer_ring_init(&e->timers_https, tcap);
}

bool fl_engine_reload(fl_engine *e, const fl_config *cfg, char *err, size_t errlen)
{
    fl_providers_options po = {
        .ranges_path = cfg->ranges_file[0] ? cfg->ranges_file : NULL,
        .rules_path = cfg->rules_file[0] ? cfg->rules_file : NULL,
        .learned_max = cfg->learned_names_cap,
    };
    return fl_providers_reload(e->prov, &po, err, errlen);
}

void fl_engine_set_bucket_sink(fl_engine *e, fl_bucket_close_fn fn, void *ctx)
{
    e->sink = fn;
    e->sink_ctx = ctx;
}

void fl_engine_get_stats(const fl_engine *e, fl_engine_stats *st)
{
    *st = e->st;
}

fl_aggregate *fl_engine_aggregate(fl_engine *e)
{
    return e->agg;
}

fl_providers *fl_engine_providers(fl_engine *e)
{
    return e->prov;
}

void fl_engine_flow_stats(const fl_engine *e, fl_flow_stats *st)
{
    fl_flow_get_stats(e->flows, st);
}

void fl_engine_view(const fl_engine *e, const fl_report_source *src, fl_run_view *v)
{
    memset(v, 0, sizeof *v);
    v->cfg = e->cfg;
    v->agg = e->agg;
    v->prov = e->prov;
    v->nalerts = fl_detector_alerts(e->det, &v->alerts);
    v->stats = e->st;
    fl_flow_get_stats(e->flows, &v->flows);
    v->https = e->https;
    if (src)
        v->src = *src;
}
