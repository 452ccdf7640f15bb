/* test_classify.c - the nDPI adapter on real packets, its flow pool, the
 * operator rules file and the prefix table.
 *
 * Expected hosts and packet numbers are what tshark shows for the same
 * captures (e.g. `tshark -r pcaps/real/openjdk-25.0.2-zeek.org.pcap`: frame 4
 * is the ClientHello with SNI zeek.org). The project's decoder is written in
 * parallel, so the test reads the captures with libpcap and skips the link
 * header itself (Ethernet with one 802.1Q tag, Linux SLL, SLL2). */
#include <arpa/inet.h>
#include <fcntl.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fl_classify.h"
#include "fl_test_util.h"

#define MAXPKT 64

typedef struct test_pkt {
    uint8_t *l3; /* exact-size heap copy: ASan sees over-reads */
    uint32_t len;
    uint64_t ts_us;
    unsigned frame; /* 1-based frame number in the capture */
} test_pkt;

typedef struct test_flow {
    test_pkt pkt[MAXPKT];
    unsigned n;
} test_flow;

/* Packets of the flow with server address server and the given client
 * port (either direction), in capture order. */
static void load_flow(const char *rel, const char *server, uint16_t client_port, test_flow *fl)
{
    char eb[PCAP_ERRBUF_SIZE];
    char *path = fl_test_path(rel);
    pcap_t *p = pcap_open_offline(path, eb);
    ck_assert_msg(p != NULL, "%s: %s", path, eb);
    fl_addr want;
    ck_assert(fl_addr_parse(server, &want));
    int dlt = pcap_datalink(p);
    struct pcap_pkthdr *h;
    const u_char *d;
    unsigned frame = 0;
    memset(fl, 0, sizeof *fl);
    while (pcap_next_ex(p, &h, &d) == 1) {
        frame++;
        uint32_t skip, cap = h->caplen;
        uint16_t et;
        if (dlt == DLT_EN10MB) {
            ck_assert(cap >= 14);
            skip = 14;
            et = (uint16_t)(d[12] << 8 | d[13]);
            if (et == 0x8100) {
                ck_assert(cap >= 18);
                skip = 18;
                et = (uint16_t)(d[16] << 8 | d[17]);
            }
        } else if (dlt == DLT_LINUX_SLL) {
            ck_assert(cap >= 16);
            skip = 16;
            et = (uint16_t)(d[14] << 8 | d[15]);
        } else {
            ck_assert_int_eq(dlt, DLT_LINUX_SLL2);
            ck_assert(cap >= 20);
            skip = 20;
            et = (uint16_t)(d[0] << 8 | d[1]);
        }
        const uint8_t *l3 = d + skip;
        uint32_t len = cap - skip;
        fl_addr src = { 0 }, dst = { 0 };
        uint32_t l4off;
        if (et == 0x0800 && len >= 20) {
            src.family = dst.family = 4;
            memcpy(src.b, l3 + 12, 4);
            memcpy(dst.b, l3 + 16, 4);
            l4off = (uint32_t)(l3[0] & 15) * 4;
        } else if (et == 0x86dd && len >= 40) {
            src.family = dst.family = 6;
            memcpy(src.b, l3 + 8, 16);
            memcpy(dst.b, l3 + 24, 16);
            l4off = 40;
        } else {
            continue;
        }
        if (len < l4off + 4)
            continue;
        uint16_t sp = (uint16_t)(l3[l4off] << 8 | l3[l4off + 1]);
        uint16_t dp = (uint16_t)(l3[l4off + 2] << 8 | l3[l4off + 3]);
        bool match = (fl_addr_eq(&dst, &want) && sp == client_port) ||
                     (fl_addr_eq(&src, &want) && dp == client_port);
        if (!match)
            continue;
        if (fl->n == MAXPKT)
            break; /* the start of a flow is what classification needs */
        test_pkt *t = &fl->pkt[fl->n++];
        t->l3 = fl_test_exact_copy(l3, len);
        t->len = len;
        t->ts_us = (uint64_t)h->ts.tv_sec * 1000000u + (uint64_t)h->ts.tv_usec;
        t->frame = frame;
    }
    pcap_close(p);
    free(path);
    ck_assert_uint_gt(fl->n, 0);
}

static void free_flow(test_flow *fl)
{
    for (unsigned i = 0; i < fl->n; i++)
        free(fl->pkt[i].l3);
}

