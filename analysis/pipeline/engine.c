/* engine.c - the analysis pipeline: flows, attribution, TCP, dissectors,
 * timers, counters.
 *
 * Per packet: one flow lookup, a few flag tests, and dissection only of the
 * packets that can carry a counted fact (payload of TLS flows until the
 * handshake is decided, HTTP message heads, DNS messages). nDPI sees a flow
 * only until it is classified.
 *
 * Facts are counted in the bucket of the packet that shows them (the RST,
 * the alert, the response) or, for timeouts, at the moment the timeout
 * passes. A flow's own facts (flows, tcp_attempts, early HTTP requests) wait
 * for its provider to be decided: by address at once; else by name when
 * nDPI has read the SNI/Host; for HTTP flows not placed by address, at the
 * first response, whose headers may name the CDN.
 */
#include <stdlib.h>
#include <string.h>

#include "fl_cursor.h"
#include "fl_engine.h"
#include "fl_hash.h"

#define US 1000000ULL
#define HOUSEKEEPING_US 50000ULL   /* run timers at most every 50 ms of packet time */

enum { TIMER_SYN = 1, TIMER_TLS = 2 };

typedef struct timer_entry {
    uint64_t deadline_us;
    uint32_t flow;
    uint32_t gen;
    uint8_t kind;
} timer_entry;

/* A fixed ring of timers in deadline order: every timer of one kind has the
 * same timeout and packet time never steps back (we keep it monotonic), so
 * appending keeps the ring sorted. */
typedef struct timer_ring {
    timer_entry *e;
    uint32_t cap, head, len;
} timer_ring;

typedef struct dns_pending {
    uint64_t deadline_us;
    uint32_t flow, gen;
    fl_addr client;
    fl_addr server;           /* the resolver asked (detector's resolver scope) */
    uint16_t id;
    uint16_t provider;
    uint16_t resolver;
    uint8_t live;             /* 1 waiting, 0 answered or dropped */
    uint32_t hnext;           /* hash chain (index into ring slots) */
} dns_pending;

struct fl_engine {
    const fl_config *cfg;
    fl_classifier *cls;
    fl_providers *prov;
    fl_flow_table *flows;
    fl_aggregate *agg;
    fl_bucket_close_fn sink;
    void *sink_ctx;
    fl_detector *det;
    fl_alert_fn alert_sink;
    void *alert_ctx;

    uint64_t now_us;          /* monotonic packet time */
    uint64_t next_housekeeping;
    bool started;

    uint64_t syn_timeout_us, tls_timeout_us, dns_timeout_us;
    timer_ring timers_syn, timers_tls;

    /* DNS pending queries: a ring in deadline order plus a hash index. */
    dns_pending *dq;
    uint32_t dq_cap, dq_head, dq_len;
    uint32_t *dq_hash;
    uint32_t dq_hash_mask;

    bool closing;             /* freeing: flows end without counting */
    bool draining;            /* end of input: pending timers have run out */
    bool superseded;          /* the flow ends because a new SYN reused it */
    fl_engine_stats st;
    fl_dns_msg dns_msg;       /* scratch: one message at a time */
    const fl_packet *cur_pkt; /* for the DNS-over-TCP callback */
    fl_flow *cur_flow;
    bool cur_from_client;
};

/* ------------------------------------------------------------------ */
/* counting                                                            */

static void engine_attribute(fl_engine *e, fl_flow *f, uint16_t provider_hint);

static void emit(fl_engine *e, uint64_t ts, uint16_t provider, fl_counter c, uint32_t n)
{
    fl_aggregate_count(e->agg, ts, provider, c, n);
}

/* A fact about flow f at ts. Failures also record the failing client. */
static void flow_fact(fl_engine *e, fl_flow *f, uint64_t ts, fl_counter c, uint32_t n)
{
    if (!n)
        return;
    if (!(f->state & FL_FS_ATTRIBUTED))
        engine_attribute(e, f, 0);
    emit(e, ts, f->provider, c, n);
    if (fl_counter_is_failure(c)) {
        f->state |= FL_FS_FAILED;
        if (f->failures < UINT16_MAX)
            f->failures++;
        fl_aggregate_failing_client(e->agg, ts, f->provider, &f->client);
    }
}

/* Decide the flow's provider (DESIGN.md order) and let its deferred facts
 * out. provider_hint: an HTTP CDN provider, used when the address said
 * nothing. */
static void engine_attribute(fl_engine *e, fl_flow *f, uint16_t provider_hint)
{
    if (f->state & FL_FS_ATTRIBUTED)
        return;
    f->state |= FL_FS_ATTRIBUTED;
    if (f->provider == FL_PROVIDER_UNKNOWN && provider_hint)
        f->provider = provider_hint;
    if (f->provider == FL_PROVIDER_UNKNOWN) {
        char name[FL_DNS_NAME_MAX + 1];
        name[0] = '\0';
        f->provider = fl_providers_by_learned_addr(e->prov, &f->server, name, sizeof name);
        if (!f->service && name[0])
            f->service = fl_aggregate_service_id(e->agg, name);
    }
    emit(e, f->first_us, f->provider, FL_C_flows, 1);
    fl_aggregate_active_client(e->agg, f->first_us, f->provider, &f->client);
    if (f->state & FL_FS_SYN)
        emit(e, f->first_us, f->provider, FL_C_tcp_attempts, 1);
    if (f->deferred_requests) {
        emit(e, f->first_us, f->provider, FL_C_http_requests, f->deferred_requests);
        f->deferred_requests = 0;
    }
}

