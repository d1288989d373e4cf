/*
 * DBM training. Pretraining reuses the RBM trainer (bz_rbm_train_epoch,
 * CD-1) on the paper's modified RBMs, each expressed as an ordinary RBM with
 * tied duplicated units: the bottom RBM sees the data twice ([v, v], two
 * visible copies sharing W, so P(h|v) = sigmoid(2 v W + c)), the top RBM has
 * two copies of its hidden units (P(v|h) = sigmoid(W (h + h') + b)). With
 * CD-1 using visible means, tied copies get identical gradients, so they
 * stay tied; the composed weights average the copies all the same. Middle
 * RBMs (3 hidden layers) are ordinary and halved when composed; a layer
 * between two RBMs takes the mean of its two biases.
 *
 * Joint training (one batch): mean field on the data, `gibbs_steps`
 * layer-parity sweeps of the persistent chains, then per weight matrix two
 * products accumulated into the velocity (alpha = lr/B with beta = momentum
 * for the data term, alpha = -lr/M with beta = 1 for the chains), the weight
 * decay pass, and the biases' column sums the same way.
 */
#include "blas/gemm.h"
#include "engine/check.h"
#include "models/dbm.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void bz_dbm_train_options_init(bz_dbm_train_options *o)
{
    memset(o, 0, sizeof *o);
    o->batch_size = 100;
    o->chains = 100;
    o->mf_iters = 10;
    o->mf_tol = 1e-4f;
    o->gibbs_steps = 5;
    o->learning_rate = 0.001f; /* Salakhutdinov's; 0.005 drove the chains away on full Fashion-MNIST */
    o->lr_decay = 0.1f;
    o->momentum_initial = 0.5f;
    o->momentum_final = 0.9f;
    o->momentum_epochs = 5;
    o->weight_decay = 2e-4f;
    o->seed = 1;
}

/* ---- pretraining ---- */

typedef struct layer_params {
    float *w, *vb, *hb;
} layer_params;

static void lp_free(layer_params *p)
{
    free(p->w);
    free(p->vb);
    free(p->hb);
    memset(p, 0, sizeof *p);
}

size_t bz_dbm_pre_visible(const bz_dbm *d, size_t l)
{
    return l == 0 ? 2 * d->s[0] : d->s[l];
}

size_t bz_dbm_pre_hidden(const bz_dbm *d, size_t l)
{
    return l + 1 == d->L ? 2 * d->s[l + 1] : d->s[l + 1];
}

void bz_dbm_pre_options(const bz_rbm_train_options *o, size_t l, bz_rbm_train_options *lo)
{
    *lo = *o;
    lo->seed = o->seed + 1000 * l;
    lo->k = 1;                   /* CD-1 with visible means keeps the copies tied */
    lo->pcd = 0;
    lo->stochastic_binarize = 0; /* would draw the visible copies differently */
}

bz_status bz_dbm_pre_create(bz_dbm *d, size_t l, const float *in, size_t n,
                            const bz_rbm_train_options *o, bz_rbm **out)
{
    bz_context *c = d->ctx;
    const bool dup_vis = l == 0, dup_hid = l + 1 == d->L;
    const size_t nv = bz_dbm_pre_visible(d, l), nh = bz_dbm_pre_hidden(d, l);
    const size_t nv_base = d->s[l], nh_base = d->s[l + 1];
    float *w = malloc(nv * nh * sizeof *w);
    bz_rbm *r = NULL;
    bz_status st = BZ_OK;
    if (!w)
        return bz_fail(c, BZ_E_NOMEM, "out of memory for pretraining layer %zu", l + 1);
    if ((st = bz_rbm_create(c, nv, nh, BZ_UNIT_BERNOULLI, o->seed + 7919 * l, &r)) ||
        (st = bz_rbm_init_visible_bias(r, in, n)) || (st = bz_rbm_get_params(r, w, NULL, NULL)))
        goto done;
    /* Tie the copies: the second copy starts equal to the first. */
    for (size_t i = 0; i < nv; i++)
        for (size_t j = 0; j < nh; j++) {
            size_t si = dup_vis && i >= nv_base ? i - nv_base : i;
            size_t sj = dup_hid && j >= nh_base ? j - nh_base : j;
            w[i * nh + j] = w[si * nh + sj];
        }
    st = bz_rbm_set_params(r, w, NULL, NULL);
done:
    free(w);
    if (st) {
        bz_rbm_free(r);
        r = NULL;
    }
    *out = r;
    return st;
}

