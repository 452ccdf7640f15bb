/* test_decode.c - fl_decode_packet on crafted frames of every link type and
 * encapsulation, every prefix of each, and whole real captures compared with
 * tshark's counts. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fl_decode.h"
#include "fl_source.h"
#include "fl_test_util.h"

/* ------------------------------------------------------ frame builder */

typedef struct frame {
    uint8_t b[2048];
    size_t n;
} frame;

static void put(frame *f, const void *p, size_t n)
{
    ck_assert_uint_le(f->n + n, sizeof f->b);
    memcpy(f->b + f->n, p, n);
    f->n += n;
}

static void put8(frame *f, uint8_t v)
{
    put(f, &v, 1);
}

static void put16(frame *f, uint16_t v)
{
    uint8_t b[2] = { (uint8_t)(v >> 8), (uint8_t)v };
    put(f, b, 2);
}

static void put32(frame *f, uint32_t v)
{
    uint8_t b[4] = { (uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v };
    put(f, b, 4);
}

static void fill(frame *f, size_t n, uint8_t byte)
{
    for (size_t i = 0; i < n; i++)
        put8(f, byte);
}

static fl_addr A(const char *text)
{
    fl_addr a;
    ck_assert_msg(fl_addr_parse(text, &a), "bad test address %s", text);
    return a;
}

static void eth(frame *f, uint16_t type)
{
    static const uint8_t macs[12] = { 0x00, 0x11, 0x22, 0x33, 0x44, 0x55,
                                      0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb };
    put(f, macs, 12);
    put16(f, type);
}

static void tag(frame *f, uint16_t tci, uint16_t next)
{
    put16(f, tci);
    put16(f, next);
}

/* IPv4 header, no options unless ihl > 5 (options are NOPs). */
static void ipv4x(frame *f, uint8_t ihl, uint8_t proto, const char *src, const char *dst,
                  uint16_t total, uint16_t frag)
{
    fl_addr s = A(src), d = A(dst);
    put8(f, (uint8_t)(0x40 | ihl));
    put8(f, 0);
    put16(f, total);
    put16(f, 0x1234); /* id */
    put16(f, frag);
    put8(f, 64);
    put8(f, proto);
    put16(f, 0); /* checksum: not checked */
    put(f, s.b, 4);
    put(f, d.b, 4);
    if (ihl > 5)
        fill(f, (ihl - 5u) * 4u, 0x01);
}

static void ipv4(frame *f, uint8_t proto, const char *src, const char *dst, uint16_t l4len)
{
    ipv4x(f, 5, proto, src, dst, (uint16_t)(20 + l4len), 0x4000 /* DF */);
}

static void ipv6(frame *f, uint8_t nh, const char *src, const char *dst, uint16_t plen)
{
    fl_addr s = A(src), d = A(dst);
    put32(f, 0x60000000);
    put16(f, plen);
    put8(f, nh);
    put8(f, 64);
    put(f, s.b, 16);
    put(f, d.b, 16);
}

/* TCP header of doff words (options: NOPs), then `data` bytes of 'D'. */
static void tcp(frame *f, uint16_t sp, uint16_t dp, uint32_t seq, uint32_t ack, uint8_t flags,
                uint8_t doff, size_t data)
{
    put16(f, sp);
    put16(f, dp);
    put32(f, seq);
    put32(f, ack);
    put8(f, (uint8_t)(doff << 4));
    put8(f, flags);
    put16(f, 65535);
    put16(f, 0);
    put16(f, 0);
    fill(f, (doff - 5u) * 4u, 0x01);
    fill(f, data, 'D');
}

static void udp(frame *f, uint16_t sp, uint16_t dp, uint16_t ulen, size_t data)
{
    put16(f, sp);
    put16(f, dp);
    put16(f, ulen);
    put16(f, 0);
    fill(f, data, 'U');
}

/* ----------------------------------------------------- decode helpers */

static fl_packet pk;
static fl_decode_error why;

/* Decode an exact heap copy (so ASan sees any over-read); the copy stays
 * alive in `last_copy` so pointers in pk can be checked against it. */
static uint8_t *last_copy;

static fl_decode_result dec(int lt, const frame *f)
{
    free(last_copy);
    last_copy = fl_test_exact_copy(f->b, f->n);
    why = FL_DERR_COUNT;
    return fl_decode_packet(lt, last_copy, (uint32_t)f->n, &pk, &why);
}

static void teardown(void)
{
    free(last_copy);
    last_copy = NULL;
}

#define ASSERT_OK(r)                                                                               \
    ck_assert_msg((r) == FL_DECODE_OK, "result %d why %s", (int)(r), fl_decode_error_name(why))
#define ASSERT_ERR(r, e)                                                                           \
    do {                                                                                           \
        ck_assert_int_eq((r), FL_DECODE_ERROR);                                                    \
        ck_assert_msg(why == (e), "why %s, expected %s", fl_decode_error_name(why),                \
                      fl_decode_error_name(e));                                                    \
    } while (0)

static void assert_addr(const fl_addr *got, const char *want)
{
    fl_addr w = A(want);
    char g[64];
    ck_assert_msg(fl_addr_eq(got, &w), "address %s, expected %s", fl_addr_str(got, g, sizeof g),
                  want);
}

/* Offsets are relative to the decoded copy. */
static size_t off(const uint8_t *p)
{
    ck_assert_ptr_nonnull(p);
    return (size_t)(p - last_copy);
}

static void assert_tcp4(const char *src, const char *dst, uint16_t sp, uint16_t dp)
{
    ck_assert_uint_eq(pk.ip_version, 4);
    ck_assert_uint_eq(pk.l4_proto, 6);
    assert_addr(&pk.src, src);
    assert_addr(&pk.dst, dst);
    ck_assert_uint_eq(pk.sport, sp);
    ck_assert_uint_eq(pk.dport, dp);
}

/* ------------------------------------------------------------ Ethernet */

START_TEST(ethernet_ipv4_tcp)
{
    frame f = { .n = 0 };
    eth(&f, 0x0800);
    ipv4(&f, 6, "192.0.2.1", "198.51.100.7", 32 + 5);
    tcp(&f, 40000, 443, 0x01020304, 0xa0b0c0d0, 0x12, 8, 5);
    ASSERT_OK(dec(1, &f));
    assert_tcp4("192.0.2.1", "198.51.100.7", 40000, 443);
    ck_assert_uint_eq(pk.tcp_seq, 0x01020304);
    ck_assert_uint_eq(pk.tcp_ack, 0xa0b0c0d0);
    ck_assert_uint_eq(pk.tcp_flags, FL_TCP_SYN | FL_TCP_ACK);
    ck_assert_uint_eq(pk.flags, 0);
    ck_assert_uint_eq(pk.vlan, 0);
    ck_assert_uint_eq(off(pk.l3), 14);
    ck_assert_uint_eq(pk.l3_len, 20 + 32 + 5);
    ck_assert_uint_eq(off(pk.payload), 14 + 20 + 32);
    ck_assert_uint_eq(pk.payload_len, 5);
    /* IPv4 addresses: bytes 4..15 are zero so memcmp/hash work */
    for (int i = 4; i < 16; i++)
        ck_assert_uint_eq(pk.src.b[i], 0);
}
END_TEST

START_TEST(ethernet_padding_clamped)
{
    /* 2-byte UDP payload: 14+20+8+2 = 44 bytes, padded to the 60-byte minimum */
    frame f = { .n = 0 };
    eth(&f, 0x0800);
    ipv4(&f, 17, "10.0.0.1", "10.0.0.2", 10);
    udp(&f, 5353, 53, 10, 2);
    fill(&f, 60 - f.n, 0xee);
    ck_assert_uint_eq(f.n, 60);
    ASSERT_OK(dec(1, &f));
    ck_assert_uint_eq(pk.l4_proto, 17);
    ck_assert_uint_eq(pk.sport, 5353);
    ck_assert_uint_eq(pk.dport, 53);
    ck_assert_uint_eq(pk.l3_len, 30);
    ck_assert_uint_eq(off(pk.payload), 42);
    ck_assert_uint_eq(pk.payload_len, 2);
    ck_assert_uint_eq(pk.flags, 0);

    /* TCP with no data in a padded frame: payload must be empty */
    frame t = { .n = 0 };
    eth(&t, 0x0800);
    ipv4(&t, 6, "10.0.0.1", "10.0.0.2", 20);
    tcp(&t, 1, 2, 0, 0, 0x04, 5, 0);
    fill(&t, 6, 0x00);
    ASSERT_OK(dec(1, &t));
    ck_assert_uint_eq(pk.tcp_flags, FL_TCP_RST);
    ck_assert_uint_eq(pk.payload_len, 0);
    ck_assert_uint_eq(pk.l3_len, 40);
}
END_TEST

START_TEST(vlan_tags)
{
    /* 802.1Q: PCP 5, VID 100 */
    frame f = { .n = 0 };
    eth(&f, 0x8100);
    tag(&f, (5 << 13) | 100, 0x0800);
    ipv4(&f, 17, "10.1.1.1", "10.1.1.2", 8);
    udp(&f, 1000, 2000, 8, 0);
    ASSERT_OK(dec(1, &f));
    ck_assert_uint_eq(pk.vlan, 100);
    ck_assert_uint_eq(off(pk.l3), 18);

    /* QinQ 802.1ad outer 200, 802.1Q inner 300: outermost wins */
    frame q = { .n = 0 };
    eth(&q, 0x88a8);
    tag(&q, 200, 0x8100);
    tag(&q, 300, 0x86dd);
    ipv6(&q, 17, "2001:db8::1", "2001:db8::2", 8);
    udp(&q, 1000, 2000, 8, 0);
    ASSERT_OK(dec(1, &q));
    ck_assert_uint_eq(pk.vlan, 200);
    ck_assert_uint_eq(pk.ip_version, 6);
    assert_addr(&pk.src, "2001:db8::1");
    ck_assert_uint_eq(off(pk.l3), 22);

    /* old-style 0x9100 with three tags */
    frame o = { .n = 0 };
    eth(&o, 0x9100);
    tag(&o, 0x0fff, 0x9100);
    tag(&o, 12, 0x8100);
    tag(&o, 13, 0x0800);
    ipv4(&o, 6, "10.0.0.1", "10.0.0.2", 20);
    tcp(&o, 80, 8080, 1, 2, 0x11, 5, 0);
    ASSERT_OK(dec(1, &o));
    ck_assert_uint_eq(pk.vlan, 4095);
    ck_assert_uint_eq(pk.tcp_flags, FL_TCP_FIN | FL_TCP_ACK);

    /* too many tags */
    frame m = { .n = 0 };
    eth(&m, 0x8100);
    for (int i = 0; i < 20; i++)
        tag(&m, (uint16_t)i, 0x8100);
    tag(&m, 1, 0x0800);
    ipv4(&m, 17, "10.0.0.1", "10.0.0.2", 8);
    udp(&m, 1, 2, 8, 0);
    ASSERT_ERR(dec(1, &m), FL_DERR_too_many_layers);
}
END_TEST

START_TEST(mpls_stack)
{
    frame f = { .n = 0 };
    eth(&f, 0x8847);
    put32(&f, (16u << 12) | (0 << 9) | (0 << 8) | 64); /* label 16 */
    put32(&f, (17u << 12) | (1 << 8) | 64);            /* label 17, bottom of stack */
    ipv4(&f, 17, "172.16.0.1", "172.16.0.2", 12);
    udp(&f, 4000, 53, 12, 4);
    ASSERT_OK(dec(1, &f));
    ck_assert_uint_eq(pk.ip_version, 4);
    assert_addr(&pk.dst, "172.16.0.2");
    ck_assert_uint_eq(pk.dport, 53);
    ck_assert_uint_eq(off(pk.l3), 22);
    ck_assert_uint_eq(pk.payload_len, 4);

    frame g = { .n = 0 };
    eth(&g, 0x8847);
    put32(&g, (100u << 12) | (1 << 8) | 255);
    ipv6(&g, 6, "2001:db8:1::1", "2001:db8:2::2", 20);
    tcp(&g, 179, 50000, 7, 8, 0x10, 5, 0);
    ASSERT_OK(dec(1, &g));
    ck_assert_uint_eq(pk.ip_version, 6);
    ck_assert_uint_eq(pk.sport, 179);
    ck_assert_uint_eq(off(pk.l3), 18);

    /* an Ethernet pseudowire after the stack (first nibble 0): not opened */
    frame p = { .n = 0 };
    eth(&p, 0x8847);
    put32(&p, (200u << 12) | (1 << 8) | 255);
    eth(&p, 0x0800);
    ck_assert_int_eq(dec(1, &p), FL_DECODE_NOT_IP);
}
END_TEST

START_TEST(cisco_sgt)
{
    /* bytes as in pcaps/real/tls_sgt.pcap frame 1: 89 09 01 01 00 01 00 02 08 00 */
    frame f = { .n = 0 };
    eth(&f, 0x8909);
    put8(&f, 1);  /* version */
    put8(&f, 1);  /* length */
    put16(&f, 1); /* option: SGT */
    put16(&f, 2); /* SGT value */
    put16(&f, 0x0800);
    ipv4(&f, 6, "10.1.1.150", "64.100.1.197", 32);
    tcp(&f, 39312, 443, 2685812810u, 834574596u, 0x18, 8, 0);
    ASSERT_OK(dec(1, &f));
    assert_tcp4("10.1.1.150", "64.100.1.197", 39312, 443);
    ck_assert_uint_eq(pk.tcp_flags, FL_TCP_PSH | FL_TCP_ACK);
    ck_assert_uint_eq(off(pk.l3), 22);
}
END_TEST

START_TEST(pppoe_session)
{
    frame f = { .n = 0 };
    eth(&f, 0x8864);
    put8(&f, 0x11);
    put8(&f, 0x00);
    put16(&f, 0x1234);     /* session */
    put16(&f, 2 + 20 + 8); /* PPP frame length */
    put16(&f, 0x0021);
    ipv4(&f, 17, "100.64.0.1", "8.8.8.8", 8);
    udp(&f, 33333, 53, 8, 0);
    fill(&f, 10, 0); /* padding */
    ASSERT_OK(dec(1, &f));
    assert_addr(&pk.dst, "8.8.8.8");
    ck_assert_uint_eq(off(pk.l3), 22);
    ck_assert_uint_eq(pk.l3_len, 28);

    frame g = { .n = 0 };
    eth(&g, 0x8864);
    put8(&g, 0x11);
    put8(&g, 0x00);
    put16(&g, 1);
    put16(&g, 2 + 40 + 20);
    put16(&g, 0x0057);
    ipv6(&g, 6, "2001:db8::a", "2001:db8::b", 20);
    tcp(&g, 1, 2, 0, 0, 0x02, 5, 0);
    ASSERT_OK(dec(1, &g));
    ck_assert_uint_eq(pk.ip_version, 6);
    ck_assert_uint_eq(pk.tcp_flags, FL_TCP_SYN);

    frame l = { .n = 0 };
    eth(&l, 0x8864);
    put8(&l, 0x11);
    put8(&l, 0x00);
    put16(&l, 1);
    put16(&l, 6);
    put16(&l, 0xc021); /* LCP */
    fill(&l, 4, 0);
    ck_assert_int_eq(dec(1, &l), FL_DECODE_NOT_IP);
}
END_TEST

START_TEST(llc_snap_8023)
{
    frame f = { .n = 0 };
    eth(&f, 8 + 20 + 8); /* 802.3 length */
    put8(&f, 0xaa);
    put8(&f, 0xaa);
    put8(&f, 0x03);
    put8(&f, 0);
    put16(&f, 0);
    put16(&f, 0x0800);
    ipv4(&f, 17, "10.9.9.9", "10.8.8.8", 8);
    udp(&f, 67, 68, 8, 0);
    fill(&f, 10, 0);
    ASSERT_OK(dec(1, &f));
    ck_assert_uint_eq(pk.sport, 67);
    ck_assert_uint_eq(off(pk.l3), 22);

    /* STP BPDU: LLC 42 42 03 */
    frame s = { .n = 0 };
    eth(&s, 38);
    put8(&s, 0x42);
    put8(&s, 0x42);
    put8(&s, 0x03);
    fill(&s, 35, 0);
    ck_assert_int_eq(dec(1, &s), FL_DECODE_NOT_IP);

    /* raw 802.3 IPX (ff ff) */
    frame x = { .n = 0 };
    eth(&x, 30);
    fill(&x, 30, 0xff);
    ck_assert_int_eq(dec(1, &x), FL_DECODE_NOT_IP);
}
END_TEST

START_TEST(non_ip_frames)
{
    frame a = { .n = 0 };
    eth(&a, 0x0806); /* ARP */
    fill(&a, 28, 0);
    ck_assert_int_eq(dec(1, &a), FL_DECODE_NOT_IP);
    frame l = { .n = 0 };
    eth(&l, 0x88cc); /* LLDP */
    fill(&l, 20, 0);
    ck_assert_int_eq(dec(1, &l), FL_DECODE_NOT_IP);
    frame t = { .n = 0 };
    eth(&t, 0x8100); /* ARP in a VLAN */
    tag(&t, 5, 0x0806);
    fill(&t, 28, 0);
    ck_assert_int_eq(dec(1, &t), FL_DECODE_NOT_IP);
}
END_TEST

/* ------------------------------------------------- other link types */

START_TEST(fddi_llc)
{
    /* the layout of pcaps/real/llc.pcap: FC 0x50, addresses, AA AA 03 SNAP */
    frame f = { .n = 0 };
    put8(&f, 0x50);
    fill(&f, 12, 0x42);
    put8(&f, 0xaa);
    put8(&f, 0xaa);
    put8(&f, 0x03);
    put8(&f, 0);
    put16(&f, 0);
    put16(&f, 0x0800);
    ipv4(&f, 6, "128.3.140.132", "194.140.136.34", 20);
    tcp(&f, 2035, 80, 1, 0, 0x04, 5, 0);
    ASSERT_OK(dec(10, &f));
    assert_tcp4("128.3.140.132", "194.140.136.34", 2035, 80);
    ck_assert_uint_eq(pk.tcp_flags, FL_TCP_RST);
    ck_assert_uint_eq(off(pk.l3), 21);

    frame s = { .n = 0 };
    put8(&s, 0x41); /* SMT */
    fill(&s, 30, 0);
    ck_assert_int_eq(dec(10, &s), FL_DECODE_NOT_IP);
}
END_TEST

START_TEST(linux_cooked)
{
    frame f = { .n = 0 };
    put16(&f, 0); /* to us */
    put16(&f, 1); /* ARPHRD_ETHER */
    put16(&f, 6);
    fill(&f, 8, 0x12);
    put16(&f, 0x0800);
    ipv4(&f, 17, "192.168.0.10", "192.168.0.1", 8 + 3);
    udp(&f, 5000, 53, 11, 3);
    ASSERT_OK(dec(113, &f));
    ck_assert_uint_eq(off(pk.l3), 16);
    ck_assert_uint_eq(pk.payload_len, 3);
    assert_addr(&pk.src, "192.168.0.10");

    frame g = { .n = 0 };
    put16(&g, 0x86dd);
    put16(&g, 0);
    put32(&g, 2); /* ifindex */
    put16(&g, 1);
    put8(&g, 4); /* outgoing */
    put8(&g, 6);
    fill(&g, 8, 0x34);
    ipv6(&g, 6, "2001:db8::5", "2606:4700::1", 20 + 7);
    tcp(&g, 55555, 443, 9, 10, 0x18, 5, 7);
    ASSERT_OK(dec(276, &g));
    ck_assert_uint_eq(off(pk.l3), 20);
    assert_addr(&pk.dst, "2606:4700::1");
    ck_assert_uint_eq(pk.dport, 443);
    ck_assert_uint_eq(off(pk.payload), 20 + 40 + 20);
    ck_assert_uint_eq(pk.payload_len, 7);

    frame n = { .n = 0 }; /* SLL with a netlink family: not IP */
    put16(&n, 4);
    put16(&n, 824);
    put16(&n, 0);
    fill(&n, 8, 0);
    put16(&n, 0x0000);
    fill(&n, 16, 0);
    ck_assert_int_eq(dec(113, &n), FL_DECODE_NOT_IP);
}
END_TEST

START_TEST(raw_ip)
{
    frame v4 = { .n = 0 };
    ipv4(&v4, 6, "203.0.113.1", "203.0.113.2", 20);
    tcp(&v4, 1234, 80, 5, 6, 0x02, 5, 0);
    frame v6 = { .n = 0 };
    ipv6(&v6, 17, "2001:db8::1", "2001:db8::2", 8);
    udp(&v6, 546, 547, 8, 0);

    static const int v4_types[] = { 12, 14, 101, 228 };
    for (size_t i = 0; i < sizeof v4_types / sizeof v4_types[0]; i++) {
        ASSERT_OK(dec(v4_types[i], &v4));
        assert_tcp4("203.0.113.1", "203.0.113.2", 1234, 80);
        ck_assert_uint_eq(off(pk.l3), 0);
    }
    static const int v6_types[] = { 12, 14, 101, 229 };
    for (size_t i = 0; i < sizeof v6_types / sizeof v6_types[0]; i++) {
        ASSERT_OK(dec(v6_types[i], &v6));
        ck_assert_uint_eq(pk.ip_version, 6);
        ck_assert_uint_eq(pk.sport, 546);
    }
    /* LINKTYPE_IPV4 holding IPv6, LINKTYPE_IPV6 holding IPv4 */
    ASSERT_ERR(dec(228, &v6), FL_DERR_bad_ip_version);
    ASSERT_ERR(dec(229, &v4), FL_DERR_bad_ip_version);
    frame bad = { .n = 0 };
    put8(&bad, 0x55);
    fill(&bad, 30, 0);
    ASSERT_ERR(dec(12, &bad), FL_DERR_bad_ip_version);
}
END_TEST

START_TEST(bsd_null_and_loop)
{
    /* DLT_NULL: AF in the writer's byte order */
    frame le4 = { .n = 0 };
    put32(&le4, 0x02000000); /* 2 little-endian */
    ipv4(&le4, 17, "127.0.0.1", "127.0.0.1", 8);
    udp(&le4, 1, 2, 8, 0);
    ASSERT_OK(dec(0, &le4));
    ck_assert_uint_eq(pk.ip_version, 4);
    ck_assert_uint_eq(off(pk.l3), 4);

    static const uint32_t v6_afs_le[] = { 0x18000000, 0x1c000000, 0x1e000000 }; /* 24 28 30 */
    for (size_t i = 0; i < 3; i++) {
        frame f = { .n = 0 };
        put32(&f, v6_afs_le[i]);
        ipv6(&f, 6, "::1", "::1", 20);
        tcp(&f, 8080, 50000, 1, 1, 0x10, 5, 0);
        ASSERT_OK(dec(0, &f));
        ck_assert_uint_eq(pk.ip_version, 6);
        ck_assert_uint_eq(pk.sport, 8080);
    }
    frame be6 = { .n = 0 };
    put32(&be6, 24); /* written by a big-endian host */
    ipv6(&be6, 59, "::1", "::1", 0);
    ASSERT_OK(dec(0, &be6));
    ck_assert_uint_eq(pk.l4_proto, 59);

    frame other = { .n = 0 };
    put32(&other, 0x07000000);
    fill(&other, 20, 0x45);
    ck_assert_int_eq(dec(0, &other), FL_DECODE_NOT_IP);

    /* DLT_LOOP: network byte order */
    frame lp = { .n = 0 };
    put32(&lp, 2);
    ipv4(&lp, 6, "10.0.0.1", "10.0.0.2", 20);
    tcp(&lp, 22, 60000, 1, 2, 0x18, 5, 0);
    ASSERT_OK(dec(108, &lp));
    assert_tcp4("10.0.0.1", "10.0.0.2", 22, 60000);
    frame lp6 = { .n = 0 };
    put32(&lp6, 30);
    ipv6(&lp6, 17, "fe80::1", "ff02::fb", 8);
    udp(&lp6, 5353, 5353, 8, 0);
    ASSERT_OK(dec(108, &lp6));
    ck_assert_uint_eq(pk.ip_version, 6);

    ASSERT_ERR(dec(105, &lp), FL_DERR_unsupported_linktype);
    ck_assert(!fl_decode_linktype_supported(105));
    static const int ok_types[] = { 0, 1, 10, 12, 14, 101, 108, 113, 228, 229, 276 };
    for (size_t i = 0; i < sizeof ok_types / sizeof ok_types[0]; i++)
        ck_assert(fl_decode_linktype_supported(ok_types[i]));
}
END_TEST

/* ------------------------------------------------------------- tunnels */

/* Outer Ethernet (VLAN 42) + IPv4 10.200.0.3 -> 10.200.0.224, protocol 47,
 * GRE flags/proto, optional fields; the caller appends the GRE payload of
 * `inner` bytes. */
static void gre_outer(frame *f, uint16_t flags, uint16_t proto, size_t inner)
{
    size_t opt =
        ((flags & 0x8000) ? 4 : 0) + ((flags & 0x2000) ? 4 : 0) + ((flags & 0x1000) ? 4 : 0);
    eth(f, 0x8100);
    tag(f, 42, 0x0800);
    ipv4(f, 47, "10.200.0.3", "10.200.0.224", (uint16_t)(4 + opt + inner));
    put16(f, flags);
    put16(f, proto);
    fill(f, opt, 0x5a);
}

/* Inner Ethernet (with VLAN 7) + IPv4 192.168.69.10 -> 192.168.69.2 TCP 49162->80 */
#define INNER_ETH_LEN (14 + 4 + 20 + 20 + 3)
static void inner_eth(frame *f)
{
    eth(f, 0x8100);
    tag(f, 7, 0x0800);
    ipv4(f, 6, "192.168.69.10", "192.168.69.2", 23);
    tcp(f, 49162, 80, 0x8857, 0x76ed, 0x18, 5, 3);
}

static void assert_inner(size_t l3_off)
{
    assert_tcp4("192.168.69.10", "192.168.69.2", 49162, 80);
    ck_assert_uint_eq(pk.flags, FL_PKT_TUNNELED);
    ck_assert_uint_eq(pk.vlan, 42); /* the outer frame's, not the inner 7 */
    ck_assert_uint_eq(off(pk.l3), l3_off);
    ck_assert_uint_eq(pk.l3_len, 43);
    ck_assert_uint_eq(pk.payload_len, 3);
    ck_assert_uint_eq(pk.tcp_flags, FL_TCP_PSH | FL_TCP_ACK);
}

#define OUTER_LEN (14 + 4 + 20)

START_TEST(gre_ip_and_teb)
{
    /* C, K, S all present; IPv4 inside */
    frame f = { .n = 0 };
    gre_outer(&f, 0xb000, 0x0800, 40);
    ipv4(&f, 6, "192.168.69.10", "192.168.69.2", 20);
    tcp(&f, 49162, 80, 1, 2, 0x02, 5, 0);
    ASSERT_OK(dec(1, &f));
    assert_tcp4("192.168.69.10", "192.168.69.2", 49162, 80);
    ck_assert_uint_eq(pk.flags, FL_PKT_TUNNELED);
    ck_assert_uint_eq(pk.vlan, 42);
    ck_assert_uint_eq(off(pk.l3), OUTER_LEN + 16);

    /* key only, IPv6 inside */
    frame g = { .n = 0 };
    gre_outer(&g, 0x2000, 0x86dd, 48);
    ipv6(&g, 17, "2001:db8::10", "2001:db8::53", 8);
    udp(&g, 40000, 53, 8, 0);
    ASSERT_OK(dec(1, &g));
    ck_assert_uint_eq(pk.ip_version, 6);
    assert_addr(&pk.dst, "2001:db8::53");
    ck_assert_uint_eq(pk.dport, 53);
    ck_assert_uint_eq(pk.flags, FL_PKT_TUNNELED);

    /* transparent Ethernet bridging, as in pcaps/real/erspan.pcap */
    frame t = { .n = 0 };
    gre_outer(&t, 0x2000, 0x6558, INNER_ETH_LEN);
    inner_eth(&t);
    ASSERT_OK(dec(1, &t));
    assert_inner(OUTER_LEN + 8 + 18);

    /* a GRE payload we do not open (PPP, 0x880b) leaves the outer packet */
    frame p = { .n = 0 };
    gre_outer(&p, 0x0000, 0x880b, 4);
    fill(&p, 4, 0);
    ASSERT_OK(dec(1, &p));
    ck_assert_uint_eq(pk.l4_proto, 47);
    assert_addr(&pk.src, "10.200.0.3");
    ck_assert_uint_eq(pk.flags, 0);
    ck_assert_uint_eq(off(pk.payload), OUTER_LEN);

    /* the obsolete routing bit */
    frame r = { .n = 0 };
    gre_outer(&r, 0x4000, 0x0800, 24);
    fill(&r, 24, 0);
    ASSERT_ERR(dec(1, &r), FL_DERR_bad_tunnel);

    /* GRE inside GRE inside GRE... until the layer cap */
    frame n = { .n = 0 };
    eth(&n, 0x0800);
    for (int i = 0; i < 20; i++) {
        ipv4(&n, 47, "10.0.0.1", "10.0.0.2", (uint16_t)((20 - i) * 24 - 20 + 28));
        put16(&n, 0);
        put16(&n, 0x0800);
    }
    ipv4(&n, 17, "10.0.0.1", "10.0.0.2", 8);
    udp(&n, 1, 2, 8, 0);
    ASSERT_ERR(dec(1, &n), FL_DERR_too_many_layers);
}
END_TEST

START_TEST(erspan_types)
{
    /* type I: GRE 0x88BE without the S bit, Ethernet follows directly */
    frame a = { .n = 0 };
    gre_outer(&a, 0x0000, 0x88be, INNER_ETH_LEN);
    inner_eth(&a);
    ASSERT_OK(dec(1, &a));
    assert_inner(OUTER_LEN + 4 + 18);

    /* type II: S bit, 8-byte header: ver 1, VLAN 0, session 5, index 0 */
    frame b = { .n = 0 };
    gre_outer(&b, 0x1000, 0x88be, 8 + INNER_ETH_LEN);
    put16(&b, 0x1000);
    put16(&b, 0x0005);
    put32(&b, 0);
    inner_eth(&b);
    ASSERT_OK(dec(1, &b));
    assert_inner(OUTER_LEN + 8 + 8 + 18);

    /* type II with a wrong version */
    frame bv = { .n = 0 };
    gre_outer(&bv, 0x1000, 0x88be, 8 + INNER_ETH_LEN);
    put16(&bv, 0x3000);
    put16(&bv, 0x0005);
    put32(&bv, 0);
    inner_eth(&bv);
    ASSERT_ERR(dec(1, &bv), FL_DERR_bad_tunnel);

    /* type III: GRE 0x22EB, 12-byte header (ver 2), O bit -> 8 more bytes */
    frame c = { .n = 0 };
    gre_outer(&c, 0x1000, 0x22eb, 20 + INNER_ETH_LEN);
    put16(&c, 0x2000);
    put16(&c, 0x0005);
    put32(&c, 0xdeadbeef); /* timestamp */
    put16(&c, 0x0010);     /* SGT */
    put8(&c, 0x00);        /* P 0, FT 0 (Ethernet), HW id high bits */
    put8(&c, 0x01);        /* O */
    fill(&c, 8, 0x77);     /* platform-specific subheader */
    inner_eth(&c);
    ASSERT_OK(dec(1, &c));
    assert_inner(OUTER_LEN + 8 + 20 + 18);

    /* type III without O */
    frame d = { .n = 0 };
    gre_outer(&d, 0x1000, 0x22eb, 12 + INNER_ETH_LEN);
    put16(&d, 0x2000);
    put16(&d, 0x0005);
    put32(&d, 0);
    put16(&d, 0);
    put8(&d, 0);
    put8(&d, 0);
    inner_eth(&d);
    ASSERT_OK(dec(1, &d));
    assert_inner(OUTER_LEN + 8 + 12 + 18);
}
END_TEST

START_TEST(vxlan)
{
    frame f = { .n = 0 };
    eth(&f, 0x0800);
    ipv4(&f, 17, "10.0.0.1", "10.0.0.2", 8 + 8 + 14 + 20 + 8 + 4);
    udp(&f, 51000, 4789, 8 + 8 + 14 + 20 + 8 + 4, 0);
    put32(&f, 0x08000000); /* I flag */
    put32(&f, 0x00123400); /* VNI 0x1234 */
    eth(&f, 0x0800);
    ipv4(&f, 17, "192.168.1.5", "1.1.1.1", 12);
    udp(&f, 40001, 53, 12, 4);
    ASSERT_OK(dec(1, &f));
    ck_assert_uint_eq(pk.flags, FL_PKT_TUNNELED);
    assert_addr(&pk.src, "192.168.1.5");
    assert_addr(&pk.dst, "1.1.1.1");
    ck_assert_uint_eq(pk.sport, 40001);
    ck_assert_uint_eq(pk.dport, 53);
    ck_assert_uint_eq(off(pk.l3), 14 + 20 + 8 + 8 + 14);
    ck_assert_uint_eq(pk.payload_len, 4);

    /* no I flag: plain UDP to 4789 */
    frame g = { .n = 0 };
    eth(&g, 0x0800);
    ipv4(&g, 17, "10.0.0.1", "10.0.0.2", 16);
    udp(&g, 51000, 4789, 16, 0);
    put32(&g, 0);
    put32(&g, 0);
    ASSERT_OK(dec(1, &g));
    ck_assert_uint_eq(pk.flags, 0);
    ck_assert_uint_eq(pk.dport, 4789);
    ck_assert_uint_eq(pk.payload_len, 8);
}
END_TEST

START_TEST(ip_in_ip)
{
    frame f = { .n = 0 };
    eth(&f, 0x0800);
    ipv4(&f, 4, "198.18.0.1", "198.18.0.2", 40);
    ipv4(&f, 6, "10.10.10.1", "10.10.10.2", 20);
    tcp(&f, 1111, 2222, 3, 4, 0x01, 5, 0);
    ASSERT_OK(dec(1, &f));
    assert_tcp4("10.10.10.1", "10.10.10.2", 1111, 2222);
    ck_assert_uint_eq(pk.flags, FL_PKT_TUNNELED);
    ck_assert_uint_eq(off(pk.l3), 34);

    frame g = { .n = 0 }; /* 6in4 */
    eth(&g, 0x0800);
    ipv4(&g, 41, "198.18.0.1", "192.88.99.1", 48);
    ipv6(&g, 17, "2002:c612::1", "2001:4860::8888", 8);
    udp(&g, 3000, 53, 8, 0);
    ASSERT_OK(dec(1, &g));
    ck_assert_uint_eq(pk.ip_version, 6);
    assert_addr(&pk.dst, "2001:4860::8888");
    ck_assert_uint_eq(pk.flags, FL_PKT_TUNNELED);

    frame h = { .n = 0 }; /* IPv6 carrying IPv4 (proto 4) */
    eth(&h, 0x86dd);
    ipv6(&h, 4, "2001:db8::1", "2001:db8::2", 28);
    ipv4(&h, 17, "10.1.2.3", "10.3.2.1", 8);
    udp(&h, 9, 10, 8, 0);
    ASSERT_OK(dec(1, &h));
    ck_assert_uint_eq(pk.ip_version, 4);
    assert_addr(&pk.src, "10.1.2.3");

    frame m = { .n = 0 }; /* proto 4 with an IPv6 header inside */
    eth(&m, 0x0800);
    ipv4(&m, 4, "198.18.0.1", "198.18.0.2", 48);
    ipv6(&m, 59, "::1", "::2", 8);
    fill(&m, 8, 0);
    ASSERT_ERR(dec(1, &m), FL_DERR_bad_ip_version);
}
END_TEST

/* ---------------------------------------------------------------- IP */

START_TEST(ipv6_extension_headers)
{
    /* hop-by-hop (8) + routing (16) + destination options (8) + AH (24) + TCP */
    frame f = { .n = 0 };
    eth(&f, 0x86dd);
    ipv6(&f, 0, "2001:db8::1", "2001:db8::2", 8 + 16 + 8 + 24 + 20 + 6);
    put8(&f, 43);
    put8(&f, 0);
    fill(&f, 6, 0x01);
    put8(&f, 60);
    put8(&f, 1);
    fill(&f, 14, 0);
    put8(&f, 51);
    put8(&f, 0);
    fill(&f, 6, 0x01);
    put8(&f, 6); /* AH: next header TCP */
    put8(&f, 4); /* (4 + 2) * 4 = 24 bytes */
    fill(&f, 22, 0xab);
    tcp(&f, 443, 60000, 100, 200, 0x18, 5, 6);
    ASSERT_OK(dec(1, &f));
    ck_assert_uint_eq(pk.l4_proto, 6);
    ck_assert_uint_eq(pk.sport, 443);
    ck_assert_uint_eq(pk.dport, 60000);
    ck_assert_uint_eq(off(pk.payload), 14 + 40 + 56 + 20);
    ck_assert_uint_eq(pk.payload_len, 6);
    ck_assert_uint_eq(pk.l3_len, 40 + 56 + 26);
    ck_assert_uint_eq(pk.flags, 0);

    /* mobility header then no next header */
    frame m = { .n = 0 };
    eth(&m, 0x86dd);
    ipv6(&m, 135, "2001:db8::1", "2001:db8::2", 16);
    put8(&m, 59);
    put8(&m, 1);
    fill(&m, 14, 0);
    ASSERT_OK(dec(1, &m));
    ck_assert_uint_eq(pk.l4_proto, 59);
    ck_assert_uint_eq(pk.payload_len, 0);

    /* ESP ends the chain: the rest is payload */
    frame e = { .n = 0 };
    eth(&e, 0x86dd);
    ipv6(&e, 50, "2001:db8::1", "2001:db8::2", 24);
    fill(&e, 24, 0x99);
    ASSERT_OK(dec(1, &e));
    ck_assert_uint_eq(pk.l4_proto, 50);
    ck_assert_uint_eq(pk.payload_len, 24);
    ck_assert_uint_eq(pk.sport, 0);

    /* an extension header longer than the payload length */
    frame b = { .n = 0 };
    eth(&b, 0x86dd);
    ipv6(&b, 60, "2001:db8::1", "2001:db8::2", 8);
    put8(&b, 17);
    put8(&b, 2); /* 24 bytes, payload is 8 */
    fill(&b, 30, 0);
    ASSERT_ERR(dec(1, &b), FL_DERR_bad_ipv6_header);
}
END_TEST

START_TEST(ipv4_fragments)
{
    /* first fragment (MF, offset 0) of a 3000-byte UDP datagram */
    frame a = { .n = 0 };
    eth(&a, 0x0800);
    ipv4x(&a, 5, 17, "192.0.2.53", "192.0.2.99", 20 + 1480, 0x2000);
    udp(&a, 53, 41000, 3000, 1472);
    ASSERT_OK(dec(1, &a));
    ck_assert_uint_eq(pk.flags, FL_PKT_L4_TRUNC);
    ck_assert_uint_eq(pk.sport, 53);
    ck_assert_uint_eq(pk.dport, 41000);
    ck_assert_uint_eq(pk.payload_len, 1472);

    /* a later fragment: no L4 header, no ports */
    frame b = { .n = 0 };
    eth(&b, 0x0800);
    ipv4x(&b, 5, 17, "192.0.2.53", "192.0.2.99", 20 + 100, 185); /* offset 1480 */
    fill(&b, 100, 0x35);
    ASSERT_OK(dec(1, &b));
    ck_assert_uint_eq(pk.flags, FL_PKT_FRAGMENT);
    ck_assert_uint_eq(pk.l4_proto, 17);
    ck_assert_uint_eq(pk.sport, 0);
    ck_assert_uint_eq(pk.dport, 0);
    ck_assert_uint_eq(off(pk.payload), 34);
    ck_assert_uint_eq(pk.payload_len, 100);
    assert_addr(&pk.src, "192.0.2.53");

    /* IP options (IHL 6) */
    frame o = { .n = 0 };
    eth(&o, 0x0800);
    ipv4x(&o, 6, 6, "10.0.0.1", "10.0.0.2", 24 + 20, 0);
    tcp(&o, 1, 2, 0, 0, 0x02, 5, 0);
    ASSERT_OK(dec(1, &o));
    ck_assert_uint_eq(pk.sport, 1);
    ck_assert_uint_eq(off(pk.payload), 14 + 24 + 20);

    /* malformed headers */
    frame h = { .n = 0 };
    eth(&h, 0x0800);
    ipv4x(&h, 4, 6, "10.0.0.1", "10.0.0.2", 40, 0);
    fill(&h, 24, 0);
    ASSERT_ERR(dec(1, &h), FL_DERR_bad_ipv4_header);
    frame t = { .n = 0 };
    eth(&t, 0x0800);
    ipv4x(&t, 5, 6, "10.0.0.1", "10.0.0.2", 12, 0);
    fill(&t, 20, 0);
    ASSERT_ERR(dec(1, &t), FL_DERR_bad_ipv4_header);
    frame v = { .n = 0 };
    eth(&v, 0x0800);
    ipv6(&v, 17, "::1", "::2", 8);
    udp(&v, 1, 2, 8, 0);
    ASSERT_ERR(dec(1, &v), FL_DERR_bad_ip_version);
}
END_TEST

START_TEST(ipv6_fragments)
{
    /* first fragment: offset 0, M */
    frame a = { .n = 0 };
    eth(&a, 0x86dd);
    ipv6(&a, 44, "2001:db8::53", "2001:db8::1", 8 + 8 + 100);
    put8(&a, 17);
    put8(&a, 0);
    put16(&a, 0x0001);
    put32(&a, 0xcafe);
    udp(&a, 53, 5555, 2000, 100);
    ASSERT_OK(dec(1, &a));
    ck_assert_uint_eq(pk.flags, FL_PKT_L4_TRUNC);
    ck_assert_uint_eq(pk.l4_proto, 17);
    ck_assert_uint_eq(pk.sport, 53);
    ck_assert_uint_eq(pk.payload_len, 100);

    /* a later fragment */
    frame b = { .n = 0 };
    eth(&b, 0x86dd);
    ipv6(&b, 44, "2001:db8::53", "2001:db8::1", 8 + 64);
    put8(&b, 17);
    put8(&b, 0);
    put16(&b, (uint16_t)(108 << 3));
    put32(&b, 0xcafe);
    fill(&b, 64, 0x11);
    ASSERT_OK(dec(1, &b));
    ck_assert_uint_eq(pk.flags, FL_PKT_FRAGMENT);
    ck_assert_uint_eq(pk.l4_proto, 17);
    ck_assert_uint_eq(pk.sport, 0);
    ck_assert_uint_eq(pk.payload_len, 64);
    ck_assert_uint_eq(off(pk.payload), 14 + 48);

    /* atomic fragment (RFC 6946): offset 0, no M: a whole datagram */
    frame c = { .n = 0 };
    eth(&c, 0x86dd);
    ipv6(&c, 44, "2001:db8::53", "2001:db8::1", 8 + 20);
    put8(&c, 6);
    put8(&c, 0);
    put16(&c, 0);
    put32(&c, 1);
    tcp(&c, 80, 1024, 0, 0, 0x04, 5, 0);
    ASSERT_OK(dec(1, &c));
    ck_assert_uint_eq(pk.flags, 0);
    ck_assert_uint_eq(pk.tcp_flags, FL_TCP_RST);
}
END_TEST

START_TEST(icmp_errors)
{
    /* port unreachable quoting a TCP RST: stays ICMP, ports 0 */
    frame f = { .n = 0 };
    eth(&f, 0x0800);
    ipv4(&f, 1, "203.0.113.9", "192.0.2.1", 8 + 20 + 20);
    put8(&f, 3);
    put8(&f, 3);
    put16(&f, 0);
    put32(&f, 0);
    ipv4(&f, 6, "192.0.2.1", "203.0.113.9", 20);
    tcp(&f, 443, 51000, 1, 2, 0x04, 5, 0);
    ASSERT_OK(dec(1, &f));
    ck_assert_uint_eq(pk.l4_proto, 1);
    ck_assert_uint_eq(pk.flags, FL_PKT_ICMP_ERROR);
    assert_addr(&pk.src, "203.0.113.9");
    assert_addr(&pk.dst, "192.0.2.1");
    ck_assert_uint_eq(pk.sport, 0);
    ck_assert_uint_eq(pk.dport, 0);
    ck_assert_uint_eq(pk.tcp_flags, 0);
    ck_assert_uint_eq(off(pk.payload), 14 + 20 + 8); /* the quoted IP header */
    ck_assert_uint_eq(pk.payload_len, 40);

    static const uint8_t v4_errors[] = { 3, 4, 5, 11, 12 };
    static const uint8_t v4_info[] = { 0, 8, 13 };
    for (size_t i = 0; i < sizeof v4_errors + sizeof v4_info; i++) {
        bool err = i < sizeof v4_errors;
        frame g = { .n = 0 };
        eth(&g, 0x0800);
        ipv4(&g, 1, "10.0.0.1", "10.0.0.2", 8);
        put8(&g, err ? v4_errors[i] : v4_info[i - sizeof v4_errors]);
        put8(&g, 0);
        put16(&g, 0);
        put32(&g, 0);
        ASSERT_OK(dec(1, &g));
        ck_assert_uint_eq(pk.flags, err ? FL_PKT_ICMP_ERROR : 0);
    }

    /* ICMPv6 time exceeded quoting TCP SYN */
    frame v = { .n = 0 };
    eth(&v, 0x86dd);
    ipv6(&v, 58, "2001:db8:ff::1", "2001:db8::1", 8 + 40 + 20);
    put8(&v, 3);
    put8(&v, 0);
    put16(&v, 0);
    put32(&v, 0);
    ipv6(&v, 6, "2001:db8::1", "2606:4700::6810", 20);
    tcp(&v, 50000, 443, 1, 0, 0x02, 5, 0);
    ASSERT_OK(dec(1, &v));
    ck_assert_uint_eq(pk.l4_proto, 58);
    ck_assert_uint_eq(pk.flags, FL_PKT_ICMP_ERROR);
    ck_assert_uint_eq(pk.sport, 0);
    assert_addr(&pk.src, "2001:db8:ff::1");

    for (uint8_t type = 1; type <= 135; type++) {
        frame w = { .n = 0 };
        eth(&w, 0x86dd);
        ipv6(&w, 58, "2001:db8::1", "2001:db8::2", 8);
        put8(&w, type);
        fill(&w, 7, 0);
        ASSERT_OK(dec(1, &w));
        ck_assert_uint_eq(pk.flags, type <= 4 ? FL_PKT_ICMP_ERROR : 0);
    }
}
END_TEST

START_TEST(transport_errors_and_truncation)
{
    /* snaplen cut the IP payload: OK, L4_TRUNC, payload is what was captured */
    frame s = { .n = 0 };
    eth(&s, 0x0800);
    ipv4(&s, 6, "10.0.0.1", "10.0.0.2", 20 + 1000);
    tcp(&s, 80, 1234, 1, 2, 0x18, 5, 30);
    ASSERT_OK(dec(1, &s));
    ck_assert_uint_eq(pk.flags, FL_PKT_L4_TRUNC);
    ck_assert_uint_eq(pk.l3_len, 70);
    ck_assert_uint_eq(pk.payload_len, 30);

    /* TCP options cut: the fixed header is still read */
    frame o = { .n = 0 };
    eth(&o, 0x0800);
    ipv4(&o, 6, "10.0.0.1", "10.0.0.2", 40);
    tcp(&o, 80, 1234, 1, 2, 0x12, 10, 0);
    o.n -= 12;
    ASSERT_OK(dec(1, &o));
    ck_assert_uint_eq(pk.flags, FL_PKT_L4_TRUNC);
    ck_assert_uint_eq(pk.tcp_flags, FL_TCP_SYN | FL_TCP_ACK);
    ck_assert_uint_eq(pk.payload_len, 0);

    frame d = { .n = 0 }; /* data offset 4 */
    eth(&d, 0x0800);
    ipv4(&d, 6, "10.0.0.1", "10.0.0.2", 20);
    tcp(&d, 1, 2, 0, 0, 0, 5, 0);
    d.b[14 + 20 + 12] = 0x40;
    ASSERT_ERR(dec(1, &d), FL_DERR_bad_tcp_header);

    frame e = { .n = 0 }; /* data offset beyond the segment */
    eth(&e, 0x0800);
    ipv4(&e, 6, "10.0.0.1", "10.0.0.2", 20);
    tcp(&e, 1, 2, 0, 0, 0, 5, 0);
    e.b[14 + 20 + 12] = 0x60;
    fill(&e, 4, 0);
    ASSERT_ERR(dec(1, &e), FL_DERR_bad_tcp_header);

    frame u = { .n = 0 }; /* UDP length 7 */
    eth(&u, 0x0800);
    ipv4(&u, 17, "10.0.0.1", "10.0.0.2", 8);
    udp(&u, 1, 2, 7, 0);
    ASSERT_ERR(dec(1, &u), FL_DERR_bad_udp_length);

    frame w = { .n = 0 }; /* UDP length beyond the IP payload */
    eth(&w, 0x0800);
    ipv4(&w, 17, "10.0.0.1", "10.0.0.2", 12);
    udp(&w, 1, 2, 100, 4);
    ASSERT_ERR(dec(1, &w), FL_DERR_bad_udp_length);

    frame x = { .n = 0 }; /* UDP length shorter than the IP payload: clamp */
    eth(&x, 0x0800);
    ipv4(&x, 17, "10.0.0.1", "10.0.0.2", 20);
    udp(&x, 1, 2, 10, 12);
    ASSERT_OK(dec(1, &x));
    ck_assert_uint_eq(pk.payload_len, 2);

    frame t = { .n = 0 }; /* a TCP header cut short is an error */
    eth(&t, 0x0800);
    ipv4(&t, 6, "10.0.0.1", "10.0.0.2", 20);
    tcp(&t, 1, 2, 0, 0, 0, 5, 0);
    t.n -= 4;
    ASSERT_ERR(dec(1, &t), FL_DERR_truncated_tcp);

    frame i = { .n = 0 };
    eth(&i, 0x0800);
    ipv4(&i, 1, "10.0.0.1", "10.0.0.2", 8);
    put16(&i, 0x0800);
    ASSERT_ERR(dec(1, &i), FL_DERR_truncated_icmp);

    frame z = { .n = 0 };
    eth(&z, 0x0800);
    fill(&z, 10, 0x45);
    ASSERT_ERR(dec(1, &z), FL_DERR_truncated_ip);
    frame l = { .n = 0 };
    fill(&l, 10, 0);
    ASSERT_ERR(dec(1, &l), FL_DERR_truncated_link);

    ck_assert_str_eq(fl_decode_error_name(FL_DERR_bad_udp_length), "bad_udp_length");
    ck_assert_str_eq(fl_decode_error_name(FL_DERR_too_many_layers), "too_many_layers");
    ck_assert_str_eq(fl_decode_error_name(FL_DERR_COUNT), "unknown");
}
END_TEST

/* ------------------------------------------------------ every prefix */

typedef struct prefix_case {
    const char *name;
    int linktype;
    frame f;
    size_t ip_end; /* bytes up to the end of the outer IP packet */
} prefix_case;

static frame *new_case(prefix_case *c, size_t n, size_t max, const char *name, int lt)
{
    ck_assert_uint_lt(n, max);
    c[n].name = name;
    c[n].linktype = lt;
    c[n].f.n = 0;
    return &c[n].f;
}

/* end: where the outer IP packet ends (0: at the end of the frame) */
static void done_case(prefix_case *c, size_t *n, size_t end)
{
    c[*n].ip_end = end ? end : c[*n].f.n;
    (*n)++;
}

static size_t build_cases(prefix_case *c, size_t max)
{
    size_t n = 0;
#define NEW(nm, lt) new_case(c, n, max, (nm), (lt))
#define DONE(end) done_case(c, &n, (end))
    frame *f;

    f = NEW("eth tcp", 1);
    eth(f, 0x0800);
    ipv4(f, 6, "192.0.2.1", "198.51.100.7", 32 + 5);
    tcp(f, 40000, 443, 1, 2, 0x12, 8, 5);
    DONE(0);

    f = NEW("eth padded udp", 1);
    eth(f, 0x0800);
    ipv4(f, 17, "10.0.0.1", "10.0.0.2", 10);
    udp(f, 5353, 53, 10, 2);
    fill(f, 16, 0xee);
    DONE(44);

    f = NEW("qinq v6 udp", 1);
    eth(f, 0x88a8);
    tag(f, 200, 0x8100);
    tag(f, 300, 0x86dd);
    ipv6(f, 17, "2001:db8::1", "2001:db8::2", 12);
    udp(f, 1000, 2000, 12, 4);
    DONE(0);

    f = NEW("mpls", 1);
    eth(f, 0x8847);
    put32(f, (16u << 12) | 64);
    put32(f, (17u << 12) | (1 << 8) | 64);
    ipv4(f, 17, "172.16.0.1", "172.16.0.2", 12);
    udp(f, 4000, 53, 12, 4);
    DONE(0);

    f = NEW("sgt", 1);
    eth(f, 0x8909);
    put32(f, 0x01010001);
    put16(f, 2);
    put16(f, 0x0800);
    ipv4(f, 6, "10.1.1.150", "64.100.1.197", 20);
    tcp(f, 39312, 443, 1, 2, 0x18, 5, 0);
    DONE(0);

    f = NEW("pppoe", 1);
    eth(f, 0x8864);
    put16(f, 0x1100);
    put16(f, 1);
    put16(f, 2 + 28);
    put16(f, 0x0021);
    ipv4(f, 17, "100.64.0.1", "8.8.8.8", 8);
    udp(f, 33333, 53, 8, 0);
    DONE(0);

    f = NEW("802.3 snap", 1);
    eth(f, 8 + 28);
    put32(f, 0xaaaa0300);
    put16(f, 0);
    put16(f, 0x0800);
    ipv4(f, 17, "10.9.9.9", "10.8.8.8", 8);
    udp(f, 67, 68, 8, 0);
    DONE(0);

    f = NEW("fddi", 10);
    put8(f, 0x50);
    fill(f, 12, 0x42);
    put32(f, 0xaaaa0300);
    put16(f, 0);
    put16(f, 0x0800);
    ipv4(f, 6, "128.3.140.132", "194.140.136.34", 20);
    tcp(f, 2035, 80, 1, 0, 0x04, 5, 0);
    DONE(0);

    f = NEW("sll", 113);
    put16(f, 0);
    put16(f, 1);
    put16(f, 6);
    fill(f, 8, 0x12);
    put16(f, 0x0800);
    ipv4(f, 17, "192.168.0.10", "192.168.0.1", 11);
    udp(f, 5000, 53, 11, 3);
    DONE(0);

    f = NEW("sll2", 276);
    put16(f, 0x86dd);
    put16(f, 0);
    put32(f, 2);
    put16(f, 1);
    put16(f, 0x0406);
    fill(f, 8, 0x34);
    ipv6(f, 6, "2001:db8::5", "2606:4700::1", 27);
    tcp(f, 55555, 443, 9, 10, 0x18, 5, 7);
    DONE(0);

    f = NEW("raw v4", 12);
    ipv4(f, 6, "203.0.113.1", "203.0.113.2", 20);
    tcp(f, 1234, 80, 5, 6, 0x02, 5, 0);
    DONE(0);

    f = NEW("ipv6 229", 229);
    ipv6(f, 17, "2001:db8::1", "2001:db8::2", 8);
    udp(f, 546, 547, 8, 0);
    DONE(0);

    f = NEW("null", 0);
    put32(f, 0x1e000000);
    ipv6(f, 6, "::1", "::1", 20);
    tcp(f, 8080, 50000, 1, 1, 0x10, 5, 0);
    DONE(0);

    f = NEW("loop", 108);
    put32(f, 2);
    ipv4(f, 6, "10.0.0.1", "10.0.0.2", 20);
    tcp(f, 22, 60000, 1, 2, 0x18, 5, 0);
    DONE(0);

    f = NEW("gre teb", 1);
    gre_outer(f, 0xb000, 0x6558, INNER_ETH_LEN);
    inner_eth(f);
    DONE(0);

    f = NEW("erspan II", 1);
    gre_outer(f, 0x1000, 0x88be, 8 + INNER_ETH_LEN);
    put32(f, 0x10000005);
    put32(f, 0);
    inner_eth(f);
    DONE(0);

    f = NEW("erspan III", 1);
    gre_outer(f, 0x1000, 0x22eb, 20 + INNER_ETH_LEN);
    put32(f, 0x20000005);
    put32(f, 0);
    put32(f, 0x00100001);
    fill(f, 8, 0x77);
    inner_eth(f);
    DONE(0);

    f = NEW("vxlan", 1);
    eth(f, 0x0800);
    ipv4(f, 17, "10.0.0.1", "10.0.0.2", 8 + 8 + 14 + 20 + 8 + 4);
    udp(f, 51000, 4789, 8 + 8 + 14 + 20 + 8 + 4, 0);
    put32(f, 0x08000000);
    put32(f, 0x00123400);
    eth(f, 0x0800);
    ipv4(f, 17, "192.168.1.5", "1.1.1.1", 12);
    udp(f, 40001, 53, 12, 4);
    DONE(0);

    f = NEW("6in4", 1);
    eth(f, 0x0800);
    ipv4(f, 41, "198.18.0.1", "192.88.99.1", 48);
    ipv6(f, 17, "2002:c612::1", "2001:4860::8888", 8);
    udp(f, 3000, 53, 8, 0);
    DONE(0);

    f = NEW("ipv6 ext", 1);
    eth(f, 0x86dd);
    ipv6(f, 0, "2001:db8::1", "2001:db8::2", 8 + 24 + 20);
    put8(f, 51);
    put8(f, 0);
    fill(f, 6, 1);
    put8(f, 6);
    put8(f, 4);
    fill(f, 22, 0xab);
    tcp(f, 443, 60000, 100, 200, 0x18, 5, 0);
    DONE(0);

    f = NEW("ipv6 frag", 1);
    eth(f, 0x86dd);
    ipv6(f, 44, "2001:db8::53", "2001:db8::1", 8 + 8 + 20);
    put32(f, 0x11000001);
    put32(f, 0xcafe);
    udp(f, 53, 5555, 2000, 20);
    DONE(0);

    f = NEW("icmp error", 1);
    eth(f, 0x0800);
    ipv4(f, 1, "203.0.113.9", "192.0.2.1", 48);
    put32(f, 0x03030000);
    put32(f, 0);
    ipv4(f, 6, "192.0.2.1", "203.0.113.9", 20);
    tcp(f, 443, 51000, 1, 2, 0x04, 5, 0);
    DONE(0);

    f = NEW("icmpv6 error", 1);
    eth(f, 0x86dd);
    ipv6(f, 58, "2001:db8:ff::1", "2001:db8::1", 68);
    put32(f, 0x03000000);
    put32(f, 0);
    ipv6(f, 6, "2001:db8::1", "2606:4700::6810", 20);
    tcp(f, 50000, 443, 1, 0, 0x02, 5, 0);
    DONE(0);
#undef NEW
#undef DONE
    return n;
}

START_TEST(every_prefix)
{
    static prefix_case cases[40];
    size_t n = build_cases(cases, 40);
    ck_assert_uint_ge(n, 20);
    for (size_t i = 0; i < n; i++) {
        const prefix_case *c = &cases[i];
        const frame *f = &c->f;
        /* the whole frame decodes */
        ck_assert_msg(dec(c->linktype, f) == FL_DECODE_OK, "%s: %s", c->name,
                      fl_decode_error_name(why));
        ck_assert_msg(!(pk.flags & FL_PKT_L4_TRUNC) || !strcmp(c->name, "ipv6 frag"), "%s",
                      c->name);
        for (size_t len = 0; len <= f->n; len++) {
            uint8_t *copy = fl_test_exact_copy(f->b, len);
            fl_decode_error w = FL_DERR_COUNT;
            fl_decode_result r = fl_decode_packet(c->linktype, copy, (uint32_t)len, &pk, &w);
            if (r == FL_DECODE_ERROR) {
                ck_assert_msg(w < FL_DERR_COUNT, "%s/%zu: error without a reason", c->name, len);
            } else if (r == FL_DECODE_OK) {
                const uint8_t *end = copy + len;
                ck_assert(pk.l3 >= copy && pk.l3 + pk.l3_len <= end);
                ck_assert(pk.payload >= copy && pk.payload + pk.payload_len <= end);
                if (len < c->ip_end)
                    ck_assert_msg(pk.flags & FL_PKT_L4_TRUNC, "%s: prefix %zu not marked truncated",
                                  c->name, len);
            } else {
                ck_assert_int_eq(r, FL_DECODE_NOT_IP);
            }
            free(copy);
        }
    }
}
END_TEST

/* --------------------------------------------------- real captures */

typedef struct real_count {
    const char *file;
    unsigned long frames, tcp, udp;
} real_count;

/* tcp / udp: packets with a TCP or UDP header that is not an ICMP quote,
 * tunneled inner packets included, computed with TShark 4.0.17:
 *   tshark -n -r pcaps/real/F -Y 'tcp && !icmp && !icmpv6' | wc -l
 *   tshark -n -r pcaps/real/F -Y 'udp && !icmp && !icmpv6' | wc -l
 * frames: the `packets` column of pcaps/real/MANIFEST.tsv.
 * tshark shows a reassembled IP datagram on its last fragment; the decoder
 * reads the transport header in the first fragment: one each, same count
 * (erspan.pcap has 13 such GRE datagrams). */
static const real_count real_counts[] = {
    { "erspan.pcap", 287, 106, 48 },
    { "tls_sgt.pcap", 2431, 2431, 0 },
    { "vlan11.pcap", 133, 0, 82 },
    { "llc.pcap", 1333, 1333, 0 },
    { "KakaoTalk_chat.pcap", 347, 310, 36 },
    { "openjdk-25.0.2-zeek.org.pcap", 6, 6, 0 },
    { "four_ipv6_http_streams.pcap", 81, 81, 0 },
    { "suricata_http-urldecode-body_input.pcap", 18, 18, 0 },
};

START_TEST(real_captures)
{
    const real_count *rc = &real_counts[_i];
    char rel[256];
    snprintf(rel, sizeof rel, "pcaps/real/%s", rc->file);
    char *path = fl_test_path(rel);
    char err[512];
    const char *paths[1] = { path };
    fl_source *s = fl_source_open_files(paths, 1, NULL, err, sizeof err);
    ck_assert_msg(s != NULL, "%s", err);
    fl_frame fr;
    unsigned long frames = 0, tcp_n = 0, udp_n = 0, errors = 0;
    while (fl_source_next(s, &fr) == FL_SRC_FRAME) {
        frames++;
        fl_decode_error w;
        fl_decode_result r = fl_decode_packet(fr.linktype, fr.data, fr.caplen, &pk, &w);
        if (r == FL_DECODE_ERROR)
            errors++;
        if (r != FL_DECODE_OK || (pk.flags & FL_PKT_FRAGMENT))
            continue;
        if (pk.l4_proto == 6)
            tcp_n++;
        else if (pk.l4_proto == 17)
            udp_n++;
    }
    fl_source_close(s);
    free(path);
    ck_assert_uint_eq(frames, rc->frames);
    ck_assert_uint_eq(errors, 0);
    ck_assert_uint_eq(tcp_n, rc->tcp);
    ck_assert_uint_eq(udp_n, rc->udp);
}
END_TEST

static Suite *decode_suite(void)
{
    Suite *s = suite_create("decode");
    TCase *t = tcase_create("crafted");
    tcase_add_checked_fixture(t, NULL, teardown);
    tcase_add_test(t, ethernet_ipv4_tcp);
    tcase_add_test(t, ethernet_padding_clamped);
    tcase_add_test(t, vlan_tags);
    tcase_add_test(t, mpls_stack);
    tcase_add_test(t, cisco_sgt);
    tcase_add_test(t, pppoe_session);
    tcase_add_test(t, llc_snap_8023);
    tcase_add_test(t, non_ip_frames);
    tcase_add_test(t, fddi_llc);
    tcase_add_test(t, linux_cooked);
    tcase_add_test(t, raw_ip);
    tcase_add_test(t, bsd_null_and_loop);
    tcase_add_test(t, gre_ip_and_teb);
    tcase_add_test(t, erspan_types);
    tcase_add_test(t, vxlan);
    tcase_add_test(t, ip_in_ip);
    tcase_add_test(t, ipv6_extension_headers);
    tcase_add_test(t, ipv4_fragments);
    tcase_add_test(t, ipv6_fragments);
    tcase_add_test(t, icmp_errors);
    tcase_add_test(t, transport_errors_and_truncation);
    tcase_add_test(t, every_prefix);
    suite_add_tcase(s, t);
    TCase *r = tcase_create("real");
    tcase_add_loop_test(r, real_captures, 0, (int)(sizeof real_counts / sizeof real_counts[0]));
    suite_add_tcase(s, r);
    return s;
}

int main(void)
{
    return fl_test_run(decode_suite());
}
