/* test_source.c - capture files through fl_source: every real capture gives
 * the frame count of MANIFEST.tsv, gzip, merging, link types per frame, BPF,
 * truncated files, error messages, and (when permitted) a live interface. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include <pcap.h> /* the oracle for the block reader */

#include "fl_decode.h"
#include "fl_source.h"
#include "fl_test_util.h"

static char *real(const char *name)
{
    char rel[512];
    snprintf(rel, sizeof rel, "pcaps/real/%s", name);
    return fl_test_path(rel);
}

static fl_source *open1(const char *path, const char *bpf, char *err, size_t errlen)
{
    fl_source_options opt = { .bpf = bpf };
    const char *paths[1] = { path };
    return fl_source_open_files(paths, 1, &opt, err, errlen);
}

static unsigned long drain(fl_source *s)
{
    fl_frame fr;
    unsigned long n = 0;
    while (fl_source_next(s, &fr) == FL_SRC_FRAME)
        n++;
    return n;
}

/* A temporary file with the given bytes; the caller unlinks and frees it. */
static char *temp_file(const void *data, size_t len)
{
    char *path = strdup("/tmp/fl_test_source_XXXXXX");
    ck_assert_ptr_nonnull(path);
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    if (len)
        ck_assert_int_eq(write(fd, data, len), (ssize_t)len);
    close(fd);
    return path;
}

/* ------------------------------------------------------- MANIFEST */

START_TEST(manifest_frame_counts)
{
    char *mpath = real("MANIFEST.tsv");
    FILE *m = fopen(mpath, "r");
    ck_assert_msg(m != NULL, "cannot read %s", mpath);
    static char line[65536];
    ck_assert_ptr_nonnull(fgets(line, sizeof line, m));
    int col_file = -1, col_packets = -1, col_error = -1, col = 0;
    char *save = NULL;
    for (char *tok = strtok_r(line, "\t\n", &save); tok;
         tok = strtok_r(NULL, "\t\n", &save), col++) {
        if (!strcmp(tok, "file"))
            col_file = col;
        else if (!strcmp(tok, "packets"))
            col_packets = col;
        else if (!strcmp(tok, "capture_error"))
            col_error = col;
    }
    ck_assert(col_file >= 0 && col_packets >= 0 && col_error >= 0);
    int col_last = col_file > col_packets ? col_file : col_packets;
    if (col_error > col_last)
        col_last = col_error;

    int rows = 0, truncated = 0;
    while (fgets(line, sizeof line, m)) {
        char *fields[64] = { 0 };
        int nf = 0;
        for (char *p = line, *tab; nf < 64 && p; p = tab ? tab + 1 : NULL) {
            tab = strchr(p, '\t');
            if (tab)
                *tab = '\0';
            fields[nf++] = p;
        }
        /* a row too short for any of the three columns is skipped */
        if (nf <= col_last || !fields[col_file][0])
            continue;
        rows++;
        const char *name = fields[col_file];
        unsigned long want = strtoul(fields[col_packets], NULL, 10);
        bool damaged = strcmp(fields[col_error], "-") != 0;

        char *path = real(name);
        char err[1024];
        fl_source *s = open1(path, NULL, err, sizeof err);
        ck_assert_msg(s != NULL, "%s: %s", name, err);
        unsigned long got = drain(s);
        ck_assert_msg(got == want, "%s: %lu frames, MANIFEST says %lu", name, got, want);
        fl_source_stats st;
        fl_source_get_stats(s, &st);
        ck_assert_uint_eq(st.packets, want);
        if (damaged) {
            truncated++;
            ck_assert_uint_eq(fl_source_problem_count(s), 1);
            char expect[1100];
            snprintf(expect, sizeof expect, "%s: truncated capture after packet %lu: ", path, want);
            const char *p = fl_source_problem(s, 0);
            ck_assert_msg(strncmp(p, expect, strlen(expect)) == 0, "problem line: %s", p);
        } else {
            ck_assert_msg(fl_source_problem_count(s) == 0, "%s: %s", name, fl_source_problem(s, 0));
        }
        fl_source_close(s);
        free(path);
    }
    fclose(m);
    free(mpath);
    ck_assert_int_ge(rows, 51);
    ck_assert_int_eq(truncated, 1); /* http-fault-post.pcap */
}
END_TEST

