/* flgen_proto.c - the generator's sessions: TLS (RFC 8446, 5246), HTTP/1.1
 * (RFC 9112), DNS over UDP and TCP (RFC 1035, 7766) and bare TCP attempts,
 * each with the outcome its spec asks for, and the truth counters each
 * session adds (account()). See flgen.c for the counting rules. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "flgen.h"

/* ------------------------------------------------------------------ */
/* Sessions.                                                           */

uint64_t truth[NPROV][FL_C_COUNT];
uint64_t dns_flows[NPROV], dns_tcp_flows[NPROV];

#define CNT(p, c) truth[p][FL_C_##c]

static bool is_tcp_failure(int o)
{
    return o == O_REFUSED || o == O_SYN_TIMEOUT;
}
static bool is_dns_outcome(int o)
{
    return o == O_OK || o >= O_NXDOMAIN;
}

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
        if (sp->out == O_SERVFAIL)
            CNT(p, dns_servfail)++;
        if (sp->out == O_NXDOMAIN)
            CNT(p, dns_nxdomain)++;
        if (sp->out == O_DNS_REFUSED)
            CNT(p, dns_refused)++;
        if (sp->out == O_NODATA)
            CNT(p, dns_nodata)++;
        return;
    }
    CNT(p, tcp_attempts)++;
    if (sp->out == O_REFUSED) {
        CNT(p, tcp_refused)++;
        return;
    }
    if (sp->out == O_SYN_TIMEOUT) {
        CNT(p, tcp_syn_timeouts)++;
        return;
    }
    if (sp->out == O_RESET)
        CNT(p, tcp_resets)++;
    if (sp->kind == K_TLS) {
        CNT(p, tls_handshakes)++;
        if (sp->out == O_TLS_ALERT) {
            CNT(p, tls_failures)++;
            CNT(p, tls_alerts)++;
        }
        if (sp->out == O_TLS_RST) {
            CNT(p, tls_failures)++;
            CNT(p, tcp_resets)++;
        }
        if (sp->out == O_TLS_SILENT)
            CNT(p, tls_failures)++;
    }
    if (sp->kind == K_HTTP) {
        CNT(p, http_requests) += sp->nreq;
        CNT(p, http_responses) += sp->nreq; /* 100 Continue not counted */
        int n5xx = 0;                       /* a connection's 5xx after its first are repeats */
        for (int i = 0; i < sp->nreq; i++) {
            if (sp->status[i] >= 400 && sp->status[i] < 500)
                CNT(p, http_4xx)++;
            if (sp->status[i] >= 500 && sp->status[i] < 600)
                n5xx++;
        }
        CNT(p, http_5xx) += (uint64_t)n5xx;
        if (n5xx > 1)
            CNT(p, http_5xx_repeats) += (uint64_t)(n5xx - 1);
    }
}

static void conn_init(conn *k, const spec *sp, uint16_t sport)
{
    memset(k, 0, sizeof *k);
    k->h[C] = client_host(sp->client, sp->v6);
    k->h[S] = (sp->kind == K_DNS_TCP) ? resolver_host(sp->v6, sp->resolver)
                                      : server_host(sp->prov, sp->v6);
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
    if (sp->rtx & RTX_RST) { /* same RST again: counts once */
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
    b_u8(&h, 1); /* client_hello */
    size_t hl = b_hole(&h, 3);
    b_u16(&h, 0x0303);
    b_rand(&h, 32);
    b_u8(&h, 32);
    b_rand(&h, 32);
    b_u16(&h, sizeof suites);
    b_put(&h, suites, sizeof suites);
    b_u8(&h, 1);
    b_u8(&h, 0); /* null compression */
    size_t el = b_hole(&h, 2);
    size_t n = strlen(sni);
    b_u16(&h, 0x0000); /* server_name */
    b_u16(&h, (unsigned)(n + 5));
    b_u16(&h, (unsigned)(n + 3));
    b_u8(&h, 0); /* host_name */
    b_u16(&h, (unsigned)n);
    b_put(&h, sni, n);
    b_u16(&h, 0x000b);
    b_u16(&h, 2);
    b_u8(&h, 1);
    b_u8(&h, 0); /* ec_point_formats */
    b_u16(&h, 0x000a);
    b_u16(&h, 6);
    b_u16(&h, 4); /* supported_groups */
    b_u16(&h, 0x001d);
    b_u16(&h, 0x0017);
    b_u16(&h, 0x000d);
    b_u16(&h, sizeof sigalgs + 2);
    b_u16(&h, sizeof sigalgs);
    b_put(&h, sigalgs, sizeof sigalgs);
    b_u16(&h, 0x0010);
    b_u16(&h, 11);
    b_u16(&h, 9); /* ALPN */
    b_u8(&h, 8);
    b_put(&h, "http/1.1", 8);
    b_u16(&h, 0x002b);
    b_u16(&h, 5);
    b_u8(&h, 4); /* supported_versions */
    b_u16(&h, 0x0304);
    b_u16(&h, 0x0303);
    b_u16(&h, 0x002d);
    b_u16(&h, 2);
    b_u8(&h, 1);
    b_u8(&h, 1); /* psk_key_exchange_modes */
    b_u16(&h, 0x0033);
    b_u16(&h, 38);
    b_u16(&h, 36); /* key_share */
    b_u16(&h, 0x001d);
    b_u16(&h, 32);
    b_rand(&h, 32);
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
        b_u16(&h, 0x002b);
        b_u16(&h, 2);
        b_u16(&h, 0x0304);
        b_u16(&h, 0x0033);
        b_u16(&h, 36);
        b_u16(&h, 0x001d);
        b_u16(&h, 32);
        b_rand(&h, 32);
    } else {
        b_u16(&h, 0xff01);
        b_u16(&h, 1);
        b_u8(&h, 0);
    }
    b_fill(&h, el, 2);
    b_fill(&h, hl, 3);
    if (!v13) {
        /* Certificate with an empty list (a stand-in: real DER would need a
         * real certificate), then ServerHelloDone. */
        b_u8(&h, 11);
        b_u8(&h, 0);
        b_u16(&h, 3);
        b_u8(&h, 0);
        b_u16(&h, 0);
        b_u8(&h, 14);
        b_u8(&h, 0);
        b_u16(&h, 0);
    }
    tls_record(b, 22, 0x0303, h.p, h.n);
    free(h.p);
}

