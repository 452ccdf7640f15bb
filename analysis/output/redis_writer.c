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

#include "redis_writer_int.h"
#include "sink_redis_int.h"

#define DEFAULT_RETENTION_S (7u * 24 * 3600)
#define DEFAULT_BACKLOG_BYTES (64ull << 20)
#define DEFAULT_STREAM_MAXLEN 100000u

#define PIPE_BYTES (4u << 20) /* and their serialized bytes */
#define BACKOFF_MIN_MS 100u
#define BACKOFF_MAX_MS 5000u
#define POISON_ERRORS 3 /* error replies before a batch is dropped */
#define PFADD_CHUNK 512 /* Lua unpack() stays far below LUAI_MAXCSTACK */

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
    struct timespec zero = { 0, 0 };
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
        fl_rw_set_last_error(r, "SCRIPT LOAD: %s",
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
        fl_rw_set_last_error(r, "%s", err);
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
    static const char *const codes[] = { "LOADING", "BUSY",     "TRYAGAIN",   "MASTERDOWN",
                                         "OOM",     "READONLY", "NOREPLICAS", "CLUSTERDOWN" };
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
    fl_rw_set_last_error(r, "batch: %s", msg);
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
                       "HSET %s version %s packets %" PRIu64 " drops %" PRIu64 " last_seen %" PRIu64
                       " held %" PRIu64 " dropped %" PRIu64 " connected 1 wall %" PRIu64,
                       key, version, hb->packets, hb->drops, hb->last_packet_ts, held, dropped,
                       (uint64_t)time(NULL));
    redisAppendCommand(r->c, "EXPIRE %s %" PRIu32, key, r->retention_s);
    return 2;
}

/* One pipelined round: what it sends and what became of it. */
typedef struct wround {
    item *batch[PIPE_MAX];
    enum outcome out[PIPE_MAX];
    int n;
    bool hb_send, hb_done, lose;
    int hb_cmds;
    fl_heartbeat hb;
    char version[64];
} wround;

/* Under the lock: up to PIPE_MAX batches (PIPE_BYTES) from the head, the
 * pending heartbeat, the test hook. */
static void round_take(fl_redis *r, wround *rd)
{
    size_t bytes = 0;
    pthread_mutex_lock(&r->mu);
    for (item *it = r->head; it && rd->n < PIPE_MAX; it = it->next) {
        if (rd->n > 0 && bytes + it->bytes > PIPE_BYTES)
            break;
        it->inflight = true;
        rd->batch[rd->n++] = it;
        bytes += it->bytes;
    }
    if (r->hb_pending) {
        rd->hb = r->hb;
        memcpy(rd->version, r->hb_version, sizeof rd->version);
        r->hb_pending = false;
        r->hb_inflight = true;
        rd->hb_send = true;
    }
    if (r->lose_replies) {
        r->lose_replies--;
        rd->lose = true;
    }
    pthread_mutex_unlock(&r->mu);
}

/* Items in flight belong to this thread: no lock needed for them. */
static void round_send(fl_redis *r, wround *rd)
{
    uint64_t ncmd = 0;
    for (int i = 0; i < rd->n; i++) {
        item *it = rd->batch[i];
        const char *sha = it->kind == KIND_BUCKET ? r->sha_bucket : r->sha_alert;
        const char *body = it->kind == KIND_BUCKET ? bucket_script : alert_script;
        it->argv[0] = it->use_eval ? "EVAL" : "EVALSHA";
        it->argvlen[0] = strlen(it->argv[0]);
        it->argv[1] = it->use_eval ? body : sha;
        it->argvlen[1] = strlen(it->argv[1]);
        redisAppendCommandArgv(r->c, it->argc, it->argv, it->argvlen);
        ncmd++;
    }
    rd->hb_cmds = rd->hb_send ? append_heartbeat(r, &rd->hb, rd->version) : 0;
    ncmd += (uint64_t)rd->hb_cmds;
    add_commands(r, ncmd);
}

