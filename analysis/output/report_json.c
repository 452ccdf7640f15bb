/* report_json.c - the run summary JSON document and the alert event
 * schema (README "An alert event"), built with jansson. Zero counters are
 * omitted. */
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fl_drill.h"
#include "fl_families.h"
#include "fl_redis.h"
#include "fl_report.h"
#include "fl_text.h"

static json_t *counts_object(const fl_counts *c, bool with_zero)
{
    json_t *o = json_object();
    for (int i = 0; i < FL_C_COUNT; i++)
        if (with_zero || c->v[i])
            json_object_set_new(o, fl_counter_name((fl_counter)i),
                                json_integer((json_int_t)c->v[i]));
    return o;
}

static double secs(uint64_t us)
{
    return (double)us / 1e6;
}

/* QUIC capture health, one count per flow (README "QUIC"): what the
 * Initial packets showed, beside the per-provider quic_* counters. */
static json_t *quic_object(const fl_engine_stats *st)
{
    json_t *q = json_object();
#define QF(name) json_object_set_new(q, #name, json_integer((json_int_t)st->quic.name))
    QF(flows);
    QF(handshakes);
    QF(answered);
    QF(unanswered);
    QF(one_way);
    QF(server_hello);
    QF(close_server);
    QF(close_client);
    QF(vn);
    QF(vn_none);
    QF(retry);
    QF(snis);
    QF(decode_errors);
    QF(reasm_exhausted);
    QF(fallbacks);
#undef QF
    json_t *v = json_array();
    for (uint32_t i = 0; i < st->quic.nversions && i < 8; i++) {
        char hex[16];
        snprintf(hex, sizeof hex, "0x%08x", st->quic.versions[i]);
        json_array_append_new(v, json_string(hex));
    }
    json_object_set_new(q, "versions", v);
    return q;
}

static json_t *source_object(const fl_run_view *v)
{
    const fl_engine_stats *sp = &v->stats;
    const fl_report_source *src = &v->src;
    json_t *s = json_object();
    json_t *files = json_array();
    for (size_t i = 0; i < src->nfiles; i++)
        json_array_append_new(files, json_string(src->files[i]));
    json_object_set_new(s, "files", files);
    if (src->interface)
        json_object_set_new(s, "interface", json_string(src->interface));
    json_object_set_new(s, "packets", json_integer((json_int_t)sp->packets));
    json_object_set_new(s, "bytes", json_integer((json_int_t)sp->bytes));
    json_object_set_new(s, "first_ts",
                        sp->packets ? json_real(secs(sp->first_ts_us)) : json_null());
    json_object_set_new(s, "last_ts", sp->packets ? json_real(secs(sp->last_ts_us)) : json_null());
    json_object_set_new(s, "decode_errors", json_integer((json_int_t)sp->decode_errors));
    json_t *reasons = json_object();
    for (int i = 0; i < FL_DERR_COUNT; i++)
        if (sp->decode_error[i])
            json_object_set_new(reasons, fl_decode_error_name((fl_decode_error)i),
                                json_integer((json_int_t)sp->decode_error[i]));
    json_object_set_new(s, "decode_error_reasons", reasons);
    json_object_set_new(s, "one_way_flows", json_integer((json_int_t)sp->one_way_flows));
    json_object_set_new(s, "drops", json_integer((json_int_t)src->kernel_drops));
    json_object_set_new(s, "not_ip", json_integer((json_int_t)sp->not_ip));
    json_object_set_new(s, "ip_fragments", json_integer((json_int_t)sp->fragments));
    json_object_set_new(s, "icmp_errors", json_integer((json_int_t)sp->icmp_errors));
    json_t *fp = json_object();
    json_object_set_new(fp, "tcp", json_integer((json_int_t)sp->flows_tcp));
    json_object_set_new(fp, "udp", json_integer((json_int_t)sp->flows_udp));
    json_object_set_new(fp, "other", json_integer((json_int_t)sp->flows_other));
    json_object_set_new(s, "flows_by_protocol", fp);
    json_object_set_new(s, "flows_evicted", json_integer((json_int_t)v->flows.evicted));
    json_object_set_new(s, "flow_capacity", json_integer((json_int_t)v->flows.capacity));
    json_object_set_new(s, "classify_unavailable",
                        json_integer((json_int_t)sp->classify_unavailable));
    json_object_set_new(s, "dns_pending_dropped",
                        json_integer((json_int_t)sp->dns_pending_dropped));
    json_object_set_new(s, "tcp_gaps", json_integer((json_int_t)sp->tcp_gaps));
    json_object_set_new(s, "tls_out_of_step", json_integer((json_int_t)sp->tls_out_of_step));
    json_object_set_new(s, "time_jumps", json_integer((json_int_t)sp->time_jumps));
    json_object_set_new(s, "time_jump_unsettled", json_integer((json_int_t)sp->jump_unsettled));
    json_object_set_new(s, "late_facts", json_integer((json_int_t)fl_aggregate_late_facts(v->agg)));
    json_object_set_new(s, "quic", quic_object(sp));
    return s;
}

