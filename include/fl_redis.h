/* fl_redis.h - the Redis output: counters, HyperLogLogs, heartbeat and the
 * alert stream, delivered exactly once, surviving Redis going away.
 *
 * The only module that includes <hiredis.h>. The packet loop never waits on
 * Redis: it hands over one batch per closed bucket (all providers at once),
 * a writer thread sends it pipelined as one server-side script call that
 * applies the batch only if its id is new (so a batch whose reply was lost
 * and is re-sent is not applied twice), and reconnects with backoff. While
 * Redis is away, batches are held up to a memory budget; beyond it the
 * oldest are dropped and counted.
 *
 * Keys (README "Redis"), prefix P (default "fl"):
 *   P:cnt:<provider>:<bucket>           hash, HINCRBY counter -> value
 *   P:scnt:<sensor>:<provider>:<bucket> hash, this sensor's share
 *   P:cli:<provider>:<bucket>           HyperLogLog of failing clients (PFADD)
 *   P:alerts                            stream (XADD MAXLEN ~) and pub/sub channel
 *   P:state:<sensor>                    hash provider -> that sensor's alert state
 *   P:sensor:<name>                     hash heartbeat
 * Every bucketed key gets EXPIRE retention.
 * Also written (not part of the contract):
 *   P:batch:<sensor>:<run id>:<seq>     string, marks a batch as applied
 *                                       (EXPIRE retention): exactly-once
 *   heartbeat fields: version packets drops last_seen (last packet time)
 *   held dropped connected (the writer's own state when it was sent).
 * Counters that are zero are not written (HINCRBY by 0 is a no-op anyway).
 */
#ifndef FL_REDIS_H
#define FL_REDIS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "fl_bucket.h"
#include "fl_counters.h"

typedef struct fl_redis fl_redis;

typedef struct fl_redis_options {
    const char *url;        /* redis://[:password@]host[:port][/db] or
                                  unix:///path/redis.sock[?db=N][&password=X] */
    const char *prefix;     /* key prefix, default "fl" */
    const char *sensor;     /* sensor name, default: host name */
    uint32_t retention_s;   /* EXPIRE on bucketed keys, default 7 days */
    uint64_t backlog_bytes; /* memory budget for held batches, default 64 MiB */
    uint32_t stream_maxlen; /* XADD MAXLEN ~, default 100000 */
    uint32_t timeout_ms;    /* connect/command timeout, default 2000 */
    /* Client addresses leave as keyed pseudonyms (fl_client_hash.h) when
     * set; used on the caller's thread only (fl_redis_put_bucket). */
    struct fl_client_hasher *client_hasher;
} fl_redis_options;

typedef struct fl_redis_stats {
    uint64_t batches_queued;    /* handed to the writer */
    uint64_t batches_applied;   /* the server applied them (first delivery) */
    uint64_t batches_duplicate; /* re-sent, the server had them already */
    uint64_t batches_dropped;   /* over the backlog budget: lost, oldest first */
    uint64_t batches_held;      /* waiting now */
    uint64_t bytes_held;
    uint64_t commands;   /* Redis commands sent (script calls count 1) */
    uint64_t reconnects; /* connections re-established after a loss */
    bool connected;
} fl_redis_stats;

typedef struct fl_heartbeat {
    const char *version;
    uint64_t packets;
    uint64_t drops;
    uint64_t last_packet_ts; /* epoch seconds of the last packet */
} fl_heartbeat;

/* Parse a URL into host/port/path/db/password; false with err on bad input. */
typedef struct fl_redis_url {
    char host[256];
    int port;
    char path[512]; /* unix socket path, "" for TCP */
    int db;
    char password[256];
} fl_redis_url;
bool fl_redis_parse_url(const char *url, fl_redis_url *out, char *err, size_t errlen);

/* Starts the writer thread; does not need Redis to be up. */
fl_redis *fl_redis_new(const fl_redis_options *opt, char *err, size_t errlen);

/* One closed bucket: every provider's entry of that bucket, one batch. */
void fl_redis_put_bucket(fl_redis *r, const fl_bucket_entry *entries, size_t n);

/* One alert event (raised or resolved): JSON text for pub/sub, and the
 * flat field/value pairs for the stream entry (fields[0] name, fields[1]
 * value, ...; nfields counts strings, an odd last one is ignored; none at
 * all gives provider/state); provider and state update P:state. Delivered
 * exactly once like a bucket. */
void fl_redis_put_alert(fl_redis *r, const char *provider, const char *state, const char *json,
                        const char *const *fields, size_t nfields);

