/* source_pcap.c - capture files and live interfaces through libpcap.
 *
 * The only file that includes <pcap.h>. Files: pcap or pcapng whatever the
 * name says, gzip-compressed or not (zlib behind a stdio cookie), several
 * merged into one stream by timestamp (a binary heap over each file's next
 * frame; ties go to the file given first; within a file the file's own order
 * is kept, even where its timestamps go backwards). Live: pcap_create with
 * a large TPACKET_V3 ring (immediate mode off, a 100 ms block timeout) and a
 * non-blocking descriptor polled with a timeout, so the caller gets
 * FL_SRC_IDLE ticks when the link goes quiet.
 *
 * The BPF filter of a file is compiled for its link type and applied here with
 * pcap_offline_filter() (not pcap_setfilter) so rejected frames can be
 * counted in filtered_out.
 */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <pcap.h>
#include <zlib.h>

#include "fl_source.h"
#include "source_int.h"

#define ERRLEN (PCAP_ERRBUF_SIZE + 1024)

/* A BPF program compiled for one link type (the pcapng fallback reader can
 * meet several in one file). */
typedef struct link_filter {
    int linktype;
    bool ok; /* false: the filter does not compile for this link type */
    struct bpf_program prog;
} link_filter;

typedef struct src_file {
    char *name;
    bool gz;
    pcap_t *pc;         /* libpcap reader, or NULL */
    fl_pcapng *ng;      /* own pcapng reader after libpcap gave up, or NULL */
    fl_pcap_blocks blk; /* classic pcap read in blocks, until it hands back */
    int dlt;            /* pcap_datalink() of a libpcap-opened file */
    bool has_prog;
    struct bpf_program prog;
    uint64_t nread;      /* frames read, before the filter */
    fl_frame head;       /* the next frame, when the file is in the heap */
    uint64_t last_ts_us; /* of the file's last frame with a timestamp */
} src_file;

/* A pcapng Simple Packet Block has no timestamp: libpcap and our reader
 * give it 0. It was captured after the file's previous frame, so it takes
 * that frame's time, not 1970 (a jump back by decades and forward again,
 * fl_engine.h FL_TIME_JUMP_MIN_US, would cut every flow twice). */
static uint64_t frame_ts(src_file *f, uint64_t ts_us)
{
    if (ts_us == 0)
        return f->last_ts_us;
    f->last_ts_us = ts_us;
    return ts_us;
}

struct fl_source {
    bool live;
    volatile sig_atomic_t stop;
    char *bpf;

    src_file *files;
    size_t nfiles;
    uint32_t *heap; /* file indexes, ordered by (head.ts_us, index) */
    size_t nheap;
    long last; /* file whose head was handed out last, or -1 */

    link_filter *lf; /* per link type, for the pcapng fallback */
    size_t nlf;

    pcap_t *live_pc;
    int live_fd;
    int idle_ms;
    uint8_t idle_dummy;

    fl_source_stats st;
    char **problems;
    size_t nproblems;
    char err[ERRLEN];
};

/* ------------------------------------------------------------ helpers */

static char *dupstr(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}

