/* dissect_http.c - HTTP/1.x message tracker (RFC 9112), both directions.
 *
 * A byte-level state machine with its whole state in fl_http_reader (16
 * bytes a direction), so a message may be split at any byte across segments
 * and nothing is ever buffered or allocated. Bytes that cannot change a
 * count are not looked at one by one: bodies are skipped by length (one
 * subtraction a segment), uninteresting header lines, reason phrases, chunk
 * extensions and trailers with memchr() to the next LF.
 *
 * What is tracked: request lines (method, so HEAD and CONNECT answers are
 * framed right), status lines (the code is read here, not taken from nDPI,
 * which drops codes above 509), the framing headers Content-Length and
 * Transfer-Encoding, and a few response headers that name the CDN that
 * answered. Message framing follows RFC 9112 section 6.3.
 *
 * Leniency, on purpose: a request line is counted as soon as it ends if it
 * starts with a token and SP (target and version are not checked, and a
 * known method alone on its line counts too): servers answer such lines
 * (400), and tshark counts them. Bad bytes in the request direction give up
 * only that direction, so the answers are still counted; bad bytes where a
 * response must be make the connection dead.
 *
 * Weak spots, on purpose:
 * - After fl_http_on_gap() the direction resynchronises at the next line
 *   start, or segment start (a lost body seldom ends in LF), that begins
 *   like a message ("HTTP/1.x DDD" or a known method and SP); body bytes
 *   that happen to look like that are taken for a message, so the count
 *   after a gap can depend on segmentation. The outstanding queue is not
 *   repaired: requests or responses lost in the gap leave it off by that
 *   many, so the HEAD/CONNECT bits of later answers can be misaligned
 *   (approximate). A caller that joins a connection mid-stream (no SYN seen
 *   for a direction) should call fl_http_on_gap() before its first bytes.
 * - 1xx answers are not counted, except 101: it is the last HTTP/1 answer
 *   on the connection (a tunnel follows) and answers the request. tshark
 *   counts every 1xx, and counts a response only once its body is
 *   reassembled, where we count at the status line.
 * - Expect: 100-continue is not followed across directions: a client that
 *   gets a final answer instead of 100 and then drops its announced body
 *   makes us skip its next request as body.
 * - The queue remembers 32 outstanding requests; beyond that requests are
 *   still counted but their HEAD/CONNECT bits are forgotten.
 * - obs-fold continuation lines (RFC 9112 5.2) are skipped, not unfolded.
 */
#include <string.h>

#include "fl_cursor.h"
#include "fl_http.h"

/* Parser states (fl_http_reader.state). "skip" states jump to the next LF
 * with memchr and then process that LF like any other byte. */
enum {
    S_START = 0,    /* before a message; empty lines are ignored (9112 2.2) */
    S_REQ_METHOD,   /* sub = length so far, hdr = candidate known method */
    S_REQ_LINE_END, /* skip: target and version */
    S_RESP_VER,     /* sub = position in "HTTP/1.x" */
    S_RESP_SP,      /* the SP after the version */
    S_RESP_CODE,    /* sub = digits so far, status = value */
    S_RESP_AFTER,   /* after three digits: SP, CR or LF */
    S_RESP_REASON,  /* skip: the reason phrase */
    S_HDR_LINE,     /* start of a header line (or the empty line) */
    S_HDR_NAME,     /* hdr = candidate header, sub = matched length */
    S_HDR_OWS,      /* between ':' and the value (hdr = which header) */
    S_HDR_CL,       /* Content-Length digits into body_left */
    S_HDR_TE,       /* Transfer-Encoding: sub = position in "chunked" */
    S_HDR_VAL,      /* CDN value: hdr = candidate, sub = matched length */
    S_HDR_SKIP,     /* skip: the rest of a header line */
    S_HDR_END_CR,   /* CR of the empty line seen, LF expected */
    S_BODY,         /* body_left bytes of Content-Length body */
    S_CHUNK_SIZE,   /* sub = hex digits so far, body_left = value */
    S_CHUNK_EXT,    /* skip: chunk extensions */
    S_CHUNK_DATA,   /* body_left bytes of chunk data */
    S_CHUNK_END,    /* CRLF after chunk data; sub = 1 once CR seen */
    S_TRAILER_LINE, /* start of a trailer line (or the empty line) */
    S_TRAILER_SKIP, /* skip: a trailer field line */
    S_TRAILER_CR,   /* CR of the final empty line seen */
    S_RESYNC_SKIP,  /* skip: a line that did not start a message */
    S_DISCARD,      /* body until close: ignore the rest of the direction */
};

