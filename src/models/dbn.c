/* DBN life cycle, the feed-forward pass and class-conditional generation. */
#include "models/dbn.h"
#include "engine/check.h"
#include "blas/gemm.h"
#include "ref/reference.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- the top RBM's visible units: Bernoulli features + softmax label ---- */

/* The label group's size is the units' own parameter (u->group): each top
 * RBM carries its copy, so two DBNs of different class counts never share
 * it. */
static bz_status label_mean(const bz_units *u, bz_context *ctx, bz_buf *mean, const bz_buf *pre,
                            const bz_buf *bias, size_t rows, size_t cols)
{
    return bz_op_bias_sigmoid_softmax_tail(ctx, mean, pre, bias, rows, cols, u->group);
}

static bz_status label_sample(const bz_units *u, bz_context *ctx, bz_buf *sample,
                              const bz_buf *mean, size_t rows, size_t cols, bz_rng_pos pos)
{
    return bz_op_sample_bernoulli_softmax_tail(ctx, sample, mean, rows, cols, u->group, pos);
}

static bz_status label_mean_sample(const bz_units *u, bz_context *ctx, bz_buf *mean,
                                   bz_buf *sample, const bz_buf *pre, const bz_buf *bias,
                                   size_t rows, size_t cols, bz_rng_pos pos)
{
    CHECK(bz_op_bias_sigmoid_softmax_tail(ctx, mean, pre, bias, rows, cols, u->group));
    return bz_op_sample_bernoulli_softmax_tail(ctx, sample, mean, rows, cols, u->group, pos);
}

static const bz_units label_units = {
    "bernoulli+softmax", BZ_UNIT_BERNOULLI, label_mean, label_sample, label_mean_sample,
    false,               true,              0,
};

void bz_dbn_use_label_units(bz_rbm *r, size_t k)
{
    r->vis_own = label_units;
    r->vis_own.group = k;
    r->vis = &r->vis_own;
}

/* ---- life cycle ---- */

const char *bz_dbn_act_name(bz_dbn_act act)
{
    return act == BZ_ACT_RELU ? "relu" : "sigmoid";
}

int bz_dbn_act_parse(const char *name, bz_dbn_act *act)
{
    if (name && !strcmp(name, "sigmoid")) {
        *act = BZ_ACT_SIGMOID;
        return 0;
    }
    if (name && !strcmp(name, "relu")) {
        *act = BZ_ACT_RELU;
        return 0;
    }
    return -1;
}

static void release_work(bz_dbn *d)
{
    for (size_t l = 0; l <= BZ_DBN_MAX_LAYERS; l++)
        bz_buf_release(&d->A[l]);
    for (size_t l = 0; l < BZ_DBN_MAX_LAYERS + 2; l++)
        bz_buf_release(&d->D[l]);
    bz_buf_release(&d->Z);
    bz_buf_release(&d->labels);
    bz_buf_release(&d->loss);
    bz_buf_release(&d->correct);
    d->cap = 0;
}

void bz_dbn_free(bz_dbn *d)
{
    if (!d)
        return;
    release_work(d);
    for (size_t l = 0; l <= BZ_DBN_MAX_LAYERS; l++) {
        bz_buf_release(&d->W[l]);
        bz_buf_release(&d->b[l]);
        bz_buf_release(&d->vW[l]);
        bz_buf_release(&d->vb[l]);
    }
    for (size_t l = 0; l < BZ_DBN_MAX_LAYERS; l++)
        bz_rbm_free(d->rbm[l]);
    bz_dbn_free(d->padded);
    bz_meta_free(&d->meta);
    free(d);
}

