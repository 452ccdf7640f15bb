/* report_html.c - the replay summary as one self-contained HTML page: the
 * answer first ("is it us or them?"), then a timeline per provider.
 *
 * Self-contained on purpose: an analyst opens it from a ticket or a mail,
 * perhaps offline, so nothing is loaded from anywhere (no script, font, image
 * or style sheet URL) and a Content-Security-Policy of default-src 'none'
 * says so to the browser. The charts are inline SVG drawn here; hover text is
 * SVG <title>, no JavaScript.
 *
 * Everything that came from traffic (SNI, Host and DNS names, which anyone
 * on the path can choose) and from the command line (file names) goes
 * through esc(): HTML-escaped, control bytes and invalid UTF-8 (RFC 3629)
 * replaced, so a service named "<script>" is text, never markup.
 *
 * Size: a chart has at most CHART_POINTS points (buckets are merged by
 * summing their counters, so a merged ratio is the ratio of the sums) and at
 * most HOVER_COLUMNS hover areas, whatever the capture length.
 */
#include <stdlib.h>
#include <string.h>

#include "fl_report.h"
#include "html_int.h"
#include "fl_text.h"

#define CHART_POINTS 600
#define TOP_SERVICES 8

/* ------------------------------------------------------------- sentences */

/* "HTTP 5xx and TLS handshake failures": the first family first, then the
 * others; "any" only when it is the only one. */
static void signals_text(FILE *o, const fl_incident *v)
{
    const fl_alert *a = v->a;
    const fam_def *list[FL_HTML_NFAMS];
    size_t n = 0;
    if (!(a->families & FL_FAM_MASK_NAMED)) {
        /* only the pooled "any" family crossed: name what the buckets show,
         * in the order it moved */
        for (size_t i = 0; i < v->nm; i++)
            list[n++] = fl_html_fam_find(v->m[i].fam);
    } else {
        const fam_def *first = fl_html_fam_find(a->first_family);
        if (first && (a->families & (1u << first->fam)))
            list[n++] = first;
        for (size_t i = 0; i < FL_HTML_NFAMS; i++)
            if ((a->families & (1u << fl_html_fams[i].fam)) && &fl_html_fams[i] != first)
                list[n++] = &fl_html_fams[i];
    }
    if (!n) {
        fputs("failures across several signals", o);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        if (i)
            fputs(i + 1 == n ? " and " : ", ", o);
        fputs(list[i]->what, o);
    }
}

static void signal_chips(FILE *o, const fl_alert *a)
{
    for (int i = -1; i < FL_FAM_COUNT; i++) {
        int f = i < 0 ? a->first_family : i;
        if (!(a->families & (1u << f)) || (i >= 0 && f == a->first_family))
            continue;
        const fam_def *d = fl_html_fam_find((unsigned)f);
        fprintf(o, "<span class=\"chip%s\"%s%s%s>%s</span>", f == a->first_family ? " first" : "",
                d ? " style=\"--c:" : "", d ? d->color : "", d ? "\"" : "",
                d ? d->label : fl_family_name((fl_family)f));
    }
}

static void headline(FILE *o, const fl_incident *v, size_t providers_seen)
{
    const fl_alert *a = v->a;
    char t0[32], t1[32], d[32];
    fl_html_fmt_time(t0, sizeof t0, v->from, false);
    fl_html_fmt_time(t1, sizeof t1, v->until, false);
    fl_html_fmt_dur(d, sizeof d, v->until - v->from);
    if (a->local) {
        if (a->providers_failing && a->providers_failing >= providers_seen)
            fprintf(o, "Local problem: all %u providers failed together (", a->providers_failing);
        else
            fprintf(o, "Local problem: %u providers failed together (", a->providers_failing);
        signals_text(o, v);
        fprintf(o, ") from %s to %s UTC (%s)", t0, t1, d);
        if (!a->resolved_at)
            fputs(", still failing at the end of the capture", o);
        return;
    }
    fl_html_esc(o, a->provider);
    fputs(" failing: ", o);
    signals_text(o, v);
    if (a->resolved_at)
        fprintf(o, " from %s to %s UTC (%s)", t0, t1, d);
    else
        fprintf(o, " from %s UTC, still failing at the end of the capture", t0);
    fprintf(o, ", %llu client%s affected", (unsigned long long)a->clients,
            a->clients == 1 ? "" : "s");
}

/* ------------------------------------------------------------ sections */

typedef struct prov_view {
    uint16_t id;
    const char *name;
    const fl_counts *c;
    double first_alert; /* earliest onset of its alerts, or 0 */
    uint64_t failures;
} prov_view;

static int prov_cmp(const void *x, const void *y)
{
    const prov_view *a = x, *b = y;
    if ((a->first_alert > 0) != (b->first_alert > 0))
        return a->first_alert > 0 ? -1 : 1;
    if (a->first_alert != b->first_alert)
        return a->first_alert < b->first_alert ? -1 : 1;
    if (a->failures != b->failures)
        return a->failures > b->failures ? -1 : 1;
    if (a->c->v[FL_C_flows] != b->c->v[FL_C_flows])
        return a->c->v[FL_C_flows] > b->c->v[FL_C_flows] ? -1 : 1;
    return a->id < b->id ? -1 : a->id > b->id;
}