/* fl_http_reader.flags */
enum {
    F_CL = 1u << 0,         /* Content-Length seen */
    F_TE = 1u << 1,         /* Transfer-Encoding seen */
    F_CHUNKED = 1u << 2,    /* ... and its final coding is chunked */
    F_HEAD = 1u << 3,       /* this response answers a HEAD */
    F_CONNECT = 1u << 4,    /* this response answers a CONNECT */
    F_RESYNC = 1u << 5,     /* after a gap: a non-message line is skipped */
    F_SERVER_VAL = 1u << 6, /* S_HDR_VAL reads Server (else X-Served-By) */
};

#define NONE 0xffu
#define QUEUE_MAX 32u
#define METHOD_MAX 20u /* longest method we accept (MKACTIVITY etc.) */

/* A candidate string matched one byte at a time. Several candidates may
 * share a prefix; the reader remembers only the index of one that agrees
 * with every byte so far and its length, and on a mismatch looks for
 * another candidate with the same prefix (cand_next). */
typedef struct cand {
    const char *s;
    uint8_t len;
    uint8_t kind;
} cand;

#define C(str, k)                                                                                  \
    {                                                                                              \
        str, sizeof(str) - 1, k                                                                    \
    }

/* Header kinds: framing, a CDN named by the header's presence, or a CDN
 * named by its value. */
enum {
    H_CL = 1,
    H_TE,
    H_SERVER,     /* value from server_vals */
    H_SERVED_BY,  /* value from served_by_vals */
    H_CDN_NAME,   /* exact name; cdn in hdr_cdn */
    H_CDN_PREFIX, /* any name with this prefix */
};

/* Header names, lower case (field names are case-insensitive, RFC 9110
 * 5.1). */
static const cand hdrs[] = {
    C("content-length", H_CL),        C("transfer-encoding", H_TE), C("server", H_SERVER),
    C("cf-ray", H_CDN_NAME),          C("x-amz-cf-id", H_CDN_NAME), C("x-served-by", H_SERVED_BY),
    C("fastly-debug-", H_CDN_PREFIX), C("x-fastly-", H_CDN_PREFIX), C("x-azure-ref", H_CDN_NAME),
    C("x-msedge-ref", H_CDN_NAME),
};
static const uint8_t hdr_cdn[] = {
    FL_CDN_NONE, FL_CDN_NONE,   FL_CDN_NONE,   FL_CDN_CLOUDFLARE, FL_CDN_AWS,
    FL_CDN_NONE, FL_CDN_FASTLY, FL_CDN_FASTLY, FL_CDN_MICROSOFT,  FL_CDN_MICROSOFT,
};
_Static_assert(sizeof hdrs / sizeof hdrs[0] == sizeof hdr_cdn, "one cdn a header");

/* Server values, lower case; a value matches if it starts with one and the
 * next byte is not a letter or digit ("cloudflare-nginx", "GFE/2.0"). The
 * kind is the fl_http_cdn. */
static const cand server_vals[] = {
    C("cloudflare", FL_CDN_CLOUDFLARE),
    C("cloudfront", FL_CDN_AWS),
    C("amazons3", FL_CDN_AWS),
    C("akamaighost", FL_CDN_AKAMAI),
    C("akamainetstorage", FL_CDN_AKAMAI),
    C("gws", FL_CDN_GOOGLE),
    C("esf", FL_CDN_GOOGLE),
    C("gfe", FL_CDN_GOOGLE),
};

/* Fastly's X-Served-By lists cache nodes: "cache-lhr7321-LHR, ..." */
static const cand served_by_vals[] = {
    C("cache-", FL_CDN_FASTLY),
};

