/*
 * The DBM kind. File schema: tensors "W<l>" (s[l] x s[l+1], l < L) and
 * "b<l>" (l <= L), the classifier's "clf.W<l>" / "clf.b<l>" when fine-tuned,
 * and metadata layers (visible first, e.g. "784,500,1000"), n_classes (with
 * a classifier). The free entry mf_iters (mean-field sweeps the model was
 * trained with) sets the sweeps of inference. Files go through the generic
 * loader (model_file.c).
 */
#include "models/dbm.h"
#include "models/model.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const own_meta[] = {"layers", "n_classes", NULL};

/* Inference runs as many mean-field sweeps as training did, to 1e-5. */
#define INFER_TOL 1e-5f

unsigned bz_dbm_infer_iters(const bz_dbm *d)
{
    const char *m = bz_dbm_get_meta(d, "mf_iters");
    unsigned long v = m ? strtoul(m, NULL, 10) : 0;
    return v >= 1 && v <= 1000 ? (unsigned)v : 10;
}

static bz_status dbm_write(void *impl, bz_model_writer *wr)
{
    bz_dbm *d = impl;
    char name[64];
    bz_status st = BZ_OK;
    for (size_t l = 0; l <= d->L && !st; l++) {
        snprintf(name, sizeof name, "b%zu", l);
        st = bz_mw_buf(wr, name, 0, d->s[l], &d->b[l]);
        snprintf(name, sizeof name, "W%zu", l);
        if (!st && l < d->L)
            st = bz_mw_buf(wr, name, d->s[l], d->s[l + 1], &d->W[l]);
    }
    for (size_t l = 0; d->clf && l <= d->clf->L && !st; l++) {
        snprintf(name, sizeof name, "clf.W%zu", l);
        st = bz_mw_buf(wr, name, d->clf->s[l], d->clf->s[l + 1], &d->clf->W[l]);
        snprintf(name, sizeof name, "clf.b%zu", l);
        if (!st)
            st = bz_mw_buf(wr, name, 0, d->clf->s[l + 1], &d->clf->b[l]);
    }
    if (!st)
        st = bz_mw_layers(wr, "layers", d->s, d->L + 1);
    if (!st && d->clf)
        st = bz_mw_count(wr, "n_classes", d->clf->K);
    return st;
}

static bz_status dbm_read(const bz_model_reader *rd, void **impl)
{
    bz_context *c = rd->ctx;
    size_t s[BZ_DBM_MAX_HIDDEN + 2], n = 0;
    bz_status st;
    if ((st = bz_mr_layers(rd, "layers", 3, BZ_DBM_MAX_HIDDEN + 1, s, &n)))
        return st;
    const size_t L = n - 1;
    bz_dbm *d = NULL;
    if ((st = bz_dbm_create(c, s, L, 0, &d)))
        return st;
    char name[64];
    for (size_t l = 0; l <= L && !st; l++) {
        snprintf(name, sizeof name, "b%zu", l);
        st = bz_mr_buf(rd, name, 0, s[l], &d->b[l]);
        snprintf(name, sizeof name, "W%zu", l);
        if (!st && l < L)
            st = bz_mr_buf(rd, name, s[l], s[l + 1], &d->W[l]);
    }
    size_t K = 0;
    if (!st && bz_mr_meta(rd, "n_classes") && !(st = bz_mr_count(rd, "n_classes", 2, 4096, &K))) {
        size_t sizes[BZ_DBM_MAX_HIDDEN + 1] = {s[0] + s[2], s[1], s[2], L > 2 ? s[3] : 0};
        st = bz_dbn_create(c, sizes, L, K, BZ_ACT_SIGMOID, 0, &d->clf);
        for (size_t l = 0; !st && l <= L; l++) {
            snprintf(name, sizeof name, "clf.W%zu", l);
            st = bz_mr_buf(rd, name, d->clf->s[l], d->clf->s[l + 1], &d->clf->W[l]);
            snprintf(name, sizeof name, "clf.b%zu", l);
            if (!st)
                st = bz_mr_buf(rd, name, 0, d->clf->s[l + 1], &d->clf->b[l]);
        }
    }
    if (st) {
        bz_dbm_free(d);
        return st;
    }
    *impl = d;
    return BZ_OK;
}

