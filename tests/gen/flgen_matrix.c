/* flgen_matrix.c - the randomized incident matrix: one capture per
 * (kind, seed), every parameter drawn from the seed, printed on stderr and
 * written to the truth file, so a detector is judged on many worlds and not
 * on one hand-tuned scenario.
 *
 *   flgen --matrix KIND --seed N --out F.pcap --truth F.tsv
 *
 * Drawn per seed (log-uniform where a range spans decades):
 *   - volume x0.2..x10: a provider of weight 1 at the day's peak carries
 *     0.5 sessions/s x volume (x1 = about 10 TLS handshakes, 10 DNS queries
 *     and 7 HTTP responses a minute: the "about 10 attempts per minute per
 *     family" of the latency target; x10 = about 100 a minute). For one-
 *     and two-provider kinds the volume is that of the failing providers;
 *     the others carry its square root (x0.45..x3.2), which keeps captures
 *     small without changing what the failing provider's counters show;
 *   - 10..2000 clients (the busy ones carry most sessions);
 *   - provider weights 0.3..2 (Oracle 0.02..0.1: a nearly idle provider),
 *     each on a day curve (trough 03:00, peak 15:00, x5 between them)
 *     shifted by -3..+3 h per provider, so shares change over the day;
 *   - background failure noise 0..5 % on top of the ordinary error mix;
 *   - which clients use which resolver (the site's own, 8.8.8.8, 1.1.1.1);
 *   - a noisy client (one client failing constantly against one provider),
 *     retry storms (failed attempts retried 1..4 times with backoff), and
 *     one-way capture (a share of the TCP sessions to providers is seen in
 *     the client-to-server direction only, as a span port behind asymmetric
 *     routing sees it; DNS to the resolvers stays two-way; in captures with
 *     an incident only providers outside it are seen one way, since a
 *     failure no packet shows is not one a detector can be asked to find);
 *   - the incident: shape (step, ramp 2 % -> 100 % of its peak, flapping
 *     with a 1..10 min period between the peak and a trough of 0..60 % of
 *     it), 1..60 min long, 10..100 % of the clients affected, a failure
 *     probability for their attempts at the peak, and a mix of 1..3 signals
 *     (refused, unanswered, reset, TLS handshake failure, SERVFAIL, DNS
 *     timeout, NODATA, HTTP 5xx).
 *
 * Kinds: step, ramp, flap (one provider); two (two providers at once);
 * uplink (every provider's SYNs unanswered, public resolvers unanswered,
 * the site's resolver answering from its cache or SERVFAIL); resolver-
 * internal, resolver-public (one resolver answers SERVFAIL or not at all
 * for its clients, who then cannot connect; the other resolvers answer);
 * quiet (no incident: noise, a noisy client, retries, one-way capture);
 * clean-day (24 h, no incident, low rate, the whole day curve);
 * https-5xx (one provider's HTTPS responses become its ~6.4 kB error page
 * for a share of the affected clients' requests, the server often closing
 * the connection after it and the client retrying on a new one; nothing
 * else fails: only record sizes and closes show it, see flgen_https.c).
 * --https gives every kind realistic HTTPS application data (TLS 1.3
 * sessions: several requests, log-normal response sizes); https-5xx
 * implies it. Without it, TLS sessions carry one small record each way.
 *
 * Truth: besides the counter rows, one row per incident and provider:
 *   incident PROVIDER|local|RESOLVER-ADDRESS SCOPE ONSET END ID KIND SHAPE
 *            FAMILY RATIO PER_MIN RAMP25_AT CLIENT_SHARE
 * FAMILY is the failure family most affected (connect, tls, dns, nodata,
 * http; https for https-5xx: error pages among HTTPS responses; all for
 * local: every provider's attempts pooled; dns for resolver: the failing
 * resolver's own queries), RATIO its failure ratio over the whole
 * incident, PER_MIN its attempts per minute then, RAMP25_AT the epoch when
 * a ramp's ratio reaches 25 % (estimated: a linear ramp from 2 % of its
 * peak; the peak is taken as twice the mean measured), or "-". All are
 * counted by construction from the sessions built (one-way sessions count
 * as what they were built to be, not what a one-way capture shows).
 * A capture without incident rows has an "expect * no_alert" row. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "flgen.h"

#define BASE_RATE 0.5        /* sessions/s, weight 1, x1, day's peak */
#define MAX_SESSIONS 50000.0 /* per capture: keeps memory and time small */
#define DAY0 1760918400ULL   /* 2025-10-20 00:00:00 UTC */

