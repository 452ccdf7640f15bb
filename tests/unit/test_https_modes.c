/* test_https_modes.c - per-SNI size baselines and HTTPS signals
 * (analysis/count/https_modes.c).
 *
 * Sites are simulated with seeded sizes: normal pages spread over a few
 * kB to a few hundred kB, then an error template (6.4 kB +- tens of bytes,
 * the size of a CDN's 5xx page) for a share of responses.
 */
#include <check.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fl_https_modes.h"
#include "fl_test_util.h"

#define S_US 1000000ull

static uint64_t rng = 88172645463325252ull;
static uint32_t rnd(uint32_t n)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng % n);
}

/* A normal page of site `svc`: its own spread of sizes, none near 6.4 kB
 * (mostly 20-200 kB for HTML sites). */
static uint32_t normal_size(uint32_t svc)
{
    return 20000u + svc * 1000u + rnd(180000u);
}

static uint32_t error_size(void)
{
    return 6400u + rnd(60u);
}

typedef struct obs_log {
    unsigned r, s;
} obs_log;

static void observer(void *ctx, char kind, uint64_t tag, uint16_t provider, uint32_t service,
                     uint32_t bytes, uint32_t ttfb_us, uint64_t ts_us)
{
    (void)tag, (void)provider, (void)service, (void)bytes, (void)ttfb_us, (void)ts_us;
    obs_log *l = ctx;
    if (kind == 'R')
        l->r++;
    else if (kind == 'S')
        l->s++;
}

/* Run `nsites` SNIs of `provider[i]`, one response each per second for
 * `secs` seconds; from `err_from` on, sites with err_site[i] answer the
 * error template every other response. Returns suspects counted; *errors
 * the error responses sent. */
static uint32_t simulate(fl_https_modes *m, int nsites, const uint16_t *provider,
                         const bool *err_site, uint32_t secs, uint32_t err_from, uint32_t *errors)
{
    uint32_t suspect = 0;
    *errors = 0;
    uint64_t tag = 1;
    for (uint32_t t = 0; t < secs; t++)
        for (int i = 0; i < nsites; i++) {
            bool err = err_site[i] && t >= err_from && (t & 1u);
            uint32_t size = err ? error_size() : normal_size((uint32_t)i);
            *errors += err;
            uint64_t ts = (uint64_t)t * S_US + (uint64_t)i * 1000;
            /* the origin answers in 20-50 ms, the edge's error page at once */
            uint32_t ttfb = err ? 400 + rnd(200) : 20000 + rnd(30000);
            suspect +=
                fl_https_modes_response(m, provider[i], (uint32_t)i + 1, size, ttfb, ts, ts, tag++);
        }
    return suspect;
}

START_TEST(test_bins)
{
    ck_assert_uint_eq(fl_https_size_bin(0), 0);
    ck_assert_uint_eq(fl_https_size_bin(16), 0);
    uint32_t prev = 0;
    for (uint32_t b = 1; b < 5000000; b = b + 1 + b / 50) {
        uint32_t bin = fl_https_size_bin(b);
        ck_assert_uint_ge(bin, prev);
        ck_assert_uint_le(fl_https_bin_floor(bin), b < 16 ? 16 : b);
        prev = bin;
    }
    /* 8 bins per octave: 6400 and 6460 share a bin or are neighbours, 6400
     * and 8000 are not. */
    ck_assert_uint_le(fl_https_size_bin(6460) - fl_https_size_bin(6400), 1);
    ck_assert_uint_ge(fl_https_size_bin(8000) - fl_https_size_bin(6400), 2);
    ck_assert_uint_eq(fl_https_size_bin(UINT32_MAX), fl_https_size_bin(UINT32_MAX - 1));
}
END_TEST

/* Two sites of one provider start answering the template: suspect, and
 * nearly all their error responses counted (held ones released). */