/* ------------------------------------------------------------ gzip */

START_TEST(gzip_equals_plain)
{
    char *gzpath = real("1000-requests-one-dropped-response.pcap.gz");
    /* decompress with zlib into a plain file */
    gzFile g = gzopen(gzpath, "rb");
    ck_assert_ptr_nonnull(g);
    size_t cap = 1 << 20, n = 0;
    uint8_t *buf = malloc(cap);
    int r;
    while ((r = gzread(g, buf + n, (unsigned)(cap - n))) > 0) {
        n += (size_t)r;
        if (n == cap) {
            uint8_t *grown = realloc(buf, cap *= 2);
            ck_assert_ptr_nonnull(grown);
            buf = grown;
        }
    }
    gzclose(g);
    ck_assert_uint_gt(n, 24);
    char *plain = temp_file(buf, n);
    free(buf);

    char err[512];
    fl_source *a = open1(gzpath, NULL, err, sizeof err);
    ck_assert_msg(a != NULL, "%s", err);
    fl_source *b = open1(plain, NULL, err, sizeof err);
    ck_assert_msg(b != NULL, "%s", err);
    fl_frame fa, fb;
    unsigned long frames = 0;
    for (;;) {
        fl_source_status sa = fl_source_next(a, &fa), sb = fl_source_next(b, &fb);
        ck_assert_int_eq(sa, sb);
        if (sa != FL_SRC_FRAME)
            break;
        frames++;
        ck_assert_uint_eq(fa.ts_us, fb.ts_us);
        ck_assert_uint_eq(fa.caplen, fb.caplen);
        ck_assert_uint_eq(fa.wire_len, fb.wire_len);
        ck_assert_int_eq(fa.linktype, 1);
        ck_assert_int_eq(fb.linktype, 1);
        ck_assert(memcmp(fa.data, fb.data, fa.caplen) == 0);
    }
    ck_assert_uint_eq(frames, 4102);
    fl_source_close(a);
    fl_source_close(b);
    unlink(plain);
    free(plain);
    free(gzpath);
}
END_TEST

/* ---------------------------------------------------------- merging */

/* A classic pcap (microsecond, little-endian) with one 4-byte frame per
 * timestamp; each frame's bytes are its timestamp's seconds. */
static char *write_pcap(uint32_t linktype, const uint32_t *secs, size_t n, size_t cut)
{
    uint8_t b[1024];
    size_t len = 0;
    uint32_t hdr[6] = { 0xa1b2c3d4, 0x00040002, 0, 0, 65535, linktype };
    memcpy(b, hdr, 24);
    len = 24;
    for (size_t i = 0; i < n; i++) {
        uint32_t rec[4] = { secs[i], 500000, 4, 60 };
        memcpy(b + len, rec, 16);
        memcpy(b + len + 16, &secs[i], 4);
        len += 20;
    }
    ck_assert_uint_ge(len, cut);
    return temp_file(b, len - cut);
}

START_TEST(merge_in_timestamp_order)
{
    static const uint32_t ta[] = { 100, 103, 105, 110 };
    static const uint32_t tb[] = { 101, 102, 105, 120 };
    static const uint32_t tc[] = { 99 };
    char *a = write_pcap(1, ta, 4, 0);
    char *b = write_pcap(12, tb, 4, 0);
    char *c = write_pcap(0, tc, 1, 0);
    const char *paths[3] = { a, b, c };
    char err[512];
    fl_source *s = fl_source_open_files(paths, 3, NULL, err, sizeof err);
    ck_assert_msg(s != NULL, "%s", err);
    ck_assert_uint_eq(fl_source_file_count(s), 3);
    ck_assert_str_eq(fl_source_file_name(s, 1), b);
    ck_assert(!fl_source_is_live(s));

    /* expected: by time; the tie at 105 goes to the file given first */
    static const uint32_t want_ts[] = { 99, 100, 101, 102, 103, 105, 105, 110, 120 };
    static const uint32_t want_file[] = { 2, 0, 1, 1, 0, 0, 1, 0, 1 };
    static const int lt_of_file[] = { 1, 12, 0 };
    fl_frame fr;
    for (size_t i = 0; i < 9; i++) {
        ck_assert_int_eq(fl_source_next(s, &fr), FL_SRC_FRAME);
        ck_assert_uint_eq(fr.ts_us, (uint64_t)want_ts[i] * 1000000u + 500000u);
        ck_assert_uint_eq(fr.file_index, want_file[i]);
        ck_assert_int_eq(fr.linktype, lt_of_file[want_file[i]]);
        ck_assert_uint_eq(fr.caplen, 4);
        ck_assert_uint_eq(fr.wire_len, 60);
        uint32_t body;
        memcpy(&body, fr.data, 4);
        ck_assert_uint_eq(body, want_ts[i]);
    }
    ck_assert_int_eq(fl_source_next(s, &fr), FL_SRC_END);
    fl_source_stats st;
    fl_source_get_stats(s, &st);
    ck_assert_uint_eq(st.packets, 9);
    ck_assert_uint_eq(st.bytes, 9 * 60);
    fl_source_close(s);
    unlink(a);
    unlink(b);
    unlink(c);
    free(a);
    free(b);
    free(c);
}
END_TEST

