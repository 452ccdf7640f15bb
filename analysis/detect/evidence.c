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

static double log_beta(double x, double y)
{
    return lgamma(x) + lgamma(y) - lgamma(x + y);
}

double fl_evidence_log_tail_beta(uint64_t k, uint64_t n, double p0, double m)
{
    if (!(m > 0) || m > 1e6 || !(p0 > 0) || p0 >= 1)
        return fl_evidence_log_tail(k, n, p0);
    if (k == 0 || n == 0)
        return k == 0 ? 0.0 : -INFINITY;
    if (k > n)
        return -INFINITY;
    if ((double)k <= (double)n * p0)
        return 0.0; /* not above the expectation */
    double a = p0 * m, b = (1 - p0) * m;
    double dk = (double)k, dn = (double)n;
    double first = lgamma(dn + 1) - lgamma(dk + 1) - lgamma(dn - dk + 1) +
                   log_beta(dk + a, dn - dk + b) - log_beta(a, b);
    /* t(i+1)/t(i) = (n-i)/(i+1) * (i+a)/(n-i-1+b); past the mode it is
     * below 1 and falls, so once a term stops mattering the rest is
     * bounded by a geometric series of that ratio. */
    double sum = 1.0, t = 1.0;
    uint64_t i = k;
    for (uint32_t step = 0; i < n && step < TAIL_TERMS_MAX; step++, i++) {
        double di = (double)i;
        double r = (dn - di) / (di + 1) * (di + a) / (dn - di - 1 + b);
        t *= r;
        sum += t;
        if (r < 1 && t < 1e-12 * sum) {
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

double fl_evidence_llr(uint64_t fails, uint64_t n, double p1, double p0)
{
    if (!(p0 > 0) || !(p1 > p0) || p1 >= 1 || fails > n)
        return 0.0;
    return (double)fails * log(p1 / p0) + (double)(n - fails) * (log1p(-p1) - log1p(-p0));
}

double fl_evidence_doubted(double p0, double m, double z)
{
    if (!(p0 > 0) || p0 >= 1)
        return p0;
    if (!(m > 0) || !(z > 0))
        return m > 0 ? p0 : fmax(p0, 0.5);
    double up = p0 + z * sqrt(p0 * (1 - p0) / m);
    return up < 0.999 ? up : 0.999;
}