/* ------------------------------------------------------------------ */
/* timers                                                              */

static bool timer_ring_init(timer_ring *r, uint32_t cap)
{
    r->e = calloc(cap, sizeof *r->e);
    r->cap = cap;
    r->head = r->len = 0;
    return r->e != NULL;
}

static void timer_fire(fl_engine *e, const timer_entry *t, uint64_t count_ts);

static void timer_push(fl_engine *e, timer_ring *r, fl_flow *f, uint8_t kind, uint64_t deadline)
{
    if (r->len == r->cap) {
        /* Full: the oldest timer expires now rather than growing without
         * bound; counted so it is never silent. */
        timer_entry old = r->e[r->head];
        r->head = (r->head + 1) % r->cap;
        r->len--;
        e->st.timers_forced++;
        timer_fire(e, &old, e->now_us);
    }
    timer_entry *t = &r->e[(r->head + r->len) % r->cap];
    t->deadline_us = deadline;
    t->flow = fl_flow_index(e->flows, f);
    t->gen = f->gen;
    t->kind = kind;
    r->len++;
    f->state |= kind == TIMER_SYN ? FL_FS_SYN_TIMER : FL_FS_TLS_TIMER;
}

/* SYN timeout: an attempt the server answered with neither SYN-ACK nor
 * RST, where the client sent nothing but SYNs (and perhaps its own RST when
 * it gave up). A client that goes on sending data means we only see one
 * direction of an established flow: capture health, not a failure. */
static void check_syn_timeout(fl_engine *e, fl_flow *f, uint64_t ts)
{
    if (!(f->state & FL_FS_SYN_TIMER))
        return;
    f->state &= ~FL_FS_SYN_TIMER;
    if ((f->state & (FL_FS_SYNACK | FL_FS_RESET_COUNTED | FL_FS_CLIENT_NON_SYN)) == 0 &&
        f->pkts[1] == 0) {
        f->state |= FL_FS_TIMED_OUT;
        flow_fact(e, f, ts, FL_C_tcp_syn_timeouts, 1);
    }
}

static void check_tls_timeout(fl_engine *e, fl_flow *f, uint64_t ts)
{
    if (!(f->state & FL_FS_TLS_TIMER))
        return;
    f->state &= ~FL_FS_TLS_TIMER;
    if (f->app == FL_APP_TLS && fl_tls_on_timeout(&f->u.tls))
        flow_fact(e, f, ts, FL_C_tls_failures, 1);
}

static void timer_fire(fl_engine *e, const timer_entry *t, uint64_t count_ts)
{
    fl_flow *f = fl_flow_at(e->flows, t->flow);
    if (!f || f->gen != t->gen)
        return; /* the flow ended; its end handled the timer */
    if (t->kind == TIMER_SYN)
        check_syn_timeout(e, f, count_ts);
    else
        check_tls_timeout(e, f, count_ts);
}

static void timers_run(fl_engine *e, timer_ring *r, uint64_t now)
{
    while (r->len && r->e[r->head].deadline_us <= now) {
        timer_entry t = r->e[r->head];
        r->head = (r->head + 1) % r->cap;
        r->len--;
        timer_fire(e, &t, t.deadline_us);
    }
}

/* ------------------------------------------------------------------ */
/* DNS pending queries                                                 */

static uint32_t dq_hash(uint32_t flow, uint32_t gen, uint16_t id)
{
    return (uint32_t)(fl_mix64(((uint64_t)flow << 32 | gen) ^ ((uint64_t)id << 48)) >> 32);
}

static void dq_unlink(fl_engine *e, uint32_t slot)
{
    dns_pending *p = &e->dq[slot];
    uint32_t *pp = &e->dq_hash[dq_hash(p->flow, p->gen, p->id) & e->dq_hash_mask];
    while (*pp != UINT32_MAX) {
        if (*pp == slot) {
            *pp = p->hnext;
            return;
        }
        pp = &e->dq[*pp].hnext;
    }
}

static void dq_timeout(fl_engine *e, dns_pending *p, uint64_t ts)
{
    emit(e, ts, p->provider, FL_C_dns_timeouts, 1);
    fl_aggregate_failing_client(e->agg, ts, p->provider, &p->client);
    if (p->resolver)
        fl_aggregate_resolver(e->agg, p->resolver, FL_C_dns_timeouts, 1);
    fl_detector_dns(e->det, ts, &p->server, &p->client, true);
    fl_flow *f = fl_flow_at(e->flows, p->flow);
    if (f && f->gen == p->gen) {
        f->state |= FL_FS_FAILED;
        if (f->failures < UINT16_MAX)
            f->failures++;
    }
}

static void dq_pop(fl_engine *e, bool expired, uint64_t ts)
{
    uint32_t slot = e->dq_head;
    dns_pending *p = &e->dq[slot];
    if (p->live) {
        dq_unlink(e, slot);
        if (expired)
            dq_timeout(e, p, ts);
        else
            e->st.dns_pending_dropped++;
        p->live = 0;
    }
    e->dq_head = (e->dq_head + 1) % e->dq_cap;
    e->dq_len--;
}

static void dq_run(fl_engine *e, uint64_t now)
{
    while (e->dq_len && e->dq[e->dq_head].deadline_us <= now)
        dq_pop(e, true, e->dq[e->dq_head].deadline_us);
}