enum { SH_NONE, SH_STEP, SH_RAMP, SH_FLAP };
static const char *const shape_names[] = { "none", "step", "ramp", "flap" };
enum {
    SIG_REFUSED,
    SIG_UNANSWERED,
    SIG_RESET,
    SIG_TLS,
    SIG_SERVFAIL,
    SIG_DNS_TIMEOUT,
    SIG_NODATA,
    SIG_HTTP5XX,
    NSIG
};
static const char *const sig_names[NSIG] = { "refused",  "unanswered",  "reset",  "tls",
                                             "servfail", "dns_timeout", "nodata", "http5xx" };
enum { SC_NONE, SC_PROVIDER, SC_LOCAL, SC_RESOLVER };

static const char *const kinds[] = {
    "step",  "ramp",      "flap",     "two", "uplink", "resolver-internal", "resolver-public",
    "quiet", "clean-day", "https-5xx"
};
#define NKINDS (sizeof kinds / sizeof kinds[0])

static struct mp {
    const char *kind;
    double scale, weight[NPROV], phase[NPROV], noise;
    uint32_t start_tod; /* seconds after midnight UTC */
    int scope, shape, nprov, prov[2], resolver;
    double period, trough, affected, intensity;
    uint32_t signals;          /* 1 << SIG_* */
    uint32_t retries;          /* retry storm: retries per failed attempt */
    int noisy_prov, noisy_how; /* -1: no noisy client */
    double noisy_rate, oneway, res_share[NRESOLVER];
    bool capped;                /* incident shortened to MAX_SESSIONS */
    bool https, https_incident; /* HTTPS application data; the https-5xx kind */
    double early;               /* https-5xx: share of error pages closed early */
} m;

static uint8_t affected[MAX_CLIENTS], res_of[MAX_CLIENTS];
static uint64_t snap_on[NPROV][FL_C_COUNT], snap_off[NPROV][FL_C_COUNT];
static uint64_t https_on[2][NPROV], https_off[2][NPROV];
static uint64_t noisy_acc[NPROV][FL_C_COUNT]; /* the noisy client's share */

static double loguni(double lo, double hi)
{
    return lo * pow(hi / lo, rnd_unit());
}
static double uni(double lo, double hi)
{
    return lo + (hi - lo) * rnd_unit();
}

/* Day curve: 0.2 at 03:00, 1.0 at 15:00 (hours, any real). */
static double day_curve(double h)
{
    return 0.2 + 0.8 * (0.5 - 0.5 * cos(2 * M_PI * (h - 3.0) / 24.0));
}

static bool hits_provider(int p);

/* The volume multiplier of provider p (see the top of the file). */
static double prov_scale(int p)
{
    if (m.scope != SC_PROVIDER || hits_provider(p))
        return m.scale;
    return sqrt(m.scale);
}

static double prov_rate(int p, uint32_t s)
{
    double h = (m.start_tod + s) / 3600.0 + m.phase[p];
    return BASE_RATE * prov_scale(p) * m.weight[p] * day_curve(h);
}

/* Sessions a second at every provider's peak: an upper bound. */
static double total_rate(void)
{
    double r = 0;
    for (int p = 0; p < NPROV; p++)
        r += BASE_RATE * prov_scale(p) * m.weight[p];
    return r;
}

bool matrix_known(const char *kind)
{
    for (size_t i = 0; i < NKINDS; i++)
        if (!strcmp(kind, kinds[i]))
            return true;
    return false;
}

void matrix_kinds(FILE *f)
{
    for (size_t i = 0; i < NKINDS; i++)
        fprintf(f, " %s", kinds[i]);
}

/* ------------------------------------------------------------------ */
/* Drawing the world.                                                  */

