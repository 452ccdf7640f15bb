/* test_hostile.c - hostile captures, generated here (nothing big committed):
 * timestamps that step back, a flood of new flows with IPv6
 * fragments at line rate, snaplen-truncated packets everywhere, and tunnels
 * nested (ERSPAN, VXLAN, GRE) to the decoder's depth limit. Each case checks
 * what the analysis must still get right, not merely that it survives. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "fl_engine.h"
#include "fl_test_util.h"

/* ---------------------------------------------------------------- frames */

typedef struct frame_buf {
    uint8_t b[2048];
    uint32_t n;
} frame_buf;

static void put(frame_buf *f, const void *p, uint32_t n)
{
    ck_assert_uint_le(f->n + n, sizeof f->b);
    memcpy(f->b + f->n, p, n);
    f->n += n;
}

static void put16(frame_buf *f, uint16_t v)
{
    uint8_t b[2] = { (uint8_t)(v >> 8), (uint8_t)v };
    put(f, b, 2);
}

static void put32(frame_buf *f, uint32_t v)
{
    put16(f, (uint16_t)(v >> 16));
    put16(f, (uint16_t)v);
}

static void eth(frame_buf *f, uint16_t type)
{
    static const uint8_t macs[12] = { 2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2 };
    put(f, macs, 12);
    put16(f, type);
}

/* IPv4 header (RFC 791) with total length = 20 + body. */
static void ipv4(frame_buf *f, uint32_t src, uint32_t dst, uint8_t proto, uint32_t body)
{
    put16(f, 0x4500);
    put16(f, (uint16_t)(20 + body));
    put32(f, 0);
    put16(f, (uint16_t)(64 << 8 | proto));
    put16(f, 0);
    put32(f, src);
    put32(f, dst);
}

static void tcp(frame_buf *f, uint16_t sport, uint16_t dport, uint32_t seq, uint32_t ack,
                uint8_t flags)
{
    put16(f, sport);
    put16(f, dport);
    put32(f, seq);
    put32(f, ack);
    put16(f, (uint16_t)(5 << 12 | flags));
    put16(f, 65535);
    put32(f, 0);
}

/* ------------------------------------------------------------ pcap files */

typedef struct pcap_out {
    char path[256];
    FILE *fp;
    uint32_t frames;
} pcap_out;

