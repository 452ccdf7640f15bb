/* fl_services.h - what each service (SNI, Host, queried name, nDPI
 * protocol) of each provider did, per time bucket.
 *
 * Counted when the fact is counted, not when the flow ends: a flow when it
 * is attributed (and its service known), a DNS query when asked, a failure
 * when it is booked (fl_eng_failure). So an alert raised while its flows
 * are still open already sees the services that fail, and the services of
 * a window add up with the provider's counters of that window.
 *
 * Per closed bucket the (provider, service) rows are kept in a ring (the
 * newest rows_max), for the services of an alert's window; run totals are
 * kept apart, for the report. A row holds each family's failures and
 * attempts (fl_families.h) before the floor of attempts: a service may show
 * more failures than attempts (several failures on one flow, a flow begun
 * before the window), and the readers say so rather than hide it.
 */
#ifndef FL_SERVICES_H
#define FL_SERVICES_H

#include <stddef.h>
#include <stdint.h>
#include "fl_counters.h"
#include "fl_families.h"

typedef struct fl_service_tally {
    uint16_t provider;
    uint32_t service;      /* interned name id, 0 = (other) */
    uint64_t flows;        /* flows of the service */
    uint64_t failed_flows; /* flows with at least one failure */
    /* per family (fl_families.h), before the floor of attempts */
    uint64_t fails[FL_FAM_COUNT], attempts[FL_FAM_COUNT];
} fl_service_tally;

/* The failures and attempts of the families in mask (a bit per
 * fl_family), summed: how an alert's `failures` and `attempts` are made of
 * its families, applied to one service. */
void fl_service_sum(const fl_service_tally *t, unsigned mask, uint64_t *fails, uint64_t *attempts);

typedef struct fl_services fl_services;

/* keys_max bounds the distinct (provider, service) pairs (the rest are
 * folded into service 0); rows_max the closed rows kept. NULL: no memory. */
fl_services *fl_services_new(uint32_t bucket_s, uint32_t keys_max, uint32_t rows_max);
void fl_services_free(fl_services *s);

/* n of counter c for a service in open bucket number `bucket`. */
void fl_services_count(fl_services *s, uint64_t bucket, uint16_t provider, uint32_t service,
                       fl_counter c, uint32_t n);
/* A flow of that service had its first failure. */
void fl_services_failed_flow(fl_services *s, uint64_t bucket, uint16_t provider, uint32_t service);
/* Bucket number `bucket` closed: its rows join the ring and the totals. */
void fl_services_close(fl_services *s, uint64_t bucket);

/* Run totals (closed buckets), unordered. */
size_t fl_services_totals(const fl_services *s, const fl_service_tally **t);
/* One provider's services over the closed buckets starting in [t0, t1)
 * (epoch seconds), summed, unordered, into a malloc'd array (free() it);
 * *complete is false when rows of that span were already dropped. */
size_t fl_services_window(const fl_services *s, uint16_t provider, double t0, double t1,
                          fl_service_tally **out, int *complete);

#endif