static void add_problem(fl_source *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void add_problem(fl_source *s, const char *fmt, ...)
{
    char line[ERRLEN];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    char **np = realloc(s->problems, (s->nproblems + 1) * sizeof *np);
    if (!np)
        return;
    s->problems = np;
    char *d = dupstr(line);
    if (d)
        s->problems[s->nproblems++] = d;
}

static uint64_t tv_us(const struct timeval *tv)
{
    return (uint64_t)(int64_t)tv->tv_sec * 1000000u + (uint64_t)(int64_t)tv->tv_usec;
}

static uint64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* ------------------------------------------------------ gzip via stdio */

static ssize_t gz_read(void *cookie, char *buf, size_t size)
{
    int n = gzread((gzFile)cookie, buf, size > INT_MAX ? INT_MAX : (unsigned)size);
    if (n < 0) {
        errno = EIO;
        return -1;
    }
    return n;
}

static int gz_close(void *cookie)
{
    return gzclose((gzFile)cookie) == Z_OK ? 0 : EOF;
}

/* Stream buffer: libpcap and our pcapng reader fread each record from it,
 * so the kernel (or zlib) is asked once per 256 KiB, not per 4 KiB. */
#define STREAM_BUF (256u << 10)
/* Block of the classic pcap reader (source_blocks.c), per file: 1 MiB, or
 * 512 KiB when many files are merged (memory grows with their number);
 * either holds the largest record libpcap accepts for common link types
 * (262144 bytes). */
#define BLOCK_FEW (1u << 20)
#define BLOCK_MANY (512u << 10)

/* A stdio stream over the file, decompressing when it is gzip. */
static FILE *open_stream(const char *path, bool gz, char *err, size_t errlen)
{
    if (!gz) {
        FILE *fp = fopen(path, "rb");
        if (!fp)
            snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
        else
            setvbuf(fp, NULL, _IOFBF, STREAM_BUF);
        return fp;
    }
    gzFile g = gzopen(path, "rb");
    if (!g) {
        snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno ? errno : ENOMEM));
        return NULL;
    }
    gzbuffer(g, STREAM_BUF);
    cookie_io_functions_t io = { .read = gz_read, .write = NULL, .seek = NULL, .close = gz_close };
    FILE *fp = fopencookie(g, "rb", io);
    if (!fp) {
        snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
        gzclose(g);
    } else {
        setvbuf(fp, NULL, _IOFBF, STREAM_BUF);
    }
    return fp;
}

/* --------------------------------------------------------------- heap */

static bool before(const fl_source *s, uint32_t a, uint32_t b)
{
    uint64_t ta = s->files[a].head.ts_us, tb = s->files[b].head.ts_us;
    return ta < tb || (ta == tb && a < b);
}

static void heap_push(fl_source *s, uint32_t f)
{
    size_t i = s->nheap++;
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (!before(s, f, s->heap[parent]))
            break;
        s->heap[i] = s->heap[parent];
        i = parent;
    }
    s->heap[i] = f;
}

static uint32_t heap_pop(fl_source *s)
{
    uint32_t top = s->heap[0];
    uint32_t last = s->heap[--s->nheap];
    size_t i = 0, n = s->nheap;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= n)
            break;
        if (c + 1 < n && before(s, s->heap[c + 1], s->heap[c]))
            c++;
        if (!before(s, s->heap[c], last))
            break;
        s->heap[i] = s->heap[c];
        i = c;
    }
    if (n)
        s->heap[i] = last;
    return top;
}

/* -------------------------------------------------------------- files */

static int dlt_of_linktype(int lt)
{
    return lt == 101 ? DLT_RAW : lt; /* LINKTYPE_RAW, as libpcap maps it */
}

static const char *lt_name(int dlt)
{
    const char *n = pcap_datalink_val_to_name(dlt);
    return n ? n : "unknown";
}

static const link_filter *filter_for(fl_source *s, const char *file, int dlt)
{
    for (size_t i = 0; i < s->nlf; i++)
        if (s->lf[i].linktype == dlt)
            return &s->lf[i];
    link_filter *nl = realloc(s->lf, (s->nlf + 1) * sizeof *nl);
    if (!nl)
        return NULL;
    s->lf = nl;
    link_filter *f = &s->lf[s->nlf++];
    f->linktype = dlt;
    f->ok = false;
    pcap_t *dead = pcap_open_dead(dlt, 262144);
    if (dead) {
        f->ok = pcap_compile(dead, &f->prog, s->bpf, 1, PCAP_NETMASK_UNKNOWN) == 0;
        if (!f->ok)
            add_problem(s,
                        "%s: BPF filter \"%s\" does not apply to link type %s: %s; "
                        "its frames are filtered out",
                        file, s->bpf, lt_name(dlt), pcap_geterr(dead));
        pcap_close(dead);
    }
    return f;
}

