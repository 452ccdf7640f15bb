/* fl_quic.h - QUIC Initial packets, read passively (RFC 9000, RFC 9001,
 * RFC 9369, and the IETF drafts 22-34 / mvfst / Google T050-T051 found in
 * public captures).
 *
 * The Initial keys derive from the client's first Destination Connection ID
 * (RFC 9001 5.2), so a sensor that saw that packet can remove header
 * protection and decrypt the Initial packets of both sides. From them this
 * module reads: the ClientHello (CRYPTO frames reassembled, in any order,
 * within FL_QUIC_CH_CAP bytes) with its SNI and ALPN, the server's
 * ServerHello, CONNECTION_CLOSE (0x1c, 0x1d) with its error code, Version
 * Negotiation (with or without the client's version in it) and Retry.
 *
 * Cost: at most FL_QUIC_DECRYPT_CAP AES-GCM openings per side and connection,
 * none once the ClientHello is read and the server's Initial answered it;
 * data packets (short header) are only looked at for their first byte.
 *
 * Weak spots, admitted: errors after the Initial packet number space
 * (certificate rejected, ALPN refused) travel in Handshake or 1-RTT packets
 * whose keys we cannot have; a server that fails there is seen only through
 * timing. Packet numbers are taken as their truncated value (RFC 9000 A.3
 * decoding is needless for the first few Initials of a connection).
 */
#ifndef FL_QUIC_H
#define FL_QUIC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fl_cursor.h"

#define FL_QUIC_CID_MAX 20    /* RFC 9000 17.2: v1 connection IDs */
#define FL_QUIC_CH_CAP 4096   /* ClientHello bytes reassembled per flow */
#define FL_QUIC_DECRYPT_CAP 4 /* Initials decrypted per side and flow */
#define FL_QUIC_PKT_MAX 2048  /* largest Initial payload decrypted */
#define FL_QUIC_SNI_MAX 255
#define FL_QUIC_ALPN_MAX 32

#define FL_QUIC_V1 0x00000001u /* RFC 9000 */
#define FL_QUIC_V2 0x6b3343cfu /* RFC 9369 */

/* What a version number is to us. */
typedef enum fl_quic_vclass {
    FL_QV_UNKNOWN = 0, /* not QUIC as far as we know */
    FL_QV_TLS,         /* QUIC with TLS: Initials we can decrypt */
    FL_QV_GQUIC,       /* Google QUIC crypto (Q05x): long header, no TLS */
    FL_QV_GREASE,      /* 0x?a?a?a?a: forces Version Negotiation (RFC 9000 15) */
} fl_quic_vclass;

fl_quic_vclass fl_quic_version_class(uint32_t version);

/* ---- crypto (quic_crypto.c, the libgcrypt adapter) ---- */

typedef struct fl_quic_keys {
    uint8_t key[16]; /* AEAD_AES_128_GCM key */
    uint8_t iv[12];
    uint8_t hp[16]; /* header protection key (AES-128-ECB) */
} fl_quic_keys;

bool fl_quic_hkdf_extract(const uint8_t *salt, size_t salt_len, const uint8_t *ikm, size_t ikm_len,
                          uint8_t prk[32]);
/* HKDF-Expand-Label with an empty context, out_len <= 32. */
bool fl_quic_hkdf_expand_label(const uint8_t secret[32], const char *label, uint8_t *out,
                               size_t out_len);
/* The first 5 bytes of AES-ECB(hp, sample) (RFC 9001 5.4.3). */
bool fl_quic_hp_mask(const uint8_t hp[16], const uint8_t sample[16], uint8_t mask[5]);
/* ct holds ciphertext then the 16-byte tag; out gets ct_len - 16 bytes. */
bool fl_quic_aead_open(const fl_quic_keys *k, uint64_t pn, const uint8_t *aad, size_t aad_len,
                       const uint8_t *ct, size_t ct_len, uint8_t *out);
/* out gets pt_len bytes of ciphertext then the 16-byte tag. */
bool fl_quic_aead_seal(const fl_quic_keys *k, uint64_t pn, const uint8_t *aad, size_t aad_len,
                       const uint8_t *pt, size_t pt_len, uint8_t *out);

/* Initial secrets of a version from the client's first DCID: both sides'
 * keys (RFC 9001 5.2; RFC 9369 3.3.1 and 3.3.2 for v2's salt and labels);
 * client or server may be NULL (one side only). False for versions without
 * a known salt. The crypto functions are for one thread (the packet path). */
bool fl_quic_initial_keys(uint32_t version, const uint8_t *dcid, size_t dcid_len,
                          fl_quic_keys *client, fl_quic_keys *server);

/* RFC 9000 16: a variable-length integer at the cursor (0 and c->bad set
 * when it runs past the end). */
uint64_t fl_quic_varint(fl_cursor *c);

/* Long-header packet types as RFC 9000 numbers them; v2 maps onto these. */
enum { FL_QT_INITIAL = 0, FL_QT_0RTT = 1, FL_QT_HANDSHAKE = 2, FL_QT_RETRY = 3 };
/* The type bits of a long header's first byte, mapped to FL_QT_*. */
int fl_quic_long_type(uint32_t version, uint8_t first_byte);
/* The first-byte type bits that encode FL_QT_* type t in this version. */
uint8_t fl_quic_long_type_bits(uint32_t version, int t);

/* ---- ClientHello (RFC 8446 4.1.2) ---- */

typedef struct fl_quic_hello {
    char sni[FL_QUIC_SNI_MAX + 1];   /* server_name (RFC 6066 3), "" if none */
    char alpn[FL_QUIC_ALPN_MAX + 1]; /* first ALPN protocol (RFC 7301), "" if none */
} fl_quic_hello;

