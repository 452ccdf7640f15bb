/* test_tls_records.c - the TLS record walker (analysis/dissect/tls_records.c).
 *
 * Conversations are built record by record (RFC 8446 5.1 headers, bodies of
 * filler bytes: the walker never reads them), fed the way the engine feeds
 * them, and cut at every byte: every prefix of every segment, and every
 * split into two calls, must give the same requests and responses.
 */
#include <check.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fl_test_util.h"
#include "fl_tls_records.h"

#define C true
#define S false

typedef struct seg {
    bool from_client;
    uint64_t ts_us;
    uint8_t bytes[40000];
    uint32_t len;
} seg;

/* Append one record of content type `type` and body length `body`. */
static void rec(seg *s, uint8_t type, uint32_t body)
{
    ck_assert_uint_le(s->len + 5 + body, sizeof s->bytes);
    uint8_t *p = s->bytes + s->len;
    p[0] = type;
    p[1] = 3;
    p[2] = 3;
    p[3] = (uint8_t)(body >> 8);
    p[4] = (uint8_t)body;
    memset(p + 5, 0xa5, body);
    s->len += 5 + body;
}

typedef struct tally {
    unsigned requests, first_requests, responses, early, stalls, oos, alerts;
    uint32_t sizes[16];
    uint32_t ttfb[16];
} tally;

static void add(tally *t, const fl_tlsrec_facts *f)
{
    t->requests += f->request;
    t->first_requests += f->first_request;
    for (unsigned i = 0; i < f->response; i++) {
        if (t->responses < 16) {
            t->sizes[t->responses] = f->resp[i].bytes;
            t->ttfb[t->responses] = f->resp[i].ttfb_us;
        }
        t->responses++;
    }
    t->early += f->early_close;
    t->stalls += f->stall;
    t->oos += f->out_of_step;
    t->alerts += f->server_alert;
}

static void same(const tally *a, const tally *b)
{
    ck_assert_uint_eq(a->requests, b->requests);
    ck_assert_uint_eq(a->first_requests, b->first_requests);
    ck_assert_uint_eq(a->responses, b->responses);
    ck_assert_uint_eq(a->early, b->early);
    ck_assert_uint_eq(a->oos, b->oos);
    ck_assert_uint_eq(a->alerts, b->alerts);
    for (unsigned i = 0; i < a->responses && i < 16; i++) {
        ck_assert_uint_eq(a->sizes[i], b->sizes[i]);
        ck_assert_uint_eq(a->ttfb[i], b->ttfb[i]);
    }
}

/* Feed segments; segment `cut_seg` is fed in two calls split at `cut`.
 * Each piece is an exact heap copy, so an over-read trips ASan. */
static tally run(const seg *segs, int n, int cut_seg, uint32_t cut, bool close_by_server,
                 uint64_t close_us)
{
    fl_tls_walk w;
    fl_tlsrec_init(&w);
    tally t;
    memset(&t, 0, sizeof t);
    fl_tlsrec_facts f;
    for (int i = 0; i < n; i++) {
        uint32_t a = i == cut_seg ? cut : segs[i].len;
        uint8_t *p1 = fl_test_exact_copy(segs[i].bytes, a);
        fl_tlsrec_feed(&w, segs[i].from_client, p1, a, segs[i].ts_us, &f);
        add(&t, &f);
        free(p1);
        if (a < segs[i].len) {
            uint8_t *p2 = fl_test_exact_copy(segs[i].bytes + a, segs[i].len - a);
            fl_tlsrec_feed(&w, segs[i].from_client, p2, segs[i].len - a, segs[i].ts_us, &f);
            add(&t, &f);
            free(p2);
        }
    }
    if (close_us) {
        fl_tlsrec_on_close(&w, close_by_server, close_us, &f);
        add(&t, &f);
    }
    return t;
}

/* TLS 1.3 (RFC 8446 2): ClientHello; ServerHello + CCS + encrypted flight;
 * client CCS + Finished (53) + HTTP/2 preface and SETTINGS (a control-sized
 * 40) + request HEADERS (90); server tickets, SETTINGS (control) and a
 * response of 3 records; a second request; a 6400-byte response; then the
 * server's close_notify (19). */
