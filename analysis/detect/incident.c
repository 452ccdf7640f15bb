/* incident.c - when each family moved around an alert (fl_incident.h). */
#include <stdlib.h>
#include <string.h>

#include "fl_incident.h"

/* A bucket "moved" when its ratio is at least this far over the family's
 * own level before the onset, on at least MOVE_MIN_DEN attempts. */
#define MOVE_FLOOR 0.10
#define MOVE_MIN_DEN 3
#define END_GAP_S 30

const fl_family fl_incident_fams[FL_INCIDENT_NFAMS] = {
    FL_FAM_CONNECT, FL_FAM_TLS,  FL_FAM_DNS,        FL_FAM_HTTP,
    FL_FAM_HTTPS,   FL_FAM_QUIC, FL_FAM_DNS_NODATA,
};

double fl_incident_ratio(uint64_t num, uint64_t den)
{
    if (!den)
        return 0;
    double r = (double)num / (double)den;
    return r > 1 ? 1 : r;
}

void fl_series_free(fl_series *s)
{
    free(s->c);
    free(s->clients);
    free(s->active);
    memset(s, 0, sizeof *s);
}

int fl_series_build(fl_series *s, const fl_history_entry *h, size_t nh, uint32_t provider,
                    uint64_t t0, uint64_t step, size_t n)
{
    memset(s, 0, sizeof *s);
    s->n = n;
    s->t0 = t0;
    s->step = step ? step : 1;
    s->c = calloc(n ? n : 1, sizeof *s->c);
    s->clients = calloc(n ? n : 1, sizeof *s->clients);
    s->active = calloc(n ? n : 1, sizeof *s->active);
    if (!s->c || !s->clients || !s->active) {
        fl_series_free(s);
        return -1;
    }
    for (size_t i = 0; i < nh; i++) {
        if (provider != FL_ALL_PROVIDERS && h[i].provider != provider)
            continue;
        if (h[i].start < t0)
            continue;
        uint64_t k = (h[i].start - t0) / s->step;
        if (k >= n)
            continue;
        fl_counts_add(&s->c[k], &h[i].counts);
        /* Distinct counts cannot be summed across buckets (or providers):
         * the largest is a lower bound of the union. */
        if (h[i].clients > s->clients[k])
            s->clients[k] = h[i].clients;
        if (h[i].active_clients > s->active[k])
            s->active[k] = h[i].active_clients;
    }
    return 0;
}

static int moved_cmp(const void *x, const void *y)
{
    const fl_moved *a = x, *b = y;
    if (a->at != b->at)
        return a->at < b->at ? -1 : 1;
    if (a->first != b->first)
        return a->first ? -1 : 1;
    return a->idx < b->idx ? -1 : a->idx > b->idx;
}

/* The buckets around one alert: [from, from + n*bs). */
typedef struct window {
    const fl_series *s;
    uint64_t from, bs, onset;
    size_t n;
    bool *over; /* scratch, n entries */
} window;

/* The family's level in [onset - 10 min, onset - 1 min); *attempts says
 * whether there was any traffic. */
static double level_before(const window *w, fl_family fam, uint64_t *attempts)
{
    uint64_t bn = 0, bd = 0;
    for (size_t k = 0; k < w->n && w->from + k * w->bs + 60 <= w->onset; k++) {
        uint64_t num, den;
        fl_family_count(&w->s->c[k], fam, &num, &den);
        bn += num;
        bd += den;
    }
    *attempts = bd;
    return fl_incident_ratio(bn, bd);
}

/* The first bucket over thr from onset - 2 min that the next or the one
 * after confirms (one bad bucket of a few attempts is chance, not a
 * signal); -1 if none. *peak: the highest ratio over thr. */
static double first_over(const window *w, fl_family fam, double thr, double *peak)
{
    *peak = 0;
    for (size_t k = 0; k < w->n; k++) {
        uint64_t num, den;
        fl_family_count(&w->s->c[k], fam, &num, &den);
        double r = fl_incident_ratio(num, den);
        w->over[k] = den >= MOVE_MIN_DEN && r >= thr;
        if (w->over[k] && r > *peak)
            *peak = r;
    }
    for (size_t k = 0; k < w->n; k++)
        if (w->from + k * w->bs + 120 >= w->onset && w->over[k] &&
            ((k + 1 < w->n && w->over[k + 1]) || (k + 2 < w->n && w->over[k + 2])))
            return (double)(w->from + k * w->bs);
    return -1;
}

