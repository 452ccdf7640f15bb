/* fl_drill.h - the failing connections behind an alert, for the analyst:
 * which clients and which servers failed, and a sample of the failures
 * (time, client, server, ports, reason), in the report.
 *
 * Fed by the engine's failure sink (one call per counted failure, so per
 * signal the records equal the counters), kept in a ring of the newest
 * `cap` failures: memory is bounded however long the run, and a window
 * whose oldest failures were overwritten says so (partial). Client
 * addresses are shown as pseudonyms when a [privacy] key is set; servers
 * are the providers' addresses and are shown as they are.
 */
#ifndef FL_DRILL_H
#define FL_DRILL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "fl_engine.h"
#include "fl_packet.h"

#define FL_DRILL_TOP 5       /* top failing clients and servers shown */
#define FL_DRILL_SAMPLE 10   /* failing connections shown */
#define FL_DRILL_ADDR_STR 64 /* an address or a pseudonym, as text */
/* Failures kept by the CLI: 2^16 records of 96 bytes, 6 MB at most,
 * allocated at the first failure; an alert's window older than that is
 * reported as partial. */
#define FL_DRILL_KEEP (1u << 16)

typedef struct fl_drill_rec {
    uint64_t ts_us;
    fl_addr client, server;
    uint16_t client_port, server_port;
    uint16_t provider;
    uint8_t ip_proto;
    uint8_t signal; /* fl_counter */
    bool has_server;
    char reason[46]; /* as the --events line says it */
} fl_drill_rec;

typedef struct fl_drill_count {
    char addr[FL_DRILL_ADDR_STR];
    uint64_t failures;
} fl_drill_count;

/* One alert's window [t0, t1) at one provider. */
typedef struct fl_drill_view {
    uint64_t failures; /* failures kept in the window */
    bool partial;      /* older failures of the window were overwritten */
    uint64_t distinct_clients, distinct_servers;
    fl_drill_count clients[FL_DRILL_TOP], servers[FL_DRILL_TOP];
    size_t nclients, nservers;
    fl_drill_rec sample[FL_DRILL_SAMPLE]; /* spread evenly over the window, in time order */
    char sample_client[FL_DRILL_SAMPLE][FL_DRILL_ADDR_STR];
    size_t nsample;
} fl_drill_view;

typedef struct fl_drill fl_drill;
struct fl_client_hasher;

/* cap >= 1 failures kept; hasher (may be NULL) is borrowed and must
 * outlive the store. NULL: no memory. */
fl_drill *fl_drill_new(uint32_t cap, struct fl_client_hasher *hasher);
void fl_drill_free(fl_drill *d);
void fl_drill_add(fl_drill *d, const fl_failure_info *fi);
/* The window's top clients and servers and its sample; false if out of
 * memory (v then says nothing). */
bool fl_drill_window(const fl_drill *d, uint16_t provider, double t0, double t1, fl_drill_view *v);
/* Whether clients are shown as pseudonyms. */
bool fl_drill_pseudonyms(const fl_drill *d);

#endif
