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

/* 2^-r for every rank a register can hold (at most 64 - FL_HLL_P + 1):
 * exact powers of two, so the sum equals the one ldexp gave, without a
 * libm call per register (the estimate runs for every provider at every
 * bucket close). */
static const double pow2_neg[65] = {
    0x1p-0,  0x1p-1,  0x1p-2,  0x1p-3,  0x1p-4,  0x1p-5,  0x1p-6,  0x1p-7,  0x1p-8,  0x1p-9,
    0x1p-10, 0x1p-11, 0x1p-12, 0x1p-13, 0x1p-14, 0x1p-15, 0x1p-16, 0x1p-17, 0x1p-18, 0x1p-19,
    0x1p-20, 0x1p-21, 0x1p-22, 0x1p-23, 0x1p-24, 0x1p-25, 0x1p-26, 0x1p-27, 0x1p-28, 0x1p-29,
    0x1p-30, 0x1p-31, 0x1p-32, 0x1p-33, 0x1p-34, 0x1p-35, 0x1p-36, 0x1p-37, 0x1p-38, 0x1p-39,
    0x1p-40, 0x1p-41, 0x1p-42, 0x1p-43, 0x1p-44, 0x1p-45, 0x1p-46, 0x1p-47, 0x1p-48, 0x1p-49,
    0x1p-50, 0x1p-51, 0x1p-52, 0x1p-53, 0x1p-54, 0x1p-55, 0x1p-56, 0x1p-57, 0x1p-58, 0x1p-59,
    0x1p-60, 0x1p-61, 0x1p-62, 0x1p-63, 0x1p-64
};

static double neg_pow2(uint8_t r)
{
    return r < 65 ? pow2_neg[r] : ldexp(1.0, -r);
}

/* The estimate from the sum of 2^-reg and the zero registers. */
static uint64_t estimate(double sum, uint32_t zeros)
{
    double m = FL_HLL_M;
    double alpha = 0.7213 / (1.0 + 1.079 / m);
    double est = alpha * m * m / sum;
    if (est <= 2.5 * m && zeros)
        est = m * log(m / zeros); /* linear counting */
    return (uint64_t)(est + 0.5);
}

uint64_t fl_hll_count(const fl_hll *h)
{
    double sum = 0;
    uint32_t zeros = 0;
    for (uint32_t i = 0; i < FL_HLL_M; i++) {
        sum += neg_pow2(h->reg[i]);
        zeros += h->reg[i] == 0;
    }
    return estimate(sum, zeros);
}

/* Up to this rank every 2^-reg is a multiple of 2^-EXACT_RANK and the sum
 * is at most 2^FL_HLL_P, so a running sum of additions and subtractions
 * is exact in a double's 53 bits and equals the dense loop's sum. A
 * larger rank (a chance of 2^-43 per address) falls back to that loop. */
#define EXACT_RANK (52 - FL_HLL_P)

void fl_hll_union_reset(fl_hll_union *u)
{
    memset(&u->h, 0, sizeof u->h);
    u->sum = FL_HLL_M;
    u->zeros = FL_HLL_M;
    u->big_rank = false;
}

void fl_hll_union_add(fl_hll_union *u, const fl_hll *src)
{
    for (uint32_t w = 0; w < FL_HLL_M / 8; w++) {
        uint64_t word;
        memcpy(&word, src->reg + 8 * w, 8);
        if (!word)
            continue;
        for (uint32_t i = 8 * w; i < 8 * w + 8; i++) {
            uint8_t r = src->reg[i], old = u->h.reg[i];
            if (r <= old)
                continue;
            u->h.reg[i] = r;
            u->zeros -= old == 0;
            u->sum += neg_pow2(r) - neg_pow2(old);
            u->big_rank = u->big_rank || r > EXACT_RANK;
        }
    }
}

uint64_t fl_hll_union_count(const fl_hll_union *u)
{
    return u->big_rank ? fl_hll_count(&u->h) : estimate(u->sum, u->zeros);
}