static void close_file(src_file *f)
{
    if (f->blk.buf)
        fl_pcap_blocks_close(&f->blk);
    if (f->pc)
        pcap_close(f->pc);
    f->pc = NULL;
    fl_pcapng_close(f->ng);
    f->ng = NULL;
    if (f->has_prog)
        pcap_freecode(&f->prog);
    f->has_prog = false;
}

/* libpcap 1.10 stops at a second pcapng interface of another link type; go
 * on with our own reader from the same frame. */
static bool switch_to_own_pcapng(fl_source *s, src_file *f)
{
    char err[ERRLEN];
    pcap_close(f->pc);
    f->pc = NULL;
    FILE *fp = open_stream(f->name, f->gz, err, sizeof err);
    if (!fp)
        return false;
    f->ng = fl_pcapng_open(fp, err, sizeof err);
    if (!f->ng)
        return false;
    fl_ng_packet pk;
    for (uint64_t i = 0; i < f->nread; i++)
        if (fl_pcapng_next(f->ng, &pk, err, sizeof err) != 1)
            return false;
    (void)s;
    return true;
}

/* Read the file's next frame that passes the filter into f->head. */
static bool file_advance(fl_source *s, uint32_t idx)
{
    src_file *f = &s->files[idx];
    for (;;) {
        if (f->ng) {
            fl_ng_packet pk;
            char err[ERRLEN];
            int r = fl_pcapng_next(f->ng, &pk, err, sizeof err);
            if (r == 0)
                break;
            if (r < 0) {
                add_problem(s, "%s: %s capture after packet %llu: %s", f->name,
                            strstr(err, "truncated") ? "truncated" : "damaged",
                            (unsigned long long)f->nread, err);
                break;
            }
            f->nread++;
            int dlt = dlt_of_linktype(pk.linktype);
            if (s->bpf) {
                const link_filter *lf = filter_for(s, f->name, dlt);
                struct pcap_pkthdr h = { .caplen = pk.caplen, .len = pk.wire_len };
                if (!lf || !lf->ok || !pcap_offline_filter(&lf->prog, &h, pk.data)) {
                    s->st.filtered_out++;
                    continue;
                }
            }
            f->head =
                (fl_frame){ frame_ts(f, pk.ts_us), pk.caplen, pk.wire_len, dlt, pk.data, idx };
            return true;
        }
        if (!f->pc)
            return false;
        if (f->blk.buf) {
            fl_ng_packet pk;
            if (fl_pcap_blocks_next(&f->blk, &pk) == 1) {
                f->nread++;
                if (f->has_prog) {
                    struct pcap_pkthdr h = { .caplen = pk.caplen, .len = pk.wire_len };
                    if (!pcap_offline_filter(&f->prog, &h, pk.data)) {
                        s->st.filtered_out++;
                        continue;
                    }
                }
                f->head = (fl_frame){
                    frame_ts(f, pk.ts_us), pk.caplen, pk.wire_len, f->dlt, pk.data, idx
                };
                return true;
            }
            /* The end, or a record for libpcap to read or reject: its
             * stream goes on from that record. */
            FILE *fp = pcap_file(f->pc);
            off_t at = (off_t)fl_pcap_blocks_offset(&f->blk);
            fl_pcap_blocks_close(&f->blk);
            if (!fp || fseeko(fp, at, SEEK_SET) != 0) {
                add_problem(s, "%s: damaged capture after packet %llu: cannot seek: %s", f->name,
                            (unsigned long long)f->nread, strerror(errno));
                break;
            }
            continue;
        }
        struct pcap_pkthdr *h;
        const u_char *data;
        int r = pcap_next_ex(f->pc, &h, &data);
        if (r == 1) {
            f->nread++;
            if (f->has_prog && !pcap_offline_filter(&f->prog, h, data)) {
                s->st.filtered_out++;
                continue;
            }
            f->head =
                (fl_frame){ frame_ts(f, tv_us(&h->ts)), h->caplen, h->len, f->dlt, data, idx };
            return true;
        }
        if (r == PCAP_ERROR_BREAK || r == 0)
            break;
        const char *msg = pcap_geterr(f->pc);
        if (strstr(msg, "different from the type of the first interface")) {
            if (switch_to_own_pcapng(s, f))
                continue;
            add_problem(s,
                        "%s: cannot reread pcapng with per-interface link types after "
                        "packet %llu",
                        f->name, (unsigned long long)f->nread);
            break;
        }
        add_problem(s, "%s: %s capture after packet %llu: %s", f->name,
                    strstr(msg, "truncated") ? "truncated" : "damaged",
                    (unsigned long long)f->nread, msg);
        break;
    }
    close_file(f);
    return false;
}

