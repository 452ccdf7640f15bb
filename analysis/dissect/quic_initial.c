/* quic_initial.c - QUIC Initial packets read passively: versions, Initial
 * keys, header protection, AEAD, frames, the ClientHello (see fl_quic.h).
 *
 * Every byte of the datagram is read through fl_cursor; the decrypted
 * payload (a stack copy) is read the same way.
 */
#include <stdlib.h>
#include <string.h>

#include "fl_cursor.h"
#include "fl_quic.h"

/* ------------------------------------------------------------------ */
/* versions and salts                                                  */

/* RFC 9001 5.2 */
static const uint8_t salt_v1[20] = { 0x38, 0x76, 0x2c, 0xf7, 0xf5, 0x59, 0x34, 0xb3, 0x4d, 0x17,
                                     0x9a, 0xe6, 0xa4, 0xc8, 0x0c, 0xad, 0xcc, 0xbb, 0x7f, 0x0a };
/* RFC 9369 3.3.1 */
static const uint8_t salt_v2[20] = { 0x0d, 0xed, 0xe3, 0xde, 0xf7, 0x00, 0xa6, 0xdb, 0x81, 0x93,
                                     0x81, 0xbe, 0x6e, 0x26, 0x9d, 0xcb, 0xf9, 0xbd, 0x2e, 0xd9 };
/* draft-ietf-quic-tls-22 5.2 (mvfst 0xfaceb001 too) */
static const uint8_t salt_d22[20] = { 0x7f, 0xbc, 0xdb, 0x0e, 0x7c, 0x66, 0xbb, 0xe9, 0x19, 0x3a,
                                      0x96, 0xcd, 0x21, 0x51, 0x9e, 0xbd, 0x7a, 0x02, 0x64, 0x4a };
/* draft-ietf-quic-tls-23 .. -28 (mvfst 0xfaceb002, 0xfaceb00e) */
static const uint8_t salt_d23[20] = { 0xc3, 0xee, 0xf7, 0x12, 0xc7, 0x2e, 0xbb, 0x5a, 0x11, 0xa7,
                                      0xd2, 0x43, 0x2b, 0xb4, 0x63, 0x65, 0xbe, 0xf9, 0xf5, 0x02 };
/* draft-ietf-quic-tls-29 .. -32 */
static const uint8_t salt_d29[20] = { 0xaf, 0xbf, 0xec, 0x28, 0x99, 0x93, 0xd2, 0x4c, 0x9e, 0x97,
                                      0x86, 0xf1, 0x9c, 0x61, 0x11, 0xe0, 0x43, 0x90, 0xa8, 0x99 };
/* Google T050 and T051 (Chromium's quic_crypto_utils) */
static const uint8_t salt_t50[20] = { 0x7f, 0xf5, 0x79, 0xe5, 0xac, 0xd0, 0x72, 0x91, 0x55, 0x80,
                                      0x30, 0x4c, 0x43, 0xa2, 0x36, 0x7c, 0x60, 0x48, 0x83, 0x10 };
static const uint8_t salt_t51[20] = { 0x7a, 0x4e, 0xde, 0xf4, 0xe7, 0xcc, 0xee, 0x5f, 0xa4, 0x50,
                                      0x6c, 0x19, 0x12, 0x4f, 0xc8, 0xcc, 0xda, 0x6e, 0x03, 0x3d };

fl_quic_vclass fl_quic_version_class(uint32_t v)
{
    if (v == FL_QUIC_V1 || v == FL_QUIC_V2)
        return FL_QV_TLS;
    if ((v & 0xffffff00u) == 0xff000000u) /* IETF drafts */
        return (v & 0xff) >= 22 && (v & 0xff) <= 34 ? FL_QV_TLS : FL_QV_UNKNOWN;
    if (v == 0xfaceb001u || v == 0xfaceb002u || v == 0xfaceb00eu) /* mvfst */
        return FL_QV_TLS;
    if (v == 0x54303530u || v == 0x54303531u) /* T050, T051: TLS in QUIC */
        return FL_QV_TLS;
    if ((v & 0xffffff00u) == 0x51303500u) /* Q05x: IETF long header, QUIC crypto */
        return FL_QV_GQUIC;
    if ((v & 0x0f0f0f0fu) == 0x0a0a0a0au)
        return FL_QV_GREASE;
    return FL_QV_UNKNOWN;
}

