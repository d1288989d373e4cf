/* libFuzzer target: IDX parser (raw and gzip). */
#include "io/idx.h"

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    bz_idx idx;
    bz_error err;
    if (bz_idx_parse(data, size, "fuzz", &idx, &err) != BZ_OK)
        return 0;
    /* What the parser promises of anything it accepts: non-zero dims that
     * multiply to the count, and data for every element. (Non-finite f32
     * values pass the parser; the dataset layer refuses them with the row
     * and column.) */
    size_t prod = 1;
    for (int i = 0; i < idx.ndim; i++) {
        if (idx.dims[i] == 0)
            __builtin_trap();
        prod *= idx.dims[i];
    }
    if (idx.ndim < 1 || prod != idx.count || (idx.count && !idx.data))
        __builtin_trap();
    volatile float sink = 0;
    for (size_t i = 0; i < idx.count; i++)
        sink += idx.data[i]; /* every element readable (ASan) */
    (void)sink;
    bz_idx_free(&idx);
    return 0;
}
