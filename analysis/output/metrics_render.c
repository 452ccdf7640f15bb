/* metrics_render.c - the Prometheus text exposition format, version 0.0.4
 * (https://prometheus.io/docs/instrumenting/exposition_formats/), of a
 * fl_metrics_snapshot. No I/O: metrics_http.c serves the text. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fl_metrics.h"

#define OTHER "other"

static fl_metrics_provider *find_or_add(fl_metrics_snapshot *s, const char *name)
{
    for (size_t i = 0; i < s->nproviders; i++)
        if (strcmp(s->provider[i].name, name) == 0)
            return &s->provider[i];
    if (s->nproviders < FL_METRICS_PROVIDERS_MAX) {
        fl_metrics_provider *p = &s->provider[s->nproviders++];
        memset(p, 0, sizeof *p);
        snprintf(p->name, sizeof p->name, "%s", name);
        return p;
    }
    /* Past the cap: one shared "other" entry, in the spare last slot. */
    fl_metrics_provider *o = &s->provider[FL_METRICS_PROVIDERS_MAX];
    if (strcmp(o->name, OTHER) != 0) {
        memset(o, 0, sizeof *o);
        snprintf(o->name, sizeof o->name, OTHER);
    }
    s->providers_folded++;
    return o;
}

void fl_metrics_snapshot_add(fl_metrics_snapshot *s, const char *provider, const fl_counts *counts,
                             fl_metrics_alert alert, double alert_ratio)
{
    fl_metrics_provider *p = find_or_add(s, provider && *provider ? provider : "unknown");
    if (counts)
        fl_counts_add(&p->counts, counts);
    if (alert > p->alert)
        p->alert = (uint8_t)alert;
    if (alert != FL_METRICS_ALERT_NONE && alert_ratio > p->alert_ratio)
        p->alert_ratio = alert_ratio;
}

/* A label value: backslash, double quote and line feed escaped, as the
 * format requires; other bytes pass (the format is UTF-8). */
static void put_label(FILE *f, const char *v)
{
    fputc('"', f);
    for (const char *c = v ? v : ""; *c; c++) {
        if (*c == '\\' || *c == '"')
            fprintf(f, "\\%c", *c);
        else if (*c == '\n')
            fputs("\\n", f);
        else
            fputc(*c, f);
    }
    fputc('"', f);
}