static void dbm_destroy(void *impl)
{
    bz_dbm_free(impl);
}

static bz_meta *dbm_meta(void *impl)
{
    return &((bz_dbm *)impl)->meta;
}

static void dbm_shape(const void *impl, bz_model_shape *s)
{
    const bz_dbm *d = impl;
    *s = (bz_model_shape){.n_inputs = d->s[0], .n_classes = d->clf ? d->clf->K : 0,
                          .n_layers = d->L + 1};
    for (size_t l = 0; l <= d->L; l++) {
        s->layers[l] = d->s[l];
        s->n_features += l ? d->s[l] : 0;
    }
}

static bz_status dbm_transform(void *impl, const float *x, size_t n, float *out)
{
    return bz_dbm_transform(impl, x, n, bz_dbm_infer_iters(impl), INFER_TOL, out);
}

static bz_status dbm_sample(void *impl, const int32_t *labels, size_t n, unsigned steps,
                            uint64_t seed, float *out)
{
    bz_dbm *d = impl;
    if (labels)
        return bz_fail(d->ctx, BZ_E_UNSUPPORTED, "a DBM has no label units to clamp when "
                                                 "sampling");
    return bz_dbm_sample(d, n, steps, seed, out);
}

static bz_status dbm_score(void *impl, bz_model_score_kind what, const float *x, size_t n,
                           uint64_t seed, double *out)
{
    bz_dbm *d = impl;
    (void)seed;
    if (what != BZ_MS_BOUND)
        return bz_fail(d->ctx, BZ_E_UNSUPPORTED, "a DBM is scored by its variational bound "
                                                 "(free energy, pseudo-likelihood and "
                                                 "reconstruction error are an RBM's)");
    return bz_dbm_mean_bound(d, x, n, bz_dbm_infer_iters(d), INFER_TOL, out);
}

static bz_status dbm_log_z(void *impl, const bz_ais_options *ais, const float *base,
                           size_t n_base, bz_ais_result *out)
{
    bz_dbm *d = impl;
    if (!ais) {
        memset(out, 0, sizeof *out);
        bz_status st = bz_dbm_exact_log_z(d, &out->log_z);
        out->log_z_lo = out->log_z_hi = out->log_z;
        return st;
    }
    return bz_dbm_ais(d, base, n_base, ais, out);
}

static bz_status dbm_predict_proba(void *impl, const float *x, size_t n, float *prob)
{
    bz_dbm *d = impl;
    if (!d->clf)
        return bz_fail(d->ctx, BZ_E_UNSUPPORTED, "this DBM has no classifier (train it with "
                                                 "fine-tuning epochs to predict)");
    return bz_dbm_predict_proba(d, x, n, bz_dbm_infer_iters(d), prob);
}

const bz_model_kind bz_kind_dbm = {
    .version = BZ_MODEL_KIND_VERSION,
    .name = "dbm",
    .description = "deep Boltzmann machine",
    .article = "a DBM",
    .own_meta = own_meta,
    .read = dbm_read,
    .write = dbm_write,
    .destroy = dbm_destroy,
    .meta = dbm_meta,
    .shape = dbm_shape,
    .transform = dbm_transform,
    .reconstruct = NULL,
    .sample = dbm_sample,
    .free_energy = NULL,
    .score = dbm_score,
    .log_z = dbm_log_z,
    .predict_proba = dbm_predict_proba,
    .train = &bz_dbm_train_hooks,
};

bz_status bz_dbm_save(bz_dbm *d, const char *path)
{
    if (!d || !path)
        return BZ_E_INVALID_ARG;
    return bz_model_file_write(&bz_kind_dbm, d, d->ctx, path, NULL, NULL);
}

bz_status bz_dbm_load(bz_context *c, const char *path, bz_dbm **out)
{
    if (!out)
        return BZ_E_INVALID_ARG;
    *out = NULL;
    return bz_model_file_read(c, path, &bz_kind_dbm, NULL, NULL, (void **)out, NULL);
}
