/* evidence.c - binomial tail and the false-alert budget (see evidence.h). */
#include <math.h>

#include "evidence.h"

#define TAIL_TERMS_MAX 100000 /* bound on the work per call */

static double log_pmf(uint64_t k, uint64_t n, double lp, double lq)
{
    return lgamma((double)n + 1) - lgamma((double)k + 1) - lgamma((double)(n - k) + 1) +
           (double)k * lp + (double)(n - k) * lq;
}

double fl_evidence_log_tail(uint64_t k, uint64_t n, double p)
{
    if (k == 0 || n == 0)
        return k == 0 ? 0.0 : -INFINITY;
    if (k > n)
        return -INFINITY;
    if (p <= 0)
        return -INFINITY;
    if (p >= 1 || (double)k <= (double)n * p)
        return 0.0; /* not above the expectation: no evidence at all */
    double lp = log(p), lq = log1p(-p);
    double first = log_pmf(k, n, lp, lq);
    /* Beyond the mode the terms fall: t(i+1)/t(i) = (n-i)/(i+1) * p/(1-p)
     * < 1. Sum relative to the first term until they stop mattering; the
     * rest is bounded by a geometric series of the last ratio. */
    double sum = 1.0, t = 1.0, odds = p / (1 - p);
    uint64_t i = k;
    for (uint32_t step = 0; i < n && step < TAIL_TERMS_MAX; step++, i++) {
        double r = (double)(n - i) / (double)(i + 1) * odds;
        t *= r;
        sum += t;
        if (t < 1e-12 * sum) {
            if (r < 1)
                sum += t * r / (1 - r);
            break;
        }
    }
    double tail = first + log(sum);
    return tail > 0 ? 0.0 : tail;
}

double fl_evidence_alpha(double budget, double bucket_s, double tests_per_bucket)
{
    if (budget <= 0)
        budget = 1;
    if (bucket_s <= 0)
        bucket_s = 10;
    if (tests_per_bucket < 1)
        tests_per_bucket = 1;
    double tests = 30.0 * 86400.0 / bucket_s * tests_per_bucket;
    double a = budget / tests;
    return a > 0.5 ? 0.5 : a;
}
