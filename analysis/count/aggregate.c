/* aggregate.c - per-provider, per-bucket counters with a grace window.
 *
 * Open buckets live in a small ring (grace + 2 slots). Each slot holds one
 * cell per provider id that saw a fact: the counters, the distinct failing
 * clients (an exact list up to a cap, for Redis PFADD, with an index for
 * de-duplication) and a HyperLogLog. Closing a slot hands its cells to the
 * outputs and appends them to the history. Memory grows only with the
 * number of providers and the (bounded) history, never per packet.
 */
#include <stdlib.h>
#include <string.h>

#include "fl_aggregate.h"

#define SVC_INITIAL 256u /* service table slots at start (a power of two) */

typedef struct cell {
    fl_counts counts;
    bool used;
    fl_hll *hll;           /* allocated on the first failing client */
    fl_hll *active;        /* allocated on the first active client */
    fl_addr *clients;      /* exact list, up to clients_per_bucket */
    uint32_t *fails;       /* failures per listed client */
    fl_family_fails *famf; /* ... and per family */
    uint32_t *index;       /* open addressing over clients: slot -> i+1 */
    uint32_t nclients, index_size;
} cell;

typedef struct slot {
    uint64_t bucket; /* bucket number: start / width */
    bool open;
    cell *cells; /* by provider id */
    uint32_t ncells;
} slot;

struct fl_aggregate {
    fl_aggregate_options opt;
    fl_provider_name_fn names;
    void *names_ctx;
    fl_bucket_close_fn on_close;
    void *close_ctx;

    slot *ring;
    uint32_t nring;
    uint64_t newest; /* newest open bucket number */
    bool started;
    uint64_t late;

    fl_counts *totals; /* by provider */
    fl_hll **total_hll;
    uint32_t nproviders;
    fl_hll grand_hll;
    fl_counts *resolvers;
    uint32_t nresolvers;

    fl_history_entry *history;
    size_t nhistory, history_cap;
    uint64_t history_dropped;

    /* service names: interned strings */
    char **svc_names;
    uint32_t nsvc, svc_cap;
    uint32_t *svc_index; /* open addressing: name hash -> id */
    uint32_t svc_index_size;

    fl_services *svcs; /* per bucket and service (fl_services.h) */

    fl_bucket_entry *scratch;
    uint32_t nscratch;
};

static uint64_t hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (; *s; s++) {
        h ^= (uint8_t)*s;
        h *= 1099511628211ULL;
    }
    return h;
}

static bool grow_array(void **p, uint32_t *n, uint32_t need, size_t elem)
{
    if (need <= *n)
        return true;
    uint32_t nn = *n ? *n : 8;
    while (nn < need)
        nn *= 2;
    void *q = realloc(*p, (size_t)nn * elem);
    if (!q)
        return false;
    memset((char *)q + (size_t)*n * elem, 0, (size_t)(nn - *n) * elem);
    *p = q;
    *n = nn;
    return true;
}

fl_aggregate *fl_aggregate_new(const fl_aggregate_options *opt, fl_provider_name_fn names,
                               void *names_ctx, fl_bucket_close_fn on_close, void *close_ctx)
{
    fl_aggregate *a = calloc(1, sizeof *a);
    if (!a)
        return NULL;
    a->opt = *opt;
    if (!a->opt.bucket_s)
        a->opt.bucket_s = 10;
    if (!a->opt.clients_per_bucket)
        a->opt.clients_per_bucket = 1024;
    if (!a->opt.history_max)
        a->opt.history_max = 1u << 20;
    if (!a->opt.services_max)
        a->opt.services_max = 1u << 16;
    a->names = names;
    a->names_ctx = names_ctx;
    a->on_close = on_close;
    a->close_ctx = close_ctx;
    /* grace_buckets comes from the config: capped so the ring size can
     * neither wrap to 0 (a division by zero in slot_for) nor be huge */
    if (a->opt.grace_buckets > 1024)
        a->opt.grace_buckets = 1024;
    a->nring = a->opt.grace_buckets + 2;
    a->ring = calloc(a->nring, sizeof *a->ring);
    /* The service tables start small and double as they fill (up to twice
     * services_max): allocating the 4.5 MB maximum up front cost more than
     * analysing a small capture. */
    a->svc_index_size = SVC_INITIAL;
    a->svc_index = calloc(a->svc_index_size, sizeof *a->svc_index);
    /* service rows: ~160 B each, at most 2^18 (40 MB) however long the run */
    a->svcs = fl_services_new(a->opt.bucket_s, a->opt.services_max,
                              a->opt.history_max < (1u << 18) ? a->opt.history_max : 1u << 18);
    if (!a->ring || !a->svc_index || !a->svcs) {
        fl_aggregate_free(a);
        return NULL;
    }
    return a;
}

