/* dns_pending.c - DNS queries waiting for their answer (fl_dns_pending.h). */
#include <stdlib.h>
#include <string.h>

#include "fl_dns_pending.h"
#include "fl_hash.h"

#define NO_SLOT UINT32_MAX

typedef struct slot {
    fl_dns_query q;
    uint32_t hnext; /* hash chain (slot index) */
    uint8_t live;   /* 1 waiting, 0 answered or dropped */
} slot;

struct fl_dns_pending {
    slot *s;
    uint32_t cap, head, len;
    uint32_t *hash;
    uint32_t mask;
};

static uint32_t key_hash(uint32_t flow, uint32_t gen, uint16_t id)
{
    return (uint32_t)(fl_mix64(((uint64_t)flow << 32 | gen) ^ ((uint64_t)id << 48)) >> 32);
}

fl_dns_pending *fl_dns_pending_new(uint32_t cap)
{
    fl_dns_pending *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->cap = cap ? cap : 1;
    uint32_t hs = 1;
    while (hs < 2 * t->cap)
        hs <<= 1;
    t->s = calloc(t->cap, sizeof *t->s);
    t->hash = malloc((size_t)hs * sizeof *t->hash);
    if (!t->s || !t->hash) {
        fl_dns_pending_free(t);
        return NULL;
    }
    memset(t->hash, 0xff, (size_t)hs * sizeof *t->hash);
    t->mask = hs - 1;
    return t;
}

void fl_dns_pending_free(fl_dns_pending *t)
{
    if (!t)
        return;
    free(t->s);
    free(t->hash);
    free(t);
}

static void unlink_slot(fl_dns_pending *t, uint32_t i)
{
    const fl_dns_query *q = &t->s[i].q;
    uint32_t *pp = &t->hash[key_hash(q->flow, q->gen, q->id) & t->mask];
    while (*pp != NO_SLOT) {
        if (*pp == i) {
            *pp = t->s[i].hnext;
            return;
        }
        pp = &t->s[*pp].hnext;
    }
}

static uint32_t find(const fl_dns_pending *t, uint32_t flow, uint32_t gen, uint16_t id)
{
    for (uint32_t i = t->hash[key_hash(flow, gen, id) & t->mask]; i != NO_SLOT; i = t->s[i].hnext) {
        const slot *p = &t->s[i];
        if (p->q.flow == flow && p->q.gen == gen && p->q.id == id && p->live)
            return i;
    }
    return NO_SLOT;
}

/* Advance the head; true (and *out) if the popped query was still waiting. */
static bool pop_head(fl_dns_pending *t, fl_dns_query *out)
{
    uint32_t i = t->head;
    slot *p = &t->s[i];
    bool live = p->live;
    if (live) {
        unlink_slot(t, i);
        *out = p->q;
        p->live = 0;
    }
    t->head = (t->head + 1) % t->cap;
    t->len--;
    return live;
}

bool fl_dns_pending_add(fl_dns_pending *t, const fl_dns_query *q, bool *dropped)
{
    *dropped = false;
    if (find(t, q->flow, q->gen, q->id) != NO_SLOT)
        return false;
    if (t->len == t->cap) {
        fl_dns_query old;
        *dropped = pop_head(t, &old);
    }
    uint32_t i = (t->head + t->len) % t->cap;
    slot *p = &t->s[i];
    p->q = *q;
    p->live = 1;
    uint32_t *b = &t->hash[key_hash(q->flow, q->gen, q->id) & t->mask];
    p->hnext = *b;
    *b = i;
    t->len++;
    return true;
}

bool fl_dns_pending_answer(fl_dns_pending *t, uint32_t flow, uint32_t gen, uint16_t id,
                           fl_dns_query *out)
{
    uint32_t i = find(t, flow, gen, id);
    if (i == NO_SLOT)
        return false;
    t->s[i].live = 0;
    unlink_slot(t, i);
    *out = t->s[i].q;
    return true;
}

bool fl_dns_pending_expire(fl_dns_pending *t, uint64_t now_us, fl_dns_query *out)
{
    while (t->len && t->s[t->head].q.deadline_us <= now_us)
        if (pop_head(t, out))
            return true;
    return false;
}
