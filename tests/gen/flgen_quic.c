/* flgen_quic - deterministic QUIC capture generator with exact truth.
 *
 *   flgen_quic --seed N --scenario NAME --out FILE.pcap --truth FILE.tsv
 *              [--duration S] [--onset S] [--end S] [--clients N]
 *
 * Browsers of --clients hosts open QUIC connections (RFC 9000, v1) to
 * Cloudflare and Google with real Initial protection (RFC 9001, through
 * faultline's own fl_quic_seal_initial), and fall back to TCP+TLS (a
 * ClientHello with the same SNI, racing the pending QUIC attempt) when QUIC
 * fails. Scenarios:
 *
 *   quic-ok         handshakes answered (ServerHello, Handshake, 1-RTT); 1 in
 *                   50 refused by the server with CONNECTION_CLOSE 0x1c
 *                   (CONNECTION_REFUSED) in its Initial, then a fallback
 *   quic-blackhole  as quic-ok, and from --onset to --end UDP/443 to
 *                   Cloudflare is dropped: Initials retransmitted unanswered,
 *                   then the TCP fallback (one alert expected: Cloudflare quic)
 *   quic-office     UDP/443 blocked by the site all along: every QUIC attempt
 *                   unanswered and fallen back (a steady state: no alert)
 *   quic-oneway     healthy connections captured on the client's direction
 *                   only (an asymmetric span port): the clients go on with
 *                   Handshake and 1-RTT packets, so nothing is unanswered
 *   quic-h3         as quic-ok, but each connection goes to one of six sites
 *                   of its provider and carries 1-3 HTTP/3 requests, one at
 *                   a time, answered in datagrams of 1200 bytes filled but
 *                   the last: each site's sizes lognormal around its own
 *                   median (no size mode across sites); no alert expected
 *   quic-5xx        as quic-h3, and from --onset to --end --share (0.6) of
 *                   Cloudflare's responses are its 5xx page, about 6.4 kB
 *                   for every site (the hostname and a ray ID vary it by a
 *                   few bytes), answered at once; half of the clients who
 *                   get one reload on a new connection 1-3 s later. Nothing
 *                   fails in handshakes: the outage is inside QUIC, as on
 *                   2025-11-18 (one alert expected: Cloudflare https)
 *
 * Truth (TSV): "count PROVIDER COUNTER VALUE" rows for quic_handshakes,
 * quic_closes, quic_unanswered, quic_failures, quic_fallbacks and
 * tls_handshakes (and https_responses for quic-h3 and quic-5xx), and
 * "incident PROVIDER FAMILY ONSET_S" when an alert is expected. Same seed, same bytes: time is the seed's, not the clock's.
 */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fl_quic.h"

#define START_S 1700000000ULL
#define US 1000000ULL

static uint64_t rng;
static uint64_t rnd64(void)
{
    uint64_t z = (rng += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}
static uint32_t below(uint32_t n)
{
    return (uint32_t)(rnd64() % n);
}
static void rfill(uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)rnd64();
}

static _Noreturn void die(const char *m)
{
    fprintf(stderr, "flgen_quic: %s\n", m);
    exit(2);
}

/* ---- packets out, in time order (a small sorted queue) ---- */

typedef struct pkt {
    uint64_t ts;
    uint32_t seq; /* tie-break: order of creation */
    uint16_t len;
    uint8_t *data;
} pkt;

static pkt *q;
static size_t nq, capq;
static bool one_way; /* quic-oneway: the servers' packets are not captured */
static uint32_t nseq;

static void put16(uint8_t *p, unsigned v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}
static void put32(uint8_t *p, uint32_t v)
{
    put16(p, v >> 16);
    put16(p + 2, v & 0xffff);
}

static uint16_t csum(const uint8_t *p, size_t n, uint32_t sum)
{
    for (size_t i = 0; i + 1 < n; i += 2)
        sum += (uint32_t)(p[i] << 8 | p[i + 1]);
    if (n & 1)
        sum += (uint32_t)p[n - 1] << 8;
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)~sum;
}