static fl_packet as_packet(const test_pkt *t)
{
    fl_packet p;
    memset(&p, 0, sizeof p);
    p.l3 = t->l3;
    p.l3_len = t->len;
    p.ts_us = t->ts_us;
    p.wire_len = t->len;
    return p;
}

/* Feeds the flow until classification is final; returns the frame number
 * of the deciding packet (0: never final). */
static unsigned classify_flow(fl_classifier *c, const test_flow *fl, fl_classification *out)
{
    fl_ndpi_flow *f = fl_classifier_flow_new(c);
    ck_assert_ptr_nonnull(f);
    unsigned frame = 0;
    for (unsigned i = 0; i < fl->n && !frame; i++) {
        fl_packet p = as_packet(&fl->pkt[i]);
        if (fl_classifier_packet(c, f, &p, out))
            frame = fl->pkt[i].frame;
    }
    fl_classifier_flow_free(c, f);
    return frame;
}

static fl_classifier *new_classifier(const char *rules, uint32_t max_flows)
{
    char err[256] = "";
    fl_classifier *c = fl_classifier_new(rules, max_flows, err, sizeof err);
    ck_assert_msg(c != NULL, "fl_classifier_new: %s", err);
    return c;
}

static const char *name_of(const fl_classifier *c, uint16_t id)
{
    return fl_classifier_proto_name(c, id);
}

/* ---- classification of real flows ---- */

START_TEST(tls_ipv4_sni_on_client_hello)
{
    /* SLL2 capture: SYN, SYN-ACK, ACK, ClientHello (frame 4, SNI zeek.org),
     * ACK, ServerHello. */
    test_flow fl;
    load_flow("pcaps/real/openjdk-25.0.2-zeek.org.pcap", "192.0.78.150", 55058, &fl);
    ck_assert_uint_eq(fl.n, 6);
    fl_classifier *c = new_classifier(NULL, 4);
    fl_classification out;
    memset(&out, 0, sizeof out);
    ck_assert_uint_eq(classify_flow(c, &fl, &out), 4);
    ck_assert_str_eq(out.host, "zeek.org");
    ck_assert_str_eq(name_of(c, out.master_proto), "TLS");
    fl_classifier_free(c);
    free_flow(&fl);
}
END_TEST

START_TEST(tls_ipv6_youtube)
{
    /* tls2.pcap frame 2: ClientHello to 2607:f8b0:4005:801::200e, SNI
     * www.youtube.com (the capture starts after the handshake's SYNs). */
    test_flow fl;
    load_flow("pcaps/real/tls2.pcap", "2607:f8b0:4005:801::200e", 49634, &fl);
    fl_classifier *c = new_classifier(NULL, 4);
    fl_classification out;
    ck_assert_uint_eq(classify_flow(c, &fl, &out), 2);
    ck_assert_str_eq(out.host, "www.youtube.com");
    ck_assert_str_eq(name_of(c, out.master_proto), "TLS");
    ck_assert_str_eq(name_of(c, out.app_proto), "YouTube");
    fl_classifier_free(c);
    free_flow(&fl);
}
END_TEST

START_TEST(tls_ipv4_microsoft)
{
    /* tls2.pcap frame 1020: ClientHello to 204.79.197.219, SNI
     * edge.microsoft.com. */
    test_flow fl;
    load_flow("pcaps/real/tls2.pcap", "204.79.197.219", 49682, &fl);
    fl_classifier *c = new_classifier(NULL, 4);
    fl_classification out;
    ck_assert_uint_eq(classify_flow(c, &fl, &out), 1020);
    ck_assert_str_eq(out.host, "edge.microsoft.com");
    ck_assert_str_eq(name_of(c, out.master_proto), "TLS");
    ck_assert_str_eq(name_of(c, out.app_proto), "Microsoft");
    fl_classifier_free(c);
    free_flow(&fl);
}
END_TEST

/* The ClientHello's name decides without nDPI seeing the packet exactly
 * as nDPI decides from the packet, when its automaton knows the name
 * (tls2.pcap's www.youtube.com and edge.microsoft.com, above); an unknown
 * name (zeek.org) and Teams (remembered by nDPI per client) are left to
 * nDPI, as are names it would not print. */
