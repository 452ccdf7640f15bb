/* redis_conn.c - the one connect sequence of the Redis output (writer and
 * reader), and the default sensor name. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "redis_conn.h"

void fl_redis_set_err(char *err, size_t errlen, const char *fmt, ...)
{
    if (!err || !errlen)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

void fl_redis_default_sensor(char *buf, size_t len)
{
    if (!len)
        return;
    buf[0] = '\0';
    if (gethostname(buf, len - 1) != 0 || !buf[0])
        snprintf(buf, len, "sensor");
    buf[len - 1] = '\0';
}

struct timeval fl_redis_timeval(uint32_t ms)
{
    return (struct timeval){ (time_t)(ms / 1000), (suseconds_t)(ms % 1000) * 1000 };
}

/* One setup command; false with err (the server's error text) if it failed. */
static bool setup_command(redisContext *c, redisReply *rep, const char *what, uint64_t *ncmds,
                          char *err, size_t errlen)
{
    (*ncmds)++;
    bool ok = rep && rep->type != REDIS_REPLY_ERROR;
    if (!ok)
        fl_redis_set_err(err, errlen, "%s: %s", what, rep ? rep->str : c->errstr);
    freeReplyObject(rep);
    return ok;
}

redisContext *fl_redis_connect(const fl_redis_url *u, uint32_t timeout_ms, uint64_t *ncmds,
                               char *err, size_t errlen)
{
    struct timeval tv = fl_redis_timeval(timeout_ms);
    redisContext *c = u->path[0] ? redisConnectUnixWithTimeout(u->path, tv)
                                 : redisConnectWithTimeout(u->host, u->port, tv);
    if (!c || c->err) {
        if (u->path[0])
            fl_redis_set_err(err, errlen, "cannot connect to Redis at %s: %s", u->path,
                             c ? c->errstr : "out of memory");
        else
            fl_redis_set_err(err, errlen, "cannot connect to Redis at %s:%d: %s", u->host, u->port,
                             c ? c->errstr : "out of memory");
        if (c)
            redisFree(c);
        return NULL;
    }
    redisSetTimeout(c, tv);
    if (!u->path[0])
        redisEnableKeepAlive(c);
    char what[32];
    if (u->password[0] &&
        !setup_command(c, redisCommand(c, "AUTH %s", u->password), "AUTH", ncmds, err, errlen))
        goto fail;
    snprintf(what, sizeof what, "SELECT %d", u->db);
    if (u->db && !setup_command(c, redisCommand(c, "SELECT %d", u->db), what, ncmds, err, errlen))
        goto fail;
    return c;
fail:
    redisFree(c);
    return NULL;
}
