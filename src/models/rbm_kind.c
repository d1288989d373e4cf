/*
 * The RBM kind: its file schema (tensors W [n_visible, n_hidden], vbias,
 * hbias, data_mean/data_std for standardised Gaussian models; metadata
 * visible, hidden, n_visible, n_hidden), its operations, and the
 * checkpoints that add the training state (velocities, sparsity estimates,
 * PCD chains, where to resume) under extra names. Files go through the
 * generic loader (model_file.c).
 */
#include "models/model.h"
#include "models/rbm.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const own_meta[] = {"visible", "hidden", "n_visible", "n_hidden",
                                       "checkpoint_next_epoch", "checkpoint_next_batch", NULL};

static bz_status rbm_read(const bz_model_reader *rd, void **impl)
{
    bz_context *c = rd->ctx;
    const bz_units *vis = bz_units_by_name(bz_mr_meta(rd, "visible"));
    const char *hid = bz_mr_meta(rd, "hidden");
    if (!vis || !hid || strcmp(hid, "bernoulli") != 0)
        return bz_fail(c, BZ_E_FORMAT, "%s: unknown unit types (visible '%s', hidden '%s')",
                       rd->path, bz_mr_meta(rd, "visible") ? bz_mr_meta(rd, "visible") : "?",
                       hid ? hid : "?");
    size_t nv, nh;
    bz_status st;
    if ((st = bz_mr_count(rd, "n_visible", 1, 1u << 24, &nv)) ||
        (st = bz_mr_count(rd, "n_hidden", 1, 1u << 24, &nh)))
        return st;
    if (nv * nh > ((size_t)1 << 31))
        return bz_fail(c, BZ_E_FORMAT, "%s: %zu x %zu weights is more than boltzcl supports",
                       rd->path, nv, nh);
    bz_rbm *r = NULL;
    if ((st = bz_rbm_create(c, nv, nh, vis->type, 0, &r)) ||
        (st = bz_mr_buf(rd, "W", nv, nh, &r->W)) || (st = bz_mr_buf(rd, "vbias", 0, nv, &r->vb)) ||
        (st = bz_mr_buf(rd, "hbias", 0, nh, &r->hb)))
        goto out;
    if (bz_mr_has(rd, "data_mean") || bz_mr_has(rd, "data_std")) {
        /* both or neither */
        float *m = malloc(nv * sizeof *m), *s = malloc(nv * sizeof *s);
        if (!m || !s)
            st = bz_fail(c, BZ_E_NOMEM, "out of memory loading %s", rd->path);
        if (!st)
            st = bz_mr_host(rd, "data_mean", 0, nv, m);
        if (!st)
            st = bz_mr_host(rd, "data_std", 0, nv, s);
        if (!st)
            st = bz_rbm_set_standardization(r, m, s);
        free(m);
        free(s);
    }
out:
    if (st) {
        bz_rbm_free(r);
        return st;
    }
    *impl = r;
    return BZ_OK;
}

static bz_status rbm_write(void *impl, bz_model_writer *wr)
{
    bz_rbm *r = impl;
    const size_t nv = r->nv, nh = r->nh;
    bz_status st;
    if ((st = bz_mw_buf(wr, "W", nv, nh, &r->W)) || (st = bz_mw_buf(wr, "vbias", 0, nv, &r->vb)) ||
        (st = bz_mw_buf(wr, "hbias", 0, nh, &r->hb)))
        return st;
    if (r->data_mean && (st = bz_mw_host(wr, "data_mean", 0, nv, r->data_mean)))
        return st;
    if (r->data_std && (st = bz_mw_host(wr, "data_std", 0, nv, r->data_std)))
        return st;
    if ((st = bz_mw_meta(wr, "visible", r->vis->name)) ||
        (st = bz_mw_meta(wr, "hidden", r->hid->name)) ||
        (st = bz_mw_count(wr, "n_visible", nv)))
        return st;
    return bz_mw_count(wr, "n_hidden", nh);
}

static void rbm_destroy(void *impl)
{
    bz_rbm_free(impl);
}

static bz_meta *rbm_meta(void *impl)
{
    return &((bz_rbm *)impl)->meta;
}

static void rbm_shape(const void *impl, bz_model_shape *s)
{
    const bz_rbm *r = impl;
    *s = (bz_model_shape){.n_inputs = r->nv, .n_features = r->nh, .n_layers = 2,
                          .layers = {r->nv, r->nh}};
}