bz_status bz_dbm_pre_input(bz_dbm *d, bz_rbm *const *pre, size_t l, const float *x, size_t n,
                           float **out)
{
    bz_context *c = d->ctx;
    const size_t s0 = d->s[0];
    /* The bottom RBM's data: every row twice. */
    float *in = malloc(n * 2 * s0 * sizeof *in);
    if (!in)
        return bz_fail(c, BZ_E_NOMEM, "out of memory for %zu doubled rows", n);
    for (size_t i = 0; i < n; i++) {
        memcpy(in + i * 2 * s0, x + i * s0, s0 * sizeof *in);
        memcpy(in + i * 2 * s0 + s0, x + i * s0, s0 * sizeof *in);
    }
    for (size_t k = 0; k < l; k++) {
        float *feat = malloc(n * d->s[k + 1] * sizeof *feat);
        bz_status st = feat ? bz_rbm_transform(pre[k], in, n, feat)
                            : bz_fail(c, BZ_E_NOMEM, "out of memory for %zu x %zu features", n,
                                      d->s[k + 1]);
        free(in);
        in = feat;
        if (st) {
            free(feat);
            return st;
        }
    }
    *out = in;
    return BZ_OK;
}

/* The tied parameters (nv_base x nh_base) of a trained layer: the copies
 * averaged. */
static bz_status layer_from_rbm(bz_dbm *d, size_t l, bz_rbm *r, layer_params *out)
{
    bz_context *c = d->ctx;
    const bool dup_vis = l == 0, dup_hid = l + 1 == d->L;
    const size_t nv = r->nv, nh = r->nh, nv_base = d->s[l], nh_base = d->s[l + 1];
    float *w = malloc(nv * nh * sizeof *w), *vb = malloc(nv * sizeof *vb),
          *hb = malloc(nh * sizeof *hb);
    out->w = malloc(nv_base * nh_base * sizeof *out->w);
    out->vb = malloc(nv_base * sizeof *out->vb);
    out->hb = malloc(nh_base * sizeof *out->hb);
    bz_status st = BZ_OK;
    if (!w || !vb || !hb || !out->w || !out->vb || !out->hb) {
        st = bz_fail(c, BZ_E_NOMEM, "out of memory for pretraining layer %zu", l + 1);
        goto done;
    }
    if ((st = bz_rbm_get_params(r, w, vb, hb)))
        goto done;
    for (size_t i = 0; i < nv_base; i++)
        for (size_t j = 0; j < nh_base; j++) {
            double s = w[i * nh + j];
            int k = 1;
            if (dup_vis)
                s += w[(i + nv_base) * nh + j], k++;
            if (dup_hid)
                s += w[i * nh + j + nh_base], k++;
            out->w[i * nh_base + j] = (float)(s / k);
        }
    for (size_t i = 0; i < nv_base; i++)
        out->vb[i] = dup_vis ? 0.5f * (vb[i] + vb[i + nv_base]) : vb[i];
    for (size_t j = 0; j < nh_base; j++)
        out->hb[j] = dup_hid ? 0.5f * (hb[j] + hb[j + nh_base]) : hb[j];
done:
    free(w);
    free(vb);
    free(hb);
    return st;
}

