/*
 * The ratings RBM kind ("cf"): its file schema and descriptor. Tensors W
 * [n_cols * classes, hidden], vbias, hbias, D [n_cols, hidden] when
 * conditional (F32); user_ids and item_ids (U32, the file's ids in dense
 * order) and ratings [n, 3] (U32: user index, item index, class), the
 * training ratings the model predicts from. Metadata: hidden, classes,
 * rating_lo, rating_step, rows ("users" or "items"), conditional.
 */
#include "models/cf.h"
#include "models/model.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const own_meta[] = {"hidden", "classes", "rating_lo", "rating_step", "rows",
                                       "conditional", NULL};

/* A U32 tensor of exactly `count` values (rows x cols when rows). */
static bz_status read_u32(const bz_model_reader *rd, const char *name, size_t rows, size_t cols,
                          uint32_t *dst)
{
    const bz_st_tensor *t = bz_st_find(rd->file, name);
    size_t count = rows ? rows * cols : cols;
    if (!t)
        return bz_fail(rd->ctx, BZ_E_FORMAT, "%s: tensor '%s' not found", rd->path, name);
    if (t->dtype != BZ_ST_U32 || t->ndim != (rows ? 2 : 1) || t->numel != count ||
        (rows && (t->shape[0] != rows || t->shape[1] != cols)))
        return bz_fail(rd->ctx, BZ_E_FORMAT, "%s: tensor '%s' is not U32 of %zu values in the "
                       "shape the metadata gives", rd->path, name, count);
    memcpy(dst, t->data, count * sizeof *dst);
    return BZ_OK;
}

static bz_status write_u32(bz_model_writer *wr, const char *name, size_t rows, size_t cols,
                           const uint32_t *src)
{
    size_t shape[2] = {rows, cols};
    bz_status st = bz_st_writer_add(wr->w, name, BZ_ST_U32, rows ? 2 : 1,
                                    rows ? shape : shape + 1, src, 1, &wr->err);
    return st ? bz_fail(wr->ctx, st, "%s", wr->err.msg) : BZ_OK;
}

static bz_status meta_float(const bz_model_reader *rd, const char *key, float *out)
{
    const char *v = bz_mr_meta(rd, key);
    char *end = NULL;
    double d = v ? strtod(v, &end) : NAN;
    if (!v || end == v || *end || !isfinite(d))
        return bz_fail(rd->ctx, BZ_E_FORMAT, "%s: metadata '%s' is missing or not a number",
                       rd->path, key);
    *out = (float)d;
    return BZ_OK;
}

static bz_status cf_read(const bz_model_reader *rd, void **impl)
{
    bz_context *c = rd->ctx;
    bz_cf_config cfg = {0};
    size_t hidden, classes;
    bz_status st;
    if ((st = bz_mr_count(rd, "hidden", 1, 65536, &hidden)) ||
        (st = bz_mr_count(rd, "classes", 2, 15, &classes)) ||
        (st = meta_float(rd, "rating_lo", &cfg.lo)) ||
        (st = meta_float(rd, "rating_step", &cfg.step)))
        return st;
    const char *rows = bz_mr_meta(rd, "rows"), *cond = bz_mr_meta(rd, "conditional");
    if (!rows || (strcmp(rows, "users") && strcmp(rows, "items")) || !cond ||
        (strcmp(cond, "yes") && strcmp(cond, "no")) || !(cfg.step > 0))
        return bz_fail(c, BZ_E_FORMAT, "%s: metadata rows (users/items), conditional (yes/no) "
                       "or rating_step is missing or wrong", rd->path);
    cfg.hidden = hidden;
    cfg.classes = (unsigned)classes;
    cfg.item_based = !strcmp(rows, "items");
    cfg.conditional = !strcmp(cond, "yes");
    const bz_st_tensor *tu = bz_st_find(rd->file, "user_ids"),
                       *ti = bz_st_find(rd->file, "item_ids"),
                       *tr = bz_st_find(rd->file, "ratings");
    if (!tu || !ti || !tr || tu->ndim != 1 || ti->ndim != 1 || tr->ndim != 2 ||
        tr->shape[1] != 3 || !tu->numel || !ti->numel)
        return bz_fail(c, BZ_E_FORMAT, "%s: tensors user_ids, item_ids and ratings [n, 3] are "
                       "missing or of the wrong shape", rd->path);
    size_t nu = tu->numel, ni = ti->numel, nr = tr->shape[0];
    uint32_t *u = malloc(nu * sizeof *u), *it = malloc(ni * sizeof *it),
             *r = malloc((nr ? nr : 1) * 3 * sizeof *r), *ru = malloc((nr ? nr : 1) * sizeof *ru),
             *ri = malloc((nr ? nr : 1) * sizeof *ri);
    uint8_t *rc = malloc(nr ? nr : 1);
    float *W = NULL, *vb = NULL, *hb = NULL, *D = NULL;
    bz_cf *cf = NULL;
    if (!u || !it || !r || !ru || !ri || !rc) {
        st = bz_fail(c, BZ_E_NOMEM, "out of memory loading %s", rd->path);
        goto out;
    }
    if ((st = read_u32(rd, "user_ids", 0, nu, u)) || (st = read_u32(rd, "item_ids", 0, ni, it)) ||
        (st = read_u32(rd, "ratings", nr, 3, r)))
        goto out;
    for (size_t k = 1; k < nu || k < ni; k++)
        if ((k < nu && u[k] <= u[k - 1]) || (k < ni && it[k] <= it[k - 1])) {
            st = bz_fail(c, BZ_E_FORMAT, "%s: user_ids or item_ids are not sorted and distinct",
                         rd->path);
            goto out;
        }
    for (size_t k = 0; k < nr; k++) {
        if (r[3 * k] >= nu || r[3 * k + 1] >= ni || r[3 * k + 2] >= classes) {
            st = bz_fail(c, BZ_E_FORMAT, "%s: rating %zu of tensor 'ratings' is out of range",
                         rd->path, k);
            goto out;
        }
        ru[k] = r[3 * k];
        ri[k] = r[3 * k + 1];
        rc[k] = (uint8_t)r[3 * k + 2];
    }
    if ((st = bz_cf_create(c, &cfg, u, nu, it, ni, ru, ri, rc, nr, 0, &cf)))
        goto out;
    size_t F = cf->F, H = cf->H, C = cf->n_cols;
    W = malloc(F * H * sizeof *W);
    vb = malloc(F * sizeof *vb);
    hb = malloc(H * sizeof *hb);
    D = cfg.conditional ? malloc(C * H * sizeof *D) : NULL;
    if (!W || !vb || !hb || (cfg.conditional && !D)) {
        st = bz_fail(c, BZ_E_NOMEM, "out of memory loading %s", rd->path);
        goto out;
    }
    if ((st = bz_mr_host(rd, "W", F, H, W)) || (st = bz_mr_host(rd, "vbias", 0, F, vb)) ||
        (st = bz_mr_host(rd, "hbias", 0, H, hb)) ||
        (D && (st = bz_mr_host(rd, "D", C, H, D))) ||
        (st = bz_cf_set_params(cf, W, vb, hb, D)))
        goto out;
out:
    free(u);
    free(it);
    free(r);
    free(ru);
    free(ri);
    free(rc);
    free(W);
    free(vb);
    free(hb);
    free(D);
    if (st) {
        bz_cf_free(cf);
        return st;
    }
    *impl = cf;
    return BZ_OK;
}

