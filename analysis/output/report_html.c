/* report_html.c - the replay summary as one self-contained HTML page: the
 * answer first ("is it us or them?"), then a timeline per provider.
 *
 * Self-contained on purpose: an analyst opens it from a ticket or a mail,
 * perhaps offline, so nothing is loaded from anywhere (no script, font, image
 * or style sheet URL) and a Content-Security-Policy of default-src 'none'
 * says so to the browser. The charts are inline SVG drawn here; hover text is
 * SVG <title>, no JavaScript.
 *
 * Everything that came from traffic (SNI, Host and DNS names, which anyone
 * on the path can choose) and from the command line (file names) goes
 * through esc(): HTML-escaped, control bytes and invalid UTF-8 (RFC 3629)
 * replaced, so a service named "<script>" is text, never markup.
 *
 * Size: a chart has at most CHART_POINTS points (buckets are merged by
 * summing their counters, so a merged ratio is the ratio of the sums) and at
 * most HOVER_COLUMNS hover areas, whatever the capture length.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fl_families.h"
#include "fl_report.h"

#define CHART_POINTS 600
#define HOVER_COLUMNS 150
#define TOP_SERVICES 8
#define ALL_PROVIDERS UINT32_MAX

/* A bucket "moved" when its ratio is at least this far over the family's
 * own level before the onset, on at least MOVE_MIN_DEN attempts. */
#define MOVE_FLOOR 0.10
#define MOVE_MIN_DEN 3
#define END_GAP_S 30

/* Chart geometry (SVG user units; the SVG scales to the page width). */
#define CH_W 1160
#define CH_L 58
#define CH_R 14
#define CH_T 26
#define CH_H 170
#define CH_GAP 16
#define CH_VH 56
#define CH_B 26
#define CH_PW (CH_W - CH_L - CH_R)
#define CH_HEIGHT (CH_T + CH_H + CH_GAP + CH_VH + CH_B)

/* The families drawn, in legend order: one colour each. */
typedef struct fam_def {
    fl_family fam;
    const char *label;    /* legend */
    const char *what;     /* in sentences */
    const char *color;
} fam_def;

static const fam_def fams[] = {
    { FL_FAM_CONNECT, "connect", "connection failures", "#7c3aed" },
    { FL_FAM_TLS, "TLS", "TLS handshake failures", "#0891b2" },
    { FL_FAM_DNS, "DNS", "DNS failures", "#d97706" },
    { FL_FAM_HTTP, "HTTP 5xx", "HTTP 5xx", "#e11d48" },
    { FL_FAM_QUIC, "QUIC", "QUIC handshake failures", "#2563eb" },
    { FL_FAM_DNS_NODATA, "DNS no data", "empty DNS answers", "#65a30d" },
};
#define NFAMS (sizeof fams / sizeof fams[0])
/* every family but the pooled "any" */
#define FAM_MASK_NAMED ((1u << FL_FAM_COUNT) - 1 - (1u << FL_FAM_ANY))

static const fam_def *fam_find(unsigned f)
{
    for (size_t i = 0; i < NFAMS; i++)
        if ((unsigned)fams[i].fam == f)
            return &fams[i];
    return NULL;
}

/* A ratio for drawing: resets of connections opened in an earlier bucket
 * can outnumber this bucket's attempts. */
static double ratio_of(uint64_t num, uint64_t den)
{
    if (!den)
        return 0;
    double r = (double)num / (double)den;
    return r > 1 ? 1 : r;
}

/* ---------------------------------------------------------------- text */

/* Length of one valid UTF-8 sequence at p (RFC 3629, section 4), 0 if
 * invalid. The string is NUL-terminated and NUL is no continuation byte, so
 * this never reads past the terminator. */
static size_t utf8_len(const unsigned char *p)
{
    unsigned char c = p[0];
    unsigned char lo = 0x80, hi = 0xbf;
    size_t n;
    if (c >= 0xc2 && c <= 0xdf)
        n = 2;
    else if (c >= 0xe0 && c <= 0xef) {
        n = 3;
        if (c == 0xe0)
            lo = 0xa0;          /* overlong */
        else if (c == 0xed)
            hi = 0x9f;          /* surrogates */
    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 4;
        if (c == 0xf0)
            lo = 0x90;
        else if (c == 0xf4)
            hi = 0x8f;          /* above U+10FFFF */
    } else
        return 0;
    if (p[1] < lo || p[1] > hi)
        return 0;
    for (size_t i = 2; i < n; i++)
        if (p[i] < 0x80 || p[i] > 0xbf)
            return 0;
    return n;
}

/* Text content or a quoted attribute value. */
static void esc(FILE *o, const char *s)
{
    const unsigned char *p = (const unsigned char *)(s ? s : "");
    while (*p) {
        unsigned char c = *p;
        size_t n;
        switch (c) {
        case '&': fputs("&amp;", o); p++; continue;
        case '<': fputs("&lt;", o); p++; continue;
        case '>': fputs("&gt;", o); p++; continue;
        case '"': fputs("&quot;", o); p++; continue;
        case '\'': fputs("&#39;", o); p++; continue;
        default: break;
        }
        if (c < 0x20 || c == 0x7f) {
            fputs("&#xFFFD;", o);
            p++;
        } else if (c < 0x80) {
            fputc(c, o);
            p++;
        } else if ((n = utf8_len(p)) != 0) {
            fwrite(p, 1, n, o);
            p += n;
        } else {
            fputs("&#xFFFD;", o);
            p++;
        }
    }
}

static void fmt_time(char *b, size_t n, double t, bool date)
{
    time_t tt = (time_t)floor(t);
    struct tm tm;
    if (!gmtime_r(&tt, &tm)) {
        snprintf(b, n, "?");
        return;
    }
    if (date)
        strftime(b, n, "%Y-%m-%d %H:%M:%S", &tm);
    else
        strftime(b, n, "%H:%M:%S", &tm);
}

static void fmt_dur(char *b, size_t n, double s)
{
    long v = s > 0 ? lround(s) : 0;
    if (v < 60)
        snprintf(b, n, "%ld s", v);
    else if (v < 3600 && v % 60)
        snprintf(b, n, "%ld min %ld s", v / 60, v % 60);
    else if (v < 3600)
        snprintf(b, n, "%ld min", v / 60);
    else
        snprintf(b, n, "%ld h %02ld min", v / 3600, (v % 3600) / 60);
}

static void fmt_pct(char *b, size_t n, double r)
{
    double p = r * 100;
    if (p == 0)
        snprintf(b, n, "0%%");
    else if (p < 10)
        snprintf(b, n, "%.1f%%", p);
    else
        snprintf(b, n, "%.0f%%", p);
}

/* 1234567 -> "1,234,567" */
static void fmt_int(char *b, size_t n, uint64_t v)
{
    char tmp[32];
    int len = snprintf(tmp, sizeof tmp, "%llu", (unsigned long long)v);
    size_t j = 0;
    for (int i = 0; i < len && j + 2 < n; i++) {
        if (i && (len - i) % 3 == 0)
            b[j++] = ',';
        b[j++] = tmp[i];
    }
    b[j < n ? j : n - 1] = 0;
}

