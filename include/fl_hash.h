/* fl_hash.h - the one integer mixer the hash tables share. */
#ifndef FL_HASH_H
#define FL_HASH_H

#include <stdint.h>

/* splitmix64's finaliser (Steele et al. 2014): cheap, every input bit
 * reaches every output bit. */
static inline uint64_t fl_mix64(uint64_t x)
{
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    x ^= x >> 31;
    return x;
}

#endif
