/*
 * DBN training: greedy layer-wise pretraining with the RBM trainer, then
 * supervised fine-tuning of the feed-forward network by minibatch SGD with
 * momentum on the cross-entropy (the learning rate optionally decaying as
 * lr / (1 + decay * epoch)), optional dropout, and early stopping on a
 * validation set that keeps the best epoch's parameters.
 *
 * One SGD step on B rows: L + 1 forward products, the fused softmax /
 * cross-entropy gradient, then per layer (top down) the delta product
 * D[l] = D[l+1] W[l]^T with the activation derivative, and the gradient
 * product accumulated straight into the velocity (alpha = -lr, beta =
 * momentum; the deltas carry 1/B), as the RBM trainer does.
 */
#include "blas/gemm.h"
#include "models/dbn.h"
#include "engine/check.h"
#include "models/dbn_dist.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- pretraining ---- */

static bz_status copy_into_classifier(bz_dbn *d, size_t l)
{
    bz_rbm *r = d->rbm[l];
    bz_context *c = d->ctx;
    /* The feature rows of W come first (the top RBM's label rows follow). */
    CHECK(bz_buf_copy(c, &r->W, 0, &d->W[l], 0, d->s[l] * d->s[l + 1]));
    return bz_buf_copy(c, &r->hb, 0, &d->b[l], 0, d->s[l + 1]);
}

bz_status bz_dbn_pretrain(bz_dbn *d, const float *x, const int32_t *labels, size_t n,
                          const bz_rbm_train_options *o, unsigned epochs, bz_dbn_pretrain_cb cb,
                          void *user)
{
    return bz_dbn_pretrain_dist(d, x, labels, n, o, epochs, cb, user, NULL);
}

bz_status bz_dbn_pre_start(bz_dbn *d, const int32_t *labels, size_t n,
                           const bz_rbm_train_options *o)
{
    bz_context *c = d->ctx;
    if (o->pcd || o->k != 1)
        return bz_fail(c, BZ_E_UNSUPPORTED,
                       "DBN pretraining uses CD-1 (the top RBM's label units are sampled only "
                       "through their means)");
    for (size_t i = 0; i < n; i++)
        if (labels[i] < 0 || (size_t)labels[i] >= d->K)
            return bz_fail(c, BZ_E_INVALID_ARG, "row %zu has label %d, outside 0..%zu", i,
                           (int)labels[i], d->K - 1);
    for (size_t l = 0; l < d->L; l++) {
        bz_rbm_free(d->rbm[l]);
        d->rbm[l] = NULL;
    }
    d->generative = false;
    return BZ_OK;
}

bz_status bz_dbn_pre_features(bz_dbn *d, size_t l, const float *x, size_t n, float **out)
{
    bz_context *c = d->ctx;
    float *in = malloc(n * d->s[0] * sizeof *in);
    if (!in)
        return bz_fail(c, BZ_E_NOMEM, "out of memory for %zu x %zu features", n, d->s[0]);
    memcpy(in, x, n * d->s[0] * sizeof *in);
    for (size_t k = 0; k < l; k++) {
        float *next = malloc(n * d->s[k + 1] * sizeof *next);
        bz_status st = next ? bz_rbm_transform(d->rbm[k], in, n, next)
                            : bz_fail(c, BZ_E_NOMEM, "out of memory for %zu x %zu features", n,
                                      d->s[k + 1]);
        free(in);
        in = next;
        if (st) {
            free(next);
            return st;
        }
    }
    *out = in;
    return BZ_OK;
}