static int svc_cmp(const void *x, const void *y)
{
    const fl_service_tally *a = *(const fl_service_tally *const *)x;
    const fl_service_tally *b = *(const fl_service_tally *const *)y;
    if (a->fails[FL_FAM_ANY] != b->fails[FL_FAM_ANY])
        return a->fails[FL_FAM_ANY] > b->fails[FL_FAM_ANY] ? -1 : 1;
    if (a->attempts[FL_FAM_ANY] != b->attempts[FL_FAM_ANY])
        return a->attempts[FL_FAM_ANY] > b->attempts[FL_FAM_ANY] ? -1 : 1;
    return a->service < b->service ? -1 : a->service > b->service;
}

/* A traffic name: odd bytes as \xNN (fl_text.h), then HTML-escaped. */
static void esc_name(FILE *o, const char *name)
{
    char b[4 * 256 + 1];
    fl_text_visible(name, b, sizeof b);
    fl_html_esc(o, b);
}

/* Top services of provider (most failures, then most flows); returns how
 * many were put in top, total in *all. */
static size_t top_services(const fl_service_tally *t, size_t nt, uint16_t provider,
                           const fl_service_tally **top, size_t max, size_t *all)
{
    size_t m = 0;
    *all = 0;
    for (size_t i = 0; i < nt; i++) {
        if (t[i].provider != provider)
            continue;
        (*all)++;
        const fl_service_tally *ti = &t[i];
        if (m < max)
            top[m++] = ti;
        else if (svc_cmp(&ti, &top[m - 1]) < 0)
            top[m - 1] = ti;
        else
            continue;
        qsort(top, m, sizeof(const fl_service_tally *), svc_cmp); /* an array of pointers */
    }
    return m;
}

static void card(FILE *o, const char *k, const char *v, const char *sub)
{
    fprintf(o, "<div class=\"card\"><div class=\"k\">%s</div><div class=\"v\">%s</div>", k, v);
    if (sub && *sub)
        fprintf(o, "<div class=\"s\">%s</div>", sub);
    fputs("</div>", o);
}

/* What makes the numbers less trustworthy. */
static void warnings(FILE *o, const fl_run_view *rv, uint64_t flows)
{
    const fl_report_source *src = &rv->src;
    const fl_engine_stats *st = &rv->stats;
    const fl_flow_stats *fs = &rv->flows;
    if (flows && st->one_way_flows * 2 > flows) {
        fputs(
            "<div class=\"warn\"><b>Most flows were one-way.</b> The capture probably saw only one "
            "direction (asymmetric routing or a span port on one side): failures cannot be judged "
            "reliably for those flows.</div>",
            o);
    }
    if (st->packets && st->decode_errors * 100 > st->packets)
        fputs("<div class=\"warn\"><b>Over 1% of packets could not be decoded.</b></div>", o);
    if (src && src->kernel_drops)
        fputs(
            "<div class=\"warn\"><b>The kernel dropped packets</b>: counts are lower bounds.</div>",
            o);
    if (fs->evicted)
        fprintf(o,
                "<div class=\"warn\"><b>%llu flows were evicted</b> at the flow table cap "
                "(%llu).</div>",
                (unsigned long long)fs->evicted, (unsigned long long)fs->capacity);
    if (fl_aggregate_history_dropped(rv->agg))
        fputs("<div class=\"warn\"><b>The bucket history was full</b>: the end of the capture is "
              "missing from the charts.</div>",
              o);
}

/* The source: file names are the operator's, still escaped. */
static void source_card(FILE *o, const fl_report_source *src)
{
    fputs("<div class=\"card\"><div class=\"k\">Source</div><div class=\"v\">", o);
    if (src && src->interface) {
        fputs("live ", o);
        fl_html_esc(o, src->interface);
    } else {
        fprintf(o, "%zu file%s", src ? src->nfiles : 0, src && src->nfiles == 1 ? "" : "s");
    }
    fputs("</div><div class=\"s\">", o);
    for (size_t i = 0; src && i < src->nfiles && i < 5; i++) {
        if (i)
            fputs(", ", o);
        fl_html_esc(o, src->files[i]);
    }
    if (src && src->nfiles > 5)
        fprintf(o, ", and %zu more", src->nfiles - 5);
    fputs("</div></div>", o);
}

