/* https_modes.c - per-SNI response-size baselines and the HTTPS signals
 * (fl_https_modes.h).
 *
 * Everything is allocated at creation: `cap` SNI entries in one array, a
 * chained hash over (provider, service), an LRU list, and the retry table.
 * Per response the work is O(1) except when a response falls in a new mode,
 * when the provider's breadth is counted over the SNI table (O(cap), and
 * only for rare responses).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fl_hash.h"
#include "fl_https_modes.h"

/* Sizes from 2^4 to 2^28 bytes. */
#define MIN_OCTAVE 4u
#define NBINS (24u * FL_HTTPS_BINS_PER_OCTAVE)
/* A per-SNI histogram halves when it holds this many responses, so the
 * baseline follows the last few hundred responses. */
#define BASE_MAX 512.0f
/* Rare responses kept per SNI while their fate is open. */
#define RARE_RING 32u
#define NIL UINT32_MAX

typedef struct rare_ent {
    uint64_t ts_us, tag;
    uint32_t bytes;
    uint16_t bin;
    uint8_t counted;
    uint8_t pad;
} rare_ent;

typedef struct sni {
    uint32_t service;
    uint16_t provider;
    uint8_t used;
    uint8_t rhead, rlen;
    uint16_t mode_bin;
    uint32_t hnext, prev, next;
    uint64_t first_us, mode_until, recent_at;
    float base_n, recent_n;
    float ttfb_log;              /* EWMA of log2(1 + TTFB in us), learned */
    uint32_t ttfb_n;
    float base[NBINS];
    rare_ent rare[RARE_RING];
} sni;

typedef struct retry_slot {
    uint64_t key, until;
} retry_slot;

struct fl_https_modes {
    sni *e;
    uint32_t cap, used;
    uint32_t *hash;
    uint32_t hmask;
    uint32_t lru_head, lru_tail; /* head = least recently used */
    retry_slot retry[FL_HTTPS_RETRY_SLOTS];
    fl_https_observer obs;
    void *obs_ctx;
    bool self_counted;           /* the current response was counted */
    uint64_t self_tag;
    fl_https_stats st;
};

uint32_t fl_https_size_bin(uint32_t bytes)
{
    if (bytes < (1u << MIN_OCTAVE))
        return 0;
    double b = floor(log2((double)bytes) * FL_HTTPS_BINS_PER_OCTAVE) -
               (double)(MIN_OCTAVE * FL_HTTPS_BINS_PER_OCTAVE);
    return b >= NBINS - 1 ? NBINS - 1 : (uint32_t)b;
}

uint32_t fl_https_bin_floor(uint32_t bin)
{
    double v = exp2((double)(bin + MIN_OCTAVE * FL_HTTPS_BINS_PER_OCTAVE) /
                    FL_HTTPS_BINS_PER_OCTAVE);
    return v >= 4294967295.0 ? UINT32_MAX : (uint32_t)ceil(v);
}

fl_https_modes *fl_https_modes_new(uint32_t sni_cap)
{
    fl_https_modes *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    m->cap = sni_cap ? sni_cap : FL_HTTPS_SNI_CAP;
    uint32_t hs = 16;
    while (hs < m->cap * 2u)
        hs <<= 1;
    m->hmask = hs - 1;
    m->e = calloc(m->cap, sizeof *m->e);
    m->hash = malloc(hs * sizeof *m->hash);
    if (!m->e || !m->hash) {
        fl_https_modes_free(m);
        return NULL;
    }
    memset(m->hash, 0xff, hs * sizeof *m->hash);
    m->lru_head = m->lru_tail = NIL;
    return m;
}

void fl_https_modes_free(fl_https_modes *m)
{
    if (!m)
        return;
    free(m->e);
    free(m->hash);
    free(m);
}

void fl_https_modes_set_observer(fl_https_modes *m, fl_https_observer fn, void *ctx)
{
    if (m) {
        m->obs = fn;
        m->obs_ctx = ctx;
    }
}

void fl_https_modes_stats(const fl_https_modes *m, fl_https_stats *st)
{
    memset(st, 0, sizeof *st);
    if (m) {
        *st = m->st;
        st->snis = m->used;
    }
}

/* ---------------------------------------------------------------- table */

static uint32_t sni_hash(const fl_https_modes *m, uint16_t provider, uint32_t service)
{
    return (uint32_t)fl_mix64(((uint64_t)provider << 32) | service) & m->hmask;
}

static void lru_unlink(fl_https_modes *m, uint32_t i)
{
    sni *s = &m->e[i];
    if (s->prev != NIL)
        m->e[s->prev].next = s->next;
    else
        m->lru_head = s->next;
    if (s->next != NIL)
        m->e[s->next].prev = s->prev;
    else
        m->lru_tail = s->prev;
    s->prev = s->next = NIL;
}