START_TEST(merge_real_files)
{
    /* the same file twice: strict alternation (ties to the first file) */
    char *t = real("tls_alert.pcap");
    const char *twice[2] = { t, t };
    char err[512];
    fl_source *s = fl_source_open_files(twice, 2, NULL, err, sizeof err);
    ck_assert_msg(s != NULL, "%s", err);
    fl_frame fr;
    uint64_t prev = 0;
    unsigned long n = 0;
    while (fl_source_next(s, &fr) == FL_SRC_FRAME) {
        ck_assert_uint_eq(fr.file_index, n % 2);
        ck_assert_uint_ge(fr.ts_us, prev);
        prev = fr.ts_us;
        n++;
    }
    ck_assert_uint_eq(n, 36);
    fl_source_close(s);

    /* four link types in one stream, each file's frames keep theirs; every
     * file is in strict time order (capinfos), so the merge is too */
    const char *names[4] = { "KakaoTalk_chat.pcap", "llc.pcap",
                             "suricata_http-urldecode-body_input.pcap",
                             "openjdk-25.0.2-zeek.org.pcap" };
    static const int lt[4] = { 113, 10, 0, 276 };
    static const unsigned long count[4] = { 347, 1333, 18, 6 };
    char *paths[4];
    for (int i = 0; i < 4; i++)
        paths[i] = real(names[i]);
    s = fl_source_open_files((const char *const *)paths, 4, NULL, err, sizeof err);
    ck_assert_msg(s != NULL, "%s", err);
    unsigned long per[4] = { 0 };
    prev = 0;
    int order_first = -1;
    while (fl_source_next(s, &fr) == FL_SRC_FRAME) {
        ck_assert_uint_lt(fr.file_index, 4);
        if (order_first < 0)
            order_first = (int)fr.file_index;
        ck_assert_int_eq(fr.linktype, lt[fr.file_index]);
        ck_assert_uint_ge(fr.ts_us, prev);
        prev = fr.ts_us;
        per[fr.file_index]++;
        fl_packet pk;
        fl_decode_error why;
        ck_assert_int_eq(fl_decode_packet(fr.linktype, fr.data, fr.caplen, &pk, &why),
                         FL_DECODE_OK);
    }
    for (int i = 0; i < 4; i++)
        ck_assert_uint_eq(per[i], count[i]);
    ck_assert_int_eq(order_first, 1); /* llc.pcap is from 1996 */
    fl_source_close(s);
    for (int i = 0; i < 4; i++)
        free(paths[i]);
    free(t);
}
END_TEST

/* libpcap 1.10 refuses the second interface of this file ("an interface has
 * a type 0 different from the type of the first interface") before the first
 * packet; the source rereads it with its own pcapng reader. capinfos: 62
 * Ethernet frames and 2 BSD null frames, first at 1439753725.701607. */
