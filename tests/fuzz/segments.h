/* segments.h - split one fuzz input into a conversation of TCP segments for
 * the stream parsers: each segment is a 1-byte header (bit 7: direction,
 * 1 = from the server; bits 0-6: length, 0 meaning "the rest") followed by
 * that many bytes. A stream parser must give the same verdicts whatever the
 * segmentation, so the fuzzer explores splits at every byte. */
#ifndef FL_FUZZ_SEGMENTS_H
#define FL_FUZZ_SEGMENTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct fl_fuzz_seg {
    const uint8_t *p;
    uint32_t len;
    bool from_server;
} fl_fuzz_seg;

/* Next segment taken from the front of the input, false at the end. */
static inline bool fl_fuzz_next_seg(const uint8_t **data, size_t *size, fl_fuzz_seg *seg)
{
    if (*size == 0)
        return false;
    uint8_t h = (*data)[0];
    size_t n = h & 0x7f;
    (*data)++;
    (*size)--;
    if (n == 0 || n > *size)
        n = *size;
    seg->p = *data;
    seg->len = (uint32_t)n;
    seg->from_server = h & 0x80;
    *data += n;
    *size -= n;
    return true;
}

#endif
