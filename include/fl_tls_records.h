/* fl_tls_records.h - the TLS record walker after the handshake, and
 * request/response inference by direction of data.
 *
 * Pure (depends on nothing but the cursor): fed the in-order payload bytes
 * of one TCP connection per direction, with packet time, from the
 * connection's first byte. Record boundaries come from sequence arithmetic
 * (RFC 8446 5.1, RFC 5246 6.2.1: a 5-byte header gives the body length);
 * bodies are skipped without being buffered or read.
 *
 * What is inferred, without keys:
 *  - the handshake's end: TLS 1.2 data is type 23 after both Finished;
 *    TLS 1.3 encrypts the server's flight as type 23, and the client's first
 *    type-23 record after it is its Finished (RFC 8446 4.4.4), not data;
 *  - requests: a client burst of non-control records after server data (or
 *    the first after the handshake);
 *  - responses: the server's non-control records after a request, up to
 *    and including one shorter than a full record (body under
 *    FL_TLSREC_FULL_BODY: servers fill records to 2^14 bytes of plaintext,
 *    RFC 8446 5.1, while a response's last record is short), or the next
 *    request, a close, or FL_TLSREC_QUIET_US of server silence. This also
 *    separates HTTP/2 responses multiplexed on one connection, which nginx
 *    writes one short record each;
 *    size = record bodies minus FL_TLSREC_OVERHEAD each (TLS 1.3 inner type
 *    and 16-byte AEAD tag, RFC 8446 5.2; AES-GCM TLS 1.2 adds 8 bytes of
 *    explicit nonce, RFC 5288 3, so its sizes read 7 bytes high per record);
 *    time to first byte = first server record - request start;
 *  - control-sized records (body <= FL_TLSREC_CONTROL_MAX: HTTP/2 SETTINGS,
 *    WINDOW_UPDATE, PING, RST_STREAM frames, RFC 9113 6) are left out of
 *    requests and responses; a TLS 1.3 record of body 19 after the
 *    handshake is an encrypted alert (close_notify, RFC 8446 6.1).
 *
 * Weak spots, admitted: HTTP/2 multiplexes requests; a client burst of
 * several requests is one "request" (their responses are still told apart
 * by short records). A server that sends small records inside a response
 * (dynamic record sizing, or a body written in pieces) makes each piece a
 * "response". TLS 1.3 NewSessionTicket records (RFC 8446 4.6.1) are told
 * apart only when they come as a pair of one size before the first
 * response (OpenSSL's default of two); a single ticket counts as a small
 * response. A capture gap in either direction
 * loses the record framing: the connection is then out of step and nothing
 * more is inferred from it (never a guess).
 */
#ifndef FL_TLS_RECORDS_H
#define FL_TLS_RECORDS_H

#include <stdbool.h>
#include <stdint.h>

/* Record body at or below this: an HTTP/2 control frame, not content. */
#define FL_TLSREC_CONTROL_MAX 40u
/* Per-record overhead taken off a body for the plaintext size. */
#define FL_TLSREC_OVERHEAD 17u
/* A server record body under this is not full: it ends a response. */
#define FL_TLSREC_FULL_BODY 16384u
/* A response that holds this much before a short record is a bulk one:
 * two full records (nginx's 32 kB output chunk); short records no longer
 * end it. */
#define FL_TLSREC_BULK_BYTES 32768u
/* Server silence that ends a response. */
#define FL_TLSREC_QUIET_US 1000000ull
/* A request with no server record for this long, the flow open: a stall. */
#define FL_TLSREC_STALL_US 10000000ull
/* An early close: the server closes within this long of the request,
 * before any response, or with at most FL_TLSREC_EARLY_BYTES of it. */
#define FL_TLSREC_EARLY_US 5000000ull
#define FL_TLSREC_EARLY_BYTES 64u

typedef enum fl_tlsrec_state {
    FL_TLSREC_HANDSHAKE = 0, /* no application data yet */
    FL_TLSREC_OPEN,          /* walking application data */
    FL_TLSREC_OUT_OF_STEP,   /* framing lost (gap or garbage): stopped */
    FL_TLSREC_CLOSED,        /* FIN or RST seen: stopped */
} fl_tlsrec_state;

