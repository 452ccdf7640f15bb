/* faultline.c - the command line: a thin layer over capture/ and analysis/.
 *
 *   faultline replay [options] FILE...     analyse capture files
 *   faultline capture -i IFACE [options]   run as a live sensor
 *   faultline config [options]             print the effective config
 *
 * Exit status: 0 success; 1 usage error; 2 input unusable (nothing
 * analysed: missing file, not a capture, bad filter, bad config);
 * 3 partial input (a truncated or damaged capture: every readable packet
 * was analysed and the results printed); 4 runtime failure.
 */
#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fl_client_hash.h"
#include "cmd_redis.h"
#include "fl_config.h"
#include "fl_drill.h"
#include "fl_engine.h"
#include "fl_log.h"
#include "fl_output.h"
#include "fl_redis.h"
#include "fl_sdnotify.h"
#include "fl_source.h"
#include "fl_stage_times.h"
#include "ops.h"

enum {
    EXIT_USAGE = 1,
    EXIT_INPUT = 2,
    EXIT_PARTIAL = 3,
    EXIT_RUNTIME = 4,
};

enum {
    OPT_JSON = 256,
    OPT_BUCKET,
    OPT_PROVIDERS,
    OPT_RANGES,
    OPT_CONFIG,
    OPT_SET,
    OPT_REDIS,
    OPT_SENSOR,
    OPT_SPEED,
    OPT_REPORT,
    OPT_HELP,
    OPT_VERSION,
    OPT_QUIET,
    OPT_FOLLOW,
    OPT_METRICS,
    OPT_METRICS_LINGER,
    OPT_EVENTS,
};

static const struct option long_opts[] = {
    { "json", no_argument, NULL, OPT_JSON },
    { "bucket", required_argument, NULL, OPT_BUCKET },
    { "providers", required_argument, NULL, OPT_PROVIDERS },
    { "ranges", required_argument, NULL, OPT_RANGES },
    { "config", required_argument, NULL, OPT_CONFIG },
    { "set", required_argument, NULL, OPT_SET },
    { "filter", required_argument, NULL, 'f' },
    { "interface", required_argument, NULL, 'i' },
    { "redis", required_argument, NULL, OPT_REDIS },
    { "sensor", required_argument, NULL, OPT_SENSOR },
    { "speed", required_argument, NULL, OPT_SPEED },
    { "report", required_argument, NULL, OPT_REPORT },
    { "user", required_argument, NULL, 'Z' },
    { "quiet", no_argument, NULL, OPT_QUIET },
    { "follow", no_argument, NULL, OPT_FOLLOW },
    { "metrics", required_argument, NULL, OPT_METRICS },
    { "metrics-linger", required_argument, NULL, OPT_METRICS_LINGER },
    { "events", required_argument, NULL, OPT_EVENTS },
    { "help", no_argument, NULL, OPT_HELP },
    { "version", no_argument, NULL, OPT_VERSION },
    { NULL, 0, NULL, 0 },
};

static void usage(FILE *out)
{
    fl_cli_usage(out);
}

typedef struct cli {
    const char *cmd;
    fl_config cfg;
    bool json;
    bool quiet;
    bool follow;
    double speed;
    const char *report_html;
    const char *metrics_addr;
    double metrics_linger;
    const char *events_path;
    const char *config_file;
    char **sets;
    int nsets;
    char *overrides[64][2]; /* command-line values, re-applied on reload */
    int noverrides;
} cli;

static bool set_opt(cli *c, const char *name, const char *value)
{
    char err[512];
    if (!fl_config_set(&c->cfg, name, value, err, sizeof err)) {
        fprintf(stderr, "faultline: %s\n", err);
        return false;
    }
    return true;
}

/* --set NAME=VALUE, over the config file and the options; remembered
 * (after the options) to be re-applied on reload. */