static bool open_file(fl_source *s, src_file *f, const char *path, size_t nfiles, char *err,
                      size_t errlen)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
        return false;
    }
    if (S_ISDIR(st.st_mode)) {
        snprintf(err, errlen, "%s: is a directory, not a capture file", path);
        return false;
    }
    if (S_ISREG(st.st_mode) && st.st_size == 0) {
        snprintf(err, errlen, "%s: empty file, not a capture", path);
        return false;
    }
    FILE *probe = fopen(path, "rb");
    if (!probe) {
        snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
        return false;
    }
    uint8_t magic[2] = { 0, 0 };
    size_t got = fread(magic, 1, 2, probe);
    fclose(probe);
    f->gz = got == 2 && magic[0] == 0x1f && magic[1] == 0x8b; /* RFC 1952 */

    FILE *fp = open_stream(path, f->gz, err, errlen);
    if (!fp)
        return false;
    char perr[PCAP_ERRBUF_SIZE];
    perr[0] = '\0';
    f->pc = pcap_fopen_offline(fp, perr);
    if (!f->pc) {
        fclose(fp);
        snprintf(err, errlen, "%s: not a pcap or pcapng capture%s (libpcap: %s)", path,
                 f->gz ? " inside the gzip file" : "", perr);
        return false;
    }
    if (s->bpf) {
        if (pcap_compile(f->pc, &f->prog, s->bpf, 1, PCAP_NETMASK_UNKNOWN) != 0) {
            snprintf(err, errlen, "%s: bad BPF filter \"%s\": %s", path, s->bpf,
                     pcap_geterr(f->pc));
            return false;
        }
        f->has_prog = true;
    }
    f->dlt = pcap_datalink(f->pc);
    /* A plain classic pcap file is read in blocks; gzip and pcapng through
     * stdio (1 MiB buffer). */
    if (!f->gz && pcap_snapshot(f->pc) > 0)
        fl_pcap_blocks_open(&f->blk, path, (uint32_t)pcap_snapshot(f->pc),
                            nfiles <= 16 ? BLOCK_FEW : BLOCK_MANY);
    return true;
}

static fl_source *source_new(const fl_source_options *opt)
{
    fl_source *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->last = -1;
    s->live_fd = -1;
    if (opt && opt->bpf && opt->bpf[0]) {
        s->bpf = dupstr(opt->bpf);
        if (!s->bpf) {
            free(s);
            return NULL;
        }
    }
    return s;
}

fl_source *fl_source_open_files(const char *const *paths, size_t npaths,
                                const fl_source_options *opt, char *err, size_t errlen)
{
    if (!npaths) {
        snprintf(err, errlen, "no capture file given");
        return NULL;
    }
    if (npaths > UINT32_MAX) {
        snprintf(err, errlen, "too many capture files");
        return NULL;
    }
    fl_source *s = source_new(opt);
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    s->files = calloc(npaths, sizeof *s->files);
    s->heap = calloc(npaths, sizeof *s->heap);
    if (!s->files || !s->heap) {
        snprintf(err, errlen, "out of memory");
        fl_source_close(s);
        return NULL;
    }
    for (size_t i = 0; i < npaths; i++) {
        src_file *f = &s->files[i];
        s->nfiles = i + 1;
        f->name = dupstr(paths[i]);
        if (!f->name) {
            snprintf(err, errlen, "out of memory");
            fl_source_close(s);
            return NULL;
        }
        if (!open_file(s, f, paths[i], npaths, err, errlen)) {
            fl_source_close(s);
            return NULL;
        }
    }
    for (size_t i = 0; i < npaths; i++)
        if (file_advance(s, (uint32_t)i))
            heap_push(s, (uint32_t)i);
    return s;
}