static void lru_append(fl_https_modes *m, uint32_t i)
{
    sni *s = &m->e[i];
    s->prev = m->lru_tail;
    s->next = NIL;
    if (m->lru_tail != NIL)
        m->e[m->lru_tail].next = i;
    else
        m->lru_head = i;
    m->lru_tail = i;
}

static void hash_unlink(fl_https_modes *m, uint32_t i)
{
    uint32_t *pp = &m->hash[sni_hash(m, m->e[i].provider, m->e[i].service)];
    while (*pp != NIL) {
        if (*pp == i) {
            *pp = m->e[i].hnext;
            return;
        }
        pp = &m->e[*pp].hnext;
    }
}

/* The SNI's entry, created (evicting the least recently used at the cap)
 * if new; moved to the LRU tail. */
static sni *sni_get(fl_https_modes *m, uint16_t provider, uint32_t service, uint64_t ts)
{
    uint32_t h = sni_hash(m, provider, service);
    for (uint32_t i = m->hash[h]; i != NIL; i = m->e[i].hnext) {
        sni *s = &m->e[i];
        if (s->provider == provider && s->service == service) {
            lru_unlink(m, i);
            lru_append(m, i);
            return s;
        }
    }
    uint32_t i;
    if (m->used < m->cap) {
        i = m->used++;
    } else {
        i = m->lru_head;
        lru_unlink(m, i);
        hash_unlink(m, i);
        m->st.sni_evicted++;
    }
    sni *s = &m->e[i];
    memset(s, 0, sizeof *s);
    s->used = 1;
    s->provider = provider;
    s->service = service;
    s->first_us = ts;
    s->recent_at = ts;
    s->hnext = m->hash[h];
    m->hash[h] = i;
    lru_append(m, i);
    return s;
}

/* ------------------------------------------------------------- baseline */

static void learn(sni *s, uint32_t bin)
{
    s->base[bin] += 1.0f;
    s->base_n += 1.0f;
    if (s->base_n >= BASE_MAX) {
        for (uint32_t i = 0; i < NBINS; i++)
            s->base[i] *= 0.5f;
        s->base_n *= 0.5f;
    }
}

static float near_base(const sni *s, uint32_t bin)
{
    float v = s->base[bin];
    if (bin > 0)
        v += s->base[bin - 1];
    if (bin + 1 < NBINS)
        v += s->base[bin + 1];
    return v;
}

static bool near_bin(uint32_t a, uint32_t b)
{
    return a + 1 >= b && b + 1 >= a;
}

/* The oldest rare response leaves the ring: learned unless it was counted
 * suspect. */
static void rare_pop(sni *s)
{
    rare_ent *r = &s->rare[s->rhead];
    if (!r->counted)
        learn(s, r->bin);
    s->rhead = (uint8_t)((s->rhead + 1) % RARE_RING);
    s->rlen--;
}

static void rare_expire(sni *s, uint64_t ts)
{
    while (s->rlen && s->rare[s->rhead].ts_us + FL_HTTPS_WINDOW_US < ts)
        rare_pop(s);
}

static void rare_push(sni *s, uint64_t ts, uint64_t tag, uint32_t bytes, uint32_t bin)
{
    if (s->rlen == RARE_RING)
        rare_pop(s);
    rare_ent *r = &s->rare[(s->rhead + s->rlen) % RARE_RING];
    r->ts_us = ts;
    r->tag = tag;
    r->bytes = bytes;
    r->bin = (uint16_t)bin;
    r->counted = 0;
    s->rlen++;
}

static uint32_t rare_near(const sni *s, uint32_t bin)
{
    uint32_t n = 0;
    for (uint32_t k = 0; k < s->rlen; k++)
        if (near_bin(s->rare[(s->rhead + k) % RARE_RING].bin, bin))
            n++;
    return n;
}

/* Count the SNI's held rare responses of its mode as suspect. */
static uint32_t release(fl_https_modes *m, sni *s, uint64_t ts)
{
    uint32_t n = 0;
    for (uint32_t k = 0; k < s->rlen; k++) {
        rare_ent *r = &s->rare[(s->rhead + k) % RARE_RING];
        if (r->counted || !near_bin(r->bin, s->mode_bin))
            continue;
        r->counted = 1;
        n++;
        if (r->tag == m->self_tag)
            m->self_counted = true;
        if (m->obs)
            m->obs(m->obs_ctx, 'S', r->tag, s->provider, s->service, r->bytes, 0, ts);
    }
    return n;
}

