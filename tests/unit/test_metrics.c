/* test_metrics.c - the Prometheus renderer, the provider label cap, address
 * parsing, and the HTTP server answering a real GET on loopback. */
#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fl_metrics.h"
#include "fl_test_util.h"

static const fl_metrics_build build = { "0.1.0", "4.2.0", "libpcap version 1.10.3", "0.14.1",
                                        "site-a" };

/* The value of the sample line that starts with `series ` in text; -1 if none. */
static double sample(const char *text, const char *series)
{
    size_t n = strlen(series);
    for (const char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
        if (strncmp(l, series, n) == 0 && l[n] == ' ')
            return strtod(l + n + 1, NULL);
    return -1;
}

static fl_metrics_snapshot *demo_snapshot(void)
{
    fl_metrics_snapshot *s = calloc(1, sizeof *s);
    fl_counts c = { 0 };
    s->packets = 39565;
    s->bytes = 14033890;
    s->kernel_drops = 7;
    s->decode_error[FL_DERR_truncated_tcp] = 3;
    s->flows_tcp = 90;
    s->flows_udp = 10;
    s->one_way_flows = 5;
    s->last_packet_time = 1760951400.5;
    s->redis_configured = true;
    s->redis_batches_held = 2;
    s->redis_batches_dropped = 1;
    c.v[FL_C_http_5xx] = 105;
    c.v[FL_C_tls_failures] = 71;
    fl_metrics_snapshot_add(s, "Cloudflare", &c, FL_METRICS_ALERT_RAISED, 0.655);
    fl_metrics_snapshot_add(s, "Cloudflare", &c, FL_METRICS_ALERT_NONE, 0);
    fl_metrics_snapshot_add(s, "AWS", &c, FL_METRICS_ALERT_NONE, 0);
    fl_metrics_snapshot_add(s, "odd\"name\\x\ny", &c, FL_METRICS_ALERT_UNKNOWN, 0.5);
    return s;
}

START_TEST(renders_counters_and_labels)
{
    fl_metrics_snapshot *s = demo_snapshot();
    size_t len = 0;
    char *t = fl_metrics_render(s, &build, &len);
    ck_assert_ptr_nonnull(t);
    ck_assert_uint_eq(len, strlen(t));
    ck_assert(sample(t, "faultline_packets_total") == 39565);
    ck_assert(sample(t, "faultline_bytes_total") == 14033890);
    ck_assert(sample(t, "faultline_kernel_drops_total") == 7);
    ck_assert(sample(t, "faultline_decode_errors_total{reason=\"truncated_tcp\"}") == 3);
    ck_assert(sample(t, "faultline_flows_total{protocol=\"tcp\"}") == 90);
    ck_assert(sample(t, "faultline_one_way_share") == 0.05);
    ck_assert(sample(t, "faultline_last_packet_timestamp_seconds") == 1760951400.5);
    ck_assert(sample(t, "faultline_redis_batches_held") == 2);
    ck_assert(sample(t, "faultline_redis_batches_dropped_total") == 1);
    ck_assert(sample(t, "faultline_redis_up") == 0);
    /* Two adds of the same provider sum; the alert state is the worst seen. */
    ck_assert(
        sample(t, "faultline_signal_events_total{provider=\"Cloudflare\",signal=\"http_5xx\"}") ==
        210);
    ck_assert(
        sample(t, "faultline_signal_events_total{provider=\"AWS\",signal=\"tls_failures\"}") == 71);
    ck_assert(sample(t, "faultline_signal_events_total{provider=\"AWS\",signal=\"flows\"}") == 0);
    ck_assert(sample(t, "faultline_alert_active{provider=\"Cloudflare\"}") == 1);
    ck_assert(sample(t, "faultline_alert_unknown{provider=\"Cloudflare\"}") == 0);
    ck_assert(sample(t, "faultline_alert_peak_ratio{provider=\"Cloudflare\"}") == 0.655);
    ck_assert(sample(t, "faultline_alert_active{provider=\"AWS\"}") == 0);
    /* Label values escaped as the format requires. */
    ck_assert(sample(t, "faultline_alert_unknown{provider=\"odd\\\"name\\\\x\\ny\"}") == 1);
    ck_assert_ptr_nonnull(strstr(t, "faultline_build_info{version=\"0.1.0\",ndpi=\"4.2.0\","
                                    "libpcap=\"libpcap version 1.10.3\",hiredis=\"0.14.1\","
                                    "sensor=\"site-a\"} 1\n"));
    ck_assert_ptr_nonnull(strstr(t, "# TYPE faultline_signal_events_total counter\n"));
    ck_assert_ptr_nonnull(strstr(t, "# TYPE faultline_flows_active gauge\n"));
    /* Every line is a comment or "name[{labels}] value". */
    for (char *l = t; *l; l = strchr(l, '\n') + 1) {
        ck_assert_ptr_nonnull(strchr(l, '\n'));
        ck_assert(l[0] == '#' || strncmp(l, "faultline_", 10) == 0);
    }
    free(t);
    free(s);
}
END_TEST

START_TEST(no_redis_no_redis_series)
{
    fl_metrics_snapshot *s = calloc(1, sizeof *s);
    char *t = fl_metrics_render(s, NULL, NULL);
    ck_assert_ptr_nonnull(t);
    ck_assert_ptr_null(strstr(t, "faultline_redis_"));
    ck_assert(sample(t, "faultline_one_way_share") == 0);
    ck_assert(
        sample(
            t,
            "faultline_build_info{version=\"\",ndpi=\"\",libpcap=\"\",hiredis=\"\",sensor=\"\"}") ==
        1);
    free(t);
    free(s);
}
END_TEST

START_TEST(provider_labels_are_capped)
{
    fl_metrics_snapshot *s = calloc(1, sizeof *s);
    fl_counts c = { 0 };
    char name[32];
    c.v[FL_C_flows] = 1;
    for (int i = 0; i < FL_METRICS_PROVIDERS_MAX + 10; i++) {
        snprintf(name, sizeof name, "p%d", i);
        fl_metrics_snapshot_add(s, name, &c,
                                i == FL_METRICS_PROVIDERS_MAX + 3 ? FL_METRICS_ALERT_RAISED
                                                                  : FL_METRICS_ALERT_NONE,
                                0.25);
    }
    ck_assert_uint_eq(s->nproviders, FL_METRICS_PROVIDERS_MAX);
    ck_assert_uint_eq(s->providers_folded, 10);
    char *t = fl_metrics_render(s, &build, NULL);
    ck_assert(sample(t, "faultline_signal_events_total{provider=\"p63\",signal=\"flows\"}") == 1);
    ck_assert(sample(t, "faultline_signal_events_total{provider=\"p64\",signal=\"flows\"}") == -1);
    ck_assert(sample(t, "faultline_signal_events_total{provider=\"other\",signal=\"flows\"}") ==
              10);
    ck_assert(sample(t, "faultline_alert_active{provider=\"other\"}") == 1);
    ck_assert(sample(t, "faultline_metrics_providers_folded") == 10);
    /* Series bounded: (cap + other) x counters. */
    size_t n = 0;
    for (const char *p = t; (p = strstr(p, "\nfaultline_signal_events_total{")); p++)
        n++;
    ck_assert_uint_eq(n, (FL_METRICS_PROVIDERS_MAX + 1) * FL_C_COUNT);
    free(t);
    free(s);
}
END_TEST

START_TEST(addresses)
{
    char host[64], err[128];
    unsigned port;
    ck_assert(fl_metrics_parse_addr("127.0.0.1:9108", host, sizeof host, &port, err, sizeof err));
    ck_assert_str_eq(host, "127.0.0.1");
    ck_assert_uint_eq(port, 9108);
    ck_assert(fl_metrics_parse_addr("[::1]:0", host, sizeof host, &port, err, sizeof err));
    ck_assert_str_eq(host, "::1");
    ck_assert_uint_eq(port, 0);
    const char *bad[] = { "",        "9108",     ":9108",     "host:", "host:70000",
                          "host:-1", "::1:9108", "[::1]9108", "[::1",  "h:12x" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ck_assert_msg(!fl_metrics_parse_addr(bad[i], host, sizeof host, &port, err, sizeof err),
                      "accepted '%s'", bad[i]);
    ck_assert(!fl_metrics_parse_addr("127.0.0.1:1", host, 4, &port, err, sizeof err));
    ck_assert_ptr_null(fl_metrics_start("999.1.1.1:0", &build, err, sizeof err));
    ck_assert_ptr_nonnull(strstr(err, "999.1.1.1"));
}
END_TEST

/* One HTTP/1.0 GET on loopback; the whole reply, malloc'd. */
static char *http_get(unsigned port, const char *path)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert_int_eq(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    char req[128];
    int n = snprintf(req, sizeof req, "GET %s HTTP/1.0\r\nHost: x\r\n\r\n", path);
    ck_assert_int_eq(write(fd, req, (size_t)n), n);
    size_t cap = 1 << 20, len = 0;
    char *buf = malloc(cap);
    ssize_t r;
    while ((r = read(fd, buf + len, cap - len - 1)) > 0)
        len += (size_t)r;
    buf[len] = '\0';
    close(fd);
    return buf;
}

START_TEST(serves_the_published_snapshot)
{
    char err[128];
    fl_metrics *m = fl_metrics_start("127.0.0.1:0", &build, err, sizeof err);
    ck_assert_msg(m != NULL, "%s", err);
    unsigned port = fl_metrics_port(m);
    ck_assert_uint_gt(port, 0);

    char *r = http_get(port, "/metrics");
    ck_assert_ptr_nonnull(strstr(r, "HTTP/1.0 200") ? r : strstr(r, "HTTP/1.1 200"));
    ck_assert_ptr_nonnull(strstr(r, "text/plain; version=0.0.4"));
    ck_assert_ptr_nonnull(strstr(r, "\r\n\r\n# HELP faultline_build_info"));
    ck_assert(sample(strstr(r, "\r\n\r\n") + 4, "faultline_packets_total") == 0);
    free(r);

    fl_metrics_snapshot *s = demo_snapshot();
    fl_metrics_publish(m, s);
    r = http_get(port, "/metrics");
    ck_assert(sample(strstr(r, "\r\n\r\n") + 4, "faultline_packets_total") == 39565);
    free(r);

    r = http_get(port, "/");
    ck_assert_ptr_nonnull(strstr(r, " 404 "));
    free(r);

    /* The port is taken now: a second server says so. */
    char addr[32];
    snprintf(addr, sizeof addr, "127.0.0.1:%u", port);
    ck_assert_ptr_null(fl_metrics_start(addr, &build, err, sizeof err));
    ck_assert_ptr_nonnull(strstr(err, "cannot listen"));
    fl_metrics_stop(m);
    free(s);
}
END_TEST

static Suite *metrics_suite(void)
{
    Suite *s = suite_create("metrics");
    TCase *tc = tcase_create("metrics");
    tcase_add_test(tc, renders_counters_and_labels);
    tcase_add_test(tc, no_redis_no_redis_series);
    tcase_add_test(tc, provider_labels_are_capped);
    tcase_add_test(tc, addresses);
    tcase_add_test(tc, serves_the_published_snapshot);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return fl_test_run(metrics_suite());
}