static bz_status rbm_transform(void *impl, const float *x, size_t n, float *out)
{
    return bz_rbm_transform(impl, x, n, out);
}

static bz_status rbm_reconstruct(void *impl, const float *x, size_t n, float *out)
{
    return bz_rbm_reconstruct(impl, x, n, out);
}

static bz_status rbm_sample(void *impl, const int32_t *labels, size_t n, unsigned steps,
                            uint64_t seed, float *out)
{
    bz_rbm *r = impl;
    if (labels)
        return bz_fail(r->ctx, BZ_E_UNSUPPORTED, "an RBM has no labels to clamp when sampling");
    return bz_rbm_sample(r, NULL, n, steps, seed, out);
}

static bz_status rbm_free_energy(void *impl, const float *x, size_t n, float *out)
{
    return bz_rbm_free_energy(impl, x, n, out);
}

static bz_status rbm_score(void *impl, bz_model_score_kind what, const float *x, size_t n,
                           uint64_t seed, double *out)
{
    bz_rbm *r = impl;
    if (what == BZ_MS_BOUND)
        return bz_fail(r->ctx, BZ_E_UNSUPPORTED, "an RBM has an exact free energy: score it "
                                                 "with the free energy and log Z, not a bound");
    bz_data *d = NULL;
    bz_status st = bz_data_create(r->ctx, x, n, r->nv, &d);
    if (!st) {
        switch (what) {
        case BZ_MS_FREE_ENERGY: st = bz_rbm_mean_free_energy(r, d, out); break;
        case BZ_MS_PSEUDO_LL: st = bz_rbm_pseudo_log_likelihood(r, d, seed, out); break;
        case BZ_MS_RECON_MSE: st = bz_rbm_reconstruction_error(r, d, out); break;
        default: st = bz_fail(r->ctx, BZ_E_INVALID_ARG, "unknown score %d", (int)what);
        }
    }
    bz_data_free(d);
    return st;
}

static bz_status rbm_log_z(void *impl, const bz_ais_options *ais, const float *base,
                           size_t n_base, bz_ais_result *out)
{
    bz_rbm *r = impl;
    if (!ais) {
        memset(out, 0, sizeof *out);
        bz_status st = bz_rbm_exact_log_z(r, &out->log_z);
        out->log_z_lo = out->log_z_hi = out->log_z;
        return st;
    }
    bz_data *d = NULL;
    bz_status st = base ? bz_data_create(r->ctx, base, n_base, r->nv, &d) : BZ_OK;
    if (!st)
        st = bz_rbm_ais(r, d, ais, out);
    bz_data_free(d);
    return st;
}

const bz_model_kind bz_kind_rbm = {
    .version = BZ_MODEL_KIND_VERSION,
    .name = "rbm",
    .description = "restricted Boltzmann machine",
    .article = "an RBM",
    .own_meta = own_meta,
    .read = rbm_read,
    .write = rbm_write,
    .destroy = rbm_destroy,
    .meta = rbm_meta,
    .shape = rbm_shape,
    .transform = rbm_transform,
    .reconstruct = rbm_reconstruct,
    .sample = rbm_sample,
    .free_energy = rbm_free_energy,
    .score = rbm_score,
    .log_z = rbm_log_z,
    .predict_proba = NULL, /* an RBM does not classify */
    .train = &bz_rbm_train_hooks,
};

/* ---- files: models and checkpoints ---- */

static bz_status write_checkpoint(bz_model_writer *wr, void *impl, void *user)
{
    bz_rbm *r = impl;
    const bz_rbm_resume *at = user;
    const size_t nv = r->nv, nh = r->nh;
    bz_status st;
    if ((st = bz_mw_buf(wr, "W_velocity", nv, nh, &r->vW)) ||
        (st = bz_mw_buf(wr, "vbias_velocity", 0, nv, &r->vvb)) ||
        (st = bz_mw_buf(wr, "hbias_velocity", 0, nh, &r->vhb)) ||
        (st = bz_mw_buf(wr, "sparsity_q", 0, nh, &r->q)))
        return st;
    if (r->chain_valid && (st = bz_mw_buf(wr, "pcd_chains", r->chain.count / nh, nh, &r->chain)))
        return st;
    if ((st = bz_mw_count(wr, "checkpoint_next_epoch", at->epoch)))
        return st;
    return bz_mw_count(wr, "checkpoint_next_batch", at->batch);
}

