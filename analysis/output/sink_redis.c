/* sink_redis.c - the Redis output (include/fl_redis.h).
 *
 * The only file that includes <hiredis/hiredis.h> (hiredis 0.14.1: no ACL
 * user in its API, no TLS, blocking contexts with socket timeouts).
 *
 * Two threads meet at one queue:
 *  - the caller (the packet loop) serializes each batch into a ready-made
 *    argument vector and appends it; it never touches the network. When the
 *    held bytes exceed the budget it drops the oldest batches that are not
 *    on the wire right now, and counts them.
 *  - the writer thread owns the hiredis context. Each round it pipelines up
 *    to PIPE_MAX batches from the head (redisAppendCommandArgv, then one
 *    redisGetReply per command), and removes a batch only when the server
 *    has answered for it.
 *
 * Exactly once: a batch carries an id (sensor, a random 64-bit run id from
 * getrandom(), a sequence number) and is one script call whose first write
 * is SET <P>:batch:<id> 1 NX EX <retention>; only if that succeeds does the
 * script apply the batch. A script runs atomically, so a batch is applied
 * wholly or not at all (barring a command failing half-way, see below). If
 * the reply is lost (connection reset, timeout, server restart) the batch
 * stays at the head and goes again, same id, after reconnecting: the server
 * answers 0 ("duplicate") if it had applied it. With appendfsync always the
 * marker and the writes reach the AOF before the reply is sent, so this
 * holds across a server crash too. Known limit: the marker expires with the
 * retention, so a batch held longer than that could be applied twice (it
 * would also land in keys that have expired).
 *
 * Reading back (fl_redis_reader, for `faultline alerts` and `status`) is a
 * separate plain blocking connection at the end of this file: XRANGE and
 * XREAD BLOCK on the stream; SCAN MATCH (never KEYS, which blocks the
 * server over the whole keyspace) and pipelined HGETALLs for the window.
 */
#include <errno.h>
#include <hiredis/hiredis.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "fl_redis.h"
#include "sink_redis_int.h"

#define DEFAULT_PREFIX "fl"
#define DEFAULT_RETENTION_S (7u * 24 * 3600)
#define DEFAULT_BACKLOG_BYTES (64ull << 20)
#define DEFAULT_STREAM_MAXLEN 100000u
#define DEFAULT_TIMEOUT_MS 2000u

#define PIPE_MAX 64                 /* batches in flight per round */
#define PIPE_BYTES (4u << 20)       /* and their serialized bytes */
#define BACKOFF_MIN_MS 100u
#define BACKOFF_MAX_MS 5000u
#define POISON_ERRORS 3             /* error replies before a batch is dropped */
#define PFADD_CHUNK 512             /* Lua unpack() stays far below LUAI_MAXCSTACK */

/* KEYS[1] the batch marker, then three keys per entry: cnt, scnt, cli.
 * ARGV[1] retention seconds; per entry: nfields, field, value, ...,
 * nclients, client, ... (fields are the non-zero counters only). */
static const char bucket_script[] =
    "if not redis.call('SET', KEYS[1], '1', 'NX', 'EX', ARGV[1]) then return 0 end\n"
    "local ttl, a = ARGV[1], 2\n"
    "for k = 2, #KEYS, 3 do\n"
    "  local cnt, scnt, cli = KEYS[k], KEYS[k+1], KEYS[k+2]\n"
    "  local nf = tonumber(ARGV[a]); a = a + 1\n"
    "  for i = 1, nf do\n"
    "    redis.call('HINCRBY', cnt, ARGV[a], ARGV[a+1])\n"
    "    redis.call('HINCRBY', scnt, ARGV[a], ARGV[a+1])\n"
    "    a = a + 2\n"
    "  end\n"
    "  local nc = tonumber(ARGV[a]); a = a + 1\n"
    "  local i = 0\n"
    "  while i < nc do\n"
    "    local j = math.min(nc, i + 512)\n"
    "    redis.call('PFADD', cli, unpack(ARGV, a + i, a + j - 1))\n"
    "    i = j\n"
    "  end\n"
    "  a = a + nc\n"
    "  redis.call('EXPIRE', cnt, ttl)\n"
    "  redis.call('EXPIRE', scnt, ttl)\n"
    "  redis.call('EXPIRE', cli, ttl)\n"
    "end\n"
    "return 1\n";

/* KEYS[1] marker, KEYS[2] the stream (also the pub/sub channel name),
 * KEYS[3] the state hash. ARGV[1] retention, ARGV[2] MAXLEN, ARGV[3] the
 * JSON, ARGV[4] provider, ARGV[5] state, ARGV[6..] stream field/value. */
static const char alert_script[] =
    "if not redis.call('SET', KEYS[1], '1', 'NX', 'EX', ARGV[1]) then return 0 end\n"
    "redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[2], '*', unpack(ARGV, 6))\n"
    "redis.call('PUBLISH', KEYS[2], ARGV[3])\n"
    "redis.call('HSET', KEYS[3], ARGV[4], ARGV[5])\n"
    "return 1\n";