static bool apply_sets(cli *c)
{
    for (int i = 0; i < c->nsets; i++) {
        char *eq = strchr(c->sets[i], '=');
        if (!eq) {
            fprintf(stderr, "faultline: --set wants NAME=VALUE, got '%s'\n", c->sets[i]);
            return false;
        }
        *eq = '\0';
        if (!set_opt(c, c->sets[i], eq + 1))
            return false;
        if (c->noverrides < 64) {
            c->overrides[c->noverrides][0] = c->sets[i];
            c->overrides[c->noverrides][1] = eq + 1;
            c->noverrides++;
        }
    }
    return true;
}

/* After the options: the config file, then the command line's values over
 * it (--bucket, -i, ... in order, then every --set), then the checks that
 * need the whole configuration, and the log set up from it. */
static int finish_args(cli *c, int npending)
{
    char *(*pending)[2] = c->overrides;
    if (c->config_file) {
        char err[1024];
        if (!fl_config_load(&c->cfg, c->config_file, err, sizeof err)) {
            fprintf(stderr, "faultline: %s\n", err);
            return EXIT_INPUT;
        }
    }
    for (int i = 0; i < npending; i++)
        if (!set_opt(c, pending[i][0], pending[i][1]))
            return EXIT_USAGE;
    c->noverrides = npending;
    if (!apply_sets(c))
        return EXIT_USAGE;
    if (c->cfg.bucket_s == 0) {
        fprintf(stderr, "faultline: bucket_s must be at least 1 second\n");
        return EXIT_USAGE;
    }
    if (c->json && c->events_path && strcmp(c->events_path, "-") == 0) {
        fprintf(stderr,
                "faultline: --json and --events - both want stdout: give --events a file\n");
        return EXIT_USAGE;
    }
    if (fl_log_level_from_name(c->cfg.log_level) < 0) {
        fprintf(stderr,
                "faultline: log_level '%s': want emerg, alert, crit, err, warning, "
                "notice, info or debug\n",
                c->cfg.log_level);
        return EXIT_USAGE;
    }
    fl_log_setup(2, FL_LOG_STYLE_AUTO, (fl_log_level)fl_log_level_from_name(c->cfg.log_level));
    fl_config_resolve_paths(&c->cfg);
    return 0;
}

/* Parse options; config file first, then command-line values over it. */
static int parse_args(cli *c, int argc, char **argv)
{
    fl_config_defaults(&c->cfg);
    c->sets = calloc((size_t)argc, sizeof *c->sets);
    if (!c->sets) {
        fprintf(stderr, "faultline: out of memory\n");
        return EXIT_RUNTIME;
    }
    c->nsets = 0; /* counts the entries stored in the fresh c->sets */
    char *(*pending)[2] = c->overrides;
    int npending = 0;
    int opt;
    optind = 2;
    opterr = 0; /* one line of our own instead of getopt's */
    while ((opt = getopt_long(argc, argv, "f:i:Z:h", long_opts, NULL)) != -1) {
        const char *name = NULL;
        switch (opt) {
        case OPT_JSON:
            c->json = true;
            break;
        case OPT_QUIET:
            c->quiet = true;
            break;
        case OPT_FOLLOW:
            c->follow = true;
            break;
        case OPT_CONFIG:
            c->config_file = optarg;
            break;
        case OPT_BUCKET:
            name = "bucket_s";
            break;
        case OPT_PROVIDERS:
            name = "rules_file";
            break;
        case OPT_RANGES:
            name = "ranges_file";
            break;
        case 'f':
            name = "bpf";
            break;
        case 'i':
            name = "interface";
            break;
        case 'Z':
            name = "user";
            break;
        case OPT_REDIS:
            name = "redis_url";
            break;
        case OPT_SENSOR:
            name = "sensor";
            break;
        case OPT_SPEED: {
            char *end;
            c->speed = strtod(optarg, &end);
            if (*end || c->speed <= 0) {
                fprintf(stderr, "faultline: --speed: '%s' is not a positive number\n", optarg);
                return EXIT_USAGE;
            }
            break;
        }
        case OPT_REPORT:
            c->report_html = optarg;
            break;
        case OPT_METRICS:
            c->metrics_addr = optarg;
            break;
        case OPT_EVENTS:
            c->events_path = optarg;
            break;
        case OPT_METRICS_LINGER: {
            char *end;
            c->metrics_linger = strtod(optarg, &end);
            if (*end || !(c->metrics_linger >= 0) || c->metrics_linger > 86400) {
                fprintf(stderr, "faultline: --metrics-linger: '%s' is not 0..86400 seconds\n",
                        optarg);
                return EXIT_USAGE;
            }
            break;
        }
        case OPT_SET:
            /* --set is declared required_argument, so getopt never leaves
             * optarg NULL here; checked anyway so apply_sets can rely on it */
            if (!optarg)
                return EXIT_USAGE;
            c->sets[c->nsets++] = optarg;
            break;
        case OPT_HELP:
        case 'h':
            if (!fl_cli_help(c->cmd, stdout))
                usage(stdout);
            exit(0);
        case OPT_VERSION:
            fl_cli_version(stdout);
            exit(0);
        default:
            fprintf(stderr,
                    "faultline: unknown option or missing value: '%s' (see 'faultline --help')\n",
                    argv[optind - 1 < argc ? optind - 1 : argc - 1]);
            return EXIT_USAGE;
        }
        if (name && npending < 64) {
            pending[npending][0] = (char *)name;
            pending[npending][1] = optarg;
            npending++;
        }
    }
    return finish_args(c, npending);
}

