/* test_tls.c - the TLS handshake tracker (analysis/dissect_tls.c).
 *
 * Crafted records follow RFC 5246 / RFC 8446 byte for byte (lengths are
 * worked out in the comments); conversations are fed the way the engine
 * feeds them (in-order bytes per direction, stop once fl_tls_wants_bytes()
 * is false) and cut every possible way. Real conversations are TCP payloads
 * of public captures, with expectations from pcaps/real/MANIFEST.tsv
 * (tls_alert_fatal, computed by tshark; see pcaps/real/ORACLE.md).
 */
#include <check.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fl_test_util.h"
#include "fl_tls.h"

/* ---------------------------------------------------------------- records */

#define B4(x) x, x, x, x
#define B8(x) B4(x), B4(x)
#define B16(x) B8(x), B8(x)
#define B32(x) B16(x), B16(x)

/* TLS 1.2 ClientHello (RFC 5246 7.4.1.2): record 16 0301 len 0x31 (49) =
 * handshake header 01 + len24 0x2d (45) = version 0303, random[32],
 * session_id<0>, cipher_suites<4> {c02f, c030}, compression<1> {0},
 * extensions<0>: 2+32+1+2+4+1+1+2 = 45. */
#define REC_CH12                                                                                   \
    0x16, 0x03, 0x01, 0x00, 0x31, 0x01, 0x00, 0x00, 0x2d, 0x03, 0x03, B32(0xa1), 0x00, 0x00, 0x04, \
        0xc0, 0x2f, 0xc0, 0x30, 0x01, 0x00, 0x00, 0x00
/* ServerHello: 0303, random[32], session_id<0>, c02f, compression 0,
 * extensions<0>: 2+32+1+2+1+2 = 40 (0x28); record 44 (0x2c). */
#define REC_SH12                                                                                   \
    0x16, 0x03, 0x03, 0x00, 0x2c, 0x02, 0x00, 0x00, 0x28, 0x03, 0x03, B32(0xb2), 0x00, 0xc0, 0x2f, \
        0x00, 0x00, 0x00
/* Certificate (11) with one empty certificate: list<3> { cert<0> }. */
#define REC_CERT                                                                                   \
    0x16, 0x03, 0x03, 0x00, 0x0a, 0x0b, 0x00, 0x00, 0x06, 0x00, 0x00, 0x03, 0x00, 0x00, 0x00
/* ServerHelloDone (14), empty. */
#define REC_SHD 0x16, 0x03, 0x03, 0x00, 0x04, 0x0e, 0x00, 0x00, 0x00
/* ClientKeyExchange (16), a 5-byte public value: body 4+6 = 10. */
#define REC_CKE 0x16, 0x03, 0x03, 0x00, 0x0a, 0x10, 0x00, 0x00, 0x06, 0x05, B4(0xc3), 0xc3
/* ChangeCipherSpec (RFC 5246 7.1): one byte, 1. */
#define REC_CCS 0x14, 0x03, 0x03, 0x00, 0x01, 0x01
/* Encrypted Finished, 40 bytes of ciphertext. The first ciphertext byte is
 * 01 (client) / 02 (server) on purpose: it must not read as a second
 * ClientHello or ServerHello. */
#define REC_FIN_C 0x16, 0x03, 0x03, 0x00, 0x28, B32(0x01), B8(0x01)
#define REC_FIN_S 0x16, 0x03, 0x03, 0x00, 0x28, B32(0x02), B8(0x02)
/* application_data (23), 32 and 48 bytes. */
#define REC_APP_C 0x17, 0x03, 0x03, 0x00, 0x20, B32(0xd4)
#define REC_APP_S 0x17, 0x03, 0x03, 0x00, 0x30, B32(0xe5), B16(0xe5)
/* Alerts (RFC 5246 7.2): level 1 warning / 2 fatal, then description.
 * handshake_failure(40) fatal: */
#define REC_ALERT_HSF 0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x28
/* illegal_parameter(47) fatal: */
#define REC_ALERT_ILLEGAL 0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x2f
/* Three messages in one record (RFC 5246 6.2.1 allows coalescing):
 * warning user_canceled(90), fatal handshake_failure(40), fatal
 * internal_error(80): 2 fatal, the last one 80. */
#define REC_ALERT_MULTI 0x15, 0x03, 0x03, 0x00, 0x06, 0x01, 0x5a, 0x02, 0x28, 0x02, 0x50
/* An encrypted alert after CCS: 26 bytes (AES-GCM: 8 nonce + 2 + 16 tag,
 * the size seen in tls2.pcap / tls_sgt.pcap), here ciphertext that happens
 * to read as 13 fatal handshake_failure alerts if taken as plaintext. */
#define P_HSF 0x02, 0x28
#define REC_ALERT_ENC                                                                              \
    0x15, 0x03, 0x03, 0x00, 0x1a, P_HSF, P_HSF, P_HSF, P_HSF, P_HSF, P_HSF, P_HSF, P_HSF, P_HSF,   \
        P_HSF, P_HSF, P_HSF, P_HSF
/* Not plaintext: odd length; a level byte that is neither 1 nor 2. */
#define REC_ALERT_ODD 0x15, 0x03, 0x03, 0x00, 0x03, 0x02, 0x28, 0x00
#define REC_ALERT_BADLVL 0x15, 0x03, 0x03, 0x00, 0x04, 0x02, 0x28, 0x00, 0x28
/* warning close_notify(0). */
#define REC_ALERT_WARN 0x15, 0x03, 0x03, 0x00, 0x02, 0x01, 0x00

/* TLS 1.3 ClientHello (RFC 8446 4.1.2): 0303, random, session_id<0>,
 * cipher_suites<2> {1301}, compression {0}, extensions<7>
 * {supported_versions(43) len 3: list<2> {0304}}: 2+32+1+2+2+2+2+7 = 50
 * (0x32); record 54 (0x36). */
#define REC_CH13                                                                                   \
    0x16, 0x03, 0x01, 0x00, 0x36, 0x01, 0x00, 0x00, 0x32, 0x03, 0x03, B32(0xa7), 0x00, 0x00, 0x02, \
        0x13, 0x01, 0x01, 0x00, 0x00, 0x07, 0x00, 0x2b, 0x00, 0x03, 0x02, 0x03, 0x04
/* TLS 1.3 ServerHello: 0303, random, session_id<0>, 1301, 0, extensions<6>
 * {supported_versions len 2: 0304}: 2+32+1+2+1+2+6 = 46 (0x2e); record 50. */
#define SH13_HEAD 0x16, 0x03, 0x03, 0x00, 0x32, 0x02, 0x00, 0x00, 0x2e, 0x03, 0x03
#define SH13_TAIL 0x00, 0x13, 0x01, 0x00, 0x00, 0x06, 0x00, 0x2b, 0x00, 0x02, 0x03, 0x04
#define REC_SH13 SH13_HEAD, B32(0xb7), SH13_TAIL
/* HelloRetryRequest: a ServerHello whose random is SHA-256 of
 * "HelloRetryRequest" (RFC 8446 4.1.3). */
#define HRR_RANDOM                                                                                 \
    0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8,      \
        0x91, 0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8,  \
        0x33, 0x9c
#define REC_HRR SH13_HEAD, HRR_RANDOM, SH13_TAIL
/* TLS 1.3 encrypted records all carry opaque type 23 (RFC 8446 5.2):
 * server EncryptedExtensions..Finished (64), client Finished (53),
 * NewSessionTicket (80), a client alert (2 + type + 16 tag = 19). */
#define REC_ENC_S13 0x17, 0x03, 0x03, 0x00, 0x40, B32(0x5e), B32(0x5e)
#define REC_FIN_C13 0x17, 0x03, 0x03, 0x00, 0x35, B32(0x6f), B16(0x6f), B4(0x6f), 0x6f
#define REC_NST 0x17, 0x03, 0x03, 0x00, 0x50, B32(0x70), B32(0x70), B16(0x70)
#define REC_ENCALERT13 0x17, 0x03, 0x03, 0x00, 0x13, B16(0x2a), 0x2a, 0x2a, 0x2a

/* Segment contents: one array per TCP payload. */
static const uint8_t ch12[] = { REC_CH12 };
static const uint8_t s12_flight[] = { REC_SH12, REC_CERT, REC_SHD };
static const uint8_t c12_finish[] = { REC_CKE, REC_CCS, REC_FIN_C };
static const uint8_t s12_finish[] = { REC_CCS, REC_FIN_S };
static const uint8_t app_c[] = { REC_APP_C };
static const uint8_t app_s[] = { REC_APP_S };
static const uint8_t alert_hsf[] = { REC_ALERT_HSF };
static const uint8_t alert_illegal[] = { REC_ALERT_ILLEGAL };
static const uint8_t alert_multi[] = { REC_ALERT_MULTI };
static const uint8_t alert_enc[] = { REC_ALERT_ENC };
static const uint8_t s12_resume[] = { REC_SH12, REC_CCS, REC_FIN_S };
static const uint8_t c12_resume_finish[] = { REC_CCS, REC_FIN_C };
static const uint8_t c12_false_start[] = { REC_CKE, REC_CCS, REC_FIN_C, REC_APP_C };
static const uint8_t ch13[] = { REC_CH13 };
static const uint8_t ch13_ccs[] = { REC_CH13, REC_CCS };
static const uint8_t s13_flight[] = { REC_SH13, REC_CCS, REC_ENC_S13 };
static const uint8_t c13_finish[] = { REC_CCS, REC_FIN_C13 };
static const uint8_t c13_alert[] = { REC_CCS, REC_ENCALERT13 };
static const uint8_t nst[] = { REC_NST };
static const uint8_t s13_hrr[] = { REC_HRR, REC_CCS };
static const uint8_t c13_retry[] = { REC_CCS, REC_CH13 };
static const uint8_t s13_after_hrr[] = { REC_SH13, REC_ENC_S13 };
static const uint8_t fin_c13[] = { REC_FIN_C13 };
static const uint8_t hrr_only[] = { REC_HRR };

/* ---------------------------------------------------------- the harness */