enum { KIND_BUCKET, KIND_ALERT };

/* One queued batch: a complete EVALSHA argument vector. argv[0] and argv[1]
 * (command and script) are filled in by the writer at send time. */
typedef struct item {
    struct item *prev, *next;
    int kind;
    bool inflight;   /* on the wire: only the writer may touch or free it */
    bool use_eval;   /* the server said NOSCRIPT: send the body next time */
    unsigned errors; /* error replies so far */
    size_t bytes;    /* counted against the backlog budget */
    int argc;
    const char **argv;
    size_t *argvlen;
    char *buf;
} item;

struct fl_redis {
    /* Fixed after fl_redis_new. */
    fl_redis_url url;
    char *prefix, *sensor;
    uint32_t retention_s, stream_maxlen, timeout_ms;
    uint64_t backlog_bytes;
    uint64_t run_id;
    atomic_uint_fast64_t seq;

    pthread_mutex_t mu; /* guards everything below down to the writer part */
    pthread_cond_t cv_work, cv_idle;
    item *head, *tail;
    bool stop;
    bool hb_pending, hb_inflight;
    fl_heartbeat hb;
    char hb_version[64];
    fl_redis_stats st;
    char last_error[256];
    unsigned lose_replies; /* test hook */

    /* Writer thread only. */
    pthread_t thread;
    bool thread_started;
    redisContext *c;
    char sha_bucket[41], sha_alert[41];
    bool ever_connected;
    uint32_t backoff_ms;
    uint64_t rng;
};

/* ---------------------------------------------------------------- URLs */

static void set_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
    if (!err || !errlen)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* RFC 3986 section 2.1 percent-decoding of s[0..n) into out; false on a bad
 * escape, an embedded NUL or if it does not fit. */
static bool pct_decode(const char *s, size_t n, char *out, size_t outlen)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        if (ch == '%') {
            if (i + 2 >= n)
                return false;
            int hi = hexval(s[i + 1]), lo = hexval(s[i + 2]);
            if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
                return false;
            ch = (char)(hi * 16 + lo);
            i += 2;
        }
        if (o + 1 >= outlen)
            return false;
        out[o++] = ch;
    }
    out[o] = '\0';
    return true;
}

/* A database number: decimal digits only, at most 9 of them. */
static bool parse_db(const char *s, size_t n, int *db)
{
    if (n == 0 || n > 9)
        return false;
    int v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (s[i] - '0');
    }
    *db = v;
    return true;
}

static bool host_char(char c, bool bracketed)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return true;
    if (c == '.' || c == '-' || c == '_')
        return true;
    return bracketed && (c == ':' || c == '%');
}

/* redis://[[user]:password@]host[:port][/db] (the IANA "redis" scheme). Like
 * redis-cli, userinfo without ':' is taken as the password. */
static bool parse_tcp(const char *s, fl_redis_url *out, char *err, size_t errlen)
{
    size_t alen = strcspn(s, "/?#");
    const char *auth = s, *end = s + alen;

    const char *at = NULL;
    for (const char *p = auth; p < end; p++)
        if (*p == '@')
            at = p;
    const char *host = auth;
    if (at) {
        const char *colon = memchr(auth, ':', (size_t)(at - auth));
        const char *pw = colon ? colon + 1 : auth;
        /* The user name is ignored: hiredis 0.14 knows only AUTH <password>. */
        if (!pct_decode(pw, (size_t)(at - pw), out->password, sizeof out->password)) {
            set_err(err, errlen, "bad Redis URL: password has a bad %%-escape or is too long");
            return false;
        }
        host = at + 1;
    }

    const char *hend, *after;
    if (host < end && *host == '[') {
        const char *rb = memchr(host, ']', (size_t)(end - host));
        if (!rb) {
            set_err(err, errlen, "bad Redis URL: '[' without ']' around an IPv6 address");
            return false;
        }
        hend = rb;
        after = rb + 1;
        host++;
    } else {
        const char *colon = memchr(host, ':', (size_t)(end - host));
        hend = colon ? colon : end;
        after = hend;
        if (colon && memchr(colon + 1, ':', (size_t)(end - colon - 1))) {
            set_err(err, errlen, "bad Redis URL: an IPv6 address needs brackets, "
                                 "redis://[::1]:6379");
            return false;
        }
    }
    size_t hlen = (size_t)(hend - host);
    if (hlen == 0) {
        set_err(err, errlen, "bad Redis URL: no host (redis://host[:port][/db])");
        return false;
    }
    if (hlen >= sizeof out->host) {
        set_err(err, errlen, "bad Redis URL: host name too long");
        return false;
    }
    bool bracketed = after != hend;
    for (size_t i = 0; i < hlen; i++) {
        if (!host_char(host[i], bracketed)) {
            set_err(err, errlen, "bad Redis URL: bad character in the host");
            return false;
        }
    }
    memcpy(out->host, host, hlen);
    out->host[hlen] = '\0';

    out->port = 6379;
    if (after < end) {
        if (*after != ':') {
            set_err(err, errlen, "bad Redis URL: junk after the host");
            return false;
        }
        int port = 0;
        size_t plen = (size_t)(end - after - 1);
        if (!parse_db(after + 1, plen, &port) || port < 1 || port > 65535) {
            set_err(err, errlen, "bad Redis URL: port must be a number 1-65535");
            return false;
        }
        out->port = port;
    }

    const char *rest = end;
    if (*rest == '/') {
        size_t dlen = strlen(rest + 1);
        if (dlen > 0 && !parse_db(rest + 1, dlen, &out->db)) {
            set_err(err, errlen, "bad Redis URL: the path must be a database number, "
                                 "redis://host:6379/0");
            return false;
        }
    } else if (*rest) {
        set_err(err, errlen, "bad Redis URL: query and fragment are not supported in "
                             "redis:// (use /db)");
        return false;
    }
    return true;
}

