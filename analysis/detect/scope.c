/* scope.c - before any provider alert: is it us (local), one resolver, or
 * really the providers?
 *
 * Local: when our uplink or firewall fails, every provider's attempts fail
 * at once, and a provider alert for each would be a storm of wrong answers.
 * Judged on the `any` family pooled over all active providers: the pool has
 * more attempts than any one provider, so its evidence is there first, and
 * the verdict comes before the providers'. It also needs most active
 * providers over their own effect floor: one big provider failing alone
 * must stay a provider alert.
 *
 * Resolver: when the resolver a site uses fails (SERVFAIL, REFUSED or
 * silence, RFC 1035 4.1.1), every provider's names fail to resolve at once,
 * while connections to them still work. Judged per resolver address (the
 * server of DNS flows): one failing most of its queries while the others
 * answer. An uplink loss also makes public resolvers time out while the
 * internal one answers from its cache; connections failing too make that
 * local, and local is decided first.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "detect_int.h"
#include "evidence.h"

typedef struct census {
    uint32_t active, elevated, dns_active, dns_elevated, conn_elevated;
    uint32_t conn_over;   /* providers whose connections are over their floor */
    uint32_t conn_active; /* providers with 2 connection attempts in the window shown */
    uint32_t conn_most;   /* ... of them failing at least half of those attempts */
    uint32_t dns_over;    /* providers whose DNS is over its floor (no significance) */
    uint64_t fails[MAX_WINDOW], total[MAX_WINDOW]; /* pooled `any`, by age */
    double p0;                                     /* attempt-weighted baseline */
    uint64_t clients;    /* distinct clients failing at any provider in the window */
    uint64_t active_max; /* most active clients any provider had in a bucket of it */
} census;

static bool scoped_provider(const prov_state *p)
{
    return p->j[FL_FAM_ANY].total > 0;
}

static void take_census(fl_detector *d, uint64_t bucket, census *c)
{
    memset(c, 0, sizeof *c);
    double p0sum = 0, n = 0;
    fl_hll_union failing;
    fl_hll_union_reset(&failing);
    for (size_t i = 0; i < d->nprov; i++) {
        prov_state *p = &d->prov[i];
        p->conn_over = false;
        if (!scoped_provider(p))
            continue;
        bool elevated = false, conn = false;
        for (int f = 0; f < FL_FAM_COUNT; f++) {
            const judgement *j = &p->j[f];
            elevated = elevated || j->elevated || j->above;
            if (f != FL_FAM_DNS && f != FL_FAM_DNS_NODATA && f != FL_FAM_ANY) {
                conn = conn || j->elevated;
                p->conn_over = p->conn_over || j->elevated ||
                               (j->fails >= 2 && j->ratio >= fl_detect_threshold(d->cfg, j->p0));
            }
        }
        c->active++;
        const judgement *cj = &p->j[FL_FAM_CONNECT], *qj = &p->j[FL_FAM_QUIC];
        uint64_t ct = cj->total + qj->total, cf = cj->fails + qj->fails;
        c->conn_active += ct >= 2;
        c->conn_most += ct >= 2 && cf >= 2 && 2 * cf >= ct;
        c->elevated += elevated;
        c->conn_elevated += conn;
        c->conn_over += p->conn_over;
        const judgement *dj = &p->j[FL_FAM_DNS];
        if (dj->total) {
            c->dns_active++;
            c->dns_elevated += dj->elevated;
            /* a branch office's providers see a few queries a minute each:
             * none is significant alone, all are over their floor */
            c->dns_over += dj->elevated ||
                           (dj->fails >= 2 && dj->ratio >= fl_detect_threshold(d->cfg, dj->p0));
        }
        for (uint32_t len = 0; len < d->window; len++) {
            uint32_t s = (uint32_t)((bucket - len) % d->window);
            c->fails[len] += p->fails[FL_FAM_ANY][s];
            c->total[len] += p->total[FL_FAM_ANY][s];
        }
        p0sum += p->j[FL_FAM_ANY].p0 * (double)p->j[FL_FAM_ANY].total;
        n += (double)p->j[FL_FAM_ANY].total;
        if (p->clients)
            fl_hll_union_add(&failing, &p->window_failing);
        if (p->active_max > c->active_max)
            c->active_max = p->active_max;
    }
    c->p0 = n > 0 ? p0sum / n : d->cfg->baseline_prior;
    c->clients = fl_hll_union_count(&failing);
}