static void fmt_bytes(char *b, size_t n, uint64_t v)
{
    if (v < 1024)
        snprintf(b, n, "%llu B", (unsigned long long)v);
    else if (v < 1024 * 1024)
        snprintf(b, n, "%.1f KiB", (double)v / 1024);
    else if (v < 1024ull * 1024 * 1024)
        snprintf(b, n, "%.1f MiB", (double)v / (1024 * 1024));
    else
        snprintf(b, n, "%.2f GiB", (double)v / (1024.0 * 1024 * 1024));
}

/* ---------------------------------------------------------------- data */

/* One provider's history (or every provider's, summed) on a regular grid. */
typedef struct series {
    size_t n;
    uint64_t t0;              /* epoch seconds of point 0 */
    uint64_t step;            /* seconds per point */
    fl_counts *c;
    uint32_t *clients;        /* failing clients: max over merged buckets */
    uint32_t *active;
} series;

static void series_free(series *s)
{
    free(s->c);
    free(s->clients);
    free(s->active);
    memset(s, 0, sizeof *s);
}

/* Entries of provider (or ALL_PROVIDERS) with start in [t0, t0 + n*step). */
static int series_build(series *s, const fl_history_entry *h, size_t nh, uint32_t provider,
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
        series_free(s);
        return -1;
    }
    for (size_t i = 0; i < nh; i++) {
        if (provider != ALL_PROVIDERS && h[i].provider != provider)
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

/* The page's common time axis. */
typedef struct axis {
    uint64_t t0, t1;          /* [t0, t1), epoch seconds */
    uint64_t step;            /* seconds per chart point */
    size_t n;                 /* points */
    uint32_t bucket_s;
} axis;

static double ax_x(const axis *ax, double t)
{
    double span = (double)(ax->t1 - ax->t0);
    double x = CH_L + (t - (double)ax->t0) / (span > 0 ? span : 1) * CH_PW;
    if (x < CH_L)
        x = CH_L;
    if (x > CH_L + CH_PW)
        x = CH_L + CH_PW;
    return x;
}

/* When each family first moved around an alert, from the bucket history. */
typedef struct moved {
    const fam_def *f;
    double at;                /* start of the first bucket over, or -1 */
    double base;              /* the family's ratio before the onset */
    bool has_base;            /* there was traffic before the onset */
    bool first;               /* the detector's first family */
} moved;

typedef struct alert_view {
    const fl_alert *a;
    uint32_t provider;        /* ALL_PROVIDERS for scope local */
    double from;              /* start of the first bucket failing */
    double until;             /* end of the last bucket still failing */
    moved m[NFAMS];
    size_t nm;                /* families that moved, sorted by time */
} alert_view;

static int moved_cmp(const void *x, const void *y)
{
    const moved *a = x, *b = y;
    if (a->at != b->at)
        return a->at < b->at ? -1 : 1;
    if (a->first != b->first)
        return a->first ? -1 : 1;
    return a->f < b->f ? -1 : a->f > b->f;
}

/* Looks at [onset - 10 min, onset - 1 min) for each family's usual level and
 * at [onset - 2 min, end] for the first bucket clearly above it; "until" is
 * the end of the last bucket where one of the alert's families was still
 * above (the alert itself resolves later, by hysteresis). */
static int alert_analyse(alert_view *v, const fl_history_entry *h, size_t nh,
                         uint32_t bucket_s, uint64_t capture_end)
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
    series s;
    bool *over = calloc(n, sizeof *over);
    if (!over || series_build(&s, h, nh, v->provider, from, bs, n) < 0) {
        free(over);
        return -1;
    }
    v->until = a->resolved_at > 0 ? a->resolved_at : (double)capture_end;
    double last_over = -1;
    v->nm = 0;
    for (size_t fi = 0; fi < NFAMS; fi++) {
        uint64_t bn = 0, bd = 0;
        for (size_t k = 0; k < n && from + k * bs + 60 <= onset; k++) {
            uint64_t num, den;
            fl_family_count(&s.c[k], fams[fi].fam, &num, &den);
            bn += num;
            bd += den;
        }
        double base = ratio_of(bn, bd);
        double thr = 2 * base + 0.05;
        if (thr < MOVE_FLOOR)
            thr = MOVE_FLOOR;
        /* an alert on the pooled family alone: every family is a suspect */
        bool in_alert = (a->families & FAM_MASK_NAMED) ? (a->families & (1u << fams[fi].fam)) != 0
                                                       : fams[fi].fam != FL_FAM_DNS_NODATA;
        /* Empty answers are ordinary (AAAA for a v4-only name): only when
         * the detector said they mattered. */
        if (fams[fi].fam == FL_FAM_DNS_NODATA && !in_alert)
            continue;
        double first = -1, peak = 0;
        for (size_t k = 0; k < n; k++) {
            uint64_t num, den;
            fl_family_count(&s.c[k], fams[fi].fam, &num, &den);
            over[k] = den >= MOVE_MIN_DEN && ratio_of(num, den) >= thr;
            if (over[k] && ratio_of(num, den) > peak)
                peak = ratio_of(num, den);
        }
        /* The first bucket over that the next or the one after confirms:
         * one bad bucket of a few attempts is chance, not a signal. */
        for (size_t k = 0; k < n && first < 0; k++)
            if (from + k * bs + 120 >= onset && over[k] &&
                ((k + 1 < n && over[k + 1]) || (k + 2 < n && over[k + 2])))
                first = (double)(from + k * bs);
        /* The end: the last bucket still at a quarter of the peak. Requests
         * sent just before the provider recovered are answered (badly) in
         * the next bucket: a tail of stragglers is not the outage. */
        double end_thr = peak / 4 > thr ? peak / 4 : thr;
        double run_end = first + (double)bs;
        for (size_t k = 0; in_alert && first >= 0 && k < n; k++) {
            uint64_t t = from + k * bs, num, den;
            fl_family_count(&s.c[k], fams[fi].fam, &num, &den);
            if ((double)t < first || den < MOVE_MIN_DEN || ratio_of(num, den) < end_thr)
                continue;
            /* one run, with gaps of at most END_GAP_S: a lone bad bucket
             * a minute later is background, not the same outage */
            if ((double)t > run_end + END_GAP_S)
                break;
            run_end = (double)(t + bs);
        }
        if (in_alert && first >= 0 && run_end > last_over)
            last_over = run_end;
        if (first >= 0) {
            v->m[v->nm].f = &fams[fi];
            v->m[v->nm].at = first;
            v->m[v->nm].base = base;
            v->m[v->nm].has_base = bd > 0;
            v->nm++;
        }
    }
    /* ties: the detector's first family first */
    for (size_t i = 0; i < v->nm; i++)
        v->m[i].first = (unsigned)v->m[i].f->fam == a->first_family;
    qsort(v->m, v->nm, sizeof v->m[0], moved_cmp);
    if (last_over > 0 && last_over < v->until)
        v->until = last_over;
    /* The detector's onset is where its window ratio crossed; the buckets
     * themselves may show the alert's signals a little earlier. */
    v->from = a->onset_at;
    for (size_t i = 0; i < v->nm; i++)
        if ((!(a->families & FAM_MASK_NAMED) || (a->families & (1u << v->m[i].f->fam))) &&
            v->m[i].at < v->from &&
            v->m[i].at + 60 >= a->onset_at)
            v->from = v->m[i].at;
    series_free(&s);
    free(over);
    return 0;
}

/* ------------------------------------------------------------- sentences */

/* "HTTP 5xx and TLS handshake failures": the first family first, then the
 * others; "any" only when it is the only one. */