START_TEST(tls_hello_name_as_ndpi_decides)
{
    fl_classifier *c = new_classifier(NULL, 4);
    static const struct {
        const char *file, *server, *sni;
        uint16_t port;
    } known[] = {
        { "pcaps/real/tls2.pcap", "2607:f8b0:4005:801::200e", "www.youtube.com", 49634 },
        { "pcaps/real/tls2.pcap", "204.79.197.219", "edge.microsoft.com", 49682 },
    };
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++) {
        test_flow fl;
        load_flow(known[i].file, known[i].server, known[i].port, &fl);
        fl_classification slow, fast;
        memset(&slow, 0, sizeof slow);
        ck_assert_uint_gt(classify_flow(c, &fl, &slow), 0);
        ck_assert(fl_classifier_tls_hello(c, known[i].sni, &fast));
        ck_assert_uint_eq(fast.app_proto, slow.app_proto);
        ck_assert_uint_eq(fast.master_proto, slow.master_proto);
        ck_assert_str_eq(fast.host, slow.host);
        free_flow(&fl);
    }
    fl_classification out;
    ck_assert(fl_classifier_tls_hello(c, "WWW.YOUTUBE.COM", &out));
    ck_assert_str_eq(out.host, "www.youtube.com");
    ck_assert(!fl_classifier_tls_hello(c, "zeek.org", &out));
    ck_assert(!fl_classifier_tls_hello(c, "teams.microsoft.com", &out));
    ck_assert(!fl_classifier_tls_hello(c, "www.you?tube.com", &out));
    ck_assert(!fl_classifier_tls_hello(c, "www.you tube.com", &out));
    ck_assert(!fl_classifier_tls_hello(c, "", &out));
    fl_classifier_free(c);
}
END_TEST

START_TEST(dns_query_name_behind_vlan)
{
    /* vlan11.pcap frame 1: 802.1Q, query A google.com to 8.8.8.8. */
    test_flow fl;
    load_flow("pcaps/real/vlan11.pcap", "8.8.8.8", 53199, &fl);
    fl_classifier *c = new_classifier(NULL, 4);
    fl_classification out;
    ck_assert_uint_eq(classify_flow(c, &fl, &out), 1);
    ck_assert_str_eq(out.host, "google.com");
    ck_assert_str_eq(name_of(c, out.master_proto), "DNS");
    fl_classifier_free(c);
    free_flow(&fl);
}
END_TEST

START_TEST(http_host_header)
{
    /* http-500-head.pcap frame 4: HEAD request, Host: samples.example.com. */
    test_flow fl;
    load_flow("pcaps/real/http-500-head.pcap", "10.156.206.202", 49323, &fl);
    fl_classifier *c = new_classifier(NULL, 4);
    fl_classification out;
    ck_assert_uint_eq(classify_flow(c, &fl, &out), 4);
    ck_assert_str_eq(out.host, "samples.example.com");
    ck_assert_str_eq(name_of(c, out.master_proto), "HTTP");
    fl_classifier_free(c);
    free_flow(&fl);
}
END_TEST

START_TEST(giveup_after_handshake_only)
{
    /* Only SYN, SYN-ACK, ACK of the zeek.org flow: no verdict, no host;
     * giving up guesses from port 443. */
    test_flow fl;
    load_flow("pcaps/real/openjdk-25.0.2-zeek.org.pcap", "192.0.78.150", 55058, &fl);
    fl_classifier *c = new_classifier(NULL, 1);
    fl_ndpi_flow *f = fl_classifier_flow_new(c);
    fl_classification out;
    for (unsigned i = 0; i < 3; i++) {
        fl_packet p = as_packet(&fl.pkt[i]);
        ck_assert(!fl_classifier_packet(c, f, &p, &out));
    }
    memset(&out, 0x55, sizeof out);
    fl_classifier_giveup(c, f, &out);
    ck_assert_str_eq(out.host, "");
    ck_assert_str_eq(name_of(c, out.master_proto), "TLS");
    fl_classifier_flow_free(c, f);
    fl_classifier_free(c);
    free_flow(&fl);
}
END_TEST