static bz_status cf_write(void *impl, bz_model_writer *wr)
{
    bz_cf *cf = impl;
    size_t nr = cf->n_ratings;
    uint32_t *r = malloc((nr ? nr : 1) * 3 * sizeof *r);
    if (!r)
        return bz_fail(cf->ctx, BZ_E_NOMEM, "out of memory saving the ratings");
    for (size_t k = 0; k < nr; k++) {
        r[3 * k] = cf->r_user[k];
        r[3 * k + 1] = cf->r_item[k];
        r[3 * k + 2] = cf->r_cls[k];
    }
    char num[64];
    bz_status st;
    if ((st = bz_mw_buf(wr, "W", cf->F, cf->H, &cf->W)) ||
        (st = bz_mw_buf(wr, "vbias", 0, cf->F, &cf->vb)) ||
        (st = bz_mw_buf(wr, "hbias", 0, cf->H, &cf->hb)) ||
        (cf->cfg.conditional && (st = bz_mw_buf(wr, "D", cf->n_cols, cf->H, &cf->D))) ||
        (st = write_u32(wr, "user_ids", 0, cf->n_users, cf->user_ids)) ||
        (st = write_u32(wr, "item_ids", 0, cf->n_items, cf->item_ids)) ||
        (st = write_u32(wr, "ratings", nr, 3, r)) || (st = bz_mw_count(wr, "hidden", cf->H)) ||
        (st = bz_mw_count(wr, "classes", cf->K)))
        goto out;
    snprintf(num, sizeof num, "%.9g", (double)cf->cfg.lo);
    if ((st = bz_mw_meta(wr, "rating_lo", num)))
        goto out;
    snprintf(num, sizeof num, "%.9g", (double)cf->cfg.step);
    if ((st = bz_mw_meta(wr, "rating_step", num)) ||
        (st = bz_mw_meta(wr, "rows", cf->cfg.item_based ? "items" : "users")))
        goto out;
    st = bz_mw_meta(wr, "conditional", cf->cfg.conditional ? "yes" : "no");
out:
    free(r);
    return st;
}

static void cf_destroy(void *impl)
{
    bz_cf_free(impl);
}

static bz_meta *cf_meta(void *impl)
{
    return &((bz_cf *)impl)->meta;
}

static void cf_shape(const void *impl, bz_model_shape *s)
{
    const bz_cf *cf = impl;
    *s = (bz_model_shape){.n_inputs = cf->F, .n_features = cf->H, .n_layers = 2,
                          .layers = {cf->F, cf->H}};
}

const bz_model_kind bz_kind_cf = {
    .version = BZ_MODEL_KIND_VERSION,
    .name = "cf",
    .description = "collaborative-filtering RBM over ratings",
    .article = "a ratings RBM",
    .own_meta = own_meta,
    .read = cf_read,
    .write = cf_write,
    .destroy = cf_destroy,
    .meta = cf_meta,
    .shape = cf_shape,
    .train = &bz_cf_train_hooks,
};

bz_status bz_cf_save(bz_cf *cf, const char *path)
{
    if (!cf || !path)
        return BZ_E_INVALID_ARG;
    return bz_model_file_write(&bz_kind_cf, cf, cf->ctx, path, NULL, NULL);
}

bz_status bz_cf_load(bz_context *ctx, const char *path, bz_cf **out)
{
    if (!out)
        return BZ_E_INVALID_ARG;
    *out = NULL;
    return bz_model_file_read(ctx, path, &bz_kind_cf, NULL, NULL, (void **)out, NULL);
}
