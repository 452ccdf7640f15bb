/* test_redis.c - the Redis output against a real redis-server.
 *
 * Every test runs its own throwaway server (fl_redis_server.h) on a unix
 * socket and reads the result back with its own hiredis connection. Expected
 * values come from the key layout in include/fl_redis.h (README "Redis")
 * and the counts each test puts in, never from the module's own output.
 */
#include <hiredis/hiredis.h>
#include <hiredis/sds.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fl_redis.h"
#include "fl_redis_server.h"
#include "fl_test_util.h"
#include "sink_redis_int.h"

#define FLUSH_MS 30000

static void sleep_ms(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
    nanosleep(&ts, NULL);
}

static redisContext *tconn(const fl_redis_server *s)
{
    struct timeval tv = { 5, 0 };
    redisContext *c = redisConnectUnixWithTimeout(s->sock, tv);
    ck_assert_ptr_nonnull(c);
    ck_assert_msg(!c->err, "test connection: %s", c->errstr);
    redisSetTimeout(c, tv);
    return c;
}

/* HGET as a number; -1 when the field is missing. */
static long long hget(redisContext *c, const char *key, const char *field)
{
    redisReply *rep = redisCommand(c, "HGET %s %s", key, field);
    ck_assert_ptr_nonnull(rep);
    long long v = -1;
    if (rep->type == REDIS_REPLY_STRING)
        v = strtoll(rep->str, NULL, 10);
    else
        ck_assert_int_eq(rep->type, REDIS_REPLY_NIL);
    freeReplyObject(rep);
    return v;
}

static long long cmd_int(redisContext *c, const char *fmt, const char *arg)
{
    redisReply *rep = redisCommand(c, fmt, arg);
    ck_assert_ptr_nonnull(rep);
    ck_assert_msg(rep->type == REDIS_REPLY_INTEGER, "%s %s: reply type %d %s", fmt, arg, rep->type,
                  rep->type == REDIS_REPLY_ERROR ? rep->str : "");
    long long v = rep->integer;
    freeReplyObject(rep);
    return v;
}

static char *cmd_str(redisContext *c, const char *fmt, const char *arg)
{
    redisReply *rep = redisCommand(c, fmt, arg);
    ck_assert_ptr_nonnull(rep);
    char *s = NULL;
    if (rep->type == REDIS_REPLY_STRING || rep->type == REDIS_REPLY_STATUS)
        s = strdup(rep->str);
    freeReplyObject(rep);
    return s;
}

static fl_redis *open_sink(const char *url, const char *sensor, uint64_t backlog)
{
    fl_redis_options o = {
        .url = url,
        .prefix = "fl",
        .sensor = sensor,
        .retention_s = 3600,
        .backlog_bytes = backlog,
        .timeout_ms = 2000,
    };
    char err[256] = "";
    fl_redis *r = fl_redis_new(&o, err, sizeof err);
    ck_assert_msg(r != NULL, "fl_redis_new: %s", err);
    return r;
}

static fl_bucket_entry entry(uint64_t start, const char *provider)
{
    fl_bucket_entry e;
    memset(&e, 0, sizeof e);
    e.start = start;
    e.width = 10;
    e.provider = provider;
    return e;
}

/* ------------------------------------------------------------------ URLs */

START_TEST(test_url_good)
{
    fl_redis_url u;
    char err[256];

    ck_assert(fl_redis_parse_url("redis://localhost", &u, err, sizeof err));
    ck_assert_str_eq(u.host, "localhost");
    ck_assert_int_eq(u.port, 6379);
    ck_assert_int_eq(u.db, 0);
    ck_assert_str_eq(u.password, "");
    ck_assert_str_eq(u.path, "");

    ck_assert(fl_redis_parse_url("redis://:s3cret@10.0.0.5:6380/2", &u, err, sizeof err));
    ck_assert_str_eq(u.host, "10.0.0.5");
    ck_assert_int_eq(u.port, 6380);
    ck_assert_int_eq(u.db, 2);
    ck_assert_str_eq(u.password, "s3cret");

    /* User ignored (no ACL user in hiredis 0.14); RFC 3986 %-escapes. */
    ck_assert(
        fl_redis_parse_url("redis://alice:pa%40ss:w@redis.example.net/15", &u, err, sizeof err));
    ck_assert_str_eq(u.host, "redis.example.net");
    ck_assert_str_eq(u.password, "pa@ss:w");
    ck_assert_int_eq(u.db, 15);

    /* redis-cli's reading: userinfo without ':' is the password. */
    ck_assert(fl_redis_parse_url("redis://onlypass@h1", &u, err, sizeof err));
    ck_assert_str_eq(u.password, "onlypass");
    ck_assert_str_eq(u.host, "h1");

    ck_assert(fl_redis_parse_url("redis://[::1]:7000", &u, err, sizeof err));
    ck_assert_str_eq(u.host, "::1");
    ck_assert_int_eq(u.port, 7000);

    ck_assert(fl_redis_parse_url("REDIS://Host-a_b.local/", &u, err, sizeof err));
    ck_assert_str_eq(u.host, "Host-a_b.local");
    ck_assert_int_eq(u.db, 0);

    ck_assert(fl_redis_parse_url("unix:///var/run/redis/redis.sock", &u, err, sizeof err));
    ck_assert_str_eq(u.path, "/var/run/redis/redis.sock");
    ck_assert_str_eq(u.host, "");
    ck_assert_int_eq(u.db, 0);
    ck_assert_str_eq(u.password, "");

    ck_assert(fl_redis_parse_url("unix:///tmp/r.sock?db=4&password=x%20y", &u, err, sizeof err));
    ck_assert_str_eq(u.path, "/tmp/r.sock");
    ck_assert_int_eq(u.db, 4);
    ck_assert_str_eq(u.password, "x y");

    ck_assert(fl_redis_parse_url("unix:///tmp/r.sock?password=abc", &u, err, sizeof err));
    ck_assert_int_eq(u.db, 0);
    ck_assert_str_eq(u.password, "abc");
}
END_TEST

