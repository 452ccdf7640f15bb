/* quic_crypto.c - the one adapter to libgcrypt: the primitives QUIC Initial
 * protection needs (RFC 9001 section 5), nothing else.
 *
 *   HKDF-Extract / HKDF-Expand-Label (RFC 5869, RFC 8446 section 7.1) on
 *   HMAC-SHA256, AES-128-ECB for the header-protection mask (RFC 9001
 *   section 5.4.3), AEAD_AES_128_GCM (RFC 5116) for Initial payloads.
 *
 * Only this file includes <gcrypt.h>; version quirks stay here. libgcrypt is
 * initialised on first use (nDPI links the same library and may have done it
 * already: GCRYCTL_INITIALIZATION_FINISHED_P tells).
 */
#include <gcrypt.h>
#include <string.h>

#include "fl_quic.h"

/* One HMAC, one AES-ECB and one AES-GCM handle, opened once and re-keyed
 * per use: opening a handle allocates, and this runs a few times per QUIC
 * connection. They belong to the packet thread (the engine is single-
 * threaded); they live until exit. */
static gcry_md_hd_t hmac;
static gcry_cipher_hd_t ecb, gcm;

static bool crypto_ready(void)
{
    static int ready;
    if (ready)
        return ready > 0;
    ready = -1;
    if (!gcry_control(GCRYCTL_INITIALIZATION_FINISHED_P)) {
        if (!gcry_check_version(NULL))
            return false;
        gcry_control(GCRYCTL_DISABLE_SECMEM, 0);
        gcry_control(GCRYCTL_INITIALIZATION_FINISHED, 0);
    }
    if (gcry_md_open(&hmac, GCRY_MD_SHA256, GCRY_MD_FLAG_HMAC) ||
        gcry_cipher_open(&ecb, GCRY_CIPHER_AES128, GCRY_CIPHER_MODE_ECB, 0) ||
        gcry_cipher_open(&gcm, GCRY_CIPHER_AES128, GCRY_CIPHER_MODE_GCM, 0))
        return false;
    ready = 1;
    return true;
}

static bool hmac_sha256(const uint8_t *key, size_t keylen, const uint8_t *a, size_t alen,
                        const uint8_t *b, size_t blen, uint8_t out[32])
{
    if (!crypto_ready())
        return false;
    gcry_md_reset(hmac);
    if (gcry_md_setkey(hmac, key, keylen))
        return false;
    gcry_md_write(hmac, a, alen);
    if (blen)
        gcry_md_write(hmac, b, blen);
    const unsigned char *d = gcry_md_read(hmac, GCRY_MD_SHA256);
    if (!d)
        return false;
    memcpy(out, d, 32);
    return true;
}

bool fl_quic_hkdf_extract(const uint8_t *salt, size_t salt_len, const uint8_t *ikm, size_t ikm_len,
                          uint8_t prk[32])
{
    /* RFC 5869 2.2: PRK = HMAC-Hash(salt, IKM). */
    return hmac_sha256(salt, salt_len, ikm, ikm_len, NULL, 0, prk);
}

bool fl_quic_hkdf_expand_label(const uint8_t secret[32], const char *label, uint8_t *out,
                               size_t out_len)
{
    /* RFC 8446 7.1: HkdfLabel = uint16 length, opaque label<7..255> =
     * "tls13 " + Label, opaque context<0..255> = "" (empty here). Output
     * at most one SHA-256 block, which is all QUIC Initial keys need. */
    size_t ll = strlen(label);
    if (out_len == 0 || out_len > 32 || ll > 64)
        return false;
    uint8_t info[2 + 1 + 6 + 64 + 1 + 1];
    size_t n = 0;
    info[n++] = (uint8_t)(out_len >> 8);
    info[n++] = (uint8_t)out_len;
    info[n++] = (uint8_t)(6 + ll);
    memcpy(info + n, "tls13 ", 6);
    n += 6;
    memcpy(info + n, label, ll);
    n += ll;
    info[n++] = 0;    /* empty context */
    info[n++] = 0x01; /* RFC 5869 2.3: T(1) = HMAC(PRK, info | 0x01) */
    uint8_t t[32];
    if (!hmac_sha256(secret, 32, info, n, NULL, 0, t))
        return false;
    memcpy(out, t, out_len);
    return true;
}

bool fl_quic_hp_mask(const uint8_t hp[16], const uint8_t sample[16], uint8_t mask[5])
{
    uint8_t block[16];
    if (!crypto_ready() || gcry_cipher_setkey(ecb, hp, 16) ||
        gcry_cipher_encrypt(ecb, block, 16, sample, 16))
        return false;
    memcpy(mask, block, 5);
    return true;
}

/* RFC 9001 5.3: the nonce is the IV XORed with the packet number,
 * left-padded to the IV's length. */
static void make_nonce(const fl_quic_keys *k, uint64_t pn, uint8_t nonce[12])
{
    memcpy(nonce, k->iv, 12);
    for (int i = 0; i < 8; i++)
        nonce[11 - i] ^= (uint8_t)(pn >> (8 * i));
}

static bool gcm_run(const fl_quic_keys *k, uint64_t pn, const uint8_t *aad, size_t aad_len,
                    const uint8_t *in, size_t len, uint8_t *out, uint8_t tag[16], bool seal)
{
    uint8_t nonce[12];
    make_nonce(k, pn, nonce);
    if (!crypto_ready() || gcry_cipher_reset(gcm) || gcry_cipher_setkey(gcm, k->key, 16) ||
        gcry_cipher_setiv(gcm, nonce, 12) || gcry_cipher_authenticate(gcm, aad, aad_len))
        return false;
    if (seal)
        return gcry_cipher_encrypt(gcm, out, len, in, len) == 0 &&
               gcry_cipher_gettag(gcm, tag, 16) == 0;
    return gcry_cipher_decrypt(gcm, out, len, in, len) == 0 &&
           gcry_cipher_checktag(gcm, tag, 16) == 0;
}

bool fl_quic_aead_open(const fl_quic_keys *k, uint64_t pn, const uint8_t *aad, size_t aad_len,
                       const uint8_t *ct, size_t ct_len, uint8_t *out)
{
    if (ct_len < 16)
        return false;
    uint8_t tag[16];
    memcpy(tag, ct + ct_len - 16, 16);
    return gcm_run(k, pn, aad, aad_len, ct, ct_len - 16, out, tag, false);
}

bool fl_quic_aead_seal(const fl_quic_keys *k, uint64_t pn, const uint8_t *aad, size_t aad_len,
                       const uint8_t *pt, size_t pt_len, uint8_t *out)
{
    return gcm_run(k, pn, aad, aad_len, pt, pt_len, out, out + pt_len, true);
}
