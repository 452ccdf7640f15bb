/* health.c - see fl_health.h. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fl_health.h"
#include "fl_log.h"

struct fl_health {
    fl_health_options o;
    bool blind, drops_rising, one_way_rising, redis_lost;
    int link;                 /* last state seen: 1, 0, -1 */
    double lost_at;           /* when Redis was lost */
    uint64_t dropped_at_loss; /* batches dropped before the loss */
    bool have_base;           /* window start */
    double base_t;
    uint64_t base_packets, base_drops, base_flows, base_one_way;
};

fl_health *fl_health_new(const fl_health_options *opt)
{
    fl_health *h = calloc(1, sizeof *h);
    if (!h)
        return NULL;
    fl_health_options d = FL_HEALTH_DEFAULTS;
    h->o = opt ? *opt : d;
    if (h->o.window_s <= 0)
        h->o.window_s = d.window_s;
    h->link = -1;
    return h;
}

void fl_health_free(fl_health *h)
{
    free(h);
}

bool fl_health_is_blind(const fl_health *h)
{
    return h && h->blind;
}

static fl_health_event *add(fl_health_event *out, size_t *n, fl_health_kind k, int level)
{
    fl_health_event *e = &out[(*n)++];
    e->kind = k;
    e->level = level;
    e->text[0] = '\0';
    return e;
}

static void check_blind(fl_health *h, const fl_health_sample *s, fl_health_event *out, size_t *n)
{
    if (h->o.blind_after_s <= 0 || s->last_packet <= 0)
        return;
    double idle = s->now - s->last_packet;
    if (!h->blind && idle >= h->o.blind_after_s) {
        h->blind = true;
        snprintf(add(out, n, FL_HEALTH_BLIND, FL_LOG_ERR)->text, sizeof out->text,
                 "sensor blind: no packet for %.0f s (limit %.0f s); open alerts are "
                 "unknown until packets return",
                 idle, h->o.blind_after_s);
    } else if (h->blind && idle < h->o.blind_after_s) {
        h->blind = false;
        snprintf(add(out, n, FL_HEALTH_SEEING, FL_LOG_NOTICE)->text, sizeof out->text,
                 "sensor seeing again: packets are back");
    }
}

static void check_link(fl_health *h, const fl_health_sample *s, fl_health_event *out, size_t *n)
{
    if (s->link_up < 0 || s->link_up == h->link) {
        return;
    }
    /* The first known state is news only when it is "down". */
    if (s->link_up == 0)
        snprintf(add(out, n, FL_HEALTH_LINK_DOWN, FL_LOG_ERR)->text, sizeof out->text,
                 "link down: the capture interface has no carrier");
    else if (h->link == 0)
        snprintf(add(out, n, FL_HEALTH_LINK_UP, FL_LOG_NOTICE)->text, sizeof out->text,
                 "link up: the capture interface has its carrier back");
    h->link = s->link_up;
}

/* Rising above the threshold, normal again below half of it. */
static int judge(bool rising, double share, double threshold)
{
    if (!rising && share > threshold)
        return 1;
    if (rising && share < threshold / 2)
        return -1;
    return 0;
}