/* Best log tail of the pooled windows up to max_len buckets that clear the
 * effect floor; *ratio gets the whole window's. */
static double pooled_log_p(const fl_detector *d, const census *c, uint32_t max_len, double *ratio)
{
    double thr = fl_detect_threshold(d->cfg, c->p0), best = 0;
    uint64_t F = 0, N = 0;
    for (uint32_t len = 0; len < max_len && len < d->window; len++) {
        F += c->fails[len];
        N += c->total[len];
        double r = fl_ratio(F, N);
        if (F >= d->cfg->min_failures && r >= thr && fl_detect_scanned(len + 1, d->window))
            best = fmin(best, fl_evidence_log_tail(F, N, c->p0));
    }
    *ratio = fl_ratio(F, N);
    return best;
}

/* Provider alerts open when a scope alert forms become part of it. */
static void merge_into(fl_detector *d, fl_alert *scope, double end)
{
    for (size_t i = 0; i < d->nprov; i++) {
        prov_state *p = &d->prov[i];
        if (p->fw.alert < 0)
            continue;
        fl_alert *pa = &d->alerts[p->fw.alert];
        pa->merged_into = scope->id;
        pa->resolved_at = end;
        if (scope->nmerged < FL_ALERT_MERGED)
            scope->merged[scope->nmerged] = pa->id;
        scope->nmerged++;
        if (pa->onset_at < scope->onset_at)
            scope->onset_at = pa->onset_at;
        scope->families |= pa->families;
        fl_detect_emit(d, p->fw.alert, true);
        p->fw.alert = p->fw.last = -1;
    }
}

static void open_local(fl_detector *d, const census *c, double ratio, double log_p, double start,
                       double end)
{
    bool reopen;
    fl_alert *a = fl_detect_open(d, &d->local, end, &reopen);
    if (!a)
        return;
    if (!reopen) {
        snprintf(a->provider, sizeof a->provider, "local");
        snprintf(a->scope, sizeof a->scope, "local");
        a->local = true;
        a->onset_at = start;
        a->ratio = a->peak_ratio = ratio;
        a->baseline_ratio = c->p0;
        a->log10_p = log_p / log(10.0);
        a->first_family = FL_FAM_ANY;
        a->failures = c->fails[0];
        a->attempts = c->total[0];
    }
    if (c->conn_elevated > a->providers_failing)
        a->providers_failing = c->conn_elevated;
    for (size_t i = 0; i < d->nprov; i++) {
        const prov_state *p = &d->prov[i];
        if (p->clients > a->clients)
            a->clients = p->clients;
        for (int f = 0; f < FL_FAM_COUNT; f++)
            if (p->j[f].elevated)
                a->families |= (uint8_t)(1u << f);
    }
    merge_into(d, a, end);
    if (d->resolver.alert >= 0) {
        /* an uplink loss looked like a resolver first: it is local */
        fl_alert *r = &d->alerts[d->resolver.alert];
        r->merged_into = a->id;
        r->resolved_at = end;
        if (a->nmerged < FL_ALERT_MERGED)
            a->merged[a->nmerged] = r->id;
        a->nmerged++;
        fl_detect_emit(d, d->resolver.alert, true);
        d->resolver.alert = d->resolver.last = -1;
    }
    fl_detect_emit(d, d->local.alert, false);
}

