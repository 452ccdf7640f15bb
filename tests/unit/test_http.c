/* test_http.c - the HTTP/1.x message tracker (analysis/dissect_http.c).
 *
 * Each case is a conversation: turns of bytes from the client or the server
 * (or a gap, or filler standing for a body we must skip), with the facts
 * they must produce, derived by hand from the bytes, RFC 9112 framing, or
 * tshark for the captures. Every conversation is also replayed with each
 * turn cut into two and three segments at every point (same facts), and
 * every prefix of every turn is fed alone from an exact-size heap copy so
 * AddressSanitizer catches any over-read.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fl_http.h"
#include "fl_test_util.h"

enum { K_DATA, K_GAP, K_FILL };

typedef struct turn {
    int kind;
    bool client;
    const char *data;
    size_t len;
} turn;

#define T(client, lit)                                                                             \
    {                                                                                              \
        K_DATA, client, lit, sizeof(lit) - 1                                                       \
    }
#define GAP(client)                                                                                \
    {                                                                                              \
        K_GAP, client, NULL, 0                                                                     \
    }
/* n bytes of filler: request lines and status lines, so that a parser that
 * scanned bodies instead of skipping them would count them. */
#define FILL(client, n)                                                                            \
    {                                                                                              \
        K_FILL, client, NULL, n                                                                    \
    }

typedef struct totals {
    unsigned req, resp, s4, s5;
    unsigned last; /* last non-zero last_status */
    unsigned cdn;  /* last non-zero cdn of the facts */
    unsigned dead;
    unsigned outstanding;
} totals;

#define NT(a) (sizeof(a) / sizeof((a)[0]))

static const char filler_line[] = "HTTP/1.1 500 x\r\nGET / HTTP/1.1\r\n";

static void add(totals *t, const fl_http_facts *f)
{
    t->req += f->requests;
    t->resp += f->responses;
    t->s4 += f->status_4xx;
    t->s5 += f->status_5xx;
    if (f->last_status)
        t->last = f->last_status;
    if (f->cdn)
        t->cdn = f->cdn;
}

static void feed_piece(fl_http_conn *c, bool client, const uint8_t *p, size_t n, totals *t)
{
    uint8_t *copy = fl_test_exact_copy(p, n);
    ck_assert_ptr_nonnull(copy);
    fl_http_facts f;
    memset(&f, 0xa5, sizeof f); /* must be zeroed by the feed */
    fl_http_feed(c, client, copy, (uint32_t)n, &f);
    add(t, &f);
    free(copy);
}

static void feed_fill(fl_http_conn *c, bool client, size_t n, totals *t)
{
    static uint8_t seg[1448];
    if (seg[0] == 0)
        for (size_t i = 0; i < sizeof seg; i++)
            seg[i] = (uint8_t)filler_line[i % (sizeof filler_line - 1)];
    while (n > 0) {
        size_t k = n < sizeof seg ? n : sizeof seg;
        fl_http_facts f;
        fl_http_feed(c, client, seg, (uint32_t)k, &f);
        add(t, &f);
        n -= k;
    }
}

/* Replay tv; turn `cut` (if < n) is fed as [0,a) [a,b) [b,len); with
 * `stop` the replay ends after the first piece of that turn. */
static totals replay(const turn *tv, size_t n, size_t cut, size_t a, size_t b, bool stop)
{
    fl_http_conn c;
    totals t;
    memset(&c, 0, sizeof c);
    memset(&t, 0, sizeof t);
    for (size_t i = 0; i < n; i++) {
        const turn *x = &tv[i];
        const uint8_t *d = (const uint8_t *)x->data;
        if (x->kind == K_GAP) {
            fl_http_on_gap(&c, x->client);
        } else if (x->kind == K_FILL) {
            feed_fill(&c, x->client, x->len, &t);
        } else if (i != cut) {
            feed_piece(&c, x->client, d, x->len, &t);
        } else {
            feed_piece(&c, x->client, d, a, &t);
            if (stop)
                break;
            feed_piece(&c, x->client, d + a, b - a, &t);
            feed_piece(&c, x->client, d + b, x->len - b, &t);
        }
    }
    t.dead = c.dead;
    t.outstanding = c.outstanding;
    return t;
}

static void expect_eq(const totals *got, const totals *want, size_t cut, size_t a, size_t b)
{
    ck_assert_msg(got->req == want->req && got->resp == want->resp && got->s4 == want->s4 &&
                      got->s5 == want->s5 && got->last == want->last && got->cdn == want->cdn &&
                      got->dead == want->dead && got->outstanding == want->outstanding,
                  "turn %zu cut at %zu,%zu: req %u/%u resp %u/%u 4xx %u/%u "
                  "5xx %u/%u last %u/%u cdn %u/%u dead %u/%u out %u/%u",
                  cut, a, b, got->req, want->req, got->resp, want->resp, got->s4, want->s4, got->s5,
                  want->s5, got->last, want->last, got->cdn, want->cdn, got->dead, want->dead,
                  got->outstanding, want->outstanding);
}

enum { SPLIT2 = 1, SPLIT3 = 2, PREFIX = 4, ALL = 7 };

/* The whole conversation, then every cut, then every prefix. Three-way cuts
 * are quadratic: for long turns the second cut moves by `stride3` or more
 * (every pair is tried in turns up to 64 bytes). */
static void check_conv(const turn *tv, size_t n, const totals *want, int how, size_t stride3)
{
    totals got = replay(tv, n, (size_t)-1, 0, 0, false);
    expect_eq(&got, want, (size_t)-1, 0, 0);
    for (size_t i = 0; i < n; i++) {
        size_t len = tv[i].len;
        if (tv[i].kind != K_DATA)
            continue;
        /* at most ~64 second cuts for each first cut */
        size_t step3 = stride3 > len / 64 + 1 ? stride3 : len / 64 + 1;
        for (size_t a = 0; a <= len; a++) {
            if (how & SPLIT2) {
                got = replay(tv, n, i, a, a, false);
                expect_eq(&got, want, i, a, a);
            }
            if (how & SPLIT3) {
                for (size_t b = a; b <= len; b += step3) {
                    got = replay(tv, n, i, a, b, false);
                    expect_eq(&got, want, i, a, b);
                }
            }
            if ((how & PREFIX) && a < len) {
                /* A prefix is a clean partial result: never more than the
                 * whole conversation counts. */
                got = replay(tv, n, i, a, a, true);
                ck_assert_uint_le(got.req, want->req);
                ck_assert_uint_le(got.resp, want->resp);
                ck_assert_uint_le(got.s4, want->s4);
                ck_assert_uint_le(got.s5, want->s5);
            }
        }
    }
}

#define CHECK(conv, ...)                                                                           \
    do {                                                                                           \
        totals want_ = { __VA_ARGS__ };                                                            \
        check_conv(conv, NT(conv), &want_, ALL, 1);                                                \
    } while (0)

/* ---- keep-alive, Content-Length, bodies skipped by length ---- */