static void cell_reset(cell *c)
{
    free(c->hll);
    free(c->active);
    free(c->clients);
    free(c->fails);
    free(c->famf);
    free(c->index);
    memset(c, 0, sizeof *c);
}

void fl_aggregate_free(fl_aggregate *a)
{
    if (!a)
        return;
    for (uint32_t i = 0; a->ring && i < a->nring; i++) {
        for (uint32_t p = 0; p < a->ring[i].ncells; p++)
            cell_reset(&a->ring[i].cells[p]);
        free(a->ring[i].cells);
    }
    free(a->ring);
    for (uint32_t p = 0; p < a->nproviders; p++)
        free(a->total_hll ? a->total_hll[p] : NULL);
    free(a->total_hll);
    free(a->totals);
    free(a->resolvers);
    free(a->history);
    for (uint32_t i = 0; i < a->nsvc; i++)
        free(a->svc_names[i]);
    free(a->svc_names);
    free(a->svc_index);
    fl_services_free(a->svcs);
    free(a->scratch);
    free(a);
}

static bool ensure_provider(fl_aggregate *a, uint16_t provider)
{
    uint32_t n = a->nproviders, n2 = a->nproviders;
    if (!grow_array((void **)&a->totals, &n, provider + 1u, sizeof *a->totals))
        return false;
    /* an array of pointers: each element is an fl_hll * */
    // NOLINTNEXTLINE(bugprone-sizeof-expression)
    if (!grow_array((void **)&a->total_hll, &n2, provider + 1u, sizeof *a->total_hll))
        return false;
    a->nproviders = n < n2 ? n : n2;
    return true;
}

static void close_slot(fl_aggregate *a, slot *s)
{
    if (!s->open)
        return;
    uint32_t n = 0;
    if (!grow_array((void **)&a->scratch, &a->nscratch, s->ncells, sizeof *a->scratch))
        n = 0;
    for (uint32_t p = 0; p < s->ncells && p < a->nscratch; p++) {
        cell *c = &s->cells[p];
        if (!c->used)
            continue;
        fl_bucket_entry *e = &a->scratch[n++];
        e->start = s->bucket * a->opt.bucket_s;
        e->width = a->opt.bucket_s;
        e->provider = a->names(a->names_ctx, (uint16_t)p);
        e->counts = c->counts;
        e->clients = c->clients;
        e->nclients = c->nclients;
        e->clients_estimate = c->hll ? fl_hll_count(c->hll) : 0;
        if (e->clients_estimate < c->nclients)
            e->clients_estimate = c->nclients;
        e->active_clients = c->active ? fl_hll_count(c->active) : 0;
        e->client_failures = c->fails;
        e->client_family_failures = c->famf;
        if (e->active_clients < e->clients_estimate)
            e->active_clients = e->clients_estimate;

        if (a->nhistory == a->history_cap && a->history_cap < a->opt.history_max) {
            size_t nc = a->history_cap ? a->history_cap * 2 : 256;
            if (nc > a->opt.history_max)
                nc = a->opt.history_max;
            fl_history_entry *h = realloc(a->history, nc * sizeof *h);
            if (h) {
                a->history = h;
                a->history_cap = nc;
            }
        }
        if (a->nhistory < a->history_cap) {
            fl_history_entry *h = &a->history[a->nhistory++];
            h->start = e->start;
            h->provider = (uint16_t)p;
            h->clients = (uint32_t)e->clients_estimate;
            h->active_clients = (uint32_t)e->active_clients;
            h->counts = c->counts;
        } else {
            a->history_dropped++;
        }
    }
    /* the services' rows first: an alert raised by on_close reads them */
    fl_services_close(a->svcs, s->bucket);
    if (n && a->on_close)
        a->on_close(a->close_ctx, a->scratch, n);
    for (uint32_t p = 0; p < s->ncells; p++)
        cell_reset(&s->cells[p]);
    s->open = false;
}

/* The slot for bucket b, opening it (and closing what falls out of the
 * window) as needed; NULL only on allocation failure. Late facts go to the
 * oldest open bucket. */
