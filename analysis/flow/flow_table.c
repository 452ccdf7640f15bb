/* flow_table.c - preallocated bidirectional flow table with idle lists.
 *
 * Lookup: chained hash on a symmetric seeded hash (both directions of a
 * conversation hash alike; the seed keeps an attacker from aiming packets
 * at one chain). Flows live in one array allocated at start; free slots form
 * a list. Each flow is on one idle list per timeout class, oldest first, so
 * expiry pops from the heads and eviction at the cap takes the oldest head:
 * no scan, no allocation.
 */
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "fl_flow.h"
#include "fl_hash.h"

typedef struct fl_idle_list {
    uint32_t head, tail;
} fl_idle_list;

struct fl_flow_table {
    fl_flow *flows;
    uint32_t *buckets;
    uint32_t mask;
    uint32_t capacity;
    uint32_t free_head; /* recycled slots chained through hnext */
    uint32_t fresh;     /* slots [fresh, capacity) never used: the
                                    array is calloc'd, so untouched pages cost
                                    no memory until traffic needs them */
    uint64_t seed;
    uint64_t idle_us[FL_FC_COUNT];
    fl_idle_list lists[FL_FC_COUNT];
    fl_flow_end_fn on_end;
    void *ctx;
    fl_flow_stats stats;
};

static inline uint64_t endpoint_hash(const fl_addr *a, uint16_t port, uint64_t seed)
{
    uint64_t lo, hi;
    memcpy(&lo, a->b, 8);
    memcpy(&hi, a->b + 8, 8);
    return fl_mix64((lo ^ seed) + hi * 0x9e3779b97f4a7c15ULL + port);
}

static uint32_t flow_hash(const fl_flow_table *t, const fl_addr *a, uint16_t pa, const fl_addr *b,
                          uint16_t pb, uint8_t proto, uint16_t vlan)
{
    /* Addition commutes: (a,b) and (b,a) hash alike. */
    uint64_t h = endpoint_hash(a, pa, t->seed) + endpoint_hash(b, pb, t->seed);
    h = fl_mix64(h ^ ((uint64_t)proto << 16 | vlan));
    return (uint32_t)h;
}

static void list_unlink(fl_flow_table *t, fl_flow *f)
{
    fl_idle_list *l = &t->lists[f->fclass];
    if (f->lru_prev != FL_FLOW_NONE)
        t->flows[f->lru_prev].lru_next = f->lru_next;
    else
        l->head = f->lru_next;
    if (f->lru_next != FL_FLOW_NONE)
        t->flows[f->lru_next].lru_prev = f->lru_prev;
    else
        l->tail = f->lru_prev;
    f->lru_prev = f->lru_next = FL_FLOW_NONE;
}

static void list_append(fl_flow_table *t, fl_flow *f, fl_flow_class cls)
{
    uint32_t idx = (uint32_t)(f - t->flows);
    fl_idle_list *l = &t->lists[cls];
    f->fclass = (uint8_t)cls;
    f->lru_next = FL_FLOW_NONE;
    f->lru_prev = l->tail;
    if (l->tail != FL_FLOW_NONE)
        t->flows[l->tail].lru_next = idx;
    else
        l->head = idx;
    l->tail = idx;
}

static void hash_unlink(fl_flow_table *t, fl_flow *f)
{
    uint32_t idx = (uint32_t)(f - t->flows);
    uint32_t *pp = &t->buckets[f->hash & t->mask];
    while (*pp != FL_FLOW_NONE) {
        if (*pp == idx) {
            *pp = f->hnext;
            return;
        }
        pp = &t->flows[*pp].hnext;
    }
}

/* Take the flow out of the table, tell the owner, recycle the slot. */
static void flow_end(fl_flow_table *t, fl_flow *f, fl_flow_end_why why)
{
    if (t->on_end)
        t->on_end(t->ctx, f, why);
    hash_unlink(t, f);
    list_unlink(t, f);
    uint32_t gen = f->gen + 1;
    memset(f, 0, sizeof *f);
    f->gen = gen;
    f->hnext = t->free_head;
    f->lru_prev = f->lru_next = FL_FLOW_NONE;
    f->fclass = FL_FC_COUNT; /* on no list */
    t->free_head = (uint32_t)(f - t->flows);
    t->stats.active--;
}

fl_flow_table *fl_flow_table_new(uint32_t capacity, uint64_t seed,
                                 const uint64_t idle_us[FL_FC_COUNT], fl_flow_end_fn on_end,
                                 void *ctx)
{
    if (capacity == 0 || capacity > (1u << 30))
        return NULL;
    fl_flow_table *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    uint32_t nb = 1;
    while (nb < capacity)
        nb <<= 1;
    t->flows = calloc(capacity, sizeof *t->flows);
    t->buckets = malloc((size_t)nb * sizeof *t->buckets);
    if (!t->flows || !t->buckets) {
        fl_flow_table_free(t);
        return NULL;
    }
    memset(t->buckets, 0xff, (size_t)nb * sizeof *t->buckets);
    t->mask = nb - 1;
    t->capacity = capacity;
    t->seed = seed;
    memcpy(t->idle_us, idle_us, sizeof t->idle_us);
    for (int c = 0; c < FL_FC_COUNT; c++)
        t->lists[c].head = t->lists[c].tail = FL_FLOW_NONE;
    t->free_head = FL_FLOW_NONE;
    t->fresh = 0;
    t->on_end = on_end;
    t->ctx = ctx;
    t->stats.capacity = capacity;
    return t;
}