static int build_tls13(seg *s)
{
    int n = 0;
    memset(s, 0, sizeof(seg) * 8);
    s[n].from_client = C, s[n].ts_us = 1000000, rec(&s[n], 22, 300), n++;
    s[n].from_client = S, s[n].ts_us = 1010000, rec(&s[n], 22, 90), rec(&s[n], 20, 1),
    rec(&s[n], 23, 2500), rec(&s[n], 23, 69), n++;
    s[n].from_client = C, s[n].ts_us = 1020000, rec(&s[n], 20, 1), rec(&s[n], 23, 53),
    rec(&s[n], 23, 40), rec(&s[n], 23, 90), n++;
    s[n].from_client = S, s[n].ts_us = 1030000, rec(&s[n], 23, 40), rec(&s[n], 23, 1000),
    rec(&s[n], 23, 16401), n++;
    s[n].from_client = S, s[n].ts_us = 1040000, rec(&s[n], 23, 517), rec(&s[n], 23, 30), n++;
    s[n].from_client = C, s[n].ts_us = 2000000, rec(&s[n], 23, 30), rec(&s[n], 23, 60), n++;
    s[n].from_client = S, s[n].ts_us = 2020000, rec(&s[n], 23, 6417), rec(&s[n], 23, 19), n++;
    return n;
}

START_TEST(test_tls13_conversation)
{
    static seg s[8];
    int n = build_tls13(s);
    tally t = run(s, n, -1, 0, true, 2030000);
    ck_assert_uint_eq(t.requests, 2);
    ck_assert_uint_eq(t.first_requests, 1);
    /* a short record (1000) ends a response; a full one (16401) goes on
     * to the next short one (517); 17 bytes of overhead per record */
    ck_assert_uint_eq(t.responses, 3);
    ck_assert_uint_eq(t.sizes[0], 1000 - 17);
    ck_assert_uint_eq(t.ttfb[0], 10000);
    ck_assert_uint_eq(t.sizes[1], 16401 + 517 - 2 * 17);
    ck_assert_uint_eq(t.ttfb[1], 10000);
    ck_assert_uint_eq(t.sizes[2], 6400);
    ck_assert_uint_eq(t.ttfb[2], 20000);
    ck_assert_uint_eq(t.alerts, 1);
    ck_assert_uint_eq(t.early, 0);
    ck_assert_uint_eq(t.oos, 0);
}
END_TEST

/* Every split of every segment into two calls gives the same result. */
START_TEST(test_tls13_every_cut)
{
    static seg s[8];
    int n = build_tls13(s);
    tally want = run(s, n, -1, 0, true, 2030000);
    for (int i = 0; i < n; i++)
        for (uint32_t cut = 0; cut <= s[i].len;
             cut += (s[i].len > 2000 && cut > 64 && cut + 64 < s[i].len) ? 97 : 1) {
            tally got = run(s, n, i, cut, true, 2030000);
            same(&got, &want);
        }
}
END_TEST

/* Every prefix of the conversation's bytes, then nothing: never a crash,
 * never more requests or responses than the whole. */
START_TEST(test_every_prefix)
{
    static seg s[8];
    int n = build_tls13(s);
    tally whole = run(s, n, -1, 0, false, 0);
    for (int last = 0; last < n; last++)
        for (uint32_t k = 0; k <= s[last].len; k++) {
            fl_tls_walk w;
            fl_tlsrec_init(&w);
            tally p;
            memset(&p, 0, sizeof p);
            fl_tlsrec_facts f;
            for (int i = 0; i < last; i++) {
                fl_tlsrec_feed(&w, s[i].from_client, s[i].bytes, s[i].len, s[i].ts_us, &f);
                add(&p, &f);
            }
            uint8_t *cp = fl_test_exact_copy(s[last].bytes, k);
            fl_tlsrec_feed(&w, s[last].from_client, cp, k, s[last].ts_us, &f);
            add(&p, &f);
            free(cp);
            ck_assert_uint_le(p.requests, whole.requests);
            ck_assert_uint_le(p.responses, whole.responses);
            ck_assert_uint_eq(p.oos, 0);
        }
}
END_TEST

/* TLS 1.2: application data is type 23 from the start; the first client
 * record is a request. A server close right after a request, with nothing
 * sent: an early close. */
START_TEST(test_tls12_early_close)
{
    static seg s[4];
    memset(s, 0, sizeof s);
    s[0].from_client = C, s[0].ts_us = 100, rec(&s[0], 22, 200);
    s[1].from_client = S, s[1].ts_us = 200, rec(&s[1], 22, 3000), rec(&s[1], 20, 1),
    rec(&s[1], 22, 40);
    s[2].from_client = C, s[2].ts_us = 300, rec(&s[2], 23, 300);
    tally t = run(s, 3, -1, 0, true, 300 + 100000);
    ck_assert_uint_eq(t.requests, 1);
    ck_assert_uint_eq(t.responses, 0);
    ck_assert_uint_eq(t.early, 1);
    /* The same close by the client is no signal. */
    t = run(s, 3, -1, 0, false, 300 + 100000);
    ck_assert_uint_eq(t.early, 0);
    /* Too late to be early. */
    t = run(s, 3, -1, 0, true, 300 + FL_TLSREC_EARLY_US + 1);
    ck_assert_uint_eq(t.early, 0);
}
END_TEST

