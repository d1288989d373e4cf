/*
 * The DBN kind. File schema: the classifier's tensors "ff.W<l>" and
 * "ff.b<l>" (l = 0..L, the last the softmax layer), the generative stack's
 * "rbm<l>.W", "rbm<l>.vbias", "rbm<l>.hbias" when pretrained, and metadata
 * layers (inputs first, e.g. "784,500,500"), n_classes, activation,
 * generative (yes/no). Files go through the generic loader (model_file.c).
 */
#include "models/dbn.h"
#include "models/model.h"

#include <stdio.h>
#include <string.h>

static const char *const own_meta[] = {"layers", "activation", "generative", "n_classes", NULL};

static bz_status dbn_write(void *impl, bz_model_writer *wr)
{
    bz_dbn *d = impl;
    char name[64];
    bz_status st = BZ_OK;
    for (size_t l = 0; l <= d->L && !st; l++) {
        snprintf(name, sizeof name, "ff.W%zu", l);
        st = bz_mw_buf(wr, name, d->s[l], d->s[l + 1], &d->W[l]);
        snprintf(name, sizeof name, "ff.b%zu", l);
        if (!st)
            st = bz_mw_buf(wr, name, 0, d->s[l + 1], &d->b[l]);
    }
    for (size_t l = 0; d->generative && l < d->L && !st; l++) {
        bz_rbm *r = d->rbm[l];
        snprintf(name, sizeof name, "rbm%zu.W", l);
        st = bz_mw_buf(wr, name, r->nv, r->nh, &r->W);
        snprintf(name, sizeof name, "rbm%zu.vbias", l);
        if (!st)
            st = bz_mw_buf(wr, name, 0, r->nv, &r->vb);
        snprintf(name, sizeof name, "rbm%zu.hbias", l);
        if (!st)
            st = bz_mw_buf(wr, name, 0, r->nh, &r->hb);
    }
    if (!st)
        st = bz_mw_layers(wr, "layers", d->s, d->L + 1);
    if (!st)
        st = bz_mw_meta(wr, "activation", bz_dbn_act_name(d->act));
    if (!st)
        st = bz_mw_meta(wr, "generative", d->generative ? "yes" : "no");
    if (!st)
        st = bz_mw_count(wr, "n_classes", d->K);
    return st;
}

static bz_status dbn_read(const bz_model_reader *rd, void **impl)
{
    bz_context *c = rd->ctx;
    size_t s[BZ_DBN_MAX_LAYERS + 2], n = 0, K = 0;
    bz_status st;
    if ((st = bz_mr_layers(rd, "layers", 2, BZ_DBN_MAX_LAYERS + 1, s, &n)))
        return st;
    const size_t L = n - 1;
    const char *an = bz_mr_meta(rd, "activation"), *gen = bz_mr_meta(rd, "generative");
    bz_dbn_act act;
    if (bz_dbn_act_parse(an, &act) || !gen || (strcmp(gen, "yes") && strcmp(gen, "no")))
        return bz_fail(c, BZ_E_FORMAT, "%s: DBN metadata activation '%s', generative '%s' not "
                                       "understood", rd->path, an ? an : "?", gen ? gen : "?");
    if ((st = bz_mr_count(rd, "n_classes", 2, 4096, &K)))
        return st;
    bz_dbn *d = NULL;
    if ((st = bz_dbn_create(c, s, L, K, act, 0, &d)))
        return st;
    char name[64];
    for (size_t l = 0; l <= L && !st; l++) {
        snprintf(name, sizeof name, "ff.W%zu", l);
        st = bz_mr_buf(rd, name, d->s[l], d->s[l + 1], &d->W[l]);
        snprintf(name, sizeof name, "ff.b%zu", l);
        if (!st)
            st = bz_mr_buf(rd, name, 0, d->s[l + 1], &d->b[l]);
    }
    if (!st && !strcmp(gen, "yes")) {
        for (size_t l = 0; l < L && !st; l++) {
            size_t nv = d->s[l] + (l + 1 == L ? K : 0);
            if ((st = bz_rbm_create(c, nv, d->s[l + 1], BZ_UNIT_BERNOULLI, 0, &d->rbm[l])))
                break;
            bz_rbm *r = d->rbm[l];
            if (l + 1 == L)
                bz_dbn_use_label_units(r, K);
            snprintf(name, sizeof name, "rbm%zu.W", l);
            st = bz_mr_buf(rd, name, nv, d->s[l + 1], &r->W);
            snprintf(name, sizeof name, "rbm%zu.vbias", l);
            if (!st)
                st = bz_mr_buf(rd, name, 0, nv, &r->vb);
            snprintf(name, sizeof name, "rbm%zu.hbias", l);
            if (!st)
                st = bz_mr_buf(rd, name, 0, d->s[l + 1], &r->hb);
        }
        d->generative = !st;
    }
    if (st) {
        bz_dbn_free(d);
        return st;
    }
    *impl = d;
    return BZ_OK;
}

static void dbn_destroy(void *impl)
{
    bz_dbn_free(impl);
}

static bz_meta *dbn_meta(void *impl)
{
    return &((bz_dbn *)impl)->meta;
}

static void dbn_shape(const void *impl, bz_model_shape *s)
{
    const bz_dbn *d = impl;
    *s = (bz_model_shape){.n_inputs = d->s[0], .n_features = d->s[d->L], .n_classes = d->K,
                          .n_layers = d->L + 2};
    for (size_t l = 0; l <= d->L + 1 && l < BZ_MODEL_MAX_LAYERS; l++)
        s->layers[l] = d->s[l];
}

static bz_status dbn_transform(void *impl, const float *x, size_t n, float *out)
{
    return bz_dbn_transform(impl, x, n, out);
}

static bz_status dbn_sample(void *impl, const int32_t *labels, size_t n, unsigned steps,
                            uint64_t seed, float *out)
{
    bz_dbn *d = impl;
    if (!labels)
        return bz_fail(d->ctx, BZ_E_INVALID_ARG, "a DBN samples with a class clamped: give a "
                                                 "label per sample");
    return bz_dbn_generate(d, labels, n, steps, seed, out);
}

static bz_status dbn_predict_proba(void *impl, const float *x, size_t n, float *prob)
{
    return bz_dbn_predict_proba(impl, x, n, prob);
}

const bz_model_kind bz_kind_dbn = {
    .version = BZ_MODEL_KIND_VERSION,
    .name = "dbn",
    .description = "deep belief network",
    .article = "a DBN",
    .own_meta = own_meta,
    .read = dbn_read,
    .write = dbn_write,
    .destroy = dbn_destroy,
    .meta = dbn_meta,
    .shape = dbn_shape,
    .transform = dbn_transform,
    .reconstruct = NULL, /* the classifier has no way back down */
    .sample = dbn_sample,
    .free_energy = NULL,
    .score = NULL,
    .log_z = NULL,
    .predict_proba = dbn_predict_proba,
    .train = &bz_dbn_train_hooks,
};

bz_status bz_dbn_save(bz_dbn *d, const char *path)
{
    if (!d || !path)
        return BZ_E_INVALID_ARG;
    return bz_model_file_write(&bz_kind_dbn, d, d->ctx, path, NULL, NULL);
}

bz_status bz_dbn_load(bz_context *c, const char *path, bz_dbn **out)
{
    if (!out)
        return BZ_E_INVALID_ARG;
    *out = NULL;
    return bz_model_file_read(c, path, &bz_kind_dbn, NULL, NULL, (void **)out, NULL);
}
