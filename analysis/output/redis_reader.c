/* redis_reader.c - reading back what sensors wrote (fl_redis_reader, for
 * `faultline alerts` and `status`): a plain blocking connection, XRANGE
 * and XREAD BLOCK on the stream; SCAN MATCH (never KEYS, which blocks the
 * server over the whole keyspace) and pipelined HGETALLs for the window. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "redis_conn.h"

struct fl_redis_reader {
    fl_redis_url url;
    char *prefix;
    uint32_t timeout_ms;
    redisContext *c;
};

fl_redis_reader *fl_redis_reader_open(const char *url, const char *prefix, uint32_t timeout_ms,
                                      char *err, size_t errlen)
{
    fl_redis_reader *rd = calloc(1, sizeof *rd);
    if (!rd) {
        fl_redis_set_err(err, errlen, "out of memory");
        return NULL;
    }
    if (!fl_redis_parse_url(url, &rd->url, err, errlen)) {
        free(rd);
        return NULL;
    }
    rd->prefix = strdup(prefix && *prefix ? prefix : FL_REDIS_DEFAULT_PREFIX);
    rd->timeout_ms = timeout_ms ? timeout_ms : FL_REDIS_DEFAULT_TIMEOUT_MS;
    if (!rd->prefix) {
        fl_redis_set_err(err, errlen, "out of memory");
        free(rd);
        return NULL;
    }
    return rd;
}

static void reader_drop(fl_redis_reader *rd)
{
    if (rd->c)
        redisFree(rd->c);
    rd->c = NULL;
}

void fl_redis_reader_close(fl_redis_reader *rd)
{
    if (!rd)
        return;
    reader_drop(rd);
    free(rd->prefix);
    free(rd);
}

/* The reply if it is one and not an error; otherwise err is set, and the
 * connection is dropped if it failed (a NULL reply: the next call
 * reconnects). */
static redisReply *reader_check(fl_redis_reader *rd, redisReply *rep, const char *what, char *err,
                                size_t errlen)
{
    if (!rep) {
        fl_redis_set_err(err, errlen, "%s: %s", what,
                         rd->c && rd->c->errstr[0] ? rd->c->errstr : "connection lost");
        reader_drop(rd);
        return NULL;
    }
    if (rep->type == REDIS_REPLY_ERROR) {
        fl_redis_set_err(err, errlen, "%s: %s", what, rep->str);
        freeReplyObject(rep);
        return NULL;
    }
    return rep;
}

static bool reader_connect(fl_redis_reader *rd, char *err, size_t errlen)
{
    if (rd->c && !rd->c->err)
        return true;
    reader_drop(rd);
    uint64_t ncmds = 0;
    rd->c = fl_redis_connect(&rd->url, rd->timeout_ms, &ncmds, err, errlen);
    return rd->c != NULL;
}

/* XRANGE / XREAD entries: [id, [field, value, ...]] each. */
#define ENTRY_FV_MAX 128

static long take_entries(const redisReply *arr, char *after, size_t afterlen, fl_redis_entry_fn fn,
                         void *ctx)
{
    long n = 0;
    if (!arr || arr->type != REDIS_REPLY_ARRAY)
        return 0;
    for (size_t i = 0; i < arr->elements; i++) {
        const redisReply *e = arr->element[i];
        if (e->type != REDIS_REPLY_ARRAY || e->elements != 2 ||
            e->element[0]->type != REDIS_REPLY_STRING)
            continue;
        const redisReply *f = e->element[1];
        const char *fv[ENTRY_FV_MAX];
        size_t nfv = 0;
        if (f->type == REDIS_REPLY_ARRAY)
            for (size_t j = 0; j < f->elements && nfv < ENTRY_FV_MAX; j++)
                fv[nfv++] = f->element[j]->type == REDIS_REPLY_STRING ? f->element[j]->str : "";
        const char *id = e->element[0]->str;
        if (fn)
            fn(ctx, id, fv, nfv);
        snprintf(after, afterlen, "%s", id);
        n++;
    }
    return n;
}

