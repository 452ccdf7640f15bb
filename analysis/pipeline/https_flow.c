/* https_flow.c - TLS flows after the handshake: the record walker's facts
 * (fl_tls_records.h), and HTTP/3's over QUIC (fl_quic_app.h), to the HTTPS
 * signals (fl_https_modes.h) and counters.
 *
 * Every fact is counted in the bucket of the packet that shows it, or, for
 * a response that ends by the server's silence and for a stall, when the
 * walker's timer passes (FL_TIMER_HTTPS, one ring of FL_TLSREC_QUIET_US
 * timers re-armed while a request or response is open).
 */
#include <stdio.h>

#include "engine_int.h"

/* What names a connection's responses to an observer: the client
 * address's last byte and the client port (the response's rank on the
 * connection goes in the low 16 bits). */
static uint64_t response_tag(const fl_flow *f)
{
    uint8_t last = f->client.b[f->client.family == 6 ? 15 : 3];
    return ((uint64_t)last << 32) | ((uint64_t)f->cport << 16);
}

/* A response under way, or a request not answered yet: TLS over TCP or
 * HTTP/3 over QUIC. */
static bool pending(const fl_flow *f)
{
    if (f->app == FL_APP_TLS)
        return fl_tlsrec_pending(&f->u.tlsw);
    return f->app == FL_APP_QUIC && fl_quic_app_pending(&f->u.quic_app);
}

static void arm(fl_engine *e, fl_flow *f)
{
    if (!(f->state & FL_FS_HTTPS_TIMER) && pending(f))
        fl_eng_timer_push(e, &e->timers_https, f, FL_TIMER_HTTPS, e->now_us + FL_TLSREC_QUIET_US);
}

static void https_facts(fl_engine *e, fl_flow *f, const fl_tlsrec_facts *tf, uint64_t ts)
{
    if (tf->out_of_step)
        e->st.tls_out_of_step++;
    if (!(tf->request | tf->response | tf->early_close | tf->stall))
        return;
    if (!(f->state & FL_FS_ATTRIBUTED))
        fl_eng_attribute(e, f, 0);
    fl_https_counts c;
    fl_https_conn conn = { .client = f->client,
                           .server = f->server,
                           .cport = f->cport,
                           .sport = f->sport,
                           .proto = f->proto };
    fl_https_modes_facts(e->https, tf, f->provider, f->service, &conn, ts, response_tag(f), &c);
    fl_eng_flow_fact(e, f, ts, FL_C_https_responses, c.responses);
    fl_eng_flow_fact(e, f, ts, FL_C_https_suspect, c.suspect);
    fl_eng_flow_fact(e, f, ts, FL_C_tls_early_closes, c.early_closes);
    fl_eng_flow_fact(e, f, ts, FL_C_tls_stalls, c.stalls);
    fl_eng_flow_fact(e, f, ts, FL_C_tls_retries, c.retries);
    if (c.mode_from_us)
        fl_detector_https_mode(e->det, fl_providers_name(e->prov, f->provider), c.mode_from_us, ts);
}

/* A response held while its size was merely rare, counted when its mode
 * formed on another connection: a failure of its own client and site (a
 * mode's first members come from many clients; booked all on the
 * connection that completed it, they would look like one client's burst,
 * and the events and the services table would name the wrong ones). Its
 * connection may have ended: no flow. */
void fl_eng_https_released(void *ctx, uint16_t provider, uint32_t service,
                           const fl_https_conn *conn, uint64_t ts)
{
    fl_engine *e = ctx;
    fl_eng_emit(e, ts, provider, FL_C_https_suspect, 1);
    e->why_service_id = service;
    e->why_conn = conn;
    snprintf(e->why, sizeof e->why, "response in a new size mode (held until it formed)");
    fl_eng_failure(e, NULL, ts, provider, &conn->client, FL_C_https_suspect, 1);
}

void fl_eng_https_feed(fl_engine *e, fl_flow *f, bool from_client, const uint8_t *data,
                       uint32_t len, uint64_t ts)
{
#ifdef FL_BENCH_NO_TLSWALK
    /* Benchmark builds only (-DFL_BENCH_NO_TLSWALK): the walker's cost is
     * measured as the difference with it off. */
    return;
#endif
    if (!fl_tlsrec_wants_bytes(&f->u.tlsw))
        return;
    fl_tlsrec_facts tf;
    fl_tlsrec_feed(&f->u.tlsw, from_client, data, len, ts, &tf);
    https_facts(e, f, &tf, ts);
    arm(e, f);
}

void fl_eng_https_gap(fl_engine *e, fl_flow *f)
{
    fl_tlsrec_facts tf;
    fl_tlsrec_on_gap(&f->u.tlsw, &tf);
    https_facts(e, f, &tf, e->now_us);
}

void fl_eng_https_close(fl_engine *e, fl_flow *f, bool by_server, uint64_t ts)
{
    fl_tlsrec_facts tf;
    fl_tlsrec_on_close(&f->u.tlsw, by_server, ts, &tf);
    https_facts(e, f, &tf, ts);
}

void fl_eng_https_timer(fl_engine *e, fl_flow *f, uint64_t ts)
{
    f->state &= ~FL_FS_HTTPS_TIMER;
    fl_tlsrec_facts tf;
    if (f->app == FL_APP_TLS)
        fl_tlsrec_tick(&f->u.tlsw, ts, &tf);
    else if (f->app == FL_APP_QUIC)
        fl_quic_app_tick(&f->u.quic_app, ts, &tf);
    else
        return;
    https_facts(e, f, &tf, ts);
    arm(e, f);
}

void fl_eng_https_settle(fl_engine *e, fl_flow *f, bool drained)
{
    /* At the end of input a response under way ends by the silence that
     * follows (counted when that silence would have ended it). An idle or
     * evicted flow's timer has run already. */
    if (!drained || !pending(f))
        return;
    uint64_t server_us = f->app == FL_APP_TLS ? f->u.tlsw.server_us : f->u.quic_app.server_us;
    uint64_t quiet = server_us + FL_TLSREC_QUIET_US;
    fl_eng_https_timer(e, f, quiet > e->now_us ? quiet : e->now_us);
    f->state &= ~FL_FS_HTTPS_TIMER;
}

/* A QUIC datagram: HTTP/3 requests and responses by size and direction
 * (fl_quic_app.h), the same signals as HTTPS over TCP. */
void fl_eng_https_quic(fl_engine *e, fl_flow *f, bool from_client, const uint8_t *data,
                       uint32_t len, uint64_t ts)
{
    fl_tlsrec_facts tf;
    fl_quic_app_feed(&f->u.quic_app, from_client, data, len, ts, &tf);
    https_facts(e, f, &tf, ts);
    arm(e, f);
}
