/* services.c - per-bucket, per-service counts (fl_services.h).
 *
 * Two open-addressing tables, each at most half full: the open buckets'
 * (bucket, provider, service) counters, and the run totals per (provider,
 * service). A closed bucket's entries are reduced to rows (the `any`
 * family, fl_families.h) and leave the open table; the rows go to a ring
 * that overwrites its oldest, so a sensor running for weeks keeps the
 * recent windows its alerts ask about.
 */
#include <stdlib.h>
#include <string.h>

#include "fl_families.h"
#include "fl_services.h"

typedef struct open_entry {
    uint64_t bucket;
    uint16_t provider;
    uint32_t service;
    uint64_t failed_flows;
    fl_counts c;
} open_entry;

typedef struct row {
    uint64_t start; /* epoch seconds */
    fl_service_tally t;
} row;

struct fl_services {
    uint32_t bucket_s, keys_max;
    open_entry *open; /* dense */
    uint32_t nopen, open_cap;
    uint32_t *oidx; /* slot -> index + 1 */
    uint32_t oidx_size;
    fl_service_tally *tot; /* dense */
    uint32_t ntot, tot_cap;
    uint32_t *tidx;
    uint32_t tidx_size;
    row *ring;
    uint32_t rows_max, ring_cap, nrows, head; /* head: next slot written */
    uint64_t dropped_before;                  /* newest start of a row overwritten, +1; 0 none */
};

static uint32_t mix(uint64_t k, uint32_t mask)
{
    return (uint32_t)((k * 0x9e3779b97f4a7c15ULL) >> 32) & mask;
}

static uint64_t open_key(uint64_t bucket, uint16_t provider, uint32_t service)
{
    return (bucket * 0x100000001b3ULL) ^ ((uint64_t)provider << 32) ^ service;
}

fl_services *fl_services_new(uint32_t bucket_s, uint32_t keys_max, uint32_t rows_max)
{
    fl_services *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->bucket_s = bucket_s ? bucket_s : 10;
    s->keys_max = keys_max ? keys_max : 1;
    s->rows_max = rows_max ? rows_max : 1;
    return s;
}

void fl_services_free(fl_services *s)
{
    if (!s)
        return;
    free(s->open);
    free(s->oidx);
    free(s->tot);
    free(s->tidx);
    free(s->ring);
    free(s);
}

/* Rebuild an index of `size` slots over n keys given by key_of. */
static uint32_t *reindex(uint32_t size, uint32_t n, uint64_t (*key_of)(const void *, uint32_t),
                         const void *arr)
{
    uint32_t *ix = calloc(size, sizeof *ix);
    if (!ix)
        return NULL;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t j = mix(key_of(arr, i), size - 1);
        while (ix[j])
            j = (j + 1) & (size - 1);
        ix[j] = i + 1;
    }
    return ix;
}

static uint64_t open_key_at(const void *arr, uint32_t i)
{
    const open_entry *e = &((const open_entry *)arr)[i];
    return open_key(e->bucket, e->provider, e->service);
}

static uint64_t tot_key_at(const void *arr, uint32_t i)
{
    const fl_service_tally *t = &((const fl_service_tally *)arr)[i];
    return ((uint64_t)t->provider << 32) | t->service;
}

/* Room for one more in a dense array and its index (at most half full). */
static bool room(void **arr, uint32_t *cap, uint32_t n, size_t elem, uint32_t **ix,
                 uint32_t *ix_size, uint64_t (*key_of)(const void *, uint32_t))
{
    if (n + 1 > *cap) {
        uint32_t nc = *cap ? *cap * 2 : 64;
        void *na = realloc(*arr, (size_t)nc * elem);
        if (!na)
            return false;
        *arr = na;
        *cap = nc;
    }
    if (2 * (n + 1) > *ix_size) {
        uint32_t ns = *ix_size ? *ix_size * 2 : 128;
        uint32_t *ni = reindex(ns, n, key_of, *arr);
        if (!ni)
            return false;
        free(*ix);
        *ix = ni;
        *ix_size = ns;
    }
    return true;
}

static open_entry *open_find(fl_services *s, uint64_t bucket, uint16_t provider, uint32_t service)
{
    if (s->oidx_size) {
        uint32_t mask = s->oidx_size - 1;
        for (uint32_t j = mix(open_key(bucket, provider, service), mask); s->oidx[j];
             j = (j + 1) & mask) {
            open_entry *e = &s->open[s->oidx[j] - 1];
            if (e->bucket == bucket && e->provider == provider && e->service == service)
                return e;
        }
    }
    /* a new key: past the bound, fold into the provider's (other) */
    if (s->nopen >= s->keys_max && service != 0)
        return open_find(s, bucket, provider, 0);
    if (!room((void **)&s->open, &s->open_cap, s->nopen, sizeof *s->open, &s->oidx, &s->oidx_size,
              open_key_at))
        return NULL;
    uint32_t mask = s->oidx_size - 1, j = mix(open_key(bucket, provider, service), mask);
    while (s->oidx[j])
        j = (j + 1) & mask;
    open_entry *e = &s->open[s->nopen];
    memset(e, 0, sizeof *e);
    e->bucket = bucket;
    e->provider = provider;
    e->service = service;
    s->oidx[j] = ++s->nopen;
    return e;
}

void fl_services_count(fl_services *s, uint64_t bucket, uint16_t provider, uint32_t service,
                       fl_counter c, uint32_t n)
{
    if (!s || (unsigned)c >= FL_C_COUNT || !n)
        return;
    open_entry *e = open_find(s, bucket, provider, service);
    if (e)
        e->c.v[c] += n;
}

