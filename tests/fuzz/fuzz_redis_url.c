/* fuzz_redis_url.c - the Redis URL parser (redis://, rediss://, unix://,
 * percent-encoding, IPv6 literals, db numbers), through its public header. */
#include <stdlib.h>
#include <string.h>

#include "fl_redis.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 4096)
        return 0;
    char *url = malloc(size + 1);
    if (!url)
        return 0;
    memcpy(url, data, size);
    url[size] = '\0';
    fl_redis_url u;
    char err[512];
    (void)fl_redis_parse_url(url, &u, err, sizeof err);
    free(url);
    return 0;
}