static bool local_scope(fl_detector *d, const census *c, uint64_t bucket, double start, double end)
{
    const fl_config *cfg = d->cfg;
    double ratio, log_alpha = log(fl_detect_alpha(d));
    double lp = pooled_log_p(d, c, d->window, &ratio);
    /* connections (any family but DNS's own) failing at most providers: a
     * site's DNS failing alone is the resolver's verdict */
    bool many = c->active >= cfg->local_min_providers &&
                c->conn_elevated >= cfg->local_min_providers &&
                (double)c->conn_elevated >= cfg->local_provider_share * c->active;
    /* or most providers with connections failing most of them, one of them
     * beyond doubt: an uplink loss fails every new connection at once, and
     * at a branch office's few attempts a minute the quiet providers show
     * it long before each is significant alone, while the pooled test
     * above already is (background noise of a few percent does not fail
     * half of three providers' connections at once) */
    many = many || (c->conn_elevated >= 1 && c->conn_active >= cfg->local_min_providers &&
                    c->conn_most >= cfg->local_min_providers &&
                    (double)c->conn_most >= cfg->local_provider_share * c->conn_active);
    /* ...and broad, as a provider's alert must be (min_clients,
     * min_client_share): an uplink loss fails every client. One host whose
     * peers reset or refuse it (a P2P node: ethereum.pcap of the real
     * corpus, one client reset by peers at AWS, Google, Microsoft and
     * unattributed addresses) is that host's, not the site's. */
    uint64_t denom = c->active_max > c->clients ? c->active_max : c->clients;
    bool broad = c->clients >= cfg->min_clients &&
                 (double)c->clients >= cfg->min_client_share * (double)denom;
    bool now = many && broad && lp <= log_alpha;
    if (d->local.alert >= 0) {
        double r3, loose = log(cfg->resolve_alpha > 0 ? cfg->resolve_alpha : 1e-3);
        double lp3 = pooled_log_p(d, c, RESOLVE_BUCKETS, &r3);
        bool still = many && lp3 <= loose;
        fl_detect_follow(d, &d->local, still, ratio, c->total[0], end);
        if (d->local.alert < 0)
            fl_detect_spent(d, NULL, bucket);
        if (d->local.alert >= 0 && c->conn_elevated > d->alerts[d->local.alert].providers_failing)
            d->alerts[d->local.alert].providers_failing = c->conn_elevated;
        return true;
    }
    if (now)
        open_local(d, c, ratio, lp, start, end);
    return now;
}

/* A resolver's queries and failures in one bucket, one client's failures
 * beyond failures_per_client_bucket taken out of both (a client failing a
 * name over and over, as for a provider's families): one client's
 * SERVFAILs are not its resolver failing, however broad the background
 * noise makes the failing clients look. */
static void res_counts(const fl_detector *d, const res_tally *t, uint64_t *q, uint64_t *f)
{
    uint32_t k = d->cfg->failures_per_client_bucket;
    uint64_t excess = k && t->heavy_votes > k ? t->heavy_votes - k : 0;
    if (excess > t->failures)
        excess = t->failures;
    *q = t->queries - excess;
    *f = t->failures - excess;
}

/* Window sums of every resolver (and of its last RESOLVE_BUCKETS); the
 * distinct clients of all of them. */
static uint64_t resolver_sums(fl_detector *d, uint64_t bucket)
{
    fl_hll_union every;
    fl_hll_union_reset(&every);
    for (uint32_t i = 0; i < d->nres; i++) {
        resolver_state *r = &d->res[i];
        fl_hll_union mine, bad, recent_bad;
        fl_hll_union_reset(&mine);
        fl_hll_union_reset(&bad);
        fl_hll_union_reset(&recent_bad);
        r->wq = r->wf = r->sq = r->sf = 0;
        for (uint32_t k = 0; k < RES_RING; k++) {
            uint64_t b = r->ring_bucket[k];
            if (b > bucket || b + d->window <= bucket || !r->ring[k].queries)
                continue;
            uint64_t q, f;
            res_counts(d, &r->ring[k], &q, &f);
            r->wq += q;
            r->wf += f;
            if (b + RESOLVE_BUCKETS > bucket) {
                r->sq += q;
                r->sf += f;
                fl_hll_union_add(&recent_bad, &r->ring[k].failing);
            }
            fl_hll_union_add(&mine, &r->ring[k].clients);
            fl_hll_union_add(&bad, &r->ring[k].failing);
        }
        r->clients = fl_hll_union_count(&mine);
        r->failing_clients = fl_hll_union_count(&bad);
        r->short_failing = fl_hll_union_count(&recent_bad);
        r->wclients = mine.h;
        fl_hll_union_add(&every, &mine.h);
    }
    return fl_hll_union_count(&every);
}

/* Resolvers failing most of their queries, beyond doubt: a bit each (a
 * dual-stack resolver has two addresses, both fail). *answering: another
 * resolver with queries fails under resolver_ok_ratio. */
