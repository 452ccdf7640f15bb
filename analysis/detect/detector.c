/* detector.c - evidence per provider x family and the alert lifecycle
 * (see fl_detector.h; the statistics are in evidence.c, scope in scope.c).
 *
 * Why these rules: a fixed count of failures misses a branch office (ten
 * attempts a minute never reach it) and pages a data centre on its ordinary
 * background errors; a test against the provider's own baseline given the
 * attempts does neither. Significance alone would page a busy provider on a
 * real but harmless wobble (1 % -> 1.5 % over 10^5 attempts), so the ratio
 * must also clear an effect floor; and one client retrying a closed port is
 * not an outage, so failures must be broad.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "detect_int.h"
#include "evidence.h"

fl_detector *fl_detector_new(const fl_config *cfg, fl_alert_fn fn, void *ctx)
{
    fl_detector *d = calloc(1, sizeof *d);
    if (!d)
        return NULL;
    d->cfg = cfg;
    d->fn = fn;
    d->ctx = ctx;
    d->bucket_s = cfg->bucket_s ? cfg->bucket_s : 10;
    double w = ceil(cfg->evidence_window_s / d->bucket_s);
    d->window = w < RESOLVE_BUCKETS ? RESOLVE_BUCKETS : w > MAX_WINDOW ? MAX_WINDOW : (uint32_t)w;
    d->local.alert = d->local.last = -1;
    d->resolver.alert = d->resolver.last = -1;
    return d;
}

void fl_detector_free(fl_detector *d)
{
    if (!d)
        return;
    for (size_t i = 0; i < d->nprov; i++)
        for (uint32_t k = 0; k < MAX_WINDOW; k++) {
            free(d->prov[i].fc[k]);
            free(d->prov[i].fn[k]);
            free(d->prov[i].fm[k]);
        }
    free(d->prov);
    free(d->alerts);
    free(d);
}

static prov_state *provider(fl_detector *d, const char *name)
{
    for (size_t i = 0; i < d->nprov; i++)
        if (!strcmp(d->prov[i].name, name))
            return &d->prov[i];
    if (d->nprov == d->cap) {
        size_t nc = d->cap ? d->cap * 2 : 16;
        prov_state *np = realloc(d->prov, nc * sizeof *np);
        if (!np)
            return NULL;
        d->prov = np;
        d->cap = nc;
    }
    prov_state *p = &d->prov[d->nprov++];
    memset(p, 0, sizeof *p);
    snprintf(p->name, sizeof p->name, "%s", name);
    p->fw.alert = p->fw.last = -1;
    return p;
}

fl_alert *fl_detect_new_alert(fl_detector *d)
{
    if (d->nalerts == d->alerts_cap) {
        size_t nc = d->alerts_cap ? d->alerts_cap * 2 : 16;
        fl_alert *na = realloc(d->alerts, nc * sizeof *na);
        if (!na)
            return NULL;
        d->alerts = na;
        d->alerts_cap = nc;
    }
    fl_alert *a = &d->alerts[d->nalerts++];
    memset(a, 0, sizeof *a);
    a->id = ++d->next_id;
    snprintf(a->scope, sizeof a->scope, "provider");
    return a;
}

void fl_detect_emit(fl_detector *d, int idx, bool resolved)
{
    if (d->fn && idx >= 0)
        d->fn(d->ctx, &d->alerts[idx], resolved);
}

/* Tests per provider and bucket: every family, every window length from
 * one bucket to the whole window, and the family's sequential test. Bonferroni over all of them and over the
 * buckets of 30 days (overlapping windows are strongly correlated, so the
 * real false-alert rate is lower than the budget: README "Detector"). */
double fl_detect_alpha(const fl_detector *d)
{
    return fl_evidence_alpha(d->cfg->false_alerts_per_month, d->bucket_s,
                             (double)FL_FAM_COUNT * (fl_detect_nscanned(d->window) + 1));
}

/* The ratio a window must reach to count as an effect, not a wobble. */
double fl_detect_threshold(const fl_config *cfg, double p0)
{
    /* baseline_factor times the failures, or the successes divided by it,
     * whichever is nearer: a family whose baseline fails often (names
     * without an AAAA record: NODATA 30 %) has a floor it can reach
     * (77 %, not 90 %); both are the same effect on the odds side that
     * moved */
    double f = cfg->baseline_factor;
    return fmax(p0 + cfg->min_effect, fmin(p0 * f, 1.0 - (1.0 - p0) / f));
}

/* The baseline: learned failures and attempts (decayed sums) plus a weak
 * prior of baseline_prior_weight attempts at baseline_prior. The prior is
 * what a capture starting mid-incident is judged against: it weighs little
 * once a few hundred ordinary attempts are learned, but nothing is learned
 * from a window that is above threshold. dns_nodata and quic have no prior:
 * how many names lack an AAAA record, and whether UDP/443 is let out, are
 * properties of the site, so they are judged only once their own baseline
 * is learned. */
/* Attempts a family without an informed prior learns before it is judged. */
#define NEUTRAL_ATTEMPTS 30.0
#define QUIC_OWN_RATIO (1.0 / 3.0)