static void pcap_open(pcap_out *o, uint32_t linktype)
{
    snprintf(o->path, sizeof o->path, "%s/fl_hostile_%d.pcap",
             getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp", (int)getpid());
    o->fp = fopen(o->path, "wb");
    ck_assert_ptr_nonnull(o->fp);
    uint32_t h[6] = { 0xa1b2c3d4, 0x00040002, 0, 0, 65535, linktype };
    ck_assert_uint_eq(fwrite(h, 4, 6, o->fp), 6);
    o->frames = 0;
}

static void pcap_frame(pcap_out *o, uint64_t ts_us, const uint8_t *p, uint32_t caplen,
                       uint32_t wire)
{
    uint32_t h[4] = { (uint32_t)(ts_us / 1000000), (uint32_t)(ts_us % 1000000), caplen, wire };
    ck_assert_uint_eq(fwrite(h, 4, 4, o->fp), 4);
    ck_assert_uint_eq(fwrite(p, 1, caplen, o->fp), caplen);
    o->frames++;
}

static void pcap_close(pcap_out *o)
{
    ck_assert_int_eq(fclose(o->fp), 0);
}

/* ------------------------------------------------------------ the engine */

typedef struct run_result {
    fl_engine_stats st;
    fl_flow_stats flows;
    fl_counts totals;
    uint64_t late;
    uint64_t first_bucket, last_bucket;
    size_t history;
    uint64_t *starts; /* of every history entry (static, reused) */
} run_result;

static fl_config cfg;

static void config_with(const char *const *overrides)
{
    fl_config_defaults(&cfg);
    fl_config_resolve_paths(&cfg);
    char err[256];
    for (; overrides && overrides[0]; overrides += 2)
        ck_assert_msg(fl_config_set(&cfg, overrides[0], overrides[1], err, sizeof err), "%s", err);
}

static void run_file(const char *path, run_result *r)
{
    char err[1024];
    fl_engine *e = fl_engine_new(&cfg, err, sizeof err);
    ck_assert_msg(e != NULL, "%s", err);
    fl_source_options opt = { 0 };
    fl_source *s = fl_source_open_files(&path, 1, &opt, err, sizeof err);
    ck_assert_msg(s != NULL, "%s", err);
    fl_frame fr;
    while (fl_source_next(s, &fr) == FL_SRC_FRAME)
        fl_engine_frame(e, &fr);
    fl_source_close(s);
    fl_engine_finish(e);
    fl_engine_get_stats(e, &r->st);
    fl_engine_flow_stats(e, &r->flows);
    fl_aggregate *a = fl_engine_aggregate(e);
    uint64_t clients;
    fl_aggregate_grand_totals(a, &r->totals, &clients);
    r->late = fl_aggregate_late_facts(a);
    const fl_history_entry *h;
    r->history = fl_aggregate_history(a, &h);
    r->first_bucket = UINT64_MAX;
    r->last_bucket = 0;
    static uint64_t *starts;
    free(starts);
    starts = r->starts = calloc(r->history + 1, sizeof *starts);
    ck_assert_ptr_nonnull(starts);
    for (size_t i = 0; i < r->history; i++) {
        starts[i] = h[i].start;
        if (h[i].start < r->first_bucket)
            r->first_bucket = h[i].start;
        if (h[i].start > r->last_bucket)
            r->last_bucket = h[i].start;
    }
    fl_engine_free(e);
}

/* ------------------------------------------------------ time that jumps */

#define T0 (1760950800ULL * 1000000) /* 2025-10-20 09:00 UTC */

/* Small backward steps (reordering across merged interfaces): every
 * attempt is still counted. */
START_TEST(timestamps_small_steps_back)
{
    pcap_out o = { 0 };
    pcap_open(&o, 1);
    frame_buf f;
    for (uint32_t i = 0; i < 200; i++) {
        uint64_t t = T0 + (uint64_t)i * 100000 - (i % 2 ? 2000000 : 0);
        f.n = 0;
        eth(&f, 0x0800);
        ipv4(&f, 0x0a000001 + i, 0x5db8d822, 6, 20);
        tcp(&f, (uint16_t)(30000 + i), 80, i, 0, 0x02);
        pcap_frame(&o, t, f.b, f.n, f.n);
    }
    pcap_close(&o);
    config_with(NULL);
    run_result r;
    run_file(o.path, &r);
    unlink(o.path);
    ck_assert_uint_eq(r.totals.v[FL_C_tcp_attempts], 200);
}
END_TEST

/* A clock that jumps by years, both ways (a merged capture of files years
 * apart, a sensor whose clock is stepped): each jump is a discontinuity
 * (fl_engine.h FL_TIME_JUMP_MIN_US). Every segment holds complete
 * exchanges, SYNs left unanswered long before the segment ends (those, and
 * only those, are timeouts), and a SYN and a query answered across the
 * jump. */

#define YEAR_US (365ULL * 86400 * 1000000)
enum { SEG_CONNS = 20, SEG_LOST = 3, SEG_DNS = 10, SEG_LEN_S = 30 };

static void udp(frame_buf *f, uint16_t sport, uint16_t dport, uint32_t body)
{
    put16(f, sport);
    put16(f, dport);
    put16(f, (uint16_t)(8 + body));
    put16(f, 0);
}

/* A DNS query or its NOERROR answer (RFC 1035 4.1) for example.com A. */
static void dns_msg(frame_buf *f, uint16_t id, bool response)
{
    static const uint8_t q[] = { 7,   'e', 'x', 'a', 'm', 'p', 'l', 'e', 3,
                                 'c', 'o', 'm', 0,   0,   1,   0,   1 };
    put16(f, id);
    put16(f, response ? 0x8180 : 0x0100);
    put16(f, 1);
    put16(f, 0);
    put32(f, 0);
    put(f, q, sizeof q);
}

/* Frames of one segment, written in time order. */
typedef struct timed_frame {
    uint64_t t;
    frame_buf f;
} timed_frame;

static timed_frame seg_frames[256];
static uint32_t seg_n;

static int by_time(const void *a, const void *b)
{
    uint64_t x = ((const timed_frame *)a)->t, y = ((const timed_frame *)b)->t;
    return x < y ? -1 : x > y;
}

static void seg_flush(pcap_out *o)
{
    qsort(seg_frames, seg_n, sizeof seg_frames[0], by_time);
    for (uint32_t i = 0; i < seg_n; i++)
        pcap_frame(o, seg_frames[i].t, seg_frames[i].f.b, seg_frames[i].f.n, seg_frames[i].f.n);
    seg_n = 0;
}

static frame_buf *seg_add(uint64_t t)
{
    ck_assert_uint_lt(seg_n, sizeof seg_frames / sizeof seg_frames[0]);
    seg_frames[seg_n].t = t;
    seg_frames[seg_n].f.n = 0;
    return &seg_frames[seg_n++].f;
}

static void tcp_frame(uint64_t t, uint32_t cli, uint16_t cport, bool to_server, uint32_t seq,
                      uint32_t ack, uint8_t flags)
{
    frame_buf *f = seg_add(t);
    eth(f, 0x0800);
    if (to_server) {
        ipv4(f, cli, 0x68100001, 6, 20); /* 104.16.0.1, Cloudflare */
        tcp(f, cport, 443, seq, ack, flags);
    } else {
        ipv4(f, 0x68100001, cli, 6, 20);
        tcp(f, 443, cport, seq, ack, flags);
    }
}

static void dns_frame(uint64_t t, uint32_t cli, uint16_t cport, uint16_t id, bool answer)
{
    frame_buf *f = seg_add(t);
    eth(f, 0x0800);
    uint32_t r = 0x01010101; /* 1.1.1.1 */
    ipv4(f, answer ? r : cli, answer ? cli : r, 17, 8 + 29);
    udp(f, answer ? 53 : cport, answer ? cport : 53, 29);
    dns_msg(f, id, answer);
}

/* One segment of SEG_LEN_S seconds from t0; seg numbers the clients. With
 * straddle, the segment ends with a SYN and a query whose answers open the
 * next one (a clock stepped between question and answer). */
static void segment(pcap_out *o, uint64_t t0, uint32_t seg, bool answers_first, bool straddle)
{
    uint32_t cli = 0x0a000000u | seg << 8;
    if (answers_first) { /* to the previous segment's straddling SYN and query */
        uint32_t prev = 0x0a000000u | (seg - 1) << 8;
        tcp_frame(t0, prev + 250, 45000, false, 9000, 1001, 0x12);
        dns_frame(t0 + 1000, prev + 251, 34000, 0x4242, true);
    }
    for (uint32_t i = 0; i < SEG_LOST; i++) /* at 0.1 s: deadlines well inside */
        tcp_frame(t0 + 100000 + i * 1000, cli + 200 + i, (uint16_t)(50000 + i), true, 7, 0, 0x02);
    for (uint32_t i = 0; i < SEG_CONNS; i++) {
        uint64_t t = t0 + 1000000 + (uint64_t)i * 1000000; /* one a second */
        uint16_t cp = (uint16_t)(40000 + i);
        tcp_frame(t, cli + i, cp, true, 1000, 0, 0x02);              /* SYN */
        tcp_frame(t + 20000, cli + i, cp, false, 5000, 1001, 0x12);  /* SYN-ACK */
        tcp_frame(t + 40000, cli + i, cp, true, 1001, 5001, 0x10);   /* ACK */
        tcp_frame(t + 500000, cli + i, cp, true, 1001, 5001, 0x11);  /* FIN */
        tcp_frame(t + 520000, cli + i, cp, false, 5001, 1002, 0x11); /* FIN */
        tcp_frame(t + 540000, cli + i, cp, true, 1002, 5002, 0x10);
    }
    for (uint32_t i = 0; i < SEG_DNS; i++) {
        uint64_t t = t0 + 1500000 + (uint64_t)i * 2000000;
        dns_frame(t, cli + 100 + i, (uint16_t)(33000 + i), (uint16_t)(0x100 + i), false);
        dns_frame(t + 15000, cli + 100 + i, (uint16_t)(33000 + i), (uint16_t)(0x100 + i), true);
    }
    if (straddle) {
        uint64_t t = t0 + (SEG_LEN_S - 1) * 1000000ULL;
        tcp_frame(t, cli + 250, 45000, true, 1000, 0, 0x02);
        dns_frame(t + 1000, cli + 251, 34000, 0x4242, false);
    }
    seg_flush(o);
}

START_TEST(timestamps_jump_by_years)
{
    /* segment starts: +3 years, -2 years, then back and forth */
    const uint64_t starts[] = { T0,
                                T0 + 3 * YEAR_US,
                                T0 + YEAR_US,
                                T0 + 4 * YEAR_US,
                                T0 + YEAR_US + 3600ULL * 1000000 * 24,
                                T0 + 5 * YEAR_US };
    enum { NSEG = sizeof starts / sizeof starts[0] };
    pcap_out o = { 0 };
    pcap_open(&o, 1);
    for (uint32_t s = 0; s < NSEG; s++)
        segment(&o, starts[s], s, s > 0, s + 1 < NSEG);
    pcap_close(&o);
    config_with(NULL);
    run_result r;
    run_file(o.path, &r);
    unlink(o.path);
    fprintf(stderr,
            "jumps: %llu noted, %llu SYN timeouts (%d real), %llu DNS timeouts, %llu late "
            "facts, %zu history entries, %llu evicted\n",
            (unsigned long long)r.st.time_jumps,
            (unsigned long long)r.totals.v[FL_C_tcp_syn_timeouts], NSEG * SEG_LOST,
            (unsigned long long)r.totals.v[FL_C_dns_timeouts], (unsigned long long)r.late,
            r.history, (unsigned long long)r.st.flows_evicted);
    ck_assert_uint_eq(r.st.time_jumps, NSEG - 1);
    ck_assert_uint_eq(r.totals.v[FL_C_tcp_attempts], NSEG * (SEG_CONNS + SEG_LOST) + NSEG - 1);
    /* the unanswered SYNs are timeouts, nothing else: a SYN or query whose
     * answer lies across a jump is left without a verdict, and noted */
    ck_assert_uint_eq(r.st.jump_unsettled, 2 * (NSEG - 1));
    ck_assert_uint_eq(r.totals.v[FL_C_tcp_syn_timeouts], NSEG * SEG_LOST);
    ck_assert_uint_eq(r.totals.v[FL_C_tcp_refused], 0);
    ck_assert_uint_eq(r.totals.v[FL_C_dns_queries], NSEG * SEG_DNS + NSEG - 1);
    ck_assert_uint_eq(r.totals.v[FL_C_dns_timeouts], 0);
    ck_assert_uint_eq(r.st.flows_evicted, 0);
    /* no fact pushed into a stuck bucket, and every bucket lies within a
     * segment (its timeouts included): no bucket range spanning a jump */
    ck_assert_uint_eq(r.late, 0);
    size_t distinct = 0; /* bucket starts (entries are per provider) */
    for (size_t i = 0; i < r.history; i++) {
        bool seen = false;
        for (size_t j = 0; j < i; j++)
            seen |= r.starts[j] == r.starts[i];
        distinct += !seen;
    }
    ck_assert_uint_le(distinct, NSEG * (SEG_LEN_S / 10 + 1));
    for (size_t i = 0; i < r.history; i++) {
        bool inside = false;
        for (uint32_t s = 0; s < NSEG; s++)
            inside |= r.starts[i] + 10 > starts[s] / 1000000 &&
                      r.starts[i] < starts[s] / 1000000 + SEG_LEN_S;
        ck_assert_msg(inside, "bucket at %llu outside every segment",
                      (unsigned long long)r.starts[i]);
    }
}
END_TEST

/* The same segments without jumps (an hour apart, under the bound):
 * the counts are the same, and no jump is noted. */
START_TEST(timestamps_hour_gaps_are_no_jump)
{
    pcap_out o = { 0 };
    pcap_open(&o, 1);
    for (uint32_t s = 0; s < 4; s++)
        segment(&o, T0 + (uint64_t)s * 1800 * 1000000, s, false, false);
    pcap_close(&o);
    config_with(NULL);
    run_result r;
    run_file(o.path, &r);
    unlink(o.path);
    ck_assert_uint_eq(r.st.time_jumps, 0);
    ck_assert_uint_eq(r.totals.v[FL_C_tcp_syn_timeouts], 4 * SEG_LOST);
    ck_assert_uint_eq(r.totals.v[FL_C_dns_timeouts], 0);
    ck_assert_uint_eq(r.late, 0);
}
END_TEST

/* pcapng blocks (draft-ietf-opsawg-pcapng 4), host byte order. */
static void ng_block(FILE *fp, uint32_t type, const void *body, uint32_t n, const void *data,
                     uint32_t dn)
{
    static const uint8_t pad[4] = { 0 };
    uint32_t dpad = (4 - dn % 4) % 4, total = 12 + n + dn + dpad;
    ck_assert_uint_eq(fwrite(&type, 4, 1, fp), 1);
    ck_assert_uint_eq(fwrite(&total, 4, 1, fp), 1);
    ck_assert_uint_eq(fwrite(body, 1, n, fp), n);
    if (dn)
        ck_assert_uint_eq(fwrite(data, 1, dn, fp), dn);
    if (dpad)
        ck_assert_uint_eq(fwrite(pad, 1, dpad, fp), dpad);
    ck_assert_uint_eq(fwrite(&total, 4, 1, fp), 1);
}

static void ng_epb(FILE *fp, uint64_t ts_us, const frame_buf *f)
{
    uint32_t b[5] = { 0, (uint32_t)(ts_us >> 32), (uint32_t)ts_us, f->n, f->n };
    ng_block(fp, 6, b, sizeof b, f->b, f->n);
}

/* A pcapng Simple Packet Block has no timestamp (read as 0): it takes the
 * previous frame's time instead of being a jump to 1970 and back. */
START_TEST(simple_packet_block_keeps_time)
{
    char path[256];
    snprintf(path, sizeof path, "%s/fl_hostile_spb_%d.pcapng",
             getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp", (int)getpid());
    FILE *fp = fopen(path, "wb");
    ck_assert_ptr_nonnull(fp);
    uint32_t shb[4] = { 0x1a2b3c4d, 1, 0xffffffff, 0xffffffff }; /* BOM, 1.0, length -1 */
    ng_block(fp, 0x0a0d0d0a, shb, sizeof shb, NULL, 0);
    uint32_t idb[2] = { 1, 65535 }; /* Ethernet, snaplen */
    ng_block(fp, 1, idb, sizeof idb, NULL, 0);
    frame_buf syn = { .n = 0 }, synack = { .n = 0 }, ack = { .n = 0 };
    eth(&syn, 0x0800);
    ipv4(&syn, 0x0a000001, 0x68100001, 6, 20);
    tcp(&syn, 40000, 443, 1000, 0, 0x02);
    eth(&synack, 0x0800);
    ipv4(&synack, 0x68100001, 0x0a000001, 6, 20);
    tcp(&synack, 443, 40000, 5000, 1001, 0x12);
    eth(&ack, 0x0800);
    ipv4(&ack, 0x0a000001, 0x68100001, 6, 20);
    tcp(&ack, 40000, 443, 1001, 5001, 0x10);
    ng_epb(fp, T0, &syn);
    uint32_t spb = synack.n; /* original length */
    ng_block(fp, 3, &spb, 4, synack.b, synack.n);
    ng_epb(fp, T0 + 40000, &ack);
    ck_assert_int_eq(fclose(fp), 0);

    char err[512];
    fl_source_options opt = { 0 };
    const char *paths[1] = { path };
    fl_source *src = fl_source_open_files(paths, 1, &opt, err, sizeof err);
    ck_assert_msg(src != NULL, "%s", err);
    fl_frame fr;
    const uint64_t want[3] = { T0, T0, T0 + 40000 };
    unsigned n = 0;
    while (fl_source_next(src, &fr) == FL_SRC_FRAME) {
        ck_assert_uint_lt(n, 3);
        ck_assert_uint_eq(fr.ts_us, want[n]);
        n++;
    }
    fl_source_close(src);
    ck_assert_uint_eq(n, 3);
    config_with(NULL);
    run_result r;
    run_file(path, &r);
    unlink(path);
    ck_assert_uint_eq(r.st.time_jumps, 0);
    ck_assert_uint_eq(r.totals.v[FL_C_tcp_attempts], 1);
    ck_assert_uint_eq(r.totals.v[FL_C_tcp_syn_timeouts], 0);
}
END_TEST

/* --------------------------------------- every packet a new flow, line rate */

START_TEST(flood_of_new_flows_and_fragments)
{
    enum { N = 200000, CAP = 20000 };
    pcap_out o = { 0 };
    pcap_open(&o, 1);
    frame_buf f;
    for (uint32_t i = 0; i < N; i++) {
        /* 1 us apart: a 10 Gb/s link of minimum-size frames */
        uint64_t t = T0 + i;
        uint8_t src[16] = { 0x20, 0x01, 0x0d, 0xb8 };
        src[12] = (uint8_t)(i >> 24);
        src[13] = (uint8_t)(i >> 16);
        src[14] = (uint8_t)(i >> 8);
        src[15] = (uint8_t)i;
        static const uint8_t dst[16] = { 0x26, 0x06, 0x47, 0x00, [15] = 1 }; /* Cloudflare */
        f.n = 0;
        eth(&f, 0x86dd);
        bool frag = i % 2;
        put32(&f, 0x60000000);
        put16(&f, frag ? 8 + 16 : 20);
        put16(&f, (uint16_t)((frag ? 44 : 6) << 8 | 64));
        put(&f, src, 16);
        put(&f, dst, 16);
        if (frag) {
            /* RFC 8200 4.5: a non-first fragment (offset 1480) of UDP */
            put16(&f, 17 << 8);
            put16(&f, (uint16_t)(185 << 3 | 1));
            put32(&f, i);
            put32(&f, 0xdeadbeef);
            put32(&f, 0xdeadbeef);
            put32(&f, 0xdeadbeef);
            put32(&f, 0xdeadbeef);
        } else {
            tcp(&f, (uint16_t)(1024 + i % 60000), 443, i, 0, 0x02);
        }
        pcap_frame(&o, t, f.b, f.n, f.n);
    }
    pcap_close(&o);
    char cap[16];
    snprintf(cap, sizeof cap, "%d", CAP);
    const char *ov[] = { "flow_cap", cap, NULL };
    config_with(ov);
    struct rusage ru0, ru1;
    getrusage(RUSAGE_SELF, &ru0);
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    run_result r;
    run_file(o.path, &r);
    clock_gettime(CLOCK_MONOTONIC, &b);
    getrusage(RUSAGE_SELF, &ru1);
    unlink(o.path);
    double secs = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
    fprintf(stderr, "flood: %d frames in %.2f s, max RSS %ld -> %ld KiB, %llu evicted\n", N, secs,
            ru0.ru_maxrss, ru1.ru_maxrss, (unsigned long long)r.flows.evicted);
    ck_assert_uint_eq(r.st.packets, N);
    ck_assert_uint_eq(r.st.fragments, N / 2);
    ck_assert_uint_eq(r.flows.created, N / 2);       /* fragments make no flow */
    ck_assert_uint_ge(r.flows.evicted, N / 2 - CAP); /* the cap held */
    ck_assert_uint_eq(r.totals.v[FL_C_tcp_attempts], N / 2);
    /* bounded: well under a minute even under the sanitizers, and memory
     * grows by the flow table, not by the packets */
    ck_assert_msg(secs < 60, "took %.1f s", secs);
    ck_assert_int_lt(ru1.ru_maxrss - ru0.ru_maxrss, 512 * 1024);
}
END_TEST

/* --------------------------------------------- snaplen cuts everywhere */

START_TEST(snaplen_truncated_everywhere)
{
    char *demo = fl_test_path("pcaps/demo/cloudflare-outage.pcap");
    config_with(NULL);
    run_result full;
    run_file(demo, &full);
    FILE *in = fopen(demo, "rb");
    ck_assert_ptr_nonnull(in);
    uint8_t gh[24];
    ck_assert_uint_eq(fread(gh, 1, 24, in), 24);
    size_t cap = 1 << 24, len = 0, got;
    uint8_t *buf = malloc(cap);
    ck_assert_ptr_nonnull(buf);
    while ((got = fread(buf + len, 1, cap - len, in)) > 0 && (len += got) == cap) {
        uint8_t *grown = realloc(buf, cap *= 2);
        ck_assert_ptr_nonnull(grown);
        buf = grown;
    }
    fclose(in);
    free(demo);
    static const uint32_t snaps[] = { 1, 13, 14, 20, 34, 54, 73, 74, 128 };
    for (size_t k = 0; k < sizeof snaps / sizeof snaps[0]; k++) {
        pcap_out o = { 0 };
        pcap_open(&o, 1);
        for (size_t off = 0; off + 16 <= len;) {
            uint32_t h[4];
            memcpy(h, buf + off, 16);
            if (off + 16 + h[2] > len)
                break;
            uint32_t cut = h[2] < snaps[k] ? h[2] : snaps[k];
            pcap_frame(&o, (uint64_t)h[0] * 1000000 + h[1], buf + off + 16, cut, h[3]);
            off += 16 + h[2];
        }
        pcap_close(&o);
        run_result r;
        run_file(o.path, &r);
        unlink(o.path);
        ck_assert_uint_eq(r.st.packets, full.st.packets);
        if (snaps[k] < 14) /* not even an Ethernet header */
            ck_assert_uint_eq(r.st.decode_errors, r.st.packets);
        if (snaps[k] >= 74) /* Ethernet + IPv6 + TCP: every SYN is seen */
            ck_assert_uint_eq(r.totals.v[FL_C_tcp_attempts], full.totals.v[FL_C_tcp_attempts]);
        /* a cut payload never invents a failure */
        ck_assert_uint_le(r.totals.v[FL_C_http_5xx], full.totals.v[FL_C_http_5xx]);
        ck_assert_uint_le(r.totals.v[FL_C_tls_alerts], full.totals.v[FL_C_tls_alerts]);
        ck_assert_uint_le(r.totals.v[FL_C_dns_servfail], full.totals.v[FL_C_dns_servfail]);
    }
    free(buf);
}
END_TEST

/* ----------------------------------------------- tunnels within tunnels */

/* An Ethernet frame carrying `depth` tunnels, cycling ERSPAN II (in GRE),
 * VXLAN (in UDP) and plain GRE, around an inner TCP SYN 10.9.9.9:4321 ->
 * 192.0.2.80:443. Built inside out. */
static void nested(frame_buf *out, unsigned depth)
{
    frame_buf a, b;
    a.n = 0;
    ipv4(&a, 0x0a090909, 0xc0000250, 6, 20);
    tcp(&a, 4321, 443, 1, 0, 0x02);
    bool is_ip = true; /* what a holds: an IP packet or an Ethernet frame */
    for (unsigned k = 0; k < depth; k++) {
        b.n = 0;
        switch (k % 3) {
        case 0: /* GRE (RFC 2784) carrying IPv4, or Ethernet (TEB) */
            eth(&b, 0x0800);
            ipv4(&b, 0x0a000001 + k, 0x0a000101, 47, 4 + a.n);
            put16(&b, 0);
            put16(&b, is_ip ? 0x0800 : 0x6558);
            break;
        case 1: /* VXLAN (RFC 7348) carrying Ethernet */
            if (is_ip) {
                frame_buf e = { .n = 0 };
                eth(&e, 0x0800);
                put(&e, a.b, a.n);
                a = e;
            }
            eth(&b, 0x0800);
            ipv4(&b, 0x0a000001 + k, 0x0a000101, 17, 8 + 8 + a.n);
            put16(&b, 40000);
            put16(&b, 4789);
            put16(&b, (uint16_t)(8 + 8 + a.n));
            put16(&b, 0);
            put32(&b, 0x08000000);
            put32(&b, (uint32_t)k << 8);
            break;
        default: /* ERSPAN type II in GRE with the S bit */
            if (is_ip) {
                frame_buf e = { .n = 0 };
                eth(&e, 0x0800);
                put(&e, a.b, a.n);
                a = e;
            }
            eth(&b, 0x0800);
            ipv4(&b, 0x0a000001 + k, 0x0a000101, 47, 8 + 8 + a.n);
            put16(&b, 0x1000);
            put16(&b, 0x88be);
            put32(&b, k);
            put32(&b, 0x10000000u | k);
            put32(&b, 0);
            break;
        }
        put(&b, a.b, a.n);
        /* b is an Ethernet frame; strip its MAC header unless outermost, so
         * the next GRE layer can carry it as IP (or keep it for TEB) */
        if (k + 1 < depth && (k + 1) % 3 == 0) {
            memmove(a.b, b.b + 14, b.n - 14);
            a.n = b.n - 14;
            is_ip = true;
        } else {
            a = b;
            is_ip = false;
        }
    }
    if (is_ip) {
        out->n = 0;
        eth(out, 0x0800);
        put(out, a.b, a.n);
    } else {
        *out = a;
    }
}

START_TEST(nested_tunnels_to_the_limit)
{
    unsigned last_ok = 0;
    for (unsigned depth = 1; depth <= 24; depth++) {
        frame_buf f;
        nested(&f, depth);
        fl_packet pkt;
        fl_decode_error why = FL_DERR_COUNT;
        uint8_t *copy = fl_test_exact_copy(f.b, f.n);
        fl_decode_result r = fl_decode_packet(1, copy, f.n, &pkt, &why);
        if (r == FL_DECODE_OK) {
            ck_assert_msg(last_ok == depth - 1, "depth %u decodes after a failure", depth);
            last_ok = depth;
            ck_assert(pkt.flags & FL_PKT_TUNNELED);
            ck_assert_uint_eq(pkt.l4_proto, 6);
            ck_assert_uint_eq(pkt.sport, 4321);
            ck_assert_uint_eq(pkt.dport, 443);
        } else {
            ck_assert_int_eq(r, FL_DECODE_ERROR);
            ck_assert_msg(why == FL_DERR_too_many_layers, "depth %u: %s", depth,
                          fl_decode_error_name(why));
        }
        /* every prefix: an error or a packet, never a read past the end */
        for (uint32_t n = 0; n < f.n; n++) {
            uint8_t *p = fl_test_exact_copy(f.b, n);
            (void)fl_decode_packet(1, p, n, &pkt, &why);
            free(p);
        }
        free(copy);
    }
    /* the decoder opens a dozen tunnels, and refuses past its layer cap */
    ck_assert_uint_ge(last_ok, 12);
    ck_assert_uint_lt(last_ok, 24);
}
END_TEST

static Suite *hostile_suite(void)
{
    Suite *s = suite_create("hostile");
    TCase *t = tcase_create("captures");
    tcase_set_timeout(t, 300);
    tcase_add_test(t, timestamps_small_steps_back);
    tcase_add_test(t, timestamps_jump_by_years);
    tcase_add_test(t, timestamps_hour_gaps_are_no_jump);
    tcase_add_test(t, simple_packet_block_keeps_time);
    tcase_add_test(t, flood_of_new_flows_and_fragments);
    tcase_add_test(t, snaplen_truncated_everywhere);
    tcase_add_test(t, nested_tunnels_to_the_limit);
    suite_add_tcase(s, t);
    return s;
}

int main(void)
{
    return fl_test_run(hostile_suite());
}