bz_status bz_dbm_pre_compose(bz_dbm *d, bz_rbm *const *pre)
{
    const size_t L = d->L;
    layer_params p[BZ_DBM_MAX_HIDDEN] = {{0}};
    bz_status st = BZ_OK;
    for (size_t l = 0; l < L && !st; l++)
        st = layer_from_rbm(d, l, pre[l], &p[l]);
    /* Compose: middle weights halved, shared layers' biases averaged. */
    for (size_t l = 0; l < L && !st; l++) {
        if (l > 0 && l + 1 < L)
            for (size_t i = 0; i < d->s[l] * d->s[l + 1]; i++)
                p[l].w[i] *= 0.5f;
        st = bz_dbm_set_layer(d, l, p[l].w, NULL);
    }
    for (size_t l = 0; l <= L && !st; l++) {
        float *b = l == 0 ? p[0].vb : l == L ? p[L - 1].hb : p[l - 1].hb;
        if (l > 0 && l < L)
            for (size_t j = 0; j < d->s[l]; j++)
                b[j] = 0.5f * (p[l - 1].hb[j] + p[l].vb[j]);
        st = bz_dbm_set_layer(d, l, NULL, b);
    }
    d->chains_valid = false;
    for (size_t l = 0; l < L; l++)
        lp_free(&p[l]);
    return st;
}

bz_status bz_dbm_pretrain(bz_dbm *d, const float *x, size_t n, const bz_rbm_train_options *o,
                          unsigned epochs, bz_dbm_pretrain_cb cb, void *user)
{
    if (!d || !x || n == 0 || !o)
        return BZ_E_INVALID_ARG;
    bz_context *c = d->ctx;
    const size_t L = d->L;
    bz_rbm *pre[BZ_DBM_MAX_HIDDEN] = {NULL};
    float *in = NULL;
    bz_data *data = NULL;
    bz_status st = bz_dbm_pre_input(d, pre, 0, x, n, &in);
    for (size_t l = 0; l < L && !st; l++) {
        bz_rbm_train_options lo;
        bz_dbm_pre_options(o, l, &lo);
        if ((st = bz_dbm_pre_create(d, l, in, n, o, &pre[l])) ||
            (st = bz_data_create(c, in, n, pre[l]->nv, &data)))
            break;
        for (unsigned e = 0; e < epochs && !st; e++) {
            bz_rbm_epoch_stats es = {0};
            st = bz_rbm_train_epoch(pre[l], data, &lo, e, &es);
            if (!st && cb)
                cb(user, l, e, &es);
        }
        bz_data_free(data);
        data = NULL;
        if (st || l + 1 == L)
            break;
        /* The next layer's rows: this one's hidden probabilities. */
        float *feat = malloc(n * d->s[l + 1] * sizeof *feat);
        if (!feat) {
            st = bz_fail(c, BZ_E_NOMEM, "out of memory for %zu x %zu features", n, d->s[l + 1]);
            break;
        }
        st = bz_rbm_transform(pre[l], in, n, feat);
        free(in);
        in = feat;
    }
    if (!st)
        st = bz_dbm_pre_compose(d, pre);
    for (size_t l = 0; l < L; l++)
        bz_rbm_free(pre[l]);
    bz_data_free(data);
    free(in);
    return st;
}

/* ---- joint training ---- */

/* Starts the chains from the batch: v from the data, hidden layers sampled
 * from their mean-field posteriors (rows reused cyclically when M > B). */
static bz_status init_chains(bz_dbm *d, size_t B, uint64_t seed)
{
    bz_context *c = d->ctx;
    const size_t M = d->n_chains;
    for (size_t l = 0; l <= d->L; l++) {
        const bz_buf *src = l == 0 ? &d->X0 : &d->MU[l];
        bz_buf *dst = l == 0 ? &d->C[0] : &d->CA;
        for (size_t r = 0; r < M; r += B) {
            size_t rows = M - r < B ? M - r : B;
            CHECK(bz_buf_copy(c, src, 0, dst, r * d->s[l], rows * d->s[l]));
        }
        if (l > 0)
            CHECK(bz_op_bernoulli(c, &d->C[l], &d->CA, M * d->s[l],
                                  (bz_rng_pos){seed, BZ_STREAM_INIT + 48 + l, 0}));
    }
    d->chains_valid = true;
    return BZ_OK;
}