static void signals_text(FILE *o, const alert_view *v)
{
    const fl_alert *a = v->a;
    const fam_def *list[NFAMS];
    size_t n = 0;
    if (!(a->families & FAM_MASK_NAMED)) {
        /* only the pooled "any" family crossed: name what the buckets show,
         * in the order it moved */
        for (size_t i = 0; i < v->nm; i++)
            list[n++] = v->m[i].f;
    } else {
        const fam_def *first = fam_find(a->first_family);
        if (first && (a->families & (1u << first->fam)))
            list[n++] = first;
        for (size_t i = 0; i < NFAMS; i++)
            if ((a->families & (1u << fams[i].fam)) && &fams[i] != first)
                list[n++] = &fams[i];
    }
    if (!n) {
        fputs("failures across several signals", o);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        if (i)
            fputs(i + 1 == n ? " and " : ", ", o);
        fputs(list[i]->what, o);
    }
}

static void signal_chips(FILE *o, const fl_alert *a)
{
    for (int i = -1; i < FL_FAM_COUNT; i++) {
        int f = i < 0 ? a->first_family : i;
        if (!(a->families & (1u << f)) || (i >= 0 && f == a->first_family))
            continue;
        const fam_def *d = fam_find((unsigned)f);
        fprintf(o, "<span class=\"chip%s\"%s%s%s>%s</span>", f == a->first_family ? " first" : "",
                d ? " style=\"--c:" : "", d ? d->color : "", d ? "\"" : "",
                d ? d->label : fl_family_name((fl_family)f));
    }
}

static void headline(FILE *o, const alert_view *v, size_t providers_seen)
{
    const fl_alert *a = v->a;
    char t0[32], t1[32], d[32];
    fmt_time(t0, sizeof t0, v->from, false);
    fmt_time(t1, sizeof t1, v->until, false);
    fmt_dur(d, sizeof d, v->until - v->from);
    if (a->local) {
        if (a->providers_failing && a->providers_failing >= providers_seen)
            fprintf(o, "Local problem: all %u providers failed together (", a->providers_failing);
        else
            fprintf(o, "Local problem: %u providers failed together (", a->providers_failing);
        signals_text(o, v);
        fprintf(o, ") from %s to %s UTC (%s)", t0, t1, d);
        if (!a->resolved_at)
            fputs(", still failing at the end of the capture", o);
        return;
    }
    esc(o, a->provider);
    fputs(" failing: ", o);
    signals_text(o, v);
    if (a->resolved_at)
        fprintf(o, " from %s to %s UTC (%s)", t0, t1, d);
    else
        fprintf(o, " from %s UTC, still failing at the end of the capture", t0);
    fprintf(o, ", %llu client%s affected", (unsigned long long)a->clients,
            a->clients == 1 ? "" : "s");
}

/* --------------------------------------------------------------- style */

static const char css[] =
    ":root{--ink:#1f2937;--mute:#6b7280;--line:#e5e7eb;--bg:#f8fafc;--card:#fff;"
    "--bad:#dc2626;--warn:#d97706;--ok:#16a34a}"
    "*{box-sizing:border-box}"
    "body{margin:0;background:var(--bg);color:var(--ink);"
    "font:14px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,'Helvetica Neue',Arial,sans-serif}"
    "main{max-width:1240px;margin:0 auto;padding:20px 24px 40px}"
    ".top{display:flex;justify-content:space-between;align-items:baseline;gap:16px;"
    "color:var(--mute);font-size:13px;margin-bottom:12px}"
    ".brand{font-weight:600;color:var(--ink);letter-spacing:.02em}"
    ".verdict{background:var(--card);border:1px solid var(--line);border-left:6px solid var(--ok);"
    "border-radius:8px;padding:16px 20px;margin-bottom:16px}"
    ".verdict.bad{border-left-color:var(--bad)}.verdict.local{border-left-color:var(--warn)}"
    ".kicker{text-transform:uppercase;font-size:12px;font-weight:700;letter-spacing:.06em;color:var(--ok)}"
    ".bad .kicker{color:var(--bad)}.local .kicker{color:var(--warn)}"
    ".verdict h1{font-size:22px;line-height:1.3;margin:4px 0 8px;font-weight:650}"
    ".verdict p{margin:4px 0;color:#374151}"
    ".verdict ul.also{margin:8px 0 0;padding-left:18px}.verdict .also li{margin:2px 0;font-weight:500}"
    ".cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(180px,1fr));gap:10px;margin-bottom:12px}"
    ".card{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:10px 12px}"
    ".card .k{font-size:12px;color:var(--mute)}.card .v{font-size:18px;font-weight:600}"
    ".card .s{font-size:12px;color:var(--mute);overflow-wrap:anywhere}"
    ".warn{background:#fffbeb;border:1px solid #fcd34d;border-radius:8px;padding:8px 12px;margin:8px 0;color:#78350f}"
    "section{margin-top:18px}"
    "h2{font-size:17px;margin:0 0 8px}"
    ".prov{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:14px 16px}"
    ".prov h2{display:flex;align-items:center;gap:10px}"
    ".badge{font-size:11px;font-weight:700;text-transform:uppercase;border-radius:4px;padding:2px 6px;"
    "background:#dcfce7;color:#166534}"
    ".badge.bad{background:#fee2e2;color:#991b1b}.badge.local{background:#fef3c7;color:#92400e}"
    ".sub{color:var(--mute);font-size:13px;margin:-4px 0 6px}"
    ".legend{display:flex;flex-wrap:wrap;gap:14px;font-size:13px;margin:4px 0}"
    ".legend span{display:inline-flex;align-items:center;gap:6px}"
    ".legend i{display:inline-block;width:14px;height:3px;border-radius:2px;background:var(--c)}"
    ".legend .shade i{height:10px;background:#fecaca}.legend .lshade i{height:10px;background:#fde68a}"
    ".legend .none{color:var(--mute)}"
    ".legend .vl i{height:10px;background:#dbe2ea}.legend .vf i{height:10px;background:#475569}"
    "svg.chart{width:100%;height:auto;display:block}"
    "svg text{font:11px system-ui,-apple-system,'Segoe UI',Roboto,Arial,sans-serif;fill:#6b7280}"
    "svg .grid{stroke:#eef0f3;stroke-width:1}svg .axis{stroke:#cbd5e1;stroke-width:1}"
    "svg .ln{fill:none;stroke-width:1.8;stroke-linejoin:round;stroke-linecap:round}"
    "svg .vol{fill:#dbe2ea}svg .vfail{fill:#475569}"
    "svg .span{fill:#fee2e2;opacity:.75}svg .lspan{fill:#fef3c7;opacity:.8}"
    "svg .raise{stroke:#dc2626;stroke-width:1;stroke-dasharray:3 3}"
    "svg text.al{fill:#991b1b;font-weight:600}"
    "svg .hov rect:hover{fill:rgba(15,23,42,.06)}"
    ".moved{margin:8px 0 4px}"
    ".cols{display:grid;grid-template-columns:3fr 2fr;gap:16px;margin-top:8px}"
    "table{border-collapse:collapse;width:100%;font-size:13px}"
    "th,td{text-align:left;padding:5px 8px;border-bottom:1px solid var(--line);vertical-align:top}"
    "th{color:var(--mute);font-weight:600;font-size:12px;background:#f9fafb}"
    "td.n,th.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}"
    "td.name{overflow-wrap:anywhere}"
    ".alerts{background:var(--card);border:1px solid var(--line);border-radius:8px;overflow:hidden}"
    ".chip{display:inline-block;white-space:nowrap;font-size:11px;border-radius:10px;padding:1px 7px;margin:1px 2px;"
    "border:1px solid var(--c,#9ca3af);color:var(--c,#374151)}"
    ".chip.first{background:var(--c,#374151);color:#fff}"
    ".muted{color:var(--mute)}"
    "th.sig{min-width:190px}"
    "footer{margin-top:24px;color:var(--mute);font-size:12px}";

