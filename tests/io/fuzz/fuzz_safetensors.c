/* libFuzzer target: safetensors reader, plus the lookups on what it accepts. */
#include "io/safetensors.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    bz_st_file *f;
    bz_error err;
    if (bz_st_parse(data, size, "fuzz", &f, &err) != BZ_OK)
        return 0;
    volatile uint8_t sink = 0;
    for (size_t i = 0; i < bz_st_count(f); i++) {
        const bz_st_tensor *t = bz_st_at(f, i);
        if (bz_st_find(f, t->name) == NULL)
            __builtin_trap();
        for (size_t b = 0; b < t->nbytes; b++)
            sink ^= ((const uint8_t *)t->data)[b];
    }
    const char *k, *v;
    for (size_t i = 0; bz_st_meta_at(f, i, &k, &v); i++)
        sink ^= (uint8_t)(strlen(k) + strlen(v));
    (void)sink;
    bz_st_close(f);
    return 0;
}
