/* quic_app.c - requests and responses inside QUIC by packet size and
 * direction (fl_quic_app.h). Bytes are read through fl_cursor.h, long
 * headers with the Initial reader's helpers (fl_quic.h); nothing is
 * decrypted or buffered. */
#include "fl_quic_app.h"

#include <string.h>

#include "fl_quic.h"

void fl_quic_app_init(fl_quic_app *a)
{
    memset(a, 0, sizeof *a);
    a->cid_len[0] = a->cid_len[1] = FL_QUIC_APP_CID_GUESS;
}

static void clear_facts(fl_tlsrec_facts *f)
{
    memset(f, 0, sizeof *f);
}

static void end_response(fl_quic_app *a, fl_tlsrec_facts *f, uint8_t next_phase)
{
    if (a->phase == FL_TLSREC_RESPONSE) {
        if (a->responses < UINT16_MAX)
            a->responses++;
        fl_tlsrec_add_response(f, a->resp_bytes, a->ttfb_us, a->req_us + a->ttfb_us, a->responses);
        a->resp_bytes = 0;
    }
    a->phase = next_phase;
}

static void client_data(fl_quic_app *a, uint32_t plain, uint64_t now_us, fl_tlsrec_facts *f)
{
    if (plain <= FL_QUIC_APP_REQUEST_MIN)
        return; /* control */
    /* A held datagram never confirmed by a second one is taken for a
     * probe (ngtcp2 probes while a request waits; a probe counted as a
     * response would be one size for every site of a server, a mode of
     * its own). */
    a->probe_len = a->probe_plain = 0;
    if (a->phase == FL_TLSREC_REQUEST)
        return; /* more of the request under way */
    end_response(a, f, FL_TLSREC_REQUEST);
    a->req_us = now_us;
    a->resp_bytes = 0;
    a->ttfb_us = 0;
    if (a->requests < UINT16_MAX)
        a->requests++;
    f->request = 1;
    f->first_request = a->requests == 1;
}

static void server_data(fl_quic_app *a, uint32_t plain, uint32_t dgram, uint64_t now_us,
                        fl_tlsrec_facts *f)
{
    if (plain <= FL_QUIC_APP_CONTROL_MAX || a->phase == FL_TLSREC_IDLE)
        return; /* control, or data nobody asked for (post-handshake frames, pushes) */
    a->server_us = now_us;
    if (a->phase == FL_TLSREC_REQUEST) {
        uint64_t t = now_us > a->req_us ? now_us - a->req_us : 0;
        a->ttfb_us = t > UINT32_MAX ? UINT32_MAX : (uint32_t)t;
        a->phase = FL_TLSREC_RESPONSE;
        a->resp_max = 0;
    }
    /* shorter than the response's full datagrams so far: its last */
    bool ends = a->resp_bytes && dgram + FL_QUIC_APP_SHORT_SLACK < a->resp_max;
    if (dgram > a->resp_max)
        a->resp_max = dgram > UINT16_MAX ? UINT16_MAX : (uint16_t)dgram;
    a->resp_bytes = a->resp_bytes > UINT32_MAX - plain ? UINT32_MAX : a->resp_bytes + plain;
    if (ends)
        end_response(a, f, FL_TLSREC_IDLE);
}

/* Bytes of a protected packet that are plaintext: total minus the header
 * before the packet number, the packet number and the tag. */
static uint32_t plaintext(uint32_t total, uint32_t header)
{
    uint32_t over = header + FL_QUIC_APP_PN_LEN + FL_QUIC_APP_TAG;
    return total > over ? total - over : 0;
}

