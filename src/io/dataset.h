/*
 * In-memory datasets: n samples of dim floats, optional integer labels, and
 * the transformations applied before training.
 */
#ifndef BZ_IO_DATASET_H
#define BZ_IO_DATASET_H

#include "base/error.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Labels must lie in [0, BZ_DATASET_MAX_CLASSES). */
#define BZ_DATASET_MAX_CLASSES 65536

typedef struct bz_dataset {
    size_t n, dim;
    size_t height, width; /* image shape, dim == height*width; 0 when not an image */
    float *x;             /* n * dim, row-major */
    int32_t *labels;      /* n labels, or NULL if none */
    int n_classes;        /* 1 + largest label; 0 without labels */
    float max_value;      /* the value that scales to 1 (see bz_dataset_scale01) */
    char name[256];
} bz_dataset;

/*
 * Loads a dataset. spec is one of:
 *   "fashion-mnist" or "fashion-mnist:train"  the 60000-image training split
 *   "fashion-mnist:test"                      the 10000-image test split
 *       read from $BOLTZCL_DATA_DIR/fashion-mnist/ (default data dir
 *       /usr/share/datasets) as {train,t10k}-{images-idx3,labels-idx1}-ubyte.gz;
 *   a path to an IDX image file (raw or gzipped; n x h x w images or n x d
 *       rows). Its labels are looked for beside it: "images-idx3" -> "labels-idx1",
 *       "images.idx3" -> "labels.idx1", "-images" -> "-labels" and
 *       "images" -> "labels" in the file name, each also with ".gz" added or
 *       removed. No labels file: labels NULL. A labels file that exists must
 *       be valid and match the image count (else BZ_E_FORMAT / BZ_E_SHAPE);
 *   a path ending in ".csv" or ".csv.gz": label column first, header line
 *       auto-detected (bz_csv_parse).
 * max_value is 255 for u8 IDX sources and the largest absolute value present
 * otherwise. The data is checked with bz_dataset_check_finite. *out is
 * zeroed on failure.
 */
bz_status bz_dataset_load(const char *spec, bz_dataset *out, bz_error *err);

/* True for the names of installed data sets ("fashion-mnist",
 * "fashion-mnist:test"), which name no file of the user's. */
bool bz_dataset_is_named(const char *spec);

/* The labels file bz_dataset_load would read beside the IDX images `spec`,
 * when there is one (written into buf). */
bool bz_dataset_labels_path(const char *spec, char *buf, size_t cap);

/* IDX images with an explicit labels file (NULL: none). */
bz_status bz_dataset_load_idx(const char *images_path, const char *labels_path,
                              bz_dataset *out, bz_error *err);

/* CSV; with_labels: first column is the label. */
bz_status bz_dataset_load_csv(const char *path, int with_labels, bz_dataset *out,
                              bz_error *err);

/* Releases the arrays and zeroes *ds. Safe on a zeroed dataset. */
void bz_dataset_free(bz_dataset *ds);

/* Divides every value by max_value (no-op when it is 0), then sets max_value
 * to 1: u8 images map to [0,1]; other sources to [0,1] when non-negative,
 * [-1,1] otherwise. */
void bz_dataset_scale01(bz_dataset *ds);

/* x = x > threshold ? 1 : 0; max_value becomes 1. */
void bz_dataset_binarize(bz_dataset *ds, float threshold);

/*
 * Per-feature standardisation: x[:,j] = (x[:,j] - mean_j) / max(std_j, 1e-8)
 * with the population std (ddof 0), accumulated in double. mean_out and
 * std_out (dim floats each, may be NULL) receive mean_j and the std used
 * (already floored), to apply the same transform to other data with
 * bz_dataset_apply_standardization. max_value becomes the largest |x|.
 */
void bz_dataset_standardize(bz_dataset *ds, float *mean_out, float *std_out);
void bz_dataset_apply_standardization(bz_dataset *ds, const float *mean, const float *std);

/*
 * Shuffles the rows with a permutation determined by seed only (identical on
 * every platform) and puts the first round(n*val_fraction) into *val and the
 * rest, in permuted order, into *train. val_fraction in [0,1); both parts
 * must be non-empty unless val_fraction is 0 (then *val is empty, n == 0).
 * Outputs are new datasets (must not alias src); zeroed on failure.
 */
bz_status bz_dataset_split(const bz_dataset *src, double val_fraction, uint64_t seed,
                           bz_dataset *train, bz_dataset *val, bz_error *err);

/* Copies rows [first, first+count) into a new dataset. */
bz_status bz_dataset_subset(const bz_dataset *src, size_t first, size_t count,
                            bz_dataset *out, bz_error *err);

/* BZ_E_FORMAT naming the first NaN/Inf by row and column (0-based) and the
 * dataset name. */
bz_status bz_dataset_check_finite(const bz_dataset *ds, bz_error *err);

#endif
