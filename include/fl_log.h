/* fl_log.h - the one log of the sensor: level-gated, syslog priorities,
 * ISO-8601 UTC times, one write(2) per line on stderr.
 *
 * Priorities are syslog's (RFC 5424 section 6.2.1): alerts are logged at
 * warning or above, errors at err, health events at notice, the rest at
 * info / debug. Under systemd (stderr is the journal stream named by
 * JOURNAL_STREAM) every line starts with "<N>" as sd-daemon(3) describes, so
 * journald files it at that priority and `journalctl -p warning` shows the
 * alerts; elsewhere a line reads
 *
 *   2026-12-02T05:50:00Z warning: alert raised: provider Cloudflare ...
 *
 * Library code logs through these macros and never prints; the level gate
 * is one integer compare, so a disabled FL_DEBUG costs nothing else.
 */
#ifndef FL_LOG_H
#define FL_LOG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum fl_log_level {
    FL_LOG_EMERG = 0,
    FL_LOG_ALERT = 1,
    FL_LOG_CRIT = 2,
    FL_LOG_ERR = 3,
    FL_LOG_WARNING = 4,
    FL_LOG_NOTICE = 5,
    FL_LOG_INFO = 6,
    FL_LOG_DEBUG = 7
} fl_log_level;

typedef enum fl_log_style {
    FL_LOG_STYLE_AUTO = 0, /* journal prefix when stderr is the journal stream */
    FL_LOG_STYLE_PLAIN,    /* "<ISO time> <level>: message" */
    FL_LOG_STYLE_JOURNAL   /* "<N>message" (journald adds its own time) */
} fl_log_style;

/* Lines longer than this are cut (and end in "..."): a log line is for a
 * human, and one write(2) keeps concurrent lines whole. */
#define FL_LOG_LINE_MAX 1024

/* Where lines go (default: fd 2), which style, and the most verbose level
 * written (default FL_LOG_INFO). Call before threads start. */
void fl_log_setup(int fd, fl_log_style style, fl_log_level max_level);

/* The level in force. */
extern int fl_log_max_level;

/* "err", "warning", ... or the number 0..7; -1 if neither. */
int fl_log_level_from_name(const char *name);
/* "emerg" .. "debug"; "?" out of range. */
const char *fl_log_level_name(int level);

/* True when stderr (fd) is the stream journald gave us: JOURNAL_STREAM is
 * "<device>:<inode>" of that stream (systemd.exec(5)). */
bool fl_log_fd_is_journal(int fd, const char *journal_stream);

/* Formats one line (with its newline) into buf, for the style given (AUTO
 * means PLAIN here); returns its length (< cap). Pure: the unit tests call
 * it with a fixed time. */
size_t fl_log_format(char *buf, size_t cap, fl_log_style style, int level, int64_t unix_s,
                     const char *fmt, va_list ap) __attribute__((format(printf, 6, 0)));

void fl_log_write(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define FL_LOG(level, ...)                                                                         \
    do {                                                                                           \
        if ((int)(level) <= fl_log_max_level)                                                      \
            fl_log_write((level), __VA_ARGS__);                                                    \
    } while (0)

#define FL_ERR(...) FL_LOG(FL_LOG_ERR, __VA_ARGS__)
#define FL_WARN(...) FL_LOG(FL_LOG_WARNING, __VA_ARGS__)
#define FL_NOTICE(...) FL_LOG(FL_LOG_NOTICE, __VA_ARGS__)
#define FL_INFO(...) FL_LOG(FL_LOG_INFO, __VA_ARGS__)
#define FL_DEBUG(...) FL_LOG(FL_LOG_DEBUG, __VA_ARGS__)

#endif
