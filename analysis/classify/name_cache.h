/* name_cache.h - private: what DNS answers taught us, bounded.
 *
 * Two set-associative tables (4 ways a bucket), each of at most `capacity`
 * entries, allocated once: address -> (queried name, provider) and
 * name -> provider. A new key takes an empty way of its bucket or replaces
 * the way updated longest ago (by packet time). Nothing grows, nothing is
 * allocated per lookup or per answer.
 */
#ifndef FL_NAME_CACHE_H
#define FL_NAME_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fl_packet.h"

typedef struct fl_name_cache fl_name_cache;

/* capacity: most entries per table (at least 1). */
fl_name_cache *fl_name_cache_new(uint32_t capacity);
void fl_name_cache_free(fl_name_cache *c);

/* name is a DNS name, lower case; longer names than FL_NAME_CACHE_KEEP are
 * matched by their full hash and length, kept truncated. */
#define FL_NAME_CACHE_KEEP 128
/* A provider of 0 keeps the provider the address already has. */
void fl_name_cache_learn_addr(fl_name_cache *c, const fl_addr *a, const char *name,
                              uint16_t provider, uint64_t now_us);
void fl_name_cache_learn_name(fl_name_cache *c, const char *name, uint16_t provider,
                              uint64_t now_us);

/* name_out (may be NULL) gets the name, or "" if it has been replaced
 * since in the name table. */
bool fl_name_cache_addr(const fl_name_cache *c, const fl_addr *a, uint16_t *provider,
                        char *name_out, size_t name_len);
bool fl_name_cache_name(const fl_name_cache *c, const char *name, uint16_t *provider);

/* Entries in use (address table, name table) and the per-table bound. */
size_t fl_name_cache_addr_count(const fl_name_cache *c);
size_t fl_name_cache_name_count(const fl_name_cache *c);
size_t fl_name_cache_capacity(const fl_name_cache *c);
/* Bytes allocated for both tables. */
size_t fl_name_cache_bytes(const fl_name_cache *c);

#endif
