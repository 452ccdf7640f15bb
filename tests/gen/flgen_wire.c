/* flgen_wire.c - the generator's wire layer: seeded randomness, byte
 * buffers, Ethernet/IP/TCP/UDP frames with checksums, TCP connection
 * bookkeeping, the provider and client address tables, and the pcap writer.
 * See flgen.c for what the generator promises. */
#include <arpa/inet.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "flgen.h"

/* ------------------------------------------------------------------ */
/* Deterministic randomness: splitmix64 (Steele, Lea, Flood 2014).     */

uint64_t rng_state;

uint64_t rnd64(void)
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* Uniform in [0, n): multiply-shift, no modulo bias worth mentioning. */
uint32_t rnd_below(uint32_t n)
{
    return (uint32_t)(((rnd64() >> 32) * (uint64_t)n) >> 32);
}

double rnd_unit(void)
{
    return (double)(rnd64() >> 11) * 0x1p-53;
}
bool chance(double p)
{
    return rnd_unit() < p;
}

void rnd_fill(uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)rnd64();
}

/* Poisson draw (Knuth); means here are small (a few per second). */
uint32_t rnd_poisson(double mean)
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

_Noreturn void die(const char *msg)
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

void b_put(buf *b, const void *d, size_t n)
{
    b_need(b, n);
    if (n)
        memcpy(b->p + b->n, d, n);
    b->n += n;
}

void b_u8(buf *b, unsigned v)
{
    uint8_t x = (uint8_t)v;
    b_put(b, &x, 1);
}
void b_u16(buf *b, unsigned v)
{
    b_u8(b, v >> 8);
    b_u8(b, v);
}
void b_u32(buf *b, uint32_t v)
{
    b_u16(b, v >> 16);
    b_u16(b, v & 0xffff);
}

void b_rand(buf *b, size_t n)
{
    b_need(b, n);
    rnd_fill(b->p + b->n, n);
    b->n += n;
}

__attribute__((format(printf, 2, 3))) void b_printf(buf *b, const char *fmt, ...)
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
size_t b_hole(buf *b, size_t width)
{
    size_t at = b->n;
    b_need(b, width);
    memset(b->p + at, 0, width);
    b->n += width;
    return at;
}

void b_fill(buf *b, size_t at, size_t width)
{
    size_t v = b->n - at - width;
    for (size_t i = 0; i < width; i++)
        b->p[at + i] = (uint8_t)(v >> (8 * (width - 1 - i)));
}

void put16(uint8_t *p, unsigned v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}
static void put32(uint8_t *p, uint32_t v)
{
    put16(p, v >> 16);
    put16(p + 2, v & 0xffff);
}

/* ------------------------------------------------------------------ */
/* Frames: Ethernet + IPv4/IPv6 + TCP/UDP with correct checksums.      */

const char *const st_names[ST_COUNT] = {
    "frames", "rst", "rst_retransmitted", "syn_retransmitted", "data_retransmitted", "client_rst",
};