static void summary(FILE *o, const fl_run_view *rv)
{
    const fl_report_source *src = &rv->src;
    const fl_engine_stats *st = &rv->stats;
    char a[64], b[64], sub[160];
    uint64_t flows = st->flows_tcp + st->flows_udp + st->flows_other;

    fputs("<section class=\"cards\">", o);
    source_card(o, src);

    if (st->packets) {
        fl_html_fmt_time(a, sizeof a, (double)st->first_ts_us / 1e6, true);
        fl_html_fmt_time(b, sizeof b, (double)st->last_ts_us / 1e6, false);
        char d[32];
        fl_html_fmt_dur(d, sizeof d, (double)(st->last_ts_us - st->first_ts_us) / 1e6);
        snprintf(sub, sizeof sub, "%s \xe2\x80\x93 %s UTC", a, b);
        card(o, "Time span", d, sub);
    } else {
        card(o, "Time span", "no packets", NULL);
    }
    fl_html_fmt_int(a, sizeof a, st->packets);
    fl_html_fmt_bytes(b, sizeof b, st->bytes);
    card(o, "Packets", a, b);
    fl_html_fmt_int(a, sizeof a, flows);
    snprintf(sub, sizeof sub, "TCP %llu \xc2\xb7 UDP %llu \xc2\xb7 other %llu",
             (unsigned long long)st->flows_tcp, (unsigned long long)st->flows_udp,
             (unsigned long long)st->flows_other);
    card(o, "Flows", a, sub);
    fl_html_fmt_int(a, sizeof a, st->decode_errors);
    sub[0] = 0;
    size_t used = 0;
    for (int i = 0; i < FL_DERR_COUNT && used + 1 < sizeof sub; i++) {
        if (!st->decode_error[i])
            continue;
        int w = snprintf(sub + used, sizeof sub - used, "%s%s %llu", used ? ", " : "",
                         fl_decode_error_name((fl_decode_error)i),
                         (unsigned long long)st->decode_error[i]);
        if (w < 0 || (size_t)w >= sizeof sub - used)
            break;
        used += (size_t)w;
    }
    card(o, "Decode errors", a, sub);
    fl_html_fmt_int(a, sizeof a, st->one_way_flows);
    char p[16];
    fl_html_fmt_pct(p, sizeof p, flows ? (double)st->one_way_flows / (double)flows : 0);
    snprintf(sub, sizeof sub, "%s of flows", p);
    card(o, "One-way flows", a, sub);
    if (src && src->interface) {
        fl_html_fmt_int(a, sizeof a, src->kernel_drops);
        card(o, "Kernel drops", a, NULL);
    }
    fputs("</section>", o);

    warnings(o, rv, flows);
}

static void alerts_table(FILE *o, const fl_incident *av, size_t nav, const fl_aggregate *agg,
                         const fl_service_tally *tallies, size_t ntallies)
{
    fputs("<section><h2>Alerts</h2>", o);
    if (!nav) {
        fputs("<p class=\"muted\">No alert was raised.</p></section>", o);
        return;
    }
    fputs("<div class=\"alerts\"><table><thead><tr><th>#</th><th>Provider</th><th>Scope</th>"
          "<th class=\"sig\">Signals</th><th>Onset</th><th>Raised</th><th>Resolved</th><th "
          "class=\"n\">Open for</th>"
          "<th class=\"n\">Peak vs baseline</th><th class=\"n\">Failures</th><th "
          "class=\"n\">Clients</th>"
          "<th>Top services</th></tr></thead><tbody>",
          o);
    for (size_t i = 0; i < nav; i++) {
        const fl_alert *a = av[i].a;
        char on[32], ra[32], re[32], du[32], pk[16], bl[16], sh[16], fa[32], at[32];
        fl_html_fmt_time(on, sizeof on, a->onset_at, false);
        fl_html_fmt_time(ra, sizeof ra, a->raised_at, false);
        fl_html_fmt_time(re, sizeof re, a->resolved_at, false);
        fl_html_fmt_dur(du, sizeof du, a->resolved_at - a->raised_at);
        fl_html_fmt_pct(pk, sizeof pk, a->peak_ratio);
        fl_html_fmt_pct(bl, sizeof bl, a->baseline_ratio);
        fl_html_fmt_pct(sh, sizeof sh, a->client_share);
        fl_html_fmt_int(fa, sizeof fa, a->failures);
        fl_html_fmt_int(at, sizeof at, a->attempts);
        fprintf(o, "<tr class=\"alert-row\"><td>%u</td><td><b>", a->id);
        fl_html_esc(o, a->provider);
        fprintf(o, "</b></td><td>%s</td><td>", a->local ? "local" : "provider");
        signal_chips(o, a);
        fprintf(o,
                "</td><td>%s</td><td>%s</td><td>%s</td><td class=\"n\">%s</td>"
                "<td class=\"n\">%s vs %s</td>",
                on, ra, a->resolved_at > 0 ? re : "open", a->resolved_at > 0 ? du : "\xe2\x80\x94",
                pk, bl);
        if (a->local)
            fprintf(o,
                    "<td class=\"n\">\xe2\x80\x94</td><td class=\"n\">\xe2\x80\x94</td>"
                    "<td class=\"muted\">%u providers failing together</td></tr>",
                    a->providers_failing);
        else {
            fprintf(o,
                    "<td class=\"n\">%s / %s</td><td class=\"n\">%llu (%s)</td><td class=\"name\">",
                    fa, at, (unsigned long long)a->clients, sh);
            const fl_service_tally *top[3];
            size_t all;
            size_t m = top_services(tallies, ntallies, (uint16_t)av[i].provider, top, 3, &all);
            for (size_t k = 0; k < m && av[i].provider != FL_ALL_PROVIDERS; k++) {
                if (k)
                    fputs(", ", o);
                esc_name(o, fl_aggregate_service_name(agg, top[k]->service));
            }
            fputs("</td></tr>", o);
        }
    }
    fputs("</tbody></table></div></section>", o);
}

