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
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fl_config.h"
#include "fl_engine.h"
#include "fl_report.h"
#include "fl_source.h"

enum {
    EXIT_USAGE = 1,
    EXIT_INPUT = 2,
    EXIT_PARTIAL = 3,
    EXIT_RUNTIME = 4,
};

enum {
    OPT_JSON = 256, OPT_BUCKET, OPT_PROVIDERS, OPT_RANGES, OPT_CONFIG, OPT_SET,
    OPT_REDIS, OPT_SENSOR, OPT_SPEED, OPT_REPORT, OPT_HELP, OPT_VERSION, OPT_QUIET,
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
    { "help", no_argument, NULL, OPT_HELP },
    { "version", no_argument, NULL, OPT_VERSION },
    { NULL, 0, NULL, 0 },
};

static void usage(FILE *out)
{
    fprintf(out,
        "usage: faultline replay [options] FILE...\n"
        "       faultline capture -i IFACE [options]\n"
        "       faultline config [options]\n"
        "\n"
        "Passive outage detection: failures per provider (Cloudflare, AWS, Google, ...)\n"
        "from the traffic you already have. Never sends a probe.\n"
        "\n"
        "options:\n"
        "  --json               print the JSON summary document on stdout\n"
        "  --bucket S           time bucket width in seconds (default 10)\n"
        "  -f, --filter BPF     capture filter\n"
        "  --providers FILE     operator rules (nDPI protocols-file syntax)\n"
        "  --ranges FILE        provider prefix table (cidr<TAB>provider<TAB>source)\n"
        "  --config FILE        configuration file (INI; see 'faultline config')\n"
        "  --set NAME=VALUE     set one configuration value\n"
        "  -i, --interface IF   live capture interface (capture)\n"
        "  --redis URL          redis://[:pass@]host[:port][/db] or unix:///path[?db=N]\n"
        "  --sensor NAME        sensor name for Redis keys (default: host name)\n"
        "  -Z, --user USER      drop privileges after opening the interface\n"
        "  --quiet              no warnings on stderr\n"
        "  --help, --version\n"
        "\n"
        "exit status: 0 ok, 1 usage, 2 unusable input, 3 partial input (truncated\n"
        "capture: results printed), 4 runtime failure\n");
}

typedef struct cli {
    const char *cmd;
    fl_config cfg;
    bool json;
    bool quiet;
    double speed;
    const char *report_html;
    const char *config_file;
    char **sets;
    int nsets;
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

/* Parse options; config file first, then command-line values over it. */
static int parse_args(cli *c, int argc, char **argv)
{
    fl_config_defaults(&c->cfg);
    c->sets = calloc((size_t)argc, sizeof *c->sets);
    char *pending[64][2];
    int npending = 0;
    int opt;
    optind = 2;
    while ((opt = getopt_long(argc, argv, "f:i:Z:h", long_opts, NULL)) != -1) {
        const char *name = NULL;
        switch (opt) {
        case OPT_JSON: c->json = true; break;
        case OPT_QUIET: c->quiet = true; break;
        case OPT_CONFIG: c->config_file = optarg; break;
        case OPT_BUCKET: name = "bucket_s"; break;
        case OPT_PROVIDERS: name = "rules_file"; break;
        case OPT_RANGES: name = "ranges_file"; break;
        case 'f': name = "bpf"; break;
        case 'i': name = "interface"; break;
        case 'Z': name = "user"; break;
        case OPT_REDIS: name = "redis_url"; break;
        case OPT_SENSOR: name = "sensor"; break;
        case OPT_SPEED: {
            char *end;
            c->speed = strtod(optarg, &end);
            if (*end || c->speed <= 0) {
                fprintf(stderr, "faultline: --speed: '%s' is not a positive number\n", optarg);
                return EXIT_USAGE;
            }
            break;
        }
        case OPT_REPORT: c->report_html = optarg; break;
        case OPT_SET:
            c->sets[c->nsets++] = optarg;
            break;
        case OPT_HELP: case 'h':
            usage(stdout);
            exit(0);
        case OPT_VERSION:
            printf("faultline %s\n", FL_VERSION);
            exit(0);
        default:
            usage(stderr);
            return EXIT_USAGE;
        }
        if (name && npending < 64) {
            pending[npending][0] = (char *)name;
            pending[npending][1] = optarg;
            npending++;
        }
    }
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
    for (int i = 0; i < c->nsets; i++) {
        char *eq = strchr(c->sets[i], '=');
        if (!eq) {
            fprintf(stderr, "faultline: --set wants NAME=VALUE, got '%s'\n", c->sets[i]);
            return EXIT_USAGE;
        }
        *eq = '\0';
        if (!set_opt(c, c->sets[i], eq + 1))
            return EXIT_USAGE;
    }
    if (c->cfg.bucket_s == 0) {
        fprintf(stderr, "faultline: bucket_s must be at least 1 second\n");
        return EXIT_USAGE;
    }
    fl_config_resolve_paths(&c->cfg);
    return 0;
}

static void print_results(cli *c, fl_engine *e, const fl_report_source *rs)
{
    if (c->json) {
        char *doc = fl_report_json(e, rs);
        if (doc) {
            fputs(doc, stdout);
            fputc('\n', stdout);
            free(doc);
        }
    } else {
        fl_report_table(e, rs, stdout);
    }
    fflush(stdout);
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
    fl_engine *e = fl_engine_new(&c->cfg, err, sizeof err);
    if (!e) {
        fprintf(stderr, "faultline: %s\n", err);
        fl_source_close(src);
        return EXIT_INPUT;
    }
    fl_frame fr;
    fl_source_status s;
    while ((s = fl_source_next(src, &fr)) == FL_SRC_FRAME)
        fl_engine_frame(e, &fr);
    int rc = 0;
    if (s == FL_SRC_ERROR) {
        fprintf(stderr, "faultline: %s\n", fl_source_last_error(src));
        rc = EXIT_RUNTIME;
    }
    fl_engine_finish(e);
    fl_report_source rs = { .files = files, .nfiles = nfiles };
    print_results(c, e, &rs);
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
        printf("faultline %s\n", FL_VERSION);
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
    else if (!strcmp(argv[1], "config"))
        rc = cmd_config(&c);
    else {
        fprintf(stderr, "faultline: unknown command '%s'\n", argv[1]);
        usage(stderr);
        rc = EXIT_USAGE;
    }
    free(c.sets);
    return rc;
}
