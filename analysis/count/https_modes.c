/* https_modes.c - per-SNI and per-provider response-size baselines and
 * the HTTPS signals (fl_https_modes.h).
 *
 * Everything is allocated at creation: `cap` SNI entries in one array, a
 * chained hash over (provider, service), an LRU list, FL_HTTPS_PROVIDER_CAP
 * provider entries (open addressing), and the retry table. Per response the
 * work is O(1), plus a scan of the provider's ring of rare responses
 * (RARE_RING entries) when the response is rare.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fl_hash.h"
#include "fl_https_modes.h"

/* Sizes from 2^4 to 2^28 bytes. */
#define MIN_OCTAVE 4u
#define NBINS (24u * FL_HTTPS_BINS_PER_OCTAVE)
/* A histogram halves when it holds this many responses, so a baseline
 * follows the last few hundred responses. */
#define BASE_MAX 512.0f
/* Rare responses kept per provider while their fate is open. */
#define RARE_RING 240u
/* Responses learned lately, per provider, to take back from the baselines
 * if their size turns out to be rising (an error template's first pages). */
#define TAKE_RING 64u
#define NIL UINT32_MAX

typedef struct hist {
    float base[NBINS];
    float n;
    uint64_t first_us;
} hist;

typedef struct rare_ent {
    uint64_t ts_us, tag;
    uint64_t rank; /* the provider's response count then */
    uint32_t bytes, service, client;
    fl_https_conn conn; /* its connection (client family 0: not known) */
    uint32_t srank;     /* its SNI's response count then */
    uint32_t ttfb_us;
    uint16_t bin;
    uint8_t counted;
    uint8_t pad;
} rare_ent;

typedef struct sni {
    uint32_t count; /* responses while tracked */
    uint32_t service;
    uint16_t provider;
    uint16_t pad;
    uint32_t hnext, prev, next;
    hist h;
} sni;

typedef struct mode_slot {
    fl_https_mode_summary ms;
    uint64_t rank; /* the provider's count at its first */
    double ttfb_sum;
    float counted_n;           /* its counts, decayed over FL_HTTPS_ACTIVE_US like recent_n */
    uint32_t core_lo, core_hi; /* sizes of the members of the clusters that formed it */
    uint64_t counted_at;
} mode_slot;

/* A bin's responses lately, decayed over FL_HTTPS_ACTIVE_US from `at`. */
typedef struct recent_bin {
    float n;
    uint32_t at_s; /* packet time, seconds */
} recent_bin;

typedef struct prov {
    uint16_t id;
    uint8_t used;
    uint8_t rhead, rlen;
    uint32_t snis;  /* SNIs ever seen (for the cold start) */
    float recent_n; /* responses, decayed over FL_HTTPS_ACTIVE_US */
    uint64_t count; /* responses ever */
    uint64_t recent_at;
    float ttfb_base_us;                   /* mean of learned responses, decayed */
    mode_slot modes[FL_HTTPS_MODE_SLOTS]; /* for the report */
    hist h;
    recent_bin recent[NBINS]; /* the provider's responses lately, per bin */
    rare_ent rare[RARE_RING];
    rare_ent took[TAKE_RING];   /* learned lately (bin NBINS: taken back) */
    uint8_t held_in_bin[NBINS]; /* held responses per bin (RARE_RING < 256) */
    uint8_t thead, tlen;
} prov;

typedef struct retry_slot {
    uint64_t key, until;
} retry_slot;

