/* fl_sdnotify.h - the service manager notification protocol of sd_notify(3),
 * without libsystemd: one datagram of "KEY=VALUE\n..." to the AF_UNIX socket
 * named by $NOTIFY_SOCKET (a path, or "@name" in the abstract namespace).
 *
 * faultline sends READY=1 once the capture is open, WATCHDOG=1 from its
 * packet loop at half of $WATCHDOG_USEC, RELOADING=1 / READY=1 around a
 * SIGHUP, and STOPPING=1 on SIGTERM. Without $NOTIFY_SOCKET every call is a
 * no-op that reports success.
 */
#ifndef FL_SDNOTIFY_H
#define FL_SDNOTIFY_H

#include <stdbool.h>
#include <stdint.h>

/* 1 sent, 0 no $NOTIFY_SOCKET (not under a notify service), -1 error
 * (errno set). state is e.g. "READY=1" or "STOPPING=1\nSTATUS=flushing". */
int fl_sd_notify(const char *state);

/* The watchdog interval asked for by the unit (WatchdogSec=), in
 * microseconds, 0 when none or when $WATCHDOG_PID names another process. */
uint64_t fl_sd_watchdog_usec(void);

#endif