/* A service name, odd bytes as \xNN (fl_text.h): jansson refuses invalid
 * UTF-8, and a reader must see what the client sent. */
static json_t *fl_json_name(const fl_aggregate *agg, uint32_t service)
{
    char b[4 * 256 + 1];
    fl_text_visible(fl_aggregate_service_name(agg, service), b, sizeof b);
    return json_string(b);
}

typedef struct svc_ref {
    const fl_service_tally *t;
    uint64_t fails, attempts;
} svc_ref;

static int svc_cmp(const void *a, const void *b)
{
    const svc_ref *x = a, *y = b;
    if (x->fails != y->fails)
        return x->fails < y->fails ? 1 : -1;
    if (x->attempts != y->attempts)
        return x->attempts < y->attempts ? 1 : -1;
    return 0;
}

/* Top services of one provider: most failures first, then most attempts.
 * failures and attempts are those of the families in mask, summed as an
 * alert sums its own (fl_service_sum), so the services of an alert add up
 * with it; failed_flows beside them says when one flow failed several
 * times (failures above attempts). */
static json_t *services_array(const fl_aggregate *agg, uint16_t provider, unsigned mask,
                              const fl_service_tally *all, size_t n, size_t limit)
{
    svc_ref *refs = malloc((n ? n : 1) * sizeof *refs);
    size_t m = 0;
    for (size_t i = 0; refs && i < n; i++)
        if (all[i].provider == provider) {
            refs[m].t = &all[i];
            fl_service_sum(&all[i], mask, &refs[m].fails, &refs[m].attempts);
            m++;
        }
    if (m > 1) /* refs may be NULL (out of memory) with m == 0 */
        qsort(refs, m, sizeof *refs, svc_cmp);
    json_t *arr = json_array();
    for (size_t i = 0; i < m && i < limit; i++) {
        const fl_service_tally *t = refs[i].t;
        json_t *o = json_object();
        json_object_set_new(o, "name", fl_json_name(agg, t->service));
        json_object_set_new(o, "flows", json_integer((json_int_t)t->flows));
        json_object_set_new(o, "attempts", json_integer((json_int_t)refs[i].attempts));
        json_object_set_new(o, "failures", json_integer((json_int_t)refs[i].fails));
        json_object_set_new(o, "failed_flows", json_integer((json_int_t)t->failed_flows));
        json_array_append_new(arr, o);
    }
    free(refs);
    return arr;
}

/* An alert's services: those of its provider over [onset, until), counted
 * live (at raise, the buckets up to the one that raised it), failures and
 * attempts of the alert's families. */
static json_t *alert_services(const fl_aggregate *agg, uint16_t provider, unsigned families,
                              double onset, double until, json_t *o)
{
    fl_service_tally *t;
    int complete;
    size_t n = fl_aggregate_services_window(agg, provider, onset, until, &t, &complete);
    json_t *svc = services_array(agg, provider, families, t, n, 5);
    free(t);
    if (!complete)
        json_object_set_new(o, "top_services_partial", json_true());
    return svc;
}

static const char *proto_name(uint8_t p)
{
    return p == 6 ? "tcp" : p == 17 ? "udp" : "other";
}

/* Who failed behind an alert (fl_drill.h): its top failing clients (or
 * their pseudonyms) and servers, and a sample of failing connections. */
