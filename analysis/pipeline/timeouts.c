/* timeouts.c - SYN and TLS handshake timers of the engine's flows. */
#include "engine_int.h"

/* SYN timeout: an attempt the server answered with neither SYN-ACK nor
 * RST, where the client sent nothing but SYNs (and perhaps its own RST when
 * it gave up). A client that goes on sending data means we only see one
 * direction of an established flow: capture health, not a failure. */
void fl_eng_check_syn_timeout(fl_engine *e, fl_flow *f, uint64_t ts)
{
    if (!(f->state & FL_FS_SYN_TIMER))
        return;
    f->state &= ~FL_FS_SYN_TIMER;
    if ((f->state & (FL_FS_SYNACK | FL_FS_RESET_COUNTED | FL_FS_CLIENT_NON_SYN)) == 0 &&
        f->pkts[1] == 0) {
        f->state |= FL_FS_TIMED_OUT;
        fl_eng_flow_fact(e, f, ts, FL_C_tcp_syn_timeouts, 1);
    }
}

void fl_eng_check_tls_timeout(fl_engine *e, fl_flow *f, uint64_t ts)
{
    if (!(f->state & FL_FS_TLS_TIMER))
        return;
    f->state &= ~FL_FS_TLS_TIMER;
    /* Only the client's side is captured, and it acknowledged bytes from
     * the server: the server answered where the capture cannot see
     * (capture health: one_way_flows at the flow's end), not a failure. */
    if (f->pkts[1] == 0 && (f->state & FL_FS_SERVER_ACKED))
        return;
    if (f->app == FL_APP_TLS && fl_tls_on_timeout(&f->u.tls)) {
        fl_eng_why(e, "no ServerHello within %g s", (double)e->tls_timeout_us / 1e6);
        fl_eng_flow_fact(e, f, ts, FL_C_tls_failures, 1);
    }
}

static void timer_fire(fl_engine *e, const fl_timer *t, uint64_t count_ts)
{
    fl_flow *f = fl_flow_at(e->flows, t->flow);
    if (!f || f->gen != t->gen)
        return; /* the flow ended; its end handled the timer */
    if (t->kind == FL_TIMER_SYN)
        fl_eng_check_syn_timeout(e, f, count_ts);
    else if (t->kind == FL_TIMER_HTTPS)
        fl_eng_https_timer(e, f, count_ts);
    else
        fl_eng_check_tls_timeout(e, f, count_ts);
}

void fl_eng_timer_push(fl_engine *e, fl_timer_ring *r, fl_flow *f, uint8_t kind, uint64_t deadline)
{
    fl_timer old;
    if (fl_timer_ring_full(r) && fl_timer_ring_pop(r, &old)) {
        /* Full: the oldest timer expires now rather than growing without
         * bound; counted so it is never silent. */
        e->st.timers_forced++;
        timer_fire(e, &old, e->now_us);
    }
    fl_timer t = {
        .deadline_us = deadline,
        .flow = fl_flow_index(e->flows, f),
        .gen = f->gen,
        .kind = kind,
    };
    fl_timer_ring_push(r, &t);
    f->state |= kind == FL_TIMER_SYN     ? FL_FS_SYN_TIMER
                : kind == FL_TIMER_HTTPS ? FL_FS_HTTPS_TIMER
                                         : FL_FS_TLS_TIMER;
}

void fl_eng_timers_run(fl_engine *e, fl_timer_ring *r, uint64_t now)
{
    fl_timer t;
    while (fl_timer_ring_pop_due(r, now, &t))
        timer_fire(e, &t, t.deadline_us);
}