/* Methods are case-sensitive (RFC 9110 9.1): the registered ones most
 * likely on the wire, WebDAV (RFC 4918, 3253, 4791) included. Any other
 * token is accepted as a method too, except when resynchronising and in
 * fl_http_looks_like_request(), which need a known one. */
enum { M_OTHER = 0, M_HEAD, M_CONNECT };
static const cand methods[] = {
    C("GET", M_OTHER),
    C("POST", M_OTHER),
    C("HEAD", M_HEAD),
    C("PUT", M_OTHER),
    C("DELETE", M_OTHER),
    C("OPTIONS", M_OTHER),
    C("PATCH", M_OTHER),
    C("CONNECT", M_CONNECT),
    C("TRACE", M_OTHER),
    C("PROPFIND", M_OTHER),
    C("PROPPATCH", M_OTHER),
    C("MKCOL", M_OTHER),
    C("COPY", M_OTHER),
    C("MOVE", M_OTHER),
    C("LOCK", M_OTHER),
    C("UNLOCK", M_OTHER),
    C("SEARCH", M_OTHER),
    C("REPORT", M_OTHER),
    C("MKACTIVITY", M_OTHER),
    C("CHECKOUT", M_OTHER),
    C("MERGE", M_OTHER),
    C("MKCALENDAR", M_OTHER),
    C("ACL", M_OTHER),
    /* UPnP GENA (event subscriptions on TCP) */
    C("SUBSCRIBE", M_OTHER),
    C("UNSUBSCRIBE", M_OTHER),
    C("NOTIFY", M_OTHER),
};

#define NCAND(t) ((uint8_t)(sizeof(t) / sizeof((t)[0])))

static const char http_ver[] = "HTTP/1."; /* then one digit */
static const char chunked[] = "chunked";

static inline uint8_t lower(uint8_t b)
{
    return (b >= 'A' && b <= 'Z') ? (uint8_t)(b + 32) : b;
}

static inline bool is_digit(uint8_t b)
{
    return b >= '0' && b <= '9';
}

static inline bool is_alnum(uint8_t b)
{
    uint8_t l = lower(b);
    return is_digit(b) || (l >= 'a' && l <= 'z');
}

/* tchar of RFC 9110 5.6.2 */
static bool is_tchar(uint8_t b)
{
    return is_alnum(b) || (b != 0 && strchr("!#$%&'*+-.^_`|~", b) != NULL);
}

static int hex_val(uint8_t b)
{
    if (is_digit(b))
        return b - '0';
    uint8_t l = lower(b);
    return (l >= 'a' && l <= 'f') ? l - 'a' + 10 : -1;
}

/* The candidate that agrees with the `sub` bytes matched so far (those of
 * tab[idx]) and with byte b at position sub, or NONE. b is already folded
 * for case-insensitive tables. */
static uint8_t cand_next(const cand *tab, uint8_t n, uint8_t idx, uint8_t sub, uint8_t b)
{
    if (idx == NONE && sub > 0)
        return NONE;
    if (idx != NONE && sub < tab[idx].len && (uint8_t)tab[idx].s[sub] == b)
        return idx;
    for (uint8_t j = 0; j < n; j++) {
        if (sub >= tab[j].len || (uint8_t)tab[j].s[sub] != b)
            continue;
        if (idx == NONE || memcmp(tab[j].s, tab[idx].s, sub) == 0)
            return j;
    }
    return NONE;
}

/* One feed call's context. */
typedef struct run {
    fl_http_conn *c;
    fl_http_reader *r;
    fl_http_facts *f;
    bool client;
} run;

static inline void bump(uint16_t *v)
{
    if (*v != UINT16_MAX)
        (*v)++;
}

static void msg_reset(fl_http_reader *r)
{
    r->state = S_START;
    r->sub = 0;
    r->hdr = NONE;
    r->flags = 0;
    r->cdn = FL_CDN_NONE;
    r->body_left = 0;
}

/* Bytes that break the grammar. After a gap we look for the next line that
 * starts a message. Otherwise a bad response means the connection is not
 * HTTP (or not any more) and we stop following it; a bad request is still
 * answered by the server (400, as a whole capture of malformed request
 * lines shows), so only the request direction is given up. */
