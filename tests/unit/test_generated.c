/* test_generated.c - exact counts per provider on generated captures.
 *
 * The generator (tests/gen/flgen.c) knows what it put in each capture by
 * construction: refused and unanswered connections at providers' addresses,
 * TLS failures by alert, reset and silence, SERVFAIL/NODATA for provider
 * names, 5xx over keep-alive with split headers, retransmissions. Every
 * counter of every provider must come out exactly, for several seeds.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fl_scenario.h"
#include "fl_test_util.h"

static void check_exact(const char *scenario, unsigned seed)
{
    static fl_truth truth;
    const char *pcap = fl_scenario_generate(scenario, seed, NULL, &truth);
    fl_config cfg;
    fl_engine *e = fl_scenario_replay(pcap, &cfg, NULL);
    int rows = 0, wrong = 0;
    for (int i = 0; i < truth.n; i++) {
        const fl_truth_row *r = &truth.rows[i];
        if (strcmp(r->type, "counter") != 0)
            continue;
        /* The generator has no model of responses inside TLS yet. */
        if (!strncmp(r->name, "https_", 6) || !strcmp(r->name, "tls_retries") ||
            !strcmp(r->name, "tls_early_closes") || !strcmp(r->name, "tls_stalls"))
            continue;
        uint64_t want = strtoull(r->value, NULL, 10);
        uint64_t got = fl_scenario_total(e, r->provider, r->name);
        rows++;
        if (want != got) {
            fprintf(stderr, "%s seed %u: %s %s want %llu got %llu\n", scenario, seed, r->provider,
                    r->name, (unsigned long long)want, (unsigned long long)got);
            wrong++;
        }
    }
    /* nothing may be attributed to a provider the truth does not name */
    fl_engine_stats st;
    fl_engine_get_stats(e, &st);
    ck_assert_uint_eq(st.decode_errors, 0);
    fl_engine_free(e);
    fl_scenario_remove(pcap);
    ck_assert_int_gt(rows, 50);
    ck_assert_msg(wrong == 0, "%s seed %u: %d of %d counters differ", scenario, seed, wrong, rows);
}

START_TEST(test_mixed_exact)
{
    static const unsigned seeds[] = { 1, 7, 20251118 };
    check_exact("mixed", seeds[_i]);
}
END_TEST

START_TEST(test_incident_counts_exact)
{
    static const char *const scenarios[] = { "cloudflare-5xx", "aws-dns", "noisy-client" };
    check_exact(scenarios[_i], 3 + (unsigned)_i);
}
END_TEST

/* The randomized matrix (flgen --matrix) with TLS application data:
 * seed 3 is captured both ways, so every counter is exact. */
START_TEST(test_matrix_exact)
{
    check_exact("matrix/https-5xx", 3);
}
END_TEST

/* A span port that carries only the client's side (https-5xx seed 2: 95 %
 * of its flows) shows no ServerHello, but the client acknowledges the
 * server's bytes: a TLS handshake timeout may be counted only where the
 * server really sent nothing. What the server said (HTTP responses,
 * refusals) is not in such a capture, so only the TLS counters, which
 * the client's side decides, are compared. */
START_TEST(test_oneway_tls_exact)
{
    static fl_truth truth;
    const char *pcap = fl_scenario_generate("matrix/https-5xx", 2, NULL, &truth);
    fl_config cfg;
    fl_engine *e = fl_scenario_replay(pcap, &cfg, NULL);
    fl_engine_stats st;
    fl_engine_get_stats(e, &st);
    ck_assert_uint_gt(st.one_way_flows, 1000);
    int rows = 0, wrong = 0;
    for (int i = 0; i < truth.n; i++) {
        const fl_truth_row *r = &truth.rows[i];
        if (strcmp(r->type, "counter") != 0 ||
            (strcmp(r->name, "tls_handshakes") != 0 && strcmp(r->name, "tls_failures") != 0))
            continue;
        uint64_t want = strtoull(r->value, NULL, 10);
        uint64_t got = fl_scenario_total(e, r->provider, r->name);
        rows++;
        if (want != got) {
            fprintf(stderr, "one-way: %s %s want %llu got %llu\n", r->provider, r->name,
                    (unsigned long long)want, (unsigned long long)got);
            wrong++;
        }
    }
    fl_engine_free(e);
    fl_scenario_remove(pcap);
    ck_assert_int_ge(rows, 10);
    ck_assert_msg(wrong == 0, "one-way capture: %d of %d TLS counters differ", wrong, rows);
}
END_TEST

static Suite *generated_suite(void)
{
    Suite *s = suite_create("generated");
    TCase *tc = tcase_create("exact");
    tcase_set_timeout(tc, 300);
    tcase_add_loop_test(tc, test_mixed_exact, 0, 3);
    tcase_add_loop_test(tc, test_incident_counts_exact, 0, 3);
    tcase_add_test(tc, test_matrix_exact);
    tcase_add_test(tc, test_oneway_tls_exact);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return fl_test_run(generated_suite());
}
