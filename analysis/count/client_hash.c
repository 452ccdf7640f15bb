/* client_hash.c - keyed client pseudonyms (see fl_client_hash.h); the only
 * file that includes <gcrypt.h>. */
#include <errno.h>
#include <gcrypt.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fl_client_hash.h"

struct fl_client_hasher {
    gcry_md_hd_t md;
};

static pthread_once_t gcry_once = PTHREAD_ONCE_INIT;
static const char *gcry_version;

/* libgcrypt must be initialised once before use; we need no secure memory
 * (the key is in ordinary memory, like the rest of the config). */
static void gcry_init(void)
{
    gcry_version = gcry_check_version(NULL);
    if (gcry_version) {
        gcry_control(GCRYCTL_DISABLE_SECMEM, 0);
        gcry_control(GCRYCTL_INITIALIZATION_FINISHED, 0);
    }
}

fl_client_hasher *fl_client_hasher_new(const uint8_t *key, size_t keylen, char *err, size_t errlen)
{
    if (keylen < FL_CLIENT_KEY_MIN || keylen > FL_CLIENT_KEY_MAX) {
        snprintf(err, errlen, "client hash key: %zu bytes, need %d to %d", keylen,
                 FL_CLIENT_KEY_MIN, FL_CLIENT_KEY_MAX);
        return NULL;
    }
    pthread_once(&gcry_once, gcry_init);
    if (!gcry_version) {
        snprintf(err, errlen, "client hash key: libgcrypt did not initialise");
        return NULL;
    }
    fl_client_hasher *h = calloc(1, sizeof *h);
    if (!h) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    gcry_error_t e = gcry_md_open(&h->md, GCRY_MD_SHA256, GCRY_MD_FLAG_HMAC);
    if (!e)
        e = gcry_md_setkey(h->md, key, keylen);
    if (e) {
        snprintf(err, errlen, "client hash key: %s", gcry_strerror(e));
        fl_client_hasher_free(h);
        return NULL;
    }
    return h;
}

fl_client_hasher *fl_client_hasher_from_file(const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return NULL;
    }
    uint8_t key[FL_CLIENT_KEY_MAX + 2];
    size_t n = fread(key, 1, sizeof key, f);
    fclose(f);
    if (n && key[n - 1] == '\n')
        n--;
    if (n && key[n - 1] == '\r')
        n--;
    char why[128];
    fl_client_hasher *h = fl_client_hasher_new(key, n, why, sizeof why);
    memset(key, 0, sizeof key);
    if (!h)
        snprintf(err, errlen, "%s: %s", path, why);
    return h;
}

void fl_client_hasher_free(fl_client_hasher *h)
{
    if (!h)
        return;
    if (h->md)
        gcry_md_close(h->md);
    free(h);
}

void fl_client_hash(fl_client_hasher *h, const fl_addr *a, uint8_t out[FL_CLIENT_HASH_LEN])
{
    /* family first, so an IPv4 address never hashes like an IPv6 one */
    uint8_t msg[17];
    msg[0] = a->family;
    memcpy(msg + 1, a->b, 16);
    gcry_md_reset(h->md);
    gcry_md_write(h->md, msg, sizeof msg);
    memcpy(out, gcry_md_read(h->md, GCRY_MD_SHA256), FL_CLIENT_HASH_LEN);
}

void fl_client_hash_str(fl_client_hasher *h, const fl_addr *a, char out[FL_CLIENT_HASH_STR])
{
    static const char hex[] = "0123456789abcdef";
    uint8_t d[FL_CLIENT_HASH_LEN];
    fl_client_hash(h, a, d);
    out[0] = 'c';
    out[1] = ':';
    for (int i = 0; i < FL_CLIENT_HASH_LEN; i++) {
        out[2 + 2 * i] = hex[d[i] >> 4];
        out[3 + 2 * i] = hex[d[i] & 15];
    }
    out[FL_CLIENT_HASH_STR - 1] = '\0';
}