static void head(FILE *f, const char *name, const char *type, const char *help)
{
    fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void one_u(FILE *f, const char *name, const char *type, const char *help, uint64_t v)
{
    head(f, name, type, help);
    fprintf(f, "%s %" PRIu64 "\n", name, v);
}

/* Doubles with 17 significant digits: what Prometheus parses back exactly. */
static void one_d(FILE *f, const char *name, const char *help, double v)
{
    head(f, name, "gauge", help);
    fprintf(f, "%s %.17g\n", name, v);
}

static void render_build(FILE *f, const fl_metrics_build *b)
{
    head(f, "faultline_build_info", "gauge",
         "Versions of faultline and the libraries it runs on; always 1.");
    fputs("faultline_build_info{version=", f);
    put_label(f, b ? b->version : "");
    fputs(",ndpi=", f);
    put_label(f, b ? b->ndpi : "");
    fputs(",libpcap=", f);
    put_label(f, b ? b->libpcap : "");
    fputs(",hiredis=", f);
    put_label(f, b ? b->hiredis : "");
    fputs(",sensor=", f);
    put_label(f, b ? b->sensor : "");
    fputs("} 1\n", f);
}

static void render_capture(FILE *f, const fl_metrics_snapshot *s)
{
    one_u(f, "faultline_packets_total", "counter", "Packets analysed.", s->packets);
    one_u(f, "faultline_bytes_total", "counter", "Bytes of the packets analysed (captured length).",
          s->bytes);
    one_u(f, "faultline_kernel_drops_total", "counter",
          "Packets the kernel or the interface dropped before faultline saw them (live capture).",
          s->kernel_drops);
    head(f, "faultline_decode_errors_total", "counter", "Malformed packets, by reason.");
    for (int i = 0; i < FL_DERR_COUNT; i++)
        fprintf(f, "faultline_decode_errors_total{reason=\"%s\"} %" PRIu64 "\n",
                fl_decode_error_name((fl_decode_error)i), s->decode_error[i]);
    head(f, "faultline_flows_total", "counter", "Flows seen, by transport protocol.");
    fprintf(f, "faultline_flows_total{protocol=\"tcp\"} %" PRIu64 "\n", s->flows_tcp);
    fprintf(f, "faultline_flows_total{protocol=\"udp\"} %" PRIu64 "\n", s->flows_udp);
    fprintf(f, "faultline_flows_total{protocol=\"other\"} %" PRIu64 "\n", s->flows_other);
    one_u(f, "faultline_flows_active", "gauge", "Flows in the flow table.", s->flows_active);
    one_u(f, "faultline_flow_evictions_total", "counter",
          "Flows pushed out of the full flow table.", s->flows_evicted);
    one_u(f, "faultline_one_way_flows_total", "counter",
          "Flows of which only one direction was captured.", s->one_way_flows);
    uint64_t flows = s->flows_tcp + s->flows_udp + s->flows_other;
    one_d(f, "faultline_one_way_share",
          "Share of flows seen in one direction only (0..1): a rising share means a span port "
          "that lost a direction.",
          flows ? (double)s->one_way_flows / (double)flows : 0.0);
    one_d(f, "faultline_last_packet_timestamp_seconds",
          "Packet time of the last packet, Unix seconds (0: none yet).", s->last_packet_time);
    one_u(f, "faultline_sensor_blind", "gauge",
          "1 when no packet arrived for longer than the blind limit: open alerts are unknown.",
          s->blind ? 1 : 0);
    one_u(f, "faultline_buckets_closed_total", "counter", "Time buckets closed.",
          s->buckets_closed);
}

static void render_redis(FILE *f, const fl_metrics_snapshot *s)
{
    if (!s->redis_configured)
        return;
    one_u(f, "faultline_redis_up", "gauge", "1 when the Redis connection is up.",
          s->redis_connected ? 1 : 0);
    one_u(f, "faultline_redis_batches_held", "gauge",
          "Batches waiting in memory for Redis to come back.", s->redis_batches_held);
    one_u(f, "faultline_redis_batches_dropped_total", "counter",
          "Batches lost over the backlog budget while Redis was away.", s->redis_batches_dropped);
}

static size_t nentries(const fl_metrics_snapshot *s)
{
    return s->providers_folded ? FL_METRICS_PROVIDERS_MAX + 1 : s->nproviders;
}

static const fl_metrics_provider *entry(const fl_metrics_snapshot *s, size_t i)
{
    return i < s->nproviders               ? &s->provider[i]
           : i == FL_METRICS_PROVIDERS_MAX ? &s->provider[i]
                                           : NULL;
}

static void render_providers(FILE *f, const fl_metrics_snapshot *s)
{
    head(f, "faultline_signal_events_total", "counter",
         "Signal counters per provider (README \"Counters\"): attempts and failures.");
    for (size_t i = 0; i < nentries(s); i++) {
        const fl_metrics_provider *p = entry(s, i);
        for (int c = 0; p && c < FL_C_COUNT; c++) {
            fputs("faultline_signal_events_total{provider=", f);
            put_label(f, p->name);
            fprintf(f, ",signal=\"%s\"} %" PRIu64 "\n", fl_counter_name((fl_counter)c),
                    p->counts.v[c]);
        }
    }
    head(f, "faultline_alert_active", "gauge",
         "1 while an alert on the provider is raised (provider \"local\": a local problem).");
    for (size_t i = 0; i < nentries(s); i++)
        if (entry(s, i)) {
            fputs("faultline_alert_active{provider=", f);
            put_label(f, entry(s, i)->name);
            fprintf(f, "} %d\n", entry(s, i)->alert != FL_METRICS_ALERT_NONE);
        }
    head(f, "faultline_alert_unknown", "gauge",
         "1 while a raised alert cannot be confirmed or resolved: the sensor is blind.");
    for (size_t i = 0; i < nentries(s); i++)
        if (entry(s, i)) {
            fputs("faultline_alert_unknown{provider=", f);
            put_label(f, entry(s, i)->name);
            fprintf(f, "} %d\n", entry(s, i)->alert == FL_METRICS_ALERT_UNKNOWN);
        }
    head(f, "faultline_alert_peak_ratio", "gauge",
         "Peak failure ratio (0..1) of the open alert; 0 without one.");
    for (size_t i = 0; i < nentries(s); i++)
        if (entry(s, i)) {
            fputs("faultline_alert_peak_ratio{provider=", f);
            put_label(f, entry(s, i)->name);
            fprintf(f, "} %.17g\n", entry(s, i)->alert_ratio);
        }
    one_u(f, "faultline_alerts_raised_total", "counter", "Alerts raised.", s->alerts_raised);
    one_u(f, "faultline_alerts_resolved_total", "counter", "Alerts resolved.", s->alerts_resolved);
    one_u(f, "faultline_metrics_providers_folded", "gauge",
          "Provider entries summed under provider=\"other\" (label cap "
          "FL_METRICS_PROVIDERS_MAX = 64).",
          s->providers_folded);
}

char *fl_metrics_render(const fl_metrics_snapshot *s, const fl_metrics_build *b, size_t *len)
{
    char *buf = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&buf, &n);

    if (!f)
        return NULL;
    render_build(f, b);
    render_capture(f, s);
    render_redis(f, s);
    render_providers(f, s);
    one_d(f, "faultline_snapshot_timestamp_seconds",
          "When the pipeline published these values (wall clock, Unix seconds).", s->published_at);
    if (ferror(f)) {
        fclose(f);
        free(buf);
        return NULL;
    }
    if (fclose(f) != 0) {
        free(buf);
        return NULL;
    }
    if (len)
        *len = n;
    return buf;
}