static void garbage(run *x, uint8_t b)
{
    if (x->r->flags & F_RESYNC) {
        uint8_t keep = F_RESYNC;
        msg_reset(x->r);
        x->r->flags = keep;
        x->r->state = (b == '\n') ? S_START : S_RESYNC_SKIP;
    } else if (x->client) {
        x->r->state = S_DISCARD;
    } else {
        x->c->dead = 1;
    }
}

static void set_cdn(run *x, uint8_t cdn)
{
    if (x->client || cdn == FL_CDN_NONE)
        return;
    x->r->cdn = cdn;
    x->c->cdn = cdn;
    x->f->cdn = cdn;
}

static void request_line_done(run *x)
{
    fl_http_conn *c = x->c;
    fl_http_reader *r = x->r;
    uint8_t kind = r->hdr != NONE ? methods[r->hdr].kind : M_OTHER;

    bump(&x->f->requests);
    if (c->outstanding < QUEUE_MAX) {
        if (kind == M_HEAD)
            c->head_queue |= 1u << c->outstanding;
        if (kind == M_CONNECT)
            c->connect_at = (uint8_t)(c->outstanding + 1);
        c->outstanding++;
    }
    r->flags &= (uint8_t)~F_RESYNC;
    r->state = S_HDR_LINE;
}

static void status_line_done(run *x)
{
    fl_http_conn *c = x->c;
    fl_http_reader *r = x->r;
    uint16_t st = r->status;

    r->flags &= (uint8_t)~F_RESYNC;
    r->state = S_HDR_LINE;
    /* 1xx are interim (RFC 9110 15.2) and do not answer the request, except
     * 101, after which the connection speaks another protocol: it is the
     * last HTTP/1 answer on it, and counted. */
    if (st < 200 && st != 101)
        return;
    bump(&x->f->responses);
    if (st >= 400 && st <= 499)
        bump(&x->f->status_4xx);
    if (st >= 500 && st <= 599)
        bump(&x->f->status_5xx);
    x->f->last_status = st;
    if (c->outstanding > 0) {
        if (c->head_queue & 1u)
            r->flags |= F_HEAD;
        if (c->connect_at == 1)
            r->flags |= F_CONNECT;
        c->head_queue >>= 1;
        if (c->connect_at > 0)
            c->connect_at--;
        c->outstanding--;
    }
}

/* The empty line ended the header section: how long is the body (RFC 9112
 * 6.3)? */
static void headers_done(run *x)
{
    fl_http_reader *r = x->r;
    uint8_t fl = r->flags;

    if (!x->client) {
        uint16_t st = r->status;
        /* 6.3.2: a 2xx to CONNECT, and 101, turn the connection into a
         * tunnel; 6.3.1: HEAD answers, 1xx, 204 and 304 have no body. */
        if (st == 101 || ((fl & F_CONNECT) && st >= 200 && st <= 299)) {
            x->c->dead = 1;
            return;
        }
        if ((fl & F_HEAD) || st < 200 || st == 204 || st == 304) {
            msg_reset(r);
            return;
        }
    }
    if (fl & F_TE) {
        if (fl & F_CHUNKED) {
            r->state = S_CHUNK_SIZE;
            r->sub = 0;
            r->body_left = 0;
        } else {
            /* 6.3.3 (response: until close) and 6.3.4 (request: the server
             * must answer 400 and close). */
            r->state = S_DISCARD;
        }
        return;
    }
    if (fl & F_CL) {
        if (r->body_left > 0) {
            r->state = S_BODY;
            return;
        }
        msg_reset(r);
        return;
    }
    /* 6.3.6: a request without either has no body; 6.3.7: a response
     * without either is read until the connection closes. */
    if (x->client)
        msg_reset(r);
    else
        r->state = S_DISCARD;
}

