/* test_health.c - the sensor health state machine: blind, link, kernel
 * drops, one-way share, Redis lost and back; hysteresis; link state file. */
#include <check.h>
#include <string.h>

#include "fl_health.h"
#include "fl_log.h"
#include "fl_test_util.h"

static size_t step(fl_health *h, const fl_health_sample *s, fl_health_event *ev)
{
    memset(ev, 0, sizeof(fl_health_event) * FL_HEALTH_EVENTS_MAX);
    return fl_health_sample_in(h, s, ev);
}

START_TEST(blind_after_the_limit_and_back)
{
    fl_health_options o = FL_HEALTH_DEFAULTS;
    o.blind_after_s = 30;
    fl_health *h = fl_health_new(&o);
    fl_health_event ev[FL_HEALTH_EVENTS_MAX];
    fl_health_sample s = { .now = 1000, .last_packet = 1000, .link_up = -1 };

    ck_assert_uint_eq(step(h, &s, ev), 0);
    s.now = 1029;
    ck_assert_uint_eq(step(h, &s, ev), 0);
    ck_assert(!fl_health_is_blind(h));
    s.now = 1030;
    ck_assert_uint_eq(step(h, &s, ev), 1);
    ck_assert_int_eq(ev[0].kind, FL_HEALTH_BLIND);
    ck_assert_int_eq(ev[0].level, FL_LOG_ERR);
    ck_assert_str_eq(ev[0].text, "sensor blind: no packet for 30 s (limit 30 s); open alerts "
                                 "are unknown until packets return");
    ck_assert(fl_health_is_blind(h));
    /* Said once. */
    s.now = 1100;
    ck_assert_uint_eq(step(h, &s, ev), 0);
    s.last_packet = 1100;
    ck_assert_uint_eq(step(h, &s, ev), 1);
    ck_assert_int_eq(ev[0].kind, FL_HEALTH_SEEING);
    ck_assert_int_eq(ev[0].level, FL_LOG_NOTICE);
    ck_assert(!fl_health_is_blind(h));
    fl_health_free(h);

    /* blind_after_s 0 (replay): never blind. */
    o.blind_after_s = 0;
    h = fl_health_new(&o);
    s.now = 1e9;
    ck_assert_uint_eq(step(h, &s, ev), 0);
    ck_assert(!fl_health_is_blind(h));
    fl_health_free(h);
}
END_TEST

START_TEST(link_down_and_up)
{
    fl_health *h = fl_health_new(NULL);
    fl_health_event ev[FL_HEALTH_EVENTS_MAX];
    fl_health_sample s = { .now = 1, .link_up = 1 };
    ck_assert_uint_eq(step(h, &s, ev), 0); /* up at start: no news */
    s.link_up = 0;
    ck_assert_uint_eq(step(h, &s, ev), 1);
    ck_assert_int_eq(ev[0].kind, FL_HEALTH_LINK_DOWN);
    ck_assert_int_eq(ev[0].level, FL_LOG_ERR);
    ck_assert_uint_eq(step(h, &s, ev), 0);
    s.link_up = -1; /* unreadable: no change */
    ck_assert_uint_eq(step(h, &s, ev), 0);
    s.link_up = 1;
    ck_assert_uint_eq(step(h, &s, ev), 1);
    ck_assert_int_eq(ev[0].kind, FL_HEALTH_LINK_UP);
    fl_health_free(h);

    h = fl_health_new(NULL); /* down at start: news */
    s.link_up = 0;
    ck_assert_uint_eq(step(h, &s, ev), 1);
    ck_assert_int_eq(ev[0].kind, FL_HEALTH_LINK_DOWN);
    fl_health_free(h);
}
END_TEST

START_TEST(kernel_drops_rising_with_hysteresis)
{
    fl_health_options o = FL_HEALTH_DEFAULTS; /* 1 %, 60 s */
    fl_health *h = fl_health_new(&o);
    fl_health_event ev[FL_HEALTH_EVENTS_MAX];
    fl_health_sample s = { .now = 0, .link_up = -1 };
    ck_assert_uint_eq(step(h, &s, ev), 0);
    /* 2 % over a window: rising. */
    s.now = 60;
    s.packets = 9800;
    s.kernel_drops = 200;
    ck_assert_uint_eq(step(h, &s, ev), 1);
    ck_assert_int_eq(ev[0].kind, FL_HEALTH_DROPS_RISING);
    ck_assert_int_eq(ev[0].level, FL_LOG_WARNING);
    ck_assert_str_eq(ev[0].text, "kernel drops rising: 200 of 10000 packets (2.0%) dropped in "
                                 "the last 60 s; failure ratios are from a sample");
    /* 0.8 %: below the threshold but above half: still rising, no event. */
    s.now = 120;
    s.packets += 9920;
    s.kernel_drops += 80;
    ck_assert_uint_eq(step(h, &s, ev), 0);
    /* Mid-window samples judge nothing. */
    s.now = 150;
    s.packets += 10;
    ck_assert_uint_eq(step(h, &s, ev), 0);
    /* 0.1 %: normal. */
    s.now = 180;
    s.packets += 9990;
    s.kernel_drops += 10;
    ck_assert_uint_eq(step(h, &s, ev), 1);
    ck_assert_int_eq(ev[0].kind, FL_HEALTH_DROPS_NORMAL);
    fl_health_free(h);
}
END_TEST

