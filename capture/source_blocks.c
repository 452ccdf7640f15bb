/* source_blocks.c - classic pcap records read in large blocks (issue 12: no
 * per-packet fread or stdio locking, one read(2) per block of up to 1 MiB).
 *
 * A block buffer rather than mmap: on the virtual machines we measured, a
 * page fault per 64 KiB of mapping cost more than the copy read(2) makes,
 * and a reused buffer keeps the resident set flat however large the file.
 *
 * libpcap still opens every file: its header checks and error messages stay
 * the only ones. This reader then takes over the plain records of a plain
 * file - magic 0xa1b2c3d4 (microseconds) or 0xa1b23c4d (nanoseconds), either
 * byte order, version 2.4 or later (earlier ones may have caplen and len
 * swapped), in the other byte order only link types whose pseudo-header
 * libpcap never byte-swaps - and hands anything else back: a record that is
 * cut short, longer than the snapshot length, or with a sub-second field out
 * of range stops the walk at its first byte, and source_pcap.c seeks
 * libpcap's stream there, so libpcap reads (or rejects, in its own words)
 * that record and the rest. Record layout: pcap-savefile(5),
 * draft-ietf-opsawg-pcap section 5.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "source_int.h"

#define MAGIC_US 0xa1b2c3d4u
#define MAGIC_NS 0xa1b23c4du
#define HDR_LEN 24u
#define REC_LEN 16u

static uint32_t rd32(const uint8_t *p, bool swap)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return swap ? __builtin_bswap32(v) : v;
}

static uint16_t rd16(const uint8_t *p, bool swap)
{
    uint16_t v;
    memcpy(&v, p, 2);
    return swap ? __builtin_bswap16(v) : v;
}

/* LINKTYPE_ETHERNET, LINKTYPE_RAW, IPv4, IPv6: no pseudo-header that
 * libpcap would byte-swap in a file of the other byte order. */
static bool swap_safe(uint32_t lt)
{
    return lt == 1 || lt == 101 || lt == 228 || lt == 229;
}

/* Keep the unread bytes, fill the rest of the buffer: false on error (the
 * caller hands the file back to libpcap, which will meet the error too). */
static bool refill(fl_pcap_blocks *b)
{
    size_t keep = b->len - b->pos;
    if (b->pos) {
        memmove(b->buf, b->buf + b->pos, keep);
        b->base_off += b->pos;
        b->pos = 0;
        b->len = keep;
    }
    while (b->len < b->cap && !b->eof) {
        ssize_t n = read(b->fd, b->buf + b->len, b->cap - b->len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return false;
        if (n == 0)
            b->eof = true;
        b->len += (size_t)n;
    }
    return true;
}

bool fl_pcap_blocks_open(fl_pcap_blocks *b, const char *path, uint32_t snapshot, size_t block)
{
    memset(b, 0, sizeof *b);
    b->fd = -1;
    if (snapshot == 0 || block < REC_LEN || snapshot > block - REC_LEN)
        return false;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    struct stat st;
    uint8_t h[HDR_LEN];
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || read(fd, h, HDR_LEN) != (ssize_t)HDR_LEN) {
        close(fd);
        return false;
    }
    uint32_t magic;
    memcpy(&magic, h, 4);
    bool swap = magic == __builtin_bswap32(MAGIC_US) || magic == __builtin_bswap32(MAGIC_NS);
    uint32_t m = swap ? __builtin_bswap32(magic) : magic;
    uint16_t major = rd16(h + 4, swap), minor = rd16(h + 6, swap);
    uint32_t lt = rd32(h + 20, swap);
    if ((m != MAGIC_US && m != MAGIC_NS) || major != 2 || minor < 4 ||
        (swap && !swap_safe(lt & 0xffffu)) || !(b->buf = malloc(block))) {
        close(fd);
        return false;
    }
    posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    b->fd = fd;
    b->cap = block;
    b->base_off = HDR_LEN;
    b->swapped = swap;
    b->nsec = m == MAGIC_NS;
    b->snap = snapshot;
    return true;
}

int fl_pcap_blocks_next(fl_pcap_blocks *b, fl_ng_packet *out)
{
    if (!b->buf)
        return 0;
    if (b->len - b->pos < REC_LEN && (!refill(b) || b->len - b->pos < REC_LEN))
        return 0;
    const uint8_t *r = b->buf + b->pos;
    uint32_t sec = rd32(r, b->swapped), sub = rd32(r + 4, b->swapped);
    uint32_t caplen = rd32(r + 8, b->swapped), len = rd32(r + 12, b->swapped);
    if (caplen > b->snap || sub >= (b->nsec ? 1000000000u : 1000000u))
        return 0;
    if (b->len - b->pos - REC_LEN < caplen) {
        if (!refill(b) || b->len - REC_LEN < caplen)
            return 0; /* cut short: libpcap says so */
        r = b->buf;
    }
    /* as libpcap: seconds are a signed 32-bit field; nanoseconds truncate */
    uint32_t us = b->nsec ? sub / 1000u : sub;
    out->ts_us = (uint64_t)((int64_t)(int32_t)sec * 1000000 + (int64_t)us);
    out->caplen = caplen;
    out->wire_len = len;
    out->linktype = 0; /* the caller knows it: libpcap's pcap_datalink() */
    out->data = r + REC_LEN;
    b->pos += REC_LEN + caplen;
    return 1;
}

uint64_t fl_pcap_blocks_offset(const fl_pcap_blocks *b)
{
    return b->base_off + b->pos;
}

void fl_pcap_blocks_close(fl_pcap_blocks *b)
{
    if (b->fd >= 0)
        close(b->fd);
    free(b->buf);
    memset(b, 0, sizeof *b);
    b->fd = -1;
}