typedef struct seg {
    bool from_client;
    const uint8_t *p;
    uint32_t n;
} seg;

enum end_event { END_NONE, END_CLOSE_BY_SERVER, END_CLOSE_BY_CLIENT, END_TIMEOUT, END_GAP };

/* What a whole run produced: facts summed over the feed calls, the final
 * state, and what the end event returned. */
typedef struct outcome {
    unsigned client_hello, fatal_alerts, failed, completed;
    unsigned alert_desc; /* of the last call that reported a fatal alert */
    unsigned state;
    bool end_ret;
} outcome;

typedef struct conv {
    const char *name;
    const seg *segs;
    int nsegs;
    enum end_event end;
    outcome want;
} conv;

#define SEG(c, arr)                                                                                \
    {                                                                                              \
        c, arr, (uint32_t)sizeof(arr)                                                              \
    }
#define C true
#define S false

static uint32_t conv_len(const conv *cv)
{
    uint32_t n = 0;
    for (int i = 0; i < cv->nsegs; i++)
        n += cv->segs[i].n;
    return n;
}

static void feed_piece(fl_tls_session *s, bool from_client, const uint8_t *p, uint32_t n, bool copy,
                       outcome *o)
{
    /* An exact heap copy: ASan catches any read past the piece. */
    uint8_t *buf = copy ? fl_test_exact_copy(p, n) : NULL;
    if (copy && !buf)
        ck_abort_msg("out of memory");
    fl_tls_facts f;
    memset(&f, 0xa5, sizeof f); /* the feed must zero it */
    fl_tls_feed(s, from_client, copy ? buf : p, n, &f);
    free(buf);
    /* Checked by hand: a passing ck_assert costs a pipe write, and this runs
     * millions of times. */
    if (f.client_hello > 1 || f.failed > 1 || f.completed > 1 ||
        (f.fatal_alerts == 0 && f.alert_desc != 0))
        ck_abort_msg("bad facts: ch=%u failed=%u completed=%u fatal=%u desc=%u", f.client_hello,
                     f.failed, f.completed, f.fatal_alerts, f.alert_desc);
    o->client_hello += f.client_hello;
    o->fatal_alerts += f.fatal_alerts;
    o->failed += f.failed;
    o->completed += f.completed;
    if (f.fatal_alerts)
        o->alert_desc = f.alert_desc;
}

static bool apply_end(fl_tls_session *s, enum end_event e)
{
    switch (e) {
    case END_CLOSE_BY_SERVER:
        return fl_tls_on_close(s, true);
    case END_CLOSE_BY_CLIENT:
        return fl_tls_on_close(s, false);
    case END_TIMEOUT:
        return fl_tls_on_timeout(s);
    case END_GAP:
        fl_tls_on_gap(s);
        return false;
    case END_NONE:
        break;
    }
    return false;
}

/* Feed the conversation's first `limit` bytes, one call per segment, each
 * further cut at every offset in cuts[] (ascending offsets into the
 * concatenation of all segments). Like the engine, stop feeding once the
 * session is done. The end event is applied only when the whole
 * conversation was fed. Each call gets an exact heap copy when `copy`, else
 * a pointer into the segment (for the many-run tests; over-reads are caught
 * by the others). */
static outcome run_cuts_how(const conv *cv, const uint32_t *cuts, int ncuts, uint32_t limit,
                            bool copy)
{
    fl_tls_session s;
    memset(&s, 0, sizeof s);
    outcome o;
    memset(&o, 0, sizeof o);
    uint32_t base = 0;
    int k = 0;
    for (int i = 0; i < cv->nsegs && base < limit; i++) {
        const seg *g = &cv->segs[i];
        uint32_t end = base + g->n < limit ? base + g->n : limit;
        uint32_t pos = base;
        while (pos < end && fl_tls_wants_bytes(&s)) {
            while (k < ncuts && cuts[k] <= pos)
                k++;
            uint32_t next = k < ncuts && cuts[k] < end ? cuts[k] : end;
            feed_piece(&s, g->from_client, g->p + (pos - base), next - pos, copy, &o);
            pos = next;
        }
        base += g->n;
    }
    if (limit >= conv_len(cv))
        o.end_ret = apply_end(&s, cv->end);
    o.state = s.state;
    return o;
}

static outcome run_cuts(const conv *cv, const uint32_t *cuts, int ncuts, uint32_t limit)
{
    return run_cuts_how(cv, cuts, ncuts, limit, true);
}

static outcome run_whole(const conv *cv)
{
    return run_cuts(cv, NULL, 0, UINT32_MAX);
}

/* Every byte its own feed call. */
static outcome run_bytewise(const conv *cv, uint32_t limit)
{
    uint32_t total = conv_len(cv);
    uint32_t *cuts = malloc(sizeof(uint32_t) * (total + 1));
    if (!cuts)
        ck_abort_msg("out of memory");
    for (uint32_t i = 0; i <= total; i++)
        cuts[i] = i;
    outcome o = run_cuts(cv, cuts, (int)total + 1, limit);
    free(cuts);
    return o;
}

static bool same_outcome(const outcome *a, const outcome *b)
{
    return a->client_hello == b->client_hello && a->fatal_alerts == b->fatal_alerts &&
           a->failed == b->failed && a->completed == b->completed &&
           a->alert_desc == b->alert_desc && a->state == b->state && a->end_ret == b->end_ret;
}

static void expect_outcome(const conv *cv, const outcome *got, const outcome *want, const char *how)
{
    if (same_outcome(got, want))
        return;
    ck_abort_msg("%s (%s): got ch=%u fatal=%u failed=%u completed=%u desc=%u "
                 "state=%u end=%d, want ch=%u fatal=%u failed=%u completed=%u "
                 "desc=%u state=%u end=%d",
                 cv->name, how, got->client_hello, got->fatal_alerts, got->failed, got->completed,
                 got->alert_desc, got->state, got->end_ret, want->client_hello, want->fatal_alerts,
                 want->failed, want->completed, want->alert_desc, want->state, want->end_ret);
}

/* ------------------------------------------------------ conversations */

/* TLS 1.2 full handshake (RFC 5246 7.3), then data both ways. Completion
 * comes with the server's first record after the client's data. */
static const seg tls12_success_segs[] = {
    SEG(C, ch12),       SEG(S, s12_flight), SEG(C, c12_finish),
    SEG(S, s12_finish), SEG(C, app_c),      SEG(S, app_s),
};
/* The server refuses the ClientHello: fatal handshake_failure. */
static const seg tls12_server_fatal_segs[] = { SEG(C, ch12), SEG(S, alert_hsf) };
/* The client rejects the server's flight with three alerts in one record. */
static const seg tls12_client_multi_segs[] = {
    SEG(C, ch12),
    SEG(S, s12_flight),
    SEG(C, alert_multi),
};
/* Nothing but a ClientHello: then RST from the server / timeout. */
static const seg tls12_ch_only_segs[] = { SEG(C, ch12) };
/* The client goes away after the server's flight. */
static const seg tls12_client_close_segs[] = { SEG(C, ch12), SEG(S, s12_flight) };
/* Abbreviated handshake (RFC 5246 7.3, resumption), no data, then the
 * server's encrypted close_notify-like alert and FIN (the shape of
 * tls2.pcap stream 220). The alert is after the server's CCS: encrypted, not
 * counted. Both CCS and the server's encrypted Finished were seen: the
 * handshake completed, so the server's later close is not a failure (an
 * idle resumed session closed by the server is ordinary). */
static const seg tls12_resume_enc_alert_segs[] = {
    SEG(C, ch12),
    SEG(S, s12_resume),
    SEG(C, c12_resume_finish),
    SEG(S, alert_enc),
};
/* False Start (RFC 7918): the client sends data before the server's
 * Finished; the server then rejects the handshake with a plaintext alert
 * (it has not sent CCS). That alert is a failure, not a completion. */
static const seg tls12_false_start_rejected_segs[] = {
    SEG(C, ch12),
    SEG(S, s12_flight),
    SEG(C, c12_false_start),
    SEG(S, alert_hsf),
};
/* TLS 1.3 (RFC 8446 2) with middlebox-compatibility CCS (D.4): completion
 * with the server's NewSessionTicket after the client's Finished. */
static const seg tls13_success_segs[] = {
    SEG(C, ch13),
    SEG(S, s13_flight),
    SEG(C, c13_finish),
    SEG(S, nst),
};
/* TLS 1.3: the client's Finished completes the handshake (RFC 8446 4.4.4);
 * the server's RST that follows, before any server record, is a reset of an
 * established session, not a handshake failure. */
static const seg tls13_finished_then_rst_segs[] = {
    SEG(C, ch13),
    SEG(S, s13_flight),
    SEG(C, c13_finish),
};
/* TLS 1.3: the client rejects the certificate; its alert is encrypted
 * (type 23), the server closes: a failure, seen only through the close. */
static const seg tls13_enc_alert_segs[] = {
    SEG(C, ch13),
    SEG(S, s13_flight),
    SEG(C, c13_alert),
};
/* TLS 1.3 HelloRetryRequest: two ClientHellos, one handshake. */
static const seg tls13_hrr_segs[] = {
    SEG(C, ch13),          SEG(S, s13_hrr), SEG(C, c13_retry),
    SEG(S, s13_after_hrr), SEG(C, fin_c13), SEG(S, nst),
};
/* TLS 1.3 client that sent its compatibility CCS right after the
 * ClientHello rejects the HelloRetryRequest with a plaintext alert: the CCS
 * came before the ServerHello and encrypts nothing, so the alert counts. */
static const seg tls13_compat_ccs_alert_segs[] = {
    SEG(C, ch13_ccs),
    SEG(S, hrr_only),
    SEG(C, alert_illegal),
};

#define NSEG(a) (int)(sizeof(a) / sizeof((a)[0]))
#define CONV(name, segs, end, ch, fatal, failed, completed, desc, state, ret)                      \
    {                                                                                              \
        name, segs, NSEG(segs), end,                                                               \
        {                                                                                          \
            ch, fatal, failed, completed, desc, state, ret                                         \
        }                                                                                          \
    }

