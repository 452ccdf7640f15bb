/* test_services.c - services counted live (fl_services.h): the per-bucket
 * rows and their windows, and on the demo capture fed packet by packet,
 * the top services of an alert at the moment it is raised. */
#include <check.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "fl_engine.h"
#include "fl_families.h"
#include "fl_report.h"
#include "fl_services.h"
#include "fl_source.h"
#include "fl_test_util.h"
#include "fl_text.h"

static const fl_service_tally *find(const fl_service_tally *t, size_t n, uint16_t p, uint32_t svc)
{
    for (size_t i = 0; i < n; i++)
        if (t[i].provider == p && t[i].service == svc)
            return &t[i];
    return NULL;
}

START_TEST(rows_windows_and_totals)
{
    fl_services *s = fl_services_new(10, 100, 1000);
    ck_assert_ptr_nonnull(s);
    /* bucket 100 (t = 1000 s): service 7 of provider 2, one flow with two
     * HTTP 5xx on it; service 8 a DNS name queried 3 times, 1 SERVFAIL */
    fl_services_count(s, 100, 2, 7, FL_C_flows, 1);
    fl_services_count(s, 100, 2, 7, FL_C_http_responses, 2);
    fl_services_count(s, 100, 2, 7, FL_C_http_5xx, 2);
    fl_services_failed_flow(s, 100, 2, 7);
    fl_services_count(s, 100, 2, 8, FL_C_dns_queries, 3);
    fl_services_count(s, 100, 2, 8, FL_C_dns_servfail, 1);
    /* bucket 101: service 7 again, and provider 3 */
    fl_services_count(s, 101, 2, 7, FL_C_tls_handshakes, 4);
    fl_services_count(s, 101, 2, 7, FL_C_tls_failures, 1);
    fl_services_count(s, 101, 3, 7, FL_C_flows, 5);
    const fl_service_tally *tot;
    ck_assert_uint_eq(fl_services_totals(s, &tot), 0); /* nothing closed yet */
    fl_services_close(s, 100);
    size_t n = fl_services_totals(s, &tot);
    ck_assert_uint_eq(n, 2);
    const fl_service_tally *a = find(tot, n, 2, 7);
    ck_assert_ptr_nonnull(a);
    ck_assert_uint_eq(a->flows, 1);
    ck_assert_uint_eq(a->failed_flows, 1);
    ck_assert_uint_eq(a->fails[FL_FAM_HTTP], 2);
    ck_assert_uint_eq(a->attempts[FL_FAM_HTTP], 2);
    /* the `any` family before its floor: 2 failures on 1 flow */
    ck_assert_uint_eq(a->fails[FL_FAM_ANY], 2);
    ck_assert_uint_eq(a->attempts[FL_FAM_ANY], 1);
    const fl_service_tally *d = find(tot, n, 2, 8);
    ck_assert_uint_eq(d->fails[FL_FAM_DNS], 1);
    ck_assert_uint_eq(d->attempts[FL_FAM_DNS], 3);
    ck_assert_uint_eq(d->attempts[FL_FAM_ANY], 3);
    fl_services_close(s, 101);
    n = fl_services_totals(s, &tot);
    ck_assert_uint_eq(n, 3);
    a = find(tot, n, 2, 7);
    ck_assert_uint_eq(a->fails[FL_FAM_TLS], 1);
    ck_assert_uint_eq(a->fails[FL_FAM_ANY], 3);
    uint64_t f, t;
    fl_service_sum(a, (1u << FL_FAM_TLS) | (1u << FL_FAM_HTTP), &f, &t);
    ck_assert_uint_eq(f, 3);
    ck_assert_uint_eq(t, 6);
    /* windows: [1010, 1020) holds bucket 101 only, provider 2 only */
    fl_service_tally *w;
    int complete;
    n = fl_services_window(s, 2, 1010, 1020, &w, &complete);
    ck_assert_int_eq(complete, 1);
    ck_assert_uint_eq(n, 1);
    ck_assert_uint_eq(w[0].service, 7);
    ck_assert_uint_eq(w[0].fails[FL_FAM_TLS], 1);
    ck_assert_uint_eq(w[0].fails[FL_FAM_HTTP], 0);
    free(w);
    n = fl_services_window(s, 2, 1000, 1020, &w, &complete);
    ck_assert_uint_eq(n, 2);
    a = find(w, n, 2, 7);
    ck_assert_uint_eq(a->fails[FL_FAM_ANY], 3);
    free(w);
    n = fl_services_window(s, 2, 990, 1000, &w, &complete);
    ck_assert_uint_eq(n, 0);
    free(w);
    fl_services_free(s);
}
END_TEST

