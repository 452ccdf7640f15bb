/* ops.c - see ops.h. */
#include <string.h>

#include "fl_classify.h"
#include "fl_log.h"
#include "fl_sdnotify.h"
#include "fl_source.h"
#include "ops.h"

typedef struct help {
    const char *cmd, *synopsis, *what, *options;
} help;

#define COMMON                                                                                     \
    "  --config FILE        configuration file (INI; every setting: 'faultline config')\n"         \
    "  --set NAME=VALUE     one setting, over the file (e.g. --set blind_s=120)\n"                 \
    "  --help               this text\n"

static const help helps[] = {
    { "replay", "faultline replay [options] FILE...",
      "Analyse capture files (pcap, pcapng, gzip; several merged in time order):\n"
      "failures per provider and time bucket, alerts, a summary or JSON document.\n",
      "  --json               print the JSON document on stdout\n"
      "  --report FILE.html   write the self-contained HTML incident report\n"
      "  --events FILE        one JSON line per counted failure and alert event ('-': stdout)\n"
      "  --redis URL          write buckets, alerts, heartbeats to Redis\n"
      "  --sensor NAME        sensor name in Redis keys and alert events\n"
      "  --speed X            pace the replay at X times the capture's speed\n"
      "  --metrics ADDR:PORT  serve Prometheus metrics (127.0.0.1:9108; port 0: any)\n"
      "  --metrics-linger S   keep serving S seconds after the end (for a last scrape)\n"
      "  --bucket S           bucket width, seconds (default 10)\n"
      "  -f, --filter BPF     capture filter\n"
      "  --providers FILE     operator rules;  --ranges FILE  provider prefixes\n"
      "  --quiet              no alert lines or warnings on stderr\n" COMMON },
    { "capture", "faultline capture -i IFACE [options]",
      "Run as a live sensor on a span/mirror port. SIGHUP reloads the config and\n"
      "provider tables; SIGTERM flushes (bounded by [redis] flush_s) and exits 0.\n"
      "Under systemd (Type=notify) it reports READY, WATCHDOG and STOPPING.\n",
      "  -i, --interface IF   the interface to capture on\n"
      "  --redis URL          redis://[:pass@]host[:port][/db] or unix:///path[?db=N]\n"
      "  --sensor NAME        sensor name (default: host name)\n"
      "  --metrics ADDR:PORT  serve Prometheus metrics at /metrics\n"
      "  --events FILE        one JSON line per counted failure and alert event ('-': stdout)\n"
      "  --json               print the JSON document at exit\n"
      "  -Z, --user USER      drop privileges after opening the interface\n"
      "  -f, --filter BPF     capture filter\n"
      "  --quiet              no alert lines on stderr\n" COMMON },
    { "alerts", "faultline alerts [--follow] [--json] [--redis URL]",
      "Print the alert events sensors wrote to Redis (<prefix>:alerts), one line\n"
      "or one JSON document each; --follow waits for new ones.\n",
      "  --follow             keep waiting for new events\n"
      "  --json               one JSON document per event\n"
      "  --redis URL          where to read\n" COMMON },
    { "status", "faultline status [--json] [--redis URL]",
      "Per-provider failure ratios over the last window, each sensor's heartbeat\n"
      "age (stale past [redis] stale_s) and each sensor's own alert state.\n",
      "  --json               one JSON document\n"
      "  --redis URL          where to read\n" COMMON },
    { "config", "faultline config [--config FILE] [--set NAME=VALUE]",
      "Print the effective configuration as an INI file faultline reads back.\n", COMMON },
};

void fl_cli_usage(FILE *out)
{
    fprintf(out, "usage:\n");
    for (size_t i = 0; i < sizeof helps / sizeof helps[0]; i++)
        fprintf(out, "  %s\n", helps[i].synopsis);
    fprintf(out, "  faultline --version\n\n"
                 "Passive outage detection: failures per provider (Cloudflare, AWS, Google, ...)\n"
                 "from the traffic you already have. Never sends a probe.\n"
                 "'faultline COMMAND --help' describes one command.\n\n"
                 "exit status: 0 ok, 1 usage, 2 unusable input, 3 partial input (truncated\n"
                 "capture: results printed), 4 runtime failure\n");
}

bool fl_cli_help(const char *cmd, FILE *out)
{
    for (size_t i = 0; i < sizeof helps / sizeof helps[0]; i++)
        if (cmd && strcmp(cmd, helps[i].cmd) == 0) {
            fprintf(out, "usage: %s\n\n%s\noptions:\n%s", helps[i].synopsis, helps[i].what,
                    helps[i].options);
            return true;
        }
    return false;
}

void fl_cli_version(FILE *out)
{
    fprintf(out, "faultline %s\nnDPI %s\n%s\nhiredis %s\n", FL_VERSION, fl_classify_ndpi_version(),
            fl_source_pcap_version(), FL_HIREDIS_VERSION);
}

bool fl_live_init(fl_live *l, const fl_config *cfg, const char *ifname, uint64_t now_us)
{
    fl_health_options o = FL_HEALTH_DEFAULTS;
    memset(l, 0, sizeof *l);
    o.blind_after_s = cfg->blind_s;
    l->health = fl_health_new(&o);
    l->ifname = ifname;
    l->start_us = l->last_packet_us = now_us;
    l->watchdog_us = fl_sd_watchdog_usec();
    l->next_watchdog_us = now_us;
    l->next_sample_us = now_us + 1000000u;
    return l->health != NULL;
}

void fl_live_free(fl_live *l)
{
    fl_health_free(l->health);
    l->health = NULL;
}

bool fl_live_blind(const fl_live *l)
{
    return fl_health_is_blind(l->health);
}

void fl_live_tick(fl_live *l, uint64_t now_us, const fl_run_view *v, uint64_t kernel_drops,
                  const char *redis_error)
{
    /* sd_notify(3): send WATCHDOG=1 at half the interval. */
    if (l->watchdog_us && now_us >= l->next_watchdog_us) {
        fl_sd_notify("WATCHDOG=1");
        l->next_watchdog_us = now_us + l->watchdog_us / 2;
    }
    if (now_us < l->next_sample_us)
        return;
    l->next_sample_us = now_us + 1000000u;
    fl_health_sample s = {
        .now = (double)now_us / 1e6,
        .last_packet = (double)l->last_packet_us / 1e6,
        .packets = v->stats.packets,
        .kernel_drops = kernel_drops,
        .flows = v->stats.flows_tcp + v->stats.flows_udp + v->stats.flows_other,
        .one_way_flows = v->stats.one_way_flows,
        .link_up = fl_health_link_state(l->ifname),
        .redis_configured = v->health.redis_configured,
        .redis_connected = v->health.redis_connected,
        .redis_held = v->health.redis_held,
        .redis_dropped = v->health.redis_dropped,
        .redis_error = redis_error,
    };
    fl_health_event ev[FL_HEALTH_EVENTS_MAX];
    size_t n = fl_health_sample_in(l->health, &s, ev);
    for (size_t i = 0; i < n; i++)
        FL_LOG(ev[i].level, "%s", ev[i].text);
}