static void moved_text(FILE *o, const fl_incident *v)
{
    const fam_def *ff = fl_html_fam_find(v->a->first_family);
    fprintf(o, "<p class=\"moved\"><b>Alert #%u \xe2\x80\x94 first signal: %s</b>", v->a->id,
            ff ? ff->what : "failures across several signals");
    if (!v->nm) {
        fputs(".</p>", o);
        return;
    }
    fputs(". In the buckets: ", o);
    for (size_t i = 0; i < v->nm; i++) {
        char t[32], bp[16];
        fl_html_fmt_time(t, sizeof t, v->m[i].at, false);
        fl_html_fmt_pct(bp, sizeof bp, v->m[i].base);
        if (i)
            fputs(i + 1 == v->nm ? " and " : ", ", o);
        const fam_def *fd = fl_html_fam_find(v->m[i].fam);
        fprintf(o, "<span style=\"color:%s\">%s</span> from %s", fd->color, fd->what, t);
        if (i && v->m[i].at > v->m[0].at) {
            char d[32];
            fl_html_fmt_dur(d, sizeof d, v->m[i].at - v->m[0].at);
            fprintf(o, " (+%s)", d);
        }
        if (v->m[i].has_base)
            fprintf(o, " (usually %s)", bp);
    }
    if (v->nm > 1 && v->m[v->nm - 1].at == v->m[0].at)
        fputs(": they moved together, within one bucket", o);
    fputs(".</p>", o);
}

/* The legend: each family's ratio over the whole capture; which are
 * drawn (draw[], FL_HTML_NFAMS entries). */
static void legend(FILE *o, const prov_view *pv, const fl_incident *av, size_t nav, bool alerted,
                   bool local, bool *draw)
{
    const fl_counts *c = pv->c;
    char rp[16];
    fputs("<div class=\"legend\">", o);
    for (size_t fi = 0; fi < FL_HTML_NFAMS; fi++) {
        uint64_t num, den;
        fl_family_count(c, fl_html_fams[fi].fam, &num, &den);
        bool nodata = fl_html_fams[fi].fam == FL_FAM_DNS_NODATA;
        bool in_alert = false;
        for (size_t i = 0; i < nav; i++)
            if ((av[i].a->local || av[i].provider == pv->id) &&
                (av[i].a->families & (1u << fl_html_fams[fi].fam)))
                in_alert = true;
        /* Empty answers are ordinary (AAAA for a v4-only name): drawn only
         * when an alert says they mattered. */
        draw[fi] = den > 0 && (!nodata || in_alert);
        if (nodata && !draw[fi])
            continue;
        if (!den) {
            fprintf(o, "<span class=\"none\"><i style=\"--c:#d1d5db\"></i>%s: no traffic</span>",
                    fl_html_fams[fi].label);
            continue;
        }
        fl_html_fmt_pct(rp, sizeof rp, fl_incident_ratio(num, den));
        char n1[32], n2[32];
        fl_html_fmt_int(n1, sizeof n1, num);
        fl_html_fmt_int(n2, sizeof n2, den);
        fprintf(o,
                "<span><i style=\"--c:%s\"></i>%s %s <span class=\"muted\">(%s/%s)</span></span>",
                fl_html_fams[fi].color, fl_html_fams[fi].label, rp, n1, n2);
    }
    fputs("<span class=\"vl\"><i></i>flows</span><span class=\"vf\"><i></i>failures</span>", o);
    if (alerted)
        fputs("<span class=\"shade\"><i></i>alert (onset to resolve)</span>", o);
    if (local)
        fputs("<span class=\"lshade\"><i></i>local alert</span>", o);
    fputs("</div>", o);
}

/* A service's failures beside its attempts (the `any` family: flows and
 * DNS queries). Several failures can fall on one flow (HTTP 5xx on a
 * kept-alive connection, a reset after a failed handshake of the same
 * flow counted once but a 5xx before it): then failures outnumber the
 * attempts, and the row says so and counts the failing flows instead of
 * printing a ratio above 100 %. */