/* unix:///path/redis.sock[?db=N][&password=X] */
static bool parse_unix(const char *s, fl_redis_url *out, char *err, size_t errlen)
{
    if (*s != '/') {
        set_err(err, errlen, "bad Redis URL: the socket path must be absolute, "
                             "unix:///path/redis.sock");
        return false;
    }
    size_t plen = strcspn(s, "?");
    struct sockaddr_un sa;
    if (!pct_decode(s, plen, out->path, sizeof out->path) ||
        strlen(out->path) >= sizeof sa.sun_path) {
        set_err(err, errlen, "bad Redis URL: socket path too long (max %zu bytes) or "
                             "bad %%-escape", sizeof sa.sun_path - 1);
        return false;
    }
    if (strlen(out->path) < 2) {
        set_err(err, errlen, "bad Redis URL: no socket path");
        return false;
    }
    const char *q = s + plen;
    if (*q == '?')
        q++;
    while (*q) {
        size_t len = strcspn(q, "&");
        const char *eq = memchr(q, '=', len);
        size_t klen = eq ? (size_t)(eq - q) : len;
        const char *v = eq ? eq + 1 : q + len;
        size_t vlen = eq ? len - klen - 1 : 0;
        if (klen == 2 && memcmp(q, "db", 2) == 0) {
            if (!parse_db(v, vlen, &out->db)) {
                set_err(err, errlen, "bad Redis URL: db must be a number");
                return false;
            }
        } else if (klen == 8 && memcmp(q, "password", 8) == 0) {
            if (!pct_decode(v, vlen, out->password, sizeof out->password)) {
                set_err(err, errlen,
                        "bad Redis URL: password has a bad %%-escape or is too long");
                return false;
            }
        } else if (len > 0) {
            set_err(err, errlen, "bad Redis URL: unknown parameter '%.*s' (db, password)",
                    (int)(klen > 32 ? 32 : klen), q);
            return false;
        }
        q += len;
        if (*q == '&')
            q++;
    }
    return true;
}

bool fl_redis_parse_url(const char *url, fl_redis_url *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    if (!url || !*url) {
        set_err(err, errlen, "empty Redis URL");
        return false;
    }
    /* Schemes are case-insensitive (RFC 3986 section 3.1). */
    if (strncasecmp(url, "redis://", 8) == 0)
        return parse_tcp(url + 8, out, err, errlen);
    if (strncasecmp(url, "unix://", 7) == 0)
        return parse_unix(url + 7, out, err, errlen);
    if (strncasecmp(url, "rediss://", 9) == 0) {
        set_err(err, errlen, "rediss:// (TLS) is not supported with hiredis 0.14: "
                             "use a unix socket or a local TLS tunnel");
        return false;
    }
    set_err(err, errlen, "bad Redis URL: expected redis://[:password@]host[:port][/db] "
                         "or unix:///path/redis.sock[?db=N][&password=X]");
    return false;
}

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

static void item_free(item *it)
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

