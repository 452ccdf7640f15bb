/* config.c - the settings table, the INI loader (inih) and the printer. */
#include <errno.h>
#include <ini.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fl_log.h"
#include "fl_config.h"

typedef enum { T_U32, T_DBL, T_STR } setting_type;

typedef struct setting {
    const char *section;
    const char *name;
    setting_type type;
    size_t offset;
    size_t size; /* strings: buffer size */
    const char *def;
    const char *help;
} setting;

#define U32(sec, f, d, h)                                                                          \
    {                                                                                              \
        sec, #f, T_U32, offsetof(fl_config, f), 0, d, h                                            \
    }
#define DBL(sec, f, d, h)                                                                          \
    {                                                                                              \
        sec, #f, T_DBL, offsetof(fl_config, f), 0, d, h                                            \
    }
#define STR(sec, f, d, h)                                                                          \
    {                                                                                              \
        sec, #f, T_STR, offsetof(fl_config, f), sizeof(((fl_config *)0)->f), d, h                  \
    }

static const setting settings[] = {
    U32("analysis", bucket_s, "10", "time bucket width, seconds"),
    U32("analysis", grace_buckets, "1", "buckets kept open after their end for late facts"),
    DBL("analysis", syn_timeout_s, "5",
        "SYN with neither SYN-ACK nor RST after this long is a timeout"),
    DBL("analysis", dns_timeout_s, "5", "DNS query without response after this long is a timeout"),
    DBL("analysis", tls_timeout_s, "5", "ClientHello without ServerHello after this long fails"),
    DBL("analysis", quic_timeout_s, "5",
        "QUIC ClientHello without any server packet after this long is unanswered"),
    U32("analysis", quic_reasm_cap, "1024", "QUIC ClientHellos reassembled at once (4.5 KiB each)"),
    U32("analysis", https_sni_cap, "1024",
        "SNIs whose HTTPS response sizes are learned at once (least recently used forgotten)"),
    U32("analysis", quic_fallback_cap, "16384",
        "QUIC handshakes remembered to match TCP fallbacks (same client and SNI within 5 s)"),
    U32("analysis", flow_cap, "1000000",
        "flows tracked at once; the oldest idle are evicted beyond"),
    U32("analysis", classify_cap, "65536", "flows under nDPI classification at once"),
    U32("analysis", classify_packets, "16", "packets given to nDPI before giving up"),
    U32("analysis", dns_pending_cap, "262144", "outstanding DNS queries tracked"),
    DBL("analysis", tcp_opening_idle_s, "130",
        "idle timeout of TCP flows not yet established (outlasts SYN retries: Linux gives up after "
        "127 s)"),
    DBL("analysis", tcp_established_idle_s, "300", "idle timeout of established TCP flows"),
    DBL("analysis", tcp_closed_idle_s, "120",
        "linger of closed TCP flows (2 MSL, RFC 793): stray packets stay in their flow"),
    DBL("analysis", udp_idle_s, "60", "idle timeout of UDP flows"),
    DBL("analysis", other_idle_s, "60", "idle timeout of other IP flows"),
    U32("analysis", learned_names_cap, "65536", "addresses remembered from DNS answers"),
    STR("analysis", ranges_file, "",
        "provider prefix table (default: installed provider_ranges.tsv)"),
    STR("analysis", rules_file, "",
        "operator rules, nDPI protocols-file syntax (default: installed providers.rules)"),
    STR("capture", interface, "", "interface for 'faultline capture'"),
    STR("capture", bpf, "", "BPF filter"),
    U32("capture", snaplen, "65535", "bytes kept per packet"),
    U32("capture", buffer_mb, "256", "kernel capture ring, MiB"),
    STR("capture", user, "", "drop privileges to this user after opening the interface"),
    DBL("capture", blind_s, "60",
        "no packet for this long: sensor blind, open alerts unknown; 0 never"),
    STR("capture", log_level, "info",
        "most verbose log priority written: err, warning, notice, info, debug"),
    STR("redis", redis_url, "",
        "redis://[:pass@]host[:port][/db] or unix:///path[?db=N]; empty: no Redis"),
    STR("redis", redis_prefix, "fl", "key prefix"),
    STR("redis", sensor, "", "sensor name (default: host name)"),
    STR("redis", site, "", "site name carried by alert events (optional)"),
    U32("redis", retention_s, "604800", "EXPIRE on bucketed keys, seconds"),
    U32("redis", backlog_mb, "64", "memory for batches held while Redis is away, MiB"),
    U32("redis", stream_maxlen, "100000", "alert stream MAXLEN ~"),
    U32("redis", heartbeat_s, "10", "heartbeat interval, seconds"),
    DBL("redis", flush_s, "30",
        "at exit, wait at most this long to deliver held batches (capture: 2 s when Redis is "
        "down)"),
    DBL("redis", stale_s, "60", "'status': a sensor whose heartbeat is older than this is stale"),
    DBL("detector", window_s, "60",
        "window of the ratios shown (status, alerts' ratio and peaks), seconds"),
    DBL("detector", evidence_window_s, "300",
        "longest evidence window, seconds (windows of 1 bucket up to this are tested)"),
    DBL("detector", false_alerts_per_month, "1",
        "false-alert budget per provider per 30 days of clean traffic; sets the significance"),
    U32("detector", min_failures, "3", "failures in the deciding window before raising"),
    DBL("detector", min_rate, "6",
        "attempts a minute in the deciding window: below, a nearly idle provider is not paged "
        "about"),
    DBL("detector", failures_per_client, "4",
        "failures a minute per failing client (at least 2) beyond which they count as retries: the "
        "evidence is divided down"),
    U32("detector", failures_per_client_bucket, "2",
        "a client's failures in one bucket counted as evidence, at most (a burst of retries or "
        "of a page's requests is one event; 0: all)"),
    U32("detector", min_clients, "3", "distinct failing clients before raising"),
    DBL("detector", min_client_share, "0.05", "failing clients / active clients before raising"),
    DBL("detector", min_effect, "0.05",
        "failure ratio must exceed the baseline by this much (absolute)"),
    DBL("detector", baseline_factor, "3", "and the baseline times this"),
    DBL("detector", baseline_prior, "0.01", "failure ratio assumed before anything is learned"),
    DBL("detector", baseline_prior_weight, "100", "weight of that prior, in attempts"),
    DBL("detector", baseline_halflife_s, "1800", "half-life of the learned baseline, seconds"),
    DBL("detector", baseline_doubt, "2.33",
        "the sequential test judges against the baseline plus this many standard errors of its "
        "estimate (a young baseline is doubted)"),
    DBL("detector", sequential_ratio, "0.2",
        "failure ratio the sequential (CUSUM) test is tuned to detect fastest (at least the effect "
        "floor)"),
    DBL("detector", https_min_ratio, "0.2",
        "effect floor of the https family: suspect responses come from a size-mode detector "
        "whose coincidences across sites reach about a tenth of a provider's responses on clean "
        "traffic; an incident worth paging serves its error page to at least a fifth"),
    U32("detector", raise_buckets, "1", "consecutive buckets above threshold to raise"),
    DBL("detector", resolve_alpha, "0.001",
        "an open alert still fails while its recent ratio is over the floor at this significance; "
        "a family there is not learned from and counts in the scope census"),
    DBL("detector", resolve_hold_s, "100",
        "back at baseline (under the effect floor) this long before resolving"),
    DBL("detector", flap_hold_s, "900",
        "an alert raised again within this of its resolve is the same alert, reopened"),
    DBL("detector", flap_swing, "0.15",
        "ratio swing that counts as a peak or a trough of a flapping alert"),
    DBL("detector", local_provider_share, "0.6",
        "share of active providers failing at once => local"),
    U32("detector", local_min_providers, "3", "providers failing at once before it can be local"),
    DBL("detector", resolver_fail_ratio, "0.3",
        "a resolver failing this share of its queries, DNS failing at most providers and "
        "connections not => resolver scope"),
    DBL("detector", resolver_ok_ratio, "0.1",
        "a resolver alert's resolvers back under this share of failures are healthy"),
    STR("privacy", client_key_file, "",
        "file holding a secret key (16+ bytes): client addresses are then kept only as keyed "
        "hashes (HMAC-SHA256); empty: plain addresses"),
};
#define NSETTINGS (sizeof settings / sizeof settings[0])

