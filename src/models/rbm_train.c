/*
 * Contrastive divergence (CD-k) and persistent CD training.
 *
 * One step on a batch of B rows costs five matrix products, all in CLBlast:
 * the positive up-pass V0 W, k down/up pairs, and two gradient products that
 * accumulate straight into the weight velocity (alpha = lr/B, beta = momentum
 * for the first, beta = 1 for the second), so no gradient buffer exists and
 * the update is one more element-wise pass. Fusing the two gradient products
 * into one of inner size 2B was measured and gained nothing on POCL, while it
 * forces both phases into one buffer; it is not done. Nothing is read back
 * per batch: the reconstruction error accumulates on the device.
 */
#include "blas/gemm.h"
#include "models/rbm.h"
#include "ops/ops.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CHECK(x)                 \
    do {                         \
        bz_status c_ = (x);      \
        if (c_)                  \
            return c_;           \
    } while (0)

void bz_rbm_train_options_init(bz_rbm_train_options *o)
{
    memset(o, 0, sizeof *o);
    o->batch_size = 100;
    o->k = 1;
    o->learning_rate = 0.05f;
    o->momentum_initial = 0.5f;
    o->momentum_final = 0.9f;
    o->momentum_epochs = 5;
    o->weight_decay = 2e-4f;
    o->sparsity_cost = 0.01f;
    o->seed = 1;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* One CD-k / PCD-k step on the B rows already in V0. */
static bz_status cd_step(bz_rbm *r, const bz_rbm_train_options *o, size_t B, unsigned epoch,
                         size_t batch, float lr, float mom)
{
    bz_context *c = r->ctx;
    const size_t nv = r->nv, nh = r->nh;
    const uint64_t seed = o->seed;

    if (o->stochastic_binarize)
        CHECK(bz_op_bernoulli(c, &r->V0, &r->V0, B * nv,
                              (bz_rng_pos){seed, bz_rbm_stream(epoch, batch, 254), 0}));

    /* Positive phase: H0 = P(h | v0), Hs ~ H0. */
    CHECK(bz_rbm_up(r, &r->V0, B, &r->H0));
    CHECK(r->hid->mean_sample(c, &r->H0, &r->Hs, &r->H0, &r->hb, B, nh,
                              (bz_rng_pos){seed, bz_rbm_stream(epoch, batch, 0), 0}));

    /* Negative phase from the data's hidden sample (CD) or the persistent
     * chains (PCD; seeded from the first batch's hidden sample). */
    bz_buf *neg = &r->Hs;
    if (o->pcd) {
        if (!r->chain_valid) {
            CHECK(bz_buf_copy(c, &r->Hs, 0, &r->chain, 0, B * nh));
            r->chain_valid = true;
        }
        neg = &r->chain;
    }
    const bz_buf *vneg = &r->V1; /* visible statistics of the negative phase */
    for (unsigned s = 1; s <= o->k; s++) {
        bool last = s == o->k;
        CHECK(bz_rbm_down(r, neg, B, &r->V1));
        CHECK(r->vis->mean(c, &r->V1, &r->V1, &r->vb, B, nv));
        /* CD's last step uses the visible means, which lowers the variance
         * of the gradient (Hinton's guide); every other step, and every PCD
         * step, samples them, since a persistent chain must be a true Gibbs
         * chain of the model or it drifts away from it. */
        const bz_buf *up = &r->V1;
        if (!last || o->pcd) {
            CHECK(r->vis->sample(c, &r->Vs, &r->V1, B * nv,
                                 (bz_rng_pos){seed, bz_rbm_stream(epoch, batch, 2 * s - 1), 0}));
            up = &r->Vs;
        }
        vneg = up;
        CHECK(bz_rbm_up(r, up, B, &r->H1));
        if (!last || o->pcd) {
            bz_buf *dst = o->pcd ? &r->chain : &r->Hs;
            CHECK(r->hid->mean_sample(c, &r->H1, dst, &r->H1, &r->hb, B, nh,
                                      (bz_rng_pos){seed, bz_rbm_stream(epoch, batch, 2 * s), 0}));
            neg = dst;
        } else {
            CHECK(r->hid->mean(c, &r->H1, &r->H1, &r->hb, B, nh));
        }
    }

    /* Velocity: vW = mom vW + lr/B (V0^T H0 - V1^T H1) - lr decay W. */
    const float a = lr / (float)B;
    CHECK(bz_sgemm(c, true, false, nv, nh, B, a, &r->V0, 0, nv, &r->H0, 0, nh, mom, &r->vW, 0, nh));
    CHECK(bz_sgemm(c, true, false, nv, nh, B, -a, vneg, 0, nv, &r->H1, 0, nh, 1.0f, &r->vW, 0, nh));
    CHECK(bz_op_decay_apply(c, &r->W, &r->vW, nv * nh, lr * o->weight_decay));
    CHECK(bz_op_col_sum_diff(c, &r->vvb, &r->V0, vneg, B, nv, a, mom));
    CHECK(bz_op_decay_apply(c, &r->vb, &r->vvb, nv, 0.0f));
    CHECK(bz_op_col_sum_diff(c, &r->vhb, &r->H0, &r->H1, B, nh, a, mom));
    if (o->sparsity_target > 0.0f) {
        CHECK(bz_op_col_sums(c, &r->tmp_h, &r->H0, B, nh, 1.0f / (float)B, 0.0f));
        CHECK(bz_op_sparsity_update(c, &r->q, &r->tmp_h, &r->vhb, nh, lr * o->sparsity_cost,
                                    o->sparsity_target));
    }
    CHECK(bz_op_decay_apply(c, &r->hb, &r->vhb, nh, 0.0f));
    return bz_op_row_sq_err_acc(c, &r->err_acc, &r->V0, &r->V1, B, nv);
}

static bool all_finite(const float *x, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isfinite(x[i]))
            return false;
    return true;
}

