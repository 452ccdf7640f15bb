/* detector.c - alert lifecycle on closed buckets (see fl_detector.h).
 *
 * Why these rules: a ratio alone pages on a provider with three flows; a
 * count alone pages on a busy provider's ordinary background errors; a
 * client count alone pages on one script retrying a closed port. Each
 * condition removes one of those false alarms, and the baseline removes the
 * "this name never has an AAAA record" kind of steady failure.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fl_detector.h"
#include "fl_hll.h"

#define MAX_WINDOW 64

typedef struct fam_window {
    uint64_t fails[MAX_WINDOW];
    uint64_t total[MAX_WINDOW];
} fam_window;

typedef struct fam_state {
    double baseline, spread;
    uint32_t updates;          /* buckets learned from */
    bool baseline_ready;
    uint32_t above_run;        /* consecutive buckets above threshold */
    double onset;              /* first bucket of the run */
} fam_state;

typedef struct judgement {
    uint64_t fails, total;
    double ratio, threshold;
    bool above;
} judgement;

typedef struct prov_state {
    char name[FL_ALERT_PROVIDER_MAX];
    fam_window w[FL_FAM_COUNT];
    fam_state f[FL_FAM_COUNT];
    fl_hll window_clients[MAX_WINDOW]; /* failing clients per bucket in the window */
    uint64_t active[MAX_WINDOW];  /* active clients per bucket */
    fl_addr *fc[MAX_WINDOW];      /* failing clients per bucket ... */
    uint32_t *fn[MAX_WINDOW];     /* ... and their failures */
    uint32_t nfc[MAX_WINDOW];
    int alert;                    /* index into alerts, -1 none */
    uint32_t below_run, silent_run;
    double threshold_at_raise;
    uint8_t last_above;           /* families above in the last bucket */
    judgement j[FL_FAM_COUNT];    /* this bucket's judgement */
    uint64_t clients;             /* distinct failing clients in the window */
    double share;                 /* of the window's active clients */
} prov_state;

struct fl_detector {
    const fl_config *cfg;
    fl_alert_fn fn;
    void *ctx;
    uint32_t window;              /* buckets in the window */
    double alpha;                 /* EWMA weight per bucket */
    uint64_t last_bucket;         /* number (start / width) of the last bucket */
    bool started;
    uint32_t bucket_s;
    prov_state *prov;
    size_t nprov, cap;
    fl_alert *alerts;
    size_t nalerts, alerts_cap;
    int local_alert;
    uint32_t local_run, local_below;
    double local_onset;
    uint32_t next_id;
};

fl_detector *fl_detector_new(const fl_config *cfg, fl_alert_fn fn, void *ctx)
{
    fl_detector *d = calloc(1, sizeof *d);
    if (!d)
        return NULL;
    d->cfg = cfg;
    d->fn = fn;
    d->ctx = ctx;
    d->bucket_s = cfg->bucket_s ? cfg->bucket_s : 10;
    double w = ceil(cfg->window_s / d->bucket_s);
    d->window = w < 1 ? 1 : w > MAX_WINDOW ? MAX_WINDOW : (uint32_t)w;
    double hl = cfg->baseline_halflife_s > 0 ? cfg->baseline_halflife_s : 1800;
    d->alpha = 1.0 - pow(2.0, -(double)d->bucket_s / hl);
    d->local_alert = -1;
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
    p->alert = -1;
    return p;
}

static fl_alert *new_alert(fl_detector *d)
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
    return a;
}

static uint32_t slot_of(const fl_detector *d, uint64_t bucket)
{
    return (uint32_t)(bucket % d->window);
}

static double threshold(const fl_config *cfg, const fam_state *s)
{
    double t = cfg->ratio_floor;
    if (s->baseline_ready) {
        t = fmax(t, s->baseline * cfg->baseline_factor);
        t = fmax(t, s->baseline + cfg->baseline_sigmas * s->spread);
    }
    return t;
}

static void emit(fl_detector *d, int idx, bool resolved)
{
    if (d->fn && idx >= 0)
        d->fn(d->ctx, &d->alerts[idx], resolved);
}

static void update_baseline(fl_detector *d, fam_state *s, double ratio)
{
    /* Seed with a plain mean over the first five minutes, then an EWMA with
     * the configured half-life: a mean for longer would chase a slowly
     * growing incident. */
    double a = d->alpha;
    uint32_t warmup = (uint32_t)(300 / d->bucket_s);
    if (warmup < d->window)
        warmup = d->window;
    if (s->updates < warmup && 1.0 / (s->updates + 1) > a)
        a = 1.0 / (s->updates + 1);
    s->updates++;
    double dev = fabs(ratio - s->baseline);
    s->baseline += a * (ratio - s->baseline);
    s->spread += a * (dev - s->spread);
    if (s->updates >= d->window)
        s->baseline_ready = true;
}