static uint32_t failing_resolvers(const fl_detector *d, uint64_t bucket, bool *answering)
{
    const fl_config *cfg = d->cfg;
    uint32_t mask = 0;
    *answering = false;
    double log_alpha = log(fl_detect_alpha(d));
    for (uint32_t i = 0; i < d->nres; i++) {
        const resolver_state *r = &d->res[i];
        /* the windows of 1 bucket up to the whole one, as for providers,
         * against the resolver's own baseline (a client failing all day
         * through one public resolver is that resolver's ordinary) */
        double m, p0 = fl_detect_resolver_p0(d, r, &m);
        double thr = fmax(cfg->resolver_fail_ratio, fl_detect_threshold(cfg, p0));
        uint64_t q = 0, f = 0;
        bool failing = false;
        for (uint32_t len = 0; len < d->window && !failing; len++) {
            uint32_t k = (uint32_t)((bucket - len) % RES_RING);
            if (r->ring_bucket[k] != bucket - len)
                continue;
            uint64_t bq, bf;
            res_counts(d, &r->ring[k], &bq, &bf);
            q += bq;
            f += bf;
            failing = fl_detect_scanned(len + 1, d->window) && f >= cfg->min_failures &&
                      fl_ratio(f, q) >= thr && fl_evidence_log_tail_beta(f, q, p0, m) <= log_alpha;
        }
        /* one client retrying a name that fails is not its resolver failing */
        if (failing && r->failing_clients >= cfg->min_clients)
            mask |= 1u << i;
        else if (r->wq >= cfg->min_failures && fl_ratio(r->wf, r->wq) < cfg->resolver_ok_ratio)
            *answering = true;
    }
    return mask;
}

/* A resolver failing resolver_fail_ratio of its queries in the window,
 * with min_failures, significant or not yet, while another answers: a
 * provider raise waits for the resolver verdict that may be forming (a
 * provider's own names failing fail at every resolver alike). */
static bool suspect_resolver(const fl_detector *d)
{
    const fl_config *cfg = d->cfg;
    bool failing = false, answering = false;
    for (uint32_t i = 0; i < d->nres; i++) {
        const resolver_state *r = &d->res[i];
        double ratio = fl_ratio(r->wf, r->wq);
        /* the last RESOLVE_BUCKETS, or the window */
        if ((r->sf >= cfg->min_failures && fl_ratio(r->sf, r->sq) >= cfg->resolver_fail_ratio) ||
            (r->wf >= cfg->min_failures && ratio >= cfg->resolver_fail_ratio))
            failing = true;
        else if (r->wq >= cfg->min_failures && ratio < cfg->resolver_ok_ratio)
            answering = true;
    }
    return failing && answering;
}

/* The alert names its resolvers and the share of DNS clients using them. */
static void name_resolvers(const fl_detector *d, fl_alert *a)
{
    fl_hll mine;
    memset(&mine, 0, sizeof mine);
    size_t used = 0;
    a->resolver[0] = '\0';
    for (uint32_t i = 0; i < d->nres; i++) {
        const resolver_state *r = &d->res[i];
        if (!(d->res_mask & (1u << i)))
            continue;
        char buf[64];
        fl_addr_str(&r->addr, buf, sizeof buf);
        if (used + strlen(buf) + 2 < sizeof a->resolver)
            used += (size_t)snprintf(a->resolver + used, sizeof a->resolver - used, "%s%s",
                                     used ? " " : "", buf);
        fl_hll_merge(&mine, &r->wclients);
    }
    uint64_t n = fl_hll_count(&mine);
    if (n > a->clients)
        a->clients = n;
    if (d->all_dns_clients && (double)n / (double)d->all_dns_clients > a->resolver_client_share)
        a->resolver_client_share = fmin(1.0, (double)n / (double)d->all_dns_clients);
}

static void open_resolver(fl_detector *d, uint32_t mask, uint64_t all_clients, double start,
                          double end)
{
    bool reopen;
    fl_alert *a = fl_detect_open(d, &d->resolver, end, &reopen);
    if (!a)
        return;
    if (!reopen) {
        snprintf(a->provider, sizeof a->provider, "resolver");
        snprintf(a->scope, sizeof a->scope, "resolver");
        d->res_mask = mask;
        name_resolvers(d, a);
        for (uint32_t i = 0; i < d->nres; i++)
            if (mask & (1u << i)) {
                a->failures += d->res[i].wf;
                a->attempts += d->res[i].wq;
            }
        a->onset_at = start;
        a->ratio = a->peak_ratio = fl_ratio(a->failures, a->attempts);
        a->baseline_ratio = d->cfg->baseline_prior;
        a->log10_p =
            fl_evidence_log_tail(a->failures, a->attempts, d->cfg->baseline_prior) / log(10.0);
        a->first_family = FL_FAM_DNS;
        a->families = (uint8_t)(1u << FL_FAM_DNS);
        d->all_dns_clients = all_clients;
    }
    merge_into(d, a, end);
    fl_detect_emit(d, d->resolver.alert, false);
}

