/* fl_metrics.h - Prometheus metrics of a running sensor.
 *
 * The pipeline thread publishes a snapshot (a plain struct, copied under a
 * mutex) when a bucket closes, at each heartbeat and at the end; the HTTP
 * thread (libmicrohttpd, analysis/output/metrics_http.c) copies the latest
 * one and renders it in the text exposition format 0.0.4 at /metrics. The
 * per-packet path never touches any of it.
 *
 * Names follow the Prometheus conventions: a faultline_ prefix, base units
 * (seconds, bytes), `_total` on counters, bounded label sets. Per-provider
 * series exist for at most FL_METRICS_PROVIDERS_MAX providers (those first
 * seen); the rest are summed under provider="other" and counted in
 * faultline_metrics_providers_folded, so a flood of learned names can never
 * grow the series count without bound.
 */
#ifndef FL_METRICS_H
#define FL_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fl_counters.h"
#include "fl_decode.h"

#define FL_METRICS_PROVIDERS_MAX 64
#define FL_METRICS_NAME_MAX 64

typedef enum fl_metrics_alert {
    FL_METRICS_ALERT_NONE = 0,
    FL_METRICS_ALERT_RAISED,
    FL_METRICS_ALERT_UNKNOWN /* raised, but the sensor is blind */
} fl_metrics_alert;

typedef struct fl_metrics_provider {
    char name[FL_METRICS_NAME_MAX];
    fl_counts counts;   /* since start */
    uint8_t alert;      /* fl_metrics_alert */
    double alert_ratio; /* peak ratio of the open alert, 0 without */
} fl_metrics_provider;

typedef struct fl_metrics_snapshot {
    double published_at; /* wall clock, epoch seconds */
    uint64_t packets, bytes;
    uint64_t kernel_drops; /* pcap_stats: ps_drop + ps_ifdrop */
    uint64_t decode_error[FL_DERR_COUNT];
    uint64_t flows_tcp, flows_udp, flows_other;
    uint64_t flows_active;
    uint64_t flows_evicted;
    uint64_t one_way_flows;
    bool redis_configured;
    bool redis_connected;
    uint64_t redis_batches_held, redis_batches_dropped;
    double last_packet_time; /* packet time of the last packet, epoch s; 0 none */
    bool blind;              /* no packet for longer than the blind limit */
    uint64_t buckets_closed;
    uint64_t alerts_raised, alerts_resolved;
    size_t nproviders;                                          /* used entries of provider[] */
    uint64_t providers_folded;                                  /* providers summed into "other" */
    fl_metrics_provider provider[FL_METRICS_PROVIDERS_MAX + 1]; /* + "other" */
} fl_metrics_snapshot;

typedef struct fl_metrics_build {
    const char *version, *ndpi, *libpcap, *hiredis;
    const char *sensor; /* sensor name, a label of build_info */
} fl_metrics_build;

/* Adds counts (and an alert state) to the provider's entry, creating it, or
 * to "other" once FL_METRICS_PROVIDERS_MAX are in use. */
void fl_metrics_snapshot_add(fl_metrics_snapshot *s, const char *provider, const fl_counts *counts,
                             fl_metrics_alert alert, double alert_ratio);

struct fl_run_view;

/* Everything the run view holds: packets, decode errors, flows, the
 * provider totals, the open alerts (unknown when blind), Redis. Kernel
 * drops and published_at are the caller's. Runs on the pipeline thread at
 * a closed bucket, alert or heartbeat: O(providers + alerts). */
void fl_metrics_snapshot_fill(fl_metrics_snapshot *s, const struct fl_run_view *v);

/* The exposition text of s (malloc'd, NUL-terminated; *len its length), or
 * NULL when out of memory. */
char *fl_metrics_render(const fl_metrics_snapshot *s, const fl_metrics_build *b, size_t *len);

/* The HTTP server. */
typedef struct fl_metrics fl_metrics;

/* Listens on addr, "HOST:PORT" ("127.0.0.1:9108", "[::1]:9108",
 * "0.0.0.0:9108"; port 0 picks a free one). b's strings are copied. NULL,
 * with err, when the address is bad or cannot be bound. */
fl_metrics *fl_metrics_start(const char *addr, const fl_metrics_build *b, char *err, size_t errlen);
/* The port actually bound. */
unsigned fl_metrics_port(const fl_metrics *m);
/* Replaces the served snapshot (a copy). */
void fl_metrics_publish(fl_metrics *m, const fl_metrics_snapshot *s);
/* Stops the server (waits for a scrape in progress) and frees it. */
void fl_metrics_stop(fl_metrics *m);

/* Splits "HOST:PORT" / "[V6]:PORT" (host without brackets into host[]);
 * false with err when malformed. */
bool fl_metrics_parse_addr(const char *addr, char *host, size_t hostlen, unsigned *port, char *err,
                           size_t errlen);

#endif
