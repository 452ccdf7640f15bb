/* source_int.h - private to capture/source_*.c: a small pcapng reader for the
 * files libpcap 1.10 refuses.
 *
 * libpcap 1.10 reads a pcapng file only while every interface has the link
 * type of the first one; at the first Interface Description Block with
 * another link type pcap_next_ex() fails with "an interface has a type N
 * different from the type of the first interface" (many_interfaces-1.pcapng:
 * Ethernet and BSD null interfaces, 0 packets read). source_pcap.c then
 * reopens the file with this reader, which carries the link type per packet.
 */
#ifndef FL_SOURCE_INT_H
#define FL_SOURCE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef struct fl_pcapng fl_pcapng;

typedef struct fl_ng_packet {
    uint64_t ts_us;
    uint32_t caplen;
    uint32_t wire_len;
    int linktype;        /* LINKTYPE_* from the packet's interface */
    const uint8_t *data; /* valid until the next fl_pcapng_next() */
} fl_ng_packet;

/* Takes ownership of fp (closed by fl_pcapng_close, or here on failure). */
fl_pcapng *fl_pcapng_open(FILE *fp, char *err, size_t errlen);

/* 1: a packet in *out; 0: end of file; -1: damaged or truncated (err says). */
int fl_pcapng_next(fl_pcapng *r, fl_ng_packet *out, char *err, size_t errlen);

void fl_pcapng_close(fl_pcapng *r);

/* source_blocks.c: the plain records of a classic pcap file, read in large
 * blocks. libpcap has opened (and checked) the file first. */
typedef struct fl_pcap_blocks {
    int fd;               /* -1: not in use */
    uint8_t *buf;         /* NULL: not in use */
    size_t cap, len, pos; /* buffer size; bytes in buf; the next record */
    uint64_t base_off;    /* file offset of buf[0] */
    bool eof, swapped, nsec;
    uint32_t snap; /* libpcap's snapshot length for the file */
} fl_pcap_blocks;

/* Open path for reading in blocks of block bytes when it is a classic pcap
 * file this reader takes and its snapshot length fits a block (see
 * source_blocks.c); false leaves everything to libpcap. */
bool fl_pcap_blocks_open(fl_pcap_blocks *b, const char *path, uint32_t snapshot, size_t block);

/* 1: a record in *out (data valid until the next call; linktype unset).
 * 0: stop: the end, or a record libpcap must read, at fl_pcap_blocks_offset. */
int fl_pcap_blocks_next(fl_pcap_blocks *b, fl_ng_packet *out);
uint64_t fl_pcap_blocks_offset(const fl_pcap_blocks *b);

void fl_pcap_blocks_close(fl_pcap_blocks *b);

#endif