START_TEST(pcapng_per_packet_linktype)
{
    char *p = real("many_interfaces-1.pcapng");
    char err[512];
    fl_source *s = open1(p, NULL, err, sizeof err);
    ck_assert_msg(s != NULL, "%s", err);
    fl_frame fr;
    unsigned long eth = 0, null = 0, n = 0;
    while (fl_source_next(s, &fr) == FL_SRC_FRAME) {
        if (n++ == 0)
            ck_assert_uint_eq(fr.ts_us, 1439753725701607u);
        if (fr.linktype == 1)
            eth++;
        else if (fr.linktype == 0)
            null++;
        fl_packet pk;
        fl_decode_error why;
        ck_assert_int_eq(fl_decode_packet(fr.linktype, fr.data, fr.caplen, &pk, &why),
                         FL_DECODE_OK);
    }
    ck_assert_uint_eq(eth, 62);
    ck_assert_uint_eq(null, 2);
    ck_assert_uint_eq(fl_source_problem_count(s), 0);
    fl_source_close(s);

    /* the same file cut in the middle of a block: every whole packet before
     * the cut, then one problem line */
    FILE *in = fopen(p, "rb");
    ck_assert_ptr_nonnull(in);
    static uint8_t whole[32768];
    size_t len = fread(whole, 1, sizeof whole, in);
    fclose(in);
    ck_assert_uint_eq(len, 20704);
    char *cut = temp_file(whole, 12000);
    s = open1(cut, NULL, err, sizeof err);
    ck_assert_msg(s != NULL, "%s", err);
    /* 52 packet blocks end before byte 12000 (walking the block lengths) */
    unsigned long got = drain(s);
    ck_assert_uint_eq(got, 52);
    ck_assert_uint_eq(fl_source_problem_count(s), 1);
    char expect[600];
    snprintf(expect, sizeof expect, "%s: truncated capture after packet %lu: pcapng: truncated",
             cut, got);
    ck_assert_msg(strncmp(fl_source_problem(s, 0), expect, strlen(expect)) == 0, "%s",
                  fl_source_problem(s, 0));
    fl_source_close(s);
    unlink(cut);
    free(cut);

    /* a BPF filter on that path too: `tshark -r F -Y udp | wc -l` = 32 */
    s = open1(p, "udp", err, sizeof err);
    ck_assert_msg(s != NULL, "%s", err);
    ck_assert_uint_eq(drain(s), 32);
    fl_source_stats st;
    fl_source_get_stats(s, &st);
    ck_assert_uint_eq(st.filtered_out, 32);
    fl_source_close(s);
    free(p);
}
END_TEST

/* ---------------------------------------------------- filter, stats */

START_TEST(bpf_filter_and_stats)
{
    /* KakaoTalk_chat.pcap: 347 frames, `tshark -r F -Y tcp | wc -l` = 310 */
    char *p = real("KakaoTalk_chat.pcap");
    char err[512];
    fl_source *s = open1(p, "tcp", err, sizeof err);
    ck_assert_msg(s != NULL, "%s", err);
    ck_assert_uint_eq(drain(s), 310);
    fl_source_stats st;
    fl_source_get_stats(s, &st);
    ck_assert_uint_eq(st.packets, 310);
    ck_assert_uint_eq(st.filtered_out, 37);
    fl_source_close(s);
    free(p);

    /* bytes are wire lengths: llc.pcap has 92572 on the wire, 90152 captured
     * (tshark -T fields -e frame.len / -e frame.cap_len, summed) */
    p = real("llc.pcap");
    s = open1(p, NULL, err, sizeof err);
    ck_assert_msg(s != NULL, "%s", err);
    ck_assert_uint_eq(drain(s), 1333);
    fl_source_get_stats(s, &st);
    ck_assert_uint_eq(st.packets, 1333);
    ck_assert_uint_eq(st.bytes, 92572);
    ck_assert_uint_eq(st.filtered_out, 0);
    ck_assert_uint_eq(st.kernel_drops, 0);
    fl_source_close(s);
    free(p);
}
END_TEST

START_TEST(bad_bpf)
{
    char *p = real("tls_alert.pcap");
    char err[512] = "";
    fl_source *s = open1(p, "tcp and and port", err, sizeof err);
    ck_assert_ptr_null(s);
    ck_assert_msg(strstr(err, "bad BPF filter \"tcp and and port\"") != NULL, "%s", err);
    ck_assert_msg(strstr(err, "tls_alert.pcap") != NULL, "%s", err);
    ck_assert_ptr_null(strchr(err, '\n'));
    free(p);
}
END_TEST

/* ------------------------------------------------- broken inputs */