START_TEST(one_way_share_rising)
{
    fl_health *h = fl_health_new(NULL); /* 20 %, 100 flows min */
    fl_health_event ev[FL_HEALTH_EVENTS_MAX];
    fl_health_sample s = { .now = 0, .link_up = -1 };
    step(h, &s, ev);
    /* 50 % of too few flows: not judged. */
    s.now = 60;
    s.flows = 50;
    s.one_way_flows = 25;
    ck_assert_uint_eq(step(h, &s, ev), 0);
    s.now = 120;
    s.flows += 1000;
    s.one_way_flows += 300;
    ck_assert_uint_eq(step(h, &s, ev), 1);
    ck_assert_int_eq(ev[0].kind, FL_HEALTH_ONE_WAY_RISING);
    ck_assert_ptr_nonnull(strstr(ev[0].text, "30% of 1000 new flows"));
    s.now = 180;
    s.flows += 1000;
    s.one_way_flows += 50;
    ck_assert_uint_eq(step(h, &s, ev), 1);
    ck_assert_int_eq(ev[0].kind, FL_HEALTH_ONE_WAY_NORMAL);
    /* Counters restarting (a new engine) rebase, never underflow. */
    s.now = 240;
    s.flows = 10;
    s.one_way_flows = 10;
    ck_assert_uint_eq(step(h, &s, ev), 0);
    fl_health_free(h);
}
END_TEST

START_TEST(redis_lost_and_back_with_backlog)
{
    fl_health *h = fl_health_new(NULL);
    fl_health_event ev[FL_HEALTH_EVENTS_MAX];
    fl_health_sample s = { .now = 100,
                           .link_up = -1,
                           .redis_configured = true,
                           .redis_connected = true,
                           .redis_dropped = 2 };
    ck_assert_uint_eq(step(h, &s, ev), 0);
    s.now = 110;
    s.redis_connected = false;
    s.redis_held = 3;
    s.redis_error = "unix:///nonexistent.sock: No such file or directory";
    ck_assert_uint_eq(step(h, &s, ev), 1);
    ck_assert_int_eq(ev[0].kind, FL_HEALTH_REDIS_LOST);
    ck_assert_int_eq(ev[0].level, FL_LOG_ERR);
    ck_assert_str_eq(ev[0].text, "redis lost (unix:///nonexistent.sock: No such file or "
                                 "directory): 3 batches held in memory, more are held until "
                                 "it is back");
    s.now = 150;
    s.redis_held = 40;
    s.redis_dropped = 7;
    ck_assert_uint_eq(step(h, &s, ev), 0);
    s.now = 152;
    s.redis_connected = true;
    s.redis_held = 0;
    ck_assert_uint_eq(step(h, &s, ev), 1);
    ck_assert_int_eq(ev[0].kind, FL_HEALTH_REDIS_BACK);
    ck_assert_str_eq(ev[0].text, "redis back after 42 s: 0 batches still held, 5 dropped "
                                 "while it was away");
    /* Not configured: never an event. */
    s.redis_configured = false;
    s.redis_connected = false;
    ck_assert_uint_eq(step(h, &s, ev), 0);
    fl_health_free(h);
}
END_TEST

START_TEST(everything_at_once_fits)
{
    fl_health_options o = FL_HEALTH_DEFAULTS;
    o.blind_after_s = 10;
    fl_health *h = fl_health_new(&o);
    fl_health_event ev[FL_HEALTH_EVENTS_MAX];
    fl_health_sample s = { .now = 0,
                           .last_packet = 0.5,
                           .link_up = 1,
                           .redis_configured = true,
                           .redis_connected = true };
    step(h, &s, ev);
    s = (fl_health_sample){ .now = 60,
                            .last_packet = 1,
                            .link_up = 0,
                            .packets = 100,
                            .kernel_drops = 100,
                            .flows = 200,
                            .one_way_flows = 200,
                            .redis_configured = true,
                            .redis_connected = false };
    ck_assert_uint_eq(step(h, &s, ev), 5);
    fl_health_free(h);
}
END_TEST

START_TEST(link_state_file)
{
    ck_assert_int_eq(fl_health_link_state("lo"), 1); /* "unknown" on Linux */
    ck_assert_int_eq(fl_health_link_state("no-such-if0"), -1);
    ck_assert_int_eq(fl_health_link_state("../lo"), -1);
    ck_assert_int_eq(fl_health_link_state(""), -1);
    ck_assert_int_eq(fl_health_link_state(NULL), -1);
}
END_TEST

static Suite *health_suite(void)
{
    Suite *s = suite_create("health");
    TCase *tc = tcase_create("health");
    tcase_add_test(tc, blind_after_the_limit_and_back);
    tcase_add_test(tc, link_down_and_up);
    tcase_add_test(tc, kernel_drops_rising_with_hysteresis);
    tcase_add_test(tc, one_way_share_rising);
    tcase_add_test(tc, redis_lost_and_back_with_backlog);
    tcase_add_test(tc, everything_at_once_fits);
    tcase_add_test(tc, link_state_file);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return fl_test_run(health_suite());
}