bool fl_metrics_parse_addr(const char *addr, char *host, size_t hostlen, unsigned *port, char *err,
                           size_t errlen)
{
    const char *colon, *h = addr;
    size_t hl;
    char *end;

    if (!addr || !*addr) {
        snprintf(err, errlen, "empty metrics address (want HOST:PORT)");
        return false;
    }
    if (addr[0] == '[') {
        const char *rb = strchr(addr, ']');
        if (!rb || rb[1] != ':') {
            snprintf(err, errlen, "bad metrics address '%s' (want [IPV6]:PORT)", addr);
            return false;
        }
        h = addr + 1;
        hl = (size_t)(rb - h);
        colon = rb + 1;
    } else {
        colon = strrchr(addr, ':');
        if (!colon || strchr(addr, ':') != colon) {
            snprintf(err, errlen, "bad metrics address '%s' (want HOST:PORT or [IPV6]:PORT)", addr);
            return false;
        }
        hl = (size_t)(colon - addr);
    }
    if (hl == 0 || hl >= hostlen) {
        snprintf(err, errlen, "bad metrics address '%s': no host", addr);
        return false;
    }
    errno = 0;
    unsigned long p = strtoul(colon + 1, &end, 10);
    if (errno || end == colon + 1 || *end || p > 65535 || colon[1] == '-' || colon[1] == '+') {
        snprintf(err, errlen, "bad metrics address '%s': port must be 0..65535", addr);
        return false;
    }
    memcpy(host, h, hl);
    host[hl] = '\0';
    *port = (unsigned)p;
    return true;
}
