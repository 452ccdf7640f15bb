/* quic_flow.c - QUIC flows: the Initial module's facts turned into counters,
 * the unanswered-handshake timer, attribution by SNI, and the TCP fallback
 * match.
 *
 * A UDP flow on any port is QUIC when its first packet is a long header of
 * a version we know. nDPI does not see it (fl_quic.h reads more of QUIC
 * than nDPI 4.2 does: shuffled and split ClientHellos, v2, the server side).
 *
 *   quic_handshakes  the client's Initials carried a ClientHello (once)
 *   quic_closes      a server Initial carried CONNECTION_CLOSE
 *   quic_unanswered  no server packet within quic_timeout_s while the client
 *                    sent only Initials (a client going on with Handshake or
 *                    1-RTT packets had the server's answer: the capture missed
 *                    that side; capture health, as for one-way TCP)
 *   quic_failures    closes + unanswered + Version Negotiation offering no
 *                    version the client could use
 *   quic_fallbacks   a TCP ClientHello from the same client with the same SNI
 *                    while its QUIC handshake was pending or within 5 s of its
 *                    failure (browsers race or fall back to TCP)
 */
#include <stdlib.h>
#include <string.h>

#include "engine_int.h"
#include "fl_hash.h"
#include "fl_quic.h"

#define FALLBACK_WINDOW_US (5 * FL_US)
#define SNI_SET 4096 /* distinct SNIs counted for the capture-health view */
#define TIMER_QUIC 3

/* engine bits in fl_quic_conn.flags (24-31 are ours) */
enum {
    QE_HS = 1u << 24,     /* quic_handshakes counted */
    QE_TIMER = 1u << 25,  /* unanswered timer armed */
    QE_FAILED = 1u << 26, /* quic_failures counted */
    QE_FB = 1u << 27,     /* registered in the fallback table */
};

typedef struct fb_entry {
    uint64_t key;       /* hash of client and SNI, 0 empty */
    uint64_t quic_us;   /* the QUIC ClientHello */
    uint64_t failed_us; /* its failure, 0 none yet */
    uint64_t tcp_us;    /* a TCP ClientHello while it was pending, 0 none */
    uint16_t provider;
    uint8_t counted;
} fb_entry;

struct fl_eng_quic {
    fl_quic_pool *pool;
    fl_timer_ring timers;
    uint64_t timeout_us;
    fb_entry *fb; /* direct-mapped: a collision replaces the older entry */
    uint32_t fb_mask, fb_live;
    uint64_t *sni; /* open-addressing set of SNI hashes */
    uint32_t sni_n;
};

fl_eng_quic *fl_eng_quic_new(const fl_config *cfg, uint32_t timer_cap)
{
    fl_eng_quic *q = calloc(1, sizeof *q);
    if (!q)
        return NULL;
    uint32_t fb = 4;
    while (fb < cfg->quic_fallback_cap && fb < (1u << 24))
        fb <<= 1;
    q->fb_mask = fb - 1;
    q->fb = calloc(fb, sizeof *q->fb);
    q->sni = calloc(SNI_SET, sizeof *q->sni);
    q->pool = fl_quic_pool_new(cfg->quic_reasm_cap);
    q->timeout_us = (uint64_t)(cfg->quic_timeout_s * FL_US);
    if (!q->fb || !q->sni || !q->pool || !fl_timer_ring_init(&q->timers, timer_cap)) {
        fl_eng_quic_free(q);
        return NULL;
    }
    return q;
}

void fl_eng_quic_free(fl_eng_quic *q)
{
    if (!q)
        return;
    fl_quic_pool_free(q->pool);
    fl_timer_ring_free(&q->timers);
    free(q->fb);
    free(q->sni);
    free(q);
}

/* ------------------------------------------------------------------ */
/* fallback table                                                      */

static uint32_t sni_hash(const char *sni)
{
    uint64_t h = 0x5149u;
    for (const char *c = sni; *c; c++)
        h = fl_mix64(h ^ (uint8_t)(*c | 0x20)); /* names are case-blind */
    return (uint32_t)(h >> 32) | 1;
}

static uint64_t fb_key(const fl_addr *client, uint32_t sni)
{
    uint64_t h = fl_mix64((uint64_t)client->family << 32 | sni);
    for (int i = 0; i < 16; i++)
        h = fl_mix64(h ^ client->b[i]);
    return h | 1;
}

/* Entries live in sets of FB_WAYS: a client opening a new connection to the
 * same name before the last one's verdict keeps both. An entry is one QUIC
 * attempt: its key and the time of its flow's first packet. */