static void set_last_error(fl_redis *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void set_last_error(fl_redis *r, const char *fmt, ...)
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

static void unlink_item(fl_redis *r, item *it)
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
static void enforce_budget(fl_redis *r)
{
    item *it = r->head;
    while (r->st.bytes_held > r->backlog_bytes && it) {
        item *next = it->next;
        if (!it->inflight) {
            unlink_item(r, it);
            item_free(it);
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
    enforce_budget(r);
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

    argbuf b = {0};
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
            fl_addr_str(&e->clients[k], text, sizeof text);
            ab_add(&b, text, strlen(text));
        }
    }
    enqueue(r, &b, KIND_BUCKET);
}

void fl_redis_put_alert(fl_redis *r, const char *provider, const char *state,
                        const char *json, const char *const *fields, size_t nfields)
{
    if (!r)
        return;
    provider = provider ? provider : "unknown";
    state = state ? state : "";
    json = json ? json : "{}";
    argbuf b = {0};
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

/* ------------------------------------------------------------ the writer */

static uint64_t rng_next(uint64_t *s)
{
    /* xorshift64*: only for backoff jitter. */
    uint64_t x = *s ? *s : 0x9e3779b97f4a7c15ull;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *s = x;
    return x * 0x2545f4914f6cdd1dull;
}

static struct timespec deadline_after(uint32_t ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_sec += ms / 1000;
    ts.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    return ts;
}

/* Sleep the current backoff (with jitter: between half and all of it, so
 * that sensors that lost the same Redis do not come back in lockstep),
 * waking early only to stop; then double it up to BACKOFF_MAX_MS. */
static void backoff_sleep(fl_redis *r)
{
    uint32_t d = r->backoff_ms;
    uint32_t ms = d / 2 + (uint32_t)(rng_next(&r->rng) % (d / 2 + 1));
    struct timespec until = deadline_after(ms);
    pthread_mutex_lock(&r->mu);
    while (!r->stop && pthread_cond_timedwait(&r->cv_work, &r->mu, &until) != ETIMEDOUT) {
    }
    pthread_mutex_unlock(&r->mu);
    r->backoff_ms = d * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : d * 2;
}

static void add_commands(fl_redis *r, uint64_t n)
{
    pthread_mutex_lock(&r->mu);
    r->st.commands += n;
    pthread_mutex_unlock(&r->mu);
}

/* hiredis writes with write(2), not send(MSG_NOSIGNAL): a peer that went
 * away raises SIGPIPE. The writer blocks it; a pending one is consumed so
 * it never reaches a thread that does not block it. */
static void drain_sigpipe(void)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGPIPE);
    struct timespec zero = {0, 0};
    while (sigtimedwait(&set, NULL, &zero) > 0) {
    }
}

static void disconnect(fl_redis *r)
{
    if (r->c)
        redisFree(r->c);
    r->c = NULL;
    drain_sigpipe();
    pthread_mutex_lock(&r->mu);
    r->st.connected = false;
    pthread_mutex_unlock(&r->mu);
}

static bool load_script(fl_redis *r, const char *body, char sha[41])
{
    redisReply *rep = redisCommand(r->c, "SCRIPT LOAD %s", body);
    add_commands(r, 1);
    bool ok = rep && rep->type == REDIS_REPLY_STRING && rep->len == 40;
    if (ok)
        memcpy(sha, rep->str, 41);
    else
        set_last_error(r, "SCRIPT LOAD: %s",
                       rep && rep->type == REDIS_REPLY_ERROR ? rep->str : r->c->errstr);
    freeReplyObject(rep);
    return ok;
}

static bool writer_connect(fl_redis *r)
{
    struct timeval tv = {(time_t)(r->timeout_ms / 1000),
                         (suseconds_t)(r->timeout_ms % 1000) * 1000};
    const char *where = r->url.path[0] ? r->url.path : r->url.host;
    r->c = r->url.path[0] ? redisConnectUnixWithTimeout(r->url.path, tv)
                          : redisConnectWithTimeout(r->url.host, r->url.port, tv);
    if (!r->c || r->c->err) {
        set_last_error(r, "connect %s: %s", where, r->c ? r->c->errstr : "out of memory");
        disconnect(r);
        return false;
    }
    redisSetTimeout(r->c, tv);
    if (!r->url.path[0])
        redisEnableKeepAlive(r->c);

    if (r->url.password[0]) {
        redisReply *rep = redisCommand(r->c, "AUTH %s", r->url.password);
        add_commands(r, 1);
        bool ok = rep && rep->type != REDIS_REPLY_ERROR;
        if (!ok)
            set_last_error(r, "AUTH: %s", rep ? rep->str : r->c->errstr);
        freeReplyObject(rep);
        if (!ok) {
            disconnect(r);
            return false;
        }
    }
    if (r->url.db) {
        redisReply *rep = redisCommand(r->c, "SELECT %d", r->url.db);
        add_commands(r, 1);
        bool ok = rep && rep->type != REDIS_REPLY_ERROR;
        if (!ok)
            set_last_error(r, "SELECT %d: %s", r->url.db, rep ? rep->str : r->c->errstr);
        freeReplyObject(rep);
        if (!ok) {
            disconnect(r);
            return false;
        }
    }
    /* Once per connection: the server may have restarted, and scripts do
     * not survive a restart. */
    if (!load_script(r, bucket_script, r->sha_bucket) ||
        !load_script(r, alert_script, r->sha_alert)) {
        disconnect(r);
        return false;
    }
    pthread_mutex_lock(&r->mu);
    r->st.connected = true;
    if (r->ever_connected)
        r->st.reconnects++;
    pthread_mutex_unlock(&r->mu);
    r->ever_connected = true;
    return true;
}

/* Error replies the server gives while it cannot serve yet: retry without
 * counting them against the batch. */
static bool transient_error(const char *s)
{
    static const char *const codes[] = {"LOADING", "BUSY", "TRYAGAIN", "MASTERDOWN",
                                        "OOM", "READONLY", "NOREPLICAS", "CLUSTERDOWN"};
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++)
        if (strncmp(s, codes[i], strlen(codes[i])) == 0)
            return true;
    return false;
}

enum outcome { OUT_RETRY, OUT_APPLIED, OUT_DUPLICATE, OUT_DROP };