static void services_table(FILE *o, const prov_view *pv, const fl_aggregate *agg,
                           const fl_service_tally *tallies, size_t ntallies,
                           const fl_service_tally **top)
{
    const fl_counts *c = pv->c;
    char rp[16];
    fputs("<div class=\"cols\"><div><table><thead><tr><th>Top services</th>"
          "<th class=\"n\">Attempts</th><th class=\"n\">Failures</th>"
          "<th class=\"n\">Failing flows</th><th class=\"n\">Failing</th></tr></thead><tbody>",
          o);
    size_t all;
    size_t m = top_services(tallies, ntallies, pv->id, top, TOP_SERVICES, &all);
    /* a name seen once (an NXDOMAIN probe, say) that never failed says
     * nothing about the outage */
    while (m > 1 && !top[m - 1]->fails[FL_FAM_ANY] &&
           top[m - 1]->attempts[FL_FAM_ANY] * 100 < c->v[FL_C_flows])
        m--;
    bool several = false;
    for (size_t k = 0; k < m; k++) {
        uint64_t fails = top[k]->fails[FL_FAM_ANY], tries = top[k]->attempts[FL_FAM_ANY];
        char a[32], b[32], ff[32];
        fl_html_fmt_int(a, sizeof a, tries);
        fl_html_fmt_int(b, sizeof b, fails);
        fl_html_fmt_int(ff, sizeof ff, top[k]->failed_flows);
        fl_html_fmt_pct(rp, sizeof rp, fl_ratio(fails, tries));
        fputs("<tr><td class=\"name\">", o);
        esc_name(o, fl_aggregate_service_name(agg, top[k]->service));
        fprintf(o, "</td><td class=\"n\">%s</td><td class=\"n\">%s</td><td class=\"n\">%s</td>", a,
                b, ff);
        if (fails > tries) {
            several = true;
            fputs("<td class=\"n\">several per flow*</td></tr>", o);
        } else {
            fprintf(o, "<td class=\"n\">%s</td></tr>", fails ? rp : "\xe2\x80\x94");
        }
    }
    if (!m)
        fputs("<tr><td class=\"muted\" colspan=\"5\">no named service</td></tr>", o);
    else if (all > m)
        fprintf(o, "<tr><td class=\"muted\" colspan=\"5\">%zu more name%s</td></tr>", all - m,
                all - m == 1 ? "" : "s");
    if (several)
        fputs("<tr><td class=\"muted\" colspan=\"5\">* more failures than attempts: some "
              "flows failed more than once (a 5xx, then a reset, say) or began before the "
              "window; compare the failing flows.</td></tr>",
              o);
}

static void signals_table(FILE *o, const fl_counts *c)
{
    char rp[16];
    fputs(
        "</tbody></table></div><div><table><thead><tr><th>Signal</th><th class=\"n\">Attempts</th>"
        "<th class=\"n\">Failed</th><th class=\"n\">Ratio</th></tr></thead><tbody>",
        o);
    for (size_t fi = 0; fi < FL_HTML_NFAMS; fi++) {
        uint64_t num, den;
        fl_family_count(c, fl_html_fams[fi].fam, &num, &den);
        if (!den && !num)
            continue;
        char a[32], b[32];
        fl_html_fmt_int(a, sizeof a, den);
        fl_html_fmt_int(b, sizeof b, num);
        fl_html_fmt_pct(rp, sizeof rp, fl_incident_ratio(num, den));
        fprintf(
            o,
            "<tr><td><span style=\"color:%s\">\xe2\x96\xa0</span> %s</td><td class=\"n\">%s</td>"
            "<td class=\"n\">%s</td><td class=\"n\">%s</td></tr>",
            fl_html_fams[fi].color, fl_html_fams[fi].what, a, b, rp);
    }
    fputs("</tbody></table></div></div></section>", o);
}

static void provider_section(FILE *o, const axis *ax, size_t nparts, const prov_view *pv,
                             fl_series *s, const fl_incident *av, size_t nav,
                             const fl_aggregate *agg, const fl_providers *prov,
                             const fl_service_tally *tallies, size_t ntallies,
                             const fl_service_tally **top)
{
    const fl_counts *c = pv->c;
    bool alerted = false, local = false;
    for (size_t i = 0; i < nav; i++) {
        if (av[i].a->local)
            local = true;
        else if (av[i].provider == pv->id)
            alerted = true;
    }
    fputs("<section class=\"prov\" id=\"p-", o);
    fprintf(o, "%u\"><h2>", pv->id);
    fl_html_esc(o, fl_providers_name(prov, pv->id));
    if (alerted)
        fputs("<span class=\"badge bad\">alert</span>", o);
    else if (local)
        fputs("<span class=\"badge local\">local alert</span>", o);
    else
        fputs("<span class=\"badge\">no alert</span>", o);
    char fl[32], fa[32], cl[32];
    fl_html_fmt_int(fl, sizeof fl, c->v[FL_C_flows]);
    fl_html_fmt_int(fa, sizeof fa, pv->failures);
    fl_html_fmt_int(cl, sizeof cl, fl_aggregate_total_clients(agg, pv->id));
    uint32_t act = 0;
    for (size_t p = 0; p < nparts; p++)
        for (size_t k = 0; k < s[p].n; k++)
            if (s[p].active[k] > act)
                act = s[p].active[k];
    fputs("</h2>", o);
    fprintf(o,
            "<p class=\"sub\">%s flows \xc2\xb7 %s failures \xc2\xb7 %s distinct failing clients"
            " \xc2\xb7 up to %u active clients per bucket</p>",
            fl, fa, cl, act);

    bool draw[FL_HTML_NFAMS];
    legend(o, pv, av, nav, alerted, local, draw);
    for (size_t p = 0; p < nparts; p++) {
        if (nparts > 1) {
            char a[32], b[32];
            fl_html_fmt_time(a, sizeof a, (double)ax[p].t0, true);
            fl_html_fmt_time(b, sizeof b, (double)ax[p].t1, true);
            fprintf(o, "<p class=\"sub part\">Part %zu of %zu: %s \xe2\x80\x93 %s UTC</p>", p + 1,
                    nparts, a, b);
        }
        fl_html_chart(o, &ax[p], &s[p], av, nav, pv->id, draw);
    }

    for (size_t i = 0; i < nav; i++)
        if (!av[i].a->local && av[i].provider == pv->id)
            moved_text(o, &av[i]);

    /* services and the counters behind the ratios */
    services_table(o, pv, agg, tallies, ntallies, top);
    signals_table(o, c);
}

