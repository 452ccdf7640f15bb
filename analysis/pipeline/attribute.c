/* attribute.c - a flow's facts, its provider, and the nDPI glue.
 *
 * Facts are counted in the bucket of the packet that shows them (the RST,
 * the alert, the response) or, for timeouts, at the moment the timeout
 * passes. A flow's own facts (flows, tcp_attempts, early HTTP requests) wait
 * for its provider to be decided: by address at once; else by name when
 * nDPI has read the SNI/Host; for HTTP flows not placed by address, at the
 * first response, whose headers may name the CDN.
 */
#include <stdarg.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include "engine_int.h"
#include "fl_quic.h"
#include "fl_stage_times.h"

void fl_eng_emit(fl_engine *e, uint64_t ts, uint16_t provider, fl_counter c, uint32_t n)
{
    FL_STAGE_DECL(prev);
    FL_STAGE_PUSH(prev, FL_STAGE_COUNT);
    fl_aggregate_count(e->agg, ts, provider, c, n);
    FL_STAGE_POP(prev);
}

/* The reason of the next failure, for --events only: without an events
 * sink nothing is formatted. */
void fl_eng_why(fl_engine *e, const char *fmt, ...)
{
    if (!e->fail_sink)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->why, sizeof e->why, fmt, ap);
    va_end(ap);
}

/* What a failure counter means when the call site said nothing more. */
static void default_why(const fl_engine *e, fl_counter c, char *buf, size_t len)
{
    switch (c) {
    case FL_C_tcp_refused:
        snprintf(buf, len, "server RST before SYN-ACK");
        break;
    case FL_C_tcp_syn_timeouts:
        snprintf(buf, len, "no SYN-ACK or RST within %g s", (double)e->syn_timeout_us / 1e6);
        break;
    case FL_C_tcp_resets:
        snprintf(buf, len, "server RST after the handshake");
        break;
    case FL_C_tls_failures:
        snprintf(buf, len, "TLS handshake failed");
        break;
    case FL_C_dns_servfail:
        snprintf(buf, len, "SERVFAIL");
        break;
    case FL_C_dns_refused:
        snprintf(buf, len, "REFUSED");
        break;
    case FL_C_dns_timeouts:
        snprintf(buf, len, "no response within %g s", (double)e->dns_timeout_us / 1e6);
        break;
    case FL_C_http_5xx:
        snprintf(buf, len, "status 5xx");
        break;
    case FL_C_https_suspect:
        snprintf(buf, len, "response in a new size mode");
        break;
    default:
        snprintf(buf, len, "%s", fl_counter_name(c));
        break;
    }
}

/* The service a failure belongs to: the queried name for DNS, else the
 * flow's (counted among the service's flows first, so a failure never
 * comes before its flow), else (other). */
static uint32_t failure_service(fl_engine *e, fl_flow *f, uint64_t ts)
{
    if (e->why_service_id)
        return e->why_service_id;
    if (e->why_service)
        return fl_aggregate_service_id(e->agg, e->why_service);
    if (!f)
        return 0;
    fl_eng_service_flow(e, f, ts);
    return f->service;
}

/* The one place a failure is booked for a client (and its flow): the
 * failing-client tallies, the service's failures (live, so an alert raised
 * before its flows end already names the services failing), the --events
 * sink once per increment, and the flow (NULL if it has ended) marked
 * failed. */
