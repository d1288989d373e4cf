/*
 * RBMs as safetensors files: tensors W [n_visible, n_hidden], vbias, hbias,
 * and string metadata naming the format, model, unit types and version, so
 * that Python's safetensors (or a few lines of numpy) can open them and so
 * that a file from elsewhere is recognised and refused. Checkpoints add the
 * training state under extra tensor names.
 */
#include "io/safetensors.h"
#include "models/rbm.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FORMAT_TAG "boltzcl"

typedef struct host_params {
    float *w, *vb, *hb, *vw, *vvb, *vhb, *q, *chain;
} host_params;

static void free_host(host_params *h)
{
    free(h->w);
    free(h->vb);
    free(h->hb);
    free(h->vw);
    free(h->vvb);
    free(h->vhb);
    free(h->q);
    free(h->chain);
    memset(h, 0, sizeof *h);
}

static bz_status save(bz_rbm *r, const char *path, bool checkpoint, bz_rbm_resume at,
                      const bz_meta *extra)
{
    bz_context *c = r->ctx;
    const size_t nv = r->nv, nh = r->nh;
    host_params h = {0};
    h.w = malloc(nv * nh * 4);
    h.vb = malloc(nv * 4);
    h.hb = malloc(nh * 4);
    if (checkpoint) {
        h.vw = malloc(nv * nh * 4);
        h.vvb = malloc(nv * 4);
        h.vhb = malloc(nh * 4);
        h.q = malloc(nh * 4);
        if (r->chain_valid)
            h.chain = malloc(r->chain.count * 4);
    }
    bz_status st = BZ_OK;
    if (!h.w || !h.vb || !h.hb ||
        (checkpoint && (!h.vw || !h.vvb || !h.vhb || !h.q || (r->chain_valid && !h.chain)))) {
        free_host(&h);
        return bz_fail(c, BZ_E_NOMEM, "out of memory saving %s", path);
    }
    if ((st = bz_rbm_get_params(r, h.w, h.vb, h.hb)))
        goto out;
    if (checkpoint && ((st = bz_buf_read(c, &r->vW, 0, h.vw, nv * nh)) ||
                       (st = bz_buf_read(c, &r->vvb, 0, h.vvb, nv)) ||
                       (st = bz_buf_read(c, &r->vhb, 0, h.vhb, nh)) ||
                       (st = bz_buf_read(c, &r->q, 0, h.q, nh)) ||
                       (h.chain && (st = bz_buf_read(c, &r->chain, 0, h.chain, r->chain.count)))))
        goto out;

    bz_st_writer *w = NULL;
    bz_error err = {0};
    char num[32];
    size_t shp_w[2] = {nv, nh}, shp_v[1] = {nv}, shp_h[1] = {nh},
           shp_c[2] = {r->chain.count / nh, nh};
    st = bz_st_writer_create(&w, &err);
    if (!st)
        st = bz_st_writer_add(w, "W", BZ_ST_F32, 2, shp_w, h.w, 0, &err);
    if (!st)
        st = bz_st_writer_add(w, "vbias", BZ_ST_F32, 1, shp_v, h.vb, 0, &err);
    if (!st)
        st = bz_st_writer_add(w, "hbias", BZ_ST_F32, 1, shp_h, h.hb, 0, &err);
    if (!st && r->data_mean)
        st = bz_st_writer_add(w, "data_mean", BZ_ST_F32, 1, shp_v, r->data_mean, 0, &err);
    if (!st && r->data_std)
        st = bz_st_writer_add(w, "data_std", BZ_ST_F32, 1, shp_v, r->data_std, 0, &err);
    if (!st && checkpoint) {
        st = bz_st_writer_add(w, "W_velocity", BZ_ST_F32, 2, shp_w, h.vw, 0, &err);
        if (!st)
            st = bz_st_writer_add(w, "vbias_velocity", BZ_ST_F32, 1, shp_v, h.vvb, 0, &err);
        if (!st)
            st = bz_st_writer_add(w, "hbias_velocity", BZ_ST_F32, 1, shp_h, h.vhb, 0, &err);
        if (!st)
            st = bz_st_writer_add(w, "sparsity_q", BZ_ST_F32, 1, shp_h, h.q, 0, &err);
        if (!st && h.chain)
            st = bz_st_writer_add(w, "pcd_chains", BZ_ST_F32, 2, shp_c, h.chain, 0, &err);
        snprintf(num, sizeof num, "%u", at.epoch);
        if (!st)
            st = bz_st_writer_set_meta(w, "checkpoint_next_epoch", num, &err);
        snprintf(num, sizeof num, "%zu", at.batch);
        if (!st)
            st = bz_st_writer_set_meta(w, "checkpoint_next_batch", num, &err);
    }
    if (!st)
        st = bz_st_writer_set_meta(w, "format", FORMAT_TAG, &err);
    if (!st)
        st = bz_st_writer_set_meta(w, "model", "rbm", &err);
    if (!st)
        st = bz_st_writer_set_meta(w, "boltzcl_version", BOLTZCL_VERSION_STRING, &err);
    if (!st)
        st = bz_st_writer_set_meta(w, "visible", r->vis->name, &err);
    if (!st)
        st = bz_st_writer_set_meta(w, "hidden", r->hid->name, &err);
    snprintf(num, sizeof num, "%zu", nv);
    if (!st)
        st = bz_st_writer_set_meta(w, "n_visible", num, &err);
    snprintf(num, sizeof num, "%zu", nh);
    if (!st)
        st = bz_st_writer_set_meta(w, "n_hidden", num, &err);
    for (size_t i = 0; !st && i < r->meta.n; i++)
        st = bz_st_writer_set_meta(w, r->meta.key[i], r->meta.val[i], &err);
    for (size_t i = 0; !st && extra && i < extra->n; i++)
        st = bz_st_writer_set_meta(w, extra->key[i], extra->val[i], &err);
    if (!st)
        st = bz_st_writer_write(w, path, &err);
    bz_st_writer_free(w);
    if (st)
        bz_fail(c, st, "%s", err.msg);
out:
    free_host(&h);
    return st;
}