/* Ethernet + IPv4 + UDP (proto 17) or TCP (6) with checksums. */
static void emit(uint64_t ts, uint32_t src, uint32_t dst, uint8_t proto, uint16_t sp, uint16_t dp,
                 uint32_t seq, uint32_t ack, uint8_t flags, const uint8_t *pl, size_t n)
{
    if (one_way && src >> 24 != 10)
        return; /* clients are 10/8, servers are not */
    size_t l4 = proto == 17 ? 8 : 20, len = 14 + 20 + l4 + n;
    uint8_t *b = calloc(1, len);
    if (!b)
        die("out of memory");
    static const uint8_t mac[12] = { 2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2 };
    memcpy(b, mac, 12);
    put16(b + 12, 0x0800);
    uint8_t *ip = b + 14, *t = ip + 20;
    ip[0] = 0x45;
    put16(ip + 2, (unsigned)(20 + l4 + n));
    put16(ip + 4, (unsigned)(nseq & 0xffff));
    ip[6] = 0x40;
    ip[8] = 60;
    ip[9] = proto;
    put32(ip + 12, src);
    put32(ip + 16, dst);
    put16(ip + 10, csum(ip, 20, 0));
    put16(t, sp);
    put16(t + 2, dp);
    if (proto == 17) {
        put16(t + 4, (unsigned)(8 + n));
    } else {
        put32(t + 4, seq);
        put32(t + 8, ack);
        t[12] = 0x50;
        t[13] = flags;
        put16(t + 14, 64240);
    }
    if (n)
        memcpy(t + l4, pl, n);
    uint8_t ph[12];
    memcpy(ph, ip + 12, 8);
    ph[8] = 0;
    ph[9] = proto;
    put16(ph + 10, (unsigned)(l4 + n));
    uint32_t s = 0;
    for (int i = 0; i < 12; i += 2)
        s += (uint32_t)(ph[i] << 8 | ph[i + 1]);
    put16(t + (proto == 17 ? 6 : 16), csum(t, l4 + n, s));
    if (nq == capq) {
        capq = capq ? capq * 2 : 4096;
        q = realloc(q, capq * sizeof *q);
        if (!q)
            die("out of memory");
    }
    q[nq++] = (pkt){ .ts = ts, .seq = nseq++, .len = (uint16_t)len, .data = b };
}