static const uint8_t *version_salt(uint32_t v)
{
    if (v == FL_QUIC_V1)
        return salt_v1;
    if (v == FL_QUIC_V2)
        return salt_v2;
    if (v == 0x54303530u)
        return salt_t50;
    if (v == 0x54303531u)
        return salt_t51;
    if (v == 0xfaceb001u)
        return salt_d22;
    if (v == 0xfaceb002u || v == 0xfaceb00eu)
        return salt_d23;
    if ((v & 0xffffff00u) == 0xff000000u) {
        uint32_t d = v & 0xff;
        if (d == 22)
            return salt_d22;
        if (d >= 23 && d <= 28)
            return salt_d23;
        if (d >= 29 && d <= 32)
            return salt_d29;
        if (d == 33 || d == 34)
            return salt_v1; /* draft-33 introduced the final salt */
    }
    if ((v & 0x0f0f0f0fu) == 0x0a0a0a0au)
        return salt_d29; /* greasing clients protect as for draft-29 (what tshark and nDPI assume) */
    return NULL;
}

static bool expand_keys(const uint8_t secret[32], bool v2, fl_quic_keys *k)
{
    /* RFC 9001 5.1 labels; RFC 9369 3.3.2 renames them for v2. */
    return fl_quic_hkdf_expand_label(secret, v2 ? "quicv2 key" : "quic key", k->key, 16) &&
           fl_quic_hkdf_expand_label(secret, v2 ? "quicv2 iv" : "quic iv", k->iv, 12) &&
           fl_quic_hkdf_expand_label(secret, v2 ? "quicv2 hp" : "quic hp", k->hp, 16);
}

bool fl_quic_initial_keys(uint32_t version, const uint8_t *dcid, size_t dcid_len,
                          fl_quic_keys *client, fl_quic_keys *server)
{
    const uint8_t *salt = version_salt(version);
    uint8_t initial[32], secret[32];
    bool v2 = version == FL_QUIC_V2;
    if (!salt || !fl_quic_hkdf_extract(salt, 20, dcid, dcid_len, initial))
        return false;
    if (client && !(fl_quic_hkdf_expand_label(initial, "client in", secret, 32) &&
                    expand_keys(secret, v2, client)))
        return false;
    return !server || (fl_quic_hkdf_expand_label(initial, "server in", secret, 32) &&
                       expand_keys(secret, v2, server));
}

int fl_quic_long_type(uint32_t version, uint8_t b0)
{
    int t = (b0 >> 4) & 3;
    if (version == FL_QUIC_V2) /* RFC 9369 3.2: Initial 1, 0-RTT 2, Handshake 3, Retry 0 */
        return (t + 3) & 3;
    return t;
}

uint8_t fl_quic_long_type_bits(uint32_t version, int t)
{
    return (uint8_t)((version == FL_QUIC_V2 ? (t + 1) & 3 : t & 3) << 4);
}

uint64_t fl_quic_varint(fl_cursor *c)
{
    uint8_t b = fl_cur_u8(c);
    uint32_t extra = (1u << (b >> 6)) - 1;
    uint64_t v = b & 0x3f;
    const uint8_t *p = fl_cur_take(c, extra);
    for (uint32_t i = 0; p && i < extra; i++)
        v = (v << 8) | p[i];
    return c->bad ? 0 : v;
}

/* ------------------------------------------------------------------ */
/* ClientHello                                                         */

static void copy_name(char *dst, size_t cap, const uint8_t *src, uint32_t n)
{
    if (n >= cap)
        n = (uint32_t)cap - 1;
    for (uint32_t i = 0; i < n; i++)
        dst[i] = (src[i] >= 0x20 && src[i] < 0x7f) ? (char)src[i] : '?';
    dst[n] = '\0';
}

