/* test_quic_app.c - HTTP/3 requests and responses inside QUIC without keys
 * (analysis/dissect/quic_app.c).
 *
 * Conversations are built datagram by datagram (RFC 9000 17 headers,
 * filler bodies: the walker never decrypts), then a real one: ngtcp2's
 * client and server (pcaps/quic-stack/responses.pcap) against tshark's
 * reading of the same packets with the client's key log
 * (responses.streams.tsv). Every prefix of every datagram is fed as well.
 */
#include <check.h>
#include <pcap/pcap.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fl_quic.h"
#include "fl_quic_app.h"
#include "fl_test_util.h"

#define C true
#define S false
#define CID 8u /* both sides' connection ID length in the built conversations */

typedef struct dgram {
    uint8_t b[1500];
    uint32_t len;
} dgram;

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/* A long-header packet (RFC 9000 17.2) of `type` bits with a body of n
 * bytes (packet number and payload), appended to d. */
static void long_pkt(dgram *d, uint32_t version, unsigned type, uint32_t n)
{
    uint8_t *p = d->b + d->len;
    uint32_t m = 0;
    p[m++] = (uint8_t)(0xc0 | type << 4);
    put32(p + m, version);
    m += 4;
    p[m++] = CID;
    memset(p + m, 0x11, CID);
    m += CID;
    p[m++] = CID;
    memset(p + m, 0x22, CID);
    m += CID;
    bool initial = version == FL_QUIC_V2 ? type == 1 : type == 0;
    if (initial)
        p[m++] = 0; /* no token */
    p[m++] = (uint8_t)(0x40 | n >> 8);
    p[m++] = (uint8_t)n;
    ck_assert_uint_le(d->len + m + n, sizeof d->b);
    memset(p + m, 0xa5, n);
    d->len += m + n;
}

/* A 1-RTT packet carrying `plain` bytes of plaintext, appended to d. */
static void short_pkt(dgram *d, uint32_t plain, uint8_t first)
{
    uint32_t n = 1 + CID + FL_QUIC_APP_PN_LEN + plain + FL_QUIC_APP_TAG;
    ck_assert_uint_le(d->len + n, sizeof d->b);
    d->b[d->len] = first;
    memset(d->b + d->len + 1, 0x5a, n - 1);
    d->len += n;
}

typedef struct tally {
    unsigned requests, responses;
    uint32_t sizes[16];
    uint32_t ttfb[16];
} tally;

static void add(tally *t, const fl_tlsrec_facts *f)
{
    t->requests += f->request;
    ck_assert_uint_eq(f->early_close, 0);
    ck_assert_uint_eq(f->stall, 0);
    for (unsigned i = 0; i < f->response; i++) {
        if (t->responses < 16) {
            t->sizes[t->responses] = f->resp[i].bytes;
            t->ttfb[t->responses] = f->resp[i].ttfb_us;
        }
        t->responses++;
    }
}

static void feed(fl_quic_app *a, tally *t, bool from_client, const dgram *d, uint64_t ts)
{
    fl_tlsrec_facts f;
    fl_quic_app_feed(a, from_client, d->b, d->len, ts, &f);
    add(t, &f);
}

/* The handshake both ways: Initials padded to 1200 (RFC 9000 14.1), the
 * server's Handshake flight, the client's Finished. */
static void handshake(fl_quic_app *a, tally *t, uint32_t version)
{
    dgram d = { .len = 0 };
    long_pkt(&d, version, version == FL_QUIC_V2 ? 1 : 0, 1200 - 7 - 2 * CID - 3);
    feed(a, t, C, &d, 1000);
    d.len = 0;
    long_pkt(&d, version, version == FL_QUIC_V2 ? 1 : 0, 120);
    long_pkt(&d, version, version == FL_QUIC_V2 ? 3 : 2, 1000);
    feed(a, t, S, &d, 21000);
    d.len = 0;
    long_pkt(&d, version, version == FL_QUIC_V2 ? 3 : 2, 60);
    feed(a, t, C, &d, 41000);
}

static void datagram(fl_quic_app *a, tally *t, bool from_client, uint32_t plain, uint64_t ts)
{
    dgram d = { .len = 0 };
    short_pkt(&d, plain, 0x41);
    feed(a, t, from_client, &d, ts);
}

/* One request, a response of full datagrams ending in a short one: its
 * plaintext summed, its first byte timed; control packets left out. */