long fl_redis_read_alerts(fl_redis_reader *rd, char *after, size_t afterlen, uint32_t block_ms,
                          uint32_t count, fl_redis_entry_fn fn, void *ctx, char *err, size_t errlen)
{
    if (!rd || !after || !afterlen)
        return -1;
    if (!reader_connect(rd, err, errlen))
        return -1;
    if (!after[0])
        snprintf(after, afterlen, "0-0");
    if (count == 0)
        count = 100;
    char key[256];
    snprintf(key, sizeof key, "%s:alerts", rd->prefix);
    redisReply *rep;
    long n = 0;
    if (block_ms == 0) {
        /* "(" makes the start exclusive (Redis 6.2+). */
        char start[96];
        snprintf(start, sizeof start, "(%s", after);
        rep = reader_check(rd, redisCommand(rd->c, "XRANGE %s %s + COUNT %u", key, start, count),
                           "XRANGE", err, errlen);
        if (!rep)
            return -1;
        n = take_entries(rep, after, afterlen, fn, ctx);
    } else {
        /* The socket must wait longer than the server blocks. */
        redisSetTimeout(rd->c, fl_redis_timeval(block_ms + rd->timeout_ms));
        rep = reader_check(rd,
                           redisCommand(rd->c, "XREAD COUNT %u BLOCK %u STREAMS %s %s", count,
                                        block_ms, key, after),
                           "XREAD", err, errlen);
        if (!rep)
            return -1;
        redisSetTimeout(rd->c, fl_redis_timeval(rd->timeout_ms));
        /* nil on timeout, else [[key, entries]] */
        if (rep->type == REDIS_REPLY_ARRAY)
            for (size_t i = 0; i < rep->elements; i++) {
                const redisReply *s = rep->element[i];
                if (s->type == REDIS_REPLY_ARRAY && s->elements == 2)
                    n += take_entries(s->element[1], after, afterlen, fn, ctx);
            }
    }
    freeReplyObject(rep);
    return n;
}

/* A growable list of key names. */
typedef struct strvec {
    char **v;
    size_t n, cap;
} strvec;

static bool sv_push(strvec *sv, const char *s, size_t len)
{
    if (sv->n == sv->cap) {
        size_t nc = sv->cap ? sv->cap * 2 : 64;
        char **v = realloc(sv->v, nc * sizeof *v);
        if (!v)
            return false;
        sv->v = v;
        sv->cap = nc;
    }
    char *copy = malloc(len + 1);
    if (!copy)
        return false;
    memcpy(copy, s, len);
    copy[len] = '\0';
    sv->v[sv->n++] = copy;
    return true;
}

