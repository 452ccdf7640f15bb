/* cmd_redis.c - faultline alerts / faultline status (cmd_redis.h).
 *
 * Thin: the reading is in analysis/output/redis_reader.c (hiredis stays
 * behind analysis/output/redis_conn.h); this file only formats.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fl_families.h"
#include "cmd_redis.h"
#include "fl_counters.h"
#include "fl_redis.h"
#include "fl_report.h"

enum { EXIT_OK = 0, EXIT_USAGE = 1, EXIT_RUNTIME = 4 };

#define READ_TIMEOUT_MS 5000u
#define PAGE 500u             /* stream entries per XRANGE / XREAD */
#define FOLLOW_BLOCK_MS 1000u /* XREAD BLOCK: how often a stop request is seen */

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
    fl_redis_reader *rd =
        fl_redis_reader_open(cfg->redis_url, cfg->redis_prefix, READ_TIMEOUT_MS, err, sizeof err);
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

static void print_event_line(const fl_alert_entry *e)
{
    char when[32];
    fmt_time(e->at, when, sizeof when);
    printf("%s  %-8s  %-8s  %-16s  signals %-14s  ratio %.2f  baseline %.2f  clients %.0f\n", when,
           e->event, e->scope, e->provider, e->signals[0] ? e->signals : "-", e->ratio, e->baseline,
           e->clients);
}

typedef struct alerts_ctx {
    bool json;
    long printed;
} alerts_ctx;

static void on_entry(void *ctx, const char *id, const char *const *fv, size_t nfv)
{
    alerts_ctx *ac = ctx;
    if (ac->json) {
        char *text = fl_alert_entry_json(id, fv, nfv);
        if (!text)
            return;
        puts(text);
        free(text);
    } else {
        fl_alert_entry e;
        if (!fl_alert_entry_read(id, fv, nfv, &e))
            return;
        print_event_line(&e);
    }
    ac->printed++;
}

static void sleep_ms(unsigned ms)
{
    struct timespec d = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000L };
    nanosleep(&d, NULL); /* a stop signal cuts it short: fine */
}

int fl_cmd_alerts(const fl_config *cfg, bool follow, bool json)
{
    int rc = EXIT_OK;
    fl_redis_reader *rd = open_reader(cfg, &rc);
    if (!rd)
        return rc;
    alerts_ctx ac = { .json = json };
    char after[96] = "0-0", err[512];
    /* Everything so far, a page at a time. */
    for (;;) {
        long n =
            fl_redis_read_alerts(rd, after, sizeof after, 0, PAGE, on_entry, &ac, err, sizeof err);
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
            long n = fl_redis_read_alerts(rd, after, sizeof after, FOLLOW_BLOCK_MS, PAGE, on_entry,
                                          &ac, err, sizeof err);
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
        bool stale = fl_redis_sensor_stale(s, cfg->stale_s);
        fmt_time((double)s->last_seen, seen, sizeof seen);
        if (s->wall)
            snprintf(age, sizeof age, "%llds ago", (long long)fl_redis_sensor_age(s));
        printf("%-20.20s %-9s %12llu %9llu %-21s %-10s %s", s->name,
               s->version[0] ? s->version : "-", (unsigned long long)s->packets,
               (unsigned long long)s->drops, seen, age,
               stale          ? "STALE"
               : s->connected ? "yes"
                              : "no");
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
        char *text = fl_status_json(&st, cfg->window_s, cfg->bucket_s, cfg->stale_s);
        if (text) {
            puts(text);
            free(text);
        }
    } else {
        status_table(&st, cfg);
    }
    fflush(stdout);
    fl_redis_status_free(&st);
    fl_redis_reader_close(rd);
    return EXIT_OK;
}