/* The first byte of a header field value (after OWS). */
static void value_start(run *x)
{
    fl_http_reader *r = x->r;
    uint8_t h = r->hdr;
    uint8_t kind = hdrs[h].kind;

    r->sub = 0;
    r->hdr = NONE;
    switch (kind) {
    case H_CL:
        /* A repeated Content-Length must repeat the value (RFC 9110 8.6):
         * the last one wins. */
        r->flags |= F_CL;
        r->body_left = 0;
        r->state = S_HDR_CL;
        break;
    case H_TE:
        r->flags |= F_TE;
        r->state = S_HDR_TE;
        break;
    case H_SERVER:
    case H_SERVED_BY:
        if (x->client) {
            r->state = S_HDR_SKIP;
            break;
        }
        if (kind == H_SERVER)
            r->flags |= F_SERVER_VAL;
        else
            r->flags &= (uint8_t)~F_SERVER_VAL;
        r->state = S_HDR_VAL;
        break;
    default:
        r->state = S_HDR_SKIP;
        break;
    }
}

/* Process one byte in the current state. Returns false if the byte must be
 * processed again in the new state. */
static bool step(run *x, uint8_t b)
{
    fl_http_reader *r = x->r;

    switch (r->state) {
    case S_START:
        if (b == '\r' || b == '\n')
            return true;
        r->sub = 0;
        r->hdr = NONE;
        r->status = 0;
        r->state = x->client ? S_REQ_METHOD : S_RESP_VER;
        return false;

    case S_REQ_METHOD: {
        bool known = r->hdr != NONE && r->sub == methods[r->hdr].len;
        if (b == ' ' && r->sub > 0 && (known || !(r->flags & F_RESYNC))) {
            if (!known)
                r->hdr = NONE;
            r->state = S_REQ_LINE_END;
            return true;
        }
        /* A known method alone on its line ("OPTIONS\r\n") is a request
         * too: the server answers it (400), as tshark counts it. */
        if ((b == '\r' || b == '\n') && known && !(r->flags & F_RESYNC)) {
            r->state = S_REQ_LINE_END;
            return false;
        }
        if (!is_tchar(b) || r->sub >= METHOD_MAX) {
            garbage(x, b);
            return true;
        }
        r->hdr = cand_next(methods, NCAND(methods), r->hdr, r->sub, b);
        r->sub++;
        if (r->hdr == NONE && (r->flags & F_RESYNC))
            garbage(x, b);
        return true;
    }

    case S_RESP_VER:
        if (r->sub < sizeof http_ver - 1 ? b == (uint8_t)http_ver[r->sub] : is_digit(b)) {
            if (++r->sub == sizeof http_ver)
                r->state = S_RESP_SP;
        } else {
            garbage(x, b);
        }
        return true;

    case S_REQ_LINE_END:
        if (b == '\n')
            request_line_done(x);
        return true;

    case S_RESP_SP:
        if (b == ' ') {
            r->sub = 0;
            r->status = 0;
            r->state = S_RESP_CODE;
        } else {
            garbage(x, b);
        }
        return true;

    case S_RESP_CODE:
        /* RFC 9110 15: three digits, 100-599 registered; any 1xx-9xx is
         * taken (Cloudflare's 520-530 are exactly the ones nDPI drops). */
        if (!is_digit(b) || (r->sub == 0 && b == '0')) {
            garbage(x, b);
            return true;
        }
        r->status = (uint16_t)(r->status * 10 + (b - '0'));
        if (++r->sub == 3)
            r->state = S_RESP_AFTER;
        return true;

    case S_RESP_AFTER:
        if (b == '\n')
            status_line_done(x);
        else if (b == ' ' || b == '\r')
            r->state = S_RESP_REASON;
        else
            garbage(x, b);
        return true;

    case S_RESP_REASON:
        if (b == '\n')
            status_line_done(x);
        return true;

    case S_HDR_LINE:
        r->sub = 0;
        if (b == '\r') {
            r->state = S_HDR_END_CR;
        } else if (b == '\n') {
            headers_done(x);
        } else {
            r->hdr = cand_next(hdrs, NCAND(hdrs), NONE, 0, lower(b));
            r->sub = 1;
            r->state = r->hdr == NONE ? S_HDR_SKIP : S_HDR_NAME;
        }
        return true;

    case S_HDR_NAME: {
        const cand *h = &hdrs[r->hdr];
        if (b == ':' && r->sub == h->len) {
            if (h->kind == H_CDN_NAME) {
                set_cdn(x, hdr_cdn[r->hdr]);
                r->state = S_HDR_SKIP;
            } else {
                r->state = S_HDR_OWS;
            }
            return true;
        }
        if (b == '\n') {
            r->state = S_HDR_LINE;
            return true;
        }
        r->hdr = cand_next(hdrs, NCAND(hdrs), r->hdr, r->sub, lower(b));
        if (r->hdr == NONE) {
            r->state = S_HDR_SKIP;
            return true;
        }
        if (++r->sub == hdrs[r->hdr].len && hdrs[r->hdr].kind == H_CDN_PREFIX) {
            set_cdn(x, hdr_cdn[r->hdr]);
            r->state = S_HDR_SKIP;
        }
        return true;
    }

    case S_HDR_OWS:
        if (b == ' ' || b == '\t')
            return true;
        value_start(x);
        return false;

    case S_HDR_CL:
        if (is_digit(b)) {
            /* Saturate far above any real length: the body is then skipped
             * "forever", which is what such a length asks for. */
            if (r->body_left < (UINT64_MAX >> 8))
                r->body_left = r->body_left * 10 + (uint64_t)(b - '0');
            return true;
        }
        r->state = S_HDR_SKIP;
        return false;

    case S_HDR_TE:
        /* Only the final coding matters (RFC 9112 6.1): remember whether the
         * last list member is exactly "chunked". sub = 0xfe: no match. */
        if (b == '\r' || b == '\n') {
            if (r->sub == sizeof chunked - 1)
                r->flags |= F_CHUNKED;
            else
                r->flags &= (uint8_t)~F_CHUNKED;
            r->state = S_HDR_SKIP;
            return false;
        }
        if (b == ',') {
            r->sub = 0;
        } else if (b != ' ' && b != '\t') {
            if (r->sub < sizeof chunked - 1 && lower(b) == (uint8_t)chunked[r->sub])
                r->sub++;
            else
                r->sub = 0xfe;
        }
        return true;

    case S_HDR_VAL: {
        const cand *tab = (r->flags & F_SERVER_VAL) ? server_vals : served_by_vals;
        uint8_t n = (r->flags & F_SERVER_VAL) ? NCAND(server_vals) : NCAND(served_by_vals);
        if (r->hdr != NONE && r->sub == tab[r->hdr].len) {
            if (!is_alnum(b) || tab[r->hdr].s[r->sub - 1] == '-')
                set_cdn(x, tab[r->hdr].kind);
            r->state = S_HDR_SKIP;
            return false;
        }
        r->hdr = cand_next(tab, n, r->hdr, r->sub, lower(b));
        if (r->hdr == NONE) {
            r->state = S_HDR_SKIP;
            return false;
        }
        r->sub++;
        return true;
    }

    case S_HDR_SKIP:
        if (b == '\n')
            r->state = S_HDR_LINE;
        return true;

    case S_HDR_END_CR:
        if (b == '\n')
            headers_done(x);
        else
            garbage(x, b);
        return true;

    case S_CHUNK_SIZE: {
        int h = hex_val(b);
        if (h >= 0) {
            /* 15 hex digits are 2^60: more is an attack, not a chunk. */
            if (r->sub >= 15) {
                garbage(x, b);
                return true;
            }
            r->body_left = (r->body_left << 4) | (uint64_t)h;
            r->sub++;
            return true;
        }
        if (r->sub == 0) {
            garbage(x, b);
            return true;
        }
        if (b == '\n')
            r->state = r->body_left ? S_CHUNK_DATA : S_TRAILER_LINE;
        else if (b == ';' || b == ' ' || b == '\t' || b == '\r')
            r->state = S_CHUNK_EXT;
        else
            garbage(x, b);
        return true;
    }

    case S_CHUNK_EXT:
        if (b == '\n')
            r->state = r->body_left ? S_CHUNK_DATA : S_TRAILER_LINE;
        return true;

    case S_CHUNK_END:
        if (b == '\r' && r->sub == 0) {
            r->sub = 1;
        } else if (b == '\n') {
            r->sub = 0;
            r->body_left = 0;
            r->state = S_CHUNK_SIZE;
        } else {
            garbage(x, b);
        }
        return true;

    case S_TRAILER_LINE:
        if (b == '\r')
            r->state = S_TRAILER_CR;
        else if (b == '\n')
            msg_reset(r);
        else
            r->state = S_TRAILER_SKIP;
        return true;

    case S_TRAILER_SKIP:
        if (b == '\n')
            r->state = S_TRAILER_LINE;
        return true;

    case S_TRAILER_CR:
        if (b == '\n')
            msg_reset(r);
        else
            garbage(x, b);
        return true;

    case S_RESYNC_SKIP:
        if (b == '\n')
            r->state = S_START;
        return true;

    default: /* S_BODY, S_CHUNK_DATA, S_DISCARD are handled by the caller */
        return true;
    }
}