static void sv_free(strvec *sv)
{
    for (size_t i = 0; i < sv->n; i++)
        free(sv->v[i]);
    free(sv->v);
    memset(sv, 0, sizeof *sv);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every key matching a glob pattern, by SCAN (KEYS would block the server
 * for the whole keyspace at once). SCAN may return a key more than once
 * (when the table is resized between calls): the list is sorted and made
 * unique, so that nothing is summed twice. */
static bool scan_keys(fl_redis_reader *rd, const char *pattern, strvec *out, char *err,
                      size_t errlen)
{
    char cursor[32] = "0";
    do {
        redisReply *rep =
            reader_check(rd, redisCommand(rd->c, "SCAN %s MATCH %s COUNT 1000", cursor, pattern),
                         "SCAN", err, errlen);
        if (!rep)
            return false;
        if (rep->type != REDIS_REPLY_ARRAY || rep->elements != 2 ||
            rep->element[0]->type != REDIS_REPLY_STRING ||
            rep->element[1]->type != REDIS_REPLY_ARRAY) {
            fl_redis_set_err(err, errlen, "SCAN: unexpected reply");
            freeReplyObject(rep);
            return false;
        }
        snprintf(cursor, sizeof cursor, "%s", rep->element[0]->str);
        const redisReply *keys = rep->element[1];
        for (size_t i = 0; i < keys->elements; i++) {
            const redisReply *k = keys->element[i];
            if (k->type == REDIS_REPLY_STRING && !sv_push(out, k->str, k->len)) {
                fl_redis_set_err(err, errlen, "out of memory");
                freeReplyObject(rep);
                return false;
            }
        }
        freeReplyObject(rep);
    } while (strcmp(cursor, "0") != 0);
    if (out->n > 1) {
        qsort(out->v, out->n, sizeof *out->v, cmp_str);
        size_t w = 1;
        for (size_t i = 1; i < out->n; i++) {
            if (strcmp(out->v[i], out->v[w - 1]) == 0)
                free(out->v[i]);
            else
                out->v[w++] = out->v[i];
        }
        out->n = w;
    }
    return true;
}

typedef void (*hash_fn)(void *ctx, const char *key, const redisReply *flat);

/* HGETALL of each key, pipelined in rounds of HGETALL_ROUND. */
#define HGETALL_ROUND 256

static bool hgetall_keys(fl_redis_reader *rd, const strvec *keys, hash_fn fn, void *ctx, char *err,
                         size_t errlen)
{
    for (size_t base = 0; base < keys->n; base += HGETALL_ROUND) {
        size_t m = keys->n - base < HGETALL_ROUND ? keys->n - base : HGETALL_ROUND;
        for (size_t i = 0; i < m; i++)
            redisAppendCommand(rd->c, "HGETALL %s", keys->v[base + i]);
        bool ok = true;
        for (size_t i = 0; i < m; i++) {
            redisReply *rep = NULL;
            if (redisGetReply(rd->c, (void **)&rep) != REDIS_OK) {
                fl_redis_set_err(err, errlen, "HGETALL: %s",
                                 rd->c->errstr[0] ? rd->c->errstr : "connection lost");
                reader_drop(rd);
                return false;
            }
            if (rep->type == REDIS_REPLY_ARRAY)
                fn(ctx, keys->v[base + i], rep);
            else if (ok) {
                /* e.g. WRONGTYPE: a key of ours that is not a hash */
                fl_redis_set_err(err, errlen, "HGETALL %s: %s", keys->v[base + i],
                                 rep->type == REDIS_REPLY_ERROR ? rep->str : "not a hash");
                ok = false;
            }
            freeReplyObject(rep);
        }
        if (!ok)
            return false;
    }
    return true;
}

static uint64_t reply_u64(const redisReply *r)
{
    if (r->type == REDIS_REPLY_INTEGER)
        return r->integer > 0 ? (uint64_t)r->integer : 0;
    if (r->type != REDIS_REPLY_STRING)
        return 0;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(r->str, &end, 10);
    if (errno || end == r->str || r->str[0] == '-')
        return 0;
    return (uint64_t)v;
}

typedef struct status_ctx {
    fl_redis_status *st;
    size_t pcap, scap;
    size_t prefix_len;
    uint64_t lo_excl, hi; /* bucket starts in (lo_excl, hi] */
    bool oom;
} status_ctx;

static fl_redis_provider_status *find_provider(status_ctx *sc, const char *name, size_t len)
{
    fl_redis_status *st = sc->st;
    if (len >= FL_REDIS_NAME_MAX)
        len = FL_REDIS_NAME_MAX - 1;
    for (size_t i = 0; i < st->nproviders; i++)
        if (strlen(st->providers[i].provider) == len &&
            memcmp(st->providers[i].provider, name, len) == 0)
            return &st->providers[i];
    if (st->nproviders == sc->pcap) {
        size_t nc = sc->pcap ? sc->pcap * 2 : 16;
        fl_redis_provider_status *p = realloc(st->providers, nc * sizeof *p);
        if (!p) {
            sc->oom = true;
            return NULL;
        }
        st->providers = p;
        sc->pcap = nc;
    }
    fl_redis_provider_status *p = &st->providers[st->nproviders++];
    memset(p, 0, sizeof *p);
    memcpy(p->provider, name, len);
    p->provider[len] = '\0';
    return p;
}

static void on_sensor(void *ctx, const char *key, const redisReply *h)
{
    status_ctx *sc = ctx;
    fl_redis_status *st = sc->st;
    if (st->nsensors == sc->scap) {
        size_t nc = sc->scap ? sc->scap * 2 : 8;
        fl_redis_sensor_status *s = realloc(st->sensors, nc * sizeof *s);
        if (!s) {
            sc->oom = true;
            return;
        }
        st->sensors = s;
        sc->scap = nc;
    }
    fl_redis_sensor_status *s = &st->sensors[st->nsensors++];
    memset(s, 0, sizeof *s);
    snprintf(s->name, sizeof s->name, "%s", key + sc->prefix_len + strlen(":sensor:"));
    for (size_t i = 0; i + 1 < h->elements; i += 2) {
        const redisReply *f = h->element[i], *v = h->element[i + 1];
        if (f->type != REDIS_REPLY_STRING)
            continue;
        if (!strcmp(f->str, "version") && v->type == REDIS_REPLY_STRING)
            snprintf(s->version, sizeof s->version, "%s", v->str);
        else if (!strcmp(f->str, "packets"))
            s->packets = reply_u64(v);
        else if (!strcmp(f->str, "drops"))
            s->drops = reply_u64(v);
        else if (!strcmp(f->str, "last_seen"))
            s->last_seen = reply_u64(v);
        else if (!strcmp(f->str, "held"))
            s->held = reply_u64(v);
        else if (!strcmp(f->str, "dropped"))
            s->dropped = reply_u64(v);
        else if (!strcmp(f->str, "connected"))
            s->connected = reply_u64(v) != 0;
        else if (!strcmp(f->str, "wall"))
            s->wall = reply_u64(v);
    }
}

/* <P>:cnt:<provider>:<bucket> (include/fl_redis.h): the bucket start is the
 * number after the last ':', the provider name what lies before it. */
static void on_counts(void *ctx, const char *key, const redisReply *h)
{
    status_ctx *sc = ctx;
    const char *name = key + sc->prefix_len + strlen(":cnt:");
    const char *colon = strrchr(name, ':');
    if (!colon || colon == name)
        return;
    fl_redis_provider_status *p = find_provider(sc, name, (size_t)(colon - name));
    if (!p)
        return;
    p->buckets++;
    uint64_t start = strtoull(colon + 1, NULL, 10);
    if (!sc->st->first_bucket || start < sc->st->first_bucket)
        sc->st->first_bucket = start;
    if (start > sc->st->last_bucket)
        sc->st->last_bucket = start;
    for (size_t i = 0; i + 1 < h->elements; i += 2) {
        const redisReply *f = h->element[i];
        if (f->type != REDIS_REPLY_STRING)
            continue;
        fl_counter c = fl_counter_from_name(f->str);
        if (c < FL_C_COUNT)
            p->counts.v[c] += reply_u64(h->element[i + 1]);
    }
}

/* A bucket key's start, if it is all digits and in the window. */
static bool bucket_in_window(const status_ctx *sc, const char *key)
{
    const char *colon = strrchr(key, ':');
    if (!colon || !colon[1])
        return false;
    uint64_t v = 0;
    for (const char *p = colon + 1; *p; p++) {
        if (*p < '0' || *p > '9' || v > UINT64_MAX / 10 - 1)
            return false;
        v = v * 10 + (uint64_t)(*p - '0');
    }
    return v > sc->lo_excl && v <= sc->hi;
}

/* Copy s with the glob specials of SCAN MATCH escaped. */
static void glob_escape(const char *s, char *out, size_t outlen)
{
    size_t o = 0;
    for (; *s && o + 2 < outlen; s++) {
        if (strchr("*?[]\\", *s))
            out[o++] = '\\';
        out[o++] = *s;
    }
    out[o] = '\0';
}

static int cmp_provider(const void *a, const void *b)
{
    return strcmp(((const fl_redis_provider_status *)a)->provider,
                  ((const fl_redis_provider_status *)b)->provider);
}

static int cmp_sensor(const void *a, const void *b)
{
    return strcmp(((const fl_redis_sensor_status *)a)->name,
                  ((const fl_redis_sensor_status *)b)->name);
}

/* P:state:<sensor>: the sensor's own alert states, and the providers'
 * (raised when any sensor holds it raised). */
static bool read_state(fl_redis_reader *rd, status_ctx *sc, char *err, size_t errlen)
{
    fl_redis_status *st = sc->st;
    for (size_t i = 0; i < st->nsensors; i++) {
        fl_redis_sensor_status *s = &st->sensors[i];
        redisReply *rep =
            reader_check(rd, redisCommand(rd->c, "HGETALL %s:state:%s", rd->prefix, s->name),
                         "HGETALL", err, errlen);
        if (!rep)
            return false;
        size_t n = 0;
        for (size_t j = 0; rep->type == REDIS_REPLY_ARRAY && j + 1 < rep->elements; j += 2) {
            const redisReply *f = rep->element[j], *v = rep->element[j + 1];
            if (f->type != REDIS_REPLY_STRING || v->type != REDIS_REPLY_STRING)
                continue;
            if (n < sizeof s->alerts)
                n += (size_t)snprintf(s->alerts + n, sizeof s->alerts - n, "%s%s %s", n ? ", " : "",
                                      f->str, v->str);
            fl_redis_provider_status *p = find_provider(sc, f->str, f->len);
            if (p && strcmp(p->state, "raised") != 0)
                snprintf(p->state, sizeof p->state, "%s", v->str);
        }
        freeReplyObject(rep);
    }
    return true;
}

int64_t fl_redis_sensor_age(const fl_redis_sensor_status *s)
{
    return (int64_t)time(NULL) - (int64_t)s->wall;
}

bool fl_redis_sensor_stale(const fl_redis_sensor_status *s, double stale_s)
{
    return !s->wall || (double)fl_redis_sensor_age(s) > stale_s;
}

bool fl_redis_read_status(fl_redis_reader *rd, uint32_t bucket_s, uint32_t window_s,
                          fl_redis_status *st, char *err, size_t errlen)
{
    memset(st, 0, sizeof *st);
    if (!rd || !reader_connect(rd, err, errlen))
        return false;
    if (!bucket_s)
        bucket_s = 10;
    status_ctx sc = { .st = st, .prefix_len = strlen(rd->prefix) };
    char esc[200], pattern[300];
    glob_escape(rd->prefix, esc, sizeof esc);
    strvec keys = { 0 };
    bool ok = false;

    /* 1. Heartbeats: they also say what "now" is in packet time. */
    snprintf(pattern, sizeof pattern, "%s:sensor:*", esc);
    if (!scan_keys(rd, pattern, &keys, err, errlen) ||
        !hgetall_keys(rd, &keys, on_sensor, &sc, err, errlen))
        goto out;
    sv_free(&keys);
    for (size_t i = 0; i < st->nsensors; i++)
        if (st->sensors[i].last_seen > st->ref_time)
            st->ref_time = st->sensors[i].last_seen;
    if (!st->ref_time)
        st->ref_time = (uint64_t)time(NULL);

    /* 2. Alert state per sensor, and per provider across sensors. */
    if (!read_state(rd, &sc, err, errlen))
        goto out;

    /* 3. Counters of the window. The MATCH pattern narrows by the decimal
     * prefix the window's bucket starts share, so the server sends only
     * the keys of a few buckets around it; the exact range is checked here. */
    uint64_t span = (uint64_t)window_s + bucket_s;
    sc.hi = st->ref_time;
    sc.lo_excl = st->ref_time > span ? st->ref_time - span : 0;
    char lo[24], hi[24];
    snprintf(lo, sizeof lo, "%" PRIu64, sc.lo_excl + 1);
    snprintf(hi, sizeof hi, "%" PRIu64, sc.hi);
    size_t common = 0;
    if (strlen(lo) == strlen(hi))
        while (lo[common] && lo[common] == hi[common])
            common++;
    snprintf(pattern, sizeof pattern, "%s:cnt:*:%.*s*", esc, (int)common, lo);
    if (!scan_keys(rd, pattern, &keys, err, errlen))
        goto out;
    size_t w = 0;
    for (size_t i = 0; i < keys.n; i++) {
        if (bucket_in_window(&sc, keys.v[i]))
            keys.v[w++] = keys.v[i];
        else
            free(keys.v[i]);
    }
    keys.n = w;
    if (!hgetall_keys(rd, &keys, on_counts, &sc, err, errlen))
        goto out;
    if (sc.oom) {
        fl_redis_set_err(err, errlen, "out of memory");
        goto out;
    }
    if (st->nproviders > 1)
        qsort(st->providers, st->nproviders, sizeof *st->providers, cmp_provider);
    if (st->nsensors > 1)
        qsort(st->sensors, st->nsensors, sizeof *st->sensors, cmp_sensor);
    ok = true;
out:
    sv_free(&keys);
    if (!ok)
        fl_redis_status_free(st);
    return ok;
}

void fl_redis_status_free(fl_redis_status *st)
{
    if (!st)
        return;
    free(st->providers);
    free(st->sensors);
    memset(st, 0, sizeof *st);
}
