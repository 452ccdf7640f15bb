/* fl_detector.h - raises and resolves outage alerts from closed buckets.
 *
 * Per provider and signal family (connect, tls, dns, dns_nodata, http): the
 * failure ratio over a sliding window, against a learned baseline (EWMA of
 * the ratio and of its spread). Raise when, for raise_buckets closed
 * buckets in a row: enough volume, enough failures, enough distinct failing
 * clients and a large enough share of the provider's active clients, and
 * the ratio above an absolute floor, the baseline times a factor and the
 * baseline plus some spreads. Resolve with hysteresis. When most active
 * providers fail together it is local (our uplink, firewall or resolver):
 * one alert with scope local, no storm of provider alerts.
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

typedef struct fl_alert {
    uint32_t id;
    char provider[FL_ALERT_PROVIDER_MAX]; /* "local" for scope local */
    bool local;
    uint8_t families;          /* bit per fl_family that was above */
    uint8_t first_family;      /* the family that crossed first */
    double raised_at;          /* epoch seconds (end of the bucket that decided) */
    double resolved_at;        /* 0 while open */
    double onset_at;           /* start of the first bucket above threshold */
    double ratio;              /* failure ratio when raised (or at resolve) */
    double peak_ratio;
    double baseline_ratio;
    uint64_t failures;         /* failures in the window when raised, then summed */
    uint64_t attempts;
    uint64_t clients;          /* distinct failing clients in the window (peak) */
    double client_share;       /* failing / active clients (peak) */
    uint32_t providers_failing;/* local: how many providers failed together */
} fl_alert;

/* Called when an alert is raised (resolved=false) or resolved (true). */
typedef void (*fl_alert_fn)(void *ctx, const fl_alert *a, bool resolved);

typedef struct fl_detector fl_detector;

fl_detector *fl_detector_new(const fl_config *cfg, fl_alert_fn fn, void *ctx);
void fl_detector_free(fl_detector *d);

/* One closed bucket (every provider's entry of it), buckets in time order. */
void fl_detector_bucket(fl_detector *d, const fl_bucket_entry *entries, size_t n);

/* Every alert so far, raised order (open ones have resolved_at 0). */
size_t fl_detector_alerts(const fl_detector *d, const fl_alert **alerts);

#endif
