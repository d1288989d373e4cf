/*
 * The DyBM kind (model in dybm.h). File schema, through the generic loader
 * (model_file.c):
 *   metadata  units (gaussian or binary), n (variables), delay (d),
 *             decays (the K decay rates, "0.2,0.5,0.8" or "none");
 *   tensor P      M x N, M = (d-1+K) N: rows [W[1]^T; ...; W[d-1]^T;
 *                 U_1^T; ...; U_K^T], so that the field is b + P^T z;
 *   tensor b      N;
 *   tensors mean, scale   N each: the standardisation of the training
 *                 series, x_std = (x - mean) / scale (0 and 1 for binary);
 *   tensor sigma  N: the residual standard deviation of each variable in
 *                 standardised units (what sampling adds to the mean).
 * Free metadata carries the training settings and the data's name.
 */
#include "models/dybm.h"
#include "models/dybm_trainer.h"
#include "models/model.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const own_meta[] = {"units", "n", "delay", "decays", NULL};

static bz_status dybm_write(void *impl, bz_model_writer *wr)
{
    bz_dybm *d = impl;
    const size_t N = d->n, M = bz_dybm_inputs(d);
    char dec[BZ_DYBM_MAX_DECAYS * 24 + 8] = "";
    for (size_t k = 0; k < d->k; k++)
        snprintf(dec + strlen(dec), sizeof dec - strlen(dec), "%s%.9g", k ? "," : "",
                 (double)d->decay[k]);
    float *P = malloc(M * N * sizeof *P), *b = malloc(N * sizeof *b);
    bz_status st = P && b ? bz_dybm_get_params(d, P, b)
                          : bz_fail(wr->ctx, BZ_E_NOMEM, "out of memory");
    if (!st)
        st = bz_mw_meta(wr, "units", d->binary ? "binary" : "gaussian");
    if (!st)
        st = bz_mw_count(wr, "n", N);
    if (!st)
        st = bz_mw_count(wr, "delay", d->delay);
    if (!st)
        st = bz_mw_meta(wr, "decays", d->k ? dec : "none");
    if (!st)
        st = bz_mw_host(wr, "P", M, N, P);
    if (!st)
        st = bz_mw_host(wr, "b", 0, N, b);
    if (!st)
        st = bz_mw_host(wr, "mean", 0, N, d->mean);
    if (!st)
        st = bz_mw_host(wr, "scale", 0, N, d->scale);
    if (!st)
        st = bz_mw_host(wr, "sigma", 0, N, d->sigma);
    free(P);
    free(b);
    return st;
}

static bz_status dybm_read(const bz_model_reader *rd, void **impl)
{
    bz_context *c = rd->ctx;
    const char *units = bz_mr_meta(rd, "units"), *decs = bz_mr_meta(rd, "decays");
    if (!units || (strcmp(units, "gaussian") && strcmp(units, "binary")))
        return bz_fail(c, BZ_E_FORMAT, "%s: metadata 'units' must be gaussian or binary",
                       rd->path);
    float dec[BZ_DYBM_MAX_DECAYS];
    size_t K, N, D;
    if (!decs || !bz_dybm_parse_decays(decs, dec, &K))
        return bz_fail(c, BZ_E_FORMAT, "%s: metadata 'decays' must be up to %d rates in [0, 1) "
                                       "separated by commas, or none", rd->path,
                       BZ_DYBM_MAX_DECAYS);
    bz_status st = bz_mr_count(rd, "n", 1, BZ_DYBM_MAX_N, &N);
    if (!st)
        st = bz_mr_count(rd, "delay", 1, BZ_DYBM_MAX_DELAY, &D);
    if (st)
        return st;
    bz_dybm *d = NULL;
    if ((st = bz_dybm_create(c, N, D, dec, K, !strcmp(units, "binary"), &d)))
        return st;
    const size_t M = bz_dybm_inputs(d);
    float *P = malloc(M * N * sizeof *P), *b = malloc(N * sizeof *b);
    if (!P || !b)
        st = bz_fail(c, BZ_E_NOMEM, "%s: out of memory", rd->path);
    if (!st)
        st = bz_mr_host(rd, "P", M, N, P);
    if (!st)
        st = bz_mr_host(rd, "b", 0, N, b);
    if (!st)
        st = bz_mr_host(rd, "mean", 0, N, d->mean);
    if (!st)
        st = bz_mr_host(rd, "scale", 0, N, d->scale);
    if (!st)
        st = bz_mr_host(rd, "sigma", 0, N, d->sigma);
    for (size_t i = 0; i < N && !st; i++)
        if (!(d->scale[i] > 0) || !(d->sigma[i] >= 0))
            st = bz_fail(c, BZ_E_FORMAT, "%s: variable %zu has scale %g and sigma %g; a scale "
                                         "must be > 0 and sigma >= 0", rd->path, i,
                         (double)d->scale[i], (double)d->sigma[i]);
    if (!st)
        st = bz_dybm_set_params(d, P, b);
    free(P);
    free(b);
    if (st) {
        bz_dybm_free(d);
        return st;
    }
    *impl = d;
    return BZ_OK;
}

