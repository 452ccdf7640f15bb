/* test_report_html.c - the self-contained HTML report: the verdict, the
 * sections, no external resource, traffic strings escaped.
 *
 * With FL_REPORT_OUT=path set, the cloudflare-5xx report is also written
 * there (tests/e2e/report_render.sh renders it in a headless browser). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fl_report.h"
#include "fl_scenario.h"
#include "fl_test_util.h"

/* Generate and replay a scenario, then delete the capture (they are tens
 * of MB). The returned path stays valid as a name for the report. */
static fl_engine *replay(const char *scenario, unsigned seed, const char *extra, fl_truth *truth,
                         const char *const *settings, const char **pcap_out)
{
    static fl_config cfg; /* must outlive the engine */
    const char *pcap = fl_scenario_generate(scenario, seed, extra, truth);
    fl_engine *e = fl_scenario_replay(pcap, &cfg, settings);
    ck_assert_int_eq(fl_scenario_remove(pcap), 0);
    *pcap_out = pcap;
    return e;
}

static char *render(fl_engine *e, const char *pcap, size_t *len)
{
    char *buf = NULL;
    size_t n = 0;
    FILE *m = open_memstream(&buf, &n);
    ck_assert_ptr_nonnull(m);
    const char *files[] = { pcap };
    fl_report_source src = { .files = files, .nfiles = 1 };
    fl_run_view v;
    fl_engine_view(e, &src, &v);
    ck_assert_int_eq(fl_report_html(&v, m), 0);
    ck_assert_int_eq(fclose(m), 0);
    ck_assert_ptr_nonnull(buf);
    if (len)
        *len = n;
    return buf;
}

static size_t count(const char *hay, const char *needle)
{
    size_t n = 0;
    for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
        n++;
    return n;
}

/* Nothing the browser would fetch: no URL scheme at all (the inline SVG
 * needs no xmlns in HTML), no script, no link, no CSS import or url(). */
static void assert_self_contained(const char *html)
{
    ck_assert_ptr_null(strstr(html, "http://"));
    ck_assert_ptr_null(strstr(html, "https://"));
    ck_assert_ptr_null(strstr(html, "<script"));
    ck_assert_ptr_null(strstr(html, "<link"));
    ck_assert_ptr_null(strstr(html, "<img"));
    ck_assert_ptr_null(strstr(html, "<iframe"));
    ck_assert_ptr_null(strstr(html, "@import"));
    ck_assert_ptr_null(strstr(html, "url("));
    ck_assert_ptr_null(strstr(html, "src="));
    ck_assert_ptr_null(strstr(html, "href="));
    ck_assert_ptr_nonnull(strstr(html, "default-src 'none'"));
}

static void assert_well_formed_ends(const char *html, size_t len)
{
    ck_assert(strncmp(html, "<!DOCTYPE html>", 15) == 0);
    ck_assert_ptr_nonnull(strstr(html, "</html>\n"));
    ck_assert_uint_eq(strlen(html), len); /* no NUL inside */
    /* every SVG closed */
    ck_assert_uint_eq(count(html, "<svg"), count(html, "</svg>"));
    ck_assert_uint_eq(count(html, "<section"), count(html, "</section>"));
}

/* "from HH:MM:SS to HH:MM:SS UTC (N min)" for two epoch strings. */
static void when(char *out, size_t n, const char *from, const char *to)
{
    time_t a = (time_t)strtoll(from, NULL, 10), b = (time_t)strtoll(to, NULL, 10);
    struct tm ta, tb;
    ck_assert_ptr_nonnull(gmtime_r(&a, &ta));
    ck_assert_ptr_nonnull(gmtime_r(&b, &tb));
    ck_assert_int_eq((b - a) % 60, 0);
    snprintf(out, n, "from %02d:%02d:%02d to %02d:%02d:%02d UTC (%d min)", ta.tm_hour, ta.tm_min,
             ta.tm_sec, tb.tm_hour, tb.tm_min, tb.tm_sec, (int)((b - a) / 60));
}

