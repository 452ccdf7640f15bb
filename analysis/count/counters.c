/* counters.c - names and classes of the contract counters. */
#include <string.h>

#include "fl_counters.h"

static const char *const counter_names[FL_C_COUNT] = {
#define FL_X(name, fail) #name,
    FL_COUNTERS(FL_X)
#undef FL_X
};

static const bool counter_failure[FL_C_COUNT] = {
#define FL_X(name, fail) fail,
    FL_COUNTERS(FL_X)
#undef FL_X
};

const char *fl_counter_name(fl_counter c)
{
    return (unsigned)c < FL_C_COUNT ? counter_names[c] : "?";
}

fl_counter fl_counter_from_name(const char *name)
{
    for (int i = 0; i < FL_C_COUNT; i++)
        if (strcmp(counter_names[i], name) == 0)
            return (fl_counter)i;
    return FL_C_COUNT;
}

bool fl_counter_is_failure(fl_counter c)
{
    return (unsigned)c < FL_C_COUNT && counter_failure[c];
}
