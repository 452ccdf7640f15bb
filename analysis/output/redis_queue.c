/* redis_queue.c - the packet loop's side of the Redis writer: each closed
 * bucket, alert event and heartbeat serialized into a ready-made argument
 * vector and queued for the writer thread; never touches the network.
 * Over the backlog budget the oldest batches not on the wire are dropped,
 * and counted. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fl_client_hash.h"
#include "redis_writer_int.h"

/* ------------------------------------------------- building argument vectors */

typedef struct argbuf {
    char *buf;
    size_t len, cap;
    size_t *off, *lens;
    int n, ncap;
    bool oom;
} argbuf;

static bool ab_grow(argbuf *b, size_t extra)
{
    if (b->oom)
        return false;
    if (b->n == b->ncap) {
        int nc = b->ncap ? b->ncap * 2 : 64;
        size_t *o = realloc(b->off, (size_t)nc * sizeof *o);
        if (o)
            b->off = o;
        size_t *l = o ? realloc(b->lens, (size_t)nc * sizeof *l) : NULL;
        if (l)
            b->lens = l;
        if (!o || !l) {
            b->oom = true;
            return false;
        }
        b->ncap = nc;
    }
    if (b->len + extra + 1 > b->cap) {
        size_t nc = b->cap ? b->cap * 2 : 1024;
        while (nc < b->len + extra + 1)
            nc *= 2;
        char *p = realloc(b->buf, nc);
        if (!p) {
            b->oom = true;
            return false;
        }
        b->buf = p;
        b->cap = nc;
    }
    return true;
}

static void ab_add(argbuf *b, const char *s, size_t len)
{
    if (!ab_grow(b, len))
        return;
    memcpy(b->buf + b->len, s, len);
    b->off[b->n] = b->len;
    b->lens[b->n++] = len;
    b->len += len;
}

