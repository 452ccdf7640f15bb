/* test_oracle_quic.c - faultline's QUIC figures on the public QUIC captures
 * against tshark's, column by column: pcaps/real-quic/MANIFEST.tsv (how it
 * was made: pcaps/real-quic/ORACLE.md).
 *
 * Every difference must be listed, with its reason, in
 * tests/oracle/differences_quic.tsv (file, column, tshark, faultline,
 * reason); an unlisted difference fails, and so does a listed one that no
 * longer holds exactly. The two captures malformed on purpose run here too
 * (and under ASan in CI): errors counted, never a crash. The real-stack
 * captures of pcaps/quic-stack are checked against their tshark oracle.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fl_engine.h"
#include "fl_source.h"
#include "fl_test_util.h"

#define MAXCOLS 32
#define MAXROWS 64

typedef struct table {
    char *cols[MAXCOLS];
    int ncols;
    char *rows[MAXROWS][MAXCOLS];
    int nrows;
} table;

static void split(char *line, char **out, int *n)
{
    *n = 0;
    line[strcspn(line, "\r\n")] = '\0';
    for (char *p = line;;) {
        char *tab = strchr(p, '\t');
        if (tab)
            *tab = '\0';
        if (*n < MAXCOLS)
            out[(*n)++] = strdup(p);
        if (!tab)
            break;
        p = tab + 1;
    }
}

static void table_free(table *t)
{
    for (int c = 0; c < t->ncols; c++)
        free(t->cols[c]);
    for (int r = 0; r < t->nrows; r++)
        for (int c = 0; c < MAXCOLS; c++)
            free(t->rows[r][c]);
    memset(t, 0, sizeof *t);
}

/* Load a TSV into t (whatever t held before is freed). */
static void load_tsv(const char *rel, table *t)
{
    table_free(t);
    char *path = fl_test_path(rel);
    FILE *f = fopen(path, "r");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    char line[8192];
    while (fgets(line, sizeof line, f)) {
        if (line[0] == '#' || line[0] == '\n')
            continue;
        int n;
        if (!t->ncols) {
            split(line, t->cols, &t->ncols);
            continue;
        }
        ck_assert_int_lt(t->nrows, MAXROWS);
        split(line, t->rows[t->nrows++], &n);
        ck_assert_int_eq(n, t->ncols);
    }
    fclose(f);
    free(path);
}

static const char *cell(const table *t, int row, const char *col)
{
    for (int c = 0; c < t->ncols; c++)
        if (!strcmp(t->cols[c], col))
            return t->rows[row][c];
    ck_abort_msg("no column %s", col);
    return NULL;
}

static void replay_dir(const char *dir, const char *file, fl_engine_stats *st, fl_counts *totals)
{
    char rel[512];
    snprintf(rel, sizeof rel, "pcaps/%s/%s", dir, file);
    char *path = fl_test_path(rel);
    fl_config cfg;
    fl_config_defaults(&cfg);
    fl_config_resolve_paths(&cfg);
    char err[1024];
    const char *files[] = { path };
    fl_source_options so = { 0 };
    fl_source *src = fl_source_open_files(files, 1, &so, err, sizeof err);
    ck_assert_msg(src != NULL, "%s: %s", file, err);
    fl_engine *e = fl_engine_new(&cfg, err, sizeof err);
    ck_assert_msg(e != NULL, "%s", err);
    fl_frame fr;
    while (fl_source_next(src, &fr) == FL_SRC_FRAME)
        fl_engine_frame(e, &fr);
    fl_engine_finish(e);
    fl_engine_get_stats(e, st);
    if (totals) {
        uint64_t clients;
        fl_aggregate_grand_totals(fl_engine_aggregate(e), totals, &clients);
    }
    fl_engine_free(e);
    fl_source_close(src);
    free(path);
}

static void replay(const char *file, fl_engine_stats *st)
{
    replay_dir("real-quic", file, st, NULL);
}