static uint64_t wall_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static uint64_t mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* ---- signals ---- */

static fl_source *volatile live_source;
static volatile sig_atomic_t stop_requested;

static volatile sig_atomic_t reload_requested;

static void on_stop_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
    if (live_source)
        fl_source_interrupt(live_source);
}

static void catch_stop_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

/* ---- outputs shared by replay and capture ---- */

/* The engine and the outputs wired to it. */
typedef struct outputs {
    cli *c;
    fl_engine *e;
    fl_outputs set;
    fl_report_source src;
    fl_live *live;            /* capture: health and watchdog; NULL replay */
    fl_client_hasher *hasher; /* [privacy] client_key_file; NULL off */
    fl_drill *drill;          /* --report / --json: failing connections per alert */
} outputs;

/* The run view, with what the CLI knows of the sensor's health. */
static void make_view(outputs *o, fl_run_view *v, char *redis_err, size_t errlen)
{
    fl_redis_stats rs;
    fl_engine_view(o->e, &o->src, v);
    if (fl_outputs_redis_stats(&o->set, &rs, redis_err, errlen)) {
        v->health.redis_configured = true;
        v->health.redis_connected = rs.connected;
        v->health.redis_held = rs.batches_held;
        v->health.redis_dropped = rs.batches_dropped;
    }
    v->health.blind = o->live && fl_live_blind(o->live);
    v->drill = o->drill;
}

static void on_bucket(void *ctx, const fl_bucket_entry *entries, size_t n)
{
    outputs *o = ctx;
    fl_run_view v;
    make_view(o, &v, NULL, 0);
    fl_outputs_bucket_closed(&o->set, &v, entries, n);
}

static void on_alert(void *ctx, const fl_alert *a, bool resolved)
{
    outputs *o = ctx;
    fl_run_view v;
    make_view(o, &v, NULL, 0);
    fl_outputs_alert(&o->set, &v, a, resolved);
}

static void on_failure(void *ctx, const fl_failure_info *fi)
{
    outputs *o = ctx;
    fl_run_view v;
    fl_drill_add(o->drill, fi);
    make_view(o, &v, NULL, 0);
    fl_outputs_failure(&o->set, &v, fi);
}

/* Redis first (it gets the buckets as they close), then the alert log,
 * then what is written at the end: the summary, the HTML report. */