static dns_pending *dq_find(fl_engine *e, uint32_t flow, uint32_t gen, uint16_t id)
{
    for (uint32_t i = e->dq_hash[dq_hash(flow, gen, id) & e->dq_hash_mask]; i != UINT32_MAX;
         i = e->dq[i].hnext) {
        dns_pending *p = &e->dq[i];
        if (p->flow == flow && p->gen == gen && p->id == id && p->live)
            return p;
    }
    return NULL;
}

/* Returns false if this query is a retransmission of a pending one. */
static bool dq_add(fl_engine *e, fl_flow *f, uint16_t id, uint16_t provider, uint64_t ts)
{
    uint32_t fi = fl_flow_index(e->flows, f);
    if (dq_find(e, fi, f->gen, id))
        return false;
    if (e->dq_len == e->dq_cap)
        dq_pop(e, false, 0); /* full: the oldest is dropped, counted */
    uint32_t slot = (e->dq_head + e->dq_len) % e->dq_cap;
    dns_pending *p = &e->dq[slot];
    p->deadline_us = ts + e->dns_timeout_us;
    if (p->deadline_us < e->now_us + e->dns_timeout_us)
        p->deadline_us = e->now_us + e->dns_timeout_us; /* keep the ring sorted */
    p->flow = fi;
    p->gen = f->gen;
    p->client = f->client;
    p->server = f->server;
    p->id = id;
    p->provider = provider;
    p->resolver = f->resolver;
    p->live = 1;
    uint32_t *b = &e->dq_hash[dq_hash(fi, f->gen, id) & e->dq_hash_mask];
    p->hnext = *b;
    *b = slot;
    e->dq_len++;
    return true;
}

/* ------------------------------------------------------------------ */
/* flow end                                                            */

static void apply_classification(fl_engine *e, fl_flow *f, const fl_classification *c)
{
    f->state |= FL_FS_CLASSIFIED;
    if (!f->service) {
        const char *name = c->host[0] ? c->host
                         : fl_classifier_proto_name(e->cls, c->app_proto ? c->app_proto
                                                                       : c->master_proto);
        f->service = fl_aggregate_service_id(e->agg, name);
    }
    if (f->state & FL_FS_ATTRIBUTED || f->provider != FL_PROVIDER_UNKNOWN)
        return;
    uint16_t p = fl_providers_by_ndpi(e->prov, c->app_proto, c->master_proto);
    if (!p && c->host[0])
        p = fl_providers_by_name(e->prov, c->host);
    f->provider = p;
}

static void classify_stop(fl_engine *e, fl_flow *f)
{
    if (!f->ndpi)
        return;
    fl_classification c;
    fl_classifier_giveup(e->cls, f->ndpi, &c);
    fl_classifier_flow_free(e->cls, f->ndpi);
    f->ndpi = NULL;
    apply_classification(e, f, &c);
}

static void on_flow_end(void *ctx, fl_flow *f, bool evicted)
{
    fl_engine *e = ctx;
    if (e->closing) {
        if (f->ndpi)
            fl_classifier_flow_free(e->cls, f->ndpi);
        if (f->app == FL_APP_DNS && f->proto == 6)
            fl_dns_tcp_free(&f->u.dns_tcp);
        return;
    }
    if (evicted)
        e->st.flows_evicted++;
    classify_stop(e, f);
    /* Timers still pending. At the end of input they have run out (the
     * input holds no answer): counted at their deadlines. A SYN superseded
     * by a new SYN on the same 5-tuple was given up unanswered: counted now.
     * An evicted flow's outcome is unknown unless its deadline passed. */
    uint64_t syn_deadline = f->first_us + e->syn_timeout_us;
    if (f->state & FL_FS_SYN_TIMER) {
        if (e->draining || syn_deadline <= e->now_us)
            check_syn_timeout(e, f, syn_deadline);
        else if (e->superseded)
            check_syn_timeout(e, f, e->now_us);
    }
    uint64_t tls_deadline = f->last_us + e->tls_timeout_us;
    if ((f->state & FL_FS_TLS_TIMER) && (e->draining || tls_deadline <= e->now_us))
        check_tls_timeout(e, f, tls_deadline);
    if (!(f->state & FL_FS_ATTRIBUTED))
        engine_attribute(e, f, 0);
    fl_aggregate_service(e->agg, f->provider, f->service, 1, f->failures);
    bool client = f->pkts[0] != 0, server = f->pkts[1] != 0;
    bool syn_only = (f->state & FL_FS_SYN) && !(f->state & FL_FS_CLIENT_NON_SYN);
    if (client != server && !syn_only)
        e->st.one_way_flows++;
    if (f->app == FL_APP_DNS && f->proto == 6)
        fl_dns_tcp_free(&f->u.dns_tcp);
}

/* ------------------------------------------------------------------ */
/* DNS                                                                 */