gen_out out;

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
static void emit(uint64_t t, const host *src, const host *dst, uint8_t proto, uint8_t *l4,
                 uint32_t l4len)
{
    uint8_t f[14 + 40 + 24 + MSS];
    size_t iplen = src->v6 ? 40 : 20;
    /* A span port that sees one direction only (asymmetric routing): what
     * a server sends never reaches the capture. Clients are 02:00:0a:01:... */
    if (out.server_mute && !(src->mac[2] == 10 && src->mac[3] == 1))
        return;
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
        put16(ip + 6, 0x4000); /* DF */
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
        c = 0xffff; /* RFC 768: 0 means "none" */
    put16(l4 + ck, c);
    memcpy(ip + iplen, l4, l4len);
    size_t len = 14 + iplen + l4len;
    if (len < 60) { /* Ethernet minimum frame */
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

void udp_send(uint64_t t, const host *s, const host *d, uint16_t sp, uint16_t dp, const uint8_t *p,
              uint32_t n)
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

void seg(conn *k, int d, uint8_t fl, uint32_t seq, const uint8_t *p, uint32_t n)
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
    if (fl & SYN) { /* MSS option, RFC 9293 3.7.1 */
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
uint32_t tx(conn *k, int d, uint8_t fl, const uint8_t *p, uint32_t n)
{
    uint32_t seq = k->nxt[d];
    seg(k, d, fl, seq, p, n);
    k->nxt[d] += n + ((fl & SYN) ? 1 : 0) + ((fl & FIN) ? 1 : 0);
    return seq;
}

void later(conn *k, uint64_t us)
{
    k->t += us;
}
void gap(conn *k)
{
    k->t += 20 + rnd_below(300);
}
void wait_rtt(conn *k)
{
    k->t += k->rtt + rnd_below(k->rtt / 4 + 1);
}

/* Data in MSS-sized segments, PSH on the last one. */
void send_data(conn *k, int d, const uint8_t *p, size_t n)
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
void send_cut(conn *k, int d, const uint8_t *p, size_t n, const size_t *cuts, int ncuts)
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

void ack(conn *k, int d)
{
    gap(k);
    tx(k, d, ACK, NULL, 0);
}

/* ------------------------------------------------------------------ */
/* Providers and clients.                                              */

const provider provs[NPROV] = {
    { "Cloudflare",
      { "104.16.132.229", "104.18.32.47", "172.64.155.209" },
      { "2606:4700::6810:84e5", "2606:4700:4400::ac40:9bd1" },
      { "www.cloudflare.com", "dash.cloudflare.com", "cdnjs.cloudflare.com" },
      ".cdn.cloudflare.net",
      3.0,
      57 },
    { "AWS",
      { "52.94.0.10", "3.5.0.20", "52.216.10.5" },
      { "2600:1f18::10:5", "2600:1f14::20:7" },
      { "dynamodb.us-east-1.amazonaws.com", "s3.us-east-1.amazonaws.com",
        "sqs.us-east-1.amazonaws.com" },
      ".us-east-1.elb.amazonaws.com",
      2.5,
      54 },
    { "Google",
      { "142.250.185.68", "142.251.36.4", "142.250.74.106" },
      { "2001:4860:4802:32::15", "2001:4860:4802:36::a" },
      { "www.google.com", "www.googleapis.com", "storage.googleapis.com" },
      NULL,
      3.0,
      58 },
    { "Microsoft",
      { "20.190.128.10", "40.126.0.20", "13.107.42.14" },
      { NULL, NULL },
      { "login.microsoftonline.com", "graph.microsoft.com", "management.azure.com" },
      NULL,
      1.5,
      52 },
    { "Akamai",
      { "23.32.10.5", "96.6.20.7", "184.24.77.1" },
      { "2a02:26f0:fd::5c7a:1e1", NULL },
      { "a248.e.akamai.net", "e1234.dscb.akamaiedge.net", "assets.akamaized.net" },
      ".dscb.akamaiedge.net",
      1.5,
      55 },
    { "Fastly",
      { "151.101.1.140", "151.101.65.140", "199.232.1.1" },
      { "2a04:4e42::396", "2a04:4e42:200::396" },
      { "dualstack.n.sni.global.fastly.net", "global.ssl.fastly.net",
        "f2.shared.global.fastly.net" },
      ".global.fastly.net",
      1.5,
      56 },
    { "Oracle",
      { "40.233.8.20", "40.233.70.5", NULL },
      { NULL, NULL },
      { "objectstorage.ca-toronto-1.oraclecloud.com", "console.ca-toronto-1.oraclecloud.com",
        NULL },
      NULL,
      0.05,
      50 },
};

/* How many entries of a NULL-padded table row are set. */
uint32_t nset(const char *const *a, uint32_t max)
{
    uint32_t n = 0;
    while (n < max && a[n])
        n++;
    return n;
}

static void host_from(host *h, const char *addr, bool v6, uint8_t ttl)
{
    memset(h, 0, sizeof *h);
    h->v6 = v6;
    if (inet_pton(v6 ? AF_INET6 : AF_INET, addr, h->a) != 1)
        die("internal: bad address in table");
    static const uint8_t gw[6] = { 0x02, 0, 0, 0, 0, 0x01 }; /* the router */
    memcpy(h->mac, gw, 6);
    h->ttl = ttl;
}

host server_host(int p, bool v6)
{
    host h;
    if (v6)
        host_from(&h, provs[p].v6[rnd_below(NV6(p))], true, provs[p].ttl);
    else
        host_from(&h, provs[p].v4[rnd_below(NV4(p))], false, provs[p].ttl);
    return h;
}

/* The site's resolver is on the LAN (its own MAC, TTL 64); public ones are
 * behind the router. Their addresses are what clients are configured with
 * (RFC 1918 / RFC 4193 for the site's own). */
const char *const resolver_names[NRESOLVER] = { "internal", "google-public", "cloudflare-public" };
const char *const resolver_v4[NRESOLVER] = { "10.0.0.53", "8.8.8.8", "1.1.1.1" };
static const char *const resolver_v6[NRESOLVER] = {
    "fd00::53",
    "2001:4860:4860::8888",
    "2606:4700:4700::1111",
};

host resolver_host(bool v6, int which)
{
    host h;
    host_from(&h, v6 ? resolver_v6[which] : resolver_v4[which], v6, which ? 57 : 64);
    if (which == R_INTERNAL)
        h.mac[5] = 0x35;
    return h;
}

/* Command-line options (seconds, relative to --start). */
gen_opt opt = { 900, 0, 0, 0, 1760950800ULL, 1.0 }; /* 2025-10-20 09:00:00 UTC */

uint16_t client_port[MAX_CLIENTS];

/* Client i: 10.1.x.y and fd00::1:x:y, MAC 02:00:0a:01:x:y. */
host client_host(uint32_t i, bool v6)
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
uint16_t next_port(uint32_t client)
{
    uint16_t p = client_port[client];
    client_port[client] = p >= 60999 ? 32768 : (uint16_t)(p + 1);
    return p;
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
void write_pcap(const char *path)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        die("cannot open --out file");
    uint8_t h[24];
    le32(h, 0xa1b2c3d4);
    h[4] = 2;
    h[5] = 0;
    h[6] = 4;
    h[7] = 0; /* version 2.4 */
    le32(h + 8, 0);
    le32(h + 12, 0);
    le32(h + 16, 65535);
    le32(h + 20, 1); /* LINKTYPE_ETHERNET */
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
