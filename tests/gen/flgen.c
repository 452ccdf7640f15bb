/* flgen - deterministic capture generator: scenario captures with known truth.
 *
 *   flgen --seed N --scenario NAME --out FILE.pcap --truth FILE.tsv
 *         [--start EPOCH] [--duration S] [--onset S] [--end S]
 *         [--clients N] [--scale X]
 *
 * Writes a classic pcap (DLT_EN10MB, microsecond timestamps, written here
 * with fwrite: no libpcap) of synthetic but protocol-correct traffic between
 * clients in 10.0.0.0/8 / fd00::/8 and servers at real provider addresses,
 * and a TSV file with the exact counts of the README "Counters" table
 * per provider, known by construction (from what each session was built to
 * be, not by re-parsing the output). Same arguments, same bytes: all
 * randomness comes from one splitmix64 stream seeded by --seed; no clock, no
 * rand(). The packets of all sessions are sorted by (time, creation order)
 * before they are written.
 *
 * Nothing here is ever sent: the addresses are only written into the file.
 *
 * Files: flgen.c (this: the fixed scenarios, their truth file, the command
 * line), flgen_wire.c (randomness, frames, TCP, addresses, pcap writer),
 * flgen_proto.c (TLS, HTTP, DNS sessions and the counters they add),
 * flgen_https.c (TLS 1.3 application data of realistic sizes) and
 * flgen_matrix.c (`--matrix KIND`: the randomized incident matrix that
 * tests/bench/detect_matrix.sh replays; its truth rows are described there).
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
 *     belong to the provider of the queried name (README "How a flow is attributed"); the truth also
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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "flgen.h"

static bool in_incident(uint32_t s)
{
    return s >= opt.onset && s < opt.end;
}

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
    sp->rtx = (uint8_t)((chance(0.15) ? RTX_SYN : 0) | (chance(0.15) ? RTX_DATA : 0) |
                        (chance(0.3) ? RTX_RST : 0));
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
    uint32_t provmask; /* providers with background traffic */
    uint32_t clients;
    double rate;          /* background rate scale */
    const char *incident; /* "PROVIDER\tSCOPE" of the incident, or NULL */
    const char *quiet[2]; /* providers that must not alert ("*": all) */
    bool quiet_window;    /* ... during onset..end only (else always) */
    const char *note;     /* a comment for the truth file */
} scenario;

#define MAIN6 0x3fu /* Cloudflare .. Fastly */