bz_status bz_dbn_create(bz_context *ctx, const size_t *sizes, size_t L, size_t K, bz_dbn_act act,
                        uint64_t seed, bz_dbn **out)
{
    if (!ctx || !out || !sizes)
        return BZ_E_INVALID_ARG;
    *out = NULL;
    if (!ctx->ready)
        return bz_fail(ctx, BZ_E_INVALID_ARG, "bz_dbn_create: the context has no device");
    if (L == 0 || L > BZ_DBN_MAX_LAYERS)
        return bz_fail(ctx, BZ_E_SHAPE, "a DBN needs 1 to %d hidden layers, not %zu",
                       BZ_DBN_MAX_LAYERS, L);
    if (K < 2 || K > 4096)
        return bz_fail(ctx, BZ_E_SHAPE, "a DBN classifier needs 2 to 4096 classes, not %zu", K);
    if (act != BZ_ACT_SIGMOID && act != BZ_ACT_RELU)
        return bz_fail(ctx, BZ_E_INVALID_ARG, "unknown activation %d", (int)act);
    for (size_t l = 0; l <= L; l++)
        if (sizes[l] == 0 || sizes[l] > (1u << 24))
            return bz_fail(ctx, BZ_E_SHAPE, "layer %zu of the DBN has %zu units (1 to 2^24)", l,
                           sizes[l]);
    bz_dbn *d = calloc(1, sizeof *d);
    if (!d)
        return bz_fail(ctx, BZ_E_NOMEM, "out of memory");
    d->ctx = ctx;
    d->L = L;
    d->K = K;
    d->act = act;
    for (size_t l = 0; l <= L; l++)
        d->s[l] = sizes[l];
    d->s[L + 1] = K;
    bz_status st = BZ_OK;
    for (size_t l = 0; l <= L && !st; l++) {
        size_t m = d->s[l], n = d->s[l + 1];
        if (m * n > ((size_t)1 << 31)) {
            st = bz_fail(ctx, BZ_E_SHAPE, "layer %zu of %zu x %zu weights is too large", l, m, n);
            break;
        }
        float *w = malloc(m * n * sizeof *w);
        if (!w) {
            st = bz_fail(ctx, BZ_E_NOMEM, "out of memory");
            break;
        }
        /* Glorot for sigmoid and the softmax layer, He for ReLU layers. */
        double sd = act == BZ_ACT_RELU && l < L ? sqrt(2.0 / (double)m)
                                                 : sqrt(2.0 / (double)(m + n));
        float zero = 0.0f;
        for (size_t i = 0; i < m * n; i++) {
            bz_ref_gaussian(&w[i], &zero, 1, seed, BZ_STREAM_INIT + 16 + l, i);
            w[i] *= (float)sd;
        }
        if (!(st = bz_buf_alloc(ctx, &d->W[l], m * n)) && !(st = bz_buf_alloc(ctx, &d->b[l], n)) &&
            !(st = bz_buf_alloc(ctx, &d->vW[l], m * n)) &&
            !(st = bz_buf_alloc(ctx, &d->vb[l], n)) && !(st = bz_buf_write(ctx, &d->W[l], 0, w, m * n)) &&
            !(st = bz_buf_fill(ctx, &d->b[l], 0.0f, 0, n)) &&
            !(st = bz_buf_fill(ctx, &d->vW[l], 0.0f, 0, m * n)))
            st = bz_buf_fill(ctx, &d->vb[l], 0.0f, 0, n);
        free(w);
    }
    if (st) {
        bz_dbn_free(d);
        return st;
    }
    *out = d;
    return BZ_OK;
}

bz_status bz_dbn_set_meta(bz_dbn *d, const char *key, const char *value)
{
    return bz_meta_set(&d->meta, d->ctx, key, value);
}

const char *bz_dbn_get_meta(const bz_dbn *d, const char *key)
{
    return bz_meta_get(&d->meta, key);
}

bz_status bz_dbn_get_layer(bz_dbn *d, size_t l, float *w, float *b)
{
    if (!d || l > d->L)
        return BZ_E_INVALID_ARG;
    if (w)
        CHECK(bz_buf_read(d->ctx, &d->W[l], 0, w, d->s[l] * d->s[l + 1]));
    if (b)
        CHECK(bz_buf_read(d->ctx, &d->b[l], 0, b, d->s[l + 1]));
    return BZ_OK;
}

bz_status bz_dbn_set_layer(bz_dbn *d, size_t l, const float *w, const float *b)
{
    if (!d || l > d->L)
        return BZ_E_INVALID_ARG;
    if (w)
        CHECK(bz_buf_write(d->ctx, &d->W[l], 0, w, d->s[l] * d->s[l + 1]));
    if (b)
        CHECK(bz_buf_write(d->ctx, &d->b[l], 0, b, d->s[l + 1]));
    return BZ_OK;
}

/* ---- the feed-forward pass ---- */

