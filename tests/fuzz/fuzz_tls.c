/* fuzz_tls.c - the TLS record reader and handshake tracker (RFC 8446 5.1,
 * RFC 5246 6.2): a conversation of segments (segments.h) in both
 * directions, then a close or a timeout chosen by the last byte. */
#include <string.h>

#include "fl_tls.h"
#include "fuzz.h"
#include "segments.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint8_t end = data[size - 1];
    fl_tls_session s;
    memset(&s, 0, sizeof s);
    (void)fl_tls_looks_like_client_hello(data, (uint32_t)(size < 64 ? size : 64));
    fl_fuzz_seg seg;
    bool stopped = false;
    while (fl_fuzz_next_seg(&data, &size, &seg)) {
        if (!fl_tls_wants_bytes(&s)) {
            stopped = true;
            break;
        }
        fl_tls_facts facts;
        fl_tls_feed(&s, !seg.from_server, seg.p, seg.len, &facts);
        if (facts.completed && facts.failed)
            __builtin_trap(); /* one verdict per handshake */
    }
    (void)stopped;
    switch (end & 3) {
    case 0:
        (void)fl_tls_on_close(&s, true);
        break;
    case 1:
        (void)fl_tls_on_close(&s, false);
        break;
    case 2:
        (void)fl_tls_on_timeout(&s);
        break;
    default:
        fl_tls_on_gap(&s);
        break;
    }
    if (s.state > FL_TLS_ABANDONED)
        __builtin_trap();
    return 0;
}