/* Quiet ends a response that ended on a full record; an unanswered
 * request stalls once; an answered one never. */
START_TEST(test_tick_quiet_and_stall)
{
    static seg s[4];
    memset(s, 0, sizeof s);
    s[0].from_client = C, s[0].ts_us = 0, rec(&s[0], 23, 200);
    s[1].from_client = S, s[1].ts_us = 50000, rec(&s[1], 23, 16401);
    fl_tls_walk w;
    fl_tlsrec_init(&w);
    fl_tlsrec_facts f;
    fl_tlsrec_feed(&w, true, s[0].bytes, s[0].len, 0, &f);
    ck_assert_uint_eq(f.request, 1);
    ck_assert(fl_tlsrec_pending(&w));
    fl_tlsrec_feed(&w, false, s[1].bytes, s[1].len, 50000, &f);
    fl_tlsrec_tick(&w, 50000 + FL_TLSREC_QUIET_US - 1, &f);
    ck_assert_uint_eq(f.response, 0);
    fl_tlsrec_tick(&w, 50000 + FL_TLSREC_QUIET_US, &f);
    ck_assert_uint_eq(f.response, 1);
    ck_assert_uint_eq(f.resp[0].bytes, 16384);
    ck_assert_uint_eq(f.resp[0].ttfb_us, 50000);
    ck_assert_uint_eq(f.resp[0].first_us, 50000);
    ck_assert(!fl_tlsrec_pending(&w));
    /* a second request, never answered */
    fl_tlsrec_feed(&w, true, s[0].bytes, s[0].len, 3000000, &f);
    ck_assert_uint_eq(f.request, 1);
    ck_assert_uint_eq(f.first_request, 0);
    fl_tlsrec_tick(&w, 3000000 + FL_TLSREC_STALL_US - 1, &f);
    ck_assert_uint_eq(f.stall, 0);
    fl_tlsrec_tick(&w, 3000000 + FL_TLSREC_STALL_US, &f);
    ck_assert_uint_eq(f.stall, 1);
    fl_tlsrec_tick(&w, 3000000 + 2 * FL_TLSREC_STALL_US, &f);
    ck_assert_uint_eq(f.stall, 0);
}
END_TEST

/* TLS 1.3 tickets: two equal short records before the first response are
 * NewSessionTickets (RFC 8446 4.6.1), not a response; a single short
 * record followed by a different one is a response. */
START_TEST(test_tls13_tickets)
{
    static seg s[5];
    memset(s, 0, sizeof s);
    s[0].from_client = C, s[0].ts_us = 0, rec(&s[0], 22, 300);
    s[1].from_client = S, s[1].ts_us = 10, rec(&s[1], 22, 90), rec(&s[1], 23, 2000);
    s[2].from_client = C, s[2].ts_us = 20, rec(&s[2], 23, 53), rec(&s[2], 23, 120);
    s[3].from_client = S, s[3].ts_us = 30, rec(&s[3], 23, 298), rec(&s[3], 23, 298);
    s[4].from_client = S, s[4].ts_us = 40, rec(&s[4], 23, 6417);
    tally t = run(s, 5, -1, 0, false, 0);
    ck_assert_uint_eq(t.requests, 1);
    ck_assert_uint_eq(t.responses, 1);
    ck_assert_uint_eq(t.sizes[0], 6400);
    ck_assert_uint_eq(t.ttfb[0], 20);
    /* every split gives the same */
    for (int i = 0; i < 5; i++)
        for (uint32_t cut = 0; cut <= s[i].len; cut++) {
            tally got = run(s, 5, i, cut, false, 0);
            same(&got, &t);
        }
    /* one short record, then another size: both responses */
    memset(&s[3], 0, sizeof s[3]);
    s[3].from_client = S, s[3].ts_us = 30, rec(&s[3], 23, 298);
    t = run(s, 5, -1, 0, false, 0);
    ck_assert_uint_eq(t.responses, 2);
    ck_assert_uint_eq(t.sizes[0], 281);
    ck_assert_uint_eq(t.sizes[1], 6400);
    /* a held record alone ends at the close */
    t = run(s, 4, -1, 0, true, 1000);
    ck_assert_uint_eq(t.responses, 1);
    ck_assert_uint_eq(t.sizes[0], 281);
    ck_assert_uint_eq(t.early, 0);
}
END_TEST

