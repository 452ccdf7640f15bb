/* source_pcapng.c - a minimal pcapng reader (draft-ietf-opsawg-pcapng) for
 * files whose interfaces have different link types; see source_int.h.
 *
 * Reads Section Header, Interface Description, Enhanced Packet, Simple Packet
 * and the obsolete Packet blocks; skips every other block. Either byte order.
 * The block buffer grows to the largest block seen (bounded), so reading
 * allocates only while blocks get larger, not per packet.
 */
#include <stdlib.h>
#include <string.h>

#include "source_int.h"

#define BT_SHB 0x0A0D0D0Au
#define BT_IDB 0x00000001u
#define BT_PB 0x00000002u
#define BT_SPB 0x00000003u
#define BT_EPB 0x00000006u
#define BOM 0x1A2B3C4Du
#define MAX_BLOCK (16u << 20) /* libpcap's own cap is 16 MiB */

typedef struct ng_iface {
    int linktype;
    uint32_t snaplen;
    uint64_t tps;   /* timestamp units per second */
    int64_t offset; /* if_tsoffset, seconds */
} ng_iface;

struct fl_pcapng {
    FILE *fp;
    int swap;
    uint8_t *buf;
    size_t bufcap;
    uint32_t blocklen; /* bytes of the block in buf */
    ng_iface *ifs;
    size_t nifs, ifcap;
    uint64_t blocks;
};

static uint32_t u32(const fl_pcapng *r, const uint8_t *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return r->swap ? __builtin_bswap32(v) : v;
}

static uint16_t u16(const fl_pcapng *r, const uint8_t *p)
{
    uint16_t v;
    memcpy(&v, p, 2);
    return r->swap ? __builtin_bswap16(v) : v;
}

static int fail(char *err, size_t errlen, const char *what, uint64_t block)
{
    snprintf(err, errlen, "pcapng: %s (block %llu)", what, (unsigned long long)block + 1);
    return -1;
}

/* Read exactly n bytes: 1 done, 0 clean end before any byte, -1 short read. */
static int read_exact(FILE *fp, void *dst, size_t n)
{
    size_t got = fread(dst, 1, n, fp);
    if (got == n)
        return 1;
    return got == 0 && !ferror(fp) ? 0 : -1;
}

/* Packet time in microseconds since the epoch. Every input is untrusted:
 * ts counts units of 1/tps s (up to 2^64), if_tsoffset is a signed 64-bit
 * count of seconds (pcapng draft section 4.2). The sum is computed in 128
 * bits, where neither part can overflow, and clamped to 0..UINT64_MAX: a
 * time before 1970 or beyond year 586 000 is nonsense either way, and the
 * engine notes implausible jumps. */
static uint64_t to_us(const ng_iface *f, uint64_t ts)
{
    __int128 us = (__int128)(ts / f->tps) * 1000000 +
                  (__int128)((unsigned __int128)(ts % f->tps) * 1000000u / f->tps);
    us += (__int128)f->offset * 1000000;
    if (us < 0)
        return 0;
    return us > (__int128)UINT64_MAX ? UINT64_MAX : (uint64_t)us;
}

/* Interface Description Block body: link type 2, reserved 2, snaplen 4, options. */
static int parse_idb(fl_pcapng *r, const uint8_t *b, uint32_t n, char *err, size_t errlen)
{
    if (n < 8)
        return fail(err, errlen, "interface block too short", r->blocks);
    if (r->nifs == r->ifcap) {
        size_t nc = r->ifcap ? r->ifcap * 2 : 8;
        if (nc > 65536)
            return fail(err, errlen, "too many interfaces", r->blocks);
        ng_iface *ni = realloc(r->ifs, nc * sizeof *ni);
        if (!ni)
            return fail(err, errlen, "out of memory", r->blocks);
        r->ifs = ni;
        r->ifcap = nc;
    }
    ng_iface *f = &r->ifs[r->nifs++];
    f->linktype = u16(r, b);
    f->snaplen = u32(r, b + 4);
    f->tps = 1000000u;
    f->offset = 0;
    uint32_t off = 8;
    while (off + 4 <= n) {
        uint16_t code = u16(r, b + off);
        uint16_t len = u16(r, b + off + 2);
        off += 4;
        if (code == 0 || len > n - off)
            break;
        if (code == 9 && len >= 1) { /* if_tsresol */
            uint8_t v = b[off];
            if (v & 0x80)
                f->tps = (v & 0x7f) < 63 ? (uint64_t)1 << (v & 0x7f) : (uint64_t)1 << 63;
            else {
                f->tps = 1;
                for (unsigned i = 0; i < v && i < 19; i++)
                    f->tps *= 10;
            }
        } else if (code == 14 && len >= 8) { /* if_tsoffset */
            uint64_t v;                      /* a 64-bit integer in the section's byte order */
            memcpy(&v, b + off, 8);
            if (r->swap)
                v = __builtin_bswap64(v);
            f->offset = (int64_t)v;
        }
        off += (len + 3u) & ~3u;
    }
    return 0;
}