bz_status bz_dbn_pre_rows(bz_dbn *d, size_t l, const float *feat, const int32_t *labels,
                          size_t n, float **rows)
{
    if (l + 1 < d->L) {
        *rows = (float *)feat;
        return BZ_OK;
    }
    /* Features, then the one-hot label. */
    size_t nf = d->s[l], nv = nf + d->K;
    float *next = malloc(n * nv * sizeof *next);
    if (!next)
        return bz_fail(d->ctx, BZ_E_NOMEM, "out of memory for %zu x %zu features", n, nv);
    for (size_t i = 0; i < n; i++) {
        memcpy(next + i * nv, feat + i * nf, nf * sizeof *next);
        memset(next + i * nv + nf, 0, d->K * sizeof *next);
        next[i * nv + nf + (size_t)labels[i]] = 1.0f;
    }
    *rows = next;
    return BZ_OK;
}

bz_status bz_dbn_pre_create(bz_dbn *d, size_t l, const float *rows, size_t n,
                            const bz_rbm_train_options *o, bz_comm *comm)
{
    bool top = l + 1 == d->L;
    size_t nv = d->s[l] + (top ? d->K : 0);
    bz_rbm_free(d->rbm[l]);
    d->rbm[l] = NULL;
    CHECK(bz_rbm_create(d->ctx, nv, d->s[l + 1], BZ_UNIT_BERNOULLI, o->seed + l, &d->rbm[l]));
    bz_rbm *r = d->rbm[l];
    if (top)
        bz_dbn_use_label_units(r, d->K);
    CHECK(bz_rbm_init_visible_bias(r, rows, n));
    if (comm)
        CHECK(bz_rbm_dist_sync(r, comm));
    return BZ_OK;
}

void bz_dbn_pre_options(const bz_rbm_train_options *o, size_t l, bz_rbm_train_options *lo)
{
    *lo = *o;
    lo->seed = o->seed + 1000 * l;
    lo->stochastic_binarize = l == 0 && o->stochastic_binarize;
}

bz_status bz_dbn_pre_finish(bz_dbn *d, size_t l)
{
    CHECK(copy_into_classifier(d, l));
    d->generative = l + 1 == d->L;
    return BZ_OK;
}

bz_status bz_dbn_pretrain_dist(bz_dbn *d, const float *x, const int32_t *labels, size_t n,
                               const bz_rbm_train_options *o, unsigned epochs,
                               bz_dbn_pretrain_cb cb, void *user, bz_comm *comm)
{
    if (!d || !x || !labels || n == 0 || !o)
        return BZ_E_INVALID_ARG;
    bz_context *c = d->ctx;
    CHECK(bz_dbn_pre_start(d, labels, n, o));
    float *feat = NULL, *rows = NULL;
    bz_data *data = NULL;
    bz_status st = bz_dbn_pre_features(d, 0, x, n, &feat);
    for (size_t l = 0; l < d->L && !st; l++) {
        bool top = l + 1 == d->L;
        if ((st = bz_dbn_pre_rows(d, l, feat, labels, n, &rows)) ||
            (st = bz_dbn_pre_create(d, l, rows, n, o, comm)) ||
            (st = bz_data_create(c, rows, n, d->rbm[l]->nv, &data)))
            break;
        bz_rbm_train_options lo;
        bz_dbn_pre_options(o, l, &lo);
        for (unsigned e = 0; e < epochs && !st; e++) {
            bz_rbm_epoch_stats es = {0};
            st = comm ? bz_rbm_train_epoch_dist(d->rbm[l], data, &lo, e, &es, comm)
                      : bz_rbm_train_epoch(d->rbm[l], data, &lo, e, &es);
            if (!st && cb)
                cb(user, l, e, &es);
        }
        bz_data_free(data);
        data = NULL;
        if (st || (st = bz_dbn_pre_finish(d, l)) || top)
            break;
        /* The next layer's data: this one's hidden probabilities, computed
         * on the device. */
        float *next = malloc(n * d->s[l + 1] * sizeof *next);
        if (!next) {
            st = bz_fail(c, BZ_E_NOMEM, "out of memory for %zu x %zu features", n, d->s[l + 1]);
            break;
        }
        st = bz_rbm_transform(d->rbm[l], feat, n, next);
        free(feat);
        feat = next;
        rows = NULL;
    }
    if (rows != feat)
        free(rows);
    bz_data_free(data);
    free(feat);
    return st;
}