/* Past keys_max new names fold into (other); past rows_max the oldest rows
 * go, and a window reaching them says it is incomplete. */
START_TEST(bounds_fold_and_drop)
{
    fl_services *s = fl_services_new(10, 4, 3);
    for (uint32_t svc = 1; svc <= 10; svc++)
        fl_services_count(s, 1, 1, svc, FL_C_tcp_refused, 1);
    fl_services_close(s, 1);
    const fl_service_tally *tot;
    size_t n = fl_services_totals(s, &tot);
    ck_assert_uint_le(n, 5);
    uint64_t sum = 0;
    for (size_t i = 0; i < n; i++)
        sum += tot[i].fails[FL_FAM_CONNECT];
    ck_assert_uint_eq(sum, 10); /* nothing lost, only folded */
    ck_assert_ptr_nonnull(find(tot, n, 1, 0));
    for (uint64_t b = 2; b <= 5; b++) {
        fl_services_count(s, b, 1, 1, FL_C_flows, 1);
        fl_services_close(s, b);
    }
    fl_service_tally *w;
    int complete;
    n = fl_services_window(s, 1, 10, 60, &w, &complete);
    ck_assert_int_eq(complete, 0);
    ck_assert_uint_ge(n, 1);
    free(w);
    n = fl_services_window(s, 1, 40, 60, &w, &complete);
    ck_assert_int_eq(complete, 1);
    ck_assert_uint_eq(n, 1);
    ck_assert_uint_eq(w[0].flows, 2);
    free(w);
    fl_services_free(s);
}
END_TEST

typedef struct raise_check {
    fl_engine *e;
    int raised;
    uint64_t alert_failures, services_failures;
    uint32_t flows_open;
    size_t nservices;
} raise_check;

/* At the raise: the alert event as the Redis stream and --events get it;
 * every service in it at most as many failures as attempts, together at
 * most the alert's failures; and per family, the services of the window
 * hold every failure the provider's counters hold (none waits for its flow
 * to end). */
static void on_alert(void *ctx, const fl_alert *a, bool resolved)
{
    raise_check *rc = ctx;
    if (resolved || a->local || rc->raised)
        return;
    rc->raised++;
    fl_run_view v;
    fl_engine_view(rc->e, NULL, &v);
    fl_alert_event ev;
    fl_alert_event_make(&ev, &v, a, false);
    ck_assert_ptr_nonnull(ev.json);
    json_error_t je;
    json_t *j = json_loads(ev.json, 0, &je);
    ck_assert_msg(j != NULL, "%s", je.text);
    rc->alert_failures = (uint64_t)json_integer_value(json_object_get(j, "failures"));
    json_t *top = json_object_get(j, "top_services");
    ck_assert(json_is_array(top));
    rc->nservices = json_array_size(top);
    size_t i;
    json_t *svc;
    json_array_foreach(top, i, svc)
    {
        json_int_t f = json_integer_value(json_object_get(svc, "failures"));
        json_int_t t = json_integer_value(json_object_get(svc, "attempts"));
        ck_assert_msg(f <= t, "%s: %lld failures, %lld attempts",
                      json_string_value(json_object_get(svc, "name")), (long long)f, (long long)t);
        rc->services_failures += (uint64_t)f;
    }
    json_decref(j);
    fl_alert_event_free(&ev);

    const fl_aggregate *agg = v.agg;
    uint16_t p = fl_providers_find(v.prov, a->provider);
    fl_service_tally *w;
    int complete;
    size_t n = fl_aggregate_services_window(agg, p, a->onset_at, a->raised_at, &w, &complete);
    ck_assert_int_eq(complete, 1);
    fl_counts c = { 0 };
    const fl_history_entry *h;
    size_t nh = fl_aggregate_history(agg, &h);
    for (size_t k = 0; k < nh; k++)
        if (h[k].provider == p && (double)h[k].start >= a->onset_at &&
            (double)h[k].start < a->raised_at)
            fl_counts_add(&c, &h[k].counts);
    uint64_t pf[FL_FAM_COUNT], pt[FL_FAM_COUNT];
    fl_family_counts_raw(&c, pf, pt);
    for (int f = 0; f < FL_FAM_COUNT; f++) {
        uint64_t sf = 0;
        for (size_t k = 0; k < n; k++)
            sf += w[k].fails[f];
        if (f == FL_FAM_ANY) /* each failure once per service: at least once overall */
            ck_assert_uint_ge(sf, pf[f]);
        else
            ck_assert_msg(sf == pf[f], "%s: services %llu, provider %llu", fl_family_name(f),
                          (unsigned long long)sf, (unsigned long long)pf[f]);
    }
    free(w);
    fl_flow_stats fs;
    fl_engine_flow_stats(rc->e, &fs);
    rc->flows_open = fs.active;
}