static bool outputs_open(outputs *o, cli *c, fl_engine *e)
{
    memset(o, 0, sizeof *o);
    o->c = c;
    o->e = e;
    fl_engine_set_bucket_sink(e, on_bucket, o);
    fl_engine_set_alert_sink(e, on_alert, o);
    if (c->cfg.client_key_file[0]) {
        char herr[512];
        o->hasher = fl_client_hasher_from_file(c->cfg.client_key_file, herr, sizeof herr);
        if (!o->hasher) {
            fprintf(stderr, "faultline: [privacy] client_key_file: %s\n", herr);
            return false;
        }
    }
    fl_output_args args = { .cfg = &c->cfg,
                            .quiet = c->quiet,
                            .client_hasher = o->hasher,
                            .metrics_addr = c->metrics_addr,
                            .events_path = c->events_path,
                            .live = strcmp(c->cmd, "capture") == 0 };
    char err[512];
    bool ok = true;
    if (c->cfg.redis_url[0])
        ok = fl_outputs_add(&o->set, &fl_output_redis, &args, err, sizeof err);
    if (ok && c->metrics_addr)
        ok = fl_outputs_add(&o->set, &fl_output_metrics, &args, err, sizeof err);
    if (ok && c->events_path) {
        ok = fl_outputs_add(&o->set, &fl_output_events, &args, err, sizeof err);
        fl_engine_set_failure_sink(e, on_failure, o);
    }
    /* the report and the document name the clients and servers behind each
     * alert: the newest FL_DRILL_KEEP failures are kept for them */
    if (ok && (c->report_html || c->json)) {
        o->drill = fl_drill_new(FL_DRILL_KEEP, o->hasher);
        if (o->drill)
            fl_engine_set_failure_sink(e, on_failure, o);
    }
    if (ok && !c->quiet) {
        args.out = stderr;
        ok = fl_outputs_add(&o->set, &fl_output_log, &args, err, sizeof err);
    }
    args.out = stdout;
    /* --events - owns stdout: no table then (--json with it is refused). */
    bool events_stdout = c->events_path && strcmp(c->events_path, "-") == 0;
    if (ok && !(events_stdout && !c->json))
        ok = fl_outputs_add(&o->set, c->json ? &fl_output_json : &fl_output_table, &args, err,
                            sizeof err);
    args.path = c->report_html;
    if (ok && c->report_html)
        ok = fl_outputs_add(&o->set, &fl_output_html, &args, err, sizeof err);
    if (!ok) {
        fprintf(stderr, "faultline: %s\n", err);
        fl_outputs_close(&o->set);
        fl_drill_free(o->drill);
        o->drill = NULL;
        fl_client_hasher_free(o->hasher);
        o->hasher = NULL;
    }
    return ok;
}

/* The engine and its outputs on an open source; on failure the source is
 * closed and the exit status returned. */
static int pipeline_open(cli *c, fl_source *src, outputs *out)
{
    char err[1024];
    fl_engine *e = fl_engine_new(&c->cfg, err, sizeof err);
    if (!e) {
        fprintf(stderr, "faultline: %s\n", err);
        fl_source_close(src);
        return EXIT_INPUT;
    }
    if (!outputs_open(out, c, e)) {
        fl_engine_free(e);
        fl_source_close(src);
        return EXIT_USAGE;
    }
    return 0;
}

static void heartbeat(outputs *o, uint64_t drops)
{
    fl_run_view v;
    make_view(o, &v, NULL, 0);
    fl_outputs_heartbeat(&o->set, &v, drops);
}

static void say_output(void *ctx, const char *name, fl_output_result r, const char *msg)
{
    (void)ctx;
    (void)name;
    (void)r;
    if (msg[0])
        fprintf(stderr, "faultline: %s\n", msg);
}

/* End of the run: every output delivers, prints or writes; then closes.
 * EXIT_RUNTIME if one could not. */