static void expect_open_error(const char *path, const char *needle)
{
    char err[1024] = "";
    const char *paths[1] = { path };
    fl_source *s = fl_source_open_files(paths, 1, NULL, err, sizeof err);
    ck_assert_ptr_null(s);
    ck_assert_msg(strstr(err, path) != NULL, "error does not name the file: %s", err);
    ck_assert_msg(strstr(err, needle) != NULL, "error '%s' lacks '%s'", err, needle);
    ck_assert_ptr_null(strchr(err, '\n'));
}

START_TEST(open_errors)
{
    expect_open_error("/nonexistent/fl-missing.pcap", "No such file or directory");
    expect_open_error("/tmp", "is a directory");

    char *empty = temp_file("", 0);
    expect_open_error(empty, "empty");
    unlink(empty);
    free(empty);

    static const char text[] = "this is not a capture file, just some text\n";
    char *garbage = temp_file(text, sizeof text - 1);
    expect_open_error(garbage, "not a pcap or pcapng capture");
    unlink(garbage);
    free(garbage);

    char *gzpath = strdup("/tmp/fl_test_source_gz_XXXXXX");
    int fd = mkstemp(gzpath);
    ck_assert_int_ge(fd, 0);
    gzFile g = gzdopen(fd, "wb");
    gzwrite(g, text, sizeof text - 1);
    gzclose(g);
    expect_open_error(gzpath, "not a pcap or pcapng capture inside the gzip file");
    unlink(gzpath);
    free(gzpath);

    /* one bad file among good ones: the whole open fails, naming it */
    char *good = real("tls_alert.pcap");
    const char *paths[2] = { good, "/nonexistent/second.pcap" };
    char err[512];
    ck_assert_ptr_null(fl_source_open_files(paths, 2, NULL, err, sizeof err));
    ck_assert_msg(strstr(err, "/nonexistent/second.pcap") != NULL, "%s", err);
    free(good);
}
END_TEST

START_TEST(truncated_then_next_file)
{
    /* a crafted file cut 6 bytes into its third record */
    static const uint32_t ts[] = { 200, 201, 202 };
    char *cut = write_pcap(1, ts, 3, 14);
    char *other = real("tls_alert.pcap");
    const char *paths[2] = { cut, other };
    char err[512];
    fl_source *s = fl_source_open_files(paths, 2, NULL, err, sizeof err);
    ck_assert_msg(s != NULL, "%s", err);
    fl_frame fr;
    unsigned long per[2] = { 0, 0 };
    while (fl_source_next(s, &fr) == FL_SRC_FRAME)
        per[fr.file_index]++;
    ck_assert_uint_eq(per[0], 2);
    ck_assert_uint_eq(per[1], 18);
    ck_assert_uint_eq(fl_source_problem_count(s), 1);
    char expect[600];
    snprintf(expect, sizeof expect, "%s: truncated capture after packet 2: ", cut);
    ck_assert_msg(strncmp(fl_source_problem(s, 0), expect, strlen(expect)) == 0, "%s",
                  fl_source_problem(s, 0));
    ck_assert_ptr_null(fl_source_problem(s, 1));
    fl_source_close(s);
    unlink(cut);
    free(cut);
    free(other);
}
END_TEST

/* ------------------------------------------- block reader vs libpcap */

/* What libpcap itself reads from a file: the frames, and the error text it
 * stopped on (empty at a clean end). NULL-free: returns the frame count. */
typedef struct ref_frame {
    uint64_t ts_us;
    uint32_t caplen, len;
    uint8_t data[2048];
} ref_frame;

static size_t libpcap_read(const char *path, ref_frame *out, size_t max, char *msg, size_t msglen,
                           bool *opened)
{
    char perr[PCAP_ERRBUF_SIZE];
    msg[0] = '\0';
    pcap_t *pc = pcap_open_offline(path, perr);
    *opened = pc != NULL;
    if (!pc)
        return 0;
    size_t n = 0;
    struct pcap_pkthdr *h;
    const u_char *d;
    int r;
    while ((r = pcap_next_ex(pc, &h, &d)) == 1) {
        ck_assert_uint_lt(n, max);
        ck_assert_uint_le(h->caplen, sizeof out[n].data);
        out[n].ts_us = (uint64_t)((int64_t)h->ts.tv_sec * 1000000 + h->ts.tv_usec);
        out[n].caplen = h->caplen;
        out[n].len = h->len;
        memcpy(out[n].data, d, h->caplen);
        n++;
    }
    if (r == -1)
        snprintf(msg, msglen, "%s", pcap_geterr(pc));
    pcap_close(pc);
    return n;
}