START_TEST(test_provider_mode)
{
    fl_https_modes *m = fl_https_modes_new(0);
    obs_log log = { 0, 0 };
    fl_https_modes_set_observer(m, observer, &log);
    uint16_t prov[3] = { 7, 7, 7 };
    bool err[3] = { true, true, false };
    uint32_t errors;
    uint32_t n = simulate(m, 3, prov, err, 240, 120, &errors);
    ck_assert_uint_eq(errors, 120);
    ck_assert_uint_eq(log.r, 720);
    ck_assert_uint_eq(log.s, n);
    /* recall: all but the first few before the mode was concentrated */
    ck_assert_uint_ge(n, errors * 9 / 10);
    ck_assert_uint_le(n, errors);
    fl_https_stats st;
    fl_https_modes_stats(m, &st);
    ck_assert_uint_eq(st.snis, 3);
    ck_assert_uint_eq(st.suspect, n);
    fl_https_modes_free(m);
}
END_TEST

/* A reset instance learns and flags exactly as a new one does, and keeps
 * its observer. */
START_TEST(test_reset_is_new)
{
    uint16_t prov[3] = { 7, 7, 7 };
    bool err[3] = { true, true, false };
    uint32_t errors;
    const uint64_t seed = rng; /* both runs see the same sizes and times */
    fl_https_modes *fresh = fl_https_modes_new(0);
    obs_log want = { 0, 0 };
    fl_https_modes_set_observer(fresh, observer, &want);
    rng = seed;
    uint32_t n_fresh = simulate(fresh, 3, prov, err, 240, 120, &errors);
    fl_https_stats st_fresh;
    fl_https_modes_stats(fresh, &st_fresh);
    fl_https_modes_free(fresh);

    fl_https_modes *m = fl_https_modes_new(0);
    obs_log got = { 0, 0 };
    fl_https_modes_set_observer(m, observer, &got);
    simulate(m, 3, prov, err, 240, 120, &errors);
    fl_https_modes_reset(m);
    fl_https_stats st;
    fl_https_modes_stats(m, &st);
    ck_assert_uint_eq(st.snis, 0);
    ck_assert_uint_eq(st.suspect, 0);
    got.r = got.s = 0;
    rng = seed;
    uint32_t n = simulate(m, 3, prov, err, 240, 120, &errors);
    fl_https_modes_stats(m, &st);
    ck_assert_uint_gt(n_fresh, 0);
    ck_assert_uint_eq(n, n_fresh);
    ck_assert_uint_eq(got.r, want.r);
    ck_assert_uint_eq(got.s, want.s);
    ck_assert_uint_eq(st.snis, st_fresh.snis);
    ck_assert_uint_eq(st.suspect, st_fresh.suspect);
    ck_assert_uint_eq(st.rare, st_fresh.rare);
    fl_https_modes_free(m);
}
END_TEST

/* One site changing its sizes is not an outage; nor are two sites of two
 * different providers. */
START_TEST(test_one_site_is_no_outage)
{
    fl_https_modes *m = fl_https_modes_new(0);
    uint16_t prov[3] = { 7, 7, 7 };
    bool err[3] = { true, false, false };
    uint32_t errors;
    ck_assert_uint_eq(simulate(m, 3, prov, err, 300, 120, &errors), 0);
    ck_assert_uint_gt(errors, 0);
    fl_https_modes_free(m);

    m = fl_https_modes_new(0);
    uint16_t prov2[3] = { 7, 8, 9 };
    bool err2[3] = { true, true, false };
    ck_assert_uint_eq(simulate(m, 3, prov2, err2, 300, 120, &errors), 0);
    fl_https_modes_free(m);
}
END_TEST

/* Cold start: an incident from the first response is never suspect. */
START_TEST(test_cold_start)
{
    fl_https_modes *m = fl_https_modes_new(0);
    uint16_t prov[3] = { 7, 7, 7 };
    bool err[3] = { true, true, true };
    uint32_t errors;
    uint32_t n = simulate(m, 3, prov, err, 25, 0, &errors);
    ck_assert_uint_gt(errors, 0);
    ck_assert_uint_eq(n, 0);
    fl_https_modes_free(m);
}
END_TEST

/* The cold-start rule: 12 s of clean traffic from 3 sites (36 responses,
 * before the 20 s any baseline waits for) are enough to judge the
 * template that follows. */