static enum outcome judge(fl_redis *r, item *it, const redisReply *rep, bool *backoff)
{
    if (rep->type == REDIS_REPLY_INTEGER)
        return rep->integer ? OUT_APPLIED : OUT_DUPLICATE;
    const char *msg = rep->type == REDIS_REPLY_ERROR && rep->str ? rep->str : "unexpected reply";
    if (strncmp(msg, "NOSCRIPT", 8) == 0) {
        /* Script cache flushed under us: send the body from now on. */
        it->use_eval = true;
        return OUT_RETRY;
    }
    set_last_error(r, "batch: %s", msg);
    *backoff = true;
    if (transient_error(msg))
        return OUT_RETRY;
    /* A script error can leave the first writes applied (Redis does not
     * roll back a script) with the marker set, so a later re-send would
     * answer "duplicate". Retry a few times for bad luck, then give up. */
    return ++it->errors >= POISON_ERRORS ? OUT_DROP : OUT_RETRY;
}

/* Heartbeat: plain overwrite, not exactly-once (it is idempotent). */
static int append_heartbeat(fl_redis *r, const fl_heartbeat *hb, const char *version)
{
    pthread_mutex_lock(&r->mu);
    uint64_t held = r->st.batches_held, dropped = r->st.batches_dropped;
    pthread_mutex_unlock(&r->mu);
    char key[512];
    snprintf(key, sizeof key, "%s:sensor:%s", r->prefix, r->sensor);
    redisAppendCommand(r->c,
                       "HSET %s version %s packets %" PRIu64 " drops %" PRIu64
                       " last_seen %" PRIu64 " held %" PRIu64 " dropped %" PRIu64
                       " connected 1 wall %" PRIu64,
                       key, version, hb->packets, hb->drops, hb->last_packet_ts, held, dropped,
                       (uint64_t)time(NULL));
    redisAppendCommand(r->c, "EXPIRE %s %" PRIu32, key, r->retention_s);
    return 2;
}

/* One pipelined round. False if the connection failed or a batch needs a
 * pause before it is retried. */
static bool writer_round(fl_redis *r)
{
    item *batch[PIPE_MAX];
    int n = 0;
    size_t bytes = 0;
    bool hb_send = false, lose = false;
    fl_heartbeat hb;
    char version[sizeof r->hb_version];

    pthread_mutex_lock(&r->mu);
    for (item *it = r->head; it && n < PIPE_MAX; it = it->next) {
        if (n > 0 && bytes + it->bytes > PIPE_BYTES)
            break;
        it->inflight = true;
        batch[n++] = it;
        bytes += it->bytes;
    }
    if (r->hb_pending) {
        hb = r->hb;
        memcpy(version, r->hb_version, sizeof version);
        r->hb_pending = false;
        r->hb_inflight = true;
        hb_send = true;
    }
    if (r->lose_replies) {
        r->lose_replies--;
        lose = true;
    }
    pthread_mutex_unlock(&r->mu);

    /* Items in flight belong to this thread: no lock needed for them. */
    uint64_t ncmd = 0;
    for (int i = 0; i < n; i++) {
        item *it = batch[i];
        const char *sha = it->kind == KIND_BUCKET ? r->sha_bucket : r->sha_alert;
        const char *body = it->kind == KIND_BUCKET ? bucket_script : alert_script;
        it->argv[0] = it->use_eval ? "EVAL" : "EVALSHA";
        it->argvlen[0] = strlen(it->argv[0]);
        it->argv[1] = it->use_eval ? body : sha;
        it->argvlen[1] = strlen(it->argv[1]);
        redisAppendCommandArgv(r->c, it->argc, it->argv, it->argvlen);
        ncmd++;
    }
    int hb_cmds = hb_send ? append_heartbeat(r, &hb, version) : 0;
    ncmd += (uint64_t)hb_cmds;
    add_commands(r, ncmd);

    enum outcome out[PIPE_MAX];
    bool io_ok = true, backoff = false;
    int got = 0;
    for (; got < n; got++) {
        redisReply *rep = NULL;
        if (redisGetReply(r->c, (void **)&rep) != REDIS_OK) {
            io_ok = false;
            break;
        }
        out[got] = lose ? OUT_RETRY : judge(r, batch[got], rep, &backoff);
        freeReplyObject(rep);
    }
    bool hb_done = false;
    if (io_ok && hb_send) {
        hb_done = true;
        for (int i = 0; i < hb_cmds; i++) {
            redisReply *rep = NULL;
            if (redisGetReply(r->c, (void **)&rep) != REDIS_OK) {
                io_ok = hb_done = false;
                break;
            }
            if (rep->type == REDIS_REPLY_ERROR)
                set_last_error(r, "heartbeat: %s", rep->str);
            freeReplyObject(rep);
        }
    }
    if (io_ok && lose) {
        set_last_error(r, "test: replies thrown away");
        io_ok = false;
        hb_done = false;
    } else if (!io_ok) {
        set_last_error(r, "redis: %s", r->c->errstr[0] ? r->c->errstr : "connection lost");
    }
    if (!io_ok) {
        disconnect(r);
        for (int i = got; i < n; i++)
            out[i] = OUT_RETRY;
    }

    item *done = NULL;
    pthread_mutex_lock(&r->mu);
    for (int i = 0; i < n; i++) {
        item *it = batch[i];
        it->inflight = false;
        if (out[i] == OUT_RETRY)
            continue;
        if (out[i] == OUT_APPLIED)
            r->st.batches_applied++;
        else if (out[i] == OUT_DUPLICATE)
            r->st.batches_duplicate++;
        else
            r->st.batches_dropped++;
        unlink_item(r, it);
        it->next = done;
        done = it;
    }
    /* Replies lost or budget exceeded while we were on the wire. */
    enforce_budget(r);
    if (hb_send) {
        r->hb_inflight = false;
        if (!hb_done && !r->hb_pending) {
            /* Put it back unless a newer one arrived meanwhile. */
            r->hb = hb;
            memcpy(r->hb_version, version, sizeof version);
            r->hb_pending = true;
        }
    }
    pthread_cond_broadcast(&r->cv_idle);
    pthread_mutex_unlock(&r->mu);
    while (done) {
        item *next = done->next;
        item_free(done);
        done = next;
    }
    return io_ok && !backoff;
}

