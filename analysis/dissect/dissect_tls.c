/* dissect_tls.c - TLS handshake tracker: a resumable record reader per
 * direction feeding a small handshake state machine (see fl_tls.h).
 *
 * Nothing is buffered. Each direction keeps where it is inside the current
 * record (RFC 5246 6.2.1, RFC 8446 5.1):
 *
 *     struct { ContentType type; ProtocolVersion version; uint16 length;
 *              opaque fragment[length]; } TLSPlaintext;
 *
 * so a record, and even its 5-byte header, may be split at any byte across
 * TCP segments. The only body bytes read are the first byte of a handshake
 * record (the handshake type, RFC 8446 4) and the bytes of alert records
 * (RFC 8446 6: level, description pairs); everything else is skipped by
 * length.
 *
 * Alerts. A record of type alert(21) is read as plaintext only when
 *  - its sender has not sent ChangeCipherSpec after the ServerHello (TLS <=1.2
 *    encrypts everything after CCS, RFC 5246 7.1; a TLS 1.3 client may send a
 *    compatibility CCS right after its ClientHello, RFC 8446 D.4, which
 *    changes nothing, hence "after the ServerHello"),
 *  - its length is a non-zero multiple of 2 (RFC 5246 6.2.1 lets a record
 *    carry several messages of one type, so 4 bytes are two alerts),
 *  - every level byte is warning(1) or fatal(2) (RFC 5246 7.2).
 * The last check needs the whole record, so fatal messages are counted when
 * the record ends. tshark 4.0 reads only records of exactly 2 bytes as
 * plaintext and calls the rest "Encrypted Alert": the two agree on every
 * record a real stack sends (a ciphertext alert carries a MAC or AEAD tag of
 * at least 16 bytes); they differ only on coalesced plaintext alerts, which
 * tshark does not count.
 *
 * Weak spots, admitted:
 *  - A TLS 1.3 alert after the ServerHello is encrypted and looks like
 *    application data (content type 23): unseen. fl_tls.h explains how the
 *    failure is still caught when the server closes.
 *  - After a HelloRetryRequest and the server's compatibility CCS, a server's
 *    plaintext alert would be taken as encrypted (the CCS rule above).
 *  - A handshake that completed but carried no client application data (e.g.
 *    a resumed session left idle) and is then closed by the server is a
 *    failure by the completion rule of fl_tls.h.
 *  - Server bytes that are not TLS records (say an HTTP error page on 443)
 *    end the session without a verdict: framing is gone, and the bytes may be
 *    our reassembly's fault as much as the server's.
 *  - SSLv2-compatible ClientHellos (RFC 5246 E.2, first byte with the high
 *    bit set) are NOT_TLS: no stack in use today sends them.
 */
#include <stddef.h>
#include <string.h>

#include "fl_cursor.h"
#include "fl_tls.h"

/* RFC 5246 6.2.1 / RFC 8446 B.1 content types (and RFC 6520 heartbeat). */
enum {
    CT_CHANGE_CIPHER_SPEC = 20,
    CT_ALERT = 21,
    CT_HANDSHAKE = 22,
    CT_APPLICATION_DATA = 23,
    CT_HEARTBEAT = 24,
    CT_SKIP = 0, /* reader-private: ignore the rest of this record's body */
};

/* RFC 8446 4: HandshakeType. */
enum { HS_CLIENT_HELLO = 1, HS_SERVER_HELLO = 2 };

/* RFC 5246 7.2: AlertLevel. */
enum { ALERT_WARNING = 1, ALERT_FATAL = 2 };

/* RFC 5246 6.2.3: TLSCiphertext.length MUST NOT exceed 2^14 + 2048 (TLS 1.3
 * is stricter, 2^14 + 256). Anything longer means we lost the framing. */
#define TLS_MAX_RECORD_LEN (16384u + 2048u)

#define TLS_HDR_LEN 5u

static void sat_add(uint8_t *v, uint32_t n)
{
    uint32_t sum = (uint32_t)*v + n;
    *v = sum > 255u ? 255u : (uint8_t)sum;
}

