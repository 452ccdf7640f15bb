/* test_flow.c - the flow table: orientation, symmetric lookup, idle expiry
 * per class, eviction of the oldest at the cap, slot reuse. */
#include <check.h>
#include <string.h>

#include "fl_flow.h"
#include "fl_test_util.h"

static fl_packet make_pkt(const char *src, uint16_t sport, const char *dst, uint16_t dport,
                          uint8_t proto, uint64_t ts)
{
    fl_packet p;
    memset(&p, 0, sizeof p);
    ck_assert(fl_addr_parse(src, &p.src));
    ck_assert(fl_addr_parse(dst, &p.dst));
    p.sport = sport;
    p.dport = dport;
    p.l4_proto = proto;
    p.ts_us = ts;
    return p;
}

typedef struct ended {
    int count, evicted;
    uint16_t last_cport;
} ended;

static void on_end(void *ctx, fl_flow *f, fl_flow_end_why why)
{
    ended *e = ctx;
    e->count++;
    e->evicted += why == FL_FLOW_END_EVICTED;
    e->last_cport = f->cport;
}

static const uint64_t idle[FL_FC_COUNT] = { 30000000, 300000000, 10000000, 60000000, 60000000 };

START_TEST(test_orientation_and_symmetric_lookup)
{
    ended e = { 0 };
    fl_flow_table *t = fl_flow_table_new(16, 42, idle, on_end, &e);
    fl_packet syn = make_pkt("10.0.0.1", 40000, "104.16.1.1", 443, 6, 1000000);
    bool fc;
    ck_assert_ptr_null(fl_flow_lookup(t, &syn, &fc));
    fl_flow *f = fl_flow_create(t, &syn, true);
    ck_assert_ptr_nonnull(f);
    char buf[64];
    ck_assert_str_eq(fl_addr_str(&f->client, buf, sizeof buf), "10.0.0.1");
    ck_assert_str_eq(fl_addr_str(&f->server, buf, sizeof buf), "104.16.1.1");
    ck_assert_uint_eq(f->cport, 40000);
    ck_assert_uint_eq(f->sport, 443);

    fl_packet back = make_pkt("104.16.1.1", 443, "10.0.0.1", 40000, 6, 1100000);
    ck_assert_ptr_eq(fl_flow_lookup(t, &back, &fc), f);
    ck_assert(!fc);
    ck_assert_ptr_eq(fl_flow_lookup(t, &syn, &fc), f);
    ck_assert(fc);

    /* another port, another protocol, another VLAN: other flows */
    fl_packet other = make_pkt("10.0.0.1", 40001, "104.16.1.1", 443, 6, 1000000);
    ck_assert_ptr_null(fl_flow_lookup(t, &other, &fc));
    fl_packet udp = make_pkt("10.0.0.1", 40000, "104.16.1.1", 443, 17, 1000000);
    ck_assert_ptr_null(fl_flow_lookup(t, &udp, &fc));
    fl_packet vlan = syn;
    vlan.vlan = 7;
    ck_assert_ptr_null(fl_flow_lookup(t, &vlan, &fc));

    /* IPv6, created from the client's packet, found from the server's */
    fl_packet v6 = make_pkt("fd00::1", 5555, "2606:4700::1", 443, 6, 1000000);
    fl_flow *h = fl_flow_create(t, &v6, true);
    fl_packet v6b = make_pkt("2606:4700::1", 443, "fd00::1", 5555, 6, 1000000);
    ck_assert_ptr_eq(fl_flow_lookup(t, &v6b, &fc), h);
    ck_assert(!fc);
    fl_flow_table_free(t);
}
END_TEST