static const setting *find_setting(const char *section, const char *name)
{
    const char *dot = strchr(name, '.');
    char sec[32] = "";
    if (dot && (size_t)(dot - name) < sizeof sec) {
        memcpy(sec, name, (size_t)(dot - name));
        sec[dot - name] = '\0';
        section = sec;
        name = dot + 1;
    }
    for (size_t i = 0; i < NSETTINGS; i++) {
        if (strcmp(settings[i].name, name) != 0)
            continue;
        if (section && *section && strcmp(settings[i].section, section) != 0)
            continue;
        return &settings[i];
    }
    return NULL;
}

static bool apply(fl_config *c, const setting *s, const char *value, char *err, size_t errlen)
{
    char *base = (char *)c + s->offset;
    char *end = NULL;
    errno = 0;
    switch (s->type) {
    case T_U32: {
        unsigned long long v = strtoull(value, &end, 10);
        if (errno || end == value || *end || v > UINT32_MAX || value[0] == '-') {
            snprintf(err, errlen, "%s: '%s' is not a whole number from 0 to %u", s->name, value,
                     UINT32_MAX);
            return false;
        }
        *(uint32_t *)(void *)base = (uint32_t)v;
        return true;
    }
    case T_DBL: {
        double v = strtod(value, &end);
        /* Capped at 1e9 (31 years of seconds): timeouts become microseconds
         * in 64 bits and are added to packet times, so 1e300 must not pass. */
        if (errno || end == value || *end || !isfinite(v) || v < 0 || v > 1e9) {
            snprintf(err, errlen, "%s: '%s' is not a number from 0 to 1e9", s->name, value);
            return false;
        }
        *(double *)(void *)base = v;
        return true;
    }
    case T_STR:
        if (strlen(value) >= s->size) {
            snprintf(err, errlen, "%s: value longer than %zu characters", s->name, s->size - 1);
            return false;
        }
        memcpy(base, value, strlen(value) + 1);
        return true;
    }
    return false;
}

