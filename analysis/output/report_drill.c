/* report_drill.c - the HTML report's "who failed" block: per alert, its
 * top failing clients (pseudonyms under [privacy]) and servers, and a
 * sample of failing connections (fl_drill.h), so the analyst does not go
 * back to tshark to learn which clients failed. */
#include <math.h>
#include <stdlib.h>

#include "fl_counters.h"
#include "fl_drill.h"
#include "fl_run.h"
#include "fl_text.h"
#include "html_int.h"

static void top_table(FILE *o, const char *what, const fl_drill_count *c, size_t n,
                      uint64_t distinct)
{
    fprintf(o,
            "<div><table><thead><tr><th>Top failing %s</th><th class=\"n\">Failures</th>"
            "</tr></thead><tbody>",
            what);
    for (size_t i = 0; i < n; i++) {
        char f[32];
        fl_html_fmt_int(f, sizeof f, c[i].failures);
        fputs("<tr><td class=\"name\">", o);
        fl_html_esc(o, c[i].addr);
        fprintf(o, "</td><td class=\"n\">%s</td></tr>", f);
    }
    if (!n)
        fputs("<tr><td class=\"muted\" colspan=\"2\">none known</td></tr>", o);
    else if (distinct > n)
        fprintf(o, "<tr><td class=\"muted\" colspan=\"2\">%llu more</td></tr>",
                (unsigned long long)(distinct - n));
    fputs("</tbody></table></div>", o);
}

static void sample_table(FILE *o, const fl_drill *rv_drill, const fl_drill_view *dv)
{
    fputs("<table class=\"sample\"><thead><tr><th>Time (UTC)</th><th>Client</th><th>Server</th>"
          "<th>Signal</th><th>Reason</th></tr></thead><tbody>",
          o);
    for (size_t i = 0; i < dv->nsample; i++) {
        const fl_drill_rec *r = &dv->sample[i];
        char t[32], sv[64] = "?", why[4 * sizeof r->reason + 1];
        double ts = (double)r->ts_us / 1e6;
        fl_html_fmt_time(t, sizeof t, ts, false);
        if (r->has_server)
            fl_addr_str(&r->server, sv, sizeof sv);
        fl_text_visible(r->reason, why, sizeof why);
        fprintf(o, "<tr><td>%s.%03d</td><td class=\"name\">", t, (int)(fmod(ts, 1.0) * 1000));
        /* an IPv6 address in brackets before its port (RFC 5952 section 6) */
        bool c6 = r->client.family == 6 && !fl_drill_pseudonyms(rv_drill);
        fprintf(o, "%s", c6 ? "[" : "");
        fl_html_esc(o, dv->sample_client[i]);
        fprintf(o, "%s:%u</td><td class=\"name\">%s", c6 ? "]" : "", r->client_port,
                r->has_server && r->server.family == 6 ? "[" : "");
        fl_html_esc(o, sv);
        fprintf(o, "%s:%u %s</td><td>%s</td><td>",
                r->has_server && r->server.family == 6 ? "]" : "", r->server_port,
                r->ip_proto == 6    ? "tcp"
                : r->ip_proto == 17 ? "udp"
                                    : "",
                fl_counter_name((fl_counter)r->signal));
        fl_html_esc(o, why);
        fputs("</td></tr>", o);
    }
    fputs("</tbody></table>", o);
}

void fl_html_drill(FILE *o, const struct fl_run_view *rv, const fl_incident *av, size_t nav)
{
    if (!rv->drill || !nav)
        return;
    fl_drill_view *dv = malloc(sizeof *dv);
    if (!dv)
        return;
    bool head = false;
    for (size_t i = 0; i < nav; i++) {
        const fl_alert *a = av[i].a;
        if (a->local || av[i].provider == FL_ALL_PROVIDERS)
            continue;
        double until = a->resolved_at > 0 ? a->resolved_at : HUGE_VAL;
        if (!fl_drill_window(rv->drill, (uint16_t)av[i].provider, a->onset_at, until, dv))
            break;
        if (!head) {
            fputs("<section><h2>Who failed</h2><p class=\"sub\">Per alert, from its onset to its "
                  "resolve: the clients and servers with the most failures, and failing "
                  "connections spread over the alert",
                  o);
            if (fl_drill_pseudonyms(rv->drill))
                fputs("; clients as pseudonyms ([privacy] client_key_file)", o);
            fputs(".</p>", o);
            head = true;
        }
        char f[32];
        fl_html_fmt_int(f, sizeof f, dv->failures);
        fprintf(o, "<h3>Alert #%u \xc2\xb7 ", a->id);
        fl_html_esc(o, a->provider);
        fprintf(o, "</h3><p class=\"sub\">%s failures: %llu clients, %llu servers%s.</p>", f,
                (unsigned long long)dv->distinct_clients, (unsigned long long)dv->distinct_servers,
                dv->partial ? " (only the newest failures were kept: partial)" : "");
        fputs("<div class=\"cols\">", o);
        top_table(o, fl_drill_pseudonyms(rv->drill) ? "clients (pseudonyms)" : "clients",
                  dv->clients, dv->nclients, dv->distinct_clients);
        top_table(o, "servers", dv->servers, dv->nservers, dv->distinct_servers);
        fputs("</div>", o);
        if (dv->nsample)
            sample_table(o, rv->drill, dv);
    }
    if (head)
        fputs("</section>\n", o);
    free(dv);
}
