/* outputs.c - a set of outputs told about the run in order (fl_output.h). */
#include "fl_output.h"

bool fl_outputs_add(fl_outputs *o, const fl_output_type *t, const fl_output_args *args, char *err,
                    size_t errlen)
{
    if (o->n == FL_OUTPUTS_MAX) {
        snprintf(err, errlen, "%s: too many outputs", t->name);
        return false;
    }
    void *self = t->open(args, err, errlen);
    if (!self)
        return false;
    o->type[o->n] = t;
    o->self[o->n] = self;
    o->n++;
    return true;
}

void fl_outputs_bucket_closed(fl_outputs *o, const fl_run_view *v, const fl_bucket_entry *entries,
                              size_t n)
{
    for (size_t i = 0; i < o->n; i++)
        if (o->type[i]->bucket_closed)
            o->type[i]->bucket_closed(o->self[i], v, entries, n);
}

void fl_outputs_alert(fl_outputs *o, const fl_run_view *v, const fl_alert *a, bool resolved)
{
    for (size_t i = 0; i < o->n; i++)
        if (o->type[i]->alert)
            o->type[i]->alert(o->self[i], v, a, resolved);
}

void fl_outputs_heartbeat(fl_outputs *o, const fl_run_view *v, uint64_t kernel_drops)
{
    for (size_t i = 0; i < o->n; i++)
        if (o->type[i]->heartbeat)
            o->type[i]->heartbeat(o->self[i], v, kernel_drops);
}

void fl_outputs_failure(fl_outputs *o, const fl_run_view *v, const fl_failure_info *fi)
{
    for (size_t i = 0; i < o->n; i++)
        if (o->type[i]->failure)
            o->type[i]->failure(o->self[i], v, fi);
}

fl_output_result fl_outputs_finish(fl_outputs *o, const fl_run_view *v,
                                   void (*msg_fn)(void *ctx, const char *name, fl_output_result r,
                                                  const char *msg),
                                   void *ctx)
{
    fl_output_result worst = FL_OUT_OK;
    for (size_t i = 0; i < o->n; i++) {
        if (!o->type[i]->finish)
            continue;
        char msg[512] = "";
        fl_output_result r = o->type[i]->finish(o->self[i], v, msg, sizeof msg);
        if (r != FL_OUT_OK && msg_fn)
            msg_fn(ctx, o->type[i]->name, r, msg);
        if (r > worst)
            worst = r;
    }
    return worst;
}

void fl_outputs_close(fl_outputs *o)
{
    for (size_t i = o->n; i-- > 0;)
        if (o->type[i]->close)
            o->type[i]->close(o->self[i]);
    o->n = 0;
}