static void ab_addf(argbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void ab_addf(argbuf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || !ab_grow(b, (size_t)n)) {
        b->oom = true;
        return;
    }
    va_start(ap, fmt);
    vsnprintf(b->buf + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->off[b->n] = b->len;
    b->lens[b->n++] = (size_t)n;
    b->len += (size_t)n;
}

static void ab_free(argbuf *b)
{
    free(b->buf);
    free(b->off);
    free(b->lens);
    memset(b, 0, sizeof *b);
}

void fl_rw_item_free(item *it)
{
    if (!it)
        return;
    free(it->buf);
    free(it->argv);
    free(it->argvlen);
    free(it);
}

/* Turn the offsets into pointers; the item takes the buffers. */
static item *item_from(argbuf *b, int kind)
{
    item *it = b->oom ? NULL : calloc(1, sizeof *it);
    const char **argv = it ? malloc((size_t)b->n * sizeof *argv) : NULL;
    if (!argv) {
        free(it);
        ab_free(b);
        return NULL;
    }
    /* Give back the growth slack: the budget counts what is held. */
    char *shrunk = realloc(b->buf, b->len ? b->len : 1);
    if (shrunk) {
        b->buf = shrunk;
        b->cap = b->len ? b->len : 1;
    }
    for (int i = 0; i < b->n; i++)
        argv[i] = b->buf + b->off[i];
    it->kind = kind;
    it->argc = b->n;
    it->argv = argv;
    it->argvlen = b->lens;
    it->buf = b->buf;
    it->bytes = sizeof *it + b->cap + (size_t)b->n * (sizeof *argv + sizeof(size_t));
    free(b->off);
    memset(b, 0, sizeof *b);
    return it;
}

/* ------------------------------------------------------------- the queue */

void fl_rw_set_last_error(fl_redis *r, const char *fmt, ...)
{
    char buf[sizeof r->last_error];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    pthread_mutex_lock(&r->mu);
    memcpy(r->last_error, buf, sizeof buf);
    pthread_mutex_unlock(&r->mu);
}

void fl_rw_unlink_item(fl_redis *r, item *it)
{
    if (it->prev)
        it->prev->next = it->next;
    else
        r->head = it->next;
    if (it->next)
        it->next->prev = it->prev;
    else
        r->tail = it->prev;
    it->prev = it->next = NULL;
    r->st.batches_held--;
    r->st.bytes_held -= it->bytes;
}

/* Caller holds the lock. Oldest first, skipping what is on the wire (at
 * most PIPE_MAX batches, so the budget is exceeded by at most one round). */
void fl_rw_enforce_budget(fl_redis *r)
{
    item *it = r->head;
    while (r->st.bytes_held > r->backlog_bytes && it) {
        item *next = it->next;
        if (!it->inflight) {
            fl_rw_unlink_item(r, it);
            fl_rw_item_free(it);
            r->st.batches_dropped++;
        }
        it = next;
    }
}

static void enqueue(fl_redis *r, argbuf *b, int kind)
{
    item *it = item_from(b, kind);
    pthread_mutex_lock(&r->mu);
    r->st.batches_queued++;
    if (!it) {
        r->st.batches_dropped++;
        snprintf(r->last_error, sizeof r->last_error, "out of memory serializing a batch");
        pthread_mutex_unlock(&r->mu);
        return;
    }
    it->prev = r->tail;
    if (r->tail)
        r->tail->next = it;
    else
        r->head = it;
    r->tail = it;
    r->st.batches_held++;
    r->st.bytes_held += it->bytes;
    fl_rw_enforce_budget(r);
    pthread_cond_signal(&r->cv_work);
    pthread_mutex_unlock(&r->mu);
}

/* <P>:batch:<sensor>:<run id>:<seq> */
static void add_batch_key(fl_redis *r, argbuf *b)
{
    uint64_t seq = atomic_fetch_add(&r->seq, 1);
    ab_addf(b, "%s:batch:%s:%016" PRIx64 ":%" PRIu64, r->prefix, r->sensor, r->run_id, seq);
}

static uint32_t entry_nclients(const fl_bucket_entry *e)
{
    uint32_t n = 0;
    if (e->clients)
        for (uint32_t i = 0; i < e->nclients; i++)
            if (e->clients[i].family == 4 || e->clients[i].family == 6)
                n++;
    return n;
}

static bool entry_empty(const fl_bucket_entry *e)
{
    for (int i = 0; i < FL_C_COUNT; i++)
        if (e->counts.v[i])
            return false;
    return entry_nclients(e) == 0;
}

void fl_redis_put_bucket(fl_redis *r, const fl_bucket_entry *entries, size_t n)
{
    if (!r || !entries)
        return;
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (!entry_empty(&entries[i]))
            m++;
    if (m == 0)
        return; /* nothing to add: no batch, no command */

    argbuf b = { 0 };
    ab_add(&b, "", 0); /* EVALSHA / EVAL, set at send time */
    ab_add(&b, "", 0); /* sha / script */
    ab_addf(&b, "%zu", 1 + 3 * m);
    add_batch_key(r, &b);
    for (size_t i = 0; i < n; i++) {
        const fl_bucket_entry *e = &entries[i];
        if (entry_empty(e))
            continue;
        const char *pv = e->provider ? e->provider : "unknown";
        ab_addf(&b, "%s:cnt:%s:%" PRIu64, r->prefix, pv, e->start);
        ab_addf(&b, "%s:scnt:%s:%s:%" PRIu64, r->prefix, r->sensor, pv, e->start);
        ab_addf(&b, "%s:cli:%s:%" PRIu64, r->prefix, pv, e->start);
    }
    ab_addf(&b, "%" PRIu32, r->retention_s);
    for (size_t i = 0; i < n; i++) {
        const fl_bucket_entry *e = &entries[i];
        if (entry_empty(e))
            continue;
        int nf = 0;
        for (int c = 0; c < FL_C_COUNT; c++)
            nf += e->counts.v[c] != 0;
        ab_addf(&b, "%d", nf);
        for (int c = 0; c < FL_C_COUNT; c++) {
            uint64_t v = e->counts.v[c];
            if (!v)
                continue;
            /* HINCRBY takes a signed 64-bit increment. */
            if (v > (uint64_t)INT64_MAX)
                v = (uint64_t)INT64_MAX;
            const char *name = fl_counter_name((fl_counter)c);
            ab_add(&b, name, strlen(name));
            ab_addf(&b, "%" PRIu64, v);
        }
        ab_addf(&b, "%" PRIu32, entry_nclients(e));
        for (uint32_t k = 0; e->clients && k < e->nclients; k++) {
            if (e->clients[k].family != 4 && e->clients[k].family != 6)
                continue;
            char text[64];
            if (r->client_hasher)
                fl_client_hash_str(r->client_hasher, &e->clients[k], text);
            else
                fl_addr_str(&e->clients[k], text, sizeof text);
            ab_add(&b, text, strlen(text));
        }
    }
    enqueue(r, &b, KIND_BUCKET);
}

void fl_redis_put_alert(fl_redis *r, const char *provider, const char *state, const char *json,
                        const char *const *fields, size_t nfields)
{
    if (!r)
        return;
    provider = provider ? provider : "unknown";
    state = state ? state : "";
    json = json ? json : "{}";
    argbuf b = { 0 };
    ab_add(&b, "", 0);
    ab_add(&b, "", 0);
    ab_add(&b, "3", 1);
    add_batch_key(r, &b);
    ab_addf(&b, "%s:alerts", r->prefix);
    /* Per sensor: one sensor's resolve never clears another's raise. */
    ab_addf(&b, "%s:state:%s", r->prefix, r->sensor);
    ab_addf(&b, "%" PRIu32, r->retention_s);
    ab_addf(&b, "%" PRIu32, r->stream_maxlen);
    ab_add(&b, json, strlen(json));
    ab_add(&b, provider, strlen(provider));
    ab_add(&b, state, strlen(state));
    size_t pairs = fields ? nfields / 2 : 0;
    if (pairs == 0) {
        /* XADD needs at least one pair. */
        ab_add(&b, "provider", 8);
        ab_add(&b, provider, strlen(provider));
        ab_add(&b, "state", 5);
        ab_add(&b, state, strlen(state));
    }
    for (size_t i = 0; i < 2 * pairs; i++) {
        const char *f = fields[i] ? fields[i] : "";
        ab_add(&b, f, strlen(f));
    }
    enqueue(r, &b, KIND_ALERT);
}

void fl_redis_put_heartbeat(fl_redis *r, const fl_heartbeat *hb)
{
    if (!r || !hb)
        return;
    pthread_mutex_lock(&r->mu);
    /* One slot: a newer heartbeat replaces an unsent one. */
    r->hb = *hb;
    snprintf(r->hb_version, sizeof r->hb_version, "%s", hb->version ? hb->version : "");
    r->hb.version = NULL;
    r->hb_pending = true;
    pthread_cond_signal(&r->cv_work);
    pthread_mutex_unlock(&r->mu);
}
