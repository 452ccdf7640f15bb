/* html_chart.c - the report's charts: inline SVG, one per provider, on
 * the page's common time axis. Hover text is SVG <title>, no script; a
 * chart has at most HOVER_COLUMNS hover areas whatever the capture length. */
#include <time.h>

#include "html_int.h"

static double ax_x(const axis *ax, double t)
{
    double span = (double)(ax->t1 - ax->t0);
    double x = CH_L + (t - (double)ax->t0) / (span > 0 ? span : 1) * CH_PW;
    if (x < CH_L)
        x = CH_L;
    if (x > CH_L + CH_PW)
        x = CH_L + CH_PW;
    return x;
}

/* ---------------------------------------------------------------- chart */

static void chart_hover(FILE *o, const axis *ax, const fl_series *s, const bool *draw)
{
    size_t g = (s->n + HOVER_COLUMNS - 1) / HOVER_COLUMNS;
    if (!g)
        g = 1;
    fputs("<g class=\"hov\">", o);
    for (size_t j = 0; j * g < s->n; j++) {
        size_t lo = j * g, hi = lo + g < s->n ? lo + g : s->n;
        fl_counts sum;
        memset(&sum, 0, sizeof sum);
        uint32_t cl = 0;
        for (size_t k = lo; k < hi; k++) {
            fl_counts_add(&sum, &s->c[k]);
            if (s->clients[k] > cl)
                cl = s->clients[k];
        }
        uint64_t ta = s->t0 + lo * s->step, tb = s->t0 + hi * s->step;
        if (ta >= ax->t1)
            break;
        if (tb > ax->t1)
            tb = ax->t1;
        double xa = ax_x(ax, (double)ta), xb = ax_x(ax, (double)tb);
        char a[32];
        fl_html_fmt_time(a, sizeof a, (double)ta, false);
        /* y and height are in the style sheet: they are the same for all */
        fprintf(o, "<rect x=\"%.1f\" width=\"%.1f\"><title>%s", xa, xb - xa, a);
        for (size_t fi = 0; fi < FL_HTML_NFAMS; fi++) {
            uint64_t num, den;
            fl_family_count(&sum, fl_html_fams[fi].fam, &num, &den);
            if (!draw[fi] || (!den && !num))
                continue;
            char p[16] = "";
            if (num)
                fl_html_fmt_pct(p, sizeof p, fl_incident_ratio(num, den));
            fprintf(o, "&#10;%s %s%s%llu/%llu", fl_html_fams[fi].label, p, num ? " " : "",
                    (unsigned long long)num, (unsigned long long)den);
        }
        fprintf(o, "&#10;%llu flows, %llu failed, %u clients</title></rect>",
                (unsigned long long)sum.v[FL_C_flows], (unsigned long long)fl_counts_failures(&sum),
                cl);
    }
    fputs("</g>", o);
}

static void time_ticks(FILE *o, const axis *ax)
{
    static const uint32_t steps[] = { 10,   15,   30,    60,    120,   300,   600,    900,   1800,
                                      3600, 7200, 10800, 21600, 43200, 86400, 172800, 604800 };
    uint64_t span = ax->t1 - ax->t0;
    uint64_t st = steps[sizeof steps / sizeof steps[0] - 1];
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++)
        if (span / steps[i] <= 10) {
            st = steps[i];
            break;
        }
    int ybot = CH_T + CH_H + CH_GAP + CH_VH;
    for (uint64_t t = (ax->t0 + st - 1) / st * st; t <= ax->t1; t += st) {
        double x = ax_x(ax, (double)t);
        fprintf(o, "<line class=\"grid\" x1=\"%.1f\" x2=\"%.1f\" y1=\"%d\" y2=\"%d\"/>", x, x, CH_T,
                ybot);
        time_t tt = (time_t)t;
        struct tm tm;
        char lab[32] = "";
        if (gmtime_r(&tt, &tm)) {
            if (st >= 86400)
                strftime(lab, sizeof lab, "%m-%d", &tm);
            else if (st < 60)
                strftime(lab, sizeof lab, "%H:%M:%S", &tm);
            else
                strftime(lab, sizeof lab, "%H:%M", &tm);
        }
        /* labels at the ends stay inside the picture */
        const char *anchor = x > CH_L + CH_PW - 24 ? "end" : x < CH_L + 24 ? "start" : "middle";
        fprintf(o, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"%s\">%s</text>", x, ybot + 16, anchor,
                lab);
    }
}

/* Alert spans, drawn under everything else. */
static void alert_spans(FILE *o, const axis *ax, const fl_incident *av, size_t nav,
                        uint32_t provider, int vbot)
{
    for (size_t i = 0; i < nav; i++) {
        const fl_alert *a = av[i].a;
        if (!a->local && av[i].provider != provider)
            continue;
        /* a capture cut into parts: an alert of another part is not drawn */
        if (a->onset_at >= (double)ax->t1 ||
            (a->resolved_at > 0 && a->resolved_at <= (double)ax->t0))
            continue;
        double x0 = ax_x(ax, a->onset_at);
        double x1 = ax_x(ax, a->resolved_at > 0 ? a->resolved_at : (double)ax->t1);
        double xr = ax_x(ax, a->raised_at);
        char t0[32], t1[32];
        fl_html_fmt_time(t0, sizeof t0, a->onset_at, false);
        fl_html_fmt_time(t1, sizeof t1, a->resolved_at > 0 ? a->resolved_at : (double)ax->t1,
                         false);
        fprintf(
            o,
            "<rect class=\"%s\" x=\"%.1f\" y=\"%d\" width=\"%.1f\" height=\"%d\"><title>alert #%u"
            " (%s): onset %s, resolved %s UTC</title></rect>",
            a->local ? "lspan" : "span", x0, CH_T, x1 - x0 > 1 ? x1 - x0 : 1, vbot - CH_T, a->id,
            a->local ? "local" : "provider", t0, a->resolved_at > 0 ? t1 : "never");
        fprintf(o, "<line class=\"raise\" x1=\"%.1f\" x2=\"%.1f\" y1=\"%d\" y2=\"%d\"/>", xr, xr,
                CH_T - 4, vbot);
        const fam_def *fd = fl_html_fam_find(a->first_family);
        fprintf(o, "<text class=\"al\" x=\"%.1f\" y=\"%d\">alert #%u%s \xc2\xb7 %s</text>", x0 + 3,
                CH_T - 8, a->id, a->local ? " (local)" : "",
                fd ? fd->label : fl_family_name((fl_family)a->first_family));
    }
}

