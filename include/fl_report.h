/* fl_report.h - the replay summary: the DESIGN.md JSON document (contract)
 * and a readable table. */
#ifndef FL_REPORT_H
#define FL_REPORT_H

#include <stdio.h>
#include "fl_engine.h"

typedef struct fl_report_source {
    const char *const *files;  /* capture files, or NULL for live */
    size_t nfiles;
    const char *interface;     /* live interface, or NULL */
    uint64_t kernel_drops;
} fl_report_source;

/* The JSON document, malloc'd (free() it); NULL on allocation failure. */
char *fl_report_json(fl_engine *e, const fl_report_source *src);

/* One alert as a JSON object (the same schema in the document, the Redis
 * stream and pub/sub). agg/prov may be NULL (no top services then). */
struct json_t;
struct json_t *fl_alert_json(const fl_alert *a, fl_aggregate *agg, fl_providers *prov);

/* A table per provider for people. */
void fl_report_table(fl_engine *e, const fl_report_source *src, FILE *out);

/* One self-contained HTML page (inline CSS and SVG, loads nothing): the
 * verdict, the capture, the alerts and a timeline per provider. Call after
 * fl_engine_finish. Returns 0, or -1 on allocation or write failure. */
int fl_report_html(fl_engine *e, const fl_report_source *src, FILE *out);

#endif