fl_pcapng *fl_pcapng_open(FILE *fp, char *err, size_t errlen)
{
    fl_pcapng *r = calloc(1, sizeof *r);
    if (!r) {
        snprintf(err, errlen, "out of memory");
        fclose(fp);
        return NULL;
    }
    r->fp = fp;
    return r;
}

/* The next block into r->buf (r->blocklen bytes, its type in *type):
 * 1, 0 at the end of the file, -1 with err. A section header block sets
 * the byte order for the blocks that follow. */
static int read_block(fl_pcapng *r, uint32_t *type_out, char *err, size_t errlen)
{
    uint8_t hdr[12];
    int rc = read_exact(r->fp, hdr, 8);
    if (rc == 0)
        return 0;
    if (rc < 0)
        return fail(err, errlen, "truncated block header", r->blocks);
    uint32_t type;
    memcpy(&type, hdr, 4); /* SHB's type reads the same in both orders */
    if (type == BT_SHB) {
        if (read_exact(r->fp, hdr + 8, 4) != 1)
            return fail(err, errlen, "truncated section header", r->blocks);
        uint32_t bom;
        memcpy(&bom, hdr + 8, 4);
        if (bom == BOM)
            r->swap = 0;
        else if (bom == __builtin_bswap32(BOM))
            r->swap = 1;
        else
            return fail(err, errlen, "bad byte-order magic", r->blocks);
        r->nifs = 0; /* interfaces are numbered per section */
    } else if (r->blocks == 0) {
        return fail(err, errlen, "no section header block", r->blocks);
    } else {
        type = u32(r, hdr);
    }
    uint32_t total = u32(r, hdr + 4);
    uint32_t have = type == BT_SHB ? 12 : 8;
    if (total < 12 || total % 4 || total > MAX_BLOCK || total < have)
        return fail(err, errlen, "bad block length", r->blocks);
    if (r->bufcap < total) {
        uint8_t *nb = realloc(r->buf, total);
        if (!nb)
            return fail(err, errlen, "out of memory", r->blocks);
        r->buf = nb;
        r->bufcap = total;
    }
    memcpy(r->buf, hdr, have);
    if (read_exact(r->fp, r->buf + have, total - have) != 1)
        return fail(err, errlen, "truncated block", r->blocks);
    r->blocklen = total;
    *type_out = type;
    return 1;
}

int fl_pcapng_next(fl_pcapng *r, fl_ng_packet *out, char *err, size_t errlen)
{
    for (;;) {
        uint32_t type;
        int rc = read_block(r, &type, err, errlen);
        if (rc <= 0)
            return rc;
        uint64_t blk = r->blocks++;
        const uint8_t *b = r->buf + 8;
        uint32_t n = r->blocklen - 12; /* body, without the trailing length */

        uint32_t ifid, caplen, wire;
        uint64_t ts;
        const uint8_t *data;
        switch (type) {
        case BT_IDB:
            if (parse_idb(r, b, n, err, errlen) < 0)
                return -1;
            continue;
        case BT_EPB:
        case BT_PB:
            /* the obsolete Packet Block has a 16-bit interface id and a
             * 16-bit drops count where the EPB has a 32-bit id */
            if (n < 20)
                return fail(err, errlen, "packet block too short", blk);
            ifid = type == BT_EPB ? u32(r, b) : u16(r, b);
            ts = ((uint64_t)u32(r, b + 4) << 32) | u32(r, b + 8);
            caplen = u32(r, b + 12);
            wire = u32(r, b + 16);
            if (caplen > n - 20)
                return fail(err, errlen, "packet longer than its block", blk);
            data = b + 20;
            break;
        case BT_SPB:
            if (n < 4)
                return fail(err, errlen, "packet block too short", blk);
            ifid = 0;
            ts = 0; /* a simple packet block has no timestamp */
            wire = u32(r, b);
            caplen = wire < n - 4 ? wire : n - 4;
            if (r->nifs && r->ifs[0].snaplen && caplen > r->ifs[0].snaplen)
                caplen = r->ifs[0].snaplen;
            data = b + 4;
            break;
        default:
            continue; /* statistics, name resolution, custom... */
        }
        if (ifid >= r->nifs)
            return fail(err, errlen, "packet for an undeclared interface", blk);
        const ng_iface *f = &r->ifs[ifid];
        out->ts_us = to_us(f, ts);
        out->caplen = caplen;
        out->wire_len = wire;
        out->linktype = f->linktype;
        out->data = data;
        return 1;
    }
}

void fl_pcapng_close(fl_pcapng *r)
{
    if (!r)
        return;
    if (r->fp)
        fclose(r->fp);
    free(r->buf);
    free(r->ifs);
    free(r);
}