#define FB_WAYS 4

static fb_entry *fb_set(fl_eng_quic *q, uint64_t key)
{
    return &q->fb[key & q->fb_mask & ~(uint64_t)(FB_WAYS - 1)];
}

static fb_entry *fb_find(fl_eng_quic *q, uint64_t key, uint64_t quic_us)
{
    fb_entry *set = fb_set(q, key);
    for (int i = 0; i < FB_WAYS; i++)
        if (set[i].key == key && set[i].quic_us == quic_us)
            return &set[i];
    return NULL;
}

static void fb_count(fl_engine *e, fb_entry *x, uint64_t ts)
{
    x->counted = 1;
    e->st.quic.fallbacks++;
    fl_eng_emit(e, ts, x->provider, FL_C_quic_fallbacks, 1);
}

/* The QUIC handshake of f started (its SNI hash in aux): take an empty way
 * or the oldest attempt's. */
static void fb_attempt(fl_engine *e, fl_flow *f)
{
    fl_eng_quic *q = e->quic;
    uint64_t key = fb_key(&f->client, f->u.quic.aux);
    fb_entry *set = fb_set(q, key), *x = &set[0];
    for (int i = 0; i < FB_WAYS; i++) {
        if (!set[i].key) {
            x = &set[i];
            break;
        }
        if (set[i].quic_us < x->quic_us)
            x = &set[i];
    }
    if (!x->key)
        q->fb_live++;
    *x = (fb_entry){ .key = key, .quic_us = f->first_us, .provider = f->provider };
    f->u.quic.flags |= QE_FB;
}

/* The QUIC handshake of f failed (failed) or got its server's answer. */
static void fb_outcome(fl_engine *e, fl_flow *f, bool failed, uint64_t ts)
{
    if (!(f->u.quic.flags & QE_FB))
        return;
    f->u.quic.flags &= ~(uint32_t)QE_FB;
    fb_entry *x = fb_find(e->quic, fb_key(&f->client, f->u.quic.aux), f->first_us);
    if (!x)
        return;
    if (!failed) {
        x->key = 0; /* QUIC worked: a TCP connection now is no fallback */
        e->quic->fb_live--;
        return;
    }
    x->failed_us = ts;
    x->provider = f->provider;
    if (x->tcp_us && !x->counted)
        fb_count(e, x, ts); /* the browser raced TCP while QUIC waited */
}

void fl_eng_quic_tcp_hello(fl_engine *e, const fl_flow *f, const uint8_t *data, uint32_t len,
                           uint64_t ts)
{
    fl_eng_quic *q = e->quic;
    fl_quic_hello h;
    /* RFC 8446 5.1: a 5-byte record header, then the ClientHello */
    if (!q->fb_live || len <= 5 || data[0] != 0x16 ||
        fl_quic_parse_client_hello_part(data + 5, len - 5, &h) < 0 || !h.sni[0])
        return;
    uint64_t key = fb_key(&f->client, sni_hash(h.sni));
    fb_entry *set = fb_set(q, key), *pending = NULL;
    for (int i = 0; i < FB_WAYS; i++) {
        fb_entry *x = &set[i];
        if (x->key != key || x->counted)
            continue;
        if (x->failed_us && ts <= x->failed_us + FALLBACK_WINDOW_US) {
            fb_count(e, x, ts);
            return;
        }
        if (!x->failed_us && !x->tcp_us && ts <= x->quic_us + q->timeout_us + FALLBACK_WINDOW_US &&
            (!pending || x->quic_us > pending->quic_us))
            pending = x;
    }
    if (pending)
        pending->tcp_us = ts; /* judged when that QUIC attempt's verdict comes */
}

/* ------------------------------------------------------------------ */
/* facts                                                               */

static void sni_seen(fl_engine *e, uint32_t h)
{
    fl_eng_quic *q = e->quic;
    if (q->sni_n >= SNI_SET / 2)
        return; /* the set is full: the count stops (a capture-health figure) */
    uint64_t k = h;
    for (uint32_t i = h & (SNI_SET - 1);; i = (i + 1) & (SNI_SET - 1)) {
        if (q->sni[i] == k)
            return;
        if (!q->sni[i]) {
            q->sni[i] = k;
            q->sni_n++;
            e->st.quic.snis++;
            return;
        }
    }
}