static bool skips_to_lf(uint8_t state)
{
    switch (state) {
    case S_REQ_LINE_END:
    case S_RESP_REASON:
    case S_HDR_SKIP:
    case S_CHUNK_EXT:
    case S_TRAILER_SKIP:
    case S_RESYNC_SKIP:
        return true;
    default:
        return false;
    }
}

void fl_http_feed(fl_http_conn *c, bool from_client, const uint8_t *data, uint32_t len,
                  fl_http_facts *facts)
{
    memset(facts, 0, sizeof *facts);
    if (!c || c->dead)
        return;
    run x = { c, from_client ? &c->req : &c->resp, facts, from_client };
    fl_http_reader *r = x.r;
    fl_cursor cur = fl_cursor_make(data, len);

    /* Resynchronising, a segment start is as good a place as a line start:
     * after a lost body the next message seldom follows an LF, but a server
     * (or a client) usually starts a message in a fresh segment. */
    if (r->state == S_RESYNC_SKIP)
        r->state = S_START;

    while (!c->dead) {
        uint32_t left = fl_cur_left(&cur);
        if (left == 0)
            break;
        if (r->state == S_BODY || r->state == S_CHUNK_DATA) {
            uint32_t n = r->body_left < left ? (uint32_t)r->body_left : left;
            fl_cur_skip(&cur, n);
            r->body_left -= n;
            if (r->body_left == 0) {
                if (r->state == S_BODY) {
                    msg_reset(r);
                } else {
                    r->state = S_CHUNK_END;
                    r->sub = 0;
                }
            }
            continue;
        }
        if (r->state == S_DISCARD) {
            fl_cur_skip(&cur, left);
            break;
        }
        if (skips_to_lf(r->state)) {
            const uint8_t *p = fl_cur_peek(&cur, left);
            const uint8_t *lf = p ? memchr(p, '\n', left) : NULL;
            if (!lf) {
                fl_cur_skip(&cur, left);
                break;
            }
            fl_cur_skip(&cur, (uint32_t)(lf - p));
        }
        uint8_t b = fl_cur_u8(&cur);
        /* A byte is reprocessed at most a few times (each time in a state
         * that consumes it or moves on), never endlessly. */
        while (!step(&x, b) && !c->dead)
            ;
    }
}

void fl_http_on_gap(fl_http_conn *c, bool from_client)
{
    if (!c || c->dead)
        return;
    fl_http_reader *r = from_client ? &c->req : &c->resp;
    if (r->state == S_DISCARD)
        return; /* nothing follows a body read until close */
    msg_reset(r);
    r->flags = F_RESYNC;
}

bool fl_http_looks_like_request(const uint8_t *data, uint32_t len)
{
    fl_cursor cur = fl_cursor_make(data, len);
    uint8_t idx = NONE;
    for (uint8_t sub = 0; sub <= METHOD_MAX; sub++) {
        uint8_t b = fl_cur_u8(&cur);
        if (cur.bad)
            return false;
        if (b == ' ')
            return idx != NONE && sub == methods[idx].len;
        idx = cand_next(methods, NCAND(methods), idx, sub, b);
        if (idx == NONE)
            return false;
    }
    return false;
}