static int outputs_finish(outputs *o)
{
    fl_run_view v;
    make_view(o, &v, NULL, 0);
    fl_output_result r = fl_outputs_finish(&o->set, &v, say_output, NULL);
    /* --metrics-linger: the final values stay up for a last scrape; a
     * signal ends the wait at once. */
    if (o->c->metrics_addr && o->c->metrics_linger > 0 && !stop_requested) {
        fflush(stdout);
        catch_stop_signals();
        uint64_t until = mono_us() + (uint64_t)(o->c->metrics_linger * 1e6);
        while (!stop_requested && mono_us() < until) {
            struct timespec d = { 0, 50 * 1000 * 1000 };
            nanosleep(&d, NULL);
        }
    }
    fl_outputs_close(&o->set);
    fl_drill_free(o->drill);
    o->drill = NULL;
    fl_client_hasher_free(o->hasher);
    return r == FL_OUT_FAIL ? EXIT_RUNTIME : 0;
}

/* ---- progress on a terminal ---- */

typedef struct progress {
    bool on;
    uint64_t total_bytes; /* capture file sizes (0: unknown, e.g. gzip) */
    uint64_t read_bytes;  /* estimate: frame bytes + record headers */
    uint64_t packets;
    uint64_t started, next;
} progress;

static void progress_start(progress *p, cli *c, const char *const *files, size_t n)
{
    memset(p, 0, sizeof *p);
    p->on = !c->quiet && isatty(STDERR_FILENO);
    for (size_t i = 0; p->on && i < n; i++) {
        struct stat st;
        size_t len = strlen(files[i]);
        if (len > 3 && !strcmp(files[i] + len - 3, ".gz"))
            p->total_bytes = 0, i = n; /* compressed: size says nothing */
        else if (stat(files[i], &st) == 0)
            p->total_bytes += (uint64_t)st.st_size;
    }
    p->started = mono_us();
    p->next = p->started + 200000;
}

static void progress_frame(progress *p, const fl_frame *fr)
{
    if (!p->on)
        return;
    p->packets++;
    p->read_bytes += fr->caplen + 16;
    if ((p->packets & 1023) || mono_us() < p->next)
        return;
    uint64_t now = mono_us();
    p->next = now + 200000;
    double secs = (double)(now - p->started) / 1e6;
    double rate = secs > 0 ? (double)p->packets / secs : 0;
    if (p->total_bytes) {
        double frac = (double)p->read_bytes / (double)p->total_bytes;
        if (frac > 1)
            frac = 1;
        int bar = (int)(frac * 30);
        fprintf(stderr, "\r[%.*s%.*s] %3.0f%%  %llu packets  %.1f Mpkt/s ", bar,
                "##############################", 30 - bar, "..............................",
                frac * 100, (unsigned long long)p->packets, rate / 1e6);
    } else {
        fprintf(stderr, "\r%llu packets  %.1f Mpkt/s ", (unsigned long long)p->packets, rate / 1e6);
    }
}

static void progress_end(progress *p)
{
    if (p->on && p->packets >= 1024)
        fprintf(stderr, "\r%*s\r", 72, "");
}

static void capture_health_warning(cli *c, fl_engine *e)
{
    fl_engine_stats st;
    fl_engine_get_stats(e, &st);
    uint64_t flows = st.flows_tcp + st.flows_udp + st.flows_other;
    if (!c->quiet && flows >= 20 && st.one_way_flows * 2 > flows)
        fprintf(stderr,
                "faultline: warning: %llu of %llu flows (%.0f%%) were seen in one direction "
                "only: the span port looks misconfigured (timeouts are unreliable)\n",
                (unsigned long long)st.one_way_flows, (unsigned long long)flows,
                100.0 * (double)st.one_way_flows / (double)flows);
}

