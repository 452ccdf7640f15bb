/* cmd_redis.h - the commands that read back what sensors wrote to Redis:
 *
 *   faultline alerts [--follow] [--json]   the alert stream, one line or
 *                                          one JSON document per event
 *   faultline status [--json]              per-provider health over the last
 *                                          window, and the sensors' heartbeats
 *
 * Both take the Redis URL and key prefix from the config (--redis, [redis]
 * url/prefix). They return the faultline exit status: 0 ok, 1 usage (no or
 * bad URL), 4 runtime (Redis unreachable or answering errors).
 */
#ifndef FL_CMD_REDIS_H
#define FL_CMD_REDIS_H

#include <stdbool.h>
#include "fl_config.h"

int fl_cmd_alerts(const fl_config *cfg, bool follow, bool json);
int fl_cmd_status(const fl_config *cfg, bool json);

#endif