/* The end: the last bucket still at end_thr, in one run with gaps of at
 * most END_GAP_S. Requests sent just before the provider recovered are
 * answered (badly) in the next bucket, and a lone bad bucket a minute later
 * is background: neither is the outage. */
static double run_end(const window *w, fl_family fam, double first, double end_thr)
{
    double end = first + (double)w->bs;
    for (size_t k = 0; k < w->n; k++) {
        uint64_t t = w->from + k * w->bs, num, den;
        fl_family_count(&w->s->c[k], fam, &num, &den);
        if ((double)t < first || den < MOVE_MIN_DEN || fl_incident_ratio(num, den) < end_thr)
            continue;
        if ((double)t > end + END_GAP_S)
            break;
        end = (double)(t + w->bs);
    }
    return end;
}

/* Each family's move; returns the end of the last run of the alert's own
 * families, -1 if none. */
static double families_moved(fl_incident *v, const window *w)
{
    const fl_alert *a = v->a;
    double last_over = -1;
    v->nm = 0;
    for (unsigned fi = 0; fi < FL_INCIDENT_NFAMS; fi++) {
        fl_family fam = fl_incident_fams[fi];
        uint64_t bd;
        double base = level_before(w, fam, &bd);
        double thr = 2 * base + 0.05;
        if (thr < MOVE_FLOOR)
            thr = MOVE_FLOOR;
        /* an alert on the pooled family alone: every family is a suspect */
        bool in_alert = (a->families & FL_FAM_MASK_NAMED) ? (a->families & (1u << fam)) != 0
                                                          : fam != FL_FAM_DNS_NODATA;
        /* Empty answers are ordinary (AAAA for a v4-only name): only when
         * the detector said they mattered. */
        if (fam == FL_FAM_DNS_NODATA && !in_alert)
            continue;
        double peak;
        double first = first_over(w, fam, thr, &peak);
        if (first < 0)
            continue;
        if (in_alert) {
            double end = run_end(w, fam, first, peak / 4 > thr ? peak / 4 : thr);
            if (end > last_over)
                last_over = end;
        }
        v->m[v->nm++] =
            (fl_moved){ .fam = fam, .idx = fi, .at = first, .base = base, .has_base = bd > 0 };
    }
    return last_over;
}

/* Looks at [onset - 10 min, onset - 1 min) for each family's usual level and
 * at [onset - 2 min, end] for the first bucket clearly above it; "until" is
 * the end of the last bucket where one of the alert's families was still
 * above (the alert itself resolves later, by hysteresis). */
int fl_incident_analyse(fl_incident *v, const fl_history_entry *h, size_t nh, uint32_t bucket_s,
                        uint64_t capture_end)
{
    const fl_alert *a = v->a;
    uint64_t bs = bucket_s ? bucket_s : 10;
    uint64_t onset = (uint64_t)a->onset_at;
    uint64_t end = a->resolved_at > 0 ? (uint64_t)a->resolved_at : capture_end;
    uint64_t from = onset > 600 ? onset - 600 : 0;
    from -= from % bs;
    if (end < onset)
        end = onset;
    size_t n = (size_t)((end - from) / bs + 1);
    fl_series s;
    bool *over = calloc(n, sizeof *over);
    if (!over || fl_series_build(&s, h, nh, v->provider, from, bs, n) < 0) {
        free(over);
        return -1;
    }
    v->until = a->resolved_at > 0 ? a->resolved_at : (double)capture_end;
    window w = { .s = &s, .from = from, .bs = bs, .onset = onset, .n = n, .over = over };
    double last_over = families_moved(v, &w);
    /* ties: the detector's first family first */
    for (size_t i = 0; i < v->nm; i++)
        v->m[i].first = (unsigned)v->m[i].fam == a->first_family;
    qsort(v->m, v->nm, sizeof v->m[0], moved_cmp);
    if (last_over > 0 && last_over < v->until)
        v->until = last_over;
    /* The detector's onset is where its window ratio crossed; the buckets
     * themselves may show the alert's signals a little earlier. */
    v->from = a->onset_at;
    for (size_t i = 0; i < v->nm; i++)
        if ((!(a->families & FL_FAM_MASK_NAMED) || (a->families & (1u << v->m[i].fam))) &&
            v->m[i].at < v->from && v->m[i].at + 60 >= a->onset_at)
            v->from = v->m[i].at;
    fl_series_free(&s);
    free(over);
    return 0;
}