START_TEST(test_cloudflare_report)
{
    fl_truth truth;
    const char *pcap;
    fl_engine *e = replay("cloudflare-5xx", 1, NULL, &truth, NULL, &pcap);
    const fl_alert *al;
    ck_assert_uint_eq(fl_detector_alerts(fl_engine_detector(e), &al), 1);
    ck_assert_str_eq(al[0].provider, "Cloudflare");
    size_t len;
    char *html = render(e, pcap, &len);
    /* first, so that a failing check still leaves the page to look at */
    if (getenv("FL_REPORT_OUT")) {
        FILE *f = fopen(getenv("FL_REPORT_OUT"), "w");
        ck_assert_ptr_nonnull(f);
        ck_assert_uint_eq(fwrite(html, 1, len, f), len);
        ck_assert_int_eq(fclose(f), 0);
    }

    assert_well_formed_ends(html, len);
    assert_self_contained(html);
    /* the answer first: the verdict comes before any chart */
    const char *h1 = strstr(html, "<h1>Cloudflare failing: HTTP 5xx");
    ck_assert_ptr_nonnull(h1);
    ck_assert_ptr_nonnull(strstr(html, "It's them"));
    ck_assert(h1 < strstr(html, "<svg"));
    /* the truth file's incident row: onset and end epochs; 10 s buckets
     * aligned on them, so the failing buckets span exactly that */
    const fl_truth_row *inc = NULL;
    for (int i = 0; i < truth.n; i++)
        if (!strcmp(truth.rows[i].type, "incident"))
            inc = &truth.rows[i];
    ck_assert_ptr_nonnull(inc);
    ck_assert_str_eq(inc->provider, "Cloudflare");
    char want[128];
    when(want, sizeof want, inc->value, inc->value2);
    ck_assert_msg(strstr(h1, want) != NULL, "want %s in %.200s", want, h1);
    snprintf(want, sizeof want, "UTC (5 min), %llu clients affected</h1>",
             (unsigned long long)al[0].clients);
    ck_assert_msg(strstr(h1, want) != NULL, "want %s in %.200s", want, h1);
    /* which signal moved first: the detector's */
    ck_assert_int_eq(al[0].first_family, FL_FAM_HTTP);
    ck_assert_ptr_nonnull(strstr(html, "<b>Alert #1 \xe2\x80\x94 first signal: HTTP 5xx</b>"));
    /* one alert row, Cloudflare, with its signals; first one is http */
    ck_assert_uint_eq(count(html, "<tr class=\"alert-row\">"), 1);
    const char *row = strstr(html, "<tr class=\"alert-row\">");
    ck_assert_ptr_nonnull(strstr(row, "<td><b>Cloudflare</b></td><td>provider</td>"));
    ck_assert_ptr_nonnull(strstr(row, "<span class=\"chip first\" style=\"--c:#e11d48\">HTTP 5xx"));
    /* a section and a chart for each of the six providers with traffic,
     * the alerted one first */
    ck_assert_uint_eq(count(html, "<section class=\"prov\""), 6);
    ck_assert_uint_eq(count(html, "<svg class=\"chart\""), 6);
    const char *first = strstr(html, "<section class=\"prov\"");
    ck_assert(strncmp(strstr(first, "<h2>"), "<h2>Cloudflare<span class=\"badge bad\">alert</span>",
                      50) == 0);
    static const char *const others[] = { "AWS", "Google", "Microsoft", "Akamai", "Fastly" };
    for (size_t i = 0; i < sizeof others / sizeof others[0]; i++) {
        char h2[64];
        snprintf(h2, sizeof h2, "<h2>%s<span class=\"badge\">no alert</span>", others[i]);
        ck_assert_msg(strstr(html, h2) != NULL, "%s", h2);
    }
    /* the alert span is shaded in Cloudflare's chart only */
    ck_assert_uint_eq(count(html, "<rect class=\"span\""), 1);
    /* Cloudflare's services (flgen: www., dash., cdnjs.cloudflare.com) */
    ck_assert_ptr_nonnull(strstr(html, "cdnjs.cloudflare.com"));
    ck_assert_ptr_nonnull(strstr(html, "dash.cloudflare.com"));

    free(html);
    fl_engine_free(e);
}
END_TEST

static const fl_truth_row *incident(const fl_truth *t)
{
    for (int i = 0; i < t->n; i++)
        if (!strcmp(t->rows[i].type, "incident"))
            return &t->rows[i];
    ck_abort_msg("no incident row");
    return NULL;
}

/* AWS: DNS SERVFAIL/NODATA and refused connections (flgen aws-dns); the
 * window is the truth's. */
START_TEST(test_aws_dns_window)
{
    fl_truth truth;
    const char *pcap;
    fl_engine *e = replay("aws-dns", 1, NULL, &truth, NULL, &pcap);
    size_t len;
    char *html = render(e, pcap, &len);
    assert_self_contained(html);
    const fl_truth_row *inc = incident(&truth);
    ck_assert_str_eq(inc->provider, "AWS");
    char want[128];
    when(want, sizeof want, inc->value, inc->value2);
    const char *h1 = strstr(html, "<h1>AWS failing: connection failures");
    ck_assert_ptr_nonnull(h1);
    ck_assert_msg(strstr(h1, want) != NULL, "want %s in %.200s", want, h1);
    ck_assert_ptr_nonnull(strstr(h1, "DNS failures"));
    ck_assert_uint_eq(count(html, "<tr class=\"alert-row\">"), 1);
    free(html);
    fl_engine_free(e);
}
END_TEST

