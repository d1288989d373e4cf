/* libFuzzer target: IDX parser (raw and gzip). */
#include "io/idx.h"

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    bz_idx idx;
    bz_error err;
    if (bz_idx_parse(data, size, "fuzz", &idx, &err) == BZ_OK)
        bz_idx_free(&idx);
    return 0;
}
