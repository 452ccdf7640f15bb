/* test_hll.c - the distinct-client sketch: small sets counted nearly exactly,
 * large ones within the sketch's error, and the running union the
 * detector uses equal to merging and counting the dense registers. */
#include <stdlib.h>
#include <string.h>

#include "fl_hll.h"
#include "fl_test_util.h"

static fl_addr client(uint32_t n)
{
    fl_addr a;
    memset(&a, 0, sizeof a);
    a.family = 4;
    a.b[0] = 10;
    a.b[1] = (uint8_t)(n >> 16);
    a.b[2] = (uint8_t)(n >> 8);
    a.b[3] = (uint8_t)n;
    return a;
}

START_TEST(counts_distinct_clients)
{
    fl_hll h;
    memset(&h, 0, sizeof h);
    ck_assert_uint_eq(fl_hll_count(&h), 0);
    for (uint32_t i = 0; i < 40; i++) {
        fl_addr a = client(i);
        fl_hll_add_addr(&h, &a);
        fl_hll_add_addr(&h, &a); /* twice: still one client */
    }
    /* linear counting: tens of clients nearly exact (a collision or few) */
    uint64_t small = fl_hll_count(&h);
    ck_assert_msg(small >= 36 && small <= 44, "40 clients counted as %llu",
                  (unsigned long long)small);
    for (uint32_t i = 40; i < 20000; i++) {
        fl_addr a = client(i);
        fl_hll_add_addr(&h, &a);
    }
    /* 2^10 registers: a standard error of 1.04/sqrt(1024), about 3 % */
    uint64_t n = fl_hll_count(&h);
    ck_assert_msg(n > 18200 && n < 21800, "20000 clients counted as %llu", (unsigned long long)n);
}
END_TEST

/* Buckets of failing clients, some overlapping, as the detector's window
 * holds them: after each bucket the running union's count equals the
 * count of the dense merge of the same buckets. */
START_TEST(union_equals_dense_merge)
{
    srand(7);
    for (int trial = 0; trial < 200; trial++) {
        fl_hll_union u;
        fl_hll_union_reset(&u);
        fl_hll dense;
        memset(&dense, 0, sizeof dense);
        ck_assert_uint_eq(fl_hll_union_count(&u), 0);
        int buckets = 1 + rand() % 30;
        for (int b = 0; b < buckets; b++) {
            fl_hll bucket;
            memset(&bucket, 0, sizeof bucket);
            int clients = rand() % (trial < 100 ? 20 : 3000);
            for (int c = 0; c < clients; c++) {
                fl_addr a = client((uint32_t)(rand() % 50000));
                fl_hll_add_addr(&bucket, &a);
            }
            fl_hll_union_add(&u, &bucket);
            fl_hll_merge(&dense, &bucket);
            ck_assert_uint_eq(fl_hll_union_count(&u), fl_hll_count(&dense));
            ck_assert_mem_eq(u.h.reg, dense.reg, sizeof dense.reg);
        }
    }
}
END_TEST

/* A rank too large for an exact running sum (a hash with 50 leading
 * zeros after the index bits) still counts as the dense loop does. */
START_TEST(union_with_a_huge_rank)
{
    fl_hll one, dense;
    memset(&one, 0, sizeof one);
    memset(&dense, 0, sizeof dense);
    fl_hll_add_hash(&one, (5ull << (64 - FL_HLL_P)) | 1ull << 3);
    ck_assert_uint_gt(one.reg[5], 50);
    for (uint32_t i = 0; i < 300; i++) {
        fl_addr a = client(i);
        fl_hll_add_addr(&one, &a);
    }
    fl_hll_union u;
    fl_hll_union_reset(&u);
    fl_hll_union_add(&u, &one);
    fl_hll_merge(&dense, &one);
    ck_assert(u.big_rank);
    ck_assert_uint_eq(fl_hll_union_count(&u), fl_hll_count(&dense));
}
END_TEST

static Suite *hll_suite(void)
{
    Suite *s = suite_create("hll");
    TCase *t = tcase_create("sketch");
    tcase_add_test(t, counts_distinct_clients);
    tcase_add_test(t, union_equals_dense_merge);
    tcase_add_test(t, union_with_a_huge_rank);
    suite_add_tcase(s, t);
    return s;
}

int main(void)
{
    return fl_test_run(hll_suite());
}