static void fail(fl_engine *e, fl_flow *f, uint64_t ts)
{
    if (f->u.quic.flags & QE_FAILED)
        return;
    f->u.quic.flags |= QE_FAILED;
    fl_eng_flow_fact(e, f, ts, FL_C_quic_failures, 1);
    fb_outcome(e, f, true, ts);
}

/* The ClientHello's SNI: the flow's service, its provider when the address
 * said nothing (as for TLS over TCP), the key of the fallback match. */
static void hello_read(fl_engine *e, fl_flow *f, const fl_quic_hello *h)
{
    fl_quic_conn *q = &f->u.quic;
    if (!h->sni[0] || q->aux)
        return;
    q->aux = sni_hash(h->sni);
    sni_seen(e, q->aux);
    f->service = fl_aggregate_service_id(e->agg, h->sni);
    if (!(f->state & FL_FS_ATTRIBUTED) && f->provider == FL_PROVIDER_UNKNOWN)
        f->provider = fl_providers_by_name(e->prov, h->sni);
    if (!(q->flags & (FL_QF_SH | FL_QF_CLOSE_SERVER | QE_FAILED)))
        fb_attempt(e, f);
}

/* Versions of the handshakes, kept sorted (a capture-health figure). */
static void add_version(fl_engine_stats *st, uint32_t v)
{
    uint32_t n = st->quic.nversions, i = 0;
    while (i < n && st->quic.versions[i] < v)
        i++;
    if ((i < n && st->quic.versions[i] == v) || n == 8)
        return;
    memmove(&st->quic.versions[i + 1], &st->quic.versions[i], (n - i) * sizeof(uint32_t));
    st->quic.versions[i] = v;
    st->quic.nversions = n + 1;
}

/* Count the handshake once (attributing the flow) and arm its timer. */
static void handshake(fl_engine *e, fl_flow *f, uint64_t ts)
{
    fl_quic_conn *q = &f->u.quic;
    q->flags |= QE_HS;
    add_version(&e->st, q->version); /* the version the ClientHello came in */
    fl_eng_flow_fact(e, f, ts, FL_C_quic_handshakes, 1);
    if (q->flags & FL_QF_SERVER)
        return;
    fl_timer t = { .deadline_us = ts + e->quic->timeout_us,
                   .flow = fl_flow_index(e->flows, f),
                   .gen = f->gen,
                   .kind = TIMER_QUIC };
    fl_timer old;
    if (fl_timer_ring_full(&e->quic->timers) && fl_timer_ring_pop(&e->quic->timers, &old)) {
        e->st.timers_forced++; /* full: the oldest expires now, counted */
        fl_flow *of = fl_flow_at(e->flows, old.flow);
        if (of && of->gen == old.gen)
            fl_eng_quic_timeout(e, of, e->now_us);
    }
    fl_timer_ring_push(&e->quic->timers, &t);
    q->flags |= QE_TIMER;
}

void fl_eng_quic_timeout(fl_engine *e, fl_flow *f, uint64_t ts)
{
    fl_quic_conn *q = &f->u.quic;
    if (f->app != FL_APP_QUIC || !(q->flags & QE_TIMER))
        return;
    q->flags &= ~(uint32_t)QE_TIMER;
    if (q->flags & FL_QF_SERVER)
        return;
    if (q->flags & FL_QF_CLIENT_MORE) {
        e->st.quic.one_way++; /* the server's side is missing from the capture */
        return;
    }
    fl_eng_flow_fact(e, f, ts, FL_C_quic_unanswered, 1);
    fail(e, f, ts);
}

static void facts(fl_engine *e, fl_flow *f, bool from_client, const fl_quic_facts *qf, uint64_t ts)
{
    fl_quic_conn *q = &f->u.quic;
    if (qf->decode_error)
        e->st.quic.decode_errors++;
    if (qf->hello_read)
        hello_read(e, f, &qf->hello);
    bool hello_over = (q->flags & FL_QF_CH) && ((q->flags & FL_QF_CH_DONE) ||
                                                fl_quic_decrypts(q, false) >= FL_QUIC_DECRYPT_CAP);
    bool verdict = !from_client && (qf->close || qf->vn_none) && (q->flags & FL_QF_CH);
    if (!(q->flags & QE_HS) && (hello_over || verdict))
        handshake(e, f, ts);
    if (from_client)
        return;
    if (qf->close && (q->flags & QE_HS)) {
        fl_eng_flow_fact(e, f, ts, FL_C_quic_closes, 1);
        fail(e, f, ts);
    } else if (qf->vn_none && (q->flags & QE_HS)) {
        fail(e, f, ts);
    } else if ((q->flags & QE_FB) && (q->flags & (FL_QF_SH | FL_QF_CLIENT_MORE))) {
        fb_outcome(e, f, false, ts);
    }
}