START_TEST(test_url_bad)
{
    static const char *const bad[] = {
        "",
        "localhost:6379",
        "http://host",
        "rediss://host:6380",
        "redis://",
        "redis://:pw@",
        "redis://host:0",
        "redis://host:65536",
        "redis://host:",
        "redis://host:6x",
        "redis://host/x",
        "redis://host/1/2",
        "redis://host?db=1",
        "redis://::1:6379",
        "redis://[::1",
        "redis://ho st",
        "redis://:pw%zz@host",
        "redis://:pw%4@host",
        "unix://relative.sock",
        "unix://",
        "unix:///",
        "unix:///tmp/r.sock?db=x",
        "unix:///tmp/r.sock?db=",
        "unix:///tmp/r.sock?foo=1",
        "unix:///tmp/r%2",
    };
    fl_redis_url u;
    char err[256];
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = '\0';
        ck_assert_msg(!fl_redis_parse_url(bad[i], &u, err, sizeof err), "accepted '%s'", bad[i]);
        ck_assert_msg(err[0] != '\0', "no error text for '%s'", bad[i]);
    }
    err[0] = '\0';
    ck_assert(!fl_redis_parse_url(NULL, &u, err, sizeof err));
    ck_assert(err[0] != '\0');

    /* Longer than sun_path (108 bytes). */
    char longp[200] = "unix:///";
    memset(longp + 8, 'a', 150);
    longp[158] = '\0';
    ck_assert(!fl_redis_parse_url(longp, &u, err, sizeof err));

    /* Errors never echo the password into a log. */
    ck_assert(!fl_redis_parse_url("redis://:topsecret@host:99999", &u, err, sizeof err));
    ck_assert_ptr_null(strstr(err, "topsecret"));

    /* fl_redis_new refuses a bad URL with the same message. */
    fl_redis_options o = { .url = "tcp://x" };
    err[0] = '\0';
    ck_assert_ptr_null(fl_redis_new(&o, err, sizeof err));
    ck_assert(err[0] != '\0');
}
END_TEST

/* ------------------------------------------------------------- contract */

