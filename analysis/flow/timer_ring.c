/* timer_ring.c - flow timers in a fixed ring (see fl_timer_ring.h). */
#include <stdlib.h>

#include "fl_timer_ring.h"

bool fl_timer_ring_init(fl_timer_ring *r, uint32_t cap)
{
    r->e = calloc(cap, sizeof *r->e);
    r->cap = cap;
    r->head = r->len = 0;
    return r->e != NULL;
}

void fl_timer_ring_free(fl_timer_ring *r)
{
    free(r->e);
    r->e = NULL;
    r->cap = r->head = r->len = 0;
}

void fl_timer_ring_push(fl_timer_ring *r, const fl_timer *t)
{
    if (r->len == r->cap)
        return; /* the owner pops first; never overwrite a live timer */
    r->e[(r->head + r->len) % r->cap] = *t;
    r->len++;
}

bool fl_timer_ring_pop(fl_timer_ring *r, fl_timer *out)
{
    if (!r->len)
        return false;
    *out = r->e[r->head];
    r->head = (r->head + 1) % r->cap;
    r->len--;
    return true;
}

bool fl_timer_ring_pop_due(fl_timer_ring *r, uint64_t now_us, fl_timer *out)
{
    if (!r->len || r->e[r->head].deadline_us > now_us)
        return false;
    return fl_timer_ring_pop(r, out);
}
