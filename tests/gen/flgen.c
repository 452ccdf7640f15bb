/* flgen - deterministic capture generator: scenario captures with known truth.
 *
 *   flgen --seed N --scenario NAME --out FILE.pcap --truth FILE.tsv
 *         [--start EPOCH] [--duration S] [--onset S] [--end S]
 *         [--clients N] [--scale X]
 *
 * Writes a classic pcap (DLT_EN10MB, microsecond timestamps, written here
 * with fwrite: no libpcap) of synthetic but protocol-correct traffic between
 * clients in 10.0.0.0/8 / fd00::/8 and servers at real provider addresses,
 * and a TSV file with the exact counts of the DESIGN.md "Signals" counters
 * per provider, known by construction (from what each session was built to
 * be, not by re-parsing the output). Same arguments, same bytes: all
 * randomness comes from one splitmix64 stream seeded by --seed; no clock, no
 * rand(). The packets of all sessions are sorted by (time, creation order)
 * before they are written.
 *
 * Nothing here is ever sent: the addresses are only written into the file.
 *
 * Server addresses (each inside a prefix of deploy/provider_ranges.tsv):
 *   Cloudflare 104.16.0.0/13, 172.64.0.0/13, 2606:4700::/32
 *   AWS        52.94.0.0/20, 3.5.0.0/18, 52.216.0.0/15, 2600:1f18::/33, 2600:1f14::/34
 *   Google     142.250.0.0/15, 2001:4860::/32
 *   Microsoft  20.190.128.0/18, 40.126.0.0/18, 13.107.42.0/23 (no IPv6 here)
 *   Akamai     23.32.0.0/11, 96.6.0.0/15, 184.24.0.0/13, 2a02:26f0::/32
 *   Fastly     151.101.0.0/16, 199.232.0.0/16, 2a04:4e42::/32
 *   Oracle     40.233.0.0/19, 40.233.64.0/18 (no IPv6 in the file)
 * DNS goes to a local resolver 10.0.0.53 / fd00::53 (private: its address
 * names no provider). Queried names, SNI and Host are always under the
 * provider's own domains (cloudflare.com, amazonaws.com, google.com, ...),
 * and answer addresses are the provider's, so name and address agree.
 * nDPI 4.2's host rules know only the AWS, Google and Microsoft names here;
 * cloudflare.com, akamai*.net, fastly.net and oraclecloud.com need the
 * project's own suffix table (a DNS failure carries no address).
 *
 * Counting rules applied by construction (account() below):
 *   - every session is one 5-tuple, one flow; a DNS query and its response
 *     are one flow; client ports are never reused within a capture;
 *   - a DNS flow (UDP or TCP to the private resolver) and all its messages
 *     belong to the provider of the queried name (DESIGN.md); the truth also
 *     lists how many flows per provider were DNS (detail rows);
 *   - retransmitted SYNs, ClientHellos, requests and RSTs (same sequence
 *     number) count once; the capture also says how many there were;
 *   - an unanswered SYN is retransmitted at +1 s and +3 s: one syn timeout;
 *   - TLS failures: fatal alert (also counted in tls_alerts), server RST
 *     after the ClientHello (also a tcp_reset: the connection was
 *     established), or silence (server ACKs the ClientHello at TCP level,
 *     sends nothing; the client closes with FIN after 10 s);
 *   - HTTP: 100 Continue is an interim response, not counted; HEAD is
 *     answered with Content-Length and no body; client RSTs are not
 *     tcp_resets (only the server's count);
 *   - a DNS-over-TCP flow always completes its handshake (a TCP DNS flow
 *     that never carries the name could not be attributed).
 * Sessions start until 20 s before the end; those in the last 20 s are all
 * healthy and short, so every timeout (5 s for SYN and DNS, 10 s for TLS
 * silence) has passed in packet time before the capture ends.
 *
 * Truth TSV (lines starting with '#' are comments), columns by row type:
 *   meta     -         key      value
 *   counter  PROVIDER  COUNTER  value        (every counter of every provider
 *                                             the scenario uses, zeros too)
 *   detail   PROVIDER  dns_flows|dns_tcp_flows  value
 *   packets  *         what     value        (packet-level facts for checks)
 *   incident PROVIDER|local  provider|local  onset_epoch  end_epoch
 *   expect   PROVIDER|*  no_alert  from_epoch  to_epoch
 * A scenario without incident rows expects no alert.
 *
 * Validation (done by hand with tshark 4.0.17, not in CI):
 *   every scenario at seeds 1, 2, 3, 11, 12 (900 s), and short/long runs
 *   with --onset/--end/--scale/--clients: `tshark -r F -q -z expert
 *   -o tcp.check_checksum:TRUE -o udp.check_checksum:TRUE
 *   -o ip.check_checksum:TRUE` lists no Error (no malformed packet, no bad
 *   checksum); the only Warnings are "Connection reset (RST)".
 *   `tests/gen/check_truth.py F.pcap F.tsv` recomputes every counter per
 *   provider from tshark's fields alone (server address looked up in
 *   deploy/provider_ranges.tsv, DNS by the queried name's domain, DNS answer
 *   addresses checked to be that provider's) plus the `packets` rows, and
 *   found 0 mismatches in all of those runs. For `mixed`, plain filters agree
 *   with the summed truth: -Y 'dns.flags.rcode==2' = dns_servfail,
 *   'http.response.code>=500' = http_5xx, 'tls.alert_message.level==2' =
 *   tls_alerts, 'tcp.flags.reset==1' = packets/rst, 'http.request' =
 *   http_requests (tshark does not re-dissect retransmitted data), and the
 *   conv,tcp + conv,udp conversation count = flows.
 */
#include <arpa/inet.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "fl_counters.h"

#define US 1000000ULL       /* microseconds per second */
#define MSS 1400            /* fits IPv4 and IPv6 in a 1500-byte MTU */
#define TAIL_S 20           /* last seconds: only healthy, short sessions */
#define MAX_REQ 6

/* ------------------------------------------------------------------ */
/* Deterministic randomness: splitmix64 (Steele, Lea, Flood 2014).     */

static uint64_t rng_state;

static uint64_t rnd64(void)
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* Uniform in [0, n): multiply-shift, no modulo bias worth mentioning. */
static uint32_t rnd_below(uint32_t n)
{
    return (uint32_t)(((rnd64() >> 32) * (uint64_t)n) >> 32);
}

static double rnd_unit(void) { return (double)(rnd64() >> 11) * 0x1p-53; }
static bool chance(double p) { return rnd_unit() < p; }

static void rnd_fill(uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)rnd64();
}

/* Poisson draw (Knuth); means here are small (a few per second). */
static uint32_t rnd_poisson(double mean)
{
    double l = 1.0, limit = exp(-mean);
    uint32_t k = 0;
    if (mean <= 0)
        return 0;
    do {
        k++;
        l *= rnd_unit();
    } while (l > limit && k < 1000);
    return k - 1;
}

/* ------------------------------------------------------------------ */
/* A growable byte buffer for building messages and holding frames.    */

typedef struct buf {
    uint8_t *p;
    size_t n, cap;
} buf;

static void die(const char *msg)
{
    fprintf(stderr, "flgen: %s\n", msg);
    exit(1);
}

static void b_need(buf *b, size_t extra)
{
    if (b->n + extra <= b->cap)
        return;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->n + extra)
        cap *= 2;
    uint8_t *p = realloc(b->p, cap);
    if (!p)
        die("out of memory");
    b->p = p;
    b->cap = cap;
}

static void b_put(buf *b, const void *d, size_t n)
{
    b_need(b, n);
    if (n)
        memcpy(b->p + b->n, d, n);
    b->n += n;
}

static void b_u8(buf *b, unsigned v) { uint8_t x = (uint8_t)v; b_put(b, &x, 1); }
static void b_u16(buf *b, unsigned v) { b_u8(b, v >> 8); b_u8(b, v); }
static void b_u32(buf *b, uint32_t v) { b_u16(b, v >> 16); b_u16(b, v & 0xffff); }

static void b_rand(buf *b, size_t n)
{
    b_need(b, n);
    rnd_fill(b->p + b->n, n);
    b->n += n;
}