START_TEST(test_bucket_contract)
{
    fl_redis_server s;
    ck_assert(fl_redis_server_init(&s));
    ck_assert(fl_redis_server_start(&s));
    fl_redis *r = open_sink(s.url, "s1", 0);

    fl_addr cl[4];
    ck_assert(fl_addr_parse("10.0.0.1", &cl[0]));
    ck_assert(fl_addr_parse("10.0.0.2", &cl[1]));
    ck_assert(fl_addr_parse("2001:db8::1", &cl[2]));
    ck_assert(fl_addr_parse("10.0.0.1", &cl[3])); /* repeated: HLL counts once */
    fl_bucket_entry e[3] = { entry(1700000000, "Cloudflare"), entry(1700000000, "AWS"),
                             entry(1700000000, "Google") };
    e[0].counts.v[FL_C_flows] = 10;
    e[0].counts.v[FL_C_tcp_attempts] = 5;
    e[0].counts.v[FL_C_tcp_refused] = 2;
    e[0].counts.v[FL_C_dns_servfail] = 1;
    e[0].clients = cl;
    e[0].nclients = 4;
    e[1].counts.v[FL_C_flows] = 3; /* no clients */
    /* e[2] all zero: writes nothing */
    fl_redis_put_bucket(r, e, 3);
    ck_assert(fl_redis_flush(r, FLUSH_MS));

    fl_redis_stats st;
    fl_redis_get_stats(r, &st);
    ck_assert_uint_eq(st.batches_queued, 1);
    ck_assert_uint_eq(st.batches_applied, 1);
    ck_assert_uint_eq(st.batches_duplicate, 0);
    ck_assert_uint_eq(st.batches_dropped, 0);
    ck_assert_uint_eq(st.batches_held, 0);
    ck_assert_uint_eq(st.bytes_held, 0);
    /* SCRIPT LOAD x2 on connect, then one EVALSHA for the whole bucket. */
    ck_assert_uint_eq(st.commands, 3);
    ck_assert(st.connected);

    redisContext *c = tconn(&s);
    static const char *const hashes[] = { "fl:cnt:Cloudflare:1700000000",
                                          "fl:scnt:s1:Cloudflare:1700000000" };
    for (int i = 0; i < 2; i++) {
        const char *k = hashes[i];
        ck_assert_int_eq(cmd_int(c, "HLEN %s", k), 4); /* zero counters not written */
        ck_assert_int_eq(hget(c, k, "flows"), 10);
        ck_assert_int_eq(hget(c, k, "tcp_attempts"), 5);
        ck_assert_int_eq(hget(c, k, "tcp_refused"), 2);
        ck_assert_int_eq(hget(c, k, "dns_servfail"), 1);
        long long ttl = cmd_int(c, "TTL %s", k);
        ck_assert(ttl > 0 && ttl <= 3600);
    }
    ck_assert_int_eq(cmd_int(c, "PFCOUNT %s", "fl:cli:Cloudflare:1700000000"), 3);
    long long ttl = cmd_int(c, "TTL %s", "fl:cli:Cloudflare:1700000000");
    ck_assert(ttl > 0 && ttl <= 3600);

    ck_assert_int_eq(cmd_int(c, "HLEN %s", "fl:cnt:AWS:1700000000"), 1);
    ck_assert_int_eq(hget(c, "fl:cnt:AWS:1700000000", "flows"), 3);
    ck_assert_int_eq(hget(c, "fl:scnt:s1:AWS:1700000000", "flows"), 3);
    ck_assert_int_eq(cmd_int(c, "EXISTS %s", "fl:cli:AWS:1700000000"), 0);
    ck_assert_int_eq(cmd_int(c, "EXISTS %s", "fl:cnt:Google:1700000000"), 0);
    ck_assert_int_eq(cmd_int(c, "EXISTS %s", "fl:scnt:s1:Google:1700000000"), 0);

    /* Exactly these keys plus the one batch marker, which expires too. */
    redisReply *rep = redisCommand(c, "KEYS *");
    ck_assert_int_eq(rep->type, REDIS_REPLY_ARRAY);
    ck_assert_uint_eq(rep->elements, 6);
    int markers = 0;
    for (size_t i = 0; i < rep->elements; i++) {
        const char *k = rep->element[i]->str;
        if (strncmp(k, "fl:batch:s1:", 12) == 0) {
            markers++;
            long long mttl = cmd_int(c, "TTL %s", k);
            ck_assert(mttl > 0 && mttl <= 3600);
        }
    }
    freeReplyObject(rep);
    ck_assert_int_eq(markers, 1);

    /* An empty bucket is no batch at all. */
    fl_redis_put_bucket(r, &e[2], 1);
    fl_redis_get_stats(r, &st);
    ck_assert_uint_eq(st.batches_queued, 1);

    redisFree(c);
    fl_redis_free(r);
    fl_redis_server_cleanup(&s);
}
END_TEST

/* AUTH and SELECT from the URL: the keys land in the chosen database. */
START_TEST(test_auth_db)
{
    fl_redis_server s;
    ck_assert(fl_redis_server_init(&s));
    ck_assert(fl_redis_server_start(&s));
    redisContext *c = tconn(&s);
    char *ok = cmd_str(c, "CONFIG SET requirepass %s", "pw with space");
    ck_assert_str_eq(ok, "OK");
    free(ok);

    char url[256];
    /* Wrong password: held, error kept, nothing printed. */
    snprintf(url, sizeof url, "%s?db=3&password=wrong", s.url);
    fl_redis *bad = open_sink(url, "s1", 0);
    fl_bucket_entry e = entry(1700000010, "Akamai");
    e.counts.v[FL_C_http_5xx] = 7;
    fl_redis_put_bucket(bad, &e, 1);
    ck_assert(!fl_redis_flush(bad, 500));
    char err[256];
    ck_assert(fl_redis_last_error(bad, err, sizeof err));
    ck_assert_msg(strstr(err, "AUTH") != NULL, "last error: %s", err);
    fl_redis_stats st;
    fl_redis_get_stats(bad, &st);
    ck_assert_uint_eq(st.batches_held, 1);
    ck_assert(!st.connected);
    fl_redis_free(bad);

    snprintf(url, sizeof url, "%s?db=3&password=pw%%20with%%20space", s.url);
    fl_redis *r = open_sink(url, "s1", 0);
    fl_redis_put_bucket(r, &e, 1);
    ck_assert(fl_redis_flush(r, FLUSH_MS));
    fl_redis_get_stats(r, &st);
    ck_assert_uint_eq(st.batches_applied, 1);
    ck_assert_uint_eq(st.commands, 5); /* AUTH, SELECT, 2 SCRIPT LOAD, EVALSHA */

    redisReply *rep = redisCommand(c, "AUTH %s", "pw with space");
    ck_assert_int_eq(rep->type, REDIS_REPLY_STATUS);
    freeReplyObject(rep);
    ck_assert_int_eq(cmd_int(c, "EXISTS %s", "fl:cnt:Akamai:1700000010"), 0); /* db 0 */
    rep = redisCommand(c, "SELECT 3");
    ck_assert_int_eq(rep->type, REDIS_REPLY_STATUS);
    freeReplyObject(rep);
    ck_assert_int_eq(hget(c, "fl:cnt:Akamai:1700000010", "http_5xx"), 7);

    redisFree(c);
    fl_redis_free(r);
    fl_redis_server_cleanup(&s);
}
END_TEST

