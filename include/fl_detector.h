/* fl_detector.h - raises and resolves outage alerts from closed buckets.
 *
 * Per provider and signal family (every family of fl_families.h): are the
 * window's failures improbable under that provider's own baseline, given
 * the attempts? A one-sided binomial test over the last 1..window buckets,
 * at a significance derived from the false-alert budget (at most
 * `false_alerts_per_month` per provider), plus a minimum effect size
 * (absolute and relative to the baseline) and breadth (distinct failing
 * clients, a noisy client's failures set aside). The baseline is a decayed
 * ratio of sums with a weak prior, and it learns nothing while the
 * provider is above threshold or alerting.
 *
 * Each closed bucket, scope is decided before any provider alert: `local`
 * (most active providers failing together), `resolver` (DNS failing at one
 * resolver while others answer), else `provider`. Provider alerts open
 * when local or resolver forms are merged into it. An alert resolves after
 * a hold time back at baseline; the hold grows with the troughs seen, so a
 * flapping incident stays one alert (flaps and peaks are reported in it).
 * Runs on packet time: the same input gives the same alerts, replay or live.
 */
#ifndef FL_DETECTOR_H
#define FL_DETECTOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "fl_bucket.h"
#include "fl_config.h"
#include "fl_families.h"

#define FL_ALERT_PROVIDER_MAX 64
#define FL_ALERT_PEAKS 8
#define FL_ALERT_MERGED 8

typedef struct fl_alert {
    uint32_t id;
    char provider[FL_ALERT_PROVIDER_MAX]; /* "local" / "resolver" for those scopes */
    bool local;
    char scope[12];       /* "provider", "local" or "resolver" */
    uint8_t families;     /* bit per fl_family that was above */
    uint8_t first_family; /* the family that crossed first */
    double raised_at;     /* epoch seconds (end of the bucket that decided) */
    double resolved_at;   /* 0 while open */
    double onset_at;      /* start of the first bucket above threshold */
    double ratio;         /* failure ratio when raised (or at resolve) */
    double peak_ratio;
    double baseline_ratio;
    uint64_t failures; /* failures in the window when raised, then summed */
    uint64_t attempts;
    uint64_t clients;           /* distinct failing clients in the window (peak) */
    double client_share;        /* failing / active clients (peak) */
    uint32_t providers_failing; /* local: how many providers failed together */
    /* evidence when raised */
    double log10_p;    /* log10 of the binomial tail of the deciding window */
    double alpha;      /* the significance it was compared with */
    uint32_t window_s; /* length of the deciding window */
    /* one incident, one alert */
    uint32_t flaps; /* troughs seen inside the alert (cycles) */
    uint32_t npeaks;
    double peaks[FL_ALERT_PEAKS]; /* ratio at each peak, first FL_ALERT_PEAKS */
    uint32_t reopened;            /* raised again within the flap hold of its resolve */
    double hold_s;                /* hold time in force when resolved */
    /* scope */
    uint32_t merged_into; /* id of the local/resolver alert that took it over */
    uint32_t nmerged;
    uint32_t merged[FL_ALERT_MERGED];     /* provider alert ids merged into this one */
    char resolver[FL_ALERT_PROVIDER_MAX]; /* scope resolver: its address */
    double resolver_client_share;         /* share of DNS clients using that resolver */
} fl_alert;

/* Called when an alert is raised (resolved=false) or resolved (true). */
typedef void (*fl_alert_fn)(void *ctx, const fl_alert *a, bool resolved);

typedef struct fl_detector fl_detector;

fl_detector *fl_detector_new(const fl_config *cfg, fl_alert_fn fn, void *ctx);
void fl_detector_free(fl_detector *d);

/* One closed bucket (every provider's entry of it), buckets in time order. */
void fl_detector_bucket(fl_detector *d, const fl_bucket_entry *entries, size_t n);

/* Packet time jumped (a capture discontinuity: fl_engine.h): the window's
 * evidence and the sequential tests' runs are of the other time line and
 * are dropped, as if a window of silence had passed without judging it;
 * baselines, open alerts and bucket numbering are kept. */
void fl_detector_restart(fl_detector *d);

/* A size mode formed inside the provider's HTTPS at ts_us
 * (fl_https_modes.h), its first member's response at first_us: its held
 * members are all counted in ts_us's bucket, though they came over the
 * time since first_us. */
void fl_detector_https_mode(fl_detector *d, const char *name, uint64_t first_us, uint64_t ts_us);

/* One DNS outcome at a resolver (the server address of a DNS flow):
 * answered (any rcode but SERVFAIL/REFUSED), failed or timed out. ts_us is
 * the packet time of the fact; it is counted in that time's bucket, which
 * the detector reads when the bucket closes. */
void fl_detector_dns(fl_detector *d, uint64_t ts_us, const fl_addr *resolver, const fl_addr *client,
                     bool failed);

/* Every alert so far, raised order (open ones have resolved_at 0). */
size_t fl_detector_alerts(const fl_detector *d, const fl_alert **alerts);

#endif