void fl_eng_failure(fl_engine *e, fl_flow *f, uint64_t ts, uint16_t provider, const fl_addr *client,
                    fl_counter c, uint32_t n)
{
    FL_STAGE_DECL(prev);
    FL_STAGE_PUSH(prev, FL_STAGE_COUNT);
    /* `any` counts every failure once: the RST of a flow already booked as
     * its tcp_resets (tcp_flow.c books it before the close) is not the
     * client's second failure there */
    uint16_t fams =
        f && (f->state & FL_FS_RESET_FAILED) ? fl_family_mask_after_reset(c) : fl_family_mask(c);
    /* and a connection's later 5xx are repeats there (tcp_flow.c) */
    if (c == FL_C_http_5xx && f && (f->state & FL_FS_HTTP_5XX))
        fams = fl_family_mask_http_repeat();
    fl_aggregate_failing_client(e->agg, ts, provider, client, fams);
    uint32_t svc = failure_service(e, f, ts);
    fl_aggregate_service_count(e->agg, ts, provider, svc, c, n);
    if (f && !(f->state & FL_FS_FAILED) && svc == f->service)
        fl_aggregate_service_failed_flow(e->agg, ts, provider, svc);
    FL_STAGE_POP(prev);
    if (e->fail_sink) {
        char why[64];
        if (e->why[0])
            snprintf(why, sizeof why, "%s", e->why);
        else
            default_why(e, c, why, sizeof why);
        fl_failure_info fi = {
            .ts_us = ts,
            .signal = c,
            .provider = provider,
            .client = client,
            .reason = why,
            .service = e->why_service ? e->why_service
                       : svc          ? fl_aggregate_service_name(e->agg, svc)
                                      : NULL,
        };
        if (f) {
            fi.server = &f->server;
            fi.client_port = f->cport;
            fi.server_port = f->sport;
            fi.ip_proto = f->proto;
        } else if (e->why_conn) { /* a held HTTPS response: TLS or QUIC */
            fi.server = &e->why_conn->server;
            fi.client_port = e->why_conn->cport;
            fi.server_port = e->why_conn->sport;
            fi.ip_proto = e->why_conn->proto;
        }
        for (uint32_t i = 0; i < n; i++)
            e->fail_sink(e->fail_ctx, &fi);
    }
    e->why[0] = '\0';
    e->why_service = NULL;
    e->why_service_id = 0;
    e->why_conn = NULL;
    if (!f)
        return;
    f->state |= FL_FS_FAILED;
    if (f->failures < UINT16_MAX)
        f->failures++;
}

void fl_eng_service_flow(fl_engine *e, fl_flow *f, uint64_t ts)
{
    if ((f->state & FL_FS_SVC_COUNTED) || !(f->state & FL_FS_ATTRIBUTED))
        return;
    f->state |= FL_FS_SVC_COUNTED;
    fl_aggregate_service_count(e->agg, ts, f->provider, f->service, FL_C_flows, 1);
    if (f->state & FL_FS_SYN)
        fl_aggregate_service_count(e->agg, ts, f->provider, f->service, FL_C_tcp_attempts, 1);
}

/* A fact about flow f at ts, counted for the flow's provider. */
void fl_eng_flow_fact(fl_engine *e, fl_flow *f, uint64_t ts, fl_counter c, uint32_t n)
{
    if (!n)
        return;
    if (!(f->state & FL_FS_ATTRIBUTED))
        fl_eng_attribute(e, f, 0);
    fl_eng_emit(e, ts, f->provider, c, n);
    if (fl_counter_is_failure(c)) {
        fl_eng_failure(e, f, ts, f->provider, &f->client, c, n);
    } else {
        /* the attempts of the service, so its ratios are the provider's */
        fl_eng_service_flow(e, f, ts);
        fl_aggregate_service_count(e->agg, ts, f->provider, f->service, c, n);
    }
}

/* Decide the flow's provider (the order of README "How a flow is
 * attributed") and let its deferred facts out. provider_hint: an HTTP CDN
 * provider, used when the address said nothing. */
void fl_eng_attribute(fl_engine *e, fl_flow *f, uint16_t provider_hint)
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
    fl_eng_emit(e, f->first_us, f->provider, FL_C_flows, 1);
    fl_aggregate_active_client(e->agg, f->first_us, f->provider, &f->client);
    if (f->state & FL_FS_SYN)
        fl_eng_emit(e, f->first_us, f->provider, FL_C_tcp_attempts, 1);
    if (f->deferred_requests) {
        fl_eng_emit(e, f->first_us, f->provider, FL_C_http_requests, f->deferred_requests);
        f->deferred_requests = 0;
    }
    if (f->service || (f->state & FL_FS_CLASSIFIED))
        fl_eng_service_flow(e, f, f->first_us);
}