/* Every prefix of the file: fl_source (block reader, handing back to
 * libpcap) gives libpcap's frames, byte for byte, and libpcap's error. */
static void blocks_match_libpcap(const uint8_t *file, size_t len, const char *what)
{
    static ref_frame ref[64];
    char *path = temp_file(file, 0);
    for (size_t cut = 0; cut <= len; cut++) {
        FILE *w = fopen(path, "wb");
        ck_assert_ptr_nonnull(w);
        ck_assert_uint_eq(fwrite(file, 1, cut, w), cut);
        fclose(w);
        char msg[PCAP_ERRBUF_SIZE], err[1024];
        bool opened;
        size_t n = libpcap_read(path, ref, 64, msg, sizeof msg, &opened);
        fl_source *s = open1(path, NULL, err, sizeof err);
        ck_assert_msg((s != NULL) == opened, "%s, %zu bytes: open %d vs libpcap %d (%s)", what, cut,
                      s != NULL, opened, err);
        if (!s)
            continue;
        fl_frame fr;
        size_t i = 0;
        while (fl_source_next(s, &fr) == FL_SRC_FRAME) {
            ck_assert_msg(i < n, "%s, %zu bytes: frame %zu beyond libpcap's %zu", what, cut, i, n);
            ck_assert_msg(fr.ts_us == ref[i].ts_us && fr.caplen == ref[i].caplen &&
                              fr.wire_len == ref[i].len &&
                              memcmp(fr.data, ref[i].data, fr.caplen) == 0,
                          "%s, %zu bytes: frame %zu differs from libpcap's", what, cut, i);
            i++;
        }
        ck_assert_msg(i == n, "%s, %zu bytes: %zu frames, libpcap %zu", what, cut, i, n);
        if (msg[0]) {
            ck_assert_uint_eq(fl_source_problem_count(s), 1);
            const char *p = fl_source_problem(s, 0);
            ck_assert_msg(strlen(p) >= strlen(msg) && strcmp(p + strlen(p) - strlen(msg), msg) == 0,
                          "%s, %zu bytes: \"%s\" does not end in libpcap's \"%s\"", what, cut, p,
                          msg);
        } else {
            ck_assert_msg(fl_source_problem_count(s) == 0, "%s, %zu bytes: %s", what, cut,
                          fl_source_problem(s, 0));
        }
        fl_source_close(s);
    }
    unlink(path);
    free(path);
}

