/* evidence.h - the statistics of the detector (private to analysis/detect).
 *
 * One question, asked per provider x family x window: are `fails` failures
 * out of `n` attempts improbable if each attempt failed independently with
 * the provider's baseline probability p0? The answer is the one-sided
 * binomial upper tail P(X >= fails | n, p0), compared with a significance
 * level derived from the false-alert budget (fl_evidence_alpha).
 */
#ifndef FL_DETECT_EVIDENCE_H
#define FL_DETECT_EVIDENCE_H

#include <stdint.h>

/* log P(X >= k) for X ~ Binomial(n, p): 0 (probability 1) when k <= n p,
 * exact terms summed in log space otherwise (no underflow at n = 10^6). */
double fl_evidence_log_tail(uint64_t k, uint64_t n, double p);

/* log P(X >= k) when p itself is only known from `m` attempts (baseline
 * p0 = a / m): X ~ BetaBinomial(n, a = p0 m, b = (1 - p0) m), the
 * posterior predictive of a baseline learned from m attempts. A baseline
 * learned from few attempts (a fresh start on the prior, a nearly idle
 * provider) is uncertain, and a window a few points above it is far less
 * surprising than the plain binomial says. Tends to fl_evidence_log_tail
 * as m grows (used directly beyond 10^6 attempts). */
double fl_evidence_log_tail_beta(uint64_t k, uint64_t n, double p0, double m);

/* The log likelihood ratio of `fails` failures in `n` attempts under a
 * failure probability p1 against p0 (Bernoulli attempts): what one bucket
 * adds to a CUSUM (Page 1954). Its running maximum-with-reset crosses
 * h = -log(alpha) on clean traffic at most once in 1/alpha buckets on
 * average (Lorden 1971: ARL0 >= e^h), so a CUSUM is one more test in the
 * budget's division. 0 when p1 <= p0 or either is outside (0, 1). */
double fl_evidence_llr(uint64_t fails, uint64_t n, double p1, double p0);

/* An upper confidence bound of a baseline p0 estimated from m attempts:
 * p0 + z standard errors (binomial), within [p0, 1). A baseline learned
 * from few attempts is doubted: judged as if it might be that high. */
double fl_evidence_doubted(double p0, double m, double z);

/* Per-test significance level for `budget` false alerts per 30 days, with
 * `tests_per_bucket` tests every bucket of `bucket_s` seconds (Bonferroni:
 * the budget divided by the tests in 30 days). */
double fl_evidence_alpha(double budget, double bucket_s, double tests_per_bucket);

#endif
