/* fuzz_tls_records.c - the post-handshake TLS record walker
 * (tls_records.c: record framing by length, RFC 8446 5.1 / RFC 5246 6.2,
 * request/response inference, timers).
 *
 * Input: segments, each a 2-byte header then its bytes. Header byte 0: bit
 * 7 direction (1 = from the server), bits 0-6 length (0 = the rest). Byte
 * 1: bits 0-5 t, packet time advances by t^3 * 50 us (0 to 12.5 s, so the
 * 1 s quiet, 5 s early-close and 10 s stall marks are all reached); bit 6:
 * a timer tick before the bytes; bit 7: the bytes are lost (a capture gap in
 * that direction) instead of fed. The last byte of the input picks the end:
 * a close by either side, a final tick, or nothing. */
#include <string.h>

#include "fl_tls_records.h"
#include "fuzz.h"

static void check(const fl_tls_walk *w, const fl_tlsrec_facts *f)
{
    if (f->response > FL_TLSREC_MAX_RESP || w->state > FL_TLSREC_CLOSED ||
        w->phase > FL_TLSREC_RESPONSE || w->dir[0].hdr_have > 5 || w->dir[1].hdr_have > 5)
        __builtin_trap();
    if (f->first_request && !f->request)
        __builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 1u << 20)
        return 0;
    uint8_t end = data[size - 1];
    fl_tls_walk w;
    fl_tlsrec_init(&w);
    fl_tlsrec_facts f;
    uint64_t now = 1700000000ull * 1000000ull;
    while (size >= 2) {
        uint8_t h = data[0], t = data[1];
        data += 2;
        size -= 2;
        size_t n = h & 0x7f;
        if (n == 0 || n > size)
            n = size;
        bool server = h & 0x80;
        uint64_t step = t & 0x3f;
        now += step * step * step * 50;
        if (t & 0x40) {
            bool pending = fl_tlsrec_pending(&w);
            fl_tlsrec_tick(&w, now, &f);
            check(&w, &f);
            if (!pending && (f.response || f.stall))
                __builtin_trap(); /* nothing pending, nothing to report */
        }
        if (t & 0x80) {
            fl_tlsrec_on_gap(&w, &f);
            check(&w, &f);
            if (fl_tlsrec_wants_bytes(&w))
                __builtin_trap(); /* a gap stops the walk for good */
        } else if (fl_tlsrec_wants_bytes(&w)) {
            fl_tlsrec_feed(&w, !server, data, (uint32_t)n, now, &f);
            check(&w, &f);
        }
        data += n;
        size -= n;
    }
    switch (end & 3) {
    case 0:
        fl_tlsrec_on_close(&w, true, now, &f);
        break;
    case 1:
        fl_tlsrec_on_close(&w, false, now, &f);
        break;
    case 2:
        fl_tlsrec_tick(&w, now + FL_TLSREC_STALL_US, &f);
        break;
    default:
        return 0;
    }
    check(&w, &f);
    return 0;
}