/* ------------------------------------------------------------ the page */

static void verdict_no_outage(FILE *o, const prov_view *pv, size_t npv)
{
    fputs("<section class=\"verdict ok\"><div class=\"kicker\">No outage</div>"
          "<h1>No outage detected</h1>",
          o);
    const prov_view *worst = NULL;
    double wr = 0;
    for (size_t i = 0; i < npv; i++) {
        uint64_t num, den;
        fl_family_count(pv[i].c, FL_FAM_ANY, &num, &den);
        if (den && fl_incident_ratio(num, den) >= wr) {
            wr = fl_incident_ratio(num, den);
            worst = &pv[i];
        }
    }
    fprintf(o, "<p>%zu provider%s carried traffic; no failure rose above its usual level.", npv,
            npv == 1 ? "" : "s");
    if (worst && wr > 0) {
        char p[16];
        fl_html_fmt_pct(p, sizeof p, wr);
        fprintf(o, " Highest background failure rate: %s of flows at <b>", p);
        fl_html_esc(o, worst->name);
        fputs("</b>.", o);
    }
    fputs("</p></section>", o);
}

static void other_alerts(FILE *o, const fl_incident *av, size_t nav, const fl_incident *lead,
                         size_t npv)
{
    if (nav > 1)
        fprintf(o, "<p>%zu other alert%s:</p><ul class=\"also\">", nav - 1, nav == 2 ? "" : "s");
    for (size_t i = 0; i < nav; i++) {
        if (&av[i] == lead)
            continue;
        fputs("<li>", o);
        headline(o, &av[i], npv);
        fputs("</li>", o);
    }
    if (nav > 1)
        fputs("</ul>", o);
}

static void verdict(FILE *o, const fl_incident *av, size_t nav, const prov_view *pv, size_t npv)
{
    /* the answer: a local alert first (it explains provider alerts too),
     * then provider alerts by onset */
    const fl_incident *lead = NULL;
    for (size_t i = 0; i < nav && !lead; i++)
        if (av[i].a->local)
            lead = &av[i];
    if (!lead && nav)
        lead = &av[0];
    if (!lead) {
        verdict_no_outage(o, pv, npv);
        return;
    }
    const fl_alert *a = lead->a;
    fprintf(o, "<section class=\"verdict %s\"><div class=\"kicker\">%s</div><h1>",
            a->local ? "local" : "bad",
            a->local ? "It's us \xc2\xb7 local problem" : "It's them \xc2\xb7 provider outage");
    headline(o, lead, npv);
    fputs("</h1><p>", o);
    char pk[16], bl[16], ra[32], re[32], sh[16];
    fl_html_fmt_pct(pk, sizeof pk, a->peak_ratio);
    fl_html_fmt_pct(bl, sizeof bl, a->baseline_ratio);
    fl_html_fmt_pct(sh, sizeof sh, a->client_share);
    fl_html_fmt_time(ra, sizeof ra, a->raised_at, false);
    fl_html_fmt_time(re, sizeof re, a->resolved_at, false);
    if (a->local) {
        fputs("Most providers with traffic failed at the same time: the common part is on our side "
              "(uplink, firewall, resolver), not one provider.</p>",
              o);
        moved_text(o, lead);
        fputs("<p>", o);
    } else {
        fprintf(o,
                "The alert's failure ratio (over the detector's window) peaked at <b>%s</b> "
                "against a usual %s; %s of active clients were affected. ",
                pk, bl, sh);
        /* the other half of "us or them": did the others keep working? */
        size_t ok = 0;
        for (size_t i = 0; i < npv; i++) {
            bool hit = false;
            for (size_t j = 0; j < nav; j++)
                if (av[j].provider == pv[i].id || av[j].a->local)
                    hit = true;
            ok += !hit;
        }
        if (ok)
            fprintf(o,
                    "%zu other provider%s carried traffic without an alert, so the network path "
                    "itself was working.",
                    ok, ok == 1 ? "" : "s");
    }
    char lag[32];
    fl_html_fmt_dur(lag, sizeof lag, a->raised_at - a->onset_at);
    fprintf(o, "</p><p class=\"muted\">Alert raised at %s UTC (%s after the onset), ", ra, lag);
    if (a->resolved_at > 0)
        fprintf(o, "resolved at %s UTC once the ratio stayed low.</p>", re);
    else
        fputs("still open at the end of the capture.</p>", o);
    other_alerts(o, av, nav, lead, npv);
    fputs("</section>", o);
}

/* The page's time axis: every bucket of the history, at most
 * CHART_POINTS points (buckets merged). */
