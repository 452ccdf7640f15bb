/* fuzz_capture.c - the capture-file path: the input is written to a file
 * and opened as a capture (pcap or pcapng, either byte order, gzip or not;
 * libpcap first, faultline's own pcapng reader when libpcap refuses a file
 * with per-interface link types), every frame read and decoded. The own
 * pcapng reader is also run directly on the bytes (through fmemopen), so it
 * is fuzzed on files libpcap would have accepted too. */
#include <stdio.h>

#include "fl_decode.h"
#include "fl_source.h"
#include "fuzz.h"
#include "source_int.h"

/* Bound the work per input: a crafted file can hold many tiny frames. */
#define MAX_FRAMES 20000

static void own_reader(const uint8_t *data, size_t size)
{
    if (!size)
        return;
    FILE *fp = fmemopen((void *)data, size, "rb");
    if (!fp)
        return;
    char err[256];
    fl_pcapng *r = fl_pcapng_open(fp, err, sizeof err);
    if (!r)
        return;
    fl_ng_packet pk;
    for (unsigned i = 0; i < MAX_FRAMES && fl_pcapng_next(r, &pk, err, sizeof err) == 1; i++) {
        fl_packet pkt;
        fl_decode_error why;
        (void)fl_decode_packet(pk.linktype, pk.data, pk.caplen, &pkt, &why);
    }
    fl_pcapng_close(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    own_reader(data, size);
    const char *path = fl_fuzz_scratch(data, size, ".pcap");
    if (!path)
        return 0;
    char err[1024];
    fl_source_options opt = { 0 };
    fl_source *s = fl_source_open_files(&path, 1, &opt, err, sizeof err);
    if (!s)
        return 0;
    fl_frame fr;
    for (unsigned i = 0; i < MAX_FRAMES && fl_source_next(s, &fr) == FL_SRC_FRAME; i++) {
        fl_packet pkt;
        fl_decode_error why;
        (void)fl_decode_packet(fr.linktype, fr.data, fr.caplen, &pkt, &why);
    }
    for (size_t i = 0; i < fl_source_problem_count(s); i++)
        (void)fl_source_problem(s, i);
    fl_source_close(s);
    return 0;
}
