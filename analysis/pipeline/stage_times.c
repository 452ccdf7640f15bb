/* stage_times.c - per-stage time accounting for the benchmark (see
 * fl_stage_times.h). Compiled to an empty unit unless FL_STAGE_TIMES. */
#include "fl_stage_times.h"

#ifdef FL_STAGE_TIMES
#include <time.h>
#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
static inline uint64_t ticks(void)
{
    return __rdtsc();
}
#else
static inline uint64_t ticks(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}
#endif

/* Thread-local: each worker thread accounts its own stages. */
static _Thread_local uint64_t acc[FL_STAGE_N];
static _Thread_local uint64_t last;
static _Thread_local fl_stage cur;
/* ticks -> ns: both clocks read at the first switch and at the report */
static uint64_t t0_ticks, t0_ns;

static uint64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

fl_stage fl_stage_enter(fl_stage s)
{
    uint64_t now = ticks();
    if (!last) {
        last = now;
        if (!t0_ticks) {
            t0_ticks = now;
            t0_ns = mono_ns();
        }
    }
    fl_stage prev = cur;
    acc[cur] += now - last;
    last = now;
    cur = s;
    return prev;
}

void fl_stage_report(FILE *out, uint64_t packets)
{
    static const char *const names[FL_STAGE_N] = {
        "other", "read", "decode", "lookup", "classify", "dissect", "count", "timers",
    };
    fl_stage_enter(cur);
    uint64_t dt = ticks() - t0_ticks, dns = mono_ns() - t0_ns;
    double ns_per_tick = dt ? (double)dns / (double)dt : 1.0;
    uint64_t total = 0;
    for (int i = 0; i < FL_STAGE_N; i++)
        total += acc[i];
    fprintf(out, "stage ns/packet (%llu packets):", (unsigned long long)packets);
    for (int i = 1; i <= FL_STAGE_N; i++) {
        int k = i % FL_STAGE_N; /* "other" last */
        fprintf(out, " %s %.1f", names[k],
                packets ? (double)acc[k] * ns_per_tick / (double)packets : 0.0);
    }
    fprintf(out, " total %.1f\n", packets ? (double)total * ns_per_tick / (double)packets : 0.0);
}
#else
/* ISO C wants a translation unit to declare something. */
typedef int fl_stage_times_unused;
#endif