bz_status bz_rbm_save(bz_rbm *r, const char *path)
{
    if (!r || !path)
        return BZ_E_INVALID_ARG;
    return save(r, path, false, (bz_rbm_resume){0, 0}, NULL);
}

bz_status bz_rbm_save_checkpoint(bz_rbm *r, const char *path, bz_rbm_resume at)
{
    if (!r || !path)
        return BZ_E_INVALID_ARG;
    return save(r, path, true, at, NULL);
}

bz_status bz_rbm_save_checkpoint_meta(bz_rbm *r, const char *path, bz_rbm_resume at,
                                      const bz_meta *extra)
{
    if (!r || !path)
        return BZ_E_INVALID_ARG;
    return save(r, path, true, at, extra);
}

static bz_status parse_count(bz_context *c, const bz_st_file *f, const char *path,
                             const char *key, size_t *out)
{
    const char *v = bz_st_meta(f, key);
    char *end = NULL;
    errno = 0;
    unsigned long long x = v ? strtoull(v, &end, 10) : 0;
    if (!v || errno || end == v || *end || x == 0 || x > (1u << 24))
        return bz_fail(c, BZ_E_FORMAT, "%s: metadata '%s' is %s%s%s, expected a unit count",
                       path, key, v ? "'" : "missing", v ? v : "", v ? "'" : "");
    *out = (size_t)x;
    return BZ_OK;
}

static bz_status read_tensor(bz_context *c, const bz_st_file *f, const char *path,
                             const char *name, int ndim, const size_t *shape, float *dst,
                             bool optional, bool *found)
{
    if (found)
        *found = bz_st_find(f, name) != NULL;
    if (optional && !bz_st_find(f, name))
        return BZ_OK;
    bz_error err = {0};
    bz_status st = bz_st_read_f32(f, name, ndim, shape, dst, &err);
    if (st)
        return bz_fail(c, st, "%s", err.msg);
    size_t n = 1;
    for (int i = 0; i < ndim; i++)
        n *= shape[i];
    for (size_t i = 0; i < n; i++)
        if (!isfinite(dst[i]))
            return bz_fail(c, BZ_E_FORMAT, "%s: tensor '%s' holds a non-finite value at index %zu",
                           path, name, i);
    (void)path;
    return BZ_OK;
}