struct fl_https_modes {
    sni *e;
    uint32_t cap, used;
    uint32_t *hash;
    uint32_t hmask;
    uint32_t lru_head, lru_tail; /* head = least recently used */
    prov *provs;                 /* FL_HTTPS_PROVIDER_CAP */
    retry_slot retry[FL_HTTPS_RETRY_SLOTS];
    fl_https_observer obs;
    void *obs_ctx;
    fl_https_conn cur_conn; /* ... its connection (client family 0: not known) */
    uint32_t others;        /* held responses of other connections sent to the sink */
    fl_https_release_fn release_fn;
    void *release_ctx;
    bool self_counted;       /* the current response was counted */
    uint64_t formed_from_us; /* a mode formed: its first member's time */
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
    double v =
        exp2((double)(bin + MIN_OCTAVE * FL_HTTPS_BINS_PER_OCTAVE) / FL_HTTPS_BINS_PER_OCTAVE);
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
    m->provs = calloc(FL_HTTPS_PROVIDER_CAP, sizeof *m->provs);
    if (!m->e || !m->hash || !m->provs) {
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
    free(m->provs);
    free(m);
}

void fl_https_modes_reset(fl_https_modes *m)
{
    fl_https_modes keep = *m;
    memset(m, 0, sizeof *m);
    m->e = keep.e;
    m->cap = keep.cap;
    m->hash = keep.hash;
    m->hmask = keep.hmask;
    m->provs = keep.provs;
    m->obs = keep.obs;
    m->obs_ctx = keep.obs_ctx;
    m->release_fn = keep.release_fn;
    m->release_ctx = keep.release_ctx;
    memset(m->e, 0, m->cap * sizeof *m->e);
    memset(m->provs, 0, FL_HTTPS_PROVIDER_CAP * sizeof *m->provs);
    memset(m->hash, 0xff, ((size_t)m->hmask + 1) * sizeof *m->hash);
    m->lru_head = m->lru_tail = NIL;
}

void fl_https_modes_set_observer(fl_https_modes *m, fl_https_observer fn, void *ctx)
{
    if (m) {
        m->obs = fn;
        m->obs_ctx = ctx;
    }
}

void fl_https_modes_set_release(fl_https_modes *m, fl_https_release_fn fn, void *ctx)
{
    if (m) {
        m->release_fn = fn;
        m->release_ctx = ctx;
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

/* ---------------------------------------------------------------- tables */

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

static sni *sni_find(fl_https_modes *m, uint16_t provider, uint32_t service)
{
    for (uint32_t i = m->hash[sni_hash(m, provider, service)]; i != NIL; i = m->e[i].hnext)
        if (m->e[i].provider == provider && m->e[i].service == service)
            return &m->e[i];
    return NULL;
}

/* The SNI's entry, created (evicting the least recently used at the cap)
 * if new; moved to the LRU tail. */
static sni *sni_get(fl_https_modes *m, uint16_t provider, uint32_t service, uint64_t ts,
                    bool *created)
{
    sni *s = sni_find(m, provider, service);
    *created = !s;
    if (s) {
        uint32_t i = (uint32_t)(s - m->e);
        lru_unlink(m, i);
        lru_append(m, i);
        return s;
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
    s = &m->e[i];
    memset(s, 0, sizeof *s);
    s->provider = provider;
    s->service = service;
    s->h.first_us = ts;
    uint32_t h = sni_hash(m, provider, service);
    s->hnext = m->hash[h];
    m->hash[h] = i;
    lru_append(m, i);
    return s;
}

/* The provider's entry (open addressing); NULL when the table is full. */
static prov *prov_get(fl_https_modes *m, uint16_t id, uint64_t ts)
{
    uint32_t mask = FL_HTTPS_PROVIDER_CAP - 1;
    uint32_t i = (uint32_t)fl_mix64(id) & mask;
    for (uint32_t k = 0; k < FL_HTTPS_PROVIDER_CAP; k++, i = (i + 1) & mask) {
        prov *p = &m->provs[i];
        if (p->used && p->id == id)
            return p;
        if (!p->used) {
            p->used = 1;
            p->id = id;
            p->h.first_us = ts;
            return p;
        }
    }
    return NULL;
}

/* ------------------------------------------------------------- baselines */

static void learn(hist *h, uint32_t bin)
{
    h->base[bin] += 1.0f;
    h->n += 1.0f;
    if (h->n >= BASE_MAX) {
        for (uint32_t i = 0; i < NBINS; i++)
            h->base[i] *= 0.5f;
        h->n *= 0.5f;
    }
}

/* Take one response of `bin` back out of a baseline. */
static void unlearn(hist *h, uint32_t bin)
{
    if (h->base[bin] >= 1.0f && h->n >= 1.0f) {
        h->base[bin] -= 1.0f;
        h->n -= 1.0f;
    }
}

static bool learned(const hist *h, uint64_t ts)
{
    return h->n >= FL_HTTPS_LEARN_MIN && ts >= h->first_us + FL_HTTPS_LEARN_US;
}

/* A provider's baseline is usable after FL_HTTPS_LEARN_US like an SNI's,
 * or sooner once it holds the first FL_HTTPS_COLD_MIN responses of at
 * least FL_HTTPS_COLD_SNIS sites: a capture (or a restart) that begins a
 * few seconds before an incident is judged against its first responses
 * instead of learning the incident as the baseline. */
static bool prov_learned(const prov *p, uint64_t ts)
{
    return learned(&p->h, ts) || (p->h.n >= FL_HTTPS_COLD_MIN && p->snis >= FL_HTTPS_COLD_SNIS);
}

/* Learned responses in bins lo..hi and the one beside each end. */
static float range_mass(const hist *h, uint32_t lo, uint32_t hi)
{
    float v = 0.0f;
    for (uint32_t i = lo > 0 ? lo - 1 : 0; i <= hi + 1 && i < NBINS; i++)
        v += h->base[i];
    return v;
}

/* Learned responses in the bin and its two neighbours. */
static float near_mass(const hist *h, uint32_t bin)
{
    return range_mass(h, bin, bin);
}

/* Effective number of occupied bins, exp(entropy): 1 for one size, the
 * width for a flat histogram. */
static double eff_bins(const hist *h)
{
    double ent = 0.0;
    for (uint32_t i = 0; i < NBINS; i++) {
        if (h->base[i] <= 0.0f)
            continue;
        double q = (double)h->base[i] / (double)h->n;
        ent -= q * log(q);
    }
    return exp(ent);
}

/* Under FL_HTTPS_RARE_SHARE of the learned responses in the bin and its
 * two neighbours, and under what three bins of the histogram hold on
 * average: on a wide, flat histogram (sizes spread evenly over many
 * octaves) every bin holds under 3%, and a bin is not rare merely because
 * the spread is wide. */
static bool rare_in(const hist *h, uint32_t bin)
{
    float v = near_mass(h, bin);
    if (v >= (float)FL_HTTPS_RARE_SHARE * h->n)
        return false;
    double typical = 3.0 / eff_bins(h);
    return (double)v < typical * (double)h->n;
}

/* Two responses of one template: within FL_HTTPS_NEAR_SHARE of the size
 * (one template's pages differ by tens of bytes: the hostname, a ray ID,
 * the time), or within FL_HTTPS_NEAR_BYTES of each other. The second
 * matters for small bodies: the same 127-byte JSON error costs 111-198
 * bytes on the wire as its HTTP/2 HEADERS frame is literal (first
 * response of a connection) or indexed (RFC 7541 2.3). Not a log bin and
 * its neighbours (9 % of the size): a site whose ordinary sizes drift
 * spreads over that much, a template does not. */
/* Under FL_HTTPS_RARE_SHARE of the learned responses in the bin itself. */
static bool rare_bin(const hist *h, uint32_t bin)
{
    return h->base[bin] < (float)FL_HTTPS_RARE_SHARE * h->n;
}

static bool near_resp(const rare_ent *r, uint32_t bytes)
{
    uint32_t d = r->bytes > bytes ? r->bytes - bytes : bytes - r->bytes;
    uint32_t tol = (uint32_t)(bytes * FL_HTTPS_NEAR_SHARE);
    return d <= (tol > FL_HTTPS_NEAR_BYTES ? tol : FL_HTTPS_NEAR_BYTES);
}

/* The oldest rare response leaves the provider's ring: when it expired,
 * learned (by the provider and, if still tracked, its SNI) unless it was
 * counted suspect; pushed out by a full ring, forgotten (a flood of rare
 * responses must not teach the baseline its own error mode). */
static void rare_pop(fl_https_modes *m, prov *p, bool expired)
{
    rare_ent *r = &p->rare[p->rhead];
    if (expired && !r->counted) {
        learn(&p->h, r->bin);
        sni *s = sni_find(m, p->id, r->service);
        if (s)
            learn(&s->h, r->bin);
    }
    p->held_in_bin[r->bin]--;
    p->rhead = (uint8_t)((p->rhead + 1) % RARE_RING);
    p->rlen--;
}

static rare_ent *rare_at(prov *p, uint32_t k)
{
    return &p->rare[(p->rhead + k) % RARE_RING];
}

/* Distinct values: adds v to set[0..*n) unless present. */
static void add_distinct(uint32_t *set, uint32_t *n, uint32_t v)
{
    uint32_t j = 0;
    while (j < *n && set[j] != v)
        j++;
    if (j == *n)
        set[(*n)++] = v;
}

/* ln of a Chernoff upper bound on P(X >= k), X ~ Binomial(n, p0): the
 * chance that k of n recent responses land in bins that held a share p0
 * of the baseline, were the baseline still true. */
static double binom_tail_ln(double k, double n, double p0)
{
    if (n < k)
        n = k;
    double a = k / n;
    if (a <= p0)
        return 0.0;
    double kl = a * log(a / p0);
    if (a < 1.0)
        kl += (1.0 - a) * log((1.0 - a) / (1.0 - p0));
    return -n * kl;
}

/* Are `near` responses of `seen` a real new mode? Their share must be at
 * least FL_HTTPS_MODE_SHARE and far above p0, the share the baseline
 * expects (a ratio and a binomial tail, the tail's bound paid for the
 * `ln_tries` start points tried). */
static bool concentrated(uint32_t near, uint64_t seen, double p0, double ln_tries)
{
    double n = seen > near ? (double)seen : (double)near;
    double share = (double)near / n;
    if (share < FL_HTTPS_MODE_SHARE || p0 >= 1.0 || share < FL_HTTPS_MODE_RATIO * p0)
        return false;
    return binom_tail_ln((double)near, n, p0) + ln_tries < FL_HTTPS_MODE_LN_P;
}

/* The share bins lo..hi (and one beside each end) held in a baseline,
 * with its uncertainty: one more response than learned, of two more. */
static double base_share(const hist *h, uint32_t lo, uint32_t hi)
{
    return ((double)range_mass(h, lo, hi) + 1.0) / ((double)h->n + 2.0);
}

/* The SNIs of a cluster, each with its response count now and the rank
 * of its oldest member so far. */
typedef struct cl_sni {
    const sni *s;
    uint32_t service, now, first;
    uint32_t members; /* of the cluster */
} cl_sni;

/* Is there a new mode around the response just held (bin, bytes)? The
 * held rare responses near it are walked from the newest back; at each
 * start the cluster (that member and every newer one) is judged against
 * the responses its own SNIs answered since their first member in it:
 * an error template is a share of the failing sites' responses, whatever
 * the share of the provider's other sites, and a stray old response of
 * the same size must not dilute a burst (a scan over start points: the
 * bound is taken with the number of starts tried). Needs
 * FL_HTTPS_MODE_MIN members from FL_HTTPS_BREADTH SNIs (and
 * FL_HTTPS_CLIENTS clients when clients are known), and
 * FL_HTTPS_OTHER_SITES_MIN of them not from the largest SNI. */
static bool new_mode(fl_https_modes *m, prov *p, uint32_t bin, uint32_t bytes, uint64_t ts,
                     uint64_t *from_us)
{
    cl_sni sn[RARE_RING];
    uint32_t cl[RARE_RING];
    uint32_t nsni = 0, ncl = 0, members = 0, lo = bin, hi = bin, occupied = 0, largest = 0;
    uint64_t bits[(NBINS + 63) / 64] = { 0 };
    double flat = FL_HTTPS_FLAT_FRACTION / eff_bins(&p->h);
    for (uint32_t k = p->rlen; k-- > 0;) {
        const rare_ent *r = rare_at(p, k);
        if (!near_resp(r, bytes))
            continue;
        members++;
        if (!(bits[r->bin / 64] & (1ull << (r->bin % 64)))) {
            bits[r->bin / 64] |= 1ull << (r->bin % 64);
            occupied++;
        }
        lo = r->bin < lo ? r->bin : lo;
        hi = r->bin > hi ? r->bin : hi;
        if (r->client)
            add_distinct(cl, &ncl, r->client);
        uint32_t j = 0;
        while (j < nsni && sn[j].service != r->service)
            j++;
        if (j == nsni) {
            const sni *s = sni_find(m, p->id, r->service);
            sn[nsni++] = (cl_sni){ .s = s, .service = r->service, .now = s ? s->count : 0 };
        }
        sn[j].first = r->srank;
        sn[j].members++;
        largest = sn[j].members > largest ? sn[j].members : largest;
        if (members < FL_HTTPS_MODE_MIN || nsni < FL_HTTPS_BREADTH ||
            (ncl && ncl < FL_HTTPS_CLIENTS) || members - largest < FL_HTTPS_OTHER_SITES_MIN)
            continue;
        /* Expected share: each SNI's baseline share of these bins,
         * weighted by its responses since its first member. */
        uint64_t seen = 0;
        double expect = 0.0, pp = base_share(&p->h, lo, hi);
        uint32_t young = 0;
        for (uint32_t i = 0; i < nsni; i++) {
            uint32_t c = sn[i].now >= sn[i].first ? sn[i].now - sn[i].first + 1 : 1;
            seen += c;
            const sni *e = sn[i].s;
            /* Its baseline shrunk toward the provider's share by
             * FL_HTTPS_LEARN_MIN responses' worth, plus one response of
             * doubt once learned: a young site is judged by its provider
             * (whose share has its own doubt), a known one by itself. */
            double es = pp;
            if (e && learned(&e->h, ts))
                es = ((double)range_mass(&e->h, lo, hi) + FL_HTTPS_LEARN_MIN * pp + 1.0) /
                     ((double)e->h.n + FL_HTTPS_LEARN_MIN + 2.0);
            else if (e)
                es = ((double)range_mass(&e->h, lo, hi) + FL_HTTPS_LEARN_MIN * pp) /
                     ((double)e->h.n + FL_HTTPS_LEARN_MIN);
            young += !e || !learned(&e->h, ts);
            expect += c * es;
        }
        double p0 = expect / (double)seen;
        /* Never below what the bins the members occupy (and one beside
         * each end) hold on a flat histogram (FL_HTTPS_FLAT_FRACTION of
         * it): chance members of a wide spread each sit in a bin of their
         * own, a template's pile up in a few. */
        if (p0 < flat * (occupied + 2))
            p0 = flat * (occupied + 2);
        /* Sites judged by their provider (not learned yet) need one more
         * site of breadth: the provider's baseline knows little of
         * their sizes. */
        if (young && nsni < FL_HTTPS_BREADTH + 1)
            continue;
        if (members >= FL_HTTPS_PILE * occupied &&
            concentrated(members, seen, p0, log((double)members))) {
            *from_us = r->ts_us; /* the cluster judged: this member and newer */
            return true;
        }
    }
    return false;
}

/* Does a suspect response of `bytes` belong to a summary's mode: within
 * its range widened as near_resp widens a cluster? */
static bool in_summary(const fl_https_mode_summary *ms, uint32_t bytes)
{
    uint64_t lo = ms->lo_bytes - (uint64_t)(ms->lo_bytes * FL_HTTPS_NEAR_SHARE);
    uint64_t hi = ms->hi_bytes + (uint64_t)(ms->hi_bytes * FL_HTTPS_NEAR_SHARE);
    lo = lo > FL_HTTPS_NEAR_BYTES ? lo - FL_HTTPS_NEAR_BYTES : 0;
    return bytes >= lo && bytes <= hi + FL_HTTPS_NEAR_BYTES;
}

/* n, counted at `at`, decayed to ts over FL_HTTPS_ACTIVE_US. */
static float decayed(float n, uint64_t at, uint64_t ts)
{
    uint64_t dt = ts > at ? ts - at : 0;
    return n * (float)exp(-(double)dt / (double)FL_HTTPS_ACTIVE_US);
}

/* Counts a response of `bin` among the provider's recent ones, and says
 * whether that bin is rising: at least FL_HTTPS_RISE_MIN of them lately,
 * FL_HTTPS_RISE_RATIO times the share its baseline holds. Such responses
 * are held, not learned at once, whatever their site's baseline says: an
 * error template at a site whose pages are of that size anyway, or at a
 * young site judged by nothing yet, would otherwise be learned as usual
 * within seconds and hide the incident's later pages. Held ones no mode
 * takes are learned a window later. */
static bool bin_rising(prov *p, uint32_t bin, uint64_t ts)
{
    recent_bin *rb = &p->recent[bin];
    uint32_t now_s = (uint32_t)(ts / 1000000u);
    rb->n = decayed(rb->n, (uint64_t)rb->at_s * 1000000u, ts) + 1.0f;
    rb->at_s = now_s;
    if (rb->n < (float)FL_HTTPS_RISE_MIN || p->recent_n <= 0.0f)
        return false;
    /* against the baseline as it was a window ago: what it learned since
     * may be this very rise */
    double in_bin = p->h.base[bin], all = p->h.n;
    for (uint32_t k = 0; k < p->tlen; k++) {
        const rare_ent *t = &p->took[(p->thead + k) % TAKE_RING];
        if (t->bin >= NBINS || t->ts_us + FL_HTTPS_WINDOW_US < ts)
            continue;
        all -= 1.0;
        in_bin -= t->bin == bin;
    }
    double base = (fmax(in_bin, 0.0) + 1.0) / (fmax(all, 0.0) + 2.0);
    return (double)rb->n / (double)p->recent_n >= FL_HTTPS_RISE_RATIO * base;
}

/* What the report says of the provider's modes (FL_HTTPS_MODE_SLOTS, an
 * error template and a JSON error body are two): each one's size range,
 * when it began, its sites and its time to first byte. A suspect response
 * joins the slot whose range it is near, else takes the slot quiet
 * longest (FL_HTTPS_MODE_HOLD_US after its last count, a new mode starts
 * afresh). */
static void note_mode(prov *p, const rare_ent *r, uint64_t ts, bool formed)
{
    mode_slot *sl = NULL, *old = &p->modes[0];
    for (uint32_t k = 0; k < FL_HTTPS_MODE_SLOTS; k++) {
        mode_slot *c = &p->modes[k];
        if (c->ms.suspect && in_summary(&c->ms, r->bytes) &&
            r->ts_us <= c->ms.last_us + FL_HTTPS_MODE_HOLD_US) {
            sl = c;
            break;
        }
        if (c->ms.last_us < old->ms.last_us || !c->ms.suspect)
            old = !old->ms.suspect ? old : c;
    }
    fl_https_mode_summary *ms;
    if (!sl) {
        sl = old;
        ms = &sl->ms;
        memset(sl, 0, sizeof *sl);
        ms->lo_bytes = ms->hi_bytes = r->bytes;
        ms->first_us = r->ts_us;
        ms->ttfb_base_us = p->ttfb_base_us;
        sl->rank = r->rank;
    }
    ms = &sl->ms;
    if (formed) {
        sl->core_lo = !sl->core_lo || r->bytes < sl->core_lo ? r->bytes : sl->core_lo;
        sl->core_hi = r->bytes > sl->core_hi ? r->bytes : sl->core_hi;
    }
    sl->counted_n = decayed(sl->counted_n, sl->counted_at, ts) + 1.0f;
    sl->counted_at = ts;
    ms->lo_bytes = r->bytes < ms->lo_bytes ? r->bytes : ms->lo_bytes;
    ms->hi_bytes = r->bytes > ms->hi_bytes ? r->bytes : ms->hi_bytes;
    ms->first_us = r->ts_us < ms->first_us ? r->ts_us : ms->first_us;
    ms->last_us = ts > ms->last_us ? ts : ms->last_us;
    ms->suspect++;
    ms->responses = p->count >= sl->rank ? p->count - sl->rank + 1 : ms->suspect;
    sl->ttfb_sum += r->ttfb_us;
    ms->ttfb_mode_us = sl->ttfb_sum / ms->suspect;
    uint32_t j = 0;
    while (j < ms->nservices && ms->services[j] != r->service)
        j++;
    if (j == ms->nservices && j < FL_HTTPS_MODE_SITES)
        ms->services[ms->nservices++] = r->service;
    else if (j == ms->nservices)
        ms->more_services = 1;
}

uint32_t fl_https_modes_summary(const fl_https_modes *m, uint16_t provider,
                                fl_https_mode_summary *out, uint32_t max)
{
    if (!m)
        return 0;
    uint32_t mask = FL_HTTPS_PROVIDER_CAP - 1;
    uint32_t i = (uint32_t)fl_mix64(provider) & mask;
    for (uint32_t k = 0; k < FL_HTTPS_PROVIDER_CAP; k++, i = (i + 1) & mask) {
        const prov *p = &m->provs[i];
        if (!p->used)
            return 0;
        if (p->id != provider)
            continue;
        uint32_t n = 0;
        for (uint32_t s = 0; s < FL_HTTPS_MODE_SLOTS && n < max; s++)
            if (p->modes[s].ms.suspect)
                out[n++] = p->modes[s].ms;
        return n;
    }
    return 0;
}

/* Within FL_HTTPS_NEAR_BYTES of the sizes of the clusters that formed the
 * mode: what it counts while active. Not its whole range, which grows
 * with every response counted and would creep along a wide histogram. */
static bool in_core(const mode_slot *sl, uint32_t bytes)
{
    return sl->core_hi && bytes + FL_HTTPS_NEAR_BYTES >= sl->core_lo &&
           bytes <= sl->core_hi + FL_HTTPS_NEAR_BYTES;
}

/* Is a mode of the provider active: a response of `bytes` falls in its
 * range and its last count is under FL_HTTPS_MODE_HOLD_US old? */
static const mode_slot *active_mode(const prov *p, uint32_t bytes, uint64_t ts)
{
    for (uint32_t k = 0; k < FL_HTTPS_MODE_SLOTS; k++) {
        const mode_slot *sl = &p->modes[k];
        const fl_https_mode_summary *ms = &sl->ms;
        /* Active while its counts stay FL_HTTPS_MODE_SHARE of the
         * provider's recent responses: an incident's troughs keep it; the
         * few responses of that size a provider's sites answer anyway
         * (counted while it is active) cannot keep it alive after the
         * incident ends. */
        if (ms->suspect && ts <= ms->last_us + FL_HTTPS_MODE_HOLD_US && in_core(sl, bytes) &&
            decayed(sl->counted_n, sl->counted_at, ts) >= (float)FL_HTTPS_MODE_SHARE * p->recent_n)
            return sl;
    }
    return NULL;
}

static bool same_conn(const fl_https_conn *a, const fl_https_conn *b)
{
    return a->cport == b->cport && a->sport == b->sport && a->proto == b->proto &&
           fl_addr_eq(&a->client, &b->client) && fl_addr_eq(&a->server, &b->server);
}

/* Count one held rare response as suspect. */
static uint32_t release_one(fl_https_modes *m, prov *p, rare_ent *r, uint64_t ts, bool formed)
{
    if (r->counted)
        return 0;
    r->counted = 1;
    note_mode(p, r, ts, formed);
    if (r->tag == m->self_tag)
        m->self_counted = true;
    if (m->obs)
        m->obs(m->obs_ctx, 'S', r->tag, p->id, r->service, r->bytes, 0, ts);
    /* another connection's response (or one of this connection's whose
     * client is unknown): booked for its own client and site */
    if (m->release_fn && r->conn.client.family && !same_conn(&r->conn, &m->cur_conn)) {
        m->release_fn(m->release_ctx, p->id, r->service, &r->conn, ts);
        m->others++;
    }
    return 1;
}

/* Count the provider's held rare responses near `bytes` since from_us as
 * suspect: those of the mode judged, not older ones of the same size (a
 * deploy's 404 pages a few seconds before an incident's JSON errors). An
 * active mode (`core`) releases only held responses within its core: near
 * the response that came would reach 3 % beyond the core, and after an
 * incident the sites' ordinary pages held there would be counted with
 * each stray response of the template's size, holding the alert open. */
static uint32_t release(fl_https_modes *m, prov *p, uint32_t bytes, uint64_t ts, uint64_t from_us,
                        const mode_slot *core)
{
    uint32_t n = 0;
    for (uint32_t k = 0; k < p->rlen; k++) {
        rare_ent *r = rare_at(p, k);
        if (r->ts_us >= from_us && near_resp(r, bytes) && (!core || in_core(core, r->bytes)))
            n += release_one(m, p, r, ts, core == NULL);
    }
    return n;
}

/* Is this response rare? Nothing is before the provider's baseline is
 * learned (cold start); then it is judged against its SNI's baseline once
 * that is learned, before that against its provider's (a site seen little
 * is judged by what the provider's sites answer). */
static bool is_rare(const sni *s, const prov *p, uint32_t bin, uint64_t ts)
{
    if (!prov_learned(p, ts))
        return false;
    if (learned(&s->h, ts))
        return rare_bin(&s->h, bin);
    return true;
}

/* A new entry at the tail of the provider's held responses (the oldest
 * pushed out, forgotten, when full). */
static rare_ent *hold(fl_https_modes *m, prov *p, const rare_ent *e)
{
    m->st.rare++;
    if (p->rlen == RARE_RING) {
        rare_pop(m, p, false);
        m->st.rare_dropped++;
    }
    rare_ent *r = rare_at(p, p->rlen++);
    *r = *e;
    p->held_in_bin[r->bin]++;
    return r;
}

/* Could FL_HTTPS_MODE_MIN held responses be near `bytes`? Counted by bin
 * over the bins near_resp can reach: most held responses (a young site's,
 * one of a kind) have too few neighbours to try a mode, which costs a walk
 * of the held ring. */
static bool enough_near(const prov *p, uint32_t bytes)
{
    uint32_t tol = (uint32_t)(bytes * FL_HTTPS_NEAR_SHARE);
    tol = tol > FL_HTTPS_NEAR_BYTES ? tol : FL_HTTPS_NEAR_BYTES;
    uint32_t lo = fl_https_size_bin(bytes > tol ? bytes - tol : 0);
    uint32_t hi = fl_https_size_bin(bytes + tol);
    uint32_t n = 0;
    for (uint32_t b = lo; b <= hi && b < NBINS; b++)
        n += p->held_in_bin[b];
    return n >= FL_HTTPS_MODE_MIN;
}

/* A rising size: the responses near it learned within the window are
 * taken back out of their site's and the provider's baselines and held
 * with the rest, as if they had been held from the start. */
static void take_back(fl_https_modes *m, prov *p, uint32_t bytes, uint64_t ts)
{
    for (uint32_t k = 0; k < p->tlen; k++) {
        rare_ent *t = &p->took[(p->thead + k) % TAKE_RING];
        if (t->bin >= NBINS || t->ts_us + FL_HTTPS_WINDOW_US < ts || !near_resp(t, bytes))
            continue;
        unlearn(&p->h, t->bin);
        sni *s = sni_find(m, p->id, t->service);
        if (s)
            unlearn(&s->h, t->bin);
        hold(m, p, t);
        t->bin = NBINS;
    }
}

/* An ordinary response: learned by its site and provider at once, and
 * kept a window in case its size turns out to be rising (take_back). */
static void learn_now(prov *p, sni *s, const rare_ent *e)
{
    learn(&s->h, e->bin);
    learn(&p->h, e->bin);
    p->took[(p->thead + p->tlen) % TAKE_RING] = *e;
    if (p->tlen < TAKE_RING)
        p->tlen++;
    else
        p->thead = (uint8_t)((p->thead + 1) % TAKE_RING);
    /* the usual time to first byte, over the last few dozen */
    p->ttfb_base_us = p->h.n <= 1.0f
                          ? (float)e->ttfb_us
                          : p->ttfb_base_us + ((float)e->ttfb_us - p->ttfb_base_us) / 32.0f;
}

/* A client (and site) as a hash: the retry table's key, and with service 0
 * the client's id in a cluster. */
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

/* The current response's client, for counting distinct clients in a
 * cluster; 0 when not known. */
static uint32_t client_id(const fl_https_conn *conn)
{
    return conn->client.family ? (uint32_t)(retry_key(&conn->client, 0) >> 1) | 1u : 0;
}

uint32_t fl_https_modes_response(fl_https_modes *m, uint16_t provider, uint32_t service,
                                 uint32_t bytes, uint32_t ttfb_us, uint64_t ts, uint64_t first_us,
                                 uint64_t tag)
{
    if (!m)
        return 0;
    if (m->obs)
        m->obs(m->obs_ctx, 'R', tag, provider, service, bytes, ttfb_us, first_us);
    prov *p = prov_get(m, provider, ts);
    if (!p)
        return 0;
    bool created;
    sni *s = sni_get(m, provider, service, ts, &created);
    if (created && p->snis < UINT32_MAX)
        p->snis++;
    if (s->count < UINT32_MAX)
        s->count++;
    p->recent_n = decayed(p->recent_n, p->recent_at, ts) + 1.0f;
    p->recent_at = ts;
    p->count++;
    while (p->rlen && rare_at(p, 0)->ts_us + FL_HTTPS_WINDOW_US < ts)
        rare_pop(m, p, true);
    /* Server-initiated HTTP/2 control records (SETTINGS, its ACK and a
     * WINDOW_UPDATE: 49 bytes from nginx, RFC 9113 6.5) that follow a
     * request look like a tiny response: counted, never judged. */
    if (bytes < FL_HTTPS_MIN_BYTES)
        return 0;
    uint32_t bin = fl_https_size_bin(bytes);
    /* A size usual for its SNI but rare for the provider (the SNI took it
     * up lately) is held like a rare one and learned only if no mode
     * forms: else one site absorbing an error template into the
     * provider's baseline would hide it on all the others. */
    /* While a mode is active, a response in its size range is one more of
     * it unless its own site, learned, answers that size as usual (then it
     * is judged as always). A young site is judged by its provider, whose
     * histogram has room near any middling size: its error pages would be
     * learned as usual, by the site and the provider, and hide the
     * incident's later ones. */
    uint64_t from_us = 0;
    const mode_slot *core = active_mode(p, bytes, ts);
    bool active = core && !(learned(&s->h, ts) && !rare_in(&s->h, bin));
    bool rising = bin_rising(p, bin, ts) && prov_learned(p, ts);
    rare_ent e = { .ts_us = ts,
                   .tag = tag,
                   .bytes = bytes,
                   .service = service,
                   .bin = (uint16_t)bin,
                   .client = client_id(&m->cur_conn),
                   .conn = m->cur_conn,
                   .rank = p->count,
                   .srank = s->count,
                   .ttfb_us = ttfb_us };
    if (!active && !rising && !is_rare(s, p, bin, ts) &&
        (!prov_learned(p, ts) || !rare_in(&p->h, bin))) {
        learn_now(p, s, &e);
        return 0;
    }
    if (rising && !active)
        take_back(m, p, bytes, ts);
    hold(m, p, &e);
    /* ...counted at once, not held until a fresh cluster forms: at a
     * branch office's volume the error pages of an ongoing incident come a
     * few a minute, too few to form a mode again each window, and held
     * responses that expire are learned: the incident would teach its
     * sites their own error page. */
    if (active) {
        m->self_tag = tag;
        uint32_t n = release(m, p, bytes, ts, core->ms.first_us, core); /* it, held ones near it */
        m->self_tag = 0;
        m->st.suspect += n;
        return n;
    }
    /* Clients are known when fed by fl_https_modes_facts; the responses of
     * one client (a crawler, a test script) are no provider's outage. */
    if (!enough_near(p, bytes) || !new_mode(m, p, bin, bytes, ts, &from_us))
        return 0;
    m->self_tag = tag;
    uint32_t n = release(m, p, bytes, ts, from_us, NULL);
    if (!m->formed_from_us || from_us < m->formed_from_us)
        m->formed_from_us = from_us;
    m->self_tag = 0;
    m->st.suspect += n;
    return n;
}

/* ------------------------------------------------------ facts and retries */

void fl_https_modes_facts(fl_https_modes *m, const fl_tlsrec_facts *tf, uint16_t provider,
                          uint32_t service, const fl_https_conn *conn, uint64_t ts, uint64_t tag,
                          fl_https_counts *out)
{
    memset(out, 0, sizeof *out);
    if (!m || !tf)
        return;
    const fl_addr *client = conn ? &conn->client : NULL;
    uint64_t key = retry_key(client, service);
    retry_slot *slot = &m->retry[key % FL_HTTPS_RETRY_SLOTS];
    if (tf->first_request && slot->key == key && ts <= slot->until)
        out->retries = 1;
    if (conn)
        m->cur_conn = *conn;
    else
        memset(&m->cur_conn, 0, sizeof m->cur_conn);
    m->others = 0;
    m->formed_from_us = 0;
    for (uint32_t i = 0; i < tf->response && i < FL_TLSREC_MAX_RESP; i++) {
        const fl_tlsrec_resp *r = &tf->resp[i];
        out->responses++;
        m->self_counted = false;
        out->suspect += fl_https_modes_response(m, provider, service, r->bytes, r->ttfb_us, ts,
                                                r->first_us, tag | r->seq);
        out->flagged = out->flagged || m->self_counted;
    }
    m->self_counted = false;
    memset(&m->cur_conn, 0, sizeof m->cur_conn);
    out->suspect -= m->others < out->suspect ? m->others : out->suspect;
    m->others = 0;
    out->mode_from_us = m->formed_from_us;
    m->formed_from_us = 0;
    out->early_closes = tf->early_close;
    out->stalls = tf->stall;
    if (out->early_closes || out->stalls)
        out->flagged = true;
    if (out->flagged) {
        slot->key = key;
        slot->until = ts + FL_HTTPS_RETRY_US;
    }
}