static void dns_message(fl_engine *e, fl_flow *f, bool from_client, const uint8_t *data,
                        uint32_t len, uint64_t ts)
{
    fl_dns_msg *m = &e->dns_msg;
    if (fl_dns_parse(data, len, m) != FL_DNS_OK)
        return;
    (void)from_client;
    uint16_t prov = fl_providers_for_dns(e->prov, m, ts);
    if (!(f->state & FL_FS_ATTRIBUTED)) {
        /* A DNS flow belongs to the provider of the names it asks for. */
        f->provider = prov;
        if (!f->service && m->has_question)
            f->service = fl_aggregate_service_id(e->agg, "DNS");
        engine_attribute(e, f, 0);
    }
    uint16_t res = f->resolver;
    if (!m->response) {
        if (m->opcode != 0)
            return; /* NOTIFY, UPDATE: not lookups */
        if (!dq_add(e, f, m->id, prov, ts))
            return; /* retransmitted query */
        emit(e, ts, prov, FL_C_dns_queries, 1);
        fl_aggregate_active_client(e->agg, ts, prov, &f->client);
        if (res)
            fl_aggregate_resolver(e->agg, res, FL_C_dns_queries, 1);
        return;
    }
    dns_pending *p = dq_find(e, fl_flow_index(e->flows, f), f->gen, m->id);
    if (p) {
        p->live = 0;
        dq_unlink(e, (uint32_t)(p - e->dq));
        /* the query decided the provider unless the answer knows better */
        if (prov == FL_PROVIDER_UNKNOWN)
            prov = p->provider;
    } else {
        e->st.dns_unmatched_responses++;
    }
    fl_counter rc = FL_C_COUNT;
    switch (m->rcode) {
    case FL_DNS_RCODE_SERVFAIL: rc = FL_C_dns_servfail; break;
    case FL_DNS_RCODE_NXDOMAIN: rc = FL_C_dns_nxdomain; break;
    case FL_DNS_RCODE_REFUSED: rc = FL_C_dns_refused; break;
    case FL_DNS_RCODE_NOERROR:
        if (m->has_question && m->answers_complete && !m->answered_qtype &&
            (m->qtype == FL_DNS_TYPE_A || m->qtype == FL_DNS_TYPE_AAAA))
            rc = FL_C_dns_nodata;
        break;
    default: break;
    }
    if (p)
        fl_detector_dns(e->det, ts, &f->server, &f->client,
                        rc == FL_C_dns_servfail || rc == FL_C_dns_refused);
    emit(e, ts, prov, FL_C_dns_responses, 1);
    if (res)
        fl_aggregate_resolver(e->agg, res, FL_C_dns_responses, 1);
    if (rc != FL_C_COUNT) {
        emit(e, ts, prov, rc, 1);
        if (res)
            fl_aggregate_resolver(e->agg, res, rc, 1);
        if (fl_counter_is_failure(rc)) {
            fl_aggregate_failing_client(e->agg, ts, prov, &f->client);
            f->state |= FL_FS_FAILED;
            if (f->failures < UINT16_MAX)
                f->failures++;
            if (m->has_question)
                fl_aggregate_service(e->agg, prov, fl_aggregate_service_id(e->agg, m->qname), 0, 1);
        }
    }
}

static void dns_tcp_msg(void *ctx, const uint8_t *msg, uint32_t len, bool cut)
{
    (void)cut;
    fl_engine *e = ctx;
    dns_message(e, e->cur_flow, e->cur_from_client, msg, len, e->cur_pkt->ts_us);
}

/* ------------------------------------------------------------------ */
/* TCP stream payload to the dissectors                                */

static void app_gap(fl_engine *e, fl_flow *f, bool from_client)
{
    e->st.tcp_gaps++;
    f->state |= from_client ? FL_FS_GAP_CLIENT : FL_FS_GAP_SERVER;
    switch (f->app) {
    case FL_APP_TLS: fl_tls_on_gap(&f->u.tls); break;
    case FL_APP_HTTP: fl_http_on_gap(&f->u.http, from_client); break;
    case FL_APP_DNS: fl_dns_tcp_reset(&f->u.dns_tcp); break;
    default: break;
    }
}

static void decide_tcp_app(fl_flow *f, bool from_client, const uint8_t *data, uint32_t len)
{
    if (f->app != FL_APP_UNDECIDED)
        return;
    if (len <= 1)
        return; /* a keep-alive probe (RFC 1122 4.2.3.6) decides nothing */
    bool client_first = from_client && !(f->state & FL_FS_CLIENT_SPOKE);
    bool midstream = f->state & FL_FS_MIDSTREAM;
    if (f->sport == 53 || f->sport == 5353)
        f->app = FL_APP_DNS;
    else if (client_first && fl_tls_looks_like_client_hello(data, len))
        f->app = FL_APP_TLS;
    else if (from_client && (client_first || midstream) && fl_http_looks_like_request(data, len))
        f->app = FL_APP_HTTP;
    else if (!from_client && len >= 7 && memcmp(data, "HTTP/1.", 7) == 0) {
        /* Joined mid-stream, or a request we could not read (an unknown or
         * malformed method): the server's answers still count. */
        f->app = FL_APP_HTTP;
        if (f->state & FL_FS_CLIENT_SPOKE)
            f->state |= FL_FS_RESP_ONLY;
    } else if (from_client)
        f->state |= FL_FS_CLIENT_SPOKE; /* wait for the server's first bytes */
    else
        f->app = FL_APP_NONE;
}

