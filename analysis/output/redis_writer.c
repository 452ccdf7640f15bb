/* redis_writer.c - the Redis output's writer (include/fl_redis.h).
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
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "redis_conn.h"
#include "sink_redis_int.h"

#define DEFAULT_RETENTION_S (7u * 24 * 3600)
#define DEFAULT_BACKLOG_BYTES (64ull << 20)
#define DEFAULT_STREAM_MAXLEN 100000u

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
    ab_addf(&b, "%s:state", r->prefix);
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
    char err[sizeof r->last_error];
    uint64_t ncmds = 0;
    r->c = fl_redis_connect(&r->url, r->timeout_ms, &ncmds, err, sizeof err);
    add_commands(r, ncmds);
    if (!r->c) {
        set_last_error(r, "%s", err);
        disconnect(r);
        return false;
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
                       " connected 1",
                       key, version, hb->packets, hb->drops, hb->last_packet_ts, held, dropped);
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
        fl_redis_set_err(err, errlen, "no Redis options");
        return NULL;
    }
    fl_redis *r = calloc(1, sizeof *r);
    if (!r) {
        fl_redis_set_err(err, errlen, "out of memory");
        return NULL;
    }
    if (!fl_redis_parse_url(opt->url, &r->url, err, errlen)) {
        free(r);
        return NULL;
    }
    char host[256];
    const char *sensor = opt->sensor;
    if (!sensor || !*sensor) {
        fl_redis_default_sensor(host, sizeof host);
        sensor = host;
    }
    r->prefix = strdup(opt->prefix && *opt->prefix ? opt->prefix : FL_REDIS_DEFAULT_PREFIX);
    r->sensor = strdup(sensor);
    r->retention_s = opt->retention_s ? opt->retention_s : DEFAULT_RETENTION_S;
    r->backlog_bytes = opt->backlog_bytes ? opt->backlog_bytes : DEFAULT_BACKLOG_BYTES;
    r->stream_maxlen = opt->stream_maxlen ? opt->stream_maxlen : DEFAULT_STREAM_MAXLEN;
    r->timeout_ms = opt->timeout_ms ? opt->timeout_ms : FL_REDIS_DEFAULT_TIMEOUT_MS;
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
        fl_redis_set_err(err, errlen, "out of memory");
        fl_redis_free(r);
        return NULL;
    }
    int rc = pthread_create(&r->thread, NULL, writer_main, r);
    if (rc != 0) {
        fl_redis_set_err(err, errlen, "cannot start the Redis writer thread: %s", strerror(rc));
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
