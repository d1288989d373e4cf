/*
 * NumPy .npy input (format versions 1.0, 2.0, 3.0): little-endian float32,
 * float64, int32 or int64 arrays in C order, converted to float32. The
 * header is checked strictly and the data must fill the rest of the file
 * exactly.
 */
#ifndef BZ_IO_NPY_READ_H
#define BZ_IO_NPY_READ_H

#include "base/error.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BZ_NPY_READ_MAX_DIMS 8

typedef struct bz_npy_array {
    int ndim;
    size_t shape[BZ_NPY_READ_MAX_DIMS];
    size_t numel;
    float *data; /* numel floats, free()d by the caller */
} bz_npy_array;

/* True when buf starts with the .npy magic. */
bool bz_npy_is_npy(const void *buf, size_t len);

/* Parses a whole file image; name is used in messages (BZ_E_FORMAT naming
 * the file and what is wrong). */
bz_status bz_npy_parse_f32(const void *buf, size_t len, const char *name, bz_npy_array *out,
                           bz_error *err);

#endif