START_TEST(empty_packet_is_not_final)
{
    fl_classifier *c = new_classifier(NULL, 1);
    fl_ndpi_flow *f = fl_classifier_flow_new(c);
    fl_packet p;
    memset(&p, 0, sizeof p);
    fl_classification out;
    ck_assert(!fl_classifier_packet(c, f, &p, &out));
    /* No nDPI state (the pool was full): no verdict, an empty guess. */
    uint8_t byte = 0x45;
    p.l3 = &byte;
    p.l3_len = 1;
    ck_assert(!fl_classifier_packet(c, NULL, &p, &out));
    memset(&out, 0x55, sizeof out);
    fl_classifier_giveup(c, NULL, &out);
    ck_assert_uint_eq(out.app_proto, 0);
    ck_assert_uint_eq(out.master_proto, 0);
    ck_assert_str_eq(out.host, "");
    fl_classifier_flow_free(c, f);
    fl_classifier_free(c);
}
END_TEST

START_TEST(every_prefix_of_client_hello)
{
    /* nDPI reads the packet, not our cursor: every cut of the ClientHello
     * (IP header included) must be handled without reading past it (run
     * under valgrind, which also sees reads inside libndpi). A cut TLS
     * record gives no SNI; a cut IP header no verdict at all. */
    test_flow fl;
    load_flow("pcaps/real/openjdk-25.0.2-zeek.org.pcap", "192.0.78.150", 55058, &fl);
    const test_pkt *ch = &fl.pkt[3];
    fl_classifier *c = new_classifier(NULL, 1);
    unsigned with_sni = 0;
    for (uint32_t n = 0; n <= ch->len; n++) {
        uint8_t *cut = fl_test_exact_copy(ch->l3, n);
        fl_ndpi_flow *f = fl_classifier_flow_new(c);
        ck_assert_ptr_nonnull(f);
        fl_packet p = as_packet(ch);
        p.l3 = cut;
        p.l3_len = n;
        fl_classification out;
        if (fl_classifier_packet(c, f, &p, &out) && strcmp(out.host, "zeek.org") == 0)
            with_sni++;
        fl_classifier_flow_free(c, f);
        free(cut);
    }
    ck_assert_uint_ge(with_sni, 1); /* at least the whole packet */
    fl_classifier_free(c);
    free_flow(&fl);
}
END_TEST

/* ---- the flow pool ---- */

START_TEST(pool_exhaustion_and_reuse)
{
    fl_classifier *c = new_classifier(NULL, 3);
    fl_ndpi_flow *a = fl_classifier_flow_new(c);
    fl_ndpi_flow *b = fl_classifier_flow_new(c);
    fl_ndpi_flow *d = fl_classifier_flow_new(c);
    ck_assert_ptr_nonnull(a);
    ck_assert_ptr_nonnull(b);
    ck_assert_ptr_nonnull(d);
    ck_assert(a != b && b != d && a != d);
    ck_assert_ptr_null(fl_classifier_flow_new(c));
    fl_classifier_flow_free(c, b);
    fl_classifier_flow_free(c, b); /* a double free is ignored */
    fl_ndpi_flow *e = fl_classifier_flow_new(c);
    ck_assert(e == b); /* the freed slot comes back */
    ck_assert_ptr_null(fl_classifier_flow_new(c));
    fl_classifier_flow_free(c, NULL);
    fl_classifier_free(c); /* frees flows still in use */

    c = new_classifier(NULL, 0);
    ck_assert_ptr_null(fl_classifier_flow_new(c));
    fl_classifier_free(c);
}
END_TEST

START_TEST(pool_slot_reuse_starts_clean)
{
    /* A reused slot must not carry the old flow's state: the second flow
     * is classified from its own packets (HTTP), not as the first (TLS). */
    test_flow tls, http;
    load_flow("pcaps/real/openjdk-25.0.2-zeek.org.pcap", "192.0.78.150", 55058, &tls);
    load_flow("pcaps/real/http-500-head.pcap", "10.156.206.202", 49323, &http);
    fl_classifier *c = new_classifier(NULL, 1);
    fl_classification out;
    ck_assert_uint_eq(classify_flow(c, &tls, &out), 4);
    ck_assert_str_eq(out.host, "zeek.org");
    ck_assert_uint_eq(classify_flow(c, &http, &out), 4);
    ck_assert_str_eq(out.host, "samples.example.com");
    ck_assert_str_eq(name_of(c, out.master_proto), "HTTP");
    fl_classifier_free(c);
    free_flow(&tls);
    free_flow(&http);
}
END_TEST

/* ---- operator rules ---- */

