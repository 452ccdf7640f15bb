/* dissect_dns.c - DNS message parser (RFC 1035) and DNS-over-TCP framing
 * (RFC 1035 4.2.2, RFC 7766 8).
 *
 * Every byte is read through fl_cursor. The parser allocates nothing; the TCP
 * framer allocates one FL_DNS_TCP_KEEP-byte buffer per flow direction, and
 * only once a message is split across segments.
 *
 * Decisions worth knowing (the header fl_dns.h is the contract):
 *
 *  - FL_DNS_BAD only when the 12-byte header is missing or implausible (an
 *    unassigned opcode, a query with an rcode, a query without a question,
 *    section counts no 65535-byte message could hold). Anything after the
 *    header is parsed "as far as it was sound": a message cut by snaplen or
 *    IP fragmentation still reports its header, and whatever question and
 *    answers were complete.
 *
 *  - Names come out in presentation form (RFC 1035 5.1, RFC 4343 2.1):
 *    lower-cased (ASCII A-Z only, RFC 4343 3), labels joined by '.', no
 *    trailing dot, the root as "". Bytes outside 0x21..0x7e become "\DDD"
 *    (decimal), and a '.' or '\\' inside a label becomes "\." / "\\", so a
 *    name never carries control bytes, spaces or an ambiguous dot into logs,
 *    Redis keys or suffix matching. A name whose text form does not fit in
 *    FL_DNS_NAME_MAX characters is rejected as unsound (only possible with
 *    heavy escaping: a legal wire name is at most 253 characters of text).
 *
 *  - Compression (RFC 1035 4.1.4): a pointer must point strictly before the
 *    start of the labels being read (the name's start, then the previous
 *    pointer's target). Offsets therefore strictly decrease and loops,
 *    self-pointers and forward pointers cannot occur; every standard
 *    compressor only points backwards, to names written earlier. The number
 *    of jumps is capped as well. Label types 01 and 10 (RFC 6891 5, the
 *    retired extended labels) are rejected; so is a wire name over 255 octets.
 */
#include <stdlib.h>
#include <string.h>

#include "fl_cursor.h"
#include "fl_dns.h"

#define DNS_HEADER_LEN 12
#define DNS_MAX_JUMPS 127 /* a 255-octet name has at most 127 labels */
#define DNS_CLASS_IN 1
#define DNS_QD_MIN 5  /* root name + qtype + qclass */
#define DNS_RR_MIN 11 /* root name + type, class, ttl, rdlength */

/* Opcodes with an assignment (IANA DNS parameters): QUERY 0, IQUERY 1
 * (retired by RFC 3425, still seen), STATUS 2, NOTIFY 4, UPDATE 5, DSO 6. */
static bool opcode_assigned(uint8_t op)
{
    return op <= 2 || (op >= 4 && op <= 6);
}

/* Append one byte of a label in presentation form; false when out is full. */
static bool put_label_byte(char *out, uint32_t *n, uint8_t b)
{
    char tmp[4];
    uint32_t k = 0;

    if (b >= 'A' && b <= 'Z') {
        tmp[k++] = (char)(b - 'A' + 'a');
    } else if (b == '.' || b == '\\') {
        tmp[k++] = '\\';
        tmp[k++] = (char)b;
    } else if (b >= 0x21 && b <= 0x7e) {
        tmp[k++] = (char)b;
    } else {
        tmp[k++] = '\\';
        tmp[k++] = (char)('0' + b / 100);
        tmp[k++] = (char)('0' + (b / 10) % 10);
        tmp[k++] = (char)('0' + b % 10);
    }
    if (*n + k > FL_DNS_NAME_MAX)
        return false;
    memcpy(out + *n, tmp, k);
    *n += k;
    return true;
}

/* Read a (possibly compressed) name at the cursor of message msg/msglen and
 * advance the cursor past it (past the first pointer if there is one).
 * out (FL_DNS_NAME_MAX + 1 bytes) receives the text, or may be NULL to only
 * validate and skip. Returns false on anything unsound; the cursor's
 * position is then unspecified. */