/* ------------------------------------------------------------------ */
/* packets and flow ends                                               */

bool fl_eng_quic_packet(fl_engine *e, fl_flow *f, const fl_packet *pkt, bool from_client)
{
    if (f->app == FL_APP_NONE) {
        if (f->pkts[0] + f->pkts[1] != 1 ||
            !fl_quic_looks_like_long_header(pkt->payload, pkt->payload_len))
            return false;
        f->app = FL_APP_QUIC;
        memset(&f->u.quic, 0, sizeof f->u.quic);
        fl_quic_app_init(&f->u.quic_app);
        f->state |= FL_FS_CLASSIFIED; /* nDPI would read less of it */
        if (!f->service)
            f->service = fl_aggregate_service_id(e->agg, "QUIC");
        e->st.quic.flows++;
    }
    if (f->app != FL_APP_QUIC)
        return false;
    fl_quic_conn *q = &f->u.quic;
    if (!fl_quic_done(q)) {
        fl_quic_facts qf;
        fl_quic_feed(e->quic->pool, q, from_client, pkt->payload, pkt->payload_len, &qf);
        facts(e, f, from_client, &qf, pkt->ts_us);
    } else if (!from_client) {
        q->flags |= FL_QF_SERVER;
    }
    /* Attribution waits while the ClientHello (and its SNI) is incomplete. */
    if (!(f->state & FL_FS_ATTRIBUTED) && (!(q->flags & FL_QF_CH) || (q->flags & QE_HS)))
        fl_eng_attribute(e, f, 0);
    fl_eng_https_quic(e, f, from_client, pkt->payload, pkt->payload_len, pkt->ts_us);
    return true;
}

bool fl_eng_quic_timer_pending(const fl_flow *f)
{
    return (f->u.quic.flags & QE_TIMER) != 0;
}

/* A discontinuity in packet time (engine.c): the QUIC failures remembered
 * for the fallback match are of another time line; a TCP ClientHello after
 * a backward jump must not match them. */
void fl_eng_quic_forget(fl_engine *e)
{
    fl_eng_quic *q = e->quic;
    if (q && q->fb_live) {
        memset(q->fb, 0, ((size_t)q->fb_mask + 1) * sizeof *q->fb);
        q->fb_live = 0;
    }
}

void fl_eng_quic_timers_run(fl_engine *e, uint64_t now)
{
    fl_timer t;
    while (fl_timer_ring_pop_due(&e->quic->timers, now, &t)) {
        fl_flow *f = fl_flow_at(e->flows, t.flow);
        if (f && f->gen == t.gen)
            fl_eng_quic_timeout(e, f, t.deadline_us);
    }
}

/* The flow ends: a pending timer settles as the SYN timer does, the
 * capture-health figures take this flow once, the reassembly slot returns. */
void fl_eng_quic_flow_end(fl_engine *e, fl_flow *f, bool drained)
{
    if (f->app != FL_APP_QUIC || !e->quic)
        return;
    fl_quic_conn *q = &f->u.quic;
    fl_quic_conn_end(e->quic->pool, q);
    if (e->closing)
        return;
    if ((q->flags & FL_QF_CH) && !(q->flags & QE_HS))
        handshake(e, f, f->last_us);
    uint64_t deadline = f->first_us + e->quic->timeout_us;
    if ((q->flags & QE_TIMER) && (drained || deadline <= e->now_us))
        fl_eng_quic_timeout(e, f, deadline);
    if (q->flags & QE_FB)
        fb_outcome(e, f, false, e->now_us); /* no verdict: forget it */
    e->st.quic.reasm_exhausted = fl_quic_pool_exhausted(e->quic->pool);
    e->st.quic.vn += !!(q->flags & FL_QF_VN);
    if (!(q->flags & QE_HS))
        return;
    e->st.quic.handshakes++;
    if (q->flags & FL_QF_SERVER)
        e->st.quic.answered++;
    else
        e->st.quic.unanswered++;
    e->st.quic.server_hello += !!(q->flags & FL_QF_SH);
    e->st.quic.close_server += !!(q->flags & FL_QF_CLOSE_SERVER);
    e->st.quic.close_client += !!(q->flags & FL_QF_CLOSE_CLIENT);
    e->st.quic.vn_none += !!(q->flags & FL_QF_VN_NONE);
    e->st.quic.retry += !!(q->flags & FL_QF_RETRY);
}
