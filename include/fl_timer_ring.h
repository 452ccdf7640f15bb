/* fl_timer_ring.h - a fixed ring of flow timers in deadline order.
 *
 * Every timer of one ring has the same timeout and packet time never steps
 * back (the engine keeps it monotonic), so appending keeps the ring sorted:
 * push and pop are O(1) and allocate nothing after set-up (masscan keeps its
 * timeouts the same way). A timer names its flow by slot index and
 * generation, so a timer that outlives its flow is recognised
 * (fl_flow_at() and a gen mismatch) and ignored.
 */
#ifndef FL_TIMER_RING_H
#define FL_TIMER_RING_H

#include <stdbool.h>
#include <stdint.h>

typedef struct fl_timer {
    uint64_t deadline_us;
    uint32_t flow; /* fl_flow_index() of the flow */
    uint32_t gen;  /* the flow's generation when armed */
    uint8_t kind;  /* the owner's tag */
} fl_timer;

typedef struct fl_timer_ring {
    fl_timer *e;
    uint32_t cap, head, len;
} fl_timer_ring;

/* False if out of memory. A zeroed ring may be freed without init. */
bool fl_timer_ring_init(fl_timer_ring *r, uint32_t cap);
void fl_timer_ring_free(fl_timer_ring *r);

static inline bool fl_timer_ring_full(const fl_timer_ring *r)
{
    return r->len == r->cap;
}

/* Append t (its deadline not earlier than any queued); the ring must not
 * be full: the owner expires the oldest first (fl_timer_ring_pop). */
void fl_timer_ring_push(fl_timer_ring *r, const fl_timer *t);

/* Take out the oldest timer. False if the ring is empty. */
bool fl_timer_ring_pop(fl_timer_ring *r, fl_timer *out);

/* Take out the oldest timer if its deadline is <= now_us. */
bool fl_timer_ring_pop_due(fl_timer_ring *r, uint64_t now_us, fl_timer *out);

#endif