/* ---- fine-tuning ---- */

void bz_dbn_finetune_options_init(bz_dbn_finetune_options *o)
{
    memset(o, 0, sizeof *o);
    o->batch_size = 32;
    o->learning_rate = 0.1f;
    o->momentum = 0.9f;
    o->epochs = 100;
    o->patience = 10;
    o->seed = 1;
}

float bz_dbn_sgd_lr(const bz_dbn_sgd *o, unsigned epoch)
{
    return o->learning_rate / (1.0f + o->lr_decay * (float)epoch);
}

bz_status bz_dbn_sgd_step(bz_dbn *d, size_t B, const bz_dbn_sgd *o, unsigned epoch, size_t batch,
                          size_t lo, size_t global, bz_grad_sync *g)
{
    bz_context *c = d->ctx;
    const size_t L = d->L;
    const float p = o->dropout, lr = bz_dbn_sgd_lr(o, epoch);
    CHECK(bz_dbn_forward_hidden(d, B, p, o->seed, epoch, batch, lo));
    size_t m = d->s[L];
    CHECK(bz_sgemm(c, false, false, B, d->K, m, 1.0f, &d->A[L], 0, m, &d->W[L], 0, d->K, 0.0f,
                   &d->Z, 0, d->K));
    /* The deltas carry 1 / (global batch): the ranks' shares sum to it. */
    CHECK(bz_op_softmax_xent_grad(c, &d->Z, &d->D[L + 1], &d->loss, &d->correct, &d->Z, &d->b[L],
                                  &d->labels, B, d->K, 1.0f / (float)global));
    for (size_t l = L + 1; l-- > 0;) {
        size_t in = d->s[l], out = d->s[l + 1];
        if (l > 0) {
            /* Delta of layer l from the weights before their update. */
            CHECK(bz_sgemm(c, false, true, B, in, out, 1.0f, &d->D[l + 1], 0, out, &d->W[l], 0,
                           out, 0.0f, &d->D[l], 0, in));
            CHECK(bz_op_act_backward(c, &d->D[l], &d->A[l], B * in, d->act, p,
                                     (bz_rng_pos){o->seed, bz_dbn_dropout_stream(epoch, batch, l),
                                                  (uint64_t)lo * in}));
        }
        if (g) {
            /* This rank's share; every layer's update follows the sum. */
            CHECK(bz_sgemm(c, true, false, in, out, B, -lr, &d->A[l], 0, in, &d->D[l + 1], 0, out,
                           0.0f, &g->sec[l], 0, out));
            CHECK(bz_op_col_sums(c, &g->sec[L + 1 + l], &d->D[l + 1], B, out, -lr, 0.0f));
            continue;
        }
        CHECK(bz_sgemm(c, true, false, in, out, B, -lr, &d->A[l], 0, in, &d->D[l + 1], 0, out,
                       o->momentum, &d->vW[l], 0, out));
        CHECK(bz_op_layer_step(c, &d->W[l], &d->vW[l], in * out, lr * o->weight_decay, &d->b[l],
                               &d->vb[l], &d->D[l + 1], B, out, -lr, o->momentum));
    }
    return BZ_OK;
}

static bz_status check_sgd(bz_context *c, const bz_dbn_sgd *o)
{
    if (o->batch_size == 0 || !(o->learning_rate > 0) || !(o->momentum >= 0 && o->momentum < 1) ||
        !(o->dropout >= 0 && o->dropout < 1) || !(o->weight_decay >= 0) ||
        !(o->lr_decay >= 0 && isfinite(o->lr_decay)))
        return bz_fail(c, BZ_E_INVALID_ARG,
                       "fine-tuning needs batch size >= 1, learning rate > 0, momentum and "
                       "dropout in [0, 1), weight decay and learning-rate decay >= 0");
    return BZ_OK;
}

