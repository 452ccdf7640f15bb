/* fl_health.h - is the sensor itself healthy? Turns periodic samples of
 * its own state into events an operator acts on:
 *
 *   sensor blind / seeing again   no packet for blind_after_s (live), the
 *                                 open alerts become "unknown" meanwhile
 *   link down / up                the interface's operational state
 *   kernel drops rising / normal  share of packets the kernel dropped over
 *                                 the last window
 *   one-way share rising / normal share of new flows seen in one direction
 *   Redis lost / back             with the batches held and dropped
 *
 * Pure state machine: the caller samples (at most once a second, from the
 * capture loop's tick) and logs what comes back, so it is unit-tested
 * without a network. Shares use hysteresis (rising above the threshold,
 * normal again below half of it) so a value near the threshold does not
 * flap.
 */
#ifndef FL_HEALTH_H
#define FL_HEALTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct fl_health_options {
    double blind_after_s;       /* 0: never blind (replay) */
    double window_s;            /* drops and one-way share measured over this */
    double drops_share;         /* kernel drops / (packets + drops) above: rising */
    double one_way_share;       /* one-way / new flows above: rising */
    uint64_t one_way_min_flows; /* fewer new flows in a window: not judged */
} fl_health_options;

#define FL_HEALTH_DEFAULTS                                                                         \
    {                                                                                              \
        60.0, 60.0, 0.01, 0.2, 100                                                                 \
    }

typedef struct fl_health_sample {
    double now;                     /* wall clock, epoch seconds */
    double last_packet;             /* wall clock of the last packet (of the start
                                 * while none came yet); 0: not judged */
    uint64_t packets, kernel_drops; /* since start */
    uint64_t flows, one_way_flows;  /* since start */
    int link_up;                    /* 1 up, 0 down, -1 unknown (file input) */
    bool redis_configured, redis_connected;
    uint64_t redis_held, redis_dropped; /* held now; dropped since start */
    const char *redis_error;            /* why it is lost, or NULL */
} fl_health_sample;

typedef enum fl_health_kind {
    FL_HEALTH_BLIND,
    FL_HEALTH_SEEING,
    FL_HEALTH_LINK_DOWN,
    FL_HEALTH_LINK_UP,
    FL_HEALTH_DROPS_RISING,
    FL_HEALTH_DROPS_NORMAL,
    FL_HEALTH_ONE_WAY_RISING,
    FL_HEALTH_ONE_WAY_NORMAL,
    FL_HEALTH_REDIS_LOST,
    FL_HEALTH_REDIS_BACK,
} fl_health_kind;

typedef struct fl_health_event {
    fl_health_kind kind;
    int level;      /* fl_log_level to log it at */
    char text[256]; /* the log line, without the level */
} fl_health_event;

#define FL_HEALTH_EVENTS_MAX 5 /* at most one per kind pair per sample */

typedef struct fl_health fl_health;

fl_health *fl_health_new(const fl_health_options *opt);
void fl_health_free(fl_health *h);

/* One sample; fills up to FL_HEALTH_EVENTS_MAX events, returns how many. */
size_t fl_health_sample_in(fl_health *h, const fl_health_sample *s,
                           fl_health_event out[FL_HEALTH_EVENTS_MAX]);

bool fl_health_is_blind(const fl_health *h);

/* The interface's state from /sys/class/net/<ifname>/operstate: 1 up (or
 * "unknown", which loopback and tunnels report), 0 down, -1 unreadable. */
int fl_health_link_state(const char *ifname);

#endif
