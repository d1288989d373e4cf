#include "cli/rbm_common.h"
#include "cli/cli.h"
#include "cli/files.h"
#include "io/pngio.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int bz_cli_parse_binarize(const char *cmd, const char *text, bz_prep *p)
{
    if (!text || !strcmp(text, "none")) {
        p->binarize = BZ_BIN_NONE;
        return 0;
    }
    if (!strcmp(text, "stochastic")) {
        p->binarize = BZ_BIN_STOCHASTIC;
        return 0;
    }
    if (!strcmp(text, "threshold")) {
        p->binarize = BZ_BIN_THRESHOLD;
        p->threshold = 0.5f;
        return 0;
    }
    char *end = NULL;
    double t = strtod(text, &end);
    if (end != text && !*end && t > 0 && t < 1) {
        p->binarize = BZ_BIN_THRESHOLD;
        p->threshold = (float)t;
        return 0;
    }
    fprintf(stderr,
            "boltzcl %s: --binarize takes none, threshold, stochastic or a threshold in (0, 1); "
            "got '%s'\n",
            cmd, bz_cli_safe(text));
    return -1;
}

static int prepare(const char *cmd, const bz_prep *p, bz_dataset *ds)
{
    bz_error err = {0};
    if (bz_dataset_check_finite(ds, &err)) {
        fprintf(stderr, "boltzcl %s: %s\n", cmd, err.msg);
        return -1;
    }
    if (p->scale)
        bz_dataset_scale01(ds);
    if (p->binarize == BZ_BIN_THRESHOLD)
        bz_dataset_binarize(ds, p->threshold);
    return 0;
}

int bz_cli_load(const char *cmd, const char *spec, const bz_prep *p, bz_dataset *ds)
{
    bz_error err = {0};
    memset(ds, 0, sizeof *ds);
    if (bz_dataset_load(spec, ds, &err)) {
        fprintf(stderr, "boltzcl %s: %s\n", cmd, err.msg);
        return -1;
    }
    if (prepare(cmd, p, ds)) {
        bz_dataset_free(ds);
        return -1;
    }
    return 0;
}

/* Data prepared as a model's training data was: the scaling and
 * binarisation of its preprocess_* metadata, its input width, and the
 * standardisation an RBM may carry (mean/std NULL when none). */
static int load_prepared(const char *cmd, const char *spec, const char *scale, const char *bin,
                         size_t n_inputs, const float *mean, const float *std, bz_dataset *ds)
{
    bz_prep p = {0};
    p.scale = !scale || strcmp(scale, "no") != 0;
    /* Stochastic binarisation is a training-time augmentation; evaluation
     * uses the scaled values, as scikit-learn does. */
    if (bin && strcmp(bin, "stochastic") != 0 && strcmp(bin, "none") != 0 &&
        bz_cli_parse_binarize(cmd, bin, &p))
        return -1;
    if (bz_cli_load(cmd, spec, &p, ds))
        return -1;
    if (ds->dim != n_inputs) {
        fprintf(stderr, "boltzcl %s: %s has %zu values per row but the model takes %zu "
                        "inputs\n", cmd, ds->name, ds->dim, n_inputs);
        bz_dataset_free(ds);
        return -1;
    }
    if (mean)
        bz_dataset_apply_standardization(ds, mean, std);
    return 0;
}

int bz_cli_load_for_model(const char *cmd, const char *spec, bz_rbm *rbm, bz_dataset *ds)
{
    return load_prepared(cmd, spec, bz_rbm_get_meta(rbm, "preprocess_scale"),
                         bz_rbm_get_meta(rbm, "preprocess_binarize"), rbm->nv, rbm->data_mean,
                         rbm->data_std, ds);
}

int bz_cli_load_for(const char *cmd, const char *spec, bz_model *m, bz_dataset *ds)
{
    bz_rbm *rbm = bz_model_rbm(m);
    return load_prepared(cmd, spec, bz_model_get_meta(m, "preprocess_scale"),
                         bz_model_get_meta(m, "preprocess_binarize"), bz_model_n_inputs(m),
                         rbm ? rbm->data_mean : NULL, rbm ? rbm->data_std : NULL, ds);
}

bz_model *bz_cli_load_model(const char *cmd, bz_context *ctx, const char *path,
                            const char *kind)
{
    bz_model *m = NULL;
    bz_status st = bz_model_load(ctx, path, &m);
    if (st) {
        bz_cli_fail(cmd, ctx, st);
        return NULL;
    }
    const bz_model_kind *k = bz_model_get_kind(m);
    if (kind && strcmp(bz_model_kind_name(k), kind) != 0) {
        fprintf(stderr, "boltzcl %s: %s holds %s model (%s), not %s\n", cmd, path,
                bz_model_kind_name(k), bz_model_kind_description(k), kind);
        bz_model_free(m);
        return NULL;
    }
    return m;
}