static const conv convs[] = {
    CONV("tls12_success", tls12_success_segs, END_NONE, 1, 0, 0, 1, 0, FL_TLS_COMPLETE, false),
    CONV("tls12_server_fatal", tls12_server_fatal_segs, END_CLOSE_BY_SERVER, 1, 1, 1, 0, 40,
         FL_TLS_FAILED, false),
    CONV("tls12_client_multi_alert", tls12_client_multi_segs, END_NONE, 1, 2, 1, 0, 80,
         FL_TLS_FAILED, false),
    CONV("tls12_server_rst_before_sh", tls12_ch_only_segs, END_CLOSE_BY_SERVER, 1, 0, 0, 0, 0,
         FL_TLS_FAILED, true),
    CONV("tls12_timeout", tls12_ch_only_segs, END_TIMEOUT, 1, 0, 0, 0, 0, FL_TLS_FAILED, true),
    CONV("tls12_client_close", tls12_client_close_segs, END_CLOSE_BY_CLIENT, 1, 0, 0, 0, 0,
         FL_TLS_ABANDONED, false),
    CONV("tls12_gap", tls12_client_close_segs, END_GAP, 1, 0, 0, 0, 0, FL_TLS_ABANDONED, false),
    CONV("tls12_resume_enc_alert", tls12_resume_enc_alert_segs, END_CLOSE_BY_SERVER, 1, 0, 0, 1, 0,
         FL_TLS_COMPLETE, false),
    CONV("tls12_false_start_rejected", tls12_false_start_rejected_segs, END_NONE, 1, 1, 1, 0, 40,
         FL_TLS_FAILED, false),
    CONV("tls13_success", tls13_success_segs, END_NONE, 1, 0, 0, 1, 0, FL_TLS_COMPLETE, false),
    CONV("tls13_finished_then_server_rst", tls13_finished_then_rst_segs, END_CLOSE_BY_SERVER, 1, 0,
         0, 1, 0, FL_TLS_COMPLETE, false),
    CONV("tls13_enc_alert_server_close", tls13_enc_alert_segs, END_CLOSE_BY_SERVER, 1, 0, 0, 0, 0,
         FL_TLS_FAILED, true),
    CONV("tls13_hrr", tls13_hrr_segs, END_NONE, 1, 0, 0, 1, 0, FL_TLS_COMPLETE, false),
    CONV("tls13_compat_ccs_alert", tls13_compat_ccs_alert_segs, END_NONE, 1, 1, 1, 0, 47,
         FL_TLS_FAILED, false),
};
#define NCONVS (int)(sizeof(convs) / sizeof(convs[0]))

/* ------------------------------------------- conversation-level tests */

START_TEST(test_conv_whole)
{
    const conv *cv = &convs[_i];
    outcome o = run_whole(cv);
    expect_outcome(cv, &o, &cv->want, "one call per segment");
    o = run_bytewise(cv, UINT32_MAX);
    expect_outcome(cv, &o, &cv->want, "one byte per call");
}
END_TEST

START_TEST(test_conv_two_pieces)
{
    const conv *cv = &convs[_i];
    uint32_t total = conv_len(cv);
    for (uint32_t a = 1; a < total; a++) {
        uint32_t cuts[1] = { a };
        outcome o = run_cuts(cv, cuts, 1, UINT32_MAX);
        char how[64];
        snprintf(how, sizeof how, "cut at %u", a);
        expect_outcome(cv, &o, &cv->want, how);
    }
}
END_TEST

START_TEST(test_conv_three_pieces)
{
    const conv *cv = &convs[_i];
    uint32_t total = conv_len(cv);
    for (uint32_t a = 1; a < total; a++) {
        for (uint32_t b = a + 1; b < total; b++) {
            uint32_t cuts[2] = { a, b };
            outcome o = run_cuts_how(cv, cuts, 2, UINT32_MAX, false);
            if (!same_outcome(&o, &cv->want)) {
                char how[64];
                snprintf(how, sizeof how, "cuts at %u and %u", a, b);
                expect_outcome(cv, &o, &cv->want, how);
            }
        }
    }
}
END_TEST

/* Every prefix, each feed call on an exact heap copy: no over-read, facts
 * never exceed the whole conversation's and never go backwards, and cutting
 * the prefix into single bytes changes nothing. */
START_TEST(test_conv_prefixes)
{
    const conv *cv = &convs[_i];
    uint32_t total = conv_len(cv);
    outcome prev;
    memset(&prev, 0, sizeof prev);
    for (uint32_t p = 0; p <= total; p++) {
        outcome o = run_cuts(cv, NULL, 0, p);
        outcome b = run_bytewise(cv, p);
        char how[64];
        snprintf(how, sizeof how, "prefix %u bytewise", p);
        expect_outcome(cv, &b, &o, how);
        if (o.client_hello > cv->want.client_hello || o.fatal_alerts > cv->want.fatal_alerts ||
            o.failed > cv->want.failed || o.completed > cv->want.completed)
            ck_abort_msg("%s: prefix %u reports more than the whole", cv->name, p);
        if (o.client_hello < prev.client_hello || o.fatal_alerts < prev.fatal_alerts ||
            o.failed < prev.failed || o.completed < prev.completed)
            ck_abort_msg("%s: prefix %u reports less than prefix %u", cv->name, p, p - 1);
        if (o.state == FL_TLS_NOT_TLS)
            ck_abort_msg("%s: prefix %u is not TLS", cv->name, p);
        prev = o;
    }
    expect_outcome(cv, &prev, &cv->want, "full prefix");
}
END_TEST

/* ----------------------------------------------------- record-level tests */

static fl_tls_session fresh(void)
{
    fl_tls_session s;
    memset(&s, 0, sizeof s);
    return s;
}

static fl_tls_facts feed(fl_tls_session *s, bool from_client, const uint8_t *p, uint32_t n)
{
    uint8_t *copy = fl_test_exact_copy(p, n);
    ck_assert_ptr_nonnull(copy);
    fl_tls_facts f;
    memset(&f, 0xa5, sizeof f);
    fl_tls_feed(s, from_client, copy, n, &f);
    free(copy);
    return f;
}

START_TEST(test_client_hello_record)
{
    fl_tls_session s = fresh();
    ck_assert(fl_tls_wants_bytes(&s));
    fl_tls_facts f = feed(&s, true, ch12, sizeof ch12);
    ck_assert_uint_eq(f.client_hello, 1);
    ck_assert_uint_eq(f.fatal_alerts, 0);
    ck_assert_uint_eq(f.failed, 0);
    ck_assert_uint_eq(f.completed, 0);
    ck_assert_uint_eq(s.state, FL_TLS_CLIENT_HELLO);
    ck_assert(fl_tls_wants_bytes(&s));
    ck_assert(fl_tls_in_handshake(&s));
    ck_assert_uint_eq(s.dir[0].records, 1);
    ck_assert_uint_eq(s.dir[0].hdr_have, 0);
    ck_assert_uint_eq(s.dir[1].records, 0);
}
END_TEST

/* The record header split inside itself: 3 bytes, then the rest of the
 * header and the handshake type, then the body. */
START_TEST(test_client_hello_split_header)
{
    fl_tls_session s = fresh();
    fl_tls_facts f = feed(&s, true, ch12, 3);
    ck_assert_uint_eq(f.client_hello, 0);
    ck_assert_uint_eq(s.state, FL_TLS_UNKNOWN);
    ck_assert_uint_eq(s.dir[0].hdr_have, 3);
    f = feed(&s, true, ch12 + 3, 2);
    ck_assert_uint_eq(f.client_hello, 0);
    ck_assert_uint_eq(s.dir[0].rec_left, 0x31);
    f = feed(&s, true, ch12 + 5, 1); /* handshake type 1 */
    ck_assert_uint_eq(f.client_hello, 1);
    ck_assert_uint_eq(s.state, FL_TLS_CLIENT_HELLO);
    f = feed(&s, true, ch12 + 6, sizeof ch12 - 6);
    ck_assert_uint_eq(f.client_hello, 0);
    ck_assert_uint_eq(s.dir[0].records, 1);
}
END_TEST

START_TEST(test_server_hello_record)
{
    static const uint8_t sh[] = { REC_SH12 };
    fl_tls_session s = fresh();
    feed(&s, true, ch12, sizeof ch12);
    fl_tls_facts f = feed(&s, false, sh, sizeof sh);
    ck_assert_uint_eq(s.state, FL_TLS_SERVER_HELLO);
    ck_assert_uint_eq(f.client_hello + f.fatal_alerts + f.failed + f.completed, 0);
    ck_assert(fl_tls_in_handshake(&s));
    ck_assert_uint_eq(s.dir[1].records, 1);
}
END_TEST

/* A second ClientHello (after HelloRetryRequest) is not a new handshake. */
START_TEST(test_second_client_hello_not_counted)
{
    fl_tls_session s = fresh();
    ck_assert_uint_eq(feed(&s, true, ch13, sizeof ch13).client_hello, 1);
    feed(&s, false, s13_hrr, sizeof s13_hrr);
    ck_assert_uint_eq(s.state, FL_TLS_SERVER_HELLO);
    ck_assert_uint_eq(feed(&s, true, c13_retry, sizeof c13_retry).client_hello, 0);
    ck_assert_uint_eq(s.state, FL_TLS_SERVER_HELLO);
}
END_TEST

START_TEST(test_alert_handshake_failure)
{
    fl_tls_session s = fresh();
    feed(&s, true, ch12, sizeof ch12);
    fl_tls_facts f = feed(&s, false, alert_hsf, sizeof alert_hsf);
    ck_assert_uint_eq(f.fatal_alerts, 1);
    ck_assert_uint_eq(f.alert_desc, 40);
    ck_assert_uint_eq(f.failed, 1);
    ck_assert_uint_eq(f.completed, 0);
    ck_assert_uint_eq(s.state, FL_TLS_FAILED);
    ck_assert(!fl_tls_wants_bytes(&s));
    /* Done: more bytes (if fed anyway) report nothing, a close is no news. */
    f = feed(&s, false, alert_hsf, sizeof alert_hsf);
    ck_assert_uint_eq(f.fatal_alerts + f.failed, 0);
    ck_assert(!fl_tls_on_close(&s, true));
    ck_assert(!fl_tls_on_timeout(&s));
    ck_assert_uint_eq(s.state, FL_TLS_FAILED);
}
END_TEST

