/*
 * The generic bz_model handle: every call goes to the kind's descriptor
 * (models/model.h); an operation whose hook is NULL is refused with
 * BZ_E_UNSUPPORTED naming the kind.
 */
#include "models/cf.h"
#include "models/dbm.h"
#include "models/ising.h"
#include "models/model.h"

#include <stdlib.h>
#include <string.h>

/* ---- kinds ---- */

const bz_model_kind *bz_model_kind_iterate(void **opaque)
{
    return opaque ? bz_model_kind_next(opaque) : NULL;
}

const bz_model_kind *bz_model_kind_by_name(const char *name)
{
    return bz_model_kind_find(name);
}

const bz_model_kind *bz_model_kind_of_file(const char *path)
{
    char name[64];
    bz_model_file_kind(path, name, sizeof name);
    return name[0] ? bz_model_kind_find(name) : NULL;
}

const char *bz_model_kind_name(const bz_model_kind *k)
{
    return k ? k->name : "";
}

const char *bz_model_kind_description(const bz_model_kind *k)
{
    return k ? k->description : "";
}

unsigned bz_model_kind_ops(const bz_model_kind *k)
{
    if (!k)
        return 0;
    return (k->transform ? BZ_OP_TRANSFORM : 0) | (k->reconstruct ? BZ_OP_RECONSTRUCT : 0) |
           (k->sample ? BZ_OP_SAMPLE : 0) | (k->free_energy ? BZ_OP_FREE_ENERGY : 0) |
           (k->score ? BZ_OP_SCORE : 0) | (k->log_z ? BZ_OP_LOG_Z : 0) |
           (k->predict_proba ? BZ_OP_PREDICT : 0);
}

/* ---- life cycle ---- */

static bz_status wrap(const bz_model_kind *k, bz_context *ctx, void *impl, bz_model **out)
{
    bz_model *m = calloc(1, sizeof *m);
    if (!m)
        return bz_fail(ctx, BZ_E_NOMEM, "out of memory");
    m->kind = k;
    m->ctx = ctx;
    m->impl = impl;
    *out = m;
    return BZ_OK;
}

bz_status bz_model_load(bz_context *ctx, const char *path, bz_model **out)
{
    if (!ctx || !path || !out)
        return BZ_E_INVALID_ARG;
    *out = NULL;
    void *impl = NULL;
    const bz_model_kind *k = NULL;
    bz_status st = bz_model_file_read(ctx, path, NULL, NULL, NULL, &impl, &k);
    if (st)
        return st;
    if ((st = wrap(k, ctx, impl, out)))
        k->destroy(impl);
    return st;
}

bz_status bz_model_save(bz_model *m, const char *path)
{
    if (!m || !path)
        return BZ_E_INVALID_ARG;
    return bz_model_file_write(m->kind, m->impl, m->ctx, path, NULL, NULL);
}

void bz_model_free(bz_model *m)
{
    if (!m)
        return;
    m->kind->destroy(m->impl);
    free(m);
}

#define FROM(kind_, type_, field_)                                                            \
    bz_status bz_model_from_##field_(type_ **typed, bz_model **out)                          \
    {                                                                                         \
        if (!typed || !*typed || !out)                                                        \
            return BZ_E_INVALID_ARG;                                                          \
        bz_status st = wrap(&kind_, (*typed)->ctx, *typed, out);                              \
        if (!st)                                                                              \
            *typed = NULL;                                                                    \
        return st;                                                                            \
    }                                                                                         \
    type_ *bz_model_##field_(bz_model *m)                                                     \
    {                                                                                         \
        return m && m->kind == &kind_ ? m->impl : NULL;                                       \
    }
FROM(bz_kind_rbm, bz_rbm, rbm)
FROM(bz_kind_dbn, bz_dbn, dbn)
FROM(bz_kind_dbm, bz_dbm, dbm)
FROM(bz_kind_ising, bz_ising, ising)
FROM(bz_kind_cf, bz_cf, cf)
#undef FROM

/* ---- what it is ---- */

const bz_model_kind *bz_model_get_kind(const bz_model *m)
{
    return m ? m->kind : NULL;
}

bz_context *bz_model_context(const bz_model *m)
{
    return m ? m->ctx : NULL;
}

static bz_model_shape shape_of(const bz_model *m)
{
    bz_model_shape s = {0};
    if (m)
        m->kind->shape(m->impl, &s);
    return s;
}

size_t bz_model_n_inputs(const bz_model *m)
{
    return shape_of(m).n_inputs;
}

