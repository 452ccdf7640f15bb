/* fl_scenario.h - run the capture generator and replay its output. */
#ifndef FL_SCENARIO_H
#define FL_SCENARIO_H

#include <stdbool.h>
#include <stdint.h>
#include "fl_engine.h"

#define FL_TRUTH_MAX 512

typedef struct fl_truth_row {
    char type[16];
    char provider[64];
    char name[64];
    char value[64];
    char value2[64];
} fl_truth_row;

typedef struct fl_truth {
    fl_truth_row rows[FL_TRUTH_MAX];
    int n;
} fl_truth;

/* Generate scenario with seed into a temp dir; returns the pcap path
 * (static buffer) and fills truth. extra: more flgen arguments or NULL.
 * "matrix/KIND" generates a capture of the randomized matrix instead. */
const char *fl_scenario_generate(const char *scenario, unsigned seed, const char *extra,
                                 fl_truth *truth);
/* Deletes a capture of fl_scenario_generate and its temporary folder;
 * 0, or -1 with errno. */
int fl_scenario_remove(const char *pcap);

/* Replay a capture through a fresh engine with default config (plus the
 * optional settings "name=value" list, NULL-terminated). The caller frees
 * with fl_engine_free. */
fl_engine *fl_scenario_replay(const char *pcap, fl_config *cfg, const char *const *settings);

/* Total of counter for provider name in the engine's aggregate. */
uint64_t fl_scenario_total(fl_engine *e, const char *provider, const char *counter);

#endif
