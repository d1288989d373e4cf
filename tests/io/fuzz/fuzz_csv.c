/* libFuzzer target: CSV parser; the first byte picks the options. */
#include "io/csv.h"

#include <math.h>
#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    bz_csv_options o;
    bz_csv_options_init(&o);
    o.labels = data[0] & 1;
    o.header = (int)((data[0] >> 1) % 3) - 1;
    o.delimiter = (data[0] & 8) ? '\t' : ',';
    bz_csv c;
    bz_error err;
    if (bz_csv_parse((const char *)data + 1, size - 1, "fuzz", &o, &c, &err) != BZ_OK)
        return 0;
    /* Accepted input: finite values only (NaN and Inf are refused), labels
     * within [0, the recorded maximum]. */
    size_t n = c.rows * c.cols;
    if (n > 0 && !c.x)
        __builtin_trap();
    for (size_t i = 0; i < n; i++)
        if (!isfinite(c.x[i]))
            __builtin_trap();
    for (size_t r = 0; c.labels && r < c.rows; r++)
        if (c.labels[r] < 0 || c.labels[r] > c.max_label)
            __builtin_trap();
    bz_csv_free(&c);
    return 0;
}