static int cmd_replay(cli *c, int argc, char **argv)
{
    if (optind >= argc) {
        fprintf(stderr, "faultline replay: no capture file given\n");
        usage(stderr);
        return EXIT_USAGE;
    }
    const char *const *files = (const char *const *)&argv[optind];
    size_t nfiles = (size_t)(argc - optind);
    char err[1024];
    fl_source_options so = { .bpf = c->cfg.bpf, .snaplen = (int)c->cfg.snaplen };
    fl_source *src = fl_source_open_files(files, nfiles, &so, err, sizeof err);
    if (!src) {
        fprintf(stderr, "faultline: %s\n", err);
        return EXIT_INPUT;
    }
    outputs out;
    int rc0 = pipeline_open(c, src, &out);
    if (rc0)
        return rc0;
    out.src = (fl_report_source){ .files = files, .nfiles = nfiles };
    fl_engine *e = out.e;
    fl_frame fr;
    fl_source_status s;
    uint64_t first_ts = 0, start_wall = mono_us(), next_beat = 0;
    bool paced = c->speed > 0;
    progress prog;
    progress_start(&prog, c, files, nfiles);
    FL_STAGE_DECL(stage);
    FL_STAGE_PUSH(stage, FL_STAGE_READ);
    while ((s = fl_source_next(src, &fr)) == FL_SRC_FRAME) {
        FL_STAGE_SET(FL_STAGE_OTHER);
        progress_frame(&prog, &fr);
        if (paced) {
            /* --speed X: packet time passes X times faster than the capture's */
            if (!first_ts)
                first_ts = fr.ts_us;
            if (fr.ts_us > first_ts) {
                uint64_t due = start_wall + (uint64_t)((double)(fr.ts_us - first_ts) / c->speed);
                uint64_t now = mono_us();
                if (due > now + 1000) {
                    struct timespec d = { (time_t)((due - now) / 1000000u),
                                          (long)((due - now) % 1000000u) * 1000 };
                    nanosleep(&d, NULL);
                }
            }
            if (mono_us() >= next_beat) {
                heartbeat(&out, 0);
                next_beat = mono_us() + (uint64_t)c->cfg.heartbeat_s * 1000000u;
            }
        }
        fl_engine_frame(e, &fr);
        FL_STAGE_SET(FL_STAGE_READ);
    }
    FL_STAGE_POP(stage);
#ifdef FL_STAGE_TIMES
    {
        fl_engine_stats es;
        fl_engine_get_stats(e, &es);
        fl_stage_report(stderr, es.packets);
    }
#endif
    progress_end(&prog);
    int rc = 0;
    if (s == FL_SRC_ERROR) {
        fprintf(stderr, "faultline: %s\n", fl_source_last_error(src));
        rc = EXIT_RUNTIME;
    }
    fl_engine_finish(e);
    heartbeat(&out, 0);
    int out_rc = outputs_finish(&out);
    if (!rc)
        rc = out_rc;
    for (size_t i = 0; i < fl_source_problem_count(src); i++) {
        fprintf(stderr, "faultline: %s\n", fl_source_problem(src, i));
        if (!rc)
            rc = EXIT_PARTIAL;
    }
    capture_health_warning(c, e);
    fl_engine_free(e);
    fl_source_close(src);
    return rc;
}

/* ---- live capture ---- */

static void on_hup_signal(int sig)
{
    (void)sig;
    reload_requested = 1;
}

/* SIGHUP: the config file again (command-line values still win), then the
 * provider ranges and operator rules. Settings that size the engine (flow
 * cap, bucket, timeouts) need a restart; detector thresholds apply at once. */