typedef enum fl_tlsrec_phase {
    FL_TLSREC_IDLE = 0, /* no request outstanding */
    FL_TLSREC_REQUEST,  /* request sent, no server data yet */
    FL_TLSREC_RESPONSE, /* server data flowing */
} fl_tlsrec_phase;

typedef struct fl_tlsrec_dir {
    uint16_t rec_left; /* body bytes left of the current record */
    uint8_t hdr_have;  /* 0..5 header bytes seen */
    uint8_t hdr[5];    /* the header as received */
} fl_tlsrec_dir;

/* 64 bytes: lives in the flow entry beside the handshake tracker. */
typedef struct fl_tls_walk {
    fl_tlsrec_dir dir[2]; /* [0] client to server, [1] server to client */
    uint64_t req_us;      /* start of the outstanding request */
    uint64_t server_us;   /* last server record header */
    uint32_t resp_bytes;  /* plaintext bytes of the current response */
    uint32_t ttfb_us;     /* of the current response (saturating) */
    uint16_t requests;    /* requests seen (saturating) */
    uint8_t state;        /* fl_tlsrec_state */
    uint8_t phase;        /* fl_tlsrec_phase */
    uint8_t flags;        /* private: TLS 1.3 seen, Finished skipped, ... */
    uint16_t responses;   /* responses ended (saturating) */
    uint16_t held_len;    /* TLS 1.3: a record held as a possible ticket */
    uint64_t held_us;
} fl_tls_walk;

/* Responses one call can report; more are merged into the last. */
#define FL_TLSREC_MAX_RESP 8u

typedef struct fl_tlsrec_resp {
    uint32_t bytes;    /* plaintext bytes */
    uint32_t ttfb_us;  /* first record - request start */
    uint64_t first_us; /* packet time of the first record */
    uint16_t seq;      /* the response's rank on the connection */
} fl_tlsrec_resp;

/* What one call found; zeroed then filled. */
typedef struct fl_tlsrec_facts {
    uint8_t request; /* 1: a request started (the first: first_request too) */
    uint8_t first_request;
    uint8_t response;     /* responses that ended: resp[0 .. response-1] */
    uint8_t early_close;  /* 1: the server closed soon after a request */
    uint8_t stall;        /* 1: a request waited FL_TLSREC_STALL_US */
    uint8_t out_of_step;  /* 1: framing was lost in this call */
    uint8_t server_alert; /* 1: a TLS 1.3 encrypted alert from the server */
    fl_tlsrec_resp resp[FL_TLSREC_MAX_RESP];
} fl_tlsrec_facts;

void fl_tlsrec_init(fl_tls_walk *w);

/* One more response in f (a walker's, this one or fl_quic_app.h's): past
 * FL_TLSREC_MAX_RESP, merged into the last (bytes saturating). */
void fl_tlsrec_add_response(fl_tlsrec_facts *f, uint32_t bytes, uint32_t ttfb_us, uint64_t first_us,
                            uint16_t seq);

/* In-order bytes of one direction at packet time now_us. */
void fl_tlsrec_feed(fl_tls_walk *w, bool from_client, const uint8_t *data, uint32_t len,
                    uint64_t now_us, fl_tlsrec_facts *f);

/* Bytes were lost in one direction: out of step from here on. */
void fl_tlsrec_on_gap(fl_tls_walk *w, fl_tlsrec_facts *f);

/* FIN or RST. A response under way ends; a request the server closes on
 * soon and with almost no data is an early close. */
void fl_tlsrec_on_close(fl_tls_walk *w, bool by_server, uint64_t now_us, fl_tlsrec_facts *f);

/* Packet time passed: a response ends after FL_TLSREC_QUIET_US of server
 * silence; a request unanswered for FL_TLSREC_STALL_US is a stall (once). */
void fl_tlsrec_tick(fl_tls_walk *w, uint64_t now_us, fl_tlsrec_facts *f);

/* True while a tick could still report something (a timer is worth it):
 * a response under way, or a request not answered yet. */
bool fl_tlsrec_pending(const fl_tls_walk *w);

static inline bool fl_tlsrec_wants_bytes(const fl_tls_walk *w)
{
    return w->state <= FL_TLSREC_OPEN;
}

#endif