static void alert_drill(json_t *o, const fl_drill *d, uint16_t provider, double t0, double t1)
{
    fl_drill_view *dv = malloc(sizeof *dv);
    if (!dv || !fl_drill_window(d, provider, t0, t1, dv)) {
        free(dv);
        return;
    }
    json_t *w = json_object();
    json_object_set_new(w, "failures_kept", json_integer((json_int_t)dv->failures));
    json_object_set_new(w, "partial", json_boolean(dv->partial));
    json_object_set_new(w, "pseudonyms", json_boolean(fl_drill_pseudonyms(d)));
    json_object_set_new(w, "failing_clients", json_integer((json_int_t)dv->distinct_clients));
    json_object_set_new(w, "failing_servers", json_integer((json_int_t)dv->distinct_servers));
    json_t *tc = json_array(), *ts = json_array(), *sm = json_array();
    for (size_t i = 0; i < dv->nclients; i++)
        json_array_append_new(tc, json_pack("{s:s,s:I}", "client", dv->clients[i].addr, "failures",
                                            (json_int_t)dv->clients[i].failures));
    for (size_t i = 0; i < dv->nservers; i++)
        json_array_append_new(ts, json_pack("{s:s,s:I}", "server", dv->servers[i].addr, "failures",
                                            (json_int_t)dv->servers[i].failures));
    for (size_t i = 0; i < dv->nsample; i++) {
        const fl_drill_rec *r = &dv->sample[i];
        char sv[64] = "", why[4 * sizeof r->reason + 1];
        if (r->has_server)
            fl_addr_str(&r->server, sv, sizeof sv);
        fl_text_visible(r->reason, why, sizeof why);
        json_t *x = json_object();
        json_object_set_new(x, "ts", json_real((double)r->ts_us / 1e6));
        json_object_set_new(x, "client", json_string(dv->sample_client[i]));
        json_object_set_new(x, "client_port", json_integer(r->client_port));
        json_object_set_new(x, "server", r->has_server ? json_string(sv) : json_null());
        json_object_set_new(x, "server_port", json_integer(r->server_port));
        json_object_set_new(x, "protocol", json_string(proto_name(r->ip_proto)));
        json_object_set_new(x, "signal", json_string(fl_counter_name((fl_counter)r->signal)));
        json_object_set_new(x, "reason", json_string(why));
        json_array_append_new(sm, x);
    }
    json_object_set_new(w, "top_clients", tc);
    json_object_set_new(w, "top_servers", ts);
    json_object_set_new(w, "sample", sm);
    json_object_set_new(o, "failing", w);
    free(dv);
}

/* until: the end of the alert's services window (epoch seconds). */
static json_t *alert_json(const fl_alert *a, const fl_aggregate *agg, const fl_providers *prov,
                          double until, const fl_drill *drill)
{
    json_t *o = json_object();
    json_object_set_new(o, "id", json_integer(a->id));
    json_object_set_new(o, "provider", json_string(a->provider));
    json_object_set_new(o, "scope",
                        json_string(a->scope[0] ? a->scope
                                    : a->local  ? "local"
                                                : "provider"));
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
        fl_provider_id id = fl_providers_find(prov, a->provider);
        json_object_set_new(o, "top_services",
                            alert_services(agg, id, a->families, a->onset_at, until, o));
        if (drill)
            alert_drill(o, drill, id, a->onset_at, until);
    }
    return o;
}

char *fl_report_json(const fl_run_view *v)
{
    const fl_aggregate *agg = v->agg;
    const fl_providers *prov = v->prov;
    json_t *doc = json_object();
    json_object_set_new(doc, "version", json_string(FL_VERSION));
    json_object_set_new(doc, "bucket_seconds", json_integer(fl_aggregate_bucket_s(agg)));
    json_object_set_new(doc, "source", source_object(v));

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
        json_object_set_new(
            o, "services",
            services_array(agg, (uint16_t)p, 1u << FL_FAM_ANY, tallies, ntallies, 20));
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
    for (size_t i = 0; i < v->nalerts; i++)
        json_array_append_new(
            alerts,
            alert_json(&v->alerts[i], agg, prov,
                       v->alerts[i].resolved_at ? v->alerts[i].resolved_at : HUGE_VAL, v->drill));
    json_object_set_new(doc, "alerts", alerts);

    char *text = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(17));
    json_decref(doc);
    return text;
}