bz_status bz_dbn_train_batch(bz_dbn *d, const float *x, const float *labels, size_t B,
                             const bz_dbn_sgd *o, unsigned epoch, size_t batch, double *loss)
{
    if (!d || !x || !labels || !o || B == 0)
        return BZ_E_INVALID_ARG;
    bz_context *c = d->ctx;
    CHECK(check_sgd(c, o));
    for (size_t i = 0; i < B; i++)
        if (!(labels[i] >= 0 && labels[i] < (float)d->K && labels[i] == floorf(labels[i])))
            return bz_fail(c, BZ_E_INVALID_ARG, "label %g of row %zu is not a class 0..%zu",
                           (double)labels[i], i, d->K - 1);
    CHECK(bz_dbn_reserve(d, B));
    CHECK(bz_buf_write(c, &d->A[0], 0, x, B * d->s[0]));
    CHECK(bz_buf_write(c, &d->labels, 0, labels, B));
    CHECK(bz_buf_fill(c, &d->loss, 0.0f, 0, B));
    CHECK(bz_buf_fill(c, &d->correct, 0.0f, 0, B));
    CHECK(bz_dbn_sgd_step(d, B, o, epoch, batch, 0, B, NULL));
    if (loss) {
        float *l = malloc(B * sizeof *l);
        if (!l)
            return bz_fail(c, BZ_E_NOMEM, "out of memory");
        bz_status st = bz_buf_read(c, &d->loss, 0, l, B);
        double s = 0;
        for (size_t i = 0; i < B; i++)
            s += l[i];
        free(l);
        CHECK(st);
        *loss += s;
    }
    return BZ_OK;
}

/* Accuracy on the nv validation rows (prob: room for nv x K). Across comm
 * each rank predicts its share of the rows and the hit counts are summed,
 * which is exact: every rank gets the same figure, and so takes the same
 * early-stopping decisions. */
static bz_status val_accuracy(bz_dbn *d, const float *xv, const int32_t *labels, size_t nv,
                              float *prob, bz_comm *comm, double *acc)
{
    const size_t K = d->K;
    size_t lo = 0, hi = nv;
    if (comm)
        bz_dist_share(nv, comm->rank, comm->size, &lo, &hi);
    double hit = 0;
    if (hi > lo)
        CHECK(bz_dbn_predict_proba(d, xv + lo * d->s[0], hi - lo, prob));
    for (size_t i = 0; i < hi - lo; i++) {
        size_t arg = 0;
        for (size_t j = 1; j < K; j++)
            if (prob[i * K + j] > prob[i * K + arg])
                arg = j;
        hit += (int32_t)arg == labels[lo + i];
    }
    bz_status st = comm ? comm->sum_f64(comm, &hit, 1) : BZ_OK;
    if (st)
        return bz_fail(d->ctx, st, "summing the validation hits across ranks: %s", comm->error);
    *acc = nv ? hit / (double)nv : NAN;
    return BZ_OK;
}

/* Host snapshot of the classifier's parameters (the best epoch). */
bz_status bz_dbn_ft_alloc_best(bz_dbn *d, bz_dbn_ft *t)
{
    for (size_t l = 0; l <= d->L; l++) {
        if (!t->best_w[l])
            t->best_w[l] = malloc(d->s[l] * d->s[l + 1] * sizeof(float));
        if (!t->best_b[l])
            t->best_b[l] = malloc(d->s[l + 1] * sizeof(float));
        if (!t->best_w[l] || !t->best_b[l])
            return bz_fail(d->ctx, BZ_E_NOMEM, "out of memory");
    }
    return BZ_OK;
}

static bz_status snapshot_take(bz_dbn *d, bz_dbn_ft *t)
{
    CHECK(bz_dbn_ft_alloc_best(d, t));
    for (size_t l = 0; l <= d->L; l++)
        CHECK(bz_dbn_get_layer(d, l, t->best_w[l], t->best_b[l]));
    return BZ_OK;
}

