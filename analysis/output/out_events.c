/* out_events.c - the analyst's event log (--events FILE, '-' stdout): one
 * JSON line per counted failure, with the open alert on its provider it
 * fed, and one per alert event (events.c formats). Flushed at each closed
 * bucket, so `tail -f` follows a live sensor. */
#include <stdlib.h>
#include <string.h>

#include "fl_client_hash.h"
#include "fl_events.h"
#include "fl_output.h"
#include "fl_report.h"

typedef struct events_out {
    fl_events *ev;
    const fl_config *cfg;
    struct fl_client_hasher *hasher; /* client pseudonyms; NULL plain */
} events_out;

static void *events_open(const fl_output_args *args, char *err, size_t errlen)
{
    events_out *o = calloc(1, sizeof *o);
    if (!o) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    o->cfg = args->cfg;
    o->hasher = args->client_hasher;
    o->ev = fl_events_open(args->events_path, err, errlen);
    if (!o->ev) {
        free(o);
        return NULL;
    }
    return o;
}

/* The open alert on this provider (the latest raised), 0 if none. */
static uint32_t alert_fed(const fl_run_view *v, const char *provider)
{
    for (size_t i = v->nalerts; i-- > 0;)
        if (v->alerts[i].resolved_at <= 0 && !v->alerts[i].local &&
            strcmp(v->alerts[i].provider, provider) == 0)
            return v->alerts[i].id;
    return 0;
}

static void events_failure(void *self, const fl_run_view *v, const fl_failure_info *fi)
{
    events_out *o = self;
    const char *prov = fl_providers_name(v->prov, fi->provider);
    char pseudonym[FL_CLIENT_HASH_STR];
    if (o->hasher && fi->client)
        fl_client_hash_str(o->hasher, fi->client, pseudonym);
    fl_failure_event f = {
        .ts_us = fi->ts_us,
        .signal = fi->signal,
        .provider = prov,
        .service = fi->service,
        .client = fi->client,
        .server = fi->server,
        .client_port = fi->client_port,
        .server_port = fi->server_port,
        .ip_proto = fi->ip_proto,
        .reason = fi->reason,
        .alert_id = alert_fed(v, prov),
        .client_text = o->hasher && fi->client ? pseudonym : NULL,
    };
    fl_events_failure(o->ev, &f);
}

static void events_alert(void *self, const fl_run_view *v, const fl_alert *a, bool resolved)
{
    events_out *o = self;
    fl_alert_event ev;
    fl_alert_event_make(&ev, v, a, resolved);
    fl_events_alert(o->ev, resolved ? a->resolved_at : a->raised_at, resolved, NULL, ev.json);
    fl_alert_event_free(&ev);
}

static void events_bucket(void *self, const fl_run_view *v, const fl_bucket_entry *e, size_t n)
{
    (void)v;
    (void)e;
    (void)n;
    fl_events_flush(((events_out *)self)->ev);
}

static fl_output_result events_finish(void *self, const fl_run_view *v, char *msg, size_t msglen)
{
    (void)v;
    events_out *o = self;
    bool ok = fl_events_close(o->ev, msg, msglen);
    o->ev = NULL;
    return ok ? FL_OUT_OK : FL_OUT_FAIL;
}

static void events_close(void *self)
{
    events_out *o = self;
    char err[64];
    if (o->ev)
        fl_events_close(o->ev, err, sizeof err);
    free(o);
}

const fl_output_type fl_output_events = {
    .name = "events",
    .open = events_open,
    .bucket_closed = events_bucket,
    .alert = events_alert,
    .failure = events_failure,
    .finish = events_finish,
    .close = events_close,
};