START_TEST(test_request_response)
{
    fl_quic_app a;
    tally t = { 0 };
    fl_quic_app_init(&a);
    handshake(&a, &t, FL_QUIC_V1);
    ck_assert_uint_eq(t.requests + t.responses, 0);
    datagram(&a, &t, C, 60, 42000); /* the GET */
    datagram(&a, &t, S, 10, 50000); /* an ACK: control */
    datagram(&a, &t, C, 8, 51000);  /* an ACK from the client: no request */
    uint32_t full = 1200 - 1 - CID - FL_QUIC_APP_PN_LEN - FL_QUIC_APP_TAG;
    for (int i = 0; i < 5; i++)
        datagram(&a, &t, S, full, 62000 + (uint64_t)i);
    datagram(&a, &t, S, 300, 62010); /* the short last one */
    ck_assert_uint_eq(t.requests, 1);
    ck_assert_uint_eq(t.responses, 1);
    ck_assert_uint_eq(t.sizes[0], 5 * full + 300);
    ck_assert_uint_eq(t.ttfb[0], 20000);
    ck_assert(!fl_quic_app_pending(&a));
}
END_TEST

/* A response of one short packet ends by the next request, or by
 * FL_TLSREC_QUIET_US of server silence (the tick). */
START_TEST(test_short_response_ends_by_request_or_silence)
{
    fl_quic_app a;
    tally t = { 0 };
    fl_quic_app_init(&a);
    handshake(&a, &t, FL_QUIC_V1);
    datagram(&a, &t, C, 60, 100000);
    datagram(&a, &t, S, 200, 120000);
    ck_assert_uint_eq(t.responses, 0);
    ck_assert(fl_quic_app_pending(&a));
    datagram(&a, &t, C, 70, 300000); /* the next request ends it */
    ck_assert_uint_eq(t.requests, 2);
    ck_assert_uint_eq(t.responses, 1);
    ck_assert_uint_eq(t.sizes[0], 200);
    datagram(&a, &t, S, 150, 320000);
    fl_tlsrec_facts f;
    fl_quic_app_tick(&a, 320000 + FL_TLSREC_QUIET_US - 1, &f);
    add(&t, &f);
    ck_assert_uint_eq(t.responses, 1);
    fl_quic_app_tick(&a, 320000 + FL_TLSREC_QUIET_US, &f);
    add(&t, &f);
    ck_assert_uint_eq(t.responses, 2);
    ck_assert_uint_eq(t.sizes[1], 150);
    ck_assert_uint_eq(t.ttfb[1], 20000);
    ck_assert(!fl_quic_app_pending(&a));
}
END_TEST

/* Path MTU probes (PING + PADDING larger than anything before, RFC 8899)
 * are neither a request nor response bytes, from either side; data at the
 * new size afterwards is. */
START_TEST(test_mtu_probes_are_not_data)
{
    fl_quic_app a;
    tally t = { 0 };
    fl_quic_app_init(&a);
    handshake(&a, &t, FL_QUIC_V1);
    datagram(&a, &t, C, 60, 100000);
    datagram(&a, &t, S, 500, 120000);
    /* the server's probe (1444 bytes) while its response is under way */
    datagram(&a, &t, S, 1444 - 1 - CID - FL_QUIC_APP_PN_LEN - FL_QUIC_APP_TAG, 120100);
    /* the client's probe after server data: no new request */
    datagram(&a, &t, C, 1406 - 1 - CID - FL_QUIC_APP_PN_LEN - FL_QUIC_APP_TAG, 120200);
    ck_assert_uint_eq(t.requests, 1);
    fl_tlsrec_facts f;
    fl_quic_app_tick(&a, 2000000, &f);
    add(&t, &f);
    ck_assert_uint_eq(t.responses, 1);
    ck_assert_uint_eq(t.sizes[0], 500);
    /* the next response in datagrams of the probed size */
    uint32_t big = 1444 - 1 - CID - FL_QUIC_APP_PN_LEN - FL_QUIC_APP_TAG;
    datagram(&a, &t, C, 60, 3000000);
    datagram(&a, &t, S, big, 3020000);
    datagram(&a, &t, S, big, 3020001);
    datagram(&a, &t, S, 100, 3020002);
    ck_assert_uint_eq(t.responses, 2);
    ck_assert_uint_eq(t.sizes[1], 2 * big + 100);
}
END_TEST