START_TEST(test_alert_split_between_level_and_description)
{
    fl_tls_session s = fresh();
    feed(&s, true, ch12, sizeof ch12);
    fl_tls_facts f = feed(&s, false, alert_hsf, 6); /* header + level */
    ck_assert_uint_eq(f.fatal_alerts, 0);
    ck_assert_uint_eq(s.state, FL_TLS_CLIENT_HELLO);
    f = feed(&s, false, alert_hsf + 6, 1);
    ck_assert_uint_eq(f.fatal_alerts, 1);
    ck_assert_uint_eq(f.alert_desc, 40);
    ck_assert_uint_eq(f.failed, 1);
}
END_TEST

/* Three alert messages in one record: every fatal one counts, failed once. */
START_TEST(test_several_alerts_in_one_record)
{
    fl_tls_session s = fresh();
    feed(&s, true, ch12, sizeof ch12);
    feed(&s, false, s12_flight, sizeof s12_flight);
    fl_tls_facts f = feed(&s, true, alert_multi, sizeof alert_multi);
    ck_assert_uint_eq(f.fatal_alerts, 2);
    ck_assert_uint_eq(f.alert_desc, 80);
    ck_assert_uint_eq(f.failed, 1);
    ck_assert_uint_eq(s.state, FL_TLS_FAILED);
}
END_TEST

/* The same 26 bytes are 13 fatal alerts before any CCS, and an encrypted
 * alert after the sender's CCS. */
START_TEST(test_encrypted_alert_after_ccs)
{
    fl_tls_session s = fresh();
    feed(&s, true, ch12, sizeof ch12);
    feed(&s, false, s12_resume, sizeof s12_resume); /* SH, CCS, Finished */
    ck_assert_uint_eq(s.dir[1].ccs, 1);
    ck_assert_uint_eq(s.dir[0].ccs, 0);
    fl_tls_facts f = feed(&s, false, alert_enc, sizeof alert_enc);
    ck_assert_uint_eq(f.fatal_alerts, 0);
    ck_assert_uint_eq(f.failed, 0);
    ck_assert_uint_eq(s.state, FL_TLS_SERVER_HELLO);
    ck_assert_uint_eq(s.dir[1].records, 4);

    fl_tls_session t = fresh();
    feed(&t, true, ch12, sizeof ch12);
    f = feed(&t, false, alert_enc, sizeof alert_enc);
    ck_assert_uint_eq(f.fatal_alerts, 13);
    ck_assert_uint_eq(f.alert_desc, 40);
    ck_assert_uint_eq(f.failed, 1);
}
END_TEST

/* CCS is tracked per direction: the client's CCS does not make the
 * server's alerts encrypted. */
START_TEST(test_ccs_is_per_direction)
{
    fl_tls_session s = fresh();
    feed(&s, true, ch12, sizeof ch12);
    feed(&s, false, s12_flight, sizeof s12_flight);
    feed(&s, true, c12_finish, sizeof c12_finish); /* CKE, CCS, Finished */
    ck_assert_uint_eq(s.dir[0].ccs, 1);
    ck_assert_uint_eq(s.dir[1].ccs, 0);
    ck_assert_uint_eq(s.state, FL_TLS_SERVER_HELLO);
    /* The client's alerts are now encrypted ... */
    fl_tls_facts f = feed(&s, true, alert_hsf, sizeof alert_hsf);
    ck_assert_uint_eq(f.fatal_alerts, 0);
    ck_assert_uint_eq(s.state, FL_TLS_SERVER_HELLO);
    /* ... the server's are not (it has not sent CCS: it rejects Finished). */
    f = feed(&s, false, alert_hsf, sizeof alert_hsf);
    ck_assert_uint_eq(f.fatal_alerts, 1);
    ck_assert_uint_eq(f.failed, 1);
}
END_TEST

START_TEST(test_alerts_that_are_not_plaintext_or_not_fatal)
{
    static const uint8_t odd[] = { REC_ALERT_ODD };
    static const uint8_t badlvl[] = { REC_ALERT_BADLVL };
    static const uint8_t warn[] = { REC_ALERT_WARN };
    fl_tls_session s = fresh();
    feed(&s, true, ch12, sizeof ch12);
    fl_tls_facts f = feed(&s, false, odd, sizeof odd);
    ck_assert_uint_eq(f.fatal_alerts + f.failed, 0);
    /* A fatal-looking first message, then level 0: the record is not
     * plaintext, nothing counts. */
    f = feed(&s, false, badlvl, sizeof badlvl);
    ck_assert_uint_eq(f.fatal_alerts + f.failed, 0);
    /* A warning is plaintext but not fatal. */
    f = feed(&s, false, warn, sizeof warn);
    ck_assert_uint_eq(f.fatal_alerts + f.failed, 0);
    ck_assert_uint_eq(s.state, FL_TLS_CLIENT_HELLO);
    ck_assert_uint_eq(s.dir[1].records, 3);
    ck_assert_uint_eq(s.dir[1].hdr_have, 0);
}
END_TEST

/* Application data: 0-RTT data before the ServerHello does not count for
 * completion; after the server's encrypted flight, the client's Finished
 * completes. */
START_TEST(test_app_data_record)
{
    static const uint8_t early[] = { REC_APP_C };
    fl_tls_session s = fresh();
    feed(&s, true, ch13, sizeof ch13);
    feed(&s, true, early, sizeof early);
    ck_assert_uint_eq(s.client_appdata, 0);
    feed(&s, false, s13_flight, sizeof s13_flight);
    ck_assert_uint_eq(s.state, FL_TLS_SERVER_HELLO);
    /* The server's flight was encrypted (TLS 1.3): the client's Finished
     * header (five bytes) completes the handshake at once. */
    fl_tls_facts f = feed(&s, true, fin_c13, 5);
    ck_assert_uint_eq(s.client_appdata & 1, 1);
    ck_assert_uint_eq(f.completed, 1);
    ck_assert_uint_eq(s.state, FL_TLS_COMPLETE);
    ck_assert(!fl_tls_wants_bytes(&s));
    ck_assert(!fl_tls_on_close(&s, true));
    ck_assert_uint_eq(s.state, FL_TLS_COMPLETE);
}
END_TEST

/* An empty application_data record is legal (RFC 5246 6.2.1) and keeps the
 * framing. */
START_TEST(test_empty_app_data_record)
{
    static const uint8_t empty_app[] = { 0x17, 0x03, 0x03, 0x00, 0x00, REC_APP_C };
    fl_tls_session s = fresh();
    feed(&s, true, ch12, sizeof ch12);
    feed(&s, false, s12_flight, sizeof s12_flight);
    feed(&s, true, empty_app, sizeof empty_app);
    ck_assert_uint_eq(s.dir[0].records, 3);
    ck_assert_uint_eq(s.client_appdata, 1);
    ck_assert_uint_eq(feed(&s, false, app_s, sizeof app_s).completed, 1);
}
END_TEST

/* A server alert record after the client's data is judged when it ends:
 * a warning completes the handshake. */
START_TEST(test_server_warning_after_client_data_completes)
{
    static const uint8_t warn[] = { REC_ALERT_WARN };
    fl_tls_session s = fresh();
    feed(&s, true, ch12, sizeof ch12);
    feed(&s, false, s12_flight, sizeof s12_flight);
    feed(&s, true, c12_false_start, sizeof c12_false_start);
    fl_tls_facts f = feed(&s, false, warn, 6);
    ck_assert_uint_eq(f.completed, 0);
    ck_assert_uint_eq(s.state, FL_TLS_SERVER_HELLO);
    f = feed(&s, false, warn + 6, 1);
    ck_assert_uint_eq(f.completed, 1);
    ck_assert_uint_eq(f.fatal_alerts, 0);
    ck_assert_uint_eq(s.state, FL_TLS_COMPLETE);
}
END_TEST

START_TEST(test_not_tls)
{
    static const uint8_t http[] = "GET / HTTP/1.1\r\nHost: example.com\r\n\r\n";
    /* SSLv2-compatible ClientHello (RFC 5246 E.2): 2-byte length with the
     * high bit set, msg_type 1, version 0301, then the lengths. */
    static const uint8_t sslv2[] = { 0x80, 0x2e, 0x01, 0x03, 0x01, 0x00,
                                     0x15, 0x00, 0x00, 0x00, 0x10 };
    static const uint8_t bad_version[] = { 0x16, 0x03, 0x05, 0x00, 0x31, 0x01 };
    static const uint8_t major_2[] = { 0x16, 0x02, 0x00, 0x00, 0x31, 0x01 };
    static const uint8_t not_ch[] = { 0x16, 0x03, 0x01, 0x00, 0x04, 0x02, 0x00, 0x00, 0x00 };
    static const uint8_t empty_hs[] = { 0x16, 0x03, 0x01, 0x00, 0x00 };
    static const uint8_t too_long[] = { 0x16, 0x03, 0x01, 0x48, 0x01, 0x01 };
    static const uint8_t app_first[] = { REC_APP_C };
    static const struct {
        const uint8_t *p;
        uint32_t n;
    } cases[] = {
        { http, sizeof http - 1 },           { sslv2, sizeof sslv2 },
        { bad_version, sizeof bad_version }, { major_2, sizeof major_2 },
        { not_ch, sizeof not_ch },           { empty_hs, sizeof empty_hs },
        { too_long, sizeof too_long },       { app_first, sizeof app_first },
        { alert_hsf, sizeof alert_hsf },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        fl_tls_session s = fresh();
        fl_tls_facts f = feed(&s, true, cases[i].p, cases[i].n);
        ck_assert_msg(s.state == FL_TLS_NOT_TLS, "case %zu: state %u", i, s.state);
        ck_assert_uint_eq(f.client_hello + f.fatal_alerts + f.failed + f.completed, 0);
        ck_assert(!fl_tls_wants_bytes(&s));
        ck_assert(!fl_tls_looks_like_client_hello(cases[i].p, cases[i].n));
        ck_assert(!fl_tls_on_close(&s, true));
        ck_assert(!fl_tls_on_timeout(&s));
        ck_assert_uint_eq(s.state, FL_TLS_NOT_TLS);
    }
}
END_TEST

