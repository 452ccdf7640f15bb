/* out_log.c - one line on stderr per alert raised or resolved. */
#include <stdlib.h>

#include "fl_families.h"
#include "fl_output.h"

typedef struct log_out {
    FILE *out;
} log_out;

static void *log_open(const fl_output_args *args, char *err, size_t errlen)
{
    log_out *l = calloc(1, sizeof *l);
    if (!l) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    l->out = args->out ? args->out : stderr;
    return l;
}

static void log_alert(void *self, const fl_run_view *v, const fl_alert *a, bool resolved)
{
    (void)v;
    log_out *l = self;
    fprintf(l->out, "faultline: alert %s: %s %s (%s) ratio %.2f baseline %.2f clients %llu at %.0f\n",
            resolved ? "resolved" : "raised", a->local ? "local" : "provider", a->provider,
            fl_family_name((fl_family)a->first_family), a->local ? a->ratio : a->peak_ratio,
            a->baseline_ratio, (unsigned long long)a->clients,
            resolved ? a->resolved_at : a->raised_at);
}

static void log_close(void *self)
{
    free(self);
}

const fl_output_type fl_output_log = {
    .name = "log", .open = log_open, .alert = log_alert, .close = log_close,
};