static slot *slot_for(fl_aggregate *a, uint64_t ts_us)
{
    /* nring >= 2 by construction (fl_aggregate_new); stated here so the
     * modulo below is visibly safe to a reader and to the analyzer */
    if (a->nring == 0)
        return NULL;
    /* a local copy: the close callbacks below cannot change the ring size */
    const uint32_t nring = a->nring;
    uint64_t b = ts_us / 1000000u / a->opt.bucket_s;
    if (!a->started) {
        a->started = true;
        a->newest = b;
    }
    if (b > a->newest) {
        /* Close everything that leaves the window [b - nring + 1, b]. */
        uint64_t lo = b >= nring ? b - nring + 1 : 0;
        for (uint32_t i = 0; i < nring; i++) {
            slot *s = &a->ring[i];
            if (s->open && s->bucket < lo)
                close_slot(a, s);
        }
        a->newest = b;
    }
    uint64_t oldest_allowed = a->newest >= nring - 1 ? a->newest - (nring - 1) : 0;
    if (b < oldest_allowed) {
        a->late++;
        /* the oldest open bucket, or the oldest allowed one */
        b = oldest_allowed;
        for (uint32_t i = 0; i < nring; i++)
            if (a->ring[i].open && a->ring[i].bucket < b)
                b = a->ring[i].bucket;
        if (b < oldest_allowed)
            b = oldest_allowed;
    }
    slot *s = &a->ring[b % nring];
    if (s->open && s->bucket != b)
        close_slot(a, s);
    if (!s->open) {
        s->open = true;
        s->bucket = b;
    }
    return s;
}

static cell *cell_for(fl_aggregate *a, slot *s, uint16_t provider)
{
    if (!grow_array((void **)&s->cells, &s->ncells, provider + 1u, sizeof *s->cells))
        return NULL;
    if (!ensure_provider(a, provider))
        return NULL;
    cell *c = &s->cells[provider];
    c->used = true;
    return c;
}

void fl_aggregate_count(fl_aggregate *a, uint64_t ts_us, uint16_t provider, fl_counter c,
                        uint32_t n)
{
    if ((unsigned)c >= FL_C_COUNT || n == 0)
        return;
    slot *s = slot_for(a, ts_us);
    cell *ce = cell_for(a, s, provider);
    if (!ce)
        return;
    ce->counts.v[c] += n;
    a->totals[provider].v[c] += n;
}

/* One failure in each family of the mask (saturating). */
static void add_families(fl_family_fails ff, uint16_t families)
{
    for (int f = 0; f < FL_FAM_COUNT; f++)
        if ((families >> f) & 1u && ff[f] < UINT16_MAX)
            ff[f]++;
}

static void add_exact_client(fl_aggregate *a, cell *c, const fl_addr *client, uint64_t h,
                             uint16_t families)
{
    if (!c->index) {
        c->index_size = 16;
        c->index = calloc(c->index_size, sizeof *c->index);
        c->clients = malloc(8 * sizeof *c->clients);
        c->fails = malloc(8 * sizeof *c->fails);
        c->famf = malloc(8 * sizeof *c->famf);
        if (!c->index || !c->clients || !c->fails || !c->famf) {
            free(c->index);
            free(c->clients);
            free(c->fails);
            free(c->famf);
            c->index = NULL;
            c->clients = NULL;
            c->fails = NULL;
            c->famf = NULL;
            return;
        }
    }
    uint32_t mask = c->index_size - 1;
    for (uint32_t i = (uint32_t)h & mask;; i = (i + 1) & mask) {
        if (c->index[i] == 0)
            break;
        if (fl_addr_eq(&c->clients[c->index[i] - 1], client)) {
            c->fails[c->index[i] - 1]++;
            add_families(c->famf[c->index[i] - 1], families);
            return;
        }
    }
    if (c->nclients >= a->opt.clients_per_bucket)
        return;
    /* grow the lists (power of two up to the cap) and the index (2x) */
    uint32_t n = c->nclients;
    if (n >= 8 && (n & (n - 1)) == 0) {
        fl_addr *nl = realloc(c->clients, 2 * n * sizeof *nl);
        if (!nl)
            return;
        c->clients = nl;
        uint32_t *nf = realloc(c->fails, 2 * n * sizeof *nf);
        if (!nf)
            return;
        c->fails = nf;
        fl_family_fails *nm = realloc(c->famf, 2 * n * sizeof *nm);
        if (!nm)
            return;
        c->famf = nm;
    }
    if (2 * (n + 1) > c->index_size) {
        uint32_t ns = c->index_size * 2;
        uint32_t *ni = calloc(ns, sizeof *ni);
        if (!ni)
            return;
        for (uint32_t k = 0; k < n; k++) {
            uint32_t j = (uint32_t)fl_addr_hash(&c->clients[k]) & (ns - 1);
            while (ni[j])
                j = (j + 1) & (ns - 1);
            ni[j] = k + 1;
        }
        free(c->index);
        c->index = ni;
        c->index_size = ns;
        mask = ns - 1;
    }
    uint32_t j = (uint32_t)h & mask;
    while (c->index[j])
        j = (j + 1) & mask;
    c->clients[n] = *client;
    c->fails[n] = 1;
    memset(c->famf[n], 0, sizeof c->famf[n]);
    add_families(c->famf[n], families);
    c->index[j] = n + 1;
    c->nclients = n + 1;
}

