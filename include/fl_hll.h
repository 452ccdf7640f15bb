/* fl_hll.h - a small HyperLogLog (Flajolet et al. 2007) for distinct
 * failing clients: 2^10 one-byte registers (1 KiB, ~3% standard error),
 * linear counting for small sets so tens of clients come out exact or
 * nearly. */
#ifndef FL_HLL_H
#define FL_HLL_H

#include <stdint.h>
#include "fl_packet.h"

#define FL_HLL_P 10
#define FL_HLL_M (1u << FL_HLL_P)

typedef struct fl_hll {
    uint8_t reg[FL_HLL_M];
} fl_hll;

void fl_hll_add_hash(fl_hll *h, uint64_t hash);
void fl_hll_add_addr(fl_hll *h, const fl_addr *a);
void fl_hll_merge(fl_hll *dst, const fl_hll *src);
uint64_t fl_hll_count(const fl_hll *h);
uint64_t fl_addr_hash(const fl_addr *a);

#endif