static bz_status snapshot_restore(bz_dbn *d, const bz_dbn_ft *t)
{
    for (size_t l = 0; l <= d->L; l++)
        CHECK(bz_dbn_set_layer(d, l, t->best_w[l], t->best_b[l]));
    return BZ_OK;
}

typedef bz_dbn_ft ft_state;

/* The network an epoch's steps run on: the twin padded to the GEMM tiles in
 * force (dbn_pad.c) when that pays and fits, else d itself. */
static bz_status epoch_network(bz_dbn *d, size_t B, const bz_dbn_sgd *o, bz_comm *comm,
                               bz_dbn **net)
{
    *net = d;
    if (comm) /* the ranks' gradient exchange follows the network's own sizes */
        return BZ_OK;
    size_t sp[BZ_DBN_MAX_LAYERS + 2];
    bz_dbn_pad_plan(d, B, o, sp);
    bool pad = false;
    for (size_t l = 0; l <= d->L; l++)
        pad |= sp[l] != d->s[l];
    bz_dbn *twin = NULL;
    if (pad)
        CHECK(bz_dbn_pad_enter(d, sp, B, &twin));
    if (twin)
        *net = twin;
    return BZ_OK;
}

/* Sums of the per-row loss and hit accumulators of net's work space. */
static bz_status read_sums(bz_dbn *net, ft_state *t, double *sl, double *sc)
{
    bz_context *c = net->ctx;
    if (t->acc_n < net->cap) {
        free(t->acc);
        if (!(t->acc = malloc(net->cap * sizeof *t->acc))) {
            t->acc_n = 0;
            return bz_fail(c, BZ_E_NOMEM, "out of memory");
        }
        t->acc_n = net->cap;
    }
    *sl = *sc = 0;
    CHECK(bz_buf_read(c, &net->loss, 0, t->acc, net->cap));
    for (size_t i = 0; i < net->cap; i++)
        *sl += t->acc[i];
    CHECK(bz_buf_read(c, &net->correct, 0, t->acc, net->cap));
    for (size_t i = 0; i < net->cap; i++)
        *sc += t->acc[i];
    return BZ_OK;
}