static void tcp_payload(fl_engine *e, fl_flow *f, const fl_packet *pkt, bool from_client,
                        const uint8_t *data, uint32_t len)
{
    decide_tcp_app(f, from_client, data, len);
    uint64_t ts = pkt->ts_us;
    switch (f->app) {
    case FL_APP_TLS: {
        if (!fl_tls_wants_bytes(&f->u.tls))
            return;
        fl_tls_facts tf;
        fl_tls_feed(&f->u.tls, from_client, data, len, &tf);
        if (tf.client_hello) {
            flow_fact(e, f, ts, FL_C_tls_handshakes, 1);
            timer_push(e, &e->timers_tls, f, TIMER_TLS, e->now_us + e->tls_timeout_us);
        }
        if (tf.fatal_alerts)
            flow_fact(e, f, ts, FL_C_tls_alerts, tf.fatal_alerts);
        if (tf.failed)
            flow_fact(e, f, ts, FL_C_tls_failures, 1);
        if (!fl_tls_in_handshake(&f->u.tls))
            f->state &= ~FL_FS_TLS_TIMER;
        return;
    }
    case FL_APP_HTTP: {
        if (!fl_http_wants_bytes(&f->u.http) || (from_client && (f->state & FL_FS_RESP_ONLY)))
            return;
        fl_http_facts hf;
        fl_http_feed(&f->u.http, from_client, data, len, &hf);
        if (hf.requests) {
            if (!(f->state & FL_FS_ATTRIBUTED) && f->provider == FL_PROVIDER_UNKNOWN &&
                f->deferred_requests < UINT16_MAX - hf.requests)
                f->deferred_requests += hf.requests; /* wait for the response's headers */
            else
                flow_fact(e, f, ts, FL_C_http_requests, hf.requests);
        }
        if (hf.responses || hf.cdn) {
            if (!(f->state & FL_FS_ATTRIBUTED))
                engine_attribute(e, f, fl_providers_by_http_cdn(e->prov, (fl_http_cdn)hf.cdn));
            flow_fact(e, f, ts, FL_C_http_responses, hf.responses);
            flow_fact(e, f, ts, FL_C_http_4xx, hf.status_4xx);
            flow_fact(e, f, ts, FL_C_http_5xx, hf.status_5xx);
        }
        return;
    }
    case FL_APP_DNS:
        e->cur_pkt = pkt;
        e->cur_flow = f;
        e->cur_from_client = from_client;
        fl_dns_tcp_feed(&f->u.dns_tcp, data, len, dns_tcp_msg, e);
        return;
    default:
        return;
    }
}

/* Sequence tracking per direction: retransmitted bytes are cut, so no
 * message is seen twice; a hole tells the dissector to resynchronise. */
static void tcp_data(fl_engine *e, fl_flow *f, const fl_packet *pkt, bool from_client)
{
    const uint8_t *data = pkt->payload;
    uint32_t len = pkt->payload_len;
    int d = from_client ? 0 : 1;
    uint32_t seq = pkt->tcp_seq + ((pkt->tcp_flags & FL_TCP_SYN) ? 1u : 0u);
    uint32_t known = from_client ? FL_FS_SEQ_CLIENT : FL_FS_SEQ_SERVER;
    /* A direction first seen with data on a flow joined mid-stream may start
     * inside a message: the dissector must look for the next message start. */
    bool joined_midway = !(f->state & known) && (f->state & FL_FS_MIDSTREAM);
    if (f->state & known) {
        int32_t rel = (int32_t)(seq - f->next_seq[d]);
        if (rel < 0) {
            uint32_t behind = (uint32_t)-rel;
            if (behind >= len)
                return; /* all of it seen already: a retransmission */
            data += behind;
            len -= behind;
            seq += behind;
        } else if (rel > 0) {
            app_gap(e, f, from_client);
        }
    }
    f->next_seq[d] = seq + len;
    f->state |= known;
    if (f->app == FL_APP_NONE)
        return;
    if (joined_midway) {
        decide_tcp_app(f, from_client, data, len);
        if (f->app == FL_APP_HTTP)
            fl_http_on_gap(&f->u.http, from_client);
    }
    tcp_payload(e, f, pkt, from_client, data, len);
}

static void tcp_close(fl_engine *e, fl_flow *f, bool by_server, uint64_t ts)
{
    if (f->app == FL_APP_TLS && fl_tls_wants_bytes(&f->u.tls)) {
        bool was_hs = fl_tls_in_handshake(&f->u.tls);
        if (fl_tls_on_close(&f->u.tls, by_server) && was_hs)
            flow_fact(e, f, ts, FL_C_tls_failures, 1);
        f->state &= ~FL_FS_TLS_TIMER;
    }
}