static void hello_extension(uint16_t type, fl_cursor *x, fl_quic_hello *out)
{
    if (type == 0) { /* RFC 6066 3: server_name */
        fl_cursor list = fl_cur_sub(x, fl_cur_be16(x));
        while (!list.bad && fl_cur_left(&list) >= 3) {
            uint8_t nt = fl_cur_u8(&list);
            uint16_t n = fl_cur_be16(&list);
            const uint8_t *name = fl_cur_take(&list, n);
            if (name && nt == 0 && !out->sni[0]) {
                copy_name(out->sni, sizeof out->sni, name, n);
                break;
            }
        }
    } else if (type == 16) { /* RFC 7301 3.1: ALPN, first protocol */
        fl_cursor list = fl_cur_sub(x, fl_cur_be16(x));
        uint8_t n = fl_cur_u8(&list);
        const uint8_t *name = fl_cur_take(&list, n);
        if (name && !out->alpn[0])
            copy_name(out->alpn, sizeof out->alpn, name, n);
    }
}

/* lenient: the message was cut at FL_QUIC_CH_CAP on purpose; read the
 * extensions that fit. */
static int parse_hello(const uint8_t *p, uint32_t len, fl_quic_hello *out, bool lenient)
{
    out->sni[0] = out->alpn[0] = '\0';
    fl_cursor c = fl_cursor_make(p, len);
    if (len >= 1 && p[0] != 1)
        return -1;
    fl_cur_u8(&c);
    uint32_t body = fl_cur_be24(&c);
    if (c.bad)
        return 0;
    if (body < 38)
        return -1;
    if (fl_cur_left(&c) < body && !lenient)
        return 0;
    fl_cursor h = fl_cur_sub(&c, body);
    fl_cur_skip(&h, 2 + 32);          /* legacy_version, random */
    fl_cur_skip(&h, fl_cur_u8(&h));   /* legacy_session_id */
    fl_cur_skip(&h, fl_cur_be16(&h)); /* cipher_suites */
    fl_cur_skip(&h, fl_cur_u8(&h));   /* legacy_compression_methods */
    if (h.bad)
        return lenient ? 1 : -1;
    if (fl_cur_left(&h) == 0)
        return 1; /* no extensions */
    uint16_t ext_len = fl_cur_be16(&h);
    if (h.bad || (ext_len > fl_cur_left(&h) && !lenient))
        return -1;
    fl_cursor e = fl_cur_sub(&h, ext_len);
    while (!e.bad && fl_cur_left(&e) >= 4) {
        uint16_t type = fl_cur_be16(&e);
        uint16_t n = fl_cur_be16(&e);
        if (n > fl_cur_left(&e))
            return lenient ? 1 : -1;
        fl_cursor x = fl_cur_sub(&e, n);
        hello_extension(type, &x, out);
    }
    return fl_cur_left(&e) == 0 || lenient ? 1 : -1;
}

int fl_quic_parse_client_hello(const uint8_t *p, uint32_t len, fl_quic_hello *out)
{
    return parse_hello(p, len, out, false);
}

int fl_quic_parse_client_hello_part(const uint8_t *p, uint32_t len, fl_quic_hello *out)
{
    return parse_hello(p, len, out, true) > 0 ? 1 : -1;
}

/* ------------------------------------------------------------------ */
/* reassembly pool                                                     */

typedef struct reasm_slot {
    uint8_t data[FL_QUIC_CH_CAP];
    uint8_t have[FL_QUIC_CH_CAP / 8]; /* one bit per byte received */
} reasm_slot;

struct fl_quic_pool {
    reasm_slot *slot;
    uint32_t *free;
    uint32_t nslots, nfree;
    uint64_t exhausted;
};