static void *writer_main(void *arg)
{
    fl_redis *r = arg;
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &set, NULL);

    pthread_mutex_lock(&r->mu);
    for (;;) {
        while (!r->stop && !r->head && !r->hb_pending)
            pthread_cond_wait(&r->cv_work, &r->mu);
        if (r->stop)
            break;
        pthread_mutex_unlock(&r->mu);
        bool ok = r->c || writer_connect(r);
        if (ok)
            ok = writer_round(r);
        if (ok)
            r->backoff_ms = BACKOFF_MIN_MS;
        else
            backoff_sleep(r);
        pthread_mutex_lock(&r->mu);
    }
    pthread_mutex_unlock(&r->mu);
    disconnect(r);
    return NULL;
}

/* ---------------------------------------------------------------- the API */

fl_redis *fl_redis_new(const fl_redis_options *opt, char *err, size_t errlen)
{
    if (!opt) {
        set_err(err, errlen, "no Redis options");
        return NULL;
    }
    fl_redis *r = calloc(1, sizeof *r);
    if (!r) {
        set_err(err, errlen, "out of memory");
        return NULL;
    }
    if (!fl_redis_parse_url(opt->url, &r->url, err, errlen)) {
        free(r);
        return NULL;
    }
    char host[256] = "";
    const char *sensor = opt->sensor;
    if (!sensor || !*sensor) {
        if (gethostname(host, sizeof host - 1) != 0 || !host[0])
            snprintf(host, sizeof host, "sensor");
        sensor = host;
    }
    r->prefix = strdup(opt->prefix && *opt->prefix ? opt->prefix : DEFAULT_PREFIX);
    r->sensor = strdup(sensor);
    r->retention_s = opt->retention_s ? opt->retention_s : DEFAULT_RETENTION_S;
    r->backlog_bytes = opt->backlog_bytes ? opt->backlog_bytes : DEFAULT_BACKLOG_BYTES;
    r->stream_maxlen = opt->stream_maxlen ? opt->stream_maxlen : DEFAULT_STREAM_MAXLEN;
    r->timeout_ms = opt->timeout_ms ? opt->timeout_ms : DEFAULT_TIMEOUT_MS;
    r->backoff_ms = BACKOFF_MIN_MS;
    if (getrandom(&r->run_id, sizeof r->run_id, 0) != (ssize_t)sizeof r->run_id) {
        /* No entropy source: time and pid still separate two runs. */
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        r->run_id = ((uint64_t)ts.tv_sec << 32) ^ (uint64_t)ts.tv_nsec ^
                    ((uint64_t)getpid() << 16);
    }
    r->rng = r->run_id | 1;
    atomic_init(&r->seq, 0);

    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_mutex_init(&r->mu, NULL);
    pthread_cond_init(&r->cv_work, &ca);
    pthread_cond_init(&r->cv_idle, &ca);
    pthread_condattr_destroy(&ca);

    if (!r->prefix || !r->sensor) {
        set_err(err, errlen, "out of memory");
        fl_redis_free(r);
        return NULL;
    }
    int rc = pthread_create(&r->thread, NULL, writer_main, r);
    if (rc != 0) {
        set_err(err, errlen, "cannot start the Redis writer thread: %s", strerror(rc));
        fl_redis_free(r);
        return NULL;
    }
    r->thread_started = true;
    return r;
}

bool fl_redis_flush(fl_redis *r, uint32_t timeout_ms)
{
    if (!r)
        return true;
    struct timespec until = deadline_after(timeout_ms);
    pthread_mutex_lock(&r->mu);
    while ((r->head || r->hb_pending || r->hb_inflight) &&
           pthread_cond_timedwait(&r->cv_idle, &r->mu, &until) != ETIMEDOUT) {
    }
    bool empty = !r->head && !r->hb_pending && !r->hb_inflight;
    pthread_mutex_unlock(&r->mu);
    return empty;
}