static void reload(cli *c, fl_engine *e, fl_config *live)
{
    fl_config n;
    char err[1024];
    fl_config_defaults(&n);
    if (c->config_file && !fl_config_load(&n, c->config_file, err, sizeof err)) {
        FL_ERR("reload: %s (keeping the running config)", err);
        return;
    }
    for (int i = 0; i < c->noverrides; i++)
        if (!fl_config_set(&n, c->overrides[i][0], c->overrides[i][1], err, sizeof err)) {
            FL_ERR("reload: %s", err);
            return;
        }
    fl_config_resolve_paths(&n);
    if (!fl_engine_reload(e, &n, err, sizeof err)) {
        FL_ERR("reload: %s (keeping the old provider tables)", err);
        return;
    }
    if (n.bucket_s != live->bucket_s || n.flow_cap != live->flow_cap ||
        n.syn_timeout_s != live->syn_timeout_s || n.dns_timeout_s != live->dns_timeout_s ||
        n.tls_timeout_s != live->tls_timeout_s || strcmp(n.redis_url, live->redis_url) != 0)
        FL_WARN("reload: bucket, flow cap, timeouts and Redis URL changes take effect at "
                "the next restart");
    /* detector thresholds are read from the live config at every bucket */
    fl_config_copy_section(live, &n, "detector");
    snprintf(live->ranges_file, sizeof live->ranges_file, "%s", n.ranges_file);
    snprintf(live->rules_file, sizeof live->rules_file, "%s", n.rules_file);
    FL_NOTICE("reloaded %s and the provider rules",
              c->config_file ? c->config_file : "(no config file)");
}

static bool drop_privileges(const char *user)
{
    /* getpwnam_r: the reentrant form (POSIX); 16 KiB holds any sane entry */
    struct passwd pwd, *pw = NULL;
    static char pwbuf[16384];
    if (getpwnam_r(user, &pwd, pwbuf, sizeof pwbuf, &pw) != 0 || !pw) {
        fprintf(stderr, "faultline: -Z %s: no such user\n", user);
        return false;
    }
    if (setgroups(0, NULL) != 0 || setgid(pw->pw_gid) != 0 || setuid(pw->pw_uid) != 0) {
        fprintf(stderr, "faultline: -Z %s: cannot drop privileges: %s\n", user, strerror(errno));
        return false;
    }
    return true;
}

/* Between packets: health sample and watchdog (ops.c), heartbeat. */
static void capture_tick(cli *c, outputs *out, fl_live *live, fl_source *src, fl_source_stats *ss,
                         uint64_t *next_beat)
{
    uint64_t now = mono_us();
    if (now >= live->next_sample_us || now >= *next_beat ||
        (live->watchdog_us && now >= live->next_watchdog_us)) {
        fl_run_view v;
        char rerr[256] = "";
        fl_source_get_stats(src, ss);
        make_view(out, &v, rerr, sizeof rerr);
        bool was_blind = fl_live_blind(live);
        fl_live_tick(live, now, &v, ss->kernel_drops, rerr);
        /* the health outputs (metrics, Redis heartbeat) hear of a blind
         * sensor, or of its return, at once, not at the next heartbeat */
        if (fl_live_blind(live) != was_blind)
            *next_beat = now;
    }
    if (now >= *next_beat) {
        heartbeat(out, ss->kernel_drops);
        *next_beat = now + (uint64_t)c->cfg.heartbeat_s * 1000000u;
    }
}