static double baseline(const fl_config *cfg, const fam_state *s, int f, bool *usable,
                       double *weight)
{
    if (f == FL_FAM_DNS_NODATA || f == FL_FAM_QUIC) {
        /* quic likewise: a site that blocks UDP/443 fails every QUIC
         * handshake all day (its browsers fall back to TCP), a steady
         * state that only its own learned baseline can tell from news.
         * Before NEUTRAL_ATTEMPTS are learned nothing is judged (p0 1,
         * a floor no ratio clears, so every bucket is learned in full);
         * then the prior is one failure and one success and p0 is the
         * site's own ratio, judged
         * as the uncertain estimate it is (the beta-binomial and the
         * sequential test's doubt). Never below baseline_prior: NODATA
         * repeats per name (the same AAAA asked again), far from
         * independent attempts. */
        *usable = true;
        *weight = s->learned_n + 2;
        if (s->learned_n < NEUTRAL_ATTEMPTS)
            return 1.0; /* not judged yet: a floor nothing clears, all learned */
        double p0 = fmax(cfg->baseline_prior, (s->learned_f + 1) / (s->learned_n + 2));
        /* QUIC failing a third of the time or more is the site's own
         * doing (UDP/443 blocked or broken on its side; the failures are
         * counted a timeout after the attempts, so a young baseline of it
         * reads low): not judged while so */
        return f == FL_FAM_QUIC && p0 >= QUIC_OWN_RATIO ? 1.0 : p0;
    }
    *usable = true;
    double w = cfg->baseline_prior_weight;
    double n = w + s->learned_n;
    *weight = n;
    return n > 0 ? (w * cfg->baseline_prior + s->learned_f) / n : cfg->baseline_prior;
}

void fl_detect_learn(const fl_detector *d, double *lf, double *ln, double fails, double total)
{
    double hl = d->cfg->baseline_halflife_s > 0 ? d->cfg->baseline_halflife_s : 1800;
    double keep = pow(2.0, -(double)d->bucket_s / hl);
    *lf = *lf * keep + fails;
    *ln = *ln * keep + total;
}

static void learn(const fl_detector *d, fam_state *s, double fails, double total)
{
    fl_detect_learn(d, &s->learned_f, &s->learned_n, fails, total);
}

static uint32_t slot_back(const fl_detector *d, uint64_t bucket, uint32_t back)
{
    return (uint32_t)((bucket - back) % d->window);
}

/* Failures of the window's two noisiest clients, per family and bucket,
 * if they fail far more than a typical failing client (on average 4 times
 * as often: a script hammering a closed port, a broken URL retried
 * forever). Early in a real outage failures are few but spread evenly:
 * nothing is set aside. Judged in each family on its own: a client
 * hammering a closed port is set aside in `connect` and `any`, and must
 * not hide the error pages other clients get inside HTTPS. Never in
 * NODATA (a name without an AAAA record answers every client alike). */
typedef struct tally {
    const fl_addr *a;
    uint64_t n[FL_FAM_COUNT];
} tally;

static uint64_t client_fails(const prov_state *p, uint32_t k, uint32_t i, int f)
{
    return p->fm[k] ? p->fm[k][i][f] : p->fn[k][i];
}

/* The two clients failing most in each family, and all failures and
 * failing clients there: one pass over the window's clients for every
 * family at once. */
typedef struct noisy_pick {
    const tally *top[2];
    uint64_t all, clients;
} noisy_pick;

static void pick_noisiest(const tally *t, uint32_t size, noisy_pick *pick)
{
    memset(pick, 0, FL_FAM_COUNT * sizeof *pick);
    for (uint32_t h = 0; h < size; h++) {
        if (!t[h].a)
            continue;
        for (int f = 0; f < FL_FAM_COUNT; f++) {
            uint64_t n = t[h].n[f];
            if (!n)
                continue;
            noisy_pick *k = &pick[f];
            k->all += n;
            k->clients++;
            if (!k->top[0] || n > k->top[0]->n[f]) {
                k->top[1] = k->top[0];
                k->top[0] = &t[h];
            } else if (!k->top[1] || n > k->top[1]->n[f]) {
                k->top[1] = &t[h];
            }
        }
    }
}

static void noisy_in_family(const fl_detector *d, prov_state *p, const noisy_pick *k, int f)
{
    uint64_t top2 = (k->top[0] ? k->top[0]->n[f] : 0) + (k->top[1] ? k->top[1]->n[f] : 0);
    double others =
        k->clients > 2 && k->all > top2 ? (double)(k->all - top2) / (double)(k->clients - 2) : 0;
    if (!top2 || (double)top2 / 2.0 < 4.0 * (others > 1.0 ? others : 1.0))
        return;
    for (int m = 0; m < 2; m++)
        if (k->top[m])
            p->noisy_who[f][m] = *k->top[m]->a;
    for (uint32_t b = 0; b < d->window; b++)
        for (uint32_t i = 0; i < p->nfc[b]; i++)
            for (int m = 0; m < 2; m++)
                if (k->top[m] && fl_addr_eq(&p->fc[b][i], k->top[m]->a))
                    p->noisy[f][b] += client_fails(p, b, i, f);
}

static void set_aside_noisy(const fl_detector *d, prov_state *p)
{
    memset(p->noisy, 0, sizeof p->noisy);
    memset(p->noisy_who, 0, sizeof p->noisy_who);
    uint32_t total = 0;
    for (uint32_t k = 0; k < d->window; k++)
        total += p->nfc[k];
    if (!total)
        return;
    uint32_t size = 16;
    while (size < 2 * total)
        size <<= 1;
    tally *t = calloc(size, sizeof *t);
    if (!t)
        return;
    for (uint32_t k = 0; k < d->window; k++)
        for (uint32_t i = 0; i < p->nfc[k]; i++) {
            const fl_addr *a = &p->fc[k][i];
            uint32_t h = (uint32_t)fl_addr_hash(a) & (size - 1);
            while (t[h].a && !fl_addr_eq(t[h].a, a))
                h = (h + 1) & (size - 1);
            t[h].a = a;
            for (int f = 0; f < FL_FAM_COUNT; f++)
                t[h].n[f] += client_fails(p, k, i, f);
        }
    noisy_pick pick[FL_FAM_COUNT];
    pick_noisiest(t, size, pick);
    for (int f = 0; f < FL_FAM_COUNT; f++)
        if (f != FL_FAM_DNS_NODATA)
            noisy_in_family(d, p, &pick[f], f);
    free(t);
}