__attribute__((format(printf, 2, 3)))
static void b_printf(buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    b_need(b, (size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf((char *)b->p + b->n, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->n += (size_t)n;
}

/* Length fields written after their contents: remember where, fill later. */
static size_t b_hole(buf *b, size_t width)
{
    size_t at = b->n;
    b_need(b, width);
    memset(b->p + at, 0, width);
    b->n += width;
    return at;
}

static void b_fill(buf *b, size_t at, size_t width)
{
    size_t v = b->n - at - width;
    for (size_t i = 0; i < width; i++)
        b->p[at + i] = (uint8_t)(v >> (8 * (width - 1 - i)));
}

static void put16(uint8_t *p, unsigned v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static void put32(uint8_t *p, uint32_t v) { put16(p, v >> 16); put16(p + 2, v & 0xffff); }

/* ------------------------------------------------------------------ */
/* Frames: Ethernet + IPv4/IPv6 + TCP/UDP with correct checksums.      */

typedef struct host {
    bool v6;
    uint8_t a[16];      /* IPv4 in a[0..3] */
    uint8_t mac[6];
    uint8_t ttl;
} host;

typedef struct frame {
    uint64_t ts;        /* microseconds since --start */
    uint64_t order;     /* creation order: ties keep session order */
    uint64_t off;
    uint32_t len;
} frame;

enum { ST_PKTS, ST_RST, ST_RST_RTX, ST_SYN_RTX, ST_DATA_RTX, ST_CLIENT_RST, ST_COUNT };
static const char *const st_names[ST_COUNT] = {
    "frames", "rst", "rst_retransmitted", "syn_retransmitted",
    "data_retransmitted", "client_rst",
};

static struct {
    buf bytes;          /* all frames, back to back */
    frame *fr;
    size_t nfr, capfr;
    uint16_t ipid;
    uint64_t st[ST_COUNT];
} out;

/* RFC 1071 one's-complement sum over big-endian 16-bit words. */
static uint32_t csum_add(uint32_t sum, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i + 1 < n; i += 2)
        sum += (uint32_t)(p[i] << 8 | p[i + 1]);
    if (n & 1)
        sum += (uint32_t)p[n - 1] << 8;
    return sum;
}

static uint16_t csum_fin(uint32_t sum)
{
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)~sum;
}

/* l4 is a TCP or UDP header + payload with a zero checksum field; the
 * checksum covers the pseudo header (RFC 793 / 768 for IPv4, RFC 8200 8.1
 * for IPv6). */
static void emit(uint64_t t, const host *src, const host *dst, uint8_t proto,
                 uint8_t *l4, uint32_t l4len)
{
    uint8_t f[14 + 40 + 24 + MSS];
    size_t iplen = src->v6 ? 40 : 20;
    if (l4len > 24 + MSS)
        die("internal: segment too large");
    memcpy(f, dst->mac, 6);
    memcpy(f + 6, src->mac, 6);
    uint8_t *ip = f + 14;
    uint32_t sum = 0;
    if (!src->v6) {
        put16(f + 12, 0x0800);
        ip[0] = 0x45;
        ip[1] = 0;
        put16(ip + 2, 20 + l4len);
        put16(ip + 4, out.ipid++);
        put16(ip + 6, 0x4000);              /* DF */
        ip[8] = src->ttl;
        ip[9] = proto;
        put16(ip + 10, 0);
        memcpy(ip + 12, src->a, 4);
        memcpy(ip + 16, dst->a, 4);
        put16(ip + 10, csum_fin(csum_add(0, ip, 20)));
        sum = csum_add(0, ip + 12, 8);
        sum += proto + l4len;
    } else {
        put16(f + 12, 0x86dd);
        put32(ip, 0x60000000);
        put16(ip + 4, l4len);
        ip[6] = proto;
        ip[7] = src->ttl;
        memcpy(ip + 8, src->a, 16);
        memcpy(ip + 24, dst->a, 16);
        sum = csum_add(0, ip + 8, 32);
        sum += proto + l4len;
    }
    size_t ck = proto == 6 ? 16 : 6;
    put16(l4 + ck, 0);
    uint16_t c = csum_fin(csum_add(sum, l4, l4len));
    if (proto == 17 && c == 0)
        c = 0xffff;                         /* RFC 768: 0 means "none" */
    put16(l4 + ck, c);
    memcpy(ip + iplen, l4, l4len);
    size_t len = 14 + iplen + l4len;
    if (len < 60) {                         /* Ethernet minimum frame */
        memset(f + len, 0, 60 - len);
        len = 60;
    }
    if (out.nfr == out.capfr) {
        out.capfr = out.capfr ? out.capfr * 2 : 4096;
        out.fr = realloc(out.fr, out.capfr * sizeof *out.fr);
        if (!out.fr)
            die("out of memory");
    }
    out.fr[out.nfr] = (frame){ t, out.nfr, out.bytes.n, (uint32_t)len };
    out.nfr++;
    out.st[ST_PKTS]++;
    b_put(&out.bytes, f, len);
}

static void udp_send(uint64_t t, const host *s, const host *d, uint16_t sp,
                     uint16_t dp, const uint8_t *p, uint32_t n)
{
    uint8_t u[8 + MSS];
    if (n > MSS)
        die("internal: datagram too large");
    put16(u, sp);
    put16(u + 2, dp);
    put16(u + 4, 8 + n);
    put16(u + 6, 0);
    memcpy(u + 8, p, n);
    emit(t, s, d, 17, u, 8 + n);
}

/* ------------------------------------------------------------------ */
/* TCP connections. Side 0 is the client, 1 the server. The capture point
 * is next to the clients: a server's answer is seen one RTT after the
 * client packet that caused it. */

enum { C = 0, S = 1 };
enum { FIN = 0x01, SYN = 0x02, RST = 0x04, PSH = 0x08, ACK = 0x10 };

typedef struct conn {
    host h[2];
    uint16_t port[2];
    uint32_t nxt[2];    /* next sequence number each side sends */
    uint64_t t;         /* now, microseconds */
    uint32_t rtt;
} conn;

static void seg(conn *k, int d, uint8_t fl, uint32_t seq, const uint8_t *p, uint32_t n)
{
    uint8_t s[24 + MSS];
    uint32_t hl = (fl & SYN) ? 24 : 20;
    put16(s, k->port[d]);
    put16(s + 2, k->port[!d]);
    put32(s + 4, seq);
    put32(s + 8, (fl & ACK) ? k->nxt[!d] : 0);
    s[12] = (uint8_t)(hl / 4 << 4);
    s[13] = fl;
    put16(s + 14, d == C ? 64240 : 65535);
    put16(s + 16, 0);
    put16(s + 18, 0);
    if (fl & SYN) {                         /* MSS option, RFC 9293 3.7.1 */
        s[20] = 2;
        s[21] = 4;
        put16(s + 22, MSS);
    }
    if (n)
        memcpy(s + hl, p, n);
    if (fl & RST) {
        out.st[ST_RST]++;
        if (d == C)
            out.st[ST_CLIENT_RST]++;
    }
    emit(k->t, &k->h[d], &k->h[!d], 6, s, hl + n);
}

/* Send at the side's next sequence number and advance it. */
static uint32_t tx(conn *k, int d, uint8_t fl, const uint8_t *p, uint32_t n)
{
    uint32_t seq = k->nxt[d];
    seg(k, d, fl, seq, p, n);
    k->nxt[d] += n + ((fl & SYN) ? 1 : 0) + ((fl & FIN) ? 1 : 0);
    return seq;
}

static void later(conn *k, uint64_t us) { k->t += us; }
static void gap(conn *k) { k->t += 20 + rnd_below(300); }
static void wait_rtt(conn *k) { k->t += k->rtt + rnd_below(k->rtt / 4 + 1); }

/* Data in MSS-sized segments, PSH on the last one. */
static void send_data(conn *k, int d, const uint8_t *p, size_t n)
{
    while (n) {
        uint32_t m = n > MSS ? MSS : (uint32_t)n;
        tx(k, d, ACK | (m == n ? PSH : 0), p, m);
        p += m;
        n -= m;
        if (n)
            k->t += 5 + rnd_below(40);
    }
}

/* Data cut at the given ascending offsets, then MSS-segmented: the way a
 * server that writes its headers in pieces puts them on the wire. */
static void send_cut(conn *k, int d, const uint8_t *p, size_t n,
                     const size_t *cuts, int ncuts)
{
    size_t at = 0;
    for (int i = 0; i <= ncuts; i++) {
        size_t end = i < ncuts ? cuts[i] : n;
        if (end <= at || end > n)
            continue;
        send_data(k, d, p + at, end - at);
        at = end;
        if (at < n)
            k->t += 300 + rnd_below(3000);
    }
}

static void ack(conn *k, int d) { gap(k); tx(k, d, ACK, NULL, 0); }

/* ------------------------------------------------------------------ */
/* Providers and clients.                                              */

enum { P_CLOUDFLARE, P_AWS, P_GOOGLE, P_MICROSOFT, P_AKAMAI, P_FASTLY, P_ORACLE, NPROV };

typedef struct provider {
    const char *name;
    const char *v4[3], *v6[2];
    const char *names[3];   /* queried names, SNI, Host */
    const char *cname;      /* CNAME chain target suffix, or NULL */
    double rate;            /* background sessions per second */
    uint8_t ttl;
} provider;

static const provider provs[NPROV] = {
    { "Cloudflare", { "104.16.132.229", "104.18.32.47", "172.64.155.209" },
      { "2606:4700::6810:84e5", "2606:4700:4400::ac40:9bd1" },
      { "www.cloudflare.com", "dash.cloudflare.com", "cdnjs.cloudflare.com" },
      ".cdn.cloudflare.net", 3.0, 57 },
    { "AWS", { "52.94.0.10", "3.5.0.20", "52.216.10.5" },
      { "2600:1f18::10:5", "2600:1f14::20:7" },
      { "dynamodb.us-east-1.amazonaws.com", "s3.us-east-1.amazonaws.com",
        "sqs.us-east-1.amazonaws.com" },
      ".us-east-1.elb.amazonaws.com", 2.5, 54 },
    { "Google", { "142.250.185.68", "142.251.36.4", "142.250.74.106" },
      { "2001:4860:4802:32::15", "2001:4860:4802:36::a" },
      { "www.google.com", "www.googleapis.com", "storage.googleapis.com" },
      NULL, 3.0, 58 },
    { "Microsoft", { "20.190.128.10", "40.126.0.20", "13.107.42.14" }, { NULL, NULL },
      { "login.microsoftonline.com", "graph.microsoft.com", "management.azure.com" },
      NULL, 1.5, 52 },
    { "Akamai", { "23.32.10.5", "96.6.20.7", "184.24.77.1" },
      { "2a02:26f0:fd::5c7a:1e1", NULL },
      { "a248.e.akamai.net", "e1234.dscb.akamaiedge.net", "assets.akamaized.net" },
      ".dscb.akamaiedge.net", 1.5, 55 },
    { "Fastly", { "151.101.1.140", "151.101.65.140", "199.232.1.1" },
      { "2a04:4e42::396", "2a04:4e42:200::396" },
      { "dualstack.n.sni.global.fastly.net", "global.ssl.fastly.net", "f2.shared.global.fastly.net" },
      ".global.fastly.net", 1.5, 56 },
    { "Oracle", { "40.233.8.20", "40.233.70.5", NULL }, { NULL, NULL },
      { "objectstorage.ca-toronto-1.oraclecloud.com", "console.ca-toronto-1.oraclecloud.com", NULL },
      NULL, 0.05, 50 },
};

/* How many entries of a NULL-padded table row are set. */
static uint32_t nset(const char *const *a, uint32_t max)
{
    uint32_t n = 0;
    while (n < max && a[n])
        n++;
    return n;
}
#define NV4(p) nset(provs[p].v4, 3)
#define NV6(p) nset(provs[p].v6, 2)
#define NNAMES(p) nset(provs[p].names, 3)

static void host_from(host *h, const char *addr, bool v6, uint8_t ttl)
{
    memset(h, 0, sizeof *h);
    h->v6 = v6;
    if (inet_pton(v6 ? AF_INET6 : AF_INET, addr, h->a) != 1)
        die("internal: bad address in table");
    static const uint8_t gw[6] = { 0x02, 0, 0, 0, 0, 0x01 };  /* the router */
    memcpy(h->mac, gw, 6);
    h->ttl = ttl;
}

static host server_host(int p, bool v6)
{
    host h;
    if (v6)
        host_from(&h, provs[p].v6[rnd_below(NV6(p))], true, provs[p].ttl);
    else
        host_from(&h, provs[p].v4[rnd_below(NV4(p))], false, provs[p].ttl);
    return h;
}

static host resolver_host(bool v6)
{
    host h;
    host_from(&h, v6 ? "fd00::53" : "10.0.0.53", v6, 64);
    h.mac[5] = 0x35;
    return h;
}

/* Command-line options (seconds, relative to --start). */
static struct {
    uint32_t duration, onset, end, clients;
    uint64_t start;
    double scale;
} opt = { 900, 0, 0, 0, 1760950800ULL, 1.0 };  /* 2025-10-20 09:00:00 UTC */

#define MAX_CLIENTS 1000
static uint16_t client_port[MAX_CLIENTS];

/* Client i: 10.1.x.y and fd00::1:x:y, MAC 02:00:0a:01:x:y. */
static host client_host(uint32_t i, bool v6)
{
    uint8_t hi = (uint8_t)((i + 10) >> 8), lo = (uint8_t)(i + 10);
    host h = { .v6 = v6, .mac = { 0x02, 0, 10, 1, hi, lo }, .ttl = 64 };
    if (v6)
        memcpy(h.a, (const uint8_t[16]){ 0xfd, [13] = 1, hi, lo }, 16);
    else
        memcpy(h.a, (const uint8_t[4]){ 10, 1, hi, lo }, 4);
    return h;
}

/* Ephemeral ports walk 32768..60999 per client: 28 k sessions before a
 * port comes back (hours at these rates), so every session in a capture of
 * realistic length is a distinct 5-tuple. */
static uint16_t next_port(uint32_t client)
{
    uint16_t p = client_port[client];
    client_port[client] = p >= 60999 ? 32768 : (uint16_t)(p + 1);
    return p;
}

/* ------------------------------------------------------------------ */
/* Sessions.                                                           */

enum kind { K_TCP, K_TLS, K_HTTP, K_DNS, K_DNS_TCP };
enum outcome {
    O_OK,
    O_REFUSED, O_SYN_TIMEOUT,              /* TCP kinds: never established */
    O_RESET,                               /* TLS/HTTP: server RST after data */
    O_TLS_ALERT, O_TLS_RST, O_TLS_SILENT,  /* TLS handshake failures */
    O_NXDOMAIN, O_SERVFAIL, O_DNS_REFUSED, O_NODATA, O_DNS_TIMEOUT,
};
enum { RTX_SYN = 1, RTX_DATA = 2, RTX_RST = 4 };

typedef struct spec {
    uint64_t t;             /* start, microseconds since --start */
    uint32_t client;
    uint8_t kind, out, prov, v6;
    uint8_t rtx;            /* RTX_* */
    uint8_t tls13;
    uint8_t aaaa;           /* DNS: AAAA query (else A) */
    uint8_t chain;          /* DNS: answer through a CNAME */
    uint8_t nreq;           /* HTTP requests on the connection */
    int8_t head_at, cont_at;/* HTTP: which request is HEAD / POST+100-continue */
    uint8_t split;          /* HTTP: cut response headers; 2: inside status line */
    uint8_t client_rst;     /* HTTP: client aborts with RST (not counted) */
    uint16_t port;          /* K_TCP server port */
    uint16_t status[MAX_REQ];
    const char *path;       /* HTTP path override */
    char name[96];          /* SNI / Host / queried name */
} spec;

static uint64_t truth[NPROV][FL_C_COUNT];
static uint64_t dns_flows[NPROV], dns_tcp_flows[NPROV];

#define CNT(p, c) truth[p][FL_C_##c]

static bool is_tcp_failure(int o) { return o == O_REFUSED || o == O_SYN_TIMEOUT; }
static bool is_dns_outcome(int o) { return o == O_OK || o >= O_NXDOMAIN; }

/* The counters a session contributes, from what it was built to be. */
static void account(const spec *sp)
{
    int p = sp->prov;
    CNT(p, flows)++;
    if (sp->kind == K_DNS || sp->kind == K_DNS_TCP) {
        dns_flows[p]++;
        if (sp->kind == K_DNS_TCP) {
            dns_tcp_flows[p]++;
            CNT(p, tcp_attempts)++;
        }
        CNT(p, dns_queries)++;
        if (sp->out == O_DNS_TIMEOUT) {
            CNT(p, dns_timeouts)++;
            return;
        }
        CNT(p, dns_responses)++;
        if (sp->out == O_SERVFAIL) CNT(p, dns_servfail)++;
        if (sp->out == O_NXDOMAIN) CNT(p, dns_nxdomain)++;
        if (sp->out == O_DNS_REFUSED) CNT(p, dns_refused)++;
        if (sp->out == O_NODATA) CNT(p, dns_nodata)++;
        return;
    }
    CNT(p, tcp_attempts)++;
    if (sp->out == O_REFUSED) { CNT(p, tcp_refused)++; return; }
    if (sp->out == O_SYN_TIMEOUT) { CNT(p, tcp_syn_timeouts)++; return; }
    if (sp->out == O_RESET) CNT(p, tcp_resets)++;
    if (sp->kind == K_TLS) {
        CNT(p, tls_handshakes)++;
        if (sp->out == O_TLS_ALERT) { CNT(p, tls_failures)++; CNT(p, tls_alerts)++; }
        if (sp->out == O_TLS_RST) { CNT(p, tls_failures)++; CNT(p, tcp_resets)++; }
        if (sp->out == O_TLS_SILENT) CNT(p, tls_failures)++;
    }
    if (sp->kind == K_HTTP) {
        CNT(p, http_requests) += sp->nreq;
        CNT(p, http_responses) += sp->nreq;    /* 100 Continue not counted */
        for (int i = 0; i < sp->nreq; i++) {
            if (sp->status[i] >= 400 && sp->status[i] < 500) CNT(p, http_4xx)++;
            if (sp->status[i] >= 500 && sp->status[i] < 600) CNT(p, http_5xx)++;
        }
    }
}

static void conn_init(conn *k, const spec *sp, uint16_t sport)
{
    memset(k, 0, sizeof *k);
    k->h[C] = client_host(sp->client, sp->v6);
    k->h[S] = (sp->kind == K_DNS_TCP) ? resolver_host(sp->v6) : server_host(sp->prov, sp->v6);
    k->port[C] = next_port(sp->client);
    k->port[S] = sport;
    k->nxt[C] = (uint32_t)rnd64();
    k->nxt[S] = (uint32_t)rnd64();
    k->t = sp->t;
    k->rtt = (sp->kind == K_DNS_TCP) ? 300 + rnd_below(2000) : 4000 + rnd_below(80000);
}

/* The handshake, or its failure: refused (RST-ACK to the SYN, RFC 9293
 * 3.10.7.1) or unanswered (SYN retransmitted at +1 s and +3 s, RFC 6298's
 * 1 s initial RTO doubling). RTX_SYN: one retransmission before the answer.
 * Returns false if the connection was never established. */
static bool tcp_open(conn *k, const spec *sp)
{
    bool fail = sp->out == O_REFUSED || sp->out == O_SYN_TIMEOUT;
    uint32_t isn = tx(k, C, SYN, NULL, 0);
    int rtx = sp->out == O_SYN_TIMEOUT ? 2 : (sp->rtx & RTX_SYN) ? 1 : 0;
    for (int i = 0; i < rtx; i++) {
        later(k, (uint64_t)(i + 1) * US);
        seg(k, C, SYN, isn, NULL, 0);
        out.st[ST_SYN_RTX]++;
    }
    if (sp->out == O_SYN_TIMEOUT)
        return false;
    wait_rtt(k);
    if (fail) {
        seg(k, S, RST | ACK, 0, NULL, 0);
        return false;
    }
    tx(k, S, SYN | ACK, NULL, 0);
    gap(k);
    tx(k, C, ACK, NULL, 0);
    return true;
}

static void server_rst(conn *k, const spec *sp)
{
    uint32_t seq = tx(k, S, RST | ACK, NULL, 0);
    if (sp->rtx & RTX_RST) {                /* same RST again: counts once */
        later(k, 500 + rnd_below(5000));
        seg(k, S, RST | ACK, seq, NULL, 0);
        out.st[ST_RST_RTX]++;
    }
}

static void client_close(conn *k)
{
    gap(k);
    tx(k, C, FIN | ACK, NULL, 0);
    wait_rtt(k);
    tx(k, S, FIN | ACK, NULL, 0);
    gap(k);
    tx(k, C, ACK, NULL, 0);
}

/* Client data, with an optional retransmission of the same bytes at the
 * same sequence number 200 ms later (the server's ACK was lost). */
static void client_send(conn *k, const spec *sp, bool may_rtx, const uint8_t *p, size_t n)
{
    uint32_t seq = k->nxt[C];
    send_data(k, C, p, n);
    if (may_rtx && (sp->rtx & RTX_DATA) && n <= MSS) {
        later(k, 200000);
        seg(k, C, ACK | PSH, seq, p, (uint32_t)n);
        out.st[ST_DATA_RTX]++;
    }
}

/* --- TLS (RFC 8446, RFC 5246) --------------------------------------- */

static void tls_record(buf *b, uint8_t type, uint16_t ver, const uint8_t *p, size_t n)
{
    b_u8(b, type);
    b_u16(b, ver);
    b_u16(b, (unsigned)n);
    b_put(b, p, n);
}

static void tls_random_record(buf *b, uint8_t type, size_t n)
{
    b_u8(b, type);
    b_u16(b, 0x0303);
    b_u16(b, (unsigned)n);
    b_rand(b, n);
}

/* A ClientHello as a TLS 1.3-capable client sends it (RFC 8446 4.1.2):
 * legacy version 1.2, 32-byte session id, suites for 1.3 and 1.2, SNI
 * (RFC 6066 3), groups, signature algorithms, ALPN, supported_versions,
 * psk modes and an x25519 key share. */
static void client_hello(buf *b, const char *sni)
{
    buf h = { 0 };
    static const uint8_t suites[] = { 0x13, 0x01, 0x13, 0x02, 0x13, 0x03, 0xc0, 0x2b,
                                      0xc0, 0x2f, 0xc0, 0x2c, 0xc0, 0x30, 0x00, 0x9c };
    static const uint8_t sigalgs[] = { 0x04, 0x03, 0x08, 0x04, 0x04, 0x01, 0x05, 0x03,
                                       0x08, 0x05, 0x05, 0x01, 0x08, 0x06, 0x06, 0x01 };
    b_u8(&h, 1);                            /* client_hello */
    size_t hl = b_hole(&h, 3);
    b_u16(&h, 0x0303);
    b_rand(&h, 32);
    b_u8(&h, 32);
    b_rand(&h, 32);
    b_u16(&h, sizeof suites);
    b_put(&h, suites, sizeof suites);
    b_u8(&h, 1);
    b_u8(&h, 0);                            /* null compression */
    size_t el = b_hole(&h, 2);
    size_t n = strlen(sni);
    b_u16(&h, 0x0000);                      /* server_name */
    b_u16(&h, (unsigned)(n + 5));
    b_u16(&h, (unsigned)(n + 3));
    b_u8(&h, 0);                            /* host_name */
    b_u16(&h, (unsigned)n);
    b_put(&h, sni, n);
    b_u16(&h, 0x000b); b_u16(&h, 2); b_u8(&h, 1); b_u8(&h, 0);  /* ec_point_formats */
    b_u16(&h, 0x000a); b_u16(&h, 6); b_u16(&h, 4);              /* supported_groups */
    b_u16(&h, 0x001d); b_u16(&h, 0x0017);
    b_u16(&h, 0x000d); b_u16(&h, sizeof sigalgs + 2); b_u16(&h, sizeof sigalgs);
    b_put(&h, sigalgs, sizeof sigalgs);
    b_u16(&h, 0x0010); b_u16(&h, 11); b_u16(&h, 9);            /* ALPN */
    b_u8(&h, 8); b_put(&h, "http/1.1", 8);
    b_u16(&h, 0x002b); b_u16(&h, 5); b_u8(&h, 4);              /* supported_versions */
    b_u16(&h, 0x0304); b_u16(&h, 0x0303);
    b_u16(&h, 0x002d); b_u16(&h, 2); b_u8(&h, 1); b_u8(&h, 1); /* psk_key_exchange_modes */
    b_u16(&h, 0x0033); b_u16(&h, 38); b_u16(&h, 36);           /* key_share */
    b_u16(&h, 0x001d); b_u16(&h, 32); b_rand(&h, 32);
    b_fill(&h, el, 2);
    b_fill(&h, hl, 3);
    tls_record(b, 22, 0x0301, h.p, h.n);
    free(h.p);
}

/* ServerHello: TLS 1.3 (supported_versions + key_share) or TLS 1.2
 * (renegotiation_info, RSA suite so no ServerKeyExchange is needed). */
static void server_hello(buf *b, bool v13)
{
    buf h = { 0 };
    b_u8(&h, 2);
    size_t hl = b_hole(&h, 3);
    b_u16(&h, 0x0303);
    b_rand(&h, 32);
    b_u8(&h, 32);
    b_rand(&h, 32);
    b_u16(&h, v13 ? 0x1301 : 0x009c);
    b_u8(&h, 0);
    size_t el = b_hole(&h, 2);
    if (v13) {
        b_u16(&h, 0x002b); b_u16(&h, 2); b_u16(&h, 0x0304);
        b_u16(&h, 0x0033); b_u16(&h, 36); b_u16(&h, 0x001d); b_u16(&h, 32);
        b_rand(&h, 32);
    } else {
        b_u16(&h, 0xff01); b_u16(&h, 1); b_u8(&h, 0);
    }
    b_fill(&h, el, 2);
    b_fill(&h, hl, 3);
    if (!v13) {
        /* Certificate with an empty list (a stand-in: real DER would need a
         * real certificate), then ServerHelloDone. */
        b_u8(&h, 11); b_u8(&h, 0); b_u16(&h, 3); b_u8(&h, 0); b_u16(&h, 0);
        b_u8(&h, 14); b_u8(&h, 0); b_u16(&h, 0);
    }
    tls_record(b, 22, 0x0303, h.p, h.n);
    free(h.p);
}

static void ccs(buf *b) { tls_record(b, 20, 0x0303, (const uint8_t[]){ 1 }, 1); }

static void run_tls(const spec *sp)
{
    conn k;
    buf b = { 0 };
    conn_init(&k, sp, 443);
    if (!tcp_open(&k, sp))
        return;
    gap(&k);
    client_hello(&b, sp->name);
    client_send(&k, sp, true, b.p, b.n);
    wait_rtt(&k);
    b.n = 0;
    switch (sp->out) {
    case O_TLS_ALERT: {
        /* Fatal alert (RFC 8446 6): handshake_failure or unrecognized_name,
         * then the server closes. */
        uint8_t al[2] = { 2, chance(0.7) ? 40 : 112 };
        tls_record(&b, 21, 0x0303, al, 2);
        send_data(&k, S, b.p, b.n);
        gap(&k);
        tx(&k, S, FIN | ACK, NULL, 0);
        gap(&k);
        tx(&k, C, FIN | ACK, NULL, 0);
        wait_rtt(&k);
        tx(&k, S, ACK, NULL, 0);
        break;
    }
    case O_TLS_RST:
        server_rst(&k, sp);
        break;
    case O_TLS_SILENT:
        tx(&k, S, ACK, NULL, 0);            /* the kernel ACKs; the app is mute */
        later(&k, 10 * US);
        client_close(&k);
        break;
    default:                                /* O_OK, O_RESET */
        server_hello(&b, sp->tls13);
        if (sp->tls13) {
            ccs(&b);                        /* middlebox compatibility, RFC 8446 D.4 */
            tls_random_record(&b, 23, 1500 + rnd_below(2500));  /* EE, Cert, CV, Fin */
        }
        send_data(&k, S, b.p, b.n);
        gap(&k);
        b.n = 0;
        if (sp->tls13) {
            ccs(&b);
            tls_random_record(&b, 23, 53);  /* client Finished */
            tls_random_record(&b, 23, 100 + rnd_below(600));
            send_data(&k, C, b.p, b.n);
        } else {
            uint8_t cke[262];               /* ClientKeyExchange, RSA */
            cke[0] = 16; cke[1] = 0; put16(cke + 2, 258); put16(cke + 4, 256);
            rnd_fill(cke + 6, 256);
            tls_record(&b, 22, 0x0303, cke, sizeof cke);
            ccs(&b);
            tls_random_record(&b, 22, 40);  /* encrypted Finished */
            send_data(&k, C, b.p, b.n);
            wait_rtt(&k);
            b.n = 0;
            ccs(&b);
            tls_random_record(&b, 22, 40);
            send_data(&k, S, b.p, b.n);
            gap(&k);
            b.n = 0;
            tls_random_record(&b, 23, 100 + rnd_below(600));
            send_data(&k, C, b.p, b.n);
        }
        wait_rtt(&k);
        b.n = 0;
        tls_random_record(&b, 23, 200 + rnd_below(4000));
        send_data(&k, S, b.p, b.n);
        ack(&k, C);
        if (sp->out == O_RESET) {
            later(&k, 100000 + rnd_below(2000000));
            server_rst(&k, sp);
        } else {
            later(&k, 10000 + rnd_below(500000));
            client_close(&k);
        }
    }
    free(b.p);
}

/* --- HTTP/1.1 (RFC 9112) -------------------------------------------- */

static const char *reason(unsigned st)
{
    static const struct { unsigned st; const char *text; } t[] = {
        { 200, "OK" }, { 304, "Not Modified" }, { 403, "Forbidden" }, { 404, "Not Found" },
        { 500, "Internal Server Error" }, { 502, "Bad Gateway" },
        { 503, "Service Unavailable" }, { 504, "Gateway Timeout" },
        /* Cloudflare's own 52x/530 pages */
        { 520, "Unknown Error" }, { 521, "Web Server Is Down" },
        { 522, "Connection Timed Out" }, { 523, "Origin Is Unreachable" },
        { 524, "A Timeout Occurred" }, { 525, "SSL Handshake Failed" },
        { 526, "Invalid SSL Certificate" }, { 530, "Origin DNS Error" },
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
        if (t[i].st == st)
            return t[i].text;
    return "Unknown";
}

/* The response headers each CDN really sends (what fl_http.h looks for). */
static void cdn_headers(buf *b, int p)
{
    unsigned long long id = rnd64();
    switch (p) {
    case P_CLOUDFLARE: b_printf(b, "Server: cloudflare\r\nCF-RAY: %016llx-FRA\r\n", id); break;
    case P_AWS: b_printf(b, "Server: AmazonS3\r\nx-amz-request-id: %016llX\r\n", id); break;
    case P_GOOGLE: b_printf(b, "Server: gws\r\n"); break;
    case P_MICROSOFT: b_printf(b, "X-MSEdge-Ref: Ref A: %016llX Ref B: FRA\r\n", id); break;
    case P_AKAMAI: b_printf(b, "Server: AkamaiGHost\r\n"); break;
    case P_FASTLY:
        b_printf(b, "X-Served-By: cache-fra-eddf82%05u-FRA\r\nVia: 1.1 varnish\r\n",
                 (unsigned)(id % 100000));
        break;
    default: b_printf(b, "Server: nginx\r\n");
    }
}

static void filler(buf *b, size_t n)
{
    static const char pat[] = "<p>flgen synthetic body</p>\n";
    for (size_t i = 0; i < n; i++)
        b_u8(b, (unsigned char)pat[i % (sizeof pat - 1)]);
}

/* A response; returns the offset of the end of the status line and sets
 * *hdr_end to the end of the header block (for where to cut). */
static size_t http_response(buf *b, const spec *sp, unsigned st, bool head,
                            bool chunked, uint64_t t, size_t *hdr_end)
{
    static const char *const wd[7] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
    static const char *const mo[12] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                        "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
    time_t secs = (time_t)(t / US);
    struct tm tm;
    gmtime_r(&secs, &tm);
    b_printf(b, "HTTP/1.1 %u %s\r\n", st, reason(st));
    size_t line_end = b->n;
    b_printf(b, "Date: %s, %02d %s %04d %02d:%02d:%02d GMT\r\n", wd[tm.tm_wday],
             tm.tm_mday, mo[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
    b_printf(b, "Content-Type: text/html; charset=UTF-8\r\n");
    cdn_headers(b, sp->prov);
    bool bodyless = st == 304 || st == 204;
    size_t body = 40 + rnd_below(st >= 400 ? 800 : 3500);
    if (!bodyless) {
        if (chunked && !head)
            b_printf(b, "Transfer-Encoding: chunked\r\n");
        else
            b_printf(b, "Content-Length: %zu\r\n", body);
    }
    b_printf(b, "Connection: keep-alive\r\n\r\n");
    *hdr_end = b->n;
    if (head || bodyless)
        return line_end;
    if (!chunked) {
        filler(b, body);
        return line_end;
    }
    size_t first = body / 3 + 1;            /* RFC 9112 7.1: two chunks, then 0 */
    b_printf(b, "%zx\r\n", first);
    filler(b, first);
    b_printf(b, "\r\n%zx\r\n", body - first);
    filler(b, body - first);
    b_printf(b, "\r\n0\r\n\r\n");
    return line_end;
}

static void run_http(const spec *sp)
{
    static const char *const paths[] = { "/", "/index.html", "/static/app.js",
                                         "/api/v1/items?id=42", "/img/logo.png" };
    conn k;
    buf b = { 0 };
    conn_init(&k, sp, 80);
    if (!tcp_open(&k, sp))
        return;
    for (int i = 0; i < sp->nreq; i++) {
        later(&k, i ? 20000 + rnd_below(800000) : 100 + rnd_below(500));
        bool head = i == sp->head_at, post = i == sp->cont_at;
        const char *path = sp->path ? sp->path : paths[rnd_below(5)];
        size_t post_len = 20 + rnd_below(200);
        b.n = 0;
        b_printf(&b, "%s %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: flgen/1.0\r\nAccept: */*\r\n",
                 head ? "HEAD" : post ? "POST" : "GET", path, sp->name);
        if (post)
            b_printf(&b, "Content-Type: application/json\r\nContent-Length: %zu\r\n"
                         "Expect: 100-continue\r\n", post_len);
        b_printf(&b, "\r\n");
        client_send(&k, sp, i == 0, b.p, b.n);
        wait_rtt(&k);
        if (post) {                         /* RFC 9110 10.1.1 */
            static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
            send_data(&k, S, (const uint8_t *)cont, sizeof cont - 1);
            gap(&k);
            b.n = 0;
            b_u8(&b, '{');
            filler(&b, post_len - 2);
            b_u8(&b, '}');
            send_data(&k, C, b.p, b.n);
            wait_rtt(&k);
        }
        later(&k, rnd_below(sp->status[i] >= 520 ? 300000 : 30000));
        b.n = 0;
        bool chunked = chance(0.4);
        size_t hdr_end, line_end = http_response(&b, sp, sp->status[i], head, chunked,
                                                 opt.start * US + k.t, &hdr_end);
        size_t cuts[3];
        int nc = 0;
        if (sp->split == 2)                 /* inside the status line */
            cuts[nc++] = 5 + rnd_below((uint32_t)(line_end - 7));
        if (sp->split)                      /* inside the header block */
            cuts[nc++] = line_end + 1 + rnd_below((uint32_t)(hdr_end - line_end - 2));
        /* The last chunk "0\r\n\r\n" goes in a write of its own, as servers
         * do; tshark 4.0 calls a chunked body malformed when a segment
         * boundary falls inside it (valid HTTP, but we want clean tshark). */
        if (chunked && b.n > hdr_end)
            cuts[nc++] = b.n - 5;
        send_cut(&k, S, b.p, b.n, cuts, nc);
        ack(&k, C);
    }
    if (sp->out == O_RESET) {
        later(&k, 50000 + rnd_below(3000000));
        server_rst(&k, sp);
    } else if (sp->client_rst) {
        later(&k, 1000 + rnd_below(100000));
        tx(&k, C, RST | ACK, NULL, 0);
    } else {
        later(&k, 1000 + rnd_below(300000));
        client_close(&k);
    }
    free(b.p);
}

/* --- DNS (RFC 1035) ------------------------------------------------- */

static void dns_name(buf *b, const char *name)
{
    while (*name) {
        const char *dot = strchr(name, '.');
        size_t n = dot ? (size_t)(dot - name) : strlen(name);
        b_u8(b, (unsigned)n);
        b_put(b, name, n);
        name += n + (dot ? 1 : 0);
    }
    b_u8(b, 0);
}

/* The zone is the last two labels: cloudflare.com, amazonaws.com, ... */
static const char *zone_of(const char *name)
{
    const char *last = strrchr(name, '.');
    const char *z = name;
    for (const char *p = name; p < last; p++)
        if (*p == '.')
            z = p + 1;
    return z;
}

static void dns_rr_head(buf *b, const char *owner, unsigned type, uint32_t ttl)
{
    dns_name(b, owner);
    b_u16(b, type);
    b_u16(b, 1);                            /* IN */
    b_u32(b, ttl);
}

static void dns_message(buf *b, uint16_t id, const spec *sp, bool response)
{
    static const uint8_t rcode[] = {
        [O_OK] = 0, [O_NODATA] = 0, [O_NXDOMAIN] = 3, [O_SERVFAIL] = 2, [O_DNS_REFUSED] = 5,
    };
    unsigned qtype = sp->aaaa ? 28 : 1;
    unsigned an = 0, ns = 0;
    b_u16(b, id);
    if (!response)
        b_u16(b, 0x0100);                   /* RD */
    else if (sp->out == O_DNS_REFUSED)
        b_u16(b, 0x8100 | rcode[sp->out]);  /* QR RD, no RA */
    else
        b_u16(b, 0x8180 | rcode[sp->out]);  /* QR RD RA */
    b_u16(b, 1);
    size_t counts = b_hole(b, 6);
    dns_name(b, sp->name);
    b_u16(b, qtype);
    b_u16(b, 1);
    if (response && sp->out == O_OK) {
        char target[128];
        const char *owner = sp->name;
        if (sp->chain) {                    /* name -> edge-NNNN.<cdn suffix> */
            snprintf(target, sizeof target, "edge-%04u%s", rnd_below(10000),
                     provs[sp->prov].cname);
            dns_rr_head(b, sp->name, 5, 300);
            size_t rl = b_hole(b, 2);
            dns_name(b, target);
            b_fill(b, rl, 2);
            owner = target;
            an++;
        }
        int n = 1 + (int)rnd_below(2);
        for (int i = 0; i < n; i++) {
            host h = server_host(sp->prov, sp->aaaa);
            dns_rr_head(b, owner, qtype, 60);
            b_u16(b, sp->aaaa ? 16 : 4);
            b_put(b, h.a, sp->aaaa ? 16 : 4);
            an++;
        }
    }
    if (response && (sp->out == O_NXDOMAIN || sp->out == O_NODATA)) {
        /* RFC 2308: the zone's SOA in the authority section. */
        const char *z = zone_of(sp->name);
        dns_rr_head(b, z, 6, 900);
        size_t rl = b_hole(b, 2);
        char m[128];
        snprintf(m, sizeof m, "ns1.%s", z);
        dns_name(b, m);
        snprintf(m, sizeof m, "hostmaster.%s", z);
        dns_name(b, m);
        b_u32(b, 2025102001);
        b_u32(b, 7200);
        b_u32(b, 900);
        b_u32(b, 1209600);
        b_u32(b, 300);
        b_fill(b, rl, 2);
        ns++;
    }
    put16(b->p + counts, an);
    put16(b->p + counts + 2, ns);
    put16(b->p + counts + 4, 0);
}

static void run_dns_udp(const spec *sp)
{
    host c = client_host(sp->client, sp->v6), r = resolver_host(sp->v6);
    uint16_t port = next_port(sp->client), id = (uint16_t)rnd64();
    buf b = { 0 };
    dns_message(&b, id, sp, false);
    udp_send(sp->t, &c, &r, port, 53, b.p, (uint32_t)b.n);
    if (sp->out != O_DNS_TIMEOUT) {
        uint64_t t = sp->t + 300 + rnd_below(sp->out == O_SERVFAIL ? 2000000 : 40000);
        b.n = 0;
        dns_message(&b, id, sp, true);
        udp_send(t, &r, &c, 53, port, b.p, (uint32_t)b.n);
    }
    free(b.p);
}

/* DNS over TCP (RFC 7766): 2-byte length prefix; the response is split
 * across two segments. */
static void run_dns_tcp(const spec *sp)
{
    conn k;
    buf b = { 0 };
    uint16_t id = (uint16_t)rnd64();
    conn_init(&k, sp, 53);
    tcp_open(&k, sp);
    gap(&k);
    size_t l = b_hole(&b, 2);
    dns_message(&b, id, sp, false);
    b_fill(&b, l, 2);
    client_send(&k, sp, true, b.p, b.n);
    wait_rtt(&k);
    b.n = 0;
    l = b_hole(&b, 2);
    dns_message(&b, id, sp, true);
    b_fill(&b, l, 2);
    size_t cut = 2 + 1 + rnd_below((uint32_t)(b.n - 3));
    send_cut(&k, S, b.p, b.n, &cut, 1);
    ack(&k, C);
    client_close(&k);
    free(b.p);
}

/* K_TCP: a bare connection attempt to a port (refused or unanswered). */
static void run_tcp(const spec *sp)
{
    conn k;
    conn_init(&k, sp, sp->port);
    tcp_open(&k, sp);
}

/* Make a spec self-consistent, count it, build its packets. */
static void session(spec *sp)
{
    const provider *pv = &provs[sp->prov];
    if (sp->kind == K_DNS || sp->kind == K_DNS_TCP) {
        if (!is_dns_outcome(sp->out))
            sp->out = is_tcp_failure(sp->out) ? O_DNS_TIMEOUT : O_OK;
        if (sp->kind == K_DNS_TCP && sp->out == O_DNS_TIMEOUT)
            sp->kind = K_DNS;
        if (sp->aaaa && NV6(sp->prov) == 0 && sp->out == O_OK)
            sp->out = O_NODATA;             /* no AAAA: NOERROR, empty */
        if (!pv->cname)
            sp->chain = 0;
    } else {
        if (sp->v6 && NV6(sp->prov) == 0)
            sp->v6 = 0;
        if (is_dns_outcome(sp->out))
            sp->out = O_OK;
        if (sp->kind == K_HTTP && sp->out >= O_TLS_ALERT)
            sp->out = sp->out == O_TLS_RST ? O_RESET : O_OK;
        if (sp->kind == K_TCP && !is_tcp_failure(sp->out))
            sp->out = O_REFUSED;
    }
    if (!sp->name[0]) {
        const char *n = pv->names[rnd_below(NNAMES(sp->prov))];
        if (sp->out == O_NXDOMAIN)
            snprintf(sp->name, sizeof sp->name, "nosuch%u.%s", rnd_below(100000), zone_of(n));
        else
            snprintf(sp->name, sizeof sp->name, "%s", n);
    }
    account(sp);
    switch (sp->kind) {
    case K_TCP: run_tcp(sp); break;
    case K_TLS: run_tls(sp); break;
    case K_HTTP: run_http(sp); break;
    case K_DNS: run_dns_udp(sp); break;
    case K_DNS_TCP: run_dns_tcp(sp); break;
    }
}

/* ------------------------------------------------------------------ */
/* Scenarios.                                                          */


/* A background session: kind, options and the ordinary error mix of a
 * clean day (occasional NXDOMAIN, NODATA, 404, resets, rarer the rest). */
static void base_session(spec *sp)
{
    double r = rnd_unit();
    sp->kind = r < 0.35 ? K_DNS : r < 0.37 ? K_DNS_TCP : r < 0.77 ? K_TLS : K_HTTP;
    sp->v6 = chance(0.25);
    sp->tls13 = chance(0.7);
    sp->aaaa = chance(0.3);
    sp->chain = chance(0.3);
    sp->nreq = (uint8_t)(1 + rnd_below(4));
    sp->head_at = chance(0.1) ? (int8_t)rnd_below(sp->nreq) : -1;
    sp->cont_at = chance(0.05) ? (int8_t)rnd_below(sp->nreq) : -1;
    if (sp->cont_at == sp->head_at)
        sp->cont_at = -1;
    sp->split = chance(0.3) ? (uint8_t)(1 + rnd_below(2)) : 0;
    sp->client_rst = chance(0.05);
    for (int i = 0; i < MAX_REQ; i++) {
        double s = rnd_unit();
        sp->status[i] = s < 0.05 ? 404 : s < 0.055 ? 403 : s < 0.058 ? 500 : s < 0.06 ? 502
                      : chance(0.03) ? 304 : 200;
    }
    double e = rnd_unit();
    sp->out = O_OK;
    if (sp->kind == K_DNS || sp->kind == K_DNS_TCP) {
        sp->out = e < 0.02 ? O_NXDOMAIN : e < 0.05 ? O_NODATA : e < 0.052 ? O_SERVFAIL
                : e < 0.053 ? O_DNS_REFUSED : e < 0.055 ? O_DNS_TIMEOUT : O_OK;
    } else {
        sp->out = e < 0.003 ? O_REFUSED : e < 0.006 ? O_SYN_TIMEOUT : e < 0.013 ? O_RESET
                : e < 0.015 ? O_TLS_ALERT : e < 0.016 ? O_TLS_RST : e < 0.017 ? O_TLS_SILENT
                : O_OK;
    }
}

static bool in_incident(uint32_t s) { return s >= opt.onset && s < opt.end; }

static void pick_5xx(spec *sp, double p, const uint16_t *codes, int ncodes)
{
    for (int i = 0; i < sp->nreq; i++)
        if (chance(p))
            sp->status[i] = codes[rnd_below((uint32_t)ncodes)];
}

/* mixed: every kind and outcome often, IPv6, retransmissions everywhere. */
static void hook_mixed(spec *sp, uint32_t s)
{
    static const uint16_t codes[] = { 404, 500, 502, 503, 520, 521, 522, 523, 524, 525, 526, 530 };
    (void)s;
    sp->v6 = chance(0.35);
    sp->rtx = (uint8_t)((chance(0.15) ? RTX_SYN : 0) | (chance(0.15) ? RTX_DATA : 0)
                        | (chance(0.3) ? RTX_RST : 0));
    sp->split = (uint8_t)rnd_below(3);
    pick_5xx(sp, 0.3, codes, 12);
    if (chance(0.5))
        return;
    if (sp->kind == K_DNS || sp->kind == K_DNS_TCP)
        sp->out = (uint8_t)(O_NXDOMAIN + rnd_below(5));
    else
        sp->out = (uint8_t)(O_REFUSED + rnd_below(sp->kind == K_TLS ? 6 : 3));
}

/* cloudflare-5xx: Cloudflare's edge answers 52x and fails TLS handshakes. */
static void hook_cf5xx(spec *sp, uint32_t s)
{
    static const uint16_t codes[] = { 520, 521, 522, 523, 524, 525, 526 };
    if (sp->prov != P_CLOUDFLARE || !in_incident(s))
        return;
    if (sp->kind == K_HTTP) {
        pick_5xx(sp, 0.7, codes, 7);
        sp->split = 2;
        sp->nreq = (uint8_t)(2 + rnd_below(4));
        sp->out = O_OK;
    } else if (sp->kind == K_TLS) {
        double r = rnd_unit();
        sp->out = r < 0.3 ? O_TLS_ALERT : r < 0.6 ? O_TLS_RST : O_OK;
    }
}

/* aws-dns: names under amazonaws.com fail (SERVFAIL, NODATA); AWS
 * addresses refuse connections. */
static void hook_awsdns(spec *sp, uint32_t s)
{
    if (sp->prov != P_AWS || !in_incident(s))
        return;
    double r = rnd_unit();
    if (sp->kind == K_DNS || sp->kind == K_DNS_TCP)
        sp->out = r < 0.5 ? O_SERVFAIL : r < 0.8 ? O_NODATA : O_OK;
    else
        sp->out = r < 0.6 ? O_REFUSED : O_OK;
}

/* gradual: Fastly's failure ratio rises linearly from 0 at onset to 60 %
 * at end, then recovers at once. */
static void hook_gradual(spec *sp, uint32_t s)
{
    if (sp->prov != P_FASTLY || !in_incident(s) || sp->kind == K_DNS || sp->kind == K_DNS_TCP)
        return;
    double f = 0.6 * (double)(s - opt.onset) / (double)(opt.end - opt.onset);
    if (!chance(f))
        return;
    if (sp->kind == K_HTTP) {
        static const uint16_t c503[] = { 503 };
        pick_5xx(sp, 1.0, c503, 1);
        sp->out = O_OK;
    } else {
        sp->out = chance(0.5) ? O_TLS_RST : O_SYN_TIMEOUT;
    }
}

/* local-uplink: nothing leaves the site; every SYN goes unanswered and
 * every DNS query times out, for all providers at once. */
static void hook_local(spec *sp, uint32_t s)
{
    if (!in_incident(s))
        return;
    sp->out = (sp->kind == K_DNS || sp->kind == K_DNS_TCP) ? O_DNS_TIMEOUT : O_SYN_TIMEOUT;
}

/* low-volume: Oracle has a handful of flows; half fail in the window. */
static void hook_lowvol(spec *sp, uint32_t s)
{
    if (sp->prov != P_ORACLE || !in_incident(s) || !chance(0.5))
        return;
    if (sp->kind == K_DNS || sp->kind == K_DNS_TCP)
        sp->out = O_SERVFAIL;
    else
        sp->out = chance(0.5) ? O_REFUSED : O_SYN_TIMEOUT;
}

/* noisy-client: client 0 hammers a closed port at AWS (4 tries a second)
 * and retries a broken URL at Google every 3 s; nothing else is wrong. */
static void extra_noisy(uint32_t s)
{
    for (int i = 0; i < 4; i++) {
        spec sp = { 0 };
        sp.t = s * US + rnd_below(US);
        sp.prov = P_AWS;
        sp.kind = K_TCP;
        sp.port = 8443;
        sp.out = O_REFUSED;
        session(&sp);
    }
    if (s % 3 == 0) {
        spec sp = { 0 };
        sp.t = s * US + rnd_below(US);
        sp.prov = P_GOOGLE;
        sp.kind = K_HTTP;
        sp.nreq = 1;
        sp.head_at = sp.cont_at = -1;
        sp.status[0] = 500;
        sp.path = "/api/v1/broken";
        snprintf(sp.name, sizeof sp.name, "www.googleapis.com");
        session(&sp);
    }
}

typedef struct scenario {
    const char *name;
    void (*hook)(spec *sp, uint32_t s);
    void (*extra)(uint32_t s);
    uint32_t provmask;          /* providers with background traffic */
    uint32_t clients;
    double rate;                /* background rate scale */
    const char *incident;       /* "PROVIDER\tSCOPE" of the incident, or NULL */
    const char *quiet[2];       /* providers that must not alert ("*": all) */
    bool quiet_window;          /* ... during onset..end only (else always) */
    const char *note;           /* a comment for the truth file */
} scenario;

#define MAIN6 0x3fu             /* Cloudflare .. Fastly */

static const scenario scenarios[] = {
    { "mixed", hook_mixed, NULL, MAIN6, 30, 0.25, NULL, { NULL, NULL }, false,
      "every kind and outcome, IPv6, retransmissions: the exact-count capture" },
    { "cloudflare-5xx", hook_cf5xx, NULL, MAIN6, 40, 1.0, "Cloudflare\tprovider",
      { NULL, NULL }, false, "Cloudflare: 52x over keep-alive, TLS alerts and resets" },
    { "aws-dns", hook_awsdns, NULL, MAIN6, 40, 1.0, "AWS\tprovider", { NULL, NULL }, false,
      "amazonaws.com names SERVFAIL/NODATA, AWS addresses refuse connections" },
    { "gradual", hook_gradual, NULL, MAIN6, 40, 1.0, "Fastly\tprovider", { NULL, NULL },
      false, "Fastly's failure ratio rises linearly 0 -> 60% over the window" },
    { "local-uplink", hook_local, NULL, MAIN6, 40, 1.0, "local\tlocal", { NULL, NULL },
      false, "all SYNs unanswered, all DNS queries time out, every provider" },
    { "noisy-client", NULL, extra_noisy, MAIN6, 40, 1.0, NULL, { "AWS", "Google" }, false,
      "one client (10.1.0.10) refused at AWS :8443 and 500s at Google" },
    { "low-volume", hook_lowvol, NULL, MAIN6 | 1u << P_ORACLE, 40, 1.0, NULL,
      { "Oracle", NULL }, true, "Oracle: a handful of flows, half failing in the window" },
    { "clean", NULL, NULL, MAIN6 | 1u << P_ORACLE, 80, 1.0, NULL, { "*", NULL }, false,
      "a clean day: ordinary background errors only" },
};
#define NSCEN (sizeof scenarios / sizeof scenarios[0])

static void generate(const scenario *sc)
{
    for (uint32_t i = 0; i < opt.clients; i++)
        client_port[i] = (uint16_t)(32768 + rnd_below(20000));
    /* Clients 0.. are busy, the rest occasional: a realistic skew. */
    for (uint32_t s = 0; s + 6 < opt.duration; s++) {
        bool tail = s + TAIL_S >= opt.duration;
        for (int p = 0; p < NPROV; p++) {
            if (!(sc->provmask & 1u << p))
                continue;
            uint32_t n = rnd_poisson(provs[p].rate * sc->rate * opt.scale);
            for (uint32_t i = 0; i < n; i++) {
                spec sp = { 0 };
                sp.t = s * US + rnd_below(US);
                sp.prov = (uint8_t)p;
                uint32_t a = rnd_below(opt.clients), b = rnd_below(opt.clients);
                sp.client = a < b ? a : b;
                base_session(&sp);
                if (sc->hook)
                    sc->hook(&sp, s);
                if (tail) {                 /* short and healthy near the end */
                    sp.out = O_OK;
                    if (sp.kind == K_TCP)
                        sp.kind = K_TLS;
                }
                session(&sp);
            }
        }
        if (sc->extra && !tail)
            sc->extra(s);
    }
}

/* ------------------------------------------------------------------ */
/* Output.                                                             */

static int frame_cmp(const void *a, const void *b)
{
    const frame *x = a, *y = b;
    if (x->ts != y->ts)
        return x->ts < y->ts ? -1 : 1;
    return x->order < y->order ? -1 : x->order > y->order;
}

static void le32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

/* Classic pcap: 24-byte file header, 16-byte record headers, all
 * little-endian whatever the host (so the bytes are the same everywhere). */
static void write_pcap(const char *path)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        die("cannot open --out file");
    uint8_t h[24];
    le32(h, 0xa1b2c3d4);
    h[4] = 2; h[5] = 0; h[6] = 4; h[7] = 0;    /* version 2.4 */
    le32(h + 8, 0);
    le32(h + 12, 0);
    le32(h + 16, 65535);
    le32(h + 20, 1);                           /* LINKTYPE_ETHERNET */
    fwrite(h, 1, sizeof h, f);
    qsort(out.fr, out.nfr, sizeof *out.fr, frame_cmp);
    for (size_t i = 0; i < out.nfr; i++) {
        const frame *fr = &out.fr[i];
        uint64_t ts = opt.start * US + fr->ts;
        uint8_t r[16];
        le32(r, (uint32_t)(ts / US));
        le32(r + 4, (uint32_t)(ts % US));
        le32(r + 8, fr->len);
        le32(r + 12, fr->len);
        fwrite(r, 1, sizeof r, f);
        fwrite(out.bytes.p + fr->off, 1, fr->len, f);
    }
    if (fclose(f) != 0)
        die("write error on --out file");
}

static const char *const counter_names[FL_C_COUNT] = {
#define FL_X(name, fail) #name,
    FL_COUNTERS(FL_X)
#undef FL_X
};

static void write_truth(const char *path, const scenario *sc, uint64_t seed)
{
    FILE *f = fopen(path, "w");
    if (!f)
        die("cannot open --truth file");
    unsigned long long on = opt.start + opt.onset, off = opt.start + opt.end;
    unsigned long long t0 = opt.start, t1 = opt.start + opt.duration;
    fprintf(f, "# flgen truth v1: exact counts by construction (tests/gen/flgen.c)\n"
               "# DNS flows and messages belong to the provider of the queried name;\n"
               "# retransmissions count once; no incident row = no alert expected.\n"
               "#type\tprovider\tname\tvalue\tvalue2\n");
    fprintf(f, "meta\t-\tscenario\t%s\n", sc->name);
    fprintf(f, "meta\t-\tseed\t%llu\n", (unsigned long long)seed);
    fprintf(f, "meta\t-\tstart\t%llu\n", t0);
    fprintf(f, "meta\t-\tduration\t%u\n", opt.duration);
    fprintf(f, "meta\t-\tclients\t%u\n", opt.clients);
    for (int p = 0; p < NPROV; p++) {
        if (!(sc->provmask & 1u << p))
            continue;
        for (int c = 0; c < FL_C_COUNT; c++)
            fprintf(f, "counter\t%s\t%s\t%llu\n", provs[p].name, counter_names[c],
                    (unsigned long long)truth[p][c]);
        fprintf(f, "detail\t%s\tdns_flows\t%llu\n", provs[p].name,
                (unsigned long long)dns_flows[p]);
        fprintf(f, "detail\t%s\tdns_tcp_flows\t%llu\n", provs[p].name,
                (unsigned long long)dns_tcp_flows[p]);
    }
    for (int i = 0; i < ST_COUNT; i++)
        fprintf(f, "packets\t*\t%s\t%llu\n", st_names[i], (unsigned long long)out.st[i]);
    fprintf(f, "# %s\n", sc->note);
    if (sc->incident)
        fprintf(f, "incident\t%s\t%llu\t%llu\n", sc->incident, on, off);
    for (int i = 0; i < 2 && sc->quiet[i]; i++)
        fprintf(f, "expect\t%s\tno_alert\t%llu\t%llu\n", sc->quiet[i],
                sc->quiet_window ? on : t0, sc->quiet_window ? off : t1);
    if (fclose(f) != 0)
        die("write error on --truth file");
}

static void usage(void)
{
    fprintf(stderr,
            "usage: flgen --seed N --scenario NAME --out FILE.pcap --truth FILE.tsv\n"
            "             [--start EPOCH] [--duration S] [--onset S] [--end S]\n"
            "             [--clients N] [--scale X]\n"
            "scenarios:");
    for (size_t i = 0; i < NSCEN; i++)
        fprintf(stderr, " %s", scenarios[i].name);
    fprintf(stderr, "\n");
    exit(2);
}

static unsigned long long num_arg(const char *s)
{
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (!*s || *end)
        usage();
    return v;
}

int main(int argc, char **argv)
{
    const char *scen = NULL, *pcap = NULL, *tsv = NULL;
    uint64_t seed = 0;
    bool have_seed = false;
    long long onset = -1, end = -1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v)
            usage();
        i++;
        if (!strcmp(a, "--seed")) { seed = num_arg(v); have_seed = true; }
        else if (!strcmp(a, "--scenario")) scen = v;
        else if (!strcmp(a, "--out")) pcap = v;
        else if (!strcmp(a, "--truth")) tsv = v;
        else if (!strcmp(a, "--start")) opt.start = num_arg(v);
        else if (!strcmp(a, "--duration")) opt.duration = (uint32_t)num_arg(v);
        else if (!strcmp(a, "--onset")) onset = (long long)num_arg(v);
        else if (!strcmp(a, "--end")) end = (long long)num_arg(v);
        else if (!strcmp(a, "--clients")) opt.clients = (uint32_t)num_arg(v);
        else if (!strcmp(a, "--scale")) {
            char *e;
            opt.scale = strtod(v, &e);
            if (*e || !(opt.scale > 0 && opt.scale <= 20))
                usage();
        } else
            usage();
    }
    if (!have_seed || !scen || !pcap || !tsv)
        usage();
    const scenario *sc = NULL;
    for (size_t i = 0; i < NSCEN; i++)
        if (!strcmp(scen, scenarios[i].name))
            sc = &scenarios[i];
    if (!sc)
        usage();
    if (opt.duration < 60 || opt.duration > 86400)
        die("--duration must be 60..86400 s");
    if (opt.start > 4000000000ULL)
        die("--start must fit a 32-bit pcap timestamp");
    opt.onset = onset >= 0 ? (uint32_t)onset : opt.duration / 3;
    opt.end = end >= 0 ? (uint32_t)end : 2 * opt.duration / 3;
    if (opt.onset >= opt.end || opt.end + TAIL_S > opt.duration)
        die("need onset < end <= duration - 20");
    if (!opt.clients)
        opt.clients = sc->clients;
    if (opt.clients > MAX_CLIENTS)
        die("--clients at most 1000");
    rng_state = seed;
    generate(sc);
    write_pcap(pcap);
    write_truth(tsv, sc, seed);
    free(out.fr);
    free(out.bytes.p);
    return 0;
}