void fl_redis_get_stats(fl_redis *r, fl_redis_stats *st)
{
    if (!r) {
        memset(st, 0, sizeof *st);
        return;
    }
    pthread_mutex_lock(&r->mu);
    *st = r->st;
    pthread_mutex_unlock(&r->mu);
}

bool fl_redis_last_error(fl_redis *r, char *buf, size_t len)
{
    if (!r || !buf || !len)
        return false;
    pthread_mutex_lock(&r->mu);
    snprintf(buf, len, "%s", r->last_error);
    pthread_mutex_unlock(&r->mu);
    return buf[0] != '\0';
}

void fl_redis_test_lose_replies(fl_redis *r, unsigned rounds)
{
    pthread_mutex_lock(&r->mu);
    r->lose_replies = rounds;
    pthread_mutex_unlock(&r->mu);
}

void fl_redis_free(fl_redis *r)
{
    if (!r)
        return;
    if (r->thread_started) {
        pthread_mutex_lock(&r->mu);
        r->stop = true;
        pthread_cond_broadcast(&r->cv_work);
        pthread_mutex_unlock(&r->mu);
        pthread_join(r->thread, NULL);
    }
    /* Whatever was not delivered is lost now: it counts as dropped. */
    while (r->head) {
        item *it = r->head;
        unlink_item(r, it);
        r->st.batches_dropped++;
        item_free(it);
    }
    pthread_cond_destroy(&r->cv_work);
    pthread_cond_destroy(&r->cv_idle);
    pthread_mutex_destroy(&r->mu);
    free(r->prefix);
    free(r->sensor);
    free(r);
}

/* ------------------------------------------------------- reading back */

struct fl_redis_reader {
    fl_redis_url url;
    char *prefix;
    uint32_t timeout_ms;
    redisContext *c;
};

static struct timeval ms_timeval(uint32_t ms)
{
    return (struct timeval){(time_t)(ms / 1000), (suseconds_t)(ms % 1000) * 1000};
}

