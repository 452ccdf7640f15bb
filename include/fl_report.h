/* fl_report.h - the run summary: the JSON document (README "JSON
 * document"), a readable table, the HTML report, and one alert as JSON.
 * Each reads a const view of the run (fl_run.h). */
#ifndef FL_REPORT_H
#define FL_REPORT_H

#include <stdbool.h>
#include <stdio.h>
#include "fl_run.h"

/* The JSON document, malloc'd (free() it); NULL on allocation failure. */
char *fl_report_json(const fl_run_view *v);

/* One alert event in the schema of the document's alerts[] plus "event"
 * (raised / resolved): as compact JSON text, and as the same fields
 * flattened to field/value strings for a Redis stream entry (objects and
 * arrays as JSON text). v may be NULL (no top services then). */
#define FL_ALERT_FIELDS_MAX 64
typedef struct fl_alert_event {
    const char *state;                 /* "raised" or "resolved" */
    char *json;                        /* NULL on allocation failure */
    char *fields[FL_ALERT_FIELDS_MAX]; /* name, value, name, value... */
    size_t nfields;
} fl_alert_event;
void fl_alert_event_make(fl_alert_event *ev, const fl_run_view *v, const fl_alert *a,
                         bool resolved);
void fl_alert_event_free(fl_alert_event *ev);

/* Read back from Redis (faultline alerts / status). An alert stream entry
 * (field/value strings as fl_alert_event_make wrote them) as the event's
 * compact JSON with its "stream_id" (malloc'd, NULL on failure), or as the
 * few fields a one-line summary shows. */
typedef struct fl_alert_entry {
    char event[16]; /* raised / resolved */
    char scope[16]; /* provider / local */
    char provider[256];
    char signals[128]; /* comma-separated family names */
    double at;         /* raised_at, or resolved_at when resolved */
    double ratio;      /* a local alert's own ratio, a provider's peak */
    double baseline, clients;
} fl_alert_entry;
char *fl_alert_entry_json(const char *id, const char *const *fv, size_t nfv);
bool fl_alert_entry_read(const char *id, const char *const *fv, size_t nfv, fl_alert_entry *e);

/* `faultline status --json`: the window, providers and sensors (malloc'd). */
struct fl_redis_status;
char *fl_status_json(const struct fl_redis_status *st, double window_s, uint32_t bucket_s,
                     double stale_s);

/* A table per provider for people. */
void fl_report_table(const fl_run_view *v, FILE *out);

/* One self-contained HTML page (inline CSS and SVG, loads nothing): the
 * verdict, the capture, the alerts and a timeline per provider. Call after
 * fl_engine_finish. Returns 0, or -1 on allocation or write failure. */
int fl_report_html(const fl_run_view *v, FILE *out);

#endif
