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
    fl_addr a = { 4, { 10, 0, 0, 1 } }, b = { 4, { 10, 0, 0, 2 } };
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