static const turn conv_keepalive[] = {
    T(true, "GET /a HTTP/1.1\r\nHost: x\r\n\r\n"),
    T(false, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"),
    T(true, "GET /b HTTP/1.1\r\nHost: x\r\n\r\n"),
    /* the 12-byte body is a status line: it must be skipped, not read */
    T(false, "HTTP/1.1 404 Not Found\r\ncontent-length:   12\r\n"
             "Content-Type: text/plain\r\n\r\nHTTP/1.1 500"),
    /* an 18-byte request body that looks like a request */
    T(true, "POST /c HTTP/1.1\r\nContent-Length: 18\r\n\r\n"
            "GET / HTTP/1.1\r\n\r\n"),
    /* bare LF line ends are tolerated (RFC 9112 2.2) */
    T(false, "HTTP/1.1 200 OK\nContent-Length: 0\n\n"),
    T(true, "GET /big HTTP/1.1\r\n\r\n"),
    T(false, "HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n"),
    FILL(false, 100000),
    T(true, "\r\nGET /d HTTP/1.1\r\n\r\n"), /* leading empty line ignored */
    T(false, "HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n"),
};

START_TEST(test_keepalive_content_length)
{
    CHECK(conv_keepalive, .req = 5, .resp = 5, .s4 = 2, .last = 403);
}
END_TEST

/* ---- chunked: sizes, extensions, trailers (RFC 9112 7.1) ---- */

static const turn conv_chunked[] = {
    T(true, "POST /up HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
            "4\r\nabcd\r\n0\r\n\r\n"),
    T(false, "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"
             "1A;ext=1;q=\"a b\"\r\nabcdefghijklmnopqrstuvwxyz\r\n"
             "5 \r\nHTTP/\r\n"
             "0;last\r\nX-Trailer: 1\r\nHTTP/1.1 500 in a trailer\r\n\r\n"),
    T(true, "GET / HTTP/1.1\r\n\r\n"),
    T(false, "HTTP/1.1 503 Service Unavailable\r\n"
             "TRANSFER-ENCODING: Chunked\r\n\r\n"
             "a\r\n0123456789\r\n0\r\n\r\n"),
    T(true, "GET /2 HTTP/1.1\r\n\r\n"),
    /* a chunk-size that is not hex: not HTTP any more */
    T(false, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"),
    T(false, "HTTP/1.1 500 Not counted\r\n\r\n"),
};

START_TEST(test_chunked)
{
    CHECK(conv_chunked, .req = 3, .resp = 3, .s5 = 1, .last = 200, .dead = 1);
}
END_TEST

/* "chunked" not last: the response is read until close (RFC 9112 6.3.3) */
static const turn conv_te_not_last[] = {
    T(true, "GET / HTTP/1.1\r\n\r\n"),
    T(false, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n"
             "0\r\n\r\n"),
    T(false, "HTTP/1.1 500 Not a response\r\nContent-Length: 0\r\n\r\n"),
};

START_TEST(test_te_not_last)
{
    CHECK(conv_te_not_last, .req = 1, .resp = 1, .last = 200);
}
END_TEST

/* ---- pipelining, HEAD in the middle ---- */

static const turn conv_pipelined_head[] = {
    T(true, "GET /1 HTTP/1.1\r\n\r\nHEAD /2 HTTP/1.1\r\n\r\n"
            "GET /3 HTTP/1.1\r\n\r\n"),
    /* the HEAD answer announces 1000 bytes it does not send (RFC 9110
     * 9.3.2); reading them would swallow the 500 */
    T(false, "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc"
             "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n"
             "HTTP/1.1 500 Oops\r\nContent-Length: 2\r\n\r\nok"),
};

START_TEST(test_pipelined_head)
{
    CHECK(conv_pipelined_head, .req = 3, .resp = 3, .s5 = 1, .last = 500);
}
END_TEST

START_TEST(test_queue_bits)
{
    static const char reqs[] = "GET /1 HTTP/1.1\r\n\r\nHEAD /2 HTTP/1.1\r\n\r\n"
                               "CONNECT h:443 HTTP/1.1\r\n\r\n";
    fl_http_conn c;
    fl_http_facts f;
    memset(&c, 0, sizeof c);
    fl_http_feed(&c, true, (const uint8_t *)reqs, sizeof reqs - 1, &f);
    ck_assert_uint_eq(f.requests, 3);
    ck_assert_uint_eq(c.outstanding, 3);
    ck_assert_uint_eq(c.head_queue, 2u); /* the second one is HEAD */
    ck_assert_uint_eq(c.connect_at, 3u); /* the third one is CONNECT */

    /* 40 requests: counted, but the queue saturates at 32 */
    memset(&c, 0, sizeof c);
    unsigned total = 0;
    for (int i = 0; i < 40; i++) {
        static const char one[] = "HEAD / HTTP/1.1\r\n\r\n";
        fl_http_feed(&c, true, (const uint8_t *)one, sizeof one - 1, &f);
        total += f.requests;
    }
    ck_assert_uint_eq(total, 40);
    ck_assert_uint_eq(c.outstanding, 32);
    ck_assert_uint_eq(c.head_queue, 0xffffffffu);
}
END_TEST

/* ---- 1xx interim responses ---- */

static const turn conv_interim[] = {
    T(true, "POST /f HTTP/1.1\r\nExpect: 100-continue\r\n"
            "Content-Length: 4\r\n\r\n"),
    T(false, "HTTP/1.1 100 Continue\r\n\r\n"),
    T(true, "data"),
    T(false, "HTTP/1.1 103 Early Hints\r\nLink: </s.css>; rel=preload\r\n\r\n"
             "HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n"),
};

START_TEST(test_interim_1xx)
{
    CHECK(conv_interim, .req = 1, .resp = 1, .last = 201);

    /* the 100 does not answer the request: it stays outstanding */
    fl_http_conn c;
    fl_http_facts f;
    memset(&c, 0, sizeof c);
    fl_http_feed(&c, true, (const uint8_t *)conv_interim[0].data, (uint32_t)conv_interim[0].len,
                 &f);
    fl_http_feed(&c, false, (const uint8_t *)conv_interim[1].data, (uint32_t)conv_interim[1].len,
                 &f);
    ck_assert_uint_eq(f.responses, 0);
    ck_assert_uint_eq(f.last_status, 0);
    ck_assert_uint_eq(c.outstanding, 1);
}
END_TEST

/* ---- 204 and 304 have no body, whatever they announce ---- */

static const turn conv_no_body[] = {
    T(true, "GET /a HTTP/1.1\r\n\r\nGET /b HTTP/1.1\r\n\r\n"
            "GET /c HTTP/1.1\r\n\r\n"),
    T(false, "HTTP/1.1 204 No Content\r\nContent-Length: 10\r\n\r\n"
             "HTTP/1.1 304 Not Modified\r\nContent-Length: 500\r\n"
             "Transfer-Encoding: chunked\r\n\r\n"
             "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"),
};

START_TEST(test_204_304_no_body)
{
    CHECK(conv_no_body, .req = 3, .resp = 3, .s4 = 1, .last = 404);
}
END_TEST

/* ---- tunnels: 101 and 2xx to CONNECT ---- */

static const turn conv_upgrade[] = {
    T(true, "GET /ws HTTP/1.1\r\nUpgrade: websocket\r\n"
            "Connection: Upgrade\r\n\r\n"),
    T(false, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
             "Connection: Upgrade\r\nServer: cloudflare\r\n\r\n\x81\x05hello"),
    T(true, "\x81\x85garbage"),
    T(false, "HTTP/1.1 500 Not HTTP any more\r\n\r\n"),
};

START_TEST(test_upgrade_101)
{
    CHECK(conv_upgrade, .req = 1, .resp = 1, .last = 101, .cdn = FL_CDN_CLOUDFLARE, .dead = 1);
}
END_TEST

static const turn conv_connect[] = {
    T(true, "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n"),
    T(false, "HTTP/1.1 407 Proxy Authentication Required\r\n"
             "Content-Length: 0\r\n\r\n"),
    T(true, "CONNECT example.com:443 HTTP/1.1\r\n"
            "Proxy-Authorization: Basic eA==\r\n\r\n"),
    T(false, "HTTP/1.1 200 Connection established\r\n\r\n"),
    T(true, "\x16\x03\x01\x00\x05hello"),
    T(false, "\x16\x03\x03\x00\x02hi"),
};

START_TEST(test_connect_tunnel)
{
    CHECK(conv_connect, .req = 2, .resp = 2, .s4 = 1, .last = 200, .dead = 1);
}
END_TEST

/* ---- no length: body until close (RFC 9112 6.3.7) ---- */

static const turn conv_until_close[] = {
    T(true, "GET / HTTP/1.0\r\n\r\n"),
    T(false, "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\n"
             "HTTP/1.1 500 Internal\r\n\r\n"),
    T(false, "HTTP/1.1 502 Bad Gateway\r\n\r\n"),
    GAP(false), /* a gap in a body read until close changes nothing */
    T(false, "HTTP/1.1 503 Unavailable\r\n\r\n"),
};

START_TEST(test_body_until_close)
{
    CHECK(conv_until_close, .req = 1, .resp = 1, .last = 200);
}
END_TEST

/* ---- status codes: Cloudflare's 52x are 5xx; any 3 digits count ---- */

#define CF(code)                                                                                   \
    "HTTP/1.1 " code " Err\r\nServer: cloudflare\r\n"                                              \
    "Content-Length: 0\r\n\r\n"
static const turn conv_cloudflare[] = {
    T(true, "GET / HTTP/1.1\r\n\r\nGET / HTTP/1.1\r\n\r\nGET / HTTP/1.1\r\n\r\n"
            "GET / HTTP/1.1\r\n\r\nGET / HTTP/1.1\r\n\r\nGET / HTTP/1.1\r\n\r\n"
            "GET / HTTP/1.1\r\n\r\nGET / HTTP/1.1\r\n\r\nGET / HTTP/1.1\r\n\r\n"
            "GET / HTTP/1.1\r\n\r\nGET / HTTP/1.1\r\n\r\nGET / HTTP/1.1\r\n\r\n"
            "GET / HTTP/1.1\r\n\r\n"),
    T(false, CF("520") CF("521") CF("522") CF("523") CF("524") CF("525") CF("526") CF("527")
                 CF("528") CF("529")
      /* no reason phrase, not even the SP */
      "HTTP/1.1 530\r\nContent-Length: 0\r\n\r\n"
      "HTTP/1.1 499 \r\nContent-Length: 0\r\n\r\n"
      "HTTP/1.1 999 Beyond\r\nContent-Length: 0\r\n\r\n"),
};

START_TEST(test_cloudflare_52x)
{
    CHECK(conv_cloudflare, .req = 13, .resp = 13, .s4 = 1, .s5 = 11, .last = 999,
          .cdn = FL_CDN_CLOUDFLARE);
}
END_TEST

static const turn conv_bad_status[] = {
    T(true, "GET / HTTP/1.1\r\n\r\n"), T(false, "HTTP/1.1 2000 OK\r\n\r\n"), /* four digits */
};
static const turn conv_not_http[] = {
    T(true, "GET / HTTP/1.1\r\n\r\n"),
    T(false, "SSH-2.0-OpenSSH_9.2\r\nHTTP/1.1 200 OK\r\n\r\n"),
};

START_TEST(test_garbage_response_dead)
{
    CHECK(conv_bad_status, .req = 1, .dead = 1, .outstanding = 1);
    CHECK(conv_not_http, .req = 1, .dead = 1, .outstanding = 1);
}
END_TEST

/* ---- malformed requests are still answered ---- */

static const turn conv_bad_request[] = {
    /* "OPTIONS" alone on its line is a request (tshark counts it) */
    T(true, "OPTIONS\r\nHost: www.google.com\r\n\r\n"),
    T(false, "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n"),
    /* not a token before the SP: the request side is given up... */
    T(true, "GET/ HTTP/1.1\r\nHost: www.google.com\r\n\r\n"),
    T(true, "GET / HTTP/1.1\r\n\r\n"),
    /* ...but the answer is still counted */
    T(false, "HTTP/1.1 400 Bad Request\r\nServer: GFE/2.0\r\n"
             "Content-Length: 0\r\n\r\n"),
};

START_TEST(test_bad_request_answered)
{
    CHECK(conv_bad_request, .req = 1, .resp = 2, .s4 = 2, .last = 400, .cdn = FL_CDN_GOOGLE);
}
END_TEST

/* ---- gaps ---- */

static const turn conv_gap_response[] = {
    T(true, "GET /1 HTTP/1.1\r\n\r\nGET /2 HTTP/1.1\r\n\r\n"
            "GET /3 HTTP/1.1\r\n\r\n"),
    T(false, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nfirst part"),
    GAP(false),
    /* resync at a line start */
    T(false, "rest of the body\r\nmore of it\r\n"
             "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 3\r\n\r\n"
             "abc"),
    GAP(false),
    /* ...or at a segment start: a body seldom ends in LF */
    T(false, "\x89PNG tail of a lost body without LF"),
    T(false, "HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n"),
};

START_TEST(test_gap_response_resync)
{
    CHECK(conv_gap_response, .req = 3, .resp = 3, .s5 = 2, .last = 502);
}
END_TEST

static const turn conv_gap_request[] = {
    T(true, "POST /a HTTP/1.1\r\nContent-Length: 50\r\n\r\npartial"),
    GAP(true),
    /* resynchronising needs a known method: FOO is skipped */
    T(true, "tail\r\nFOO / HTTP/1.1\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\n"),
    T(false, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"
             "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"),
};

START_TEST(test_gap_request_resync)
{
    CHECK(conv_gap_request, .req = 2, .resp = 2, .last = 200);
}
END_TEST

/* A gap when the capture starts mid-response: resync, not dead. */
static const turn conv_gap_start[] = {
    GAP(false),
    T(false, "dy of a response we joined late\r\n"),
    T(false, "HTTP/1.1 504 Gateway Timeout\r\nContent-Length: 0\r\n\r\n"),
};

START_TEST(test_gap_at_start)
{
    CHECK(conv_gap_start, .resp = 1, .s5 = 1, .last = 504);
}
END_TEST

/* ---- CDN headers, split anywhere in name or value ---- */

typedef struct cdn_case {
    const char *header; /* one response header line, without CRLF */
    unsigned cdn;
} cdn_case;

static const cdn_case cdn_cases[] = {
    { "Server: cloudflare", FL_CDN_CLOUDFLARE },
    { "server:cloudflare-nginx", FL_CDN_CLOUDFLARE },
    { "Server:\t CLOUDFLARE", FL_CDN_CLOUDFLARE },
    { "CF-RAY: 8a1b2c3d4e5f6a7b-LHR", FL_CDN_CLOUDFLARE },
    { "cf-ray:x", FL_CDN_CLOUDFLARE },
    { "X-Amz-Cf-Id: 0BQ8ax3hFMpM1D6cSxN7-Zz3aRyz==", FL_CDN_AWS },
    { "Server: CloudFront", FL_CDN_AWS },
    { "Server: AmazonS3", FL_CDN_AWS },
    { "X-Served-By: cache-lhr7321-LHR, cache-fra19122-FRA", FL_CDN_FASTLY },
    { "Fastly-Debug-Digest: 6f2c1a", FL_CDN_FASTLY },
    { "X-Fastly-Request-ID: 0b1c2d", FL_CDN_FASTLY },
    { "Server: AkamaiGHost", FL_CDN_AKAMAI },
    { "Server: AkamaiNetStorage", FL_CDN_AKAMAI },
    { "Server: gws", FL_CDN_GOOGLE },
    { "Server: ESF", FL_CDN_GOOGLE },
    { "Server: GFE/2.0", FL_CDN_GOOGLE },
    { "X-Azure-Ref: 0AbCdEfGh", FL_CDN_MICROSOFT },
    { "X-MSEdge-Ref: Ref A: 1234 Ref B: LON", FL_CDN_MICROSOFT },
    /* near misses */
    { "Server: gwsx", FL_CDN_NONE },
    { "Server: Apache/2.4 (cloudflare)", FL_CDN_NONE },
    { "Server-Timing: cloudflare", FL_CDN_NONE },
    { "X-Server: cloudflare", FL_CDN_NONE },
    { "CF-RAYS: x", FL_CDN_NONE },
    { "CF-RA: x", FL_CDN_NONE },
    { "X-Served-By: varnish-cache-1", FL_CDN_NONE },
    { "X-Served-By: cache", FL_CDN_NONE },
    { "X-Cache: Hit from cloudfront", FL_CDN_NONE },
    { "Fastly-Debug: 1", FL_CDN_NONE },
    { "X-Azure-RefX: 1", FL_CDN_NONE },
};

START_TEST(test_cdn_headers)
{
    const cdn_case *k = &cdn_cases[_i];
    char resp[256];
    int n = snprintf(resp, sizeof resp,
                     "HTTP/1.1 200 OK\r\nDate: x\r\n%s\r\n"
                     "Content-Length: 2\r\n\r\nok",
                     k->header);
    ck_assert_int_gt(n, 0);
    /* the client naming a CDN changes nothing */
    static const char req[] = "GET / HTTP/1.1\r\nServer: cloudflare\r\n"
                              "CF-RAY: 1\r\nX-Amz-Cf-Id: 2\r\n\r\n";
    turn conv[] = {
        { K_DATA, true, req, sizeof req - 1 },
        { K_DATA, false, resp, (size_t)n },
    };
    totals want = { .req = 1, .resp = 1, .last = 200, .cdn = k->cdn };
    check_conv(conv, NT(conv), &want, ALL, 1);

    fl_http_conn c;
    fl_http_facts f;
    memset(&c, 0, sizeof c);
    fl_http_feed(&c, false, (const uint8_t *)resp, (uint32_t)n, &f);
    ck_assert_uint_eq(c.cdn, k->cdn);
    ck_assert_uint_eq(f.cdn, k->cdn);
}
END_TEST

/* conn->cdn keeps the last CDN named; a response naming none keeps it */
START_TEST(test_cdn_last_seen)
{
    static const char r1[] = "HTTP/1.1 200 OK\r\nServer: gws\r\n"
                             "Content-Length: 0\r\n\r\n";
    static const char r2[] = "HTTP/1.1 200 OK\r\nCF-RAY: 1\r\n"
                             "Content-Length: 0\r\n\r\n";
    static const char r3[] = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
    fl_http_conn c;
    fl_http_facts f;
    memset(&c, 0, sizeof c);
    fl_http_feed(&c, false, (const uint8_t *)r1, sizeof r1 - 1, &f);
    ck_assert_uint_eq(f.cdn, FL_CDN_GOOGLE);
    fl_http_feed(&c, false, (const uint8_t *)r2, sizeof r2 - 1, &f);
    ck_assert_uint_eq(f.cdn, FL_CDN_CLOUDFLARE);
    fl_http_feed(&c, false, (const uint8_t *)r3, sizeof r3 - 1, &f);
    ck_assert_uint_eq(f.cdn, FL_CDN_NONE);
    ck_assert_uint_eq(f.responses, 1);
    ck_assert_uint_eq(c.cdn, FL_CDN_CLOUDFLARE);
}
END_TEST

/* ---- real captures (pcaps/real; counts as in MANIFEST.tsv / tshark) ----
 *
 * Turns are the TCP payloads in capture order, made with
 *   tshark -n -r F -Y 'tcp.len>0' -T fields -e tcp.srcport -e tcp.payload
 * and written out as C string literals (printable bytes as is, others as
 * octal escapes); the client is the port of the first payload.
 */

/* arkime tests/pcap/http-500-head.pcap: a HEAD answered 500, no
 * Content-Length (without the HEAD it would be a body until close). */
static const turn conv_500_head[] = {
    T(true, "HEAD /UpdataConfig.dat HTTP/1.1\r\n"
            "Host: samples.example.com\r\n"
            "Accept: */*\r\n"
            "User-Agent:Mozilla/4.0 (compatible;+MSIE+8.0;+Windows+NT+5.1)\r\n"
            "Connection: close\r\n"
            "\r\n"),
    T(false, "HTTP/1.1 500 Internal Server Error\r\n"
             "Date: Tue, 26 Feb 2013 15:10:21 GMT\r\n"
             "Server: Apache\r\n"
             "Connection: close\r\n"
             "Content-Type: text/html; charset=iso-8859-1\r\n"
             "\r\n"),
};

START_TEST(test_real_500_head)
{
    CHECK(conv_500_head, .req = 1, .resp = 1, .s5 = 1, .last = 500);

    /* the HEAD framed the answer: a following response is read */
    fl_http_conn c;
    fl_http_facts f;
    static const char more[] = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
    memset(&c, 0, sizeof c);
    for (size_t i = 0; i < NT(conv_500_head); i++)
        fl_http_feed(&c, conv_500_head[i].client, (const uint8_t *)conv_500_head[i].data,
                     (uint32_t)conv_500_head[i].len, &f);
    fl_http_feed(&c, false, (const uint8_t *)more, sizeof more - 1, &f);
    ck_assert_uint_eq(f.responses, 1);
    ck_assert_uint_eq(f.last_status, 200);
}
END_TEST

/* markofu/pcaps EvilFingers/Praveen.zip!Active_Business_Directory_v2_
 * RemoteBlind_SQL_Injection.pcap: three keep-alive requests, the first
 * answered 500 over four segments. */
static const turn conv_active_business[] = {
    T(true, "GET /demoactivebusinessdirectory/default.asp\?catid=0+and+1=0 HTTP/1.1\r"
            "\n"
            "Host: www.activewebsoftwares.com\r\n"
            "User-Agent: Mozilla/5.0 (Windows; U; Windows NT 5.1; en-GB; rv:1.9.0.5) "
            "Gecko/2008120122 Firefox/3.0.5\r\n"
            "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r"
            "\n"
            "Accept-Language: en-gb,en;q=0.5\r\n"
            "Accept-Encoding: gzip,deflate\r\n"
            "Accept-Charset: ISO-8859-1,utf-8;q=0.7,*;q=0.7\r\n"
            "Keep-Alive: 300\r\n"
            "Connection: keep-alive\r\n"
            "\r\n"),
    T(false, "HTTP/1.1 500 Internal Server Error\r\n"
             "Date: Thu, 01 Jan 2009 14:36:57 GMT\r\n"
             "Server: Microsoft-IIS/6.0\r\n"
             "MicrosoftOfficeWebServer: 5.0_Pub\r\n"
             "X-Powered-By: ASP.NET\r\n"
             "Content-Length: 4951\r\n"
             "Content-Type: text/html\r\n"
             "Set-Cookie: ASPSESSIONIDAATCCABQ=LBJJBJACJJELOIFHAJBGEMAD; path=/\r\n"
             "Cache-control: private\r\n"
             "\r\n"
             "\r\n"
             "\r\n"
             "\r\n"
             "<!DOCTYPE html PUBLIC \"-//W3C//DTD XHTML 1.0 Transitional//EN\" \"http:"
             "//www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd\">\r\n"
             "<html xmlns=\"http://www.w3.org/1999/xhtml\">\r\n"
             "<head>\r\n"
             "\t<title>\r\n"
             "\t\tActive Business Directory\r\n"
             "\t</title>\r\n"
             "\t<meta name=\"description\" content=\"Active Business Directory\">\r\n"
             "\t<meta name=\"keywords\" content=\"auction site\">\r\n"
             "\t<meta http-equiv=\"Content-Type\" content=\"text/html; charset=iso-885"
             "9-1\" />\r\n"
             "\t<script language=\"JavaScript\" TYPE=\"text/javascript\">\r\n"
             "        var bookmarkurl=\"http://www.activewebsoftwares.com/demoactivebu"
             "sinessdirectory/default.asp\"\r\n"
             "        var bookmarktitle=\"Active Business Directory\"\r\n"
             "\r\n"
             "        function addbookmark(){\r\n"
             "        if (document.all)\r\n"
             "        window.external.AddFavorite(bookmarkurl,bookmarktitle)\r\n"
             "        }\r\n"
             "\t</script>\r\n"
             "\t<link href=\"style.css\" rel=\"stylesheet\" type=\"text/css\" />\r\n"
             "</head>\r\n"
             "\r\n"
             "<body>\r\n"
             "<div id=\"container\">\r\n"
             "\t<div id=\"main\">\r\n"
             "\t\t<div id=\"header\">\r\n"
             "\t\t    <table width=\"100%\" >\r\n"
             "\t\t\t    <tr>\r\n"
             "\t\t\t\t    <td align=\"center\">\r\n"
             "\t\t\t\t\t    <a href=default.asp><img src=\"images/abd.gif\" height=70 "
             " border=\"0\"></a>\r\n"
             "\t\t\t\t    </td>\r\n"
             "\t\t\t    </tr>\r\n"
             "\t\t\t    <tr>\t\r\n"
             "\t\t"),
    T(false, "\t\t    <td>\r\n"
             "\t\t\t\t\t    \r\n"
             "\t\t\t\t    </td>\r\n"
             "\t\t\t    </tr>\r\n"
             "\t\t    </table>\r\n"
             "\t\t</div>\r\n"
             "        \r\n"
             "\t\t\t\t\t\t<div id=\"nav\">\r\n"
             "\t\t\t\t\t\t\t<ul>\r\n"
             "\t\t\t\t\t\t\t<li><a href='default.asp'>Home</a></li><li><a href='accoun"
             "t.asp'>Sign In</a></li><li><a href='register.asp'>Register</a></li><li><"
             "a href=admin.asp>Admin</a></li>\r\n"
             "    \t\t\t\t\t\t\t<form action=\"search.asp\?catid=\" id=\"SearchForm\">"
             "\r\n"
             "\t    \t\t\t\t\t\t\t<li><input name=\"search\" size=\"12\" maxLength=\"5"
             "0\" ID=\"Text3\"><input type=\"submit\" class=\"BButton\" name=\"submit\""
             " value=\">\" ID=\"Submit3\"></li>\r\n"
             "\t\t\t\t\t\t\t\t</form>\r\n"
             "\t\t\t\t\t\t\t</ul>\r\n"
             "\t\t\t\t\t\t</div>\r\n"
             "\t\t\t\t\r\n"
             "\r\n"
             "                <div id=\"content\">\r\n"
             "\t                <div id=\"full\">\r\n"
             "\t                    <div class=\"post\">\r\n"
             "\r\n"
             "        \r\n"
             "<table width=\"100%\">\r\n"
             "\t<tr>\r\n"
             "\t\t<td valign=\"top\" width=150 >\r\n"
             "<br>\r\n"
             "<form action=\"search.asp\" method=\"post\" id=\"SearchForm\">\r\n"
             "<table class=\"Searchbox\">\r\n"
             "<tr><td class=\"top\">\r\n"
             "Enter Key Words</td></tr>\r\n"
             "<tr><td align=\"center\"> \r\n"
             "<input name=\"search\" size=\"20\" maxLength=\"50\">\r\n"
             "</td></tr>\r\n"
             "<tr><td >\r\n"
             "<input type=\"submit\" class=\"BButton\" name=\"submit\" value=\"Search\""
             ">\r\n"
             "</td></tr>\r\n"
             "<tr><td > \r\n"
             "<a href=\"searchadvance.asp\">Advance Search</a>\r\n"
             "</td></tr>\r\n"
             "</table>\r\n"
             "</form>\r\n"
             "\r\n"
             "<br>\r\n"
             "\r\n"
             "\r\n"
             "<table class=\"Searchbox\">\r\n"
             "<form action=\"newssubscribe.asp\" method=\"post\" id=\"form1\" name=\"f"
             "orm1\">\r\n"
             "<tr><td class=\"Top\">\r\n"
             "Newsletter\r\n"
             "</td></tr>\r\n"
             "\r\n"
             "<tr><td>\r\n"
             "Get the latest news on <b>Active Business Directory</b>\r\n"
             "</br>Enter Your E-mail\r\n"
             "</td></tr>\r\n"
             "<tr"),
    T(false, "><td >\r\n"
             "<input name=\"email\" maxLength=\"50\" size=\"20\"><br>\r\n"
             "</td></tr>\r\n"
             "<tr><td >\r\n"
             "<input type=\"submit\" class=\"BButton\" name=\"submit\" value=\"Subscri"
             "be\">\r\n"
             "</td></tr>\r\n"
             "</form>\r\n"
             "</table>\r\n"
             "\r\n"
             "<br><br>\r\n"
             "<table ID=\"Table1\">\r\n"
             "<tr><td  ><a href=\"tellafriend.asp\">Tell a Friend</a></td></tr>\r\n"
             "<tr><td ><a href=\"default.asp\" onClick=\"this.style.behavior='url(#def"
             "ault#homepage)';this.setHomePage('www.activewebsoftwares.com')\">Make Th"
             "is Your Home Page</a></td></tr>\r\n"
             "<tr><td ><a href=\"javascript:addbookmark()\">Book Mark</a><br></td></tr"
             ">\r\n"
             "</table> \r\n"
             "\r\n"
             "<br><br>\r\n"
             "<table border=\"0\" cellspacing=\"1\" class=\"Grid\">\r\n"
             "\t<tr class=\"Top\">\r\n"
             "\t\t<td></td>\r\n"
             "\t\t<td align=\"center\">Page Views</td>\r\n"
             "\t\t<td align=\"center\">Visitors</td>\r\n"
             "\t</tr>\r\n"
             "\t<tr class=\"Hi\">\r\n"
             "\t\t<td>Today</td>\r\n"
             "\t\t<td align=\"right\">45</td>\r\n"
             "\t\t<td align=\"right\">45</td>\r\n"
             "\t</tr>\r\n"
             "\t<tr class=\"Hi\">\r\n"
             "\t\t<td>Jan</td>\r\n"
             "\t\t<td align=\"right\">45</td>\r\n"
             "\t\t<td align=\"right\">45</td>\r\n"
             "\t</tr>\r\n"
             "\t<tr class=\"Hi\">\r\n"
             "\t\t<td>Total</td>\r\n"
             "\t\t<td align=\"right\">34,232</td>\r\n"
             "\t\t<td align=\"right\">32,098</td>\r\n"
             "\t</tr>\r\n"
             "</table>\r\n"
             "</td>\r\n"
             "\r\n"
             "\r\n"
             "\r\n"
             "\t\t<td>\r\n"
             "\t\t\t<img src=\"images/dot.gif\" width=10 height=0>\r\n"
             "\t\t</td>\r\n"
             "\t\t<td valign=\"top\">\r\n"
             "\t\t\t<p>\r\n"
             "\t\t\t\r\n"
             "<table class=NavBar width=100%>\r\n"
             "<tr><td>\r\n"
             "<a href=Default.ASP>Categories</a> <img src='images/arrow.gif' border=no"
             " alt='Navigation Arrow'> \r\n"
             "</td>\r\n"
             "<td width=100 align=center><small>Active Users: </small></td>\r\n"
             "</tr>\r\n"
             "</table>\r\n"
             "\r\n"
             "\r\n"
             "<script language=\"JAVASCRIPT\">\r\n"
             "\tagent"),
    T(false, " = navigator.userAgent;\r\n"
             "\tbrowserOk = 0;\r\n"
             "\tif (navigator.appName == \"Netscape\" && navigator.appVersion.substrin"
             "g(0,1) >= 2) {\r\n"
             "\t\t\tbrowserOk = 1\r\n"
             "} else {\r\n"
             "\t\tif (navigator.appName == \"Microsoft Internet Explorer\" && navigato"
             "r.appVersion.substring(0,1) >= 3) {\r\n"
             "\t\t\tbrowserOk = 1 \r\n"
             "\t\t}\r\n"
             "\t}\r\n"
             "\tfunction checkUncheck(foo) {\r\n"
             "\t\tif (browserOk) {\r\n"
             "\t\t\tfor (i = 0; i < document.forms[\"frmApply\"].length; i++) {\r\n"
             "\t\t\t\tdocument.forms[\"frmApply\"].elements[i].checked = foo\r\n"
             "\t\t\t}\r\n"
             "\t\t}\r\n"
             "\t}\r\n"
             "</script>\r\n"
             "\r\n"
             "</form>          \r\n"
             " <font face=\"Arial\" size=2>\n"
             "<p>Microsoft OLE DB Provider for ODBC Drivers</font> <font face=\"Arial\""
             " size=2>error '80040e14'</font>\n"
             "<p>\n"
             "<font face=\"Arial\" size=2>[Microsoft][ODBC Microsoft Access Driver] Sy"
             "ntax error (missing operator) in query expression 'Links.CategoryID=cate"
             "gories.CategoryID and Approved&lt;&gt;0 and Links.CategoryID in ()'.</fo"
             "nt>\n"
             "<p>\n"
             "<font face=\"Arial\" size=2>/demoactivebusinessdirectory/includes/gentab"
             "le.asp</font><font face=\"Arial\" size=2>, line 40</font> "),
    T(true, "GET /demoactivebusinessdirectory/style.css HTTP/1.1\r\n"
            "Host: www.activewebsoftwares.com\r\n"
            "User-Agent: Mozilla/5.0 (Windows; U; Windows NT 5.1; en-GB; rv:1.9.0.5) "
            "Gecko/2008120122 Firefox/3.0.5\r\n"
            "Accept: text/css,*/*;q=0.1\r\n"
            "Accept-Language: en-gb,en;q=0.5\r\n"
            "Accept-Encoding: gzip,deflate\r\n"
            "Accept-Charset: ISO-8859-1,utf-8;q=0.7,*;q=0.7\r\n"
            "Keep-Alive: 300\r\n"
            "Connection: keep-alive\r\n"
            "Referer: http://www.activewebsoftwares.com/demoactivebusinessdirectory/d"
            "efault.asp\?catid=0+and+1=0\r\n"
            "Cookie: ASPSESSIONIDAATCCABQ=LBJJBJACJJELOIFHAJBGEMAD\r\n"
            "\r\n"),
    T(false, "HTTP/1.1 200 OK\r\n"
             "Content-Length: 4545\r\n"
             "Content-Type: text/css\r\n"
             "Last-Modified: Mon, 29 Jan 2007 15:53:53 GMT\r\n"
             "Accept-Ranges: bytes\r\n"
             "ETag: \"80bec7acbd43c71:b1b\"\r\n"
             "Server: Microsoft-IIS/6.0\r\n"
             "MicrosoftOfficeWebServer: 5.0_Pub\r\n"
             "X-Powered-By: ASP.NET\r\n"
             "Date: Thu, 01 Jan 2009 14:36:59 GMT\r\n"
             "\r\n"
             "body {\r\n"
             "\tfont-family: Verdana, Arial, Helvetica, sans-serif;\r\n"
             "\tfont-size: 12px;\r\n"
             "\tmargin: 0px;\r\n"
             "\tpadding: 0px;\r\n"
             "\tbackground-color:#164871;\r\n"
             "}\r\n"
             "* {margin: 0px;padding: 0px;}\r\n"
             "#container {\r\n"
             "\tmargin: 10px auto;\r\n"
             "\ttext-align: left;\r\n"
             "\twidth: 800px;\r\n"
             "}\r\n"
             "#main {\r\n"
             "\twidth: 800px;\r\n"
             "\tbackground-image:url(images/background.gif);\r\n"
             "\t\r\n"
             "}\r\n"
             "/******************** header ********************/\r\n"
             "#header {\r\n"
             "\twidth:750px;\r\n"
             "\theight:80px;\r\n"
             "\tmargin-left:25px;\r\n"
             "\tbackground-image:url(images/header.jpg);\r\n"
             "\tdisplay:block;\r\n"
             "\tbackground-color:WHITE;\r\n"
             "}\r\n"
             "#nav {\r\n"
             "\twidth:744px;\r\n"
             "\theight:22px;\r\n"
             "\tmargin: 2px 0px 2px 25px;\r\n"
             "\tbackground-color:#a5cae5;\r\n"
             "\tpadding: 3px 5px 3px 1px;\r\n"
             "}\r\n"
             "#nav ul {\r\n"
             "}\r\n"
             "#nav li {\r\n"
             "\tdisplay:inline;\r\n"
             "\tbackground-color:#245882;\r\n"
             "\twidth:120px;\r\n"
             "\theight:22px;\r\n"
             "\tfloat:left;\r\n"
             "\tmargin-left:4px;\r\n"
             "\tmargin-bottom:2px;\r\n"
             "\ttext-align:center;\r\n"
             "}\r\n"
             "#nav a {\r\n"
             "\twidth:120px;\r\n"
             "\theight:19px;\r\n"
             "\tpadding-top:3px;\r\n"
             "\ttext-decoration:none;\r\n"
             "\tcolor:#a5cae5;\r\n"
             "\tfont-weight:800;\r\n"
             "\tdisplay:block;\r\n"
             "}\r\n"
             "#nav a:hover {\r\n"
             "\tcolor:#FFFFFF;\r\n"
             "\tfont-weight:800;\r\n"
             "}\r\n"
             "/******************** Content ********************/\r\n"
             "p, h1, a, span{font-family: Arial, Helvetica, sans-serif;"),
    T(false, "}\r\n"
             "#content {\r\n"
             "\twidth:750px;\r\n"
             "\tmargin-left:25px;\r\n"
             "\tbackground-color:#a5cae5;\r\n"
             "}\r\n"
             "#left {\r\n"
             "\tfloat:left;\r\n"
             "\twidth:190px;\r\n"
             "\tdisplay:inline;\r\n"
             "\tmargin: 20px 0px 30px 20px;\r\n"
             "}\r\n"
             "#left p {\r\n"
             "\tfont-size: 12px;\r\n"
             "\tcolor: #000000;\r\n"
             "\tpadding: 5px 0px;\t\r\n"
             "}\r\n"
             "#left a{\r\n"
             "\tcolor: #052d4e;\r\n"
             "\tfont-weight:800;\r\n"
             "}\r\n"
             "#left a:hover{\r\n"
             "\tcolor:#FFFFFF;\r\n"
             "}\r\n"
             "#left h1{\r\n"
             "\tfont-size: 16px;\r\n"
             "\tcolor: #052d4e;\r\n"
             "\tdisplay:inline;\r\n"
             "\tfont-weight:900;\r\n"
             "}\r\n"
             "#left span{\r\n"
             "\tfont-size: 12px;\r\n"
             "\tcolor: #007dda;\r\n"
             "\tfont-weight: 900;\r\n"
             "\tdisplay:inline;\r\n"
             "\tmargin-left:8px;\r\n"
             "}\r\n"
             "#right {\r\n"
             "\tfloat:right;\r\n"
             "\twidth:460px;\r\n"
             "\tbackground-color:#397eb7;\r\n"
             "\tcolor:#FFFFFF;\r\n"
             "\tfont-weight:900;\r\n"
             "\tpadding: 10px 20px;\r\n"
             "\tmargin: 30px 20px 20px 0px;\r\n"
             "\tdisplay:inline;\r\n"
             "}\r\n"
             "#right p{\r\n"
             "\tpadding: 7px 0px;\r\n"
             "}\r\n"
             "#right a{\r\n"
             "\tcolor:#FFFFFF;\r\n"
             "\tfont-weight:900;\r\n"
             "}\r\n"
             "#right a:hover{\r\n"
             "\tcolor: #052d4e;\r\n"
             "}\r\n"
             ".post {\r\n"
             "\tmargin-top:20px;\r\n"
             "}\r\n"
             ".post a{\r\n"
             "}\r\n"
             "\r\n"
             ".post a:hover{\r\n"
             "}\r\n"
             "\r\n"
             ".post p{\r\n"
             "}\r\n"
             "\r\n"
             "\r\n"
             "/******************** Footer ********************/\r\n"
             "#footer {\r\n"
             "\twidth:800px;\r\n"
             "\ttext-align:center;\r\n"
             "\tcolor:#FFFFFF;\r\n"
             "\tmargin: 10px 0px;\r\n"
             "}\r\n"
             "#footer ul {\r\n"
             "}\r\n"
             "#footer li {\r\n"
             "\tdisplay:inline;\r\n"
             "\tfloat:none;\r\n"
             "\ttext-align:center;\r\n"
             "}\r\n"
             "#footer a {\r\n"
             "\tcolor:#FFFFFF;\r\n"
             "\tfont-weight:900;\r\n"
             "\ttext-decoration:none;\r\n"
             "}\r\n"
             "#footer a:hover {\r\n"
             "\ttext-decoration:underline;\r\n"
             "}\r\n"
             "#footer span {\r\n"
             "\tdisplay:block;\r\n"
             "\tclear:both;\r\n"
             "\tcolor:#FFFFFF;\r\n"
             "\tmargin: 10px 0px;\r\n"
             "}\r\n"
             ".clear{\r\n"
             "\tclear:both;\r\n"
             "}\r\n"
             "\r\n"
             "\r\n"
             "\r\n"
             "/******************** Original Active A"),
    T(false, "uction ********************/\r\n"
             "\r\n"
             "#full {\r\n"
             "\tfloat:left;\r\n"
             "\twidth:730px;\r\n"
             "\tdisplay:inline;\r\n"
             "\tmargin: 20px 0px 30px 20px;\r\n"
             "}\r\n"
             "#full p {\r\n"
             "\tfont-size: 12px;\r\n"
             "\tcolor: #000000;\r\n"
             "\tpadding: 5px 0px;\t\r\n"
             "}\r\n"
             "#full a{\r\n"
             "\tcolor: #052d4e;\r\n"
             "\tfont-weight:800;\r\n"
             "}\r\n"
             "#full a:hover{\r\n"
             "\tcolor:#FFFFFF;\r\n"
             "}\r\n"
             "#full h1{\r\n"
             "\tfont-size: 16px;\r\n"
             "\tcolor: #052d4e;\r\n"
             "\tdisplay:inline;\r\n"
             "\tfont-weight:900;\r\n"
             "}\r\n"
             "#full span{\r\n"
             "\tfont-size: 12px;\r\n"
             "\tcolor: #007dda;\r\n"
             "\tfont-weight: 900;\r\n"
             "\tdisplay:inline;\r\n"
             "\tmargin-left:8px;\r\n"
             "}\r\n"
             "\r\n"
             "#navTab {\r\n"
             "\twidth:744px;\r\n"
             "\theight:46px;\r\n"
             "\tmargin: 2px 0px 2px 25px;\r\n"
             "\tbackground-color:#a5cae5;\r\n"
             "\tpadding: 3px 5px 3px 1px;\r\n"
             "}\r\n"
             "#navTab ul {\r\n"
             "}\r\n"
             "#navTab li {\r\n"
             "\tdisplay:inline;\r\n"
             "\tbackground-color:#245882;\r\n"
             "\twidth:120px;\r\n"
             "\theight:22px;\r\n"
             "\tfloat:left;\r\n"
             "\tmargin-left:4px;\r\n"
             "\tmargin-bottom:2px;\r\n"
             "\ttext-align:center;\r\n"
             "}\r\n"
             "#navTab a {\r\n"
             "\twidth:120px;\r\n"
             "\theight:19px;\r\n"
             "\tpadding-top:3px;\r\n"
             "\ttext-decoration:none;\r\n"
             "\tcolor:#a5cae5;\r\n"
             "\tfont-weight:800;\r\n"
             "\tdisplay:block;\r\n"
             "}\r\n"
             "#navTab a:hover {\r\n"
             "\tcolor:#FFFFFF;\r\n"
             "\tfont-weight:800;\r\n"
             "}\r\n"
             "\r\n"
             "\r\n"
             ".Grid .Hi\r\n"
             "{\r\n"
             "    BACKGROUND-COLOR:#a5cae5\r\n"
             "}\r\n"
             ".Grid .Lo\r\n"
             "{\r\n"
             "    BACKGROUND-COLOR: white\r\n"
             "}\r\n"
             ".Grid .Top\r\n"
             "{\r\n"
             "    BACKGROUND-COLOR:#164871;\r\n"
             "    COLOR: white;\r\n"
             "    FONT-FAMILY: Arial;\r\n"
             "    FONT-WEIGHT: bold;\r\n"
             "    vertical-align:middle ; \r\n"
             "    Height:22pt; \r\n"
             "}\r\n"
             ".Grid .Top a {\r\n"
             "\tcolor:#a5cae5;\r\n"
             "}\r\n"
             "\r\n"
             "\r\n"
             ".DataEntry\r\n"
             "{\r\n"
             "    FONT-FAMILY: Arial;\r\n"
             "    FONT-SIZE: 10pt;\r\n"
             "    FONT-WEIGHT: bolder\r\n"
             "}\r\n"
             ".DataEntry .Top\r\n"
             "{\r\n"
             "    BACKGROUND-"),
    T(false, "COLOR: #a5cae5;\r\n"
             "    COLOR: white;\r\n"
             "    FONT-FAMILY: Verdana;\r\n"
             "    FONT-WEIGHT: bolder\r\n"
             "}\r\n"
             ".DataEntry INPUT\r\n"
             "{\r\n"
             "    FONT-FAMILY: Tahoma;\r\n"
             "    FONT-SIZE: 10pt\r\n"
             "}\r\n"
             ".DataEntry .TD\r\n"
             "{\r\n"
             "    FONT-FAMILY: Verdana;\r\n"
             "    FONT-SIZE: 8pt;\r\n"
             "    FONT-WEIGHT: bolder\r\n"
             "}\r\n"
             ".DataEntry TEXTAREA\r\n"
             "{\r\n"
             "    FONT-FAMILY: Tahoma;\r\n"
             "    FONT-SIZE: 10pt\r\n"
             "}\r\n"
             ".Category .SubCategory\r\n"
             "{\r\n"
             "    FONT-FAMILY: Verdana;\r\n"
             "    FONT-SIZE: 8pt;\r\n"
             "    FONT-WEIGHT: normal;\r\n"
             "    TEXT-DECORATION: none\r\n"
             "}\r\n"
             ".Category A\r\n"
             "{\r\n"
             "    FONT-FAMILY: Tahoma, Verdana, Impact;\r\n"
             "    FONT-SIZE: 12pt;\r\n"
             "    FONT-WEIGHT: bold\r\n"
             "}\r\n"),
    T(true, "GET /demoactivebusinessdirectory/images/background.gif HTTP/1.1\r\n"
            "Host: www.activewebsoftwares.com\r\n"
            "User-Agent: Mozilla/5.0 (Windows; U; Windows NT 5.1; en-GB; rv:1.9.0.5) "
            "Gecko/2008120122 Firefox/3.0.5\r\n"
            "Accept: image/png,image/*;q=0.8,*/*;q=0.5\r\n"
            "Accept-Language: en-gb,en;q=0.5\r\n"
            "Accept-Encoding: gzip,deflate\r\n"
            "Accept-Charset: ISO-8859-1,utf-8;q=0.7,*;q=0.7\r\n"
            "Keep-Alive: 300\r\n"
            "Connection: keep-alive\r\n"
            "Referer: http://www.activewebsoftwares.com/demoactivebusinessdirectory/s"
            "tyle.css\r\n"
            "Cookie: ASPSESSIONIDAATCCABQ=LBJJBJACJJELOIFHAJBGEMAD\r\n"
            "\r\n"),
    T(false, "HTTP/1.1 200 OK\r\n"
             "Content-Length: 90\r\n"
             "Content-Type: image/gif\r\n"
             "Last-Modified: Mon, 29 Jan 2007 15:53:53 GMT\r\n"
             "Accept-Ranges: bytes\r\n"
             "ETag: \"80bec7acbd43c71:b1b\"\r\n"
             "Server: Microsoft-IIS/6.0\r\n"
             "MicrosoftOfficeWebServer: 5.0_Pub\r\n"
             "X-Powered-By: ASP.NET\r\n"
             "Date: Thu, 01 Jan 2009 14:36:59 GMT\r\n"
             "\r\n"
             "GIF89a \003\002\000\221\000\000\000\000\000\377\377\377\026Hq9~\267,\000"
             "\000\000\000 \003\002\000\000\0023\234\217\251&\355\017\243\234\264\332\213"
             "\263\336\274\373\017\206\342H\226\346\211\246\352\312\266\356\013\307\330"
             "B\327\366=\310\372\316\367\376\017\014\n"
             "\207\304\242\361\210\254\340n\005\000;"),
};

START_TEST(test_real_active_business)
{
    totals want = { .req = 3, .resp = 3, .s5 = 1, .last = 200 };
    /* three-way cuts thinned out: the turns are up to 1420 bytes */
    check_conv(conv_active_business, NT(conv_active_business), &want, ALL, 211);
}
END_TEST

/* zeek testing/btest/Traces/http/deeply-nested-mime.pcap: a POST with a
 * 39686-byte MIME body, answered 501. The body (28 segments) is replaced by
 * filler of the same length, made of status and request lines: it is
 * skipped by Content-Length, never read. */
static const turn conv_nested[] = {
    T(true, "POST / HTTP/1.1\r\n"
            "Host: localhost:8080\r\n"
            "User-Agent: python-requests/2.25.1\r\n"
            "Accept-Encoding: gzip, deflate\r\n"
            "Accept: */*\r\n"
            "Connection: keep-alive\r\n"
            "Content-Type: message/rfc822\r\n"
            "Content-Transfer-Encoding: 8bit\r\n"
            "MIME-Version: 1.0\r\n"
            "Content-Length: 39686\r\n"
            "\r\n"),
    FILL(true, 39686),
    T(false, "HTTP/1.0 501 Unsupported method ('POST')\r\n"
             "Server: SimpleHTTP/0.6 Python/3.10.12\r\n"
             "Date: Tue, 16 Jan 2024 15:43:25 GMT\r\n"
             "Connection: close\r\n"
             "Content-Type: text/html;charset=utf-8\r\n"
             "Content-Length: 497\r\n"
             "\r\n"),
    T(false, "<!DOCTYPE HTML PUBLIC \"-//W3C//DTD HTML 4.01//EN\"\n"
             "        \"http://www.w3.org/TR/html4/strict.dtd\">\n"
             "<html>\n"
             "    <head>\n"
             "        <meta http-equiv=\"Content-Type\" content=\"text/html;charset=ut"
             "f-8\">\n"
             "        <title>Error response</title>\n"
             "    </head>\n"
             "    <body>\n"
             "        <h1>Error response</h1>\n"
             "        <p>Error code: 501</p>\n"
             "        <p>Message: Unsupported method ('POST').</p>\n"
             "        <p>Error code explanation: HTTPStatus.NOT_IMPLEMENTED - Server d"
             "oes not support this operation.</p>\n"
             "    </body>\n"
             "</html>\n"),
};

START_TEST(test_real_nested_mime)
{
    totals want = { .req = 1, .resp = 1, .s5 = 1, .last = 501 };
    check_conv(conv_nested, NT(conv_nested), &want, ALL, 11);
}
END_TEST

/* ---- fl_http_looks_like_request ---- */

START_TEST(test_looks_like_request)
{
    static const char *const yes[] = {
        "GET / HTTP/1.1\r\n",
        "POST /x",
        "HEAD ",
        "PUT /",
        "DELETE /",
        "OPTIONS * HTTP/1.1",
        "PATCH /",
        "CONNECT h:443 HTTP/1.1",
        "TRACE /",
        "PROPFIND /dav",
        "MKCOL /",
        "SUBSCRIBE /evt",
    };
    static const char *const no[] = {
        "",
        "G",
        "GET",
        "GET/ HTTP/1.1",
        "get / HTTP/1.1",
        "GETX /",
        "HTTP/1.1 200 OK",
        " GET /",
        "\x16\x03\x01\x02",
        "FOO /",
        "GE T /",
    };
    for (size_t i = 0; i < NT(yes); i++) {
        uint8_t *p = fl_test_exact_copy((const uint8_t *)yes[i], strlen(yes[i]));
        ck_assert_msg(fl_http_looks_like_request(p, (uint32_t)strlen(yes[i])), "%s", yes[i]);
        free(p);
    }
    for (size_t i = 0; i < NT(no); i++) {
        uint8_t *p = fl_test_exact_copy((const uint8_t *)no[i], strlen(no[i]));
        ck_assert_msg(!fl_http_looks_like_request(p, (uint32_t)strlen(no[i])), "%s", no[i]);
        free(p);
    }
    /* every prefix of "DELETE /" short of the SP is not enough */
    static const char del[] = "DELETE /";
    for (size_t k = 0; k <= sizeof del - 1; k++) {
        uint8_t *p = fl_test_exact_copy((const uint8_t *)del, k);
        ck_assert(fl_http_looks_like_request(p, (uint32_t)k) == (k >= 7));
        free(p);
    }
    ck_assert(!fl_http_looks_like_request(NULL, 0));
}
END_TEST

START_TEST(test_conn_size)
{
    /* lives in every HTTP flow */
    ck_assert_uint_le(sizeof(fl_http_conn), 48);
    ck_assert_uint_eq(sizeof(fl_http_reader), 16);
}
END_TEST

static Suite *http_suite(void)
{
    Suite *s = suite_create("http");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_keepalive_content_length);
    tcase_add_test(tc, test_chunked);
    tcase_add_test(tc, test_te_not_last);
    tcase_add_test(tc, test_pipelined_head);
    tcase_add_test(tc, test_queue_bits);
    tcase_add_test(tc, test_interim_1xx);
    tcase_add_test(tc, test_204_304_no_body);
    tcase_add_test(tc, test_upgrade_101);
    tcase_add_test(tc, test_connect_tunnel);
    tcase_add_test(tc, test_body_until_close);
    tcase_add_test(tc, test_cloudflare_52x);
    tcase_add_test(tc, test_garbage_response_dead);
    tcase_add_test(tc, test_bad_request_answered);
    tcase_add_test(tc, test_gap_response_resync);
    tcase_add_test(tc, test_gap_request_resync);
    tcase_add_test(tc, test_gap_at_start);
    tcase_add_loop_test(tc, test_cdn_headers, 0, (int)NT(cdn_cases));
    tcase_add_test(tc, test_cdn_last_seen);
    tcase_add_test(tc, test_looks_like_request);
    tcase_add_test(tc, test_conn_size);
    suite_add_tcase(s, tc);

    TCase *real = tcase_create("real");
    tcase_set_timeout(real, 300);
    tcase_add_test(real, test_real_500_head);
    tcase_add_test(real, test_real_active_business);
    tcase_add_test(real, test_real_nested_mime);
    suite_add_tcase(s, real);
    return s;
}

int main(void)
{
    return fl_test_run(http_suite());
}