/* Every provider fails at once: the verdict is local, shaded in every
 * provider's chart, and no provider is blamed. */
START_TEST(test_local_uplink_verdict)
{
    fl_truth truth;
    const char *pcap;
    fl_engine *e = replay("local-uplink", 1, NULL, &truth, NULL, &pcap);
    size_t len;
    char *html = render(e, pcap, &len);
    assert_self_contained(html);
    ck_assert_str_eq(incident(&truth)->provider, "local");
    ck_assert_ptr_nonnull(strstr(html, "It's us"));
    ck_assert_ptr_nonnull(strstr(html, "<h1>Local problem: all 6 providers failed together ("));
    ck_assert_ptr_null(strstr(html, "It's them"));
    ck_assert_uint_eq(count(html, "<span class=\"badge local\">local alert</span>"), 6);
    ck_assert_uint_eq(count(html, "<rect class=\"lspan\""), 6);
    ck_assert_ptr_null(strstr(html, "badge bad"));
    free(html);
    fl_engine_free(e);
}
END_TEST

/* SNI and Host names are chosen by whoever sends the packets: a service
 * name full of markup must come out as text only. */
START_TEST(test_hostile_service_name_escaped)
{
    fl_truth truth;
    const char *pcap;
    fl_engine *e = replay("cloudflare-5xx", 1, NULL, &truth, NULL, &pcap);
    fl_aggregate *agg = fl_engine_aggregate(e);
    uint16_t cf = fl_providers_find(fl_engine_providers(e), "Cloudflare");
    ck_assert_uint_ne(cf, 0);
    static const char *const hostile[] = {
        "<img src=x onerror=alert(1)>", "\"><script src=https://evil.example/x.js></script>",
        "a'b&c\x01\x7f\xff\xc0\xaf.example", /* control bytes, invalid UTF-8 */
    };
    fl_engine_stats st;
    fl_engine_get_stats(e, &st);
    for (size_t i = 0; i < 3; i++) {
        uint32_t id = fl_aggregate_service_id(agg, hostile[i]);
        ck_assert_uint_ne(id, 0);
        /* more failures than any real service: it is in the top lists */
        fl_aggregate_service_count(agg, st.last_ts_us, cf, id, FL_C_flows, 100000);
        fl_aggregate_service_count(agg, st.last_ts_us, cf, id, FL_C_tcp_attempts, 100000);
        fl_aggregate_service_count(agg, st.last_ts_us, cf, id, FL_C_tcp_resets,
                                   90000 - (uint32_t)i);
    }
    fl_aggregate_finish(agg); /* the bucket they went to, closed */
    size_t len;
    char *html = render(e, pcap, &len);
    assert_well_formed_ends(html, len);
    ck_assert_ptr_null(strstr(html, "<img"));
    ck_assert_ptr_null(strstr(html, "<script"));
    for (size_t i = 0; i < 3; i++)
        ck_assert_ptr_null(strstr(html, hostile[i]));
    ck_assert_ptr_null(strstr(html, "\x01"));
    ck_assert_ptr_null(strstr(html, "\xff"));
    /* each appears escaped in the provider's table and in the alert row
     * (top 3 services) */
    ck_assert_uint_eq(count(html, "&lt;img src=x onerror=alert(1)&gt;"), 2);
    ck_assert_uint_eq(count(html, "&quot;&gt;&lt;script src=https://evil.example/x.js&gt;"
                                  "&lt;/script&gt;"),
                      2);
    /* odd bytes shown as \xNN (fl_text.h), not as replacement marks */
    ck_assert_uint_eq(count(html, "a&#39;b&amp;c\\x01\\x7f\\xff\\xc0\\xaf.example"), 2);
    /* the only URL is the escaped one, inside text */
    size_t urls = 0;
    for (const char *u = strstr(html, "https://"); u; u = strstr(u + 1, "https://")) {
        ck_assert(strncmp(u - 15, "&lt;script src=https://evil", 27) == 0);
        urls++;
    }
    ck_assert_uint_eq(urls, 2);
    ck_assert_ptr_null(strstr(html, "http://"));
    free(html);
    fl_engine_free(e);
}
END_TEST