static char tmpdir[64];

static char *write_tmp(const char *name, const char *text)
{
    if (!tmpdir[0]) {
        strcpy(tmpdir, "/tmp/fl-test-classify-XXXXXX");
        ck_assert_ptr_nonnull(mkdtemp(tmpdir));
    }
    size_t n = strlen(tmpdir) + strlen(name) + 2;
    char *path = malloc(n);
    snprintf(path, n, "%s/%s", tmpdir, name);
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
    return path;
}

static void drop_tmp(char *path)
{
    unlink(path);
    free(path);
    if (rmdir(tmpdir) == 0)
        tmpdir[0] = '\0';
}

/* Runs fl_classifier_new with stdout redirected; returns what nDPI (or
 * anything) printed, so a test can assert silence. */
static fl_classifier *new_quiet(const char *rules, char *printed, size_t plen, char *err,
                                size_t errlen)
{
    fflush(stdout);
    char cap[] = "/tmp/fl-test-stdout-XXXXXX";
    int fd = mkstemp(cap);
    ck_assert_int_ge(fd, 0);
    int saved = dup(1);
    dup2(fd, 1);
    fl_classifier *c = fl_classifier_new(rules, 2, err, errlen);
    fflush(stdout);
    dup2(saved, 1);
    close(saved);
    lseek(fd, 0, SEEK_SET);
    ssize_t n = read(fd, printed, plen - 1);
    printed[n > 0 ? n : 0] = '\0';
    close(fd);
    unlink(cap);
    return c;
}

START_TEST(default_rules_file_loads_silently)
{
    char *path = fl_test_path("deploy/providers.rules");
    char printed[512], err[256] = "";
    fl_classifier *c = new_quiet(path, printed, sizeof printed, err, sizeof err);
    ck_assert_msg(c != NULL, "%s", err);
    ck_assert_str_eq(printed, "");
    /* Its ip: rules reached nDPI: 151.101.0.0/16 Fastly, 23.32.0.0/11
     * Akamai (Fastly's and Akamai's published lists). */
    fl_addr a;
    fl_addr_parse("151.101.1.1", &a);
    uint16_t id = fl_classifier_match_ipv4(c, &a);
    ck_assert(fl_classifier_proto_is_custom(c, id));
    ck_assert_str_eq(name_of(c, id), "Fastly");
    fl_addr_parse("23.33.1.1", &a);
    ck_assert_str_eq(name_of(c, fl_classifier_match_ipv4(c, &a)), "Akamai");
    /* Its host: rules too. */
    ck_assert_str_eq(name_of(c, fl_classifier_match_host(c, "a1.akamaiedge.net")), "Akamai");
    ck_assert_str_eq(name_of(c, fl_classifier_match_host(c, "global.ssl.fastly.net")), "Fastly");
    fl_classifier_free(c);
    free(path);
}
END_TEST

START_TEST(custom_host_rule_names_the_flow)
{
    char *path = write_tmp("zeek.rules", "# test\nhost:\"zeek.org\"@ZeekCo\n"
                                         "ip:2001:db8::/32@ZeekCo\n");
    char printed[512], err[256] = "";
    fl_classifier *c = new_quiet(path, printed, sizeof printed, err, sizeof err);
    ck_assert_msg(c != NULL, "%s", err);
    ck_assert_str_eq(printed, ""); /* the IPv6 ip: rule is not nDPI's */
    test_flow fl;
    load_flow("pcaps/real/openjdk-25.0.2-zeek.org.pcap", "192.0.78.150", 55058, &fl);
    fl_classification out;
    ck_assert_uint_eq(classify_flow(c, &fl, &out), 4);
    ck_assert_str_eq(out.host, "zeek.org");
    ck_assert(fl_classifier_proto_is_custom(c, out.app_proto));
    ck_assert_str_eq(name_of(c, out.app_proto), "ZeekCo");
    ck_assert_str_eq(name_of(c, out.master_proto), "TLS");
    ck_assert(!fl_classifier_proto_is_custom(c, out.master_proto));
    fl_classifier_free(c);
    free_flow(&fl);
    drop_tmp(path);
}
END_TEST

