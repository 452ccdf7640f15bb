/* metrics_snapshot.c - a fl_metrics_snapshot from the engine's state. */
#include <string.h>

#include "fl_engine.h"
#include "fl_metrics.h"

static void fill_alerts(fl_metrics_snapshot *s, fl_detector *d, bool blind)
{
    const fl_alert *a = NULL;
    size_t n = fl_detector_alerts(d, &a);

    for (size_t i = 0; i < n; i++) {
        s->alerts_raised++;
        if (a[i].resolved_at > 0) {
            s->alerts_resolved++;
            continue;
        }
        fl_metrics_snapshot_add(s, a[i].local ? "local" : a[i].provider, NULL,
                                blind ? FL_METRICS_ALERT_UNKNOWN : FL_METRICS_ALERT_RAISED,
                                a[i].peak_ratio);
    }
}

void fl_metrics_snapshot_fill(fl_metrics_snapshot *s, struct fl_engine *e, bool blind)
{
    fl_engine_stats st;
    fl_flow_stats fs;
    fl_aggregate *agg = fl_engine_aggregate(e);
    fl_providers *prov = fl_engine_providers(e);

    fl_engine_get_stats(e, &st);
    fl_engine_flow_stats(e, &fs);
    s->packets = st.packets;
    s->bytes = st.bytes;
    memcpy(s->decode_error, st.decode_error, sizeof s->decode_error);
    s->flows_tcp = st.flows_tcp;
    s->flows_udp = st.flows_udp;
    s->flows_other = st.flows_other;
    s->flows_active = fs.active;
    s->flows_evicted = st.flows_evicted;
    s->one_way_flows = st.one_way_flows;
    s->last_packet_time = (double)st.last_ts_us / 1e6;
    s->blind = blind;
    s->nproviders = 0;
    s->providers_folded = 0;
    s->alerts_raised = s->alerts_resolved = 0;
    /* Providers in id order: the first FL_METRICS_PROVIDERS_MAX seen keep
     * their own series from one scrape to the next. */
    size_t slots = fl_aggregate_provider_slots(agg);
    for (size_t id = 0; id < slots; id++) {
        const fl_counts *c = fl_aggregate_totals(agg, (uint16_t)id);
        if (!c || !fl_counts_any(c))
            continue;
        fl_metrics_snapshot_add(s, fl_providers_name(prov, (fl_provider_id)id), c,
                                FL_METRICS_ALERT_NONE, 0);
    }
    fill_alerts(s, fl_engine_detector(e), blind);
}