/* A server that sends its responses in datagrams larger than its
 * handshake's (1350 bytes after a 1200-byte Initial): the first larger one
 * is held, and counted once the next is as large; a response of one larger
 * datagram and a short one loses the first (taken for a probe). */
START_TEST(test_larger_datagrams_are_data)
{
    fl_quic_app a;
    tally t = { 0 };
    fl_quic_app_init(&a);
    handshake(&a, &t, FL_QUIC_V1);
    uint32_t big = 1350 - 1 - CID - FL_QUIC_APP_PN_LEN - FL_QUIC_APP_TAG;
    datagram(&a, &t, C, 60, 100000);
    datagram(&a, &t, S, big, 120000);
    datagram(&a, &t, S, big, 120001);
    datagram(&a, &t, S, big, 120002);
    datagram(&a, &t, S, 77, 120003);
    ck_assert_uint_eq(t.responses, 1);
    ck_assert_uint_eq(t.sizes[0], 3 * big + 77);
    ck_assert_uint_eq(t.ttfb[0], 20000);
}
END_TEST

/* A server that does not pad its Initial (a 300-byte datagram; RFC 9000
 * 14.1 says it must) answering each request with one datagram of up to
 * 1200 bytes: every response counted, none taken for a path MTU probe
 * (those search above 1200 bytes). */
START_TEST(test_unpadded_handshake_single_datagram_responses)
{
    fl_quic_app a;
    tally t = { 0 };
    fl_quic_app_init(&a);
    dgram d = { .len = 0 };
    long_pkt(&d, FL_QUIC_V1, 0, 1200 - 7 - 2 * CID - 3);
    feed(&a, &t, C, &d, 1000);
    d.len = 0;
    long_pkt(&d, FL_QUIC_V1, 0, 250);
    feed(&a, &t, S, &d, 21000);
    static const uint32_t sizes[] = { 1100, 700, 1150, 400, 1173 };
    uint64_t ts = 50000;
    for (unsigned i = 0; i < sizeof sizes / sizeof sizes[0]; i++, ts += 500000) {
        datagram(&a, &t, C, 60, ts);
        datagram(&a, &t, S, sizes[i], ts + 20000);
    }
    fl_tlsrec_facts f;
    fl_quic_app_tick(&a, ts + FL_TLSREC_QUIET_US, &f);
    add(&t, &f);
    ck_assert_uint_eq(t.requests, 5);
    ck_assert_uint_eq(t.responses, 5);
    for (unsigned i = 0; i < 5; i++)
        ck_assert_uint_eq(t.sizes[i], sizes[i]);
}
END_TEST

/* QUIC v2's packet types (RFC 9369 3.2), a greased fixed bit (RFC 9287),
 * a 0-RTT request (RFC 9000 17.2.3) and a Handshake packet coalesced in
 * front of the 1-RTT one. */
START_TEST(test_v2_grease_zero_rtt_coalesced)
{
    fl_quic_app a;
    tally t = { 0 };
    fl_quic_app_init(&a);
    dgram d = { .len = 0 };
    long_pkt(&d, FL_QUIC_V2, 1, 600); /* Initial */
    long_pkt(&d, FL_QUIC_V2, 2, 300); /* 0-RTT: the request, early */
    feed(&a, &t, C, &d, 1000);
    ck_assert_uint_eq(t.requests, 1);
    d.len = 0;
    long_pkt(&d, FL_QUIC_V2, 1, 100);
    long_pkt(&d, FL_QUIC_V2, 3, 500);
    short_pkt(&d, 400, 0x01); /* fixed bit 0: greased */
    feed(&a, &t, S, &d, 21000);
    d.len = 0;
    short_pkt(&d, 250, 0x3f);
    feed(&a, &t, S, &d, 21500);
    fl_tlsrec_facts f;
    fl_quic_app_tick(&a, 5000000, &f);
    add(&t, &f);
    ck_assert_uint_eq(t.responses, 1);
    ck_assert_uint_eq(t.sizes[0], 650);
    ck_assert_uint_eq(t.ttfb[0], 20000);
}
END_TEST

/* Every prefix of every datagram of a conversation, and random bytes: never
 * read out of bounds (ASan), never more facts than datagrams. */
