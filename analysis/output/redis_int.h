/* redis_int.h - shared by the Redis output's files (not the hiredis
 * adapter: see redis_conn.h). */
#ifndef FL_REDIS_INT_H
#define FL_REDIS_INT_H

#include <stddef.h>
#include "fl_redis.h"

#define FL_REDIS_DEFAULT_PREFIX "fl"
#define FL_REDIS_DEFAULT_TIMEOUT_MS 2000u

/* vsnprintf into err, if there is one. */
void fl_redis_set_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The sensor name when none is configured, computed here only: the host
 * name, or "sensor" if there is none. */
void fl_redis_default_sensor(char *buf, size_t len);

#endif
