/* dns_flow.c - DNS messages (UDP datagrams and TCP-framed, RFC 1035 4.2)
 * and the timeouts of queries that got no answer. */
#include "engine_int.h"

static void count_query(fl_engine *e, fl_flow *f, const fl_dns_msg *m, uint16_t prov, uint64_t ts)
{
    if (m->opcode != 0)
        return; /* NOTIFY, UPDATE: not lookups */
    fl_dns_query q = {
        .deadline_us = ts + e->dns_timeout_us,
        .flow = fl_flow_index(e->flows, f),
        .gen = f->gen,
        .client = f->client,
        .server = f->server,
        .id = m->id,
        .provider = prov,
        .resolver = f->resolver,
        .service = m->has_question ? fl_aggregate_service_id(e->agg, m->qname) : 0,
    };
    if (q.deadline_us < e->now_us + e->dns_timeout_us)
        q.deadline_us = e->now_us + e->dns_timeout_us; /* keep the ring sorted */
    bool dropped;
    if (!fl_dns_pending_add(e->dq, &q, &dropped))
        return; /* retransmitted query */
    if (dropped)
        e->st.dns_pending_dropped++;
    fl_eng_emit(e, ts, prov, FL_C_dns_queries, 1);
    fl_aggregate_service_count(e->agg, ts, prov, q.service, FL_C_dns_queries, 1);
    fl_aggregate_active_client(e->agg, ts, prov, &f->client);
    if (f->resolver)
        fl_aggregate_resolver(e->agg, f->resolver, FL_C_dns_queries, 1);
}

/* The counter a response's rcode adds, FL_C_COUNT if none (RFC 1035 4.1.1;
 * NODATA: RFC 2308 2.2). */
static fl_counter rcode_counter(const fl_dns_msg *m)
{
    switch (m->rcode) {
    case FL_DNS_RCODE_SERVFAIL:
        return FL_C_dns_servfail;
    case FL_DNS_RCODE_NXDOMAIN:
        return FL_C_dns_nxdomain;
    case FL_DNS_RCODE_REFUSED:
        return FL_C_dns_refused;
    case FL_DNS_RCODE_NOERROR:
        if (m->has_question && m->answers_complete && !m->answered_qtype &&
            (m->qtype == FL_DNS_TYPE_A || m->qtype == FL_DNS_TYPE_AAAA))
            return FL_C_dns_nodata;
        return FL_C_COUNT;
    default:
        return FL_C_COUNT;
    }
}

static void count_response(fl_engine *e, fl_flow *f, const fl_dns_msg *m, uint16_t prov,
                           uint64_t ts)
{
    fl_dns_query q;
    bool matched = fl_dns_pending_answer(e->dq, fl_flow_index(e->flows, f), f->gen, m->id, &q);
    if (matched) {
        /* the query decided the provider unless the answer knows better */
        if (prov == FL_PROVIDER_UNKNOWN)
            prov = q.provider;
    } else {
        e->st.dns_unmatched_responses++;
    }
    uint16_t res = f->resolver;
    fl_counter rc = rcode_counter(m);
    if (matched)
        fl_detector_dns(e->det, ts, &f->server, &f->client,
                        rc == FL_C_dns_servfail || rc == FL_C_dns_refused);
    uint32_t svc = matched           ? q.service
                   : m->has_question ? fl_aggregate_service_id(e->agg, m->qname)
                                     : 0;
    fl_eng_emit(e, ts, prov, FL_C_dns_responses, 1);
    fl_aggregate_service_count(e->agg, ts, prov, svc, FL_C_dns_responses, 1);
    if (res)
        fl_aggregate_resolver(e->agg, res, FL_C_dns_responses, 1);
    if (rc == FL_C_COUNT)
        return;
    fl_eng_emit(e, ts, prov, rc, 1);
    if (res)
        fl_aggregate_resolver(e->agg, res, rc, 1);
    if (fl_counter_is_failure(rc)) {
        if (m->has_question)
            e->why_service = m->qname;
        e->why_service_id = svc;
        fl_eng_failure(e, f, ts, prov, &f->client, rc, 1);
    } else {
        fl_aggregate_service_count(e->agg, ts, prov, svc, rc, 1);
    }
}

void fl_eng_dns_message(fl_engine *e, fl_flow *f, const uint8_t *data, uint32_t len, uint64_t ts)
{
    fl_dns_msg *m = &e->dns_msg;
    bool parsed = e->dns_msg_of == data; /* by fl_eng_classify, this packet */
    e->dns_msg_of = NULL;
    if (!parsed && fl_dns_parse(data, len, m) != FL_DNS_OK)
        return;
    uint16_t prov = fl_providers_for_dns(e->prov, m, ts);
    if (!(f->state & FL_FS_ATTRIBUTED)) {
        /* A DNS flow belongs to the provider of the names it asks for. */
        f->provider = prov;
        if (!f->service && m->has_question)
            f->service = fl_aggregate_service_id(e->agg, "DNS");
        fl_eng_attribute(e, f, 0);
    }
    if (m->response)
        count_response(e, f, m, prov, ts);
    else
        count_query(e, f, m, prov, ts);
}

/* What the DNS-over-TCP framer hands back to each message: the flow and
 * the packet time it came with. */
typedef struct dns_tcp_ctx {
    fl_engine *e;
    fl_flow *f;
    uint64_t ts;
} dns_tcp_ctx;

static void dns_tcp_msg(void *ctx, const uint8_t *msg, uint32_t len, bool cut)
{
    (void)cut;
    const dns_tcp_ctx *c = ctx;
    fl_eng_dns_message(c->e, c->f, msg, len, c->ts);
}

void fl_eng_dns_tcp_feed(fl_engine *e, fl_flow *f, const uint8_t *data, uint32_t len, uint64_t ts)
{
    dns_tcp_ctx c = { .e = e, .f = f, .ts = ts };
    fl_dns_tcp_feed(&f->u.dns_tcp, data, len, dns_tcp_msg, &c);
}

/* Queries whose deadline passed without an answer: a timeout, counted at
 * the deadline, a failure of the provider and client that asked. */
void fl_eng_dns_expire(fl_engine *e, uint64_t now)
{
    fl_dns_query q;
    while (fl_dns_pending_expire(e->dq, now, &q)) {
        uint64_t ts = q.deadline_us;
        fl_eng_emit(e, ts, q.provider, FL_C_dns_timeouts, 1);
        if (q.resolver)
            fl_aggregate_resolver(e->agg, q.resolver, FL_C_dns_timeouts, 1);
        fl_detector_dns(e->det, ts, &q.server, &q.client, true);
        fl_flow *f = fl_flow_at(e->flows, q.flow);
        e->why_service_id = q.service;
        fl_eng_failure(e, f && f->gen == q.gen ? f : NULL, ts, q.provider, &q.client,
                       FL_C_dns_timeouts, 1);
    }
}