static void dybm_destroy(void *impl)
{
    bz_dybm_free(impl);
}

static bz_meta *dybm_meta(void *impl)
{
    return &((bz_dybm *)impl)->meta;
}

static void dybm_shape(const void *impl, bz_model_shape *out)
{
    const bz_dybm *d = impl;
    memset(out, 0, sizeof *out);
    out->n_inputs = d->n;
    out->n_layers = 1;
    out->layers[0] = d->n;
}

/* n samples: a sequence of n patterns generated from an empty history (in
 * the series' own units), Gaussian noise of the residual sd added or
 * binary units drawn; steps is not used (each step is one draw). */
static bz_status dybm_sample(void *impl, const int32_t *labels, size_t n, unsigned steps,
                             uint64_t seed, float *out)
{
    (void)steps;
    bz_dybm *d = impl;
    if (labels)
        return bz_fail(d->ctx, BZ_E_UNSUPPORTED, "a DyBM has no classes to clamp");
    float *noise = malloc((n * d->n + 1) * sizeof *noise);
    if (!noise)
        return bz_fail(d->ctx, BZ_E_NOMEM, "out of memory");
    bz_dybm_noise(d, seed, 0, noise, n);
    bz_status st = bz_dybm_reset(d, 1);
    if (!st)
        st = bz_dybm_run_host(d, BZ_DYBM_GENERATE, noise, out, n);
    for (size_t q = 0; q < n * d->n && !st; q++)
        out[q] = out[q] * d->scale[q % d->n] + d->mean[q % d->n];
    free(noise);
    return st;
}

const bz_model_kind bz_kind_dybm = {
    .version = BZ_MODEL_KIND_VERSION,
    .name = "dybm",
    .description = "dynamic Boltzmann machine for time series",
    .article = "a DyBM",
    .own_meta = own_meta,
    .read = dybm_read,
    .write = dybm_write,
    .destroy = dybm_destroy,
    .meta = dybm_meta,
    .shape = dybm_shape,
    .transform = NULL,
    .reconstruct = NULL,
    .sample = dybm_sample,
    .free_energy = NULL,
    .score = NULL,
    .log_z = NULL,
    .predict_proba = NULL,
    .train = &bz_dybm_train_hooks,
};

bz_status bz_dybm_save(bz_dybm *d, const char *path)
{
    return bz_model_file_write(&bz_kind_dybm, d, d->ctx, path, NULL, NULL);
}

bz_status bz_dybm_load(bz_context *ctx, const char *path, bz_dybm **out)
{
    *out = NULL;
    return bz_model_file_read(ctx, path, &bz_kind_dybm, NULL, NULL, (void **)out, NULL);
}
