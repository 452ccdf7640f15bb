/* fl_tls.h - TLS handshake tracker for one TCP connection.
 *
 * Reads TLS record headers (RFC 8446 5.1, RFC 5246 6.2) in both directions,
 * across TCP segment boundaries, without buffering: a byte-level resumable
 * state machine. It looks only at what decides the handshake's fate:
 * ClientHello, ServerHello, ChangeCipherSpec, plaintext alerts, and the first
 * application-data records. Once the handshake completed or failed it stops
 * (fl_tls_wants_bytes() turns false) and the caller stops feeding it.
 *
 * Completion (TLS 1.2 and 1.3 alike): a ServerHello was seen, then the client
 * sent an application_data record (TLS 1.3 client Finished, or 1.2 data after
 * Finished) and the server sent a record after that. TLS 1.3 completes
 * earlier, with the client's Finished itself: its first encrypted record
 * (not a 19-byte alert) after the server's encrypted flight. TLS 1.2 also completes
 * when both sides sent ChangeCipherSpec and the server's encrypted Finished
 * (a handshake record after its CCS) came, data or not.
 * Failure: a plaintext fatal alert from either side, or the server closing
 * (FIN/RST) before completion, or no ServerHello within the timeout. A client
 * that closes first gives no verdict. Weak spot, admitted: a TLS 1.3 client
 * that rejects the server's certificate sends its alert encrypted (content
 * type 23); we see it only when the server then closes (a failure), not when
 * the client closes first.
 */
#ifndef FL_TLS_H
#define FL_TLS_H

#include <stdbool.h>
#include <stdint.h>

typedef enum fl_tls_state {
    FL_TLS_UNKNOWN = 0,  /* no client bytes yet */
    FL_TLS_CLIENT_HELLO, /* ClientHello seen, waiting for the server */
    FL_TLS_SERVER_HELLO, /* ServerHello seen, handshake under way */
    FL_TLS_COMPLETE,     /* done: stop feeding */
    FL_TLS_FAILED,       /* done: stop feeding */
    FL_TLS_NOT_TLS,      /* client's first bytes are not a TLS handshake */
    FL_TLS_ABANDONED,    /* done without a verdict: client closed, gap, lost
                             record framing; stop feeding */
} fl_tls_state;

/* Per-direction record reader: where we are inside the current record. */
typedef struct fl_tls_reader {
    uint16_t rec_left; /* body bytes left in the current record */
    uint8_t hdr_have;  /* 0..5 bytes of the record header seen */
    uint8_t ctype;     /* content type of the current record */
    uint8_t body_seen; /* body bytes seen of the current record (saturating) */
    uint8_t first[2];  /* handshake: [0] type; alert: [0] level of the
                              current message, [1] last fatal description */
    uint8_t hdr[5];    /* record header (RFC 5246 6.2.1) as received */
    uint8_t records;   /* records finished in this direction (saturating) */
    uint8_t ccs;       /* this side sent ChangeCipherSpec after the
                              ServerHello: its later alerts are encrypted */
    uint8_t fatal;     /* fatal messages in the current alert record so
                              far; counted when the record ends */
} fl_tls_reader;

typedef struct fl_tls_session {
    fl_tls_reader dir[2];   /* [0] client to server, [1] server to client */
    uint8_t state;          /* fl_tls_state */
    uint8_t client_appdata; /* bit 0: the client sent application data; bit 1: the
                              server's TLS 1.2 Finished (handshake after CCS) came;
                              bit 2: the server sent TLS 1.3 encrypted records */
} fl_tls_session;

/* What one fl_tls_feed() call found. */
typedef struct fl_tls_facts {
    uint8_t client_hello; /* 1: the connection's first ClientHello (a handshake) */
    uint8_t fatal_alerts; /* plaintext alert messages with level fatal (2) */
    uint8_t failed;       /* 1: the handshake failed in this call (fatal alert) */
    uint8_t completed;    /* 1: the handshake completed in this call */
    uint8_t alert_desc;   /* description of the last fatal alert */
} fl_tls_facts;

/* Feed in-order stream bytes; facts is zeroed then filled. */
void fl_tls_feed(fl_tls_session *s, bool from_client, const uint8_t *data, uint32_t len,
                 fl_tls_facts *facts);

/* The connection was closed (FIN or RST). Returns true when that makes an
 * unfinished handshake (ClientHello seen, not complete) a failure: only a
 * close by the server does. Either way the session stops. */
bool fl_tls_on_close(fl_tls_session *s, bool by_server);

/* The handshake timer ran out. Returns true if the handshake was still
 * unfinished (it is now failed). */
bool fl_tls_on_timeout(fl_tls_session *s);

/* Bytes were lost in one direction: record framing is gone. The handshake's
 * outcome is unknown from here on; the session stops without a verdict. */
void fl_tls_on_gap(fl_tls_session *s);

static inline bool fl_tls_wants_bytes(const fl_tls_session *s)
{
    return s->state < FL_TLS_COMPLETE;
}

static inline bool fl_tls_in_handshake(const fl_tls_session *s)
{
    return s->state == FL_TLS_CLIENT_HELLO || s->state == FL_TLS_SERVER_HELLO;
}

/* Quick check for a client's first payload: a TLS handshake record header
 * (0x16 0x03 0x00..0x04). */
bool fl_tls_looks_like_client_hello(const uint8_t *data, uint32_t len);

#endif
