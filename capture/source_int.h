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

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef struct fl_pcapng fl_pcapng;

typedef struct fl_ng_packet {
    uint64_t ts_us;
    uint32_t caplen;
    uint32_t wire_len;
    int linktype;          /* LINKTYPE_* from the packet's interface */
    const uint8_t *data;   /* valid until the next fl_pcapng_next() */
} fl_ng_packet;

/* Takes ownership of fp (closed by fl_pcapng_close, or here on failure). */
fl_pcapng *fl_pcapng_open(FILE *fp, char *err, size_t errlen);

/* 1: a packet in *out; 0: end of file; -1: damaged or truncated (err says). */
int fl_pcapng_next(fl_pcapng *r, fl_ng_packet *out, char *err, size_t errlen);

void fl_pcapng_close(fl_pcapng *r);

#endif
