/* report_https.c - what moved inside HTTPS, for an alert of family
 * `https` (the hook in report_html.c): the size range of the new mode of
 * responses, the sites answering it, since when, its share of the
 * provider's responses, and the time to first byte in it against the
 * usual (an edge-generated error answers in about one round trip).
 */
#include <stdio.h>

#include "fl_https_modes.h"
#include "fl_run.h"
#include "html_int.h"

static void fmt_ms(char *b, size_t n, double us)
{
    if (us < 10000.0)
        snprintf(b, n, "%.1f ms", us / 1000.0);
    else
        snprintf(b, n, "%.0f ms", us / 1000.0);
}

static void one_mode(FILE *o, const fl_run_view *rv, const fl_https_mode_summary *ms)
{
    char lo[32], hi[32], since[32], share[16], tm[32], tb[32];
    fl_html_fmt_bytes(lo, sizeof lo, ms->lo_bytes);
    fl_html_fmt_bytes(hi, sizeof hi, ms->hi_bytes);
    fl_html_fmt_time(since, sizeof since, (double)ms->first_us / 1e6, false);
    fl_html_fmt_pct(share, sizeof share,
                    ms->responses ? (double)ms->suspect / (double)ms->responses : 0.0);
    fmt_ms(tm, sizeof tm, ms->ttfb_mode_us);
    fmt_ms(tb, sizeof tb, ms->ttfb_base_us);
    fprintf(o,
            "<p class=\"moved\"><b>Inside HTTPS:</b> responses of %s\xe2\x80\x93%s from %u%s "
            "site%s, new since %s, %s of responses (%u of %llu); time to first byte %s "
            "in them, usually %s. Sites: ",
            lo, hi, ms->nservices, ms->more_services ? "+" : "", ms->nservices == 1 ? "" : "s",
            since, share, ms->suspect, (unsigned long long)ms->responses, tm, tb);
    for (uint32_t i = 0; i < ms->nservices; i++) {
        const char *name = fl_aggregate_service_name(rv->agg, ms->services[i]);
        if (i)
            fputs(", ", o);
        fl_html_esc(o, name ? name : "?");
    }
    fputs(ms->more_services ? ", \xe2\x80\xa6.</p>" : ".</p>", o);
}

/* Modes that were counting while the alert was open (or within a minute
 * before it: the held responses of its onset). */
void fl_report_https_moved(FILE *o, const fl_run_view *rv, const fl_incident *inc)
{
    fl_https_mode_summary ms[FL_HTTPS_MODE_SLOTS];
    if (!(inc->a->families & (1u << FL_FAM_HTTPS)))
        return;
    uint32_t n =
        fl_https_modes_summary(rv->https, (uint16_t)inc->provider, ms, FL_HTTPS_MODE_SLOTS);
    for (uint32_t i = 0; i < n; i++)
        if ((double)ms[i].last_us / 1e6 + 60.0 >= inc->from &&
            (inc->until <= 0.0 || (double)ms[i].first_us / 1e6 <= inc->until + 60.0))
            one_mode(o, rv, &ms[i]);
}