/* Our figure for a MANIFEST column, as text ("-" for no versions). */
static void ours(const fl_engine_stats *st, const char *col, char *out, size_t cap)
{
    const struct {
        const char *col;
        uint64_t v;
    } map[] = {
        { "packets", st->packets },
        { "quic_flows", st->quic.flows },
        { "quic_handshakes", st->quic.handshakes },
        { "quic_answered", st->quic.answered },
        { "quic_unanswered", st->quic.unanswered },
        { "quic_server_hello", st->quic.server_hello },
        { "quic_close_server", st->quic.close_server },
        { "quic_close_client", st->quic.close_client },
        { "quic_vn", st->quic.vn },
        { "quic_snis", st->quic.snis },
    };
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (!strcmp(map[i].col, col)) {
            snprintf(out, cap, "%llu", (unsigned long long)map[i].v);
            return;
        }
    ck_assert_str_eq(col, "quic_versions");
    size_t n = 0;
    out[0] = '\0';
    for (uint32_t i = 0; i < st->quic.nversions && n + 12 < cap; i++)
        n += (size_t)snprintf(out + n, cap - n, "%s0x%08x", i ? "," : "", st->quic.versions[i]);
    if (!n)
        snprintf(out, cap, "-");
}

static const char *const columns[] = {
    "packets",         "quic_flows",        "quic_handshakes",   "quic_answered",
    "quic_unanswered", "quic_server_hello", "quic_close_server", "quic_close_client",
    "quic_vn",         "quic_versions",     "quic_snis",
};
#define NCOLUMNS (int)(sizeof columns / sizeof columns[0])

START_TEST(test_quic_captures_match_tshark)
{
    static table manifest, diffs;
    load_tsv("pcaps/real-quic/MANIFEST.tsv", &manifest);
    load_tsv("tests/oracle/differences_quic.tsv", &diffs);
    ck_assert_int_ge(manifest.nrows, 34);
    bool used[MAXROWS] = { false };
    int failures = 0, compared = 0, equal = 0;
    for (int r = 0; r < manifest.nrows; r++) {
        const char *file = cell(&manifest, r, "file");
        fl_engine_stats st;
        replay(file, &st);
        for (int c = 0; c < NCOLUMNS; c++) {
            char got[256];
            const char *want = cell(&manifest, r, columns[c]);
            ours(&st, columns[c], got, sizeof got);
            compared++;
            int listed = -1;
            for (int d = 0; d < diffs.nrows; d++)
                if (!strcmp(cell(&diffs, d, "file"), file) &&
                    !strcmp(cell(&diffs, d, "column"), columns[c]))
                    listed = d;
            if (listed >= 0) {
                used[listed] = true;
                if (strcmp(cell(&diffs, listed, "tshark"), want) != 0 ||
                    strcmp(cell(&diffs, listed, "faultline"), got) != 0) {
                    fprintf(stderr, "STALE\t%s\t%s\tlisted %s/%s, now tshark %s faultline %s\n",
                            file, columns[c], cell(&diffs, listed, "tshark"),
                            cell(&diffs, listed, "faultline"), want, got);
                    failures++;
                }
            } else if (strcmp(want, got) != 0) {
                fprintf(stderr, "DIFF\t%s\t%s\t%s\t%s\n", file, columns[c], want, got);
                failures++;
            } else {
                equal++;
            }
        }
    }
    for (int d = 0; d < diffs.nrows; d++)
        if (!used[d]) {
            fprintf(stderr, "UNUSED differences_quic.tsv row: %s %s\n", cell(&diffs, d, "file"),
                    cell(&diffs, d, "column"));
            failures++;
        }
    fprintf(stderr, "quic oracle: %d comparisons, %d equal, %d listed differences, %d failures\n",
            compared, equal, diffs.nrows, failures);
    table_free(&manifest);
    table_free(&diffs);
    ck_assert_int_eq(failures, 0);
}
END_TEST

/* The captures malformed on purpose: counted, not crashed on. */
START_TEST(test_malformed_captures)
{
    fl_engine_stats st;
    replay("quic-mvfst-22_decryption_error.pcap", &st);
    ck_assert_uint_eq(st.quic.flows, 1);
    ck_assert_uint_eq(st.quic.handshakes, 0);
    ck_assert_uint_ge(st.quic.decode_errors, 1);
    /* an IPv4 first fragment carrying gQUIC Q024 (no TLS): no QUIC flow */
    replay("quic-fuzz-overflow.pcapng", &st);
    ck_assert_uint_eq(st.packets, 1);
    ck_assert_uint_eq(st.quic.flows, 0);
}
END_TEST

/* Real QUIC stacks (ngtcp2 0.12, pcaps/quic-stack/README.md): per capture,
 * tshark's per-flow oracle summed against faultline's counters. */