fl_quic_pool *fl_quic_pool_new(uint32_t slots)
{
    if (slots > UINT16_MAX)
        slots = UINT16_MAX; /* conn.slot is 16 bits */
    fl_quic_pool *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->slot = slots ? calloc(slots, sizeof *p->slot) : NULL;
    p->free = slots ? calloc(slots, sizeof *p->free) : NULL;
    if (slots && (!p->slot || !p->free)) {
        fl_quic_pool_free(p);
        return NULL;
    }
    p->nslots = p->nfree = slots;
    for (uint32_t i = 0; i < slots; i++)
        p->free[i] = slots - 1 - i;
    return p;
}

void fl_quic_pool_free(fl_quic_pool *p)
{
    if (!p)
        return;
    free(p->slot);
    free(p->free);
    free(p);
}

uint64_t fl_quic_pool_exhausted(const fl_quic_pool *p)
{
    return p ? p->exhausted : 0;
}

static reasm_slot *slot_get(fl_quic_pool *pool, fl_quic_conn *q)
{
    if (q->slot)
        return &pool->slot[q->slot - 1];
    if (!pool || !pool->nfree) {
        if (pool && !(q->flags & FL_QF_NO_SLOT))
            pool->exhausted++;
        q->flags |= FL_QF_NO_SLOT;
        return NULL;
    }
    uint32_t i = pool->free[--pool->nfree];
    memset(pool->slot[i].have, 0, sizeof pool->slot[i].have);
    q->slot = (uint16_t)(i + 1);
    return &pool->slot[i];
}

void fl_quic_conn_end(fl_quic_pool *pool, fl_quic_conn *q)
{
    if (pool && q->slot && pool->nfree < pool->nslots)
        pool->free[pool->nfree++] = q->slot - 1;
    q->slot = 0;
}

/* ------------------------------------------------------------------ */
/* CRYPTO frames of the client: the ClientHello                        */

static void hello_done(fl_quic_pool *pool, fl_quic_conn *q, const uint8_t *p, uint32_t len,
                       fl_quic_facts *f)
{
    int r = fl_quic_parse_client_hello(p, len, &f->hello);
    if (r < 0)
        f->decode_error = 1;
    f->hello_read = r > 0;
    q->flags |= FL_QF_CH_DONE;
    fl_quic_conn_end(pool, q);
}

/* One CRYPTO frame from the client at offset off. The ClientHello starts
 * at offset 0 with type 1 and declares its length; frames may come in any
 * order, repeated or overlapping (RFC 9000 19.6). */
static void client_crypto(fl_quic_pool *pool, fl_quic_conn *q, uint64_t off, const uint8_t *data,
                          uint32_t n, fl_quic_facts *f)
{
    if (q->flags & FL_QF_CH_DONE || n == 0)
        return;
    if (off == 0 && !(q->flags & FL_QF_CH)) {
        if (data[0] != 1) { /* not a ClientHello: nothing to read here */
            q->flags |= FL_QF_CH_DONE;
            return;
        }
        q->flags |= FL_QF_CH;
        f->client_hello = 1;
    }
    /* Whole in one frame: no copy. */
    if (off == 0 && !q->slot && n >= 4) {
        uint32_t total = 4 + ((uint32_t)data[1] << 16 | (uint32_t)data[2] << 8 | data[3]);
        if (n >= total) {
            hello_done(pool, q, data, total, f);
            return;
        }
    }
    if (off >= FL_QUIC_CH_CAP)
        return;
    reasm_slot *s = slot_get(pool, q);
    if (!s)
        return;
    uint32_t end = off + n > FL_QUIC_CH_CAP ? FL_QUIC_CH_CAP : (uint32_t)(off + n);
    memcpy(s->data + off, data, end - (uint32_t)off);
    for (uint32_t i = (uint32_t)off; i < end; i++)
        s->have[i >> 3] |= (uint8_t)(1u << (i & 7));
    uint32_t have = q->ch_have;
    while (have < FL_QUIC_CH_CAP && (s->have[have >> 3] >> (have & 7)) & 1)
        have++;
    q->ch_have = (uint16_t)(have > UINT16_MAX ? UINT16_MAX : have);
    if (!q->ch_total && have >= 4) {
        uint32_t total = 4 + ((uint32_t)s->data[1] << 16 | (uint32_t)s->data[2] << 8 | s->data[3]);
        if (total > FL_QUIC_CH_CAP) {
            q->flags |= FL_QF_CH_BIG; /* read what fits: the SNI may be in it */
            total = FL_QUIC_CH_CAP;
        }
        q->ch_total = (uint16_t)total;
    }
    if (q->ch_total && have >= q->ch_total) {
        if (q->flags & FL_QF_CH_BIG) {
            f->hello_read = parse_hello(s->data, q->ch_total, &f->hello, true) > 0;
            q->flags |= FL_QF_CH_DONE;
            fl_quic_conn_end(pool, q);
            return;
        }
        hello_done(pool, q, s->data, q->ch_total, f);
    }
}