START_TEST(test_two_sensors)
{
    fl_redis_server s;
    ck_assert(fl_redis_server_init(&s));
    ck_assert(fl_redis_server_start(&s));
    fl_redis *a = open_sink(s.url, "sensor-a", 0);
    fl_redis *b = open_sink(s.url, "sensor-b", 0);

    fl_addr ca[2], cb[2];
    ck_assert(fl_addr_parse("192.0.2.1", &ca[0]));
    ck_assert(fl_addr_parse("192.0.2.2", &ca[1]));
    ck_assert(fl_addr_parse("192.0.2.2", &cb[0]));
    ck_assert(fl_addr_parse("192.0.2.3", &cb[1]));

    fl_bucket_entry ea = entry(1700000020, "Fastly"), eb = entry(1700000020, "Fastly");
    ea.counts.v[FL_C_flows] = 3;
    ea.counts.v[FL_C_tcp_refused] = 1;
    ea.clients = ca;
    ea.nclients = 2;
    eb.counts.v[FL_C_flows] = 4;
    eb.counts.v[FL_C_http_5xx] = 2;
    eb.clients = cb;
    eb.nclients = 2;
    fl_redis_put_bucket(a, &ea, 1);
    fl_redis_put_bucket(b, &eb, 1);
    ck_assert(fl_redis_flush(a, FLUSH_MS));
    ck_assert(fl_redis_flush(b, FLUSH_MS));

    redisContext *c = tconn(&s);
    const char *cnt = "fl:cnt:Fastly:1700000020";
    ck_assert_int_eq(cmd_int(c, "HLEN %s", cnt), 3);
    ck_assert_int_eq(hget(c, cnt, "flows"), 7);
    ck_assert_int_eq(hget(c, cnt, "tcp_refused"), 1);
    ck_assert_int_eq(hget(c, cnt, "http_5xx"), 2);
    const char *sa = "fl:scnt:sensor-a:Fastly:1700000020";
    ck_assert_int_eq(cmd_int(c, "HLEN %s", sa), 2);
    ck_assert_int_eq(hget(c, sa, "flows"), 3);
    ck_assert_int_eq(hget(c, sa, "tcp_refused"), 1);
    const char *sb = "fl:scnt:sensor-b:Fastly:1700000020";
    ck_assert_int_eq(cmd_int(c, "HLEN %s", sb), 2);
    ck_assert_int_eq(hget(c, sb, "flows"), 4);
    ck_assert_int_eq(hget(c, sb, "http_5xx"), 2);
    /* The union of {1,2} and {2,3}. */
    ck_assert_int_eq(cmd_int(c, "PFCOUNT %s", "fl:cli:Fastly:1700000020"), 3);

    redisFree(c);
    fl_redis_free(a);
    fl_redis_free(b);
    fl_redis_server_cleanup(&s);
}
END_TEST

/* ------------------------------------------------------- exactly once */

/* Capture the EVALSHA the writer sent (MONITOR) and send it again by hand:
 * the script must answer 0 and change nothing; the same call with another
 * batch id must apply again (so it is the id that is checked). */