static axis time_axis(const fl_aggregate *agg, const fl_history_entry *h, size_t nh,
                      const fl_engine_stats *st, uint64_t from, uint64_t to)
{
    axis ax = { .bucket_s = fl_aggregate_bucket_s(agg) };
    if (!ax.bucket_s)
        ax.bucket_s = 10;
    uint64_t lo = UINT64_MAX, hi = 0;
    for (size_t i = 0; i < nh; i++) {
        if (h[i].start < from || h[i].start > to)
            continue;
        if (h[i].start < lo)
            lo = h[i].start;
        if (h[i].start > hi)
            hi = h[i].start;
    }
    if (lo > hi && st->packets)
        lo = hi = st->first_ts_us / 1000000;
    else if (lo > hi)
        lo = hi = 0;
    ax.t0 = lo - lo % ax.bucket_s;
    uint64_t nb = (hi - ax.t0) / ax.bucket_s + 1;
    uint64_t k = (nb + CHART_POINTS - 1) / CHART_POINTS;
    ax.step = k * ax.bucket_s;
    ax.n = (size_t)((nb + k - 1) / k);
    ax.t1 = ax.t0 + ax.n * ax.step;
    return ax;
}

/* A capture may hold traffic from far-apart times (two captures merged, a
 * sensor off for a night, a clock that jumped). One axis over all of it
 * would draw mostly nothing and merge the buckets that matter. Budget: a
 * chart draws CHART_POINTS points, one per bucket when it can; a gap
 * longer than that whole width (CHART_POINTS buckets, 100 min at 10 s)
 * could only be drawn by merging buckets to show empty time, so the axis
 * is cut there into parts, each charted on its own, and the page says so.
 * At most MAX_PARTS are drawn (the rest are named, not charted). */
#define MAX_PARTS 8
typedef struct part {
    uint64_t from, to; /* first and last bucket start */
    size_t buckets;
} part;

static int u64_cmp(const void *x, const void *y)
{
    uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;
    return a < b ? -1 : a > b;
}

/* Parts of the history; returns how many there are (those beyond max are
 * counted, not stored). 0 when there is no history. */
static size_t time_parts(const fl_history_entry *h, size_t nh, uint32_t bucket_s, part *pt,
                         size_t max)
{
    uint64_t *t = malloc((nh ? nh : 1) * sizeof *t);
    if (!t || !nh) {
        free(t);
        return 0;
    }
    for (size_t i = 0; i < nh; i++)
        t[i] = h[i].start;
    qsort(t, nh, sizeof *t, u64_cmp);
    uint64_t gap = (uint64_t)CHART_POINTS * bucket_s;
    size_t n = 0;
    for (size_t i = 0; i < nh; i++) {
        if (i && t[i] == t[i - 1])
            continue;
        if (!i || t[i] - t[i - 1] > gap) {
            if (n < max)
                pt[n] = (part){ .from = t[i], .to = t[i], .buckets = 0 };
            n++;
        }
        if (n <= max) {
            pt[n - 1].to = t[i];
            pt[n - 1].buckets++;
        }
    }
    free(t);
    return n;
}

/* The providers that carried traffic, with their first alert's onset;
 * pv has room for every provider slot. Returns how many. */
static size_t provider_views(const fl_run_view *rv, const fl_incident *av, prov_view *pv)
{
    const fl_alert *al = rv->alerts;
    size_t na = rv->nalerts, np = fl_aggregate_provider_slots(rv->agg), npv = 0;
    for (size_t p = 0; p < np; p++) {
        const fl_counts *c = fl_aggregate_totals(rv->agg, (uint16_t)p);
        if (!fl_counts_any(c))
            continue;
        prov_view *v = &pv[npv++];
        v->id = (uint16_t)p;
        v->c = c;
        v->name = fl_providers_name(rv->prov, (fl_provider_id)p);
        v->failures = fl_counts_failures(c);
        for (size_t i = 0; i < na; i++)
            if (!al[i].local && av[i].provider == p &&
                (v->first_alert == 0 || al[i].onset_at < v->first_alert))
                v->first_alert = al[i].onset_at;
    }
    return npv;
}

/* <head> and the page's top line: what the capture covers. */
static void page_head(FILE *out, const fl_run_view *rv)
{
    const fl_engine_stats st = rv->stats;
    const fl_alert *al = rv->alerts;
    size_t na = rv->nalerts;
    fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
          "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
          "style-src 'unsafe-inline'\">"
          "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">"
          "<title>faultline report",
          out);
    if (na) {
        fputs(": ", out);
        fl_html_esc(out, al[0].provider);
    }
    fprintf(out,
            "</title><style>%ssvg .hov rect{fill:transparent;y:%dpx;height:%dpx}</style>"
            "</head><body><main>\n",
            fl_html_css, CH_T, CH_H + CH_GAP + CH_VH);

    char t0[32], t1[32];
    fl_html_fmt_time(t0, sizeof t0, st.packets ? (double)st.first_ts_us / 1e6 : 0, true);
    /* the end's date too when it is another day (a capture spanning years) */
    bool same_day = st.last_ts_us / 1000000 / 86400 == st.first_ts_us / 1000000 / 86400;
    fl_html_fmt_time(t1, sizeof t1, st.packets ? (double)st.last_ts_us / 1e6 : 0, !same_day);
    fprintf(out,
            "<header class=\"top\"><div class=\"brand\">faultline \xc2\xb7 incident report</div>"
            "<div>%s%s%s UTC</div></header>\n",
            st.packets ? t0 : "no packets", st.packets ? " \xe2\x80\x93 " : "",
            st.packets ? t1 : "");
}