static void draw_world(bool clean_day)
{
    m.scale = clean_day ? loguni(0.1, 0.35) : loguni(0.2, 10.0);
    opt.clients = (uint32_t)lround(loguni(10, 2000));
    for (int p = 0; p < NPROV; p++) {
        m.weight[p] = p == P_ORACLE ? uni(0.02, 0.1) : loguni(0.3, 2.0);
        m.phase[p] = uni(-3, 3);
    }
    m.noise = uni(0, 0.05);
    m.res_share[R_INTERNAL] = uni(0.3, 0.8);
    double g = uni(0.3, 0.7) * (1 - m.res_share[R_INTERNAL]);
    m.res_share[R_GOOGLE] = g;
    m.res_share[R_CLOUDFLARE] = 1 - m.res_share[R_INTERNAL] - g;
    m.noisy_prov = -1;
    if (chance(!strcmp(m.kind, "quiet") ? 1.0 : 0.4)) {
        m.noisy_prov = (int)rnd_below(P_ORACLE);
        m.noisy_how = (int)rnd_below(3);
        m.noisy_rate = loguni(0.2, 4.0);
    }
    m.oneway = chance(!strcmp(m.kind, "quiet") ? 0.5 : 0.25) ? uni(0.3, 1.0) : 0;
    for (uint32_t c = 0; c < opt.clients; c++) {
        client_port[c] = (uint16_t)(32768 + rnd_below(20000));
        double r = rnd_unit();
        res_of[c] = r < m.res_share[R_INTERNAL]                           ? R_INTERNAL
                    : r < m.res_share[R_INTERNAL] + m.res_share[R_GOOGLE] ? R_GOOGLE
                                                                          : R_CLOUDFLARE;
    }
}

/* 1..3 signals; DNS-only mixes are allowed (a provider's name servers). */
static uint32_t draw_signals(void)
{
    uint32_t s = 0, n = 1 + rnd_below(3);
    while (n--)
        s |= 1u << rnd_below(NSIG);
    return s;
}

static void draw_incident(void)
{
    const char *k = m.kind;
    m.shape = !strcmp(k, "ramp")   ? SH_RAMP
              : !strcmp(k, "flap") ? SH_FLAP
              : !strcmp(k, "two")  ? (chance(0.5) ? SH_STEP : SH_FLAP)
                                   : SH_STEP;
    m.scope = !strcmp(k, "uplink")         ? SC_LOCAL
              : !strncmp(k, "resolver", 8) ? SC_RESOLVER
                                           : SC_PROVIDER;
    m.start_tod = 6 * 3600 + rnd_below(16 * 3600);
    m.period = uni(60, 600);
    m.trough = uni(0, 0.6);
    /* Most incidents fail >= 25 % of the affected family's attempts at their
     * peak; those hitting fewer clients cannot, and stay in as the small
     * cases (one client in ten is that client's problem, not an outage). */
    m.affected = uni(0.1, 1.0);
    m.intensity = uni(fmin(1.0, fmax(0.3, 0.25 / m.affected)), 1.0);
    m.signals = draw_signals();
    m.retries = chance(0.35) ? 1 + rnd_below(4) : 0;
    double dur = loguni(60, 3600);
    if (m.shape == SH_FLAP && dur < 2 * m.period)
        dur = 2 * m.period;
    m.nprov = !strcmp(k, "two") ? 2 : 1;
    m.prov[0] = (int)rnd_below(P_ORACLE);
    m.prov[1] = (m.prov[0] + 1 + (int)rnd_below(P_ORACLE - 1)) % P_ORACLE;
    if (m.scope == SC_LOCAL) {
        m.affected = 1.0;
        m.intensity = uni(0.9, 1.0);
        dur = loguni(60, 1800);
    }
    m.resolver = !strcmp(k, "resolver-internal") ? R_INTERNAL : 1 + (int)rnd_below(2);
    if (m.https_incident) {
        m.shape = chance(0.5) ? SH_STEP : SH_FLAP;
        if (m.shape == SH_FLAP && dur < 2 * m.period)
            dur = 2 * m.period;
        m.signals = 0;
        m.early = uni(0.3, 0.8);
    }
    if (m.scope == SC_RESOLVER) {
        m.affected = 1.0; /* every client of that resolver */
        m.signals = chance(0.5) ? 1u << SIG_SERVFAIL | 1u << SIG_DNS_TIMEOUT
                                : 1u << (chance(0.5) ? SIG_SERVFAIL : SIG_DNS_TIMEOUT);
    }
    uint32_t warm = 360 + rnd_below(240), tail = 420;
    double room = MAX_SESSIONS / total_rate() - warm - tail;
    if (dur > room) {
        dur = room < 60 ? 60 : room;
        m.capped = true;
    }
    if (m.shape == SH_FLAP) {
        /* Whole cycles, ending on a peak: the incident ends when the last
         * bad half-period does, so time to resolve means the same thing
         * for every shape. */
        double n = floor((dur - m.period / 2) / m.period);
        dur = (n < 1 ? 1 : n) * m.period + m.period / 2;
    }
    opt.onset = warm;
    opt.end = warm + (uint32_t)dur;
    opt.duration = opt.end + tail;
    for (uint32_t c = 0; c < opt.clients; c++)
        affected[c] = chance(m.affected);
}

