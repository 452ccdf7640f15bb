/* provider_rules.c - reader of the operator rules file (nDPI protocols-file
 * syntax). Strict: a line nDPI would print "Unknown rule" for (to stdout,
 * then skip) is an error here, so a typo cannot silently drop a rule. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fl_provider.h"
#include "provider_rules.h"

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n'))
        s[--n] = '\0';
    return s;
}

static bool parse_uint(const char *s, unsigned max, unsigned *out)
{
    unsigned v = 0;
    if (!*s)
        return false;
    for (; *s; s++) {
        if (!isdigit((unsigned char)*s))
            return false;
        v = v * 10 + (unsigned)(*s - '0');
        if (v > max)
            return false;
    }
    *out = v;
    return true;
}

/* Clears the bits of a beyond the prefix length. */
static void mask_addr(fl_addr *a, int bits)
{
    int total = a->family == 4 ? 32 : 128;
    for (int i = bits; i < total; i++)
        a->b[i / 8] &= (uint8_t) ~(0x80u >> (i % 8));
}

/* ip:<v4>[/bits][:port], ip:<v6>[/bits]. 4.2's loader takes the IPv4 forms;
 * an IPv6 value (two or more ':') has no port form. */
static const char *parse_ip(char *v, fl_rule *r)
{
    char buf[64];
    size_t vlen = strlen(v);
    if (vlen >= sizeof buf)
        return "address too long";
    memcpy(buf, v, vlen + 1);
    unsigned colons = 0;
    for (const char *c = buf; *c; c++)
        colons += *c == ':';
    char *slash = strchr(buf, '/');
    char *port = NULL;
    if (colons == 1) {
        port = strchr(buf, ':');
        *port++ = '\0';
    }
    if (slash)
        *slash++ = '\0';
    if (!fl_addr_parse(buf, &r->net))
        return "bad address in ip: rule";
    unsigned maxbits = r->net.family == 4 ? 32 : 128, bits = maxbits;
    if (slash && !parse_uint(slash, maxbits, &bits))
        return "bad prefix length in ip: rule";
    unsigned p;
    if (port && (!parse_uint(port, 65535, &p) || p == 0))
        return "bad port in ip: rule";
    r->bits = (int)bits;
    mask_addr(&r->net, r->bits);
    return NULL;
}

static const char *parse_host(char *v, fl_rule *r)
{
    size_t n = strlen(v);
    if (n >= 2 && v[0] == '"' && v[n - 1] == '"') {
        v[n - 1] = '\0';
        v++;
        n -= 2;
    } else if (n && (v[0] == '"' || v[n - 1] == '"')) {
        return "unbalanced quote in host: rule";
    }
    if (n == 0 || n > 253)
        return "bad length of host: rule";
    for (const char *c = v; *c; c++)
        if (!isalnum((unsigned char)*c) && *c != '.' && *c != '-' && *c != '_' && *c != '*')
            return "bad character in host: rule";
    r->value = v;
    return NULL;
}

static const char *parse_port(const char *v)
{
    char buf[16];
    unsigned lo, hi;
    size_t vlen = strlen(v);
    if (vlen >= sizeof buf)
        return "bad port in tcp:/udp: rule";
    memcpy(buf, v, vlen + 1);
    char *dash = strchr(buf, '-');
    if (dash)
        *dash++ = '\0';
    if (!parse_uint(buf, 65535, &lo) || (dash && (!parse_uint(dash, 65535, &hi) || hi < lo)))
        return "bad port in tcp:/udp: rule";
    return NULL;
}

/* One element of a rule line; returns an error reason or NULL. */
static const char *parse_elem(char *elem, fl_rule *r)
{
    r->elem = elem;
    r->value = elem;
    if (strncmp(elem, "ip:", 3) == 0) {
        r->kind = FL_RULE_IP;
        return parse_ip(elem + 3, r);
    }
    if (strncmp(elem, "host:", 5) == 0) {
        r->kind = FL_RULE_HOST;
        return parse_host(elem + 5, r);
    }
    if (strncmp(elem, "tcp:", 4) == 0 || strncmp(elem, "udp:", 4) == 0) {
        r->kind = FL_RULE_PORT;
        return parse_port(elem + 4);
    }
    return "unknown rule (expected ip:, host:, tcp: or udp:)";
}

static bool is_ndpi_line(const char *line)
{
    static const char *const kinds[] = { "ip_risk_mask:", "host_risk_mask:", "trusted_issuer_dn:" };
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
        if (strncmp(line, kinds[i], strlen(kinds[i])) == 0)
            return true;
    return false;
}

static bool fail(char *err, size_t errlen, const char *path, unsigned line, const char *why,
                 const char *what)
{
    snprintf(err, errlen, "%s:%u: %s: '%.60s'", path, line, why, what);
    return false;
}

/* One non-empty, non-comment line. The element strings handed to fn are
 * copies in elem_buf: the host value is unquoted in place. */
static bool parse_line(char *line, unsigned lineno, const char *path, fl_rule_fn fn, void *ctx,
                       char *err, size_t errlen)
{
    fl_rule r;
    memset(&r, 0, sizeof r);
    r.line = lineno;
    if (is_ndpi_line(line)) {
        r.kind = FL_RULE_NDPI_LINE;
        r.elem = r.value = line;
        r.name = "";
        return fn(ctx, &r, err, errlen);
    }
    char *at = strrchr(line, '@');
    if (!at)
        return fail(err, errlen, path, lineno, "expected <rule>[,<rule>...]@<Name>", line);
    *at = '\0';
    char *name = trim(at + 1);
    if (!fl_provider_name_valid(name))
        return fail(err, errlen, path, lineno, "bad name (1-48 letters, digits, '.', '_', '-')",
                    name);
    char *rest = line;
    for (;;) {
        char *comma = strchr(rest, ',');
        if (comma)
            *comma = '\0';
        char *elem = trim(rest);
        char copy[512];
        size_t elen = strlen(elem);
        if (elen >= sizeof copy)
            return fail(err, errlen, path, lineno, "rule too long", elem);
        memcpy(copy, elem, elen + 1);
        memset(&r, 0, sizeof r);
        r.line = lineno;
        r.name = name;
        const char *why = *elem ? parse_elem(copy, &r) : "empty rule";
        if (why)
            return fail(err, errlen, path, lineno, why, elem);
        r.elem = elem; /* as written, quotes included */
        if (!fn(ctx, &r, err, errlen))
            return false;
        if (!comma)
            break;
        rest = comma + 1;
    }
    return true;
}

bool fl_rules_read(const char *path, fl_rule_fn fn, void *ctx, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return false;
    }
    char *buf = NULL;
    size_t cap = 0;
    unsigned lineno = 0;
    bool ok = true;
    while (ok && getline(&buf, &cap, f) != -1) {
        lineno++;
        char *line = trim(buf);
        if (!*line || *line == '#')
            continue;
        ok = parse_line(line, lineno, path, fn, ctx, err, errlen);
    }
    if (ok && ferror(f)) {
        snprintf(err, errlen, "%s: read error", path);
        ok = false;
    }
    free(buf);
    fclose(f);
    return ok;
}
