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
    { FL_FAM_HTTPS, "HTTPS", "failing HTTPS responses", "#db2777" },
    { FL_FAM_QUIC, "QUIC", "QUIC handshake failures", "#2563eb" },
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
            lo = 0xa0; /* overlong */
        else if (c == 0xed)
            hi = 0x9f; /* surrogates */
    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 4;
        if (c == 0xf0)
            lo = 0x90;
        else if (c == 0xf4)
            hi = 0x8f; /* above U+10FFFF */
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
        case '&':
            fputs("&amp;", o);
            p++;
            continue;
        case '<':
            fputs("&lt;", o);
            p++;
            continue;
        case '>':
            fputs("&gt;", o);
            p++;
            continue;
        case '"':
            fputs("&quot;", o);
            p++;
            continue;
        case '\'':
            fputs("&#39;", o);
            p++;
            continue;
        default:
            break;
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

/* The page's style sheet, inline (the page loads nothing). */
const char fl_html_css[] =
    ":root{--ink:#1f2937;--mute:#6b7280;--line:#e5e7eb;--bg:#f8fafc;--card:#fff;"
    "--bad:#dc2626;--warn:#d97706;--ok:#16a34a}"
    "*{box-sizing:border-box}"
    "body{margin:0;background:var(--bg);color:var(--ink);"
    "font:14px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,'Helvetica Neue',Arial,sans-serif}"
    "main{max-width:1240px;margin:0 auto;padding:20px 24px 40px}"
    ".top{display:flex;justify-content:space-between;align-items:baseline;gap:16px;"
    "color:var(--mute);font-size:13px;margin-bottom:12px}"
    ".brand{font-weight:600;color:var(--ink);letter-spacing:.02em}"
    ".verdict{background:var(--card);border:1px solid var(--line);border-left:6px solid var(--ok);"
    "border-radius:8px;padding:16px 20px;margin-bottom:16px}"
    ".verdict.bad{border-left-color:var(--bad)}.verdict.local{border-left-color:var(--warn)}"
    ".kicker{text-transform:uppercase;font-size:12px;font-weight:700;letter-spacing:.06em;color:"
    "var(--ok)}"
    ".bad .kicker{color:var(--bad)}.local .kicker{color:var(--warn)}"
    ".verdict h1{font-size:22px;line-height:1.3;margin:4px 0 8px;font-weight:650}"
    ".verdict p{margin:4px 0;color:#374151}"
    ".verdict ul.also{margin:8px 0 0;padding-left:18px}.verdict .also li{margin:2px "
    "0;font-weight:500}"
    ".cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(180px,1fr));gap:10px;margin-"
    "bottom:12px}"
    ".card{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:10px 12px}"
    ".card .k{font-size:12px;color:var(--mute)}.card .v{font-size:18px;font-weight:600}"
    ".card .s{font-size:12px;color:var(--mute);overflow-wrap:anywhere}"
    ".warn{background:#fffbeb;border:1px solid #fcd34d;border-radius:8px;padding:8px "
    "12px;margin:8px 0;color:#78350f}"
    "section{margin-top:18px}"
    "h2{font-size:17px;margin:0 0 8px}"
    ".prov{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:14px 16px}"
    ".prov h2{display:flex;align-items:center;gap:10px}"
    ".badge{font-size:11px;font-weight:700;text-transform:uppercase;border-radius:4px;padding:2px "
    "6px;"
    "background:#dcfce7;color:#166534}"
    ".badge.bad{background:#fee2e2;color:#991b1b}.badge.local{background:#fef3c7;color:#92400e}"
    ".sub{color:var(--mute);font-size:13px;margin:-4px 0 6px}"
    ".legend{display:flex;flex-wrap:wrap;gap:14px;font-size:13px;margin:4px 0}"
    ".legend span{display:inline-flex;align-items:center;gap:6px}"
    ".legend i{display:inline-block;width:14px;height:3px;border-radius:2px;background:var(--c)}"
    ".legend .shade i{height:10px;background:#fecaca}.legend .lshade "
    "i{height:10px;background:#fde68a}"
    ".legend .none{color:var(--mute)}"
    ".legend .vl i{height:10px;background:#dbe2ea}.legend .vf i{height:10px;background:#475569}"
    "svg.chart{width:100%;height:auto;display:block}"
    "svg text{font:11px system-ui,-apple-system,'Segoe UI',Roboto,Arial,sans-serif;fill:#6b7280}"
    "svg .grid{stroke:#eef0f3;stroke-width:1}svg .axis{stroke:#cbd5e1;stroke-width:1}"
    "svg .ln{fill:none;stroke-width:1.8;stroke-linejoin:round;stroke-linecap:round}"
    "svg .vol{fill:#dbe2ea}svg .vfail{fill:#475569}"
    "svg .span{fill:#fee2e2;opacity:.75}svg .lspan{fill:#fef3c7;opacity:.8}"
    "svg .raise{stroke:#dc2626;stroke-width:1;stroke-dasharray:3 3}"
    "svg text.al{fill:#991b1b;font-weight:600}"
    "svg .hov rect:hover{fill:rgba(15,23,42,.06)}"
    ".moved{margin:8px 0 4px}"
    ".cols{display:grid;grid-template-columns:3fr 2fr;gap:16px;margin-top:8px}"
    "table{border-collapse:collapse;width:100%;font-size:13px}"
    "th,td{text-align:left;padding:5px 8px;border-bottom:1px solid var(--line);vertical-align:top}"
    "th{color:var(--mute);font-weight:600;font-size:12px;background:#f9fafb}"
    "td.n,th.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}"
    "td.name{overflow-wrap:anywhere}"
    ".alerts{background:var(--card);border:1px solid var(--line);border-radius:8px;overflow:hidden}"
    ".chip{display:inline-block;white-space:nowrap;font-size:11px;border-radius:10px;padding:1px "
    "7px;margin:1px 2px;"
    "border:1px solid var(--c,#9ca3af);color:var(--c,#374151)}"
    ".chip.first{background:var(--c,#374151);color:#fff}"
    ".muted{color:var(--mute)}"
    "th.sig{min-width:190px}"
    "footer{margin-top:24px;color:var(--mute);font-size:12px}";