START_TEST(test_early_incident)
{
    fl_https_modes *m = fl_https_modes_new(0);
    uint16_t prov[3] = { 7, 7, 7 };
    bool err[3] = { true, true, true };
    uint32_t errors;
    uint32_t n = simulate(m, 3, prov, err, 120, 12, &errors);
    ck_assert_uint_eq(errors, 162);
    ck_assert_uint_ge(n, errors * 8 / 10);
    ck_assert_uint_le(n, errors);
    fl_https_modes_free(m);
}
END_TEST

/* A small JSON error body on three API sites: 111-198 bytes on the wire
 * (HTTP/2 header compression state), several bins apart at that size but
 * within FL_HTTPS_NEAR_BYTES: one mode, and smaller than every normal
 * answer (0.4-50 kB). */
START_TEST(test_small_json_errors)
{
    fl_https_modes *m = fl_https_modes_new(0);
    uint32_t suspect = 0, errors = 0;
    uint64_t tag = 1;
    for (uint32_t t = 0; t < 240; t++)
        for (uint32_t i = 0; i < 3; i++) {
            bool err = t >= 120 && (t & 1u);
            uint32_t size = err ? 111u + rnd(88u) : 400u + rnd(50000u);
            errors += err;
            uint64_t ts = (uint64_t)t * S_US + i * 1000u;
            suspect += fl_https_modes_response(m, 9, i + 1, size, 1000, ts, ts, tag++);
        }
    ck_assert_uint_eq(errors, 180);
    ck_assert_uint_ge(suspect, errors * 8 / 10);
    ck_assert_uint_le(suspect, errors);
    fl_https_modes_free(m);
}
END_TEST

/* The SNI table stays at its cap; the least recently used goes. */
START_TEST(test_lru_cap)
{
    fl_https_modes *m = fl_https_modes_new(4);
    for (uint32_t i = 0; i < 10; i++)
        fl_https_modes_response(m, 1, i, 1000, 0, i, i, i + 1);
    fl_https_stats st;
    fl_https_modes_stats(m, &st);
    ck_assert_uint_eq(st.snis, 4);
    ck_assert_uint_eq(st.sni_evicted, 6);
    /* service 9 is still known (most recent), service 0 is new again */
    fl_https_modes_response(m, 1, 9, 1000, 0, 20, 20, 99);
    fl_https_modes_stats(m, &st);
    ck_assert_uint_eq(st.sni_evicted, 6);
    fl_https_modes_response(m, 1, 0, 1000, 0, 21, 21, 100);
    fl_https_modes_stats(m, &st);
    ck_assert_uint_eq(st.sni_evicted, 7);
    fl_https_modes_free(m);
}
END_TEST

/* Retries: the same client's next connection to the same SNI within
 * FL_HTTPS_RETRY_US of a flagged session. */
START_TEST(test_retries)
{
    fl_https_modes *m = fl_https_modes_new(0);
    fl_https_conn a = { .client = { 4, { 10, 0, 0, 1 } } },
                  b = { .client = { 4, { 10, 0, 0, 2 } } };
    fl_tlsrec_facts early;
    memset(&early, 0, sizeof early);
    early.early_close = 1;
    fl_tlsrec_facts first;
    memset(&first, 0, sizeof first);
    first.request = first.first_request = 1;
    fl_https_counts c;
    fl_https_modes_facts(m, &first, 3, 42, &a, 1 * S_US, 1, &c);
    ck_assert_uint_eq(c.retries, 0);
    fl_https_modes_facts(m, &early, 3, 42, &a, 2 * S_US, 1, &c);
    ck_assert_uint_eq(c.early_closes, 1);
    ck_assert(c.flagged);
    fl_https_modes_facts(m, &first, 3, 42, &a, 3 * S_US, 2, &c);
    ck_assert_uint_eq(c.retries, 1);
    fl_https_modes_facts(m, &first, 3, 42, &b, 3 * S_US, 3, &c);
    ck_assert_uint_eq(c.retries, 0);
    fl_https_modes_facts(m, &first, 3, 43, &a, 3 * S_US, 4, &c);
    ck_assert_uint_eq(c.retries, 0);
    fl_https_modes_facts(m, &first, 3, 42, &a, 2 * S_US + FL_HTTPS_RETRY_US + 1, 5, &c);
    ck_assert_uint_eq(c.retries, 0);
    /* no facts, no counts; NULL is harmless */
    fl_tlsrec_facts none;
    memset(&none, 0, sizeof none);
    fl_https_modes_facts(m, &none, 3, 42, &a, 100 * S_US, 6, &c);
    ck_assert(!c.flagged && !c.responses && !c.retries);
    fl_https_modes_facts(NULL, &none, 3, 42, &a, 100 * S_US, 6, &c);
    ck_assert_uint_eq(fl_https_modes_response(NULL, 1, 1, 1, 1, 1, 1, 1), 0);
    fl_https_modes_free(m);
}
END_TEST