static void tcp_packet(fl_engine *e, fl_flow *f, const fl_packet *pkt, bool from_client)
{
    uint8_t fl = pkt->tcp_flags;
    uint64_t ts = pkt->ts_us;
    if (from_client) {
        if ((fl & (FL_TCP_SYN | FL_TCP_ACK)) == FL_TCP_SYN) {
            if (!(f->state & FL_FS_SYN)) {
                f->state |= FL_FS_SYN;
                /* an attributed flow counts its attempt now; otherwise
                 * engine_attribute() lets it out with the flow */
                if (f->state & FL_FS_ATTRIBUTED)
                    emit(e, ts, f->provider, FL_C_tcp_attempts, 1);
                f->client_isn = pkt->tcp_seq;
                f->next_seq[0] = pkt->tcp_seq + 1;
                f->state |= FL_FS_SEQ_CLIENT;
                timer_push(e, &e->timers_syn, f, TIMER_SYN, e->now_us + e->syn_timeout_us);
            }
        } else {
            if (!(fl & FL_TCP_RST) || pkt->payload_len)
                f->state |= FL_FS_CLIENT_NON_SYN;
            if ((f->state & FL_FS_SYNACK) && (fl & FL_TCP_ACK))
                f->state |= FL_FS_ESTABLISHED;
        }
        if (fl & FL_TCP_RST) {
            f->state |= FL_FS_RST;
            tcp_close(e, f, false, ts);
        } else if (fl & FL_TCP_FIN) {
            f->state |= FL_FS_FIN_CLIENT;
            if (pkt->payload_len == 0)
                tcp_close(e, f, false, ts);
        }
    } else {
        if ((fl & (FL_TCP_SYN | FL_TCP_ACK)) == (FL_TCP_SYN | FL_TCP_ACK)) {
            f->state |= FL_FS_SYNACK;
            f->next_seq[1] = pkt->tcp_seq + 1;
            f->state |= FL_FS_SEQ_SERVER;
        }
        if (fl & FL_TCP_RST) {
            if (!(f->state & FL_FS_RESET_COUNTED)) {
                f->state |= FL_FS_RESET_COUNTED;
                /* one attempt, one outcome: a RST after the timeout was
                 * counted adds nothing */
                if ((f->state & (FL_FS_SYN | FL_FS_SYNACK | FL_FS_TIMED_OUT)) == FL_FS_SYN)
                    flow_fact(e, f, ts, FL_C_tcp_refused, 1);
                else if ((f->state & FL_FS_SYNACK) ||
                         ((f->state & FL_FS_MIDSTREAM) && (f->state & FL_FS_PAYLOAD)))
                    flow_fact(e, f, ts, FL_C_tcp_resets, 1);
            }
            f->state |= FL_FS_RST;
            tcp_close(e, f, true, ts);
        }
    }
    if (pkt->payload_len && !(fl & FL_TCP_RST)) {
        f->state |= FL_FS_PAYLOAD;
        tcp_data(e, f, pkt, from_client);
    }
    if (!from_client && (fl & FL_TCP_FIN) && !(fl & FL_TCP_RST)) {
        f->state |= FL_FS_FIN_SERVER;
        tcp_close(e, f, true, ts);
    }
    fl_flow_class cls = FL_FC_TCP_OPENING;
    if (f->state & FL_FS_RST ||
        (f->state & (FL_FS_FIN_CLIENT | FL_FS_FIN_SERVER)) == (FL_FS_FIN_CLIENT | FL_FS_FIN_SERVER))
        cls = FL_FC_TCP_CLOSED;
    else if (f->state & (FL_FS_ESTABLISHED | FL_FS_MIDSTREAM | FL_FS_PAYLOAD))
        cls = FL_FC_TCP_ESTABLISHED;
    fl_flow_touch(e->flows, f, cls, ts);
}

/* ------------------------------------------------------------------ */
/* per packet                                                          */

static bool server_port(uint16_t p)
{
    return p < 1024 || p == 8080 || p == 8443 || p == 3128 || p == 5353;
}

/* Which side opened a flow we did not see begin. */
static bool src_is_client_guess(const fl_packet *pkt)
{
    if (pkt->l4_proto == 6) {
        uint8_t fl = pkt->tcp_flags;
        if ((fl & (FL_TCP_SYN | FL_TCP_ACK)) == FL_TCP_SYN)
            return true;
        if ((fl & (FL_TCP_SYN | FL_TCP_ACK)) == (FL_TCP_SYN | FL_TCP_ACK))
            return false;
    }
    if (pkt->l4_proto == 17 && (pkt->sport == 53 || pkt->dport == 53) &&
        pkt->payload_len >= 3) {
        /* a DNS response (QR set) travels to the client */
        fl_cursor c = fl_cursor_make(pkt->payload, pkt->payload_len);
        fl_cur_skip(&c, 2);
        return (fl_cur_u8(&c) & 0x80) == 0;
    }
    if (server_port(pkt->sport) && !server_port(pkt->dport))
        return false;
    if (server_port(pkt->dport) && !server_port(pkt->sport))
        return true;
    if (pkt->sport && pkt->dport && pkt->sport < pkt->dport)
        return false;
    return true;
}

static fl_flow *flow_begin(fl_engine *e, const fl_packet *pkt, bool *from_client)
{
    bool src_client = src_is_client_guess(pkt);
    fl_flow *f = fl_flow_create(e->flows, pkt, src_client);
    if (!f)
        return NULL;
    *from_client = src_client;
    switch (pkt->l4_proto) {
    case 6: e->st.flows_tcp++; break;
    case 17: e->st.flows_udp++; break;
    default: e->st.flows_other++; break;
    }
    if (pkt->l4_proto == 6 && (pkt->tcp_flags & (FL_TCP_SYN | FL_TCP_ACK)) != FL_TCP_SYN)
        f->state |= FL_FS_MIDSTREAM;
    if (pkt->l4_proto == 17 && (f->sport == 53 || f->cport == 53))
        f->app = FL_APP_DNS;
    else if (pkt->l4_proto != 6)
        f->app = FL_APP_NONE;
    f->provider = fl_providers_by_addr(e->prov, &f->server);
    if (f->app == FL_APP_DNS)
        f->resolver = fl_providers_public_resolver(e->prov, &f->server);
    if (f->provider != FL_PROVIDER_UNKNOWN && f->app != FL_APP_DNS)
        engine_attribute(e, f, 0);
    return f;
}

static void housekeeping(fl_engine *e)
{
    timers_run(e, &e->timers_syn, e->now_us);
    timers_run(e, &e->timers_tls, e->now_us);
    dq_run(e, e->now_us);
    fl_flow_expire(e->flows, e->now_us);
    fl_aggregate_advance(e->agg, e->now_us);
    e->next_housekeeping = e->now_us + HOUSEKEEPING_US;
}

static void advance_time(fl_engine *e, uint64_t ts)
{
    if (!e->started) {
        e->started = true;
        e->now_us = ts;
        e->next_housekeeping = ts + HOUSEKEEPING_US;
    }
    if (ts > e->now_us)
        e->now_us = ts;
    if (e->now_us >= e->next_housekeeping)
        housekeeping(e);
}