/* Failures and attempts as evidence: retries and a client failing over
 * and over within seconds are not independent attempts, so when the
 * failures outnumber the distinct failing clients times
 * failures_per_client a minute (at least 2 each), both counts are divided
 * by that excess (a quasi-binomial overdispersion factor): the ratio
 * stays, the evidence shrinks. */
static void as_evidence(const fl_config *cfg, uint64_t clients, double minutes,
                        uint64_t burst_excess, uint64_t *fl, uint64_t *n)
{
    /* A client's failures beyond failures_per_client_bucket in one bucket
     * are one burst (a browser retrying a 503, a page's requests failing
     * together): the excess is divided out the same way. */
    if (burst_excess && burst_excess < *fl) {
        double phi = (double)*fl / (double)(*fl - burst_excess);
        *fl -= burst_excess;
        *n = (uint64_t)ceil((double)*n / phi);
    }
    double m = fmax(2.0, cfg->failures_per_client * minutes);
    double cap = m * (double)(clients ? clients : 1);
    if ((double)*fl <= cap)
        return;
    double phi = (double)*fl / cap;
    *fl = (uint64_t)ceil(cap);
    *n = (uint64_t)ceil((double)*n / phi);
}

/* The sequential test: a CUSUM of this bucket's log likelihood ratio of
 * p1 (sequential_ratio, at least the effect floor) against the baseline
 * doubted by baseline_doubt standard errors. A window test needs its
 * evidence inside one window; the CUSUM adds a branch office's few
 * attempts bucket by bucket from the first failure on, and a ramp's
 * growing ratio as it grows. Its threshold h = -log(alpha) is the same
 * budget (one more test per family: fl_detect_alpha). The run since the
 * statistic last was 0 must also be busy, broad and over the floor. */
static void sequential(const fl_detector *d, prov_state *p, int f, uint64_t bucket, uint64_t fl,
                       uint64_t n, double log_alpha)
{
    const fl_config *cfg = d->cfg;
    judgement *j = &p->j[f];
    fam_state *s = &p->f[f];
    if (bucket <= p->evidence_from) {
        s->cusum = 0; /* spent by a resolve: start again with this bucket */
        s->run_f = s->run_n = 0;
        s->run_len = 0;
    }
    double p0 = fl_evidence_doubted(j->p0, j->p0_n, cfg->baseline_doubt);
    double p1 = fmax(fl_detect_threshold(cfg, p0), cfg->sequential_ratio);
    as_evidence(cfg, p->fam_clients[f][1], d->bucket_s / 60.0, p->fam_burst_excess[f][1], &fl, &n);
    double h = -log_alpha;
    s->cusum = fmin(2 * h, s->cusum + fl_evidence_llr(fl, n, p1, p0));
    if (s->cusum <= 0) {
        s->cusum = 0;
        s->run_f = s->run_n = 0;
        s->run_len = 0;
    } else {
        s->run_f += fl;
        s->run_n += n;
        s->run_len++;
    }
    j->cusum = s->cusum;
    uint32_t len = s->run_len < d->window ? s->run_len : d->window;
    while (len < d->window && !fl_detect_scanned(len, d->window))
        len++;
    double thr = fl_detect_threshold(cfg, j->p0);
    bool busy = (double)s->run_n * 60.0 >= cfg->min_rate * (double)(s->run_len * d->bucket_s);
    j->seq = j->usable && p1 < 1 && s->cusum >= h && s->run_f >= cfg->min_failures && busy && len &&
             p->fam_clients[f][len] >= cfg->min_clients && fl_ratio(s->run_f, s->run_n) >= thr;
}

/* One family: scan the windows ending at this bucket (1 bucket up to the
 * whole window) for the most improbable one that also clears the effect
 * floor and min_failures. Short windows find a step at high volume within
 * a bucket; long ones gather the evidence of a branch office. */
