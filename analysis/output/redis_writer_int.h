/* redis_writer_int.h - the writer's state, shared by redis_queue.c (the
 * packet loop's side: batches serialized and queued) and redis_writer.c
 * (the writer thread's side: the network). */
#ifndef FL_REDIS_WRITER_INT_H
#define FL_REDIS_WRITER_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include "redis_conn.h"

#define PIPE_MAX 64 /* batches in flight per round */

enum { KIND_BUCKET, KIND_ALERT };

/* One queued batch: a complete EVALSHA argument vector. argv[0] and argv[1]
 * (command and script) are filled in by the writer at send time. */
typedef struct item {
    struct item *prev, *next;
    int kind;
    bool inflight;   /* on the wire: only the writer may touch or free it */
    bool use_eval;   /* the server said NOSCRIPT: send the body next time */
    unsigned errors; /* error replies so far */
    size_t bytes;    /* counted against the backlog budget */
    int argc;
    const char **argv;
    size_t *argvlen;
    char *buf;
} item;

struct fl_redis {
    /* Fixed after fl_redis_new. */
    fl_redis_url url;
    char *prefix, *sensor;
    uint32_t retention_s, stream_maxlen, timeout_ms;
    uint64_t backlog_bytes;
    uint64_t run_id;
    struct fl_client_hasher *client_hasher; /* caller's thread only */
    atomic_uint_fast64_t seq;

    pthread_mutex_t mu; /* guards everything below down to the writer part */
    pthread_cond_t cv_work, cv_idle;
    item *head, *tail;
    bool stop;
    bool hb_pending, hb_inflight;
    fl_heartbeat hb;
    char hb_version[64];
    fl_redis_stats st;
    char last_error[256];
    unsigned lose_replies; /* test hook */

    /* Writer thread only. */
    pthread_t thread;
    bool thread_started;
    redisContext *c;
    char sha_bucket[41], sha_alert[41];
    bool ever_connected;
    uint32_t backoff_ms;
    uint64_t rng;
};

/* Queue side (redis_queue.c). Called with r->mu held unless said. */
void fl_rw_set_last_error(fl_redis *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void fl_rw_item_free(item *it); /* no lock needed */
void fl_rw_unlink_item(fl_redis *r, item *it);
void fl_rw_enforce_budget(fl_redis *r);

#endif
