/* sink_redis_int.h - test hooks of the Redis output, not for production use. */
#ifndef FL_SINK_REDIS_INT_H
#define FL_SINK_REDIS_INT_H

#include "fl_redis.h"

/* Fault injection: in each of the next `rounds` pipeline rounds the writer
 * sends its commands, waits for and then throws away the replies, and drops
 * the connection as if they had been lost on the network. The batches were
 * applied by the server; the writer must re-send them with the same ids and
 * the server must answer "duplicate". */
void fl_redis_test_lose_replies(fl_redis *r, unsigned rounds);

#endif