bz_status bz_dbn_reserve(bz_dbn *d, size_t rows)
{
    if (rows <= d->cap)
        return BZ_OK;
    release_work(d);
    bz_context *c = d->ctx;
    bz_status st = BZ_OK;
    for (size_t l = 0; l <= d->L && !st; l++)
        st = bz_buf_alloc(c, &d->A[l], rows * d->s[l]);
    for (size_t l = 1; l <= d->L + 1 && !st; l++)
        st = bz_buf_alloc(c, &d->D[l], rows * d->s[l]);
    if (!st)
        st = bz_buf_alloc(c, &d->Z, rows * d->K);
    if (!st)
        st = bz_buf_alloc(c, &d->labels, rows);
    if (!st)
        st = bz_buf_alloc(c, &d->loss, rows);
    if (!st)
        st = bz_buf_alloc(c, &d->correct, rows);
    if (st) {
        release_work(d);
        return st;
    }
    d->cap = rows;
    return BZ_OK;
}

bz_status bz_dbn_forward_hidden(bz_dbn *d, size_t B, float p, uint64_t seed, unsigned epoch,
                                size_t batch, size_t row0)
{
    bz_context *c = d->ctx;
    for (size_t l = 1; l <= d->L; l++) {
        size_t m = d->s[l - 1], n = d->s[l];
        CHECK(bz_sgemm(c, false, false, B, n, m, 1.0f, &d->A[l - 1], 0, m, &d->W[l - 1], 0, n,
                       0.0f, &d->A[l], 0, n));
        if (d->act == BZ_ACT_RELU)
            CHECK(bz_op_bias_relu(c, &d->A[l], &d->A[l], &d->b[l - 1], B, n));
        else
            CHECK(bz_op_bias_sigmoid(c, &d->A[l], &d->A[l], &d->b[l - 1], B, n));
        if (p > 0.0f)
            CHECK(bz_op_dropout_fwd(c, &d->A[l], B * n, p,
                                    (bz_rng_pos){seed, bz_dbn_dropout_stream(epoch, batch, l),
                                                 (uint64_t)row0 * n}));
    }
    return BZ_OK;
}

/* Logits of the B rows whose top activations are in A[L], into Z. */
static bz_status logits(bz_dbn *d, size_t B)
{
    size_t m = d->s[d->L];
    return bz_sgemm(d->ctx, false, false, B, d->K, m, 1.0f, &d->A[d->L], 0, m, &d->W[d->L], 0,
                    d->K, 0.0f, &d->Z, 0, d->K);
}

static bz_status infer(bz_dbn *d, const float *x, size_t n, float *out, bool proba)
{
    if (!d || !x || !out)
        return BZ_E_INVALID_ARG;
    const size_t chunk = 1000;
    CHECK(bz_dbn_reserve(d, n < chunk ? n : chunk));
    for (size_t first = 0; first < n; first += d->cap) {
        size_t rows = n - first < d->cap ? n - first : d->cap;
        CHECK(bz_buf_write(d->ctx, &d->A[0], 0, x + first * d->s[0], rows * d->s[0]));
        CHECK(bz_dbn_forward_hidden(d, rows, 0.0f, 0, 0, 0, 0));
        if (proba) {
            CHECK(logits(d, rows));
            CHECK(bz_op_bias_softmax(d->ctx, &d->Z, &d->Z, &d->b[d->L], rows, d->K));
            CHECK(bz_buf_read(d->ctx, &d->Z, 0, out + first * d->K, rows * d->K));
        } else {
            size_t h = d->s[d->L];
            CHECK(bz_buf_read(d->ctx, &d->A[d->L], 0, out + first * h, rows * h));
        }
    }
    return BZ_OK;
}

bz_status bz_dbn_predict_proba(bz_dbn *d, const float *x, size_t n, float *prob)
{
    return infer(d, x, n, prob, true);
}

bz_status bz_dbn_transform(bz_dbn *d, const float *x, size_t n, float *h)
{
    return infer(d, x, n, h, false);
}

/* ---- generation ---- */