START_TEST(test_idle_expiry_per_class)
{
    ended e = { 0 };
    fl_flow_table *t = fl_flow_table_new(16, 1, idle, on_end, &e);
    fl_packet a = make_pkt("10.0.0.1", 1000, "8.8.8.8", 53, 17, 0);
    fl_packet b = make_pkt("10.0.0.2", 1000, "1.2.3.4", 80, 6, 0);
    fl_flow *fa = fl_flow_create(t, &a, true);
    fl_flow *fb = fl_flow_create(t, &b, true);
    fl_flow_touch(t, fb, FL_FC_TCP_ESTABLISHED, 0);
    ck_assert_uint_eq(fa->fclass, FL_FC_UDP);
    ck_assert_uint_eq(fb->fclass, FL_FC_TCP_ESTABLISHED);
    fl_flow_expire(t, 59999999); /* UDP idle is 60 s */
    ck_assert_int_eq(e.count, 0);
    fl_flow_expire(t, 60000000);
    ck_assert_int_eq(e.count, 1);
    ck_assert_uint_eq(e.last_cport, 1000);
    bool fc;
    ck_assert_ptr_null(fl_flow_lookup(t, &a, &fc));
    ck_assert_ptr_eq(fl_flow_lookup(t, &b, &fc), fb);
    /* activity re-arms: touched at 200 s, still alive at 450 s, gone at 500 s */
    fl_flow_touch(t, fb, FL_FC_TCP_ESTABLISHED, 200000000);
    fl_flow_expire(t, 450000000);
    ck_assert_int_eq(e.count, 1);
    fl_flow_expire(t, 500000000);
    ck_assert_int_eq(e.count, 2);
    fl_flow_stats st;
    fl_flow_get_stats(t, &st);
    ck_assert_uint_eq(st.expired, 2);
    ck_assert_uint_eq(st.active, 0);
    fl_flow_table_free(t);
}
END_TEST

START_TEST(test_eviction_at_cap_takes_oldest)
{
    ended e = { 0 };
    fl_flow_table *t = fl_flow_table_new(4, 7, idle, on_end, &e);
    fl_flow *first = NULL;
    for (int i = 0; i < 4; i++) {
        fl_packet p =
            make_pkt("10.0.0.1", (uint16_t)(2000 + i), "1.1.1.1", 443, 6, (uint64_t)i * 1000000);
        fl_flow *f = fl_flow_create(t, &p, true);
        if (i == 0)
            first = f;
    }
    ck_assert_ptr_nonnull(first);
    uint32_t gen0 = first->gen;
    /* flow 0 becomes the most recent: flow 1 is now the oldest */
    fl_flow_touch(t, first, FL_FC_TCP_OPENING, 10000000);
    fl_packet p = make_pkt("10.0.0.1", 3000, "1.1.1.1", 443, 6, 11000000);
    fl_flow *nf = fl_flow_create(t, &p, true);
    ck_assert_ptr_nonnull(nf);
    ck_assert_int_eq(e.count, 1);
    ck_assert_int_eq(e.evicted, 1);
    ck_assert_uint_eq(e.last_cport, 2001);
    ck_assert_uint_eq(first->gen, gen0); /* untouched */
    bool fc;
    fl_packet p1 = make_pkt("10.0.0.1", 2001, "1.1.1.1", 443, 6, 0);
    ck_assert_ptr_null(fl_flow_lookup(t, &p1, &fc));
    fl_flow_stats st;
    fl_flow_get_stats(t, &st);
    ck_assert_uint_eq(st.evicted, 1);
    ck_assert_uint_eq(st.active, 4);
    /* the evicted slot was reused with a new generation */
    ck_assert_uint_eq(fl_flow_index(t, nf) < 4, 1);
    fl_flow_drain(t);
    ck_assert_int_eq(e.count, 5);
    fl_flow_get_stats(t, &st);
    ck_assert_uint_eq(st.active, 0);
    fl_flow_table_free(t);
}
END_TEST

START_TEST(test_remove_bumps_generation)
{
    ended e = { 0 };
    fl_flow_table *t = fl_flow_table_new(2, 3, idle, on_end, &e);
    fl_packet p = make_pkt("10.1.1.1", 1, "2.2.2.2", 2, 6, 5);
    fl_flow *f = fl_flow_create(t, &p, true);
    uint32_t idx = fl_flow_index(t, f), gen = f->gen;
    fl_flow_remove(t, f);
    ck_assert_uint_eq(fl_flow_at(t, idx)->gen, gen + 1);
    ck_assert_ptr_null(fl_flow_at(t, 99));
    fl_flow_table_free(t);
}
END_TEST

static Suite *flow_suite(void)
{
    Suite *s = suite_create("flow_table");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_orientation_and_symmetric_lookup);
    tcase_add_test(tc, test_idle_expiry_per_class);
    tcase_add_test(tc, test_eviction_at_cap_takes_oldest);
    tcase_add_test(tc, test_remove_bumps_generation);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return fl_test_run(flow_suite());
}
