#ifndef BZ_ENGINE_HASH_H
#define BZ_ENGINE_HASH_H

#include <stddef.h>
#include <stdint.h>

/* FNV-1a, 64 bits: keys the compiled-kernel cache. Not cryptographic; the
 * cache also stores and compares the full key text, so a collision can only
 * cost a recompile. */
#define BZ_FNV64_INIT UINT64_C(0xcbf29ce484222325)
uint64_t bz_fnv64(uint64_t h, const void *data, size_t len);
uint64_t bz_fnv64_str(uint64_t h, const char *s);

#endif