void fl_alert_event_make(fl_alert_event *ev, const fl_run_view *v, const fl_alert *a, bool resolved)
{
    memset(ev, 0, sizeof *ev);
    ev->state = resolved ? "resolved" : "raised";
    json_t *j = alert_json(a, v ? v->agg : NULL, v ? v->prov : NULL,
                           resolved ? a->resolved_at : a->raised_at, NULL);
    json_object_set_new(j, "event", json_string(ev->state));
    /* Who saw it: alerts of several sensors meet in one Redis and one
     * Alertmanager; the forwarder labels them by these. */
    if (v && v->cfg) {
        char host[256] = "sensor";
        const char *sensor = v->cfg->sensor;
        if (!sensor[0]) {
            if (gethostname(host, sizeof host) != 0)
                snprintf(host, sizeof host, "sensor");
            host[sizeof host - 1] = '\0';
            sensor = host;
        }
        json_object_set_new(j, "sensor", json_string(sensor));
        if (v->cfg->site[0])
            json_object_set_new(j, "site", json_string(v->cfg->site));
    }
    ev->json = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
    /* the stream entry: flat field/value pairs of the same schema */
    const char *key;
    json_t *val;
    json_object_foreach(j, key, val)
    {
        if (ev->nfields + 2 > FL_ALERT_FIELDS_MAX)
            break;
        char *k = strdup(key);
        char *t = json_is_string(val) ? strdup(json_string_value(val))
                                      : json_dumps(val, JSON_COMPACT | JSON_ENCODE_ANY);
        if (!k || !t) {
            free(k);
            free(t);
            continue;
        }
        ev->fields[ev->nfields++] = k;
        ev->fields[ev->nfields++] = t;
    }
    json_decref(j);
}

void fl_alert_event_free(fl_alert_event *ev)
{
    free(ev->json);
    for (size_t i = 0; i < ev->nfields; i++)
        free(ev->fields[i]);
    memset(ev, 0, sizeof *ev);
}

/* ---- what `faultline alerts` and `status` read back from Redis ---- */

/* Fields the alert schema holds as strings: kept as strings even when they
 * would parse as JSON (a provider named "123"). */
static bool string_field(const char *name)
{
    static const char *const names[] = { "provider", "scope", "first_signal", "event", "state" };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (!strcmp(name, names[i]))
            return true;
    return false;
}

/* The stream entry back into the JSON of the event: fl_alert_event_make
 * stored strings as they are and every other value JSON-encoded. */
static json_t *entry_json(const char *id, const char *const *fv, size_t nfv)
{
    json_t *o = json_object();
    json_object_set_new(o, "stream_id", json_string(id));
    for (size_t i = 0; i + 1 < nfv; i += 2) {
        json_t *v = NULL;
        if (!string_field(fv[i]))
            v = json_loads(fv[i + 1], JSON_DECODE_ANY, NULL);
        if (!v || json_is_string(v)) {
            json_decref(v);
            v = json_string(fv[i + 1]);
        }
        if (v)
            json_object_set_new(o, fv[i], v);
    }
    return o;
}

char *fl_alert_entry_json(const char *id, const char *const *fv, size_t nfv)
{
    json_t *o = entry_json(id, fv, nfv);
    if (!o)
        return NULL;
    char *text = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(o);
    return text;
}

static double num(const json_t *o, const char *key)
{
    const json_t *v = json_object_get(o, key);
    return json_is_number(v) ? json_number_value(v) : 0;
}

static const char *str(const json_t *o, const char *key, const char *dflt)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : dflt;
}