bz_status bz_rbm_train_epoch(bz_rbm *r, bz_data *d, const bz_rbm_train_options *o_in,
                             unsigned epoch, bz_rbm_epoch_stats *stats)
{
    if (!r || !d)
        return BZ_E_INVALID_ARG;
    bz_context *c = r->ctx;
    bz_rbm_train_options defaults;
    bz_rbm_train_options_init(&defaults);
    const bz_rbm_train_options *o = o_in ? o_in : &defaults;
    if (d->dim != r->nv)
        return bz_fail(c, BZ_E_SHAPE, "data rows have %zu values but the RBM has %zu visible units",
                       d->dim, r->nv);
    if (o->batch_size == 0 || o->k == 0 || !(o->learning_rate > 0) || o->k > 100)
        return bz_fail(c, BZ_E_INVALID_ARG,
                       "training needs batch size >= 1, 1 <= k <= 100 and a positive learning rate");
    if (epoch >= (1u << 24))
        return bz_fail(c, BZ_E_INVALID_ARG, "epoch %u is beyond the random streams' range", epoch);
    size_t B = o->batch_size < d->n ? o->batch_size : d->n;
    CHECK(bz_rbm_reserve(r, B));
    if (o->pcd)
        CHECK(bz_rbm_reserve_chains(r, B));

    double t0 = now_s();
    float lr = o->learning_rate / (1.0f + o->lr_decay * (float)epoch);
    float mom = epoch < o->momentum_epochs ? o->momentum_initial : o->momentum_final;
    CHECK(bz_data_shuffle(d, o->seed, epoch));
    CHECK(bz_buf_fill(c, &r->err_acc, 0.0f, 0, r->cap));
    size_t n_batches = (d->n + B - 1) / B, batch = o->start_batch, done_rows = 0;
    if (batch > n_batches)
        return bz_fail(c, BZ_E_INVALID_ARG, "cannot resume at batch %zu of %zu", batch, n_batches);
    bool stopped = false;
    cl_event in_flight[2] = {NULL, NULL};
    bz_status st = BZ_OK;
    for (; batch < n_batches; batch++) {
        size_t first = batch * B;
        size_t rows = d->n - first < B ? d->n - first : B;
        if ((st = bz_data_fetch_perm(d, first, rows, &r->V0)) ||
            (st = cd_step(r, o, rows, epoch, batch, lr, mom)))
            break;
        done_rows += rows;
        if (o->progress) {
            /* Report batches the device has finished, not ones merely
             * queued: wait for the marker of the batch before last, which
             * keeps two batches in flight. */
            cl_event mark = NULL;
            if (clEnqueueMarkerWithWaitList(c->queue, 0, NULL, &mark) == CL_SUCCESS) {
                if (in_flight[batch % 2]) {
                    clWaitForEvents(1, &in_flight[batch % 2]);
                    clReleaseEvent(in_flight[batch % 2]);
                }
                in_flight[batch % 2] = mark;
            }
            o->progress(o->progress_user, batch + 1, n_batches);
        }
        if (o->stop && *o->stop && batch + 1 < n_batches) {
            stopped = true;
            batch++;
            break;
        }
    }
    for (int i = 0; i < 2; i++)
        if (in_flight[i])
            clReleaseEvent(in_flight[i]);
    CHECK(st);
    if (stats)
        stats->batches_done = batch;
    float *acc = malloc(r->cap * sizeof *acc);
    if (!acc)
        return bz_fail(c, BZ_E_NOMEM, "out of memory");
    st = bz_buf_read(c, &r->err_acc, 0, acc, r->cap);
    double sum = 0;
    for (size_t i = 0; st == BZ_OK && i < r->cap; i++)
        sum += acc[i];
    free(acc);
    CHECK(st);
    double secs = now_s() - t0;
    double mse = done_rows ? sum / ((double)done_rows * (double)r->nv) : 0.0;

    /* Divergence check: once per epoch, on the biases (any NaN in W spreads
     * to them within a step) and the error. */
    float *vb = malloc((r->nv + r->nh) * sizeof *vb);
    if (!vb)
        return bz_fail(c, BZ_E_NOMEM, "out of memory");
    st = bz_rbm_get_params(r, NULL, vb, vb + r->nv);
    bool finite = st == BZ_OK && all_finite(vb, r->nv + r->nh) && isfinite(mse);
    free(vb);
    CHECK(st);
    if (!finite)
        return bz_fail(c, BZ_E_DIVERGED,
                       "training diverged in epoch %u (reconstruction error %g, parameters not "
                       "finite); try a smaller learning rate than %g",
                       epoch + 1, mse, (double)o->learning_rate);
    if (stats) {
        stats->recon_mse = mse;
        stats->seconds = secs;
        stats->samples = done_rows;
        stats->samples_per_s = (double)done_rows / secs;
    }
    return stopped ? bz_fail(c, BZ_E_INTERRUPTED, "stopped after batch %zu of %zu in epoch %u",
                             batch, n_batches, epoch + 1)
                   : BZ_OK;
}