size_t bz_model_n_features(const bz_model *m)
{
    return shape_of(m).n_features;
}

size_t bz_model_n_classes(const bz_model *m)
{
    return shape_of(m).n_classes;
}

size_t bz_model_n_layers(const bz_model *m)
{
    return shape_of(m).n_layers;
}

size_t bz_model_layer_size(const bz_model *m, size_t i)
{
    bz_model_shape s = shape_of(m);
    return i < s.n_layers ? s.layers[i] : 0;
}

const char *bz_model_get_meta(const bz_model *m, const char *key)
{
    return m && key ? bz_meta_get(m->kind->meta(m->impl), key) : NULL;
}

bz_status bz_model_set_meta(bz_model *m, const char *key, const char *value)
{
    if (!m || !key || !value)
        return BZ_E_INVALID_ARG;
    return bz_meta_set(m->kind->meta(m->impl), m->ctx, key, value);
}

/* ---- operations ---- */

/* Checks the handle, the rows and the hook; names the kind when the hook is
 * missing. */
#define NEED(m, hook, op, ...)                                                                \
    do {                                                                                      \
        if (!(m) || __VA_ARGS__)                                                              \
            return BZ_E_INVALID_ARG;                                                          \
        if (!(m)->kind->hook)                                                                 \
            return bz_model_unsupported((m)->ctx, (m)->kind, op);                             \
    } while (0)

bz_status bz_model_transform(bz_model *m, const float *x, size_t n, float *out)
{
    NEED(m, transform, "transform", !x || !out || !n);
    return m->kind->transform(m->impl, x, n, out);
}

bz_status bz_model_reconstruct(bz_model *m, const float *x, size_t n, float *out)
{
    NEED(m, reconstruct, "reconstruct (mean-field reconstruction)", !x || !out || !n);
    return m->kind->reconstruct(m->impl, x, n, out);
}

bz_status bz_model_sample(bz_model *m, const int32_t *labels, size_t n, unsigned steps,
                          uint64_t seed, float *out)
{
    NEED(m, sample, "sample", !out || !n);
    size_t K = bz_model_n_classes(m);
    for (size_t i = 0; labels && i < n; i++)
        if (labels[i] < 0 || (K && (size_t)labels[i] >= K))
            return bz_fail(m->ctx, BZ_E_INVALID_ARG, "label %d of sample %zu is not a class "
                                                     "of the model (0 to %zu)",
                           (int)labels[i], i, K ? K - 1 : 0);
    return m->kind->sample(m->impl, labels, n, steps, seed, out);
}

bz_status bz_model_free_energy(bz_model *m, const float *x, size_t n, float *out)
{
    NEED(m, free_energy, "free energy", !x || !out || !n);
    return m->kind->free_energy(m->impl, x, n, out);
}

bz_status bz_model_score(bz_model *m, bz_score what, const float *x, size_t n, uint64_t seed,
                         double *mean)
{
    NEED(m, score, "scores", !x || !mean || !n);
    if ((unsigned)what > BZ_SCORE_BOUND)
        return bz_fail(m->ctx, BZ_E_INVALID_ARG, "unknown score %d", (int)what);
    return m->kind->score(m->impl, (bz_model_score_kind)what, x, n, seed, mean);
}

bz_status bz_model_log_z(bz_model *m, const bz_ais_options *ais, const float *base,
                         size_t n_base, bz_ais_result *out)
{
    NEED(m, log_z, "log Z (AIS or exact)", !out || (base && !n_base));
    return m->kind->log_z(m->impl, ais, base, n_base, out);
}

bz_status bz_model_predict_proba(bz_model *m, const float *x, size_t n, float *prob)
{
    NEED(m, predict_proba, "predict (it has no classifier)", !x || !prob || !n);
    return m->kind->predict_proba(m->impl, x, n, prob);
}

bz_status bz_model_predict(bz_model *m, const float *x, size_t n, int32_t *classes)
{
    NEED(m, predict_proba, "predict (it has no classifier)", !x || !classes || !n);
    size_t K = bz_model_n_classes(m);
    float *p = malloc(n * (K ? K : 1) * sizeof *p);
    if (!p)
        return bz_fail(m->ctx, BZ_E_NOMEM, "out of memory predicting %zu rows", n);
    bz_status st = m->kind->predict_proba(m->impl, x, n, p);
    for (size_t i = 0; !st && i < n; i++) {
        size_t best = 0;
        for (size_t k = 1; k < K; k++)
            if (p[i * K + k] > p[i * K + best])
                best = k;
        classes[i] = (int32_t)best;
    }
    free(p);
    return st;
}