/* A checkpoint with the trainer's own metadata (position, fingerprint). */
typedef struct checkpoint_meta {
    bz_rbm_resume at;
    const bz_meta *extra;
} checkpoint_meta;

static bz_status write_checkpoint_meta(bz_model_writer *wr, void *impl, void *user)
{
    const checkpoint_meta *cm = user;
    bz_status st = write_checkpoint(wr, impl, (void *)&cm->at);
    for (size_t i = 0; !st && cm->extra && i < cm->extra->n; i++)
        st = bz_mw_meta(wr, cm->extra->key[i], cm->extra->val[i]);
    return st;
}

static bz_status read_checkpoint(const bz_model_reader *rd, void *impl, void *user)
{
    bz_rbm *r = impl;
    bz_rbm_resume *at = user;
    bz_context *c = rd->ctx;
    const size_t nv = r->nv, nh = r->nh;
    size_t e = 0, b = 0;
    if (!bz_mr_meta(rd, "checkpoint_next_epoch") || !bz_mr_meta(rd, "checkpoint_next_batch") ||
        bz_mr_count(rd, "checkpoint_next_epoch", 0, (1u << 24) - 1, &e) ||
        bz_mr_count(rd, "checkpoint_next_batch", 0, (size_t)1 << 32, &b))
        return bz_fail(c, BZ_E_FORMAT, "%s: is a model, not a checkpoint (no valid "
                                       "checkpoint_next_epoch/batch)", rd->path);
    at->epoch = (unsigned)e;
    at->batch = b;
    bz_status st;
    if ((st = bz_mr_buf(rd, "W_velocity", nv, nh, &r->vW)) ||
        (st = bz_mr_buf(rd, "vbias_velocity", 0, nv, &r->vvb)) ||
        (st = bz_mr_buf(rd, "hbias_velocity", 0, nh, &r->vhb)) ||
        (st = bz_mr_buf(rd, "sparsity_q", 0, nh, &r->q)))
        return st;
    const bz_st_tensor *ch = bz_st_find(rd->file, "pcd_chains");
    if (ch) {
        if (ch->ndim != 2 || ch->shape[1] != nh || ch->shape[0] == 0 ||
            ch->shape[0] > (1u << 20))
            return bz_fail(c, BZ_E_FORMAT, "%s: tensor 'pcd_chains' has the wrong shape",
                           rd->path);
        if ((st = bz_rbm_reserve_chains(r, ch->shape[0])) ||
            (st = bz_mr_buf(rd, "pcd_chains", ch->shape[0], nh, &r->chain)))
            return st;
        r->chain_valid = true;
    }
    return BZ_OK;
}

bz_status bz_rbm_save(bz_rbm *r, const char *path)
{
    if (!r || !path)
        return BZ_E_INVALID_ARG;
    return bz_model_file_write(&bz_kind_rbm, r, r->ctx, path, NULL, NULL);
}

bz_status bz_rbm_save_checkpoint(bz_rbm *r, const char *path, bz_rbm_resume at)
{
    if (!r || !path)
        return BZ_E_INVALID_ARG;
    return bz_model_file_write(&bz_kind_rbm, r, r->ctx, path, write_checkpoint, &at);
}

bz_status bz_rbm_save_checkpoint_meta(bz_rbm *r, const char *path, bz_rbm_resume at,
                                      const bz_meta *extra)
{
    if (!r || !path)
        return BZ_E_INVALID_ARG;
    checkpoint_meta cm = {at, extra};
    return bz_model_file_write(&bz_kind_rbm, r, r->ctx, path, write_checkpoint_meta, &cm);
}

bz_status bz_rbm_load(bz_context *ctx, const char *path, bz_rbm **out)
{
    if (!out)
        return BZ_E_INVALID_ARG;
    *out = NULL;
    return bz_model_file_read(ctx, path, &bz_kind_rbm, NULL, NULL, (void **)out, NULL);
}

bz_status bz_rbm_load_checkpoint(bz_context *ctx, const char *path, bz_rbm **out,
                                 bz_rbm_resume *at)
{
    if (!out || !at)
        return BZ_E_INVALID_ARG;
    *out = NULL;
    return bz_model_file_read(ctx, path, &bz_kind_rbm, read_checkpoint, at, (void **)out, NULL);
}
