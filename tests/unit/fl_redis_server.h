/* fl_redis_server.h - a throwaway redis-server for tests.
 *
 * Runs /usr/bin/redis-server (override with $FL_REDIS_SERVER) on a unix
 * socket only (--port 0) in a fresh mkdtemp directory, with the append-only
 * file fsynced on every write, so that a restart on the same directory gets
 * back everything that was acknowledged.
 *
 * Cleanup is unconditional: the server gets SIGTERM when the test process
 * dies however it dies (PR_SET_PDEATHSIG), an atexit handler stops what is
 * still running, and a small watchdog process removes the directory once the
 * test process is gone. Works without root.
 */
#ifndef FL_REDIS_SERVER_H
#define FL_REDIS_SERVER_H

#include <stdbool.h>
#include <sys/types.h>

typedef struct fl_redis_server {
    pid_t pid;       /* running server, 0 if stopped */
    char dir[64];    /* temp dir (AOF, log, socket) */
    char sock[128];  /* <dir>/redis.sock */
    char url[160];   /* unix://<dir>/redis.sock */
    int watchdog_fd; /* write end of the watchdog's pipe, -1 if none */
} fl_redis_server;

/* Create the directory and paths without starting (so a client can be
 * pointed at a server that is not up yet). */
bool fl_redis_server_init(fl_redis_server *s);
/* Start (again, on the same directory and AOF) a server set up by
 * fl_redis_server_init; waits until PING answers. */
bool fl_redis_server_start(fl_redis_server *s);
/* SIGTERM (clean shutdown) or SIGKILL (crash), then waitpid. */
bool fl_redis_server_stop(fl_redis_server *s);
bool fl_redis_server_kill(fl_redis_server *s);
/* Stop if running and remove the directory. */
void fl_redis_server_cleanup(fl_redis_server *s);

#endif