/* ------------------------------------------------------------------ */
/* frames, packets, datagrams                                          */

static void ack_frame(fl_cursor *c, uint64_t type)
{
    /* RFC 9000 19.3: largest, delay, range count, first range, ranges,
     * then three ECN counts for 0x03. Each range eats >= 2 bytes, so a
     * huge count ends with the bytes. */
    fl_quic_varint(c);
    fl_quic_varint(c);
    uint64_t ranges = fl_quic_varint(c);
    fl_quic_varint(c);
    for (uint64_t i = 0; i < ranges && !c->bad; i++) {
        fl_quic_varint(c);
        fl_quic_varint(c);
    }
    if (type == 0x03)
        for (int i = 0; i < 3; i++)
            fl_quic_varint(c);
}

static void close_frame(fl_quic_conn *q, bool from_client, fl_cursor *c, uint64_t type,
                        fl_quic_facts *f)
{
    /* RFC 9000 19.19: error code, [frame type for 0x1c], reason phrase. */
    uint64_t code = fl_quic_varint(c);
    if (type == 0x1c)
        fl_quic_varint(c);
    uint64_t rl = fl_quic_varint(c);
    if (c->bad || rl > fl_cur_left(c)) {
        c->bad = true;
        return;
    }
    fl_cur_skip(c, (uint32_t)rl);
    f->close = 1;
    f->close_frame = (uint8_t)type;
    f->close_code = code;
    q->flags |= from_client ? FL_QF_CLOSE_CLIENT : FL_QF_CLOSE_SERVER;
}

/* The frames of one decrypted Initial (RFC 9000 12.4 lists what it may
 * carry: PADDING, PING, ACK, CRYPTO, CONNECTION_CLOSE). */
static void initial_frames(fl_quic_pool *pool, fl_quic_conn *q, bool from_client, const uint8_t *pt,
                           uint32_t n, fl_quic_facts *f)
{
    fl_cursor c = fl_cursor_make(pt, n);
    while (!c.bad && fl_cur_left(&c) > 0) {
        uint64_t type = fl_quic_varint(&c);
        if (type == 0x00) {
            /* PADDING runs to the end of a client's Initial (1200-byte
             * datagrams): skip the run at once, not a frame per byte. */
            const uint8_t *z;
            while ((z = fl_cur_peek(&c, 1)) != NULL && *z == 0)
                c.off++;
            continue;
        }
        if (type == 0x01)
            continue;
        if (type == 0x02 || type == 0x03) {
            ack_frame(&c, type);
        } else if (type == 0x06 || (type == 0x08 && (q->version & 0xffffff00u) == 0x54303500u)) {
            /* CRYPTO (RFC 9000 19.6); Google's T05x number it 0x08 */
            uint64_t off = fl_quic_varint(&c), len = fl_quic_varint(&c);
            if (c.bad || len > fl_cur_left(&c)) {
                c.bad = true;
                break;
            }
            const uint8_t *data = fl_cur_take(&c, (uint32_t)len);
            if (from_client)
                client_crypto(pool, q, off, data, (uint32_t)len, f);
            else if (off == 0 && len >= 1 && data[0] == 2 && !(q->flags & FL_QF_SH)) {
                q->flags |= FL_QF_SH; /* RFC 8446 4: handshake type 2 */
                f->server_hello = 1;
            }
        } else if (type == 0x1c || type == 0x1d) {
            close_frame(q, from_client, &c, type, f);
        } else {
            return; /* not allowed in an Initial: the peer's error, not ours to read */
        }
    }
    if (c.bad)
        f->decode_error = 1;
}