static bz_status joint_step(bz_dbm *d, const bz_dbm_train_options *o, size_t B, unsigned epoch,
                            size_t batch, float lr, float mom, unsigned *sweeps)
{
    bz_context *c = d->ctx;
    const size_t L = d->L, M = d->n_chains;
    CHECK(bz_dbm_mean_field_dev(d, B, o->mf_iters, o->mf_tol, sweeps));
    if (!d->chains_valid)
        CHECK(init_chains(d, B, o->seed));
    for (unsigned s = 0; s < o->gibbs_steps; s++)
        CHECK(bz_dbm_gibbs_sweep(d, M, o->seed, epoch, batch, s));
    const float aB = lr / (float)B, aM = lr / (float)M;
    for (size_t l = 0; l < L; l++) {
        size_t p = d->s[l], q = d->s[l + 1];
        const bz_buf *mu = l == 0 ? &d->X0 : &d->MU[l];
        CHECK(bz_sgemm(c, true, false, p, q, B, aB, mu, 0, p, &d->MU[l + 1], 0, q, mom, &d->vW[l],
                       0, q));
        CHECK(bz_sgemm(c, true, false, p, q, M, -aM, &d->C[l], 0, p, &d->C[l + 1], 0, q, 1.0f,
                       &d->vW[l], 0, q));
        CHECK(bz_op_decay_apply(c, &d->W[l], &d->vW[l], p * q, lr * o->weight_decay));
    }
    for (size_t l = 0; l <= L; l++) {
        const bz_buf *mu = l == 0 ? &d->X0 : &d->MU[l];
        CHECK(bz_op_col_sums(c, &d->vb[l], mu, B, d->s[l], aB, mom));
        CHECK(bz_op_col_sums(c, &d->vb[l], &d->C[l], M, d->s[l], -aM, 1.0f));
        CHECK(bz_op_decay_apply(c, &d->b[l], &d->vb[l], d->s[l], 0.0f));
    }
    return BZ_OK;
}

static bz_status check_options(bz_dbm *d, const bz_dbm_train_options *o)
{
    if (o->batch_size == 0 || o->chains == 0 || o->chains > (1u << 20) || o->mf_iters == 0 ||
        o->gibbs_steps == 0 || o->gibbs_steps > 50 || !(o->learning_rate > 0) ||
        !(o->lr_decay >= 0) || !(o->weight_decay >= 0) || !(o->mf_tol >= 0))
        return bz_fail(d->ctx, BZ_E_INVALID_ARG,
                       "DBM training needs batch size, chains and mean-field sweeps >= 1, 1 to 50 "
                       "Gibbs sweeps, a positive learning rate and non-negative decays");
    return BZ_OK;
}

bz_status bz_dbm_train_batch(bz_dbm *d, const float *x, size_t B, const bz_dbm_train_options *o,
                             unsigned epoch, size_t batch)
{
    if (!d || !x || !o || B == 0)
        return BZ_E_INVALID_ARG;
    CHECK(check_options(d, o));
    CHECK(bz_dbm_reserve(d, B));
    CHECK(bz_dbm_reserve_chains(d, o->chains));
    CHECK(bz_buf_write(d->ctx, &d->X0, 0, x, B * d->s[0]));
    float mom = epoch < o->momentum_epochs ? o->momentum_initial : o->momentum_final;
    float lr = o->learning_rate / (1.0f + o->lr_decay * (float)epoch);
    return joint_step(d, o, B, epoch, batch, lr, mom, NULL);
}

