/* flgen.h - what the generator's files share (tests/gen only: a test tool,
 * not part of faultline). flgen_wire.c: randomness, buffers, frames, TCP,
 * addresses, pcap writer; flgen_proto.c: sessions and their truth counters;
 * flgen.c: the fixed scenarios, truth file and command line;
 * flgen_matrix.c: the randomized incident matrix. */
#ifndef FLGEN_H
#define FLGEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdint.h>
#include "fl_counters.h"

#define US 1000000ULL /* microseconds per second */
#define MSS 1400      /* fits IPv4 and IPv6 in a 1500-byte MTU */
#define TAIL_S 20     /* last seconds: only healthy, short sessions */
#define MAX_REQ 6
#define MAX_CLIENTS 2000

/* --- randomness: one splitmix64 stream, seeded by --seed ------------- */
extern uint64_t rng_state;
uint64_t rnd64(void);
uint32_t rnd_below(uint32_t n);
double rnd_unit(void);
bool chance(double p);
void rnd_fill(uint8_t *p, size_t n);
uint32_t rnd_poisson(double mean);

/* --- a growable byte buffer ----------------------------------------- */
typedef struct buf {
    uint8_t *p;
    size_t n, cap;
} buf;

/* the GNU spelling, not C11 _Noreturn: cppcheck 2.10 only reads this one */
__attribute__((noreturn)) void die(const char *msg);
void b_put(buf *b, const void *d, size_t n);
void b_u8(buf *b, unsigned v);
void b_u16(buf *b, unsigned v);
void b_u32(buf *b, uint32_t v);
void b_rand(buf *b, size_t n);
__attribute__((format(printf, 2, 3))) void b_printf(buf *b, const char *fmt, ...);
size_t b_hole(buf *b, size_t width);
void b_fill(buf *b, size_t at, size_t width);
void put16(uint8_t *p, unsigned v);

/* --- frames ---------------------------------------------------------- */
typedef struct host {
    bool v6;
    uint8_t a[16]; /* IPv4 in a[0..3] */
    uint8_t mac[6];
    uint8_t ttl;
} host;

typedef struct frame {
    uint64_t ts;    /* microseconds since --start */
    uint64_t order; /* creation order: ties keep session order */
    uint64_t off;
    uint32_t len;
} frame;

enum { ST_PKTS, ST_RST, ST_RST_RTX, ST_SYN_RTX, ST_DATA_RTX, ST_CLIENT_RST, ST_COUNT };
extern const char *const st_names[ST_COUNT];

typedef struct gen_out {
    buf bytes; /* all frames, back to back */
    frame *fr;
    size_t nfr, capfr;
    uint16_t ipid;
    uint64_t st[ST_COUNT];
    bool server_mute; /* one-way capture: drop what servers send */
} gen_out;
extern gen_out out;

void udp_send(uint64_t t, const host *s, const host *d, uint16_t sp, uint16_t dp, const uint8_t *p,
              uint32_t n);
void write_pcap(const char *path);

/* --- TCP: side 0 is the client, 1 the server -------------------------- */
enum { C = 0, S = 1 };
enum { FIN = 0x01, SYN = 0x02, RST = 0x04, PSH = 0x08, ACK = 0x10 };

typedef struct conn {
    host h[2];
    uint16_t port[2];
    uint32_t nxt[2]; /* next sequence number each side sends */
    uint64_t t;      /* now, microseconds */
    uint32_t rtt;
} conn;

void seg(conn *k, int d, uint8_t fl, uint32_t seq, const uint8_t *p, uint32_t n);
uint32_t tx(conn *k, int d, uint8_t fl, const uint8_t *p, uint32_t n);
void later(conn *k, uint64_t us);
void gap(conn *k);
void wait_rtt(conn *k);
void send_data(conn *k, int d, const uint8_t *p, size_t n);
void send_cut(conn *k, int d, const uint8_t *p, size_t n, const size_t *cuts, int ncuts);
void ack(conn *k, int d);

/* --- providers, resolvers, clients ------------------------------------ */
enum { P_CLOUDFLARE, P_AWS, P_GOOGLE, P_MICROSOFT, P_AKAMAI, P_FASTLY, P_ORACLE, NPROV };