/* --------------------------------------------------------------- live */

fl_source *fl_source_open_live(const char *iface, const fl_source_options *opt, char *err,
                               size_t errlen)
{
    fl_source *s = source_new(opt);
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    s->live = true;
    int snaplen = opt && opt->snaplen > 0 ? opt->snaplen : 65535;
    int buffer_mb = opt && opt->buffer_mb > 0 ? opt->buffer_mb : 64;
    s->idle_ms = opt && opt->idle_ms > 0 ? opt->idle_ms : 250;

    char perr[PCAP_ERRBUF_SIZE];
    perr[0] = '\0';
    pcap_t *pc = pcap_create(iface, perr);
    if (!pc) {
        snprintf(err, errlen, "%s: cannot capture: %s", iface, perr);
        fl_source_close(s);
        return NULL;
    }
    s->live_pc = pc;
    pcap_set_snaplen(pc, snaplen);
    pcap_set_promisc(pc, 1);
    /* Immediate mode off: libpcap then uses TPACKET_V3 on Linux, where the
     * kernel fills whole ring blocks and wakes us once per block (or at the
     * block timeout) instead of once per packet. The timeout bounds the
     * delay a quiet link adds (well under a bucket) and keeps the idle
     * ticks coming: at most idle_ms, at most 100 ms. */
    pcap_set_immediate_mode(pc, 0);
    pcap_set_timeout(pc, s->idle_ms < 100 ? s->idle_ms : 100);
    pcap_set_buffer_size(pc, buffer_mb > 2047 ? INT_MAX : buffer_mb << 20);
    int rc = pcap_activate(pc);
    if (rc < 0) {
        /* libpcap often repeats the status text as the detail: say it once */
        const char *status = pcap_statustostr(rc);
        const char *detail = pcap_geterr(pc);
        bool same = !detail || !detail[0] || strcmp(detail, status) == 0;
        snprintf(err, errlen, "%s: cannot capture: %s%s%s", iface, status, same ? "" : ": ",
                 same ? "" : detail);
        fl_source_close(s);
        return NULL;
    }
    if (rc > 0) /* e.g. promiscuous mode not supported: capture anyway, say so */
        add_problem(s, "%s: warning: %s: %s", iface, pcap_statustostr(rc), pcap_geterr(pc));
    if (s->bpf) {
        struct bpf_program prog;
        if (pcap_compile(pc, &prog, s->bpf, 1, PCAP_NETMASK_UNKNOWN) != 0) {
            snprintf(err, errlen, "%s: bad BPF filter \"%s\": %s", iface, s->bpf, pcap_geterr(pc));
            fl_source_close(s);
            return NULL;
        }
        rc = pcap_setfilter(pc, &prog);
        pcap_freecode(&prog);
        if (rc != 0) {
            snprintf(err, errlen, "%s: cannot set BPF filter \"%s\": %s", iface, s->bpf,
                     pcap_geterr(pc));
            fl_source_close(s);
            return NULL;
        }
    }
    if (pcap_setnonblock(pc, 1, perr) != 0) {
        snprintf(err, errlen, "%s: cannot set non-blocking mode: %s", iface, perr);
        fl_source_close(s);
        return NULL;
    }
    s->live_fd = pcap_get_selectable_fd(pc);
    if (s->live_fd < 0) {
        snprintf(err, errlen, "%s: no selectable descriptor for this interface", iface);
        fl_source_close(s);
        return NULL;
    }
    return s;
}