bool fl_alert_entry_read(const char *id, const char *const *fv, size_t nfv, fl_alert_entry *e)
{
    json_t *o = entry_json(id, fv, nfv);
    if (!o)
        return false;
    memset(e, 0, sizeof *e);
    snprintf(e->event, sizeof e->event, "%s", str(o, "event", str(o, "state", "?")));
    bool resolved = !strcmp(e->event, "resolved");
    e->at = resolved ? num(o, "resolved_at") : num(o, "raised_at");
    if (e->at <= 0)
        e->at = num(o, "raised_at");
    snprintf(e->scope, sizeof e->scope, "%s", str(o, "scope", "provider"));
    snprintf(e->provider, sizeof e->provider, "%s", str(o, "provider", "?"));
    const json_t *sig = json_object_get(o, "signals");
    size_t i;
    const json_t *s;
    json_array_foreach(sig, i, s)
    {
        if (json_is_string(s)) {
            size_t used = strlen(e->signals);
            snprintf(e->signals + used, sizeof e->signals - used, "%s%s", used ? "," : "",
                     json_string_value(s));
        }
    }
    /* As the capture log line does: a local alert's own ratio, a
     * provider's peak. */
    e->ratio = !strcmp(e->scope, "local") || !json_object_get(o, "peak_ratio")
                   ? num(o, "ratio")
                   : num(o, "peak_ratio");
    e->baseline = num(o, "baseline_ratio");
    e->clients = num(o, "clients");
    json_decref(o);
    return true;
}

static json_t *status_object(const fl_redis_status *st, double window_s, uint32_t bucket_s,
                             double stale_s)
{
    json_t *o = json_object();
    json_object_set_new(o, "ref_time", json_integer((json_int_t)st->ref_time));
    json_object_set_new(o, "window_s", json_real(window_s));
    json_object_set_new(o, "bucket_s", json_integer(bucket_s));
    json_object_set_new(o, "first_bucket",
                        st->first_bucket ? json_integer((json_int_t)st->first_bucket)
                                         : json_null());
    json_object_set_new(o, "last_bucket",
                        st->last_bucket ? json_integer((json_int_t)st->last_bucket) : json_null());
    json_t *providers = json_array();
    for (size_t i = 0; i < st->nproviders; i++) {
        const fl_redis_provider_status *p = &st->providers[i];
        uint64_t fails, total;
        fl_family_count(&p->counts, FL_FAM_ANY, &fails, &total);
        json_t *po = json_object();
        json_object_set_new(po, "provider", json_string(p->provider));
        json_object_set_new(po, "state", p->state[0] ? json_string(p->state) : json_null());
        json_object_set_new(po, "flows", json_integer((json_int_t)p->counts.v[FL_C_flows]));
        json_object_set_new(po, "failures", json_integer((json_int_t)fails));
        json_object_set_new(po, "failure_ratio", json_real(fl_ratio(fails, total)));
        json_object_set_new(po, "buckets", json_integer(p->buckets));
        json_t *cn = json_object();
        for (int c = 0; c < FL_C_COUNT; c++)
            if (p->counts.v[c])
                json_object_set_new(cn, fl_counter_name((fl_counter)c),
                                    json_integer((json_int_t)p->counts.v[c]));
        json_object_set_new(po, "counters", cn);
        json_array_append_new(providers, po);
    }
    json_object_set_new(o, "providers", providers);
    json_t *sensors = json_array();
    for (size_t i = 0; i < st->nsensors; i++) {
        const fl_redis_sensor_status *s = &st->sensors[i];
        json_t *so = json_object();
        json_object_set_new(so, "name", json_string(s->name));
        json_object_set_new(so, "version", json_string(s->version));
        json_object_set_new(so, "packets", json_integer((json_int_t)s->packets));
        json_object_set_new(so, "drops", json_integer((json_int_t)s->drops));
        json_object_set_new(so, "last_seen", json_integer((json_int_t)s->last_seen));
        json_object_set_new(so, "held", json_integer((json_int_t)s->held));
        json_object_set_new(so, "dropped", json_integer((json_int_t)s->dropped));
        bool stale = fl_redis_sensor_stale(s, stale_s);
        json_object_set_new(so, "connected", json_boolean(s->connected && !stale));
        json_object_set_new(so, "heartbeat_age_s",
                            s->wall ? json_integer((json_int_t)fl_redis_sensor_age(s))
                                    : json_null());
        json_object_set_new(so, "stale", json_boolean(stale));
        json_object_set_new(so, "alerts", json_string(s->alerts));
        json_array_append_new(sensors, so);
    }
    json_object_set_new(o, "sensors", sensors);
    return o;
}

char *fl_status_json(const fl_redis_status *st, double window_s, uint32_t bucket_s, double stale_s)
{
    json_t *o = status_object(st, window_s, bucket_s, stale_s);
    char *text = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(o);
    return text;
}