/* Header byte i of a record, judged with bytes 0..i already in hdr[].
 * Version: SSL 3.0 (0x0300) to TLS 1.3 (0x0304); TLS 1.3 records carry
 * 0x0301 or 0x0303 (RFC 8446 5.1). A zero-length handshake, alert or CCS
 * record is forbidden (RFC 8446 5.1, RFC 5246 6.2.1); application data may
 * be empty. */
static bool hdr_byte_ok(const uint8_t *hdr, uint32_t i)
{
    switch (i) {
    case 0:
        return hdr[0] >= CT_CHANGE_CIPHER_SPEC && hdr[0] <= CT_HEARTBEAT;
    case 1:
        return hdr[1] == 3;
    case 2:
        return hdr[2] <= 4;
    case 4: {
        uint32_t len = ((uint32_t)hdr[3] << 8) | hdr[4];
        if (len > TLS_MAX_RECORD_LEN)
            return false;
        return len > 0 || hdr[0] == CT_APPLICATION_DATA || hdr[0] == CT_HEARTBEAT;
    }
    default:
        return true;
    }
}

/* Bits of fl_tls_session.client_appdata. */
#define TLS_CLIENT_APPDATA 1u
#define TLS_SERVER_FINISHED 2u
#define TLS_SERVER_APPDATA 4u /* the server's TLS 1.3 encrypted flight */

/* A TLS 1.3 encrypted alert: 2 bytes + inner type + 16-byte AEAD tag. */
#define TLS13_ENC_ALERT_LEN 19u

static uint32_t record_len(const fl_tls_reader *r)
{
    return ((uint32_t)r->hdr[3] << 8) | r->hdr[4];
}

/* Record framing is gone: before any ClientHello this is not TLS at all;
 * later the outcome can no longer be known. */
static void lose_framing(fl_tls_session *s)
{
    s->state = s->state == FL_TLS_UNKNOWN ? FL_TLS_NOT_TLS : FL_TLS_ABANDONED;
}

static void complete(fl_tls_session *s, fl_tls_facts *f)
{
    s->state = FL_TLS_COMPLETE;
    f->completed = 1;
}

/* A full record header arrived. */
static void record_start(fl_tls_session *s, fl_tls_reader *r, bool from_client, fl_tls_facts *f)
{
    uint32_t len = record_len(r);
    r->ctype = r->hdr[0];
    r->rec_left = (uint16_t)len;
    r->body_seen = 0;
    r->first[0] = r->first[1] = 0;
    r->fatal = 0;

    if (r->ctype == CT_CHANGE_CIPHER_SPEC && s->state == FL_TLS_SERVER_HELLO)
        r->ccs = 1;

    if (from_client) {
        /* The completion rule of fl_tls.h: the client's application data
         * after the ServerHello (TLS 1.3 Finished, or TLS 1.2 data). Early
         * data (0-RTT) before the ServerHello does not count. */
        if (r->ctype == CT_APPLICATION_DATA && s->state == FL_TLS_SERVER_HELLO) {
            s->client_appdata |= TLS_CLIENT_APPDATA;
            /* TLS 1.3 (RFC 8446 2, 4.4.4): the server's flight after its
             * ServerHello is encrypted (type 23); the client's first
             * encrypted record after it is its Finished, and the handshake
             * is complete: a server RST from here on is a reset of an
             * established session, not a handshake failure. A body of 19
             * bytes is an encrypted alert (2 + inner type + 16-byte tag,
             * RFC 8446 5.2): a client rejecting the certificate, not a
             * Finished (32 or 48 bytes of verify_data + 4 + 17). TLS 1.2
             * servers send no application data before their Finished, so
             * this never fires there (False Start included, RFC 7918). */
            if ((s->client_appdata & TLS_SERVER_APPDATA) && len != TLS13_ENC_ALERT_LEN) {
                complete(s, f);
                return;
            }
        }
    } else if (r->ctype == CT_APPLICATION_DATA && s->state == FL_TLS_SERVER_HELLO &&
               !(s->client_appdata & TLS_CLIENT_APPDATA)) {
        s->client_appdata |= TLS_SERVER_APPDATA;
    } else if (s->state == FL_TLS_SERVER_HELLO && (s->client_appdata & TLS_CLIENT_APPDATA) &&
               r->ctype != CT_ALERT) {
        /* ... and the server sent a record after that. An alert record is
         * judged when it ends: a plaintext fatal alert is a failure. */
        complete(s, f);
        return;
    }

    /* TLS 1.2 (full or resumed): both sides sent ChangeCipherSpec and the
     * server's encrypted Finished (a handshake record after its CCS) came:
     * the handshake is done even if no application data ever flows (an idle
     * pre-connected socket the server later closes is not a failure). TLS
     * 1.3 never sends a handshake record after CCS (it is type 23), so this
     * does not fire there. */
    if (!from_client && r->ctype == CT_HANDSHAKE && r->ccs && s->state == FL_TLS_SERVER_HELLO)
        s->client_appdata |= TLS_SERVER_FINISHED;
    if (s->state == FL_TLS_SERVER_HELLO && (s->client_appdata & TLS_SERVER_FINISHED) &&
        s->dir[0].ccs) {
        complete(s, f);
        return;
    }

    /* Alerts that cannot be plaintext: skip their bodies unread. */
    if (r->ctype == CT_ALERT && (r->ccs || (len & 1u) != 0))
        r->ctype = CT_SKIP;
}

