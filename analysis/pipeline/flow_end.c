/* flow_end.c - a flow's start (direction, dissector by port, provider by
 * address) and its end (pending timers settled, its service's flow counted
 * if nothing counted it before). */
#include <netinet/in.h>

#include "engine_int.h"
#include "fl_stage_times.h"

fl_flow *fl_eng_flow_begin(fl_engine *e, const fl_packet *pkt, bool *from_client)
{
    bool src_client = fl_flow_guess_src_is_client(pkt);
    fl_flow *f = fl_flow_create(e->flows, pkt, src_client);
    if (!f)
        return NULL;
    *from_client = src_client;
    switch (pkt->l4_proto) {
    case IPPROTO_TCP:
        e->st.flows_tcp++;
        break;
    case IPPROTO_UDP:
        e->st.flows_udp++;
        break;
    default:
        e->st.flows_other++;
        break;
    }
    if (pkt->l4_proto == IPPROTO_TCP && (pkt->tcp_flags & (FL_TCP_SYN | FL_TCP_ACK)) != FL_TCP_SYN)
        f->state |= FL_FS_MIDSTREAM;
    if (pkt->l4_proto == IPPROTO_UDP && (f->sport == FL_PORT_DNS || f->cport == FL_PORT_DNS))
        f->app = FL_APP_DNS;
    else if (pkt->l4_proto != IPPROTO_TCP)
        f->app = FL_APP_NONE;
    FL_STAGE_DECL(prev);
    FL_STAGE_PUSH(prev, FL_STAGE_CLASSIFY); /* attribution by address */
    f->provider = fl_providers_by_addr(e->prov, &f->server);
    FL_STAGE_POP(prev);
    if (f->app == FL_APP_DNS)
        f->resolver = fl_providers_public_resolver(e->prov, &f->server);
    if (f->provider != FL_PROVIDER_UNKNOWN && f->app != FL_APP_DNS)
        fl_eng_attribute(e, f, 0);
    return f;
}

static void free_flow_state(fl_flow *f)
{
    if (f->app == FL_APP_DNS && f->proto == IPPROTO_TCP)
        fl_dns_tcp_free(&f->u.dns_tcp);
}

/* Timers still pending. At the end of input they have run out (the input
 * holds no answer): counted at their deadlines. A SYN superseded by a new
 * SYN on the same 5-tuple was given up unanswered: counted now. An evicted,
 * idle or cut flow's outcome is unknown unless its deadline passed (cut:
 * packet time jumped before the deadline came, engine.c). */
static void settle_timers(fl_engine *e, fl_flow *f, fl_flow_end_why why)
{
    bool drained = why == FL_FLOW_END_DRAINED;
    uint64_t syn_deadline = f->first_us + e->syn_timeout_us;
    if (f->state & FL_FS_SYN_TIMER) {
        if (drained || syn_deadline <= e->now_us)
            fl_eng_check_syn_timeout(e, f, syn_deadline);
        else if (why == FL_FLOW_END_REMOVED)
            fl_eng_check_syn_timeout(e, f, e->now_us);
    }
    uint64_t tls_deadline = f->last_us + e->tls_timeout_us;
    if ((f->state & FL_FS_TLS_TIMER) && (drained || tls_deadline <= e->now_us))
        fl_eng_check_tls_timeout(e, f, tls_deadline);
    fl_eng_https_settle(e, f, drained);
}

void fl_eng_flow_end(void *ctx, fl_flow *f, fl_flow_end_why why)
{
    fl_engine *e = ctx;
    fl_eng_quic_flow_end(e, f, why == FL_FLOW_END_DRAINED);
    if (e->closing) {
        if (f->ndpi)
            fl_classifier_flow_free(e->cls, f->ndpi);
        free_flow_state(f);
        return;
    }
    if (why == FL_FLOW_END_EVICTED)
        e->st.flows_evicted++;
    if (why == FL_FLOW_END_CUT &&
        ((f->state & (FL_FS_SYN_TIMER | FL_FS_TLS_TIMER | FL_FS_HTTPS_TIMER)) != 0 ||
         (f->app == FL_APP_QUIC && fl_eng_quic_timer_pending(f))))
        e->st.jump_unsettled++;
    fl_eng_classify_stop(e, f);
    settle_timers(e, f, why);
    if (!(f->state & FL_FS_ATTRIBUTED))
        fl_eng_attribute(e, f, 0);
    fl_eng_service_flow(e, f, e->now_us > f->first_us ? e->now_us : f->first_us);
    bool client = f->pkts[0] != 0, server = f->pkts[1] != 0;
    bool syn_only = (f->state & FL_FS_SYN) && !(f->state & FL_FS_CLIENT_NON_SYN);
    if (client != server && !syn_only)
        e->st.one_way_flows++;
    free_flow_state(f);
}
