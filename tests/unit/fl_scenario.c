/* fl_scenario.c - run the capture generator and replay its output. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fl_scenario.h"
#include "fl_source.h"

static void parse_truth(const char *path, fl_truth *t)
{
    FILE *f = fopen(path, "r");
    ck_assert_msg(f != NULL, "no truth file %s", path);
    char line[1024];
    t->n = 0;
    while (fgets(line, sizeof line, f)) {
        if (line[0] == '#' || line[0] == '\n')
            continue;
        ck_assert_int_lt(t->n, FL_TRUTH_MAX);
        fl_truth_row *r = &t->rows[t->n];
        memset(r, 0, sizeof *r);
        char *fields[5] = { r->type, r->provider, r->name, r->value, r->value2 };
        size_t sizes[5] = { sizeof r->type, sizeof r->provider, sizeof r->name, sizeof r->value,
                            sizeof r->value2 };
        char *p = line;
        for (int i = 0; i < 5 && p; i++) {
            char *tab = strchr(p, '\t');
            size_t len = tab ? (size_t)(tab - p) : strcspn(p, "\r\n");
            snprintf(fields[i], sizes[i], "%.*s", (int)len, p);
            p = tab ? tab + 1 : NULL;
        }
        t->n++;
    }
    fclose(f);
}

const char *fl_scenario_generate(const char *scenario, unsigned seed, const char *extra,
                                 fl_truth *truth)
{
    static char dir[256], pcap[320], tsv[320];
    snprintf(dir, sizeof dir, "/tmp/fl-scenario-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char cmd[2048];
    /* "matrix/KIND": a capture of the randomized matrix (flgen --matrix) */
    bool matrix = !strncmp(scenario, "matrix/", 7);
    snprintf(pcap, sizeof pcap, "%s/%s-%u.pcap", dir, matrix ? scenario + 7 : scenario, seed);
    snprintf(tsv, sizeof tsv, "%s/%s-%u.tsv", dir, matrix ? scenario + 7 : scenario, seed);
    snprintf(cmd, sizeof cmd, "%s/tests/gen/flgen --seed %u --%s %s --out %s --truth %s %s",
             FL_TEST_BINDIR, seed, matrix ? "matrix" : "scenario", matrix ? scenario + 7 : scenario,
             pcap, tsv, extra ? extra : "");
    int rc = system(cmd);
    ck_assert_msg(rc == 0, "flgen failed: %s", cmd);
    parse_truth(tsv, truth);
    unlink(tsv);
    return pcap;
}

int fl_scenario_remove(const char *pcap)
{
    char dir[320];
    snprintf(dir, sizeof dir, "%s", pcap);
    char *slash = strrchr(dir, '/');
    if (unlink(pcap) != 0 || !slash)
        return -1;
    *slash = '\0';
    return rmdir(dir);
}

fl_engine *fl_scenario_replay(const char *pcap, fl_config *cfg, const char *const *settings)
{
    char err[1024];
    fl_config_defaults(cfg);
    for (int i = 0; settings && settings[i]; i++) {
        char name[128];
        const char *eq = strchr(settings[i], '=');
        ck_assert_ptr_nonnull(eq);
        snprintf(name, sizeof name, "%.*s", (int)(eq - settings[i]), settings[i]);
        ck_assert_msg(fl_config_set(cfg, name, eq + 1, err, sizeof err), "%s", err);
    }
    fl_config_resolve_paths(cfg);
    const char *files[] = { pcap };
    fl_source_options so = { 0 };
    fl_source *src = fl_source_open_files(files, 1, &so, err, sizeof err);
    ck_assert_msg(src != NULL, "%s", err);
    fl_engine *e = fl_engine_new(cfg, err, sizeof err);
    ck_assert_msg(e != NULL, "%s", err);
    fl_frame fr;
    while (fl_source_next(src, &fr) == FL_SRC_FRAME)
        fl_engine_frame(e, &fr);
    fl_engine_finish(e);
    fl_source_close(src);
    return e;
}

uint64_t fl_scenario_total(fl_engine *e, const char *provider, const char *counter)
{
    fl_provider_id id = fl_providers_find(fl_engine_providers(e), provider);
    fl_counter c = fl_counter_from_name(counter);
    ck_assert_msg(c != FL_C_COUNT, "unknown counter %s", counter);
    const fl_counts *t = fl_aggregate_totals(fl_engine_aggregate(e), id);
    return t ? t->v[c] : 0;
}