static void judge_family(const fl_detector *d, prov_state *p, int f, uint64_t bucket,
                         double log_alpha)
{
    const fl_config *cfg = d->cfg;
    judgement *j = &p->j[f];
    bool usable;
    j->p0 = baseline(cfg, &p->f[f], f, &usable, &j->p0_n);
    j->usable = usable;
    double thr = fl_detect_threshold(cfg, j->p0);
    /* Suspect HTTPS responses come from the size modes, whose coincidences
     * across sites (held pages that happen to share a size) are not in the
     * binomial baseline (p0 about 0): the https family needs an incident's
     * effect (README "Inside HTTPS"). */
    if (f == FL_FAM_HTTPS && thr < cfg->https_min_ratio)
        thr = cfg->https_min_ratio;
    double loose = log(cfg->resolve_alpha > 0 ? cfg->resolve_alpha : 1e-3);
    uint32_t shown = (uint32_t)ceil(cfg->window_s / d->bucket_s);
    uint32_t recent = shown < 1 ? 1 : shown > d->window ? d->window : shown;
    uint64_t F = 0, N = 0, Z = 0;
    bool still_judged = false;
    j->log_p = 0;
    j->len = 0;
    j->elevated = j->still = j->seq = false;
    for (uint32_t len = 1; len <= d->window; len++) {
        uint32_t s = slot_back(d, bucket, len - 1);
        F += p->fails[f][s];
        N += p->total[f][s];
        Z += p->noisy[f][s];
        uint64_t z = Z < F ? Z : F;
        uint64_t fl = F - z, n = N - z;
        double r = fl_ratio(fl, n);
        if (len == 1)
            sequential(d, p, f, bucket, fl, n, log_alpha);
        if (len == RESOLVE_BUCKETS) {
            j->short_ratio = r;
            j->short_total = n;
        }
        if (len == recent) {
            j->fails = fl;
            j->total = n;
            j->ratio = r;
        }
        /* Still failing (an open alert holds): the shortest recent window
         * with attempts enough to show min_failures at the floor (the
         * last window_s if none) is over the floor and improbable at the
         * loose resolve_alpha (retries divided down: background noise
         * retried four times is not an incident going on). A trough of a
         * flapping incident (45 % failing) is not the baseline, however
         * much lower than its peaks; back under the floor is. */
        if (!still_judged && (len == recent || (double)n * thr >= cfg->min_failures)) {
            still_judged = true;
            uint64_t sf = fl, sn = n;
            as_evidence(cfg, p->fam_clients[f][len], len * d->bucket_s / 60.0,
                        p->fam_burst_excess[f][len], &sf, &sn);
            j->still = usable && r >= thr && sf >= 2 && bucket + 1 >= p->evidence_from + len &&
                       fl_evidence_log_tail_beta(sf, sn, j->p0, j->p0_n) <= loose;
        }
        if (!usable || fl < 2 || r < thr || !fl_detect_scanned(len, d->window) ||
            bucket + 1 < p->evidence_from + len)
            continue;
        /* a nearly idle provider is nobody's outage to page about */
        bool busy = (double)n * 60.0 >= cfg->min_rate * (double)(len * d->bucket_s);
        as_evidence(cfg, p->fam_clients[f][len], len * d->bucket_s / 60.0,
                    p->fam_burst_excess[f][len], &fl, &n);
        /* judged against what the baseline's own attempts make plausible,
         * not a p0 known exactly: the posterior predictive (beta-binomial) */
        double lp = fl_evidence_log_tail_beta(fl, n, j->p0, j->p0_n);
        if (lp <= loose && len <= recent)
            j->elevated = true;
        /* breadth within the deciding window: a burst of retries by one or
         * two clients is not made broad by others failing minutes apart */
        bool broad = p->fam_clients[f][len] >= cfg->min_clients;
        if (busy && broad && fl >= cfg->min_failures && lp < j->log_p) {
            j->log_p = lp;
            j->len = len;
        }
    }
    /* and it is still happening: a long window keeps the evidence of an
     * incident that ended minutes ago */
    bool window_test = usable && j->len && j->log_p <= log_alpha;
    j->above = (window_test || j->seq) && j->fails && j->ratio >= thr;
    if (!window_test && j->above) {
        /* decided by the sequential test: its run is the window shown */
        j->log_p = -j->cusum;
        j->len = p->f[f].run_len < d->window ? p->f[f].run_len : d->window;
    }
    /* A forming mode books its held responses, up to a minute old, at
     * once (fl_https_modes.h): one bucket of them may be a minute's
     * coincidence of sizes across a few sites. An error template goes on
     * being answered: `https` is raised once its failures fall in two
     * buckets of the deciding window (at least the last RESOLVE_BUCKETS). */
    if (f == FL_FAM_HTTPS && j->above) {
        uint32_t len = j->len > RESOLVE_BUCKETS ? j->len : RESOLVE_BUCKETS, with = 0;
        for (uint32_t k = 0; k < len && with < 2; k++)
            with += p->fails[f][slot_back(d, bucket, k)] > 0;
        /* ...or by their own times: a mode that formed in the window from
         * responses of two buckets or more, all counted when it formed
         * (a short incident at 14 responses a minute: its 16 error pages
         * came over 33 s, and were counted in one bucket), failing at
         * least sequential_ratio of the responses, an incident's effect
         * (the two quiet captures whose coincidences of sizes across
         * sites this rule guards against failed 10-13 %) */
        bool spread = p->mode_formed_bucket && p->mode_formed_bucket + len > bucket &&
                      p->mode_formed_bucket > p->mode_first_bucket &&
                      j->ratio >= cfg->sequential_ratio;
        j->above = with >= 2 || spread;
    }
}

/* Distinct clients failing in each family in the last 1..window buckets,
 * those set aside as noisy in it not counted: breadth and the retry
 * correction are a family's own (a client hammering a closed port makes
 * no HTTP failure broad). From the exact lists; where one stopped at its
 * cap, the HyperLogLog of any failure. */
typedef struct addr_ref {
    const fl_addr *a;
    uint16_t fams; /* families it was counted in so far */
} addr_ref;

/* One pass over the window, newest bucket first: each client is looked up
 * once and counted in a family the first time it fails in it; its failures
 * beyond failures_per_client_bucket in a bucket are added up as bursts. */
static void count_family_clients(const fl_detector *d, prov_state *p, uint64_t bucket)
{
    uint32_t total = 0;
    for (uint32_t k = 0; k < d->window; k++)
        total += p->nfc[k];
    uint32_t size = 16;
    while (size < 2 * total)
        size <<= 1;
    addr_ref *set = total ? calloc(size, sizeof *set) : NULL;
    uint64_t n[FL_FAM_COUNT] = { 0 }, excess[FL_FAM_COUNT] = { 0 }, repeats = 0;
    uint32_t burst = d->cfg->failures_per_client_bucket;
    bool exact = set != NULL || !total;
    for (uint32_t len = 1; len <= d->window; len++) {
        uint32_t k = slot_back(d, bucket, len - 1);
        exact = exact && !p->capped[k];
        for (uint32_t i = 0; set && i < p->nfc[k]; i++) {
            const fl_addr *a = &p->fc[k][i];
            uint32_t h = (uint32_t)fl_addr_hash(a) & (size - 1);
            while (set[h].a && !fl_addr_eq(set[h].a, a))
                h = (h + 1) & (size - 1);
            set[h].a = a;
            for (int f = 0; f < FL_FAM_COUNT; f++) {
                if ((p->fm[k] && !p->fm[k][i][f]) || fl_addr_eq(a, &p->noisy_who[f][0]) ||
                    fl_addr_eq(a, &p->noisy_who[f][1]))
                    continue;
                uint32_t c = p->fm[k] ? p->fm[k][i][f] : p->fn[k][i];
                if (burst && c > burst)
                    excess[f] += c - burst;
                if ((set[h].fams >> f) & 1u)
                    continue;
                set[h].fams |= (uint16_t)(1u << f);
                n[f]++;
            }
        }
        /* NODATA answers are no client's failure (none is booked): its
         * breadth stays that of the provider's failing clients */
        for (int f = 0; f < FL_FAM_COUNT; f++) {
            bool known = exact && f != FL_FAM_DNS_NODATA;
            p->fam_clients[f][len] = known ? n[f] : p->clients_len[len];
            p->fam_burst_excess[f][len] = known ? excess[f] : 0;
        }
        /* A connection's 5xx after its first are retries of one failure
         * (a client reloading on a kept-alive connection): a burst like a
         * client's, whichever of the two is larger (they overlap). */
        repeats += p->http_repeats[k];
        if (repeats > p->fam_burst_excess[FL_FAM_HTTP][len])
            p->fam_burst_excess[FL_FAM_HTTP][len] = repeats;
    }
    free(set);
}