static void classify(fl_engine *e, fl_flow *f, const fl_packet *pkt)
{
    if (f->state & FL_FS_CLASSIFIED)
        return;
    if (!f->ndpi) {
        f->ndpi = fl_classifier_flow_new(e->cls);
        if (!f->ndpi) {
            e->st.classify_unavailable++;
            f->state |= FL_FS_CLASSIFIED;
            return;
        }
    }
    fl_classification c;
    if (fl_classifier_packet(e->cls, f->ndpi, pkt, &c)) {
        fl_classifier_flow_free(e->cls, f->ndpi);
        f->ndpi = NULL;
        apply_classification(e, f, &c);
    } else if (++f->ndpi_pkts >= e->cfg->classify_packets) {
        classify_stop(e, f);
    }
}

void fl_engine_packet(fl_engine *e, const fl_packet *pkt)
{
    advance_time(e, pkt->ts_us);
    if (pkt->flags & FL_PKT_FRAGMENT) {
        e->st.fragments++;
        return;
    }
    if (pkt->flags & FL_PKT_ICMP_ERROR) {
        e->st.icmp_errors++;
        return;
    }
    bool from_client;
    fl_flow *f = fl_flow_lookup(e->flows, pkt, &from_client);
    if (f && pkt->l4_proto == 6 && (pkt->tcp_flags & (FL_TCP_SYN | FL_TCP_ACK)) == FL_TCP_SYN &&
        (!(f->state & FL_FS_SYN) || !from_client || pkt->tcp_seq != f->client_isn)) {
        /* A SYN with a new initial sequence number is a new connection on
         * the same 5-tuple (a retransmitted SYN keeps its number); so is a
         * SYN on a flow we joined mid-stream. */
        e->superseded = true;
        fl_flow_remove(e->flows, f);
        e->superseded = false;
        f = NULL;
    }
    if (!f && !(f = flow_begin(e, pkt, &from_client)))
        return;
    f->pkts[from_client ? 0 : 1]++;

    if (pkt->payload_len && !(f->state & FL_FS_CLASSIFIED))
        classify(e, f, pkt);
    if (f->provider != FL_PROVIDER_UNKNOWN && !(f->state & FL_FS_ATTRIBUTED) &&
        f->app != FL_APP_DNS && f->app != FL_APP_HTTP && f->app != FL_APP_UNDECIDED)
        engine_attribute(e, f, 0);

    if (pkt->l4_proto == 6) {
        tcp_packet(e, f, pkt, from_client);
        if ((f->state & FL_FS_CLASSIFIED) && !(f->state & FL_FS_ATTRIBUTED) &&
            f->app != FL_APP_HTTP && f->app != FL_APP_DNS && f->app != FL_APP_UNDECIDED)
            engine_attribute(e, f, 0);
        return;
    }
    if (f->app == FL_APP_DNS && pkt->payload_len)
        dns_message(e, f, from_client, pkt->payload, pkt->payload_len, pkt->ts_us);
    else if ((f->state & FL_FS_CLASSIFIED) && !(f->state & FL_FS_ATTRIBUTED))
        engine_attribute(e, f, 0);
    fl_flow_touch(e->flows, f, pkt->l4_proto == 17 ? FL_FC_UDP : FL_FC_OTHER, pkt->ts_us);
}

void fl_engine_frame(fl_engine *e, const fl_frame *fr)
{
    e->st.packets++;
    e->st.bytes += fr->wire_len;
    if (!e->st.first_ts_us || fr->ts_us < e->st.first_ts_us)
        e->st.first_ts_us = fr->ts_us;
    if (fr->ts_us > e->st.last_ts_us)
        e->st.last_ts_us = fr->ts_us;
    fl_packet pkt;
    fl_decode_error why = FL_DERR_COUNT;
    switch (fl_decode_packet(fr->linktype, fr->data, fr->caplen, &pkt, &why)) {
    case FL_DECODE_OK:
        pkt.ts_us = fr->ts_us;
        pkt.wire_len = fr->wire_len;
        fl_engine_packet(e, &pkt);
        return;
    case FL_DECODE_NOT_IP:
        e->st.not_ip++;
        advance_time(e, fr->ts_us);
        return;
    case FL_DECODE_ERROR:
        e->st.decode_errors++;
        if ((unsigned)why < FL_DERR_COUNT)
            e->st.decode_error[why]++;
        advance_time(e, fr->ts_us);
        return;
    }
}

void fl_engine_tick(fl_engine *e, uint64_t now_us)
{
    if (e->started)
        advance_time(e, now_us);
}

void fl_engine_finish(fl_engine *e)
{
    /* Every flow ends; pending timers run out (no answer came in the
     * input); pending DNS queries time out at their deadlines. */
    e->draining = true;
    fl_flow_drain(e->flows);
    e->draining = false;
    timers_run(e, &e->timers_syn, UINT64_MAX);
    timers_run(e, &e->timers_tls, UINT64_MAX);
    dq_run(e, UINT64_MAX);
    fl_aggregate_finish(e->agg);
}

/* ------------------------------------------------------------------ */

static const char *provider_name_cb(void *ctx, uint16_t id)
{
    return fl_providers_name(ctx, id);
}

static void bucket_cb(void *ctx, const fl_bucket_entry *entries, size_t n)
{
    fl_engine *e = ctx;
    if (e->sink)
        e->sink(e->sink_ctx, entries, n);
    fl_detector_bucket(e->det, entries, n);
}