void fl_quic_app_feed(fl_quic_app *a, bool from_client, const uint8_t *d, uint32_t len,
                      uint64_t now_us, fl_tlsrec_facts *f)
{
    if (!f)
        return;
    clear_facts(f);
    if (!a || !d || !len)
        return;
    uint32_t plain = 0;
    bool short_header = false;
    fl_cursor c = fl_cursor_make(d, len);
    while (fl_cur_left(&c)) {
        uint32_t start = c.off;
        uint8_t first = fl_cur_u8(&c);
        if (!(first & 0x80)) {
            /* RFC 9000 17.3: a short header runs to the datagram's end.
             * Its fixed bit may be 0 (greased, RFC 9287): not checked. */
            plain += plaintext(len - start, 1u + a->cid_len[from_client ? 0 : 1]);
            short_header = true;
            break;
        }
        /* long header: first byte, version, DCID, SCID (RFC 9000 17.2) */
        uint32_t version = fl_cur_be32(&c);
        uint8_t dcid = fl_cur_u8(&c);
        fl_cur_skip(&c, dcid);
        uint8_t scid = fl_cur_u8(&c);
        fl_cur_skip(&c, scid);
        if (c.bad || !version || dcid > FL_QUIC_CID_MAX || scid > FL_QUIC_CID_MAX)
            break; /* cut, or Version Negotiation */
        /* the peer puts this sender's source ID in its short headers */
        a->cid_len[from_client ? 1 : 0] = scid;
        int type = fl_quic_long_type(version, first);
        if (fl_quic_version_class(version) != FL_QV_TLS || type == FL_QT_RETRY)
            break; /* a Retry runs to the end; another version says nothing */
        if (type == FL_QT_INITIAL) {
            uint64_t token = fl_quic_varint(&c);
            if (c.bad || token > fl_cur_left(&c))
                break;
            fl_cur_skip(&c, (uint32_t)token);
        }
        uint64_t length = fl_quic_varint(&c);
        if (c.bad || length > fl_cur_left(&c))
            break;
        if (type == FL_QT_0RTT && from_client)
            plain += plaintext((uint32_t)length, 0);
        fl_cur_skip(&c, (uint32_t)length);
    }
    /* A 1-RTT datagram larger than its side's largest so far by more than
     * the slack: a path MTU probe (PING and PADDING), or the server's data
     * in larger datagrams from now on (held until its next datagram). A
     * probe searches above the 1200 bytes every path carries (RFC 9000
     * 14, RFC 8899 5.1): nothing up to that is one, whatever came before
     * (an endpoint that did not pad its Initials). */
    uint16_t *full = &a->full[from_client ? 0 : 1];
    bool larger = short_header && *full && len > *full + FL_QUIC_APP_SHORT_SLACK &&
                  len > FL_QUIC_APP_PROBE_MIN;
    if (len > *full)
        *full = len > UINT16_MAX ? UINT16_MAX : (uint16_t)len;
    if (from_client) {
        client_data(a, larger ? 0 : plain, now_us, f);
        return;
    }
    if (a->probe_len && short_header && len + FL_QUIC_APP_SHORT_SLACK >= a->probe_len)
        server_data(a, a->probe_plain, a->probe_len, a->probe_us, f); /* it was data */
    a->probe_len = a->probe_plain = 0;
    if (larger) {
        a->probe_len = (uint16_t)len;
        a->probe_us = now_us;
        a->probe_plain = plain > UINT16_MAX ? UINT16_MAX : (uint16_t)plain;
        return;
    }
    server_data(a, plain, len, now_us, f);
}

void fl_quic_app_tick(fl_quic_app *a, uint64_t now_us, fl_tlsrec_facts *f)
{
    if (!f)
        return;
    clear_facts(f);
    if (!a)
        return;
    if (a->probe_len && now_us >= a->probe_us + FL_TLSREC_QUIET_US)
        a->probe_len = a->probe_plain = 0; /* never confirmed: a probe */
    if (a->phase == FL_TLSREC_RESPONSE && now_us >= a->server_us + FL_TLSREC_QUIET_US) {
        end_response(a, f, FL_TLSREC_IDLE);
        a->probe_len = a->probe_plain = 0;
    }
}

bool fl_quic_app_pending(const fl_quic_app *a)
{
    return a && (a->phase == FL_TLSREC_RESPONSE || a->probe_len);
}
