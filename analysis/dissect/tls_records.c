/* tls_records.c - TLS record walker and request/response inference
 * (fl_tls_records.h).
 *
 * Per direction only the 5-byte record header is read (RFC 8446 5.1):
 *
 *     struct { ContentType opaque_type = 23; ProtocolVersion = 0x0303;
 *              uint16 length; opaque encrypted_record[length]; }
 *
 * and the body is skipped by length, so the walker keeps where it is inside
 * the current record (a header may be split at any byte across segments).
 * Header bytes are judged as they come, as the handshake tracker does: a
 * byte that cannot start a record means the framing is lost.
 */
#include <string.h>

#include "fl_cursor.h"
#include "fl_tls_records.h"

enum { CT_CCS = 20, CT_ALERT = 21, CT_HANDSHAKE = 22, CT_APPDATA = 23, CT_HEARTBEAT = 24 };

#define HDR_LEN 5u
/* RFC 5246 6.2.3: 2^14 + 2048 at most; beyond it the framing is gone. */
#define MAX_RECORD_LEN (16384u + 2048u)
/* RFC 8446 5.2: an encrypted alert is 2 bytes + inner type + 16-byte tag. */
#define ENC_ALERT_LEN 19u

/* fl_tls_walk.flags */
enum {
    WF_SRV_APPDATA = 1u << 0,  /* server type-23 before any client one: TLS 1.3 */
    WF_CLI_APPDATA = 1u << 1,  /* the client sent type 23 */
    WF_TLS13 = 1u << 2,        /* the client's Finished was skipped */
    WF_STALLED = 1u << 3,      /* this request's stall was reported */
    WF_ANSWERED = 1u << 4,     /* the server sent data since the request */
    WF_TICKETS_DONE = 1u << 5, /* TLS 1.3 tickets are behind us */
};

void fl_tlsrec_init(fl_tls_walk *w)
{
    if (w)
        memset(w, 0, sizeof *w);
}

static bool hdr_byte_ok(const uint8_t *hdr, uint32_t i)
{
    switch (i) {
    case 0:
        return hdr[0] >= CT_CCS && hdr[0] <= CT_HEARTBEAT;
    case 1:
        return hdr[1] == 3;
    case 2:
        return hdr[2] <= 4;
    case 4:
        return (((uint32_t)hdr[3] << 8) | hdr[4]) <= MAX_RECORD_LEN;
    default:
        return true;
    }
}

static void clear_facts(fl_tlsrec_facts *f)
{
    memset(f, 0, sizeof *f);
}

void fl_tlsrec_add_response(fl_tlsrec_facts *f, uint32_t bytes, uint32_t ttfb_us, uint64_t first_us,
                            uint16_t seq)
{
    fl_tlsrec_resp *r;
    if (f->response < FL_TLSREC_MAX_RESP) {
        r = &f->resp[f->response++];
        r->bytes = 0;
        r->ttfb_us = ttfb_us;
        r->first_us = first_us;
    } else {
        r = &f->resp[FL_TLSREC_MAX_RESP - 1];
    }
    r->bytes = r->bytes > UINT32_MAX - bytes ? UINT32_MAX : r->bytes + bytes;
    r->seq = seq;
}

/* The response under way (if any) ended; next_phase: IDLE, or REQUEST
 * when more responses to the same request burst may follow. */
static void end_response(fl_tls_walk *w, fl_tlsrec_facts *f, uint8_t next_phase)
{
    if (w->phase == FL_TLSREC_RESPONSE) {
        if (w->responses < UINT16_MAX)
            w->responses++;
        fl_tlsrec_add_response(f, w->resp_bytes, w->ttfb_us, w->req_us + w->ttfb_us, w->responses);
        w->resp_bytes = 0;
    }
    w->phase = next_phase;
}

static void start_request(fl_tls_walk *w, uint64_t now_us, fl_tlsrec_facts *f)
{
    end_response(w, f, FL_TLSREC_REQUEST);
    w->req_us = now_us;
    w->resp_bytes = 0;
    w->ttfb_us = 0;
    w->flags &= (uint8_t) ~(WF_STALLED | WF_ANSWERED);
    if (w->requests < UINT16_MAX)
        w->requests++;
    f->request = 1;
    f->first_request = w->requests == 1;
}