static void alert_cb(void *ctx, const fl_alert *a, bool resolved)
{
    fl_engine *e = ctx;
    if (e->alert_sink)
        e->alert_sink(e->alert_ctx, a, resolved);
}

void fl_engine_set_alert_sink(fl_engine *e, fl_alert_fn fn, void *ctx)
{
    e->alert_sink = fn;
    e->alert_ctx = ctx;
}

fl_detector *fl_engine_detector(fl_engine *e)
{
    return e->det;
}

fl_engine *fl_engine_new(const fl_config *cfg, char *err, size_t errlen)
{
    fl_engine *e = calloc(1, sizeof *e);
    if (!e) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    e->cfg = cfg;
    e->syn_timeout_us = (uint64_t)(cfg->syn_timeout_s * US);
    e->tls_timeout_us = (uint64_t)(cfg->tls_timeout_s * US);
    e->dns_timeout_us = (uint64_t)(cfg->dns_timeout_s * US);

    e->cls = fl_classifier_new(cfg->rules_file[0] ? cfg->rules_file : NULL,
                               cfg->classify_cap, err, errlen);
    if (!e->cls)
        goto fail;
    fl_providers_options po = {
        .ranges_path = cfg->ranges_file[0] ? cfg->ranges_file : NULL,
        .rules_path = cfg->rules_file[0] ? cfg->rules_file : NULL,
        .learned_max = cfg->learned_names_cap,
    };
    e->prov = fl_providers_new(e->cls, &po, err, errlen);
    if (!e->prov)
        goto fail;
    uint64_t idle[FL_FC_COUNT] = {
        [FL_FC_TCP_OPENING] = (uint64_t)(cfg->tcp_opening_idle_s * US),
        [FL_FC_TCP_ESTABLISHED] = (uint64_t)(cfg->tcp_established_idle_s * US),
        [FL_FC_TCP_CLOSED] = (uint64_t)(cfg->tcp_closed_idle_s * US),
        [FL_FC_UDP] = (uint64_t)(cfg->udp_idle_s * US),
        [FL_FC_OTHER] = (uint64_t)(cfg->other_idle_s * US),
    };
    uint64_t seed = 0x5eed5eed5eedULL ^ (uint64_t)(uintptr_t)e;
    e->flows = fl_flow_table_new(cfg->flow_cap ? cfg->flow_cap : 1, seed, idle, on_flow_end, e);
    fl_aggregate_options ao = {
        .bucket_s = cfg->bucket_s ? cfg->bucket_s : 10,
        .grace_buckets = cfg->grace_buckets,
    };
    e->agg = fl_aggregate_new(&ao, provider_name_cb, e->prov, bucket_cb, e);
    e->det = fl_detector_new(cfg, alert_cb, e);
    uint32_t tcap = cfg->flow_cap ? cfg->flow_cap : 1;
    e->dq_cap = cfg->dns_pending_cap ? cfg->dns_pending_cap : 1;
    e->dq = calloc(e->dq_cap, sizeof *e->dq);
    uint32_t hs = 1;
    while (hs < 2 * e->dq_cap)
        hs <<= 1;
    e->dq_hash = malloc((size_t)hs * sizeof *e->dq_hash);
    if (!e->flows || !e->agg || !e->det || !e->dq || !e->dq_hash ||
        !timer_ring_init(&e->timers_syn, tcap) || !timer_ring_init(&e->timers_tls, tcap)) {
        snprintf(err, errlen, "out of memory for flow_cap=%u", cfg->flow_cap);
        goto fail;
    }
    memset(e->dq_hash, 0xff, (size_t)hs * sizeof *e->dq_hash);
    e->dq_hash_mask = hs - 1;
    return e;
fail:
    fl_engine_free(e);
    return NULL;
}

void fl_engine_free(fl_engine *e)
{
    if (!e)
        return;
    if (e->flows) {
        /* free per-flow resources without counting anything */
        e->closing = true;
        fl_flow_drain(e->flows);
        fl_flow_table_free(e->flows);
    }
    fl_aggregate_free(e->agg);
    fl_detector_free(e->det);
    fl_providers_free(e->prov);
    fl_classifier_free(e->cls);
    free(e->timers_syn.e);
    free(e->timers_tls.e);
    free(e->dq);
    free(e->dq_hash);
    free(e);
}

bool fl_engine_reload(fl_engine *e, const fl_config *cfg, char *err, size_t errlen)
{
    fl_providers_options po = {
        .ranges_path = cfg->ranges_file[0] ? cfg->ranges_file : NULL,
        .rules_path = cfg->rules_file[0] ? cfg->rules_file : NULL,
        .learned_max = cfg->learned_names_cap,
    };
    return fl_providers_reload(e->prov, &po, err, errlen);
}

void fl_engine_set_bucket_sink(fl_engine *e, fl_bucket_close_fn fn, void *ctx)
{
    e->sink = fn;
    e->sink_ctx = ctx;
}

void fl_engine_get_stats(const fl_engine *e, fl_engine_stats *st)
{
    *st = e->st;
}

fl_aggregate *fl_engine_aggregate(fl_engine *e)
{
    return e->agg;
}

fl_providers *fl_engine_providers(fl_engine *e)
{
    return e->prov;
}

void fl_engine_flow_stats(const fl_engine *e, fl_flow_stats *st)
{
    fl_flow_get_stats(e->flows, st);
}