/* Window sums, distinct failing clients and their share, and each family's
 * judgement. Returns true if any family is above (before breadth). */
static void judge(fl_detector *d, prov_state *p, uint64_t bucket, double log_alpha)
{
    const fl_config *cfg = d->cfg;
    fl_hll_union merged;
    fl_hll_union_reset(&merged);
    uint64_t active_max = 0;
    p->clients_len[0] = 0;
    for (uint32_t len = 1; len <= d->window; len++) {
        uint32_t k = slot_back(d, bucket, len - 1);
        /* every length (the CUSUM's run); a bucket without failing
         * clients adds none */
        if (p->any_clients[k]) {
            fl_hll_union_add(&merged, &p->window_clients[k]);
            p->clients_len[len] = fl_hll_union_count(&merged);
        } else {
            p->clients_len[len] = p->clients_len[len - 1];
        }
        if (p->active[k] > active_max)
            active_max = p->active[k];
    }
    p->clients = p->clients_len[d->window];
    p->window_failing = merged.h;
    p->active_max = active_max;
    uint64_t denom = active_max > p->clients ? active_max : p->clients;
    p->share = denom ? (double)p->clients / (double)denom : 0;
    set_aside_noisy(d, p);
    count_family_clients(d, p, bucket);
    bool broad = p->clients >= cfg->min_clients && p->share >= cfg->min_client_share;
    for (int f = 0; f < FL_FAM_COUNT; f++) {
        judge_family(d, p, f, bucket, log_alpha);
        p->j[f].above = p->j[f].above && broad;
    }
}

/* Peaks and troughs of the window ratio, with a hysteresis of flap_swing:
 * reported inside the alert instead of raising new ones. */
static void track_cycles(const fl_config *cfg, follow *fw, fl_alert *a, double ratio)
{
    double swing = cfg->flap_swing > 0 ? cfg->flap_swing : 0.15;
    if (!fw->falling) {
        if (ratio > fw->hi) {
            fw->hi = ratio;
        } else if (ratio < fw->hi - swing) {
            if (a->npeaks < FL_ALERT_PEAKS)
                a->peaks[a->npeaks] = fw->hi;
            a->npeaks++;
            fw->falling = true;
            fw->lo = ratio;
        }
    } else if (ratio < fw->lo) {
        fw->lo = ratio;
    } else if (ratio > fw->lo + swing) {
        fw->falling = false;
        fw->hi = ratio;
        a->flaps++;
    }
}

void fl_detect_follow(fl_detector *d, follow *fw, bool still, double ratio, uint64_t attempts,
                      double end)
{
    const fl_config *cfg = d->cfg;
    fl_alert *a = &d->alerts[fw->alert];
    if (ratio > a->peak_ratio)
        a->peak_ratio = ratio;
    track_cycles(cfg, fw, a, ratio);
    if (still) {
        fw->healthy_run = 0;
        fw->run_attempts = 0;
        return;
    }
    fw->healthy_run++;
    fw->run_attempts += attempts;
    /* The hold: resolve_hold_s of buckets no longer failing. A flapping
     * incident's troughs are over the floor (still failing resets the
     * count), so they hold the alert open by themselves, and an incident
     * that ends resolves resolve_hold_s after its ratio is back. */
    double hold = cfg->resolve_hold_s, healthy = (double)fw->healthy_run * d->bucket_s;
    /* No traffic is not evidence of health: with nothing tried during the
     * hold, wait three holds. */
    if (healthy < hold || (!fw->run_attempts && healthy < 3 * hold))
        return;
    a->resolved_at = end;
    a->ratio = ratio;
    a->hold_s = hold;
    fl_detect_emit(d, fw->alert, true);
    fw->last = fw->alert;
    fw->last_resolved = end;
    fw->last_hold = hold;
    fw->alert = -1;
}

fl_alert *fl_detect_open(fl_detector *d, follow *fw, double end, bool *reopened)
{
    const fl_config *cfg = d->cfg;
    *reopened = false;
    if (fw->last >= 0 && d->alerts[fw->last].resolved_at > 0 && !d->alerts[fw->last].merged_into &&
        end - fw->last_resolved <= cfg->flap_hold_s) {
        /* Back within the flap hold of its resolve: the same incident. */
        fl_alert *a = &d->alerts[fw->last];
        a->resolved_at = 0;
        a->reopened++;
        a->flaps++;
        fw->alert = fw->last;
        fw->healthy_run = 0;
        fw->run_attempts = 0;
        fw->falling = false;
        fw->hi = 0;
        *reopened = true;
        return a;
    }
    fl_alert *a = fl_detect_new_alert(d);
    if (!a)
        return NULL;
    memset(fw, 0, sizeof *fw);
    fw->alert = (int)(a - d->alerts);
    fw->last = -1;
    a->raised_at = end;
    a->alpha = fl_detect_alpha(d);
    return a;
}

