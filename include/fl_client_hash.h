/* fl_client_hash.h - client addresses as keyed hashes, for sites where the
 * sensor's outputs (Redis, the event log, the report) leave the security
 * team: HMAC-SHA256 (RFC 2104, FIPS 180-4) of the address under a secret
 * key, truncated to 128 bits. The same client gives the same pseudonym
 * while the key stays (distinct-client counts and per-client failures still
 * work); without the key a pseudonym cannot be turned back into an address,
 * not even by hashing all 2^32 IPv4 addresses.
 *
 * The key comes from a file named by the config (privacy.client_key_file),
 * never from the config itself, so `faultline config` cannot print it.
 */
#ifndef FL_CLIENT_HASH_H
#define FL_CLIENT_HASH_H

#include <stddef.h>
#include <stdint.h>
#include "fl_packet.h"

#define FL_CLIENT_KEY_MIN 16 /* bytes of key, at least */
#define FL_CLIENT_KEY_MAX 1024
#define FL_CLIENT_HASH_LEN 16 /* bytes of the truncated HMAC */
#define FL_CLIENT_HASH_STR 35 /* "c:" + 32 hex digits + NUL */

typedef struct fl_client_hasher fl_client_hasher;

/* A hasher for this key (at least FL_CLIENT_KEY_MIN bytes); NULL with err. */
fl_client_hasher *fl_client_hasher_new(const uint8_t *key, size_t keylen, char *err, size_t errlen);
/* The key is the file's bytes, a trailing newline excepted. NULL with err
 * naming the file (missing, too short, too long). */
fl_client_hasher *fl_client_hasher_from_file(const char *path, char *err, size_t errlen);
void fl_client_hasher_free(fl_client_hasher *h);

/* The pseudonym of a client. One hasher is not to be shared by threads. */
void fl_client_hash(fl_client_hasher *h, const fl_addr *a, uint8_t out[FL_CLIENT_HASH_LEN]);
/* The same as text, "c:" and 32 lower-case hex digits (never parses as an
 * address); out must hold FL_CLIENT_HASH_STR bytes. */
void fl_client_hash_str(fl_client_hasher *h, const fl_addr *a, char out[FL_CLIENT_HASH_STR]);

#endif