void fl_aggregate_failing_client(fl_aggregate *a, uint64_t ts_us, uint16_t provider,
                                 const fl_addr *client, uint16_t families)
{
    slot *s = slot_for(a, ts_us);
    cell *c = cell_for(a, s, provider);
    if (!c)
        return;
    uint64_t h = fl_addr_hash(client);
    if (!c->hll)
        c->hll = calloc(1, sizeof *c->hll);
    if (c->hll)
        fl_hll_add_hash(c->hll, h);
    add_exact_client(a, c, client, h, families);
    if (!a->total_hll[provider])
        a->total_hll[provider] = calloc(1, sizeof(fl_hll));
    if (a->total_hll[provider])
        fl_hll_add_hash(a->total_hll[provider], h);
    fl_hll_add_hash(&a->grand_hll, h);
}

void fl_aggregate_active_client(fl_aggregate *a, uint64_t ts_us, uint16_t provider,
                                const fl_addr *client)
{
    slot *s = slot_for(a, ts_us);
    cell *c = cell_for(a, s, provider);
    if (!c)
        return;
    if (!c->active)
        c->active = calloc(1, sizeof *c->active);
    if (c->active)
        fl_hll_add_addr(c->active, client);
}

void fl_aggregate_resolver(fl_aggregate *a, uint16_t resolver, fl_counter c, uint32_t n)
{
    if ((unsigned)c >= FL_C_COUNT ||
        !grow_array((void **)&a->resolvers, &a->nresolvers, resolver + 1u, sizeof *a->resolvers))
        return;
    a->resolvers[resolver].v[c] += n;
}

/* Keep both open-addressing tables at most half full: double one (and
 * re-insert its entries) before an insertion would pass that, while below
 * twice services_max. False if the table cannot grow (full or no memory). */
static bool svc_index_room(fl_aggregate *a)
{
    if ((a->nsvc + 1) * 2 <= a->svc_index_size)
        return true;
    if (a->svc_index_size >= 2 * a->opt.services_max)
        return a->nsvc < a->svc_index_size - 1;
    uint32_t ns = a->svc_index_size * 2, mask = ns - 1;
    uint32_t *ni = calloc(ns, sizeof *ni);
    if (!ni)
        return a->nsvc < a->svc_index_size - 1;
    for (uint32_t id = 1; id <= a->nsvc; id++) {
        uint32_t i = (uint32_t)hash_str(a->svc_names[id - 1]) & mask;
        while (ni[i])
            i = (i + 1) & mask;
        ni[i] = id;
    }
    free(a->svc_index);
    a->svc_index = ni;
    a->svc_index_size = ns;
    return true;
}

uint32_t fl_aggregate_service_id(fl_aggregate *a, const char *name)
{
    if (!name || !*name)
        return 0;
    if (a->nsvc < a->opt.services_max && !svc_index_room(a))
        return 0;
    uint64_t h = hash_str(name);
    uint32_t mask = a->svc_index_size - 1;
    uint32_t i = (uint32_t)h & mask;
    for (; a->svc_index[i]; i = (i + 1) & mask)
        if (strcmp(a->svc_names[a->svc_index[i] - 1], name) == 0)
            return a->svc_index[i];
    if (a->nsvc >= a->opt.services_max)
        return 0;
    if (!grow_array((void **)&a->svc_names, &a->svc_cap, a->nsvc + 1, sizeof *a->svc_names))
        return 0;
    char *copy = strdup(name);
    if (!copy)
        return 0;
    a->svc_names[a->nsvc++] = copy;
    a->svc_index[i] = a->nsvc;
    return a->nsvc;
}

