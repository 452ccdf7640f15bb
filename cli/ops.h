/* ops.h - what makes the CLI operable: per-command help, --version with
 * the library versions, and the live sensor's companions (health events in
 * the log, the systemd watchdog). */
#ifndef FL_CLI_OPS_H
#define FL_CLI_OPS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "fl_config.h"
#include "fl_health.h"
#include "fl_run.h"

/* `faultline COMMAND --help`; false (nothing printed) for an unknown
 * command. */
bool fl_cli_help(const char *cmd, FILE *out);
/* The general usage: every command in one line each. */
void fl_cli_usage(FILE *out);
void fl_cli_version(FILE *out);

/* The live sensor's health and watchdog, driven from the capture loop. */
typedef struct fl_live {
    fl_health *health;
    const char *ifname;
    uint64_t start_us;       /* monotonic */
    uint64_t last_packet_us; /* monotonic; the start while none came */
    uint64_t watchdog_us;    /* WATCHDOG_USEC, 0 none */
    uint64_t next_watchdog_us, next_sample_us;
} fl_live;

bool fl_live_init(fl_live *l, const fl_config *cfg, const char *ifname, uint64_t now_us);
void fl_live_free(fl_live *l);
static inline void fl_live_packet(fl_live *l, uint64_t now_us)
{
    l->last_packet_us = now_us;
}
/* Once per loop turn: at most one health sample a second (events logged),
 * WATCHDOG=1 at half the watchdog interval. v's health.redis_* filled. */
void fl_live_tick(fl_live *l, uint64_t now_us, const fl_run_view *v, uint64_t kernel_drops,
                  const char *redis_error);
bool fl_live_blind(const fl_live *l);

#endif