static void ccs(buf *b)
{
    tls_record(b, 20, 0x0303, (const uint8_t[]){ 1 }, 1);
}

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
        tx(&k, S, ACK, NULL, 0); /* the kernel ACKs; the app is mute */
        later(&k, 10 * US);
        client_close(&k);
        break;
    default: /* O_OK, O_RESET */
        server_hello(&b, sp->tls13);
        if (sp->tls13) {
            ccs(&b); /* middlebox compatibility, RFC 8446 D.4 */
            tls_random_record(&b, 23, 1500 + rnd_below(2500)); /* EE, Cert, CV, Fin */
        }
        send_data(&k, S, b.p, b.n);
        gap(&k);
        b.n = 0;
        if (sp->tls13) {
            ccs(&b);
            tls_random_record(&b, 23, 53); /* client Finished */
            tls_random_record(&b, 23, 100 + rnd_below(600));
            send_data(&k, C, b.p, b.n);
        } else {
            uint8_t cke[262]; /* ClientKeyExchange, RSA */
            cke[0] = 16;
            cke[1] = 0;
            put16(cke + 2, 258);
            put16(cke + 4, 256);
            rnd_fill(cke + 6, 256);
            tls_record(&b, 22, 0x0303, cke, sizeof cke);
            ccs(&b);
            tls_random_record(&b, 22, 40); /* encrypted Finished */
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
        if (sp->https) { /* flgen_https.c: the responses */
            if (https_exchange(&k, sp))
                break; /* the server closed first */
        } else {
            wait_rtt(&k);
            b.n = 0;
            tls_random_record(&b, 23, 200 + rnd_below(4000));
            send_data(&k, S, b.p, b.n);
            ack(&k, C);
        }
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
    static const struct {
        unsigned st;
        const char *text;
    } t[] = {
        { 200, "OK" },
        { 304, "Not Modified" },
        { 403, "Forbidden" },
        { 404, "Not Found" },
        { 500, "Internal Server Error" },
        { 502, "Bad Gateway" },
        { 503, "Service Unavailable" },
        { 504, "Gateway Timeout" },
        /* Cloudflare's own 52x/530 pages */
        { 520, "Unknown Error" },
        { 521, "Web Server Is Down" },
        { 522, "Connection Timed Out" },
        { 523, "Origin Is Unreachable" },
        { 524, "A Timeout Occurred" },
        { 525, "SSL Handshake Failed" },
        { 526, "Invalid SSL Certificate" },
        { 530, "Origin DNS Error" },
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
    case P_CLOUDFLARE:
        b_printf(b, "Server: cloudflare\r\nCF-RAY: %016llx-FRA\r\n", id);
        break;
    case P_AWS:
        b_printf(b, "Server: AmazonS3\r\nx-amz-request-id: %016llX\r\n", id);
        break;
    case P_GOOGLE:
        b_printf(b, "Server: gws\r\n");
        break;
    case P_MICROSOFT:
        b_printf(b, "X-MSEdge-Ref: Ref A: %016llX Ref B: FRA\r\n", id);
        break;
    case P_AKAMAI:
        b_printf(b, "Server: AkamaiGHost\r\n");
        break;
    case P_FASTLY:
        b_printf(b, "X-Served-By: cache-fra-eddf82%05u-FRA\r\nVia: 1.1 varnish\r\n",
                 (unsigned)(id % 100000));
        break;
    default:
        b_printf(b, "Server: nginx\r\n");
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
static size_t http_response(buf *b, const spec *sp, unsigned st, bool head, bool chunked,
                            uint64_t t, size_t *hdr_end)
{
    static const char *const wd[7] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
    static const char *const mo[12] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                        "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
    time_t secs = (time_t)(t / US);
    struct tm tm;
    gmtime_r(&secs, &tm);
    b_printf(b, "HTTP/1.1 %u %s\r\n", st, reason(st));
    size_t line_end = b->n;
    b_printf(b, "Date: %s, %02d %s %04d %02d:%02d:%02d GMT\r\n", wd[tm.tm_wday], tm.tm_mday,
             mo[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
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
    size_t first = body / 3 + 1; /* RFC 9112 7.1: two chunks, then 0 */
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
                 head   ? "HEAD"
                 : post ? "POST"
                        : "GET",
                 path, sp->name);
        if (post)
            b_printf(&b,
                     "Content-Type: application/json\r\nContent-Length: %zu\r\n"
                     "Expect: 100-continue\r\n",
                     post_len);
        b_printf(&b, "\r\n");
        client_send(&k, sp, i == 0, b.p, b.n);
        wait_rtt(&k);
        if (post) { /* RFC 9110 10.1.1 */
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
        if (sp->split == 2) /* inside the status line */
            cuts[nc++] = 5 + rnd_below((uint32_t)(line_end - 7));
        if (sp->split) /* inside the header block */
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
    b_u16(b, 1); /* IN */
    b_u32(b, ttl);
}

static void dns_message(buf *b, uint16_t id, const spec *sp, bool response)
{
    static const uint8_t rcode[] = {
        [O_OK] = 0, [O_NODATA] = 0, [O_NXDOMAIN] = 3, [O_SERVFAIL] = 2, [O_DNS_REFUSED] = 5,
    };
    if (response && (size_t)sp->out >= sizeof rcode)
        die("DNS answer for an outcome with no RCODE");
    unsigned qtype = sp->aaaa ? 28 : 1;
    unsigned an = 0, ns = 0;
    b_u16(b, id);
    if (!response)
        b_u16(b, 0x0100); /* RD */
    else if (sp->out == O_DNS_REFUSED)
        b_u16(b, 0x8100 | rcode[sp->out]); /* QR RD, no RA */
    else
        b_u16(b, 0x8180 | rcode[sp->out]); /* QR RD RA */
    b_u16(b, 1);
    size_t counts = b_hole(b, 6);
    dns_name(b, sp->name);
    b_u16(b, qtype);
    b_u16(b, 1);
    if (response && sp->out == O_OK) {
        char target[128];
        const char *owner = sp->name;
        if (sp->chain) { /* name -> edge-NNNN.<cdn suffix> */
            snprintf(target, sizeof target, "edge-%04u%s", rnd_below(10000), provs[sp->prov].cname);
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
    host c = client_host(sp->client, sp->v6), r = resolver_host(sp->v6, sp->resolver);
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
void session(spec *sp)
{
    const provider *pv = &provs[sp->prov];
    if (sp->kind == K_DNS || sp->kind == K_DNS_TCP) {
        if (!is_dns_outcome(sp->out))
            sp->out = is_tcp_failure(sp->out) ? O_DNS_TIMEOUT : O_OK;
        if (sp->kind == K_DNS_TCP && sp->out == O_DNS_TIMEOUT)
            sp->kind = K_DNS;
        if (sp->aaaa && NV6(sp->prov) == 0 && sp->out == O_OK)
            sp->out = O_NODATA; /* no AAAA: NOERROR, empty */
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
    out.server_mute = sp->oneway;
    switch (sp->kind) {
    case K_TCP:
        run_tcp(sp);
        break;
    case K_TLS:
        run_tls(sp);
        break;
    case K_HTTP:
        run_http(sp);
        break;
    case K_DNS:
        run_dns_udp(sp);
        break;
    case K_DNS_TCP:
        run_dns_tcp(sp);
        break;
    }
    out.server_mute = false;
}

/* ------------------------------------------------------------------ */
/* Scenarios.                                                          */

/* A background session: kind, options and the ordinary error mix of a
 * clean day (occasional NXDOMAIN, NODATA, 404, resets, rarer the rest). */
void base_session(spec *sp)
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
        sp->status[i] = s < 0.05       ? 404
                        : s < 0.055    ? 403
                        : s < 0.058    ? 500
                        : s < 0.06     ? 502
                        : chance(0.03) ? 304
                                       : 200;
    }
    double e = rnd_unit();
    sp->out = O_OK;
    if (sp->kind == K_DNS || sp->kind == K_DNS_TCP) {
        sp->out = e < 0.02    ? O_NXDOMAIN
                  : e < 0.05  ? O_NODATA
                  : e < 0.052 ? O_SERVFAIL
                  : e < 0.053 ? O_DNS_REFUSED
                  : e < 0.055 ? O_DNS_TIMEOUT
                              : O_OK;
    } else {
        sp->out = e < 0.003   ? O_REFUSED
                  : e < 0.006 ? O_SYN_TIMEOUT
                  : e < 0.013 ? O_RESET
                  : e < 0.015 ? O_TLS_ALERT
                  : e < 0.016 ? O_TLS_RST
                  : e < 0.017 ? O_TLS_SILENT
                              : O_OK;
    }
}