static void raise_provider(fl_detector *d, prov_state *p, double end)
{
    bool reopen;
    fl_alert *a = fl_detect_open(d, &p->fw, end, &reopen);
    if (!a)
        return;
    int first = -1;
    double first_onset = end;
    for (int f = 0; f < FL_FAM_COUNT; f++) {
        const judgement *j = &p->j[f];
        if (!p->f[f].above_run)
            continue;
        a->families |= (uint8_t)(1u << f);
        /* the family that crossed first; at a tie, not `any`, and the one
         * failing most (the headline of the report) */
        bool tie = p->f[f].onset == first_onset && first >= 0 && f != FL_FAM_ANY &&
                   (first == FL_FAM_ANY || j->ratio > p->j[first].ratio);
        if (p->f[f].onset < first_onset || tie) {
            first_onset = p->f[f].onset;
            first = f;
        }
        if (reopen)
            continue;
        if (j->ratio > a->ratio || !a->log10_p) {
            a->ratio = j->ratio;
            a->baseline_ratio = j->p0;
        }
        if (j->log_p / log(10.0) < a->log10_p) {
            a->log10_p = j->log_p / log(10.0);
            a->window_s = j->len * d->bucket_s;
        }
        a->failures += j->fails;
        a->attempts += j->total;
    }
    if (!reopen) {
        a->onset_at = first_onset;
        a->first_family = (uint8_t)(first < 0 ? FL_FAM_ANY : first);
        snprintf(a->provider, sizeof a->provider, "%s", p->name);
        a->peak_ratio = a->ratio;
    }
    if (p->clients > a->clients)
        a->clients = p->clients;
    if (p->share > a->client_share)
        a->client_share = p->share;
    fl_detect_emit(d, p->fw.alert, false);
}

void fl_detect_spent(fl_detector *d, prov_state *p, uint64_t bucket)
{
    if (p) {
        p->evidence_from = bucket + 1;
        return;
    }
    for (size_t i = 0; i < d->nprov; i++)
        d->prov[i].evidence_from = bucket + 1;
}

static void follow_provider(fl_detector *d, prov_state *p, uint64_t bucket, uint32_t slot,
                            double end)
{
    fl_alert *a = &d->alerts[p->fw.alert];
    bool still = false;
    double ratio = 0;
    uint64_t attempts = 0;
    for (int f = 0; f < FL_FAM_COUNT; f++) {
        const judgement *j = &p->j[f];
        if (j->above)
            a->families |= (uint8_t)(1u << f);
        if (!(a->families & (1u << f)))
            continue;
        still = still || j->still;
        ratio = fmax(ratio, j->ratio);
        attempts += p->total[f][slot];
        a->failures += p->fails[f][slot];
        a->attempts += p->total[f][slot];
    }
    if (p->clients > a->clients)
        a->clients = p->clients;
    if (p->share > a->client_share)
        a->client_share = p->share;
    fl_detect_follow(d, &p->fw, still, ratio, attempts, end);
    if (p->fw.alert < 0)
        fl_detect_spent(d, p, bucket);
}

/* Only DNS families are above: what a failing resolver makes every
 * provider show. */
static bool dns_only(const prov_state *p)
{
    bool dns = false;
    for (int f = 0; f < FL_FAM_COUNT; f++) {
        if (!p->j[f].above || f == FL_FAM_ANY)
            continue;
        if (f != FL_FAM_DNS)
            return false; /* NODATA is an answer: no resolver failing gives it */
        dns = true;
    }
    /* `any` alone: DNS's if most of its failures are DNS failures */
    const judgement *any = &p->j[FL_FAM_ANY];
    return dns || (any->above && 2 * p->j[FL_FAM_DNS].fails >= any->fails);
}

/* What an uplink loss or a failing resolver shows at a provider:
 * connections, DNS queries or QUIC handshakes failing ('any' alone too).
 * A server that answers with a TLS alert, a 5xx or an empty answer is
 * reachable: when only such families are above, its outage is its own
 * and no wider verdict is waited for. */
static bool path_signal(const prov_state *p)
{
    if (p->j[FL_FAM_CONNECT].above || p->j[FL_FAM_DNS].above || p->j[FL_FAM_QUIC].above)
        return true;
    static const int answered[] = { FL_FAM_TLS, FL_FAM_DNS_NODATA, FL_FAM_HTTP, FL_FAM_HTTPS };
    for (size_t i = 0; i < sizeof answered / sizeof answered[0]; i++)
        if (p->j[answered[i]].above)
            return false;
    return p->j[FL_FAM_ANY].above;
}

/* A wider verdict may be forming: local_min_providers - 1 other
 * providers elevated, or the connections of half the other active ones
 * (at least local_min_providers - 1) over their floor, significant or not
 * yet (an uplink loss reaches every provider, the quiet ones a bucket or
 * two later), or only DNS failing while one resolver fails a share of its
 * queries and another answers (its clients' names fail at every
 * provider). */
static bool scope_forming(const fl_detector *d, const prov_state *p)
{
    const fl_config *cfg = d->cfg;
    uint32_t others = d->conn_over - (p->conn_over ? 1 : 0);
    uint32_t active = d->active_providers > 1 ? d->active_providers - 1 : 1;
    uint32_t need = cfg->local_min_providers > 1 ? cfg->local_min_providers - 1 : 1;
    uint32_t others_elevated = d->elevated > 0 ? d->elevated - 1 : 0;
    bool wide = (others >= need && 2 * others >= active) || others_elevated >= need;
    return wide || (d->resolver_suspect && dns_only(p));
}

