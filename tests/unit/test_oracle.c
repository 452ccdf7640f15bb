/* test_oracle.c - faultline's totals on the real captures against counts
 * no one here wrote: tshark's, from pcaps/real/MANIFEST.tsv (see
 * pcaps/real/ORACLE.md) and tests/oracle/tshark_streams.tsv.
 *
 * Every difference must be listed, with its reason, in
 * tests/oracle/differences.tsv (file, column, tshark, faultline, reason);
 * an unlisted difference fails, and so does a listed one that no longer
 * holds exactly (the list must stay true).
 */
#include <check.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fl_engine.h"
#include "fl_source.h"
#include "fl_test_util.h"
#include "fl_detector.h"

#define MAXCOLS 64
#define MAXROWS 128

typedef struct table {
    char *cols[MAXCOLS];
    int ncols;
    char *rows[MAXROWS][MAXCOLS];
    int nrows;
} table;

static char *dupn(const char *s, size_t n)
{
    char *d = malloc(n + 1);
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

static void split(char *line, char **out, int *n)
{
    *n = 0;
    char *p = line;
    for (;;) {
        char *tab = strchr(p, '\t');
        size_t len = tab ? (size_t)(tab - p) : strcspn(p, "\r\n");
        if (*n < MAXCOLS)
            out[(*n)++] = dupn(p, len);
        if (!tab)
            break;
        p = tab + 1;
    }
}

/* Load a TSV; with append, rows go after those already in t (same columns). */
static void load_tsv_mode(const char *rel, table *t, bool append)
{
    char *path = fl_test_path(rel);
    FILE *f = fopen(path, "r");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    char line[8192];
    bool header = append;
    if (!append)
        memset(t, 0, sizeof *t);
    while (fgets(line, sizeof line, f)) {
        if (line[0] == '#' || line[0] == '\n')
            continue;
        if (!header || (append && strncmp(line, "file\t", 5) == 0)) {
            if (!header)
                split(line, t->cols, &t->ncols);
            header = true;
            continue;
        }
        int n;
        ck_assert_int_lt(t->nrows, MAXROWS);
        split(line, t->rows[t->nrows], &n);
        t->nrows++;
    }
    fclose(f);
    free(path);
}

static void load_tsv(const char *rel, table *t)
{
    load_tsv_mode(rel, t, false);
}

static const char *cell(const table *t, int row, const char *col)
{
    for (int c = 0; c < t->ncols; c++)
        if (!strcmp(t->cols[c], col))
            return t->rows[row][c];
    ck_abort_msg("no column %s", col);
    return NULL;
}

static int find_row(const table *t, const char *col, const char *value)
{
    for (int r = 0; r < t->nrows; r++)
        if (!strcmp(cell(t, r, col), value))
            return r;
    return -1;
}

typedef struct result {
    uint64_t packets, flows_tcp, flows_udp, time_jumps;
    fl_counts totals;
    size_t alerts;
    char first_alert[96]; /* provider/scope of the first, for the message */
} result;

/* One capture file through the engine, default settings. */
static void replay_path(const char *path, result *res)
{
    fl_config cfg;
    fl_config_defaults(&cfg);
    fl_config_resolve_paths(&cfg);
    char err[1024];
    const char *files[] = { path };
    fl_source_options so = { 0 };
    fl_source *src = fl_source_open_files(files, 1, &so, err, sizeof err);
    ck_assert_msg(src != NULL, "%s: %s", path, err);
    fl_engine *e = fl_engine_new(&cfg, err, sizeof err);
    ck_assert_msg(e != NULL, "%s", err);
    fl_frame fr;
    while (fl_source_next(src, &fr) == FL_SRC_FRAME)
        fl_engine_frame(e, &fr);
    fl_engine_finish(e);
    fl_engine_stats st;
    fl_engine_get_stats(e, &st);
    res->packets = st.packets;
    res->flows_tcp = st.flows_tcp;
    res->flows_udp = st.flows_udp;
    res->time_jumps = st.time_jumps;
    uint64_t clients;
    fl_aggregate_grand_totals(fl_engine_aggregate(e), &res->totals, &clients);
    const fl_alert *al;
    res->alerts = fl_detector_alerts(fl_engine_detector(e), &al);
    if (res->alerts)
        snprintf(res->first_alert, sizeof res->first_alert, "%s (scope %s)", al[0].provider,
                 al[0].scope);
    fl_engine_free(e);
    fl_source_close(src);
}

static void replay(const char *file, result *res)
{
    char rel[512];
    snprintf(rel, sizeof rel, "pcaps/real/%s", file);
    char *path = fl_test_path(rel);
    replay_path(path, res);
    free(path);
}

/* MANIFEST column (or tshark_streams column) -> our figure. */
typedef struct mapping {
    const char *column;
    int counter; /* fl_counter, or -1 for the special ones below */
    int special; /* 1 packets, 2 tcp flows, 3 udp flows */
} mapping;

static const mapping manifest_map[] = {
    { "packets", -1, 1 },
    { "dns_servfail", FL_C_dns_servfail, 0 },
    { "dns_nxdomain", FL_C_dns_nxdomain, 0 },
    { "dns_refused", FL_C_dns_refused, 0 },
    { "http_responses", FL_C_http_responses, 0 },
    { "http_4xx", FL_C_http_4xx, 0 },
    { "http_5xx", FL_C_http_5xx, 0 },
    { "tls_alert_fatal", FL_C_tls_alerts, 0 },
    { "tcp_refused_streams", FL_C_tcp_refused, 0 },
    { "tcp_syn_unanswered_streams", FL_C_tcp_syn_timeouts, 0 },
};

static uint64_t ours(const result *r, const mapping *m)
{
    switch (m->special) {
    case 1:
        return r->packets;
    case 2:
        return r->flows_tcp;
    case 3:
        return r->flows_udp;
    default:
        return r->totals.v[m->counter];
    }
}

START_TEST(test_real_captures_match_tshark)
{
    static table manifest, streams, diffs;
    load_tsv("pcaps/real/MANIFEST.tsv", &manifest);
    load_tsv("tests/oracle/tshark_streams.tsv", &streams);
    load_tsv("tests/oracle/differences.tsv", &diffs);
    load_tsv_mode("tests/oracle/differences_http.tsv", &diffs, true);
    ck_assert_int_ge(manifest.nrows, 50);
    bool used[MAXROWS] = { false };
    int failures = 0, compared = 0;

    for (int r = 0; r < manifest.nrows; r++) {
        const char *file = cell(&manifest, r, "file");
        result res;
        memset(&res, 0, sizeof res);
        replay(file, &res);
        int sr = find_row(&streams, "file", file);
        ck_assert_msg(sr >= 0, "%s missing from tshark_streams.tsv", file);
        /* Samples of one host, a few hosts, scans and attacks, seconds to
         * minutes long: none is a provider's outage or a site's uplink
         * loss, and a detector that alerts on one is wrong (ethereum.pcap:
         * one P2P node reset by its peers was a "local" alert before local
         * verdicts needed min_clients failing clients). */
        ck_assert_msg(res.alerts == 0, "%s: %zu alerts, the first %s", file, res.alerts,
                      res.first_alert);

        struct {
            const char *col;
            uint64_t want, got;
        } checks[16];
        int n = 0;
        for (size_t i = 0; i < sizeof manifest_map / sizeof manifest_map[0]; i++) {
            checks[n].col = manifest_map[i].column;
            checks[n].want = strtoull(cell(&manifest, r, manifest_map[i].column), NULL, 10);
            checks[n].got = ours(&res, &manifest_map[i]);
            n++;
        }
        checks[n].col = "tcp_streams";
        checks[n].want = strtoull(cell(&streams, sr, "tcp_streams"), NULL, 10);
        checks[n++].got = res.flows_tcp;
        checks[n].col = "udp_streams";
        checks[n].want = strtoull(cell(&streams, sr, "udp_streams"), NULL, 10);
        checks[n++].got = res.flows_udp;

        for (int i = 0; i < n; i++) {
            compared++;
            int listed = -1;
            for (int d = 0; d < diffs.nrows; d++)
                if (!strcmp(cell(&diffs, d, "file"), file) &&
                    !strcmp(cell(&diffs, d, "column"), checks[i].col))
                    listed = d;
            if (listed >= 0) {
                used[listed] = true;
                uint64_t lw = strtoull(cell(&diffs, listed, "tshark"), NULL, 10);
                uint64_t lg = strtoull(cell(&diffs, listed, "faultline"), NULL, 10);
                if (lw != checks[i].want || lg != checks[i].got) {
                    fprintf(stderr,
                            "STALE %s %s: listed tshark=%llu faultline=%llu, now tshark=%llu "
                            "faultline=%llu\n",
                            file, checks[i].col, (unsigned long long)lw, (unsigned long long)lg,
                            (unsigned long long)checks[i].want, (unsigned long long)checks[i].got);
                    failures++;
                }
            } else if (checks[i].want != checks[i].got) {
                fprintf(stderr, "DIFF\t%s\t%s\t%llu\t%llu\n", file, checks[i].col,
                        (unsigned long long)checks[i].want, (unsigned long long)checks[i].got);
                failures++;
            }
        }
    }
    for (int d = 0; d < diffs.nrows; d++)
        if (!used[d]) {
            fprintf(stderr, "UNUSED differences.tsv row: %s %s\n", cell(&diffs, d, "file"),
                    cell(&diffs, d, "column"));
            failures++;
        }
    fprintf(stderr, "oracle: %d comparisons, %d listed differences, %d failures\n", compared,
            diffs.nrows, failures);
    ck_assert_int_eq(failures, 0);
}
END_TEST

/* Every Ethernet capture of pcaps/real appended into one file, twice over
 * (as tests/bench/bench.sh builds its "real x10" input: mergecap -a):
 * packet time jumps by years between them, back and forth. Each capture
 * alone raises no alert (above), and neither may their concatenation: at
 * a jump the detector's window starts again (fl_detector_restart). Before
 * that, the next capture's first buckets were pooled with the last one's
 * tail, and a "local" alert of four attempts came up in each pass. */
START_TEST(test_real_captures_appended_no_alert)
{
    static table manifest;
    load_tsv("pcaps/real/MANIFEST.tsv", &manifest);
    char tmpl[] = "/tmp/fl-appended-XXXXXX";
    int fd = mkstemp(tmpl);
    ck_assert_int_ge(fd, 0);
    close(fd);
    pcap_t *dead = pcap_open_dead(DLT_EN10MB, 262144);
    pcap_dumper_t *out = pcap_dump_open(dead, tmpl);
    ck_assert_ptr_nonnull(out);
    int files = 0;
    for (int pass = 0; pass < 2; pass++) {
        for (int r = 0; r < manifest.nrows; r++) {
            char rel[512];
            snprintf(rel, sizeof rel, "pcaps/real/%s", cell(&manifest, r, "file"));
            char *path = fl_test_path(rel);
            char err[PCAP_ERRBUF_SIZE];
            pcap_t *in = pcap_open_offline(path, err); /* a .gz one does not open: left out */
            free(path);
            if (!in)
                continue;
            if (pcap_datalink(in) == DLT_EN10MB) {
                struct pcap_pkthdr *h;
                const u_char *d;
                while (pcap_next_ex(in, &h, &d) == 1) /* a truncated file: what it holds */
                    pcap_dump((u_char *)out, h, d);
                files += pass == 0;
            }
            pcap_close(in);
        }
    }
    pcap_dump_close(out);
    pcap_close(dead);
    ck_assert_int_ge(files, 30);

    result res;
    memset(&res, 0, sizeof res);
    replay_path(tmpl, &res);
    unlink(tmpl); /* before any assertion: a failing one ends the test */
    ck_assert_uint_ge(res.time_jumps, 2 * (uint64_t)files - 20);
    ck_assert_msg(res.alerts == 0, "%zu alerts over %llu jumps, the first %s", res.alerts,
                  (unsigned long long)res.time_jumps, res.first_alert);
}
END_TEST

static Suite *oracle_suite(void)
{
    Suite *s = suite_create("oracle");
    TCase *tc = tcase_create("real");
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, test_real_captures_match_tshark);
    tcase_add_test(tc, test_real_captures_appended_no_alert);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return fl_test_run(oracle_suite());
}