/* ------------------------------------------------------------------ */
/* Applying the incident to one session.                               */

/* The incident's strength at second s: 0..1 of its peak. */
static double level(uint32_t s)
{
    if (s < opt.onset || s >= opt.end)
        return 0;
    double x = (double)(s - opt.onset);
    switch (m.shape) {
    case SH_RAMP:
        return 0.02 + 0.98 * x / (double)(opt.end - opt.onset);
    case SH_FLAP:
        return fmod(x, m.period) < m.period / 2 ? 1.0 : m.trough;
    default:
        return 1.0;
    }
}

static bool hits_provider(int p)
{
    return m.scope == SC_LOCAL ||
           (m.scope == SC_PROVIDER && (p == m.prov[0] || (m.nprov == 2 && p == m.prov[1])));
}

static void make_5xx(spec *sp, int p)
{
    static const uint16_t cf[] = { 520, 521, 522, 523, 524, 502, 503 };
    static const uint16_t any[] = { 500, 502, 503, 504 };
    for (int i = 0; i < sp->nreq; i++)
        if (i == 0 || chance(0.8))
            sp->status[i] = p == P_CLOUDFLARE ? cf[rnd_below(7)] : any[rnd_below(4)];
}

/* Make a session fail with one of the signals in mask that fit its kind;
 * false if none fits (the session stays as it was). */
static bool fail_with(spec *sp, uint32_t mask)
{
    bool dns = sp->kind == K_DNS || sp->kind == K_DNS_TCP;
    int cand[NSIG], n = 0;
    for (int g = 0; g < NSIG; g++) {
        if (!(mask & 1u << g))
            continue;
        bool dns_sig = g == SIG_SERVFAIL || g == SIG_DNS_TIMEOUT || g == SIG_NODATA;
        if (dns != dns_sig || (g == SIG_TLS && sp->kind != K_TLS) ||
            (g == SIG_HTTP5XX && sp->kind != K_HTTP))
            continue;
        cand[n++] = g;
    }
    if (!n)
        return false;
    switch (cand[rnd_below((uint32_t)n)]) {
    case SIG_REFUSED:
        sp->out = O_REFUSED;
        break;
    case SIG_UNANSWERED:
        sp->out = O_SYN_TIMEOUT;
        break;
    case SIG_RESET:
        sp->out = O_RESET;
        break;
    case SIG_TLS:
        sp->out = (uint8_t)(O_TLS_ALERT + rnd_below(3));
        break;
    case SIG_SERVFAIL:
        sp->out = O_SERVFAIL;
        break;
    case SIG_DNS_TIMEOUT:
        sp->out = O_DNS_TIMEOUT;
        break;
    case SIG_NODATA:
        sp->out = O_NODATA;
        break;
    default:
        sp->out = O_OK;
        make_5xx(sp, sp->prov);
        break;
    }
    return true;
}

static bool is_dns(const spec *sp)
{
    return sp->kind == K_DNS || sp->kind == K_DNS_TCP;
}

/* Uplink loss: nothing gets out. The site's resolver still answers what it
 * has cached and SERVFAILs the rest (its forwarders are unreachable). */
static bool apply_local(spec *sp)
{
    if (!is_dns(sp)) {
        sp->out = O_SYN_TIMEOUT;
        return true;
    }
    if (sp->resolver != R_INTERNAL) {
        sp->out = O_DNS_TIMEOUT;
        return true;
    }
    if (chance(0.3))
        sp->out = O_SERVFAIL;
    return sp->out == O_SERVFAIL;
}

/* Returns false when the session is not made at all (a client whose
 * resolver fails has no address to connect to). Sets *failed when the
 * incident made it fail (for retries). */