/* The current record ended (its last body byte was consumed, or it is an
 * empty application-data record). */
static void record_end(fl_tls_session *s, fl_tls_reader *r, bool from_client, fl_tls_facts *f)
{
    sat_add(&r->records, 1);
    r->hdr_have = 0;
    if (r->hdr[0] != CT_ALERT)
        return;
    if (r->ctype == CT_ALERT && r->fatal > 0) {
        /* A plaintext record with fatal alerts (RFC 5246 7.2: the
         * connection ends). */
        sat_add(&f->fatal_alerts, r->fatal);
        f->alert_desc = r->first[1];
        if (fl_tls_in_handshake(s)) {
            s->state = FL_TLS_FAILED;
            f->failed = 1;
        }
        return;
    }
    if (!from_client && s->state == FL_TLS_SERVER_HELLO && (s->client_appdata & TLS_CLIENT_APPDATA))
        complete(s, f);
}

/* The first body byte of a handshake record: the type of the first
 * handshake message in it (RFC 8446 4). Only two matter: the client's first
 * record must be a ClientHello, and the server's answer is a ServerHello (a
 * TLS 1.3 HelloRetryRequest is a ServerHello too, RFC 8446 4.1.3). Later
 * records may begin with encrypted bytes or a continuation, and are not
 * read. */
static void handshake_type(fl_tls_session *s, bool from_client, uint8_t type, fl_tls_facts *f)
{
    if (from_client) {
        if (s->state != FL_TLS_UNKNOWN)
            return;
        if (type == HS_CLIENT_HELLO) {
            s->state = FL_TLS_CLIENT_HELLO;
            f->client_hello = 1;
        } else {
            s->state = FL_TLS_NOT_TLS;
        }
    } else if (s->state == FL_TLS_CLIENT_HELLO && type == HS_SERVER_HELLO) {
        s->state = FL_TLS_SERVER_HELLO;
    }
}

/* One body byte of a (so far plausibly plaintext) alert record at offset
 * off: level at even offsets, description at odd ones. */
static void alert_byte(fl_tls_reader *r, uint32_t off, uint8_t b)
{
    if ((off & 1u) == 0) {
        if (b != ALERT_WARNING && b != ALERT_FATAL)
            r->ctype = CT_SKIP; /* not plaintext after all */
        else
            r->first[0] = b;
    } else if (r->first[0] == ALERT_FATAL) {
        sat_add(&r->fatal, 1);
        r->first[1] = b;
    }
}