/* ---------------------------------------------------------------- chart */

static void chart_hover(FILE *o, const axis *ax, const series *s, const bool *draw)
{
    size_t g = (s->n + HOVER_COLUMNS - 1) / HOVER_COLUMNS;
    if (!g)
        g = 1;
    fputs("<g class=\"hov\">", o);
    for (size_t j = 0; j * g < s->n; j++) {
        size_t lo = j * g, hi = lo + g < s->n ? lo + g : s->n;
        fl_counts sum;
        memset(&sum, 0, sizeof sum);
        uint32_t cl = 0;
        for (size_t k = lo; k < hi; k++) {
            fl_counts_add(&sum, &s->c[k]);
            if (s->clients[k] > cl)
                cl = s->clients[k];
        }
        uint64_t ta = s->t0 + lo * s->step, tb = s->t0 + hi * s->step;
        if (ta >= ax->t1)
            break;
        if (tb > ax->t1)
            tb = ax->t1;
        double xa = ax_x(ax, (double)ta), xb = ax_x(ax, (double)tb);
        char a[32];
        fmt_time(a, sizeof a, (double)ta, false);
        /* y and height are in the style sheet: they are the same for all */
        fprintf(o, "<rect x=\"%.1f\" width=\"%.1f\"><title>%s", xa, xb - xa, a);
        for (size_t fi = 0; fi < NFAMS; fi++) {
            uint64_t num, den;
            fl_family_count(&sum, fams[fi].fam, &num, &den);
            if (!draw[fi] || (!den && !num))
                continue;
            char p[16] = "";
            if (num)
                fmt_pct(p, sizeof p, ratio_of(num, den));
            fprintf(o, "&#10;%s %s%s%llu/%llu", fams[fi].label, p, num ? " " : "",
                    (unsigned long long)num, (unsigned long long)den);
        }
        fprintf(o, "&#10;%llu flows, %llu failed, %u clients</title></rect>",
                (unsigned long long)sum.v[FL_C_flows], (unsigned long long)fl_counts_failures(&sum),
                cl);
    }
    fputs("</g>", o);
}

static void time_ticks(FILE *o, const axis *ax)
{
    static const uint32_t steps[] = { 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600,
                                      7200, 10800, 21600, 43200, 86400, 172800, 604800 };
    uint64_t span = ax->t1 - ax->t0;
    uint64_t st = steps[sizeof steps / sizeof steps[0] - 1];
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++)
        if (span / steps[i] <= 10) {
            st = steps[i];
            break;
        }
    int ybot = CH_T + CH_H + CH_GAP + CH_VH;
    for (uint64_t t = (ax->t0 + st - 1) / st * st; t <= ax->t1; t += st) {
        double x = ax_x(ax, (double)t);
        fprintf(o, "<line class=\"grid\" x1=\"%.1f\" x2=\"%.1f\" y1=\"%d\" y2=\"%d\"/>", x, x, CH_T,
                ybot);
        time_t tt = (time_t)t;
        struct tm tm;
        char lab[32] = "";
        if (gmtime_r(&tt, &tm)) {
            if (st >= 86400)
                strftime(lab, sizeof lab, "%m-%d", &tm);
            else if (st < 60)
                strftime(lab, sizeof lab, "%H:%M:%S", &tm);
            else
                strftime(lab, sizeof lab, "%H:%M", &tm);
        }
        /* labels at the ends stay inside the picture */
        const char *anchor = x > CH_L + CH_PW - 24 ? "end" : x < CH_L + 24 ? "start" : "middle";
        fprintf(o, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"%s\">%s</text>", x, ybot + 16, anchor,
                lab);
    }
}

static void chart(FILE *o, const axis *ax, const series *s, const alert_view *av, size_t nav,
                  uint32_t provider, const bool *draw)
{
    /* The same 0-100% scale in every chart: "is it us or them" is a
     * comparison between providers, and a scale fitted to each would
     * blow a 2% background up to look like an outage. */
    const double ymax = 1.0;
    uint64_t vmax = 0;
    for (size_t k = 0; k < s->n; k++) {
        uint64_t f = fl_counts_failures(&s->c[k]);
        if (s->c[k].v[FL_C_flows] > vmax)
            vmax = s->c[k].v[FL_C_flows];
        if (f > vmax)
            vmax = f;
    }
    int vtop = CH_T + CH_H + CH_GAP, vbot = vtop + CH_VH;

    fprintf(o, "<svg class=\"chart\" viewBox=\"0 0 %d %d\" role=\"img\">", CH_W, CH_HEIGHT);

    /* alert spans under everything */
    for (size_t i = 0; i < nav; i++) {
        const fl_alert *a = av[i].a;
        if (!a->local && av[i].provider != provider)
            continue;
        double x0 = ax_x(ax, a->onset_at);
        double x1 = ax_x(ax, a->resolved_at > 0 ? a->resolved_at : (double)ax->t1);
        double xr = ax_x(ax, a->raised_at);
        char t0[32], t1[32];
        fmt_time(t0, sizeof t0, a->onset_at, false);
        fmt_time(t1, sizeof t1, a->resolved_at > 0 ? a->resolved_at : (double)ax->t1, false);
        fprintf(o, "<rect class=\"%s\" x=\"%.1f\" y=\"%d\" width=\"%.1f\" height=\"%d\"><title>alert #%u"
                   " (%s): onset %s, resolved %s UTC</title></rect>",
                a->local ? "lspan" : "span", x0, CH_T, x1 - x0 > 1 ? x1 - x0 : 1,
                vbot - CH_T, a->id, a->local ? "local" : "provider", t0,
                a->resolved_at > 0 ? t1 : "never");
        fprintf(o, "<line class=\"raise\" x1=\"%.1f\" x2=\"%.1f\" y1=\"%d\" y2=\"%d\"/>", xr, xr,
                CH_T - 4, vbot);
        const fam_def *fd = fam_find(a->first_family);
        fprintf(o, "<text class=\"al\" x=\"%.1f\" y=\"%d\">alert #%u%s \xc2\xb7 %s</text>", x0 + 3,
                CH_T - 8, a->id, a->local ? " (local)" : "",
                fd ? fd->label : fl_family_name((fl_family)a->first_family));
    }

    /* grid and axes */
    for (int i = 0; i <= 4; i++) {
        int y = CH_T + CH_H - i * CH_H / 4;
        fprintf(o, "<line class=\"%s\" x1=\"%d\" x2=\"%d\" y1=\"%d\" y2=\"%d\"/>",
                i ? "grid" : "axis", CH_L, CH_L + CH_PW, y, y);
        char p[16];
        fmt_pct(p, sizeof p, ymax * i / 4);
        fprintf(o, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">%s</text>", CH_L - 6, y + 4, p);
    }
    fprintf(o, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">failing</text>", CH_L - 6, CH_T - 8);
    time_ticks(o, ax);
    fprintf(o, "<line class=\"axis\" x1=\"%d\" x2=\"%d\" y1=\"%d\" y2=\"%d\"/>", CH_L, CH_L + CH_PW,
            vbot, vbot);

    /* volume: flows as a step area (one vertex pair per point), failures
     * as bars over it (most points have none) */
    if (vmax) {
        fprintf(o, "<path class=\"vol\" d=\"M%d %d", CH_L, vbot);
        for (size_t k = 0; k < s->n; k++) {
            double hgt = (double)s->c[k].v[FL_C_flows] / (double)vmax * CH_VH;
            fprintf(o, "V%.1fH%.1f", vbot - hgt, ax_x(ax, (double)(s->t0 + (k + 1) * s->step)));
        }
        fprintf(o, "V%dz\"/><path class=\"vfail\" d=\"", vbot);
        double bw = (double)CH_PW / (double)(s->n ? s->n : 1);
        for (size_t k = 0; k < s->n; k++) {
            uint64_t f = fl_counts_failures(&s->c[k]);
            if (!f)
                continue;
            double hgt = (double)f / (double)vmax * CH_VH;
            if (hgt < 1)
                hgt = 1;
            fprintf(o, "M%.1f %dv%.1fh%.1fv%.1fz", ax_x(ax, (double)(s->t0 + k * s->step)), vbot,
                    -hgt, bw, hgt);
        }
        fputs("\"/>", o);
    }
    char vm[32];
    fmt_int(vm, sizeof vm, vmax);
    fprintf(o, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">%s</text>", CH_L - 6, vtop + 8, vm);
    fprintf(o, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">volume</text>", CH_L - 6, vbot - 2);

    /* one line per family; a gap where the family had no attempts, and a
     * lone point drawn as a dot (round cap on a tiny segment) */
    for (size_t fi = 0; fi < NFAMS; fi++) {
        if (!draw[fi])
            continue;
        fprintf(o, "<path class=\"ln\" stroke=\"%s\" d=\"", fams[fi].color);
        size_t run = 0;
        for (size_t k = 0; k < s->n; k++) {
            uint64_t num, den;
            fl_family_count(&s->c[k], fams[fi].fam, &num, &den);
            if (!den) {
                if (run == 1)
                    fputs("h0.5", o);
                run = 0;
                continue;
            }
            double x = ax_x(ax, (double)s->t0 + ((double)k + 0.5) * (double)s->step);
            double y = CH_T + CH_H - ratio_of(num, den) / ymax * CH_H;
            fprintf(o, "%c%.1f %.1f", run ? 'L' : 'M', x, y);
            run++;
        }
        if (run == 1)
            fputs("h0.5", o);
        fprintf(o, "\"><title>%s</title></path>", fams[fi].label);
    }
    chart_hover(o, ax, s, draw);
    fputs("</svg>", o);
}