int fl_report_html(const fl_run_view *rv, FILE *out)
{
    const fl_aggregate *agg = rv->agg;
    const fl_providers *prov = rv->prov;
    fl_engine_stats st = rv->stats;
    const fl_history_entry *h;
    size_t nh = fl_aggregate_history(agg, &h);
    const fl_alert *al = rv->alerts;
    size_t na = rv->nalerts;
    const fl_service_tally *tallies;
    size_t ntallies = fl_aggregate_services(agg, &tallies);
    int rc = -1;

    uint32_t bucket_s = fl_aggregate_bucket_s(agg) ? fl_aggregate_bucket_s(agg) : 10;
    part parts[MAX_PARTS];
    axis axes[MAX_PARTS] = { { 0 } };
    fl_series s[MAX_PARTS];
    memset(s, 0, sizeof s);
    size_t nparts_all = time_parts(h, nh, bucket_s, parts, MAX_PARTS);
    size_t nparts = nparts_all < MAX_PARTS ? nparts_all : MAX_PARTS;
    for (size_t k = 0; k < nparts; k++)
        axes[k] = time_axis(agg, h, nh, &st, parts[k].from, parts[k].to);
    if (!nparts) {
        axes[0] = time_axis(agg, h, nh, &st, 0, UINT64_MAX);
        nparts = 1;
    }
    axis ax = axes[0];
    if (nparts > 1)
        ax.t1 = axes[nparts - 1].t1; /* the end of the last part */
    uint64_t capture_end = st.packets ? st.last_ts_us / 1000000 + 1 : ax.t1;

    size_t np = fl_aggregate_provider_slots(agg);
    prov_view *pv = calloc(np ? np : 1, sizeof *pv);
    fl_incident *av = calloc(na ? na : 1, sizeof *av);
    const fl_service_tally **top = calloc(TOP_SERVICES, sizeof(const fl_service_tally *));
    if (!pv || !av || !top)
        goto out;

    for (size_t i = 0; i < na; i++) {
        av[i].a = &al[i];
        av[i].provider = al[i].local ? FL_ALL_PROVIDERS : fl_providers_find(prov, al[i].provider);
        if (fl_incident_analyse(&av[i], h, nh, ax.bucket_s, capture_end) < 0)
            goto out;
    }
    size_t npv = provider_views(rv, av, pv);
    qsort(pv, npv, sizeof *pv, prov_cmp);

    page_head(out, rv);
    verdict(out, av, na, pv, npv);
    fputc('\n', out);
    summary(out, rv);
    fputc('\n', out);
    alerts_table(out, av, na, agg, tallies, ntallies);
    fputc('\n', out);
    fl_html_drill(out, rv, av, na);

    if (npv) {
        char bs[32];
        fl_html_fmt_dur(bs, sizeof bs, (double)ax.step);
        bool merged = false;
        for (size_t k = 0; k < nparts; k++)
            merged = merged || axes[k].step != axes[k].bucket_s;
        /* one part: its step; several: each part has its own */
        fl_html_fmt_dur(bs, sizeof bs, (double)(nparts == 1 ? ax.step : ax.bucket_s));
        fprintf(out,
                "<section><h2>Providers</h2><p class=\"sub\">Failure ratio per signal over time "
                "(one point per %s%s), flows below. Hover for numbers. Times are UTC.",
                bs,
                !merged       ? ""
                : nparts == 1 ? ", buckets merged"
                              : " or more where a part is long");
        if (nparts_all > 1) {
            char gap[32];
            fl_html_fmt_dur(gap, sizeof gap, (double)CHART_POINTS * bucket_s);
            fprintf(out,
                    " <b>The capture is cut into %zu parts</b> at gaps longer than %s (one "
                    "axis would show mostly empty time); each part has its own chart",
                    nparts_all, gap);
            if (nparts_all > nparts)
                fprintf(out, " (the first %zu drawn; counters and tables cover all)", nparts);
            fputc('.', out);
        }
        fputs("</p></section>\n", out);
    }
    for (size_t i = 0; i < npv; i++) {
        for (size_t k = 0; k < nparts; k++)
            if (fl_series_build(&s[k], h, nh, pv[i].id, axes[k].t0, axes[k].step, axes[k].n) < 0)
                goto out;
        fputs("<section>", out);
        provider_section(out, axes, nparts, &pv[i], s, av, na, agg, prov, tallies, ntallies, top);
        for (size_t k = 0; k < na; k++)
            if (!av[k].a->local && av[k].provider == pv[i].id)
                fl_report_https_moved(out, rv, &av[k]);
        fputs("</section>\n", out);
        for (size_t k = 0; k < nparts; k++)
            fl_series_free(&s[k]);
    }
    fprintf(out,
            "<footer>Generated by faultline %s from packet times alone (passive: nothing was "
            "probed). %u s buckets. This page loads nothing from the network.</footer>\n"
            "</main></body></html>\n",
            FL_VERSION, ax.bucket_s);
    rc = ferror(out) ? -1 : 0;
out:
    for (size_t k = 0; k < MAX_PARTS; k++)
        fl_series_free(&s[k]);
    free(pv);
    free(av);
    free(top);
    return rc;
}
