/* cmd_redis.c - faultline alerts / faultline status (cmd_redis.h).
 *
 * Thin: the reading is in analysis/sink_redis.c (the one file that talks
 * to hiredis); this file only formats.
 */
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fl_families.h"
#include "cmd_redis.h"
#include "fl_counters.h"
#include "fl_redis.h"

enum { EXIT_OK = 0, EXIT_USAGE = 1, EXIT_RUNTIME = 4 };

#define READ_TIMEOUT_MS 5000u
#define PAGE 500u          /* stream entries per XRANGE / XREAD */
#define FOLLOW_BLOCK_MS 1000u  /* XREAD BLOCK: how often a stop request is seen */

static volatile sig_atomic_t stop_requested;

static void on_stop(int sig)
{
    (void)sig;
    stop_requested = 1;
}

static fl_redis_reader *open_reader(const fl_config *cfg, int *rc)
{
    if (!cfg->redis_url[0]) {
        fprintf(stderr, "faultline: no Redis to read: give --redis URL or [redis] redis_url\n");
        *rc = EXIT_USAGE;
        return NULL;
    }
    char err[512];
    fl_redis_reader *rd = fl_redis_reader_open(cfg->redis_url, cfg->redis_prefix,
                                               READ_TIMEOUT_MS, err, sizeof err);
    if (!rd) {
        fprintf(stderr, "faultline: redis: %s\n", err);
        *rc = EXIT_USAGE;
    }
    /* hiredis writes with write(2): a server that went away must give an
     * error, not kill us. */
    signal(SIGPIPE, SIG_IGN);
    return rd;
}