/* ------------------------------------------------------------ sections */

typedef struct prov_view {
    uint16_t id;
    const char *name;
    const fl_counts *c;
    double first_alert;       /* earliest onset of its alerts, or 0 */
    uint64_t failures;
} prov_view;

static int prov_cmp(const void *x, const void *y)
{
    const prov_view *a = x, *b = y;
    if ((a->first_alert > 0) != (b->first_alert > 0))
        return a->first_alert > 0 ? -1 : 1;
    if (a->first_alert != b->first_alert)
        return a->first_alert < b->first_alert ? -1 : 1;
    if (a->failures != b->failures)
        return a->failures > b->failures ? -1 : 1;
    if (a->c->v[FL_C_flows] != b->c->v[FL_C_flows])
        return a->c->v[FL_C_flows] > b->c->v[FL_C_flows] ? -1 : 1;
    return a->id < b->id ? -1 : a->id > b->id;
}

static int svc_cmp(const void *x, const void *y)
{
    const fl_service_tally *a = *(const fl_service_tally *const *)x;
    const fl_service_tally *b = *(const fl_service_tally *const *)y;
    if (a->failures != b->failures)
        return a->failures > b->failures ? -1 : 1;
    if (a->flows != b->flows)
        return a->flows > b->flows ? -1 : 1;
    return a->service < b->service ? -1 : a->service > b->service;
}

/* Top services of provider (most failures, then most flows); returns how
 * many were put in top, total in *all. */
static size_t top_services(const fl_service_tally *t, size_t nt, uint16_t provider,
                           const fl_service_tally **top, size_t max, size_t *all)
{
    size_t m = 0;
    *all = 0;
    for (size_t i = 0; i < nt; i++) {
        if (t[i].provider != provider)
            continue;
        (*all)++;
        const fl_service_tally *ti = &t[i];
        if (m < max)
            top[m++] = ti;
        else if (svc_cmp(&ti, &top[m - 1]) < 0)
            top[m - 1] = ti;
        else
            continue;
        qsort(top, m, sizeof *top, svc_cmp);
    }
    return m;
}

static void card(FILE *o, const char *k, const char *v, const char *sub)
{
    fprintf(o, "<div class=\"card\"><div class=\"k\">%s</div><div class=\"v\">%s</div>", k, v);
    if (sub && *sub)
        fprintf(o, "<div class=\"s\">%s</div>", sub);
    fputs("</div>", o);
}

static void summary(FILE *o, fl_engine *e, const fl_report_source *src, const fl_engine_stats *st,
                    fl_aggregate *agg)
{
    fl_flow_stats fs;
    fl_engine_flow_stats(e, &fs);
    char a[64], b[64], sub[160];
    uint64_t flows = st->flows_tcp + st->flows_udp + st->flows_other;

    fputs("<section class=\"cards\">", o);
    /* source: file names are the operator's, still escaped */
    fputs("<div class=\"card\"><div class=\"k\">Source</div><div class=\"v\">", o);
    if (src && src->interface) {
        fputs("live ", o);
        esc(o, src->interface);
    } else {
        fprintf(o, "%zu file%s", src ? src->nfiles : 0, src && src->nfiles == 1 ? "" : "s");
    }
    fputs("</div><div class=\"s\">", o);
    for (size_t i = 0; src && i < src->nfiles && i < 5; i++) {
        if (i)
            fputs(", ", o);
        esc(o, src->files[i]);
    }
    if (src && src->nfiles > 5)
        fprintf(o, ", and %zu more", src->nfiles - 5);
    fputs("</div></div>", o);

    if (st->packets) {
        fmt_time(a, sizeof a, (double)st->first_ts_us / 1e6, true);
        fmt_time(b, sizeof b, (double)st->last_ts_us / 1e6, false);
        char d[32];
        fmt_dur(d, sizeof d, (double)(st->last_ts_us - st->first_ts_us) / 1e6);
        snprintf(sub, sizeof sub, "%s \xe2\x80\x93 %s UTC", a, b);
        card(o, "Time span", d, sub);
    } else {
        card(o, "Time span", "no packets", NULL);
    }
    fmt_int(a, sizeof a, st->packets);
    fmt_bytes(b, sizeof b, st->bytes);
    card(o, "Packets", a, b);
    fmt_int(a, sizeof a, flows);
    snprintf(sub, sizeof sub, "TCP %llu \xc2\xb7 UDP %llu \xc2\xb7 other %llu",
             (unsigned long long)st->flows_tcp, (unsigned long long)st->flows_udp,
             (unsigned long long)st->flows_other);
    card(o, "Flows", a, sub);
    fmt_int(a, sizeof a, st->decode_errors);
    sub[0] = 0;
    size_t used = 0;
    for (int i = 0; i < FL_DERR_COUNT && used + 1 < sizeof sub; i++) {
        if (!st->decode_error[i])
            continue;
        int w = snprintf(sub + used, sizeof sub - used, "%s%s %llu", used ? ", " : "",
                         fl_decode_error_name((fl_decode_error)i),
                         (unsigned long long)st->decode_error[i]);
        if (w < 0 || (size_t)w >= sizeof sub - used)
            break;
        used += (size_t)w;
    }
    card(o, "Decode errors", a, sub);
    fmt_int(a, sizeof a, st->one_way_flows);
    char p[16];
    fmt_pct(p, sizeof p, flows ? (double)st->one_way_flows / (double)flows : 0);
    snprintf(sub, sizeof sub, "%s of flows", p);
    card(o, "One-way flows", a, sub);
    if (src && src->interface) {
        fmt_int(a, sizeof a, src->kernel_drops);
        card(o, "Kernel drops", a, NULL);
    }
    fputs("</section>", o);

    /* what makes the numbers less trustworthy */
    if (flows && st->one_way_flows * 2 > flows) {
        fputs("<div class=\"warn\"><b>Most flows were one-way.</b> The capture probably saw only one "
              "direction (asymmetric routing or a span port on one side): failures cannot be judged "
              "reliably for those flows.</div>", o);
    }
    if (st->packets && st->decode_errors * 100 > st->packets)
        fputs("<div class=\"warn\"><b>Over 1% of packets could not be decoded.</b></div>", o);
    if (src && src->kernel_drops)
        fputs("<div class=\"warn\"><b>The kernel dropped packets</b>: counts are lower bounds.</div>", o);
    if (fs.evicted)
        fprintf(o, "<div class=\"warn\"><b>%llu flows were evicted</b> at the flow table cap (%llu).</div>",
                (unsigned long long)fs.evicted, (unsigned long long)fs.capacity);
    if (fl_aggregate_history_dropped(agg))
        fputs("<div class=\"warn\"><b>The bucket history was full</b>: the end of the capture is "
              "missing from the charts.</div>", o);
}

