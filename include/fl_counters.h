/* fl_counters.h - the signal counters of the contract (README "Counters").
 *
 * One X-macro list so that the struct, the JSON keys, the Redis hash fields
 * and the table columns can never disagree.
 */
#ifndef FL_COUNTERS_H
#define FL_COUNTERS_H

#include <stdbool.h>
#include <stdint.h>

/* X(name, is_failure) */
#define FL_COUNTERS(X)                                                                             \
    X(flows, 0)                                                                                    \
    X(tcp_attempts, 0)                                                                             \
    X(tcp_refused, 1)                                                                              \
    X(tcp_syn_timeouts, 1)                                                                         \
    X(tcp_resets, 1)                                                                               \
    X(tls_handshakes, 0)                                                                           \
    X(tls_failures, 1)                                                                             \
    X(tls_alerts, 0)                                                                               \
    X(https_responses, 0)                                                                          \
    X(https_suspect, 1)                                                                            \
    X(tls_early_closes, 1)                                                                         \
    X(tls_stalls, 1)                                                                               \
    X(tls_retries, 0)                                                                              \
    X(dns_queries, 0)                                                                              \
    X(dns_responses, 0)                                                                            \
    X(dns_servfail, 1)                                                                             \
    X(dns_nxdomain, 0)                                                                             \
    X(dns_refused, 1)                                                                              \
    X(dns_nodata, 0)                                                                               \
    X(dns_timeouts, 1)                                                                             \
    X(http_requests, 0)                                                                            \
    X(http_responses, 0)                                                                           \
    X(http_4xx, 0)                                                                                 \
    X(http_5xx, 1)                                                                                 \
    X(http_5xx_repeats, 0)                                                                         \
    X(quic_handshakes, 0)                                                                          \
    X(quic_closes, 0)                                                                              \
    X(quic_unanswered, 0)                                                                          \
    X(quic_failures, 1)                                                                            \
    X(quic_fallbacks, 0)

typedef enum fl_counter {
#define FL_X(name, fail) FL_C_##name,
    FL_COUNTERS(FL_X)
#undef FL_X
        FL_C_COUNT
} fl_counter;

typedef struct fl_counts {
    uint64_t v[FL_C_COUNT];
} fl_counts;

const char *fl_counter_name(fl_counter c);
/* Parse a counter name; returns FL_C_COUNT if unknown. */
fl_counter fl_counter_from_name(const char *name);
/* Counts toward "failures" (dns_nodata is judged against its baseline by the
 * detector, so it is not a failure here). */
bool fl_counter_is_failure(fl_counter c);

static inline void fl_counts_add(fl_counts *dst, const fl_counts *src)
{
    for (int i = 0; i < FL_C_COUNT; i++)
        dst->v[i] += src->v[i];
}

/* True if any counter is non-zero. */
static inline bool fl_counts_any(const fl_counts *c)
{
    for (int i = 0; c && i < FL_C_COUNT; i++)
        if (c->v[i])
            return true;
    return false;
}

/* Failures of every kind, each once: fl_counts_failures() in fl_families.h. */

#endif
