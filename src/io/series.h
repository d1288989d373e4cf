/*
 * Time series files: rows are time steps, columns are variables.
 *   CSV   an optional header line (auto-detected as csv.h says: no field of
 *         it is a number) and an optional leading time column (dates,
 *         years, indices), dropped when asked or when the header names it
 *         time, date, year, month, t, timestamp or index. Every row must
 *         have as many fields as the first; NaN, Inf, empty fields refused
 *         with the file, line and column.
 *   .npy  a 1-D array (one variable) or a 2-D array (T x N) of float32,
 *         float64, int32 or int64; non-finite values refused with the row
 *         and column.
 */
#ifndef BZ_IO_SERIES_H
#define BZ_IO_SERIES_H

#include "base/error.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct bz_series {
    size_t rows, cols;
    float *x;          /* rows x cols */
    bool had_header;
    bool dropped_time; /* a leading time column was dropped */
} bz_series;

/* Reads path (CSV, gzip-compressed CSV, or .npy). time_column: drop the
 * first CSV column (true), or only when the header names it (false). */
bz_status bz_series_load(const char *path, bool time_column, bz_series *out, bz_error *err);
/* The same from a file image in memory (not compressed); path names it in
 * messages. */
bz_status bz_series_parse(const uint8_t *buf, size_t len, const char *path, bool time_column,
                          bz_series *out, bz_error *err);
void bz_series_free(bz_series *s);

#endif
