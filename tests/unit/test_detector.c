/* test_detector.c - the decision rule on simulated buckets.
 *
 * A small seeded simulator (splitmix64, no clock) feeds the detector
 * closed buckets directly: per provider, TLS handshakes, HTTP responses and
 * DNS queries a minute, each failing with a probability that follows the
 * scenario (step, ramp, flapping, clean). Checked: the statistics, no
 * alert on a clean day at branch-office and data-centre volume, none on a
 * harmless wobble, the latency targets, one alert for a flapping incident,
 * a capture that starts mid-incident, local and resolver scope first (and
 * the merge of provider alerts into them), and determinism.
 */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fl_config.h"
#include "fl_detector.h"
#include "fl_test_util.h"
#include "../../analysis/detect/evidence.h"

#define BUCKET 10
#define T0 1700000000.0
#define MAXP 8
#define MAXC 64

static uint64_t rng;
static uint64_t rnd64(void)
{
    uint64_t z = (rng += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}
static double unit(void)
{
    return (double)(rnd64() >> 11) * 0x1p-53;
}

/* Poisson by inversion for small means, normal approximation for large. */
static uint32_t poisson(double mean)
{
    if (mean > 200) {
        double u1 = unit() + 1e-300, u2 = unit();
        double z = sqrt(-2 * log(u1)) * cos(2 * M_PI * u2);
        double v = mean + sqrt(mean) * z;
        return v < 0 ? 0 : (uint32_t)v;
    }
    double l = exp(-mean), p = 1;
    uint32_t k = 0;
    do {
        k++;
        p *= unit();
    } while (p > l);
    return k - 1;
}

/* What every provider does over time: attempts a minute per family and
 * the failure probability at time t (seconds from the start). */
typedef struct sim {
    int nprov;
    const char *names[MAXP];
    double per_min[MAXP]; /* per family: TLS, HTTP, DNS */
    uint32_t clients[MAXP];
    double (*fail_p)(int prov, double t, void *ctx);
    double (*dns_fail)(int prov, double t, void *ctx); /* DNS, if not fail */
    void *ctx;
    double duration;
    int resolvers; /* 0: no resolver facts */
    double (*res_fail)(int res, double t);
    bool path_loss;    /* fail_p fails connections (and DNS); TLS and HTTP answer at 1 % */
    double heavy_from; /* from then, 10.1.9.9 asks resolver 0 HEAVY_PER_BUCKET names that fail */
} sim;

#define HEAVY_PER_BUCKET 30

static void tally(fl_counts *c, fl_addr *cl, uint32_t *cf, uint32_t *nc, uint32_t nclients,
                  fl_counter att, fl_counter fail, double mean, double p, fl_counter att2)
{
    uint32_t n = poisson(mean);
    c->v[att] += n;
    if (att2 != FL_C_COUNT)
        c->v[att2] += n;
    /* failures: Bernoulli per attempt, or Poisson(n p) when n is large
     * (keeps a simulated data-centre day fast under the sanitizers) */
    uint32_t k_fail = 0;
    if (n > 200) {
        k_fail = poisson(n * p);
        if (k_fail > n)
            k_fail = n;
    } else {
        for (uint32_t i = 0; i < n; i++)
            k_fail += unit() < p;
    }
    for (uint32_t i = 0; i < k_fail; i++) {
        c->v[fail]++;
        uint32_t who = (uint32_t)(unit() * nclients);
        uint32_t k = 0;
        while (k < *nc && cl[k].b[3] != who + 1)
            k++;
        if (k == *nc) {
            memset(&cl[k], 0, sizeof cl[k]);
            cl[k].family = 4;
            cl[k].b[0] = 10;
            cl[k].b[3] = (uint8_t)(who + 1);
            cf[k] = 0;
            (*nc)++;
        }
        cf[k]++;
    }
}

static void dns_facts(fl_detector *d, const sim *s, double t)
{
    for (int r = 0; r < s->resolvers; r++) {
        fl_addr ra = { .family = 4, .b = { 10, 0, 0, (uint8_t)(53 + r) } };
        uint32_t n = poisson(30.0 * BUCKET / 60);
        for (uint32_t i = 0; i < n; i++) {
            fl_addr ca = { .family = 4, .b = { 10, 1, (uint8_t)r, (uint8_t)(unit() * 20) } };
            uint64_t ts = (uint64_t)((T0 + t + unit() * BUCKET) * 1e6);
            fl_detector_dns(d, ts, &ra, &ca, unit() < s->res_fail(r, t));
        }
        if (r == 0 && s->heavy_from > 0 && t >= s->heavy_from) {
            fl_addr heavy = { .family = 4, .b = { 10, 1, 9, 9 } };
            for (uint32_t i = 0; i < HEAVY_PER_BUCKET; i++)
                fl_detector_dns(d, (uint64_t)((T0 + t + unit() * BUCKET) * 1e6), &ra, &heavy, true);
        }
    }
}

/* Runs the simulation; returns the detector (caller frees). */
static fl_detector *run_sim(const sim *s, const fl_config *cfg, uint64_t seed)
{
    rng = seed;
    fl_detector *d = fl_detector_new(cfg, NULL, NULL);
    ck_assert_ptr_nonnull(d);
    static fl_addr cl[MAXP][MAXC];
    static uint32_t cf[MAXP][MAXC];
    /* an integer bucket counter: t takes the same (whole) values as
     * repeated addition of BUCKET would, without a float loop counter */
    for (uint64_t k = 0; (double)(k * BUCKET) < s->duration; k++) {
        double t = (double)(k * BUCKET);
        fl_bucket_entry e[MAXP];
        memset(e, 0, sizeof e);
        if (s->resolvers)
            dns_facts(d, s, t);
        for (int p = 0; p < s->nprov; p++) {
            double mean = s->per_min[p] * BUCKET / 60, q = s->fail_p(p, t, s->ctx);
            uint32_t nc = 0, C = s->clients[p] ? s->clients[p] : 20;
            fl_counts *c = &e[p].counts;
            if (s->path_loss) {
                /* what an uplink loss shows: SYNs unanswered; the
                 * sessions that get through are answered as usual */
                tally(c, cl[p], cf[p], &nc, C, FL_C_tcp_attempts, FL_C_tcp_syn_timeouts, mean, q,
                      FL_C_flows);
                tally(c, cl[p], cf[p], &nc, C, FL_C_tls_handshakes, FL_C_tls_failures, mean, 0.01,
                      FL_C_COUNT);
                tally(c, cl[p], cf[p], &nc, C, FL_C_http_responses, FL_C_http_5xx, mean, 0.01,
                      FL_C_COUNT);
            } else {
                tally(c, cl[p], cf[p], &nc, C, FL_C_tls_handshakes, FL_C_tls_failures, mean, q,
                      FL_C_flows);
                tally(c, cl[p], cf[p], &nc, C, FL_C_http_responses, FL_C_http_5xx, mean, q,
                      FL_C_COUNT);
            }
            double qd = s->dns_fail ? s->dns_fail(p, t, s->ctx) : q;
            tally(c, cl[p], cf[p], &nc, C, FL_C_dns_queries, FL_C_dns_servfail, mean, qd,
                  FL_C_dns_responses);
            c->v[FL_C_tcp_attempts] = c->v[FL_C_flows];
            e[p].start = (uint64_t)(T0 + t);
            e[p].width = BUCKET;
            e[p].provider = s->names[p];
            e[p].clients = cl[p];
            e[p].client_failures = cf[p];
            e[p].nclients = nc;
            e[p].clients_estimate = nc;
            e[p].active_clients = C < 3 * mean ? C : (uint64_t)(3 * mean);
        }
        fl_detector_bucket(d, e, (size_t)s->nprov);
    }
    return d;
}

typedef enum { STEP, RAMP, FLAP } shape;
typedef struct incident {
    unsigned mask; /* providers affected */
    double onset, end, base, level, low;
    shape kind;
    double period; /* FLAP: full cycle, high for its first half */
} incident;

static double inc_fail(int prov, double t, void *ctx)
{
    const incident *in = ctx;
    if (!(in->mask & (1u << prov)) || t < in->onset || t >= in->end)
        return in->base;
    switch (in->kind) {
    case RAMP:
        return in->base + (in->level - in->base) * (t - in->onset) / (in->end - in->onset);
    case FLAP:
        return fmod(t - in->onset, in->period) < in->period / 2 ? in->level : in->low;
    default:
        return in->level;
    }
}

static const char *const NAMES[MAXP] = { "Cloudflare", "AWS",    "Google", "Microsoft",
                                         "Akamai",     "Fastly", "Oracle", "unknown" };

static sim make_sim(int nprov, double per_min, incident *in, double duration)
{
    sim s;
    memset(&s, 0, sizeof s);
    s.nprov = nprov;
    for (int p = 0; p < nprov; p++) {
        s.names[p] = NAMES[p];
        s.per_min[p] = per_min;
        s.clients[p] = 20;
    }
    s.fail_p = inc_fail;
    s.ctx = in;
    s.duration = duration;
    return s;
}

static size_t alerts_of(fl_detector *d, const fl_alert **al)
{
    size_t n = fl_detector_alerts(d, al);
    for (size_t i = 0; i < n; i++)
        fprintf(stderr,
                "  alert %u %s scope %s raised %+.0f resolved %+.0f flaps %u peaks %u merged %u "
                "into %u\n",
                (*al)[i].id, (*al)[i].provider, (*al)[i].scope, (*al)[i].raised_at - T0,
                (*al)[i].resolved_at ? (*al)[i].resolved_at - T0 : -1.0, (*al)[i].flaps,
                (*al)[i].npeaks, (*al)[i].nmerged, (*al)[i].merged_into);
    return n;
}

/* ---- the one definition of `any` ---- */

START_TEST(test_any_counts_a_connections_5xx_once)
{
    /* 10 flows; one kept-alive connection answered 5xx three times, one
     * flow was refused: `any` is 2 failed of 10, `http` 3 of 5 responses */
    fl_counts c;
    memset(&c, 0, sizeof c);
    c.v[FL_C_flows] = 10;
    c.v[FL_C_tcp_attempts] = 10;
    c.v[FL_C_tcp_refused] = 1;
    c.v[FL_C_http_responses] = 5;
    c.v[FL_C_http_5xx] = 3;
    c.v[FL_C_http_5xx_repeats] = 2;
    uint64_t f, t;
    fl_family_count(&c, FL_FAM_ANY, &f, &t);
    ck_assert_uint_eq(f, 2);
    ck_assert_uint_eq(t, 10);
    fl_family_count(&c, FL_FAM_HTTP, &f, &t);
    ck_assert_uint_eq(f, 3);
    ck_assert_uint_eq(t, 5);
    ck_assert_uint_eq(fl_counts_failures(&c), 2);
    /* counters read back from elsewhere (Redis hashes written by hand or by
     * an older sensor) never make repeats exceed the 5xx */
    c.v[FL_C_http_5xx_repeats] = 9;
    ck_assert_uint_eq(fl_counts_failures(&c), 1);
    /* a repeat is not a failure of its own (the failing client is booked at
     * the connection's first 5xx, in both families) */
    ck_assert(!fl_counter_is_failure(FL_C_http_5xx_repeats));
    ck_assert_uint_eq(fl_family_mask(FL_C_http_5xx_repeats), 0);
    ck_assert_uint_eq(fl_family_mask(FL_C_http_5xx), (1u << FL_FAM_HTTP) | (1u << FL_FAM_ANY));
    ck_assert_uint_eq(fl_family_mask_http_repeat(), 1u << FL_FAM_HTTP);
}
END_TEST

/* ---- statistics ---- */

START_TEST(test_tail_exact)
{
    /* against a direct sum of the binomial terms */
    const uint64_t ns[] = { 1, 5, 10, 40, 200 };
    const double ps[] = { 0.001, 0.02, 0.3 };
    for (size_t a = 0; a < sizeof ns / sizeof ns[0]; a++)
        for (size_t b = 0; b < sizeof ps / sizeof ps[0]; b++)
            for (uint64_t k = 0; k <= ns[a]; k++) {
                uint64_t n = ns[a];
                double p = ps[b], sum = 0;
                for (uint64_t i = k; i <= n; i++)
                    sum += exp(lgamma(n + 1.0) - lgamma(i + 1.0) - lgamma(n - i + 1.0) +
                               i * log(p) + (n - i) * log1p(-p));
                double got = fl_evidence_log_tail(k, n, p);
                if ((double)k <= n * p)
                    ck_assert(got == 0.0);
                else if (log(sum) < -700)
                    ck_assert(got < -690); /* the direct sum is denormal there */
                else
                    ck_assert_msg(fabs(got - log(sum)) < 1e-6 * fabs(log(sum)) + 1e-9,
                                  "k %lu n %lu p %g: %g want %g", (unsigned long)k,
                                  (unsigned long)n, p, got, log(sum));
            }
    ck_assert(fl_evidence_log_tail(3, 2, 0.1) == -INFINITY);
    ck_assert(isfinite(fl_evidence_log_tail(30000, 1000000, 0.01)));
    ck_assert(fl_evidence_log_tail(30000, 1000000, 0.01) < -1000);
}
END_TEST

/* The beta-binomial predictive tail: against a direct sum of its terms;
 * never more extreme than the binomial (an uncertain baseline is weaker
 * evidence in the tail), and the binomial again once the baseline's attempts are many. */
/* The sequential test's pieces: the log likelihood ratio of a bucket
 * (against a direct Bernoulli product), and the doubted baseline. The
 * CUSUM's false-alert rate on Bernoulli(p0) buckets is bounded by e^-h per
 * bucket (Lorden); a seeded run checks it is far under that at a loose h. */
START_TEST(test_sequential_pieces)
{
    for (uint64_t n = 0; n <= 12; n++)
        for (uint64_t k = 0; k <= n; k++) {
            double p1 = 0.2, p0 = 0.02;
            double want = log(pow(p1, (double)k) * pow(1 - p1, (double)(n - k)) /
                              (pow(p0, (double)k) * pow(1 - p0, (double)(n - k))));
            ck_assert(fabs(fl_evidence_llr(k, n, p1, p0) - want) < 1e-9);
        }
    ck_assert(fl_evidence_llr(3, 10, 0.01, 0.02) == 0.0); /* p1 <= p0: no test */
    ck_assert(fl_evidence_llr(11, 10, 0.2, 0.02) == 0.0); /* impossible counts */
    /* doubt: a baseline of 100 attempts is taken higher than one of 10^6 */
    double young = fl_evidence_doubted(0.01, 100, 2.33), old = fl_evidence_doubted(0.01, 1e6, 2.33);
    ck_assert(young > 0.03 && young < 0.04);
    ck_assert(old > 0.01 && old < 0.0103);
    ck_assert(fl_evidence_doubted(0.01, 100, 0) == 0.01);
    ck_assert(fl_evidence_doubted(0.9, 1, 50) < 1);
    /* CUSUM on Bernoulli(p0) buckets of 20 attempts at h = log(1000): at
     * most 1 crossing per 1000 buckets on average; 2 10^5 buckets */
    uint64_t lcg = 42;
    double S = 0, h = log(1000.0);
    int crossings = 0;
    for (int b = 0; b < 200000; b++) {
        uint64_t k = 0;
        for (int i = 0; i < 20; i++) {
            lcg = lcg * 6364136223846793005ULL + 1442695040888963407ULL;
            k += (double)(lcg >> 11) / 9007199254740992.0 < 0.02;
        }
        S = fmax(0, S + fl_evidence_llr(k, 20, 0.2, 0.02));
        if (S >= h) {
            crossings++;
            S = 0;
        }
    }
    ck_assert_msg(crossings <= 200, "%d crossings, bound 200", crossings);
}
END_TEST

START_TEST(test_tail_beta)
{
    const uint64_t ns[] = { 1, 7, 20, 90 };
    const double ps[] = { 0.005, 0.03, 0.2 }, ms[] = { 50, 400, 5000 };
    for (size_t a = 0; a < 4; a++)
        for (size_t b = 0; b < 3; b++)
            for (size_t c = 0; c < 3; c++)
                for (uint64_t k = 0; k <= ns[a]; k++) {
                    uint64_t n = ns[a];
                    double p = ps[b], m = ms[c], al = p * m, be = (1 - p) * m, sum = 0;
                    for (uint64_t i = k; i <= n; i++)
                        sum += exp(lgamma(n + 1.0) - lgamma(i + 1.0) - lgamma(n - i + 1.0) +
                                   lgamma(i + al) + lgamma(n - i + be) - lgamma(n + al + be) -
                                   (lgamma(al) + lgamma(be) - lgamma(al + be)));
                    double got = fl_evidence_log_tail_beta(k, n, p, m);
                    if ((double)k <= n * p) {
                        ck_assert(got == 0.0);
                        continue;
                    }
                    ck_assert_msg(fabs(got - log(sum)) < 1e-6 * fabs(log(sum)) + 1e-9,
                                  "k %lu n %lu p %g m %g: %g want %g", (unsigned long)k,
                                  (unsigned long)n, p, m, got, log(sum));
                    /* in the tail the test is about (near the mean
                     * overdispersion also moves mass to 0, either way) */
                    double bin = fl_evidence_log_tail(k, n, p);
                    if (bin < log(1e-3))
                        ck_assert(got >= bin - 1e-9);
                }
    /* 11 of 369 at a 1 % prior worth 100 attempts: a binomial "certainty",
     * a plausible sample when the baseline is that uncertain */
    ck_assert(fl_evidence_log_tail(11, 369, 0.01) < log(1e-2));
    ck_assert(fl_evidence_log_tail_beta(11, 369, 0.01, 100) > log(1e-2));
    double big = fl_evidence_log_tail_beta(40, 1000, 0.02, 1e7);
    ck_assert(fabs(big - fl_evidence_log_tail(40, 1000, 0.02)) < 1e-9);
    ck_assert(fl_evidence_log_tail_beta(3, 2, 0.1, 100) == -INFINITY);
    ck_assert(isfinite(fl_evidence_log_tail_beta(30000, 1000000, 0.01, 5000)));
}
END_TEST

START_TEST(test_alpha_budget)
{
    /* 1 false alert per 30 days, 10 s buckets, 6 families x 6 windows */
    double a = fl_evidence_alpha(1, 10, 36);
    ck_assert(fabs(a - 1.0 / (259200.0 * 36)) < 1e-15);
    ck_assert(fl_evidence_alpha(1, 10, 0) <= 0.5);
}
END_TEST

/* ---- clean traffic ---- */

START_TEST(test_clean_day)
{
    /* 24 h at branch-office (10/min) and data-centre (2000/min) volume, a
     * 1-3 % background: no alert. */
    const double vols[] = { 10, 2000 };
    fl_config cfg;
    fl_config_defaults(&cfg);
    for (int v = 0; v < 2; v++) {
        incident in = { .mask = 0, .base = 0.01 + 0.01 * v };
        sim s = make_sim(6, vols[v], &in, 86400);
        fl_detector *d = run_sim(&s, &cfg, 11 + (uint64_t)v);
        const fl_alert *al;
        ck_assert_msg(alerts_of(d, &al) == 0, "clean day at %g/min raised alerts", vols[v]);
        fl_detector_free(d);
    }
}
END_TEST

START_TEST(test_harmless_wobble)
{
    /* 1 % -> 2.5 % at 20000 attempts a minute: real, harmless */
    incident in = { .mask = 1, .onset = 3600, .end = 5400, .base = 0.01, .level = 0.025 };
    fl_config cfg;
    fl_config_defaults(&cfg);
    sim s = make_sim(3, 20000, &in, 7200);
    fl_detector *d = run_sim(&s, &cfg, 5);
    const fl_alert *al;
    ck_assert_uint_eq(alerts_of(d, &al), 0);
    fl_detector_free(d);
}
END_TEST

/* ---- latency targets ---- */

/* One incident at provider 0 after an hour of clean traffic: exactly one
 * alert, scope provider, raised within `within` s of onset (ramp: of the
 * moment 25 % fail), resolved within 180 s of the end. */
static void expect_one(incident *in, double per_min, double within, uint64_t seed)
{
    fl_config cfg;
    fl_config_defaults(&cfg);
    sim s = make_sim(5, per_min, in, in->end + 900);
    fl_detector *d = run_sim(&s, &cfg, seed);
    const fl_alert *al;
    size_t n = alerts_of(d, &al);
    ck_assert_msg(n == 1, "%g/min seed %lu: %zu alerts, want 1", per_min, (unsigned long)seed, n);
    double from = in->onset;
    if (in->kind == RAMP)
        from += (0.25 - in->base) / (in->level - in->base) * (in->end - in->onset);
    ck_assert_str_eq(al[0].provider, "Cloudflare");
    ck_assert_str_eq(al[0].scope, "provider");
    ck_assert(al[0].raised_at >= T0 + in->onset);
    ck_assert_msg(al[0].raised_at - (T0 + from) <= within, "%g/min seed %lu: raised %.0f s late",
                  per_min, (unsigned long)seed, al[0].raised_at - (T0 + from));
    ck_assert(al[0].resolved_at >= T0 + in->end);
    ck_assert_msg(al[0].resolved_at - (T0 + in->end) <= 180, "resolved %.0f s after the end",
                  al[0].resolved_at - (T0 + in->end));
    ck_assert(al[0].log10_p <= log10(al[0].alpha));
    fl_detector_free(d);
}

/* At 10 attempts a minute per family a 20 % step gives about 6 failures
 * in the first minute across TLS, HTTP and DNS: at the budget's alpha
 * (~1e-7) that is sometimes enough in 60 s and sometimes needs a second
 * minute (measured over 20 seeds: median 60 s, p90 130 s; README). The
 * test asserts that: the median of 9 seeds within 60 s, none beyond 180 s,
 * and a 30 % step within 60 s at the median and 120 s at most. */
static void low_volume(double level, double median_max, double worst_max)
{
    double lat[9];
    for (int i = 0; i < 9; i++) {
        incident in = { .mask = 1, .onset = 3600, .end = 4500, .base = 0.01, .level = level };
        fl_config cfg;
        fl_config_defaults(&cfg);
        sim s = make_sim(5, 10, &in, 5400);
        fl_detector *d = run_sim(&s, &cfg, 100 + (uint64_t)i);
        const fl_alert *al;
        ck_assert_uint_eq(alerts_of(d, &al), 1);
        ck_assert(al[0].raised_at >= T0 + in.onset);
        ck_assert_msg(al[0].resolved_at - (T0 + in.end) <= 180,
                      "level %g seed %d: resolved %.0f s after the end", level, 100 + i,
                      al[0].resolved_at - (T0 + in.end));
        lat[i] = al[0].raised_at - (T0 + in.onset);
        for (int k = i; k > 0 && lat[k] < lat[k - 1]; k--) {
            double t = lat[k];
            lat[k] = lat[k - 1];
            lat[k - 1] = t;
        }
        fl_detector_free(d);
    }
    ck_assert_msg(lat[4] <= median_max, "median %.0f s", lat[4]);
    ck_assert_msg(lat[8] <= worst_max, "worst %.0f s", lat[8]);
}

START_TEST(test_step_low_volume)
{
    low_volume(0.2, 60, 180);
    low_volume(0.3, 60, 120);
}
END_TEST

START_TEST(test_step_high_volume)
{
    incident in = { .mask = 1, .onset = 3600, .end = 4500, .base = 0.01, .level = 0.2 };
    expect_one(&in, 100, 30, 200 + (uint64_t)_i);
}
END_TEST

START_TEST(test_ramp)
{
    /* 1 % -> 60 % over 10 minutes, 60 attempts a minute per family */
    incident in = {
        .mask = 1, .onset = 3600, .end = 4200, .base = 0.01, .level = 0.6, .kind = RAMP
    };
    expect_one(&in, 60, 0, 300 + (uint64_t)_i);
}
END_TEST

START_TEST(test_flapping_one_alert)
{
    /* 75-90 % and 0 % alternating on a 5-minute cycle for 30 minutes:
     * one alert, its cycles counted inside it */
    incident in = { .mask = 1,
                    .onset = 3600,
                    .end = 5400,
                    .base = 0.01,
                    .level = 0.8,
                    .low = 0.01,
                    .kind = FLAP,
                    .period = 300 };
    fl_config cfg;
    fl_config_defaults(&cfg);
    sim s = make_sim(5, 60, &in, 7200);
    fl_detector *d = run_sim(&s, &cfg, 400 + (uint64_t)_i);
    const fl_alert *al;
    ck_assert_uint_eq(alerts_of(d, &al), 1);
    ck_assert_uint_ge(al[0].flaps, 4);
    ck_assert_uint_ge(al[0].npeaks, 4);
    ck_assert(al[0].raised_at - (T0 + in.onset) <= 30);
    ck_assert(al[0].resolved_at > T0 + in.end - in.period / 2);
    fl_detector_free(d);
}
END_TEST

/* The real one (2025-11-18): 75-90 % and 40-55 % failing alternating on a
 * 5-minute cycle for 30 minutes. Troughs are not the baseline: one alert,
 * never resolved in a trough, its peaks counted, resolved within 180 s of
 * the end (not a flap hold after the last peak). */
START_TEST(test_flapping_elevated_troughs)
{
    incident in = { .mask = 1,
                    .onset = 3600,
                    .end = 5400,
                    .base = 0.01,
                    .level = 0.85,
                    .low = 0.45,
                    .kind = FLAP,
                    .period = 300 };
    fl_config cfg;
    fl_config_defaults(&cfg);
    sim s = make_sim(5, 30, &in, 7200);
    fl_detector *d = run_sim(&s, &cfg, 450 + (uint64_t)_i);
    const fl_alert *al;
    ck_assert_uint_eq(alerts_of(d, &al), 1);
    ck_assert_uint_eq(al[0].reopened, 0);
    ck_assert_uint_ge(al[0].npeaks, 4);
    ck_assert(al[0].raised_at - (T0 + in.onset) <= 60);
    ck_assert(al[0].resolved_at >= T0 + in.end);
    ck_assert_msg(al[0].resolved_at - (T0 + in.end) <= 180, "resolved %.0f s after the end",
                  al[0].resolved_at - (T0 + in.end));
    fl_detector_free(d);
}
END_TEST

START_TEST(test_starts_mid_incident)
{
    /* the capture opens on a 30 % outage at 30 attempts a minute: judged
     * against the prior, nothing of it learned */
    incident in = { .mask = 1, .onset = 0, .end = 1200, .base = 0.01, .level = 0.3 };
    fl_config cfg;
    fl_config_defaults(&cfg);
    sim s = make_sim(5, 30, &in, 2400);
    fl_detector *d = run_sim(&s, &cfg, 500 + (uint64_t)_i);
    const fl_alert *al;
    ck_assert_uint_eq(alerts_of(d, &al), 1);
    ck_assert(al[0].raised_at - T0 <= 90);
    ck_assert(al[0].resolved_at - (T0 + in.end) <= 180);
    fl_detector_free(d);
}
END_TEST

/* Two incidents 30 minutes apart are two alerts, each with its name. */
static double twice_fail(int prov, double t, void *ctx)
{
    (void)ctx;
    bool in = (t >= 3600 && t < 3900) || (t >= 5700 && t < 6000);
    return prov == 0 && in ? 0.5 : 0.01;
}

START_TEST(test_two_incidents_two_alerts)
{
    fl_config cfg;
    fl_config_defaults(&cfg);
    incident unused = { 0 };
    sim s = make_sim(5, 60, &unused, 7200);
    s.fail_p = twice_fail;
    fl_detector *d = run_sim(&s, &cfg, 800);
    const fl_alert *al;
    ck_assert_uint_eq(alerts_of(d, &al), 2);
    for (int i = 0; i < 2; i++) {
        ck_assert_str_eq(al[i].provider, "Cloudflare");
        ck_assert_uint_eq(al[i].reopened, 0);
        ck_assert(al[i].resolved_at > 0);
    }
    ck_assert(al[1].raised_at >= T0 + 5700);
    fl_detector_free(d);
}
END_TEST

/* ---- scope ---- */

/* Cloudflare fails from 3600 s; from 3900 s to 4200 s every provider
 * fails (our uplink). */
static double uplink_fail(int prov, double t, void *ctx)
{
    (void)ctx;
    if (t >= 3900 && t < 4200)
        return 0.95;
    if (prov == 0 && t >= 3600 && t < 4200)
        return 0.5;
    return 0.01;
}

START_TEST(test_local_first_and_merge)
{
    fl_config cfg;
    fl_config_defaults(&cfg);
    incident unused = { 0 };
    sim s = make_sim(6, 30, &unused, 5400);
    s.fail_p = uplink_fail;
    fl_detector *d = run_sim(&s, &cfg, 600 + (uint64_t)_i);
    const fl_alert *al;
    size_t n = alerts_of(d, &al);
    ck_assert_uint_eq(n, 2);
    ck_assert_str_eq(al[0].provider, "Cloudflare");
    ck_assert_str_eq(al[1].scope, "local");
    ck_assert(al[1].local);
    ck_assert_uint_eq(al[0].merged_into, al[1].id);
    ck_assert_uint_eq(al[1].nmerged, 1);
    ck_assert_uint_eq(al[1].merged[0], al[0].id);
    ck_assert(al[1].onset_at <= al[0].onset_at);
    ck_assert(al[1].raised_at - (T0 + 3900) <= 30);
    ck_assert(al[1].resolved_at >= T0 + 4200 && al[1].resolved_at - (T0 + 4200) <= 180);
    ck_assert_uint_ge(al[1].providers_failing, 5);
    fl_detector_free(d);
}
END_TEST

/* every provider unanswered from 3900 s to 4200 s, nothing before */
static double uplink_only_fail(int prov, double t, void *ctx)
{
    (void)prov, (void)ctx;
    return t >= 3900 && t < 4200 ? 0.95 : 0.02;
}

/* Six providers through an uplink loss (uplink_only_fail), the first
 * three at busy_per_min attempts a minute per family, the others at
 * quiet_per_min; path_loss: only connections (and DNS) fail. */
static fl_detector *run_uplink(double busy_per_min, double quiet_per_min, bool path_loss,
                               uint64_t seed)
{
    static fl_config cfg; /* the detector keeps it */
    static incident unused;
    fl_config_defaults(&cfg);
    sim s = make_sim(6, quiet_per_min, &unused, 5400);
    s.fail_p = uplink_only_fail;
    s.path_loss = path_loss;
    for (int p = 0; p < 3; p++)
        s.per_min[p] = busy_per_min;
    return run_sim(&s, &cfg, seed);
}

/* The uplink loss from 3900 s: a local alert within 60 s, and no
 * provider alert raised before it. */
static void assert_local_first(fl_detector *d)
{
    const fl_alert *al;
    size_t n = alerts_of(d, &al);
    const fl_alert *local = NULL;
    for (size_t i = 0; i < n; i++)
        if (al[i].local)
            local = &al[i];
    ck_assert_ptr_nonnull(local);
    ck_assert_msg(local->raised_at - (T0 + 3900) <= 60, "local raised %+.0f s after onset",
                  local->raised_at - (T0 + 3900));
    for (size_t i = 0; i < n; i++)
        ck_assert_msg(al[i].local || al[i].raised_at > local->raised_at,
                      "%s raised %.0f s before the local verdict", al[i].provider,
                      local->raised_at - al[i].raised_at);
}

/* An uplink loss with three busy providers and three quiet ones (6
 * attempts a minute per family): the local verdict comes first, no
 * provider alert before it (the storm of provider alerts the product
 * exists to prevent). This simulation passes with or without the scope
 * wait (the local verdict forms in the first bucket here); the generated
 * uplink captures, where quiet providers show it a bucket or two later,
 * are what the wait was measured on (README "The detector"). */
START_TEST(test_uplink_local_first)
{
    /* the quiet ones show it later */
    fl_detector *d = run_uplink(40, 6, false, 650 + (uint64_t)_i);
    assert_local_first(d);
    fl_detector_free(d);
}
END_TEST

/* The same loss at a branch office: six providers of a few attempts a
 * minute per family each, their connections unanswered while the sessions
 * that got through are answered as usual. None is significant alone for
 * minutes, while the pool and most providers failing most of their
 * connections say local within a minute; a provider alert first would be
 * the storm again. Without that rule 2 of these 5 seeds fail with the
 * 30 s scope wait (a provider first; local at +90 s), 1 with the 60 s wait
 * (local at +90 s). */
#define BRANCH_PER_MIN 4 /* attempts a minute per family */
START_TEST(test_uplink_branch_office)
{
    fl_detector *d = run_uplink(BRANCH_PER_MIN, BRANCH_PER_MIN, true, 680 + (uint64_t)_i);
    assert_local_first(d);
    fl_detector_free(d);
}
END_TEST

/* The uplink loss as one host sees it: a capture of one client whose
 * connections to every provider fail (a P2P node reset or refused by its
 * peers looks the same). Not broad: no local alert, and no provider
 * alert either (min_clients, as for any provider); the same loss with
 * the usual 20 clients is local. Here the burst rule (one client's
 * failures beyond failures_per_client_bucket) already holds it back; a
 * capture of seconds holds less than a window of buckets, and there the
 * local verdict's own breadth rule is what does (ethereum.pcap,
 * test_oracle). */
START_TEST(test_one_client_is_not_local)
{
    static fl_config cfg;
    static incident unused;
    fl_config_defaults(&cfg);
    sim s = make_sim(6, 30, &unused, 5400);
    s.fail_p = uplink_only_fail;
    for (int p = 0; p < 6; p++)
        s.clients[p] = 1;
    fl_detector *d = run_sim(&s, &cfg, 710);
    const fl_alert *al;
    ck_assert_uint_eq(alerts_of(d, &al), 0);
    fl_detector_free(d);
    for (int p = 0; p < 6; p++)
        s.clients[p] = 20;
    d = run_sim(&s, &cfg, 710);
    assert_local_first(d);
    fl_detector_free(d);
}
END_TEST

static double ok_fail(int prov, double t, void *ctx)
{
    (void)prov, (void)t, (void)ctx;
    return 0.01;
}
/* the clients of resolver 10.0.0.53 (half of them) get SERVFAIL */
static double half_dns_fail(int prov, double t, void *ctx)
{
    (void)prov, (void)ctx;
    return t >= 3600 && t < 4200 ? 0.5 : 0.01;
}
static double res_fail(int res, double t)
{
    return res == 0 && t >= 3600 && t < 4200 ? 0.98 : 0.005;
}

/* Five providers at 30 attempts a minute (1 % failing) and two
 * resolvers: the providers' DNS fails as dns_fail says, each resolver as
 * res_fail says. */
static sim resolver_sim(double duration, double (*dns_fail)(int, double, void *),
                        double (*res)(int, double))
{
    static incident unused;
    sim s = make_sim(5, 30, &unused, duration);
    s.fail_p = ok_fail;
    s.dns_fail = dns_fail;
    s.resolvers = 2;
    s.res_fail = res;
    return s;
}

/* One client asking the internal resolver a name that fails three times a
 * second (a broken script), with 4 % background noise making the
 * resolver's failing clients broad over five minutes, while two providers'
 * DNS is over its floor: one client's SERVFAILs are not the resolver
 * failing. Its failures beyond failures_per_client_bucket in a bucket are
 * taken out; without that (the setting 0) the same traffic is called a
 * resolver failure in most seeds, which the test checks too. */
static double noise_res_fail(int res, double t)
{
    (void)res, (void)t;
    return 0.04;
}
static double two_dns_over(int prov, double t, void *ctx)
{
    (void)t, (void)ctx;
    return prov < 2 ? 0.15 : 0.01;
}

static bool resolver_alerted(uint32_t per_client_bucket, uint64_t seed)
{
    fl_config cfg;
    fl_config_defaults(&cfg);
    cfg.failures_per_client_bucket = per_client_bucket;
    sim s = resolver_sim(7200, two_dns_over, noise_res_fail);
    s.heavy_from = 60;
    fl_detector *d = run_sim(&s, &cfg, seed);
    const fl_alert *al;
    size_t n = alerts_of(d, &al);
    bool resolver = false;
    for (size_t i = 0; i < n; i++)
        resolver = resolver || !strcmp(al[i].scope, "resolver");
    fl_detector_free(d);
    return resolver;
}

START_TEST(test_resolver_one_client)
{
    int without = 0;
    for (uint64_t seed = 720; seed < 726; seed++) {
        ck_assert_msg(!resolver_alerted(2, seed),
                      "seed %llu: one client's failures made a "
                      "resolver alert",
                      (unsigned long long)seed);
        without += resolver_alerted(0, seed);
    }
    /* measured: 4 of these 6 seeds without the rule */
    ck_assert_msg(without >= 3, "only %d of 6 seeds need the rule", without);
}
END_TEST

START_TEST(test_resolver_scope)
{
    fl_config cfg;
    fl_config_defaults(&cfg);
    sim s = resolver_sim(5400, half_dns_fail, res_fail);
    fl_detector *d = run_sim(&s, &cfg, 700 + (uint64_t)_i);
    const fl_alert *al;
    size_t n = alerts_of(d, &al);
    ck_assert_uint_ge(n, 1);
    const fl_alert *r = NULL;
    for (size_t i = 0; i < n; i++)
        if (!al[i].merged_into) {
            ck_assert_msg(r == NULL, "more than one alert left open");
            r = &al[i];
        }
    ck_assert_ptr_nonnull(r);
    ck_assert_str_eq(r->scope, "resolver");
    ck_assert_str_eq(r->resolver, "10.0.0.53");
    ck_assert(r->resolver_client_share > 0.3 && r->resolver_client_share < 0.7);
    ck_assert(r->raised_at - (T0 + 3600) <= 60);
    ck_assert(r->resolved_at >= T0 + 4200 && r->resolved_at - (T0 + 4200) <= 180);
    fl_detector_free(d);
}
END_TEST

/* ---- determinism and settings ---- */

/* One Cloudflare bucket with its failing clients listed (each with its
 * failures per family, as the aggregate lists them). */
typedef struct listed {
    fl_addr cl[16];
    uint32_t cf[16];
    fl_family_fails ff[16];
    fl_bucket_entry e;
} listed;

static listed *listed_new(void)
{
    static listed l;
    memset(&l, 0, sizeof l);
    return &l;
}

/* Closes the bucket at t: its first nc clients listed. */
static void send_listed(fl_detector *d, listed *l, double t, uint32_t nc, uint64_t active)
{
    fl_bucket_entry *e = &l->e;
    e->start = (uint64_t)(T0 + t);
    e->width = BUCKET;
    e->provider = "Cloudflare";
    e->clients = l->cl;
    e->client_failures = l->cf;
    e->client_family_failures = l->ff;
    e->nclients = nc;
    e->clients_estimate = nc;
    e->active_clients = active;
    fl_detector_bucket(d, e, 1);
}

/* One bucket of Cloudflare by hand: `resp` HTTP responses with one 5xx for
 * each of the first `failing` clients (10.2.0.x), and one client
 * (10.9.9.9) hammering a closed port `refused` times. Each listed client
 * says which family it failed in (fl_family_fails), as the aggregate
 * does. */
static void noisy_bucket(fl_detector *d, double t, uint32_t resp, uint32_t failing,
                         uint32_t refused)
{
    listed *l = listed_new();
    fl_addr *cl = l->cl;
    uint32_t *cf = l->cf;
    fl_family_fails *ff = l->ff;
    uint32_t nc = 0;
    for (uint32_t i = 0; i < failing; i++, nc++) {
        cl[nc] = (fl_addr){ .family = 4, .b = { 10, 2, 0, (uint8_t)(i + 1) } };
        cf[nc] = 1;
        ff[nc][FL_FAM_HTTP] = ff[nc][FL_FAM_ANY] = 1;
    }
    if (refused) {
        cl[nc] = (fl_addr){ .family = 4, .b = { 10, 9, 9, 9 } };
        cf[nc] = refused;
        ff[nc][FL_FAM_CONNECT] = ff[nc][FL_FAM_ANY] = (uint16_t)refused;
        nc++;
    }
    l->e.counts.v[FL_C_flows] = l->e.counts.v[FL_C_tcp_attempts] = resp + refused;
    l->e.counts.v[FL_C_http_responses] = resp;
    l->e.counts.v[FL_C_http_5xx] = failing;
    l->e.counts.v[FL_C_tcp_refused] = refused;
    send_listed(d, l, t, nc, 40);
}

/* A client hammering a closed port is set aside where it fails (connect,
 * any), not in HTTP: 6 other clients getting 5xx for 30 % of responses
 * are an HTTP incident. Two clients getting 5xx are not broad, however
 * many connections the hammering client fails: breadth is the family's
 * own. Before, the hammering client's failures were set aside in every
 * family (the first case raised nothing) and any failing client counted
 * toward every family's breadth. */
START_TEST(test_noisy_client_per_family)
{
    fl_config cfg;
    fl_config_defaults(&cfg);
    for (int broad = 0; broad < 2; broad++) {
        fl_detector *d = fl_detector_new(&cfg, NULL, NULL);
        /* 30 minutes clean, then 5 minutes of the incident */
        for (uint32_t k = 0; k < 180; k++)
            noisy_bucket(d, (double)(k * BUCKET), 20, 0, 0);
        double onset = 180.0 * BUCKET;
        for (uint32_t k = 180; k < 210; k++)
            noisy_bucket(d, (double)(k * BUCKET), 20, broad ? 6 : 2, 30);
        const fl_alert *al;
        size_t n = fl_detector_alerts(d, &al);
        if (broad) {
            ck_assert_uint_eq(n, 1);
            ck_assert(al[0].families & (1u << FL_FAM_HTTP));
            ck_assert(!(al[0].families & (1u << FL_FAM_CONNECT)));
            ck_assert_double_le(al[0].raised_at - (T0 + onset), 60);
        } else {
            for (size_t i = 0; i < n; i++)
                fprintf(stderr, "narrow: alert families %#x ratio %.2f\n", al[i].families,
                        al[i].ratio);
            ck_assert_uint_eq(n, 0);
        }
        fl_detector_free(d);
    }
}
END_TEST

/* One Cloudflare bucket of `resp` HTTP responses; client i (10.3.0.i+1)
 * gets fails[i] of them as 5xx, `repeats` of all of them on a connection
 * that had one already. */
static void http_bucket_with(fl_detector *d, double t, uint32_t resp, const uint32_t *fails,
                             uint32_t nfailing, uint8_t first, uint32_t repeats)
{
    listed *l = listed_new();
    fl_addr *cl = l->cl;
    uint32_t *cf = l->cf;
    fl_family_fails *ff = l->ff;
    uint32_t total = 0;
    for (uint32_t i = 0; i < nfailing && i < 16; i++) {
        cl[i] = (fl_addr){ .family = 4, .b = { 10, 3, 0, (uint8_t)(first + i + 1) } };
        cf[i] = fails[i];
        ff[i][FL_FAM_HTTP] = ff[i][FL_FAM_ANY] = (uint16_t)fails[i];
        total += fails[i];
    }
    l->e.counts.v[FL_C_flows] = l->e.counts.v[FL_C_tcp_attempts] = resp;
    l->e.counts.v[FL_C_http_responses] = resp;
    l->e.counts.v[FL_C_http_5xx] = total;
    l->e.counts.v[FL_C_http_5xx_repeats] = repeats;
    send_listed(d, l, t, nfailing, 20);
}

static void http_bucket(fl_detector *d, double t, uint32_t resp, const uint32_t *fails,
                        uint32_t nfailing, uint8_t first)
{
    http_bucket_with(d, t, resp, fails, nfailing, first, 0);
}

/* Alerts after an hour of 12 responses a bucket (a 5xx in every 4th,
 * each time another client's), then one bucket with these 5xx by client
 * and the background again. */
static size_t after_repeats(const fl_config *cfg, const uint32_t *fails, uint32_t nfailing,
                            uint32_t repeats)
{
    fl_detector *d = fl_detector_new(cfg, NULL, NULL);
    ck_assert_ptr_nonnull(d);
    static const uint32_t one[1] = { 1 };
    for (uint32_t k = 0; k < 400; k++) {
        if (k == 360)
            http_bucket_with(d, (double)(k * BUCKET), 12, fails, nfailing, 0, repeats);
        else /* background: a 5xx every 4th bucket, each time another client */
            http_bucket(d, (double)(k * BUCKET), 12, one, k % 4 == 0, (uint8_t)(20 + k % 200));
    }
    const fl_alert *al;
    size_t n = alerts_of(d, &al);
    fl_detector_free(d);
    return n;
}

static size_t after_burst(const fl_config *cfg, const uint32_t *fails, uint32_t nfailing)
{
    return after_repeats(cfg, fails, nfailing, 0);
}

/* failures_per_client_bucket: a client's 5xx beyond 2 in one bucket (a
 * browser retrying a 503, a page's requests failing together) are one
 * burst. Seven 5xx from five clients in a bucket of 12 responses are an
 * incident; seven with one client getting five are not (its 3 beyond 2
 * are divided out: 4 of about 7); counting every failure (0) they are, as
 * before the rule. Seen on the generated clean days: one client's three
 * 5xx within 0.6 s on one connection raised Microsoft. */
START_TEST(test_client_burst)
{
    fl_config cfg;
    fl_config_defaults(&cfg);
    ck_assert_uint_eq(cfg.failures_per_client_bucket, 2);
    static const uint32_t spread[] = { 2, 2, 1, 1, 1 }, burst[] = { 5, 1, 1 };
    ck_assert_uint_eq(after_burst(&cfg, spread, 5), 1);
    ck_assert_uint_eq(after_burst(&cfg, burst, 3), 0);
    cfg.failures_per_client_bucket = 0;
    ck_assert_uint_eq(after_burst(&cfg, burst, 3), 1);
}
END_TEST

/* A connection's 5xx after its first (http_5xx_repeats: a client
 * reloading an error page on a kept-alive connection) are a burst of one
 * failure, whichever client: three clients each answered 5xx three
 * times in a bucket of 12 responses are an incident on nine connections,
 * not on one each. Seen on the quiet matrix
 * (`--https`, seed 28): 10 5xx on 3 connections within 40 s raised
 * Cloudflare. */
START_TEST(test_connection_repeats_are_a_burst)
{
    fl_config cfg;
    fl_config_defaults(&cfg);
    static const uint32_t three[] = { 3, 3, 3 };
    ck_assert_uint_eq(after_repeats(&cfg, three, 3, 0), 1);
    ck_assert_uint_eq(after_repeats(&cfg, three, 3, 6), 0);
}
END_TEST

START_TEST(test_deterministic)
{
    incident in = { .mask = 3,
                    .onset = 1800,
                    .end = 2400,
                    .base = 0.01,
                    .level = 0.5,
                    .low = 0.05,
                    .kind = FLAP,
                    .period = 120 };
    fl_config cfg;
    fl_config_defaults(&cfg);
    sim s = make_sim(5, 40, &in, 3600);
    fl_detector *a = run_sim(&s, &cfg, 9), *b = run_sim(&s, &cfg, 9);
    const fl_alert *x, *y;
    size_t n = fl_detector_alerts(a, &x);
    ck_assert_uint_eq(n, fl_detector_alerts(b, &y));
    ck_assert_uint_ge(n, 1);
    ck_assert(memcmp(x, y, n * sizeof *x) == 0);
    fl_detector_free(a);
    fl_detector_free(b);
}
END_TEST

START_TEST(test_settings_reload)
{
    fl_config live, next;
    char err[256];
    fl_config_defaults(&live);
    fl_config_defaults(&next);
    ck_assert(fl_config_set(&next, "detector.false_alerts_per_month", "0.5", err, sizeof err));
    ck_assert(fl_config_set(&next, "resolve_hold_s", "90", err, sizeof err));
    ck_assert(fl_config_set(&next, "bucket_s", "5", err, sizeof err));
    ck_assert(!fl_config_set(&next, "min_effect", "-1", err, sizeof err));
    fl_config_copy_section(&live, &next, "detector");
    ck_assert(live.false_alerts_per_month == 0.5);
    ck_assert(live.resolve_hold_s == 90);
    ck_assert_uint_eq(live.bucket_s, 10); /* not a detector setting */
}
END_TEST

static Suite *detector_suite(void)
{
    Suite *s = suite_create("detector");
    TCase *tc = tcase_create("rule");
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, test_any_counts_a_connections_5xx_once);
    tcase_add_test(tc, test_connection_repeats_are_a_burst);
    tcase_add_test(tc, test_tail_exact);
    tcase_add_test(tc, test_tail_beta);
    tcase_add_test(tc, test_sequential_pieces);
    tcase_add_test(tc, test_alpha_budget);
    tcase_add_test(tc, test_clean_day);
    tcase_add_test(tc, test_harmless_wobble);
    tcase_add_test(tc, test_step_low_volume);
    tcase_add_loop_test(tc, test_step_high_volume, 0, 5);
    tcase_add_loop_test(tc, test_ramp, 0, 5);
    tcase_add_loop_test(tc, test_flapping_one_alert, 0, 3);
    tcase_add_loop_test(tc, test_flapping_elevated_troughs, 0, 3);
    tcase_add_loop_test(tc, test_starts_mid_incident, 0, 3);
    tcase_add_test(tc, test_two_incidents_two_alerts);
    tcase_add_loop_test(tc, test_local_first_and_merge, 0, 3);
    tcase_add_loop_test(tc, test_uplink_local_first, 0, 5);
    tcase_add_loop_test(tc, test_uplink_branch_office, 0, 5);
    tcase_add_test(tc, test_one_client_is_not_local);
    tcase_add_loop_test(tc, test_resolver_scope, 0, 3);
    tcase_add_test(tc, test_resolver_one_client);
    tcase_add_test(tc, test_noisy_client_per_family);
    tcase_add_test(tc, test_client_burst);
    tcase_add_test(tc, test_deterministic);
    tcase_add_test(tc, test_settings_reload);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return fl_test_run(detector_suite());
}