START_TEST(test_same_id_twice)
{
    fl_redis_server s;
    ck_assert(fl_redis_server_init(&s));
    ck_assert(fl_redis_server_start(&s));
    redisContext *mon = tconn(&s);
    char *ok = cmd_str(mon, "MONITOR%s", "");
    ck_assert_str_eq(ok, "OK");
    free(ok);

    fl_redis *r = open_sink(s.url, "s1", 0);
    fl_bucket_entry e = entry(1700000030, "Microsoft");
    e.counts.v[FL_C_dns_queries] = 9;
    e.counts.v[FL_C_dns_timeouts] = 4;
    fl_redis_put_bucket(r, &e, 1);
    ck_assert(fl_redis_flush(r, FLUSH_MS));

    sds *args = NULL;
    int argc = 0;
    for (int i = 0; i < 50 && !args; i++) {
        redisReply *rep = NULL;
        ck_assert_int_eq(redisGetReply(mon, (void **)&rep), REDIS_OK);
        ck_assert_int_eq(rep->type, REDIS_REPLY_STATUS);
        const char *p = strstr(rep->str, "] ");
        if (p && strstr(p, "\"EVALSHA\"") == p + 2)
            args = sdssplitargs(p + 2, &argc);
        freeReplyObject(rep);
    }
    ck_assert_ptr_nonnull(args);
    ck_assert_int_ge(argc, 4);
    ck_assert_str_eq(args[2], "4"); /* marker + cnt, scnt, cli */
    ck_assert(strncmp(args[3], "fl:batch:s1:", 12) == 0);

    size_t *lens = calloc((size_t)argc, sizeof *lens);
    for (int i = 0; i < argc; i++)
        lens[i] = sdslen(args[i]);
    redisContext *c = tconn(&s);
    redisReply *rep = redisCommandArgv(c, argc, (const char **)args, lens);
    ck_assert_int_eq(rep->type, REDIS_REPLY_INTEGER);
    ck_assert_int_eq(rep->integer, 0); /* duplicate */
    freeReplyObject(rep);
    ck_assert_int_eq(hget(c, "fl:cnt:Microsoft:1700000030", "dns_queries"), 9);
    ck_assert_int_eq(hget(c, "fl:cnt:Microsoft:1700000030", "dns_timeouts"), 4);
    ck_assert_int_eq(hget(c, "fl:scnt:s1:Microsoft:1700000030", "dns_timeouts"), 4);

    sdsfree(args[3]);
    args[3] = sdsnew("fl:batch:s1:another-id");
    lens[3] = sdslen(args[3]);
    rep = redisCommandArgv(c, argc, (const char **)args, lens);
    ck_assert_int_eq(rep->type, REDIS_REPLY_INTEGER);
    ck_assert_int_eq(rep->integer, 1);
    freeReplyObject(rep);
    ck_assert_int_eq(hget(c, "fl:cnt:Microsoft:1700000030", "dns_timeouts"), 8);

    free(lens);
    sdsfreesplitres(args, argc);
    redisFree(c);
    redisFree(mon);
    fl_redis_free(r);
    fl_redis_server_cleanup(&s);
}
END_TEST

/* The writer's own path: replies lost after the server applied the batches
 * -> reconnect, re-send the same ids, the server says duplicate. */
START_TEST(test_lost_reply_resent)
{
    fl_redis_server s;
    ck_assert(fl_redis_server_init(&s));
    ck_assert(fl_redis_server_start(&s));
    fl_redis *r = open_sink(s.url, "s1", 0);
    fl_redis_test_lose_replies(r, 1);

    fl_bucket_entry e[2] = { entry(1700000040, "Apple"), entry(1700000040, "Meta") };
    e[0].counts.v[FL_C_tls_handshakes] = 6;
    e[0].counts.v[FL_C_tls_failures] = 5;
    e[1].counts.v[FL_C_tcp_resets] = 2;
    fl_redis_put_bucket(r, e, 2);
    ck_assert(fl_redis_flush(r, FLUSH_MS));

    fl_redis_stats st;
    fl_redis_get_stats(r, &st);
    ck_assert_uint_eq(st.batches_queued, 1);
    ck_assert_uint_eq(st.batches_applied, 0);
    ck_assert_uint_eq(st.batches_duplicate, 1);
    ck_assert_uint_eq(st.reconnects, 1);
    /* 2 SCRIPT LOAD + EVALSHA (reply lost), again after reconnecting. */
    ck_assert_uint_eq(st.commands, 6);

    redisContext *c = tconn(&s);
    ck_assert_int_eq(hget(c, "fl:cnt:Apple:1700000040", "tls_failures"), 5);
    ck_assert_int_eq(hget(c, "fl:cnt:Apple:1700000040", "tls_handshakes"), 6);
    ck_assert_int_eq(hget(c, "fl:cnt:Meta:1700000040", "tcp_resets"), 2);
    redisFree(c);
    fl_redis_free(r);
    fl_redis_server_cleanup(&s);
}
END_TEST

/* ------------------------------------------------- Redis going away */

