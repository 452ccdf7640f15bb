/* name_cache.c - bounded address -> name -> provider memory of DNS answers.
 *
 * Set-associative like a CPU cache: a key hashes to one bucket of WAYS
 * entries, so a lookup reads at most WAYS entries and an insert never
 * searches further or allocates. A flood of names (an attacker's random
 * subdomains) can only replace entries, never grow the tables. The hash is
 * fixed (no random seed) so that a replay is deterministic; someone who
 * controls many names can still push chosen entries out of one bucket: they
 * lose only the name fallback for those addresses.
 */
#include <stdlib.h>
#include <string.h>

#include "name_cache.h"
#include "fl_hash.h"

#define WAYS 4

typedef struct name_ent {
    uint64_t hash; /* of the full name */
    uint64_t ts;
    uint16_t provider; /* 0: the name is known, its provider not */
    uint16_t len;      /* full length */
    uint8_t used;
    char name[FL_NAME_CACHE_KEEP]; /* truncated to KEEP-1 bytes */
} name_ent;

typedef struct addr_ent {
    fl_addr addr;
    uint8_t used;
    uint16_t provider;
    uint32_t name_slot; /* into names[] */
    uint64_t name_hash; /* the slot still holds our name if equal */
    uint64_t ts;
} addr_ent;

struct fl_name_cache {
    uint32_t ways, nbuckets; /* capacity = ways * nbuckets */
    size_t naddr, nname;
    name_ent *names;
    addr_ent *addrs;
};

static uint64_t hash_name(const char *s, size_t *len)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    size_t n = 0;
    for (; s[n]; n++) {
        h ^= (unsigned char)s[n];
        h *= 0x100000001b3ULL;
    }
    *len = n;
    return fl_mix64(h ^ n);
}

static uint64_t hash_addr(const fl_addr *a)
{
    uint64_t lo, hi;
    memcpy(&lo, a->b, 8);
    memcpy(&hi, a->b + 8, 8);
    return fl_mix64(lo ^ fl_mix64(hi ^ a->family));
}

static uint32_t bucket_of(const fl_name_cache *c, uint64_t h)
{
    return (uint32_t)(((h >> 32) * (uint64_t)c->nbuckets) >> 32);
}

fl_name_cache *fl_name_cache_new(uint32_t capacity)
{
    if (capacity == 0)
        return NULL;
    fl_name_cache *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->ways = capacity < WAYS ? capacity : WAYS;
    c->nbuckets = capacity / c->ways;
    size_t slots = (size_t)c->ways * c->nbuckets;
    c->names = calloc(slots, sizeof *c->names);
    c->addrs = calloc(slots, sizeof *c->addrs);
    if (!c->names || !c->addrs) {
        fl_name_cache_free(c);
        return NULL;
    }
    return c;
}

void fl_name_cache_free(fl_name_cache *c)
{
    if (!c)
        return;
    free(c->names);
    free(c->addrs);
    free(c);
}

static bool name_matches(const name_ent *e, uint64_t h, size_t len, const char *name)
{
    if (!e->used || e->hash != h || e->len != len)
        return false;
    size_t kept = len < FL_NAME_CACHE_KEEP ? len : FL_NAME_CACHE_KEEP - 1;
    return memcmp(e->name, name, kept) == 0;
}

/* Slot of name (found or newly taken), updating its provider when known. */
static uint32_t name_upsert(fl_name_cache *c, const char *name, uint16_t provider, uint64_t now_us,
                            uint64_t *hash_out)
{
    size_t len;
    uint64_t h = hash_name(name, &len);
    uint32_t base = bucket_of(c, h) * c->ways, victim = base;
    *hash_out = h;
    for (uint32_t i = base; i < base + c->ways; i++) {
        name_ent *e = &c->names[i];
        if (name_matches(e, h, len, name)) {
            if (provider)
                e->provider = provider;
            e->ts = now_us;
            return i;
        }
        if (!e->used) {
            if (c->names[victim].used)
                victim = i;
        } else if (c->names[victim].used && e->ts < c->names[victim].ts) {
            victim = i;
        }
    }
    name_ent *e = &c->names[victim];
    if (!e->used)
        c->nname++;
    size_t kept = len < FL_NAME_CACHE_KEEP ? len : FL_NAME_CACHE_KEEP - 1;
    memcpy(e->name, name, kept);
    e->name[kept] = '\0';
    e->hash = h;
    e->len = (uint16_t)(len > UINT16_MAX ? UINT16_MAX : len);
    e->provider = provider;
    e->ts = now_us;
    e->used = 1;
    return victim;
}