/* Consume body bytes of the current record from c. */
static void record_body(fl_tls_session *s, fl_tls_reader *r, bool from_client, fl_cursor *c,
                        fl_tls_facts *f)
{
    uint32_t off = record_len(r) - r->rec_left;
    uint32_t n = fl_cur_left(c);
    if (n > r->rec_left)
        n = r->rec_left;

    if (r->ctype == CT_HANDSHAKE && off == 0) {
        handshake_type(s, from_client, fl_cur_u8(c), f);
        n = 1;
    } else if (r->ctype == CT_ALERT) {
        alert_byte(r, off, fl_cur_u8(c));
        n = 1;
    } else {
        fl_cur_skip(c, n);
    }
    r->rec_left = (uint16_t)(r->rec_left - n);
    sat_add(&r->body_seen, n);
}

void fl_tls_feed(fl_tls_session *s, bool from_client, const uint8_t *data, uint32_t len,
                 fl_tls_facts *facts)
{
    if (facts)
        memset(facts, 0, sizeof *facts);
    if (!s || !facts || !fl_tls_wants_bytes(s))
        return;
    fl_cursor c = fl_cursor_make(data, len);
    if (fl_cur_left(&c) == 0)
        return;
    /* The client speaks first in TLS (RFC 8446 2): server bytes before a
     * ClientHello mean this is some other protocol. */
    if (!from_client && s->state == FL_TLS_UNKNOWN) {
        s->state = FL_TLS_NOT_TLS;
        return;
    }

    fl_tls_reader *r = &s->dir[from_client ? 0 : 1];
    while (fl_cur_left(&c) > 0 && fl_tls_wants_bytes(s)) {
        if (r->hdr_have < TLS_HDR_LEN) {
            uint32_t i = r->hdr_have;
            r->hdr[i] = fl_cur_u8(&c);
            r->hdr_have++;
            bool ok = hdr_byte_ok(r->hdr, i);
            /* The client's first record must be a handshake record. */
            if (i == 0 && s->state == FL_TLS_UNKNOWN && r->hdr[0] != CT_HANDSHAKE)
                ok = false;
            if (!ok) {
                lose_framing(s);
                break;
            }
            if (r->hdr_have < TLS_HDR_LEN)
                continue;
            record_start(s, r, from_client, facts);
        } else {
            record_body(s, r, from_client, &c, facts);
        }
        if (fl_tls_wants_bytes(s) && r->hdr_have == TLS_HDR_LEN && r->rec_left == 0)
            record_end(s, r, from_client, facts);
    }
}

bool fl_tls_on_close(fl_tls_session *s, bool by_server)
{
    if (!s || !fl_tls_wants_bytes(s))
        return false;
    if (by_server && fl_tls_in_handshake(s)) {
        s->state = FL_TLS_FAILED;
        return true;
    }
    s->state = FL_TLS_ABANDONED;
    return false;
}

bool fl_tls_on_timeout(fl_tls_session *s)
{
    /* Only "no server reply at all" is a timeout failure; a handshake past
     * the ServerHello is left to the close rules. */
    if (!s || s->state != FL_TLS_CLIENT_HELLO)
        return false;
    s->state = FL_TLS_FAILED;
    return true;
}

void fl_tls_on_gap(fl_tls_session *s)
{
    if (s && fl_tls_wants_bytes(s))
        s->state = FL_TLS_ABANDONED;
}

bool fl_tls_looks_like_client_hello(const uint8_t *data, uint32_t len)
{
    /* The same judgement fl_tls_feed() makes on the client's first bytes,
     * on as many of the first 6 as there are (at least 3). */
    fl_cursor c = fl_cursor_make(data, len);
    uint8_t hdr[TLS_HDR_LEN] = { 0 };
    if (fl_cur_left(&c) < 3)
        return false;
    uint32_t n = fl_cur_left(&c) < TLS_HDR_LEN ? fl_cur_left(&c) : TLS_HDR_LEN;
    for (uint32_t i = 0; i < n; i++) {
        hdr[i] = fl_cur_u8(&c);
        if (!hdr_byte_ok(hdr, i))
            return false;
    }
    if (hdr[0] != CT_HANDSHAKE)
        return false;
    if (fl_cur_has(&c, 1) && fl_cur_u8(&c) != HS_CLIENT_HELLO)
        return false;
    return true;
}
