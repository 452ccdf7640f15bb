/* out_redis.c - the Redis output: closed buckets, alert events and
 * heartbeats to the writer (fl_redis.h); at the end, delivery of what is
 * held, up to 30 s. */
#include <stdlib.h>

#include "fl_output.h"
#include "fl_redis.h"
#include "fl_report.h"

#define FINISH_FLUSH_MS 30000

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
        .timeout_ms = 2000,
    };
    char e[480];
    fl_redis *r = fl_redis_new(&ro, e, sizeof e);
    if (!r)
        snprintf(err, errlen, "redis: %s", e);
    return r;
}

static void redis_bucket(void *self, const fl_run_view *v, const fl_bucket_entry *entries,
                         size_t n)
{
    (void)v;
    fl_redis_put_bucket(self, entries, n);
}

static void redis_alert(void *self, const fl_run_view *v, const fl_alert *a, bool resolved)
{
    fl_alert_event ev;
    fl_alert_event_make(&ev, v, a, resolved);
    if (ev.json)
        fl_redis_put_alert(self, a->provider, ev.state, ev.json,
                           (const char *const *)ev.fields, ev.nfields);
    fl_alert_event_free(&ev);
}

static void redis_heartbeat(void *self, const fl_run_view *v, uint64_t kernel_drops)
{
    fl_heartbeat hb = { FL_VERSION, v->stats.packets, kernel_drops,
                        v->stats.last_ts_us / 1000000 };
    fl_redis_put_heartbeat(self, &hb);
}

/* Deliver what is held, say what could not be. */
static fl_output_result redis_finish(void *self, const fl_run_view *v, char *msg, size_t msglen)
{
    (void)v;
    bool done = fl_redis_flush(self, FINISH_FLUSH_MS);
    fl_redis_stats rs;
    fl_redis_get_stats(self, &rs);
    if (done && !rs.batches_dropped)
        return FL_OUT_OK;
    char err[256] = "";
    fl_redis_last_error(self, err, sizeof err);
    snprintf(msg, msglen, "redis: %llu batches not delivered, %llu dropped over budget%s%s",
             (unsigned long long)rs.batches_held, (unsigned long long)rs.batches_dropped,
             err[0] ? ": " : "", err);
    return FL_OUT_WARN;
}

static void redis_close(void *self)
{
    fl_redis_free(self);
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