bz_status bz_dbm_train_epoch(bz_dbm *d, bz_data *data, const bz_dbm_train_options *o,
                             unsigned epoch, bz_dbm_epoch_stats *stats)
{
    if (!d || !data || !o)
        return BZ_E_INVALID_ARG;
    bz_context *c = d->ctx;
    CHECK(check_options(d, o));
    if (data->dim != d->s[0])
        return bz_fail(c, BZ_E_SHAPE, "data rows have %zu values but the DBM has %zu visible units",
                       data->dim, d->s[0]);
    if (epoch >= (1u << 24))
        return bz_fail(c, BZ_E_INVALID_ARG, "epoch %u is beyond the random streams' range", epoch);
    size_t B = o->batch_size < data->n ? o->batch_size : data->n;
    CHECK(bz_gemm_use_batch(c, B)); /* the GEMM tiles for this batch size, if tuned */
    CHECK(bz_dbm_reserve(d, B));
    CHECK(bz_dbm_reserve_chains(d, o->chains));
    double t0 = bz_mono_s();
    float mom = epoch < o->momentum_epochs ? o->momentum_initial : o->momentum_final;
    float lr = o->learning_rate / (1.0f + o->lr_decay * (float)epoch);
    CHECK(bz_data_shuffle(data, o->seed, epoch));
    size_t nb = (data->n + B - 1) / B, bi = o->start_batch;
    if (bi > nb)
        return bz_fail(c, BZ_E_INVALID_ARG, "cannot resume at batch %zu of %zu", bi, nb);
    double sweeps_sum = 0;
    bz_pacer pace = {0};
    bz_status st = BZ_OK;
    bool stopped = false;
    size_t done_rows = 0;
    for (; bi < nb && !st && !stopped; bi++) {
        size_t first = bi * B, rows = data->n - first < B ? data->n - first : B;
        unsigned sw = 0;
        if (!(st = bz_data_fetch_perm(data, first, rows, &d->X0, data->dim)) &&
            !(st = joint_step(d, o, rows, epoch, bi, lr, mom, &sw)))
            st = bz_pace_step(c, &pace);
        sweeps_sum += sw;
        done_rows += rows;
        if (!st && o->progress)
            o->progress(o->progress_user, bi + 1, nb);
        if (!st && o->stop && *o->stop && bi + 1 < nb)
            stopped = true;
    }
    bz_pace_end(&pace);
    CHECK(st);
    /* Divergence check once per epoch, on the biases. */
    for (size_t l = 0; l <= d->L; l++) {
        float *b = malloc(d->s[l] * sizeof *b);
        if (!b)
            return bz_fail(c, BZ_E_NOMEM, "out of memory");
        st = bz_buf_read(c, &d->b[l], 0, b, d->s[l]);
        bool finite = true;
        for (size_t j = 0; j < d->s[l]; j++)
            finite = finite && isfinite(b[j]);
        free(b);
        CHECK(st);
        if (!finite)
            return bz_fail(c, BZ_E_DIVERGED,
                           "DBM training diverged in epoch %u (layer %zu's biases are not "
                           "finite); try a smaller learning rate than %g",
                           epoch + 1, l, (double)o->learning_rate);
    }
    if (stats) {
        stats->seconds = bz_mono_s() - t0;
        stats->samples = done_rows;
        stats->mean_sweeps = bi > o->start_batch ? sweeps_sum / (double)(bi - o->start_batch) : 0;
        stats->batches_done = bi;
    }
    return stopped ? bz_fail(c, BZ_E_INTERRUPTED, "stopped after batch %zu of %zu in epoch %u", bi,
                             nb, epoch + 1)
                   : BZ_OK;
}

/* ---- classification ---- */

bz_status bz_dbm_classifier_create(bz_dbm *d, size_t K, uint64_t seed, bz_dbn **out)
{
    bz_context *c = d->ctx;
    const size_t L = d->L, s0 = d->s[0], s1 = d->s[1], s2 = d->s[2], w = s0 + s2;
    size_t sizes[BZ_DBM_MAX_HIDDEN + 1] = {w, s1, s2, L > 2 ? d->s[3] : 0};
    bz_dbn *net = NULL;
    float *wt = NULL, *w1 = NULL, *b = NULL;
    bz_status st = bz_dbn_create(c, sizes, L, K, BZ_ACT_SIGMOID, seed, &net);
    if (st)
        return st;
    /* Layer 1 sees [v, mu_2] through [W_0; W_1^T]; the rest as in the DBM. */
    wt = malloc(w * s1 * sizeof *wt);
    w1 = malloc(s1 * s2 * sizeof *w1);
    b = malloc((s1 > s2 ? s1 : s2) * sizeof *b);
    if (!wt || !w1 || !b) {
        st = bz_fail(c, BZ_E_NOMEM, "out of memory for the classifier");
        goto done;
    }
    if ((st = bz_dbm_get_layer(d, 0, wt, NULL)) || (st = bz_dbm_get_layer(d, 1, w1, NULL)))
        goto done;
    for (size_t i = 0; i < s1; i++)
        for (size_t k = 0; k < s2; k++)
            wt[(s0 + k) * s1 + i] = w1[i * s2 + k];
    if ((st = bz_dbm_get_layer(d, 1, NULL, b)) || (st = bz_dbn_set_layer(net, 0, wt, b)) ||
        (st = bz_dbm_get_layer(d, 2, NULL, b)) || (st = bz_dbn_set_layer(net, 1, w1, b)))
        goto done;
    if (L > 2) {
        float *w2 = malloc(s2 * d->s[3] * sizeof *w2), *b3 = malloc(d->s[3] * sizeof *b3);
        if (!w2 || !b3)
            st = bz_fail(c, BZ_E_NOMEM, "out of memory");
        if (!st && !(st = bz_dbm_get_layer(d, 2, w2, NULL)) &&
            !(st = bz_dbm_get_layer(d, 3, NULL, b3)))
            st = bz_dbn_set_layer(net, 2, w2, b3);
        free(w2);
        free(b3);
    }
done:
    free(wt);
    free(w1);
    free(b);
    if (st) {
        bz_dbn_free(net);
        net = NULL;
    }
    *out = net;
    return st;
}