static bool apply_https(spec *sp, double lv, bool *failed)
{
    if (!sp->https || !hits_provider(sp->prov) || !affected[sp->client])
        return true;
    for (int i = 0; i < sp->nreq; i++)
        if (chance(m.intensity * lv))
            sp->err_mask |= (uint8_t)(1u << i);
    sp->early_close = sp->err_mask && chance(m.early);
    *failed = sp->early_close;
    return true;
}

static bool apply(spec *sp, uint32_t s, bool *failed)
{
    *failed = false;
    double lv = level(s);
    if (m.https_incident)
        return lv <= 0 || apply_https(sp, lv, failed);
    if (lv <= 0 || !chance(m.intensity * lv))
        return true;
    if (m.scope == SC_RESOLVER) {
        if (res_of[sp->client] != m.resolver)
            return true;
        if (!is_dns(sp))
            return false;
        if (sp->kind == K_DNS_TCP)
            sp->kind = K_DNS;
        *failed = fail_with(sp, m.signals);
        return true;
    }
    if (!hits_provider(sp->prov) || !affected[sp->client])
        return true;
    *failed = m.scope == SC_LOCAL ? apply_local(sp) : fail_with(sp, m.signals);
    return true;
}

/* Background noise: any signal, any provider, at rate m.noise. */
static void apply_noise(spec *sp)
{
    if (chance(m.noise))
        fail_with(sp, (1u << NSIG) - 1);
}

/* ------------------------------------------------------------------ */
/* The capture.                                                        */

/* DNS queries and failures per resolver during the incident: a resolver
 * incident is judged by the failing resolver's own queries. */
static uint64_t res_queries[NRESOLVER], res_failures[NRESOLVER];
static bool noisy_now; /* the noisy client's session: not counted */

static void msession(spec *sp)
{
    session(sp);
    uint32_t s = (uint32_t)(sp->t / US);
    if (noisy_now || !is_dns(sp) || s < opt.onset || s >= opt.end)
        return;
    res_queries[sp->resolver]++;
    if (sp->out == O_SERVFAIL || sp->out == O_DNS_TIMEOUT || sp->out == O_DNS_REFUSED)
        res_failures[sp->resolver]++;
}

static void noisy_client(uint32_t s)
{
    uint32_t n = rnd_poisson(m.noisy_rate);
    for (uint32_t i = 0; i < n; i++) {
        spec sp = { 0 };
        sp.t = s * US + rnd_below(US);
        sp.prov = (uint8_t)m.noisy_prov;
        sp.head_at = sp.cont_at = -1;
        sp.nreq = 1;
        if (m.noisy_how == 0) { /* a closed port, retried forever */
            sp.kind = K_TCP;
            sp.port = 8443;
            sp.out = O_REFUSED;
        } else if (m.noisy_how == 1) { /* a broken URL */
            sp.kind = K_HTTP;
            sp.status[0] = 500;
            sp.path = "/api/v1/broken";
        } else { /* a name that does not resolve */
            sp.kind = K_DNS;
            sp.out = O_SERVFAIL;
            snprintf(sp.name, sizeof sp.name, "broken-api.%s",
                     strchr(provs[sp.prov].names[0], '.') + 1);
        }
        uint64_t before[FL_C_COUNT];
        memcpy(before, truth[sp.prov], sizeof before);
        noisy_now = true;
        msession(&sp);
        noisy_now = false;
        for (int c = 0; c < FL_C_COUNT; c++)
            noisy_acc[sp.prov][c] += truth[sp.prov][c] - before[c];
    }
}

/* The client retries on a new connection after the server closed early,
 * until it gets through (at most 3 times). */
static void https_retry(const spec *first, uint32_t last_s)
{
    spec sp = *first;
    for (int r = 0; r < 3; r++) {
        sp.t += US + rnd_below(2 * US);
        uint32_t rs = (uint32_t)(sp.t / US);
        if (rs >= last_s)
            return;
        sp.err_mask = 0;
        sp.early_close = 0;
        bool failed;
        apply(&sp, rs, &failed);
        msession(&sp);
        if (!failed)
            return;
    }
}

/* A failed attempt retried with backoff (1-2 s, doubling), each retry
 * failing again with the incident's probability at that time. */
