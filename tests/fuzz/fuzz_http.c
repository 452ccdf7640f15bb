/* fuzz_http.c - the HTTP/1.x tracker: request and status lines, headers,
 * Content-Length and chunked bodies, keep-alive and pipelining, split at any
 * byte (segments.h). A segment of exactly one 0xff byte is a gap (lost
 * bytes) in its direction. */
#include <string.h>

#include "fl_http.h"
#include "fuzz.h"
#include "segments.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fl_http_conn c;
    memset(&c, 0, sizeof c);
    (void)fl_http_looks_like_request(data, (uint32_t)(size < 64 ? size : 64));
    fl_fuzz_seg seg;
    while (fl_fuzz_next_seg(&data, &size, &seg) && fl_http_wants_bytes(&c)) {
        if (seg.len == 1 && seg.p[0] == 0xff) {
            fl_http_on_gap(&c, !seg.from_server);
            continue;
        }
        fl_http_facts facts;
        fl_http_feed(&c, !seg.from_server, seg.p, seg.len, &facts);
        if (facts.status_4xx + facts.status_5xx > facts.responses)
            __builtin_trap(); /* each counted status is a response */
    }
    if (c.outstanding > 32)
        __builtin_trap();
    return 0;
}