static bz_status run_epoch(bz_dbn *d, ft_state *t, size_t n, const bz_dbn_sgd *o, unsigned e,
                           bz_comm *comm, double *loss, double *train_acc, size_t *batches_done)
{
    bz_context *c = d->ctx;
    size_t B = o->batch_size < n ? o->batch_size : n;
    CHECK(bz_gemm_use_batch(c, B)); /* the GEMM tiles for this batch size, if tuned */
    bz_dbn *net;
    CHECK(epoch_network(d, B, o, comm, &net));
    /* The same (seed, epoch) permutes both the rows and their labels. */
    CHECK(bz_data_shuffle(t->x, o->seed, e));
    CHECK(bz_data_shuffle(t->y, o->seed, e));
    CHECK(bz_buf_fill(c, &net->loss, 0.0f, 0, net->cap));
    CHECK(bz_buf_fill(c, &net->correct, 0.0f, 0, net->cap));
    size_t nb = (n + B - 1) / B, b = comm ? 0 : o->start_batch;
    if (b > nb)
        return bz_fail(c, BZ_E_INVALID_ARG, "cannot resume at batch %zu of %zu", b, nb);
    if (comm)
        CHECK(bz_dbn_epoch_steps_dist(d, t->x, t->y, B, o, e, comm));
    bz_pacer pace = {0};
    bz_status st = BZ_OK;
    bool stopped = false;
    for (; !comm && b < nb && !st && !stopped; b++) {
        size_t first = b * B, rows = n - first < B ? n - first : B;
        if (!(st = bz_data_fetch_perm(t->x, first, rows, &net->A[0], net->s[0])) &&
            !(st = bz_data_fetch_perm(t->y, first, rows, &net->labels, t->y->dim)) &&
            !(st = bz_dbn_sgd_step(net, rows, o, e, b, 0, rows, NULL)))
            st = bz_pace_step(c, &pace);
        if (!st && o->progress)
            o->progress(o->progress_user, b + 1, nb);
        if (!st && o->stop && *o->stop && b + 1 < nb)
            stopped = true;
    }
    bz_pace_end(&pace);
    CHECK(st);
    if (net != d)
        CHECK(bz_dbn_pad_leave(d, net));
    double sl = 0, sc = 0;
    CHECK(read_sums(net, t, &sl, &sc));
    /* A resumed epoch adds the figures of the batches before the stop. */
    sl += t->part_loss;
    sc += t->part_hits;
    t->part_loss = t->part_hits = 0;
    if (batches_done)
        *batches_done = comm ? nb : b;
    if (stopped) {
        t->part_loss = sl;
        t->part_hits = sc;
        return bz_fail(c, BZ_E_INTERRUPTED, "stopped after batch %zu of %zu in epoch %u", b, nb,
                       e + 1);
    }
    if (comm) {
        /* Every rank's rows: the same figures (and divergence verdict)
         * everywhere. */
        double sums[2] = {sl, sc};
        if ((st = comm->sum_f64(comm, sums, 2)))
            return bz_fail(c, st, "summing the fine-tuning loss across ranks: %s", comm->error);
        sl = sums[0];
        sc = sums[1];
    }
    *loss = sl / (double)n;
    *train_acc = sc / (double)n;
    if (!isfinite(*loss))
        return bz_fail(c, BZ_E_DIVERGED,
                       "fine-tuning diverged in epoch %u (loss %g); try a learning rate below %g",
                       e + 1, *loss, (double)o->learning_rate);
    return BZ_OK;
}

bz_status bz_dbn_finetune(bz_dbn *d, const float *x, const int32_t *labels, size_t n,
                          const float *xv, const int32_t *labels_v, size_t nv,
                          const bz_dbn_sgd *o, bz_dbn_finetune_cb cb, void *user,
                          bz_dbn_finetune_result *res)
{
    return bz_dbn_finetune_dist(d, x, labels, n, xv, labels_v, nv, o, cb, user, res, NULL);
}

void bz_dbn_ft_free(bz_dbn_ft *t)
{
    if (!t)
        return;
    bz_data_free(t->x);
    bz_data_free(t->y);
    free(t->ylab);
    free(t->prob);
    free(t->acc);
    for (size_t l = 0; l <= BZ_DBN_MAX_LAYERS; l++) {
        free(t->best_w[l]);
        free(t->best_b[l]);
    }
    free(t);
}