void fl_name_cache_learn_name(fl_name_cache *c, const char *name, uint16_t provider,
                              uint64_t now_us)
{
    uint64_t h;
    if (*name)
        (void)name_upsert(c, name, provider, now_us, &h);
}

void fl_name_cache_learn_addr(fl_name_cache *c, const fl_addr *a, const char *name,
                              uint16_t provider, uint64_t now_us)
{
    if (a->family != 4 && a->family != 6)
        return;
    uint64_t nh = 0;
    uint32_t slot = *name ? name_upsert(c, name, provider, now_us, &nh) : 0;
    uint32_t base = bucket_of(c, hash_addr(a)) * c->ways, victim = base;
    addr_ent *e = NULL;
    for (uint32_t i = base; i < base + c->ways; i++) {
        addr_ent *x = &c->addrs[i];
        if (x->used && fl_addr_eq(&x->addr, a)) {
            e = x;
            break;
        }
        if (!x->used) {
            if (c->addrs[victim].used)
                victim = i;
        } else if (c->addrs[victim].used && x->ts < c->addrs[victim].ts) {
            victim = i;
        }
    }
    if (!e) {
        e = &c->addrs[victim];
        if (!e->used)
            c->naddr++;
        e->addr = *a;
        e->used = 1;
        e->provider = 0;
    }
    /* An address has one operator: a later answer that says nothing about
     * it (another name, no rule) does not erase what an earlier one said. */
    if (provider || !e->provider)
        e->provider = provider;
    e->name_slot = slot;
    e->name_hash = *name ? nh : 0;
    e->ts = now_us;
}

bool fl_name_cache_addr(const fl_name_cache *c, const fl_addr *a, uint16_t *provider,
                        char *name_out, size_t name_len)
{
    if (name_out && name_len)
        name_out[0] = '\0';
    uint32_t base = bucket_of(c, hash_addr(a)) * c->ways;
    for (uint32_t i = base; i < base + c->ways; i++) {
        const addr_ent *e = &c->addrs[i];
        if (!e->used || !fl_addr_eq(&e->addr, a))
            continue;
        *provider = e->provider;
        const name_ent *n = &c->names[e->name_slot];
        if (name_out && name_len && e->name_hash && n->used && n->hash == e->name_hash) {
            size_t k = strlen(n->name);
            if (k >= name_len)
                k = name_len - 1;
            memcpy(name_out, n->name, k);
            name_out[k] = '\0';
        }
        return true;
    }
    return false;
}

bool fl_name_cache_name(const fl_name_cache *c, const char *name, uint16_t *provider)
{
    size_t len;
    uint64_t h = hash_name(name, &len);
    uint32_t base = bucket_of(c, h) * c->ways;
    for (uint32_t i = base; i < base + c->ways; i++) {
        if (name_matches(&c->names[i], h, len, name)) {
            *provider = c->names[i].provider;
            return true;
        }
    }
    return false;
}

size_t fl_name_cache_addr_count(const fl_name_cache *c)
{
    return c->naddr;
}

size_t fl_name_cache_name_count(const fl_name_cache *c)
{
    return c->nname;
}

size_t fl_name_cache_capacity(const fl_name_cache *c)
{
    return (size_t)c->ways * c->nbuckets;
}

size_t fl_name_cache_bytes(const fl_name_cache *c)
{
    return fl_name_cache_capacity(c) * (sizeof(name_ent) + sizeof(addr_ent));
}
