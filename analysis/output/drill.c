/* drill.c - the failing connections behind an alert (fl_drill.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fl_client_hash.h"
#include "fl_drill.h"

struct fl_drill {
    fl_drill_rec *ring;
    uint32_t cap, n, head;     /* head: next slot written */
    uint64_t overwritten_upto; /* ts_us of the newest record overwritten, +1; 0 none */
    fl_client_hasher *hasher;
};

fl_drill *fl_drill_new(uint32_t cap, struct fl_client_hasher *hasher)
{
    fl_drill *d = calloc(1, sizeof *d);
    if (!d)
        return NULL;
    d->cap = cap ? cap : 1;
    d->hasher = hasher;
    return d;
}

void fl_drill_free(fl_drill *d)
{
    if (!d)
        return;
    free(d->ring);
    free(d);
}

bool fl_drill_pseudonyms(const fl_drill *d)
{
    return d && d->hasher;
}

void fl_drill_add(fl_drill *d, const fl_failure_info *fi)
{
    if (!d)
        return;
    if (!d->ring) {
        /* allocated on the first failure: a clean run costs nothing */
        d->ring = calloc(d->cap, sizeof *d->ring);
        if (!d->ring)
            return;
    }
    fl_drill_rec *r = &d->ring[d->head];
    if (d->n == d->cap && r->ts_us + 1 > d->overwritten_upto)
        d->overwritten_upto = r->ts_us + 1;
    memset(r, 0, sizeof *r);
    r->ts_us = fi->ts_us;
    if (fi->client)
        r->client = *fi->client;
    if (fi->server) {
        r->server = *fi->server;
        r->has_server = true;
    }
    r->client_port = fi->client_port;
    r->server_port = fi->server_port;
    r->provider = fi->provider;
    r->ip_proto = fi->ip_proto;
    r->signal = (uint8_t)fi->signal;
    snprintf(r->reason, sizeof r->reason, "%s", fi->reason ? fi->reason : "");
    d->head = (d->head + 1) % d->cap;
    if (d->n < d->cap)
        d->n++;
}

static int addr_cmp(const void *x, const void *y)
{
    return memcmp(x, y, sizeof(fl_addr));
}

static void addr_text(const fl_drill *d, const fl_addr *a, bool client, char *out)
{
    if (client && d->hasher)
        fl_client_hash_str(d->hasher, a, out); /* FL_CLIENT_HASH_STR <= FL_DRILL_ADDR_STR */
    else
        fl_addr_str(a, out, FL_DRILL_ADDR_STR);
}

/* Sort the addresses, count each, keep the `top` most failing (ties: the
 * lower address first, so the output is stable). Returns the distinct. */
static uint64_t top_addrs(const fl_drill *d, fl_addr *v, size_t n, bool client, fl_drill_count *top,
                          size_t *ntop)
{
    qsort(v, n, sizeof *v, addr_cmp);
    uint64_t distinct = 0;
    uint64_t best[FL_DRILL_TOP] = { 0 };
    size_t bi[FL_DRILL_TOP] = { 0 };
    *ntop = 0;
    for (size_t i = 0; i < n;) {
        size_t j = i + 1;
        while (j < n && fl_addr_eq(&v[i], &v[j]))
            j++;
        distinct++;
        uint64_t c = j - i;
        size_t k = *ntop;
        if (k < FL_DRILL_TOP)
            (*ntop)++;
        else if (c <= best[FL_DRILL_TOP - 1])
            k = FL_DRILL_TOP;
        else
            k = FL_DRILL_TOP - 1;
        if (k < FL_DRILL_TOP) {
            while (k > 0 && best[k - 1] < c) {
                best[k] = best[k - 1];
                bi[k] = bi[k - 1];
                k--;
            }
            best[k] = c;
            bi[k] = i;
        }
        i = j;
    }
    for (size_t k = 0; k < *ntop; k++) {
        addr_text(d, &v[bi[k]], client, top[k].addr);
        top[k].failures = best[k];
    }
    return distinct;
}

bool fl_drill_window(const fl_drill *d, uint16_t provider, double t0, double t1, fl_drill_view *v)
{
    memset(v, 0, sizeof *v);
    if (!d || !d->n)
        return true;
    /* the ring in time order: oldest at head once it has wrapped */
    uint32_t first = d->n == d->cap ? d->head : 0;
    uint32_t *idx = malloc((size_t)d->n * sizeof *idx);
    fl_addr *cl = malloc((size_t)d->n * sizeof *cl);
    fl_addr *sv = malloc((size_t)d->n * sizeof *sv);
    if (!idx || !cl || !sv) {
        free(idx);
        free(cl);
        free(sv);
        return false;
    }
    size_t m = 0, ns = 0;
    for (uint32_t k = 0; k < d->n; k++) {
        uint32_t i = (first + k) % d->cap;
        const fl_drill_rec *r = &d->ring[i];
        double t = (double)r->ts_us / 1e6;
        if (r->provider != provider || t < t0 || t >= t1)
            continue;
        idx[m] = i;
        cl[m] = r->client;
        if (r->has_server)
            sv[ns++] = r->server;
        m++;
    }
    v->failures = m;
    v->partial = d->overwritten_upto && (double)(d->overwritten_upto - 1) / 1e6 >= t0;
    /* the sample: evenly spread, so a long alert shows its start and end */
    size_t want = m < FL_DRILL_SAMPLE ? m : FL_DRILL_SAMPLE;
    for (size_t s = 0; s < want; s++) {
        size_t at = want > 1 ? s * (m - 1) / (want - 1) : 0;
        v->sample[s] = d->ring[idx[at]];
        addr_text(d, &v->sample[s].client, true, v->sample_client[s]);
    }
    v->nsample = want;
    v->distinct_clients = top_addrs(d, cl, m, true, v->clients, &v->nclients);
    v->distinct_servers = top_addrs(d, sv, ns, false, v->servers, &v->nservers);
    free(idx);
    free(cl);
    free(sv);
    return true;
}