void fl_config_defaults(fl_config *c)
{
    char err[256];
    memset(c, 0, sizeof *c);
    for (size_t i = 0; i < NSETTINGS; i++)
        apply(c, &settings[i], settings[i].def, err, sizeof err);
}

bool fl_config_set(fl_config *c, const char *name, const char *value, char *err, size_t errlen)
{
    const setting *s = find_setting(NULL, name);
    if (!s) {
        snprintf(err, errlen, "unknown setting '%s' (see 'faultline config')", name);
        return false;
    }
    return apply(c, s, value, err, errlen);
}

typedef struct load_ctx {
    fl_config *c;
    char *err;
    size_t errlen;
    bool failed;
    const char *path;
    int line;
} load_ctx;

/* Settings of the fixed-count detector this version replaced (README
 * "The detector"): a config written for it still loads, with a warning,
 * so a sensor that is upgraded keeps running. */
static const char *const retired[][2] = {
    { "detector", "min_volume" },       { "detector", "ratio_floor" },
    { "detector", "baseline_sigmas" },  { "detector", "resolve_buckets" },
    { "detector", "resolve_fraction" }, { "detector", "flap_hold_factor" },
};

static bool is_retired(const char *section, const char *name)
{
    for (size_t i = 0; i < sizeof retired / sizeof retired[0]; i++)
        if (!strcmp(retired[i][0], section) && !strcmp(retired[i][1], name))
            return true;
    return false;
}

static int on_ini(void *user, const char *section, const char *name, const char *value, int lineno)
{
    load_ctx *lc = user;
    lc->line = lineno;
    const setting *s = find_setting(section, name);
    char msg[512];
    if (!s && is_retired(section, name)) {
        FL_WARN("%s:%d: setting '%s.%s' is retired (the detector decides on evidence now: "
                "README \"The detector\"); ignored",
                lc->path, lineno, section, name);
        return 1;
    }
    if (!s) {
        snprintf(lc->err, lc->errlen, "%s:%d: unknown setting '%s%s%s'", lc->path, lineno,
                 *section ? section : "", *section ? "." : "", name);
        lc->failed = true;
        return 0;
    }
    if (!apply(lc->c, s, value, msg, sizeof msg)) {
        snprintf(lc->err, lc->errlen, "%s:%d: %s", lc->path, lineno, msg);
        lc->failed = true;
        return 0;
    }
    return 1;
}

static int on_ini_compat(void *user, const char *section, const char *name, const char *value)
{
    return on_ini(user, section, name, value, 0);
}

