/* fuzz_decode.c - the frame decoder: every link type, every tunnel.
 * Input: byte 0 picks the DLT from the supported list (and sometimes an
 * unsupported one), the rest is the captured frame. */
#include <stdint.h>

#include "fl_decode.h"
#include "fuzz.h"

/* Every DLT fl_decode_linktype_supported() accepts, plus one it does not. */
static const int dlts[] = { 0, 1, 10, 12, 14, 101, 108, 113, 228, 229, 276, 147 };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > UINT32_MAX)
        return 0;
    int dlt = dlts[data[0] % (sizeof dlts / sizeof dlts[0])];
    fl_packet pkt;
    fl_decode_error why = FL_DERR_COUNT;
    fl_decode_result r = fl_decode_packet(dlt, data + 1, (uint32_t)(size - 1), &pkt, &why);
    if (r == FL_DECODE_ERROR && (unsigned)why >= FL_DERR_COUNT)
        __builtin_trap(); /* an error must say why */
    if (r == FL_DECODE_OK && pkt.payload_len && pkt.payload) {
        /* the payload must lie inside the frame */
        const uint8_t *end = data + size;
        if (pkt.payload < data + 1 || pkt.payload + pkt.payload_len > end)
            __builtin_trap();
    }
    (void)fl_decode_error_name(why);
    return 0;
}