/* Resolvers failing most of their queries while connections are not
 * failing at most providers, and DNS failing at local_min_providers
 * providers or more (one provider's names failing, like AWS's SERVFAIL of
 * 2025-10-20, make the resolvers that carry them fail too, and a
 * dual-stack resolver's other address can look like another resolver
 * answering). With no resolver answering at all, DNS must fail at most
 * active providers (a site with one resolver). Its clients cannot resolve, so their connections are
 * never tried: every provider shows DNS failures about the failing
 * resolvers' share of clients, and no connection failures. */
static bool resolver_scope(fl_detector *d, const census *c, uint64_t bucket, double start,
                           double end)
{
    const fl_config *cfg = d->cfg;
    uint64_t all_clients = resolver_sums(d, bucket);
    d->all_dns_clients = all_clients;
    if (d->resolver.alert >= 0) {
        /* still failing: the named resolvers over the ok ratio lately */
        uint64_t q = 0, f = 0, who = 0;
        for (uint32_t i = 0; i < d->nres; i++)
            if (d->res_mask & (1u << i)) {
                q += d->res[i].sq;
                f += d->res[i].sf;
                who += d->res[i].short_failing;
            }
        double r = fl_ratio(f, q);
        bool answering;
        d->res_mask |= failing_resolvers(d, bucket, &answering); /* the other address too */
        name_resolvers(d, &d->alerts[d->resolver.alert]);
        bool still = r >= cfg->resolver_ok_ratio && who >= cfg->min_clients;
        fl_detect_follow(d, &d->resolver, still, r, q, end);
        if (d->resolver.alert < 0)
            fl_detect_spent(d, NULL, bucket);
        return true;
    }
    /* DNS over its floor (a ratio, not yet significance: a branch office's
     * providers see a few queries a minute each) at most providers (a site
     * with one resolver), or at two when another resolver
     * answers: one provider's names failing (AWS's SERVFAIL of 2025-10-20)
     * fail only that provider's DNS, at every resolver that carries them. */
    bool dns_wide = c->dns_over >= cfg->local_min_providers &&
                    (double)c->dns_over >= cfg->local_provider_share * c->dns_active;
    bool conn_ok = c->conn_elevated < cfg->local_min_providers;
    bool answering = false;
    uint32_t mask = conn_ok ? failing_resolvers(d, bucket, &answering) : 0;
    d->resolver_suspect = suspect_resolver(d);
    /* and clients who cannot resolve try no connections: connections
     * failing at some provider are that provider's own incident */
    if (!(answering ? c->dns_over >= 2 && c->conn_elevated == 0 : dns_wide))
        mask = 0;
    if (mask)
        open_resolver(d, mask, all_clients, start, end);
    return mask != 0;
}

double fl_detect_resolver_p0(const fl_detector *d, const resolver_state *r, double *weight)
{
    double w = d->cfg->baseline_prior_weight;
    *weight = w + r->learned_n;
    return (w * d->cfg->baseline_prior + r->learned_f) / *weight;
}

/* Each resolver learns its bucket while no scope verdict stands; a bucket
 * over the floor is learned scaled down to it (as a provider's): a
 * resolver's ordinary failures are learned, the start of its outage not. */
static void learn_resolvers(fl_detector *d, uint64_t bucket)
{
    for (uint32_t i = 0; i < d->nres; i++) {
        resolver_state *r = &d->res[i];
        uint32_t k = (uint32_t)(bucket % RES_RING);
        double q = 0, f = 0;
        if (r->ring_bucket[k] == bucket) {
            uint64_t bq, bf;
            res_counts(d, &r->ring[k], &bq, &bf);
            q = (double)bq;
            f = (double)bf;
        }
        double m, p0 = fl_detect_resolver_p0(d, r, &m);
        double thr = fmax(d->cfg->resolver_fail_ratio, fl_detect_threshold(d->cfg, p0));
        double wr = fl_ratio(r->wf, r->wq);
        if (wr > thr)
            f *= thr / wr;
        fl_detect_learn(d, &r->learned_f, &r->learned_n, f, q);
    }
}

bool fl_detect_scope(fl_detector *d, uint64_t bucket, double start, double end)
{
    census c;
    take_census(d, bucket, &c);
    d->elevated = c.elevated;
    d->conn_over = c.conn_over;
    d->active_providers = c.active;
    d->resolver_suspect = false; /* set by resolver_scope when it is asked */
    bool local = local_scope(d, &c, bucket, start, end);
    bool resolver = !local && resolver_scope(d, &c, bucket, start, end);
    d->scope_now = local || resolver;
    if (!d->scope_now)
        learn_resolvers(d, bucket);
    return d->scope_now;
}
