/* test_flow_parts.c - the flow stage's helpers the engine drives: the timer
 * ring, the pending-DNS table, TCP sequence tracking, direction guessing. */
#include <check.h>
#include <netinet/in.h>
#include <string.h>

#include "fl_dns_pending.h"
#include "fl_tcp_track.h"
#include "fl_test_util.h"
#include "fl_timer_ring.h"

START_TEST(test_timer_ring_order_and_full)
{
    fl_timer_ring r = { 0 };
    ck_assert(fl_timer_ring_init(&r, 3));
    fl_timer t = { 0 }, out;
    ck_assert(!fl_timer_ring_pop(&r, &out));
    for (uint32_t i = 0; i < 3; i++) {
        t.deadline_us = 100 + i * 10;
        t.flow = i;
        fl_timer_ring_push(&r, &t);
    }
    ck_assert(fl_timer_ring_full(&r));
    /* pushing into a full ring leaves the queued timers alone */
    t.flow = 99;
    fl_timer_ring_push(&r, &t);
    ck_assert(!fl_timer_ring_pop_due(&r, 99, &out));
    ck_assert(fl_timer_ring_pop_due(&r, 110, &out));
    ck_assert_uint_eq(out.flow, 0);
    ck_assert(fl_timer_ring_pop_due(&r, 110, &out));
    ck_assert_uint_eq(out.flow, 1);
    ck_assert(!fl_timer_ring_pop_due(&r, 110, &out));
    /* wrap around the end of the array */
    t.deadline_us = 200;
    t.flow = 3;
    fl_timer_ring_push(&r, &t);
    ck_assert(fl_timer_ring_pop(&r, &out));
    ck_assert_uint_eq(out.flow, 2);
    ck_assert(fl_timer_ring_pop(&r, &out));
    ck_assert_uint_eq(out.flow, 3);
    ck_assert(!fl_timer_ring_pop(&r, &out));
    fl_timer_ring_free(&r);
}
END_TEST

static fl_dns_query query(uint32_t flow, uint16_t id, uint64_t deadline)
{
    fl_dns_query q;
    memset(&q, 0, sizeof q);
    q.flow = flow;
    q.gen = 1;
    q.id = id;
    q.provider = (uint16_t)(flow + 10);
    q.deadline_us = deadline;
    return q;
}

START_TEST(test_dns_pending_match_retransmit_expire)
{
    fl_dns_pending *t = fl_dns_pending_new(4);
    ck_assert_ptr_nonnull(t);
    bool dropped;
    fl_dns_query q = query(1, 0x1234, 100), out;
    ck_assert(fl_dns_pending_add(t, &q, &dropped));
    ck_assert(!dropped);
    ck_assert(!fl_dns_pending_add(t, &q, &dropped)); /* retransmission */
    q = query(2, 0x1234, 110);
    ck_assert(fl_dns_pending_add(t, &q, &dropped));
    /* an answer matches on flow, generation and id */
    ck_assert(!fl_dns_pending_answer(t, 2, 2, 0x1234, &out));
    ck_assert(fl_dns_pending_answer(t, 2, 1, 0x1234, &out));
    ck_assert_uint_eq(out.provider, 12);
    ck_assert(!fl_dns_pending_answer(t, 2, 1, 0x1234, &out));
    /* the answered query never times out; the other one does, once */
    ck_assert(!fl_dns_pending_expire(t, 99, &out));
    ck_assert(fl_dns_pending_expire(t, 1000, &out));
    ck_assert_uint_eq(out.flow, 1);
    ck_assert_uint_eq(out.deadline_us, 100);
    ck_assert(!fl_dns_pending_expire(t, 1000, &out));
    fl_dns_pending_free(t);
}
END_TEST

START_TEST(test_dns_pending_full_drops_oldest)
{
    fl_dns_pending *t = fl_dns_pending_new(2);
    bool dropped;
    fl_dns_query q, out;
    for (uint16_t i = 0; i < 2; i++) {
        q = query(i, i, 100 + i);
        ck_assert(fl_dns_pending_add(t, &q, &dropped));
        ck_assert(!dropped);
    }
    q = query(5, 5, 200);
    ck_assert(fl_dns_pending_add(t, &q, &dropped));
    ck_assert(dropped);
    ck_assert(!fl_dns_pending_answer(t, 0, 1, 0, &out)); /* the dropped one */
    ck_assert(fl_dns_pending_answer(t, 1, 1, 1, &out));
    /* the head slot is answered: adding again drops nothing live */
    q = query(6, 6, 300);
    ck_assert(fl_dns_pending_add(t, &q, &dropped));
    ck_assert(!dropped);
    ck_assert(fl_dns_pending_expire(t, UINT64_MAX, &out));
    ck_assert_uint_eq(out.flow, 5);
    ck_assert(fl_dns_pending_expire(t, UINT64_MAX, &out));
    ck_assert_uint_eq(out.flow, 6);
    ck_assert(!fl_dns_pending_expire(t, UINT64_MAX, &out));
    fl_dns_pending_free(t);
}
END_TEST

