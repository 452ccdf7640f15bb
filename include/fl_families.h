/* fl_families.h - the one definition of a failure, a signal family and its
 * ratio, used by the detector, every report, the Redis read-back and the
 * table alike.
 *
 * A family pools the failure counters of one kind of attempt and divides
 * them by those attempts (README "Signal families and ratios"):
 *
 *   connect     tcp_refused + tcp_syn_timeouts + tcp_resets  / tcp_attempts
 *   tls         tls_failures                                 / tls_handshakes
 *   dns         dns_servfail + dns_refused + dns_timeouts    / dns_queries
 *   dns_nodata  dns_nodata                                   / dns_responses
 *   http        http_5xx                                     / http_responses
 *   quic        quic_failures                                / quic_handshakes
 *   https       https_suspect + tls_early_closes + tls_stalls
 *                                             / https_responses
 *               + tls_early_closes + tls_stalls (a request closed early or
 *               stalled gets no response: it is an attempt of its own);
 *               https_suspect counts responses, not flows, so it stays out
 *               of `any` (whose total is flows): no double counting
 *   any         every failure once                           / flows + dns_queries
 *
 * "Every failure once": a TLS handshake ended by a server RST is both a
 * tcp_resets and a tls_failures; it is one failure, so the TLS failures
 * beyond the resets are added (an upper bound on the overlap, exact when the
 * resets all fell in handshakes). A connection's HTTP 5xx count once in
 * `any` (http_5xx - http_5xx_repeats): three 5xx on one kept-alive
 * connection are one failed flow. NODATA and QUIC are judged against
 * their own baselines only (a site that blocks UDP/443 fails every QUIC
 * handshake all day, and its browsers fall back to TCP: a steady state, not
 * news) and are not failures of `any`.
 */
#ifndef FL_FAMILIES_H
#define FL_FAMILIES_H

#include <stdint.h>
#include "fl_counters.h"

/* X(ID, name, what fails, what it divides by) */
#define FL_FAMILIES(X)                                                                             \
    X(CONNECT, connect, "connection failures", "TCP attempts")                                     \
    X(TLS, tls, "TLS handshake failures", "TLS handshakes")                                        \
    X(DNS, dns, "DNS failures", "DNS queries")                                                     \
    X(DNS_NODATA, dns_nodata, "empty DNS answers", "DNS responses")                                \
    X(HTTP, http, "HTTP 5xx", "HTTP responses")                                                    \
    X(QUIC, quic, "QUIC handshake failures", "QUIC handshakes")                                    \
    X(HTTPS, https, "suspect HTTPS responses", "HTTPS requests")                                   \
    X(ANY, any, "failures of any kind", "flows and DNS queries")

typedef enum fl_family {
#define FL_X(id, name, what, per) FL_FAM_##id,
    FL_FAMILIES(FL_X)
#undef FL_X
        FL_FAM_COUNT
} fl_family;

/* Failures per family of one client (saturating): where its failures
 * count, so a client hammering a closed port is set aside in `connect`
 * and `any`, not in `https`. */
typedef uint16_t fl_family_fails[FL_FAM_COUNT];

/* "connect", "tls", ...; "?" out of range. */
const char *fl_family_name(fl_family f);
/* FL_FAM_COUNT when unknown. */
fl_family fl_family_from_name(const char *name);
/* Human words for what fails and what the ratio divides by. */
const char *fl_family_what(fl_family f);
const char *fl_family_per(fl_family f);

/* Failures and attempts of every family in c. Attempts are never below
 * failures (resets of flows joined mid-stream, or opened in an earlier
 * bucket, can outnumber this bucket's attempts). */
void fl_family_counts(const fl_counts *c, uint64_t fails[FL_FAM_COUNT],
                      uint64_t total[FL_FAM_COUNT]);

/* The same before that floor: what was seen, for a reader who must say
 * when failures outnumber attempts (several failures on one flow, or a
 * flow that began before the window counted). */
void fl_family_counts_raw(const fl_counts *c, uint64_t fails[FL_FAM_COUNT],
                          uint64_t total[FL_FAM_COUNT]);

/* One family's failures and attempts. */
void fl_family_count(const fl_counts *c, fl_family f, uint64_t *fails, uint64_t *total);

/* The families whose failures counter c is among (bits 1 << fl_family):
 * where a client's failure of that kind counts. */
uint16_t fl_family_mask(fl_counter c);

/* The same for a failure of a flow whose server RST was already counted as
 * tcp_resets: a TLS handshake or an HTTPS request ended by that RST is the
 * same failure in `any` (counted once there, as fl_family_counts does). */
uint16_t fl_family_mask_after_reset(fl_counter c);

/* The families a connection's second and later HTTP 5xx (an http_5xx and
 * an http_5xx_repeats) count in: `http`, not `any`, which counts the
 * connection's 5xx once (as fl_family_counts does). */
uint16_t fl_family_mask_http_repeat(void);

/* Failures of every kind, each once: the `any` family's numerator. */
uint64_t fl_counts_failures(const fl_counts *c);

/* fails / total, 0 when total is 0. */
static inline double fl_ratio(uint64_t fails, uint64_t total)
{
    return total ? (double)fails / (double)total : 0.0;
}

#endif
