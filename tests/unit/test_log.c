/* test_log.c - the log line format, level names, the journal detection, and
 * the sd_notify datagram. */
#include <check.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "fl_log.h"
#include "fl_sdnotify.h"
#include "fl_test_util.h"

static size_t fmt(char *buf, size_t cap, fl_log_style st, int level, int64_t t, const char *f, ...)
    __attribute__((format(printf, 6, 7)));
static size_t fmt(char *buf, size_t cap, fl_log_style st, int level, int64_t t, const char *f, ...)
{
    va_list ap;
    va_start(ap, f);
    size_t n = fl_log_format(buf, cap, st, level, t, f, ap);
    va_end(ap);
    return n;
}

START_TEST(plain_line_has_iso_time_and_level)
{
    char buf[256];
    /* 2026-12-02T05:50:00Z */
    size_t n = fmt(buf, sizeof buf, FL_LOG_STYLE_PLAIN, FL_LOG_WARNING, 1796190600,
                   "alert raised: provider %s ratio %.2f", "Cloudflare", 0.325);
    ck_assert_str_eq(
        buf, "2026-12-02T05:50:00Z warning: alert raised: provider Cloudflare ratio 0.33\n");
    ck_assert_uint_eq(n, strlen(buf));
}
END_TEST

START_TEST(journal_line_has_priority_prefix)
{
    char buf[256];
    fmt(buf, sizeof buf, FL_LOG_STYLE_JOURNAL, FL_LOG_ERR, 0, "redis lost: %s", "refused");
    ck_assert_str_eq(buf, "<3>redis lost: refused\n");
    fmt(buf, sizeof buf, FL_LOG_STYLE_JOURNAL, 99, 0, "x");
    ck_assert_str_eq(buf, "<7>x\n");
}
END_TEST

START_TEST(newlines_never_split_a_line)
{
    char buf[128];
    fmt(buf, sizeof buf, FL_LOG_STYLE_JOURNAL, FL_LOG_INFO, 0, "a\nb\rc");
    ck_assert_str_eq(buf, "<6>a b c\n");
}
END_TEST

START_TEST(long_lines_are_cut_at_every_size)
{
    char msg[300], buf[300];
    memset(msg, 'x', sizeof msg - 1);
    msg[sizeof msg - 1] = '\0';
    /* Every capacity: always one terminated line, never past cap. */
    for (size_t cap = 8; cap <= sizeof buf; cap++) {
        memset(buf, 'Z', sizeof buf);
        size_t n = fmt(buf, cap, FL_LOG_STYLE_JOURNAL, FL_LOG_INFO, 0, "%s", msg);
        ck_assert_uint_lt(n, cap);
        ck_assert_uint_eq(n, strlen(buf));
        ck_assert_int_eq(buf[n - 1], '\n');
        if (cap < 3 + 299 + 2)
            ck_assert_msg(strstr(buf, "...\n") != NULL, "cap %zu: %s", cap, buf);
        if (cap < sizeof buf)
            ck_assert_int_eq(buf[cap], 'Z');
    }
}
END_TEST

START_TEST(level_names_round_trip)
{
    for (int i = 0; i <= FL_LOG_DEBUG; i++)
        ck_assert_int_eq(fl_log_level_from_name(fl_log_level_name(i)), i);
    ck_assert_int_eq(fl_log_level_from_name("warn"), FL_LOG_WARNING);
    ck_assert_int_eq(fl_log_level_from_name("error"), FL_LOG_ERR);
    ck_assert_int_eq(fl_log_level_from_name("5"), FL_LOG_NOTICE);
    ck_assert_int_eq(fl_log_level_from_name("8"), -1);
    ck_assert_int_eq(fl_log_level_from_name("loud"), -1);
    ck_assert_int_eq(fl_log_level_from_name(""), -1);
    ck_assert_str_eq(fl_log_level_name(8), "?");
}
END_TEST

START_TEST(journal_stream_matches_only_its_own_fd)
{
    char path[] = "/tmp/fl-log-XXXXXX", js[64];
    int fd = mkstemp(path), other;
    struct stat st;
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(fstat(fd, &st), 0);
    snprintf(js, sizeof js, "%llu:%llu", (unsigned long long)st.st_dev,
             (unsigned long long)st.st_ino);
    ck_assert(fl_log_fd_is_journal(fd, js));
    other = open("/dev/null", O_WRONLY);
    ck_assert(!fl_log_fd_is_journal(other, js));
    ck_assert(!fl_log_fd_is_journal(fd, NULL));
    ck_assert(!fl_log_fd_is_journal(fd, "garbage"));
    ck_assert(!fl_log_fd_is_journal(fd, "1:2:3"));

    /* AUTO picks the journal style, the gate drops debug. */
    ck_assert_int_eq(setenv("JOURNAL_STREAM", js, 1), 0);
    fl_log_setup(fd, FL_LOG_STYLE_AUTO, FL_LOG_NOTICE);
    FL_WARN("alert raised: %d", 1);
    FL_DEBUG("not written");
    FL_ERR("lost");
    char buf[128] = { 0 };
    ck_assert_int_eq(pread(fd, buf, sizeof buf - 1, 0), 27);
    ck_assert_str_eq(buf, "<4>alert raised: 1\n<3>lost\n");
    unsetenv("JOURNAL_STREAM");
    fl_log_setup(2, FL_LOG_STYLE_AUTO, FL_LOG_INFO);
    close(other);
    close(fd);
    unlink(path);
}
END_TEST