static void apply_classification(fl_engine *e, fl_flow *f, const fl_classification *c)
{
    f->state |= FL_FS_CLASSIFIED;
    /* a DNS flow is "DNS": its queries are named by our own parser, which
     * keeps odd bytes visible (\DDD), where nDPI's copy has lost them */
    if (!f->service && f->app != FL_APP_DNS) {
        const char *name =
            c->host[0]
                ? c->host
                : fl_classifier_proto_name(e->cls, c->app_proto ? c->app_proto : c->master_proto);
        f->service = fl_aggregate_service_id(e->agg, name);
    }
    if (f->state & FL_FS_ATTRIBUTED) {
        /* named now: a flow is counted in the bucket of the packet that
         * named it (its first bucket may be closed already) */
        fl_eng_service_flow(e, f, e->now_us > f->first_us ? e->now_us : f->first_us);
        return;
    }
    if (f->provider != FL_PROVIDER_UNKNOWN)
        return;
    uint16_t p = fl_providers_by_ndpi(e->prov, c->app_proto, c->master_proto);
    if (!p && c->host[0])
        p = fl_providers_by_name(e->prov, c->host);
    f->provider = p;
}

void fl_eng_classify_stop(fl_engine *e, fl_flow *f)
{
    if (!f->ndpi)
        return;
    fl_classification c;
    fl_classifier_giveup(e->cls, f->ndpi, &c);
    fl_classifier_flow_free(e->cls, f->ndpi);
    f->ndpi = NULL;
    apply_classification(e, f, &c);
}

/* nDPI prints the bytes of a name it cannot print as '?' (a UTF-8 LLMNR or
 * mDNS name, RFC 4795 / RFC 6762, comes out as "????????????"). A UDP
 * message in DNS format is named by our own parser instead, which keeps
 * those bytes visible as \DDD (RFC 1035 5.1). */
static void dns_format_name(fl_engine *e, const fl_packet *pkt, fl_classification *c)
{
    if (pkt->l4_proto != IPPROTO_UDP || !strchr(c->host, '?'))
        return;
    if (fl_dns_parse(pkt->payload, pkt->payload_len, &e->dns_msg) != FL_DNS_OK ||
        !e->dns_msg.has_question || !e->dns_msg.qname[0])
        return;
    /* cut to the host buffer: a name that long is named by its start */
    size_t n = strnlen(e->dns_msg.qname, sizeof c->host - 1);
    memcpy(c->host, e->dns_msg.qname, n);
    c->host[n] = '\0';
}

/* A TLS flow's first payload a ClientHello record (RFC 8446 5.1, 4.1.2;
 * whole, or the first segment of a large one) carrying server_name (RFC
 * 6066 3): classified from our own reading of it (fl_classifier_tls_hello). */
static bool tls_hello_classified(fl_engine *e, const fl_packet *pkt, fl_classification *c)
{
    const uint8_t *p = pkt->payload;
    uint32_t len = pkt->payload_len;
    if (pkt->l4_proto != IPPROTO_TCP || len < 6 || p[0] != 0x16 || p[1] != 3 || p[5] != 1)
        return false;
    fl_quic_hello h;
    if (fl_quic_parse_client_hello_part(p + 5, len - 5, &h) != 1 || !h.sni[0])
        return false;
    return fl_classifier_tls_hello(e->cls, h.sni, c);
}

/* nDPI sees a flow only until it is classified, or for at most
 * classify_packets payload packets. */
void fl_eng_classify(fl_engine *e, fl_flow *f, const fl_packet *pkt)
{
    if (f->state & FL_FS_CLASSIFIED)
        return;
    fl_classification fast;
    if (!f->ndpi && tls_hello_classified(e, pkt, &fast)) {
        apply_classification(e, f, &fast);
        return;
    }
    /* A UDP flow on port 53 is DNS by its port (flow_end.c), and each
     * message our parser reads names the flow's provider and service
     * (dns_flow.c): nDPI's matching of the query name against its host
     * list and its DGA check would be thrown away. A first message we
     * cannot read still goes to nDPI, whose guess names the flow then.
     * The message read is counted by fl_eng_dns_message, which engine.c
     * calls next for this packet, without reading it again. */
    if (!f->ndpi && f->app == FL_APP_DNS && pkt->l4_proto == IPPROTO_UDP &&
        fl_dns_parse(pkt->payload, pkt->payload_len, &e->dns_msg) == FL_DNS_OK) {
        e->dns_msg_of = pkt->payload;
        memset(&fast, 0, sizeof fast);
        apply_classification(e, f, &fast);
        return;
    }
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
        dns_format_name(e, pkt, &c);
        fl_classifier_flow_free(e->cls, f->ndpi);
        f->ndpi = NULL;
        apply_classification(e, f, &c);
    } else if (++f->ndpi_pkts >= e->cfg->classify_packets) {
        fl_eng_classify_stop(e, f);
    }
}
