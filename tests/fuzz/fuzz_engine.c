/* fuzz_engine.c - the whole pipeline fed with a capture file: source,
 * decoder, flow table, nDPI, provider attribution, TCP tracking, the TLS,
 * HTTP and DNS dissectors, timers, counters and the detector. One engine is
 * built on the first input (loading the provider tables and nDPI costs
 * ~100 ms) and fl_engine_reset() between inputs gives each input a fresh
 * state at a few microseconds' cost. Names learned from DNS answers survive
 * the reset (a bounded cache); everything counted does not. */
#include <stdio.h>
#include <stdlib.h>

#include "fl_engine.h"
#include "fuzz.h"

#define MAX_FRAMES 5000

static fl_config cfg;
static fl_engine *engine;

static fl_engine *get_engine(void)
{
    if (engine)
        return engine;
    fl_config_defaults(&cfg);
    fl_config_resolve_paths(&cfg);
    /* small tables: a fuzz input holds a few hundred flows at most, and the
     * caps themselves are exercised (eviction, timer ring full) */
    char err[1024];
    static const char *const small[][2] = {
        { "flow_cap", "256" },
        { "classify_cap", "64" },
        { "dns_pending_cap", "64" },
        { "learned_names_cap", "256" },
        /* per-input reset rebuilds these: small keeps it at microseconds */
        { "quic_reasm_cap", "8" },
        { "https_sni_cap", "16" },
    };
    for (size_t i = 0; i < sizeof small / sizeof small[0]; i++)
        if (!fl_config_set(&cfg, small[i][0], small[i][1], err, sizeof err)) {
            fprintf(stderr, "fuzz_engine: %s\n", err);
            abort();
        }
    engine = fl_engine_new(&cfg, err, sizeof err);
    if (!engine) {
        fprintf(stderr, "fuzz_engine: %s\n", err);
        abort();
    }
    return engine;
}

static void free_engine(void)
{
    fl_engine_free(engine);
    engine = NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!engine) {
        get_engine();
        atexit(free_engine);
    }
    const char *path = fl_fuzz_scratch(data, size, ".pcap");
    if (!path)
        return 0;
    char err[1024];
    fl_source_options opt = { 0 };
    fl_source *s = fl_source_open_files(&path, 1, &opt, err, sizeof err);
    if (!s)
        return 0;
    fl_frame fr;
    for (unsigned i = 0; i < MAX_FRAMES && fl_source_next(s, &fr) == FL_SRC_FRAME; i++)
        fl_engine_frame(engine, &fr);
    fl_source_close(s);
    fl_engine_finish(engine);
    if (!fl_engine_reset(engine))
        abort();
    return 0;
}