START_TEST(test_every_prefix_and_garbage)
{
    dgram ds[6];
    bool dir[6] = { C, S, C, C, S, S };
    memset(ds, 0, sizeof ds);
    long_pkt(&ds[0], FL_QUIC_V1, 0, 1170);
    long_pkt(&ds[1], FL_QUIC_V1, 0, 120);
    long_pkt(&ds[1], FL_QUIC_V1, 2, 900);
    short_pkt(&ds[1], 100, 0x40);
    long_pkt(&ds[2], FL_QUIC_V1, 2, 60);
    short_pkt(&ds[2], 80, 0x40);
    long_pkt(&ds[3], FL_QUIC_V1, 1, 200);
    short_pkt(&ds[4], 1100, 0x40);
    short_pkt(&ds[5], 90, 0x40);
    for (int k = 0; k < 6; k++) {
        for (uint32_t cut = 0; cut <= ds[k].len; cut++) {
            fl_quic_app a;
            tally t = { 0 };
            fl_quic_app_init(&a);
            for (int j = 0; j < 6; j++) {
                uint8_t *copy = fl_test_exact_copy(ds[j].b, j == k ? cut : ds[j].len);
                fl_tlsrec_facts f;
                fl_quic_app_feed(&a, dir[j], copy, j == k ? cut : ds[j].len, (uint64_t)j * 1000,
                                 &f);
                add(&t, &f);
                free(copy);
            }
            ck_assert_uint_le(t.requests + t.responses, 6);
        }
    }
    uint64_t x = 88172645463325252ull;
    for (int round = 0; round < 2000; round++) {
        fl_quic_app a;
        tally t = { 0 };
        fl_quic_app_init(&a);
        for (int j = 0; j < 8; j++) {
            uint8_t buf[300];
            uint32_t n = (uint32_t)(x % sizeof buf);
            for (uint32_t i = 0; i < n; i++) {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                buf[i] = (uint8_t)x;
            }
            uint8_t *copy = fl_test_exact_copy(buf, n);
            fl_tlsrec_facts f;
            fl_quic_app_feed(&a, (x & 1) != 0, copy, n, (uint64_t)j * 1000, &f);
            add(&t, &f);
            free(copy);
        }
    }
}
END_TEST

/* ---- the real stack: ngtcp2 against tshark with the key log ---- */

#define MAXFLOWS 64

typedef struct flow {
    char client[64];
    fl_quic_app a;
    tally t;
    uint64_t req_us[16];
} flow;

typedef struct oracle_row {
    char client[64];
    double request_s, first_s;
    uint32_t bytes;
} oracle_row;

static int load_streams(oracle_row *rows, int max)
{
    char *path = fl_test_path("pcaps/quic-stack/responses.streams.tsv");
    FILE *f = fopen(path, "r");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    char line[512];
    int n = 0;
    ck_assert(fgets(line, sizeof line, f) != NULL); /* the header */
    while (fgets(line, sizeof line, f)) {
        ck_assert_int_lt(n, max);
        /* client, stream, request_s, first_byte_s, bytes: tab-separated */
        char *col[5] = { NULL }, *save = NULL;
        int k = 0;
        for (char *t = strtok_r(line, "\t\n", &save); t && k < 5; t = strtok_r(NULL, "\t\n", &save))
            col[k++] = t;
        ck_assert_int_eq(k, 5);
        snprintf(rows[n].client, sizeof rows[n].client, "%s", col[0]);
        char *end;
        unsigned long stream = strtoul(col[1], &end, 10);
        ck_assert(*end == '\0');
        rows[n].request_s = strtod(col[2], &end);
        ck_assert(*end == '\0');
        rows[n].first_s = strtod(col[3], &end);
        ck_assert(*end == '\0');
        rows[n].bytes = (uint32_t)strtoul(col[4], &end, 10);
        ck_assert(*end == '\0');
        ck_assert_uint_eq(stream % 4, 0);
        n++;
    }
    fclose(f);
    free(path);
    return n;
}

static flow *flow_of(flow *flows, int *nf, const char *client)
{
    for (int i = 0; i < *nf; i++)
        if (!strcmp(flows[i].client, client))
            return &flows[i];
    ck_assert_int_lt(*nf, MAXFLOWS);
    flow *fl = &flows[(*nf)++];
    memset(fl, 0, sizeof *fl);
    snprintf(fl->client, sizeof fl->client, "%s", client);
    fl_quic_app_init(&fl->a);
    return fl;
}

/* Every response tshark reads in the capture is one response of the walker
 * on its connection, its size the stream's bytes plus what the walker
 * cannot take out (frame headers, and on a connection's first response the
 * server's post-handshake frames: fl_quic_app.h), its time to first byte
 * tshark's; the 8 responses of the 6,400-byte error page measure within
 * FL_QUIC_APP_SHORT_SLACK bytes of each other: one size mode. */
