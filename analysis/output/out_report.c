/* out_report.c - the outputs written at the end of a run: the JSON
 * document or the table (on a stream), and the HTML report (a file). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fl_output.h"
#include "fl_report.h"

typedef struct summary_out {
    FILE *out;
} summary_out;

static void *summary_open(const fl_output_args *args, char *err, size_t errlen)
{
    summary_out *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    s->out = args->out ? args->out : stdout;
    return s;
}

static fl_output_result json_finish(void *self, const fl_run_view *v, char *msg, size_t msglen)
{
    summary_out *s = self;
    char *doc = fl_report_json(v);
    if (!doc) {
        snprintf(msg, msglen, "json: out of memory for the document");
        return FL_OUT_FAIL;
    }
    fputs(doc, s->out);
    fputc('\n', s->out);
    free(doc);
    fflush(s->out);
    return FL_OUT_OK;
}

static fl_output_result table_finish(void *self, const fl_run_view *v, char *msg, size_t msglen)
{
    (void)msg;
    (void)msglen;
    summary_out *s = self;
    fl_report_table(v, s->out);
    fflush(s->out);
    return FL_OUT_OK;
}

static void summary_close(void *self)
{
    free(self);
}

const fl_output_type fl_output_json = {
    .name = "json",
    .open = summary_open,
    .finish = json_finish,
    .close = summary_close,
};

const fl_output_type fl_output_table = {
    .name = "table",
    .open = summary_open,
    .finish = table_finish,
    .close = summary_close,
};

typedef struct html_out {
    char *path;
} html_out;

static void *html_open(const fl_output_args *args, char *err, size_t errlen)
{
    html_out *h = calloc(1, sizeof *h);
    if (!h || !args->path || !(h->path = strdup(args->path))) {
        free(h);
        snprintf(err, errlen, "--report: %s", args->path ? "out of memory" : "no file name");
        return NULL;
    }
    return h;
}

/* The file is created at the end, when there is something to write. */
static fl_output_result html_finish(void *self, const fl_run_view *v, char *msg, size_t msglen)
{
    html_out *h = self;
    FILE *f = fopen(h->path, "w");
    if (!f) {
        snprintf(msg, msglen, "--report %s: %s", h->path, strerror(errno));
        return FL_OUT_FAIL;
    }
    int r = fl_report_html(v, f);
    if (fclose(f) != 0 || r != 0) {
        snprintf(msg, msglen, "--report %s: could not write the report", h->path);
        return FL_OUT_FAIL;
    }
    return FL_OUT_OK;
}

static void html_close(void *self)
{
    html_out *h = self;
    free(h->path);
    free(h);
}

const fl_output_type fl_output_html = {
    .name = "html",
    .open = html_open,
    .finish = html_finish,
    .close = html_close,
};