START_TEST(test_tcp_track_retransmit_gap_wrap)
{
    fl_flow f;
    memset(&f, 0, sizeof f);
    static const uint8_t bytes[8] = "abcdefgh";
    const uint8_t *d = bytes;
    uint32_t len = 4;
    /* first bytes of a direction on a flow that began with a SYN */
    ck_assert_int_eq(fl_tcp_track_segment(&f, true, 0xfffffffe, false, &d, &len), FL_SEG_IN_ORDER);
    ck_assert_uint_eq(f.next_seq[0], 2); /* wrapped past 2^32 */
    /* overlap: two bytes seen already are cut */
    d = bytes;
    len = 6;
    ck_assert_int_eq(fl_tcp_track_segment(&f, true, 0, false, &d, &len), FL_SEG_IN_ORDER);
    ck_assert_ptr_eq(d, bytes + 2);
    ck_assert_uint_eq(len, 4);
    ck_assert_uint_eq(f.next_seq[0], 6);
    /* all seen: a retransmission, nothing advances */
    d = bytes;
    len = 3;
    ck_assert_int_eq(fl_tcp_track_segment(&f, true, 2, false, &d, &len), FL_SEG_SEEN);
    ck_assert_uint_eq(f.next_seq[0], 6);
    /* a hole */
    d = bytes;
    len = 2;
    ck_assert_int_eq(fl_tcp_track_segment(&f, true, 10, false, &d, &len), FL_SEG_AFTER_GAP);
    ck_assert_uint_eq(f.next_seq[0], 12);
    /* a server direction first seen on a flow joined mid-stream; a SYN takes
     * one sequence number */
    f.state |= FL_FS_MIDSTREAM;
    d = bytes;
    len = 3;
    ck_assert_int_eq(fl_tcp_track_segment(&f, false, 100, true, &d, &len), FL_SEG_JOINED);
    ck_assert_uint_eq(f.next_seq[1], 104);
    ck_assert(f.state & FL_FS_SEQ_SERVER);
}
END_TEST

START_TEST(test_tcp_flow_class)
{
    fl_flow f;
    memset(&f, 0, sizeof f);
    f.state = FL_FS_SYN;
    ck_assert_int_eq(fl_tcp_flow_class(&f), FL_FC_TCP_OPENING);
    f.state |= FL_FS_ESTABLISHED;
    ck_assert_int_eq(fl_tcp_flow_class(&f), FL_FC_TCP_ESTABLISHED);
    f.state |= FL_FS_FIN_CLIENT;
    ck_assert_int_eq(fl_tcp_flow_class(&f), FL_FC_TCP_ESTABLISHED);
    f.state |= FL_FS_FIN_SERVER;
    ck_assert_int_eq(fl_tcp_flow_class(&f), FL_FC_TCP_CLOSED);
    f.state = FL_FS_RST;
    ck_assert_int_eq(fl_tcp_flow_class(&f), FL_FC_TCP_CLOSED);
}
END_TEST

START_TEST(test_direction_guess)
{
    fl_packet p;
    memset(&p, 0, sizeof p);
    p.l4_proto = IPPROTO_TCP;
    p.sport = 443;
    p.dport = 50000;
    p.tcp_flags = FL_TCP_SYN;
    ck_assert(fl_flow_guess_src_is_client(&p)); /* a SYN opens */
    p.tcp_flags = FL_TCP_SYN | FL_TCP_ACK;
    ck_assert(!fl_flow_guess_src_is_client(&p));
    p.tcp_flags = FL_TCP_ACK;
    ck_assert(!fl_flow_guess_src_is_client(&p)); /* from a server port */
    p.sport = 50000;
    p.dport = 8443;
    ck_assert(fl_flow_guess_src_is_client(&p));
    /* DNS: the QR bit says which way, whatever the ports; every prefix of
     * the header is read safely */
    static const uint8_t resp[3] = { 0x12, 0x34, 0x81 };
    p.l4_proto = IPPROTO_UDP;
    p.sport = 40000;
    p.dport = FL_PORT_DNS;
    p.payload = resp;
    p.payload_len = 3;
    ck_assert(!fl_flow_guess_src_is_client(&p));
    for (uint32_t n = 0; n < 3; n++) {
        p.payload_len = n;
        ck_assert(fl_flow_guess_src_is_client(&p)); /* too short: by port */
    }
}
END_TEST

static Suite *flow_parts_suite(void)
{
    Suite *s = suite_create("flow_parts");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_timer_ring_order_and_full);
    tcase_add_test(tc, test_dns_pending_match_retransmit_expire);
    tcase_add_test(tc, test_dns_pending_full_drops_oldest);
    tcase_add_test(tc, test_tcp_track_retransmit_gap_wrap);
    tcase_add_test(tc, test_tcp_flow_class);
    tcase_add_test(tc, test_direction_guess);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return fl_test_run(flow_parts_suite());
}