bz_status bz_dbn_ft_begin(bz_dbn *d, const float *x, const int32_t *labels, size_t n, size_t nv,
                          const bz_dbn_sgd *o, bool zero_velocities, bz_dbn_ft **out)
{
    bz_context *c = d->ctx;
    *out = NULL;
    CHECK(check_sgd(c, o));
    for (size_t i = 0; i < n; i++)
        if (labels[i] < 0 || (size_t)labels[i] >= d->K)
            return bz_fail(c, BZ_E_INVALID_ARG, "row %zu has label %d, outside 0..%zu", i,
                           (int)labels[i], d->K - 1);
    ft_state *t = calloc(1, sizeof *t);
    if (!t)
        return bz_fail(c, BZ_E_NOMEM, "out of memory");
    t->n = n;
    t->nv = nv;
    t->best = -1;
    bz_status st = BZ_OK;
    t->ylab = malloc(n * sizeof *t->ylab);
    t->prob = nv ? malloc(nv * d->K * sizeof *t->prob) : NULL;
    if (!t->ylab || (nv && !t->prob)) {
        st = bz_fail(c, BZ_E_NOMEM, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < n; i++)
        t->ylab[i] = (float)labels[i];
    if ((st = bz_data_create(c, x, n, d->s[0], &t->x)) ||
        (st = bz_data_create(c, t->ylab, n, 1, &t->y)))
        goto out;
    /* Velocities start at rest. */
    for (size_t l = 0; zero_velocities && l <= d->L && !st; l++)
        if (!(st = bz_buf_fill(c, &d->vW[l], 0.0f, 0, d->s[l] * d->s[l + 1])))
            st = bz_buf_fill(c, &d->vb[l], 0.0f, 0, d->s[l + 1]);
out:
    if (st)
        bz_dbn_ft_free(t);
    else
        *out = t;
    return st;
}

bz_status bz_dbn_ft_epoch(bz_dbn *d, bz_dbn_ft *t, const float *xv, const int32_t *labels_v,
                          const bz_dbn_sgd *o, unsigned e, bz_comm *comm,
                          bz_dbn_epoch_info *info, bool *stop, size_t *batches_done)
{
    bz_context *c = d->ctx;
    size_t B = o->batch_size < t->n ? o->batch_size : t->n;
    *stop = false;
    double te = bz_mono_s(), loss = 0, tacc = 0;
    /* Reserve inside the loop: validation reserves the same rows. */
    CHECK(bz_dbn_reserve(d, B > 1000 ? B : 1000));
    bz_status st = run_epoch(d, t, t->n, o, e, comm, &loss, &tacc, batches_done);
    if (st == BZ_E_INTERRUPTED) {
        info->seconds = bz_mono_s() - te;
        t->train_secs += info->seconds;
    }
    CHECK(st);
    CHECK(bz_finish(c));
    double secs = bz_mono_s() - te; /* training only, validation excluded */
    t->train_secs += secs;
    double vacc = NAN;
    if (t->nv)
        CHECK(val_accuracy(d, xv, labels_v, t->nv, t->prob, comm, &vacc));
    *info = (bz_dbn_epoch_info){e + 1, loss, tacc, vacc, secs};
    double score = t->nv ? vacc : tacc;
    if (score > t->best) {
        t->best = score;
        t->best_epoch = e + 1;
        t->since = 0;
        CHECK(snapshot_take(d, t));
    } else if (o->patience && ++t->since >= o->patience) {
        *stop = true;
    }
    return BZ_OK;
}

bz_status bz_dbn_ft_end(bz_dbn *d, bz_dbn_ft *t)
{
    return t->best_epoch ? snapshot_restore(d, t) : BZ_OK;
}

bz_status bz_dbn_finetune_dist(bz_dbn *d, const float *x, const int32_t *labels, size_t n,
                               const float *xv, const int32_t *labels_v, size_t nv,
                               const bz_dbn_sgd *o, bz_dbn_finetune_cb cb, void *user,
                               bz_dbn_finetune_result *res, bz_comm *comm)
{
    if (!d || !x || !labels || n == 0 || !o || (nv && (!xv || !labels_v)))
        return BZ_E_INVALID_ARG;
    ft_state *t = NULL;
    CHECK(bz_dbn_ft_begin(d, x, labels, n, nv, o, true, &t));
    double t0 = bz_mono_s();
    unsigned e = 0;
    bz_status st = BZ_OK;
    for (e = 0; e < o->epochs; e++) {
        bz_dbn_epoch_info info;
        bool stop = false;
        if ((st = bz_dbn_ft_epoch(d, t, xv, labels_v, o, e, comm, &info, &stop, NULL)))
            goto out;
        if (cb)
            cb(user, &info);
        if (stop) {
            e++;
            break;
        }
    }
    if ((st = bz_dbn_ft_end(d, t)))
        goto out;
    if (res) {
        res->epochs_run = e;
        res->best_epoch = t->best_epoch;
        res->best_val_accuracy = nv ? t->best : NAN;
        res->seconds = bz_mono_s() - t0;
        res->seconds_per_epoch = e ? t->train_secs / e : 0;
    }
out:
    bz_dbn_ft_free(t);
    return st;
}
