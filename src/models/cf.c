/*
 * The ratings RBM on the device (cf.h): set-up, the minibatch Gibbs chain
 * and gradient through CLBlast, the update, and prediction.
 */
#include "models/cf.h"
#include "blas/gemm.h"
#include "engine/check.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CF_MAX_COLS ((size_t)1 << 27)

static uint64_t mix(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static double unit(uint64_t *s)
{
    return ((double)(mix(s) >> 11) + 0.5) * (1.0 / 9007199254740992.0);
}

static void release_work(bz_cf *cf)
{
    bz_buf *b[] = {&cf->V, &cf->M, &cf->Mc, &cf->L, &cf->X, &cf->P, &cf->S, &cf->Hn,
                   &cf->rows, &cf->E};
    for (size_t i = 0; i < sizeof b / sizeof *b; i++)
        bz_buf_release(b[i]);
    cf->cap = 0;
}

void bz_cf_free(bz_cf *cf)
{
    if (!cf)
        return;
    release_work(cf);
    bz_buf *b[] = {&cf->W, &cf->vb, &cf->hb, &cf->D, &cf->vW, &cf->vvb, &cf->vhb, &cf->vD,
                   &cf->gW, &cf->gvb, &cf->ghb, &cf->gD};
    for (size_t i = 0; i < sizeof b / sizeof *b; i++)
        bz_buf_release(b[i]);
    cl_kernel k[] = {cf->k_expand, cf->k_hidden, cf->k_visible, cf->k_update, cf->k_colsum};
    for (size_t i = 0; i < 5; i++)
        if (k[i])
            clReleaseKernel(k[i]);
    if (cf->prog)
        clReleaseProgram(cf->prog);
    free(cf->user_ids);
    free(cf->item_ids);
    free(cf->r_user);
    free(cf->r_item);
    free(cf->r_cls);
    bz_meta_free(&cf->meta);
    free(cf);
}

static bz_status build(bz_cf *cf)
{
    bz_context *ctx = cf->ctx;
    static const char *const files[] = {"philox.cl", "cf.cl"};
    CHECK(bz_program_build(ctx, files, 2, "", &cf->prog));
    const char *names[] = {"cf_expand", "cf_hidden", "cf_visible", "cf_update", "cf_colsum"};
    cl_kernel *dst[] = {&cf->k_expand, &cf->k_hidden, &cf->k_visible, &cf->k_update,
                        &cf->k_colsum};
    for (size_t i = 0; i < 5; i++) {
        cl_int rc;
        *dst[i] = clCreateKernel(cf->prog, names[i], &rc);
        if (rc != CL_SUCCESS)
            return bz_cl_fail(ctx, rc, "clCreateKernel", names[i]);
    }
    return BZ_OK;
}

bz_status bz_cf_create(bz_context *ctx, const bz_cf_config *cfg, const uint32_t *user_ids,
                       size_t n_users, const uint32_t *item_ids, size_t n_items,
                       const uint32_t *r_user, const uint32_t *r_item, const uint8_t *r_cls,
                       size_t n_ratings, uint64_t seed, bz_cf **out)
{
    if (!ctx || !cfg || !out || !ctx->ready)
        return ctx ? bz_fail(ctx, BZ_E_INVALID_ARG, "bz_cf_create: bad arguments")
                   : BZ_E_INVALID_ARG;
    *out = NULL;
    if (cfg->hidden == 0 || cfg->hidden > 65536 || cfg->classes < 2 || cfg->classes > 15 ||
        !(cfg->step > 0) || !isfinite(cfg->lo) || !n_users || !n_items)
        return bz_fail(ctx, BZ_E_INVALID_ARG,
                       "a ratings RBM needs 1..65536 hidden units, 2..15 classes, users and "
                       "items (got %zu hidden, %u classes, %zu users, %zu items)",
                       cfg->hidden, cfg->classes, n_users, n_items);
    size_t rows = cfg->item_based ? n_items : n_users, cols = cfg->item_based ? n_users : n_items;
    if (cols >= CF_MAX_COLS || rows > UINT32_MAX ||
        (double)cols * cfg->classes * (double)cfg->hidden >= 2147483648.0)
        return bz_fail(ctx, BZ_E_INVALID_ARG,
                       "%zu columns x %u classes x %zu hidden units is more weights than one "
                       "ratings RBM holds (2^31)", cols, cfg->classes, cfg->hidden);
    bz_cf *cf = calloc(1, sizeof *cf);
    if (!cf)
        return bz_fail(ctx, BZ_E_NOMEM, "out of memory");
    cf->ctx = ctx;
    cf->cfg = *cfg;
    cf->n_users = n_users;
    cf->n_items = n_items;
    cf->n_rows = rows;
    cf->n_cols = cols;
    cf->K = cfg->classes;
    cf->F = cols * cf->K;
    cf->H = cfg->hidden;
    cf->n_ratings = n_ratings;
    size_t F = cf->F, H = cf->H, K = cf->K;
    float *w = NULL, *vb = NULL;
    double *cnt = NULL;
    bz_status st = BZ_E_NOMEM;
    cf->user_ids = malloc(n_users * sizeof *cf->user_ids);
    cf->item_ids = malloc(n_items * sizeof *cf->item_ids);
    cf->r_user = malloc((n_ratings ? n_ratings : 1) * sizeof *cf->r_user);
    cf->r_item = malloc((n_ratings ? n_ratings : 1) * sizeof *cf->r_item);
    cf->r_cls = malloc(n_ratings ? n_ratings : 1);
    w = malloc(F * H * sizeof *w);
    vb = malloc(F * sizeof *vb);
    cnt = calloc(F + K, sizeof *cnt);
    if (!cf->user_ids || !cf->item_ids || !cf->r_user || !cf->r_item || !cf->r_cls || !w ||
        !vb || !cnt) {
        st = bz_fail(ctx, BZ_E_NOMEM, "out of memory for a ratings RBM of %zu x %zu", F, H);
        goto fail;
    }
    memcpy(cf->user_ids, user_ids, n_users * sizeof *user_ids);
    memcpy(cf->item_ids, item_ids, n_items * sizeof *item_ids);
    for (size_t r = 0; r < n_ratings; r++) {
        if (r_user[r] >= n_users || r_item[r] >= n_items || r_cls[r] >= K) {
            st = bz_fail(ctx, BZ_E_INVALID_ARG, "rating %zu: user %u, item %u or class %u out of "
                         "range", r, r_user[r], r_item[r], r_cls[r]);
            goto fail;
        }
        cf->r_user[r] = r_user[r];
        cf->r_item[r] = r_item[r];
        cf->r_cls[r] = r_cls[r];
        cnt[(size_t)bz_cf_col(cf, r_user[r], r_item[r]) * K + r_cls[r]] += 1;
        cnt[F + r_cls[r]] += 1;
    }
    /* Visible biases: the log of each column's class frequencies, with the
     * overall frequencies as a prior of weight 2 (a column seen once is not
     * certain of its rating). */
    for (size_t c = 0; c < cols; c++) {
        double nc = 0;
        for (size_t k = 0; k < K; k++)
            nc += cnt[c * K + k];
        for (size_t k = 0; k < K; k++) {
            double prior = (cnt[F + k] + 1) / ((double)n_ratings + (double)K);
            vb[c * K + k] = (float)log((cnt[c * K + k] + 2 * prior) / (nc + 2));
        }
    }
    uint64_t s = seed ^ 0x5DEECE66Dull;
    for (size_t i = 0; i < F * H; i += 2) {
        double a = sqrt(-2 * log(unit(&s))), t = 2 * M_PI * unit(&s);
        w[i] = (float)(0.01 * a * cos(t));
        if (i + 1 < F * H)
            w[i + 1] = (float)(0.01 * a * sin(t));
    }
    size_t dn = cfg->conditional ? cols * H : 1;
    if ((st = build(cf)) || (st = bz_buf_alloc(ctx, &cf->W, F * H)) ||
        (st = bz_buf_alloc(ctx, &cf->vb, F)) || (st = bz_buf_alloc(ctx, &cf->hb, H)) ||
        (st = bz_buf_alloc(ctx, &cf->D, dn)) || (st = bz_buf_alloc(ctx, &cf->vW, F * H)) ||
        (st = bz_buf_alloc(ctx, &cf->vvb, F)) || (st = bz_buf_alloc(ctx, &cf->vhb, H)) ||
        (st = bz_buf_alloc(ctx, &cf->vD, dn)) || (st = bz_buf_alloc(ctx, &cf->gW, F * H)) ||
        (st = bz_buf_alloc(ctx, &cf->gvb, F)) || (st = bz_buf_alloc(ctx, &cf->ghb, H)) ||
        (st = bz_buf_alloc(ctx, &cf->gD, dn)) || (st = bz_buf_write(ctx, &cf->W, 0, w, F * H)) ||
        (st = bz_buf_write(ctx, &cf->vb, 0, vb, F)) ||
        (st = bz_buf_fill(ctx, &cf->hb, 0, 0, H)) || (st = bz_buf_fill(ctx, &cf->D, 0, 0, dn)) ||
        (st = bz_buf_fill(ctx, &cf->vW, 0, 0, F * H)) ||
        (st = bz_buf_fill(ctx, &cf->vvb, 0, 0, F)) || (st = bz_buf_fill(ctx, &cf->vhb, 0, 0, H)) ||
        (st = bz_buf_fill(ctx, &cf->vD, 0, 0, dn)))
        goto fail;
    free(w);
    free(vb);
    free(cnt);
    *out = cf;
    return BZ_OK;
fail:
    free(w);
    free(vb);
    free(cnt);
    bz_cf_free(cf);
    return st;
}

/* Work space for n rows. */
static bz_status reserve(bz_cf *cf, size_t n)
{
    if (n <= cf->cap)
        return BZ_OK;
    release_work(cf);
    bz_context *ctx = cf->ctx;
    size_t F = cf->F, H = cf->H, C = cf->n_cols;
    if ((double)n * (double)F >= 4294967295.0)
        return bz_fail(ctx, BZ_E_INVALID_ARG, "a minibatch of %zu rows of %zu visible units is "
                       "too large; use a smaller --batch", n, F);
    bz_status st;
    if ((st = bz_buf_alloc(ctx, &cf->V, n * F)) || (st = bz_buf_alloc(ctx, &cf->M, n * C)) ||
        (st = bz_buf_alloc(ctx, &cf->Mc, n * C)) || (st = bz_buf_alloc(ctx, &cf->L, n * F)) ||
        (st = bz_buf_alloc(ctx, &cf->X, n * H)) || (st = bz_buf_alloc(ctx, &cf->P, n * H)) ||
        (st = bz_buf_alloc(ctx, &cf->S, n * H)) || (st = bz_buf_alloc(ctx, &cf->Hn, n * H)) ||
        (st = bz_buf_alloc(ctx, &cf->rows, n)) || (st = bz_buf_alloc(ctx, &cf->E, n * C))) {
        release_work(cf);
        return st;
    }
    cf->cap = n;
    return BZ_OK;
}

void bz_cf_set_free(bz_cf_set *s)
{
    if (!s)
        return;
    free(s->rowptr);
    free(s->ent);
    bz_buf_release(&s->d_rowptr);
    bz_buf_release(&s->d_ent);
    memset(s, 0, sizeof *s);
}

bz_status bz_cf_set_make(bz_cf *cf, const uint32_t *extra_u, const uint32_t *extra_i,
                         size_t n_extra, bz_cf_set *out)
{
    memset(out, 0, sizeof *out);
    bz_context *ctx = cf->ctx;
    if (!cf->cfg.conditional)
        n_extra = 0;
    size_t R = cf->n_rows, n = cf->n_ratings + n_extra;
    if (n >= UINT32_MAX)
        return bz_fail(ctx, BZ_E_INVALID_ARG, "%zu ratings: more than one set holds", n);
    out->n_rows = R;
    out->rowptr = calloc(R + 1, sizeof *out->rowptr);
    out->ent = malloc((n ? n : 1) * sizeof *out->ent);
    if (!out->rowptr || !out->ent) {
        bz_cf_set_free(out);
        return bz_fail(ctx, BZ_E_NOMEM, "out of memory");
    }
    for (size_t r = 0; r < cf->n_ratings; r++)
        out->rowptr[bz_cf_row(cf, cf->r_user[r], cf->r_item[r]) + 1]++;
    for (size_t r = 0; r < n_extra; r++)
        out->rowptr[bz_cf_row(cf, extra_u[r], extra_i[r]) + 1]++;
    for (size_t r = 0; r < R; r++)
        out->rowptr[r + 1] += out->rowptr[r];
    uint32_t *fill = malloc((R ? R : 1) * sizeof *fill);
    if (!fill) {
        bz_cf_set_free(out);
        return bz_fail(ctx, BZ_E_NOMEM, "out of memory");
    }
    memcpy(fill, out->rowptr, R * sizeof *fill);
    for (size_t r = 0; r < cf->n_ratings; r++) {
        uint32_t u = cf->r_user[r], i = cf->r_item[r];
        out->ent[fill[bz_cf_row(cf, u, i)]++] = (bz_cf_col(cf, u, i) << 4) | (cf->r_cls[r] + 1u);
    }
    for (size_t r = 0; r < n_extra; r++) {
        uint32_t u = extra_u[r], i = extra_i[r];
        out->ent[fill[bz_cf_row(cf, u, i)]++] = bz_cf_col(cf, u, i) << 4;
    }
    free(fill);
    out->nnz = n;
    bz_status st;
    if ((st = bz_buf_alloc(ctx, &out->d_rowptr, R + 1)) ||
        (st = bz_buf_alloc(ctx, &out->d_ent, n ? n : 1)) ||
        (st = bz_buf_write(ctx, &out->d_rowptr, 0, out->rowptr, R + 1)) ||
        (n && (st = bz_buf_write(ctx, &out->d_ent, 0, out->ent, n)))) {
        bz_cf_set_free(out);
        return st;
    }
    return BZ_OK;
}

/* ---- kernels ---- */

/* Sets kernel k's arguments (engine.h's BZ_KARG_*) and launches it over
 * `global` items. */
#define LAUNCH(k, name, global, ...)                                                          \
    do {                                                                                      \
        const bz_kernel_arg a_[] = {__VA_ARGS__};                                             \
        CHECK(bz_kernel_set_args(ctx, k, name, a_, sizeof a_ / sizeof *a_));                  \
        return bz_launch1d(ctx, k, name, global);                                             \
    } while (0)

/* V, M, Mc of the n rows whose indexes are in cf->rows. */
static bz_status expand(bz_cf *cf, const bz_cf_set *set, size_t n)
{
    bz_context *ctx = cf->ctx;
    size_t C = cf->n_cols;
    CHECK(bz_buf_fill(ctx, &cf->V, 0, 0, n * cf->F));
    CHECK(bz_buf_fill(ctx, &cf->M, 0, 0, n * C));
    CHECK(bz_buf_fill(ctx, &cf->Mc, 0, 0, n * C));
    LAUNCH(cf->k_expand, "cf_expand", n, BZ_KARG_BUF(&set->d_rowptr), BZ_KARG_BUF(&set->d_ent),
           BZ_KARG_BUF(&cf->rows), BZ_KARG_U32(n), BZ_KARG_U32(C), BZ_KARG_U32(cf->K),
           BZ_KARG_BUF(&cf->V), BZ_KARG_BUF(&cf->M), BZ_KARG_BUF(&cf->Mc));
}

/* X [n x H] = V W + Mc D (the hidden input), then hidden probabilities into
 * X and samples (or the probabilities) into S. V is cf->V or cf->L. */
static bz_status hidden(bz_cf *cf, const bz_buf *V, size_t n, bz_buf *X, bz_buf *S, bool sample,
                        uint64_t seed, uint64_t stream)
{
    bz_context *ctx = cf->ctx;
    size_t F = cf->F, H = cf->H, C = cf->n_cols;
    CHECK(bz_sgemm(ctx, false, false, n, H, F, 1.0f, V, 0, F, &cf->W, 0, H, 0.0f, X, 0, H));
    if (cf->cfg.conditional)
        CHECK(bz_sgemm(ctx, false, false, n, H, C, 1.0f, &cf->Mc, 0, C, &cf->D, 0, H, 1.0f, X, 0,
                       H));
    LAUNCH(cf->k_hidden, "cf_hidden", n * H, BZ_KARG_BUF(X), BZ_KARG_BUF(&cf->hb), BZ_KARG_U32(n),
           BZ_KARG_U32(H), BZ_KARG_U64(seed), BZ_KARG_U64(stream), BZ_KARG_U32(sample),
           BZ_KARG_BUF(S));
}

/* L = S W^T, then the softmax of each group (mode 0: probabilities, 1:
 * samples, both masked by M; 2: expected ratings into E). */
static bz_status visible(bz_cf *cf, const bz_buf *S, size_t n, unsigned mode, uint64_t seed,
                         uint64_t stream)
{
    bz_context *ctx = cf->ctx;
    size_t F = cf->F, H = cf->H;
    CHECK(bz_sgemm(ctx, false, true, n, F, H, 1.0f, S, 0, H, &cf->W, 0, H, 0.0f, &cf->L, 0, F));
    LAUNCH(cf->k_visible, "cf_visible", n * cf->n_cols, BZ_KARG_BUF(&cf->L), BZ_KARG_BUF(&cf->vb),
           BZ_KARG_BUF(&cf->M), BZ_KARG_U32(n), BZ_KARG_U32(cf->n_cols), BZ_KARG_U32(cf->K),
           BZ_KARG_F32(cf->cfg.lo), BZ_KARG_F32(cf->cfg.step), BZ_KARG_U64(seed),
           BZ_KARG_U64(stream), BZ_KARG_U32(mode), BZ_KARG_BUF(&cf->E));
}

static bz_status put_rows(bz_cf *cf, const uint32_t *rows, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (rows[i] >= cf->n_rows)
            return bz_fail(cf->ctx, BZ_E_INVALID_ARG, "row %u out of range", rows[i]);
    CHECK(reserve(cf, n));
    return bz_buf_write(cf->ctx, &cf->rows, 0, rows, n);
}

/* out [cols] = the column sums of A - B over n rows. */
static bz_status colsum(bz_cf *cf, const bz_buf *A, const bz_buf *B, size_t n, size_t cols,
                        bz_buf *out)
{
    bz_context *ctx = cf->ctx;
    LAUNCH(cf->k_colsum, "cf_colsum", cols, BZ_KARG_BUF(A), BZ_KARG_BUF(B), BZ_KARG_U32(n),
           BZ_KARG_U32(cols), BZ_KARG_BUF(out));
}

/* The gradient statistics of the n rows in cf->rows into gW, gvb, ghb, gD. */
static bz_status grad(bz_cf *cf, const bz_cf_set *set, size_t n, unsigned T, bool sample,
                      uint64_t seed, uint64_t stream)
{
    bz_context *ctx = cf->ctx;
    size_t F = cf->F, H = cf->H, C = cf->n_cols;
    CHECK(expand(cf, set, n));
    /* positive phase: P = p(h | v); S its sample */
    CHECK(hidden(cf, &cf->V, n, &cf->P, &cf->S, sample, seed, stream * 64));
    for (unsigned t = 0; t < T; t++) {
        CHECK(visible(cf, &cf->S, n, sample ? 1 : 0, seed, stream * 64 + 2 * t + 1));
        /* the last step's hidden units stay probabilities */
        CHECK(hidden(cf, &cf->L, n, &cf->Hn, &cf->S, sample && t + 1 < T, seed,
                     stream * 64 + 2 * t + 2));
    }
    /* V^T P - Vn^T Hn, and the same for the biases and D */
    CHECK(bz_sgemm(ctx, true, false, F, H, n, 1.0f, &cf->V, 0, F, &cf->P, 0, H, 0.0f, &cf->gW, 0,
                   H));
    CHECK(bz_sgemm(ctx, true, false, F, H, n, -1.0f, &cf->L, 0, F, &cf->Hn, 0, H, 1.0f, &cf->gW,
                   0, H));
    CHECK(colsum(cf, &cf->V, &cf->L, n, F, &cf->gvb));
    CHECK(colsum(cf, &cf->P, &cf->Hn, n, H, &cf->ghb));
    if (cf->cfg.conditional) {
        CHECK(bz_sgemm(ctx, true, false, C, H, n, 1.0f, &cf->Mc, 0, C, &cf->P, 0, H, 0.0f,
                       &cf->gD, 0, H));
        CHECK(bz_sgemm(ctx, true, false, C, H, n, -1.0f, &cf->Mc, 0, C, &cf->Hn, 0, H, 1.0f,
                       &cf->gD, 0, H));
    }
    return BZ_OK;
}

bz_status bz_cf_batch_grad(bz_cf *cf, const bz_cf_set *set, const uint32_t *rows, size_t n,
                           unsigned T, bool sample, uint64_t seed, uint64_t stream, float *gW,
                           float *gvb, float *ghb, float *gD)
{
    if (!cf || !set || !rows || !n || !gW || !gvb || !ghb || T == 0)
        return cf ? bz_fail(cf->ctx, BZ_E_INVALID_ARG, "bz_cf_batch_grad: bad arguments")
                  : BZ_E_INVALID_ARG;
    CHECK(put_rows(cf, rows, n));
    CHECK(grad(cf, set, n, T, sample, seed, stream));
    bz_context *ctx = cf->ctx;
    CHECK(bz_buf_read(ctx, &cf->gW, 0, gW, cf->F * cf->H));
    CHECK(bz_buf_read(ctx, &cf->gvb, 0, gvb, cf->F));
    CHECK(bz_buf_read(ctx, &cf->ghb, 0, ghb, cf->H));
    if (cf->cfg.conditional && gD)
        CHECK(bz_buf_read(ctx, &cf->gD, 0, gD, cf->n_cols * cf->H));
    return BZ_OK;
}

static bz_status update(bz_cf *cf, bz_buf *w, bz_buf *v, const bz_buf *g, size_t count, float lr,
                        float inv_n, float mom, float decay)
{
    bz_context *ctx = cf->ctx;
    LAUNCH(cf->k_update, "cf_update", count, BZ_KARG_BUF(w), BZ_KARG_BUF(v), BZ_KARG_BUF(g),
           BZ_KARG_U32(count), BZ_KARG_F32(lr), BZ_KARG_F32(inv_n), BZ_KARG_F32(mom),
           BZ_KARG_F32(decay));
}

float bz_cf_mean_rating(const bz_cf *cf)
{
    double s = 0;
    for (size_t k = 0; k < cf->n_ratings; k++)
        s += cf->r_cls[k];
    return cf->n_ratings ? (float)(cf->cfg.lo + cf->cfg.step * (s / (double)cf->n_ratings))
                         : cf->cfg.lo;
}

void bz_cf_train_opts_init(bz_cf_train_opts *o)
{
    memset(o, 0, sizeof *o);
    o->batch = 20;
    o->learning_rate = 0.01f;
    o->momentum_initial = 0.5f;
    o->momentum_final = 0.9f;
    o->momentum_epochs = 5;
    o->weight_decay = 0.001f;
    o->k_start = 1;
    o->k_max = 9;
    o->k_every = 10;
    o->seed = 1;
}

unsigned bz_cf_cd_steps(const bz_cf_train_opts *o, unsigned epoch)
{
    unsigned k0 = o->k_start ? o->k_start : 1, every = o->k_every ? o->k_every : 1;
    unsigned k = k0 + epoch / every;
    return o->k_max && k > o->k_max ? o->k_max : k;
}

/* The order of rows in epoch e. */
static bz_status epoch_order(bz_cf *cf, uint64_t seed, unsigned e, uint32_t **out)
{
    size_t R = cf->n_rows;
    uint32_t *p = malloc(R * sizeof *p);
    if (!p)
        return bz_fail(cf->ctx, BZ_E_NOMEM, "out of memory");
    for (size_t i = 0; i < R; i++)
        p[i] = (uint32_t)i;
    uint64_t s = seed * 0x100000001B3ull + e + 1;
    for (size_t i = R; i > 1; i--) {
        size_t j = (size_t)(mix(&s) % i);
        uint32_t t = p[i - 1];
        p[i - 1] = p[j];
        p[j] = t;
    }
    *out = p;
    return BZ_OK;
}

bz_status bz_cf_train_epoch(bz_cf *cf, const bz_cf_set *set, const bz_cf_train_opts *o,
                            unsigned epoch, size_t *done, double *seconds)
{
    bz_context *ctx = cf->ctx;
    size_t B = o->batch ? o->batch : 1, R = cf->n_rows, nb = (R + B - 1) / B;
    unsigned T = bz_cf_cd_steps(o, epoch);
    float mom = epoch < o->momentum_epochs ? o->momentum_initial : o->momentum_final;
    double t0 = bz_mono_s();
    uint32_t *order = NULL;
    CHECK(epoch_order(cf, o->seed, epoch, &order));
    bz_status st = reserve(cf, B);
    size_t b = o->start_batch;
    for (; !st && b < nb; b++) {
        if (o->stop && *o->stop) {
            st = BZ_E_INTERRUPTED;
            break;
        }
        size_t r0 = b * B, n = R - r0 < B ? R - r0 : B;
        float lr = o->learning_rate / (1.0f + o->lr_decay * (float)epoch), inv = 1.0f / (float)n;
        uint64_t stream = ((uint64_t)epoch << 32) | b;
        if ((st = put_rows(cf, order + r0, n)) ||
            (st = grad(cf, set, n, T, !o->mean_field, o->seed, stream)) ||
            (st = update(cf, &cf->W, &cf->vW, &cf->gW, cf->F * cf->H, lr, inv, mom,
                         o->weight_decay)) ||
            (st = update(cf, &cf->vb, &cf->vvb, &cf->gvb, cf->F, lr, inv, mom, 0)) ||
            (st = update(cf, &cf->hb, &cf->vhb, &cf->ghb, cf->H, lr, inv, mom, 0)) ||
            (cf->cfg.conditional &&
             (st = update(cf, &cf->D, &cf->vD, &cf->gD, cf->n_cols * cf->H, lr, inv, mom,
                          o->weight_decay))))
            break;
        if (o->progress) {
            if ((st = bz_finish(ctx)))
                break;
            o->progress(o->progress_user, b + 1, nb);
        }
    }
    if (!st)
        st = bz_finish(ctx);
    free(order);
    if (done)
        *done = b;
    if (seconds)
        *seconds = bz_mono_s() - t0;
    return st;
}

bz_status bz_cf_predict_rows(bz_cf *cf, const bz_cf_set *set, const uint32_t *rows, size_t n,
                             float *E)
{
    CHECK(put_rows(cf, rows, n));
    CHECK(expand(cf, set, n));
    CHECK(hidden(cf, &cf->V, n, &cf->P, &cf->S, false, 0, 0));
    CHECK(visible(cf, &cf->S, n, 2, 0, 0));
    return bz_buf_read(cf->ctx, &cf->E, 0, E, n * cf->n_cols);
}

typedef struct qix {
    uint32_t row;
    size_t at;
} qix;

static int cmp_qix(const void *a, const void *b)
{
    const qix *x = a, *y = b;
    if (x->row != y->row)
        return x->row < y->row ? -1 : 1;
    return x->at < y->at ? -1 : x->at > y->at;
}

bz_status bz_cf_predict(bz_cf *cf, const bz_cf_set *set, const uint32_t *u, const uint32_t *i,
                        size_t n, float *out)
{
    bz_context *ctx = cf->ctx;
    for (size_t q = 0; q < n; q++)
        if (u[q] >= cf->n_users || i[q] >= cf->n_items)
            return bz_fail(ctx, BZ_E_INVALID_ARG, "pair %zu: user %u or item %u out of range", q,
                           u[q], i[q]);
    const size_t B = 64, C = cf->n_cols;
    qix *ix = malloc((n ? n : 1) * sizeof *ix);
    uint32_t *rows = malloc(B * sizeof *rows);
    size_t *first = malloc(B * sizeof *first);
    float *E = malloc(B * C * sizeof *E);
    bz_status st = BZ_OK;
    if (!ix || !rows || !first || !E) {
        st = bz_fail(ctx, BZ_E_NOMEM, "out of memory");
        goto out;
    }
    for (size_t q = 0; q < n; q++)
        ix[q] = (qix){bz_cf_row(cf, u[q], i[q]), q};
    qsort(ix, n, sizeof *ix, cmp_qix);
    for (size_t q = 0; q < n;) {
        /* up to B distinct rows, starting at query q */
        size_t nr = 0, e = q;
        while (e < n && (nr < B || ix[e].row == rows[nr - 1])) {
            if (nr == 0 || ix[e].row != rows[nr - 1]) {
                first[nr] = e;
                rows[nr++] = ix[e].row;
            }
            e++;
        }
        if ((st = bz_cf_predict_rows(cf, set, rows, nr, E)))
            goto out;
        size_t r = 0;
        for (size_t k = q; k < e; k++) {
            while (r + 1 < nr && first[r + 1] <= k)
                r++;
            size_t a = ix[k].at;
            out[a] = E[r * C + bz_cf_col(cf, u[a], i[a])];
        }
        q = e;
    }
out:
    free(ix);
    free(rows);
    free(first);
    free(E);
    return st;
}

bz_status bz_cf_score(bz_cf *cf, const bz_cf_set *set, const uint32_t *u, const uint32_t *i,
                      const uint8_t *cls, size_t n, double *rmse, double *mae)
{
    float *p = malloc((n ? n : 1) * sizeof *p);
    if (!p)
        return bz_fail(cf->ctx, BZ_E_NOMEM, "out of memory");
    bz_status st = bz_cf_predict(cf, set, u, i, n, p);
    double se = 0, ae = 0;
    for (size_t q = 0; !st && q < n; q++) {
        double d = (double)p[q] - ((double)cf->cfg.lo + (double)cf->cfg.step * cls[q]);
        se += d * d;
        ae += fabs(d);
    }
    free(p);
    *rmse = n ? sqrt(se / (double)n) : NAN;
    *mae = n ? ae / (double)n : NAN;
    return st;
}

bz_status bz_cf_get_params(bz_cf *cf, float *W, float *vb, float *hb, float *D)
{
    bz_context *ctx = cf->ctx;
    CHECK(bz_buf_read(ctx, &cf->W, 0, W, cf->F * cf->H));
    CHECK(bz_buf_read(ctx, &cf->vb, 0, vb, cf->F));
    CHECK(bz_buf_read(ctx, &cf->hb, 0, hb, cf->H));
    if (cf->cfg.conditional && D)
        CHECK(bz_buf_read(ctx, &cf->D, 0, D, cf->n_cols * cf->H));
    return BZ_OK;
}

bz_status bz_cf_set_params(bz_cf *cf, const float *W, const float *vb, const float *hb,
                           const float *D)
{
    bz_context *ctx = cf->ctx;
    CHECK(bz_buf_write(ctx, &cf->W, 0, W, cf->F * cf->H));
    CHECK(bz_buf_write(ctx, &cf->vb, 0, vb, cf->F));
    CHECK(bz_buf_write(ctx, &cf->hb, 0, hb, cf->H));
    if (cf->cfg.conditional && D)
        CHECK(bz_buf_write(ctx, &cf->D, 0, D, cf->n_cols * cf->H));
    return BZ_OK;
}
