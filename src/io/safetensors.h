/*
 * safetensors reader and writer (https://github.com/huggingface/safetensors).
 *
 * Layout: an 8-byte little-endian header length N, N bytes of JSON
 *   {"__metadata__": {"key": "value", ...},
 *    "name": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, ...}
 * then the data buffer, offsets relative to its start, little-endian values.
 *
 * The reader validates strictly and never reads outside its buffer: header
 * length within the file and at most BZ_ST_MAX_HEADER, JSON object (UTF-8,
 * strict syntax), known dtype, shape of non-negative integers (at most
 * BZ_ST_MAX_DIMS), end - begin == product(shape) * dtype size (overflow
 * checked), tensors neither overlap nor leave gaps and exactly cover the data
 * buffer, metadata values are strings. Unknown extra keys inside a tensor
 * entry are ignored, as the reference implementation does. Errors are
 * BZ_E_FORMAT naming the file, the byte offset where applicable, and the
 * tensor.
 *
 * The writer lays tensors out by decreasing dtype size then name, pads the
 * header with spaces to a multiple of 8 bytes (as the reference does), so
 * every tensor is aligned to its dtype size within the file, and writes
 * atomically (base/atomic_file.h).
 */
#ifndef BZ_IO_SAFETENSORS_H
#define BZ_IO_SAFETENSORS_H

#include "base/error.h"

#include <stddef.h>
#include <stdint.h>

typedef enum bz_st_dtype {
    BZ_ST_BOOL = 0,
    BZ_ST_U8,
    BZ_ST_I8,
    BZ_ST_F8_E5M2,
    BZ_ST_F8_E4M3,
    BZ_ST_I16,
    BZ_ST_U16,
    BZ_ST_F16,
    BZ_ST_BF16,
    BZ_ST_I32,
    BZ_ST_U32,
    BZ_ST_F32,
    BZ_ST_F64,
    BZ_ST_I64,
    BZ_ST_U64,
    BZ_ST_DTYPE_COUNT
} bz_st_dtype;

#define BZ_ST_MAX_DIMS 8
#define BZ_ST_MAX_HEADER 100000000u /* same limit as the reference */

/* "F32" etc., NULL for an invalid value; size in bytes, 0 if invalid. */
const char *bz_st_dtype_name(bz_st_dtype dtype);
size_t bz_st_dtype_size(bz_st_dtype dtype);

/* ---- reader ---- */

typedef struct bz_st_tensor {
    const char *name;
    bz_st_dtype dtype;
    int ndim;                    /* 0 for a scalar */
    size_t shape[BZ_ST_MAX_DIMS];
    size_t numel;                /* product of shape (1 for a scalar) */
    size_t nbytes;
    size_t offset;               /* of the data within the file */
    const void *data;            /* little-endian; may be unaligned: use memcpy or bz_st_read_f32 */
} bz_st_tensor;

typedef struct bz_st_file bz_st_file;

/* Reads and validates a whole file. */
bz_status bz_st_open(const char *path, bz_st_file **out, bz_error *err);
/* Validates a file image held in memory; the bytes are copied. */
bz_status bz_st_parse(const void *buf, size_t len, const char *name, bz_st_file **out,
                      bz_error *err);
void bz_st_close(bz_st_file *f);

size_t bz_st_count(const bz_st_file *f);
/* Tensors in header order; NULL when i is out of range. */
const bz_st_tensor *bz_st_at(const bz_st_file *f, size_t i);
/* NULL when absent. */
const bz_st_tensor *bz_st_find(const bz_st_file *f, const char *name);

/* Metadata value for key, NULL when absent. */
const char *bz_st_meta(const bz_st_file *f, const char *key);
size_t bz_st_meta_count(const bz_st_file *f);
/* i-th metadata entry; 0 when i is out of range. */
int bz_st_meta_at(const bz_st_file *f, size_t i, const char **key, const char **value);

/*
 * Copies tensor name into dst (numel floats) after checking it exists
 * (BZ_E_FORMAT "tensor 'W' not found"), is F32 (BZ_E_FORMAT) and, when shape is
 * not NULL, has exactly ndim dims equal to shape (BZ_E_SHAPE naming both).
 */
bz_status bz_st_read_f32(const bz_st_file *f, const char *name, int ndim, const size_t *shape,
                         float *dst, bz_error *err);

/* ---- writer ---- */

typedef struct bz_st_writer bz_st_writer;

bz_status bz_st_writer_create(bz_st_writer **out, bz_error *err);
void bz_st_writer_free(bz_st_writer *w);

/*
 * Adds a tensor. With copy != 0 the data is copied now; otherwise data must
 * stay valid until the last write. Names must be non-empty UTF-8, unique and
 * not "__metadata__"; ndim in 0..BZ_ST_MAX_DIMS.
 */
bz_status bz_st_writer_add(bz_st_writer *w, const char *name, bz_st_dtype dtype, int ndim,
                           const size_t *shape, const void *data, int copy, bz_error *err);
/* Sets (or replaces) a string metadata entry; both UTF-8. */
bz_status bz_st_writer_set_meta(bz_st_writer *w, const char *key, const char *value,
                                bz_error *err);

/* Serialises to a new buffer (free()d by the caller). */
bz_status bz_st_writer_to_memory(const bz_st_writer *w, uint8_t **buf, size_t *len,
                                 bz_error *err);
/* Atomically writes the file at path. */
bz_status bz_st_writer_write(const bz_st_writer *w, const char *path, bz_error *err);

#endif
