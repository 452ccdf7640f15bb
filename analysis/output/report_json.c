/* report_json.c - the replay summary JSON document (DESIGN.md contract),
 * built with jansson. Zero counters are omitted, as the contract allows. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "fl_families.h"
#include "fl_report.h"

static json_t *counts_object(const fl_counts *c, bool with_zero)
{
    json_t *o = json_object();
    for (int i = 0; i < FL_C_COUNT; i++)
        if (with_zero || c->v[i])
            json_object_set_new(o, fl_counter_name((fl_counter)i), json_integer((json_int_t)c->v[i]));
    return o;
}

static double secs(uint64_t us)
{
    return (double)us / 1e6;
}

static json_t *source_object(fl_engine *e, const fl_report_source *src)
{
    fl_engine_stats st;
    fl_engine_get_stats(e, &st);
    json_t *s = json_object();
    json_t *files = json_array();
    for (size_t i = 0; i < src->nfiles; i++)
        json_array_append_new(files, json_string(src->files[i]));
    json_object_set_new(s, "files", files);
    if (src->interface)
        json_object_set_new(s, "interface", json_string(src->interface));
    json_object_set_new(s, "packets", json_integer((json_int_t)st.packets));
    json_object_set_new(s, "bytes", json_integer((json_int_t)st.bytes));
    json_object_set_new(s, "first_ts", st.packets ? json_real(secs(st.first_ts_us)) : json_null());
    json_object_set_new(s, "last_ts", st.packets ? json_real(secs(st.last_ts_us)) : json_null());
    json_object_set_new(s, "decode_errors", json_integer((json_int_t)st.decode_errors));
    json_t *reasons = json_object();
    for (int i = 0; i < FL_DERR_COUNT; i++)
        if (st.decode_error[i])
            json_object_set_new(reasons, fl_decode_error_name((fl_decode_error)i),
                                json_integer((json_int_t)st.decode_error[i]));
    json_object_set_new(s, "decode_error_reasons", reasons);
    json_object_set_new(s, "one_way_flows", json_integer((json_int_t)st.one_way_flows));
    json_object_set_new(s, "drops", json_integer((json_int_t)src->kernel_drops));
    json_object_set_new(s, "not_ip", json_integer((json_int_t)st.not_ip));
    json_object_set_new(s, "ip_fragments", json_integer((json_int_t)st.fragments));
    json_object_set_new(s, "icmp_errors", json_integer((json_int_t)st.icmp_errors));
    json_t *fp = json_object();
    json_object_set_new(fp, "tcp", json_integer((json_int_t)st.flows_tcp));
    json_object_set_new(fp, "udp", json_integer((json_int_t)st.flows_udp));
    json_object_set_new(fp, "other", json_integer((json_int_t)st.flows_other));
    json_object_set_new(s, "flows_by_protocol", fp);
    fl_flow_stats fs;
    fl_engine_flow_stats(e, &fs);
    json_object_set_new(s, "flows_evicted", json_integer((json_int_t)fs.evicted));
    json_object_set_new(s, "flow_capacity", json_integer((json_int_t)fs.capacity));
    json_object_set_new(s, "classify_unavailable", json_integer((json_int_t)st.classify_unavailable));
    json_object_set_new(s, "dns_pending_dropped", json_integer((json_int_t)st.dns_pending_dropped));
    json_object_set_new(s, "tcp_gaps", json_integer((json_int_t)st.tcp_gaps));
    json_object_set_new(s, "late_facts",
                        json_integer((json_int_t)fl_aggregate_late_facts(fl_engine_aggregate(e))));
    return s;
}

typedef struct svc_ref {
    const fl_service_tally *t;
} svc_ref;

static int svc_cmp(const void *a, const void *b)
{
    const fl_service_tally *x = ((const svc_ref *)a)->t, *y = ((const svc_ref *)b)->t;
    if (x->failures != y->failures)
        return x->failures < y->failures ? 1 : -1;
    if (x->flows != y->flows)
        return x->flows < y->flows ? 1 : -1;
    return 0;
}

/* Top services of one provider: most failures first, then most flows. */
static json_t *services_array(fl_aggregate *agg, uint16_t provider,
                              const fl_service_tally *all, size_t n, size_t limit)
{
    svc_ref *refs = malloc((n ? n : 1) * sizeof *refs);
    size_t m = 0;
    for (size_t i = 0; refs && i < n; i++)
        if (all[i].provider == provider)
            refs[m++].t = &all[i];
    qsort(refs, m, sizeof *refs, svc_cmp);
    json_t *arr = json_array();
    for (size_t i = 0; i < m && i < limit; i++) {
        json_t *o = json_object();
        json_object_set_new(o, "name", json_string(fl_aggregate_service_name(agg, refs[i].t->service)));
        json_object_set_new(o, "flows", json_integer((json_int_t)refs[i].t->flows));
        json_object_set_new(o, "failures", json_integer((json_int_t)refs[i].t->failures));
        json_array_append_new(arr, o);
    }
    free(refs);
    return arr;
}