START_TEST(test_quic_stack_captures)
{
    static const char *const caps[] = { "handshakes", "refused",  "vn",      "stopped",
                                        "blackhole",  "fallback", "v2draft", "responses" };
    static table o;
    for (size_t i = 0; i < sizeof caps / sizeof caps[0]; i++) {
        char rel[256], pcap[64];
        snprintf(rel, sizeof rel, "pcaps/quic-stack/%s.oracle.tsv", caps[i]);
        snprintf(pcap, sizeof pcap, "%s.pcap", caps[i]);
        load_tsv(rel, &o);
        uint64_t hs = 0, sh = 0, closed = 0, unanswered = 0, fallbacks = 0, vn = 0;
        for (int r = 0; r < o.nrows; r++) {
            const char *outcome = cell(&o, r, "outcome");
            hs += strcmp(cell(&o, r, "sni"), "-") != 0;
            sh += strtoull(cell(&o, r, "server_hello"), NULL, 10) > 0;
            closed += strcmp(cell(&o, r, "close"), "-") != 0;
            /* no server datagram: an ICMP unreachable is no QUIC answer */
            unanswered += !strcmp(outcome, "unanswered") || !strcmp(outcome, "icmp_unreachable");
            fallbacks += strcmp(cell(&o, r, "tcp_fallback"), "-") != 0;
            vn += strtoull(cell(&o, r, "vn"), NULL, 10) > 0;
        }
        fl_engine_stats st;
        fl_counts c;
        memset(&c, 0, sizeof c);
        replay_dir("quic-stack", pcap, &st, &c);
        ck_assert_msg(c.v[FL_C_quic_handshakes] == hs && st.quic.handshakes == hs,
                      "%s: handshakes %llu, oracle %llu", caps[i],
                      (unsigned long long)c.v[FL_C_quic_handshakes], (unsigned long long)hs);
        ck_assert_msg(st.quic.server_hello == sh, "%s: server_hello", caps[i]);
        ck_assert_msg(c.v[FL_C_quic_closes] == closed && st.quic.close_server == closed,
                      "%s: closes", caps[i]);
        ck_assert_msg(c.v[FL_C_quic_unanswered] == unanswered, "%s: unanswered %llu, oracle %llu",
                      caps[i], (unsigned long long)c.v[FL_C_quic_unanswered],
                      (unsigned long long)unanswered);
        /* VN here lists v1: a version in common, no failure */
        ck_assert_msg(st.quic.vn == vn && st.quic.vn_none == 0, "%s: vn", caps[i]);
        ck_assert_msg(c.v[FL_C_quic_failures] == closed + unanswered, "%s: failures", caps[i]);
        ck_assert_msg(c.v[FL_C_quic_fallbacks] == fallbacks, "%s: fallbacks %llu, oracle %llu",
                      caps[i], (unsigned long long)c.v[FL_C_quic_fallbacks],
                      (unsigned long long)fallbacks);
    }
    table_free(&o);
}
END_TEST

/* HTTP/3 responses inside the real stack's QUIC connections, counted by the
 * engine as HTTPS responses of the connection's provider: as many as tshark
 * reads with the client's key log (one per request stream); nothing about
 * them is a failure (files, a 404 page and an error page of one site pair
 * are no mode across a provider's sites: FL_HTTPS_OTHER_SITES_MIN). */
START_TEST(test_quic_stack_responses)
{
    static table o;
    load_tsv("pcaps/quic-stack/responses.streams.tsv", &o);
    fl_engine_stats st;
    fl_counts c;
    memset(&c, 0, sizeof c);
    replay_dir("quic-stack", "responses.pcap", &st, &c);
    ck_assert_int_eq(o.nrows, 24);
    ck_assert_msg(c.v[FL_C_https_responses] == (uint64_t)o.nrows, "https_responses %llu, tshark %d",
                  (unsigned long long)c.v[FL_C_https_responses], o.nrows);
    ck_assert_uint_eq(c.v[FL_C_https_suspect], 0);
    ck_assert_uint_eq(c.v[FL_C_tls_stalls], 0);
    ck_assert_uint_eq(c.v[FL_C_quic_failures], 0);
    table_free(&o);
}
END_TEST

static Suite *oracle_quic_suite(void)
{
    Suite *s = suite_create("oracle_quic");
    TCase *t = tcase_create("manifest");
    tcase_set_timeout(t, 300);
    tcase_add_test(t, test_quic_captures_match_tshark);
    tcase_add_test(t, test_malformed_captures);
    tcase_add_test(t, test_quic_stack_captures);
    tcase_add_test(t, test_quic_stack_responses);
    suite_add_tcase(s, t);
    return s;
}

int main(void)
{
    return fl_test_run(oracle_quic_suite());
}