START_TEST(test_down_at_start)
{
    fl_redis_server s;
    ck_assert(fl_redis_server_init(&s));
    fl_redis *r = open_sink(s.url, "s1", 0);

    for (int i = 0; i < 5; i++) {
        fl_bucket_entry e = entry(1700000100 + 10 * (uint64_t)i, "Oracle");
        e.counts.v[FL_C_flows] = (uint64_t)i + 1;
        e.counts.v[FL_C_tcp_syn_timeouts] = 10 * (uint64_t)i + 1;
        fl_redis_put_bucket(r, &e, 1);
    }
    ck_assert(!fl_redis_flush(r, 300));
    fl_redis_stats st;
    fl_redis_get_stats(r, &st);
    ck_assert_uint_eq(st.batches_held, 5);
    ck_assert_uint_eq(st.batches_applied, 0);
    ck_assert(st.bytes_held > 0);
    ck_assert(!st.connected);
    char err[256];
    ck_assert(fl_redis_last_error(r, err, sizeof err));

    ck_assert(fl_redis_server_start(&s));
    ck_assert(fl_redis_flush(r, FLUSH_MS));
    fl_redis_get_stats(r, &st);
    ck_assert_uint_eq(st.batches_held, 0);
    ck_assert_uint_eq(st.bytes_held, 0);
    ck_assert_uint_eq(st.batches_applied, 5);
    ck_assert_uint_eq(st.batches_dropped, 0);
    ck_assert_uint_eq(st.reconnects, 0); /* the first connection */
    ck_assert(st.connected);

    redisContext *c = tconn(&s);
    for (int i = 0; i < 5; i++) {
        char key[64];
        snprintf(key, sizeof key, "fl:cnt:Oracle:%d", 1700000100 + 10 * i);
        ck_assert_int_eq(hget(c, key, "flows"), i + 1);
        ck_assert_int_eq(hget(c, key, "tcp_syn_timeouts"), 10 * i + 1);
    }
    redisFree(c);
    fl_redis_free(r);
    fl_redis_server_cleanup(&s);
}
END_TEST

/* Deterministic pseudo-random counts (LCG from Numerical Recipes). */
static uint32_t lcg(uint32_t *x)
{
    *x = *x * 1664525u + 1013904223u;
    return *x >> 16;
}

static void put_random(fl_redis *r, uint32_t *seed, int i, uint64_t total[FL_C_COUNT])
{
    static const char *const prov[] = { "Cloudflare", "AWS", "Google" };
    fl_bucket_entry e[3];
    for (int p = 0; p < 3; p++) {
        e[p] = entry(1700001000 + 10 * (uint64_t)(i % 40), prov[p]);
        for (int k = 0; k < FL_C_COUNT; k++) {
            uint32_t v = lcg(seed) % 5 == 0 ? lcg(seed) % 1000 : 0;
            e[p].counts.v[k] = v;
            total[k] += v;
        }
        e[p].counts.v[FL_C_flows] += 1; /* never an empty entry */
        total[FL_C_flows] += 1;
    }
    fl_redis_put_bucket(r, e, 3);
}

/* Sum of every field of every fl:cnt:* hash, per counter. */
static void sum_cnt(redisContext *c, uint64_t sum[FL_C_COUNT])
{
    memset(sum, 0, FL_C_COUNT * sizeof sum[0]);
    redisReply *keys = redisCommand(c, "KEYS fl:cnt:*");
    ck_assert_int_eq(keys->type, REDIS_REPLY_ARRAY);
    for (size_t i = 0; i < keys->elements; i++) {
        redisReply *h = redisCommand(c, "HGETALL %s", keys->element[i]->str);
        ck_assert_int_eq(h->type, REDIS_REPLY_ARRAY);
        for (size_t j = 0; j + 1 < h->elements; j += 2) {
            fl_counter k = fl_counter_from_name(h->element[j]->str);
            ck_assert_msg(k != FL_C_COUNT, "unknown field %s", h->element[j]->str);
            sum[k] += strtoull(h->element[j + 1]->str, NULL, 10);
        }
        freeReplyObject(h);
    }
    freeReplyObject(keys);
}

START_TEST(test_killed_midstream)
{
    fl_redis_server s;
    ck_assert(fl_redis_server_init(&s));
    ck_assert(fl_redis_server_start(&s));
    fl_redis *r = open_sink(s.url, "s1", 0);
    uint64_t total[FL_C_COUNT] = { 0 };
    uint32_t seed = 12345;
    const int N = 400;

    for (int i = 0; i < N / 2; i++)
        put_random(r, &seed, i, total);
    /* Kill only once the writer is connected and has delivered something:
     * on a loaded machine it may not have connected yet, and then there
     * is no connection to lose (no reconnect to count). */
    fl_redis_stats st0;
    for (int t = 0; t < 1000; t++) {
        fl_redis_get_stats(r, &st0);
        if (st0.batches_applied > 0)
            break;
        sleep_ms(10);
    }
    ck_assert_uint_gt(st0.batches_applied, 0);
    ck_assert(fl_redis_server_kill(&s)); /* SIGKILL, mid-stream */
    for (int i = N / 2; i < N; i++)
        put_random(r, &seed, i, total);
    sleep_ms(200);
    ck_assert(fl_redis_server_start(&s)); /* same dir: replays the AOF */
    ck_assert(fl_redis_flush(r, 60000));

    fl_redis_stats st;
    fl_redis_get_stats(r, &st);
    ck_assert_uint_eq(st.batches_queued, (uint64_t)N);
    ck_assert_uint_eq(st.batches_dropped, 0);
    ck_assert_uint_eq(st.batches_applied + st.batches_duplicate, (uint64_t)N);
    ck_assert_uint_ge(st.reconnects, 1);

    redisContext *c = tconn(&s);
    uint64_t sum[FL_C_COUNT];
    sum_cnt(c, sum);
    for (int k = 0; k < FL_C_COUNT; k++)
        ck_assert_msg(sum[k] == total[k], "%s: redis %llu, put %llu",
                      fl_counter_name((fl_counter)k), (unsigned long long)sum[k],
                      (unsigned long long)total[k]);
    ck_assert(total[FL_C_flows] >= (uint64_t)(3 * N));

    /* Restart once more, cleanly: still the same totals (AOF). */
    redisFree(c);
    ck_assert(fl_redis_server_stop(&s));
    ck_assert(fl_redis_server_start(&s));
    c = tconn(&s);
    sum_cnt(c, sum);
    for (int k = 0; k < FL_C_COUNT; k++)
        ck_assert_uint_eq(sum[k], total[k]);

    redisFree(c);
    fl_redis_free(r);
    fl_redis_server_cleanup(&s);
}
END_TEST