static const scenario scenarios[] = {
    { "mixed",
      hook_mixed,
      NULL,
      MAIN6,
      30,
      0.25,
      NULL,
      { NULL, NULL },
      false,
      "every kind and outcome, IPv6, retransmissions: the exact-count capture" },
    { "cloudflare-5xx",
      hook_cf5xx,
      NULL,
      MAIN6,
      40,
      1.0,
      "Cloudflare\tprovider",
      { NULL, NULL },
      false,
      "Cloudflare: 52x over keep-alive, TLS alerts and resets" },
    { "aws-dns",
      hook_awsdns,
      NULL,
      MAIN6,
      40,
      1.0,
      "AWS\tprovider",
      { NULL, NULL },
      false,
      "amazonaws.com names SERVFAIL/NODATA, AWS addresses refuse connections" },
    { "gradual",
      hook_gradual,
      NULL,
      MAIN6,
      40,
      1.0,
      "Fastly\tprovider",
      { NULL, NULL },
      false,
      "Fastly's failure ratio rises linearly 0 -> 60% over the window" },
    { "local-uplink",
      hook_local,
      NULL,
      MAIN6,
      40,
      1.0,
      "local\tlocal",
      { NULL, NULL },
      false,
      "all SYNs unanswered, all DNS queries time out, every provider" },
    { "noisy-client",
      NULL,
      extra_noisy,
      MAIN6,
      40,
      1.0,
      NULL,
      { "AWS", "Google" },
      false,
      "one client (10.1.0.10) refused at AWS :8443 and 500s at Google" },
    { "low-volume",
      hook_lowvol,
      NULL,
      MAIN6 | 1u << P_ORACLE,
      40,
      1.0,
      NULL,
      { "Oracle", NULL },
      true,
      "Oracle: a handful of flows, half failing in the window" },
    { "clean",
      NULL,
      NULL,
      MAIN6 | 1u << P_ORACLE,
      80,
      1.0,
      NULL,
      { "*", NULL },
      false,
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
                if (tail) { /* short and healthy near the end */
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

static const char *const counter_names[FL_C_COUNT] = {
#define FL_X(name, fail) #name,
    FL_COUNTERS(FL_X)
#undef FL_X
};

/* The counter, detail and packets rows of every provider in provmask. */
void truth_counters(FILE *f, uint32_t provmask)
{
    for (int p = 0; p < NPROV; p++) {
        if (!(provmask & 1u << p))
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
}

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
    truth_counters(f, sc->provmask);
    fprintf(f, "# %s\n", sc->note);
    if (sc->incident)
        fprintf(f, "incident\t%s\t%llu\t%llu\n", sc->incident, on, off);
    for (int i = 0; i < 2 && sc->quiet[i]; i++)
        fprintf(f, "expect\t%s\tno_alert\t%llu\t%llu\n", sc->quiet[i], sc->quiet_window ? on : t0,
                sc->quiet_window ? off : t1);
    if (fclose(f) != 0)
        die("write error on --truth file");
}

static _Noreturn void usage(void)
{
    fprintf(stderr,
            "usage: flgen --seed N --scenario NAME --out FILE.pcap --truth FILE.tsv\n"
            "             [--start EPOCH] [--duration S] [--onset S] [--end S]\n"
            "             [--clients N] [--scale X]\n"
            "       flgen --seed N --matrix KIND [--https] --out FILE.pcap --truth FILE.tsv\n"
            "scenarios:");
    for (size_t i = 0; i < NSCEN; i++)
        fprintf(stderr, " %s", scenarios[i].name);
    fprintf(stderr, "\nmatrix kinds:");
    matrix_kinds(stderr);
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
    const char *scen = NULL, *pcap = NULL, *tsv = NULL, *matrix = NULL;
    uint64_t seed = 0;
    bool have_seed = false, https = false;
    long long onset = -1, end = -1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--https")) {
            https = true;
            continue;
        }
        if (!v)
            usage();
        i++;
        if (!strcmp(a, "--seed")) {
            seed = num_arg(v);
            have_seed = true;
        } else if (!strcmp(a, "--scenario"))
            scen = v;
        else if (!strcmp(a, "--matrix"))
            matrix = v;
        else if (!strcmp(a, "--out"))
            pcap = v;
        else if (!strcmp(a, "--truth"))
            tsv = v;
        else if (!strcmp(a, "--start"))
            opt.start = num_arg(v);
        else if (!strcmp(a, "--duration"))
            opt.duration = (uint32_t)num_arg(v);
        else if (!strcmp(a, "--onset"))
            onset = (long long)num_arg(v);
        else if (!strcmp(a, "--end"))
            end = (long long)num_arg(v);
        else if (!strcmp(a, "--clients"))
            opt.clients = (uint32_t)num_arg(v);
        else if (!strcmp(a, "--scale")) {
            char *e;
            opt.scale = strtod(v, &e);
            if (*e || !(opt.scale > 0 && opt.scale <= 20))
                usage();
        } else
            usage();
    }
    if (matrix && have_seed && pcap && tsv && !scen) {
        if (!matrix_known(matrix))
            usage();
        matrix_run(matrix, seed, https, pcap, tsv);
        free(out.fr);
        free(out.bytes.p);
        return 0;
    }
    if (!have_seed || !scen || !pcap || !tsv || matrix || https)
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
        die("--clients at most 2000");
    rng_state = seed;
    generate(sc);
    write_pcap(pcap);
    write_truth(tsv, sc, seed);
    free(out.fr);
    free(out.bytes.p);
    return 0;
}
