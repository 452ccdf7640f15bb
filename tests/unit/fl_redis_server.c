/* fl_redis_server.c - a throwaway redis-server for tests (see the header). */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fl_redis_server.h"

/* What the atexit handler must still clean up, by value: the caller's
 * struct may live on a stack frame that is gone by then. */
#define MAX_LIVE 16
static struct {
    pid_t pid;
    char dir[64];
} live[MAX_LIVE];
static bool atexit_done;

static void sleep_ms(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    (void)remove(path); /* best effort: keep walking */
    return 0;
}

static void rm_tree(const char *dir)
{
    if (dir[0])
        nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static void reap(pid_t pid, int sig)
{
    if (pid <= 0)
        return;
    kill(pid, sig);
    while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {
    }
}

static void live_set(const char *dir, pid_t pid)
{
    int free_slot = -1;
    for (int i = 0; i < MAX_LIVE; i++) {
        if (live[i].dir[0] && strcmp(live[i].dir, dir) == 0) {
            live[i].pid = pid;
            return;
        }
        if (!live[i].dir[0] && free_slot < 0)
            free_slot = i;
    }
    if (free_slot >= 0) {
        snprintf(live[free_slot].dir, sizeof live[free_slot].dir, "%s", dir);
        live[free_slot].pid = pid;
    }
}

static void live_forget(const char *dir)
{
    for (int i = 0; i < MAX_LIVE; i++)
        if (live[i].dir[0] && strcmp(live[i].dir, dir) == 0)
            memset(&live[i], 0, sizeof live[i]);
}

static void at_exit_cleanup(void)
{
    for (int i = 0; i < MAX_LIVE; i++) {
        if (!live[i].dir[0])
            continue;
        reap(live[i].pid, SIGTERM);
        rm_tree(live[i].dir);
        memset(&live[i], 0, sizeof live[i]);
    }
}

/* The watchdog: a shell that blocks on a pipe whose only write end this
 * process holds (close-on-exec, so servers do not inherit it). When this
 * process dies, even by SIGKILL from Check's timeout, the read sees EOF; the
 * server has had SIGTERM from PR_SET_PDEATHSIG by then, so the shell waits
 * for it to go and removes the directory. */
static int start_watchdog(const char *dir)
{
    static const char script[] =
        "cat >/dev/null; i=0; "
        "while [ -s \"$1/redis.pid\" ] && kill -0 \"$(cat \"$1/redis.pid\")\" 2>/dev/null "
        "&& [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done; rm -rf \"$1\"";
    int p[2];
    if (pipe2(p, O_CLOEXEC) != 0)
        return -1;
    pid_t pid = fork();
    if (pid < 0) {
        close(p[0]);
        close(p[1]);
        return -1;
    }
    if (pid == 0) {
        /* Only async-signal-safe calls until exec: the parent may have
         * threads (the Redis writer). */
        setsid(); /* out of the test's process group */
        dup2(p[0], 0);
        int null = open("/dev/null", O_WRONLY);
        if (null >= 0) {
            dup2(null, 1);
            dup2(null, 2);
        }
        closefrom(3);
        /* Double fork so nobody has to reap the shell. */
        if (fork() != 0)
            _exit(0);
        execl("/bin/sh", "sh", "-c", script, "sh", dir, (char *)NULL);
        _exit(127);
    }
    close(p[0]);
    while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {
    }
    return p[1];
}

bool fl_redis_server_init(fl_redis_server *s)
{
    memset(s, 0, sizeof *s);
    s->watchdog_fd = -1;
    /* /tmp, not $TMPDIR: a unix socket path must fit in 108 bytes. */
    snprintf(s->dir, sizeof s->dir, "/tmp/fl-redis-XXXXXX");
    if (!mkdtemp(s->dir)) {
        s->dir[0] = '\0';
        return false;
    }
    snprintf(s->sock, sizeof s->sock, "%s/redis.sock", s->dir);
    snprintf(s->url, sizeof s->url, "unix://%s", s->sock);
    if (!atexit_done) {
        atexit(at_exit_cleanup);
        atexit_done = true;
    }
    live_set(s->dir, 0);
    s->watchdog_fd = start_watchdog(s->dir);
    return true;
}

/* PING over the socket by hand: "+PONG" once the server is up and has
 * loaded its AOF (while loading it answers -LOADING). */
static bool ping(const char *sock)
{
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return false;
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    size_t len = strlen(sock);
    if (len >= sizeof sa.sun_path) {
        close(fd);
        return false;
    }
    memcpy(sa.sun_path, sock, len + 1);
    bool ok = false;
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0) {
        struct timeval tv = { 1, 0 };
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        char buf[64];
        if (write(fd, "PING\r\n", 6) == 6) {
            ssize_t n = read(fd, buf, sizeof buf - 1);
            ok = n >= 5 && memcmp(buf, "+PONG", 5) == 0;
        }
    }
    close(fd);
    return ok;
}

bool fl_redis_server_start(fl_redis_server *s)
{
    if (!s->dir[0])
        return false; /* not initialized */
    if (s->pid > 0)
        return true;
    const char *bin = getenv("FL_REDIS_SERVER");
    if (!bin || !*bin)
        bin = "/usr/bin/redis-server";
    char logfile[96], pidfile[96];
    snprintf(logfile, sizeof logfile, "%s/redis.log", s->dir);
    snprintf(pidfile, sizeof pidfile, "%s/redis.pid", s->dir);
    const char *argv[] = {
        bin,      "--port",    "0",     "--unixsocket", s->sock, "--unixsocketperm",
        "700",    "--save",    "",      "--appendonly", "yes",   "--appendfsync",
        "always", "--dir",     s->dir,  "--daemonize",  "no",    "--logfile",
        logfile,  "--pidfile", pidfile, NULL,
    };
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0)
        return false;
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        if (getppid() != parent)
            _exit(1);
        int null = open("/dev/null", O_RDWR);
        if (null >= 0) {
            dup2(null, 0);
            dup2(null, 1);
            dup2(null, 2);
        }
        closefrom(3);
        execv(bin, (char *const *)argv);
        _exit(127);
    }
    s->pid = pid;
    live_set(s->dir, pid);
    for (int i = 0; i < 1000; i++) { /* up to 10 s */
        if (ping(s->sock))
            return true;
        if (waitpid(pid, NULL, WNOHANG) == pid) {
            s->pid = 0;
            live_set(s->dir, 0);
            return false;
        }
        sleep_ms(10);
    }
    fl_redis_server_kill(s);
    return false;
}

static bool stop_with(fl_redis_server *s, int sig)
{
    if (s->pid <= 0)
        return false;
    reap(s->pid, sig);
    s->pid = 0;
    live_set(s->dir, 0);
    return true;
}

bool fl_redis_server_stop(fl_redis_server *s)
{
    return stop_with(s, SIGTERM);
}

bool fl_redis_server_kill(fl_redis_server *s)
{
    return stop_with(s, SIGKILL);
}

void fl_redis_server_cleanup(fl_redis_server *s)
{
    if (!s->dir[0])
        return;
    fl_redis_server_stop(s);
    rm_tree(s->dir);
    live_forget(s->dir);
    if (s->watchdog_fd >= 0)
        close(s->watchdog_fd);
    s->watchdog_fd = -1;
    s->dir[0] = '\0';
}
