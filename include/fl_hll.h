/* fl_hll.h - a small HyperLogLog (Flajolet et al. 2007) for distinct
 * failing clients: 2^10 one-byte registers (1 KiB, ~3% standard error),
 * linear counting for small sets so tens of clients come out exact or
 * nearly. */
#ifndef FL_HLL_H
#define FL_HLL_H

#include <stdbool.h>
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

/* A union of sketches built one at a time, with its estimate's inputs
 * kept up to date: adding a sketch costs a pass over its 128 words and
 * work only for its non-zero registers (a bucket's few failing clients),
 * and counting after each addition needs no pass over the registers. The
 * detector counts the window's distinct failing clients this way for
 * every window length at every bucket close. Counts equal fl_hll_count's
 * of the same registers. */
typedef struct fl_hll_union {
    fl_hll h;
    double sum;     /* sum of 2^-reg: exact while every rank is small */
    uint32_t zeros; /* registers still 0 */
    bool big_rank;  /* a rank too large for an exact running sum */
} fl_hll_union;

void fl_hll_union_reset(fl_hll_union *u);
void fl_hll_union_add(fl_hll_union *u, const fl_hll *src);
uint64_t fl_hll_union_count(const fl_hll_union *u);

#endif