START_TEST(bad_rules_are_errors)
{
    char err[256];
    char *path = write_tmp("bad.rules", "host:\"ok.example\"@Ok\n\ngarbage line\n");
    ck_assert_ptr_null(fl_classifier_new(path, 1, err, sizeof err));
    ck_assert_msg(strstr(err, path) && strstr(err, ":3:"), "err: %s", err);
    drop_tmp(path);

    static const char *const bad[] = {
        "ip:1.2.3.0/33@X\n",     "ip:1.2.3.0/24@Bad Name\n",
        "ip:300.1.1.1@X\n",      "host:\"a.example@X\n",
        "tcp:99999@X\n",         "ip:1.2.3.4:0@X\n",
        "ip:2001:db8::/129@X\n", "host:\"\"@X\n",
        "ip:1.2.3.4@\n",         "ip:1.2.3.4,,ip:1.2.3.5@X\n",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        path = write_tmp("bad2.rules", bad[i]);
        err[0] = '\0';
        ck_assert_msg(fl_classifier_new(path, 1, err, sizeof err) == NULL, "accepted %s", bad[i]);
        ck_assert_msg(strstr(err, ":1:") != NULL, "%s: err %s", bad[i], err);
        drop_tmp(path);
    }
    /* nDPI 4.2 holds 229 new names; names of its own protocols do not count. */
    char *text = malloc(64 * 240);
    size_t off = 0;
    off += (size_t)sprintf(text + off, "host:\"g.example\"@google\n");
    for (unsigned i = 0; i < 229; i++)
        off += (size_t)sprintf(text + off, "host:\"n%u.example\"@N%u\n", i, i);
    path = write_tmp("many.rules", text);
    char printed[512];
    fl_classifier *c = new_quiet(path, printed, sizeof printed, err, sizeof err);
    ck_assert_msg(c != NULL, "%s", err);
    ck_assert_str_eq(printed, "");
    ck_assert_str_eq(name_of(c, fl_classifier_match_host(c, "n228.example")), "N228");
    ck_assert_str_eq(name_of(c, fl_classifier_match_host(c, "g.example")), "Google");
    fl_classifier_free(c);
    drop_tmp(path);
    sprintf(text + off, "host:\"n229.example\"@N229\n");
    path = write_tmp("many.rules", text);
    ck_assert_ptr_null(fl_classifier_new(path, 1, err, sizeof err));
    ck_assert_msg(strstr(err, ":231:") != NULL, "%s", err);
    drop_tmp(path);
    free(text);

    ck_assert_ptr_null(fl_classifier_new("/nonexistent/x.rules", 1, err, sizeof err));
    ck_assert_ptr_nonnull(strstr(err, "/nonexistent/x.rules"));
}
END_TEST

START_TEST(ndpi_lists_and_host_rules)
{
    fl_classifier *c = new_classifier(NULL, 1);
    fl_addr a;
    /* nDPI 4.2's own IPv4 lists. */
    fl_addr_parse("142.250.1.1", &a);
    ck_assert_str_eq(name_of(c, fl_classifier_match_ipv4(c, &a)), "Google");
    fl_addr_parse("104.16.1.1", &a);
    ck_assert_str_eq(name_of(c, fl_classifier_match_ipv4(c, &a)), "Cloudflare");
    fl_addr_parse("192.0.2.1", &a); /* TEST-NET-1, RFC 5737 */
    ck_assert_uint_eq(fl_classifier_match_ipv4(c, &a), 0);
    fl_addr_parse("2a00:1450::1", &a);
    ck_assert_uint_eq(fl_classifier_match_ipv4(c, &a), 0); /* IPv4 only */
    /* Host rules: suffixes, case-insensitive. Some of nDPI's own patterns
     * are substrings ("youtube." matches youtube.com.example.org), which is
     * why provider.c puts its suffix table first. */
    ck_assert_str_eq(name_of(c, fl_classifier_match_host(c, "www.youtube.com")), "YouTube");
    ck_assert_str_eq(name_of(c, fl_classifier_match_host(c, "WWW.YouTube.COM")), "YouTube");
    ck_assert_uint_eq(fl_classifier_match_host(c, "www.example.org"), 0);
    ck_assert_uint_eq(fl_classifier_match_host(c, ""), 0);
    ck_assert_str_eq(name_of(c, 0), "Unknown");
    ck_assert_str_eq(name_of(c, 60000), "Unknown");
    ck_assert(!fl_classifier_proto_is_custom(c, 60000));
    fl_classifier_free(c);
}
END_TEST

