/* out_log.c - one log line per alert raised or resolved, at priority
 * warning (fl_log.h: `journalctl -p warning` shows every alert event). The
 * ratio is named for what it divides (fl_families.h), and the resolve line
 * says which ratio is the peak and which the one at the resolve. */
#include <stdlib.h>
#include <time.h>

#include "fl_families.h"
#include "fl_log.h"
#include "fl_output.h"

typedef struct log_out {
    const fl_config *cfg;
} log_out;

static void *log_open(const fl_output_args *args, char *err, size_t errlen)
{
    log_out *l = calloc(1, sizeof *l);
    if (!l) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    l->cfg = args->cfg;
    return l;
}

static void log_alert(void *self, const fl_run_view *v, const fl_alert *a, bool resolved)
{
    (void)v;
    log_out *l = self;
    fl_family f = (fl_family)a->first_family;
    const char *sensor = l->cfg && l->cfg->sensor[0] ? l->cfg->sensor : "";
    const char *site = l->cfg && l->cfg->site[0] ? l->cfg->site : "";
    char who[300] = "";
    if (sensor[0] || site[0])
        snprintf(who, sizeof who, " [sensor %s%s%s]", sensor[0] ? sensor : "(host name)",
                 site[0] ? " site " : "", site);
    char at[32] = "?";
    time_t t = (time_t)(resolved ? a->resolved_at : a->raised_at);
    struct tm tm;
    if (gmtime_r(&t, &tm))
        strftime(at, sizeof at, "%Y-%m-%dT%H:%M:%SZ", &tm);
    if (!resolved)
        FL_WARN("alert %u raised at %s: %s %s: %s %.1f%% of %s (baseline %.1f%%), %llu "
                "failing clients%s",
                a->id, at, a->local ? "local" : "provider", a->provider, fl_family_what(f),
                100.0 * a->ratio, fl_family_per(f), 100.0 * a->baseline_ratio,
                (unsigned long long)a->clients, who);
    else
        FL_WARN("alert %u resolved at %s: %s %s: %s peaked at %.1f%% of %s, %.1f%% at the "
                "resolve (baseline %.1f%%), after %.0f s, %llu failing clients at the peak%s",
                a->id, at, a->local ? "local" : "provider", a->provider, fl_family_what(f),
                100.0 * a->peak_ratio, fl_family_per(f), 100.0 * a->ratio,
                100.0 * a->baseline_ratio, a->resolved_at - a->raised_at,
                (unsigned long long)a->clients, who);
}

static void log_close(void *self)
{
    free(self);
}

const fl_output_type fl_output_log = {
    .name = "log",
    .open = log_open,
    .alert = log_alert,
    .close = log_close,
};
