#include "engine/hash.h"

#include <string.h>

uint64_t bz_fnv64(uint64_t h, const void *data, size_t len)
{
    const unsigned char *p = data;
    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= UINT64_C(0x100000001b3);
    }
    return h;
}

uint64_t bz_fnv64_str(uint64_t h, const char *s)
{
    /* Include the terminator so ("ab","c") and ("a","bc") differ. */
    return bz_fnv64(h, s, strlen(s) + 1);
}
