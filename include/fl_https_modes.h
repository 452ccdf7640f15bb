/* fl_https_modes.h - failures seen inside HTTPS without keys: per-SNI
 * baselines of response sizes and the signals the engine counts.
 *
 * Fed by the TLS record walker's facts (fl_tls_records.h), it decides, when
 * each fact is known, which counters move:
 *
 *  - https_responses: every response the walker delimited;
 *  - https_suspect: responses in a new concentrated size mode across
 *    several SNIs of one provider. Sizes are log-binned
 *    (FL_HTTPS_BINS_PER_OCTAVE bins per octave) into histograms learned on
 *    packet time, per SNI and per provider. A response is held (its fate
 *    open for FL_HTTPS_WINDOW_US) instead of learned when its own bin
 *    held under FL_HTTPS_RARE_SHARE of its SNI's learned responses (once
 *    the SNI has FL_HTTPS_LEARN_MIN responses over FL_HTTPS_LEARN_US),
 *    when its SNI is young, when its size is usual for the SNI but rare
 *    for the provider, or when its bin is rising at the provider
 *    (FL_HTTPS_RISE_MIN recent responses, FL_HTTPS_RISE_RATIO times its
 *    baseline share a window ago; that size's responses learned within
 *    the window are then taken back out of the baselines). Nothing is held
 *    before the provider's baseline is usable: after FL_HTTPS_LEARN_US, or
 *    once it holds FL_HTTPS_COLD_MIN responses of FL_HTTPS_COLD_SNIS sites
 *    (cold start). When at least FL_HTTPS_MODE_MIN held responses near
 *    each other (FL_HTTPS_NEAR_SHARE of the size or FL_HTTPS_NEAR_BYTES)
 *    from at least FL_HTTPS_BREADTH SNIs pile up in few bins and are far
 *    more of their own sites' responses than those sites' baselines
 *    expect (README "Inside HTTPS"), they are an error template across
 *    the provider's sites (a CDN's 5xx page, a small JSON error body) and
 *    are counted, the earlier ones of the cluster when this becomes known;
 *    while the mode is active (its counts FL_HTTPS_MODE_SHARE of the
 *    provider's responses over FL_HTTPS_ACTIVE_US, and at most
 *    FL_HTTPS_MODE_HOLD_US after its last count) a later held response of
 *    its sizes is counted at once. One site changing its sizes (a deploy,
 *    a new download) never makes a mode on its own. Held responses never
 *    counted are learned when they leave the window (a lasting change is
 *    absorbed); suspect ones never are.
 *  - tls_early_closes, tls_stalls: the walker's, as they come;
 *  - tls_retries: the first request of a connection from a client to an
 *    SNI within FL_HTTPS_RETRY_US of a flagged session (a suspect response,
 *    an early close or a stall) of the same client and SNI.
 *
 * Memory is fixed at creation: an LRU of at most `sni_cap` SNIs (the
 * least recently used is forgotten at the cap), FL_HTTPS_PROVIDER_CAP
 * providers (more are not judged) and a direct-mapped table of
 * FL_HTTPS_RETRY_SLOTS recent flagged sessions.
 */
#ifndef FL_HTTPS_MODES_H
#define FL_HTTPS_MODES_H

#include <stdbool.h>
#include <stdint.h>
#include "fl_packet.h"
#include "fl_tls_records.h"

#define FL_HTTPS_SNI_CAP 1024u
#define FL_HTTPS_PROVIDER_CAP 256u /* a power of two */
#define FL_HTTPS_BINS_PER_OCTAVE 16u
#define FL_HTTPS_RARE_SHARE 0.03
#define FL_HTTPS_WINDOW_US 60000000ull
#define FL_HTTPS_MODE_MIN 8u
#define FL_HTTPS_BREADTH 2u
#define FL_HTTPS_MODE_SHARE 0.10
/* A new mode: its share of the provider's recent responses at least
 * FL_HTTPS_MODE_RATIO times its baseline share, a binomial tail under
 * e^FL_HTTPS_MODE_LN_P (about 1e-6), responses of FL_HTTPS_CLIENTS clients. */
#define FL_HTTPS_MODE_RATIO 8.0
#define FL_HTTPS_MODE_LN_P (-13.8)
#define FL_HTTPS_CLIENTS 2u
/* ...and without its largest site it still holds this many responses: one
 * site's deploy (its new page sizes, each requested over and over) and a
 * stray response of that size from another site are one site changing its
 * sizes, not an error template of the provider's. */
#define FL_HTTPS_OTHER_SITES_MIN 4u
/* A bin is rare only under this fraction of what three bins of the
 * histogram hold on average (3 / exp(entropy) of the shares). */
#define FL_HTTPS_FLAT_FRACTION 0.1
/* A mode piles up: at least this many members per bin they occupy. */
#define FL_HTTPS_PILE 2u
/* Responses of one template differ by at most this many bytes (HTTP/2
 * header compression state, HTTP/1.1 header digits) or this share of
 * their size (3 %: 200 bytes at 6.4 kB). */
#define FL_HTTPS_NEAR_BYTES 96u
#define FL_HTTPS_NEAR_SHARE (1.0 / 32.0)
/* Smaller responses are HTTP/2 control records, not judged. */
#define FL_HTTPS_MIN_BYTES 96u
#define FL_HTTPS_LEARN_MIN 8u
#define FL_HTTPS_COLD_MIN 32u
#define FL_HTTPS_COLD_SNIS 3u
#define FL_HTTPS_LEARN_US 20000000ull
#define FL_HTTPS_RETRY_US 10000000ull
/* A mode stays active this long after its last count: a rare response in
 * its size range is counted at once. Five minutes: the troughs of an
 * incident flapping on a 5-minute cycle (2025-11-18) keep it. */