START_TEST(test_backlog_budget)
{
    fl_redis_server s;
    ck_assert(fl_redis_server_init(&s));

    /* The size of one batch of this shape, measured on a probe. */
    fl_redis *probe = open_sink(s.url, "s1", 0);
    fl_bucket_entry e = entry(1700002000, "Alibaba");
    e.counts.v[FL_C_dns_refused] = 100; /* same digit count as below */
    fl_redis_put_bucket(probe, &e, 1);
    fl_redis_stats st;
    fl_redis_get_stats(probe, &st);
    uint64_t one = st.bytes_held;
    ck_assert(one > 0);
    fl_redis_free(probe);

    fl_redis *r = open_sink(s.url, "s1", 3 * one + one / 2);
    for (int i = 0; i < 10; i++) {
        e = entry(1700002000 + 10 * (uint64_t)i, "Alibaba");
        e.counts.v[FL_C_dns_refused] = 100 + (uint64_t)i;
        fl_redis_put_bucket(r, &e, 1);
    }
    fl_redis_get_stats(r, &st);
    ck_assert_uint_eq(st.batches_queued, 10);
    ck_assert_uint_eq(st.batches_held, 3);
    ck_assert_uint_eq(st.batches_dropped, 7);
    ck_assert_uint_eq(st.bytes_held, 3 * one);

    ck_assert(fl_redis_server_start(&s));
    ck_assert(fl_redis_flush(r, FLUSH_MS));
    fl_redis_get_stats(r, &st);
    ck_assert_uint_eq(st.batches_applied, 3);
    ck_assert_uint_eq(st.batches_dropped, 7);

    /* The oldest went: only the last three buckets are there. */
    redisContext *c = tconn(&s);
    for (int i = 0; i < 10; i++) {
        char key[64];
        snprintf(key, sizeof key, "fl:cnt:Alibaba:%d", 1700002000 + 10 * i);
        ck_assert_int_eq(hget(c, key, "dns_refused"), i < 7 ? -1 : 100 + i);
    }
    redisFree(c);
    fl_redis_free(r);
    fl_redis_server_cleanup(&s);
}
END_TEST

/* ------------------------------------------------- alerts, heartbeat */

