/* fl_dns_pending.h - DNS queries waiting for their answer.
 *
 * A fixed ring in deadline order (every query has the same timeout and
 * packet time is monotonic, so appending keeps it sorted) plus a chained
 * hash on (flow slot, generation, DNS id) to match answers (RFC 1035 4.1.1:
 * the id pairs a response with its query). Allocated once at set-up; when
 * full, the oldest query is dropped and the caller counts it.
 */
#ifndef FL_DNS_PENDING_H
#define FL_DNS_PENDING_H

#include <stdbool.h>
#include <stdint.h>
#include "fl_packet.h"

typedef struct fl_dns_query {
    uint64_t deadline_us;
    uint32_t flow, gen; /* fl_flow_index() and generation of its flow */
    fl_addr client;
    fl_addr server; /* the resolver asked (the detector's resolver scope) */
    uint16_t id;
    uint16_t provider;
    uint16_t resolver; /* public resolver operator, 0 if none */
    uint32_t service;  /* the queried name's service id, 0 none */
} fl_dns_query;

typedef struct fl_dns_pending fl_dns_pending;

/* NULL if out of memory. cap >= 1. */
fl_dns_pending *fl_dns_pending_new(uint32_t cap);
void fl_dns_pending_free(fl_dns_pending *t);

/* Queue q (its deadline not earlier than any queued). False if a query
 * with the same flow, gen and id waits already: a retransmission. When the
 * table is full the oldest waiting query is dropped first: *dropped. */
bool fl_dns_pending_add(fl_dns_pending *t, const fl_dns_query *q, bool *dropped);

/* An answer came: take its query out into *out. False if none waits. */
bool fl_dns_pending_answer(fl_dns_pending *t, uint32_t flow, uint32_t gen, uint16_t id,
                           fl_dns_query *out);

/* Take out the oldest waiting query whose deadline is <= now_us. */
bool fl_dns_pending_expire(fl_dns_pending *t, uint64_t now_us, fl_dns_query *out);

#endif