void bz_cli_tile_shape(size_t dim, size_t height, size_t width, size_t *th, size_t *tw)
{
    if (height && width && height * width == dim) {
        *th = height;
        *tw = width;
        return;
    }
    size_t s = (size_t)llround(sqrt((double)dim));
    if (s * s == dim) {
        *th = *tw = s;
    } else {
        *th = 1;
        *tw = dim;
    }
}

void bz_cli_unstandardize(const bz_rbm *rbm, float *x, size_t rows)
{
    if (!rbm->data_mean)
        return;
    for (size_t r = 0; r < rows; r++)
        for (size_t i = 0; i < rbm->nv; i++) {
            float *v = &x[r * rbm->nv + i];
            /* The pixels were scaled to [0, 1] before standardising. */
            *v = *v * rbm->data_std[i] + rbm->data_mean[i];
            *v = *v < 0 ? 0 : *v > 1 ? 1 : *v;
        }
}

static size_t grid_cols(size_t n)
{
    size_t c = (size_t)ceil(sqrt((double)n));
    return c ? c : 1;
}

static int png_fail(const char *cmd, bz_error *err)
{
    fprintf(stderr, "boltzcl %s: %s\n", cmd, err->msg);
    return -1;
}

int bz_cli_write_filters(const char *cmd, bz_rbm *rbm, size_t th, size_t tw, const char *path)
{
    size_t nv = rbm->nv, nh = rbm->nh;
    float *w = malloc(nv * nh * sizeof *w), *tiles = malloc(nv * nh * sizeof *tiles);
    if (!w || !tiles) {
        free(w);
        free(tiles);
        fprintf(stderr, "boltzcl %s: out of memory\n", cmd);
        return -1;
    }
    bz_status st = bz_rbm_get_params(rbm, w, NULL, NULL);
    if (st) {
        free(w);
        free(tiles);
        return bz_cli_fail(cmd, rbm->ctx, st) ? -1 : -1;
    }
    /* One tile per hidden unit: its column of W. */
    for (size_t j = 0; j < nh; j++)
        for (size_t i = 0; i < nv; i++)
            tiles[j * nv + i] = w[i * nh + j];
    bz_error err = {0};
    int rc = 0;
    if (bz_png_write_tiles(path, tiles, nh, th, tw, grid_cols(nh), 1, &err))
        rc = png_fail(cmd, &err);
    free(w);
    free(tiles);
    return rc;
}

int bz_cli_write_samples(const char *cmd, bz_rbm *rbm, size_t n, unsigned steps, uint64_t seed,
                         const float *init, size_t th, size_t tw, const char *path)
{
    float *out = malloc(n * rbm->nv * sizeof *out);
    if (!out) {
        fprintf(stderr, "boltzcl %s: out of memory\n", cmd);
        return -1;
    }
    bz_status st = bz_rbm_sample(rbm, init, n, steps, seed, out);
    if (st) {
        free(out);
        bz_cli_fail(cmd, rbm->ctx, st);
        return -1;
    }
    bz_cli_unstandardize(rbm, out, n);
    bz_error err = {0};
    int rc = 0;
    if (bz_png_write_tiles(path, out, n, th, tw, grid_cols(n), rbm->data_mean != NULL, &err))
        rc = png_fail(cmd, &err);
    free(out);
    return rc;
}

int bz_cli_write_recon(const char *cmd, bz_rbm *rbm, const bz_dataset *ds, size_t n, size_t th,
                       size_t tw, const char *path)
{
    /* Rows of 10: originals, then their reconstructions underneath. */
    const size_t cols = 10;
    if (n > ds->n)
        n = ds->n;
    n = n / cols * cols;
    if (n == 0)
        n = ds->n < cols ? ds->n : cols;
    size_t nv = rbm->nv;
    float *rec = malloc(n * nv * sizeof *rec), *tiles = malloc(2 * n * nv * sizeof *tiles);
    if (!rec || !tiles) {
        free(rec);
        free(tiles);
        fprintf(stderr, "boltzcl %s: out of memory\n", cmd);
        return -1;
    }
    bz_status st = bz_rbm_reconstruct(rbm, ds->x, n, rec);
    if (st) {
        free(rec);
        free(tiles);
        bz_cli_fail(cmd, rbm->ctx, st);
        return -1;
    }
    size_t per_row = n < cols ? n : cols;
    for (size_t i = 0; i < n; i++) {
        size_t row = i / per_row, col = i % per_row;
        memcpy(tiles + ((2 * row) * per_row + col) * nv, ds->x + i * nv, nv * sizeof *tiles);
        memcpy(tiles + ((2 * row + 1) * per_row + col) * nv, rec + i * nv, nv * sizeof *tiles);
    }
    bz_cli_unstandardize(rbm, tiles, 2 * n);
    bz_error err = {0};
    int rc = 0;
    if (bz_png_write_tiles(path, tiles, 2 * n, th, tw, per_row, rbm->data_mean != NULL, &err))
        rc = png_fail(cmd, &err);
    free(rec);
    free(tiles);
    return rc;
}
