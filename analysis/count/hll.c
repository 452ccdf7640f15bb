/* hll.c - HyperLogLog with linear counting for small cardinalities. */
#include <math.h>
#include <string.h>

#include "fl_hll.h"
#include "fl_hash.h"


uint64_t fl_addr_hash(const fl_addr *a)
{
    uint64_t lo, hi;
    memcpy(&lo, a->b, 8);
    memcpy(&hi, a->b + 8, 8);
    return fl_mix64(lo ^ fl_mix64(hi + a->family));
}

void fl_hll_add_hash(fl_hll *h, uint64_t hash)
{
    uint32_t idx = (uint32_t)(hash >> (64 - FL_HLL_P));
    uint64_t rest = hash << FL_HLL_P;
    /* rank = position of the first 1 bit in the remaining 54 bits */
    uint8_t rank = rest ? (uint8_t)(__builtin_clzll(rest) + 1) : (uint8_t)(64 - FL_HLL_P + 1);
    if (rank > h->reg[idx])
        h->reg[idx] = rank;
}

void fl_hll_add_addr(fl_hll *h, const fl_addr *a)
{
    fl_hll_add_hash(h, fl_addr_hash(a));
}

void fl_hll_merge(fl_hll *dst, const fl_hll *src)
{
    for (uint32_t i = 0; i < FL_HLL_M; i++)
        if (src->reg[i] > dst->reg[i])
            dst->reg[i] = src->reg[i];
}

uint64_t fl_hll_count(const fl_hll *h)
{
    double m = FL_HLL_M, sum = 0;
    uint32_t zeros = 0;
    for (uint32_t i = 0; i < FL_HLL_M; i++) {
        sum += ldexp(1.0, -h->reg[i]);
        zeros += h->reg[i] == 0;
    }
    double alpha = 0.7213 / (1.0 + 1.079 / m);
    double est = alpha * m * m / sum;
    if (est <= 2.5 * m && zeros)
        est = m * log(m / zeros); /* linear counting */
    return (uint64_t)(est + 0.5);
}
