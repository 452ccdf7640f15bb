/* fl_incident.h - what the bucket history says about an alert: when each
 * signal family first moved, from which level, and when the failures
 * really stopped (the detector resolves later, by hysteresis).
 *
 * Also the history of one provider (or all) on a regular time grid, which
 * the report draws.
 */
#ifndef FL_INCIDENT_H
#define FL_INCIDENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "fl_aggregate.h"
#include "fl_detector.h"
#include "fl_families.h"

#define FL_ALL_PROVIDERS UINT32_MAX

/* One provider's history (or every provider's, summed) on a regular grid. */
typedef struct fl_series {
    size_t n;
    uint64_t t0;   /* epoch seconds of point 0 */
    uint64_t step; /* seconds per point */
    fl_counts *c;
    uint32_t *clients; /* failing clients: max over merged buckets */
    uint32_t *active;
} fl_series;

/* Entries of provider (or FL_ALL_PROVIDERS) with start in
 * [t0, t0 + n*step), merged by summing counters. 0, or -1 out of memory. */
int fl_series_build(fl_series *s, const fl_history_entry *h, size_t nh, uint32_t provider,
                    uint64_t t0, uint64_t step, size_t n);
void fl_series_free(fl_series *s);

/* A ratio for reading and drawing, clamped to 1: resets of connections
 * opened in an earlier bucket can outnumber this bucket's attempts. */
double fl_incident_ratio(uint64_t num, uint64_t den);

/* The families an incident is told in, in this order. */
#define FL_INCIDENT_NFAMS 7
extern const fl_family fl_incident_fams[FL_INCIDENT_NFAMS];
/* Every family but the pooled "any". */
#define FL_FAM_MASK_NAMED ((1u << FL_FAM_COUNT) - 1 - (1u << FL_FAM_ANY))

typedef struct fl_moved {
    fl_family fam;
    unsigned idx;  /* its place in fl_incident_fams */
    double at;     /* start of the first bucket over */
    double base;   /* the family's ratio before the onset */
    bool has_base; /* there was traffic before the onset */
    bool first;    /* the detector's first family */
} fl_moved;

typedef struct fl_incident {
    const fl_alert *a;
    uint32_t provider; /* FL_ALL_PROVIDERS for scope local */
    double from;       /* start of the first bucket failing */
    double until;      /* end of the last bucket still failing */
    fl_moved m[FL_INCIDENT_NFAMS];
    size_t nm; /* families that moved, sorted by time */
} fl_incident;

/* Fill v (v->a and v->provider set by the caller) from the history.
 * capture_end: epoch seconds, for alerts still raised. 0, or -1 out of
 * memory. */
int fl_incident_analyse(fl_incident *v, const fl_history_entry *h, size_t nh, uint32_t bucket_s,
                        uint64_t capture_end);

#endif