/* One site deploys: one of its new pages, requested over and over, is a
 * size none of the provider's sites answered; a second site answers that
 * size once by chance. Two sites, but all the cluster save one response
 * is the deploying site's: no mode. Three sites each answering the
 * template a few times are one. */
static uint32_t deploy_run(fl_https_modes *m, uint32_t stray_sites)
{
    uint32_t suspect = 0;
    uint64_t tag = 1;
    for (uint32_t t = 0; t < 240; t++)
        for (uint32_t i = 0; i < 4; i++) {
            uint64_t ts = (uint64_t)t * S_US + i * 1000u;
            uint32_t size = normal_size(i);
            if (t >= 120 && i == 0 && (t & 1u))
                size = error_size(); /* the deploy's new page */
            if (t >= 120 && i >= 1 && i <= stray_sites && t % 40 == 10 + 5 * i)
                size = error_size();
            suspect += fl_https_modes_response(m, 7, i + 1, size, 1000, ts, ts, tag++);
        }
    return suspect;
}

START_TEST(test_one_site_deploy_and_a_stray)
{
    fl_https_modes *m = fl_https_modes_new(0);
    ck_assert_uint_eq(deploy_run(m, 1), 0);
    fl_https_modes_free(m);
    /* the other sites answer it too, 3 times each: a mode (its first
     * members then count) */
    m = fl_https_modes_new(0);
    ck_assert_uint_gt(deploy_run(m, 3), 0);
    fl_https_modes_free(m);
}
END_TEST

/* When a mode forms, the held responses of other connections are counted
 * for their own clients and sites (the release sink), the connection that
 * completed the mode only for its own. */
typedef struct released_log {
    uint32_t n, per_client[8];
    uint32_t service_seen[8];
} released_log;

static void on_release(void *ctx, uint16_t provider, uint32_t service, const fl_https_conn *conn,
                       uint64_t ts_us)
{
    (void)ts_us;
    released_log *l = ctx;
    const fl_addr *client = &conn->client;
    ck_assert_uint_eq(conn->sport, 443);
    ck_assert_uint_eq(conn->server.b[0], 104);
    ck_assert_uint_eq(provider, 7);
    ck_assert_uint_eq(client->family, 4);
    ck_assert_uint_lt(client->b[3], 8);
    ck_assert_uint_lt(service, 8);
    l->n++;
    l->per_client[client->b[3]]++;
    l->service_seen[service]++;
}