static bool read_name_text(const uint8_t *msg, uint32_t msglen, fl_cursor *c, char *out)
{
    fl_cursor cur = *c;      /* where labels are read now */
    uint32_t floor = c->off; /* pointers must go below this */
    uint32_t wire = 1;       /* octets of the uncompressed name (root: 1) */
    uint32_t n = 0;
    unsigned jumps = 0;
    bool jumped = false;

    for (;;) {
        uint8_t len = fl_cur_u8(&cur);
        if (cur.bad)
            return false;
        if ((len & 0xc0) == 0xc0) {
            uint8_t lo = fl_cur_u8(&cur);
            if (cur.bad)
                return false;
            uint32_t target = ((uint32_t)(len & 0x3f) << 8) | lo;
            if (target >= floor || ++jumps > DNS_MAX_JUMPS)
                return false;
            if (!jumped) {
                c->off = cur.off; /* the name ends, in place, after its first pointer */
                jumped = true;
            }
            cur = fl_cursor_make(msg, msglen);
            if (!fl_cur_skip(&cur, target))
                return false;
            floor = target;
            continue;
        }
        if (len & 0xc0)
            return false; /* 01 / 10: extended label types, not in use */
        if (len == 0)
            break;
        wire += 1u + len;
        if (wire > FL_DNS_NAME_MAX)
            return false; /* RFC 1035 2.3.4: 255 octets or less */
        const uint8_t *label = fl_cur_take(&cur, len);
        if (!label)
            return false;
        if (!out)
            continue;
        if (n > 0) {
            if (n + 1 > FL_DNS_NAME_MAX)
                return false;
            out[n++] = '.';
        }
        for (uint32_t i = 0; i < len; i++)
            if (!put_label_byte(out, &n, label[i]))
                return false;
    }
    if (!jumped)
        c->off = cur.off;
    if (out)
        out[n] = '\0';
    return true;
}

/* read_name_text, leaving out empty when the name is not sound. */
static bool read_name(const uint8_t *msg, uint32_t msglen, fl_cursor *c, char *out)
{
    if (read_name_text(msg, msglen, c, out))
        return true;
    if (out)
        out[0] = '\0';
    c->bad = true;
    return false;
}

static void add_addr(fl_dns_msg *m, uint8_t family, const uint8_t *b, uint32_t len)
{
    if (m->naddrs >= FL_DNS_MAX_ADDRS)
        return;
    fl_addr *a = &m->addrs[m->naddrs++];
    memset(a, 0, sizeof *a);
    a->family = family;
    memcpy(a->b, b, len);
}

/* One resource record of the answer section. false when it is not sound (the
 * walk stops there). */
static bool parse_answer(const uint8_t *msg, uint32_t msglen, fl_cursor *c, fl_dns_msg *m)
{
    if (!read_name(msg, msglen, c, NULL))
        return false;
    uint16_t type = fl_cur_be16(c);
    uint16_t klass = fl_cur_be16(c);
    fl_cur_skip(c, 4); /* TTL */
    uint16_t rdlen = fl_cur_be16(c);
    if (c->bad || !fl_cur_has(c, rdlen))
        return false; /* cut inside the record */
    uint32_t rd_off = c->off;
    fl_cursor rd = fl_cur_sub(c, rdlen);

    if (m->has_question && type == m->qtype)
        m->answered_qtype = true;

    const uint8_t *ip;
    if (klass == DNS_CLASS_IN && type == FL_DNS_TYPE_A && rdlen == 4 &&
        (ip = fl_cur_peek(&rd, 4))) {
        add_addr(m, 4, ip, 4);
    } else if (klass == DNS_CLASS_IN && type == FL_DNS_TYPE_AAAA && rdlen == 16 &&
               (ip = fl_cur_peek(&rd, 16))) {
        add_addr(m, 6, ip, 16);
    } else if (type == FL_DNS_TYPE_CNAME) {
        /* The target may be compressed, so it is read against the whole
         * message, then must end exactly at the end of the RDATA. */
        fl_cursor t = fl_cursor_make(msg, msglen);
        fl_cur_skip(&t, rd_off);
        char *dst = m->ncnames < FL_DNS_MAX_CNAMES ? m->cnames[m->ncnames] : NULL;
        if (!read_name(msg, msglen, &t, dst) || t.off != rd_off + rdlen)
            return false;
        if (dst)
            m->ncnames++;
    }
    /* Other types (and A/AAAA of another class or length) are skipped by
     * RDLENGTH, which fl_cur_sub already did. An mDNS cache-flush class
     * (0x8001) is not IN here: faultline reads unicast DNS. */
    return true;
}