/* Volume: flows as a step area (one vertex pair per point), failures as
 * bars over it (most points have none). */
static void volume(FILE *o, const axis *ax, const fl_series *s, uint64_t vmax, int vbot)
{
    if (vmax) {
        fprintf(o, "<path class=\"vol\" d=\"M%d %d", CH_L, vbot);
        for (size_t k = 0; k < s->n; k++) {
            double hgt = (double)s->c[k].v[FL_C_flows] / (double)vmax * CH_VH;
            fprintf(o, "V%.1fH%.1f", vbot - hgt, ax_x(ax, (double)(s->t0 + (k + 1) * s->step)));
        }
        fprintf(o, "V%dz\"/><path class=\"vfail\" d=\"", vbot);
        double bw = (double)CH_PW / (double)(s->n ? s->n : 1);
        for (size_t k = 0; k < s->n; k++) {
            uint64_t f = fl_counts_failures(&s->c[k]);
            if (!f)
                continue;
            double hgt = (double)f / (double)vmax * CH_VH;
            if (hgt < 1)
                hgt = 1;
            fprintf(o, "M%.1f %dv%.1fh%.1fv%.1fz", ax_x(ax, (double)(s->t0 + k * s->step)), vbot,
                    -hgt, bw, hgt);
        }
        fputs("\"/>", o);
    }
}

/* One line per family; a gap where the family had no attempts, and a lone
 * point drawn as a dot (round cap on a tiny segment). */
static void family_lines(FILE *o, const axis *ax, const fl_series *s, const bool *draw, double ymax)
{
    for (size_t fi = 0; fi < FL_HTML_NFAMS; fi++) {
        if (!draw[fi])
            continue;
        fprintf(o, "<path class=\"ln\" stroke=\"%s\" d=\"", fl_html_fams[fi].color);
        size_t run = 0;
        for (size_t k = 0; k < s->n; k++) {
            uint64_t num, den;
            fl_family_count(&s->c[k], fl_html_fams[fi].fam, &num, &den);
            if (!den) {
                if (run == 1)
                    fputs("h0.5", o);
                run = 0;
                continue;
            }
            double x = ax_x(ax, (double)s->t0 + ((double)k + 0.5) * (double)s->step);
            double y = CH_T + CH_H - fl_incident_ratio(num, den) / ymax * CH_H;
            fprintf(o, "%c%.1f %.1f", run ? 'L' : 'M', x, y);
            run++;
        }
        if (run == 1)
            fputs("h0.5", o);
        fprintf(o, "\"><title>%s</title></path>", fl_html_fams[fi].label);
    }
}

void fl_html_chart(FILE *o, const axis *ax, const fl_series *s, const fl_incident *av, size_t nav,
                   uint32_t provider, const bool *draw)
{
    /* The same 0-100% scale in every chart: "is it us or them" is a
     * comparison between providers, and a scale fitted to each would
     * blow a 2% background up to look like an outage. */
    const double ymax = 1.0;
    uint64_t vmax = 0;
    for (size_t k = 0; k < s->n; k++) {
        uint64_t f = fl_counts_failures(&s->c[k]);
        if (s->c[k].v[FL_C_flows] > vmax)
            vmax = s->c[k].v[FL_C_flows];
        if (f > vmax)
            vmax = f;
    }
    int vtop = CH_T + CH_H + CH_GAP, vbot = vtop + CH_VH;

    fprintf(o, "<svg class=\"chart\" viewBox=\"0 0 %d %d\" role=\"img\">", CH_W, CH_HEIGHT);

    alert_spans(o, ax, av, nav, provider, vbot);

    /* grid and axes */
    for (int i = 0; i <= 4; i++) {
        int y = CH_T + CH_H - i * CH_H / 4;
        fprintf(o, "<line class=\"%s\" x1=\"%d\" x2=\"%d\" y1=\"%d\" y2=\"%d\"/>",
                i ? "grid" : "axis", CH_L, CH_L + CH_PW, y, y);
        char p[16];
        fl_html_fmt_pct(p, sizeof p, ymax * i / 4);
        fprintf(o, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">%s</text>", CH_L - 6, y + 4, p);
    }
    fprintf(o, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">failing</text>", CH_L - 6, CH_T - 8);
    time_ticks(o, ax);
    fprintf(o, "<line class=\"axis\" x1=\"%d\" x2=\"%d\" y1=\"%d\" y2=\"%d\"/>", CH_L, CH_L + CH_PW,
            vbot, vbot);

    volume(o, ax, s, vmax, vbot);
    char vm[32];
    fl_html_fmt_int(vm, sizeof vm, vmax);
    fprintf(o, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">%s</text>", CH_L - 6, vtop + 8, vm);
    fprintf(o, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">volume</text>", CH_L - 6, vbot - 2);

    family_lines(o, ax, s, draw, ymax);
    chart_hover(o, ax, s, draw);
    fputs("</svg>", o);
}