static void alerts_table(FILE *o, const alert_view *av, size_t nav, fl_aggregate *agg,
                         const fl_service_tally *tallies, size_t ntallies)
{
    fputs("<section><h2>Alerts</h2>", o);
    if (!nav) {
        fputs("<p class=\"muted\">No alert was raised.</p></section>", o);
        return;
    }
    fputs("<div class=\"alerts\"><table><thead><tr><th>#</th><th>Provider</th><th>Scope</th>"
          "<th class=\"sig\">Signals</th><th>Onset</th><th>Raised</th><th>Resolved</th><th class=\"n\">Open for</th>"
          "<th class=\"n\">Peak vs baseline</th><th class=\"n\">Failures</th><th class=\"n\">Clients</th>"
          "<th>Top services</th></tr></thead><tbody>", o);
    for (size_t i = 0; i < nav; i++) {
        const fl_alert *a = av[i].a;
        char on[32], ra[32], re[32], du[32], pk[16], bl[16], sh[16], fa[32], at[32];
        fmt_time(on, sizeof on, a->onset_at, false);
        fmt_time(ra, sizeof ra, a->raised_at, false);
        fmt_time(re, sizeof re, a->resolved_at, false);
        fmt_dur(du, sizeof du, a->resolved_at - a->raised_at);
        fmt_pct(pk, sizeof pk, a->peak_ratio);
        fmt_pct(bl, sizeof bl, a->baseline_ratio);
        fmt_pct(sh, sizeof sh, a->client_share);
        fmt_int(fa, sizeof fa, a->failures);
        fmt_int(at, sizeof at, a->attempts);
        fprintf(o, "<tr class=\"alert-row\"><td>%u</td><td><b>", a->id);
        esc(o, a->provider);
        fprintf(o, "</b></td><td>%s</td><td>", a->local ? "local" : "provider");
        signal_chips(o, a);
        fprintf(o, "</td><td>%s</td><td>%s</td><td>%s</td><td class=\"n\">%s</td>"
                   "<td class=\"n\">%s vs %s</td>",
                on, ra, a->resolved_at > 0 ? re : "open", a->resolved_at > 0 ? du : "\xe2\x80\x94",
                pk, bl);
        if (a->local)
            fprintf(o, "<td class=\"n\">\xe2\x80\x94</td><td class=\"n\">\xe2\x80\x94</td>"
                       "<td class=\"muted\">%u providers failing together</td></tr>",
                    a->providers_failing);
        else {
            fprintf(o, "<td class=\"n\">%s / %s</td><td class=\"n\">%llu (%s)</td><td class=\"name\">",
                    fa, at, (unsigned long long)a->clients, sh);
            const fl_service_tally *top[3];
            size_t all;
            size_t m = top_services(tallies, ntallies, (uint16_t)av[i].provider, top, 3, &all);
            for (size_t k = 0; k < m && av[i].provider != ALL_PROVIDERS; k++) {
                if (k)
                    fputs(", ", o);
                esc(o, fl_aggregate_service_name(agg, top[k]->service));
            }
            fputs("</td></tr>", o);
        }
    }
    fputs("</tbody></table></div></section>", o);
}

static void moved_text(FILE *o, const alert_view *v)
{
    const fam_def *ff = fam_find(v->a->first_family);
    fprintf(o, "<p class=\"moved\"><b>Alert #%u \xe2\x80\x94 first signal: %s</b>", v->a->id,
            ff ? ff->what : "failures across several signals");
    if (!v->nm) {
        fputs(".</p>", o);
        return;
    }
    fputs(". In the buckets: ", o);
    for (size_t i = 0; i < v->nm; i++) {
        char t[32], bp[16];
        fmt_time(t, sizeof t, v->m[i].at, false);
        fmt_pct(bp, sizeof bp, v->m[i].base);
        if (i)
            fputs(i + 1 == v->nm ? " and " : ", ", o);
        fprintf(o, "<span style=\"color:%s\">%s</span> from %s", v->m[i].f->color, v->m[i].f->what, t);
        if (i && v->m[i].at > v->m[0].at) {
            char d[32];
            fmt_dur(d, sizeof d, v->m[i].at - v->m[0].at);
            fprintf(o, " (+%s)", d);
        }
        if (v->m[i].has_base)
            fprintf(o, " (usually %s)", bp);
    }
    if (v->nm > 1 && v->m[v->nm - 1].at == v->m[0].at)
        fputs(": they moved together, within one bucket", o);
    fputs(".</p>", o);
}