static fl_source_status live_next(fl_source *s, fl_frame *frame)
{
    uint64_t deadline = now_us() + (uint64_t)s->idle_ms * 1000u;
    for (;;) {
        if (s->stop)
            return FL_SRC_END;
        struct pcap_pkthdr *h;
        const u_char *data;
        int r = pcap_next_ex(s->live_pc, &h, &data);
        if (r == 1) {
            *frame =
                (fl_frame){ tv_us(&h->ts), h->caplen, h->len, pcap_datalink(s->live_pc), data, 0 };
            s->st.packets++;
            s->st.bytes += h->len;
            return FL_SRC_FRAME;
        }
        if (r == PCAP_ERROR_BREAK)
            return FL_SRC_END;
        if (r < 0) {
            snprintf(s->err, sizeof s->err, "live capture failed: %s", pcap_geterr(s->live_pc));
            return FL_SRC_ERROR;
        }
        uint64_t now = now_us();
        if (now >= deadline) {
            *frame = (fl_frame){ now, 0, 0, pcap_datalink(s->live_pc), &s->idle_dummy, 0 };
            return FL_SRC_IDLE;
        }
        struct pollfd pfd = { .fd = s->live_fd, .events = POLLIN };
        int wait_ms = (int)((deadline - now + 999) / 1000);
        if (poll(&pfd, 1, wait_ms) < 0 && errno != EINTR) {
            snprintf(s->err, sizeof s->err, "live capture failed: poll: %s", strerror(errno));
            return FL_SRC_ERROR;
        }
    }
}

/* ----------------------------------------------------------- the rest */

fl_source_status fl_source_next(fl_source *s, fl_frame *frame)
{
    if (s->live)
        return live_next(s, frame);
    if (s->stop)
        return FL_SRC_END;
    if (s->last >= 0) {
        uint32_t i = (uint32_t)s->last;
        s->last = -1;
        if (file_advance(s, i))
            heap_push(s, i);
    }
    if (!s->nheap)
        return FL_SRC_END;
    uint32_t i = heap_pop(s);
    *frame = s->files[i].head;
    s->last = i;
    s->st.packets++;
    s->st.bytes += frame->wire_len;
    return FL_SRC_FRAME;
}

void fl_source_interrupt(fl_source *s)
{
    /* Only a flag store and pcap_breakloop, which on Linux sets a flag and
     * writes to an eventfd: both async-signal-safe. */
    s->stop = 1;
    if (s->live_pc)
        pcap_breakloop(s->live_pc);
}

void fl_source_get_stats(fl_source *s, fl_source_stats *st)
{
    if (s->live && s->live_pc) {
        struct pcap_stat ps;
        if (pcap_stats(s->live_pc, &ps) == 0)
            s->st.kernel_drops = (uint64_t)ps.ps_drop + ps.ps_ifdrop;
    }
    *st = s->st;
}

size_t fl_source_problem_count(const fl_source *s)
{
    return s->nproblems;
}

const char *fl_source_problem(const fl_source *s, size_t i)
{
    return i < s->nproblems ? s->problems[i] : NULL;
}

const char *fl_source_last_error(const fl_source *s)
{
    return s->err;
}

size_t fl_source_file_count(const fl_source *s)
{
    return s->live ? 0 : s->nfiles;
}

const char *fl_source_file_name(const fl_source *s, size_t i)
{
    return !s->live && i < s->nfiles ? s->files[i].name : NULL;
}

bool fl_source_is_live(const fl_source *s)
{
    return s->live;
}

void fl_source_close(fl_source *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->nfiles; i++) {
        close_file(&s->files[i]);
        free(s->files[i].name);
    }
    free(s->files);
    free(s->heap);
    for (size_t i = 0; i < s->nlf; i++)
        if (s->lf[i].ok)
            pcap_freecode(&s->lf[i].prog);
    free(s->lf);
    if (s->live_pc)
        pcap_close(s->live_pc);
    for (size_t i = 0; i < s->nproblems; i++)
        free(s->problems[i]);
    free(s->problems);
    free(s->bpf);
    free(s);
}

const char *fl_source_pcap_version(void)
{
    return pcap_lib_version();
}
