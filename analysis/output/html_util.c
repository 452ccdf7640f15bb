/* html_util.c - the HTML report's escaping, number and time formats and
 * family colours. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "html_int.h"

const fam_def fl_html_fams[FL_HTML_NFAMS] = {
    { FL_FAM_CONNECT, "connect", "connection failures", "#7c3aed" },
    { FL_FAM_TLS, "TLS", "TLS handshake failures", "#0891b2" },
    { FL_FAM_DNS, "DNS", "DNS failures", "#d97706" },
    { FL_FAM_HTTP, "HTTP 5xx", "HTTP 5xx", "#e11d48" },
    { FL_FAM_DNS_NODATA, "DNS no data", "empty DNS answers", "#65a30d" },
};

const fam_def *fl_html_fam_find(unsigned f)
{
    for (size_t i = 0; i < FL_HTML_NFAMS; i++)
        if ((unsigned)fl_html_fams[i].fam == f)
            return &fl_html_fams[i];
    return NULL;
}

/* Length of one valid UTF-8 sequence at p (RFC 3629, section 4), 0 if
 * invalid. The string is NUL-terminated and NUL is no continuation byte, so
 * this never reads past the terminator. */
static size_t utf8_len(const unsigned char *p)
{
    unsigned char c = p[0];
    unsigned char lo = 0x80, hi = 0xbf;
    size_t n;
    if (c >= 0xc2 && c <= 0xdf)
        n = 2;
    else if (c >= 0xe0 && c <= 0xef) {
        n = 3;
        if (c == 0xe0)
            lo = 0xa0;          /* overlong */
        else if (c == 0xed)
            hi = 0x9f;          /* surrogates */
    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 4;
        if (c == 0xf0)
            lo = 0x90;
        else if (c == 0xf4)
            hi = 0x8f;          /* above U+10FFFF */
    } else
        return 0;
    if (p[1] < lo || p[1] > hi)
        return 0;
    for (size_t i = 2; i < n; i++)
        if (p[i] < 0x80 || p[i] > 0xbf)
            return 0;
    return n;
}

/* Text content or a quoted attribute value. */
void fl_html_esc(FILE *o, const char *s)
{
    const unsigned char *p = (const unsigned char *)(s ? s : "");
    while (*p) {
        unsigned char c = *p;
        size_t n;
        switch (c) {
        case '&': fputs("&amp;", o); p++; continue;
        case '<': fputs("&lt;", o); p++; continue;
        case '>': fputs("&gt;", o); p++; continue;
        case '"': fputs("&quot;", o); p++; continue;
        case '\'': fputs("&#39;", o); p++; continue;
        default: break;
        }
        if (c < 0x20 || c == 0x7f) {
            fputs("&#xFFFD;", o);
            p++;
        } else if (c < 0x80) {
            fputc(c, o);
            p++;
        } else if ((n = utf8_len(p)) != 0) {
            fwrite(p, 1, n, o);
            p += n;
        } else {
            fputs("&#xFFFD;", o);
            p++;
        }
    }
}

void fl_html_fmt_time(char *b, size_t n, double t, bool date)
{
    time_t tt = (time_t)floor(t);
    struct tm tm;
    if (!gmtime_r(&tt, &tm)) {
        snprintf(b, n, "?");
        return;
    }
    if (date)
        strftime(b, n, "%Y-%m-%d %H:%M:%S", &tm);
    else
        strftime(b, n, "%H:%M:%S", &tm);
}

void fl_html_fmt_dur(char *b, size_t n, double s)
{
    long v = s > 0 ? lround(s) : 0;
    if (v < 60)
        snprintf(b, n, "%ld s", v);
    else if (v < 3600 && v % 60)
        snprintf(b, n, "%ld min %ld s", v / 60, v % 60);
    else if (v < 3600)
        snprintf(b, n, "%ld min", v / 60);
    else
        snprintf(b, n, "%ld h %02ld min", v / 3600, (v % 3600) / 60);
}

void fl_html_fmt_pct(char *b, size_t n, double r)
{
    double p = r * 100;
    if (p == 0)
        snprintf(b, n, "0%%");
    else if (p < 10)
        snprintf(b, n, "%.1f%%", p);
    else
        snprintf(b, n, "%.0f%%", p);
}

/* 1234567 -> "1,234,567" */
void fl_html_fmt_int(char *b, size_t n, uint64_t v)
{
    char tmp[32];
    int len = snprintf(tmp, sizeof tmp, "%llu", (unsigned long long)v);
    size_t j = 0;
    for (int i = 0; i < len && j + 2 < n; i++) {
        if (i && (len - i) % 3 == 0)
            b[j++] = ',';
        b[j++] = tmp[i];
    }
    b[j < n ? j : n - 1] = 0;
}

void fl_html_fmt_bytes(char *b, size_t n, uint64_t v)
{
    if (v < 1024)
        snprintf(b, n, "%llu B", (unsigned long long)v);
    else if (v < 1024 * 1024)
        snprintf(b, n, "%.1f KiB", (double)v / 1024);
    else if (v < 1024ull * 1024 * 1024)
        snprintf(b, n, "%.1f MiB", (double)v / (1024 * 1024));
    else
        snprintf(b, n, "%.2f GiB", (double)v / (1024.0 * 1024 * 1024));
}