static void fmt_time(double t, char *buf, size_t len)
{
    time_t s = (time_t)t;
    struct tm tm;
    if (t <= 0 || !gmtime_r(&s, &tm)) {
        snprintf(buf, len, "-");
        return;
    }
    strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* ---- alerts ---- */

/* Fields the alert schema holds as strings: kept as strings even when they
 * would parse as JSON (a provider named "123"). */
static bool string_field(const char *name)
{
    static const char *const names[] = {"provider", "scope", "first_signal", "event", "state"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (!strcmp(name, names[i]))
            return true;
    return false;
}

/* The stream entry back into the JSON of the event: the writer stored
 * strings as they are and every other value JSON-encoded (cli/faultline.c
 * on_alert). */
static json_t *entry_json(const char *id, const char *const *fv, size_t nfv)
{
    json_t *o = json_object();
    json_object_set_new(o, "stream_id", json_string(id));
    for (size_t i = 0; i + 1 < nfv; i += 2) {
        json_t *v = NULL;
        if (!string_field(fv[i]))
            v = json_loads(fv[i + 1], JSON_DECODE_ANY, NULL);
        if (!v || json_is_string(v)) {
            json_decref(v);
            v = json_string(fv[i + 1]);
        }
        if (v)
            json_object_set_new(o, fv[i], v);
    }
    return o;
}

static double num(const json_t *o, const char *key)
{
    const json_t *v = json_object_get(o, key);
    return json_is_number(v) ? json_number_value(v) : 0;
}

static const char *str(const json_t *o, const char *key, const char *dflt)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : dflt;
}

static void print_event_line(const json_t *o)
{
    const char *event = str(o, "event", str(o, "state", "?"));
    bool resolved = !strcmp(event, "resolved");
    double t = resolved ? num(o, "resolved_at") : num(o, "raised_at");
    if (t <= 0)
        t = num(o, "raised_at");
    char when[32];
    fmt_time(t, when, sizeof when);
    const char *scope = str(o, "scope", "provider");
    char signals[128] = "";
    const json_t *sig = json_object_get(o, "signals");
    size_t i;
    const json_t *s;
    json_array_foreach(sig, i, s) {
        if (json_is_string(s)) {
            size_t used = strlen(signals);
            snprintf(signals + used, sizeof signals - used, "%s%s", used ? "," : "",
                     json_string_value(s));
        }
    }
    /* As the capture log line does: a local alert's own ratio, a
     * provider's peak. */
    double ratio = !strcmp(scope, "local") || !json_object_get(o, "peak_ratio")
                       ? num(o, "ratio") : num(o, "peak_ratio");
    printf("%s  %-8s  %-8s  %-16s  signals %-14s  ratio %.2f  baseline %.2f  clients %.0f\n",
           when, event, scope, str(o, "provider", "?"), signals[0] ? signals : "-", ratio,
           num(o, "baseline_ratio"), num(o, "clients"));
}

typedef struct alerts_ctx {
    bool json;
    long printed;
} alerts_ctx;

static void on_entry(void *ctx, const char *id, const char *const *fv, size_t nfv)
{
    alerts_ctx *ac = ctx;
    json_t *o = entry_json(id, fv, nfv);
    if (!o)
        return;
    if (ac->json) {
        char *text = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
        if (text) {
            puts(text);
            free(text);
        }
    } else {
        print_event_line(o);
    }
    json_decref(o);
    ac->printed++;
}

static void sleep_ms(unsigned ms)
{
    struct timespec d = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    nanosleep(&d, NULL); /* a stop signal cuts it short: fine */
}

int fl_cmd_alerts(const fl_config *cfg, bool follow, bool json)
{
    int rc = EXIT_OK;
    fl_redis_reader *rd = open_reader(cfg, &rc);
    if (!rd)
        return rc;
    alerts_ctx ac = {.json = json};
    char after[96] = "0-0", err[512];
    /* Everything so far, a page at a time. */
    for (;;) {
        long n = fl_redis_read_alerts(rd, after, sizeof after, 0, PAGE, on_entry, &ac, err,
                                      sizeof err);
        if (n < 0) {
            fprintf(stderr, "faultline: redis: %s\n", err);
            fl_redis_reader_close(rd);
            return EXIT_RUNTIME;
        }
        if ((unsigned long)n < PAGE)
            break;
    }
    fflush(stdout);
    if (follow) {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_stop;
        sigaction(SIGINT, &sa, NULL);
        sigaction(SIGTERM, &sa, NULL);
        bool down = false;
        while (!stop_requested) {
            long n = fl_redis_read_alerts(rd, after, sizeof after, FOLLOW_BLOCK_MS, PAGE,
                                          on_entry, &ac, err, sizeof err);
            if (n < 0) {
                /* Say it once per outage, keep trying: a follower outlives a
                 * Redis restart (the stream id carries on). */
                if (!down)
                    fprintf(stderr, "faultline: redis: %s (retrying)\n", err);
                down = true;
                sleep_ms(1000);
                continue;
            }
            if (down)
                fprintf(stderr, "faultline: redis: reading again\n");
            down = false;
            if (n > 0)
                fflush(stdout);
        }
    }
    fl_redis_reader_close(rd);
    return EXIT_OK;
}

/* ---- status ---- */


/* Seconds since the sensor's last heartbeat (wall clock). */
static int64_t heartbeat_age(const fl_redis_sensor_status *s)
{
    return (int64_t)time(NULL) - (int64_t)s->wall;
}

/* No heartbeat within [redis] stale_s (or one from a version that did not
 * say when): the sensor stopped or lost Redis; what it said is old. */
static bool is_stale(const fl_redis_sensor_status *s, const fl_config *cfg)
{
    return !s->wall || (double)heartbeat_age(s) > cfg->stale_s;
}

static json_t *status_json(const fl_redis_status *st, const fl_config *cfg)
{
    json_t *o = json_object();
    json_object_set_new(o, "ref_time", json_integer((json_int_t)st->ref_time));
    json_object_set_new(o, "window_s", json_real(cfg->window_s));
    json_object_set_new(o, "bucket_s", json_integer(cfg->bucket_s));
    json_object_set_new(o, "first_bucket", st->first_bucket
                                               ? json_integer((json_int_t)st->first_bucket)
                                               : json_null());
    json_object_set_new(o, "last_bucket", st->last_bucket
                                              ? json_integer((json_int_t)st->last_bucket)
                                              : json_null());
    json_t *providers = json_array();
    for (size_t i = 0; i < st->nproviders; i++) {
        const fl_redis_provider_status *p = &st->providers[i];
        uint64_t fails, total;
        fl_family_count(&p->counts, FL_FAM_ANY, &fails, &total);
        json_t *po = json_object();
        json_object_set_new(po, "provider", json_string(p->provider));
        json_object_set_new(po, "state", p->state[0] ? json_string(p->state) : json_null());
        json_object_set_new(po, "flows", json_integer((json_int_t)p->counts.v[FL_C_flows]));
        json_object_set_new(po, "failures", json_integer((json_int_t)fails));
        json_object_set_new(po, "failure_ratio", json_real(fl_ratio(fails, total)));
        json_object_set_new(po, "buckets", json_integer(p->buckets));
        json_t *cn = json_object();
        for (int c = 0; c < FL_C_COUNT; c++)
            if (p->counts.v[c])
                json_object_set_new(cn, fl_counter_name((fl_counter)c),
                                    json_integer((json_int_t)p->counts.v[c]));
        json_object_set_new(po, "counters", cn);
        json_array_append_new(providers, po);
    }
    json_object_set_new(o, "providers", providers);
    json_t *sensors = json_array();
    for (size_t i = 0; i < st->nsensors; i++) {
        const fl_redis_sensor_status *s = &st->sensors[i];
        json_t *so = json_object();
        json_object_set_new(so, "name", json_string(s->name));
        json_object_set_new(so, "version", json_string(s->version));
        json_object_set_new(so, "packets", json_integer((json_int_t)s->packets));
        json_object_set_new(so, "drops", json_integer((json_int_t)s->drops));
        json_object_set_new(so, "last_seen", json_integer((json_int_t)s->last_seen));
        json_object_set_new(so, "held", json_integer((json_int_t)s->held));
        json_object_set_new(so, "dropped", json_integer((json_int_t)s->dropped));
        bool stale = is_stale(s, cfg);
        json_object_set_new(so, "connected", json_boolean(s->connected && !stale));
        json_object_set_new(so, "heartbeat_age_s", s->wall ? json_integer((json_int_t)heartbeat_age(s))
                                                           : json_null());
        json_object_set_new(so, "stale", json_boolean(stale));
        json_object_set_new(so, "alerts", json_string(s->alerts));
        json_array_append_new(sensors, so);
    }
    json_object_set_new(o, "sensors", sensors);
    return o;
}

static void status_table(const fl_redis_status *st, const fl_config *cfg)
{
    char ref[32], b0[32], b1[32];
    fmt_time((double)st->ref_time, ref, sizeof ref);
    fmt_time((double)st->first_bucket, b0, sizeof b0);
    fmt_time((double)st->last_bucket, b1, sizeof b1);
    printf("last %.0f s before %s (%s)", cfg->window_s, ref,
           st->nsensors ? "newest sensor packet" : "wall clock: no sensor heartbeat");
    if (st->first_bucket)
        printf(", buckets %s .. %s", b0, b1);
    printf("\n\n%-20s %-9s %9s %9s %7s\n", "provider", "state", "flows", "failures", "ratio");
    for (size_t i = 0; i < st->nproviders; i++) {
        const fl_redis_provider_status *p = &st->providers[i];
        uint64_t fails, total;
        fl_family_count(&p->counts, FL_FAM_ANY, &fails, &total);
        printf("%-20.20s %-9s %9llu %9llu %7.3f\n", p->provider, p->state[0] ? p->state : "-",
               (unsigned long long)p->counts.v[FL_C_flows], (unsigned long long)fails,
               fl_ratio(fails, total));
    }
    if (!st->nproviders)
        printf("(no provider data in the window and no alert state)\n");
    printf("\n%-20s %-9s %12s %9s %-21s %-10s %s\n", "sensor", "version", "packets", "drops",
           "last_seen", "heartbeat", "connected");
    for (size_t i = 0; i < st->nsensors; i++) {
        const fl_redis_sensor_status *s = &st->sensors[i];
        char seen[32], age[32] = "?";
        bool stale = is_stale(s, cfg);
        fmt_time((double)s->last_seen, seen, sizeof seen);
        if (s->wall)
            snprintf(age, sizeof age, "%llds ago", (long long)heartbeat_age(s));
        printf("%-20.20s %-9s %12llu %9llu %-21s %-10s %s", s->name,
               s->version[0] ? s->version : "-", (unsigned long long)s->packets,
               (unsigned long long)s->drops, seen, age,
               stale ? "STALE" : s->connected ? "yes" : "no");
        if (s->alerts[0])
            printf(" alerts: %s", s->alerts);
        if (s->held || s->dropped)
            printf(" (held %llu, dropped %llu batches)", (unsigned long long)s->held,
                   (unsigned long long)s->dropped);
        printf("\n");
    }
    if (!st->nsensors)
        printf("(no sensor heartbeat)\n");
}

int fl_cmd_status(const fl_config *cfg, bool json)
{
    int rc = EXIT_OK;
    fl_redis_reader *rd = open_reader(cfg, &rc);
    if (!rd)
        return rc;
    fl_redis_status st;
    char err[512];
    uint32_t window = cfg->window_s > 0 ? (uint32_t)cfg->window_s : 60;
    if (!fl_redis_read_status(rd, cfg->bucket_s, window, &st, err, sizeof err)) {
        fprintf(stderr, "faultline: redis: %s\n", err);
        fl_redis_reader_close(rd);
        return EXIT_RUNTIME;
    }
    if (json) {
        json_t *o = status_json(&st, cfg);
        char *text = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        if (text) {
            puts(text);
            free(text);
        }
        json_decref(o);
    } else {
        status_table(&st, cfg);
    }
    fflush(stdout);
    fl_redis_status_free(&st);
    fl_redis_reader_close(rd);
    return EXIT_OK;
}