typedef struct provider {
    const char *name;
    const char *v4[3], *v6[2];
    const char *names[3]; /* queried names, SNI, Host */
    const char *cname;    /* CNAME chain target suffix, or NULL */
    double rate;          /* background sessions per second */
    uint8_t ttl;
} provider;

extern const provider provs[NPROV];
uint32_t nset(const char *const *a, uint32_t max);
#define NV4(p) nset(provs[p].v4, 3)
#define NV6(p) nset(provs[p].v6, 2)
#define NNAMES(p) nset(provs[p].names, 3)

/* Resolvers: 0 is the site's own (private address, the fixed scenarios use
 * only it); the others are public resolvers some clients are set to. */
enum { R_INTERNAL, R_GOOGLE, R_CLOUDFLARE, NRESOLVER };
extern const char *const resolver_names[NRESOLVER];
extern const char *const resolver_v4[NRESOLVER];

host server_host(int p, bool v6);
host resolver_host(bool v6, int which);
host client_host(uint32_t i, bool v6);
uint16_t next_port(uint32_t client);

/* Command-line options (seconds, relative to --start). */
typedef struct gen_opt {
    uint32_t duration, onset, end, clients;
    uint64_t start;
    double scale;
} gen_opt;
extern gen_opt opt;
extern uint16_t client_port[MAX_CLIENTS];

/* --- sessions --------------------------------------------------------- */
enum kind { K_TCP, K_TLS, K_HTTP, K_DNS, K_DNS_TCP };
enum outcome {
    O_OK,
    O_REFUSED,
    O_SYN_TIMEOUT, /* TCP kinds: never established */
    O_RESET,       /* TLS/HTTP: server RST after data */
    O_TLS_ALERT,
    O_TLS_RST,
    O_TLS_SILENT, /* TLS handshake failures */
    O_NXDOMAIN,
    O_SERVFAIL,
    O_DNS_REFUSED,
    O_NODATA,
    O_DNS_TIMEOUT,
};
enum { RTX_SYN = 1, RTX_DATA = 2, RTX_RST = 4 };

typedef struct spec {
    uint64_t t; /* start, microseconds since --start */
    uint32_t client;
    uint8_t kind, out, prov, v6;
    uint8_t rtx; /* RTX_* */
    uint8_t tls13;
    uint8_t aaaa;            /* DNS: AAAA query (else A) */
    uint8_t chain;           /* DNS: answer through a CNAME */
    uint8_t nreq;            /* HTTP requests on the connection */
    int8_t head_at, cont_at; /* HTTP: which request is HEAD / POST+100-continue */
    uint8_t split;           /* HTTP: cut response headers; 2: inside status line */
    uint8_t client_rst;      /* HTTP: client aborts with RST (not counted) */
    uint8_t resolver;        /* DNS: R_* the client asks */
    uint8_t oneway;          /* only the client's packets are captured */
    uint8_t https;           /* TLS 1.3: realistic application data (flgen_https.c) */
    uint8_t err_mask;        /* https: responses (bit i: response i) that are the
                               provider's error page */
    uint8_t early_close;     /* https: the server closes after the first error */
    uint16_t port;           /* K_TCP server port */
    uint16_t status[MAX_REQ];
    const char *path; /* HTTP path override */
    char name[96];    /* SNI / Host / queried name */
} spec;

extern uint64_t truth[NPROV][FL_C_COUNT];
extern uint64_t dns_flows[NPROV], dns_tcp_flows[NPROV];

void session(spec *sp);
void truth_counters(FILE *f, uint32_t provmask);
void base_session(spec *sp);

/* --- HTTPS application data (flgen_https.c) ---------------------------- */
extern uint64_t https_responses[NPROV], https_errors[NPROV];
bool https_exchange(conn *k, const spec *sp);
void https_name(spec *sp);

/* --- the matrix (flgen_matrix.c) --------------------------------------- */
bool matrix_known(const char *kind);
void matrix_kinds(FILE *f);
void matrix_run(const char *kind, uint64_t seed, bool https, const char *pcap, const char *tsv);

#endif
