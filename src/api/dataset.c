/*
 * Public data sets: the io layer's bz_dataset behind an opaque handle, with
 * errors reported on a context.
 */
#include "engine/engine.h"
#include "io/dataset.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The three file loaders behind one opener: a closure over their arguments. */
typedef struct source {
    enum { BY_NAME, IDX, CSV } how;
    const char *path, *labels;
    int with_labels;
} source;

static bz_status open_source(bz_context *ctx, const source *src, bz_dataset **out)
{
    if (!src->path || !out)
        return BZ_E_INVALID_ARG;
    *out = NULL;
    bz_dataset *ds = calloc(1, sizeof *ds);
    if (!ds)
        return ctx ? bz_fail(ctx, BZ_E_NOMEM, "out of memory") : BZ_E_NOMEM;
    bz_error err = {0};
    bz_status st = src->how == IDX   ? bz_dataset_load_idx(src->path, src->labels, ds, &err)
                   : src->how == CSV ? bz_dataset_load_csv(src->path, src->with_labels, ds, &err)
                                     : bz_dataset_load(src->path, ds, &err);
    if (st) {
        free(ds);
        return ctx ? bz_fail(ctx, st, "%s", err.msg) : st;
    }
    *out = ds;
    return BZ_OK;
}

bz_status bz_dataset_open(bz_context *ctx, const char *spec, bz_dataset **out)
{
    return open_source(ctx, &(source){.how = BY_NAME, .path = spec}, out);
}

bz_status bz_dataset_open_idx(bz_context *ctx, const char *images, const char *labels,
                              bz_dataset **out)
{
    return open_source(ctx, &(source){.how = IDX, .path = images, .labels = labels}, out);
}

bz_status bz_dataset_open_csv(bz_context *ctx, const char *path, int with_labels,
                              bz_dataset **out)
{
    return open_source(ctx, &(source){.how = CSV, .path = path, .with_labels = with_labels}, out);
}

bz_status bz_dataset_from_memory(bz_context *ctx, const float *x, const int32_t *labels,
                                 size_t n, size_t dim, bz_dataset **out)
{
    if (!x || !n || !dim || !out || n > SIZE_MAX / dim / sizeof(float))
        return BZ_E_INVALID_ARG;
    *out = NULL;
    bz_dataset *ds = calloc(1, sizeof *ds);
    bz_error err = {0};
    bz_status st = BZ_OK;
    if (!ds || !(ds->x = malloc(n * dim * sizeof *ds->x)) ||
        (labels && !(ds->labels = malloc(n * sizeof *ds->labels)))) {
        if (ds)
            bz_dataset_free(ds);
        free(ds);
        return ctx ? bz_fail(ctx, BZ_E_NOMEM, "out of memory copying %zu rows", n) : BZ_E_NOMEM;
    }
    ds->n = n;
    ds->dim = dim;
    snprintf(ds->name, sizeof ds->name, "memory");
    memcpy(ds->x, x, n * dim * sizeof *ds->x);
    float mx = 0;
    for (size_t i = 0; i < n * dim; i++)
        mx = fabsf(x[i]) > mx ? fabsf(x[i]) : mx;
    ds->max_value = mx;
    for (size_t i = 0; labels && i < n; i++) {
        if (labels[i] < 0 || labels[i] >= BZ_DATASET_MAX_CLASSES) {
            st = bz_error_set(&err, BZ_E_INVALID_ARG, "label %d of row %zu is not in [0, %d)",
                              (int)labels[i], i, BZ_DATASET_MAX_CLASSES);
            break;
        }
        ds->labels[i] = labels[i];
        ds->n_classes = labels[i] + 1 > ds->n_classes ? labels[i] + 1 : ds->n_classes;
    }
    if (!st)
        st = bz_dataset_check_finite(ds, &err);
    if (st) {
        bz_dataset_free(ds);
        free(ds);
        return ctx ? bz_fail(ctx, st, "%s", err.msg) : st;
    }
    *out = ds;
    return BZ_OK;
}

void bz_dataset_close(bz_dataset *ds)
{
    if (!ds)
        return;
    bz_dataset_free(ds);
    free(ds);
}

size_t bz_dataset_rows(const bz_dataset *ds)
{
    return ds ? ds->n : 0;
}

size_t bz_dataset_dim(const bz_dataset *ds)
{
    return ds ? ds->dim : 0;
}

size_t bz_dataset_n_classes(const bz_dataset *ds)
{
    return ds && ds->labels ? (size_t)ds->n_classes : 0;
}

const float *bz_dataset_x(const bz_dataset *ds)
{
    return ds ? ds->x : NULL;
}

const int32_t *bz_dataset_labels(const bz_dataset *ds)
{
    return ds ? ds->labels : NULL;
}

void bz_dataset_image_shape(const bz_dataset *ds, size_t *height, size_t *width)
{
    if (height)
        *height = ds ? ds->height : 0;
    if (width)
        *width = ds ? ds->width : 0;
}