/* The client speaks first in TLS: server bytes first mean another protocol
 * (an SMTP banner, say). */
START_TEST(test_server_speaks_first)
{
    static const uint8_t banner[] = "220 mail.example.com ESMTP\r\n";
    fl_tls_session s = fresh();
    feed(&s, false, banner, sizeof banner - 1);
    ck_assert_uint_eq(s.state, FL_TLS_NOT_TLS);
    ck_assert(!fl_tls_wants_bytes(&s));
}
END_TEST

/* Non-TLS bytes from the server mid-handshake: framing is lost, no
 * verdict, and the close that follows is no verdict either. */
START_TEST(test_server_garbage_abandons)
{
    static const uint8_t page[] = "HTTP/1.1 400 Bad Request\r\n\r\n";
    fl_tls_session s = fresh();
    feed(&s, true, ch12, sizeof ch12);
    fl_tls_facts f = feed(&s, false, page, sizeof page - 1);
    ck_assert_uint_eq(f.failed + f.completed + f.fatal_alerts, 0);
    ck_assert_uint_eq(s.state, FL_TLS_ABANDONED);
    ck_assert(!fl_tls_wants_bytes(&s));
    ck_assert(!fl_tls_on_close(&s, true));
    ck_assert_uint_eq(s.state, FL_TLS_ABANDONED);
}
END_TEST

/* RFC 5246 6.2.3: at most 2^14 + 2048 = 18432 (0x4800) bytes per record. */
START_TEST(test_record_length_limit)
{
    static const uint8_t max_rec[] = { 0x17, 0x03, 0x03, 0x48, 0x00 };
    static const uint8_t over[] = { 0x17, 0x03, 0x03, 0x48, 0x01 };
    fl_tls_session s = fresh();
    feed(&s, true, ch12, sizeof ch12);
    feed(&s, false, max_rec, sizeof max_rec);
    ck_assert_uint_eq(s.state, FL_TLS_CLIENT_HELLO);
    ck_assert_uint_eq(s.dir[1].rec_left, 0x4800);
    fl_tls_session t = fresh();
    feed(&t, true, ch12, sizeof ch12);
    feed(&t, false, over, sizeof over);
    ck_assert_uint_eq(t.state, FL_TLS_ABANDONED);
}
END_TEST

START_TEST(test_timeout_rules)
{
    fl_tls_session s = fresh();
    ck_assert(!fl_tls_on_timeout(&s)); /* no ClientHello: nothing to fail */
    ck_assert_uint_eq(s.state, FL_TLS_UNKNOWN);
    feed(&s, true, ch12, sizeof ch12);
    ck_assert(fl_tls_on_timeout(&s));
    ck_assert_uint_eq(s.state, FL_TLS_FAILED);
    ck_assert(!fl_tls_wants_bytes(&s));
    ck_assert(!fl_tls_on_timeout(&s)); /* once */

    /* The server answered: a timeout is not this rule's failure. */
    fl_tls_session t = fresh();
    feed(&t, true, ch12, sizeof ch12);
    feed(&t, false, s12_flight, sizeof s12_flight);
    ck_assert(!fl_tls_on_timeout(&t));
    ck_assert_uint_eq(t.state, FL_TLS_SERVER_HELLO);
}
END_TEST

START_TEST(test_close_rules)
{
    /* No ClientHello yet: no verdict either way. */
    fl_tls_session s = fresh();
    ck_assert(!fl_tls_on_close(&s, true));
    ck_assert_uint_eq(s.state, FL_TLS_ABANDONED);
    ck_assert(!fl_tls_wants_bytes(&s));

    /* Server closes after the ServerHello, before completion: failure. */
    s = fresh();
    feed(&s, true, ch12, sizeof ch12);
    feed(&s, false, s12_flight, sizeof s12_flight);
    ck_assert(fl_tls_on_close(&s, true));
    ck_assert_uint_eq(s.state, FL_TLS_FAILED);
    ck_assert(!fl_tls_on_close(&s, true)); /* once */

    /* Client closes first: no verdict, and the server's close after it is
     * no failure. */
    s = fresh();
    feed(&s, true, ch12, sizeof ch12);
    ck_assert(!fl_tls_on_close(&s, false));
    ck_assert_uint_eq(s.state, FL_TLS_ABANDONED);
    ck_assert(!fl_tls_wants_bytes(&s));
    ck_assert(!fl_tls_on_close(&s, true));
    ck_assert(!fl_tls_on_timeout(&s));
    ck_assert_uint_eq(s.state, FL_TLS_ABANDONED);
}
END_TEST

START_TEST(test_gap_rules)
{
    fl_tls_session s = fresh();
    feed(&s, true, ch12, sizeof ch12);
    fl_tls_on_gap(&s);
    ck_assert_uint_eq(s.state, FL_TLS_ABANDONED);
    ck_assert(!fl_tls_wants_bytes(&s));
    ck_assert(!fl_tls_on_close(&s, true));
    ck_assert(!fl_tls_on_timeout(&s));
    fl_tls_facts f = feed(&s, false, alert_hsf, sizeof alert_hsf);
    ck_assert_uint_eq(f.fatal_alerts + f.failed, 0);

    /* A gap after the verdict changes nothing. */
    fl_tls_session t = fresh();
    feed(&t, true, ch12, sizeof ch12);
    feed(&t, false, alert_hsf, sizeof alert_hsf);
    fl_tls_on_gap(&t);
    ck_assert_uint_eq(t.state, FL_TLS_FAILED);
}
END_TEST

START_TEST(test_empty_and_null_input)
{
    fl_tls_session s = fresh();
    fl_tls_facts f;
    memset(&f, 0xa5, sizeof f);
    fl_tls_feed(&s, true, NULL, 0, &f);
    ck_assert_uint_eq(f.client_hello + f.fatal_alerts + f.failed + f.completed + f.alert_desc, 0);
    ck_assert_uint_eq(s.state, FL_TLS_UNKNOWN);
    fl_tls_feed(&s, false, NULL, 0, &f); /* empty server segment: still unknown */
    ck_assert_uint_eq(s.state, FL_TLS_UNKNOWN);
    fl_tls_feed(NULL, true, ch12, sizeof ch12, &f);
    ck_assert_uint_eq(f.client_hello, 0);
    ck_assert(!fl_tls_looks_like_client_hello(NULL, 0));
}
END_TEST

START_TEST(test_looks_like_client_hello)
{
    ck_assert(fl_tls_looks_like_client_hello(ch12, sizeof ch12));
    ck_assert(fl_tls_looks_like_client_hello(ch13, sizeof ch13));
    /* Every prefix of 3 bytes or more still looks like one; shorter ones do
     * not (exact copies: no over-read). */
    for (uint32_t n = 0; n <= sizeof ch12; n++) {
        uint8_t *copy = fl_test_exact_copy(ch12, n);
        ck_assert_ptr_nonnull(copy);
        ck_assert_msg(fl_tls_looks_like_client_hello(copy, n) == (n >= 3), "prefix %u", n);
        free(copy);
    }
    static const uint8_t v0300[] = { 0x16, 0x03, 0x00, 0x00, 0x31, 0x01 };
    static const uint8_t v0304[] = { 0x16, 0x03, 0x04, 0x00, 0x31, 0x01 };
    static const uint8_t sh[] = { REC_SH12 };
    ck_assert(fl_tls_looks_like_client_hello(v0300, sizeof v0300));
    ck_assert(fl_tls_looks_like_client_hello(v0304, sizeof v0304));
    ck_assert(!fl_tls_looks_like_client_hello(sh, sizeof sh));
    ck_assert(!fl_tls_looks_like_client_hello(ch12 + 1, sizeof ch12 - 1));
}
END_TEST

/* ------------------------------------------------- real captures */

/* TCP payloads of real conversations, in capture order, retransmissions
 * left out, as printed by
 *   tshark -r pcaps/real/FILE -Y 'tcp.len>0 && tcp.stream==N &&
 *       !tcp.analysis.retransmission' -T fields -e tcp.stream -e ip.src
 *       -e tcp.payload
 * (the client is the side that sent the first payload). */
struct real_seg {
    bool from_client;
    const char *hex;
};

/* tls-1.2-handshake-failure.pcap, stream 0 (the whole file): ClientHello,
 * server's fatal handshake_failure(40). MANIFEST tls_alert_fatal = 1. */
static const struct real_seg real_hs_failure[] = {
    { true, "16030100ad010000a90303aaa3b6e3259f9c61ee29dde42820a73799972d6bf61ac2ea385a92c8ec5dae2f"
            "000012c010"
            "c006c015c00bc001003b0002000100ff020100006d000b000403000102000a00340032000e000d0019000b"
            "000c001800"
            "09000a00160017000800060007001400150004000500120013000100020003000f0010001100230000000d"
            "0020001e06"
            "0106020603050105020503040104020403030103020303020102020203000f000101" },
    { false, "15030300020228" },
};
/* tls_alert.pcap, stream 0: ClientHello, server's fatal protocol_version(70).
 * Stream 1 is a capture that starts mid-connection: its only payload is a
 * 31-byte Encrypted Alert (tshark), which must not count. MANIFEST
 * tls_alert_fatal for the file = 1. */
static const struct real_seg real_alert_s0[] = {
    { true, "16030100c2010000be030152db35f3eaa1188bf1e193fccf333e5873f435bbdc1c481817853f5476256a3a"
            "000012002f"
            "003300350039c009c00ac013c014560001000083ff010001000000001d001b0000187777772e676f6f676c"
            "652d616e61"
            "6c79746963732e636f6d00170000000500050100000000337400000012000000100030002e026832056832"
            "2d31360568"
            "322d31350568322d313408737064792f332e3106737064792f3308687474702f312e31000b00020100000a"
            "000a000800"
            "1d001700180019" },
    { false, "15030100020246" },
};
static const struct real_seg real_alert_s1[] = {
    { true, "150303001a0000000000000002f7a86364654f35eb799400eee0965a599bf5" },
};
/* tls13draft16-chrome55.0.2879.0-canary-aborted.pcap, streams 0 and 1 (the
 * whole file): a TLS 1.3 draft ClientHello each, answered with fatal
 * protocol_version(70). MANIFEST tls_alert_fatal = 2. */