/* Parse a ClientHello handshake message (type byte first). 1 done, 0 need
 * more bytes, -1 not a ClientHello / malformed. Also used on the first TCP
 * segment of a TLS connection (after its 5-byte record header). */
int fl_quic_parse_client_hello(const uint8_t *p, uint32_t len, fl_quic_hello *out);
/* The same on a ClientHello that may be cut short (the first TCP segment
 * of a large one): reads the extensions that are there. 1 read, -1 not a
 * ClientHello. */
int fl_quic_parse_client_hello_part(const uint8_t *p, uint32_t len, fl_quic_hello *out);

/* ---- per-flow state ---- */

/* Reassembly buffers for ClientHellos spread over frames or packets: a
 * fixed pool, allocated at start-up; when it is empty a flow reads its
 * ClientHello only when it arrives whole in one CRYPTO frame. */
typedef struct fl_quic_pool fl_quic_pool;
fl_quic_pool *fl_quic_pool_new(uint32_t slots); /* slots <= 65535 */
void fl_quic_pool_free(fl_quic_pool *p);
/* Times a flow found the pool empty. */
uint64_t fl_quic_pool_exhausted(const fl_quic_pool *p);

enum {
    FL_QF_KEYS = 1u << 0,         /* keys[] derived */
    FL_QF_CH = 1u << 1,           /* the client's Initial carried a ClientHello start */
    FL_QF_CH_DONE = 1u << 2,      /* ClientHello read (or given up on) */
    FL_QF_SERVER = 1u << 3,       /* some datagram from the server */
    FL_QF_SH = 1u << 4,           /* ServerHello in a server Initial */
    FL_QF_CLOSE_SERVER = 1u << 5, /* CONNECTION_CLOSE in a server Initial */
    FL_QF_CLOSE_CLIENT = 1u << 6, /* CONNECTION_CLOSE in a client Initial */
    FL_QF_VN = 1u << 7,           /* Version Negotiation from the server */
    FL_QF_VN_NONE = 1u << 8,      /* ... listing no version the client offered */
    FL_QF_RETRY = 1u << 9,        /* Retry: the client re-keys with a new DCID */
    FL_QF_CLIENT_MORE = 1u << 10, /* client sent Handshake / 1-RTT packets */
    FL_QF_ERROR = 1u << 11,       /* a malformed or undecryptable Initial */
    FL_QF_CH_BIG = 1u << 12,      /* ClientHello larger than FL_QUIC_CH_CAP */
    FL_QF_NO_SLOT = 1u << 13,     /* the reassembly pool was empty */
    /* bits 24-31 are the caller's (the engine's bookkeeping) */
};

/* Lives in the flow entry (40 bytes): keys are not kept but derived again
 * from dcid for each of the few Initials opened (HKDF is a handful of
 * HMACs; a flow table of a million entries stays its size). */
typedef struct fl_quic_conn {
    uint32_t version;  /* of the client's Initials (keys derive for it) */
    uint32_t flags;    /* FL_QF_* */
    uint32_t aux;      /* the caller's (the engine keeps an SNI hash) */
    uint16_t slot;     /* reassembly slot + 1, 0 none */
    uint16_t ch_have;  /* contiguous ClientHello bytes from offset 0 */
    uint16_t ch_total; /* its declared size + 4, 0 not yet known */
    uint8_t decrypts;  /* Initials opened: client low nibble, server high */
    uint8_t dcid_len;
    uint8_t dcid[FL_QUIC_CID_MAX]; /* the client DCID the Initial keys derive from */
} fl_quic_conn;

/* What one datagram showed (fields this call, not sticky). */
typedef struct fl_quic_facts {
    uint8_t packets;      /* QUIC packets read in the datagram */
    uint8_t client_hello; /* first ClientHello bytes of the flow: a handshake */
    uint8_t hello_read;   /* hello below is filled */
    uint8_t server_hello;
    uint8_t close;       /* CONNECTION_CLOSE in an Initial of this side */
    uint8_t close_frame; /* 0x1c or 0x1d */
    uint8_t vn;          /* Version Negotiation packet */
    uint8_t vn_none;     /* ... without the client's version */
    uint8_t retry;
    uint8_t decode_error; /* malformed header, frames, or AEAD failure */
    uint64_t close_code;
    fl_quic_hello hello;
} fl_quic_facts;

/* Does this datagram start with a QUIC long header of a version we know?
 * (Any long-header type: a flow can be joined after its first Initial.) */
bool fl_quic_looks_like_long_header(const uint8_t *d, uint32_t len);

/* Read one UDP datagram of the flow. facts is zeroed, then filled. */
void fl_quic_feed(fl_quic_pool *pool, fl_quic_conn *q, bool from_client, const uint8_t *d,
                  uint32_t len, fl_quic_facts *facts);

/* Initials opened for one side. */
static inline unsigned fl_quic_decrypts(const fl_quic_conn *q, bool server)
{
    return server ? q->decrypts >> 4 : q->decrypts & 0x0f;
}

/* Nothing more to learn from this flow's packets. */
bool fl_quic_done(const fl_quic_conn *q);

/* The flow ends: give back its reassembly slot. */
void fl_quic_conn_end(fl_quic_pool *pool, fl_quic_conn *q);

/* The inverse, for generators and tests: protect an Initial (RFC 9001 5)
 * carrying payload (frames; the caller pads client Initials to 1200 bytes,
 * RFC 9000 14.1) with a 4-byte packet number. Returns the packet length, 0
 * if cap is too small. */
size_t fl_quic_seal_initial(uint32_t version, const fl_quic_keys *k, const uint8_t *dcid,
                            uint8_t dcid_len, const uint8_t *scid, uint8_t scid_len, uint32_t pn,
                            const uint8_t *payload, size_t payload_len, uint8_t *out, size_t cap);

#endif