static void provider_section(FILE *o, const axis *ax, const prov_view *pv, series *s,
                             const alert_view *av, size_t nav, fl_aggregate *agg,
                             fl_providers *prov, const fl_service_tally *tallies, size_t ntallies,
                             const fl_service_tally **top)
{
    const fl_counts *c = pv->c;
    bool alerted = false, local = false;
    for (size_t i = 0; i < nav; i++) {
        if (av[i].a->local)
            local = true;
        else if (av[i].provider == pv->id)
            alerted = true;
    }
    fputs("<section class=\"prov\" id=\"p-", o);
    fprintf(o, "%u\"><h2>", pv->id);
    esc(o, fl_providers_name(prov, pv->id));
    if (alerted)
        fputs("<span class=\"badge bad\">alert</span>", o);
    else if (local)
        fputs("<span class=\"badge local\">local alert</span>", o);
    else
        fputs("<span class=\"badge\">no alert</span>", o);
    char fl[32], fa[32], cl[32], rp[16];
    fmt_int(fl, sizeof fl, c->v[FL_C_flows]);
    fmt_int(fa, sizeof fa, pv->failures);
    fmt_int(cl, sizeof cl, fl_aggregate_total_clients(agg, pv->id));
    uint32_t act = 0;
    for (size_t k = 0; k < s->n; k++)
        if (s->active[k] > act)
            act = s->active[k];
    fputs("</h2>", o);
    fprintf(o, "<p class=\"sub\">%s flows \xc2\xb7 %s failures \xc2\xb7 %s distinct failing clients"
               " \xc2\xb7 up to %u active clients per bucket</p>",
            fl, fa, cl, act);

    bool draw[NFAMS];
    fputs("<div class=\"legend\">", o);
    for (size_t fi = 0; fi < NFAMS; fi++) {
        uint64_t num, den;
        fl_family_count(c, fams[fi].fam, &num, &den);
        bool nodata = fams[fi].fam == FL_FAM_DNS_NODATA;
        bool in_alert = false;
        for (size_t i = 0; i < nav; i++)
            if ((av[i].a->local || av[i].provider == pv->id) &&
                (av[i].a->families & (1u << fams[fi].fam)))
                in_alert = true;
        /* Empty answers are ordinary (AAAA for a v4-only name): drawn only
         * when an alert says they mattered. */
        draw[fi] = den > 0 && (!nodata || in_alert);
        if (nodata && !draw[fi])
            continue;
        if (!den) {
            fprintf(o, "<span class=\"none\"><i style=\"--c:#d1d5db\"></i>%s: no traffic</span>",
                    fams[fi].label);
            continue;
        }
        fmt_pct(rp, sizeof rp, ratio_of(num, den));
        char n1[32], n2[32];
        fmt_int(n1, sizeof n1, num);
        fmt_int(n2, sizeof n2, den);
        fprintf(o, "<span><i style=\"--c:%s\"></i>%s %s <span class=\"muted\">(%s/%s)</span></span>",
                fams[fi].color, fams[fi].label, rp, n1, n2);
    }
    fputs("<span class=\"vl\"><i></i>flows</span><span class=\"vf\"><i></i>failures</span>", o);
    if (alerted)
        fputs("<span class=\"shade\"><i></i>alert (onset to resolve)</span>", o);
    if (local)
        fputs("<span class=\"lshade\"><i></i>local alert</span>", o);
    fputs("</div>", o);

    chart(o, ax, s, av, nav, pv->id, draw);

    for (size_t i = 0; i < nav; i++)
        if (!av[i].a->local && av[i].provider == pv->id)
            moved_text(o, &av[i]);

    /* services and the counters behind the ratios */
    fputs("<div class=\"cols\"><div><table><thead><tr><th>Top services</th><th class=\"n\">Flows</th>"
          "<th class=\"n\">Failures</th><th class=\"n\">Failing</th></tr></thead><tbody>", o);
    size_t all;
    size_t m = top_services(tallies, ntallies, pv->id, top, TOP_SERVICES, &all);
    /* a name seen once (an NXDOMAIN probe, say) that never failed says
     * nothing about the outage */
    while (m > 1 && !top[m - 1]->failures && top[m - 1]->flows * 100 < c->v[FL_C_flows])
        m--;
    for (size_t k = 0; k < m; k++) {
        char a[32], b[32];
        fmt_int(a, sizeof a, top[k]->flows);
        fmt_int(b, sizeof b, top[k]->failures);
        fmt_pct(rp, sizeof rp, top[k]->flows ? (double)top[k]->failures / (double)top[k]->flows : 0);
        fputs("<tr><td class=\"name\">", o);
        esc(o, fl_aggregate_service_name(agg, top[k]->service));
        fprintf(o, "</td><td class=\"n\">%s</td><td class=\"n\">%s</td><td class=\"n\">%s</td></tr>", a,
                b, top[k]->failures ? rp : "\xe2\x80\x94");
    }
    if (!m)
        fputs("<tr><td class=\"muted\" colspan=\"4\">no named service</td></tr>", o);
    else if (all > m)
        fprintf(o, "<tr><td class=\"muted\" colspan=\"4\">%zu more name%s</td></tr>", all - m,
                all - m == 1 ? "" : "s");
    fputs("</tbody></table></div><div><table><thead><tr><th>Signal</th><th class=\"n\">Attempts</th>"
          "<th class=\"n\">Failed</th><th class=\"n\">Ratio</th></tr></thead><tbody>", o);
    for (size_t fi = 0; fi < NFAMS; fi++) {
        uint64_t num, den;
        fl_family_count(c, fams[fi].fam, &num, &den);
        if (!den && !num)
            continue;
        char a[32], b[32];
        fmt_int(a, sizeof a, den);
        fmt_int(b, sizeof b, num);
        fmt_pct(rp, sizeof rp, ratio_of(num, den));
        fprintf(o, "<tr><td><span style=\"color:%s\">\xe2\x96\xa0</span> %s</td><td class=\"n\">%s</td>"
                   "<td class=\"n\">%s</td><td class=\"n\">%s</td></tr>",
                fams[fi].color, fams[fi].what, a, b, rp);
    }
    fputs("</tbody></table></div></div></section>", o);
}

/* ------------------------------------------------------------ the page */

static void verdict(FILE *o, const alert_view *av, size_t nav, const prov_view *pv, size_t npv)
{
    /* the answer: a local alert first (it explains provider alerts too),
     * then provider alerts by onset */
    const alert_view *lead = NULL;
    for (size_t i = 0; i < nav && !lead; i++)
        if (av[i].a->local)
            lead = &av[i];
    if (!lead && nav)
        lead = &av[0];
    if (!lead) {
        fputs("<section class=\"verdict ok\"><div class=\"kicker\">No outage</div>"
              "<h1>No outage detected</h1>", o);
        const prov_view *worst = NULL;
        double wr = 0;
        for (size_t i = 0; i < npv; i++) {
            uint64_t num, den;
            fl_family_count(pv[i].c, FL_FAM_ANY, &num, &den);
            if (den && ratio_of(num, den) >= wr) {
                wr = ratio_of(num, den);
                worst = &pv[i];
            }
        }
        fprintf(o, "<p>%zu provider%s carried traffic; no failure rose above its usual level.", npv,
                npv == 1 ? "" : "s");
        if (worst && wr > 0) {
            char p[16];
            fmt_pct(p, sizeof p, wr);
            fprintf(o, " Highest background failure rate: %s of flows at <b>", p);
            esc(o, worst->name);
            fputs("</b>.", o);
        }
        fputs("</p></section>", o);
        return;
    }
    const fl_alert *a = lead->a;
    fprintf(o, "<section class=\"verdict %s\"><div class=\"kicker\">%s</div><h1>", a->local ? "local" : "bad",
            a->local ? "It's us \xc2\xb7 local problem" : "It's them \xc2\xb7 provider outage");
    headline(o, lead, npv);
    fputs("</h1><p>", o);
    char pk[16], bl[16], ra[32], re[32], sh[16];
    fmt_pct(pk, sizeof pk, a->peak_ratio);
    fmt_pct(bl, sizeof bl, a->baseline_ratio);
    fmt_pct(sh, sizeof sh, a->client_share);
    fmt_time(ra, sizeof ra, a->raised_at, false);
    fmt_time(re, sizeof re, a->resolved_at, false);
    if (a->local) {
        fputs("Most providers with traffic failed at the same time: the common part is on our side "
              "(uplink, firewall, resolver), not one provider.</p>", o);
        moved_text(o, lead);
        fputs("<p>", o);
    } else {
        fprintf(o, "The alert's failure ratio (over the detector's window) peaked at <b>%s</b> "
                   "against a usual %s; %s of active clients were affected. ",
                pk, bl, sh);
        /* the other half of "us or them": did the others keep working? */
        size_t ok = 0;
        for (size_t i = 0; i < npv; i++) {
            bool hit = false;
            for (size_t j = 0; j < nav; j++)
                if (av[j].provider == pv[i].id || av[j].a->local)
                    hit = true;
            ok += !hit;
        }
        if (ok)
            fprintf(o, "%zu other provider%s carried traffic without an alert, so the network path "
                       "itself was working.",
                    ok, ok == 1 ? "" : "s");
    }
    char lag[32];
    fmt_dur(lag, sizeof lag, a->raised_at - a->onset_at);
    fprintf(o, "</p><p class=\"muted\">Alert raised at %s UTC (%s after the onset), ", ra, lag);
    if (a->resolved_at > 0)
        fprintf(o, "resolved at %s UTC once the ratio stayed low.</p>", re);
    else
        fputs("still open at the end of the capture.</p>", o);
    if (nav > 1)
        fprintf(o, "<p>%zu other alert%s:</p><ul class=\"also\">", nav - 1, nav == 2 ? "" : "s");
    for (size_t i = 0; i < nav; i++) {
        if (&av[i] == lead)
            continue;
        fputs("<li>", o);
        headline(o, &av[i], npv);
        fputs("</li>", o);
    }
    if (nav > 1)
        fputs("</ul>", o);
    fputs("</section>", o);
}