static void retry_storm(const spec *first, uint32_t last_s)
{
    spec sp = *first;
    uint64_t t = sp.t;
    for (uint32_t r = 0; r < m.retries; r++) {
        t += (US + rnd_below(US)) << r;
        uint32_t rs = (uint32_t)(t / US);
        if (rs >= last_s)
            return;
        spec again = sp;
        again.t = t;
        again.out = O_OK;
        for (int i = 0; i < MAX_REQ; i++)
            again.status[i] = 200;
        bool failed;
        if (!apply(&again, rs, &failed) || !failed)
            return; /* got through: the storm stops */
        msession(&again);
    }
}

static void one_second(uint32_t s, bool tail)
{
    for (int p = 0; p < NPROV; p++) {
        uint32_t n = rnd_poisson(prov_rate(p, s));
        for (uint32_t i = 0; i < n; i++) {
            spec sp = { 0 };
            sp.t = s * US + rnd_below(US);
            sp.prov = (uint8_t)p;
            uint32_t a = rnd_below(opt.clients), b = rnd_below(opt.clients);
            sp.client = a < b ? a : b; /* clients 0.. are the busy ones */
            base_session(&sp);
            sp.resolver = res_of[sp.client];
            if (sp.kind == K_DNS_TCP)
                sp.resolver = R_INTERNAL;
            sp.oneway = !is_dns(&sp) && m.oneway > 0 && chance(m.oneway) &&
                        (m.scope == SC_NONE || (m.scope == SC_PROVIDER && !hits_provider(p)));
            if (m.https && sp.kind == K_TLS && sp.tls13) {
                sp.https = 1;
                https_name(&sp);
            }
            if (tail) { /* short and healthy near the end */
                sp.out = O_OK;
                msession(&sp);
                continue;
            }
            apply_noise(&sp);
            bool failed;
            if (!apply(&sp, s, &failed))
                continue;
            msession(&sp);
            if (failed && m.https_incident)
                https_retry(&sp, opt.duration - TAIL_S);
            else if (failed && m.retries)
                retry_storm(&sp, opt.duration - TAIL_S);
        }
    }
    if (m.noisy_prov >= 0 && !tail)
        noisy_client(s);
}

/* The counters without the noisy client: the incident's measure is about
 * the incident, not one client hammering a broken URL through it. */
static void snapshot(uint64_t snap[NPROV][FL_C_COUNT])
{
    for (int p = 0; p < NPROV; p++)
        for (int c = 0; c < FL_C_COUNT; c++)
            snap[p][c] = truth[p][c] - noisy_acc[p][c];
}

static void generate_matrix(void)
{
    for (uint32_t s = 0; s + 6 < opt.duration; s++) {
        if (s == opt.onset) {
            snapshot(snap_on);
            memcpy(https_on[0], https_responses, sizeof https_responses);
            memcpy(https_on[1], https_errors, sizeof https_errors);
        }
        if (s == opt.end) {
            snapshot(snap_off);
            memcpy(https_off[0], https_responses, sizeof https_responses);
            memcpy(https_off[1], https_errors, sizeof https_errors);
        }
        one_second(s, s + TAIL_S >= opt.duration);
    }
}

/* ------------------------------------------------------------------ */
/* Truth.                                                              */

enum { F_CONNECT, F_TLS, F_DNS, F_NODATA, F_HTTP, NFAM };
static const char *const fam_names[NFAM] = { "connect", "tls", "dns", "nodata", "http" };

#define W(p, c) (snap_off[p][FL_C_##c] - snap_on[p][FL_C_##c])

/* Attempts and failures of one family of provider p during the incident,
 * by the same rules as the counters (include/fl_counters.h). */
static void fam_counts(int p, int f, double *att, double *fail)
{
    switch (f) {
    case F_CONNECT:
        *att = (double)W(p, tcp_attempts);
        *fail = (double)(W(p, tcp_refused) + W(p, tcp_syn_timeouts) + W(p, tcp_resets));
        break;
    case F_TLS:
        *att = (double)W(p, tls_handshakes);
        *fail = (double)W(p, tls_failures);
        break;
    case F_DNS:
        *att = (double)W(p, dns_queries);
        *fail = (double)(W(p, dns_servfail) + W(p, dns_timeouts) + W(p, dns_refused));
        break;
    case F_NODATA:
        *att = (double)W(p, dns_queries);
        *fail = (double)W(p, dns_nodata);
        break;
    default:
        *att = (double)W(p, http_responses);
        *fail = (double)W(p, http_5xx);
        break;
    }
}

