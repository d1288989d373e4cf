/* libFuzzer target: time-series files (CSV with or without a header and a
 * time column, and .npy); the first byte asks for the time column to be
 * dropped. */
#include "io/series.h"

#include <math.h>
#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    bz_series s;
    bz_error err;
    if (bz_series_parse(data + 1, size - 1, "fuzz", data[0] & 1, &s, &err) != BZ_OK)
        return 0;
    /* Accepted: a non-empty rows x cols block of finite values. */
    if (!s.rows || !s.cols || !s.x)
        __builtin_trap();
    for (size_t i = 0; i < s.rows * s.cols; i++)
        if (!isfinite(s.x[i]))
            __builtin_trap();
    bz_series_free(&s);
    return 0;
}