int fl_report_html(fl_engine *e, const fl_report_source *src, FILE *out)
{
    fl_aggregate *agg = fl_engine_aggregate(e);
    fl_providers *prov = fl_engine_providers(e);
    fl_engine_stats st;
    fl_engine_get_stats(e, &st);
    const fl_history_entry *h;
    size_t nh = fl_aggregate_history(agg, &h);
    const fl_alert *al;
    size_t na = fl_detector_alerts(fl_engine_detector(e), &al);
    const fl_service_tally *tallies;
    size_t ntallies = fl_aggregate_services(agg, &tallies);
    int rc = -1;

    /* the time axis: every bucket of the history, at most CHART_POINTS */
    axis ax = { .bucket_s = fl_aggregate_bucket_s(agg) };
    if (!ax.bucket_s)
        ax.bucket_s = 10;
    uint64_t lo = UINT64_MAX, hi = 0;
    for (size_t i = 0; i < nh; i++) {
        if (h[i].start < lo)
            lo = h[i].start;
        if (h[i].start > hi)
            hi = h[i].start;
    }
    if (!nh && st.packets)
        lo = hi = st.first_ts_us / 1000000;
    else if (!nh)
        lo = hi = 0;
    ax.t0 = lo - lo % ax.bucket_s;
    uint64_t nb = (hi - ax.t0) / ax.bucket_s + 1;
    uint64_t k = (nb + CHART_POINTS - 1) / CHART_POINTS;
    ax.step = k * ax.bucket_s;
    ax.n = (size_t)((nb + k - 1) / k);
    ax.t1 = ax.t0 + ax.n * ax.step;
    uint64_t capture_end = st.packets ? st.last_ts_us / 1000000 + 1 : ax.t1;

    size_t np = fl_aggregate_provider_slots(agg);
    prov_view *pv = calloc(np ? np : 1, sizeof *pv);
    alert_view *av = calloc(na ? na : 1, sizeof *av);
    const fl_service_tally **top = calloc(TOP_SERVICES, sizeof *top);
    series s = { 0 };
    if (!pv || !av || !top)
        goto out;

    for (size_t i = 0; i < na; i++) {
        av[i].a = &al[i];
        av[i].provider = al[i].local ? ALL_PROVIDERS : fl_providers_find(prov, al[i].provider);
        if (alert_analyse(&av[i], h, nh, ax.bucket_s, capture_end) < 0)
            goto out;
    }
    size_t npv = 0;
    for (size_t p = 0; p < np; p++) {
        const fl_counts *c = fl_aggregate_totals(agg, (uint16_t)p);
        if (!fl_counts_any(c))
            continue;
        prov_view *v = &pv[npv++];
        v->id = (uint16_t)p;
        v->c = c;
        v->name = fl_providers_name(prov, (fl_provider_id)p);
        v->failures = fl_counts_failures(c);
        for (size_t i = 0; i < na; i++)
            if (!al[i].local && av[i].provider == p &&
                (v->first_alert == 0 || al[i].onset_at < v->first_alert))
                v->first_alert = al[i].onset_at;
    }
    qsort(pv, npv, sizeof *pv, prov_cmp);

    fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
          "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
          "style-src 'unsafe-inline'\">"
          "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">"
          "<title>faultline report", out);
    if (na) {
        fputs(": ", out);
        esc(out, al[0].provider);
    }
    fprintf(out, "</title><style>%ssvg .hov rect{fill:transparent;y:%dpx;height:%dpx}</style>"
                 "</head><body><main>\n",
            css, CH_T, CH_H + CH_GAP + CH_VH);

    char t0[32], t1[32];
    fmt_time(t0, sizeof t0, st.packets ? (double)st.first_ts_us / 1e6 : 0, true);
    fmt_time(t1, sizeof t1, st.packets ? (double)st.last_ts_us / 1e6 : 0, false);
    fprintf(out, "<header class=\"top\"><div class=\"brand\">faultline \xc2\xb7 incident report</div>"
                 "<div>%s%s%s UTC</div></header>\n",
            st.packets ? t0 : "no packets", st.packets ? " \xe2\x80\x93 " : "", st.packets ? t1 : "");

    verdict(out, av, na, pv, npv);
    fputc('\n', out);
    summary(out, e, src, &st, agg);
    fputc('\n', out);
    alerts_table(out, av, na, agg, tallies, ntallies);
    fputc('\n', out);

    if (npv) {
        char bs[32];
        fmt_dur(bs, sizeof bs, (double)ax.step);
        fprintf(out, "<section><h2>Providers</h2><p class=\"sub\">Failure ratio per signal over time "
                     "(one point per %s%s), flows below. Hover for numbers. Times are UTC.</p></section>\n",
                bs, ax.step != ax.bucket_s ? ", buckets merged" : "");
    }
    for (size_t i = 0; i < npv; i++) {
        if (series_build(&s, h, nh, pv[i].id, ax.t0, ax.step, ax.n) < 0)
            goto out;
        fputs("<section>", out);
        provider_section(out, &ax, &pv[i], &s, av, na, agg, prov, tallies, ntallies, top);
        fputs("</section>\n", out);
        series_free(&s);
    }
    fprintf(out, "<footer>Generated by faultline %s from packet times alone (passive: nothing was "
                 "probed). %u s buckets. This page loads nothing from the network.</footer>\n"
                 "</main></body></html>\n",
            FL_VERSION, ax.bucket_s);
    rc = ferror(out) ? -1 : 0;
out:
    series_free(&s);
    free(pv);
    free(av);
    free(top);
    return rc;
}