START_TEST(test_ngtcp2_against_tshark)
{
    static oracle_row rows[MAXFLOWS];
    int nrows = load_streams(rows, MAXFLOWS);
    ck_assert_int_eq(nrows, 24);
    static flow flows[MAXFLOWS];
    int nf = 0;
    char *path = fl_test_path("pcaps/quic-stack/responses.pcap");
    char err[PCAP_ERRBUF_SIZE];
    pcap_t *p = pcap_open_offline(path, err);
    ck_assert_msg(p != NULL, "%s: %s", path, err);
    struct pcap_pkthdr *h;
    const u_char *d;
    while (pcap_next_ex(p, &h, &d) == 1) {
        /* Ethernet, IPv4, UDP: what the bed captures */
        if (h->caplen < 42 || d[12] != 0x08 || d[13] != 0x00 || d[23] != 17)
            continue;
        uint32_t ihl = (d[14] & 0x0fu) * 4;
        const u_char *u = d + 14 + ihl;
        uint32_t ulen = (uint32_t)(u[4] << 8 | u[5]);
        ck_assert_uint_le(14 + ihl + ulen, h->caplen);
        bool from_client = (u[2] << 8 | u[3]) == 443;
        const u_char *cip = from_client ? d + 26 : d + 30;
        char client[64];
        snprintf(client, sizeof client, "%u.%u.%u.%u:%u", cip[0], cip[1], cip[2], cip[3],
                 from_client ? (unsigned)(u[0] << 8 | u[1]) : (unsigned)(u[2] << 8 | u[3]));
        flow *fl = flow_of(flows, &nf, client);
        uint64_t ts = (uint64_t)h->ts.tv_sec * 1000000u + (uint64_t)h->ts.tv_usec;
        fl_tlsrec_facts f;
        fl_quic_app_feed(&fl->a, from_client, u + 8, ulen - 8, ts, &f);
        if (f.request && fl->t.requests < 16)
            fl->req_us[fl->t.requests] = ts;
        add(&fl->t, &f);
    }
    pcap_close(p);
    free(path);
    ck_assert_int_eq(nf, nrows);
    uint32_t template_lo = UINT32_MAX, template_hi = 0;
    int templates = 0;
    for (int r = 0; r < nrows; r++) {
        flow *fl = flow_of(flows, &nf, rows[r].client);
        fl_tlsrec_facts f;
        fl_quic_app_tick(&fl->a, UINT64_MAX / 2, &f); /* the capture's end */
        add(&fl->t, &f);
        ck_assert_msg(fl->t.responses == 1, "%s: %u responses, tshark 1", fl->client,
                      fl->t.responses);
        uint32_t got = fl->t.sizes[0], want = rows[r].bytes;
        /* frame headers: a few bytes a datagram (1.5 %); post-handshake
         * frames: at most 800 bytes */
        ck_assert_msg(got >= want && got <= want + 800 + want / 64, "%s: %u bytes, tshark %u",
                      fl->client, got, want);
        double ttfb = (rows[r].first_s - rows[r].request_s) * 1e6;
        ck_assert_msg(fl->t.ttfb[0] >= ttfb - 2 && fl->t.ttfb[0] <= ttfb + 2,
                      "%s: ttfb %u us, tshark %.0f", fl->client, fl->t.ttfb[0], ttfb);
        if (want == 6415) {
            templates++;
            template_lo = got < template_lo ? got : template_lo;
            template_hi = got > template_hi ? got : template_hi;
        }
    }
    ck_assert_int_eq(templates, 8);
    ck_assert_uint_le(template_hi - template_lo, FL_QUIC_APP_SHORT_SLACK);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("quic_app");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_request_response);
    tcase_add_test(tc, test_short_response_ends_by_request_or_silence);
    tcase_add_test(tc, test_mtu_probes_are_not_data);
    tcase_add_test(tc, test_larger_datagrams_are_data);
    tcase_add_test(tc, test_unpadded_handshake_single_datagram_responses);
    tcase_add_test(tc, test_v2_grease_zero_rtt_coalesced);
    tcase_add_test(tc, test_every_prefix_and_garbage);
    tcase_add_test(tc, test_ngtcp2_against_tshark);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return fl_test_run(suite());
}