/* Remove header protection (RFC 9001 5.4) and open the AEAD (5.3) of one
 * Initial: pkt holds the packet, pn_off is where its packet number starts. */
static void open_initial(fl_quic_pool *pool, fl_quic_conn *q, bool from_client,
                         const fl_quic_keys *k, const uint8_t *pkt, uint32_t pkt_len,
                         uint32_t pn_off, fl_quic_facts *f)
{
    uint8_t aad[512 + 4];
    uint8_t pt[FL_QUIC_PKT_MAX];
    fl_cursor c = fl_cursor_make(pkt, pkt_len);
    fl_cur_skip(&c, pn_off + 4); /* RFC 9001 5.4.2: sample after a 4-byte pn */
    const uint8_t *sample = fl_cur_take(&c, 16);
    uint8_t mask[5];
    if (!sample || pn_off > 512 || !fl_quic_hp_mask(k->hp, sample, mask)) {
        f->decode_error = sample == NULL;
        return;
    }
    c = fl_cursor_make(pkt, pkt_len);
    uint8_t b0 = fl_cur_u8(&c) ^ (mask[0] & 0x0f); /* long header: 4 bits */
    uint32_t pn_len = (b0 & 3u) + 1;
    const uint8_t *hdr = fl_cur_take(&c, pn_off - 1 + pn_len);
    uint32_t ct_len = pkt_len - pn_off - pn_len;
    const uint8_t *ct = fl_cur_take(&c, ct_len);
    if (!hdr || !ct || ct_len <= 16) {
        f->decode_error = 1;
        return;
    }
    if (ct_len - 16 > sizeof pt)
        return; /* larger than any Initial we care for: not read, not an error */
    aad[0] = b0;
    memcpy(aad + 1, hdr, pn_off - 1 + pn_len);
    uint64_t pn = 0;
    for (uint32_t i = 0; i < pn_len; i++) {
        aad[pn_off + i] ^= mask[1 + i];
        pn = pn << 8 | aad[pn_off + i];
    }
    if (!fl_quic_aead_open(k, pn, aad, pn_off + pn_len, ct, ct_len, pt)) {
        /* A greased version (RFC 9000 15) may carry anything: no error. */
        if (fl_quic_version_class(q->version) == FL_QV_GREASE)
            return;
        f->decode_error = 1;
        q->flags |= FL_QF_ERROR;
        return;
    }
    initial_frames(pool, q, from_client, pt, ct_len - 16, f);
}

/* One Initial packet: pick its keys, decrypt within the caps. */
static void initial(fl_quic_pool *pool, fl_quic_conn *q, bool from_client, uint32_t version,
                    const uint8_t *dcid, uint8_t dl, const uint8_t *pkt, uint32_t pkt_len,
                    uint32_t pn_off, fl_quic_facts *f)
{
    fl_quic_keys k[2];
    if (!from_client) {
        if (!(q->flags & FL_QF_KEYS) || fl_quic_decrypts(q, true) >= FL_QUIC_DECRYPT_CAP ||
            (q->flags & (FL_QF_SH | FL_QF_CLOSE_SERVER)) ||
            !fl_quic_initial_keys(q->version, q->dcid, q->dcid_len, NULL, &k[1]))
            return;
        q->decrypts = (uint8_t)(q->decrypts + 0x10);
        open_initial(pool, q, false, &k[1], pkt, pkt_len, pn_off, f);
        return;
    }
    if (fl_quic_decrypts(q, false) >= FL_QUIC_DECRYPT_CAP ||
        ((q->flags & FL_QF_CH_DONE) && (q->flags & (FL_QF_SH | FL_QF_CLOSE_SERVER))))
        return;
    /* RFC 9001 5.2: the keys come from the DCID of the client's first
     * Initial and stay when the client moves to the server's connection ID
     * (RFC 9000 7.2); they change after a Retry (new DCID, RFC 9001 5.2)
     * or with a new version after Version Negotiation. */
    if (!(q->flags & FL_QF_KEYS) || (q->flags & FL_QF_RETRY) || q->version != version) {
        if (dl)
            memcpy(q->dcid, dcid, dl);
        q->dcid_len = dl;
        q->version = version;
        q->flags = (q->flags | FL_QF_KEYS) & ~(uint32_t)FL_QF_RETRY;
    }
    if (!fl_quic_initial_keys(q->version, q->dcid, q->dcid_len, &k[0], NULL))
        return;
    q->decrypts = (uint8_t)(q->decrypts + 1);
    open_initial(pool, q, true, &k[0], pkt, pkt_len, pn_off, f);
}