void fl_flow_table_free(fl_flow_table *t)
{
    if (!t)
        return;
    free(t->flows);
    free(t->buckets);
    free(t);
}

fl_flow *fl_flow_lookup(fl_flow_table *t, const fl_packet *pkt, bool *from_client)
{
    uint32_t h =
        flow_hash(t, &pkt->src, pkt->sport, &pkt->dst, pkt->dport, pkt->l4_proto, pkt->vlan);
    for (uint32_t i = t->buckets[h & t->mask]; i != FL_FLOW_NONE; i = t->flows[i].hnext) {
        fl_flow *f = &t->flows[i];
        if (f->hash != h || f->proto != pkt->l4_proto || f->vlan != pkt->vlan)
            continue;
        if (f->cport == pkt->sport && f->sport == pkt->dport && fl_addr_eq(&f->client, &pkt->src) &&
            fl_addr_eq(&f->server, &pkt->dst)) {
            *from_client = true;
            return f;
        }
        if (f->cport == pkt->dport && f->sport == pkt->sport && fl_addr_eq(&f->client, &pkt->dst) &&
            fl_addr_eq(&f->server, &pkt->src)) {
            *from_client = false;
            return f;
        }
    }
    return NULL;
}

/* The oldest flow over all idle lists (each list is oldest-first). */
static fl_flow *oldest_flow(fl_flow_table *t)
{
    fl_flow *best = NULL;
    for (int c = 0; c < FL_FC_COUNT; c++) {
        uint32_t h = t->lists[c].head;
        if (h == FL_FLOW_NONE)
            continue;
        fl_flow *f = &t->flows[h];
        if (!best || f->last_us < best->last_us)
            best = f;
    }
    return best;
}

fl_flow *fl_flow_create(fl_flow_table *t, const fl_packet *pkt, bool src_is_client)
{
    if (t->free_head == FL_FLOW_NONE && t->fresh == t->capacity) {
        fl_flow *victim = oldest_flow(t);
        if (!victim)
            return NULL;
        t->stats.evicted++;
        flow_end(t, victim, FL_FLOW_END_EVICTED);
    }
    uint32_t idx;
    if (t->free_head != FL_FLOW_NONE) {
        idx = t->free_head;
        t->free_head = t->flows[idx].hnext;
    } else {
        idx = t->fresh++;
    }
    fl_flow *f = &t->flows[idx];

    uint32_t gen = f->gen;
    memset(f, 0, sizeof *f);
    f->gen = gen;
    if (src_is_client) {
        f->client = pkt->src;
        f->server = pkt->dst;
        f->cport = pkt->sport;
        f->sport = pkt->dport;
    } else {
        f->client = pkt->dst;
        f->server = pkt->src;
        f->cport = pkt->dport;
        f->sport = pkt->sport;
    }
    f->proto = pkt->l4_proto;
    f->vlan = pkt->vlan;
    f->first_us = f->last_us = pkt->ts_us;
    f->hash = flow_hash(t, &pkt->src, pkt->sport, &pkt->dst, pkt->dport, pkt->l4_proto, pkt->vlan);
    uint32_t *b = &t->buckets[f->hash & t->mask];
    f->hnext = *b;
    *b = idx;
    fl_flow_class cls = pkt->l4_proto == IPPROTO_TCP   ? FL_FC_TCP_OPENING
                        : pkt->l4_proto == IPPROTO_UDP ? FL_FC_UDP
                                                       : FL_FC_OTHER;
    list_append(t, f, cls);
    t->stats.created++;
    t->stats.active++;
    return f;
}

void fl_flow_touch(fl_flow_table *t, fl_flow *f, fl_flow_class cls, uint64_t now_us)
{
    /* Packet time may step backwards in merged captures; a flow's last
     * activity never does, so lists stay ordered. */
    if (now_us > f->last_us)
        f->last_us = now_us;
    uint32_t idx = (uint32_t)(f - t->flows);
    if (f->fclass == cls && t->lists[cls].tail == idx)
        return;
    list_unlink(t, f);
    list_append(t, f, cls);
}

void fl_flow_expire(fl_flow_table *t, uint64_t now_us)
{
    for (int c = 0; c < FL_FC_COUNT; c++) {
        fl_idle_list *l = &t->lists[c];
        while (l->head != FL_FLOW_NONE) {
            fl_flow *f = &t->flows[l->head];
            if (f->last_us + t->idle_us[c] > now_us)
                break;
            t->stats.expired++;
            flow_end(t, f, FL_FLOW_END_IDLE);
        }
    }
}

void fl_flow_remove(fl_flow_table *t, fl_flow *f)
{
    flow_end(t, f, FL_FLOW_END_REMOVED);
}

static void end_all(fl_flow_table *t, fl_flow_end_why why)
{
    for (;;) {
        fl_flow *f = oldest_flow(t);
        if (!f)
            break;
        flow_end(t, f, why);
    }
}

void fl_flow_drain(fl_flow_table *t)
{
    end_all(t, FL_FLOW_END_DRAINED);
}

void fl_flow_cut(fl_flow_table *t)
{
    end_all(t, FL_FLOW_END_CUT);
}

uint32_t fl_flow_index(const fl_flow_table *t, const fl_flow *f)
{
    return (uint32_t)(f - t->flows);
}

fl_flow *fl_flow_at(fl_flow_table *t, uint32_t index)
{
    return index < t->capacity ? &t->flows[index] : NULL;
}

void fl_flow_get_stats(const fl_flow_table *t, fl_flow_stats *st)
{
    *st = t->stats;
}