static const struct real_seg real_tls13draft_s0[] = {
    { true, "1603010200010001fc0303226d2f0e567232ebea11869de2a396aa6c967b427106b0a64c3271b3b856fd0e"
            "0000242a2a"
            "c02bc02fc02cc030cca9cca8cc14cc13c009c013c00ac014009c009d002f0035000a010001af2a2a0000ff"
            "0100010000"
            "00001d001b000018746c7331332e63727970746f2e6d6f7a696c6c612e6f72670017000000230000000d00"
            "1800160806"
            "0601060308050501050308040401040302010203000500050100000000001200000010000e000c02683208"
            "687474702f"
            "312e3175500000000b000201000028002b00296a6a000100001d0020a4e63476d940c96d50fd29cedde571"
            "11dad7d28b"
            "ed37b79836f7a9f18c6fd03e002b000b0a5a5a7f0e030303020301000a000a00086a6a001d001700180018"
            "0004000a01"
            "020a0a000100001500db000000000000000000000000000000000000000000000000000000000000000000"
            "0000000000"
            "00000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
            "0000000000"
            "00000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
            "0000000000"
            "00000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
            "0000000000"
            "00000000000000000000000000000000000000000000000000000000000000000000000000" },
    { false, "15030100020246" },
};
static const struct real_seg real_tls13draft_s1[] = {
    { true, "1603010200010001fc030335423ea1d64ba1256f2818594a79c50a64d596ec777d6092196b0137ebcb5015"
            "00002a3a3a"
            "c02bc02f009ec02cc030cca9cca8cc14cc13c009c0130033c00ac0140039009c009d002f0035000a010001"
            "a93a3a0000"
            "ff010001000000001d001b000018746c7331332e63727970746f2e6d6f7a696c6c612e6f72670017000000"
            "230000000d"
            "0018001608060601060308050501050308040401040302010203000500050100000000001200000010000e"
            "000c026832"
            "08687474702f312e3175500000000b000201000028002b00294a4a000100001d0020277edddfd379a00b2f"
            "559b5b4a2a"
            "9cd724d4915dda41468c2796675c10a3af38002b000b0adada7f0e030303020301000a000a00084a4a001d"
            "0017001800"
            "180004000a0102aaaa000100001500d5000000000000000000000000000000000000000000000000000000"
            "0000000000"
            "00000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
            "0000000000"
            "00000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
            "0000000000"
            "00000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
            "0000000000"
            "00000000000000000000000000000000000000000000000000000000000000000000000000" },
    { false, "15030100020246" },
};
/* badcurveball.pcap, stream 0 (the whole file): ClientHello, ServerHello
 * and certificate flight, then the client's fatal certificate_unknown(46).
 * MANIFEST tls_alert_fatal = 1. */
static const struct real_seg real_badcurveball[] = {
    { true, "1603010200010001fc0303c5b08a8a5a1a1f31e5bcd0853b6f59944dfec2900a712a2a6059b827c58cf480"
            "20078a389e"
            "f1767da304d9e10cc7a9441a734513694d3a353ed9522ac47f9c8aa40022aaaa130113021303c02bc02fc0"
            "2cc030cca9"
            "cca8c013c014009c009d002f0035000a010001914a4a00000000001a00180000156261642e637572766562"
            "616c6c7465"
            "73742e636f6d00170000ff01000100000a000a0008caca001d00170018000b00020100002300000010000e"
            "000c024832"
            "08687474702f312e31000500050100000000000d0014001204030804040105030805050108060601020100"
            "1200000033"
            "002b0029caca000100001d0020ec9c731ae0f83a315ec38ed8cc94912502ab3ca913a29b7d037d7c0ae6a6"
            "e81a002d00"
            "020101002b000b0a2a2a0304030303020301001b00030200027a7a000100001500c3000000000000000000"
            "0000000000"
            "00000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
            "0000000000"
            "00000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
            "0000000000"
            "00000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
            "0000000000"
            "00000000000000000000000000000000000000000000000000000000000000000000000000" },
    { false, "16030300500200004c0303d1b6bc54a89e67ac3ed9b6b826985762b4cc6cdde39e4d7a95421232c747c54"
             "400c02b0000"
             "2400000000ff01000100000b000403000102002300000010000b000908687474702f312e3116030305e90"
             "b0005e50005"
             "e200026730820263308201eaa00302010202145ecb7cee8ca206bf9ec00728889ad99f4362cfd9300a060"
             "82a8648ce3d"
             "0403023043310b3009060355040613024852310f300d06035504080c065a6167726562311230100603550"
             "40a0c09494e"
             "4649474f204953310f300d06035504030c06494e4649474f301e170d3138303332343037313534325a170"
             "d3230303332"
             "333037313534325a3052310b300906035504061302555331233021060355040a0c1a53414e5320496e746"
             "5726e657420"
             "53746f726d2043656e746572311e301c06035504030c1553414e53204953432044536869656c642054657"
             "37430763010"
             "06072a8648ce3d020106052b81040022036200041d15b4caaebe22843e1e2b133b15da4d4e3c5f7c2f4cf"
             "7737adaa539"
             "5d9dd77c8d5f694fcc4bf6ca515edd2f7aec133ac628c97bb9c61c85abe36b17fbd76f732bf6f90d1f45e"
             "d6e2a7ed192"
             "db2ed376c549f7095758c6edcc614c279d107089a3818f30818c30090603551d130402300030200603551"
             "d1104193017"
             "82156261642e637572766562616c6c746573742e636f6d301d0603551d0e041604145145c8f200136f2b6"
             "652633fd329"
             "ecc561434d46300b0603551d0f0404030205e030310603551d25042a302806082b0601050507030106082"
             "b0601050507"
             "030206082b0601050507030306082b06010505070304300a06082a8648ce3d0403020367003064023002e"
             "fc852e35197"
             "7775e66b344cbae02d0386216f5ec566089331b3d23368d47d5faa165917de76798b0f01621409937a023"
             "073b5b55d45"
             "624ed781d31ef07844411700c7d659834aad7e8bb355791b8d0a441f9fd81c6e4a3ef4dd3fbfc1ccb8b25"
             "10003753082"
             "0371308202f6a003020102021462344031f7ab03e6f9327cde33419cf7fb09df94300a06082a8648ce3d0"
             "40302304331"
             "0b3009060355040613024852310f300d06035504080c065a616772656231123010060355040a0c09494e4"
             "649474f2049"
             "53310f300d06035504030c06494e4649474f301e170d3230303131363134303035305a170d32303032313"
             "53134303035"
             "305a3043310b3009060355040613024852310f300d06035504080c065a616772656231123010060355040"
             "a0c09494e46"
             "49474f204953310f300d06035504030c06494e4649474f308201cc3082016406072a8648ce3d020130820"
             "15702010130"
             "3c06072a8648ce3d0101023100fffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"
             "ffffeffffff"
             "ff0000000000000000ffffffff307b0430fffffffffffffffffffffffffffffffffffffffffffffffffff"
             "fffffffffff"
             "feffffffff0000000000000000fffffffc0430b3312fa7e23ee7e4988e056be3f82d19181d9c6efe81411"
             "20314088f50"
             "13875ac656398d8a2ed19d2a85c8edd3ec2aef031500a335926aa319a27a1d00896a6773a4827acdac730"
             "46104c71116"
             "2a761d568ebeb96265d4c3ceb4f0c330ec8f6dd76e39bcc849ababb8e34378d581065defc77d9fced6b39"
             "075de0cb090"
             "de23bac8d13e67e019a91b86311e5f342dee17fd15fb7e278a32a1eac98fc97e18cb2f3b2c487a7da6f40"
             "107ac023100"
             "ffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec1"
             "96accc52973"
             "02010103620004c711162a761d568ebeb96265d4c3ceb4f0c330ec8f6dd76e39bcc849ababb8e34378d58"
             "1065defc77d"
             "9fced6b39075de0cb090de23bac8d13e67e019a91b86311e5f342dee17fd" },
    { false, "15fb7e278a32a1eac98fc97e18cb2f3b2c487a7da6f40107aca3533051301d0603551d0e0416041443ef7"
             "087b89dbfec"
             "8819dcc6c46b750d75343308301f0603551d2304183016801443ef7087b89dbfec8819dcc6c46b750d753"
             "43308300f06"
             "03551d130101ff040530030101ff300a06082a8648ce3d0403020369003066023100adfd7d460fc7fe9ea"
             "31ce2ea9fc6"
             "18ca8764832e98db5a7e13cd03ab0eb4dd834c32e9425b1c76eee2eb10a1cbeb307e023100de7365f6183"
             "785ab429aa1"
             "cdafdc1595ad13a7b4677fd9d54dc48cb17c14ed7ace43f8bee1e25e3055613fbd95d5a45116030300b30"
             "c0000af0300"
             "174104b44aaaa23dcb6f30888d11055d30077eaa2ae73b60358bec3520388c9e88a55598602166c4a106c"
             "728cdea89ff"
             "8be4b5493c91d9d24f5348a8aa55fe2809fc9504030066306402302a62bd9198334bca1037213f19f745e"
             "4bc0cbb2469"
             "7b3b05cb95f6388cadbf4167309133b8ed5f6a3dbc61f1a5d6f5b5023044ee4c9a8ce4b10d7c2f2e04103"
             "436a7f01789"
             "035eba3b2c8b989a122f81ceed3001fd0c909df7dd19b0cf8ae8ed0f5316030300040e000000" },
    { true, "1503030002022e" },
};
/* top_100_fingerprints.pcap, stream 34 (one of the file's 4 fatal alerts):
 * ClientHello, server's fatal decode_error(50). */
