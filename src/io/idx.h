/*
 * IDX reader (the MNIST / Fashion-MNIST container format), raw or gzipped.
 *
 * Layout: two zero bytes, a type byte, a dimension count d, then d big-endian
 * uint32 sizes, then the big-endian elements, row-major, and nothing after.
 * Every element is converted to float: u8/i8/i16 exactly, i32 rounded to the
 * nearest float (exact up to 2^24), f64 rounded (values beyond the float
 * range are rejected). NaN/Inf are passed through; bz_dataset_load rejects
 * them.
 */
#ifndef BZ_IO_IDX_H
#define BZ_IO_IDX_H

#include "base/error.h"

#include <stddef.h>

enum {
    BZ_IDX_U8 = 0x08,
    BZ_IDX_I8 = 0x09,
    BZ_IDX_I16 = 0x0B,
    BZ_IDX_I32 = 0x0C,
    BZ_IDX_F32 = 0x0D,
    BZ_IDX_F64 = 0x0E
};

/* The format allows up to 255 dimensions; more than this is refused. */
#define BZ_IDX_MAX_DIMS 8

typedef struct bz_idx {
    int type;                     /* BZ_IDX_* of the source elements */
    int ndim;                     /* 1 .. BZ_IDX_MAX_DIMS */
    size_t dims[BZ_IDX_MAX_DIMS]; /* all non-zero */
    size_t count;                 /* product of dims */
    float *data;                  /* count floats, row-major; free with bz_idx_free */
} bz_idx;

/* Name of a BZ_IDX_* type ("u8", "f32", ...) or "unknown". */
const char *bz_idx_type_name(int type);

/*
 * Parses an IDX image held in memory; gzip-compressed input (magic 1f 8b) is
 * decompressed first. name is used in error messages ("<memory>" if NULL);
 * offsets in messages count bytes of the decompressed stream. On failure
 * *out is zeroed. Never reads outside buf[0..len).
 */
bz_status bz_idx_parse(const void *buf, size_t len, const char *name, bz_idx *out,
                       bz_error *err);

/* Reads and parses the file at path (raw or .gz, detected by content). */
bz_status bz_idx_load(const char *path, bz_idx *out, bz_error *err);

void bz_idx_free(bz_idx *idx);

#endif
