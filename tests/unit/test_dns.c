/* test_dns.c - DNS message parser and DNS-over-TCP framing.
 *
 * Crafted messages carry their expected values in comments beside the bytes
 * (RFC 1035 4.1); every crafted message was also read back with tshark 4.0.17
 * (text2pcap + tshark -V) to confirm the expectations. Real messages come from
 * pcaps/real/, with the tshark command that extracts them and the values
 * tshark -V shows. Every prefix of every message is parsed from an exact
 * heap copy, so AddressSanitizer catches any over-read.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fl_dns.h"
#include "fl_test_util.h"

/* ---- helpers ----------------------------------------------------------- */

static int hex_nibble(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static uint32_t hex_decode(const char *hex, uint8_t *out, uint32_t cap)
{
    uint32_t n = 0;
    for (const char *p = hex; p[0] && p[1]; p += 2) {
        int hi = hex_nibble(p[0]), lo = hex_nibble(p[1]);
        ck_assert_msg(hi >= 0 && lo >= 0, "bad hex at %s", p);
        ck_assert_uint_lt(n, cap);
        out[n++] = (uint8_t)(hi << 4 | lo);
    }
    return n;
}

static fl_addr addr_of(const char *text)
{
    fl_addr a;
    memset(&a, 0, sizeof a);
    if (strchr(text, ':')) {
        a.family = 6;
        ck_assert_int_eq(inet_pton(AF_INET6, text, a.b), 1);
    } else {
        a.family = 4;
        ck_assert_int_eq(inet_pton(AF_INET, text, a.b), 1);
    }
    return a;
}

/* What a message must parse to. q_end: prefix length from which the first
 * question is complete (0: never); an_end: prefix length from which
 * answers_complete holds (0: never); ans_at: prefix length from which
 * answered_qtype holds (0: never). */
typedef struct expect {
    const char *what;
    uint16_t id;
    bool response;
    uint8_t opcode, rcode;
    uint16_t qd, an, ns, ar;
    uint32_t q_end;
    const char *qname;
    uint16_t qtype, qclass;
    uint32_t an_end, ans_at;
    uint8_t ncnames;
    const char *cnames[FL_DNS_MAX_CNAMES];
    uint8_t naddrs;
    const char *addrs[FL_DNS_MAX_ADDRS];
} expect;

/* Parse msg[0..plen) from an exact copy and check it against e. */
static void check_prefix(const expect *e, const uint8_t *msg, uint32_t len, uint32_t plen)
{
    uint8_t *copy = fl_test_exact_copy(msg, plen);
    fl_dns_msg m;
    fl_dns_parse_result r = fl_dns_parse(copy, plen, &m);
    free(copy);

    if (plen < 12) {
        ck_assert_msg(r == FL_DNS_BAD, "%s: prefix %u must be BAD", e->what, plen);
        return;
    }
    ck_assert_msg(r == FL_DNS_OK, "%s: prefix %u must be OK", e->what, plen);
    ck_assert_uint_eq(m.id, e->id);
    ck_assert(m.response == e->response);
    ck_assert_uint_eq(m.opcode, e->opcode);
    ck_assert_uint_eq(m.rcode, e->rcode);
    ck_assert_uint_eq(m.qdcount, e->qd);
    ck_assert_uint_eq(m.ancount, e->an);
    ck_assert_uint_eq(m.nscount, e->ns);
    ck_assert_uint_eq(m.arcount, e->ar);

    bool want_q = e->q_end && plen >= e->q_end;
    ck_assert_msg(m.has_question == want_q, "%s: prefix %u has_question %d", e->what, plen,
                  m.has_question);
    if (want_q) {
        ck_assert_str_eq(m.qname, e->qname);
        ck_assert_uint_eq(m.qtype, e->qtype);
        ck_assert_uint_eq(m.qclass, e->qclass);
    } else {
        ck_assert_str_eq(m.qname, "");
        ck_assert_uint_eq(m.qtype, 0);
    }

    bool want_complete = e->an_end && plen >= e->an_end;
    ck_assert_msg(m.answers_complete == want_complete, "%s: prefix %u answers_complete %d", e->what,
                  plen, m.answers_complete);
    bool want_answered = e->ans_at && plen >= e->ans_at;
    ck_assert_msg(m.answered_qtype == want_answered, "%s: prefix %u answered_qtype %d", e->what,
                  plen, m.answered_qtype);

    /* What was parsed is a prefix of the full lists; all of them once the
     * answer section is complete or the whole message is there. */
    ck_assert_uint_le(m.ncnames, e->ncnames);
    ck_assert_uint_le(m.naddrs, e->naddrs);
    if (want_complete || plen == len) {
        ck_assert_uint_eq(m.ncnames, e->ncnames);
        ck_assert_uint_eq(m.naddrs, e->naddrs);
    }
    for (unsigned i = 0; i < m.ncnames; i++)
        ck_assert_str_eq(m.cnames[i], e->cnames[i]);
    for (unsigned i = 0; i < m.naddrs; i++) {
        fl_addr a = addr_of(e->addrs[i]);
        ck_assert_msg(fl_addr_eq(&m.addrs[i], &a), "%s: prefix %u addr %u", e->what, plen, i);
    }
}

/* Every prefix, the whole message included. */
static void check_all_prefixes(const expect *e, const uint8_t *msg, uint32_t len)
{
    for (uint32_t plen = 0; plen <= len; plen++)
        check_prefix(e, msg, len, plen);
}

static void check_hex(const expect *e, const char *hex)
{
    static uint8_t buf[4096];
    uint32_t len = hex_decode(hex, buf, sizeof buf);
    check_all_prefixes(e, buf, len);
}

static fl_dns_parse_result parse_exact(const uint8_t *msg, uint32_t len, fl_dns_msg *m)
{
    uint8_t *copy = fl_test_exact_copy(msg, len);
    fl_dns_parse_result r = fl_dns_parse(copy, len, m);
    free(copy);
    return r;
}

/* ---- crafted messages (RFC 1035 4.1) ---------------------------------- */

/* Standard query, RD, for "WWW.Example.COM" A IN: the name is lower-cased. */
static const uint8_t m_query[] = {
    0x12, 0x34, 0x01, 0x00,                         /* id 0x1234, QR 0, opcode 0, RD */
    0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* qd 1 an 0 ns 0 ar 0 */
    3,    'W',  'W',  'W',  7,    'E',  'x',  'a',  'm',
    'p',  'l',  'e',  3,    'C',  'O',  'M',  0, /* 12..28 */
    0x00, 0x01, 0x00, 0x01,                      /* A IN, ends at 33 */
};

START_TEST(test_query)
{
    expect e = { .what = "query",
                 .id = 0x1234,
                 .response = false,
                 .qd = 1,
                 .q_end = 33,
                 .qname = "www.example.com",
                 .qtype = 1,
                 .qclass = 1 };
    check_all_prefixes(&e, m_query, sizeof m_query);
}
END_TEST

/* NOERROR response for www.example.com A: a CNAME chain www.example.com ->
 * a.CDN.net -> b.cdn.net (compressed), two A and one AAAA for b.cdn.net. The
 * last owner name is a pointer to a pointer (104 -> 72 -> 68 -> 47). */
static const uint8_t m_chain[] = {
    0xab,
    0xcd,
    0x81,
    0x80, /* id 0xabcd, QR, RD, RA, NOERROR */
    0x00,
    0x01,
    0x00,
    0x05,
    0x00,
    0x00,
    0x00,
    0x00, /* qd 1 an 5 */
    3,
    'w',
    'w',
    'w',
    7,
    'e',
    'x',
    'a',
    'm',
    'p',
    'l',
    'e',
    3,
    'c',
    'o',
    'm',
    0, /* 12 */
    0x00,
    0x01,
    0x00,
    0x01, /* A IN; question ends at 33 */
    /* 33: www.example.com CNAME a.CDN.net; the target at 45, "CDN.net" at 47 */
    0xc0,
    0x0c,
    0x00,
    0x05,
    0x00,
    0x01,
    0x00,
    0x00,
    0x0e,
    0x10,
    0x00,
    0x0b,
    1,
    'a',
    3,
    'C',
    'D',
    'N',
    3,
    'n',
    'e',
    't',
    0,
    /* 56: a.cdn.net (-> 45) CNAME b + ptr 47; the target at 68; ends at 72 */
    0xc0,
    0x2d,
    0x00,
    0x05,
    0x00,
    0x01,
    0x00,
    0x00,
    0x0e,
    0x10,
    0x00,
    0x04,
    1,
    'b',
    0xc0,
    0x2f,
    /* 72: b.cdn.net (-> 68) A 192.0.2.1; ends at 88 */
    0xc0,
    0x44,
    0x00,
    0x01,
    0x00,
    0x01,
    0x00,
    0x00,
    0x01,
    0x2c,
    0x00,
    0x04,
    192,
    0,
    2,
    1,
    /* 88: b.cdn.net A 192.0.2.2; ends at 104 */
    0xc0,
    0x44,
    0x00,
    0x01,
    0x00,
    0x01,
    0x00,
    0x00,
    0x01,
    0x2c,
    0x00,
    0x04,
    192,
    0,
    2,
    2,
    /* 104: owner -> 72 (itself a pointer) AAAA 2001:db8::1; ends at 132 */
    0xc0,
    0x48,
    0x00,
    0x1c,
    0x00,
    0x01,
    0x00,
    0x00,
    0x01,
    0x2c,
    0x00,
    0x10,
    0x20,
    0x01,
    0x0d,
    0xb8,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    1,
};

START_TEST(test_cname_chain)
{
    expect e = { .what = "chain",
                 .id = 0xabcd,
                 .response = true,
                 .qd = 1,
                 .an = 5,
                 .q_end = 33,
                 .qname = "www.example.com",
                 .qtype = 1,
                 .qclass = 1,
                 .an_end = 132,
                 .ans_at = 88,
                 .ncnames = 2,
                 .cnames = { "a.cdn.net", "b.cdn.net" },
                 .naddrs = 3,
                 .addrs = { "192.0.2.1", "192.0.2.2", "2001:db8::1" } };
    check_all_prefixes(&e, m_chain, sizeof m_chain);
}
END_TEST

/* NXDOMAIN for nope.example A, with the SOA of example in authority. */
static const uint8_t m_nxdomain[] = {
    0xbe,
    0xef,
    0x81,
    0x83, /* QR, RD, RA, rcode 3 */
    0x00,
    0x01,
    0x00,
    0x00,
    0x00,
    0x01,
    0x00,
    0x00, /* qd 1 an 0 ns 1 */
    4,
    'n',
    'o',
    'p',
    'e',
    7,
    'e',
    'x',
    'a',
    'm',
    'p',
    'l',
    'e',
    0, /* 12; "example" at 17 */
    0x00,
    0x01,
    0x00,
    0x01, /* A IN; ends at 30 */
    /* 30: example SOA ns.example h.example 1 3600 600 86400 300 */
    0xc0,
    0x11,
    0x00,
    0x06,
    0x00,
    0x01,
    0x00,
    0x00,
    0x0e,
    0x10,
    0x00,
    0x1d,
    2,
    'n',
    's',
    0xc0,
    0x11,
    1,
    'h',
    0xc0,
    0x11,
    0,
    0,
    0,
    1,
    0,
    0,
    0x0e,
    0x10,
    0,
    0,
    0x02,
    0x58,
    0,
    1,
    0x51,
    0x80,
    0,
    0,
    0x01,
    0x2c,
};

START_TEST(test_nxdomain)
{
    expect e = { .what = "nxdomain",
                 .id = 0xbeef,
                 .response = true,
                 .rcode = 3,
                 .qd = 1,
                 .ns = 1,
                 .q_end = 30,
                 .qname = "nope.example",
                 .qtype = 1,
                 .qclass = 1,
                 .an_end = 30 };
    check_all_prefixes(&e, m_nxdomain, sizeof m_nxdomain);
}
END_TEST

/* SERVFAIL for dynamodb.us-east-1.amazonaws.com A: no answers at all. */
static const uint8_t m_servfail[] = {
    0x01, 0x02, 0x81, 0x82, /* QR, RD, RA, rcode 2 */
    0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 8,   'd', 'y', 'n', 'a', 'm',
    'o',  'd',  'b',  9,    'u',  's',  '-',  'e',  'a', 's', 't', '-', '1', 9,
    'a',  'm',  'a',  'z',  'o',  'n',  'a',  'w',  's', 3,   'c', 'o', 'm', 0, /* 12..45 */
    0x00, 0x01, 0x00, 0x01,                                                     /* ends at 50 */
};

START_TEST(test_servfail)
{
    expect e = { .what = "servfail",
                 .id = 0x0102,
                 .response = true,
                 .rcode = 2,
                 .qd = 1,
                 .q_end = 50,
                 .qname = "dynamodb.us-east-1.amazonaws.com",
                 .qtype = 1,
                 .qclass = 1,
                 .an_end = 50 };
    check_all_prefixes(&e, m_servfail, sizeof m_servfail);
}
END_TEST

/* NODATA: NOERROR for www.example.com AAAA whose only answer is a CNAME. */
static const uint8_t m_nodata_cname[] = {
    0x02,
    0x03,
    0x81,
    0x80,
    0x00,
    0x01,
    0x00,
    0x01,
    0x00,
    0x00,
    0x00,
    0x00, /* qd 1 an 1 */
    3,
    'w',
    'w',
    'w',
    7,
    'e',
    'x',
    'a',
    'm',
    'p',
    'l',
    'e',
    3,
    'c',
    'o',
    'm',
    0, /* 12 */
    0x00,
    0x1c,
    0x00,
    0x01, /* AAAA IN; ends at 33 */
    /* 33: CNAME e + ptr to "example.com" (16); ends at 49 */
    0xc0,
    0x0c,
    0x00,
    0x05,
    0x00,
    0x01,
    0x00,
    0x00,
    0x0e,
    0x10,
    0x00,
    0x04,
    1,
    'e',
    0xc0,
    0x10,
};

START_TEST(test_nodata_cname)
{
    expect e = { .what = "nodata-cname",
                 .id = 0x0203,
                 .response = true,
                 .qd = 1,
                 .an = 1,
                 .q_end = 33,
                 .qname = "www.example.com",
                 .qtype = 28,
                 .qclass = 1,
                 .an_end = 49,
                 .ncnames = 1,
                 .cnames = { "e.example.com" } };
    check_all_prefixes(&e, m_nodata_cname, sizeof m_nodata_cname);
}
END_TEST

/* NODATA: authoritative NOERROR for v4only.example AAAA, only an SOA in
 * authority. */
static const uint8_t m_nodata_soa[] = {
    0x03, 0x04, 0x85, 0x80,                         /* QR, AA, RD, RA */
    0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, /* qd 1 ns 1 */
    6,    'v',  '4',  'o',  'n',  'l',  'y',  7,    'e',  'x',  'a',  'm',  'p',  'l',
    'e',  0,                /* "example" at 19 */
    0x00, 0x1c, 0x00, 0x01, /* ends at 32 */
    0xc0, 0x13, 0x00, 0x06, 0x00, 0x01, 0x00, 0x00, 0x0e, 0x10, 0x00, 0x1d, 2,    'n',
    's',  0xc0, 0x13, 1,    'h',  0xc0, 0x13, 0,    0,    0,    1,    0,    0,    0x0e,
    0x10, 0,    0,    0x02, 0x58, 0,    1,    0x51, 0x80, 0,    0,    0x01, 0x2c,
};

START_TEST(test_nodata_soa)
{
    expect e = { .what = "nodata-soa",
                 .id = 0x0304,
                 .response = true,
                 .qd = 1,
                 .ns = 1,
                 .q_end = 32,
                 .qname = "v4only.example",
                 .qtype = 28,
                 .qclass = 1,
                 .an_end = 32 };
    check_all_prefixes(&e, m_nodata_soa, sizeof m_nodata_soa);
}
END_TEST

/* Pointer loops and bad pointers in the question: the header still counts,
 * the question does not. */
START_TEST(test_bad_pointers_in_question)
{
    static const uint8_t hdr[12] = { 0x55, 0x66, 0x81, 0x80, 0, 1, 0, 0, 0, 0, 0, 0 };
    static const struct {
        const char *what;
        uint8_t name[8];
        uint32_t n;
    } cases[] = {
        { "self pointer", { 0xc0, 0x0c }, 2 },
        { "label then pointer to its start", { 1, 'a', 0xc0, 0x0c }, 4 },
        { "forward pointer", { 0xc0, 0x0e, 1, 'a', 0 }, 5 },
        { "pointer into the header", { 0xc0, 0x02 }, 2 },
        { "pointer beyond the message", { 0xc0, 0x40 }, 2 },
        { "label too long (0x40)", { 0x40, 'a', 0 }, 3 },
        { "label type 10 (0x80)", { 0x80, 'a', 0 }, 3 },
    };
    for (unsigned k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        uint8_t msg[32];
        memcpy(msg, hdr, 12);
        memcpy(msg + 12, cases[k].name, cases[k].n);
        static const uint8_t qtail[4] = { 0, 1, 0, 1 }; /* QTYPE A, QCLASS IN */
        memcpy(msg + 12 + cases[k].n, qtail, sizeof qtail);
        uint32_t len = 12 + cases[k].n + 4;
        /* "pointer into the header": offset 2 is before the name, so legal
         * as a pointer, but 0x81 there is a 10 label type: rejected too. */
        expect e = { .what = cases[k].what, .id = 0x5566, .response = true, .qd = 1 };
        check_all_prefixes(&e, msg, len);
    }
}
END_TEST

/* A backward pointer that still loops: the answer's owner is 'x' + a pointer
 * to the owner's own start (19). A check of "target < pointer position"
 * alone would loop forever here. */
static const uint8_t m_loop_answer[] = {
    0x77, 0x88, 0x81, 0x80, 0,    1, 0, 1,  0, 0, 0,  0, 1, 'a',
    0,    0x00, 0x01, 0x00, 0x01, /* 12: a A IN; ends at 19 */
    1,    'x',  0xc0, 0x13,       /* 19: x + ptr 19 */
    0x00, 0x01, 0x00, 0x01, 0,    0, 0, 60, 0, 4, 10, 0, 0, 1,
};

START_TEST(test_pointer_loop_answer)
{
    expect e = { .what = "loop in answer",
                 .id = 0x7788,
                 .response = true,
                 .qd = 1,
                 .an = 1,
                 .q_end = 19,
                 .qname = "a",
                 .qtype = 1,
                 .qclass = 1 };
    check_all_prefixes(&e, m_loop_answer, sizeof m_loop_answer);
}
END_TEST

/* Small builder for the generated cases below. */
typedef struct wbuf {
    uint8_t b[8192];
    uint32_t n;
} wbuf;

static void put(wbuf *w, const void *p, uint32_t n)
{
    ck_assert_uint_le(w->n + n, sizeof w->b);
    memcpy(w->b + w->n, p, n);
    w->n += n;
}

static void put8(wbuf *w, uint8_t v)
{
    put(w, &v, 1);
}

static void put16(wbuf *w, uint16_t v)
{
    put8(w, (uint8_t)(v >> 8));
    put8(w, (uint8_t)v);
}

static void put_header(wbuf *w, uint16_t id, uint16_t flags, uint16_t qd, uint16_t an)
{
    w->n = 0;
    put16(w, id);
    put16(w, flags);
    put16(w, qd);
    put16(w, an);
    put16(w, 0);
    put16(w, 0);
}

/* RR fixed part after the owner: type, class IN, TTL 60, rdlength. */
static void put_rr_fixed(wbuf *w, uint16_t type, uint16_t rdlen)
{
    put16(w, type);
    put16(w, 1);
    put16(w, 0);
    put16(w, 60);
    put16(w, rdlen);
}

/* A chain of n strictly backward pointers (each to the previous one, the
 * first to the root name of the question) inside an unknown-type RR, then an
 * A record owned by a pointer to the last of them: 1 + n jumps. Below the
 * cap of 127 jumps the A counts; above it the name is rejected. */
static void build_jump_chain(wbuf *w, unsigned n)
{
    put_header(w, 0x0a0b, 0x8180, 1, 2);
    put8(w, 0); /* 12: root */
    put16(w, 1);
    put16(w, 1); /* question ends at 17 */
    put8(w, 0);  /* 17: RR 1 owner root, type 65280 (private) */
    put_rr_fixed(w, 65280, (uint16_t)(2 * n));
    uint32_t prev = 12;
    for (unsigned i = 0; i < n; i++) {
        uint32_t here = w->n;
        put16(w, (uint16_t)(0xc000 | prev));
        prev = here;
    }
    put16(w, (uint16_t)(0xc000 | prev)); /* RR 2 owner */
    put_rr_fixed(w, FL_DNS_TYPE_A, 4);
    put(w, "\x0a\x00\x00\x07", 4);
}

START_TEST(test_jump_limit)
{
    wbuf *w = malloc(sizeof *w);
    fl_dns_msg m;

    build_jump_chain(w, 100); /* 101 jumps */
    ck_assert_int_eq(parse_exact(w->b, w->n, &m), FL_DNS_OK);
    ck_assert(m.has_question);
    ck_assert_str_eq(m.qname, "");
    ck_assert(m.answers_complete);
    ck_assert(m.answered_qtype);
    ck_assert_uint_eq(m.naddrs, 1);
    fl_addr a = addr_of("10.0.0.7");
    ck_assert(fl_addr_eq(&m.addrs[0], &a));

    build_jump_chain(w, 127); /* 128 jumps */
    ck_assert_int_eq(parse_exact(w->b, w->n, &m), FL_DNS_OK);
    ck_assert(m.has_question);
    ck_assert(!m.answers_complete);
    ck_assert(!m.answered_qtype);
    ck_assert_uint_eq(m.naddrs, 0);
    free(w);
}
END_TEST

/* Name length limits (RFC 1035 2.3.4: 255 octets on the wire). */
static void build_long_name(wbuf *w, const unsigned *labels, unsigned nlabels, uint8_t fill)
{
    put_header(w, 0x0c0d, 0x0100, 1, 0);
    for (unsigned i = 0; i < nlabels; i++) {
        put8(w, (uint8_t)labels[i]);
        for (unsigned j = 0; j < labels[i]; j++)
            put8(w, fill);
    }
    put8(w, 0);
    put16(w, 1);
    put16(w, 1);
}

START_TEST(test_name_limits)
{
    wbuf *w = malloc(sizeof *w);
    fl_dns_msg m;
    char want[256];

    /* 3 x 63 + 61: exactly 255 octets, 253 characters of text. */
    static const unsigned ok[] = { 63, 63, 63, 61 };
    build_long_name(w, ok, 4, 'q');
    ck_assert_int_eq(parse_exact(w->b, w->n, &m), FL_DNS_OK);
    ck_assert(m.has_question);
    memset(want, 'q', 253);
    want[63] = want[127] = want[191] = '.';
    want[253] = '\0';
    ck_assert_str_eq(m.qname, want);
    ck_assert_uint_eq(strlen(m.qname), 253);
    check_all_prefixes(&(expect){ .what = "255-octet name",
                                  .id = 0x0c0d,
                                  .opcode = 0,
                                  .qd = 1,
                                  .q_end = w->n,
                                  .qname = want,
                                  .qtype = 1,
                                  .qclass = 1 },
                       w->b, w->n);

    /* One octet more: 256 octets, rejected. */
    static const unsigned too_long[] = { 63, 63, 63, 62 };
    build_long_name(w, too_long, 4, 'q');
    ck_assert_int_eq(parse_exact(w->b, w->n, &m), FL_DNS_OK);
    ck_assert(!m.has_question);
    ck_assert_str_eq(m.qname, "");

    /* A legal 255-octet name of 0x01 bytes: its escaped text (\001 each)
     * cannot fit in FL_DNS_NAME_MAX characters, so it is rejected whole
     * rather than cut. */
    build_long_name(w, ok, 4, 0x01);
    ck_assert_int_eq(parse_exact(w->b, w->n, &m), FL_DNS_OK);
    ck_assert(!m.has_question);
    ck_assert_str_eq(m.qname, "");
    free(w);
}
END_TEST

/* Presentation form: '.' and '\' inside a label escaped, bytes outside
 * 0x21..0x7e as \DDD, A-Z lower-cased (RFC 1035 5.1, RFC 4343). */
static const uint8_t m_escape[] = {
    0x00, 0x09, 0x01, 0x00, 0, 1,   0,    0,    0,    0,    0,   0,
    3,    'A',  '.',  'b',  6, ' ', 0x00, '\\', 0x7f, 0xc3, 'Z', 0, /* 12; ends at 24 */
    0x00, 0x10, 0x00, 0x01,                                         /* TXT IN; ends at 28 */
};

START_TEST(test_escapes)
{
    expect e = { .what = "escapes",
                 .id = 0x0009,
                 .qd = 1,
                 .q_end = 28,
                 .qname = "a\\.b.\\032\\000\\\\\\127\\195z",
                 .qtype = 16,
                 .qclass = 1 };
    check_all_prefixes(&e, m_escape, sizeof m_escape);
}
END_TEST

/* More than FL_DNS_MAX_CNAMES CNAMEs and FL_DNS_MAX_ADDRS addresses: the
 * first ones are kept and the walk still completes. Also skipped: an A of
 * the wrong length, an A of class CH, a TXT. */
START_TEST(test_caps_and_skips)
{
    wbuf *w = malloc(sizeof *w);
    fl_dns_msg m;
    const unsigned ncn = FL_DNS_MAX_CNAMES + 2, na = FL_DNS_MAX_ADDRS + 3;

    put_header(w, 0x0e0f, 0x8180, 1, (uint16_t)(ncn + na + 3));
    put(w, "\x01q\x00\x00\x01\x00\x01", 7); /* 12: q A IN */
    for (unsigned i = 0; i < ncn; i++) {    /* c<i>.q each */
        put16(w, 0xc00c);
        put_rr_fixed(w, FL_DNS_TYPE_CNAME, 4);
        put8(w, 1);
        put8(w, (uint8_t)('a' + i));
        put16(w, 0xc00c);
    }
    put16(w, 0xc00c); /* A with rdlength 5: not an address */
    put_rr_fixed(w, FL_DNS_TYPE_A, 5);
    put(w, "\x01\x02\x03\x04\x05", 5);
    put16(w, 0xc00c); /* A in class CH (3): not an Internet address */
    put16(w, FL_DNS_TYPE_A);
    put16(w, 3);
    put16(w, 0);
    put16(w, 60);
    put16(w, 4);
    put(w, "\x01\x02\x03\x04", 4);
    put16(w, 0xc00c); /* TXT "hi" */
    put_rr_fixed(w, 16, 3);
    put(w, "\x02hi", 3);
    for (unsigned i = 0; i < na; i++) {
        put16(w, 0xc00c);
        put_rr_fixed(w, FL_DNS_TYPE_A, 4);
        put8(w, 198);
        put8(w, 51);
        put8(w, 100);
        put8(w, (uint8_t)(i + 1));
    }
    ck_assert_int_eq(parse_exact(w->b, w->n, &m), FL_DNS_OK);
    ck_assert(m.answers_complete);
    ck_assert(m.answered_qtype);
    ck_assert_uint_eq(m.ncnames, FL_DNS_MAX_CNAMES);
    for (unsigned i = 0; i < FL_DNS_MAX_CNAMES; i++) {
        char want[4] = { (char)('a' + i), '.', 'q', 0 };
        ck_assert_str_eq(m.cnames[i], want);
    }
    ck_assert_uint_eq(m.naddrs, FL_DNS_MAX_ADDRS);
    for (unsigned i = 0; i < FL_DNS_MAX_ADDRS; i++) {
        fl_addr a = { .family = 4, .b = { 198, 51, 100, (uint8_t)(i + 1) } };
        ck_assert(fl_addr_eq(&m.addrs[i], &a));
    }
    free(w);
}
END_TEST

/* The header alone is enough; less is not; and plausibility checks turn
 * away other protocols' bytes. */
START_TEST(test_header_and_plausibility)
{
    fl_dns_msg m;
    /* Response header with counts but nothing after it (cut by snaplen). */
    static const uint8_t cut[] = { 0xde, 0xad, 0x81, 0x82, 0, 1, 0, 3, 0, 0, 0, 1 };
    expect e = {
        .what = "header only", .id = 0xdead, .response = true, .rcode = 2, .qd = 1, .an = 3, .ar = 1
    };
    check_all_prefixes(&e, cut, sizeof cut);
    ck_assert_int_eq(parse_exact(cut, 11, &m), FL_DNS_BAD);
    ck_assert_int_eq(parse_exact(cut, 0, &m), FL_DNS_BAD);
    ck_assert_int_eq(fl_dns_parse(NULL, 0, &m), FL_DNS_BAD);

    /* Opcodes: 4 (NOTIFY) fine; 3 and 7..15 unassigned. */
    uint8_t h[12] = { 0, 1, 0x20, 0, 0, 1, 0, 0, 0, 0, 0, 0 }; /* opcode 4 */
    ck_assert_int_eq(parse_exact(h, 12, &m), FL_DNS_OK);
    ck_assert_uint_eq(m.opcode, 4);
    h[2] = 0x18; /* opcode 3 */
    ck_assert_int_eq(parse_exact(h, 12, &m), FL_DNS_BAD);
    h[2] = 0x78; /* opcode 15 */
    ck_assert_int_eq(parse_exact(h, 12, &m), FL_DNS_BAD);

    /* A query carrying an rcode. */
    static const uint8_t q_rcode[] = { 0, 1, 0x01, 0x02, 0, 1, 0, 0, 0, 0, 0, 0 };
    ck_assert_int_eq(parse_exact(q_rcode, 12, &m), FL_DNS_BAD);
    /* A standard query without a question. */
    static const uint8_t q_empty[] = { 0, 1, 0x01, 0x00, 0, 0, 0, 0, 0, 0, 0, 0 };
    ck_assert_int_eq(parse_exact(q_empty, 12, &m), FL_DNS_BAD);
    /* A response without a question is fine (e.g. a FORMERR). */
    static const uint8_t r_empty[] = { 0, 1, 0x81, 0x01, 0, 0, 0, 0, 0, 0, 0, 0 };
    ck_assert_int_eq(parse_exact(r_empty, 12, &m), FL_DNS_OK);
    ck_assert_uint_eq(m.rcode, 1);
    ck_assert(!m.has_question);
    ck_assert(m.answers_complete);
    /* Counts that no 65535-byte message could hold. */
    static const uint8_t huge[] = { 0, 1, 0x81, 0x80, 0, 1, 0x17, 0x70, 0, 0, 0, 0 };
    ck_assert_int_eq(parse_exact(huge, 12, &m), FL_DNS_BAD); /* 6000 answers */
    static const uint8_t big_ok[] = { 0, 1, 0x81, 0x80, 0, 1, 0x10, 0x00, 0, 0, 0, 0 };
    ck_assert_int_eq(parse_exact(big_ok, 12, &m), FL_DNS_OK); /* 4096 answers */

    /* Other protocols on port 53 / mis-classified flows. */
    static const char http[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
    ck_assert_int_eq(parse_exact((const uint8_t *)http, sizeof http - 1, &m), FL_DNS_BAD);
    static const uint8_t tls_ch[] = { 0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00,
                                      0x01, 0xfc, 0x03, 0x03, 0x5a, 0x5b };
    ck_assert_int_eq(parse_exact(tls_ch, sizeof tls_ch, &m), FL_DNS_BAD);
}
END_TEST

/* Several questions: only the first is kept; the answers after all of them
 * are still found. */
static const uint8_t m_two_questions[] = {
    0x00, 0x42, 0x81, 0x80, 0,    2,    0,    1, 0, 0,  0, 0,  1, 'a', 0, 0x00,
    0x01, 0x00, 0x01,                                          /* 12: a A IN, ends 19 */
    1,    'b',  0,    0x00, 0x1c, 0x00, 0x01,                  /* 19: b AAAA IN, ends 26 */
    0xc0, 0x13, 0x00, 0x1c, 0x00, 0x01, 0,    0, 0, 60, 0, 16, /* 26: b AAAA */
    0xfe, 0x80, 0,    0,    0,    0,    0,    0, 0, 0,  0, 0,  0, 0,   0, 0x99, /* ends 54 */
};

START_TEST(test_two_questions)
{
    expect e = { .what = "two questions",
                 .id = 0x42,
                 .response = true,
                 .qd = 2,
                 .an = 1,
                 .q_end = 19,
                 .qname = "a",
                 .qtype = 1,
                 .qclass = 1,
                 .an_end = 54,
                 .naddrs = 1,
                 .addrs = { "fe80::99" } };
    check_all_prefixes(&e, m_two_questions, sizeof m_two_questions);
}
END_TEST

/* ---- real messages from pcaps/real ------------------------------------ */

/* tshark -r pcaps/real/amp.dns.RRSIG.fragmented.pcap -Y 'frame.number==50' -T fields -e udp.payload
 * tshark -V: id 0x6fd9, flags 0x8182 "Server failure" (2), 1 question
 * "pizzaseo.com: type RRSIG, class IN" (ends 30), no other records. */
static const char real_servfail[] = "6fd9818200010000000000000870697a7a6173656f03636f6d00002e0001";

/* tshark -r pcaps/real/example.pcap -Y 'frame.number==7' -T fields -e udp.payload
 * tshark -V: id 0xef03, flags 0x8183 "No such name" (3), "wpad.HOME: type A,
 * class IN" (ends 27), authority: <Root> SOA. */
static const char real_nxdomain[] =
    "ef0381830001000000010000047770616404484f4d45000001000100000600010000123e0040"
    "01610c726f6f742d73657276657273036e657400056e73746c640c766572697369676e2d6772"
    "7303636f6d0077fcb559000007080000038400093a8000015180";

/* tshark -r pcaps/real/example.pcap -Y 'frame.number==5' -T fields -e udp.payload
 * tshark -V: id 0x2c30, 0x8180 No error, "www.ynet.co.il: type A" (ends 32);
 * answers: CNAME ynet.co.il.d4p.net (ends 64), CNAME a39.g.akamai.net (91),
 * A 212.199.202.9 (107), A 212.199.202.53 (123). */
static const char real_cname_chain[] =
    "2c30818000010004000000000377777704796e657402636f02696c0000010001c00c00050001"
    "00000082001404796e657402636f02696c03643470036e657400c02c0005000100003c17000f"
    "03613339016706616b616d6169c03bc04c00010001000000060004d4c7ca09c04c0001000100"
    "0000060004d4c7ca35";

/* tshark -r pcaps/real/example.pcap -Y 'frame.number==3368' -T fields -e udp.payload
 * tshark -V: id 0x084d, No error, "t.visualrevenue.com: type A" (ends 37);
 * CNAME pings-1634945082.us-east-1.elb.amazonaws.com (ends 92), then 8 A
 * (ends 108, 124, ..., 220): exactly FL_DNS_MAX_ADDRS. */
static const char real_elb[] =
    "084d8180000100090000000001740d76697375616c726576656e756503636f6d0000010001c0"
    "0c000500010000040a002b1070696e67732d313633343934353038320975732d656173742d31"
    "03656c6209616d617a6f6e617773c01cc03100010001000000250004171591aec03100010001"
    "00000025000436f3fef2c0310001000100000025000436f3506fc03100010001000000250004"
    "36eb5278c03100010001000000250004ccece6afc031000100010000002500046b14e8cdc031"
    "00010001000000250004171764fcc031000100010000002500043210bd91";

/* tshark -r pcaps/real/capture2.pcap -Y 'frame.number==26' -T fields -e udp.payload
 * tshark -V: id 0x8db3, No error, "www.google.com: type AAAA" (ends 32);
 * the only answer: CNAME www.l.google.com (ends 52). NODATA for AAAA. */
static const char real_nodata_cname[] =
    "8db3818000010001000000000377777706676f6f676c6503636f6d00001c0001c00c00050001"
    "00000279000803777777016cc010";

/* tshark -r pcaps/real/amp.dns.RRSIG.fragmented.pcap -Y 'frame.number==2991' -T fields -e udp.payload
 * tshark -V: id 0xff7c, No error, "discord.com: type AAAA" (ends 29), no
 * answers, authority: discord.com SOA gabe.ns.cloudflare.com. NODATA. */
static const char real_nodata_soa[] =
    "ff7c8180000100000001000007646973636f726403636f6d00001c0001c00c00060001000003"
    "aa002f0467616265026e730a636c6f7564666c617265c01403646e73c031797e291300002710"
    "0000096000093a8000000e10";

/* tshark -r pcaps/real/teams.pcap -Y 'frame.number==720' -T fields -e udp.payload
 * tshark -V: id 0xf401, No error, "trouter2-asse-a.trouter.teams.microsoft.com:
 * type AAAA" (ends 61); CNAME trouter2-asse-a.cloudapp.net (ends 103), AAAA
 * 2a01:111:f100:7000::6fdd:54a1 (ends 131). */
static const char real_cname_aaaa[] =
    "f401818000010002000000000f74726f75746572322d617373652d610774726f757465720574"
    "65616d73096d6963726f736f667403636f6d00001c0001c00c0005000100000d8b001e0f7472"
    "6f75746572322d617373652d6108636c6f7564617070036e657400c049001c00010000000500"
    "102a010111f1007000000000006fdd54a1";

/* tshark -r pcaps/real/knot-live.raw.pcap -Y 'frame.number==50' -T fields -e udp.payload
 * tshark -V: id 0x689e, flags 0x8403 (AA) "No such name", question
 * "54.175.19.7, 10.1.26.20: type AAAA" (ends 41): the fourth label is
 * "7, 10" with a space, which we write as \032. Authority 4, additional 1. */
static const char real_nxdomain_space[] =
    "689e840300010000000400010235340331373502313905372c20313001310232360232300000"
    "1c0001000006000100015180004001610c726f6f742d73657276657273036e657400056e7374"
    "6c640c766572697369676e2d67727303636f6d00782b40f8000007080000038400093a800001"
    "518000002f000100015180000e036161610000072200000000038000002e0001000151800113"
    "00060800000151805806fdd057f5cc40997b001bfb2f8ef55b4ce2e9b68b50e74b0ece35f5c5"
    "5be16875bb007215736e33995c9e947e52b4adbee01c7894ad8b8ce18543db864da254b32575"
    "6f4f71ad58ae9ad5515f457ccb98e353a92733b343a0069d2180b4c9428f63a3f264f78f767f"
    "6ef4fa08c0f6d53e91f11646ee06420730015fda890c92e1bf7a39b879560ad19fdb9b904903"
    "2293a773920a420d9c6d234a6d6967037753f50905a8b0f90e6315ba87440e966ba3df9a1192"
    "ff96ec9cd69dca76a907a1cb897bfad88532d5c63b6fa6239ee1a85907c6982d6b5f707ff512"
    "6e38c460479b2e63f59afa624d7757d8cdce6f76e8ed15d9ecdfcdb1c1022b7c37cb1968697b"
    "ad5e97fa5e7a0c6ad900002e0001000151800113002f0800000151805806fdd057f5cc40997b"
    "003bdfd04e911ecce4a3078187d5409cc8de5934896286735b858716a8259308a2b87cdefb5e"
    "5f16341edffd73d6c1413ec5ac64993fbaa180bc6f8857daf5c46330b6781250b77e8709d7cf"
    "4ba6813d62b2299efe177a24cc74a118dd19f05e69cc8ce885c4d5002e34fb18e66f9ee9a458"
    "50e65b47142e4a8c11c416545a63e4f9471bf33bcd7f392133f27ec2fc27a411f0a5d5e0c011"
    "fadb3f8f92a486357cfc2decb94b1bf604f2212c0dcf3df0593aaa7723c3ba0db28d08f590b9"
    "e2a5fe9f8ae7f2441630537d1bc701210d7728dd2b331d45fd70aa12363b5a3c0fbcc6dc2ab1"
    "d466a413d1cf8652e5459e189e51a6f5bc568b879866f520bc718a2baa000029100000008000"
    "0000";

/* tshark -r pcaps/real/knot-live.raw.pcap -Y 'frame.number==2' -T fields -e udp.payload
 * tshark -V: id 0x3ae9, flags 0x8010, No error, "ctf.download.avg.com: type
 * AAAA" (ends 38), 0 answers, 13 NS in authority, 16 additional with glue A
 * and AAAA: a referral. Addresses are taken from the answer section only. */
static const char real_referral[] =
    "3ae9801000010000000d00100363746608646f776e6c6f61640361766703636f6d00001c0001"
    "c01d000200010002a300001401610c67746c642d73657276657273036e657400c02600020001"
    "0002a30000040162c034c026000200010002a30000040163c034c026000200010002a3000004"
    "0164c034c026000200010002a30000040165c034c026000200010002a30000040166c034c026"
    "000200010002a30000040167c034c026000200010002a30000040168c034c026000200010002"
    "a30000040169c034c026000200010002a3000004016ac034c026000200010002a3000004016b"
    "c034c026000200010002a3000004016cc034c026000200010002a3000004016dc034c0320001"
    "00010002a3000004c005061ec032001c00010002a300001020010503a83e0000000000000002"
    "0030c052000100010002a3000004c0210e1ec052001c00010002a300001020010503231d0000"
    "0000000000020030c062000100010002a3000004c01a5c1ec072000100010002a3000004c01f"
    "501ec082000100010002a3000004c00c5e1ec092000100010002a3000004c023331ec0a20001"
    "00010002a3000004c02a5d1ec0b2000100010002a3000004c036701ec0c2000100010002a300"
    "0004c02bac1ec0d2000100010002a3000004c0304f1ec0e2000100010002a3000004c034b21e"
    "c0f2000100010002a3000004c029a21ec102000100010002a3000004c037531e000029100000"
    "0000000000";

/* tshark -r pcaps/real/amp.dns.RRSIG.fragmented.pcap -o ip.defragment:FALSE -Y 'frame.number==1' -T fields -e udp.payload
 * The first IP fragment of a 3922-byte response: its first 1448 bytes.
 * tshark -V on the reassembled message (frame 3): id 0x3b76, flags 0x8380
 * (TC set) No error, "pizzaseo.com: type RRSIG" (ends 30), 7 RRSIG answers
 * ending at 586, 1142, 1698, ...: two complete in this fragment. */
static const char real_first_fragment[] =
    "3b76838000010007000000000870697a7a6173656f03636f6d00002e0001c00c002e00010000"
    "08d102200030070200000e1061876beb5fa62a5bc6fc0870697a7a6173656f03636f6d003363"
    "51d8db4b4f184b3d628ae4470f4698a7f64cba1828d64e59b0b31ed61b547a5d555a48e6d75a"
    "45144ccbe2e241485d1dd6ec0c2196952cc9b1b191e44d4ff716fc24dc3c6637820a8ea892ec"
    "ba1ad145195a9d249bef34b4277a2a0d7d20ae98ef0630f7ab66bb53b48011598afc78440b11"
    "eb97ed25878eb1f992baaa27105b4a02220d197b5638cd1081f1a2d9671c6836ca38620b1156"
    "60c5660ab1f43f2c2fe117dfbf07b5b2610e4214925f7c5551cf4e00322687845e8fe124bdd9"
    "628e112528267c6185d3c56e8c5462d27515af031a89fd04aa6ca5e91b3b4b3fe9932485e2b7"
    "1adc8c5a579a8f76bbdd6ae92f2b574d6fa9f406191ba381652d5fc041bd5271e2747f565797"
    "dae18e47b9531bc896cf0bf59d07d4c03f9a3b941b487673bd34785b35439a468ec686e2c4cd"
    "bb07ffb668c39d36896c093f4478dce8582039f1d2ecfa397c96b5542afb58253d5eb69db155"
    "c0da6549be7b68f584b16561a9667479884516e37e55bac76babd8fc628c74f9fc65a3d87d14"
    "748acfcdfd18a3c70ace886d98f1ad74667a6bbd30416bbef1cdc539cba20bc4a4984ac0f104"
    "0fcb64908326dd8b173271cc383b5cb28bead0d60faab7a727cf49a64b54b135195027e85b46"
    "6d1a91e155de5bc78f8cf7ed8d359648e231cc0072da8df6bb246f916b79adb1ec28059bacd6"
    "6a78a9ba1fd13b06327b913ac1c5f38dc00c002e0001000008d102200030070200000e106187"
    "6beb5fa62a5bde470870697a7a6173656f03636f6d00380e2edda6d243e2fbbbf8604f23e52a"
    "62868686dc255455771d78cd8a5de6ff58d86cc8da7ddfbf71e07b3bd831915cad7c761a4517"
    "2a16047e0b2ffa97a121e07ec05d78c25844bd400e773ab8afc962e70476c6a8a0ef0ac09670"
    "ac0d3aa9459c5ba733c8ab63ad63d63c30844204d03fc8c2d75549fa0a22ae5dc7dd42782b38"
    "422943ca0ad2484a711b0dd26e6ec9a16880b47da8e567957d663c3adf91d4c88193d2dd091f"
    "acdf3b65190d6adf45c7149ac5fb6190289ec96a17b3c2f4a97fcf2281e9a510a4c0515daf93"
    "e5a8b2cefa00325542e03d5f1447465ec77aa38683a30ad4f09cf8319a0101cc06b4ea76544a"
    "5825bf2dbeb0a4e0aeca5caf825113892625fb25049c3dbc272136cb6f640abcfef1b769dfe4"
    "0b400b3c7353dc78893f867fcc69ba85f202ab7e25ad45d7c1e5f470ef1e8436b404de2a1c93"
    "b873449e40821c0dddffd721d92e64f21224765dd2dddd5b06add2ccc0fce652a379e5d153aa"
    "968752a8825668a7a8adabf7c84262f3f6c555d372d4a53621d64d39b4d971073350e88964ee"
    "b473944b51f69854069b67cad5bf167b43e5d1ec4a7c55f6fd2e3213b142c792310e7623e7b6"
    "25d568100978200fc14e4012f4cc4338e9d2cf661a1dc72d34cae568f99c1fa3b162c95afd66"
    "10c7a199eb6d6f844316b0c8ca0f4a52b9cde4e49be689b7d04678fc3b19fbad0e934cf02032"
    "697cc00c002e0001000008d102200030070200000e1061876beb5fa62a5beb520870697a7a61"
    "73656f03636f6d00149dde42c859765a16fbcaa13deb893178028b9132ea7840bba2c2f5f677"
    "b03da33ebd572eeabe9e2ca54b7d5a23f84adb6e7c3c84d4c9814b3a46ddcf232e120f4b8943"
    "32247b7687b139e7c29ed530dc923480bf4727321d6eaa890ca16ba54a5261255760634dfe06"
    "fc2920c47630f7d09773df55b41ed687b45c1e9833a5811694e4e321c7084dc6dd0d681faad0"
    "db64a2f976005de3c5e63cff48d4b67ec71b6f3287e0c3ba6bb1d3f4e41d39a13cee2138bdb7"
    "3207e73d695f5a5b3030e3ef5c2e608463ce33965d62a541219d4b9a1c92f2bcd681e399f9c2"
    "8121d8c2cf40b73fb0158f1e5722cd69cf7601e91d473e9714097a44d50af5f248607f8517ed"
    "06039b8a";

/* One TCP segment: the 2-byte length (0x06c2 = 1730) and the message.
 * tshark -r pcaps/real/dns_fragmented.pcap -Y 'frame.number==50' -T fields -e tcp.payload
 * tshark -V: Length 1730, id 0x80e4, flags 0x8500 (AA) No error, "weberlab.de:
 * type DNSKEY" (ends 29 in the message), answers DNSKEY (ends 305), DNSKEY
 * (837), RRSIG (1392), RRSIG (1691), additional OPT (1730). */
static const char real_tcp_dnskey[] =
    "06c280e4850000010004000000010877656265726c61620264650000300001c00c0030000100"
    "00003c01080100030a03010001d054dc28f150ac3b49e6336bb731caafd7837ce7550b0ccee1"
    "7f51e2da8a03ae6ed24787184bfa6d76f48c509132a8f094485dc2970fe6958b3b629a5f3ef0"
    "13c25c534f7ed1697450b30513461e3fdc6b583f165724eafe5abda7c1fe11aa6d6298d8b106"
    "29be64b585868fc241d26aca1aa0d954fca2782d1d615bf4da239a3af521765ed0b605726d1d"
    "d5ea01e58681b40711be19b8d4a7e3723c295bb8c388c1f95b546079f78e8fc9019082718d5f"
    "62f5307ba639a602fc3dd49f2cd064d326aa3f391b00cd3f011e0df2eaeb09b50547f1eccc30"
    "70456e3b607462653288f8927d4a064f09b63f59c634c8656228f76d8f55bf2c42a8f4272b4b"
    "394ebdc00c003000010000003c02080101030a03010001ddeffded22ad760a3b0b58101dd53d"
    "eef3f7daaf8b995ef7fcb55d7ca9969e72ff9c5aaab9bfade946f29831f06b0d5b6220be224a"
    "009e94894e391112a81fe7f3daa7f6494147156c24c1e896c8b6781191e1a30be2084c7de0fe"
    "0eb3034a5e67581dedfcae51cf6bedceca95bd8187d1f6584228ade77823eaf3f68516c4d323"
    "b750f90da41115a208c0b26e5e163b0b01a3f4659cf338cae7cc28894006233935640f36623a"
    "8d8cc0629628c9485df479e72080e5350f3d1e95d07459b2b0cada5d86fba833a838488ea1db"
    "6d287d32fefb49d92454d39445e0012e99a708533022e4b2f670c4310bbb7bae50c8e17e3635"
    "17ce2c0a86b8e79c9458f3ab3dce7402567a0fc002749b6f4d80182910dfbd135f5856bde017"
    "b7ac693d638b8075d22c817f973fb097e0e6f193560e79f9cc426e123df1a2f6b583cce64572"
    "4e9aa03a5611aa7b0c45f1cfb229e344387cf85f8fd12e658722e11bbdba0fd340e4e40f5b87"
    "264656ccad38983e37084542dbc158b983f36145b5f4addaf99b1453700193a7459589386f4b"
    "ed315c1889b538450b9a8854c852ec0463170c53aed64d28ea9aa6e3de6db01b8cc893697dd4"
    "283f03a4529b0a8ba8e636aeaf463bef36225b705ca54d0aea1c64c6b8ea29b94b016d45e3fe"
    "73abe08ea3e3693a18322e4f22c391a56b76bc579869df3674ad76a5a6bc75e8fd8170765b3d"
    "6dc4fbc00c002e00010000003c021f00300a020000003c5d27b1b05d0023c1337b0877656265"
    "726c616202646500c364ca216ac342cdd672faa5d3fa2f44b97fe29e56a81dc9283d0ea96543"
    "39e4738a8975b06c21766e0476bd36ad96d7e0750318b231cb6fdcbcffc2b5eb1d5b20da3b8c"
    "784f8624379993e78510db0bcd7dfe683f0c026511fa38fcf207ae868e5c7904b3172503749f"
    "9795f3a8c63c74822308c488468866a73dda8ddd60f10e673e1bebba24e2deb6e491a16ebc0b"
    "ba2416b34b1be99414c646c2e2c03fe4793d47d1c87b055735a19eb19a4ab2ebcbc8b03eb716"
    "3d6bd4faedee99ab0874c2b8482c3bbf03f5d090b9608b909431194557263e422371efef1145"
    "829bb659d2bb1221011f9ac7a618dbf2124f15ea7572083381d48eee0af83cbd7a510278a5a1"
    "56128be549248a37a0aa5742a5cd8e542a9a02e1b39c44c8a2ba391c80b45c2730cd8d370fe7"
    "debdf5e89105872749436eecd47f0103ac2ded6070604c615236f2e5c00628c52493d4610145"
    "44a290618cbb53c6ae81fa1d24294d33ee4f8c3acded551aa325bf0ad6c58a02d96a37bf49b2"
    "c592877da1392e8677ad2fb7f21279467f12a6119db5f2a3dcb0a0c946b472ca673e59d67eb4"
    "f719bd05ebe80552ed1652a144d5ffee5d55dda45aeb85db0e6bb27008394df0c0810f86c4f0"
    "abd9e385bf41a7d8ce307dc515ba38b2b36f638a6870eb3d2e27353acf35ddbbbb572433dcda"
    "efff17cf38fbef1bffee7dc3c43b5dc59c1eddc20ff299379ebbc363002e00010000003c011f"
    "00300a020000003c5d27b1b05d0023c190470877656265726c616202646500a53c4c9c4569c6"
    "2b9f38f3ae26c9ca1cc8fcf65333cd68eccd0de776d58468a3fbdce125135ea141b665b84901"
    "4304040bbb81e6a9c49ed4d73f94aa19054a2f10bba8d13a7322879c739a2c573a33b64621d3"
    "f1e33340c1ea8a5ade7b199dcfeeeb1f88c2820a4083661e9d1333a6f86b7f4f8e11650d870a"
    "ba74d61594d5a0d587f5a31091b19e978aada97a695ee0a3a48286d610281d10b68c9c864a50"
    "9d16b6901926e09b0083ef6a4dd880770d3d1e126f1d652914cf5ba4318c5b072795ff07a98d"
    "315b6a1bdef0cda3bfba05701fcd50b762e5a63e566fcef702d31b77b39060bc2127b7e1c49f"
    "713499fa4a5551a7a0bed4fd96caeffb5349a03feb000029100000008000001c000a00181b9a"
    "f622ab2c9740e40584c05d08fc19f07835a115ea8294";

START_TEST(test_real_servfail)
{
    expect e = { .what = "real servfail",
                 .id = 0x6fd9,
                 .response = true,
                 .rcode = 2,
                 .qd = 1,
                 .q_end = 30,
                 .qname = "pizzaseo.com",
                 .qtype = 46,
                 .qclass = 1,
                 .an_end = 30 };
    check_hex(&e, real_servfail);
}
END_TEST

START_TEST(test_real_nxdomain)
{
    expect e = { .what = "real nxdomain",
                 .id = 0xef03,
                 .response = true,
                 .rcode = 3,
                 .qd = 1,
                 .ns = 1,
                 .q_end = 27,
                 .qname = "wpad.home",
                 .qtype = 1,
                 .qclass = 1,
                 .an_end = 27 };
    check_hex(&e, real_nxdomain);
}
END_TEST

START_TEST(test_real_cname_chain)
{
    expect e = { .what = "real chain",
                 .id = 0x2c30,
                 .response = true,
                 .qd = 1,
                 .an = 4,
                 .q_end = 32,
                 .qname = "www.ynet.co.il",
                 .qtype = 1,
                 .qclass = 1,
                 .an_end = 123,
                 .ans_at = 107,
                 .ncnames = 2,
                 .cnames = { "ynet.co.il.d4p.net", "a39.g.akamai.net" },
                 .naddrs = 2,
                 .addrs = { "212.199.202.9", "212.199.202.53" } };
    check_hex(&e, real_cname_chain);
}
END_TEST

START_TEST(test_real_elb)
{
    expect e = { .what = "real elb",
                 .id = 0x084d,
                 .response = true,
                 .qd = 1,
                 .an = 9,
                 .q_end = 37,
                 .qname = "t.visualrevenue.com",
                 .qtype = 1,
                 .qclass = 1,
                 .an_end = 220,
                 .ans_at = 108,
                 .ncnames = 1,
                 .cnames = { "pings-1634945082.us-east-1.elb.amazonaws.com" },
                 .naddrs = 8,
                 .addrs = { "23.21.145.174", "54.243.254.242", "54.243.80.111", "54.235.82.120",
                            "204.236.230.175", "107.20.232.205", "23.23.100.252",
                            "50.16.189.145" } };
    check_hex(&e, real_elb);
}
END_TEST

START_TEST(test_real_nodata)
{
    expect c = { .what = "real nodata cname",
                 .id = 0x8db3,
                 .response = true,
                 .qd = 1,
                 .an = 1,
                 .q_end = 32,
                 .qname = "www.google.com",
                 .qtype = 28,
                 .qclass = 1,
                 .an_end = 52,
                 .ncnames = 1,
                 .cnames = { "www.l.google.com" } };
    check_hex(&c, real_nodata_cname);
    expect s = { .what = "real nodata soa",
                 .id = 0xff7c,
                 .response = true,
                 .qd = 1,
                 .ns = 1,
                 .q_end = 29,
                 .qname = "discord.com",
                 .qtype = 28,
                 .qclass = 1,
                 .an_end = 29 };
    check_hex(&s, real_nodata_soa);
}
END_TEST

START_TEST(test_real_cname_aaaa)
{
    expect e = { .what = "real cname aaaa",
                 .id = 0xf401,
                 .response = true,
                 .qd = 1,
                 .an = 2,
                 .q_end = 61,
                 .qname = "trouter2-asse-a.trouter.teams.microsoft.com",
                 .qtype = 28,
                 .qclass = 1,
                 .an_end = 131,
                 .ans_at = 131,
                 .ncnames = 1,
                 .cnames = { "trouter2-asse-a.cloudapp.net" },
                 .naddrs = 1,
                 .addrs = { "2a01:111:f100:7000::6fdd:54a1" } };
    check_hex(&e, real_cname_aaaa);
}
END_TEST

START_TEST(test_real_odd_name_and_referral)
{
    expect n = { .what = "real nxdomain space",
                 .id = 0x689e,
                 .response = true,
                 .opcode = 0,
                 .rcode = 3,
                 .qd = 1,
                 .ns = 4,
                 .ar = 1,
                 .q_end = 41,
                 .qname = "54.175.19.7,\\03210.1.26.20",
                 .qtype = 28,
                 .qclass = 1,
                 .an_end = 41 };
    check_hex(&n, real_nxdomain_space);
    expect r = { .what = "real referral",
                 .id = 0x3ae9,
                 .response = true,
                 .qd = 1,
                 .ns = 13,
                 .ar = 16,
                 .q_end = 38,
                 .qname = "ctf.download.avg.com",
                 .qtype = 28,
                 .qclass = 1,
                 .an_end = 38 };
    check_hex(&r, real_referral);
}
END_TEST

START_TEST(test_real_first_fragment)
{
    expect e = { .what = "real first fragment",
                 .id = 0x3b76,
                 .response = true,
                 .qd = 1,
                 .an = 7,
                 .q_end = 30,
                 .qname = "pizzaseo.com",
                 .qtype = 46,
                 .qclass = 1,
                 .an_end = 0,
                 .ans_at = 586 };
    check_hex(&e, real_first_fragment);
}
END_TEST

/* ---- DNS over TCP ----------------------------------------------------- */

typedef struct got_msg {
    const uint8_t *ptr; /* where it was handed over */
    uint8_t bytes[FL_DNS_TCP_KEEP];
    uint32_t len;
    bool cut;
} got_msg;

typedef struct sink {
    got_msg msgs[8];
    unsigned n;
} sink;

static void on_msg(void *ctx, const uint8_t *msg, uint32_t len, bool cut)
{
    sink *s = ctx;
    ck_assert_uint_lt(s->n, 8);
    got_msg *g = &s->msgs[s->n++];
    g->ptr = msg;
    g->len = len;
    g->cut = cut;
    memcpy(g->bytes, msg, len < sizeof g->bytes ? len : sizeof g->bytes);
}

/* Feed buf[from..to) from an exact copy (so over-reads are caught). */
static void feed_part(fl_dns_tcp *st, const uint8_t *buf, uint32_t from, uint32_t to, sink *s,
                      const uint8_t **copy_out)
{
    uint8_t *copy = fl_test_exact_copy(buf + from, to - from);
    if (copy_out)
        *copy_out = copy;
    fl_dns_tcp_feed(st, copy, to - from, on_msg, s);
    if (!copy_out)
        free(copy);
}

/* Two framed messages (m_query, m_nxdomain) in one segment: both handed over
 * in place, at their offsets in the segment, in order. */
START_TEST(test_tcp_two_in_one)
{
    uint8_t seg[2 + sizeof m_query + 2 + sizeof m_nxdomain];
    uint32_t n = 0;
    seg[n++] = 0;
    seg[n++] = sizeof m_query;
    memcpy(seg + n, m_query, sizeof m_query);
    n += sizeof m_query;
    seg[n++] = 0;
    seg[n++] = sizeof m_nxdomain;
    memcpy(seg + n, m_nxdomain, sizeof m_nxdomain);
    n += sizeof m_nxdomain;

    fl_dns_tcp st = { 0 };
    sink s = { .n = 0 };
    const uint8_t *copy;
    feed_part(&st, seg, 0, n, &s, &copy);
    ck_assert_uint_eq(s.n, 2);
    ck_assert_ptr_eq(s.msgs[0].ptr, copy + 2);
    ck_assert_uint_eq(s.msgs[0].len, sizeof m_query);
    ck_assert(!s.msgs[0].cut);
    ck_assert_mem_eq(s.msgs[0].bytes, m_query, sizeof m_query);
    ck_assert_ptr_eq(s.msgs[1].ptr, copy + 4 + sizeof m_query);
    ck_assert_uint_eq(s.msgs[1].len, sizeof m_nxdomain);
    ck_assert(!s.msgs[1].cut);
    ck_assert_mem_eq(s.msgs[1].bytes, m_nxdomain, sizeof m_nxdomain);
    ck_assert_ptr_null(st.buf); /* nothing was split: nothing allocated */
    free((void *)copy);

    fl_dns_msg m;
    ck_assert_int_eq(fl_dns_parse(s.msgs[1].bytes, s.msgs[1].len, &m), FL_DNS_OK);
    ck_assert_uint_eq(m.rcode, 3);
    ck_assert_str_eq(m.qname, "nope.example");
    fl_dns_tcp_free(&st);
}
END_TEST

/* A zero-length message, then m_chain framed, split at every pair of
 * positions (three segments, empty ones included): always exactly one
 * message, intact; in place exactly when its body arrived in one call. */
START_TEST(test_tcp_split_everywhere)
{
    uint8_t seg[4 + sizeof m_chain];
    const uint32_t n = sizeof seg;
    seg[0] = 0;
    seg[1] = 0; /* zero-length message: skipped */
    seg[2] = 0;
    seg[3] = sizeof m_chain;
    memcpy(seg + 4, m_chain, sizeof m_chain);

    fl_dns_tcp st = { 0 };
    for (uint32_t i = 0; i <= n; i++) {
        for (uint32_t j = i; j <= n; j++) {
            sink s = { .n = 0 };
            feed_part(&st, seg, 0, i, &s, NULL);
            feed_part(&st, seg, i, j, &s, NULL);
            ck_assert_uint_eq(s.n, j == n ? 1u : 0u);
            const uint8_t *last;
            feed_part(&st, seg, j, n, &s, &last);
            ck_assert_msg(s.n == 1, "split %u/%u: %u messages", i, j, s.n);
            ck_assert_uint_eq(s.msgs[0].len, sizeof m_chain);
            ck_assert(!s.msgs[0].cut);
            ck_assert_mem_eq(s.msgs[0].bytes, m_chain, sizeof m_chain);
            /* The body is seg[4..n): in place unless a cut falls inside it. */
            bool body_split = (i > 4 && i < n) || (j > 4 && j < n);
            if (body_split)
                ck_assert_ptr_eq(s.msgs[0].ptr, st.buf);
            else
                ck_assert_msg(s.msgs[0].ptr != st.buf, "split %u/%u: not in place", i, j);
            free((void *)last);
            ck_assert_uint_eq(st.len_have, 0); /* between messages again */
        }
    }
    fl_dns_tcp_free(&st);
    ck_assert_ptr_null(st.buf);
}
END_TEST

/* The real 1730-byte DNSKEY response over TCP. In one segment it is handed
 * over whole, in place; split anywhere, its first FL_DNS_TCP_KEEP bytes come
 * with cut = true, and they still parse: header, question, two answers. */
START_TEST(test_tcp_real_long)
{
    static uint8_t seg[2048];
    const uint32_t n = hex_decode(real_tcp_dnskey, seg, sizeof seg);
    ck_assert_uint_eq(n, 1732);
    ck_assert_uint_eq((seg[0] << 8) | seg[1], 1730);

    fl_dns_tcp st = { 0 };
    sink *s = calloc(1, sizeof *s);
    fl_dns_msg m;
    const uint8_t *copy;

    feed_part(&st, seg, 0, n, s, &copy);
    ck_assert_uint_eq(s->n, 1);
    ck_assert_ptr_eq(s->msgs[0].ptr, copy + 2);
    ck_assert_uint_eq(s->msgs[0].len, 1730);
    ck_assert(!s->msgs[0].cut);
    ck_assert_int_eq(fl_dns_parse(copy + 2, 1730, &m), FL_DNS_OK);
    free((void *)copy);
    ck_assert_uint_eq(m.id, 0x80e4);
    ck_assert_str_eq(m.qname, "weberlab.de");
    ck_assert_uint_eq(m.qtype, 48);
    ck_assert_uint_eq(m.ancount, 4);
    ck_assert_uint_eq(m.arcount, 1);
    ck_assert(m.answered_qtype);
    ck_assert(m.answers_complete);
    ck_assert_uint_eq(m.naddrs, 0);
    ck_assert_uint_eq(m.ncnames, 0);

    static const uint32_t cuts[] = { 1, 2, 3, 100, 1025, 1026, 1027, 1028, 1731 };
    for (unsigned k = 0; k < sizeof cuts / sizeof cuts[0]; k++) {
        for (uint32_t j = cuts[k]; j <= n; j += 97) {
            memset(s, 0, sizeof *s);
            feed_part(&st, seg, 0, cuts[k], s, NULL);
            feed_part(&st, seg, cuts[k], j, s, NULL);
            feed_part(&st, seg, j, n, s, NULL);
            ck_assert_uint_eq(s->n, 1);
            bool split = cuts[k] > 2 || (j > 2 && j < n);
            if (!split)
                continue; /* whole body in one call: checked above */
            ck_assert_ptr_eq(s->msgs[0].ptr, st.buf);
            ck_assert_uint_eq(s->msgs[0].len, FL_DNS_TCP_KEEP);
            ck_assert(s->msgs[0].cut);
            ck_assert_mem_eq(s->msgs[0].bytes, seg + 2, FL_DNS_TCP_KEEP);
            ck_assert_int_eq(fl_dns_parse(s->msgs[0].bytes, s->msgs[0].len, &m), FL_DNS_OK);
            ck_assert_uint_eq(m.id, 0x80e4);
            ck_assert_uint_eq(m.rcode, 0);
            ck_assert_str_eq(m.qname, "weberlab.de");
            ck_assert(m.answered_qtype);    /* first DNSKEY ends at 305 */
            ck_assert(!m.answers_complete); /* the third answer ends at 1392 */
        }
    }
    free(s);
    fl_dns_tcp_free(&st);
}
END_TEST

/* Split messages of exactly FL_DNS_TCP_KEEP bytes and one byte more. */
START_TEST(test_tcp_keep_boundary)
{
    static uint8_t seg[2 + FL_DNS_TCP_KEEP + 1];
    fl_dns_tcp st = { 0 };
    sink *s = calloc(1, sizeof *s);

    for (size_t i = 2; i < sizeof seg; i++)
        seg[i] = (uint8_t)(i * 7);
    for (uint32_t extra = 0; extra <= 1; extra++) {
        uint32_t mlen = FL_DNS_TCP_KEEP + extra;
        seg[0] = (uint8_t)(mlen >> 8);
        seg[1] = (uint8_t)mlen;
        memset(s, 0, sizeof *s);
        feed_part(&st, seg, 0, 500, s, NULL);
        ck_assert_uint_eq(s->n, 0);
        feed_part(&st, seg, 500, 2 + mlen, s, NULL);
        ck_assert_uint_eq(s->n, 1);
        ck_assert_uint_eq(s->msgs[0].len, FL_DNS_TCP_KEEP);
        ck_assert(s->msgs[0].cut == (extra == 1));
        ck_assert_mem_eq(s->msgs[0].bytes, seg + 2, FL_DNS_TCP_KEEP);
    }
    free(s);
    fl_dns_tcp_free(&st);
}
END_TEST

/* After lost bytes, reset drops the half-read message (and a half-read
 * length prefix); the next message is framed afresh. The buffer stays. */
START_TEST(test_tcp_reset)
{
    uint8_t a[2 + sizeof m_chain], b[2 + sizeof m_nxdomain];
    a[0] = 0;
    a[1] = sizeof m_chain;
    memcpy(a + 2, m_chain, sizeof m_chain);
    b[0] = 0;
    b[1] = sizeof m_nxdomain;
    memcpy(b + 2, m_nxdomain, sizeof m_nxdomain);

    fl_dns_tcp st = { 0 };
    sink s = { .n = 0 };
    const uint8_t *copy;

    feed_part(&st, a, 0, 50, &s, NULL); /* half of m_chain */
    ck_assert_ptr_nonnull(st.buf);
    fl_dns_tcp_reset(&st);
    ck_assert_ptr_nonnull(st.buf);
    feed_part(&st, b, 0, sizeof b, &s, &copy);
    ck_assert_uint_eq(s.n, 1);
    ck_assert_ptr_eq(s.msgs[0].ptr, copy + 2);
    ck_assert_uint_eq(s.msgs[0].len, sizeof m_nxdomain);
    ck_assert_mem_eq(s.msgs[0].bytes, m_nxdomain, sizeof m_nxdomain);
    free((void *)copy);

    feed_part(&st, a, 0, 1, &s, NULL); /* half a length prefix */
    fl_dns_tcp_reset(&st);
    feed_part(&st, b, 0, sizeof b, &s, NULL);
    ck_assert_uint_eq(s.n, 2);
    ck_assert_uint_eq(s.msgs[1].len, sizeof m_nxdomain);
    ck_assert_mem_eq(s.msgs[1].bytes, m_nxdomain, sizeof m_nxdomain);

    /* Without the reset the stale prefix byte frames b wrongly: 0x00 and
     * b's 0x00 make a zero-length message, then b's length byte and first
     * body byte (0x47be) a length that swallows the rest: nothing comes out. */
    feed_part(&st, a, 0, 1, &s, NULL);
    feed_part(&st, b, 0, sizeof b, &s, NULL);
    ck_assert_uint_eq(s.n, 2);
    ck_assert_uint_eq(st.msg_len, 0x47be);
    fl_dns_tcp_free(&st);
    ck_assert_ptr_null(st.buf);
    fl_dns_tcp_free(&st); /* twice is harmless */
}
END_TEST

static Suite *dns_suite(void)
{
    Suite *s = suite_create("dns");
    TCase *p = tcase_create("parse");
    tcase_add_test(p, test_query);
    tcase_add_test(p, test_cname_chain);
    tcase_add_test(p, test_nxdomain);
    tcase_add_test(p, test_servfail);
    tcase_add_test(p, test_nodata_cname);
    tcase_add_test(p, test_nodata_soa);
    tcase_add_test(p, test_bad_pointers_in_question);
    tcase_add_test(p, test_pointer_loop_answer);
    tcase_add_test(p, test_jump_limit);
    tcase_add_test(p, test_name_limits);
    tcase_add_test(p, test_escapes);
    tcase_add_test(p, test_caps_and_skips);
    tcase_add_test(p, test_header_and_plausibility);
    tcase_add_test(p, test_two_questions);
    suite_add_tcase(s, p);

    TCase *r = tcase_create("real");
    tcase_add_test(r, test_real_servfail);
    tcase_add_test(r, test_real_nxdomain);
    tcase_add_test(r, test_real_cname_chain);
    tcase_add_test(r, test_real_elb);
    tcase_add_test(r, test_real_nodata);
    tcase_add_test(r, test_real_cname_aaaa);
    tcase_add_test(r, test_real_odd_name_and_referral);
    tcase_add_test(r, test_real_first_fragment);
    suite_add_tcase(s, r);

    TCase *t = tcase_create("tcp");
    tcase_add_test(t, test_tcp_two_in_one);
    tcase_add_test(t, test_tcp_split_everywhere);
    tcase_add_test(t, test_tcp_real_long);
    tcase_add_test(t, test_tcp_keep_boundary);
    tcase_add_test(t, test_tcp_reset);
    suite_add_tcase(s, t);
    return s;
}

int main(void)
{
    return fl_test_run(dns_suite());
}
