/* redis_url.c - Redis URLs: redis://[:password@]host[:port][/db] and
 * unix:///path/redis.sock[?db=N][&password=X], percent-decoded
 * (RFC 3986 2.1). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#include "redis_int.h"

/* ---------------------------------------------------------------- URLs */

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* RFC 3986 section 2.1 percent-decoding of s[0..n) into out; false on a bad
 * escape, an embedded NUL or if it does not fit. */
static bool pct_decode(const char *s, size_t n, char *out, size_t outlen)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        if (ch == '%') {
            if (i + 2 >= n)
                return false;
            int hi = hexval(s[i + 1]), lo = hexval(s[i + 2]);
            if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
                return false;
            ch = (char)(hi * 16 + lo);
            i += 2;
        }
        if (o + 1 >= outlen)
            return false;
        out[o++] = ch;
    }
    out[o] = '\0';
    return true;
}

/* A database number: decimal digits only, at most 9 of them. */
static bool parse_db(const char *s, size_t n, int *db)
{
    if (n == 0 || n > 9)
        return false;
    int v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (s[i] - '0');
    }
    *db = v;
    return true;
}

static bool host_char(char c, bool bracketed)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return true;
    if (c == '.' || c == '-' || c == '_')
        return true;
    return bracketed && (c == ':' || c == '%');
}

/* [user:]password@ in front of the host (RFC 3986 3.2.1): the password
 * into out; returns where the host starts, NULL with err if bad. The user
 * name is ignored: hiredis 0.14 knows only AUTH <password>. Like redis-cli,
 * userinfo without ':' is taken as the password. */
static const char *parse_userinfo(const char *auth, const char *end, fl_redis_url *out, char *err,
                                  size_t errlen)
{
    const char *at = NULL;
    for (const char *p = auth; p < end; p++)
        if (*p == '@')
            at = p;
    if (!at)
        return auth;
    const char *colon = memchr(auth, ':', (size_t)(at - auth));
    const char *pw = colon ? colon + 1 : auth;
    if (!pct_decode(pw, (size_t)(at - pw), out->password, sizeof out->password)) {
        fl_redis_set_err(err, errlen, "bad Redis URL: password has a bad %%-escape or is too long");
        return NULL;
    }
    return at + 1;
}

/* host or [IPv6] (RFC 3986 3.2.2), then :port, up to end. */
static bool parse_hostport(const char *host, const char *end, fl_redis_url *out, char *err,
                           size_t errlen)
{
    const char *hend, *after;
    if (host < end && *host == '[') {
        const char *rb = memchr(host, ']', (size_t)(end - host));
        if (!rb) {
            fl_redis_set_err(err, errlen, "bad Redis URL: '[' without ']' around an IPv6 address");
            return false;
        }
        hend = rb;
        after = rb + 1;
        host++;
    } else {
        const char *colon = memchr(host, ':', (size_t)(end - host));
        hend = colon ? colon : end;
        after = hend;
        if (colon && memchr(colon + 1, ':', (size_t)(end - colon - 1))) {
            fl_redis_set_err(err, errlen,
                             "bad Redis URL: an IPv6 address needs brackets, "
                             "redis://[::1]:6379");
            return false;
        }
    }
    size_t hlen = (size_t)(hend - host);
    if (hlen == 0) {
        fl_redis_set_err(err, errlen, "bad Redis URL: no host (redis://host[:port][/db])");
        return false;
    }
    if (hlen >= sizeof out->host) {
        fl_redis_set_err(err, errlen, "bad Redis URL: host name too long");
        return false;
    }
    bool bracketed = after != hend;
    for (size_t i = 0; i < hlen; i++) {
        if (!host_char(host[i], bracketed)) {
            fl_redis_set_err(err, errlen, "bad Redis URL: bad character in the host");
            return false;
        }
    }
    memcpy(out->host, host, hlen);
    out->host[hlen] = '\0';
    out->port = 6379;
    if (after < end) {
        if (*after != ':') {
            fl_redis_set_err(err, errlen, "bad Redis URL: junk after the host");
            return false;
        }
        int port = 0;
        size_t plen = (size_t)(end - after - 1);
        if (!parse_db(after + 1, plen, &port) || port < 1 || port > 65535) {
            fl_redis_set_err(err, errlen, "bad Redis URL: port must be a number 1-65535");
            return false;
        }
        out->port = port;
    }
    return true;
}

