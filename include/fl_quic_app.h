/* fl_quic_app.h - requests and responses inside a QUIC connection, without
 * keys, from packet sizes and direction.
 *
 * Pure (depends on nothing but the datagrams): fed every UDP datagram of one
 * QUIC flow with its direction and packet time. It reports the same facts as
 * the TLS record walker (fl_tls_records.h), so that HTTP/3 responses feed the
 * same size modes and retries as HTTPS over TCP (fl_https_modes.h).
 *
 * What it reads (RFC 9000 17): the long headers, for their lengths and the
 * connection IDs' lengths (a short header carries only the destination ID,
 * whose length is the one the peer chose as its source ID in its long
 * headers); v1 and v2 (RFC 9369) packet types. Every packet is encrypted:
 * a 1-RTT (short header) or 0-RTT packet's plaintext is its length minus
 * the header (1 byte, the destination ID, FL_QUIC_APP_PN_LEN bytes of
 * packet number: its real length is hidden by header protection, RFC 9001
 * 5.4) and the 16-byte AEAD tag (RFC 9001 5.3). Initial and Handshake
 * packets are the handshake, never data.
 *
 *  - control-sized packets (server plaintext <= FL_QUIC_APP_CONTROL_MAX:
 *    ACK, PING, MAX_DATA, HTTP/3 SETTINGS on their own, RFC 9000 19, RFC
 *    9114 7.2.4; client plaintext <= FL_QUIC_APP_REQUEST_MIN) are left out
 *    of requests and responses;
 *  - a request is a client burst of data packets after server data (or the
 *    first after the handshake, 0-RTT included);
 *  - its response is the server's data packets after it, up to the next
 *    request, FL_TLSREC_QUIET_US of server silence, or a datagram shorter
 *    than the response's largest (servers fill datagrams while a response
 *    has data queued; the last one is short); a response of one short
 *    packet ends by the next request or the silence. size = the
 *    plaintexts (STREAM and HTTP/3 frame headers stay in: a few bytes a
 *    packet); time to first byte = first server data packet - request
 *    start;
 *  - a path MTU probe (PING and PADDING in a datagram larger than any of
 *    its sender's so far, RFC 9000 14.4, RFC 8899) is neither. Datagrams
 *    carrying Initials are padded to at least 1200 bytes (RFC 9000 14.1),
 *    so both sides' largest are known before the first probe, and a probe
 *    searches above the 1200 bytes every path carries: only a datagram
 *    over FL_QUIC_APP_PROBE_MIN can be one (an endpoint that did not pad
 *    its Initials sends data up to that size unquestioned). A client
 *    1-RTT datagram larger than its largest by FL_QUIC_APP_SHORT_SLACK is
 *    a probe (requests are small); a server's is held: a server may also
 *    simply send its data in datagrams larger than its handshake's, so it
 *    is data if the server's next datagram is as large, otherwise a probe
 *    (a response of one such datagram, the first at that size, is lost,
 *    and the next request is taken for more of the one it answered:
 *    ngtcp2 probes while a request waits, and a probe taken for a
 *    response would be one size for all of a server's sites).
 *
 * Weak spots, admitted: CONNECTION_CLOSE is encrypted in 1-RTT packets, so
 * a connection's end is not seen: no early close and no stall is inferred
 * (a client's connection-level frames sent after its first response, e.g.
 * NEW_CONNECTION_ID, look like a request that is never answered). HTTP/3
 * multiplexes, so a client burst of several requests is one "request" and
 * their responses one (an error page asks for no subresources: its
 * response stands alone). The server's first post-handshake frames
 * (HANDSHAKE_DONE, NEW_TOKEN, NEW_CONNECTION_ID, a session ticket) add
 * about 600 bytes to the first response of a connection (ngtcp2: measured
 * on pcaps/quic-stack/responses.pcap). A flow joined after its handshake
 * uses FL_QUIC_APP_CID_GUESS as the ID length.
 */
#ifndef FL_QUIC_APP_H
#define FL_QUIC_APP_H

#include <stdbool.h>
#include <stdint.h>

#include "fl_tls_records.h"

/* Server plaintext at or below this: a control packet, not content. */
#define FL_QUIC_APP_CONTROL_MAX 40u
/* Client plaintext at or below this: ACKs and flow control (RFC 9000
 * 19.3, 19.9: 5-15 bytes), not a request. A GET's QPACK-compressed HEADERS
 * in a STREAM frame is about 20 bytes at the least (ngtcp2's client: 17
 * bytes of HEADERS), a browser's a few hundred. */
#define FL_QUIC_APP_REQUEST_MIN 20u
/* The packet number length assumed (1 to 4 bytes: hidden). */
#define FL_QUIC_APP_PN_LEN 2u
/* AEAD tag of every QUIC packet protection (RFC 9001 5.3). */
#define FL_QUIC_APP_TAG 16u
/* Destination ID length when no long header told it. */
#define FL_QUIC_APP_CID_GUESS 8u
/* A datagram this much shorter than the server's largest is short. */
#define FL_QUIC_APP_SHORT_SLACK 32u
/* No datagram up to this is a path MTU probe: every path carries 1200
 * bytes of UDP payload (RFC 9000 14), probes search above it. */
#define FL_QUIC_APP_PROBE_MIN (1200u + FL_QUIC_APP_SHORT_SLACK)

/* 56 bytes: lives in the flow entry beside the Initial reader's state. */
typedef struct fl_quic_app {
    uint64_t req_us;      /* start of the outstanding request */
    uint64_t server_us;   /* last server data packet */
    uint64_t probe_us;    /* the held datagram's time (probe_len) */
    uint32_t resp_bytes;  /* plaintext bytes of the current response */
    uint32_t ttfb_us;     /* of the current response (saturating) */
    uint16_t requests;    /* requests seen (saturating) */
    uint16_t responses;   /* responses ended (saturating) */
    uint16_t full[2];     /* largest datagram so far: [0] the client's, [1] the server's */
    uint16_t resp_max;    /* largest server datagram of the response under way */
    uint16_t probe_len;   /* a server datagram larger than any before, held: */
    uint16_t probe_plain; /* its plaintext, counted if the next is as large */
    uint8_t cid_len[2];   /* short-header destination ID length: [0] to the server, [1] to
                             the client */
    uint8_t phase;        /* fl_tlsrec_phase */
} fl_quic_app;

void fl_quic_app_init(fl_quic_app *a);

/* One UDP datagram of the flow, from the client or the server, at now_us.
 * f is zeroed, then filled (requests and responses, as fl_tls_records.h). */
void fl_quic_app_feed(fl_quic_app *a, bool from_client, const uint8_t *d, uint32_t len,
                      uint64_t now_us, fl_tlsrec_facts *f);

/* Packet time passed: a response ends after FL_TLSREC_QUIET_US of server
 * silence. */
void fl_quic_app_tick(fl_quic_app *a, uint64_t now_us, fl_tlsrec_facts *f);

/* True while a tick could still report something (a timer is worth it):
 * a response under way. */
bool fl_quic_app_pending(const fl_quic_app *a);

#endif