/* ---- prefix table ---- */

static void add(fl_prefix_table *t, const char *net, int bits, uint32_t v)
{
    fl_addr a;
    ck_assert(fl_addr_parse(net, &a));
    ck_assert(fl_prefix_table_add(t, &a, bits, v));
}

static uint32_t look(fl_prefix_table *t, const char *addr)
{
    fl_addr a;
    uint32_t v = 0;
    ck_assert(fl_addr_parse(addr, &a));
    return fl_prefix_table_lookup(t, &a, &v) ? v : 0;
}

START_TEST(prefix_table_longest_match)
{
    fl_prefix_table *t = fl_prefix_table_new();
    ck_assert_ptr_nonnull(t);
    add(t, "104.16.0.0", 13, 1);
    add(t, "104.16.5.0", 24, 2);
    add(t, "104.16.5.128", 25, 3);
    add(t, "2606:4700::", 32, 4);
    add(t, "2606:4700:10::", 48, 5);
    add(t, "10.1.2.3", 16, 6); /* host bits are dropped: 10.1.0.0/16 */
    ck_assert_uint_eq(fl_prefix_table_size(t), 6);
    ck_assert_uint_eq(look(t, "104.16.1.1"), 1);
    ck_assert_uint_eq(look(t, "104.23.255.255"), 1);
    ck_assert_uint_eq(look(t, "104.24.0.0"), 0);
    ck_assert_uint_eq(look(t, "104.16.5.1"), 2);
    ck_assert_uint_eq(look(t, "104.16.5.200"), 3);
    ck_assert_uint_eq(look(t, "2606:4700::1"), 4);
    ck_assert_uint_eq(look(t, "2606:4700:10::1"), 5);
    ck_assert_uint_eq(look(t, "2606:4701::1"), 0);
    ck_assert_uint_eq(look(t, "10.1.200.1"), 6);
    /* IPv4 and IPv6 do not mix: ::6810:0101 is not 104.16.1.1. */
    ck_assert_uint_eq(look(t, "::104.16.1.1"), 0);
    /* A second add of the same prefix replaces the value. */
    add(t, "104.16.5.0", 24, 7);
    ck_assert_uint_eq(fl_prefix_table_size(t), 6);
    ck_assert_uint_eq(look(t, "104.16.5.1"), 7);
    /* Bad lengths are refused. */
    fl_addr a;
    fl_addr_parse("1.2.3.4", &a);
    ck_assert(!fl_prefix_table_add(t, &a, 33, 1));
    ck_assert(!fl_prefix_table_add(t, &a, -1, 1));
    fl_addr none = { 0 };
    uint32_t v;
    ck_assert(!fl_prefix_table_add(t, &none, 0, 1));
    ck_assert(!fl_prefix_table_lookup(t, &none, &v));
    /* A default route catches the rest. */
    add(t, "0.0.0.0", 0, 9);
    ck_assert_uint_eq(look(t, "192.0.2.1"), 9);
    ck_assert_uint_eq(look(t, "104.16.5.1"), 7);
    fl_prefix_table_free(t);
}
END_TEST

static Suite *classify_suite(void)
{
    Suite *s = suite_create("classify");
    TCase *tc = tcase_create("ndpi");
    tcase_add_test(tc, tls_ipv4_sni_on_client_hello);
    tcase_add_test(tc, tls_ipv6_youtube);
    tcase_add_test(tc, tls_ipv4_microsoft);
    tcase_add_test(tc, tls_hello_name_as_ndpi_decides);
    tcase_add_test(tc, dns_query_name_behind_vlan);
    tcase_add_test(tc, http_host_header);
    tcase_add_test(tc, giveup_after_handshake_only);
    tcase_add_test(tc, empty_packet_is_not_final);
    tcase_add_test(tc, every_prefix_of_client_hello);
    tcase_add_test(tc, pool_exhaustion_and_reuse);
    tcase_add_test(tc, pool_slot_reuse_starts_clean);
    tcase_add_test(tc, default_rules_file_loads_silently);
    tcase_add_test(tc, custom_host_rule_names_the_flow);
    tcase_add_test(tc, bad_rules_are_errors);
    tcase_add_test(tc, ndpi_lists_and_host_rules);
    tcase_add_test(tc, prefix_table_longest_match);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return fl_test_run(classify_suite());
}