/* Above for raise_buckets in a row, then raised, unless the scope is
 * local/resolver. When the provider shows what a wider failure would
 * (path_signal), wait one bucket while another provider is elevated, and
 * up to SCOPE_WAIT_BUCKETS while a wider verdict may be forming: the
 * local or resolver verdict must come first, not after a provider alert
 * it then has to merge. */
static void decide_provider(fl_detector *d, prov_state *p, uint64_t bucket, double start,
                            double end, bool scoped)
{
    const fl_config *cfg = d->cfg;
    bool ready = false;
    for (int f = 0; f < FL_FAM_COUNT; f++) {
        fam_state *s = &p->f[f];
        if (p->j[f].above && !scoped) {
            if (s->above_run++ == 0)
                s->onset = start;
        } else {
            s->above_run = 0;
        }
        if (s->above_run >= (cfg->raise_buckets ? cfg->raise_buckets : 1))
            ready = true;
    }
    if (p->fw.alert >= 0) {
        follow_provider(d, p, bucket, (uint32_t)(bucket % d->window), end);
    } else if (ready && p->name[0] && strcmp(p->name, "unknown") != 0) {
        /* "unknown" is many operators at once: nobody to call. */
        if (path_signal(p) && ((d->elevated >= 2 && p->deferred < 1) ||
                               (scope_forming(d, p) && p->deferred < SCOPE_WAIT_BUCKETS))) {
            p->deferred++;
            return;
        }
        raise_provider(d, p, end);
    }
    if (!ready)
        p->deferred = 0;
}

/* Learn from ordinary buckets only: nothing while this provider is above
 * threshold, over its floor lately (the loose test) or alerting, or while
 * the scope is local or resolver. A bucket whose window is over the effect
 * floor without passing the loose test is learned with its failures scaled
 * down to the floor: background noise under the floor (0-5 %, retries) is
 * learned in full, while the start of a ramp or of an incident at a branch
 * office, or a capture that starts in the middle of one, can only creep
 * the baseline up as fast as the half-life allows. */
static void learn_provider(fl_detector *d, prov_state *p, uint32_t slot)
{
    if (p->fw.alert >= 0 || d->scope_now || d->local.alert >= 0 || d->resolver.alert >= 0)
        return;
    for (int f = 0; f < FL_FAM_COUNT; f++) {
        const judgement *j = &p->j[f];
        if (j->above || j->elevated)
            continue;
        uint64_t fails = p->fails[f][slot], total = p->total[f][slot];
        uint64_t z = p->noisy[f][slot] < fails ? p->noisy[f][slot] : fails;
        double thr = fl_detect_threshold(d->cfg, j->p0);
        double scale = j->usable && j->ratio > thr ? thr / j->ratio : 1.0;
        double lf = (double)(fails - z) * scale, ln = (double)(total - z);
        learn(d, &p->f[f], lf, ln);
    }
}

static void ingest(fl_detector *d, uint32_t slot, const fl_bucket_entry *entries, size_t n)
{
    for (size_t i = 0; i < d->nprov; i++) {
        prov_state *p = &d->prov[i];
        for (int f = 0; f < FL_FAM_COUNT; f++)
            p->fails[f][slot] = p->total[f][slot] = 0;
        p->http_repeats[slot] = 0;
        memset(&p->window_clients[slot], 0, sizeof p->window_clients[slot]);
        p->any_clients[slot] = false;
        p->active[slot] = 0;
        free(p->fc[slot]);
        free(p->fn[slot]);
        free(p->fm[slot]);
        p->fc[slot] = NULL;
        p->fn[slot] = NULL;
        p->fm[slot] = NULL;
        p->nfc[slot] = 0;
        p->capped[slot] = false;
    }
    for (size_t i = 0; i < n; i++) {
        prov_state *p = provider(d, entries[i].provider);
        if (!p)
            continue;
        uint64_t fails[FL_FAM_COUNT], total[FL_FAM_COUNT];
        fl_family_counts(&entries[i].counts, fails, total);
        for (int f = 0; f < FL_FAM_COUNT; f++) {
            p->fails[f][slot] = fails[f];
            p->total[f][slot] = total[f];
        }
        p->http_repeats[slot] = entries[i].counts.v[FL_C_http_5xx_repeats];
        for (uint32_t c = 0; c < entries[i].nclients; c++)
            fl_hll_add_addr(&p->window_clients[slot], &entries[i].clients[c]);
        p->any_clients[slot] = entries[i].nclients > 0;
        p->active[slot] = entries[i].active_clients;
        uint32_t nc = entries[i].nclients;
        /* the list stopped at its cap (beyond the estimate's error) */
        p->capped[slot] = (double)entries[i].clients_estimate > 1.1 * nc + 2.0;
        if (nc && entries[i].client_failures) {
            const fl_family_fails *ff = entries[i].client_family_failures;
            p->fc[slot] = malloc(nc * sizeof *p->fc[slot]);
            p->fn[slot] = malloc(nc * sizeof *p->fn[slot]);
            p->fm[slot] = ff ? malloc(nc * sizeof *p->fm[slot]) : NULL;
            if (p->fc[slot] && p->fn[slot] && (!ff || p->fm[slot])) {
                memcpy(p->fc[slot], entries[i].clients, nc * sizeof *p->fc[slot]);
                memcpy(p->fn[slot], entries[i].client_failures, nc * sizeof *p->fn[slot]);
                if (ff)
                    memcpy(p->fm[slot], ff, nc * sizeof *p->fm[slot]);
                p->nfc[slot] = nc;
            }
        }
    }
}

/* One bucket for every provider; entries may be empty (a silent bucket).
 * Order: every provider judged, then the scope decided, then provider
 * alerts raised or followed, then baselines learned. */