static void client_record(fl_tls_walk *w, uint8_t type, uint32_t len, uint64_t now_us,
                          fl_tlsrec_facts *f)
{
    if (type != CT_APPDATA)
        return;
    if (!(w->flags & WF_CLI_APPDATA)) {
        w->flags |= WF_CLI_APPDATA;
        w->state = FL_TLSREC_OPEN;
        if (w->flags & WF_SRV_APPDATA) {
            /* TLS 1.3: the client's Finished (or its encrypted alert). */
            w->flags |= WF_TLS13;
            return;
        }
    }
    if (len <= FL_TLSREC_CONTROL_MAX)
        return; /* control frames, alerts: no request */
    if (w->phase != FL_TLSREC_REQUEST || (w->flags & WF_ANSWERED))
        start_request(w, now_us, f);
}

static void piece(fl_tls_walk *w, uint32_t len, uint64_t now_us, fl_tlsrec_facts *f);

/* A record held as a possible ticket was not one: it is a response's. */
static void flush_held(fl_tls_walk *w, fl_tlsrec_facts *f)
{
    uint32_t len = w->held_len;
    w->held_len = 0;
    w->flags |= WF_TICKETS_DONE;
    if (len)
        piece(w, len, w->held_us, f);
}

static void server_record(fl_tls_walk *w, uint8_t type, uint32_t len, uint64_t now_us,
                          fl_tlsrec_facts *f)
{
    if (type != CT_APPDATA)
        return;
    if (!(w->flags & WF_CLI_APPDATA)) {
        /* Before the client's first encrypted record: the server's TLS 1.3
         * handshake flight (EncryptedExtensions .. Finished). */
        w->flags |= WF_SRV_APPDATA;
        return;
    }
    if ((w->flags & WF_TLS13) && len == ENC_ALERT_LEN) {
        f->server_alert = 1;
        return;
    }
    if (len <= FL_TLSREC_CONTROL_MAX)
        return;
    if (w->phase == FL_TLSREC_IDLE)
        return; /* tickets, push or streaming with no request: not a response */
    w->flags |= WF_ANSWERED;
    if ((w->flags & (WF_TLS13 | WF_TICKETS_DONE)) == WF_TLS13 && w->responses == 0) {
        /* TLS 1.3 servers send NewSessionTickets (RFC 8446 4.6.1) right
         * after the client's Finished, OpenSSL two of one size: hold the
         * first short record; an equal one next means both were tickets. */
        if (!w->held_len && len < FL_TLSREC_FULL_BODY) {
            w->held_len = (uint16_t)len;
            w->held_us = now_us;
            return;
        }
        w->flags |= WF_TICKETS_DONE;
        if (w->held_len == len) {
            w->held_len = 0;
            return;
        }
        flush_held(w, f);
    }
    piece(w, len, now_us, f);
}

/* One server record of a response. */
static void piece(fl_tls_walk *w, uint32_t len, uint64_t now_us, fl_tlsrec_facts *f)
{
    w->server_us = now_us;
    if (w->phase == FL_TLSREC_REQUEST) {
        uint64_t t = now_us > w->req_us ? now_us - w->req_us : 0;
        w->ttfb_us = t > UINT32_MAX ? UINT32_MAX : (uint32_t)t;
        w->phase = FL_TLSREC_RESPONSE;
    }
    uint32_t add = len - FL_TLSREC_OVERHEAD;
    w->resp_bytes = w->resp_bytes > UINT32_MAX - add ? UINT32_MAX : w->resp_bytes + add;
    /* A short record ends the response, except in a bulk one: a server
     * writing a big body flushes it in chunks (nginx 32 kB at a time, each
     * chunk's tail a short record), which must not cut it into pieces of
     * one size on every site (a false "mode"). A response past
     * FL_TLSREC_BULK_BYTES ends at the next request, a close or silence. */
    if (len < FL_TLSREC_FULL_BODY && w->resp_bytes < FL_TLSREC_BULK_BYTES + add)
        end_response(w, f, FL_TLSREC_REQUEST);
}

