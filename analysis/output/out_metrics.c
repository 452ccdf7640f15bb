/* out_metrics.c - the Prometheus output (--metrics ADDR:PORT): publishes a
 * snapshot of the run view at each closed bucket, alert, heartbeat and at
 * the end; metrics_http.c serves the latest one. Nothing on the packet
 * path. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fl_classify.h"
#include "fl_log.h"
#include "fl_metrics.h"
#include "fl_output.h"
#include "fl_source.h"

typedef struct metrics_out {
    fl_metrics *m;
    fl_metrics_snapshot *snap; /* ~15 KiB: allocated once */
    uint64_t buckets;
    uint64_t kernel_drops;
} metrics_out;

static void *metrics_open(const fl_output_args *args, char *err, size_t errlen)
{
    char host[256];
    unsigned port;
    if (!fl_metrics_parse_addr(args->metrics_addr, host, sizeof host, &port, err, errlen))
        return NULL;
    metrics_out *o = calloc(1, sizeof *o);
    if (!o || !(o->snap = calloc(1, sizeof *o->snap))) {
        free(o);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    fl_metrics_build b = { FL_VERSION, fl_classify_ndpi_version(), fl_source_pcap_version(),
                           FL_HIREDIS_VERSION, args->cfg ? args->cfg->sensor : "" };
    o->m = fl_metrics_start(args->metrics_addr, &b, err, errlen);
    if (!o->m) {
        free(o->snap);
        free(o);
        return NULL;
    }
    FL_NOTICE("metrics on http://%s%s%s:%u/metrics", strchr(host, ':') ? "[" : "", host,
              strchr(host, ':') ? "]" : "", fl_metrics_port(o->m));
    return o;
}

static void publish(metrics_out *o, const fl_run_view *v)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    fl_metrics_snapshot_fill(o->snap, v);
    o->snap->kernel_drops =
        o->kernel_drops > v->src.kernel_drops ? o->kernel_drops : v->src.kernel_drops;
    o->snap->buckets_closed = o->buckets;
    o->snap->published_at = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
    fl_metrics_publish(o->m, o->snap);
}

static void metrics_bucket(void *self, const fl_run_view *v, const fl_bucket_entry *e, size_t n)
{
    (void)e;
    (void)n;
    metrics_out *o = self;
    o->buckets++;
    publish(o, v);
}

static void metrics_alert(void *self, const fl_run_view *v, const fl_alert *a, bool resolved)
{
    (void)a;
    (void)resolved;
    publish(self, v);
}

static void metrics_heartbeat(void *self, const fl_run_view *v, uint64_t kernel_drops)
{
    metrics_out *o = self;
    if (kernel_drops > o->kernel_drops)
        o->kernel_drops = kernel_drops;
    publish(o, v);
}

static fl_output_result metrics_finish(void *self, const fl_run_view *v, char *msg, size_t msglen)
{
    (void)msg;
    (void)msglen;
    publish(self, v);
    return FL_OUT_OK;
}

static void metrics_close(void *self)
{
    metrics_out *o = self;
    fl_metrics_stop(o->m);
    free(o->snap);
    free(o);
}

const fl_output_type fl_output_metrics = {
    .name = "metrics",
    .open = metrics_open,
    .bucket_closed = metrics_bucket,
    .alert = metrics_alert,
    .heartbeat = metrics_heartbeat,
    .finish = metrics_finish,
    .close = metrics_close,
};