/* Failures of the two clients that failed most over the whole window. */
static uint64_t window_top2(const fl_detector *d, const prov_state *p)
{
    uint32_t total = 0;
    for (uint32_t k = 0; k < d->window; k++)
        total += p->nfc[k];
    if (!total)
        return 0;
    uint32_t size = 16;
    while (size < 2 * total)
        size <<= 1;
    struct tally { const fl_addr *a; uint64_t n; } *t = calloc(size, sizeof *t);
    if (!t)
        return 0;
    uint64_t top1 = 0, top2 = 0;
    for (uint32_t k = 0; k < d->window; k++)
        for (uint32_t i = 0; i < p->nfc[k]; i++) {
            const fl_addr *a = &p->fc[k][i];
            uint32_t h = (uint32_t)fl_addr_hash(a) & (size - 1);
            while (t[h].a && !fl_addr_eq(t[h].a, a))
                h = (h + 1) & (size - 1);
            t[h].a = a;
            t[h].n += p->fn[k][i];
        }
    for (uint32_t h = 0; h < size; h++) {
        if (t[h].n > top1) {
            top2 = top1;
            top1 = t[h].n;
        } else if (t[h].n > top2) {
            top2 = t[h].n;
        }
    }
    free(t);
    return top1 + top2;
}

/* Window sums, distinct failing clients and their share, and whether each
 * family is above its threshold. Returns true if the provider has enough
 * connect or DNS volume to count as active for the local rule. */
static bool judge(fl_detector *d, prov_state *p)
{
    const fl_config *cfg = d->cfg;
    fl_hll merged;
    memset(&merged, 0, sizeof merged);
    uint64_t active_max = 0;
    for (uint32_t k = 0; k < d->window; k++) {
        fl_hll_merge(&merged, &p->window_clients[k]);
        if (p->active[k] > active_max)
            active_max = p->active[k];
    }
    uint64_t top2 = window_top2(d, p);
    /* One client is not an outage: when the two clients that failed most
     * fail far more than a typical failing client (on average 4 times as
     * often, or more: a script hammering a closed port, a broken URL
     * retried forever), judge without them. Early in a real outage failures
     * are few but spread evenly, and nothing is taken away. */
    uint64_t all_fails = 0;
    for (uint32_t k = 0; k < d->window; k++)
        all_fails += p->w[FL_FAM_ANY].fails[k];
    bool concentrated = false;
    if (top2 && all_fails >= top2) {
        double others = p->clients > 2 ? (double)(all_fails - top2) / (double)(p->clients - 2) : 0;
        concentrated = (double)top2 / 2.0 >= 4.0 * (others > 1.0 ? others : 1.0);
    }
    p->clients = fl_hll_count(&merged);
    uint64_t denom = active_max > p->clients ? active_max : p->clients;
    p->share = denom ? (double)p->clients / (double)denom : 0;
    p->last_above = 0;
    bool volume = false;
    for (int f = 0; f < FL_FAM_COUNT; f++) {
        judgement *j = &p->j[f];
        j->fails = j->total = 0;
        for (uint32_t k = 0; k < d->window; k++) {
            j->fails += p->w[f].fails[k];
            j->total += p->w[f].total[k];
        }
        uint64_t noisy = 0;
        if (concentrated && f != FL_FAM_DNS_NODATA)
            noisy = top2 < j->fails ? top2 : j->fails;
        j->fails -= noisy;
        j->total -= noisy;
        j->ratio = j->total ? (double)j->fails / (double)j->total : 0;
        j->threshold = threshold(cfg, &p->f[f]);
        j->above = j->total >= cfg->min_volume && j->fails >= cfg->min_failures &&
                   p->clients >= cfg->min_clients && p->share >= cfg->min_client_share &&
                   j->ratio >= j->threshold &&
                   ((f != FL_FAM_DNS_NODATA && f != FL_FAM_QUIC) || p->f[f].baseline_ready);
        if (j->above)
            p->last_above |= (uint8_t)(1u << f);
        if ((f == FL_FAM_CONNECT || f == FL_FAM_DNS) && j->total >= cfg->min_volume)
            volume = true;
    }
    return volume;
}

