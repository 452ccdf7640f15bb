/* flgen_https.c - HTTPS as a passive sensor sees it: TLS 1.3 application
 * data (RFC 8446 5.2) whose only visible properties are record sizes,
 * timing and who closes first.
 *
 * A session (spec.https, TLS 1.3, outcome O_OK or O_RESET) carries nreq
 * request/response rounds on one connection, as HTTP/1.1 keep-alive or
 * HTTP/2 would. Requests are one record of 250..900 bytes (headers with
 * cookies); responses are log-normal in size (median about 9 kB, spread
 * x3.7 either way, 150 B..96 kB: small API answers to images) cut into
 * records of at most 16 KiB of plaintext (RFC 8446 5.1); each site has its
 * own dozen sizes, and a quarter of the sites deploy new ones on their own
 * every 200-500 s (response_size). An error response
 * (bit i of spec.err_mask) is the provider's error page: 6400 +- 30 bytes
 * whatever the site, so it stands out by its near-constant size. With
 * spec.early_close the server then sends close_notify and its FIN before
 * the client asks again (the client retries on a new connection: that is
 * for the caller to build). Every response and every error page is counted
 * by construction in https_responses / https_errors per provider.
 *
 * Names: a CDN fronts many sites, so the SNI is either one of the
 * provider's own names or one of 40 sites under the reserved .example TLD
 * (RFC 2606); the server address is always the provider's. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include "flgen.h"

#define AEAD_OVERHEAD 17 /* inner content type + 16-byte tag */
#define MAX_PLAIN 16384  /* RFC 8446 5.1 */
#define ERROR_PAGE 6400  /* the error template's plaintext size */

uint64_t https_responses[NPROV], https_errors[NPROV];

static void app_record(buf *b, size_t plain)
{
    b_u8(b, 23); /* application_data; the real type is inside */
    b_u16(b, 0x0303);
    b_u16(b, (unsigned)(plain + AEAD_OVERHEAD));
    b_rand(b, plain + AEAD_OVERHEAD);
}

static void app_records(buf *b, size_t n)
{
    while (n) {
        size_t m = n > MAX_PLAIN ? MAX_PLAIN : n;
        app_record(b, m);
        n -= m;
    }
}

/* Log-normal by Box-Muller from two uniforms: median 9 kB, sigma 1.3
 * (x3.7). */
static size_t lognormal_size(double u1, double u2)
{
    double z = sqrt(-2.0 * log(u1 > 0 ? u1 : 1e-12)) * cos(2 * M_PI * u2);
    double v = 9000.0 * exp(1.3 * z);
    return v < 150 ? 150 : v > 96000 ? 96000 : (size_t)v;
}

static uint64_t site_mix(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ull;
    return x ^ (x >> 33);
}

/* A site serves its own pages and API answers: SITE_PAGES sizes drawn
 * once from the log-normal (seeded by its name), each answered within
 * +-2%. A quarter of the sites deploy on their own every 200-500 s (by
 * packet time): all their sizes change at once, as a new version's would.
 * A baseline must take that in its stride (a deploy is no outage). */
#define SITE_PAGES 12
static size_t response_size(const char *site, uint64_t now_us)
{
    uint64_t h = 1469598103934665603ull;
    for (const char *c = site; *c; c++)
        h = (h ^ (uint8_t)*c) * 1099511628211ull;
    uint64_t version = 0;
    if (h % 4 == 0)
        version = now_us / 1000000u / (200u + h % 301u);
    uint64_t ps = site_mix(h ^ site_mix(version + 1));
    double u1 = rnd_unit(), u2 = rnd_unit();
    uint64_t page = site_mix(ps + (uint64_t)(u1 * SITE_PAGES));
    double a = (double)(page >> 11) / 9007199254740992.0;
    double b = (double)(site_mix(page) >> 11) / 9007199254740992.0;
    size_t n = lognormal_size(a, b);
    return (size_t)((double)n * (0.98 + 0.04 * u2));
}

void https_name(spec *sp)
{
    static const char *const kinds[] = { "shop", "api", "news", "app" };
    if (chance(0.4)) {
        snprintf(sp->name, sizeof sp->name, "%s",
                 provs[sp->prov].names[rnd_below(NNAMES(sp->prov))]);
        return;
    }
    snprintf(sp->name, sizeof sp->name, "%s%u.example", kinds[rnd_below(4)], rnd_below(10));
}

/* The server's close_notify (an encrypted alert: 2 bytes of plaintext) and
 * FIN, the client's FIN: the server closed first. */
static void server_closes(conn *k)
{
    buf b = { 0 };
    later(k, 1000 + rnd_below(20000));
    app_record(&b, 2);
    send_data(k, S, b.p, b.n);
    gap(k);
    tx(k, S, FIN | ACK, NULL, 0);
    wait_rtt(k);
    tx(k, C, FIN | ACK, NULL, 0);
    gap(k);
    tx(k, S, ACK, NULL, 0);
    free(b.p);
}

/* After the client's Finished and first request. Returns true if the
 * server closed the connection itself (early close after an error page). */
bool https_exchange(conn *k, const spec *sp)
{
    buf b = { 0 };
    bool closed = false;
    for (int i = 0; i < sp->nreq && !closed; i++) {
        if (i) { /* the next request */
            later(k, 50000 + rnd_below(3000000));
            b.n = 0;
            app_record(&b, 250 + rnd_below(650));
            send_data(k, C, b.p, b.n);
        }
        bool err = sp->err_mask & 1u << i;
        wait_rtt(k);
        later(k, err ? 10000 + rnd_below(70000) : 20000 + rnd_below(280000));
        b.n = 0;
        app_records(&b, err ? ERROR_PAGE - 30 + rnd_below(61) : response_size(sp->name, k->t));
        send_data(k, S, b.p, b.n);
        ack(k, C);
        https_responses[sp->prov]++;
        if (err) {
            https_errors[sp->prov]++;
            if (sp->early_close) {
                server_closes(k);
                closed = true;
            }
        }
    }
    free(b.p);
    return closed;
}