static uint32_t get32(const uint8_t *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

static void put32(uint8_t *p, uint32_t v)
{
    memcpy(p, &v, 4);
}

START_TEST(blocks_every_prefix_equals_libpcap)
{
    /* a little-endian microsecond capture of 11 Ethernet frames */
    char *p = real("tls-1.2-handshake-failure.pcap");
    FILE *f = fopen(p, "rb");
    ck_assert_ptr_nonnull(f);
    static uint8_t orig[4096], v[4096];
    size_t len = fread(orig, 1, sizeof orig, f);
    fclose(f);
    free(p);
    ck_assert_uint_gt(len, 24);
    ck_assert_uint_lt(len, sizeof orig);
    ck_assert_uint_eq(get32(orig), 0xa1b2c3d4);
    blocks_match_libpcap(orig, len, "as is");

    /* the other byte order */
    memcpy(v, orig, len);
    put32(v, __builtin_bswap32(0xa1b2c3d4));
    uint16_t maj = __builtin_bswap16(2), min = __builtin_bswap16(4);
    memcpy(v + 4, &maj, 2);
    memcpy(v + 6, &min, 2);
    for (size_t o = 8; o < 24; o += 4)
        put32(v + o, __builtin_bswap32(get32(orig + o)));
    for (size_t o = 24; o + 16 <= len; o += 16 + get32(orig + o + 8))
        for (size_t k = 0; k < 16; k += 4)
            put32(v + o + k, __builtin_bswap32(get32(orig + o + k)));
    blocks_match_libpcap(v, len, "big-endian");

    /* nanosecond time stamps (libpcap truncates to microseconds) */
    memcpy(v, orig, len);
    put32(v, 0xa1b23c4d);
    for (size_t o = 24; o + 16 <= len; o += 16 + get32(orig + o + 8))
        put32(v + o + 4, get32(orig + o + 4) * 1000u + 999u);
    blocks_match_libpcap(v, len, "nanoseconds");

    /* records longer than the header's snapshot length (libpcap cuts them
     * and goes on), or a sub-second field out of range: the block reader
     * hands the rest of the file to libpcap at the first such record */
    memcpy(v, orig, len);
    put32(v + 16, 100);
    blocks_match_libpcap(v, len, "snaplen 100");
    memcpy(v, orig, len);
    size_t rec = 0;
    for (size_t o = 24; o + 16 <= len; o += 16 + get32(orig + o + 8), rec++)
        if (rec == 2)
            put32(v + o + 4, 1000000u);
    blocks_match_libpcap(v, len, "microseconds 1000000 in frame 3");
}
END_TEST

START_TEST(interrupt_ends_stream)
{
    char *p = real("tls2.pcap");
    char err[512];
    fl_source *s = open1(p, NULL, err, sizeof err);
    ck_assert_msg(s != NULL, "%s", err);
    fl_frame fr;
    ck_assert_int_eq(fl_source_next(s, &fr), FL_SRC_FRAME);
    fl_source_interrupt(s);
    ck_assert_int_eq(fl_source_next(s, &fr), FL_SRC_END);
    fl_source_close(s);
    free(p);
}
END_TEST

START_TEST(live_interface)
{
    char err[512] = "";
    fl_source_options opt = { .idle_ms = 20, .buffer_mb = 2 };
    fl_source *bad = fl_source_open_live("fl-no-such-if0", &opt, err, sizeof err);
    ck_assert_ptr_null(bad);
    ck_assert_msg(strstr(err, "fl-no-such-if0") != NULL, "%s", err);

    /* loopback, when this process may capture (root or CAP_NET_RAW) */
    fl_source *s = fl_source_open_live("lo", &opt, err, sizeof err);
    if (!s) {
        ck_assert_msg(strstr(err, "lo") != NULL, "%s", err);
        return;
    }
    ck_assert(fl_source_is_live(s));
    ck_assert_uint_eq(fl_source_file_count(s), 0);
    fl_frame fr;
    fl_source_status st = fl_source_next(s, &fr);
    ck_assert(st == FL_SRC_FRAME || st == FL_SRC_IDLE);
    ck_assert_uint_gt(fr.ts_us, 1600000000ull * 1000000u); /* a wall-clock time */
    if (st == FL_SRC_FRAME)
        ck_assert_int_eq(fr.linktype, 1); /* Linux loopback is DLT_EN10MB */
    fl_source_interrupt(s);
    ck_assert_int_eq(fl_source_next(s, &fr), FL_SRC_END);
    fl_source_stats stats;
    fl_source_get_stats(s, &stats);
    ck_assert_uint_eq(stats.packets, st == FL_SRC_FRAME ? 1 : 0);
    fl_source_close(s);
}
END_TEST

static Suite *source_suite(void)
{
    Suite *s = suite_create("source");
    TCase *t = tcase_create("files");
    tcase_add_test(t, manifest_frame_counts);
    tcase_add_test(t, gzip_equals_plain);
    tcase_add_test(t, merge_in_timestamp_order);
    tcase_add_test(t, merge_real_files);
    tcase_add_test(t, pcapng_per_packet_linktype);
    tcase_add_test(t, bpf_filter_and_stats);
    tcase_add_test(t, bad_bpf);
    tcase_add_test(t, open_errors);
    tcase_add_test(t, truncated_then_next_file);
    tcase_add_test(t, blocks_every_prefix_equals_libpcap);
    tcase_add_test(t, interrupt_ends_stream);
    suite_add_tcase(s, t);
    TCase *l = tcase_create("live");
    tcase_add_test(l, live_interface);
    suite_add_tcase(s, l);
    return s;
}

int main(void)
{
    return fl_test_run(source_suite());
}