static void raise_provider(fl_detector *d, prov_state *p, double end)
{
    fl_alert *a = new_alert(d);
    if (!a)
        return;
    snprintf(a->provider, sizeof a->provider, "%s", p->name);
    double first_onset = end;
    for (int f = 0; f < FL_FAM_COUNT; f++) {
        if (!p->f[f].above_run)
            continue;
        a->families |= (uint8_t)(1u << f);
        if (p->f[f].onset < first_onset && (f != FL_FAM_ANY || first_onset == end)) {
            first_onset = p->f[f].onset;
            a->first_family = (uint8_t)f;
        }
        if (p->j[f].ratio > a->ratio) {
            a->ratio = p->j[f].ratio;
            a->baseline_ratio = p->f[f].baseline;
            p->threshold_at_raise = p->j[f].threshold;
        }
        a->failures += p->j[f].fails;
        a->attempts += p->j[f].total;
    }
    a->onset_at = first_onset;
    a->raised_at = end;
    a->peak_ratio = a->ratio;
    a->clients = p->clients;
    a->client_share = p->share;
    p->alert = (int)(a - d->alerts);
    p->below_run = p->silent_run = 0;
    emit(d, p->alert, false);
}

static void follow_provider_alert(fl_detector *d, prov_state *p, uint32_t slot, double end)
{
    const fl_config *cfg = d->cfg;
    fl_alert *a = &d->alerts[p->alert];
    bool below = true, silent = true;
    double ratio = 0;
    for (int f = 0; f < FL_FAM_COUNT; f++) {
        if (!(a->families & (1u << f)))
            continue;
        const judgement *j = &p->j[f];
        if (j->total >= cfg->min_volume)
            silent = false;
        if (j->ratio > ratio)
            ratio = j->ratio;
        if (j->ratio >= cfg->resolve_fraction * p->threshold_at_raise &&
            j->fails * 2 >= cfg->min_failures)
            below = false;
        a->failures += p->w[f].fails[slot];
        a->attempts += p->w[f].total[slot];
    }
    if (ratio > a->peak_ratio)
        a->peak_ratio = ratio;
    if (p->clients > a->clients)
        a->clients = p->clients;
    if (p->share > a->client_share)
        a->client_share = p->share;
    p->below_run = below ? p->below_run + 1 : 0;
    p->silent_run = silent ? p->silent_run + 1 : 0;
    /* A provider whose clients stopped trying is resolved only after a
     * longer silence: no traffic is not evidence of health. */
    if (p->below_run >= cfg->resolve_buckets &&
        (!silent || p->silent_run >= 3 * cfg->resolve_buckets)) {
        a->resolved_at = end;
        a->ratio = ratio;
        emit(d, p->alert, true);
        p->alert = -1;
        for (int f = 0; f < FL_FAM_COUNT; f++)
            p->f[f].above_run = 0;
    }
}