START_TEST(test_release_books_own_clients)
{
    fl_https_modes *m = fl_https_modes_new(0);
    released_log log;
    memset(&log, 0, sizeof log);
    fl_https_modes_set_release(m, on_release, &log);
    uint32_t own = 0, errors = 0;
    for (uint32_t t = 0; t < 240; t++)
        for (uint32_t i = 0; i < 4; i++) {
            fl_tlsrec_facts tf;
            memset(&tf, 0, sizeof tf);
            tf.response = 1;
            bool err = t >= 120 && i < 3 && (t & 1u);
            errors += err;
            tf.resp[0].bytes = err ? error_size() : normal_size(i);
            tf.resp[0].ttfb_us = 1000;
            /* site i+1 is used by client 10.0.0.(i+1), one connection per
             * second (the tag's client port) */
            fl_https_conn conn = { .client = { 4, { 10, 0, 0, (uint8_t)(i + 1) } },
                                   .server = { 4, { 104, 16, 0, 1 } },
                                   .cport = (uint16_t)(40000 + t),
                                   .sport = 443 };
            uint64_t ts = (uint64_t)t * S_US + i * 1000u;
            uint64_t tag = ((uint64_t)(i + 1) << 32) | ((uint64_t)(t + 1) << 16);
            fl_https_counts c;
            fl_https_modes_facts(m, &tf, 7, i + 1, &conn, ts, tag, &c);
            ck_assert_uint_le(c.suspect, 1); /* never another's response */
            own += c.suspect;
        }
    ck_assert_uint_gt(log.n, 0);
    /* each released response went to the client and site that got it */
    for (uint32_t k = 1; k <= 3; k++)
        ck_assert_uint_eq(log.per_client[k], log.service_seen[k]);
    ck_assert_uint_eq(log.per_client[4], 0);
    ck_assert_uint_ge(own + log.n, errors * 8 / 10);
    ck_assert_uint_le(own + log.n, errors);
    fl_https_stats st;
    fl_https_modes_stats(m, &st);
    ck_assert_uint_eq(st.suspect, own + log.n);
    fl_https_modes_free(m);
}
END_TEST

/* Sizes spread evenly over many octaves (log-uniform, 100 B to 1.6 MB):
 * every bin holds a few percent of a wide, flat histogram, and chance
 * clusters of "rare" sizes must not make modes. */
static uint32_t flat_size(void)
{
    return (uint32_t)(100.0 * exp2((double)rnd(14000u) / 1000.0));
}

static uint32_t run_flat(fl_https_modes *m, uint32_t secs, uint32_t err_sites, uint32_t *errors)
{
    uint32_t suspect = 0;
    *errors = 0;
    uint64_t tag = 1;
    for (uint32_t t = 0; t < secs; t++)
        for (uint32_t i = 0; i < 8; i++) {
            bool err = i < err_sites && t >= secs / 2 && (t & 1u);
            *errors += err;
            uint64_t ts = (uint64_t)t * S_US + i * 1000u;
            suspect += fl_https_modes_response(m, 5, i + 1, err ? error_size() : flat_size(), 1000,
                                               ts, ts, tag++);
        }
    return suspect;
}

START_TEST(test_flat_histogram)
{
    fl_https_modes *m = fl_https_modes_new(0);
    uint32_t errors;
    /* 10 minutes of 8 sites with flat histograms: no mode at all */
    ck_assert_uint_eq(run_flat(m, 600, 0, &errors), 0);
    ck_assert_uint_eq(errors, 0);
    fl_https_modes_free(m);
    /* the same with 3 sites answering the template every other second in
     * the second half: a real concentration above the flat baseline */
    m = fl_https_modes_new(0);
    uint32_t n = run_flat(m, 600, 3, &errors);
    ck_assert_uint_eq(errors, 450);
    ck_assert_uint_ge(n, errors * 8 / 10);
    /* flat sizes that happen to fall in the template's bins are counted
     * with it: at most one in ten */
    ck_assert_uint_le(n, errors + errors / 10);
    fl_https_modes_free(m);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("https_modes");
    TCase *tc = tcase_create("modes");
    tcase_add_test(tc, test_bins);
    tcase_add_test(tc, test_provider_mode);
    tcase_add_test(tc, test_reset_is_new);
    tcase_add_test(tc, test_flat_histogram);
    tcase_add_test(tc, test_one_site_deploy_and_a_stray);
    tcase_add_test(tc, test_release_books_own_clients);
    tcase_add_test(tc, test_one_site_is_no_outage);
    tcase_add_test(tc, test_cold_start);
    tcase_add_test(tc, test_early_incident);
    tcase_add_test(tc, test_small_json_errors);
    tcase_add_test(tc, test_lru_cap);
    tcase_add_test(tc, test_retries);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return fl_test_run(suite());
}
