/* fl_output.h - every output behind one interface.
 *
 * Each output type fills one table of operations (masscan's output types
 * do the same): opened once with the run's settings, then told about each
 * closed bucket, each alert raised or resolved, each heartbeat, and the end
 * of the run. Every operation but open is optional. Outputs read the run
 * through a const view (fl_run.h), never the engine. The caller wires a
 * set of outputs to the pipeline; an output never prints its errors, it
 * returns them.
 */
#ifndef FL_OUTPUT_H
#define FL_OUTPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "fl_bucket.h"
#include "fl_run.h"

typedef struct fl_output_args {
    const fl_config *cfg;
    FILE *out;                              /* summary: where it is printed */
    const char *path;                       /* html: the report file */
    bool quiet;                             /* log: nothing on stderr */
    const char *metrics_addr;               /* metrics: HOST:PORT to serve /metrics on */
    const char *events_path;                /* events: the JSON Lines file, "-" stdout */
    bool live;                              /* capture: a signal ends the run, exit is bounded */
    struct fl_client_hasher *client_hasher; /* [privacy] client pseudonyms, NULL off */
} fl_output_args;

/* What fl_output_type.finish reports. */
typedef enum fl_output_result {
    FL_OUT_OK = 0,
    FL_OUT_WARN, /* done, with a message worth showing */
    FL_OUT_FAIL, /* the output could not be written */
} fl_output_result;

typedef struct fl_output_type {
    const char *name;
    /* NULL with err on failure (bad URL, ...). */
    void *(*open)(const fl_output_args *args, char *err, size_t errlen);
    void (*bucket_closed)(void *self, const fl_run_view *v, const fl_bucket_entry *entries,
                          size_t n);
    void (*alert)(void *self, const fl_run_view *v, const fl_alert *a, bool resolved);
    void (*heartbeat)(void *self, const fl_run_view *v, uint64_t kernel_drops);
    /* One counted failure (only when the caller set the engine's failure
     * sink, i.e. an output wants them: --events). */
    void (*failure)(void *self, const fl_run_view *v, const fl_failure_info *fi);
    /* End of the run (after fl_engine_finish): deliver, print, write. */
    fl_output_result (*finish)(void *self, const fl_run_view *v, char *msg, size_t msglen);
    void (*close)(void *self);
} fl_output_type;

extern const fl_output_type fl_output_redis;   /* buckets, alerts, heartbeats */
extern const fl_output_type fl_output_log;     /* one stderr line per alert */
extern const fl_output_type fl_output_json;    /* the JSON document at the end */
extern const fl_output_type fl_output_table;   /* the table at the end */
extern const fl_output_type fl_output_html;    /* the HTML report at the end */
extern const fl_output_type fl_output_metrics; /* Prometheus /metrics, live */
extern const fl_output_type fl_output_events;  /* JSON Lines: failures, alerts */

/* A set of opened outputs, told in the order they were added. */
#define FL_OUTPUTS_MAX 8
typedef struct fl_outputs {
    const fl_output_type *type[FL_OUTPUTS_MAX];
    void *self[FL_OUTPUTS_MAX];
    size_t n;
} fl_outputs;

/* Open one output into the set; false with err (nothing added). */
bool fl_outputs_add(fl_outputs *o, const fl_output_type *t, const fl_output_args *args, char *err,
                    size_t errlen);
void fl_outputs_bucket_closed(fl_outputs *o, const fl_run_view *v, const fl_bucket_entry *entries,
                              size_t n);
void fl_outputs_alert(fl_outputs *o, const fl_run_view *v, const fl_alert *a, bool resolved);
void fl_outputs_heartbeat(fl_outputs *o, const fl_run_view *v, uint64_t kernel_drops);
void fl_outputs_failure(fl_outputs *o, const fl_run_view *v, const fl_failure_info *fi);
/* Finish each in order; msg_fn (may be NULL) gets each output's message.
 * Returns the worst result. */
fl_output_result fl_outputs_finish(fl_outputs *o, const fl_run_view *v,
                                   void (*msg_fn)(void *ctx, const char *name, fl_output_result r,
                                                  const char *msg),
                                   void *ctx);
void fl_outputs_close(fl_outputs *o);

/* The Redis output's writer state, if the set has one: false otherwise.
 * err gets its last error (may be NULL). */
struct fl_redis_stats;
bool fl_outputs_redis_stats(const fl_outputs *o, struct fl_redis_stats *st, char *err,
                            size_t errlen);

#endif