START_TEST(sd_notify_sends_one_datagram)
{
    char dir[] = "/tmp/fl-sdn-XXXXXX", path[128], buf[128];
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/notify", dir);
    int s = socket(AF_UNIX, SOCK_DGRAM, 0);
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    ck_assert_uint_lt(strlen(path), sizeof sa.sun_path);
    memcpy(sa.sun_path, path, strlen(path) + 1);
    ck_assert_int_eq(bind(s, (struct sockaddr *)&sa, sizeof sa), 0);

    unsetenv("NOTIFY_SOCKET");
    ck_assert_int_eq(fl_sd_notify("READY=1"), 0);
    setenv("NOTIFY_SOCKET", path, 1);
    ck_assert_int_eq(fl_sd_notify("READY=1\nSTATUS=capturing"), 1);
    ssize_t n = recv(s, buf, sizeof buf - 1, 0);
    ck_assert_int_eq(n, 24);
    buf[n] = '\0';
    ck_assert_str_eq(buf, "READY=1\nSTATUS=capturing");
    setenv("NOTIFY_SOCKET", "relative/path", 1);
    ck_assert_int_eq(fl_sd_notify("READY=1"), -1);
    setenv("NOTIFY_SOCKET", "/nonexistent/dir/sock", 1);
    ck_assert_int_eq(fl_sd_notify("READY=1"), -1);
    unsetenv("NOTIFY_SOCKET");
    close(s);
    unlink(path);
    rmdir(dir);
}
END_TEST

START_TEST(sd_notify_abstract_namespace)
{
    char name[64], buf[32];
    snprintf(name, sizeof name, "@fl-test-%d", (int)getpid());
    int s = socket(AF_UNIX, SOCK_DGRAM, 0);
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    size_t len = strlen(name);
    memcpy(sa.sun_path, name, len);
    sa.sun_path[0] = '\0';
    ck_assert_int_eq(
        bind(s, (struct sockaddr *)&sa, (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len)),
        0);
    setenv("NOTIFY_SOCKET", name, 1);
    ck_assert_int_eq(fl_sd_notify("WATCHDOG=1"), 1);
    ssize_t n = recv(s, buf, sizeof buf - 1, 0);
    ck_assert_int_eq(n, 10);
    buf[n] = '\0';
    ck_assert_str_eq(buf, "WATCHDOG=1");
    unsetenv("NOTIFY_SOCKET");
    close(s);
}
END_TEST

START_TEST(watchdog_interval_for_this_pid_only)
{
    char pid[32];
    unsetenv("WATCHDOG_USEC");
    unsetenv("WATCHDOG_PID");
    ck_assert_uint_eq(fl_sd_watchdog_usec(), 0);
    setenv("WATCHDOG_USEC", "30000000", 1);
    ck_assert_uint_eq(fl_sd_watchdog_usec(), 30000000);
    snprintf(pid, sizeof pid, "%d", (int)getpid());
    setenv("WATCHDOG_PID", pid, 1);
    ck_assert_uint_eq(fl_sd_watchdog_usec(), 30000000);
    setenv("WATCHDOG_PID", "1", 1);
    ck_assert_uint_eq(fl_sd_watchdog_usec(), 0);
    unsetenv("WATCHDOG_PID");
    setenv("WATCHDOG_USEC", "30s", 1);
    ck_assert_uint_eq(fl_sd_watchdog_usec(), 0);
    unsetenv("WATCHDOG_USEC");
}
END_TEST

static Suite *log_suite(void)
{
    Suite *s = suite_create("log");
    TCase *tc = tcase_create("log");
    tcase_add_test(tc, plain_line_has_iso_time_and_level);
    tcase_add_test(tc, journal_line_has_priority_prefix);
    tcase_add_test(tc, newlines_never_split_a_line);
    tcase_add_test(tc, long_lines_are_cut_at_every_size);
    tcase_add_test(tc, level_names_round_trip);
    tcase_add_test(tc, journal_stream_matches_only_its_own_fd);
    tcase_add_test(tc, sd_notify_sends_one_datagram);
    tcase_add_test(tc, sd_notify_abstract_namespace);
    tcase_add_test(tc, watchdog_interval_for_this_pid_only);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return fl_test_run(log_suite());
}
