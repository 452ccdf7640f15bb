/* fl_cursor.h - the only way faultline reads packet bytes.
 *
 * A cursor over [p, p+len). Every read checks that enough bytes remain;
 * a read past the end returns 0 / NULL and sets `bad`, so a parser can do a
 * run of reads and test `bad` once (tcpdump's GET_*, picohttpparser's
 * CHECK_EOF). No dissector indexes packet bytes directly.
 */
#ifndef FL_CURSOR_H
#define FL_CURSOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct fl_cursor {
    const uint8_t *p;
    uint32_t len;
    uint32_t off;
    bool bad;
} fl_cursor;

static inline fl_cursor fl_cursor_make(const uint8_t *p, uint32_t len)
{
    fl_cursor c = { p, p ? len : 0, 0, false };
    return c;
}

static inline uint32_t fl_cur_left(const fl_cursor *c)
{
    return c->len - c->off;
}

static inline bool fl_cur_has(const fl_cursor *c, uint32_t n)
{
    return !c->bad && n <= c->len - c->off;
}

/* Pointer to the next n bytes and advance, or NULL (and bad) if fewer remain. */
static inline const uint8_t *fl_cur_take(fl_cursor *c, uint32_t n)
{
    if (!fl_cur_has(c, n)) {
        c->bad = true;
        return NULL;
    }
    const uint8_t *r = c->p + c->off;
    c->off += n;
    return r;
}

/* Pointer to the current position without advancing (n bytes must remain). */
static inline const uint8_t *fl_cur_peek(const fl_cursor *c, uint32_t n)
{
    return fl_cur_has(c, n) ? c->p + c->off : NULL;
}

static inline bool fl_cur_skip(fl_cursor *c, uint32_t n)
{
    return fl_cur_take(c, n) != NULL;
}

static inline uint8_t fl_cur_u8(fl_cursor *c)
{
    const uint8_t *b = fl_cur_take(c, 1);
    return b ? b[0] : 0;
}

static inline uint16_t fl_cur_be16(fl_cursor *c)
{
    const uint8_t *b = fl_cur_take(c, 2);
    return b ? (uint16_t)((b[0] << 8) | b[1]) : 0;
}

static inline uint32_t fl_cur_be24(fl_cursor *c)
{
    const uint8_t *b = fl_cur_take(c, 3);
    return b ? ((uint32_t)b[0] << 16) | ((uint32_t)b[1] << 8) | b[2] : 0;
}

static inline uint32_t fl_cur_be32(fl_cursor *c)
{
    const uint8_t *b = fl_cur_take(c, 4);
    return b ? ((uint32_t)b[0] << 24) | ((uint32_t)b[1] << 16) | ((uint32_t)b[2] << 8) | b[3] : 0;
}

static inline uint16_t fl_cur_le16(fl_cursor *c)
{
    const uint8_t *b = fl_cur_take(c, 2);
    return b ? (uint16_t)(b[0] | (b[1] << 8)) : 0;
}

static inline uint32_t fl_cur_le32(fl_cursor *c)
{
    const uint8_t *b = fl_cur_take(c, 4);
    return b ? (uint32_t)b[0] | ((uint32_t)b[1] << 8) | ((uint32_t)b[2] << 16) |
                   ((uint32_t)b[3] << 24)
             : 0;
}

/* A sub-cursor over the next n bytes (clamped to what remains: a declared
 * length longer than the data is the caller's to count as truncation). */
static inline fl_cursor fl_cur_sub(fl_cursor *c, uint32_t n)
{
    uint32_t left = c->bad ? 0 : fl_cur_left(c);
    uint32_t take = n < left ? n : left;
    fl_cursor s = fl_cursor_make(c->p + c->off, take);
    c->off += take;
    return s;
}

#endif