/* Garbage where a header should be, or a gap: out of step, nothing more. */
START_TEST(test_out_of_step)
{
    static const uint8_t bad_type[] = { 0x47, 0x45, 0x54, 0x20, 0x2f };
    static const uint8_t too_long[] = { 0x17, 0x03, 0x03, 0xff, 0xff };
    static const uint8_t bad_ver[] = { 0x17, 0x02, 0x03, 0x00, 0x10 };
    const uint8_t *cases[] = { bad_type, too_long, bad_ver };
    for (int i = 0; i < 3; i++) {
        fl_tls_walk w;
        fl_tlsrec_init(&w);
        fl_tlsrec_facts f;
        uint8_t *cp = fl_test_exact_copy(cases[i], 5);
        fl_tlsrec_feed(&w, true, cp, 5, 1, &f);
        free(cp);
        ck_assert_uint_eq(f.out_of_step, 1);
        ck_assert(!fl_tlsrec_wants_bytes(&w));
        fl_tlsrec_feed(&w, true, bad_type, 5, 2, &f);
        ck_assert_uint_eq(f.out_of_step, 0);
    }
    fl_tls_walk w;
    fl_tlsrec_init(&w);
    fl_tlsrec_facts f;
    fl_tlsrec_on_gap(&w, &f);
    ck_assert_uint_eq(f.out_of_step, 1);
    fl_tlsrec_on_gap(&w, &f);
    ck_assert_uint_eq(f.out_of_step, 0);
    /* NULL and empty inputs are harmless */
    fl_tlsrec_feed(NULL, true, NULL, 0, 0, &f);
    fl_tlsrec_init(&w);
    fl_tlsrec_feed(&w, true, NULL, 0, 0, &f);
    ck_assert_uint_eq(w.state, FL_TLSREC_HANDSHAKE);
}
END_TEST

/* A bulk response: two full records, then the writer's short record
 * (nginx flushes 32 kB chunks), then more: one response, ended by the
 * next request, never pieces of one size on every site. A response of one
 * full record and a short one still ends at the short one. */
START_TEST(test_bulk_response)
{
    static seg s[8];
    int n = 0;
    memset(s, 0, sizeof s);
    s[n].from_client = C, s[n].ts_us = 1000000, rec(&s[n], 22, 300), n++;
    s[n].from_client = S, s[n].ts_us = 1010000, rec(&s[n], 22, 90), rec(&s[n], 20, 1),
    rec(&s[n], 23, 2500), n++;
    s[n].from_client = C, s[n].ts_us = 1020000, rec(&s[n], 20, 1), rec(&s[n], 23, 53),
    rec(&s[n], 23, 90), n++;
    /* one full record and a short one: a response of its own */
    s[n].from_client = S, s[n].ts_us = 1030000, rec(&s[n], 23, 16401), rec(&s[n], 23, 700), n++;
    s[n].from_client = C, s[n].ts_us = 1100000, rec(&s[n], 23, 90), n++;
    /* two full records, the chunk's short tail, then 20 kB more */
    s[n].from_client = S, s[n].ts_us = 1130000, rec(&s[n], 23, 16401), rec(&s[n], 23, 16401),
    rec(&s[n], 23, 167), n++;
    s[n].from_client = S, s[n].ts_us = 1131000, rec(&s[n], 23, 16401), rec(&s[n], 23, 4017), n++;
    s[n].from_client = C, s[n].ts_us = 1500000, rec(&s[n], 23, 90), n++;
    tally t = run(s, n, -1, 0, true, 1600000);
    ck_assert_uint_eq(t.requests, 3);
    ck_assert_uint_ge(t.responses, 2);
    ck_assert_uint_eq(t.sizes[0], 16401 + 700 - 2 * 17);
    ck_assert_uint_eq(t.sizes[1], 3 * 16401 + 167 + 4017 - 5 * 17);
    /* and the same whatever the segmentation */
    for (int i = 0; i < n; i++)
        for (uint32_t cut = 0; cut <= s[i].len; cut += s[i].len > 2000 ? 331 : 1) {
            tally u = run(s, n, i, cut, true, 1600000);
            same(&t, &u);
        }
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("tls_records");
    TCase *tc = tcase_create("walker");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_tls13_conversation);
    tcase_add_test(tc, test_tls13_every_cut);
    tcase_add_test(tc, test_every_prefix);
    tcase_add_test(tc, test_tls12_early_close);
    tcase_add_test(tc, test_tick_quiet_and_stall);
    tcase_add_test(tc, test_out_of_step);
    tcase_add_test(tc, test_tls13_tickets);
    tcase_add_test(tc, test_bulk_response);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return fl_test_run(suite());
}
