/*
 * NumPy .npy output (format version 1.0): float32 little-endian ('<f4'),
 * C order, header padded with spaces and ended by '\n' so that the data
 * starts at a multiple of 64 bytes. Written atomically.
 */
#ifndef BZ_IO_NPY_H
#define BZ_IO_NPY_H

#include "base/error.h"

#include <stddef.h>

#define BZ_NPY_MAX_DIMS 8

/*
 * Formats the complete header (magic, version, length, dict, padding) for a
 * float32 array of the given shape (ndim 0..BZ_NPY_MAX_DIMS) into buf.
 * Returns its length (a multiple of 64), or 0 when cap is too small or the
 * arguments are invalid.
 */
size_t bz_npy_header_f32(int ndim, const size_t *shape, char *buf, size_t cap);

/* Writes an ndim-dimensional float32 array. */
bz_status bz_npy_write_f32(const char *path, const float *data, int ndim, const size_t *shape,
                           bz_error *err);

/* Writes a rows x cols float32 matrix (row-major). */
bz_status bz_npy_write_f32_2d(const char *path, const float *data, size_t rows, size_t cols,
                              bz_error *err);

#endif
