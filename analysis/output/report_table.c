/* report_table.c - the replay summary for people: one line per provider. */
#include <stdlib.h>

#include "fl_families.h"
#include "fl_report.h"

void fl_report_table(const fl_run_view *rv, FILE *out)
{
    const fl_engine_stats *sp = &rv->stats;
    const fl_report_source *src = &rv->src;
    const fl_aggregate *agg = rv->agg;
    const fl_providers *prov = rv->prov;
    double span = sp->packets ? (double)(sp->last_ts_us - sp->first_ts_us) / 1e6 : 0;
    fprintf(out, "%llu packets, %llu bytes over %.1f s from %zu file(s)%s%s",
            (unsigned long long)sp->packets, (unsigned long long)sp->bytes, span, src->nfiles,
            src->interface ? " on " : "", src->interface ? src->interface : "");
    fprintf(out, "; %llu decode errors, %llu one-way flows\n\n",
            (unsigned long long)sp->decode_errors, (unsigned long long)sp->one_way_flows);
    fprintf(out, "%-14s %7s %7s %6s %6s %6s %6s %6s %6s %6s %6s %6s %6s %6s %6s\n", "provider",
            "flows", "fails", "tcpatt", "refuse", "synto", "reset", "tls", "tlsfl", "dnsq", "srvfl",
            "dnsto", "http", "5xx", "client");
    size_t np = fl_aggregate_provider_slots(agg);
    for (size_t p = 0; p < np; p++) {
        const fl_counts *c = fl_aggregate_totals(agg, (uint16_t)p);
        if (!c || (!c->v[FL_C_flows] && !c->v[FL_C_dns_queries] && !c->v[FL_C_dns_responses]))
            continue;
        const uint64_t *v = c->v;
        fprintf(out,
                "%-14.14s %7llu %7llu %6llu %6llu %6llu %6llu %6llu %6llu %6llu %6llu %6llu %6llu "
                "%6llu %6llu\n",
                fl_providers_name(prov, (fl_provider_id)p), (unsigned long long)v[FL_C_flows],
                (unsigned long long)fl_counts_failures(c), (unsigned long long)v[FL_C_tcp_attempts],
                (unsigned long long)v[FL_C_tcp_refused],
                (unsigned long long)v[FL_C_tcp_syn_timeouts],
                (unsigned long long)v[FL_C_tcp_resets], (unsigned long long)v[FL_C_tls_handshakes],
                (unsigned long long)v[FL_C_tls_failures], (unsigned long long)v[FL_C_dns_queries],
                (unsigned long long)v[FL_C_dns_servfail], (unsigned long long)v[FL_C_dns_timeouts],
                (unsigned long long)v[FL_C_http_responses], (unsigned long long)v[FL_C_http_5xx],
                (unsigned long long)fl_aggregate_total_clients(agg, (uint16_t)p));
    }
}
