/* fl_run.h - what the outputs see of a run: a const view.
 *
 * The pipeline fills it (fl_engine_view); outputs (JSON, table, HTML,
 * Redis, the log) read the counters, providers, alerts and statistics
 * through it and never reach into the engine.
 */
#ifndef FL_RUN_H
#define FL_RUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "fl_aggregate.h"
#include "fl_config.h"
#include "fl_detector.h"
#include "fl_engine.h"
#include "fl_flow.h"
#include "fl_provider.h"

/* Where the packets came from. */
typedef struct fl_report_source {
    const char *const *files; /* capture files, or NULL for live */
    size_t nfiles;
    const char *interface; /* live interface, or NULL */
    uint64_t kernel_drops;
} fl_report_source;

/* The sensor's own health, filled by the caller (the CLI) where it knows:
 * live capture and the Redis output. Zero: nothing to say. */
typedef struct fl_run_health {
    bool blind; /* no packet for longer than [capture] blind_s */
    bool redis_configured, redis_connected;
    uint64_t redis_held, redis_dropped; /* batches */
} fl_run_health;

typedef struct fl_run_view {
    const fl_config *cfg;
    const fl_aggregate *agg;  /* counters, history, services, clients */
    const fl_providers *prov; /* provider id <-> name */
    const fl_alert *alerts;   /* every alert so far, raised order */
    size_t nalerts;
    fl_engine_stats stats; /* packets, decode errors, flows... */
    fl_flow_stats flows;   /* flow table occupancy, evictions */
    fl_report_source src;
    fl_run_health health;
    const struct fl_drill *drill;       /* failing connections kept for the report, or NULL */
    const struct fl_https_modes *https; /* modes inside HTTPS (report_https.c) */
} fl_run_view;

/* The view of e now; src may be NULL (a zeroed source). Cheap: a few
 * pointers and the statistics copied. */
void fl_engine_view(const fl_engine *e, const fl_report_source *src, fl_run_view *v);

#endif