#define FL_HTTPS_MODE_HOLD_US 300000000ull
/* ...and while its counts are FL_HTTPS_MODE_SHARE of the provider's
 * responses, both decayed over two minutes: a branch office's error
 * pages come in bursts (one client's session) a minute apart; after the
 * incident the share falls under 10 % within about three minutes. */
#define FL_HTTPS_ACTIVE_US 120000000ull
/* A size bin is rising (held, not learned) with at least 3 responses
 * lately and 3 times its baseline share of the provider's responses. */
#define FL_HTTPS_RISE_MIN 3u
#define FL_HTTPS_RISE_RATIO 3.0
#define FL_HTTPS_RETRY_SLOTS 4096u

typedef struct fl_https_modes fl_https_modes;

/* What to count now, for the flow's provider. */
typedef struct fl_https_counts {
    uint32_t responses, suspect, early_closes, stalls, retries;
    bool flagged; /* this flow's session is flagged (for retries) */
    /* a mode formed in this call: the time of its first member's response
     * (its held members are all counted now, their own times spread back
     * to this), else 0 */
    uint64_t mode_from_us;
} fl_https_counts;

/* Per-response observer (tests, reports): kind 'R' a response ended
 * (bytes, ttfb_us; ts_us its first byte's time), 'S' the response `tag`
 * was counted suspect (ts_us now). */
typedef void (*fl_https_observer)(void *ctx, char kind, uint64_t tag, uint16_t provider,
                                  uint32_t service, uint32_t bytes, uint32_t ttfb_us,
                                  uint64_t ts_us);

/* The connection a response came on: its client and server ends, and its
 * transport (TCP for TLS, UDP for QUIC). */
typedef struct fl_https_conn {
    fl_addr client, server;
    uint16_t cport, sport;
    uint8_t proto; /* IPPROTO_TCP, IPPROTO_UDP */
} fl_https_conn;

/* A held response of another connection counted suspect now, when the
 * mode its size belongs to forms: booked for its own connection's client
 * and its site, not for the connection whose response completed the mode
 * (which may have ended). */
typedef void (*fl_https_release_fn)(void *ctx, uint16_t provider, uint32_t service,
                                    const fl_https_conn *conn, uint64_t ts_us);

/* sni_cap 0 = FL_HTTPS_SNI_CAP. NULL on allocation failure. */
fl_https_modes *fl_https_modes_new(uint32_t sni_cap);
/* Forget everything learned and counted, keeping the memory and the
 * observer: the state of a new instance with the same cap, without
 * freeing and allocating its 3.5 MB again (an engine reset per fuzz input). */
void fl_https_modes_reset(fl_https_modes *m);
void fl_https_modes_free(fl_https_modes *m);
void fl_https_modes_set_observer(fl_https_modes *m, fl_https_observer fn, void *ctx);
/* Without a sink, fl_https_modes_facts counts every response released
 * into out->suspect (the connection's own and others'). */
void fl_https_modes_set_release(fl_https_modes *m, fl_https_release_fn fn, void *ctx);

/* The walker's facts for a flow of (provider, service) on conn (NULL:
 * not known) at ts_us; tag | response rank names each response for the observer.
 * out->suspect: this connection's responses counted suspect now (held
 * ones of other connections go to the release sink). */
void fl_https_modes_facts(fl_https_modes *m, const fl_tlsrec_facts *tf, uint16_t provider,
                          uint32_t service, const fl_https_conn *conn, uint64_t ts_us, uint64_t tag,
                          fl_https_counts *out);

/* One response (the core of fl_https_modes_facts) that ended at ts_us:
 * returns how many responses are counted suspect now (this one and held
 * ones). first_us (its first byte) goes only to the observer. */
uint32_t fl_https_modes_response(fl_https_modes *m, uint16_t provider, uint32_t service,
                                 uint32_t bytes, uint32_t ttfb_us, uint64_t ts_us,
                                 uint64_t first_us, uint64_t tag);

/* Log bin of a response size (exposed for tests and reports). */
uint32_t fl_https_size_bin(uint32_t bytes);
/* Lower bound in bytes of a bin. */
uint32_t fl_https_bin_floor(uint32_t bin);

/* The provider's modes of suspect responses (reports: what moved). */
#define FL_HTTPS_MODE_SITES 16u
#define FL_HTTPS_MODE_SLOTS 4u
typedef struct fl_https_mode_summary {
    uint32_t lo_bytes, hi_bytes; /* sizes of its responses */
    uint64_t first_us, last_us;  /* its first response, its last count */
    uint32_t suspect;            /* responses counted in it */
    uint64_t responses;          /* the provider's responses since its first */
    double ttfb_mode_us;         /* mean time to first byte in it */
    double ttfb_base_us;         /* usual, when it began */
    uint32_t services[FL_HTTPS_MODE_SITES], nservices;
    uint32_t more_services; /* 1: more sites than listed */
} fl_https_mode_summary;
/* Up to max of the provider's modes (FL_HTTPS_MODE_SLOTS kept, the
 * latest of each size range); 0 when it has had no suspect response. */
uint32_t fl_https_modes_summary(const fl_https_modes *m, uint16_t provider,
                                fl_https_mode_summary *out, uint32_t max);

typedef struct fl_https_stats {
    uint32_t snis;        /* SNIs tracked now */
    uint64_t sni_evicted; /* forgotten at the cap */
    uint64_t rare, suspect;
    uint64_t rare_dropped; /* pushed out of a full ring of rare responses */
} fl_https_stats;
void fl_https_modes_stats(const fl_https_modes *m, fl_https_stats *st);

#endif
