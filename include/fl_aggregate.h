/* fl_aggregate.h - counters per provider and time bucket.
 *
 * Facts arrive with the packet time that showed them; they are added to
 * that time's bucket. A bucket stays open for `grace_buckets` after it ends
 * (a fact about a flow's first packet can be decided a little later), then
 * it is closed: handed to the outputs once (on_close) and, for the report,
 * kept in the history. A fact older than every open bucket is added to the
 * oldest open one and counted as late.
 */
#ifndef FL_AGGREGATE_H
#define FL_AGGREGATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "fl_bucket.h"
#include "fl_counters.h"
#include "fl_hll.h"
#include "fl_packet.h"
#include "fl_services.h"

typedef struct fl_aggregate fl_aggregate;

/* One closed bucket: all providers with a non-zero entry. */
typedef void (*fl_bucket_close_fn)(void *ctx, const fl_bucket_entry *entries, size_t n);
/* Provider id -> name. */
typedef const char *(*fl_provider_name_fn)(void *ctx, uint16_t provider);

typedef struct fl_aggregate_options {
    uint32_t bucket_s;           /* bucket width, seconds (default 10) */
    uint32_t grace_buckets;      /* buckets kept open after their end (default 2) */
    uint32_t clients_per_bucket; /* exact failing-client list cap (default 1024) */
    uint32_t history_max;        /* closed bucket entries kept for the report */
    uint32_t services_max;       /* distinct (provider, service) pairs kept */
} fl_aggregate_options;

fl_aggregate *fl_aggregate_new(const fl_aggregate_options *opt, fl_provider_name_fn names,
                               void *names_ctx, fl_bucket_close_fn on_close, void *close_ctx);
void fl_aggregate_free(fl_aggregate *a);

/* Count n of counter c for provider at packet time ts_us. */
void fl_aggregate_count(fl_aggregate *a, uint64_t ts_us, uint16_t provider, fl_counter c,
                        uint32_t n);
/* A client had a failure at provider (adds to the bucket's distinct set)
 * in these families (bits 1 << fl_family: fl_family_mask). */
void fl_aggregate_failing_client(fl_aggregate *a, uint64_t ts_us, uint16_t provider,
                                 const fl_addr *client, uint16_t families);
/* A client used provider (a flow or a DNS query): the denominator of the
 * share of affected clients. */
void fl_aggregate_active_client(fl_aggregate *a, uint64_t ts_us, uint16_t provider,
                                const fl_addr *client);
/* A DNS fact seen through a public resolver (per-resolver breakdown, never
 * added to provider counters). */
void fl_aggregate_resolver(fl_aggregate *a, uint16_t resolver, fl_counter c, uint32_t n);

/* Services: intern a name (SNI/Host/DNS name or nDPI protocol); 0 = none. */
uint32_t fl_aggregate_service_id(fl_aggregate *a, const char *name);
const char *fl_aggregate_service_name(const fl_aggregate *a, uint32_t id);
/* n of counter c for a service at packet time ts_us (fl_services.h: only
 * flows, dns_queries and failures are kept per service). */
void fl_aggregate_service_count(fl_aggregate *a, uint64_t ts_us, uint16_t provider,
                                uint32_t service, fl_counter c, uint32_t n);
/* A flow of that service had its first failure at ts_us. */
void fl_aggregate_service_failed_flow(fl_aggregate *a, uint64_t ts_us, uint16_t provider,
                                      uint32_t service);

/* Packet time moved to now_us: close buckets whose grace is over. */
void fl_aggregate_advance(fl_aggregate *a, uint64_t now_us);
/* End of input: close every open bucket. */
void fl_aggregate_finish(fl_aggregate *a);
/* A discontinuity in packet time (fl_engine.h, FL_TIME_JUMP_MIN_US): close
 * every open bucket; the next fact starts a new series where it falls, so
 * the history may step back in time there. Totals carry on. */
void fl_aggregate_restart(fl_aggregate *a);

/* ---- read side, for reports ---- */
typedef struct fl_history_entry {
    uint64_t start;
    uint16_t provider;
    uint32_t clients;        /* distinct failing clients (estimate) */
    uint32_t active_clients; /* distinct clients seen (estimate) */
    fl_counts counts;
} fl_history_entry;

size_t fl_aggregate_history(const fl_aggregate *a, const fl_history_entry **entries);
uint64_t fl_aggregate_history_dropped(const fl_aggregate *a);
/* Providers 0..n-1 with totals; clients = distinct failing clients. */
size_t fl_aggregate_provider_slots(const fl_aggregate *a);
const fl_counts *fl_aggregate_totals(const fl_aggregate *a, uint16_t provider);
uint64_t fl_aggregate_total_clients(const fl_aggregate *a, uint16_t provider);
void fl_aggregate_grand_totals(const fl_aggregate *a, fl_counts *out, uint64_t *clients);
const fl_counts *fl_aggregate_resolver_totals(const fl_aggregate *a, uint16_t resolver);

/* All (provider, service) run totals, unordered. */
size_t fl_aggregate_services(const fl_aggregate *a, const fl_service_tally **tallies);
/* One provider's services over the closed buckets starting in [t0, t1),
 * malloc'd (fl_services_window). */
size_t fl_aggregate_services_window(const fl_aggregate *a, uint16_t provider, double t0, double t1,
                                    fl_service_tally **out, int *complete);

uint64_t fl_aggregate_late_facts(const fl_aggregate *a);
uint32_t fl_aggregate_bucket_s(const fl_aggregate *a);

#endif