/* One bucket for every provider; entries may be empty (a silent bucket). */
static void process_bucket(fl_detector *d, uint64_t bucket, const fl_bucket_entry *entries,
                           size_t n)
{
    const fl_config *cfg = d->cfg;
    uint32_t slot = slot_of(d, bucket);
    double start = (double)(bucket * d->bucket_s), end = start + d->bucket_s;

    for (size_t i = 0; i < d->nprov; i++) {
        prov_state *p = &d->prov[i];
        for (int f = 0; f < FL_FAM_COUNT; f++)
            p->w[f].fails[slot] = p->w[f].total[slot] = 0;
        memset(&p->window_clients[slot], 0, sizeof p->window_clients[slot]);
        p->active[slot] = 0;
        free(p->fc[slot]);
        free(p->fn[slot]);
        p->fc[slot] = NULL;
        p->fn[slot] = NULL;
        p->nfc[slot] = 0;
    }
    for (size_t i = 0; i < n; i++) {
        prov_state *p = provider(d, entries[i].provider);
        if (!p)
            continue;
        uint64_t fails[FL_FAM_COUNT], total[FL_FAM_COUNT];
        fl_family_counts(&entries[i].counts, fails, total);
        for (int f = 0; f < FL_FAM_COUNT; f++) {
            p->w[f].fails[slot] = fails[f];
            p->w[f].total[slot] = total[f];
        }
        for (uint32_t c = 0; c < entries[i].nclients; c++)
            fl_hll_add_addr(&p->window_clients[slot], &entries[i].clients[c]);
        p->active[slot] = entries[i].active_clients;
        uint32_t nc = entries[i].nclients;
        if (nc && entries[i].client_failures) {
            p->fc[slot] = malloc(nc * sizeof *p->fc[slot]);
            p->fn[slot] = malloc(nc * sizeof *p->fn[slot]);
            if (p->fc[slot] && p->fn[slot]) {
                memcpy(p->fc[slot], entries[i].clients, nc * sizeof *p->fc[slot]);
                memcpy(p->fn[slot], entries[i].client_failures, nc * sizeof *p->fn[slot]);
                p->nfc[slot] = nc;
            }
        }
    }

    uint32_t active = 0, failing = 0;
    uint8_t families = 0;
    for (size_t i = 0; i < d->nprov; i++) {
        prov_state *p = &d->prov[i];
        if (judge(d, p)) {
            active++;
            if (p->last_above) {
                failing++;
                families |= p->last_above;
            }
        }
    }

    /* Local: most active providers failing at once. */
    bool local_now = active >= 3 && (double)failing >= cfg->local_provider_share * active;
    if (local_now) {
        if (d->local_run++ == 0)
            d->local_onset = start;
        d->local_below = 0;
    } else {
        d->local_run = 0;
    }
    if (d->local_alert < 0 && d->local_run >= cfg->raise_buckets) {
        fl_alert *a = new_alert(d);
        if (a) {
            snprintf(a->provider, sizeof a->provider, "local");
            a->local = true;
            a->families = families;
            for (int f = FL_FAM_COUNT - 1; f >= 0; f--)
                if (families & (1u << f))
                    a->first_family = (uint8_t)f;
            a->raised_at = end;
            a->onset_at = d->local_onset;
            a->providers_failing = failing;
            a->ratio = a->peak_ratio = active ? (double)failing / active : 0;
            /* the figures of the failing providers together */
            for (size_t i = 0; i < d->nprov; i++) {
                const prov_state *p = &d->prov[i];
                if (!p->last_above)
                    continue;
                a->failures += p->j[FL_FAM_ANY].fails;
                a->attempts += p->j[FL_FAM_ANY].total;
                a->clients = p->clients > a->clients ? p->clients : a->clients;
            }
            d->local_alert = (int)(a - d->alerts);
            emit(d, d->local_alert, false);
        }
    } else if (d->local_alert >= 0) {
        fl_alert *a = &d->alerts[d->local_alert];
        if (failing > a->providers_failing)
            a->providers_failing = failing;
        a->families |= families;
        if (!local_now && ++d->local_below >= cfg->resolve_buckets) {
            a->resolved_at = end;
            emit(d, d->local_alert, true);
            d->local_alert = -1;
        }
    }
    /* While it is local, provider alerts would only repeat it. */
    bool suppress = local_now || d->local_alert >= 0;

    for (size_t i = 0; i < d->nprov; i++) {
        prov_state *p = &d->prov[i];
        for (int f = 0; f < FL_FAM_COUNT; f++) {
            fam_state *s = &p->f[f];
            if (p->j[f].above && !suppress) {
                if (s->above_run++ == 0)
                    s->onset = start;
            } else {
                s->above_run = 0;
            }
        }
        if (p->alert >= 0) {
            follow_provider_alert(d, p, slot, end);
        } else if (!suppress && strcmp(p->name, "unknown") != 0) {
            /* "unknown" is many operators at once: nobody to call. */
            for (int f = 0; f < FL_FAM_COUNT; f++)
                if (p->f[f].above_run >= cfg->raise_buckets) {
                    raise_provider(d, p, end);
                    break;
                }
        }
        /* Learn the baseline only from ordinary buckets. */
        for (int f = 0; f < FL_FAM_COUNT; f++)
            if (p->alert < 0 && !p->j[f].above && p->j[f].total >= cfg->min_volume)
                update_baseline(d, &p->f[f], p->j[f].ratio);
    }
}

void fl_detector_bucket(fl_detector *d, const fl_bucket_entry *entries, size_t n)
{
    if (!n)
        return;
    uint64_t bucket = entries[0].start / d->bucket_s;
    if (d->started && bucket <= d->last_bucket)
        bucket = d->last_bucket + 1; /* never step back: late or merged input */
    if (d->started) {
        /* silent buckets in between count as empty, up to a window's worth */
        uint64_t gap = bucket - d->last_bucket - 1;
        uint64_t fill = gap > d->window + d->cfg->resolve_buckets * 3
                            ? d->window + d->cfg->resolve_buckets * 3 : gap;
        for (uint64_t k = bucket - fill; k < bucket; k++)
            process_bucket(d, k, NULL, 0);
    }
    d->started = true;
    d->last_bucket = bucket;
    process_bucket(d, bucket, entries, n);
}

size_t fl_detector_alerts(const fl_detector *d, const fl_alert **alerts)
{
    *alerts = d->alerts;
    return d->nalerts;
}
