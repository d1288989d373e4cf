/*
 * CSV of numbers: reader (optionally with a leading integer label column, as
 * in Kaggle's digit-recognizer "label,pixel0,...,pixel783") and writer.
 *
 * Reader rules: fields separated by the delimiter (',' by default), optional
 * double quotes around a field, spaces/tabs around numbers ignored, "\n" or
 * "\r\n" line ends, a leading UTF-8 BOM skipped, blank lines skipped. Every
 * row must have as many fields as the first line. Numbers are read in the C
 * locale whatever the process locale; NaN, Inf and values outside the float
 * range are rejected. Labels must be integers in [0, BZ_CSV_MAX_LABEL].
 * Header auto-detection: the first line is a header when none of its fields
 * is a number. Lines and columns in messages are 1-based (column 1 is the
 * label column when there is one).
 */
#ifndef BZ_IO_CSV_H
#define BZ_IO_CSV_H

#include "base/error.h"

#include <stddef.h>
#include <stdint.h>

#define BZ_CSV_MAX_LABEL 65535

typedef struct bz_csv_options {
    int labels;     /* 1 (default): first column is the class label; 0: all features */
    int header;     /* -1 (default): auto-detect; 0: no header; 1: skip the first line */
    char delimiter; /* ',' by default */
} bz_csv_options;

void bz_csv_options_init(bz_csv_options *opts);

typedef struct bz_csv {
    size_t rows;
    size_t cols;      /* feature columns (the label column is not counted) */
    float *x;         /* rows * cols, row-major */
    int32_t *labels;  /* rows labels, or NULL when opts.labels == 0 */
    int32_t max_label;/* largest label seen, -1 without labels */
    int had_header;   /* 1 when a header line was skipped */
} bz_csv;

/* Parses CSV text held in memory (need not be NUL-terminated). opts may be
 * NULL for the defaults. On failure *out is zeroed. */
bz_status bz_csv_parse(const char *buf, size_t len, const char *name,
                       const bz_csv_options *opts, bz_csv *out, bz_error *err);

/* Reads the file at path; gzip-compressed files are decompressed first. */
bz_status bz_csv_load(const char *path, const bz_csv_options *opts, bz_csv *out,
                      bz_error *err);

void bz_csv_free(bz_csv *csv);

/*
 * Atomically writes rows x cols floats as CSV, each with "%.9g" (exact float
 * round trip) in the C locale. labels (may be NULL) adds a leading integer
 * column; header != 0 writes a first line "label,x0,x1,..." ("x0,..." without
 * labels). Non-finite values are refused (BZ_E_INVALID_ARG naming row and
 * column) so that every file written can be read back.
 */
bz_status bz_csv_write(const char *path, const float *x, size_t rows, size_t cols,
                       const int32_t *labels, int header, bz_error *err);

#endif