/* RFC 9000 17.2.1: the server lists the versions it supports. "None in
 * common" is judged without the client's list (not on the wire): no QUIC
 * version with TLS that the client did not already try. */
static void version_negotiation(fl_quic_conn *q, fl_cursor *c, fl_quic_facts *f)
{
    bool common = false;
    while (fl_cur_left(c) >= 4) {
        uint32_t v = fl_cur_be32(c);
        if (v != q->version && fl_quic_version_class(v) == FL_QV_TLS)
            common = true;
    }
    f->vn = 1;
    q->flags |= FL_QF_VN;
    if (!common) {
        f->vn_none = 1;
        q->flags |= FL_QF_VN_NONE;
    }
}

bool fl_quic_looks_like_long_header(const uint8_t *d, uint32_t len)
{
    fl_cursor c = fl_cursor_make(d, len);
    uint8_t b0 = fl_cur_u8(&c);
    uint32_t v = fl_cur_be32(&c);
    uint8_t dl = fl_cur_u8(&c);
    fl_cur_skip(&c, dl);
    uint8_t sl = fl_cur_u8(&c);
    fl_cur_skip(&c, sl);
    if (c.bad || !(b0 & 0x80) || dl > FL_QUIC_CID_MAX || sl > FL_QUIC_CID_MAX)
        return false;
    /* The fixed bit (RFC 9000 17.2) is set but for RFC 9287 greasing,
     * which needs transport parameters first: never on a first packet. */
    return (b0 & 0x40) && fl_quic_version_class(v) != FL_QV_UNKNOWN;
}

/* One long-header packet at c (first byte read); false ends the datagram. */
static bool long_packet(fl_quic_pool *pool, fl_quic_conn *q, bool from_client, fl_cursor *c,
                        uint32_t start, uint8_t b0, fl_quic_facts *f)
{
    uint32_t version = fl_cur_be32(c);
    uint8_t dl = fl_cur_u8(c);
    const uint8_t *dcid = fl_cur_take(c, dl);
    fl_cur_skip(c, fl_cur_u8(c));
    if (c->bad) {
        f->decode_error = 1;
        return false;
    }
    f->packets++;
    if (version == 0) {
        if (!from_client)
            version_negotiation(q, c, f);
        return false;
    }
    fl_quic_vclass vc = fl_quic_version_class(version);
    if (vc != FL_QV_TLS && vc != FL_QV_GREASE)
        return false;
    if (dl > FL_QUIC_CID_MAX) {
        f->decode_error = 1;
        return false;
    }
    int type = fl_quic_long_type(version, b0);
    if (type == FL_QT_RETRY) { /* RFC 9000 17.2.5: the rest of the datagram */
        if (!from_client) {
            f->retry = 1;
            q->flags |= FL_QF_RETRY;
        }
        return false;
    }
    if (type == FL_QT_INITIAL) {
        uint64_t tl = fl_quic_varint(c);
        if (tl > fl_cur_left(c))
            c->bad = true;
        else
            fl_cur_skip(c, (uint32_t)tl);
    }
    uint64_t plen = fl_quic_varint(c);
    if (c->bad || plen > fl_cur_left(c)) {
        f->decode_error = 1;
        return false;
    }
    uint32_t pn_off = c->off - start;
    const uint8_t *pkt = c->p + start;
    fl_cur_skip(c, (uint32_t)plen);
    if (type == FL_QT_HANDSHAKE && from_client)
        q->flags |= FL_QF_CLIENT_MORE; /* it had the server's Initial */
    if (type == FL_QT_INITIAL)
        initial(pool, q, from_client, version, dcid, dl, pkt, pn_off + (uint32_t)plen, pn_off, f);
    return true;
}