fl_redis_reader *fl_redis_reader_open(const char *url, const char *prefix,
                                      uint32_t timeout_ms, char *err, size_t errlen)
{
    fl_redis_reader *rd = calloc(1, sizeof *rd);
    if (!rd) {
        set_err(err, errlen, "out of memory");
        return NULL;
    }
    if (!fl_redis_parse_url(url, &rd->url, err, errlen)) {
        free(rd);
        return NULL;
    }
    rd->prefix = strdup(prefix && *prefix ? prefix : DEFAULT_PREFIX);
    rd->timeout_ms = timeout_ms ? timeout_ms : DEFAULT_TIMEOUT_MS;
    if (!rd->prefix) {
        set_err(err, errlen, "out of memory");
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
static redisReply *reader_check(fl_redis_reader *rd, redisReply *rep, const char *what,
                                char *err, size_t errlen)
{
    if (!rep) {
        set_err(err, errlen, "%s: %s", what,
                rd->c && rd->c->errstr[0] ? rd->c->errstr : "connection lost");
        reader_drop(rd);
        return NULL;
    }
    if (rep->type == REDIS_REPLY_ERROR) {
        set_err(err, errlen, "%s: %s", what, rep->str);
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
    struct timeval tv = ms_timeval(rd->timeout_ms);
    rd->c = rd->url.path[0] ? redisConnectUnixWithTimeout(rd->url.path, tv)
                            : redisConnectWithTimeout(rd->url.host, rd->url.port, tv);
    if (!rd->c || rd->c->err) {
        if (rd->url.path[0])
            set_err(err, errlen, "cannot connect to Redis at %s: %s", rd->url.path,
                    rd->c ? rd->c->errstr : "out of memory");
        else
            set_err(err, errlen, "cannot connect to Redis at %s:%d: %s", rd->url.host,
                    rd->url.port, rd->c ? rd->c->errstr : "out of memory");
        reader_drop(rd);
        return false;
    }
    redisSetTimeout(rd->c, tv);
    redisReply *rep;
    if (rd->url.password[0]) {
        rep = reader_check(rd, redisCommand(rd->c, "AUTH %s", rd->url.password), "AUTH",
                           err, errlen);
        if (!rep) {
            reader_drop(rd);
            return false;
        }
        freeReplyObject(rep);
    }
    if (rd->url.db) {
        rep = reader_check(rd, redisCommand(rd->c, "SELECT %d", rd->url.db), "SELECT", err,
                           errlen);
        if (!rep) {
            reader_drop(rd);
            return false;
        }
        freeReplyObject(rep);
    }
    return true;
}

/* XRANGE / XREAD entries: [id, [field, value, ...]] each. */
#define ENTRY_FV_MAX 128

static long take_entries(const redisReply *arr, char *after, size_t afterlen,
                         fl_redis_entry_fn fn, void *ctx)
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
                          uint32_t count, fl_redis_entry_fn fn, void *ctx,
                          char *err, size_t errlen)
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
        redisSetTimeout(rd->c, ms_timeval(block_ms + rd->timeout_ms));
        rep = reader_check(rd, redisCommand(rd->c, "XREAD COUNT %u BLOCK %u STREAMS %s %s",
                                            count, block_ms, key, after),
                           "XREAD", err, errlen);
        if (!rep)
            return -1;
        redisSetTimeout(rd->c, ms_timeval(rd->timeout_ms));
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
static bool scan_keys(fl_redis_reader *rd, const char *pattern, strvec *out,
                      char *err, size_t errlen)
{
    char cursor[32] = "0";
    do {
        redisReply *rep = reader_check(
            rd, redisCommand(rd->c, "SCAN %s MATCH %s COUNT 1000", cursor, pattern), "SCAN",
            err, errlen);
        if (!rep)
            return false;
        if (rep->type != REDIS_REPLY_ARRAY || rep->elements != 2 ||
            rep->element[0]->type != REDIS_REPLY_STRING ||
            rep->element[1]->type != REDIS_REPLY_ARRAY) {
            set_err(err, errlen, "SCAN: unexpected reply");
            freeReplyObject(rep);
            return false;
        }
        snprintf(cursor, sizeof cursor, "%s", rep->element[0]->str);
        const redisReply *keys = rep->element[1];
        for (size_t i = 0; i < keys->elements; i++) {
            const redisReply *k = keys->element[i];
            if (k->type == REDIS_REPLY_STRING && !sv_push(out, k->str, k->len)) {
                set_err(err, errlen, "out of memory");
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

static bool hgetall_keys(fl_redis_reader *rd, const strvec *keys, hash_fn fn, void *ctx,
                         char *err, size_t errlen)
{
    for (size_t base = 0; base < keys->n; base += HGETALL_ROUND) {
        size_t m = keys->n - base < HGETALL_ROUND ? keys->n - base : HGETALL_ROUND;
        for (size_t i = 0; i < m; i++)
            redisAppendCommand(rd->c, "HGETALL %s", keys->v[base + i]);
        bool ok = true;
        for (size_t i = 0; i < m; i++) {
            redisReply *rep = NULL;
            if (redisGetReply(rd->c, (void **)&rep) != REDIS_OK) {
                set_err(err, errlen, "HGETALL: %s",
                        rd->c->errstr[0] ? rd->c->errstr : "connection lost");
                reader_drop(rd);
                return false;
            }
            if (rep->type == REDIS_REPLY_ARRAY)
                fn(ctx, keys->v[base + i], rep);
            else if (ok) {
                /* e.g. WRONGTYPE: a key of ours that is not a hash */
                set_err(err, errlen, "HGETALL %s: %s", keys->v[base + i],
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
    uint64_t lo_excl, hi;      /* bucket starts in (lo_excl, hi] */
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

/* P:state:<sensor>: the sensor's own alert states, and the providers'
 * (raised when any sensor holds it raised). */
static bool read_sensor_states(fl_redis_reader *rd, status_ctx *sc, char *err, size_t errlen)
{
    fl_redis_status *st = sc->st;
    for (size_t i = 0; i < st->nsensors; i++) {
        fl_redis_sensor_status *s = &st->sensors[i];
        redisReply *rep = reader_check(rd, redisCommand(rd->c, "HGETALL %s:state:%s",
                                                        rd->prefix, s->name),
                                       "HGETALL", err, errlen);
        if (!rep)
            return false;
        size_t n = 0;
        for (size_t j = 0; rep->type == REDIS_REPLY_ARRAY && j + 1 < rep->elements; j += 2) {
            const redisReply *f = rep->element[j], *v = rep->element[j + 1];
            if (f->type != REDIS_REPLY_STRING || v->type != REDIS_REPLY_STRING)
                continue;
            if (n < sizeof s->alerts)
                n += (size_t)snprintf(s->alerts + n, sizeof s->alerts - n, "%s%s %s",
                                      n ? ", " : "", f->str, v->str);
            fl_redis_provider_status *p = find_provider(sc, f->str, f->len);
            if (p && strcmp(p->state, "raised") != 0)
                snprintf(p->state, sizeof p->state, "%s", v->str);
        }
        freeReplyObject(rep);
    }
    return true;
}

/* <P>:cnt:<provider>:<bucket>: a provider name has no ':' (DESIGN.md). */
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

bool fl_redis_read_status(fl_redis_reader *rd, uint32_t bucket_s, uint32_t window_s,
                          fl_redis_status *st, char *err, size_t errlen)
{
    memset(st, 0, sizeof *st);
    if (!rd || !reader_connect(rd, err, errlen))
        return false;
    if (!bucket_s)
        bucket_s = 10;
    status_ctx sc = {.st = st, .prefix_len = strlen(rd->prefix)};
    char esc[200], pattern[300];
    glob_escape(rd->prefix, esc, sizeof esc);
    strvec keys = {0};
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
    if (!read_sensor_states(rd, &sc, err, errlen))
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
        set_err(err, errlen, "out of memory");
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
