/* fl_events.h - the analyst's event log (--events FILE, '-' for stdout):
 * one JSON object per line (JSON Lines), one line per counted failure and
 * one per alert event, so `jq` answers "which clients, which servers, why".
 *
 *   {"type":"failure","time":"2025-10-20T09:03:21.482Z","ts":1760950 ...,
 *    "signal":"http_5xx","provider":"Cloudflare","service":"dash.cloudflare.com",
 *    "client":"10.1.0.23","client_port":51512,"server":"104.16.1.1",
 *    "server_port":80,"protocol":"tcp","reason":"status 503","alert_id":1}
 *   {"type":"alert","event":"raised","time":...,"alert":{...the alert schema...}}
 *
 * One failure line per failure counter increment, so per signal the lines
 * equal the counters of the JSON document. Lines are written through stdio
 * (buffered), flushed at each closed bucket and at the end.
 */
#ifndef FL_EVENTS_H
#define FL_EVENTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fl_counters.h"
#include "fl_packet.h"

typedef struct fl_failure_event {
    uint64_t ts_us;    /* packet time the failure was counted at */
    fl_counter signal; /* a failure counter: tcp_refused, ... */
    const char *provider;
    const char *service; /* SNI / Host / DNS name; NULL unknown */
    const fl_addr *client, *server;
    const char *client_text; /* replaces client when set (a keyed pseudonym) */
    uint16_t client_port, server_port;
    uint8_t ip_proto;   /* 6 tcp, 17 udp */
    const char *reason; /* "server RST before SYN-ACK", "fatal alert 40", ... */
    uint32_t alert_id;  /* the open alert on that provider it fed; 0 none */
    const char *sensor; /* NULL: not written */
} fl_failure_event;

typedef struct fl_events fl_events;

/* path "-" is stdout (not closed at the end). NULL with err. */
fl_events *fl_events_open(const char *path, char *err, size_t errlen);
void fl_events_failure(fl_events *ev, const fl_failure_event *f);
/* alert_json: the alert object (the schema of the JSON document's alerts[],
 * serialised), spliced in as is. */
void fl_events_alert(fl_events *ev, double ts, bool resolved, const char *sensor,
                     const char *alert_json);
void fl_events_flush(fl_events *ev);
/* Lines written so far, per failure signal and in all. */
uint64_t fl_events_count(const fl_events *ev, fl_counter signal);
uint64_t fl_events_lines(const fl_events *ev);
/* Flushes and closes; false with err if a write failed (disk full...). */
bool fl_events_close(fl_events *ev, char *err, size_t errlen);

/* One failure line (without the newline) into buf; its length, or the
 * length it would need (as snprintf). */
size_t fl_events_format_failure(const fl_failure_event *f, char *buf, size_t cap);

#endif
