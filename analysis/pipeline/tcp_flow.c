/* tcp_flow.c - TCP state per flow, the choice of dissector, and stream
 * payload to the TLS / HTTP / DNS dissectors. */
#include <string.h>

#include "engine_int.h"
#include "fl_tcp_track.h"

static void app_gap(fl_engine *e, fl_flow *f, bool from_client)
{
    e->st.tcp_gaps++;
    f->state |= from_client ? FL_FS_GAP_CLIENT : FL_FS_GAP_SERVER;
    switch (f->app) {
    case FL_APP_TLS:
        fl_tls_on_gap(&f->u.tls);
        fl_eng_https_gap(e, f);
        break;
    case FL_APP_HTTP:
        fl_http_on_gap(&f->u.http, from_client);
        break;
    case FL_APP_DNS:
        fl_dns_tcp_reset(&f->u.dns_tcp);
        break;
    default:
        break;
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
    if (f->sport == FL_PORT_DNS || f->sport == FL_PORT_MDNS)
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

static void tls_payload(fl_engine *e, fl_flow *f, bool from_client, const uint8_t *data,
                        uint32_t len, uint64_t ts)
{
    fl_eng_https_feed(e, f, from_client, data, len, ts);
    if (!fl_tls_wants_bytes(&f->u.tls))
        return;
    fl_tls_facts tf;
    fl_tls_feed(&f->u.tls, from_client, data, len, &tf);
    if (tf.client_hello) {
        fl_eng_quic_tcp_hello(e, f, data, len, ts);
        fl_eng_flow_fact(e, f, ts, FL_C_tls_handshakes, 1);
        fl_eng_timer_push(e, &e->timers_tls, f, FL_TIMER_TLS, e->now_us + e->tls_timeout_us);
    }
    if (tf.fatal_alerts)
        fl_eng_flow_fact(e, f, ts, FL_C_tls_alerts, tf.fatal_alerts);
    if (tf.failed) {
        fl_eng_why(e, "fatal alert %u", tf.alert_desc);
        fl_eng_flow_fact(e, f, ts, FL_C_tls_failures, 1);
    }
    if (!fl_tls_in_handshake(&f->u.tls))
        f->state &= ~FL_FS_TLS_TIMER;
}

static void http_payload(fl_engine *e, fl_flow *f, bool from_client, const uint8_t *data,
                         uint32_t len, uint64_t ts)
{
    if (!fl_http_wants_bytes(&f->u.http) || (from_client && (f->state & FL_FS_RESP_ONLY)))
        return;
    fl_http_facts hf;
    fl_http_feed(&f->u.http, from_client, data, len, &hf);
    if (hf.requests) {
        if (!(f->state & FL_FS_ATTRIBUTED) && f->provider == FL_PROVIDER_UNKNOWN &&
            f->deferred_requests < UINT16_MAX - hf.requests)
            f->deferred_requests += hf.requests; /* wait for the response's headers */
        else
            fl_eng_flow_fact(e, f, ts, FL_C_http_requests, hf.requests);
    }
    if (hf.responses || hf.cdn) {
        if (!(f->state & FL_FS_ATTRIBUTED))
            fl_eng_attribute(e, f, fl_providers_by_http_cdn(e->prov, (fl_http_cdn)hf.cdn));
        fl_eng_flow_fact(e, f, ts, FL_C_http_responses, hf.responses);
        fl_eng_flow_fact(e, f, ts, FL_C_http_4xx, hf.status_4xx);
        if (hf.status_5xx && hf.last_status >= 500 && hf.last_status <= 599)
            fl_eng_why(e, "status %u", hf.last_status);
        /* the connection's first 5xx is its failure in `any`, booked for
         * its client there too; the rest are repeats, failures of `http`
         * only (fl_families.h) */
        uint32_t repeats = hf.status_5xx;
        if (repeats && !(f->state & FL_FS_HTTP_5XX)) {
            fl_eng_flow_fact(e, f, ts, FL_C_http_5xx, 1);
            f->state |= FL_FS_HTTP_5XX;
            repeats--;
            if (repeats && hf.last_status >= 500 && hf.last_status <= 599)
                fl_eng_why(e, "status %u", hf.last_status);
        }
        fl_eng_flow_fact(e, f, ts, FL_C_http_5xx, repeats);
        fl_eng_flow_fact(e, f, ts, FL_C_http_5xx_repeats, repeats);
    }
}

static void tcp_payload(fl_engine *e, fl_flow *f, bool from_client, const uint8_t *data,
                        uint32_t len, uint64_t ts)
{
    decide_tcp_app(f, from_client, data, len);
    switch (f->app) {
    case FL_APP_TLS:
        tls_payload(e, f, from_client, data, len, ts);
        return;
    case FL_APP_HTTP:
        http_payload(e, f, from_client, data, len, ts);
        return;
    case FL_APP_DNS:
        fl_eng_dns_tcp_feed(e, f, data, len, ts);
        return;
    default:
        return;
    }
}

/* New stream bytes, with retransmitted ones cut (fl_tcp_track.h). */
static void tcp_data(fl_engine *e, fl_flow *f, const fl_packet *pkt, bool from_client)
{
    const uint8_t *data = pkt->payload;
    uint32_t len = pkt->payload_len;
    fl_tcp_seg seg = fl_tcp_track_segment(f, from_client, pkt->tcp_seq,
                                          (pkt->tcp_flags & FL_TCP_SYN) != 0, &data, &len);
    if (seg == FL_SEG_SEEN)
        return;
    if (seg == FL_SEG_AFTER_GAP)
        app_gap(e, f, from_client);
    if (f->app == FL_APP_NONE)
        return;
    if (seg == FL_SEG_JOINED) {
        /* the dissector must look for the next message start */
        decide_tcp_app(f, from_client, data, len);
        if (f->app == FL_APP_HTTP)
            fl_http_on_gap(&f->u.http, from_client);
    }
    tcp_payload(e, f, from_client, data, len, pkt->ts_us);
}

static void tcp_close(fl_engine *e, fl_flow *f, bool by_server, uint64_t ts)
{
    if (f->app == FL_APP_TLS)
        fl_eng_https_close(e, f, by_server, ts);
    if (f->app == FL_APP_TLS && fl_tls_wants_bytes(&f->u.tls)) {
        bool was_hs = fl_tls_in_handshake(&f->u.tls);
        if (fl_tls_on_close(&f->u.tls, by_server) && was_hs) {
            fl_eng_why(e, "server %s during the handshake", (f->state & FL_FS_RST) ? "RST" : "FIN");
            fl_eng_flow_fact(e, f, ts, FL_C_tls_failures, 1);
        }
        f->state &= ~FL_FS_TLS_TIMER;
    }
}

/* A capture that holds only the client's side (a one-way span port) still
 * shows whether the server answered: the client acknowledges the server's
 * bytes (RFC 9293 3.4). While the server's side is unseen, next_seq[1]
 * (unused until then; fl_tcp_track_segment sets it at the server's first
 * segment) keeps the client's first acknowledgement number; a later one
 * past it means the server sent data the capture lacks. */
static void note_client_ack(fl_flow *f, uint32_t ack)
{
    if (f->state & FL_FS_SEQ_SERVER)
        return;
    if (!(f->state & FL_FS_ACK_NOTED)) {
        f->next_seq[1] = ack;
        f->state |= FL_FS_ACK_NOTED;
    } else if ((int32_t)(ack - f->next_seq[1]) > 0) {
        f->state |= FL_FS_SERVER_ACKED;
    }
}

static void client_segment(fl_engine *e, fl_flow *f, const fl_packet *pkt)
{
    uint8_t fl = pkt->tcp_flags;
    uint64_t ts = pkt->ts_us;
    if ((fl & (FL_TCP_SYN | FL_TCP_ACK)) == FL_TCP_SYN) {
        if (!(f->state & FL_FS_SYN)) {
            f->state |= FL_FS_SYN;
            /* an attributed flow counts its attempt now; otherwise
             * fl_eng_attribute() lets it out with the flow */
            if (f->state & FL_FS_ATTRIBUTED)
                fl_eng_emit(e, ts, f->provider, FL_C_tcp_attempts, 1);
            if (f->state & FL_FS_SVC_COUNTED)
                fl_aggregate_service_count(e->agg, ts, f->provider, f->service, FL_C_tcp_attempts,
                                           1);
            f->client_isn = pkt->tcp_seq;
            f->next_seq[0] = pkt->tcp_seq + 1;
            f->state |= FL_FS_SEQ_CLIENT;
            fl_eng_timer_push(e, &e->timers_syn, f, FL_TIMER_SYN, e->now_us + e->syn_timeout_us);
        }
    } else {
        if (!(fl & FL_TCP_RST) || pkt->payload_len)
            f->state |= FL_FS_CLIENT_NON_SYN;
        if ((f->state & FL_FS_SYNACK) && (fl & FL_TCP_ACK))
            f->state |= FL_FS_ESTABLISHED;
        if (fl & FL_TCP_ACK)
            note_client_ack(f, pkt->tcp_ack);
    }
    if (fl & FL_TCP_RST) {
        f->state |= FL_FS_RST;
        tcp_close(e, f, false, ts);
    } else if (fl & FL_TCP_FIN) {
        f->state |= FL_FS_FIN_CLIENT;
        if (pkt->payload_len == 0)
            tcp_close(e, f, false, ts);
    }
}

static void server_segment(fl_engine *e, fl_flow *f, const fl_packet *pkt)
{
    uint8_t fl = pkt->tcp_flags;
    if ((fl & (FL_TCP_SYN | FL_TCP_ACK)) == (FL_TCP_SYN | FL_TCP_ACK)) {
        f->state |= FL_FS_SYNACK;
        f->next_seq[1] = pkt->tcp_seq + 1;
        f->state |= FL_FS_SEQ_SERVER;
    }
    if (!(fl & FL_TCP_RST))
        return;
    if (!(f->state & FL_FS_RESET_COUNTED)) {
        f->state |= FL_FS_RESET_COUNTED;
        /* one attempt, one outcome: a RST after the timeout was counted
         * adds nothing; a RST answering a SYN is a refusal (RFC 9293 3.5.2) */
        if ((f->state & (FL_FS_SYN | FL_FS_SYNACK | FL_FS_TIMED_OUT)) == FL_FS_SYN)
            fl_eng_flow_fact(e, f, pkt->ts_us, FL_C_tcp_refused, 1);
        else if ((f->state & FL_FS_SYNACK) ||
                 ((f->state & FL_FS_MIDSTREAM) && (f->state & FL_FS_PAYLOAD))) {
            f->state |= FL_FS_RESET_FAILED;
            fl_eng_flow_fact(e, f, pkt->ts_us, FL_C_tcp_resets, 1);
        }
    }
    f->state |= FL_FS_RST;
    tcp_close(e, f, true, pkt->ts_us);
}

void fl_eng_tcp_packet(fl_engine *e, fl_flow *f, const fl_packet *pkt, bool from_client)
{
    uint8_t fl = pkt->tcp_flags;
    if (from_client)
        client_segment(e, f, pkt);
    else
        server_segment(e, f, pkt);
    if (pkt->payload_len && !(fl & FL_TCP_RST)) {
        f->state |= FL_FS_PAYLOAD;
        tcp_data(e, f, pkt, from_client);
    }
    if (!from_client && (fl & FL_TCP_FIN) && !(fl & FL_TCP_RST)) {
        f->state |= FL_FS_FIN_SERVER;
        tcp_close(e, f, true, pkt->ts_us);
    }
    fl_flow_touch(e->flows, f, fl_tcp_flow_class(f), pkt->ts_us);
}