bz_status bz_dbm_classifier_rows(bz_dbm *d, const float *x, size_t n, unsigned mf_iters,
                                 float **out)
{
    size_t w = d->s[0] + d->s[2];
    float *aug = malloc((n ? n : 1) * w * sizeof *aug);
    if (!aug)
        return bz_fail(d->ctx, BZ_E_NOMEM, "out of memory for the classifier's inputs (%zu x %zu)",
                       n, w);
    bz_status st = n ? bz_dbm_classifier_inputs(d, x, n, mf_iters, 0.0f, aug) : BZ_OK;
    if (st) {
        free(aug);
        aug = NULL;
    }
    *out = aug;
    return st;
}

bz_status bz_dbm_finetune(bz_dbm *d, const float *x, const int32_t *labels, size_t n,
                          const float *xv, const int32_t *labels_v, size_t nv, size_t K,
                          unsigned mf_iters, const bz_dbn_sgd *o, bz_dbn_finetune_cb cb,
                          void *user, bz_dbn_finetune_result *res)
{
    if (!d || !x || !labels || n == 0 || !o || (nv && (!xv || !labels_v)) || mf_iters == 0)
        return BZ_E_INVALID_ARG;
    bz_dbn_free(d->clf);
    d->clf = NULL;
    bz_dbn *net = NULL;
    float *aug = NULL, *augv = NULL;
    bz_status st = bz_dbm_classifier_create(d, K, o->seed, &net);
    if (!st)
        st = bz_dbm_classifier_rows(d, x, n, mf_iters, &aug);
    if (!st && nv)
        st = bz_dbm_classifier_rows(d, xv, nv, mf_iters, &augv);
    if (!st)
        st = bz_dbn_finetune(net, aug, labels, n, augv, labels_v, nv, o, cb, user, res);
    if (!st) {
        d->clf = net;
        net = NULL;
    }
    bz_dbn_free(net);
    free(aug);
    free(augv);
    return st;
}

bz_status bz_dbm_predict_proba(bz_dbm *d, const float *x, size_t n, unsigned mf_iters,
                               float *prob)
{
    if (!d || !x || !prob || n == 0 || mf_iters == 0)
        return BZ_E_INVALID_ARG;
    if (!d->clf)
        return bz_fail(d->ctx, BZ_E_UNSUPPORTED,
                       "this DBM has no classifier; train it with labelled data and "
                       "--finetune-epochs N to classify");
    size_t w = d->s[0] + d->s[2];
    float *aug = malloc(n * w * sizeof *aug);
    if (!aug)
        return bz_fail(d->ctx, BZ_E_NOMEM, "out of memory for %zu x %zu inputs", n, w);
    bz_status st = bz_dbm_classifier_inputs(d, x, n, mf_iters, 0.0f, aug);
    if (!st)
        st = bz_dbn_predict_proba(d->clf, aug, n, prob);
    free(aug);
    return st;
}