/* The replies, in order; false if the connection failed (the batches not
 * answered are retried). *backoff: an error reply wants a pause. */
static bool round_replies(fl_redis *r, wround *rd, bool *backoff)
{
    bool io_ok = true;
    int got = 0;
    for (; got < rd->n; got++) {
        redisReply *rep = NULL;
        if (redisGetReply(r->c, (void **)&rep) != REDIS_OK) {
            io_ok = false;
            break;
        }
        rd->out[got] = rd->lose ? OUT_RETRY : judge(r, rd->batch[got], rep, backoff);
        freeReplyObject(rep);
    }
    if (io_ok && rd->hb_send) {
        rd->hb_done = true;
        for (int i = 0; i < rd->hb_cmds; i++) {
            redisReply *rep = NULL;
            if (redisGetReply(r->c, (void **)&rep) != REDIS_OK) {
                io_ok = rd->hb_done = false;
                break;
            }
            if (rep->type == REDIS_REPLY_ERROR)
                fl_rw_set_last_error(r, "heartbeat: %s", rep->str);
            freeReplyObject(rep);
        }
    }
    if (io_ok && rd->lose) {
        fl_rw_set_last_error(r, "test: replies thrown away");
        io_ok = false;
        rd->hb_done = false;
    } else if (!io_ok) {
        fl_rw_set_last_error(r, "redis: %s", r->c->errstr[0] ? r->c->errstr : "connection lost");
    }
    if (!io_ok) {
        disconnect(r);
        for (int i = got; i < rd->n; i++)
            rd->out[i] = OUT_RETRY;
    }
    return io_ok;
}

/* Under the lock: answered batches leave the queue (freed after), the
 * heartbeat goes back if it was not delivered. */
static void round_settle(fl_redis *r, wround *rd)
{
    item *done = NULL;
    pthread_mutex_lock(&r->mu);
    for (int i = 0; i < rd->n; i++) {
        item *it = rd->batch[i];
        it->inflight = false;
        if (rd->out[i] == OUT_RETRY)
            continue;
        if (rd->out[i] == OUT_APPLIED)
            r->st.batches_applied++;
        else if (rd->out[i] == OUT_DUPLICATE)
            r->st.batches_duplicate++;
        else
            r->st.batches_dropped++;
        fl_rw_unlink_item(r, it);
        it->next = done;
        done = it;
    }
    /* Replies lost or budget exceeded while we were on the wire. */
    fl_rw_enforce_budget(r);
    if (rd->hb_send) {
        r->hb_inflight = false;
        if (!rd->hb_done && !r->hb_pending) {
            /* Put it back unless a newer one arrived meanwhile. */
            r->hb = rd->hb;
            memcpy(r->hb_version, rd->version, sizeof rd->version);
            r->hb_pending = true;
        }
    }
    pthread_cond_broadcast(&r->cv_idle);
    pthread_mutex_unlock(&r->mu);
    while (done) {
        item *next = done->next;
        fl_rw_item_free(done);
        done = next;
    }
}

/* One pipelined round. False if the connection failed or a batch needs a
 * pause before it is retried. */
static bool writer_round(fl_redis *r)
{
    wround rd;
    memset(&rd, 0, sizeof rd);
    round_take(r, &rd);
    round_send(r, &rd);
    bool backoff = false;
    bool io_ok = round_replies(r, &rd, &backoff);
    round_settle(r, &rd);
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
    r->client_hasher = opt->client_hasher;
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
        r->run_id = ((uint64_t)ts.tv_sec << 32) ^ (uint64_t)ts.tv_nsec ^ ((uint64_t)getpid() << 16);
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
        fl_rw_unlink_item(r, it);
        r->st.batches_dropped++;
        fl_rw_item_free(it);
    }
    pthread_cond_destroy(&r->cv_work);
    pthread_cond_destroy(&r->cv_idle);
    pthread_mutex_destroy(&r->mu);
    free(r->prefix);
    free(r->sensor);
    free(r);
}
