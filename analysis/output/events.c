/* events.c - see fl_events.h. Hand-formatted JSON (the fields are known;
 * strings are escaped per RFC 8259 section 7): a failure line costs one
 * snprintf, not an object tree. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fl_events.h"

struct fl_events {
    FILE *f;
    bool is_stdout;
    bool write_error;
    int saved_errno;
    uint64_t lines;
    uint64_t per_signal[FL_C_COUNT];
};

/* Appends s as a JSON string (quotes included) to buf at *n, within cap;
 * *n grows by what it would need even past cap (snprintf's contract). */
static void put_str(char *buf, size_t cap, size_t *n, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    char tmp[8];
    const unsigned char *p = (const unsigned char *)(s ? s : "");

#define PUT(c)                                                                                     \
    do {                                                                                           \
        if (*n + 1 < cap)                                                                          \
            buf[*n] = (char)(c);                                                                   \
        (*n)++;                                                                                    \
    } while (0)
    PUT('"');
    for (; *p; p++) {
        const char *esc = NULL;
        switch (*p) {
        case '"':
            esc = "\\\"";
            break;
        case '\\':
            esc = "\\\\";
            break;
        case '\n':
            esc = "\\n";
            break;
        case '\r':
            esc = "\\r";
            break;
        case '\t':
            esc = "\\t";
            break;
        default:
            /* Control bytes and DEL as \u00XX; bytes >= 0x80 too: names
             * from the wire are not known to be UTF-8, and JSON must be. */
            if (*p < 0x20 || *p >= 0x7f) {
                tmp[0] = '\\';
                tmp[1] = 'u';
                tmp[2] = '0';
                tmp[3] = '0';
                tmp[4] = hex[*p >> 4];
                tmp[5] = hex[*p & 15];
                tmp[6] = '\0';
                esc = tmp;
            }
        }
        if (esc)
            for (; *esc; esc++)
                PUT(*esc);
        else
            PUT(*p);
    }
    PUT('"');
#undef PUT
    if (cap)
        buf[*n < cap ? *n : cap - 1] = '\0';
}