static const struct real_seg real_top100_s34[] = {
    { true, "160301010c0100010803034b854fefdccd92f2be6cfcb02bb8ab628a676f4479b5e7eb065f5407bda89381"
            "0000241301"
            "13031302c02bc02fcca9cca8c02cc030c00ac009c013c01400330039002f0035000a010000bb0000001300"
            "1100000e77"
            "77772e676f6f676c652e636f6d00170000ff01000100000a000e000c001d00170018001901000101000b00"
            "0201000010"
            "000e000c02683208687474702f312e310005000501000000000033002b00298a8a000100001d0020180801"
            "dd4f0c3fd2"
            "c68a471e62aef1de05f4950f3c8e7b05f5ad8b4170f08043002b0009080304030303020301000d00180016"
            "0403050306"
            "0308040805080604010501060102030201002d00020101001c0002400100290000" },
    { false, "15030300020232" },
};
/* tls2.pcap, stream 220: resumed TLS 1.2 session (ServerHello, CCS,
 * Finished; client CCS, Finished), no data, then the server's 26-byte
 * Encrypted Alert. MANIFEST tls_alert_fatal for tls2.pcap = 0. */
static const struct real_seg real_tls2_s220[] = {
    { true, "1603010204010002000303d96f4d719b1e01c559f2f1327a4c0c6c48c0c4e40586c2ca475d38407a88c951"
            "20831d0f2d"
            "81c94a78abb179663e5df326e8ef71590e6208abf6aeb7463f26f40400206a6a130113021303c02bc02fc0"
            "2cc030cca9"
            "cca8c013c014009c009d002f0035010001973a3a000000000014001200000f7372632e656261792d75732e"
            "636f6d0017"
            "0000ff01000100000a000a00084a4a001d00170018000b00020100002300d0831eb01e07807027b118a755"
            "bfc76812f9"
            "6eb6901ab1e8db002fa3c6b9186f486d8db714936c9e317f4648b2d00862bdb414247da67e0ae1f31147e9"
            "c795efd7af"
            "482fe013daf4d6e16468dffa2f8220f3b381125062e06e5e7a7a20de2433c34882778ad936251a04a329eb"
            "95bae97383"
            "3b8570889e4d1bdefbc2de21daf84d08f6bb0b63e5727521cf41cafacc6dfb462f7fb4cc7a1a6a0ecf44bc"
            "3c5dfb1d75"
            "b8a5e065af8d8b0921f90b1383f31cd1ea6b2276e76dcc6f88ddf27f5f13ac246418f7178b4539601b06b6"
            "771a906a00"
            "10000e000c02683208687474702f312e31000500050100000000000d001200100403080404010503080505"
            "0108060601"
            "001200000033002b00294a4a000100001d0020ae429dde00fea30b1d21790a1607c3939e2131fffae8244b"
            "b2373bbb43"
            "53ec02002d00020101002b000b0adada0304030303020301001b0003020002fafa0001000015000100" },
    { false, "16030300600200005c0303a88645ddc9627cce796c44084ae34131fd4031a395734c90d38c2b281d690f6"
             "820831d0f2d"
             "81c94a78abb179663e5df326e8ef71590e6208abf6aeb7463f26f404c030000014ff010001000010000b0"
             "00908687474"
             "702f312e311403030001011603030028ef33b33800654a5ef584bea149cb9d357bf40fd344846ed7a842b"
             "8d649350448"
             "66e276138b461ad9" },
    { true, "14030300010116030300280000000000000000dd3cbbe89c790bab2258c8da20337d78ea798a8394b25785"
            "ebb37313b9"
            "6dfb2f" },
    { false, "150303001aef33b33800654a5f75d5e9893b716ec8eae8560abc0a22cfdd78" },
};
/* tls2.pcap, stream 310, first 6 payloads: resumed TLS 1.2 session, client
 * data, server data: complete. */
static const struct real_seg real_tls2_s310[] = {
    { true, "16030100f6010000f20303022f98f3569d4fd143368cab5594dbbc40597e185af596414b3d5af7b780b2f6"
            "207f5baaf8"
            "1744de95011816ced0ddacace639344f06e73ffc967f62f5473df1f1001e130113021303c02bc02fc02cc0"
            "30cca9cca8"
            "c013c014009c009d002f00350100008b00000010000e00000b7777772e616e742e636f6d000a0008000600"
            "1d00170018"
            "000b00020100000d00120010040308040401050308050501080606010010000b000908687474702f312e31"
            "0017000000"
            "2b0009080304030303020301003300260024001d00202859f0740ceebcd08c5b7d9dfb006d01e99c2b6178"
            "0aa4574a61"
            "c41abca67d3cff01000100" },
    { false, "16030300640200006003038e46288872129009d1f69fb20272f96a2be14e3664b588347d13b05f9f8691a"
             "b207f5baaf8"
             "1744de95011816ced0ddacace639344f06e73ffc967f62f5473df1f1c02f000018ff010001000010000b0"
             "00908687474"
             "702f312e31001700001403030001011603030028213616dbc2864f324ecb332387082ee48b5b2e502876f"
             "2d9ce5e7027"
             "604404888a7557456ff1ff3a" },
    { true, "140303000101" },
    { true, "1603030028506f80af31fb3dc4b7624e5b5f862337ae8ba419d376a7279299671f165fe60fee77833fdbf6"
            "be50" },
    { true, "17030301e5506f80af31fb3dc5c8c8ec2388237fa8869c81623f2ec012527ac2d823d02dbb9039da3b4325"
            "64329905cb"
            "5dbbc588a936cc60cfdccc288ac352b9ab924c1b1002560b9e93a1431bb0c6e87b9233429674f9efe78bd8"
            "8b3fc08a4b"
            "7cf1b045c2da1dc4f87954afdc2d14474314f593e281208ea60c1b2e7d5e3217bd864d64fbe3aa7df19b64"
            "975d62a69b"
            "be4e031eda72834da714295611bb0e0b2274f6ae7edd659d64961b54170e8b093ab0c9419e4b978e180546"
            "4dd4b85a78"
            "64cfe431f6dc9c688b8b1c464a0805a9561a603ef0e34b4c702744df28b0cc9e1e19a097e24ae50b4ed819"
            "adbd9b8122"
            "29f10b07948b04b8aa3a969cd6d007c17f5099bded583577c4f5d53203e58738380b07015a63dc72ead044"
            "0c0dc3c8ce"
            "c2bc653872589b6f9e931429872f3725632bfddb691c79964fa2aa1a4a2d71fb7535507b8146d42385e6f4"
            "f517d6a736"
            "3c0d72445add2157b43ba68e9de8a36b26801cf92eeb8578b9ebeda2509163a17f9ea379bdbfcf11a63e5b"
            "4a9b5c9f30"
            "04e7e94d0c26f5518cfad1faff94c9b89dec145d586985728e3eeca5a4010a28fd5e3d26d0d41079280fe3"
            "951c858894"
            "2ee273185b5aca8892646adbb0dce66890c66d97e554f9f404969d0894d1d08c2fe40a59675a92a2f88f03"
            "8bb411b8e2"
            "b82b93d68746b5f6bdfd" },
    { false,
      "1703030297213616dbc2864f33d825d4a1f249f111e8ee0f49c6fba87bcd1da3a8e988e8290c52cf930365beb456"
      "467f"
      "592e37ad890a48144b5722d380ae8d520fc3aebb734c1a57e8300537fec527458777e577d86f36d9b7441abd4e84"
      "ec16"
      "2ca32cc2557bcba3c2c6c4dd3afff07c63c3f1013e45ec26616d1f98779d0919fb024a28d7697dce4638bbff87ef"
      "309a"
      "2ace6bbcf7bcb63e40d2116c50a2430c39e8554613fb05b1ef0a9c448f7b42d4770cabf8f455c4ba058e6d645a05"
      "2b51"
      "e4bde1fa7bd2f01a6d45a1fc374b179969de1c2d55ac88848102e05043a90d8e2b4ccb9a6ce93a326388e28e159b"
      "3930"
      "33d28d438e84f7b256e33652b5cf94a369684d1018be7b25c343080bcfbe9bc1a9d28b9a04846b12c30aa9bb22a5"
      "ef01"
      "abb2f98f0f67bc729f324b4cfe152dcdba93cfd2423405943d95cee93d324fa372f217267a8b3d957c8d8fc84e54"
      "c15e"
      "3752a6772917767cb095447375346b81d26cfece613b514c44759d4cde976075819ca1502544b986d923c791dc30"
      "973e"
      "d3d8ba4b78563c2d70ba2611cb38fcba150e8c42c0210c4c5a3f87bdb3e3ec91ff72581491eb8b220644f1a46099"
      "9ac3"
      "e5878a2ad053a957da2463f19f5f979f380c740cdff303367abf6117d2ee40857e8bbbcb93be7b23a0330aae1032"
      "32d5"
      "537dbddb4f963856b5831a5311c89681933ff7fcd9ecc50dba49a513e85c328de8d2c2d672789e5c80d572f7368b"
      "393d"
      "c8e68418248acf0714196353ed37dbd118324b698707a3f2a31ec3f30f0dd2662dddb9111292485117f8d50aeead"
      "0c34"
      "3483cea5deee31f811864c3067ac62e8bbeb0f549ab72c8ce046abccef665a467d2f0957bd5d39f199a6eba4ad30"
      "8482"
      "f1e50292fc083daba117943f76ad0938d5862bb23e4c809460f8a2a8265495f846ae0c2c2774065bc0a3e0ae" },
};

struct real_conv {
    const char *file; /* in pcaps/real */
    const char *name;
    const struct real_seg *segs;
    int nsegs;
    enum end_event end;
    outcome want;
};

#define REAL(file, segs, end, ch, fatal, failed, completed, desc, state, ret)                      \
    {                                                                                              \
        file, #segs, segs, NSEG(segs), end,                                                        \
        {                                                                                          \
            ch, fatal, failed, completed, desc, state, ret                                         \
        }                                                                                          \
    }