/* redis://[[user]:password@]host[:port][/db] (the IANA "redis" scheme). */
static bool parse_tcp(const char *s, fl_redis_url *out, char *err, size_t errlen)
{
    size_t alen = strcspn(s, "/?#");
    const char *end = s + alen;
    const char *host = parse_userinfo(s, end, out, err, errlen);
    if (!host || !parse_hostport(host, end, out, err, errlen))
        return false;
    const char *rest = end;
    if (*rest == '/') {
        size_t dlen = strlen(rest + 1);
        if (dlen > 0 && !parse_db(rest + 1, dlen, &out->db)) {
            fl_redis_set_err(err, errlen,
                             "bad Redis URL: the path must be a database number, "
                             "redis://host:6379/0");
            return false;
        }
    } else if (*rest) {
        fl_redis_set_err(err, errlen,
                         "bad Redis URL: query and fragment are not supported in "
                         "redis:// (use /db)");
        return false;
    }
    return true;
}

/* unix:///path/redis.sock[?db=N][&password=X] */
static bool parse_unix(const char *s, fl_redis_url *out, char *err, size_t errlen)
{
    if (*s != '/') {
        fl_redis_set_err(err, errlen,
                         "bad Redis URL: the socket path must be absolute, "
                         "unix:///path/redis.sock");
        return false;
    }
    size_t plen = strcspn(s, "?");
    struct sockaddr_un sa;
    if (!pct_decode(s, plen, out->path, sizeof out->path) ||
        strlen(out->path) >= sizeof sa.sun_path) {
        fl_redis_set_err(err, errlen,
                         "bad Redis URL: socket path too long (max %zu bytes) or "
                         "bad %%-escape",
                         sizeof sa.sun_path - 1);
        return false;
    }
    if (strlen(out->path) < 2) {
        fl_redis_set_err(err, errlen, "bad Redis URL: no socket path");
        return false;
    }
    const char *q = s + plen;
    if (*q == '?')
        q++;
    while (*q) {
        size_t len = strcspn(q, "&");
        const char *eq = memchr(q, '=', len);
        size_t klen = eq ? (size_t)(eq - q) : len;
        const char *v = eq ? eq + 1 : q + len;
        size_t vlen = eq ? len - klen - 1 : 0;
        if (klen == 2 && memcmp(q, "db", 2) == 0) {
            if (!parse_db(v, vlen, &out->db)) {
                fl_redis_set_err(err, errlen, "bad Redis URL: db must be a number");
                return false;
            }
        } else if (klen == 8 && memcmp(q, "password", 8) == 0) {
            if (!pct_decode(v, vlen, out->password, sizeof out->password)) {
                fl_redis_set_err(err, errlen,
                                 "bad Redis URL: password has a bad %%-escape or is too long");
                return false;
            }
        } else if (len > 0) {
            fl_redis_set_err(err, errlen, "bad Redis URL: unknown parameter '%.*s' (db, password)",
                             (int)(klen > 32 ? 32 : klen), q);
            return false;
        }
        q += len;
        if (*q == '&')
            q++;
    }
    return true;
}

bool fl_redis_parse_url(const char *url, fl_redis_url *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    if (!url || !*url) {
        fl_redis_set_err(err, errlen, "empty Redis URL");
        return false;
    }
    /* Schemes are case-insensitive (RFC 3986 section 3.1). */
    if (strncasecmp(url, "redis://", 8) == 0)
        return parse_tcp(url + 8, out, err, errlen);
    if (strncasecmp(url, "unix://", 7) == 0)
        return parse_unix(url + 7, out, err, errlen);
    if (strncasecmp(url, "rediss://", 9) == 0) {
        fl_redis_set_err(err, errlen,
                         "rediss:// (TLS) is not supported with hiredis 0.14: "
                         "use a unix socket or a local TLS tunnel");
        return false;
    }
    fl_redis_set_err(err, errlen,
                     "bad Redis URL: expected redis://[:password@]host[:port][/db] "
                     "or unix:///path/redis.sock[?db=N][&password=X]");
    return false;
}