void fl_quic_feed(fl_quic_pool *pool, fl_quic_conn *q, bool from_client, const uint8_t *d,
                  uint32_t len, fl_quic_facts *f)
{
    memset(f, 0, offsetof(fl_quic_facts, hello));
    f->hello.sni[0] = f->hello.alpn[0] = '\0';
    if (!from_client)
        q->flags |= FL_QF_SERVER;
    fl_cursor c = fl_cursor_make(d, len);
    bool first = true;
    /* RFC 9000 12.2: coalesced packets, each long header with its Length;
     * a short header or zero padding runs to the end of the datagram. */
    while (!c.bad && fl_cur_left(&c) > 0) {
        uint32_t start = c.off;
        uint8_t b0 = fl_cur_u8(&c);
        if (!(b0 & 0x80)) {
            if (first && from_client && (b0 & 0x40))
                q->flags |= FL_QF_CLIENT_MORE; /* 1-RTT: it had the server's keys */
            break;
        }
        if (!long_packet(pool, q, from_client, &c, start, b0, f))
            break;
        first = false;
    }
}

bool fl_quic_done(const fl_quic_conn *q)
{
    if (q->flags & FL_QF_VN_NONE)
        return true;
    bool client = (q->flags & FL_QF_CH_DONE) || fl_quic_decrypts(q, false) >= FL_QUIC_DECRYPT_CAP;
    bool server = (q->flags & (FL_QF_SH | FL_QF_CLOSE_SERVER)) ||
                  fl_quic_decrypts(q, true) >= FL_QUIC_DECRYPT_CAP;
    return client && server;
}

size_t fl_quic_seal_initial(uint32_t version, const fl_quic_keys *k, const uint8_t *dcid,
                            uint8_t dcid_len, const uint8_t *scid, uint8_t scid_len, uint32_t pn,
                            const uint8_t *payload, size_t payload_len, uint8_t *out, size_t cap)
{
    size_t body = 4 + payload_len + 16; /* pn, ciphertext, tag */
    size_t need = 1 + 4 + 1 + dcid_len + 1 + scid_len + 1 + 2 + body;
    if (need > cap || body > 0x3fff || dcid_len > FL_QUIC_CID_MAX || scid_len > FL_QUIC_CID_MAX)
        return 0;
    size_t n = 0;
    out[n++] = (uint8_t)(0xc0 | fl_quic_long_type_bits(version, FL_QT_INITIAL) | 3);
    for (int i = 3; i >= 0; i--)
        out[n++] = (uint8_t)(version >> (8 * i));
    out[n++] = dcid_len;
    if (dcid_len)
        memcpy(out + n, dcid, dcid_len);
    n += dcid_len;
    out[n++] = scid_len;
    if (scid_len)
        memcpy(out + n, scid, scid_len);
    n += scid_len;
    out[n++] = 0; /* token length */
    out[n++] = (uint8_t)(0x40 | body >> 8);
    out[n++] = (uint8_t)body;
    size_t pn_off = n;
    for (int i = 3; i >= 0; i--)
        out[n++] = (uint8_t)(pn >> (8 * i));
    if (!fl_quic_aead_seal(k, pn, out, n, payload, payload_len, out + n))
        return 0;
    uint8_t mask[5];
    if (!fl_quic_hp_mask(k->hp, out + pn_off + 4, mask))
        return 0;
    out[0] ^= mask[0] & 0x0f;
    for (int i = 0; i < 4; i++)
        out[pn_off + i] ^= mask[1 + i];
    return need;
}
