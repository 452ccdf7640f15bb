/* fl_bucket.h - one closed time bucket of one provider: what the analysis
 * stage hands to every output (JSON report, Redis). */
#ifndef FL_BUCKET_H
#define FL_BUCKET_H

#include <stddef.h>
#include <stdint.h>
#include "fl_counters.h"
#include "fl_families.h"
#include "fl_packet.h"

typedef struct fl_bucket_entry {
    uint64_t start;       /* bucket start, integer epoch seconds */
    uint32_t width;       /* bucket length in seconds */
    const char *provider; /* provider name ("unknown" included) */
    fl_counts counts;
    const fl_addr *clients;          /* distinct clients with at least one failure */
    uint32_t nclients;               /* (capped per bucket: see clients_estimate) */
    uint64_t clients_estimate;       /* distinct failing clients, HyperLogLog */
    uint64_t active_clients;         /* distinct clients with any flow (estimate) */
    const uint32_t *client_failures; /* failures of each listed client */
    /* each listed client's failures per family; NULL: unknown (then
     * client_failures stands for every family) */
    const fl_family_fails *client_family_failures;
} fl_bucket_entry;

#endif
