/* fl_stage_times.h - where a packet's time goes, per stage (issue 12).
 *
 * Built only with -DFL_STAGE_TIMES=ON (cmake option of the same name): the
 * normal build compiles every FL_STAGE_* macro to nothing, so the per-packet
 * path pays nothing for it. With it, each switch of stage reads the CPU's
 * time-stamp counter (rdtsc, about 10 ns; clock_gettime elsewhere) and
 * charges the time since the last switch to the stage that was running, so
 * nested stages (a counter bumped inside a dissector) are charged to the
 * innermost one and the stages add up to the run's time.
 *
 *   fl_stage prev;
 *   FL_STAGE_PUSH(prev, FL_STAGE_DECODE);
 *   ... decode ...
 *   FL_STAGE_POP(prev);
 */
#ifndef FL_STAGE_TIMES_H
#define FL_STAGE_TIMES_H

#include <stdint.h>
#include <stdio.h>

typedef enum fl_stage {
    FL_STAGE_OTHER = 0, /* the CLI loop, outputs, anything not below */
    FL_STAGE_READ,      /* fl_source_next: the capture reader */
    FL_STAGE_DECODE,    /* link layer, tunnels, IP, L4 headers */
    FL_STAGE_LOOKUP,    /* flow table lookup and insert */
    FL_STAGE_CLASSIFY,  /* nDPI and provider attribution */
    FL_STAGE_DISSECT,   /* TCP state, TLS, HTTP, DNS, QUIC dissectors */
    FL_STAGE_COUNT,     /* counters and failing-client tallies */
    FL_STAGE_TIMERS,    /* housekeeping: timeouts, bucket close, detector */
    FL_STAGE_N
} fl_stage;

#ifdef FL_STAGE_TIMES
/* Charge the time since the last switch to the running stage, run s;
 * returns the stage that was running. */
fl_stage fl_stage_enter(fl_stage s);
/* One line per stage: ns per packet and share of the total (stderr). */
void fl_stage_report(FILE *out, uint64_t packets);
#define FL_STAGE_PUSH(prev, s) ((prev) = fl_stage_enter(s))
#define FL_STAGE_POP(prev) ((void)fl_stage_enter(prev))
#define FL_STAGE_DECL(prev) fl_stage prev
#define FL_STAGE_SET(s) ((void)fl_stage_enter(s))
#else
#define FL_STAGE_PUSH(prev, s) ((void)0)
#define FL_STAGE_POP(prev) ((void)0)
#define FL_STAGE_DECL(prev) struct fl_stage_unused_
#define FL_STAGE_SET(s) ((void)0)
#endif

#endif