const char *fl_aggregate_service_name(const fl_aggregate *a, uint32_t id)
{
    return id && id <= a->nsvc ? a->svc_names[id - 1] : "(other)";
}

void fl_aggregate_service_count(fl_aggregate *a, uint64_t ts_us, uint16_t provider,
                                uint32_t service, fl_counter c, uint32_t n)
{
    /* the fact itself was counted (and, if late, said so) by
     * fl_aggregate_count: not a second late fact */
    uint64_t late = a->late;
    slot *s = slot_for(a, ts_us);
    a->late = late;
    if (s)
        fl_services_count(a->svcs, s->bucket, provider, service, c, n);
}

void fl_aggregate_service_failed_flow(fl_aggregate *a, uint64_t ts_us, uint16_t provider,
                                      uint32_t service)
{
    uint64_t late = a->late;
    slot *s = slot_for(a, ts_us);
    a->late = late;
    if (s)
        fl_services_failed_flow(a->svcs, s->bucket, provider, service);
}

void fl_aggregate_advance(fl_aggregate *a, uint64_t now_us)
{
    if (!a->started)
        return;
    uint64_t b = now_us / 1000000u / a->opt.bucket_s;
    if (b <= a->newest)
        return;
    uint64_t lo = b >= a->nring ? b - a->nring + 1 : 0;
    for (uint32_t i = 0; i < a->nring; i++)
        if (a->ring[i].open && a->ring[i].bucket < lo)
            close_slot(a, &a->ring[i]);
    a->newest = b;
}

void fl_aggregate_finish(fl_aggregate *a)
{
    /* close in time order so the history stays sorted */
    for (;;) {
        slot *oldest = NULL;
        for (uint32_t i = 0; i < a->nring; i++)
            if (a->ring[i].open && (!oldest || a->ring[i].bucket < oldest->bucket))
                oldest = &a->ring[i];
        if (!oldest)
            break;
        close_slot(a, oldest);
    }
}

void fl_aggregate_restart(fl_aggregate *a)
{
    fl_aggregate_finish(a);
    a->started = false; /* the next fact opens a new series, at its own time */
}

size_t fl_aggregate_history(const fl_aggregate *a, const fl_history_entry **entries)
{
    *entries = a->history;
    return a->nhistory;
}

uint64_t fl_aggregate_history_dropped(const fl_aggregate *a)
{
    return a->history_dropped;
}

size_t fl_aggregate_provider_slots(const fl_aggregate *a)
{
    return a->nproviders;
}

const fl_counts *fl_aggregate_totals(const fl_aggregate *a, uint16_t provider)
{
    return provider < a->nproviders ? &a->totals[provider] : NULL;
}

uint64_t fl_aggregate_total_clients(const fl_aggregate *a, uint16_t provider)
{
    return provider < a->nproviders && a->total_hll[provider] ? fl_hll_count(a->total_hll[provider])
                                                              : 0;
}

void fl_aggregate_grand_totals(const fl_aggregate *a, fl_counts *out, uint64_t *clients)
{
    memset(out, 0, sizeof *out);
    for (uint32_t p = 0; p < a->nproviders; p++)
        fl_counts_add(out, &a->totals[p]);
    *clients = fl_hll_count(&a->grand_hll);
}

const fl_counts *fl_aggregate_resolver_totals(const fl_aggregate *a, uint16_t resolver)
{
    return resolver < a->nresolvers ? &a->resolvers[resolver] : NULL;
}

size_t fl_aggregate_services(const fl_aggregate *a, const fl_service_tally **tallies)
{
    return fl_services_totals(a->svcs, tallies);
}

size_t fl_aggregate_services_window(const fl_aggregate *a, uint16_t provider, double t0, double t1,
                                    fl_service_tally **out, int *complete)
{
    return fl_services_window(a->svcs, provider, t0, t1, out, complete);
}

uint64_t fl_aggregate_late_facts(const fl_aggregate *a)
{
    return a->late;
}

uint32_t fl_aggregate_bucket_s(const fl_aggregate *a)
{
    return a->opt.bucket_s;
}