START_TEST(demo_top_services_live_at_raise)
{
    char *path = fl_test_path("pcaps/demo/cloudflare-outage.pcap");
    static fl_config cfg;
    fl_config_defaults(&cfg);
    fl_config_resolve_paths(&cfg);
    char err[1024];
    const char *files[] = { path };
    fl_source_options so = { 0 };
    fl_source *src = fl_source_open_files(files, 1, &so, err, sizeof err);
    ck_assert_msg(src != NULL, "%s", err);
    raise_check rc = { 0 };
    rc.e = fl_engine_new(&cfg, err, sizeof err);
    ck_assert_msg(rc.e != NULL, "%s", err);
    fl_engine_set_alert_sink(rc.e, on_alert, &rc);
    /* one frame at a time, as a live sensor gets them: the alert is raised
     * from inside this loop, long before the end of input ends the flows */
    fl_frame fr;
    while (fl_source_next(src, &fr) == FL_SRC_FRAME && !rc.raised)
        fl_engine_frame(rc.e, &fr);
    ck_assert_int_eq(rc.raised, 1);
    ck_assert_uint_gt(rc.flows_open, 0);
    ck_assert_uint_gt(rc.nservices, 0);
    ck_assert_uint_gt(rc.services_failures, 0);
    ck_assert_uint_le(rc.services_failures, rc.alert_failures);
    fl_engine_free(rc.e);
    fl_source_close(src);
    free(path);
}
END_TEST

/* Traffic names for reports: printable ASCII kept, every other byte as
 * \xNN, at every output size cut at a whole escape, always terminated. */
START_TEST(text_visible_escapes_and_cuts)
{
    char out[64];
    ck_assert(!fl_text_visible("www.example.com", out, sizeof out));
    ck_assert_str_eq(out, "www.example.com");
    ck_assert(fl_text_visible("a\xe5\xb0\x8f\x01 b\x7f\\", out, sizeof out));
    ck_assert_str_eq(out, "a\\xe5\\xb0\\x8f\\x01 b\\x7f\\");
    const char *in = "ab\xff"
                     "cd";
    const char *full = "ab\\xffcd";
    for (size_t cap = 1; cap <= strlen(full) + 1; cap++) {
        char *b = malloc(cap);
        fl_text_visible(in, b, cap);
        size_t n = strlen(b);
        ck_assert_uint_lt(n, cap);
        ck_assert(strncmp(b, full, n) == 0);
        /* "ab" fits from cap 3; the escape only whole, from cap 7 */
        size_t want = cap - 1 <= 2 ? cap - 1 : cap - 1 < 6 ? 2 : cap - 1;
        ck_assert_uint_eq(n, want);
        free(b);
    }
    ck_assert(!fl_text_visible(NULL, out, sizeof out));
    ck_assert_str_eq(out, "");
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("services");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, rows_windows_and_totals);
    tcase_add_test(tc, bounds_fold_and_drop);
    tcase_add_test(tc, demo_top_services_live_at_raise);
    tcase_add_test(tc, text_visible_escapes_and_cuts);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return fl_test_run(suite());
}