typedef struct measure {
    const char *family;
    double ratio, per_min;
} measure;

/* The family whose failure ratio rose most over the incident (with at
 * least one attempt a minute, if any family has that many). */
static measure measure_provider(int p)
{
    double mins = (opt.end - opt.onset) / 60.0, best = -1;
    measure r = { "any", 0, 0 };
    for (int f = 0; f < NFAM; f++) {
        double att, fail;
        fam_counts(p, f, &att, &fail);
        double ratio = att > 0 ? fail / att : 0;
        double score = ratio + (att / mins >= 1 ? 1 : 0);
        if (att > 0 && score > best) {
            best = score;
            r = (measure){ fam_names[f], ratio, att / mins };
        }
    }
    return r;
}

/* https-5xx: the provider's HTTPS responses and error pages. */
static measure measure_https(int p)
{
    double mins = (opt.end - opt.onset) / 60.0;
    double att = (double)(https_off[0][p] - https_on[0][p]);
    double fail = (double)(https_off[1][p] - https_on[1][p]);
    return (measure){ "https", att > 0 ? fail / att : 0, att / mins };
}

/* resolver incidents: the failing resolver's queries (msession()). */
static measure measure_resolver(void)
{
    double mins = (opt.end - opt.onset) / 60.0;
    double q = (double)res_queries[m.resolver], x = (double)res_failures[m.resolver];
    return (measure){ "dns", q > 0 ? x / q : 0, q / mins };
}

/* local incidents: every provider's attempts pooled. */
static measure measure_all(void)
{
    double att = 0, fail = 0, mins = (opt.end - opt.onset) / 60.0;
    for (int p = 0; p < NPROV; p++)
        for (int f = 0; f < NFAM; f++) {
            double a, x;
            if (f == F_NODATA)
                continue;
            fam_counts(p, f, &a, &x);
            att += a;
            fail += x;
        }
    return (measure){ "all", att > 0 ? fail / att : 0, att / mins };
}

static void incident_row(FILE *f, const char *who, const char *scope, measure me,
                         double client_share)
{
    unsigned long long on = opt.start + opt.onset, off = opt.start + opt.end;
    char r25[32] = "-";
    double peak = m.shape == SH_RAMP ? 2 * me.ratio : me.ratio;
    if (m.shape == SH_RAMP && peak >= 0.25) {
        double x = (0.25 / peak - 0.02) / 0.98;
        snprintf(r25, sizeof r25, "%llu",
                 on + (unsigned long long)llround((x < 0 ? 0 : x) * (double)(off - on)));
    }
    fprintf(f, "incident\t%s\t%s\t%llu\t%llu\t1\t%s\t%s\t%s\t%.4f\t%.1f\t%s\t%.3f\n", who, scope,
            on, off, m.kind, shape_names[m.shape], me.family, me.ratio, me.per_min, r25,
            client_share);
}

static void params(FILE *f, const char *pre)
{
    fprintf(f, "%skind\t%s\n%sscale\t%.3f\n%sclients\t%u\n%sstart_tod\t%u\n%snoise\t%.4f\n", pre,
            m.kind, pre, m.scale, pre, opt.clients, pre, m.start_tod, pre, m.noise);
    for (int p = 0; p < NPROV; p++)
        fprintf(f, "%sweight_%s\t%.3f\n%sphase_%s\t%.2f\n", pre, provs[p].name, m.weight[p], pre,
                provs[p].name, m.phase[p]);
    for (int r = 0; r < NRESOLVER; r++)
        fprintf(f, "%sresolver_share_%s\t%.3f\n", pre, resolver_names[r], m.res_share[r]);
    fprintf(f, "%shttps\t%d\n", pre, m.https);
    fprintf(f, "%snoisy_client\t%s\n%soneway_share\t%.3f\n%sretries\t%u\n", pre,
            m.noisy_prov < 0 ? "-" : provs[m.noisy_prov].name, pre, m.oneway, pre, m.retries);
    if (m.noisy_prov >= 0)
        fprintf(f, "%snoisy_how\t%s\n%snoisy_rate\t%.2f\n", pre,
                (const char *[]){ "refused", "http500", "servfail" }[m.noisy_how], pre,
                m.noisy_rate);
    if (m.scope == SC_NONE) {
        fprintf(f, "%sduration\t%u\n", pre, opt.duration);
        return;
    }
    fprintf(f,
            "%sshape\t%s\n%sonset\t%u\n%send\t%u\n%sduration\t%u\n%saffected\t%.3f\n"
            "%sintensity\t%.3f\n%ssignals\t",
            pre, shape_names[m.shape], pre, opt.onset, pre, opt.end, pre, opt.duration, pre,
            m.affected, pre, m.intensity, pre);
    for (int g = 0, first = 1; g < NSIG; g++)
        if (m.signals & 1u << g) {
            fprintf(f, "%s%s", first ? "" : ",", sig_names[g]);
            first = 0;
        }
    fprintf(f, "\n");
    if (m.https_incident)
        fprintf(f, "%searly_close\t%.3f\n", pre, m.early);
    if (m.shape == SH_FLAP)
        fprintf(f, "%speriod\t%.0f\n%strough\t%.3f\n", pre, m.period, pre, m.trough);
    if (m.capped)
        fprintf(f, "%scapped\t1\n", pre);
}