static void put_fmt(char *buf, size_t cap, size_t *n, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void put_fmt(char *buf, size_t cap, size_t *n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int w = vsnprintf(*n < cap ? buf + *n : NULL, *n < cap ? cap - *n : 0, fmt, ap);
    va_end(ap);
    if (w > 0)
        *n += (size_t)w;
}

static void iso_time(uint64_t ts_us, char *out, size_t len)
{
    time_t t = (time_t)(ts_us / 1000000);
    struct tm tm;
    char base[32] = "1970-01-01T00:00:00";
    if (gmtime_r(&t, &tm))
        strftime(base, sizeof base, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out, len, "%s.%03uZ", base, (unsigned)(ts_us % 1000000 / 1000));
}

size_t fl_events_format_failure(const fl_failure_event *f, char *buf, size_t cap)
{
    char t[48], a[64];
    size_t n = 0;

    if (cap)
        buf[0] = '\0';
    iso_time(f->ts_us, t, sizeof t);
    put_fmt(buf, cap, &n,
            "{\"type\":\"failure\",\"time\":\"%s\",\"ts\":%" PRIu64 ".%06" PRIu64
            ",\"signal\":\"%s\",\"provider\":",
            t, f->ts_us / 1000000, f->ts_us % 1000000, fl_counter_name(f->signal));
    put_str(buf, cap, &n, f->provider ? f->provider : "unknown");
    put_fmt(buf, cap, &n, ",\"service\":");
    if (f->service && *f->service)
        put_str(buf, cap, &n, f->service);
    else
        put_fmt(buf, cap, &n, "null");
    put_fmt(buf, cap, &n, ",\"client\":\"%s\",\"client_port\":%u",
            f->client_text ? f->client_text
            : f->client    ? fl_addr_str(f->client, a, sizeof a)
                           : "",
            f->client_port);
    put_fmt(buf, cap, &n, ",\"server\":\"%s\",\"server_port\":%u",
            f->server ? fl_addr_str(f->server, a, sizeof a) : "", f->server_port);
    put_fmt(buf, cap, &n, ",\"protocol\":\"%s\",\"reason\":",
            f->ip_proto == 6    ? "tcp"
            : f->ip_proto == 17 ? "udp"
                                : "other");
    put_str(buf, cap, &n, f->reason ? f->reason : "");
    if (f->alert_id)
        put_fmt(buf, cap, &n, ",\"alert_id\":%" PRIu32, f->alert_id);
    else
        put_fmt(buf, cap, &n, ",\"alert_id\":null");
    if (f->sensor) {
        put_fmt(buf, cap, &n, ",\"sensor\":");
        put_str(buf, cap, &n, f->sensor);
    }
    put_fmt(buf, cap, &n, "}");
    return n;
}

fl_events *fl_events_open(const char *path, char *err, size_t errlen)
{
    fl_events *ev = calloc(1, sizeof *ev);
    if (!ev) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    if (!path || strcmp(path, "-") == 0) {
        ev->f = stdout;
        ev->is_stdout = true;
    } else if (!(ev->f = fopen(path, "w"))) {
        snprintf(err, errlen, "--events %s: %s", path, strerror(errno));
        free(ev);
        return NULL;
    }
    return ev;
}

static void line(fl_events *ev, const char *s, size_t n)
{
    if (fwrite(s, 1, n, ev->f) != n || fputc('\n', ev->f) == EOF) {
        if (!ev->write_error)
            ev->saved_errno = errno;
        ev->write_error = true;
    }
    ev->lines++;
}

void fl_events_failure(fl_events *ev, const fl_failure_event *f)
{
    char buf[1024];
    if (!ev || !f)
        return;
    size_t n = fl_events_format_failure(f, buf, sizeof buf);
    if (n >= sizeof buf) {
        char *big = malloc(n + 1);
        if (!big)
            return;
        fl_events_format_failure(f, big, n + 1);
        line(ev, big, n);
        free(big);
    } else {
        line(ev, buf, n);
    }
    if ((int)f->signal >= 0 && f->signal < FL_C_COUNT)
        ev->per_signal[f->signal]++;
}

void fl_events_alert(fl_events *ev, double ts, bool resolved, const char *sensor,
                     const char *alert_json)
{
    char head[256], t[48];
    size_t n = 0;
    if (!ev)
        return;
    iso_time(ts > 0 ? (uint64_t)(ts * 1e6) : 0, t, sizeof t);
    put_fmt(head, sizeof head, &n, "{\"type\":\"alert\",\"event\":\"%s\",\"time\":\"%s\"",
            resolved ? "resolved" : "raised", t);
    if (sensor) {
        put_fmt(head, sizeof head, &n, ",\"sensor\":");
        put_str(head, sizeof head, &n, sensor);
    }
    if (n >= sizeof head)
        return; /* a sensor name this long was refused by the config */
    if (fprintf(ev->f, "%s,\"alert\":%s}\n", head, alert_json ? alert_json : "null") < 0) {
        if (!ev->write_error)
            ev->saved_errno = errno;
        ev->write_error = true;
    }
    ev->lines++;
}

void fl_events_flush(fl_events *ev)
{
    if (ev && fflush(ev->f) != 0 && !ev->write_error) {
        ev->saved_errno = errno;
        ev->write_error = true;
    }
}

uint64_t fl_events_count(const fl_events *ev, fl_counter signal)
{
    return ev && (int)signal >= 0 && signal < FL_C_COUNT ? ev->per_signal[signal] : 0;
}

uint64_t fl_events_lines(const fl_events *ev)
{
    return ev ? ev->lines : 0;
}

bool fl_events_close(fl_events *ev, char *err, size_t errlen)
{
    bool ok;
    if (!ev)
        return true;
    fl_events_flush(ev);
    if (!ev->is_stdout && fclose(ev->f) != 0 && !ev->write_error) {
        ev->saved_errno = errno;
        ev->write_error = true;
    }
    ok = !ev->write_error;
    if (!ok)
        snprintf(err, errlen, "--events: write failed: %s", strerror(ev->saved_errno));
    free(ev);
    return ok;
}