START_TEST(test_clean_capture_no_outage)
{
    fl_truth truth;
    const char *pcap;
    fl_engine *e = replay("clean", 1, NULL, &truth, NULL, &pcap);
    const fl_alert *al;
    ck_assert_uint_eq(fl_detector_alerts(fl_engine_detector(e), &al), 0);
    size_t len;
    char *html = render(e, pcap, &len);
    assert_well_formed_ends(html, len);
    assert_self_contained(html);
    ck_assert_ptr_nonnull(strstr(html, "<h1>No outage detected</h1>"));
    ck_assert_ptr_nonnull(strstr(html, "No alert was raised."));
    ck_assert_ptr_null(strstr(html, "alert-row"));
    ck_assert_ptr_null(strstr(html, "badge bad"));
    ck_assert_ptr_null(strstr(html, "class=\"span\""));
    /* clean: MAIN6 and Oracle carry traffic (flgen scenario table) */
    ck_assert_uint_eq(count(html, "<section class=\"prov\""), 7);
    ck_assert_ptr_nonnull(strstr(html, "<h2>Oracle<span class=\"badge\">no alert</span>"));
    free(html);
    fl_engine_free(e);
}
END_TEST

/* The number of points in the longest run of a chart line. */
static size_t max_line_points(const char *html)
{
    size_t best = 0;
    for (const char *p = strstr(html, "<path class=\"ln\""); p;
         p = strstr(p + 1, "<path class=\"ln\"")) {
        const char *d = strstr(p, " d=\"");
        ck_assert_ptr_nonnull(d);
        const char *end = strchr(d + 4, '"');
        size_t n = 0;
        for (const char *q = d + 4; q < end; q++)
            n += *q == 'M' || *q == 'L';
        if (n > best)
            best = n;
    }
    return best;
}

/* 900 s at 1 s buckets is 900 buckets: charts merge them two by two (450
 * points), and the hover areas stay at 150 per chart. */
START_TEST(test_long_capture_downsampled)
{
    fl_truth truth;
    static const char *const settings[] = { "bucket_s=1", NULL };
    const char *pcap;
    fl_engine *e = replay("clean", 2, "--clients 10", &truth, settings, &pcap);
    ck_assert_uint_eq(fl_aggregate_bucket_s(fl_engine_aggregate(e)), 1);
    size_t len;
    char *html = render(e, pcap, &len);
    assert_well_formed_ends(html, len);
    assert_self_contained(html);
    size_t pts = max_line_points(html);
    ck_assert_uint_gt(pts, 400);
    ck_assert_uint_le(pts, 450);
    ck_assert_ptr_nonnull(strstr(html, "one point per 2 s, buckets merged"));
    size_t charts = count(html, "<svg class=\"chart\"");
    ck_assert_uint_ge(charts, 6);
    ck_assert_uint_eq(count(html, "<g class=\"hov\"><rect"), charts);
    /* hover areas: 450 points in groups of 3 = 150 per chart (no alert,
     * so no other rect) */
    ck_assert_uint_eq(count(html, "<rect x="), charts * 150);
    /* size stays bounded: well under 100 KiB per chart */
    ck_assert_uint_lt(len, charts * 100 * 1024);
    free(html);
    fl_engine_free(e);
}
END_TEST

/* The escaping itself, on an engine with nothing in it: an empty report
 * still has the verdict and no chart. */
START_TEST(test_empty_engine)
{
    fl_config cfg;
    char err[256];
    fl_config_defaults(&cfg);
    fl_config_resolve_paths(&cfg);
    fl_engine *e = fl_engine_new(&cfg, err, sizeof err);
    ck_assert_msg(e != NULL, "%s", err);
    fl_engine_finish(e);
    size_t len;
    char *html = render(e, "<odd>&name.pcap", &len);
    assert_well_formed_ends(html, len);
    assert_self_contained(html);
    ck_assert_ptr_nonnull(strstr(html, "<h1>No outage detected</h1>"));
    ck_assert_ptr_nonnull(strstr(html, "&lt;odd&gt;&amp;name.pcap"));
    ck_assert_ptr_null(strstr(html, "<svg"));
    free(html);
    fl_engine_free(e);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("report_html");
    /* its own case: tests/e2e/report_render.sh runs only this one */
    TCase *cf = tcase_create("cloudflare");
    tcase_set_timeout(cf, 120);
    tcase_add_test(cf, test_cloudflare_report);
    suite_add_tcase(s, cf);
    TCase *t = tcase_create("report_html");
    tcase_set_timeout(t, 120);
    tcase_add_test(t, test_aws_dns_window);
    tcase_add_test(t, test_local_uplink_verdict);
    tcase_add_test(t, test_hostile_service_name_escaped);
    tcase_add_test(t, test_clean_capture_no_outage);
    tcase_add_test(t, test_long_capture_downsampled);
    tcase_add_test(t, test_empty_engine);
    suite_add_tcase(s, t);
    return s;
}

int main(void)
{
    return fl_test_run(suite());
}
