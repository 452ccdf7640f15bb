/* fuzz_dns.c - the DNS message parser (RFC 1035) and DNS-over-TCP framing
 * (RFC 7766). Input: byte 0 even = one UDP message (the rest); odd = a TCP
 * stream cut into segments (segments.h), every framed message parsed. */
#include <string.h>

#include "fl_dns.h"
#include "fuzz.h"
#include "segments.h"

static void check_msg(const fl_dns_msg *m)
{
    /* names are NUL-terminated inside their arrays, counts within bounds */
    if (m->ncnames > FL_DNS_MAX_CNAMES || m->naddrs > FL_DNS_MAX_ADDRS ||
        strnlen(m->qname, sizeof m->qname) == sizeof m->qname)
        __builtin_trap();
    for (unsigned i = 0; i < m->ncnames; i++)
        if (strnlen(m->cnames[i], sizeof m->cnames[i]) == sizeof m->cnames[i])
            __builtin_trap();
}

static void on_msg(void *ctx, const uint8_t *msg, uint32_t len, bool cut)
{
    (void)cut;
    fl_dns_msg *m = ctx;
    if (fl_dns_parse(msg, len, m) == FL_DNS_OK)
        check_msg(m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static fl_dns_msg m; /* 2.3 KB: not on the stack per call */
    if (size < 1 || size > 1u << 20)
        return 0;
    uint8_t mode = data[0];
    data++;
    size--;
    if (!(mode & 1)) {
        if (fl_dns_parse(data, (uint32_t)size, &m) == FL_DNS_OK)
            check_msg(&m);
        return 0;
    }
    fl_dns_tcp st;
    memset(&st, 0, sizeof st);
    fl_fuzz_seg seg;
    while (fl_fuzz_next_seg(&data, &size, &seg)) {
        if (seg.from_server && seg.len == 1 && seg.p[0] == 0xff)
            fl_dns_tcp_reset(&st); /* a gap */
        else
            fl_dns_tcp_feed(&st, seg.p, seg.len, on_msg, &m);
    }
    fl_dns_tcp_free(&st);
    return 0;
}
