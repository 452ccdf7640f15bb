/* fuzz_quic.c - the QUIC Initial parser (quic_initial.c: long headers,
 * coalesced packets, Version Negotiation, Retry, header protection, CRYPTO
 * reassembly, ClientHello, CONNECTION_CLOSE; RFC 9000 17, RFC 9001 5) and
 * its libgcrypt adapter (quic_crypto.c).
 *
 * Input: byte 0 picks the version used for sealed packets (bits 0-1: v1,
 * v2, draft-29, draft-23) and, bit 2, also runs the ClientHello parsers on
 * every datagram. Then datagrams, each a 2-byte big-endian header (bit 15:
 * from the server; bit 14: "sealed"; bits 0-13: length, 0 = the rest) and
 * its bytes. A datagram as captured goes in unchanged (real Initials still
 * decrypt: their keys come from their DCID). A sealed one is taken as the
 * plaintext frames of an Initial and protected with the flow's keys first
 * (fl_quic_seal_initial), so the fuzzer reaches the frame parser behind the
 * AEAD, which random bytes never open. Every datagram as captured also goes
 * to the HTTP/3 request/response walker (quic_app.c), 20 ms apart, with a
 * tick of its silence timer after each, 1 s later when mode bit 3 is set
 * (a response ends after 1 s of server silence). */
#include <string.h>

#include "fl_quic.h"
#include "fl_quic_app.h"
#include "fuzz.h"

static const uint32_t versions[4] = { FL_QUIC_V1, FL_QUIC_V2, 0xff00001du, 0xff000017u };
static const uint8_t fixed_dcid[8] = { 0x83, 0x94, 0xc8, 0xf0, 0x3e, 0x51, 0x57, 0x08 };
static const uint8_t fixed_scid[4] = { 0xf0, 0x67, 0xa5, 0x50 };

static void check(const fl_quic_conn *q, const fl_quic_facts *f)
{
    /* the caps hold and names stay NUL-terminated in their arrays */
    if (fl_quic_decrypts(q, false) > FL_QUIC_DECRYPT_CAP ||
        fl_quic_decrypts(q, true) > FL_QUIC_DECRYPT_CAP || q->dcid_len > FL_QUIC_CID_MAX ||
        q->ch_have > FL_QUIC_CH_CAP ||
        strnlen(f->hello.sni, sizeof f->hello.sni) == sizeof f->hello.sni ||
        strnlen(f->hello.alpn, sizeof f->hello.alpn) == sizeof f->hello.alpn)
        __builtin_trap();
}

static void check_app(const fl_quic_app *a, const fl_tlsrec_facts *f)
{
    if (f->response > FL_TLSREC_MAX_RESP || a->phase > FL_TLSREC_RESPONSE || f->stall ||
        f->early_close || (f->first_request && !f->request) ||
        a->cid_len[0] > FL_QUIC_CID_MAX + FL_QUIC_APP_CID_GUESS ||
        a->cid_len[1] > FL_QUIC_CID_MAX + FL_QUIC_APP_CID_GUESS)
        __builtin_trap();
}

static void seal_and_feed(fl_quic_pool *pool, fl_quic_conn *q, uint32_t version, bool server,
                          uint32_t pn, const uint8_t *p, uint32_t len, fl_quic_facts *f)
{
    static uint8_t out[FL_QUIC_PKT_MAX + 128];
    fl_quic_keys k;
    /* the server's Initials use the keys of the client's first DCID */
    const uint8_t *dcid = fixed_dcid;
    uint8_t dl = sizeof fixed_dcid;
    if (server && (q->flags & FL_QF_KEYS)) {
        dcid = q->dcid;
        dl = q->dcid_len;
    }
    bool ok = server ? fl_quic_initial_keys(version, dcid, dl, NULL, &k)
                     : fl_quic_initial_keys(version, dcid, dl, &k, NULL);
    if (!ok)
        return;
    size_t n = server ? fl_quic_seal_initial(version, &k, fixed_scid, sizeof fixed_scid, dcid, dl,
                                             pn, p, len, out, sizeof out)
                      : fl_quic_seal_initial(version, &k, dcid, dl, fixed_scid, sizeof fixed_scid,
                                             pn, p, len, out, sizeof out);
    if (n)
        fl_quic_feed(pool, q, !server, out, (uint32_t)n, f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static fl_quic_pool *pool;
    static fl_quic_facts f;
    if (!pool && !(pool = fl_quic_pool_new(2)))
        __builtin_trap();
    if (size < 1 || size > 1u << 16)
        return 0;
    uint8_t mode = data[0];
    uint32_t version = versions[mode & 3];
    data++;
    size--;
    fl_quic_conn q;
    memset(&q, 0, sizeof q);
    fl_quic_app app;
    fl_quic_app_init(&app);
    fl_tlsrec_facts af;
    uint64_t now = 1700000000ull * 1000000ull;
    uint32_t pn = 0;
    while (size >= 2) {
        uint16_t h = (uint16_t)(data[0] << 8 | data[1]);
        data += 2;
        size -= 2;
        size_t n = h & 0x3fff;
        if (n == 0 || n > size)
            n = size;
        bool server = h & 0x8000;
        if (mode & 4) {
            fl_quic_hello hello;
            (void)fl_quic_parse_client_hello(data, (uint32_t)n, &hello);
            (void)fl_quic_parse_client_hello_part(data, (uint32_t)n, &hello);
        }
        (void)fl_quic_looks_like_long_header(data, (uint32_t)n);
        if (h & 0x4000)
            seal_and_feed(pool, &q, version, server, pn++, data, (uint32_t)n, &f);
        else
            fl_quic_feed(pool, &q, !server, data, (uint32_t)n, &f);
        check(&q, &f);
        if (!(h & 0x4000)) {
            now += 20000;
            fl_quic_app_feed(&app, !server, data, (uint32_t)n, now, &af);
            check_app(&app, &af);
            bool pending = fl_quic_app_pending(&app);
            fl_quic_app_tick(&app, now + (mode & 8 ? 1000000 : 0), &af);
            check_app(&app, &af);
            if (!pending && af.response)
                __builtin_trap(); /* nothing pending, nothing to report */
        }
        (void)fl_quic_done(&q);
        data += n;
        size -= n;
    }
    fl_quic_conn_end(pool, &q);
    if (q.slot != 0)
        __builtin_trap(); /* the reassembly slot went back to the pool */
    return 0;
}