json_t *fl_alert_json(const fl_alert *a, fl_aggregate *agg, fl_providers *prov)
{
    json_t *o = json_object();
    json_object_set_new(o, "id", json_integer(a->id));
    json_object_set_new(o, "provider", json_string(a->provider));
    json_object_set_new(o, "scope", json_string(a->scope[0] ? a->scope : a->local ? "local" : "provider"));
    if (a->resolver[0]) {
        json_object_set_new(o, "resolver", json_string(a->resolver));
        json_object_set_new(o, "resolver_client_share", json_real(a->resolver_client_share));
    }
    json_object_set_new(o, "flaps", json_integer(a->flaps));
    if (a->merged_into)
        json_object_set_new(o, "merged_into", json_integer(a->merged_into));
    json_t *sig = json_array();
    for (int f = 0; f < FL_FAM_COUNT; f++)
        if (a->families & (1u << f))
            json_array_append_new(sig, json_string(fl_family_name((fl_family)f)));
    json_object_set_new(o, "signals", sig);
    json_object_set_new(o, "first_signal", json_string(fl_family_name((fl_family)a->first_family)));
    json_object_set_new(o, "onset_at", json_real(a->onset_at));
    json_object_set_new(o, "raised_at", json_real(a->raised_at));
    json_object_set_new(o, "resolved_at", a->resolved_at ? json_real(a->resolved_at) : json_null());
    if (a->resolved_at)
        json_object_set_new(o, "duration", json_real(a->resolved_at - a->raised_at));
    json_object_set_new(o, "ratio", json_real(a->ratio));
    json_object_set_new(o, "peak_ratio", json_real(a->peak_ratio));
    json_object_set_new(o, "baseline_ratio", json_real(a->baseline_ratio));
    json_object_set_new(o, "failures", json_integer((json_int_t)a->failures));
    json_object_set_new(o, "attempts", json_integer((json_int_t)a->attempts));
    json_object_set_new(o, "clients", json_integer((json_int_t)a->clients));
    json_object_set_new(o, "client_share", json_real(a->client_share));
    if (a->local)
        json_object_set_new(o, "providers_failing", json_integer(a->providers_failing));
    if (agg && prov && !a->local) {
        const fl_service_tally *t;
        size_t n = fl_aggregate_services(agg, &t);
        fl_provider_id id = fl_providers_find(prov, a->provider);
        json_t *svc = services_array(agg, id, t, n, 5);
        json_object_set_new(o, "top_services", svc);
    }
    return o;
}

char *fl_report_json(fl_engine *e, const fl_report_source *src)
{
    fl_aggregate *agg = fl_engine_aggregate(e);
    fl_providers *prov = fl_engine_providers(e);
    json_t *doc = json_object();
    json_object_set_new(doc, "version", json_string(FL_VERSION));
    json_object_set_new(doc, "bucket_seconds", json_integer(fl_aggregate_bucket_s(agg)));
    json_object_set_new(doc, "source", source_object(e, src));

    fl_counts grand;
    uint64_t clients;
    fl_aggregate_grand_totals(agg, &grand, &clients);
    json_t *totals = counts_object(&grand, false);
    json_object_set_new(totals, "clients", json_integer((json_int_t)clients));
    json_object_set_new(totals, "failures", json_integer((json_int_t)fl_counts_failures(&grand)));
    json_object_set_new(doc, "totals", totals);

    const fl_service_tally *tallies;
    size_t ntallies = fl_aggregate_services(agg, &tallies);
    json_t *providers = json_array();
    size_t np = fl_aggregate_provider_slots(agg);
    for (size_t p = 0; p < np; p++) {
        const fl_counts *c = fl_aggregate_totals(agg, (uint16_t)p);
        if (!fl_counts_any(c))
            continue;
        json_t *o = json_object();
        json_object_set_new(o, "provider", json_string(fl_providers_name(prov, (fl_provider_id)p)));
        json_t *cnt = counts_object(c, false);
        json_object_set_new(cnt, "clients",
                            json_integer((json_int_t)fl_aggregate_total_clients(agg, (uint16_t)p)));
        json_object_set_new(o, "counters", cnt);
        json_object_set_new(o, "failures", json_integer((json_int_t)fl_counts_failures(c)));
        json_object_set_new(o, "services", services_array(agg, (uint16_t)p, tallies, ntallies, 20));
        json_array_append_new(providers, o);
    }
    json_object_set_new(doc, "providers", providers);

    json_t *resolvers = json_array();
    for (size_t r = 1; r < fl_providers_count(prov); r++) {
        const fl_counts *c = fl_aggregate_resolver_totals(agg, (uint16_t)r);
        if (!c || !(c->v[FL_C_dns_queries] || c->v[FL_C_dns_responses]))
            continue;
        json_t *o = json_object();
        json_object_set_new(o, "resolver", json_string(fl_providers_name(prov, (fl_provider_id)r)));
        json_object_set_new(o, "counters", counts_object(c, false));
        json_array_append_new(resolvers, o);
    }
    json_object_set_new(doc, "resolvers", resolvers);

    const fl_history_entry *h;
    size_t nh = fl_aggregate_history(agg, &h);
    json_t *buckets = json_array();
    for (size_t i = 0; i < nh; i++) {
        json_t *o = counts_object(&h[i].counts, false);
        json_object_set_new(o, "start", json_integer((json_int_t)h[i].start));
        json_object_set_new(o, "provider", json_string(fl_providers_name(prov, h[i].provider)));
        if (h[i].clients)
            json_object_set_new(o, "clients", json_integer(h[i].clients));
        json_array_append_new(buckets, o);
    }
    json_object_set_new(doc, "buckets", buckets);
    json_t *alerts = json_array();
    const fl_alert *al;
    size_t na = fl_detector_alerts(fl_engine_detector(e), &al);
    for (size_t i = 0; i < na; i++)
        json_array_append_new(alerts, fl_alert_json(&al[i], agg, prov));
    json_object_set_new(doc, "alerts", alerts);

    char *text = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(17));
    json_decref(doc);
    return text;
}