static void write_matrix_truth(const char *path, uint64_t seed)
{
    FILE *f = fopen(path, "w");
    if (!f)
        die("cannot open --truth file");
    fprintf(f, "# flgen truth v2: matrix capture (tests/gen/flgen_matrix.c)\n"
               "#type\tprovider\tname\tvalue\tvalue2\n");
    fprintf(f, "meta\t-\tscenario\tmatrix\nmeta\t-\tseed\t%llu\nmeta\t-\tstart\t%llu\n",
            (unsigned long long)seed, (unsigned long long)opt.start);
    params(f, "meta\t-\t");
    fprintf(f, "meta\t-\tcounters_exact\t%d\n", m.oneway > 0 ? 0 : 1);
    truth_counters(f, (1u << NPROV) - 1);
    fprintf(f, "#incident\twho\tscope\tonset\tend\tid\tkind\tshape\tfamily\tratio\tper_min"
               "\tramp25_at\tclient_share\n");
    if (m.scope == SC_PROVIDER)
        for (int i = 0; i < m.nprov; i++)
            incident_row(f, provs[m.prov[i]].name, "provider",
                         m.https_incident ? measure_https(m.prov[i]) : measure_provider(m.prov[i]),
                         m.affected);
    else if (m.scope == SC_LOCAL)
        incident_row(f, "local", "local", measure_all(), 1.0);
    else if (m.scope == SC_RESOLVER)
        incident_row(f, resolver_v4[m.resolver], "resolver", measure_resolver(),
                     m.res_share[m.resolver]);
    else
        fprintf(f, "expect\t*\tno_alert\t%llu\t%llu\n", (unsigned long long)opt.start,
                (unsigned long long)opt.start + opt.duration);
    if (fclose(f) != 0)
        die("write error on --truth file");
}

void matrix_run(const char *kind, uint64_t seed, bool https, const char *pcap, const char *tsv)
{
    memset(&m, 0, sizeof m);
    m.kind = kind;
    m.https_incident = !strcmp(kind, "https-5xx");
    m.https = https || m.https_incident;
    /* Each kind its own worlds: the seed mixed with an FNV-1a hash of the
     * kind's name. */
    uint64_t h = 0xcbf29ce484222325ULL;
    for (const char *c = kind; *c; c++)
        h = (h ^ (uint8_t)*c) * 0x100000001b3ULL;
    rng_state = seed * 0x9e3779b97f4a7c15ULL ^ h;
    bool clean_day = !strcmp(kind, "clean-day");
    draw_world(clean_day);
    if (clean_day) {
        m.start_tod = 0;
        opt.duration = 86400;
    } else if (!strcmp(kind, "quiet")) {
        m.start_tod = rnd_below(24 * 3600);
        opt.duration = 1200 + rnd_below(1200);
        if (opt.duration > MAX_SESSIONS / total_rate())
            opt.duration = (uint32_t)(MAX_SESSIONS / total_rate()) + 60;
    } else {
        draw_incident();
    }
    opt.start = DAY0 + m.start_tod;
    if (m.scope == SC_NONE)
        opt.onset = opt.end = opt.duration; /* level() is 0 throughout */
    params(stderr, "flgen: matrix ");
    generate_matrix();
    write_pcap(pcap);
    write_matrix_truth(tsv, seed);
}