void fl_redis_put_heartbeat(fl_redis *r, const fl_heartbeat *hb);

/* Wait up to timeout_ms for everything queued to be delivered; true if the
 * backlog is empty. */
bool fl_redis_flush(fl_redis *r, uint32_t timeout_ms);

void fl_redis_get_stats(fl_redis *r, fl_redis_stats *st);

/* The writer's last error (connect, AUTH, an error reply...), copied into
 * buf for logging by the caller (this module never prints); false if there
 * was none. Copied, not returned, because the writer thread may replace it
 * at any time. */
bool fl_redis_last_error(fl_redis *r, char *buf, size_t len);

/* Stops the writer (after fl_redis_flush if you want delivery): batches
 * still held are freed and count as dropped. May block up to timeout_ms
 * while the writer finishes a network call. */
void fl_redis_free(fl_redis *r);

/* ---- Reading back (faultline alerts / status) ----
 *
 * A plain blocking connection for the commands that read what sensors wrote:
 * nothing here is used by the packet path. A call that fails drops the
 * connection and the next call connects again, so a reader outlives a Redis
 * restart. The caller should ignore SIGPIPE (hiredis writes with write(2)).
 */
typedef struct fl_redis_reader fl_redis_reader;

/* Parses the URL; connects at the first call. prefix NULL or "": "fl". */
fl_redis_reader *fl_redis_reader_open(const char *url, const char *prefix, uint32_t timeout_ms,
                                      char *err, size_t errlen);
void fl_redis_reader_close(fl_redis_reader *rd);

/* One stream entry: its id and flat field/value strings (nfv counts them). */
typedef void (*fl_redis_entry_fn)(void *ctx, const char *id, const char *const *fv, size_t nfv);

/* Up to count entries of P:alerts with an id after `after` (a stream id,
 * "0-0" for the beginning), oldest first: XRANGE when block_ms is 0, else
 * XREAD BLOCK block_ms (returns 0 if nothing came in that time). `after`
 * is advanced to the last id read. Returns the number of entries, -1 with
 * err on failure. */
long fl_redis_read_alerts(fl_redis_reader *rd, char *after, size_t afterlen, uint32_t block_ms,
                          uint32_t count, fl_redis_entry_fn fn, void *ctx, char *err,
                          size_t errlen);

#define FL_REDIS_NAME_MAX 128

typedef struct fl_redis_provider_status {
    char provider[FL_REDIS_NAME_MAX];
    char state[32];   /* raised if a sensor's P:state:<sensor> says so,
                                * else resolved; "" if never alerted */
    fl_counts counts; /* summed over the window, all sensors */
    uint32_t buckets; /* bucket hashes summed */
} fl_redis_provider_status;

typedef struct fl_redis_sensor_status {
    char name[FL_REDIS_NAME_MAX];
    char version[64];
    uint64_t packets, drops;
    uint64_t last_seen;     /* epoch seconds of its last packet */
    uint64_t held, dropped; /* its Redis backlog when it wrote this */
    bool connected;
    uint64_t wall;    /* wall clock of its last heartbeat, 0 unknown */
    char alerts[512]; /* P:state:<sensor>: "Cloudflare raised, ..." */
} fl_redis_sensor_status;

typedef struct fl_redis_status {
    /* The window ends at the newest last_seen of any sensor (packet time, so
     * a replayed capture shows its own last minute), or at the wall clock
     * when no sensor has written a heartbeat. Buckets summed: those with a
     * start in (ref_time - window_s - bucket_s, ref_time]. */
    uint64_t ref_time;
    uint64_t first_bucket, last_bucket;
    fl_redis_provider_status *providers; /* sorted by name */
    size_t nproviders;
    fl_redis_sensor_status *sensors; /* sorted by name */
    size_t nsensors;
} fl_redis_status;

/* Seconds since a sensor's last heartbeat (wall clock). */
int64_t fl_redis_sensor_age(const fl_redis_sensor_status *s);
/* No heartbeat within stale_s (or one from a version that did not say
 * when): the sensor stopped or lost Redis; what it said is old. */
bool fl_redis_sensor_stale(const fl_redis_sensor_status *s, double stale_s);

/* P:state:<sensor> of every sensor, the P:cnt:<provider>:<bucket> hashes of the window (found with
 * SCAN MATCH, never KEYS) and the P:sensor:* heartbeats. */
bool fl_redis_read_status(fl_redis_reader *rd, uint32_t bucket_s, uint32_t window_s,
                          fl_redis_status *st, char *err, size_t errlen);
void fl_redis_status_free(fl_redis_status *st);

#endif