static bz_status load(bz_context *c, const char *path, bz_rbm **out, bz_rbm_resume *at)
{
    if (!c || !path || !out)
        return BZ_E_INVALID_ARG;
    *out = NULL;
    bz_st_file *f = NULL;
    bz_error err = {0};
    bz_status st = bz_st_open(path, &f, &err);
    if (st)
        return bz_fail(c, st, "%s", err.msg);
    host_params h = {0};
    bz_rbm *r = NULL;
    const char *fmt = bz_st_meta(f, "format"), *model = bz_st_meta(f, "model");
    if (!fmt || strcmp(fmt, FORMAT_TAG) != 0) {
        st = bz_fail(c, BZ_E_FORMAT,
                     "%s: not a boltzcl model (a safetensors file without format=boltzcl "
                     "metadata)",
                     path);
        goto out;
    }
    if (!model || strcmp(model, "rbm") != 0) {
        st = bz_fail(c, BZ_E_FORMAT, "%s: holds a boltzcl '%s' model, not an RBM", path,
                     model ? model : "(unnamed)");
        goto out;
    }
    const bz_units *vis = bz_units_by_name(bz_st_meta(f, "visible"));
    const char *hid = bz_st_meta(f, "hidden");
    if (!vis || !hid || strcmp(hid, "bernoulli") != 0) {
        st = bz_fail(c, BZ_E_FORMAT, "%s: unknown unit types (visible '%s', hidden '%s')", path,
                     bz_st_meta(f, "visible") ? bz_st_meta(f, "visible") : "?", hid ? hid : "?");
        goto out;
    }
    size_t nv, nh;
    if ((st = parse_count(c, f, path, "n_visible", &nv)) ||
        (st = parse_count(c, f, path, "n_hidden", &nh)))
        goto out;
    if (nv * nh > ((size_t)1 << 31)) {
        st = bz_fail(c, BZ_E_FORMAT, "%s: %zu x %zu weights is more than boltzcl supports", path,
                     nv, nh);
        goto out;
    }
    size_t shp_w[2] = {nv, nh}, shp_v[1] = {nv}, shp_h[1] = {nh};
    h.w = malloc(nv * nh * 4);
    h.vb = malloc(nv * 4);
    h.hb = malloc(nh * 4);
    if (!h.w || !h.vb || !h.hb) {
        st = bz_fail(c, BZ_E_NOMEM, "out of memory loading %s", path);
        goto out;
    }
    if ((st = read_tensor(c, f, path, "W", 2, shp_w, h.w, false, NULL)) ||
        (st = read_tensor(c, f, path, "vbias", 1, shp_v, h.vb, false, NULL)) ||
        (st = read_tensor(c, f, path, "hbias", 1, shp_h, h.hb, false, NULL)))
        goto out;
    if ((st = bz_rbm_create(c, nv, nh, vis->type, 0, &r)) ||
        (st = bz_rbm_set_params(r, h.w, h.vb, h.hb)))
        goto out;
    if (bz_st_find(f, "data_mean") || bz_st_find(f, "data_std")) {
        /* Both or neither; reuse the velocity scratch for the host copies. */
        h.vvb = malloc(nv * 4);
        h.q = malloc(nv * 4);
        if (!h.vvb || !h.q) {
            st = bz_fail(c, BZ_E_NOMEM, "out of memory loading %s", path);
            goto out;
        }
        if ((st = read_tensor(c, f, path, "data_mean", 1, shp_v, h.vvb, false, NULL)) ||
            (st = read_tensor(c, f, path, "data_std", 1, shp_v, h.q, false, NULL)) ||
            (st = bz_rbm_set_standardization(r, h.vvb, h.q)))
            goto out;
        free(h.vvb);
        free(h.q);
        h.vvb = h.q = NULL;
    }
    for (size_t i = 0; i < bz_st_meta_count(f); i++) {
        const char *k, *v;
        bz_st_meta_at(f, i, &k, &v);
        static const char *const own[] = {"format", "model", "boltzcl_version", "visible",
                                          "hidden", "n_visible", "n_hidden",
                                          "checkpoint_next_epoch", "checkpoint_next_batch"};
        bool skip = false;
        for (size_t j = 0; j < sizeof own / sizeof *own; j++)
            skip = skip || strcmp(k, own[j]) == 0;
        if (!skip && (st = bz_rbm_set_meta(r, k, v)))
            goto out;
    }
    if (at) {
        const char *ne = bz_st_meta(f, "checkpoint_next_epoch");
        const char *nb = bz_st_meta(f, "checkpoint_next_batch");
        char *end = NULL, *end2 = NULL;
        unsigned long e = ne ? strtoul(ne, &end, 10) : 0;
        unsigned long long b = nb ? strtoull(nb, &end2, 10) : 0;
        if (!ne || *end || end == ne || e >= (1u << 24) || !nb || *end2 || end2 == nb ||
            b > (1ull << 32)) {
            st = bz_fail(c, BZ_E_FORMAT, "%s: is a model, not a checkpoint (no valid "
                                         "checkpoint_next_epoch/batch)", path);
            goto out;
        }
        at->epoch = (unsigned)e;
        at->batch = (size_t)b;
        h.vw = malloc(nv * nh * 4);
        h.vvb = malloc(nv * 4);
        h.vhb = malloc(nh * 4);
        h.q = malloc(nh * 4);
        if (!h.vw || !h.vvb || !h.vhb || !h.q) {
            st = bz_fail(c, BZ_E_NOMEM, "out of memory loading %s", path);
            goto out;
        }
        if ((st = read_tensor(c, f, path, "W_velocity", 2, shp_w, h.vw, false, NULL)) ||
            (st = read_tensor(c, f, path, "vbias_velocity", 1, shp_v, h.vvb, false, NULL)) ||
            (st = read_tensor(c, f, path, "hbias_velocity", 1, shp_h, h.vhb, false, NULL)) ||
            (st = read_tensor(c, f, path, "sparsity_q", 1, shp_h, h.q, false, NULL)))
            goto out;
        if ((st = bz_buf_write(c, &r->vW, 0, h.vw, nv * nh)) ||
            (st = bz_buf_write(c, &r->vvb, 0, h.vvb, nv)) ||
            (st = bz_buf_write(c, &r->vhb, 0, h.vhb, nh)) || (st = bz_buf_write(c, &r->q, 0, h.q, nh)))
            goto out;
        const bz_st_tensor *ch = bz_st_find(f, "pcd_chains");
        if (ch) {
            if (ch->ndim != 2 || ch->shape[1] != nh || ch->shape[0] == 0 ||
                ch->shape[0] > (1u << 20)) {
                st = bz_fail(c, BZ_E_FORMAT, "%s: tensor 'pcd_chains' has the wrong shape", path);
                goto out;
            }
            size_t rows = ch->shape[0], shp_c[2] = {rows, nh};
            h.chain = malloc(rows * nh * 4);
            if (!h.chain) {
                st = bz_fail(c, BZ_E_NOMEM, "out of memory loading %s", path);
                goto out;
            }
            if ((st = read_tensor(c, f, path, "pcd_chains", 2, shp_c, h.chain, false, NULL)) ||
                (st = bz_rbm_reserve_chains(r, rows)) ||
                (st = bz_buf_write(c, &r->chain, 0, h.chain, rows * nh)))
                goto out;
            r->chain_valid = true;
        }
    }
    *out = r;
    r = NULL;
out:
    bz_rbm_free(r);
    free_host(&h);
    bz_st_close(f);
    return st;
}

bz_status bz_rbm_load(bz_context *ctx, const char *path, bz_rbm **out)
{
    return load(ctx, path, out, NULL);
}

bz_status bz_rbm_load_checkpoint(bz_context *ctx, const char *path, bz_rbm **out,
                                 bz_rbm_resume *at)
{
    return load(ctx, path, out, at);
}