static void process_bucket(fl_detector *d, uint64_t bucket, const fl_bucket_entry *entries,
                           size_t n)
{
    if (!d->window)
        return; /* never: fl_detector_new sets at least RESOLVE_BUCKETS */
    uint32_t slot = (uint32_t)(bucket % d->window);
    double start = (double)(bucket * d->bucket_s), end = start + d->bucket_s;
    ingest(d, slot, entries, n);
    double log_alpha = log(fl_detect_alpha(d));
    for (size_t i = 0; i < d->nprov; i++)
        judge(d, &d->prov[i], bucket, log_alpha);
    bool scoped = fl_detect_scope(d, bucket, start, end);
    for (size_t i = 0; i < d->nprov; i++) {
        decide_provider(d, &d->prov[i], bucket, start, end, scoped);
        learn_provider(d, &d->prov[i], slot);
    }
}

static bool any_alert_open(const fl_detector *d)
{
    if (d->local.alert >= 0 || d->resolver.alert >= 0)
        return true;
    for (size_t i = 0; i < d->nprov; i++)
        if (d->prov[i].fw.alert >= 0)
            return true;
    return false;
}

void fl_detector_bucket(fl_detector *d, const fl_bucket_entry *entries, size_t n)
{
    if (!n)
        return;
    uint64_t bucket = entries[0].start / d->bucket_s;
    if (d->started && bucket <= d->last_bucket)
        bucket = d->last_bucket + 1; /* never step back: late or merged input */
    if (d->started) {
        /* silent buckets in between count as empty, up to what any hold
         * needs to run out */
        uint64_t gap = bucket - d->last_bucket - 1;
        double hold = 3 * fmax(d->cfg->flap_hold_s, d->cfg->resolve_hold_s);
        uint64_t cap = d->window + (uint64_t)(hold / d->bucket_s) + 1;
        uint64_t fill = gap > cap ? cap : gap;
        for (uint64_t k = bucket - fill, silent = 0; k < bucket; k++, silent++) {
            /* a window of silence with no alert open leaves nothing to
             * judge, hold or resolve: the rest would only cost (a capture
             * that jumps across years, concatenated captures) */
            if (silent >= d->window && !any_alert_open(d))
                break;
            process_bucket(d, k, NULL, 0);
        }
    }
    d->started = true;
    d->last_bucket = bucket;
    process_bucket(d, bucket, entries, n);
}

void fl_detector_https_mode(fl_detector *d, const char *name, uint64_t first_us, uint64_t ts_us)
{
    if (!d || !name || !d->bucket_s)
        return;
    prov_state *p = provider(d, name);
    if (!p)
        return;
    uint64_t bucket = ts_us / 1000000u / d->bucket_s;
    if (d->started && bucket <= d->last_bucket)
        bucket = d->last_bucket + 1; /* counted in the next bucket judged */
    p->mode_formed_bucket = bucket;
    p->mode_first_bucket = first_us / 1000000u / d->bucket_s;
}

void fl_detector_restart(fl_detector *d)
{
    if (!d || !d->started)
        return;
    /* Merged captures of other years, other sites: the next one's first
     * buckets pooled with the last one's tail made a "local" alert of four
     * attempts in the real corpus concatenated (bench.sh's real input). */
    for (uint32_t slot = 0; slot < d->window; slot++)
        ingest(d, slot, NULL, 0);
    for (size_t i = 0; i < d->nprov; i++) {
        prov_state *p = &d->prov[i];
        memset(p->noisy, 0, sizeof p->noisy);
        for (int f = 0; f < FL_FAM_COUNT; f++) {
            fam_state *s = &p->f[f];
            s->cusum = 0;
            s->run_f = s->run_n = 0;
            s->run_len = 0;
            s->above_run = 0;
        }
        p->mode_formed_bucket = p->mode_first_bucket = 0;
    }
    for (uint32_t i = 0; i < d->nres; i++)
        memset(d->res[i].ring_bucket, 0xff, sizeof d->res[i].ring_bucket);
}

void fl_detector_dns(fl_detector *d, uint64_t ts_us, const fl_addr *resolver, const fl_addr *client,
                     bool failed)
{
    if (!d || !resolver || !resolver->family)
        return;
    resolver_state *r = NULL;
    for (uint32_t i = 0; i < d->nres && !r; i++)
        if (fl_addr_eq(&d->res[i].addr, resolver))
            r = &d->res[i];
    if (!r) {
        if (d->nres == RESOLVERS_MAX)
            return; /* a site with more resolvers than this: judged without the rest */
        r = &d->res[d->nres++];
        memset(r, 0, sizeof *r);
        r->addr = *resolver;
    }
    uint64_t bucket = ts_us / 1000000u / d->bucket_s;
    if (d->started && bucket <= d->last_bucket)
        bucket = d->last_bucket + 1; /* late: into the next bucket judged */
    uint32_t s = (uint32_t)(bucket % RES_RING);
    if (r->ring_bucket[s] != bucket) {
        memset(&r->ring[s], 0, sizeof r->ring[s]);
        r->ring_bucket[s] = bucket;
    }
    r->ring[s].queries++;
    if (failed)
        r->ring[s].failures++;
    if (client) {
        fl_hll_add_addr(&r->ring[s].clients, client);
        if (failed) {
            res_tally *t = &r->ring[s];
            fl_hll_add_addr(&t->failing, client);
            if (!t->heavy_votes) {
                t->heavy = *client;
                t->heavy_votes = 1;
            } else if (fl_addr_eq(&t->heavy, client)) {
                t->heavy_votes++;
            } else {
                t->heavy_votes--;
            }
        }
    }
}

size_t fl_detector_alerts(const fl_detector *d, const fl_alert **alerts)
{
    *alerts = d->alerts;
    return d->nalerts;
}
