/* log.c - see fl_log.h. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fl_log.h"

int fl_log_max_level = FL_LOG_INFO;
static int log_fd = 2;
static fl_log_style log_style = FL_LOG_STYLE_PLAIN;

static const char *const level_names[] = {
    "emerg", "alert", "crit", "err", "warning", "notice", "info", "debug",
};

const char *fl_log_level_name(int level)
{
    if (level < 0 || level > FL_LOG_DEBUG)
        return "?";
    return level_names[level];
}

int fl_log_level_from_name(const char *name)
{
    if (!name || !*name)
        return -1;
    for (int i = 0; i <= FL_LOG_DEBUG; i++)
        if (strcmp(name, level_names[i]) == 0)
            return i;
    /* syslog's other spellings */
    if (strcmp(name, "error") == 0)
        return FL_LOG_ERR;
    if (strcmp(name, "warn") == 0)
        return FL_LOG_WARNING;
    if (name[0] >= '0' && name[0] <= '7' && name[1] == '\0')
        return name[0] - '0';
    return -1;
}

bool fl_log_fd_is_journal(int fd, const char *journal_stream)
{
    struct stat st;

    /* JOURNAL_STREAM is "<device>:<inode>" in decimal (systemd.exec(5)) */
    if (!journal_stream || !isdigit((unsigned char)journal_stream[0]))
        return false;
    char *end;
    errno = 0;
    unsigned long long dev = strtoull(journal_stream, &end, 10);
    if (errno || *end != ':' || !isdigit((unsigned char)end[1]))
        return false;
    unsigned long long ino = strtoull(end + 1, &end, 10);
    if (errno || *end != '\0')
        return false;
    if (fstat(fd, &st) != 0)
        return false;
    return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

void fl_log_setup(int fd, fl_log_style style, fl_log_level max_level)
{
    log_fd = fd;
    if (style == FL_LOG_STYLE_AUTO)
        style = fl_log_fd_is_journal(fd, getenv("JOURNAL_STREAM")) ? FL_LOG_STYLE_JOURNAL
                                                                   : FL_LOG_STYLE_PLAIN;
    log_style = style;
    fl_log_max_level = max_level;
}

size_t fl_log_format(char *buf, size_t cap, fl_log_style style, int level, int64_t unix_s,
                     const char *fmt, va_list ap)
{
    size_t n = 0;
    int w;

    if (cap < 8)
        return 0;
    if (level < 0)
        level = 0;
    if (level > FL_LOG_DEBUG)
        level = FL_LOG_DEBUG;
    if (style == FL_LOG_STYLE_JOURNAL) {
        w = snprintf(buf, cap, "<%d>", level);
    } else {
        time_t t = (time_t)unix_s;
        struct tm tm;
        char ts[32] = "1970-01-01T00:00:00Z";
        if (gmtime_r(&t, &tm))
            strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ", &tm);
        w = snprintf(buf, cap, "%s %s: ", ts, level_names[level]);
    }
    n = (w > 0 && (size_t)w < cap) ? (size_t)w : 0;
    w = vsnprintf(buf + n, cap - n, fmt, ap);
    if (w < 0)
        w = 0;
    if ((size_t)w >= cap - n - 1) {
        /* Cut: keep room for "...\n". */
        n = cap - 5;
        memcpy(buf + n, "...", 3);
        n += 3;
    } else {
        n += (size_t)w;
    }
    /* One line per call: a newline inside the message would make journald
     * file the rest at the default priority. */
    for (size_t i = 0; i < n; i++)
        if (buf[i] == '\n' || buf[i] == '\r')
            buf[i] = ' ';
    buf[n++] = '\n';
    buf[n] = '\0';
    return n;
}

void fl_log_write(int level, const char *fmt, ...)
{
    char line[FL_LOG_LINE_MAX];
    va_list ap;
    size_t n, off = 0;
    int saved = errno;

    va_start(ap, fmt);
    n = fl_log_format(line, sizeof line, log_style, level, (int64_t)time(NULL), fmt, ap);
    va_end(ap);
    while (off < n) {
        ssize_t w = write(log_fd, line + off, n - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            break; /* nowhere else to report it */
        off += (size_t)w;
    }
    errno = saved;
}