/* Expectations: alert counts and descriptions as tshark decodes them
 * (tls.alert_message.level / .desc); the closes are the FINs in the
 * captures (tls-1.2-handshake-failure: server FIN after the alert;
 * tls2 stream 220: server FIN after its encrypted alert). */
static const struct real_conv reals[] = {
    REAL("tls-1.2-handshake-failure.pcap", real_hs_failure, END_CLOSE_BY_SERVER, 1, 1, 1, 0, 40,
         FL_TLS_FAILED, false),
    REAL("tls_alert.pcap", real_alert_s0, END_CLOSE_BY_SERVER, 1, 1, 1, 0, 70, FL_TLS_FAILED,
         false),
    REAL("tls_alert.pcap", real_alert_s1, END_CLOSE_BY_CLIENT, 0, 0, 0, 0, 0, FL_TLS_NOT_TLS,
         false),
    REAL("tls13draft16-chrome55.0.2879.0-canary-aborted.pcap", real_tls13draft_s0,
         END_CLOSE_BY_CLIENT, 1, 1, 1, 0, 70, FL_TLS_FAILED, false),
    REAL("tls13draft16-chrome55.0.2879.0-canary-aborted.pcap", real_tls13draft_s1,
         END_CLOSE_BY_CLIENT, 1, 1, 1, 0, 70, FL_TLS_FAILED, false),
    REAL("badcurveball.pcap", real_badcurveball, END_CLOSE_BY_CLIENT, 1, 1, 1, 0, 46, FL_TLS_FAILED,
         false),
    REAL("top_100_fingerprints.pcap", real_top100_s34, END_CLOSE_BY_SERVER, 1, 1, 1, 0, 50,
         FL_TLS_FAILED, false),
    REAL("tls2.pcap", real_tls2_s220, END_CLOSE_BY_SERVER, 1, 0, 0, 1, 0, FL_TLS_COMPLETE, false),
    REAL("tls2.pcap", real_tls2_s310, END_NONE, 1, 0, 0, 1, 0, FL_TLS_COMPLETE, false),
};
#define NREALS (int)(sizeof(reals) / sizeof(reals[0]))

/* MANIFEST.tsv tls_alert_fatal for the files embedded whole. */
static const struct {
    const char *file;
    unsigned tls_alert_fatal;
} manifest[] = {
    { "tls-1.2-handshake-failure.pcap", 1 },
    { "tls_alert.pcap", 1 },
    { "tls13draft16-chrome55.0.2879.0-canary-aborted.pcap", 2 },
    { "badcurveball.pcap", 1 },
};

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

#define MAX_REAL_SEGS 8

/* Decode a real conversation into a conv with heap segments; segs holds
 * MAX_REAL_SEGS entries, zeroed by the caller. */
static conv real_to_conv(const struct real_conv *rc, seg *segs)
{
    ck_assert_int_le(rc->nsegs, MAX_REAL_SEGS);
    for (int i = 0; i < rc->nsegs; i++) {
        const char *h = rc->segs[i].hex;
        size_t n = strlen(h) / 2;
        ck_assert_uint_eq(strlen(h) % 2, 0);
        uint8_t *p = malloc(n);
        ck_assert_ptr_nonnull(p);
        for (size_t k = 0; k < n; k++) {
            int hi = hexval(h[2 * k]), lo = hexval(h[2 * k + 1]);
            ck_assert(hi >= 0 && lo >= 0);
            p[k] = (uint8_t)(hi << 4 | lo);
        }
        segs[i].from_client = rc->segs[i].from_client;
        segs[i].p = p;
        segs[i].n = (uint32_t)n;
    }
    conv cv = { rc->name, segs, rc->nsegs, rc->end, rc->want };
    return cv;
}

/* Frees every entry of a zeroed segs[MAX_REAL_SEGS] (unused ones are NULL). */
static void free_conv_segs(seg *segs)
{
    for (int i = 0; i < MAX_REAL_SEGS; i++)
        free((void *)segs[i].p);
}

START_TEST(test_real_conversation)
{
    const struct real_conv *rc = &reals[_i];
    seg segs[MAX_REAL_SEGS] = { 0 };
    ck_assert_int_le(rc->nsegs, MAX_REAL_SEGS);
    conv cv = real_to_conv(rc, segs);

    /* The first client payload passes the engine's cheap check exactly
     * when it is a TLS conversation. */
    ck_assert(fl_tls_looks_like_client_hello(segs[0].p, segs[0].n) ==
              (rc->want.state != FL_TLS_NOT_TLS));

    outcome o = run_whole(&cv);
    expect_outcome(&cv, &o, &cv.want, "one call per packet");
    o = run_bytewise(&cv, UINT32_MAX);
    expect_outcome(&cv, &o, &cv.want, "one byte per call");
    uint32_t total = conv_len(&cv);
    for (uint32_t a = 1; a < total; a++) {
        uint32_t cuts[1] = { a };
        o = run_cuts(&cv, cuts, 1, UINT32_MAX);
        if (!same_outcome(&o, &cv.want)) {
            char how[64];
            snprintf(how, sizeof how, "cut at %u", a);
            expect_outcome(&cv, &o, &cv.want, how);
        }
    }
    /* Three pieces, the cuts 7 bytes apart at most (every cut pair would
     * be millions of runs on the 2.3 kB conversations). */
    for (uint32_t a = 1; a < total; a++) {
        for (uint32_t b = a + 1; b < total && b <= a + 7; b++) {
            uint32_t cuts[2] = { a, b };
            o = run_cuts_how(&cv, cuts, 2, UINT32_MAX, false);
            if (!same_outcome(&o, &cv.want)) {
                char how[64];
                snprintf(how, sizeof how, "cuts at %u and %u", a, b);
                expect_outcome(&cv, &o, &cv.want, how);
            }
        }
    }
    free_conv_segs(segs);
}
END_TEST

/* Every prefix of the real byte streams, on exact copies. */
START_TEST(test_real_prefixes)
{
    const struct real_conv *rc = &reals[_i];
    seg segs[MAX_REAL_SEGS] = { 0 };
    conv cv = real_to_conv(rc, segs);
    uint32_t total = conv_len(&cv);
    unsigned prev_fatal = 0;
    for (uint32_t p = 0; p <= total; p++) {
        outcome o = run_cuts(&cv, NULL, 0, p);
        if (o.fatal_alerts > cv.want.fatal_alerts || o.fatal_alerts < prev_fatal ||
            o.client_hello > 1)
            ck_abort_msg("%s: prefix %u: fatal=%u (before %u) ch=%u", cv.name, p, o.fatal_alerts,
                         prev_fatal, o.client_hello);
        prev_fatal = o.fatal_alerts;
        if (p == total)
            expect_outcome(&cv, &o, &cv.want, "full prefix");
    }
    free_conv_segs(segs);
}
END_TEST

/* Summed over the conversations of each file embedded whole, the fatal
 * alerts are MANIFEST's tls_alert_fatal. */
START_TEST(test_real_manifest_counts)
{
    for (size_t m = 0; m < sizeof manifest / sizeof manifest[0]; m++) {
        unsigned sum = 0;
        int convs_of_file = 0;
        for (int i = 0; i < NREALS; i++) {
            if (strcmp(reals[i].file, manifest[m].file) != 0)
                continue;
            seg segs[MAX_REAL_SEGS] = { 0 };
            conv cv = real_to_conv(&reals[i], segs);
            sum += run_whole(&cv).fatal_alerts;
            free_conv_segs(segs);
            convs_of_file++;
        }
        ck_assert_int_gt(convs_of_file, 0);
        ck_assert_msg(sum == manifest[m].tls_alert_fatal, "%s: %u fatal alerts, MANIFEST %u",
                      manifest[m].file, sum, manifest[m].tls_alert_fatal);
    }
}
END_TEST

/* ------------------------------------------------------------------ */

static Suite *tls_suite(void)
{
    Suite *s = suite_create("tls");
    TCase *rec = tcase_create("records");
    tcase_add_test(rec, test_client_hello_record);
    tcase_add_test(rec, test_client_hello_split_header);
    tcase_add_test(rec, test_server_hello_record);
    tcase_add_test(rec, test_second_client_hello_not_counted);
    tcase_add_test(rec, test_alert_handshake_failure);
    tcase_add_test(rec, test_alert_split_between_level_and_description);
    tcase_add_test(rec, test_several_alerts_in_one_record);
    tcase_add_test(rec, test_encrypted_alert_after_ccs);
    tcase_add_test(rec, test_ccs_is_per_direction);
    tcase_add_test(rec, test_alerts_that_are_not_plaintext_or_not_fatal);
    tcase_add_test(rec, test_app_data_record);
    tcase_add_test(rec, test_empty_app_data_record);
    tcase_add_test(rec, test_server_warning_after_client_data_completes);
    tcase_add_test(rec, test_not_tls);
    tcase_add_test(rec, test_server_speaks_first);
    tcase_add_test(rec, test_server_garbage_abandons);
    tcase_add_test(rec, test_record_length_limit);
    tcase_add_test(rec, test_timeout_rules);
    tcase_add_test(rec, test_close_rules);
    tcase_add_test(rec, test_gap_rules);
    tcase_add_test(rec, test_empty_and_null_input);
    tcase_add_test(rec, test_looks_like_client_hello);
    suite_add_tcase(s, rec);

    TCase *cv = tcase_create("conversations");
    tcase_add_loop_test(cv, test_conv_whole, 0, NCONVS);
    tcase_add_loop_test(cv, test_conv_two_pieces, 0, NCONVS);
    tcase_add_loop_test(cv, test_conv_three_pieces, 0, NCONVS);
    tcase_add_loop_test(cv, test_conv_prefixes, 0, NCONVS);
    suite_add_tcase(s, cv);

    TCase *real = tcase_create("real");
    tcase_add_loop_test(real, test_real_conversation, 0, NREALS);
    tcase_add_loop_test(real, test_real_prefixes, 0, NREALS);
    tcase_add_test(real, test_real_manifest_counts);
    suite_add_tcase(s, real);
    return s;
}

int main(void)
{
    return fl_test_run(tls_suite());
}