static void check_window(fl_health *h, const fl_health_sample *s, fl_health_event *out, size_t *n)
{
    if (!h->have_base || s->packets < h->base_packets || s->flows < h->base_flows) {
        h->have_base = true; /* first sample, or counters restarted */
        goto rebase;
    }
    if (s->now - h->base_t < h->o.window_s)
        return;
    uint64_t pk = s->packets - h->base_packets, dr = s->kernel_drops - h->base_drops;
    uint64_t fl = s->flows - h->base_flows, ow = s->one_way_flows - h->base_one_way;
    double dshare = pk + dr ? (double)dr / (double)(pk + dr) : 0.0;
    int j = h->o.drops_share > 0 ? judge(h->drops_rising, dshare, h->o.drops_share) : 0;
    if (j > 0)
        snprintf(add(out, n, FL_HEALTH_DROPS_RISING, FL_LOG_WARNING)->text, sizeof out->text,
                 "kernel drops rising: %" PRIu64 " of %" PRIu64 " packets (%.1f%%) dropped in "
                 "the last %.0f s; failure ratios are from a sample",
                 dr, pk + dr, 100.0 * dshare, s->now - h->base_t);
    else if (j < 0)
        snprintf(add(out, n, FL_HEALTH_DROPS_NORMAL, FL_LOG_NOTICE)->text, sizeof out->text,
                 "kernel drops back to %.2f%% of packets", 100.0 * dshare);
    if (j)
        h->drops_rising = j > 0;
    if (fl >= h->o.one_way_min_flows && h->o.one_way_share > 0) {
        double oshare = (double)ow / (double)fl;
        j = judge(h->one_way_rising, oshare, h->o.one_way_share);
        if (j > 0)
            snprintf(add(out, n, FL_HEALTH_ONE_WAY_RISING, FL_LOG_WARNING)->text, sizeof out->text,
                     "one-way share rising: %.0f%% of %" PRIu64 " new flows seen in one "
                     "direction only in the last %.0f s (span port missing a direction?)",
                     100.0 * oshare, fl, s->now - h->base_t);
        else if (j < 0)
            snprintf(add(out, n, FL_HEALTH_ONE_WAY_NORMAL, FL_LOG_NOTICE)->text, sizeof out->text,
                     "one-way share back to %.0f%% of new flows", 100.0 * oshare);
        if (j)
            h->one_way_rising = j > 0;
    }
rebase:
    h->base_t = s->now;
    h->base_packets = s->packets;
    h->base_drops = s->kernel_drops;
    h->base_flows = s->flows;
    h->base_one_way = s->one_way_flows;
}

static void check_redis(fl_health *h, const fl_health_sample *s, fl_health_event *out, size_t *n)
{
    if (!s->redis_configured)
        return;
    if (!h->redis_lost && !s->redis_connected) {
        h->redis_lost = true;
        h->lost_at = s->now;
        h->dropped_at_loss = s->redis_dropped;
        snprintf(add(out, n, FL_HEALTH_REDIS_LOST, FL_LOG_ERR)->text, sizeof out->text,
                 "redis lost (%s): %" PRIu64 " batches held in memory, more are held until "
                 "it is back",
                 s->redis_error && *s->redis_error ? s->redis_error : "not connected",
                 s->redis_held);
    } else if (h->redis_lost && s->redis_connected) {
        h->redis_lost = false;
        snprintf(add(out, n, FL_HEALTH_REDIS_BACK, FL_LOG_NOTICE)->text, sizeof out->text,
                 "redis back after %.0f s: %" PRIu64 " batches still held, %" PRIu64
                 " dropped while it was away",
                 s->now - h->lost_at, s->redis_held, s->redis_dropped - h->dropped_at_loss);
    }
}

size_t fl_health_sample_in(fl_health *h, const fl_health_sample *s,
                           fl_health_event out[FL_HEALTH_EVENTS_MAX])
{
    size_t n = 0;
    if (!h || !s)
        return 0;
    check_link(h, s, out, &n);
    check_blind(h, s, out, &n);
    check_window(h, s, out, &n);
    check_redis(h, s, out, &n);
    return n;
}

int fl_health_link_state(const char *ifname)
{
    char path[128], state[32] = "";
    if (!ifname || !*ifname || strchr(ifname, '/') || strlen(ifname) > 64)
        return -1;
    snprintf(path, sizeof path, "/sys/class/net/%s/operstate", ifname);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    if (!fgets(state, sizeof state, f))
        state[0] = '\0';
    fclose(f);
    state[strcspn(state, "\n")] = '\0';
    /* RFC 2863 ifOperStatus names; "unknown": loopback, tun, some drivers. */
    if (strcmp(state, "up") == 0 || strcmp(state, "unknown") == 0)
        return 1;
    if (strcmp(state, "down") == 0 || strcmp(state, "lowerlayerdown") == 0 ||
        strcmp(state, "notpresent") == 0 || strcmp(state, "dormant") == 0)
        return 0;
    return -1;
}
