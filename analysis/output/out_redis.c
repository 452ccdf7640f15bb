/* out_redis.c - the Redis output: closed buckets, alert events and
 * heartbeats to the writer (fl_redis.h); at the end, delivery of what is
 * held, bounded: [redis] flush_s (a replay waits that long for a Redis that
 * comes back), but a live sensor whose Redis is down at that moment waits
 * only DOWN_FLUSH_MS (SIGTERM must not hang on a dead server); plus the
 * writer's command timeout for a call in flight. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fl_output.h"
#include "fl_redis.h"
#include "fl_report.h"

#define DOWN_FLUSH_MS 2000
#define COMMAND_TIMEOUT_MS 2000

typedef struct redis_out {
    fl_redis *r;
    double flush_s;
    bool live;
} redis_out;

static void *redis_open(const fl_output_args *args, char *err, size_t errlen)
{
    const fl_config *c = args->cfg;
    fl_redis_options ro = {
        .url = c->redis_url,
        .prefix = c->redis_prefix,
        .sensor = c->sensor,
        .retention_s = c->retention_s,
        .backlog_bytes = (uint64_t)c->backlog_mb << 20,
        .stream_maxlen = c->stream_maxlen,
        .timeout_ms = COMMAND_TIMEOUT_MS,
        .client_hasher = args->client_hasher,
    };
    char e[480];
    redis_out *o = calloc(1, sizeof *o);
    if (!o) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    o->flush_s = c->flush_s;
    o->live = args->live;
    o->r = fl_redis_new(&ro, e, sizeof e);
    if (!o->r) {
        snprintf(err, errlen, "redis: %s", e);
        free(o);
        return NULL;
    }
    return o;
}

static void redis_bucket(void *self, const fl_run_view *v, const fl_bucket_entry *entries, size_t n)
{
    (void)v;
    fl_redis_put_bucket(((redis_out *)self)->r, entries, n);
}

static void redis_alert(void *self, const fl_run_view *v, const fl_alert *a, bool resolved)
{
    fl_alert_event ev;
    fl_alert_event_make(&ev, v, a, resolved);
    if (ev.json)
        fl_redis_put_alert(((redis_out *)self)->r, a->provider, ev.state, ev.json,
                           (const char *const *)ev.fields, ev.nfields);
    fl_alert_event_free(&ev);
}

static void redis_heartbeat(void *self, const fl_run_view *v, uint64_t kernel_drops)
{
    fl_heartbeat hb = { FL_VERSION, v->stats.packets, kernel_drops, v->stats.last_ts_us / 1000000 };
    fl_redis_put_heartbeat(((redis_out *)self)->r, &hb);
}

/* Deliver what is held, say what could not be. */
static fl_output_result redis_finish(void *self, const fl_run_view *v, char *msg, size_t msglen)
{
    (void)v;
    redis_out *o = self;
    fl_redis_stats rs;
    fl_redis_get_stats(o->r, &rs);
    double ms = o->flush_s * 1000.0;
    if (o->live && !rs.connected && ms > DOWN_FLUSH_MS)
        ms = DOWN_FLUSH_MS;
    if (ms > 3600e3)
        ms = 3600e3;
    bool done = fl_redis_flush(o->r, (uint32_t)ms);
    fl_redis_get_stats(o->r, &rs);
    if (done && !rs.batches_dropped)
        return FL_OUT_OK;
    char err[256] = "";
    fl_redis_last_error(o->r, err, sizeof err);
    snprintf(msg, msglen, "redis: %llu batches not delivered, %llu dropped over budget%s%s",
             (unsigned long long)rs.batches_held, (unsigned long long)rs.batches_dropped,
             err[0] ? ": " : "", err);
    return FL_OUT_WARN;
}

static void redis_close(void *self)
{
    redis_out *o = self;
    fl_redis_free(o->r);
    free(o);
}

bool fl_outputs_redis_stats(const fl_outputs *set, fl_redis_stats *st, char *err, size_t errlen)
{
    for (size_t i = 0; set && i < set->n; i++)
        if (set->type[i] == &fl_output_redis) {
            redis_out *o = set->self[i];
            fl_redis_get_stats(o->r, st);
            if (err && errlen) {
                err[0] = '\0';
                fl_redis_last_error(o->r, err, errlen);
            }
            return true;
        }
    return false;
}

const fl_output_type fl_output_redis = {
    .name = "redis",
    .open = redis_open,
    .bucket_closed = redis_bucket,
    .alert = redis_alert,
    .heartbeat = redis_heartbeat,
    .finish = redis_finish,
    .close = redis_close,
};
