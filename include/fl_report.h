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

/* A table per provider for people. */
void fl_report_table(fl_engine *e, const fl_report_source *src, FILE *out);

#endif
