/* fl_http.h - HTTP/1.x message tracker for one TCP connection.
 *
 * A byte-level resumable parser for both directions (picohttpparser's three
 * outcomes, nginx's saved state): request and status lines and headers may
 * be split across any segment boundary; bodies are skipped by length
 * (Content-Length, chunked) without being scanned; HEAD, 1xx, 204 and 304
 * responses have no body; keep-alive and pipelining are followed with a
 * small queue of outstanding requests. It never allocates.
 *
 * It reads the status code from the status line itself (nDPI 4.2 drops codes
 * above 509, and Cloudflare's 520-530 matter most), and notes response
 * headers that name the CDN that answered.
 */
#ifndef FL_HTTP_H
#define FL_HTTP_H

#include <stdbool.h>
#include <stdint.h>

/* Which CDN a response's headers name. */
typedef enum fl_http_cdn {
    FL_CDN_NONE = 0,
    FL_CDN_CLOUDFLARE, /* Server: cloudflare, CF-RAY */
    FL_CDN_AWS,        /* X-Amz-Cf-Id, Server: CloudFront / AmazonS3 */
    FL_CDN_FASTLY,     /* X-Served-By: cache-..., Fastly-Debug-*, X-Fastly-* */
    FL_CDN_AKAMAI,     /* Server: AkamaiGHost / AkamaiNetStorage */
    FL_CDN_GOOGLE,     /* Server: gws / ESF / GFE */
    FL_CDN_MICROSOFT,  /* X-Azure-Ref, X-MSEdge-Ref */
} fl_http_cdn;

/* One direction's parser state. */
typedef struct fl_http_reader {
    uint64_t body_left; /* body bytes to skip (length or current chunk) */
    uint16_t status;    /* response being parsed */
    uint8_t state;      /* private: where in the message grammar */
    uint8_t sub;        /* private: position inside a token */
    uint8_t hdr;        /* private: which header name is matching */
    uint8_t flags;      /* private: chunked, has length, ... */
    uint8_t cdn;        /* fl_http_cdn seen in this message's headers */
    uint8_t pad;
} fl_http_reader;

typedef struct fl_http_conn {
    fl_http_reader req, resp;
    uint32_t head_queue; /* bit i: the i-th outstanding request was HEAD */
    uint8_t outstanding; /* requests not yet answered (saturates at 32) */
    uint8_t dead;        /* gave up: upgraded/CONNECT tunnel or garbage */
    uint8_t cdn;         /* last fl_http_cdn seen in any response */
    uint8_t connect_at;  /* private: 1 + queue position of a CONNECT, or 0 */
} fl_http_conn;          /* 40 bytes */

/* What one fl_http_feed() call found. */
typedef struct fl_http_facts {
    uint16_t requests;  /* request lines completed */
    uint16_t responses; /* status lines completed (1xx interim excluded) */
    uint16_t status_4xx;
    uint16_t status_5xx;
    uint16_t last_status;
    uint8_t cdn; /* fl_http_cdn named by a response in this call */
} fl_http_facts;

/* Feed in-order stream bytes of one direction; facts is zeroed then filled. */
void fl_http_feed(fl_http_conn *c, bool from_client, const uint8_t *data, uint32_t len,
                  fl_http_facts *facts);

/* Bytes were lost in one direction: resynchronise at the next line that
 * starts a message ("HTTP/1." for responses, a method for requests). */
void fl_http_on_gap(fl_http_conn *c, bool from_client);

/* Quick check for a client's first payload: an HTTP/1.x request method
 * followed by a space. */
bool fl_http_looks_like_request(const uint8_t *data, uint32_t len);

static inline bool fl_http_wants_bytes(const fl_http_conn *c)
{
    return !c->dead;
}

#endif