/* Signals, the start line, READY=1 to the service manager. */
static void capture_started(cli *c)
{
    catch_stop_signals();
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_hup_signal;
    sigaction(SIGHUP, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    FL_NOTICE("capturing on %s%s%s as sensor %s", c->cfg.interface,
              c->cfg.bpf[0] ? " with filter " : "", c->cfg.bpf,
              c->cfg.sensor[0] ? c->cfg.sensor : "(host name)");
    fl_sd_notify("READY=1\nSTATUS=capturing");
}

static int cmd_capture(cli *c)
{
    if (!c->cfg.interface[0]) {
        fprintf(stderr, "faultline capture: no interface (-i IFACE)\n");
        return EXIT_USAGE;
    }
    char err[1024];
    fl_source_options so = { .bpf = c->cfg.bpf,
                             .snaplen = (int)c->cfg.snaplen,
                             .buffer_mb = (int)c->cfg.buffer_mb,
                             .idle_ms = 250 };
    fl_source *src = fl_source_open_live(c->cfg.interface, &so, err, sizeof err);
    if (!src) {
        fprintf(stderr, "faultline: %s\n", err);
        return EXIT_INPUT;
    }
    if (c->cfg.user[0] && !drop_privileges(c->cfg.user)) {
        fl_source_close(src);
        return EXIT_RUNTIME;
    }
    outputs out;
    int rc0 = pipeline_open(c, src, &out);
    if (rc0)
        return rc0;
    out.src.interface = c->cfg.interface;
    fl_engine *e = out.e;
    fl_live live;
    if (!fl_live_init(&live, &c->cfg, c->cfg.interface, mono_us())) {
        fprintf(stderr, "faultline: out of memory\n");
        return EXIT_RUNTIME;
    }
    out.live = &live;
    live_source = src;
    capture_started(c);

    uint64_t next_beat = 0;
    fl_source_stats ss;
    fl_frame fr;
    fl_source_status s;
    int rc = 0;
    while (!stop_requested) {
        if (reload_requested) {
            reload_requested = 0;
            fl_sd_notify("RELOADING=1");
            reload(c, e, &c->cfg);
            fl_sd_notify("READY=1\nSTATUS=capturing");
        }
        s = fl_source_next(src, &fr);
        if (s == FL_SRC_FRAME) {
            fl_live_packet(&live, mono_us());
            fl_engine_frame(e, &fr);
        } else if (s == FL_SRC_IDLE)
            fl_engine_tick(e, fr.ts_us ? fr.ts_us : wall_us()); /* a silent link still times out */
        else if (s == FL_SRC_END)
            break;
        else {
            fprintf(stderr, "faultline: %s\n", fl_source_last_error(src));
            rc = EXIT_RUNTIME;
            break;
        }
        capture_tick(c, &out, &live, src, &ss, &next_beat);
    }
    fl_sd_notify("STOPPING=1\nSTATUS=flushing");
    FL_NOTICE("stopping: closing the open buckets%s",
              c->cfg.redis_url[0] ? " and delivering them to Redis" : "");
    fl_source_get_stats(src, &ss);
    live_source = NULL;
    fl_engine_finish(e);
    out.src.kernel_drops = ss.kernel_drops;
    heartbeat(&out, ss.kernel_drops);
    int out_rc = outputs_finish(&out);
    if (!rc)
        rc = out_rc;
    for (size_t i = 0; i < fl_source_problem_count(src); i++)
        if (!c->quiet)
            fprintf(stderr, "faultline: %s\n", fl_source_problem(src, i));
    capture_health_warning(c, e);
    fl_live_free(&live);
    fl_engine_free(e);
    fl_source_close(src);
    return rc;
}

static int cmd_config(cli *c)
{
    fl_config_print(&c->cfg, stdout);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return EXIT_USAGE;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(argv[1], "--version")) {
        fl_cli_version(stdout);
        return 0;
    }
    cli c = { .cmd = argv[1] };
    int rc = parse_args(&c, argc, argv);
    if (rc) {
        free(c.sets);
        return rc;
    }
    if (!strcmp(argv[1], "replay"))
        rc = cmd_replay(&c, argc, argv);
    else if (!strcmp(argv[1], "capture"))
        rc = cmd_capture(&c);
    else if (!strcmp(argv[1], "config"))
        rc = cmd_config(&c);
    else if (!strcmp(argv[1], "alerts"))
        rc = fl_cmd_alerts(&c.cfg, c.follow, c.json);
    else if (!strcmp(argv[1], "status"))
        rc = fl_cmd_status(&c.cfg, c.json);
    else {
        fprintf(stderr, "faultline: unknown command '%s'\n", argv[1]);
        usage(stderr);
        rc = EXIT_USAGE;
    }
    free(c.sets);
    return rc;
}