fl_dns_parse_result fl_dns_parse(const uint8_t *data, uint32_t len, fl_dns_msg *out)
{
    memset(out, 0, sizeof *out);
    fl_cursor c = fl_cursor_make(data, len);

    /* RFC 1035 4.1.1 */
    out->id = fl_cur_be16(&c);
    uint8_t f1 = fl_cur_u8(&c);
    uint8_t f2 = fl_cur_u8(&c);
    out->qdcount = fl_cur_be16(&c);
    out->ancount = fl_cur_be16(&c);
    out->nscount = fl_cur_be16(&c);
    out->arcount = fl_cur_be16(&c);
    if (c.bad)
        return FL_DNS_BAD;
    out->response = (f1 & 0x80) != 0;
    out->opcode = (uint8_t)((f1 >> 3) & 0x0f);
    out->rcode = f2 & 0x0f;

    /* Plausibility, so that other UDP payloads on port 53 (or a mis-guessed
     * flow) are not counted as DNS. */
    if (!opcode_assigned(out->opcode))
        return FL_DNS_BAD;
    if (!out->response && out->rcode != 0)
        return FL_DNS_BAD; /* RCODE is "set as part of responses" */
    if (!out->response && out->opcode == 0 && out->qdcount == 0)
        return FL_DNS_BAD; /* a standard query asks something */
    uint32_t need = (uint32_t)out->qdcount * DNS_QD_MIN +
                    ((uint32_t)out->ancount + out->nscount + out->arcount) * DNS_RR_MIN;
    if (need > 65535u - DNS_HEADER_LEN)
        return FL_DNS_BAD;

    /* Question section (RFC 1035 4.1.2); only the first is kept. */
    for (uint32_t i = 0; i < out->qdcount; i++) {
        char *dst = i == 0 ? out->qname : NULL;
        if (!read_name(data, len, &c, dst))
            return FL_DNS_OK;
        uint16_t qtype = fl_cur_be16(&c);
        uint16_t qclass = fl_cur_be16(&c);
        if (c.bad) {
            if (i == 0)
                out->qname[0] = '\0';
            return FL_DNS_OK;
        }
        if (i == 0) {
            out->qtype = qtype;
            out->qclass = qclass;
            out->has_question = true;
        }
    }

    /* Answer section (RFC 1035 4.1.3), responses only. */
    if (!out->response)
        return FL_DNS_OK;
    for (uint32_t i = 0; i < out->ancount; i++)
        if (!parse_answer(data, len, &c, out))
            return FL_DNS_OK;
    out->answers_complete = true;
    return FL_DNS_OK;
}

/* ---- DNS over TCP ---------------------------------------------------- */

static void tcp_next_message(fl_dns_tcp *st)
{
    st->len_have = 0;
    st->msg_len = 0;
    st->got = 0;
    st->kept = 0;
}

/* The state is reset before on_msg runs, so the callback sees a consistent
 * framer; it must not feed or free the same state (buf is passed to it). */
void fl_dns_tcp_feed(fl_dns_tcp *st, const uint8_t *data, uint32_t len, fl_dns_msg_fn on_msg,
                     void *ctx)
{
    fl_cursor c = fl_cursor_make(data, len);

    while (fl_cur_left(&c) > 0) {
        if (st->len_have < 2) {
            /* The 2-byte length prefix, possibly split. */
            uint8_t b = fl_cur_u8(&c);
            if (st->len_have == 0) {
                st->len_hi = b;
                st->len_have = 1;
                continue;
            }
            st->msg_len = (uint16_t)((st->len_hi << 8) | b);
            st->len_have = 2;
            st->got = 0;
            st->kept = 0;
            if (st->msg_len == 0)
                tcp_next_message(st); /* nothing to parse; RFC 7766 has no use for it */
            continue;
        }

        uint32_t need = (uint32_t)st->msg_len - st->got;
        uint32_t left = fl_cur_left(&c);

        if (st->got == 0 && left >= need) {
            /* Whole message in this segment: hand it over in place. */
            const uint8_t *m = fl_cur_take(&c, need);
            tcp_next_message(st);
            on_msg(ctx, m, need, false);
            continue;
        }

        /* Split message: keep its first FL_DNS_TCP_KEEP bytes, count the rest. */
        uint32_t take = left < need ? left : need;
        const uint8_t *p = fl_cur_take(&c, take);
        if (!st->buf)
            st->buf = malloc(FL_DNS_TCP_KEEP);
        if (st->buf && st->kept < FL_DNS_TCP_KEEP) {
            uint32_t room = FL_DNS_TCP_KEEP - st->kept;
            uint32_t k = take < room ? take : room;
            memcpy(st->buf + st->kept, p, k);
            st->kept = (uint16_t)(st->kept + k);
        }
        st->got = (uint16_t)(st->got + take);
        if (st->got == st->msg_len) {
            uint32_t kept = st->kept;
            bool cut = st->msg_len > kept;
            tcp_next_message(st);
            if (st->buf) /* without memory the message is lost, not misread */
                on_msg(ctx, st->buf, kept, cut);
        }
    }
}

void fl_dns_tcp_reset(fl_dns_tcp *st)
{
    tcp_next_message(st);
    st->len_hi = 0;
}

void fl_dns_tcp_free(fl_dns_tcp *st)
{
    free(st->buf);
    memset(st, 0, sizeof *st);
}