/* Debian's inih is built with a 200-byte line buffer: a longer line is cut
 * and its rest read as a line of its own ("syntax error" one line too far,
 * found by fuzzing: a long bpf printed by `faultline config` did not load
 * back). Say so plainly instead. Returns the first such line, 0 if none. */
#define INI_LINE_MAX 199

static int overlong_line(FILE *f)
{
    int line = 1, c;
    size_t len = 0;
    while ((c = getc(f)) != EOF) {
        if (c == '\n') {
            line++;
            len = 0;
        } else {
            /* a CR ending a line (CRLF) is stripped by the reader; one inside
             * a value takes a place in its line buffer like any byte */
            if (c == '\r') {
                int next = getc(f);
                if (next != EOF)
                    ungetc(next, f);
                if (next == '\n' || next == EOF)
                    continue;
            }
            if (++len > INI_LINE_MAX)
                return line;
        }
    }
    rewind(f);
    return 0;
}

bool fl_config_load(fl_config *c, const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, errlen, "%s: cannot open config file: %s", path, strerror(errno));
        return false;
    }
    int longl = overlong_line(f);
    if (longl) {
        snprintf(err, errlen,
                 "%s:%d: line longer than %d characters (the INI reader's limit); "
                 "give long values with --set NAME=VALUE",
                 path, longl, INI_LINE_MAX);
        fclose(f);
        return false;
    }
    load_ctx lc = { c, err, errlen, false, path, 0 };
    int r = ini_parse_file(f, on_ini_compat, &lc);
    fclose(f);
    if (lc.failed) {
        /* inih reports the line number as its return value */
        if (r > 0 && lc.line == 0) {
            char tmp[512];
            snprintf(tmp, sizeof tmp, "%s", err);
            const char *rest = strchr(tmp, ':');
            rest = rest ? strchr(rest + 1, ':') : NULL;
            snprintf(err, errlen, "%s:%d:%s", path, r, rest ? rest + 1 : tmp);
        }
        return false;
    }
    if (r != 0) {
        snprintf(err, errlen, "%s:%d: syntax error (expected 'name = value' or '[section]')", path,
                 r);
        return false;
    }
    return true;
}

void fl_config_copy_section(fl_config *dst, const fl_config *src, const char *section)
{
    for (size_t i = 0; i < NSETTINGS; i++) {
        const setting *s = &settings[i];
        if (strcmp(s->section, section) != 0)
            continue;
        size_t size = s->type == T_U32   ? sizeof(uint32_t)
                      : s->type == T_DBL ? sizeof(double)
                                         : s->size;
        memcpy((char *)dst + s->offset, (const char *)src + s->offset, size);
    }
}

void fl_config_print(const fl_config *c, FILE *out)
{
    const char *section = "";
    fprintf(out, "# faultline effective configuration\n");
    for (size_t i = 0; i < NSETTINGS; i++) {
        const setting *s = &settings[i];
        if (strcmp(section, s->section) != 0) {
            section = s->section;
            fprintf(out, "\n[%s]\n", section);
        }
        const char *base = (const char *)c + s->offset;
        fprintf(out, "# %s\n", s->help);
        switch (s->type) {
        case T_U32:
            fprintf(out, "%s = %u\n", s->name, *(const uint32_t *)(const void *)base);
            break;
        case T_DBL:
            fprintf(out, "%s = %g\n", s->name, *(const double *)(const void *)base);
            break;
        case T_STR:
            fprintf(out, "%s = %s\n", s->name, base);
            break;
        }
    }
}

static bool readable(const char *p)
{
    return access(p, R_OK) == 0;
}

static void resolve_one(char *dst, size_t len, const char *file)
{
    if (*dst)
        return;
    const char *dirs[] = { getenv("FAULTLINE_DATADIR"), FL_INSTALL_DATADIR, FL_SOURCE_DATADIR };
    char path[FL_PATH_MAX];
    for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
        if (!dirs[i])
            continue;
        snprintf(path, sizeof path, "%s/%s", dirs[i], file);
        if (readable(path)) {
            snprintf(dst, len, "%s", path);
            return;
        }
    }
}

void fl_config_resolve_paths(fl_config *c)
{
    resolve_one(c->ranges_file, sizeof c->ranges_file, "provider_ranges.tsv");
    resolve_one(c->rules_file, sizeof c->rules_file, "providers.rules");
}