static int pkt_cmp(const void *a, const void *b)
{
    const pkt *x = a, *y = b;
    if (x->ts != y->ts)
        return x->ts < y->ts ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static void write_pcap(const char *path)
{
    qsort(q, nq, sizeof *q, pkt_cmp);
    FILE *f = fopen(path, "wb");
    if (!f)
        die("cannot open --out");
    uint32_t gh[6] = { 0xa1b2c3d4, 0x00040002, 0, 0, 65535, 1 };
    fwrite(gh, 4, 6, f);
    for (size_t i = 0; i < nq; i++) {
        uint32_t ph[4] = { (uint32_t)(START_S + q[i].ts / US), (uint32_t)(q[i].ts % US), q[i].len,
                           q[i].len };
        fwrite(ph, 4, 4, f);
        fwrite(q[i].data, 1, q[i].len, f);
        free(q[i].data);
    }
    if (fclose(f))
        die("write error on --out");
}

/* ---- TLS messages (RFC 8446 4.1.2, 4.1.3) ---- */

/* A ClientHello for sni with ALPN alpn; returns its length. */
static size_t client_hello(uint8_t *b, const char *sni, const char *alpn)
{
    size_t sl = strlen(sni), al = strlen(alpn), n = 4;
    put16(b + n, 0x0303);
    rfill(b + n + 2, 32);
    n += 34;
    b[n++] = 0; /* session id */
    put16(b + n, 2);
    put16(b + n + 2, 0x1301); /* TLS_AES_128_GCM_SHA256 */
    n += 4;
    b[n++] = 1;
    b[n++] = 0; /* null compression */
    size_t ext = n;
    n += 2;
    put16(b + n, 0); /* server_name (RFC 6066 3) */
    put16(b + n + 2, (unsigned)(sl + 5));
    put16(b + n + 4, (unsigned)(sl + 3));
    b[n + 6] = 0;
    put16(b + n + 7, (unsigned)sl);
    memcpy(b + n + 9, sni, sl);
    n += 9 + sl;
    put16(b + n, 16); /* ALPN (RFC 7301) */
    put16(b + n + 2, (unsigned)(al + 3));
    put16(b + n + 4, (unsigned)(al + 1));
    b[n + 6] = (uint8_t)al;
    memcpy(b + n + 7, alpn, al);
    n += 7 + al;
    put16(b + n, 43); /* supported_versions: TLS 1.3 */
    put16(b + n + 2, 3);
    b[n + 4] = 2;
    put16(b + n + 5, 0x0304);
    n += 7;
    put16(b + ext, (unsigned)(n - ext - 2));
    b[0] = 1;
    b[1] = 0;
    put16(b + 2, (unsigned)(n - 4));
    return n;
}

static size_t server_hello(uint8_t *b)
{
    size_t n = 4;
    put16(b + n, 0x0303);
    rfill(b + n + 2, 32);
    n += 34;
    b[n++] = 0;
    put16(b + n, 0x1301);
    n += 2;
    b[n++] = 0;
    put16(b + n, 6);
    put16(b + n + 2, 43);
    put16(b + n + 4, 2);
    put16(b + n + 6, 0x0304);
    n += 8;
    b[0] = 2;
    b[1] = 0;
    put16(b + 2, (unsigned)(n - 4));
    return n;
}

/* ---- providers and truth ---- */

enum { P_CLOUDFLARE, P_GOOGLE, NPROV };
static const char *const pname[NPROV] = { "Cloudflare", "Google" };
static const char *const psni[NPROV] = { "www.cloudflare.com", "www.google.com" };
static const uint32_t paddr[NPROV] = { 0x681084e5 /* 104.16.132.229 */,
                                       0x8efab944 /* 142.250.185.68 */ };
enum { T_HS, T_CLOSES, T_UNANSWERED, T_FAILURES, T_FALLBACKS, T_TLS, T_RESP, NT };
static const char *const tname[NT] = { "quic_handshakes", "quic_closes",    "quic_unanswered",
                                       "quic_failures",   "quic_fallbacks", "tls_handshakes",
                                       "https_responses" };
/* quic-h3 and quic-5xx: six sites per provider (the breadth an error
 * template shows across) */
#define NSITES 6
static const char *const sites[NPROV][NSITES] = {
    { "www.shopfront.example", "api.payrails.example", "news.dailyglobe.example",
      "cdn.pixelcraft.example", "app.tallyhub.example", "blog.wanderly.example" },
    { "maps.geoplot.example", "docs.paperwell.example", "video.streamly.example",
      "store.appmart.example", "fonts.typeset.example", "ads.metricly.example" }
};
static bool h3;                        /* quic-h3, quic-5xx */
static double inc_onset, inc_end = -1; /* quic-5xx: Cloudflare's error pages */
static double inc_share = 0.6;
static uint64_t truth[NPROV][NT];

static uint16_t port_next[256];
static uint16_t next_port(uint32_t c)
{
    uint16_t *p = &port_next[c & 0xff];
    if (*p < 20000)
        *p = (uint16_t)(20000 + below(20000));
    return (*p)++;
}

/* ---- one TCP+TLS connection: the browser's fallback ---- */

static void tcp_tls(uint64_t t, uint32_t cli, int p, const char *sni, uint64_t rtt)
{
    uint32_t s = paddr[p];
    uint16_t sp = next_port(cli);
    uint32_t cs = (uint32_t)rnd64(), ss = (uint32_t)rnd64();
    emit(t, cli, s, 6, sp, 443, cs, 0, 0x02, NULL, 0);
    emit(t + rtt / 2, s, cli, 6, 443, sp, ss, cs + 1, 0x12, NULL, 0);
    t += rtt;
    cs++, ss++;
    emit(t, cli, s, 6, sp, 443, cs, ss, 0x10, NULL, 0);
    uint8_t rec[600];
    size_t n = client_hello(rec + 5, sni, "h2");
    rec[0] = 22;
    put16(rec + 1, 0x0301);
    put16(rec + 3, (unsigned)n);
    emit(t + 10, cli, s, 6, sp, 443, cs, ss, 0x18, rec, n + 5);
    cs += (uint32_t)(n + 5);
    n = server_hello(rec + 5);
    rec[0] = 22;
    put16(rec + 1, 0x0303);
    put16(rec + 3, (unsigned)n);
    size_t m = n + 5;
    static const uint8_t ccs[6] = { 20, 3, 3, 0, 1, 1 };
    memcpy(rec + m, ccs, 6);
    m += 6;
    rec[m] = 23; /* encrypted handshake, 1.3 style */
    put16(rec + m + 1, 0x0303);
    put16(rec + m + 3, 40);
    rfill(rec + m + 5, 40);
    m += 45;
    emit(t + rtt / 2, s, cli, 6, 443, sp, ss, cs, 0x18, rec, m);
    ss += (uint32_t)m;
    t += rtt;
    uint8_t app[45] = { 23, 3, 3, 0, 40 };
    rfill(app + 5, 40);
    emit(t, cli, s, 6, sp, 443, cs, ss, 0x18, app, sizeof app);
    cs += sizeof app;
    emit(t + rtt / 2, s, cli, 6, 443, sp, ss, cs, 0x18, app, sizeof app);
    ss += sizeof app;
    t += rtt;
    emit(t, cli, s, 6, sp, 443, cs, ss, 0x11, NULL, 0);
    emit(t + rtt / 2, s, cli, 6, 443, sp, ss, cs + 1, 0x11, NULL, 0);
    emit(t + rtt, cli, s, 6, sp, 443, cs + 1, ss + 1, 0x10, NULL, 0);
    truth[p][T_TLS]++;
}

/* ---- one QUIC connection ---- */

enum { O_OK, O_CLOSE, O_BLACKHOLE };

static void quic_initial(uint64_t t, uint32_t src, uint32_t dst, uint16_t sp, uint16_t dp,
                         const fl_quic_keys *k, const uint8_t *dcid, const uint8_t *scid,
                         uint32_t pn, const uint8_t *frames, size_t n, bool pad)
{
    uint8_t payload[1200] = { 0 }, out[1300];
    memcpy(payload, frames, n);
    /* RFC 9000 14.1: a client pads its Initial datagrams to 1200 bytes */
    size_t plen = pad ? 1200 - (1 + 4 + 1 + 8 + 1 + 8 + 1 + 2 + 4 + 16) : n;
    size_t len =
        fl_quic_seal_initial(FL_QUIC_V1, k, dcid, 8, scid, 8, pn, payload, plen, out, sizeof out);
    if (!len)
        die("cannot seal an Initial");
    emit(t, src, dst, 17, sp, dp, 0, 0, 0, out, len);
}

/* A long-header packet of type (RFC 9000 17.2) with n random bytes. */
static void quic_other(uint64_t t, uint32_t src, uint32_t dst, uint16_t sp, uint16_t dp,
                       const uint8_t *dcid, bool short_header, size_t n)
{
    uint8_t b[1300];
    size_t m = 0;
    if (short_header) {
        b[m++] = 0x40 | (uint8_t)below(32);
        memcpy(b + m, dcid, 8);
        m += 8;
    } else {
        b[m++] = 0xe0 | (uint8_t)below(4); /* Handshake */
        put32(b + m, FL_QUIC_V1);
        b[m + 4] = 8;
        memcpy(b + m + 5, dcid, 8);
        b[m + 13] = 0;
        m += 14;
        b[m++] = (uint8_t)(0x40 | n >> 8);
        b[m++] = (uint8_t)n;
    }
    rfill(b + m, n);
    emit(t, src, dst, 17, sp, dp, 0, 0, 0, b, m + n);
}

/* A 1-RTT packet (RFC 9000 17.3) carrying `plain` bytes of plaintext:
 * header byte, the 8-byte destination ID, a 2-byte packet number, the
 * plaintext and the 16-byte tag, all random (nobody decrypts them). */
static void quic_short(uint64_t t, uint32_t src, uint32_t dst, uint16_t sp, uint16_t dp,
                       const uint8_t *dcid, size_t plain)
{
    uint8_t b[1300];
    if (plain > sizeof b - 27)
        die("a 1-RTT packet too large");
    b[0] = (uint8_t)(0x40 | below(64));
    memcpy(b + 1, dcid, 8);
    rfill(b + 9, 2 + plain + 16);
    emit(t, src, dst, 17, sp, dp, 0, 0, 0, b, 27 + plain);
}

/* Plaintext of a full datagram of quic_short: 1200 bytes, the size of
 * the padded Initials (a server sending larger ones loses a response of
 * one larger datagram, taken for a probe: fl_quic_app.h, unit-tested). */
#define FULL_PLAIN (1200 - 27)

/* A response of `bytes` plaintext from t: full datagrams, the last short
 * (a remainder of control size is made larger: a response is content). */
static uint64_t h3_response(uint64_t t, int p, uint32_t cli, uint16_t sp, const uint8_t *cdcid,
                            size_t bytes)
{
    if (bytes % FULL_PLAIN <= 64)
        bytes += 65;
    for (; bytes > FULL_PLAIN; bytes -= FULL_PLAIN, t += 100)
        quic_short(t, paddr[p], cli, 443, sp, cdcid, FULL_PLAIN);
    quic_short(t, paddr[p], cli, 443, sp, cdcid, bytes);
    return t;
}

/* A site's usual response: lognormal around its own median (1.5-40 kB). */
static size_t site_size(int p, int site)
{
    double median = 1500.0 * pow(1.9, (double)((p * NSITES + site) * 7 % 6));
    double u1 = ((double)below(1u << 30) + 1) / (double)(1u << 30),
           u2 = (double)below(1u << 30) / (double)(1u << 30);
    double z = sqrt(-2 * log(u1)) * cos(2 * 3.14159265358979 * u2);
    double v = median * exp(0.9 * z);
    return v < 200 ? 200 : v > 200000 ? 200000 : (size_t)v;
}

static void quic_session(uint64_t t, uint32_t cli, int p, int outcome, int site);

/* HTTP/3 after the handshake: 1-3 requests, one at a time. During the
 * incident a Cloudflare response may be the 5xx page; half of the clients
 * who get one reload on a new connection. */
static void h3_exchanges(uint64_t t, uint32_t cli, int p, int site, uint16_t sp,
                         const uint8_t *cdcid, const uint8_t *sdcid, uint64_t rtt)
{
    uint32_t s = paddr[p];
    int n = 1 + (int)below(3);
    for (int i = 0; i < n; i++) {
        quic_short(t, cli, s, sp, 443, sdcid, 60 + below(340)); /* the request */
        double ts = (double)t / US;
        bool error = p == P_CLOUDFLARE && ts >= inc_onset && ts < inc_end &&
                     below(1000) < (uint32_t)(inc_share * 1000);
        size_t bytes = error ? 6400 + strlen(sites[p][site]) + below(8) : site_size(p, site);
        uint64_t first = t + rtt / 2 + (error ? 500 : 2000 + below(40000));
        uint64_t last = h3_response(first, p, cli, sp, cdcid, bytes);
        quic_short(last + rtt / 2, cli, s, sp, 443, sdcid, 8); /* the client's ACK */
        truth[p][T_RESP]++;
        t = last + rtt + 50000 + below(450000);
        if (error && below(2) == 0) {
            quic_session(last + US + below(2 * US), cli, p, O_OK, site);
            return; /* the user reloads: this connection is left idle */
        }
    }
}

static void quic_session(uint64_t t, uint32_t cli, int p, int outcome, int site)
{
    const char *sni = h3 ? sites[p][site] : psni[p];
    uint32_t s = paddr[p];
    uint16_t sp = next_port(cli);
    uint64_t rtt = 10000 + below(30000);
    uint8_t dcid[8], scid[8], srv[8];
    rfill(dcid, 8);
    rfill(scid, 8);
    rfill(srv, 8);
    fl_quic_keys ck, sk;
    if (!fl_quic_initial_keys(FL_QUIC_V1, dcid, 8, &ck, &sk))
        die("no Initial keys");
    uint8_t fr[700], ch[600];
    size_t chl = client_hello(ch, sni, "h3");
    fr[0] = 0x06; /* CRYPTO, offset 0, 2-byte length */
    fr[1] = 0;
    put16(fr + 2, (unsigned)(0x4000 | chl));
    memcpy(fr + 4, ch, chl);
    truth[p][T_HS]++;
    quic_initial(t, cli, s, sp, 443, &ck, dcid, scid, 0, fr, chl + 4, true);
    if (outcome == O_BLACKHOLE) {
        /* RFC 9002 6.2: probes after ~3 RTT, then backing off; the browser
         * races TCP meanwhile (Chrome after about 300 ms). */
        quic_initial(t + 300000, cli, s, sp, 443, &ck, dcid, scid, 1, fr, chl + 4, true);
        quic_initial(t + 900000, cli, s, sp, 443, &ck, dcid, scid, 2, fr, chl + 4, true);
        tcp_tls(t + 350000, cli, p, sni, rtt);
        truth[p][T_UNANSWERED]++;
        truth[p][T_FAILURES]++;
        truth[p][T_FALLBACKS]++;
        return;
    }
    uint8_t sf[300];
    size_t n = 0;
    sf[n++] = 0x02; /* ACK of packet 0 */
    sf[n++] = 0;
    sf[n++] = 0;
    sf[n++] = 0;
    sf[n++] = 0;
    if (outcome == O_CLOSE) {
        /* RFC 9000 10.2.3 / 20.1: CONNECTION_REFUSED (0x02) in an Initial */
        static const uint8_t cc[] = { 0x1c, 0x02, 0x00, 0x00 };
        memcpy(sf + n, cc, sizeof cc);
        n += sizeof cc;
        quic_initial(t + rtt / 2, s, cli, 443, sp, &sk, scid, srv, 0, sf, n, false);
        tcp_tls(t + rtt + 50000, cli, p, sni, rtt);
        truth[p][T_CLOSES]++;
        truth[p][T_FAILURES]++;
        truth[p][T_FALLBACKS]++;
        return;
    }
    uint8_t sh[200];
    size_t shl = server_hello(sh);
    sf[n++] = 0x06;
    sf[n++] = 0;
    sf[n++] = (uint8_t)shl;
    memcpy(sf + n, sh, shl);
    n += shl;
    /* RFC 9000 14.1: a server pads datagrams with ack-eliciting Initials */
    quic_initial(t + rtt / 2, s, cli, 443, sp, &sk, scid, srv, 0, sf, n, true);
    quic_other(t + rtt / 2 + 5, s, cli, 443, sp, scid, false, 900);
    quic_other(t + rtt, cli, s, sp, 443, srv, false, 60);
    if (h3) {
        h3_exchanges(t + rtt + 10, cli, p, site, sp, scid, srv, rtt);
        return;
    }
    for (int i = 0; i < 3; i++) {
        quic_other(t + rtt * (2 + i), cli, s, sp, 443, srv, true, 40 + below(200));
        quic_other(t + rtt * (2 + i) + rtt / 2, s, cli, 443, sp, scid, true, 200 + below(1000));
    }
}

/* ---- scenarios ---- */

/* A numeric option value: the whole string must be a finite number. */
static double num_arg(const char *v)
{
    char *end;
    errno = 0;
    double d = strtod(v, &end);
    if (errno || end == v || *end != '\0' || !isfinite(d))
        die("option value is not a number");
    return d;
}

int main(int argc, char **argv)
{
    const char *scen = NULL, *out = NULL, *tsv = NULL;
    uint64_t seed = 1;
    double duration = 900, onset = 600, end = 780;
    unsigned clients = 40;
    for (int i = 1; i + 1 < argc; i += 2) {
        const char *a = argv[i], *v = argv[i + 1];
        if (!strcmp(a, "--seed"))
            seed = strtoull(v, NULL, 10);
        else if (!strcmp(a, "--scenario"))
            scen = v;
        else if (!strcmp(a, "--out"))
            out = v;
        else if (!strcmp(a, "--truth"))
            tsv = v;
        else if (!strcmp(a, "--duration"))
            duration = num_arg(v);
        else if (!strcmp(a, "--onset"))
            onset = num_arg(v);
        else if (!strcmp(a, "--end"))
            end = num_arg(v);
        else if (!strcmp(a, "--share"))
            inc_share = num_arg(v);
        else if (!strcmp(a, "--clients")) {
            double n = num_arg(v);
            /* out-of-range counts are refused by the range check below */
            clients = n >= 0 && n <= 1000 ? (unsigned)n : 0;
        } else
            die("unknown option (see the comment at the top of flgen_quic.c)");
    }
    if (argc % 2 == 0 || !scen || !out || !tsv)
        die("usage: flgen_quic --seed N --scenario "
            "quic-ok|quic-blackhole|quic-office|quic-oneway|quic-h3|quic-5xx "
            "--out FILE.pcap --truth FILE.tsv [--duration S] [--onset S] [--end S] [--clients N] "
            "[--share F]");
    bool blackhole = !strcmp(scen, "quic-blackhole"), office = !strcmp(scen, "quic-office");
    bool errors = !strcmp(scen, "quic-5xx");
    one_way = !strcmp(scen, "quic-oneway");
    h3 = errors || !strcmp(scen, "quic-h3");
    if (!blackhole && !office && !one_way && !h3 && strcmp(scen, "quic-ok") != 0)
        die("unknown scenario");
    if (!(inc_share >= 0 && inc_share <= 1))
        die("--share must be 0..1");
    if (errors) {
        inc_onset = onset;
        inc_end = end;
    }
    if (clients < 1 || clients > 250 || duration <= 0 || duration > 86400)
        die("--clients must be 1..250 and --duration 0..86400");
    rng = seed * 0x2545f4914f6cdd1dULL + 7;
    uint32_t base = office ? 0x0a1e0000 : 0x0a140000; /* 10.30/16 the office, 10.20/16 */
    for (unsigned c = 0; c < clients; c++) {
        uint32_t cli = base + 256 * (c / 200) + c % 200 + 1;
        /* each browser opens a connection every 5-15 s */
        for (uint64_t t = below(10 * US); t < (uint64_t)(duration * US);
             t += 5 * US + below(10 * US)) {
            int p = (int)below(NPROV);
            double ts = (double)t / US;
            int o = O_OK;
            if (office || (blackhole && p == P_CLOUDFLARE && ts >= onset && ts < end))
                o = O_BLACKHOLE;
            else if (below(50) == 0 && !one_way)
                o = O_CLOSE;
            quic_session(t, cli, p, o, h3 ? (int)below(NSITES) : 0);
        }
    }
    write_pcap(out);
    FILE *f = fopen(tsv, "w");
    if (!f)
        die("cannot open --truth");
    fprintf(f,
            "# flgen_quic truth: exact counts by construction (tests/gen/flgen_quic.c)\n"
            "# scenario %s seed %llu clients %u duration %g\n",
            scen, (unsigned long long)seed, clients, duration);
    for (int p = 0; p < NPROV; p++)
        for (int k = 0; k < NT; k++)
            if (k != T_RESP || h3)
                fprintf(f, "count\t%s\t%s\t%llu\n", pname[p], tname[k],
                        (unsigned long long)truth[p][k]);
    if (blackhole)
        fprintf(f, "incident\tCloudflare\tquic\t%g\n", onset);
    if (errors)
        fprintf(f, "incident\tCloudflare\thttps\t%g\n", onset);
    if (fclose(f))
        die("write error on --truth");
    return 0;
}