static void lose_step(fl_tls_walk *w, fl_tlsrec_facts *f)
{
    if (w->state <= FL_TLSREC_OPEN) {
        w->state = FL_TLSREC_OUT_OF_STEP;
        f->out_of_step = 1;
    }
    w->phase = FL_TLSREC_IDLE;
}

void fl_tlsrec_feed(fl_tls_walk *w, bool from_client, const uint8_t *data, uint32_t len,
                    uint64_t now_us, fl_tlsrec_facts *f)
{
    if (!f)
        return;
    clear_facts(f);
    if (!w || !fl_tlsrec_wants_bytes(w))
        return;
    fl_tlsrec_dir *d = &w->dir[from_client ? 0 : 1];
    fl_cursor c = fl_cursor_make(data, len);
    while (fl_cur_left(&c) > 0) {
        if (d->hdr_have < HDR_LEN) {
            uint32_t i = d->hdr_have;
            d->hdr[i] = fl_cur_u8(&c);
            d->hdr_have++;
            if (!hdr_byte_ok(d->hdr, i)) {
                lose_step(w, f);
                return;
            }
            if (d->hdr_have < HDR_LEN)
                continue;
            uint32_t rl = ((uint32_t)d->hdr[3] << 8) | d->hdr[4];
            d->rec_left = (uint16_t)rl;
            if (from_client)
                client_record(w, d->hdr[0], rl, now_us, f);
            else
                server_record(w, d->hdr[0], rl, now_us, f);
        } else {
            uint32_t n = fl_cur_left(&c) < d->rec_left ? fl_cur_left(&c) : d->rec_left;
            fl_cur_skip(&c, n);
            d->rec_left = (uint16_t)(d->rec_left - n);
        }
        if (d->rec_left == 0 && d->hdr_have == HDR_LEN)
            d->hdr_have = 0;
    }
}

void fl_tlsrec_on_gap(fl_tls_walk *w, fl_tlsrec_facts *f)
{
    if (!f)
        return;
    clear_facts(f);
    if (w)
        lose_step(w, f);
}

void fl_tlsrec_on_close(fl_tls_walk *w, bool by_server, uint64_t now_us, fl_tlsrec_facts *f)
{
    if (!f)
        return;
    clear_facts(f);
    if (!w || w->state == FL_TLSREC_CLOSED)
        return;
    uint64_t since = now_us > w->req_us ? now_us - w->req_us : 0;
    if (w->state == FL_TLSREC_OPEN && by_server && w->phase != FL_TLSREC_IDLE &&
        !(w->flags & WF_ANSWERED) && since <= FL_TLSREC_EARLY_US &&
        w->resp_bytes <= FL_TLSREC_EARLY_BYTES)
        f->early_close = 1;
    if (w->state == FL_TLSREC_OPEN) {
        flush_held(w, f);
        end_response(w, f, FL_TLSREC_IDLE);
    }
    w->state = FL_TLSREC_CLOSED;
    w->phase = FL_TLSREC_IDLE;
}

void fl_tlsrec_tick(fl_tls_walk *w, uint64_t now_us, fl_tlsrec_facts *f)
{
    if (!f)
        return;
    clear_facts(f);
    if (!w || w->state != FL_TLSREC_OPEN)
        return;
    if (w->held_len && now_us >= w->held_us + FL_TLSREC_QUIET_US)
        flush_held(w, f);
    if (w->phase == FL_TLSREC_RESPONSE && now_us >= w->server_us + FL_TLSREC_QUIET_US)
        end_response(w, f, FL_TLSREC_IDLE);
    else if (w->phase == FL_TLSREC_REQUEST && !(w->flags & (WF_STALLED | WF_ANSWERED)) &&
             now_us >= w->req_us + FL_TLSREC_STALL_US) {
        w->flags |= WF_STALLED;
        f->stall = 1;
    }
}

bool fl_tlsrec_pending(const fl_tls_walk *w)
{
    if (!w || w->state != FL_TLSREC_OPEN)
        return false;
    if (w->phase == FL_TLSREC_RESPONSE || w->held_len)
        return true;
    return w->phase == FL_TLSREC_REQUEST && !(w->flags & (WF_ANSWERED | WF_STALLED));
}