bz_status bz_dbn_generate(bz_dbn *d, const int32_t *labels, size_t n, unsigned steps,
                          uint64_t seed, float *out)
{
    if (!d || !labels || !out || n == 0 || steps == 0)
        return BZ_E_INVALID_ARG;
    bz_context *c = d->ctx;
    if (!d->generative)
        return bz_fail(c, BZ_E_UNSUPPORTED,
                       "this DBN was trained without pretraining, so it has no generative model "
                       "(train it without --no-pretrain to sample from it)");
    for (size_t i = 0; i < n; i++)
        if (labels[i] < 0 || (size_t)labels[i] >= d->K)
            return bz_fail(c, BZ_E_INVALID_ARG, "label %d is not a class of this DBN (0..%zu)",
                           (int)labels[i], d->K - 1);
    bz_rbm *top = d->rbm[d->L - 1];
    const size_t nf = d->s[d->L - 1], nh = top->nh, K = d->K;
    size_t maxw = 0;
    for (size_t l = 0; l < d->L; l++)
        maxw = d->s[l] > maxw ? d->s[l] : maxw;
    bz_buf V = {0}, Vs = {0}, Lb = {0}, H = {0}, Hs = {0}, T = {0};
    float *onehot = calloc(n * K, sizeof *onehot);
    bz_status st = onehot ? BZ_OK : bz_fail(c, BZ_E_NOMEM, "out of memory");
    if (!st && !(st = bz_buf_alloc(c, &V, n * maxw)) && !(st = bz_buf_alloc(c, &Vs, n * nf)) &&
        !(st = bz_buf_alloc(c, &Lb, n * K)) && !(st = bz_buf_alloc(c, &H, n * nh)) &&
        !(st = bz_buf_alloc(c, &Hs, n * nh)))
        st = bz_buf_alloc(c, &T, n * maxw);
    if (st)
        goto out;
    for (size_t i = 0; i < n; i++)
        onehot[i * K + (size_t)labels[i]] = 1.0f;
    if ((st = bz_buf_write(c, &Lb, 0, onehot, n * K)) ||
        (st = bz_buf_fill(c, &V, 0.5f, 0, n * nf)) ||
        (st = bz_op_bernoulli(c, &Vs, &V, n * nf, (bz_rng_pos){seed, bz_rbm_stream(0, 0, 250), 0})))
        goto out;
    /* Gibbs chains in the top RBM: the label rows of W (after the feature
     * rows, nf * nh floats in) add the clamped label's input. */
    for (unsigned s = 0; s < steps && !st; s++) {
        if ((st = bz_sgemm(c, false, false, n, nh, nf, 1.0f, &Vs, 0, nf, &top->W, 0, nh, 0.0f, &H,
                           0, nh)) ||
            (st = bz_sgemm(c, false, false, n, nh, K, 1.0f, &Lb, 0, K, &top->W, nf * nh, nh, 1.0f,
                           &H, 0, nh)) ||
            (st = bz_op_bias_sigmoid_bernoulli(c, &H, &Hs, &H, &top->hb, n, nh,
                                               (bz_rng_pos){seed, bz_rbm_stream(s + 1, 0, 0), 0})) ||
            (st = bz_sgemm(c, false, true, n, nf, nh, 1.0f, &Hs, 0, nh, &top->W, 0, nh, 0.0f, &V, 0,
                           nf)))
            break;
        st = bz_op_bias_sigmoid_bernoulli(c, &V, &Vs, &V, &top->vb, n, nf,
                                          (bz_rng_pos){seed, bz_rbm_stream(s + 1, 0, 1), 0});
    }
    if (st)
        goto out;
    /* V holds the features' means; the down pass takes means all the way. */
    for (size_t l = d->L - 1; l-- > 0;) {
        bz_rbm *r = d->rbm[l];
        if ((st = bz_sgemm(c, false, true, n, r->nv, r->nh, 1.0f, &V, 0, r->nh, &r->W, 0, r->nh,
                           0.0f, &T, 0, r->nv)) ||
            (st = bz_op_bias_sigmoid(c, &V, &T, &r->vb, n, r->nv)))
            goto out;
    }
    st = bz_buf_read(c, &V, 0, out, n * d->s[0]);
out:
    free(onehot);
    bz_buf_release(&V);
    bz_buf_release(&Vs);
    bz_buf_release(&Lb);
    bz_buf_release(&H);
    bz_buf_release(&Hs);
    bz_buf_release(&T);
    return st;
}