/* SNIs of the provider with a new mode now. */
static uint32_t breadth(const fl_https_modes *m, uint16_t provider, uint64_t ts)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < m->used; i++)
        if (m->e[i].provider == provider && m->e[i].mode_until > ts)
            n++;
    return n;
}

uint32_t fl_https_modes_response(fl_https_modes *m, uint16_t provider, uint32_t service,
                                 uint32_t bytes, uint32_t ttfb_us, uint64_t ts,
                                 uint64_t first_us, uint64_t tag)
{
    if (!m)
        return 0;
    if (m->obs)
        m->obs(m->obs_ctx, 'R', tag, provider, service, bytes, ttfb_us, first_us);
    sni *s = sni_get(m, provider, service, ts);
    uint64_t dt = ts > s->recent_at ? ts - s->recent_at : 0;
    s->recent_n = s->recent_n * (float)exp(-(double)dt / (double)FL_HTTPS_WINDOW_US) + 1.0f;
    s->recent_at = ts;
    rare_expire(s, ts);
    uint32_t bin = fl_https_size_bin(bytes);
    bool learned = s->base_n >= FL_HTTPS_LEARN_MIN && ts >= s->first_us + FL_HTTPS_LEARN_US;
    float tl = (float)log2(1.0 + ttfb_us);
    /* An error page generated at the edge comes in one round trip, faster
     * than the SNI's usual answer (which waits for the origin): only a fast
     * rare response can be part of an error mode. */
    bool fast = s->ttfb_n < FL_HTTPS_TTFB_MIN || tl <= s->ttfb_log - FL_HTTPS_TTFB_FASTER;
    if (!learned || !fast || near_base(s, bin) >= (float)FL_HTTPS_RARE_SHARE * s->base_n) {
        learn(s, bin);
        s->ttfb_log = s->ttfb_n ? s->ttfb_log + 0.1f * (tl - s->ttfb_log) : tl;
        if (s->ttfb_n < UINT32_MAX)
            s->ttfb_n++;
        return 0;
    }
    m->st.rare++;
    rare_push(s, ts, tag, bytes, bin);
    uint32_t near = rare_near(s, bin);
    if (near >= FL_HTTPS_MODE_MIN && (float)near >= (float)FL_HTTPS_MODE_SHARE * s->recent_n) {
        s->mode_until = ts + FL_HTTPS_WINDOW_US;
        s->mode_bin = (uint16_t)bin;
    }
    if (s->mode_until <= ts || !near_bin(bin, s->mode_bin) ||
        breadth(m, provider, ts) < FL_HTTPS_BREADTH)
        return 0;
    uint32_t n = 0;
    m->self_tag = tag;
    for (uint32_t i = 0; i < m->used; i++)
        if (m->e[i].provider == provider && m->e[i].mode_until > ts)
            n += release(m, &m->e[i], ts);
    m->self_tag = 0;
    m->st.suspect += n;
    return n;
}

/* ---------------------------------------------------------------- retries */

static uint64_t retry_key(const fl_addr *client, uint32_t service)
{
    uint64_t h = fl_mix64(service ^ ((uint64_t)(client ? client->family : 0) << 40));
    for (int i = 0; client && i < 16; i += 8) {
        uint64_t w = 0;
        memcpy(&w, client->b + i, 8);
        h = fl_mix64(h ^ w);
    }
    return h | 1u; /* 0 marks an empty slot */
}

void fl_https_modes_facts(fl_https_modes *m, const fl_tlsrec_facts *tf, uint16_t provider,
                          uint32_t service, const fl_addr *client, uint64_t ts, uint64_t tag,
                          fl_https_counts *out)
{
    memset(out, 0, sizeof *out);
    if (!m || !tf)
        return;
    uint64_t key = retry_key(client, service);
    retry_slot *slot = &m->retry[key % FL_HTTPS_RETRY_SLOTS];
    if (tf->first_request && slot->key == key && ts <= slot->until)
        out->retries = 1;
    for (uint32_t i = 0; i < tf->response && i < FL_TLSREC_MAX_RESP; i++) {
        const fl_tlsrec_resp *r = &tf->resp[i];
        out->responses++;
        m->self_counted = false;
        out->suspect += fl_https_modes_response(m, provider, service, r->bytes, r->ttfb_us, ts,
                                                r->first_us, tag | r->seq);
        out->flagged = out->flagged || m->self_counted;
    }
    m->self_counted = false;
    out->early_closes = tf->early_close;
    out->stalls = tf->stall;
    if (out->early_closes || out->stalls)
        out->flagged = true;
    if (out->flagged) {
        slot->key = key;
        slot->until = ts + FL_HTTPS_RETRY_US;
    }
}