void fl_services_failed_flow(fl_services *s, uint64_t bucket, uint16_t provider, uint32_t service)
{
    open_entry *e = s ? open_find(s, bucket, provider, service) : NULL;
    if (e)
        e->failed_flows++;
}

static fl_service_tally *tot_find(fl_services *s, uint16_t provider, uint32_t service)
{
    uint64_t key = ((uint64_t)provider << 32) | service;
    if (s->tidx_size) {
        uint32_t mask = s->tidx_size - 1;
        for (uint32_t j = mix(key, mask); s->tidx[j]; j = (j + 1) & mask) {
            fl_service_tally *t = &s->tot[s->tidx[j] - 1];
            if (t->provider == provider && t->service == service)
                return t;
        }
    }
    if (s->ntot >= s->keys_max && service != 0)
        return tot_find(s, provider, 0);
    if (!room((void **)&s->tot, &s->tot_cap, s->ntot, sizeof *s->tot, &s->tidx, &s->tidx_size,
              tot_key_at))
        return NULL;
    uint32_t mask = s->tidx_size - 1, j = mix(key, mask);
    while (s->tidx[j])
        j = (j + 1) & mask;
    fl_service_tally *t = &s->tot[s->ntot];
    memset(t, 0, sizeof *t);
    t->provider = provider;
    t->service = service;
    s->tidx[j] = ++s->ntot;
    return t;
}

static void tally_add(fl_service_tally *d, const fl_service_tally *x)
{
    d->flows += x->flows;
    d->failed_flows += x->failed_flows;
    for (int f = 0; f < FL_FAM_COUNT; f++) {
        d->fails[f] += x->fails[f];
        d->attempts[f] += x->attempts[f];
    }
}

void fl_service_sum(const fl_service_tally *t, unsigned mask, uint64_t *fails, uint64_t *attempts)
{
    *fails = *attempts = 0;
    for (int f = 0; f < FL_FAM_COUNT; f++)
        if (mask & (1u << f)) {
            *fails += t->fails[f];
            *attempts += t->attempts[f];
        }
}

static void ring_push(fl_services *s, uint64_t start, const fl_service_tally *t)
{
    /* grown by doubling until rows_max, then overwritten oldest first */
    if (s->nrows == s->ring_cap && s->ring_cap < s->rows_max) {
        uint32_t nc = s->ring_cap ? s->ring_cap * 2 : 256;
        if (nc > s->rows_max)
            nc = s->rows_max;
        row *nr = realloc(s->ring, (size_t)nc * sizeof *nr);
        if (nr) {
            s->ring = nr;
            s->ring_cap = nc;
        }
    }
    if (!s->ring_cap)
        return;
    row *r = &s->ring[s->head];
    if (s->nrows == s->ring_cap && r->start + 1 > s->dropped_before)
        s->dropped_before = r->start + 1;
    r->start = start;
    r->t = *t;
    s->head = (s->head + 1) % s->ring_cap;
    if (s->nrows < s->ring_cap)
        s->nrows++;
}

void fl_services_close(fl_services *s, uint64_t bucket)
{
    if (!s || !s->nopen)
        return;
    uint32_t kept = 0;
    for (uint32_t i = 0; i < s->nopen; i++) {
        open_entry *e = &s->open[i];
        if (e->bucket != bucket) {
            s->open[kept++] = *e;
            continue;
        }
        fl_service_tally t = {
            .provider = e->provider,
            .service = e->service,
            .flows = e->c.v[FL_C_flows],
            .failed_flows = e->failed_flows,
        };
        fl_family_counts_raw(&e->c, t.fails, t.attempts);
        ring_push(s, bucket * s->bucket_s, &t);
        fl_service_tally *d = tot_find(s, e->provider, e->service);
        if (d)
            tally_add(d, &t);
    }
    s->nopen = kept;
    uint32_t *ni = s->oidx_size ? reindex(s->oidx_size, kept, open_key_at, s->open) : NULL;
    if (ni) {
        free(s->oidx);
        s->oidx = ni;
    } else if (s->oidx_size) {
        /* no memory for the index: forget the open entries rather than
         * keep an index that points past them */
        memset(s->oidx, 0, s->oidx_size * sizeof *s->oidx);
        s->nopen = 0;
    }
}

size_t fl_services_totals(const fl_services *s, const fl_service_tally **t)
{
    *t = s ? s->tot : NULL;
    return s ? s->ntot : 0;
}

static int by_service(const void *x, const void *y)
{
    uint32_t a = ((const fl_service_tally *)x)->service, b = ((const fl_service_tally *)y)->service;
    return a < b ? -1 : a > b;
}

size_t fl_services_window(const fl_services *s, uint16_t provider, double t0, double t1,
                          fl_service_tally **out, int *complete)
{
    *out = NULL;
    *complete = 1;
    if (!s || !s->nrows)
        return 0;
    if (s->dropped_before && (double)(s->dropped_before - 1) >= t0)
        *complete = 0;
    fl_service_tally *v = malloc((size_t)s->nrows * sizeof *v);
    if (!v)
        return 0;
    size_t n = 0;
    for (uint32_t i = 0; i < s->nrows; i++) {
        const row *r = &s->ring[i];
        if (r->t.provider == provider && (double)r->start >= t0 && (double)r->start < t1)
            v[n++] = r->t;
    }
    /* the window's rows, summed per service */
    qsort(v, n, sizeof *v, by_service);
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        if (m && v[m - 1].service == v[i].service)
            tally_add(&v[m - 1], &v[i]);
        else
            v[m++] = v[i];
    }
    *out = v;
    return m;
}
