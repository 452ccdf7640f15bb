/* html_int.h - shared by the HTML report's files (report_html.c: the
 * text and the page; html_chart.c: the SVG charts; html_util.c: escaping,
 * number and time formats, the family colours). */
#ifndef FL_HTML_INT_H
#define FL_HTML_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include "fl_families.h"
#include "fl_incident.h"

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
#define HOVER_COLUMNS 150

/* The families drawn, in legend order: one colour each. */
typedef struct fam_def {
    fl_family fam;
    const char *label; /* legend */
    const char *what;  /* in sentences */
    const char *color;
} fam_def;

#define FL_HTML_NFAMS 7
extern const fam_def fl_html_fams[FL_HTML_NFAMS];
const fam_def *fl_html_fam_find(unsigned f);

/* The inline style sheet. */
extern const char fl_html_css[];

/* Traffic and command-line text as HTML: escaped, control bytes and
 * invalid UTF-8 replaced. */
void fl_html_esc(FILE *o, const char *s);
void fl_html_fmt_time(char *b, size_t n, double t, bool date);
void fl_html_fmt_dur(char *b, size_t n, double s);
void fl_html_fmt_pct(char *b, size_t n, double r);
void fl_html_fmt_int(char *b, size_t n, uint64_t v);
void fl_html_fmt_bytes(char *b, size_t n, uint64_t v);

/* The page's common time axis. */
typedef struct axis {
    uint64_t t0, t1; /* [t0, t1), epoch seconds */
    uint64_t step;   /* seconds per chart point */
    size_t n;        /* points */
    uint32_t bucket_s;
} axis;

/* One provider's chart: alert spans, failure ratio per family drawn (draw
 * has FL_HTML_NFAMS entries), volume, hover text. */
/* report_https.c: what moved inside HTTPS for an alert of family https. */
struct fl_run_view;
void fl_report_https_moved(FILE *o, const struct fl_run_view *rv, const fl_incident *inc);

void fl_html_chart(FILE *o, const axis *ax, const fl_series *s, const fl_incident *av, size_t nav,
                   uint32_t provider, const bool *draw);

/* report_drill.c: per alert, who failed (fl_drill.h); nothing without a
 * drill store in the view. */
struct fl_run_view;
void fl_html_drill(FILE *o, const struct fl_run_view *rv, const fl_incident *av, size_t nav);

#endif