START_TEST(test_alert)
{
    fl_redis_server s;
    ck_assert(fl_redis_server_init(&s));
    ck_assert(fl_redis_server_start(&s));
    redisContext *sub = tconn(&s);
    redisReply *rep = redisCommand(sub, "SUBSCRIBE fl:alerts");
    ck_assert_int_eq(rep->type, REDIS_REPLY_ARRAY);
    freeReplyObject(rep);

    fl_redis *r = open_sink(s.url, "s1", 0);
    static const char json[] = "{\"provider\":\"Cloudflare\",\"state\":\"raised\"}";
    static const char *const fields[] = { "provider",  "Cloudflare", "state",
                                          "raised",    "signals",    "tcp_refused,http_5xx",
                                          "raised_at", "1700003000" };
    fl_redis_put_alert(r, "Cloudflare", "raised", json, fields, 8);
    ck_assert(fl_redis_flush(r, FLUSH_MS));

    ck_assert_int_eq(redisGetReply(sub, (void **)&rep), REDIS_OK);
    ck_assert_int_eq(rep->type, REDIS_REPLY_ARRAY);
    ck_assert_uint_eq(rep->elements, 3);
    ck_assert_str_eq(rep->element[0]->str, "message");
    ck_assert_str_eq(rep->element[1]->str, "fl:alerts");
    ck_assert_str_eq(rep->element[2]->str, json);
    freeReplyObject(rep);

    redisContext *c = tconn(&s);
    rep = redisCommand(c, "XRANGE fl:alerts - +");
    ck_assert_int_eq(rep->type, REDIS_REPLY_ARRAY);
    ck_assert_uint_eq(rep->elements, 1);
    redisReply *kv = rep->element[0]->element[1];
    ck_assert_uint_eq(kv->elements, 8);
    for (size_t i = 0; i < 8; i++)
        ck_assert_str_eq(kv->element[i]->str, fields[i]);
    freeReplyObject(rep);
    char *state = cmd_str(c, "HGET fl:state:s1 %s", "Cloudflare");
    ck_assert_str_eq(state, "raised");
    free(state);

    /* Resolved: a second entry, the state follows; no fields given gives
     * provider and state. */
    fl_redis_put_alert(r, "Cloudflare", "resolved", "{\"state\":\"resolved\"}", NULL, 0);
    ck_assert(fl_redis_flush(r, FLUSH_MS));
    ck_assert_int_eq(redisGetReply(sub, (void **)&rep), REDIS_OK);
    ck_assert_str_eq(rep->element[2]->str, "{\"state\":\"resolved\"}");
    freeReplyObject(rep);
    ck_assert_int_eq(cmd_int(c, "XLEN %s", "fl:alerts"), 2);
    rep = redisCommand(c, "XREVRANGE fl:alerts + - COUNT 1");
    kv = rep->element[0]->element[1];
    ck_assert_uint_eq(kv->elements, 4);
    ck_assert_str_eq(kv->element[0]->str, "provider");
    ck_assert_str_eq(kv->element[1]->str, "Cloudflare");
    ck_assert_str_eq(kv->element[2]->str, "state");
    ck_assert_str_eq(kv->element[3]->str, "resolved");
    freeReplyObject(rep);
    state = cmd_str(c, "HGET fl:state:s1 %s", "Cloudflare");
    ck_assert_str_eq(state, "resolved");
    free(state);

    fl_redis_stats st;
    fl_redis_get_stats(r, &st);
    ck_assert_uint_eq(st.batches_applied, 2);

    redisFree(c);
    redisFree(sub);
    fl_redis_free(r);
    fl_redis_server_cleanup(&s);
}
END_TEST

START_TEST(test_heartbeat)
{
    fl_redis_server s;
    ck_assert(fl_redis_server_init(&s));
    fl_redis *r = open_sink(s.url, "s1", 0);
    fl_heartbeat hb = { .version = "0.0.9", .packets = 10, .drops = 1, .last_packet_ts = 1 };
    fl_redis_put_heartbeat(r, &hb);
    hb = (fl_heartbeat){
        .version = "0.1.0", .packets = 20, .drops = 3, .last_packet_ts = 1700000123
    };
    fl_redis_put_heartbeat(r, &hb); /* replaces the unsent one */
    ck_assert(!fl_redis_flush(r, 200));

    ck_assert(fl_redis_server_start(&s));
    ck_assert(fl_redis_flush(r, FLUSH_MS));
    fl_redis_stats st;
    fl_redis_get_stats(r, &st);
    /* 2 SCRIPT LOAD, then one HSET + EXPIRE: the older heartbeat never went. */
    ck_assert_uint_eq(st.commands, 4);

    redisContext *c = tconn(&s);
    const char *k = "fl:sensor:s1";
    ck_assert_int_eq(cmd_int(c, "HLEN %s", k), 8);
    char *v = cmd_str(c, "HGET %s version", k);
    ck_assert_str_eq(v, "0.1.0");
    free(v);
    ck_assert_int_eq(hget(c, k, "packets"), 20);
    ck_assert_int_eq(hget(c, k, "drops"), 3);
    ck_assert_int_eq(hget(c, k, "last_seen"), 1700000123);
    ck_assert_int_eq(hget(c, k, "held"), 0);
    ck_assert_int_eq(hget(c, k, "dropped"), 0);
    ck_assert_int_eq(hget(c, k, "connected"), 1);
    /* wall clock of the heartbeat: 'status' judges staleness by it */
    long long wall = hget(c, k, "wall");
    ck_assert(wall > 1700000000 && wall <= (long long)time(NULL));
    long long ttl = cmd_int(c, "TTL %s", k);
    ck_assert(ttl > 0 && ttl <= 3600);

    redisFree(c);
    fl_redis_free(r);
    fl_redis_server_cleanup(&s);
}
END_TEST

static Suite *redis_suite(void)
{
    Suite *s = suite_create("redis");
    TCase *tc = tcase_create("url");
    tcase_add_test(tc, test_url_good);
    tcase_add_test(tc, test_url_bad);
    suite_add_tcase(s, tc);

    tc = tcase_create("server");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_bucket_contract);
    tcase_add_test(tc, test_auth_db);
    tcase_add_test(tc, test_two_sensors);
    tcase_add_test(tc, test_same_id_twice);
    tcase_add_test(tc, test_lost_reply_resent);
    tcase_add_test(tc, test_down_at_start);
    tcase_add_test(tc, test_killed_midstream);
    tcase_add_test(tc, test_backlog_budget);
    tcase_add_test(tc, test_alert);
    tcase_add_test(tc, test_heartbeat);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return fl_test_run(redis_suite());
}
