/* metrics_snapshot.c - a fl_metrics_snapshot from the run view. */
#include <string.h>

#include "fl_metrics.h"
#include "fl_run.h"

static void fill_alerts(fl_metrics_snapshot *s, const fl_run_view *v)
{
    for (size_t i = 0; i < v->nalerts; i++) {
        const fl_alert *a = &v->alerts[i];
        s->alerts_raised++;
        if (a->resolved_at > 0) {
            s->alerts_resolved++;
            continue;
        }
        fl_metrics_snapshot_add(
            s, a->local ? "local" : a->provider, NULL,
            v->health.blind ? FL_METRICS_ALERT_UNKNOWN : FL_METRICS_ALERT_RAISED, a->peak_ratio);
    }
}

void fl_metrics_snapshot_fill(fl_metrics_snapshot *s, const fl_run_view *v)
{
    const fl_engine_stats *st = &v->stats;

    s->packets = st->packets;
    s->bytes = st->bytes;
    memcpy(s->decode_error, st->decode_error, sizeof s->decode_error);
    s->flows_tcp = st->flows_tcp;
    s->flows_udp = st->flows_udp;
    s->flows_other = st->flows_other;
    s->flows_active = v->flows.active;
    s->flows_evicted = st->flows_evicted;
    s->one_way_flows = st->one_way_flows;
    s->last_packet_time = (double)st->last_ts_us / 1e6;
    s->blind = v->health.blind;
    s->redis_configured = v->health.redis_configured;
    s->redis_connected = v->health.redis_connected;
    s->redis_batches_held = v->health.redis_held;
    s->redis_batches_dropped = v->health.redis_dropped;
    s->nproviders = 0;
    s->providers_folded = 0;
    s->alerts_raised = s->alerts_resolved = 0;
    /* Providers in id order: the first FL_METRICS_PROVIDERS_MAX seen keep
     * their own series from one scrape to the next. */
    size_t slots = fl_aggregate_provider_slots(v->agg);
    for (size_t id = 0; id < slots; id++) {
        const fl_counts *c = fl_aggregate_totals(v->agg, (uint16_t)id);
        if (!c || !fl_counts_any(c))
            continue;
        fl_metrics_snapshot_add(s, fl_providers_name(v->prov, (fl_provider_id)id), c,
                                FL_METRICS_ALERT_NONE, 0);
    }
    fill_alerts(s, v);
}
