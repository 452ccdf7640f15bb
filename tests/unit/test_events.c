/* test_events.c - the analyst's event lines: format, escaping, every buffer
 * size, counts per signal, write errors reported. */
#include <check.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fl_events.h"
#include "fl_test_util.h"

static fl_addr cli_a, srv_a;

static fl_failure_event sample_event(void)
{
    fl_addr_parse("10.1.0.23", &cli_a);
    fl_addr_parse("2606:4700::6810:84e5", &srv_a);
    return (fl_failure_event){ .ts_us = 1760951001482123ULL,
                               .signal = FL_C_http_5xx,
                               .provider = "Cloudflare",
                               .service = "dash.cloudflare.com",
                               .client = &cli_a,
                               .server = &srv_a,
                               .client_port = 51512,
                               .server_port = 80,
                               .ip_proto = 6,
                               .reason = "status 503",
                               .alert_id = 1 };
}

START_TEST(failure_line_format)
{
    fl_failure_event f = sample_event();
    char buf[1024];
    size_t n = fl_events_format_failure(&f, buf, sizeof buf);
    ck_assert_uint_eq(n, strlen(buf));
    ck_assert_str_eq(
        buf,
        "{\"type\":\"failure\",\"time\":\"2025-10-20T09:03:21.482Z\",\"ts\":1760951001.482123,"
        "\"signal\":\"http_5xx\",\"provider\":\"Cloudflare\",\"service\":\"dash.cloudflare.com\","
        "\"client\":\"10.1.0.23\",\"client_port\":51512,\"server\":\"2606:4700::6810:84e5\","
        "\"server_port\":80,\"protocol\":\"tcp\",\"reason\":\"status 503\",\"alert_id\":1}");
    f.service = NULL;
    f.alert_id = 0;
    f.ip_proto = 17;
    f.sensor = "site-a";
    fl_events_format_failure(&f, buf, sizeof buf);
    json_error_t je;
    json_t *j = json_loads(buf, 0, &je);
    ck_assert_msg(j != NULL, "%s: %s", buf, je.text);
    ck_assert(json_is_null(json_object_get(j, "service")));
    ck_assert(json_is_null(json_object_get(j, "alert_id")));
    ck_assert_str_eq(json_string_value(json_object_get(j, "protocol")), "udp");
    ck_assert_str_eq(json_string_value(json_object_get(j, "sensor")), "site-a");
    json_decref(j);
}
END_TEST

START_TEST(unprintable_names_escaped_and_valid_json)
{
    fl_failure_event f = sample_event();
    f.service = "a\"b\\c\n\x01\xff\x7f";
    char buf[1024];
    fl_events_format_failure(&f, buf, sizeof buf);
    ck_assert_ptr_nonnull(strstr(buf, "\"service\":\"a\\\"b\\\\c\\n\\u0001\\u00ff\\u007f\""));
    json_t *j = json_loads(buf, 0, NULL);
    ck_assert_ptr_nonnull(j);
    json_decref(j);
}
END_TEST

START_TEST(every_buffer_size)
{
    fl_failure_event f = sample_event();
    char full[1024];
    size_t need = fl_events_format_failure(&f, full, sizeof full);
    for (size_t cap = 0; cap <= need + 1; cap++) {
        char *b = malloc(cap ? cap : 1);
        size_t n = fl_events_format_failure(&f, b, cap);
        ck_assert_uint_eq(n, need);
        if (cap) {
            ck_assert_uint_eq(strlen(b), cap - 1 < need ? cap - 1 : need);
            ck_assert(strncmp(b, full, strlen(b)) == 0);
        }
        free(b);
    }
}
END_TEST

START_TEST(file_counts_and_alert_lines)
{
    char path[] = "/tmp/fl-events-XXXXXX", err[128];
    int fd = mkstemp(path);
    close(fd);
    fl_events *ev = fl_events_open(path, err, sizeof err);
    ck_assert_ptr_nonnull(ev);
    fl_failure_event f = sample_event();
    for (int i = 0; i < 3; i++)
        fl_events_failure(ev, &f);
    f.signal = FL_C_tls_failures;
    f.reason = "fatal alert 40";
    fl_events_failure(ev, &f);
    fl_events_alert(ev, 1760951040.0, false, "site-a", "{\"id\":1,\"provider\":\"Cloudflare\"}");
    ck_assert_uint_eq(fl_events_count(ev, FL_C_http_5xx), 3);
    ck_assert_uint_eq(fl_events_count(ev, FL_C_tls_failures), 1);
    ck_assert_uint_eq(fl_events_count(ev, FL_C_dns_servfail), 0);
    ck_assert_uint_eq(fl_events_lines(ev), 5);
    ck_assert(fl_events_close(ev, err, sizeof err));

    FILE *in = fopen(path, "r");
    char line[2048];
    int n = 0, alerts = 0;
    while (fgets(line, sizeof line, in)) {
        json_t *j = json_loads(line, 0, NULL);
        ck_assert_msg(j != NULL, "not JSON: %s", line);
        if (strcmp(json_string_value(json_object_get(j, "type")), "alert") == 0) {
            alerts++;
            ck_assert_str_eq(json_string_value(json_object_get(j, "event")), "raised");
            ck_assert_str_eq(json_string_value(json_object_get(j, "time")),
                             "2025-10-20T09:04:00.000Z");
            ck_assert_str_eq(json_string_value(json_object_get(j, "sensor")), "site-a");
            ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(j, "alert"), "id")),
                             1);
        }
        json_decref(j);
        n++;
    }
    fclose(in);
    ck_assert_int_eq(n, 5);
    ck_assert_int_eq(alerts, 1);
    unlink(path);
}
END_TEST

START_TEST(errors_are_reported)
{
    char err[128];
    ck_assert_ptr_null(fl_events_open("/nonexistent/dir/events.jsonl", err, sizeof err));
    ck_assert_ptr_nonnull(strstr(err, "/nonexistent/dir/events.jsonl"));
    fl_events *ev = fl_events_open("/dev/full", err, sizeof err);
    ck_assert_ptr_nonnull(ev);
    fl_failure_event f = sample_event();
    for (int i = 0; i < 100; i++)
        fl_events_failure(ev, &f);
    ck_assert(!fl_events_close(ev, err, sizeof err));
    ck_assert_ptr_nonnull(strstr(err, "No space left"));
}
END_TEST

static Suite *events_suite(void)
{
    Suite *s = suite_create("events");
    TCase *tc = tcase_create("events");
    tcase_add_test(tc, failure_line_format);
    tcase_add_test(tc, unprintable_names_escaped_and_valid_json);
    tcase_add_test(tc, every_buffer_size);
    tcase_add_test(tc, file_counts_and_alert_lines);
    tcase_add_test(tc, errors_are_reported);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return fl_test_run(events_suite());
}
