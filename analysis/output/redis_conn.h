/* redis_conn.h - the hiredis adapter: the only file that includes
 * <hiredis/hiredis.h> (hiredis 0.14.1: no ACL user in its API, no TLS,
 * blocking contexts with socket timeouts). The writer (redis_writer.c) and
 * the reader (redis_reader.c) pipeline commands and read replies through
 * the hiredis types declared here; both connect through the one sequence
 * of redis_conn.c.
 */
#ifndef FL_REDIS_CONN_H
#define FL_REDIS_CONN_H

#include <hiredis/hiredis.h>
#include <stdint.h>
#include "redis_int.h"

struct timeval fl_redis_timeval(uint32_t ms);

/* The one connect sequence, for the writer and the reader: TCP (with
 * keep-alive) or unix socket, connect and command timeout timeout_ms, then
 * AUTH and SELECT as the URL asks. *ncmds is advanced by the commands
 * sent. NULL with err on failure (nothing left open). */
redisContext *fl_redis_connect(const fl_redis_url *u, uint32_t timeout_ms, uint64_t *ncmds,
                               char *err, size_t errlen);

#endif
