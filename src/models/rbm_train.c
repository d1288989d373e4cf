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
 *
 * Data-parallel training (bz_rbm_train_epoch_dist) runs the same step on this
 * process's rows [lo, hi) of each batch, with every random stream entered at
 * element lo * cols, and writes the gradient (alpha = lr / global batch,
 * beta = 0) into one device buffer [dW | dvb | dhb | hidden means], which is
 * read back, summed across ranks in one in-place allreduce and written back
 * while the next batch uploads; a momentum pass then applies it. The single-
 * process path above is untouched by it.
 */
#include "blas/gemm.h"
#include "engine/check.h"
#include "dist/dist.h"
#include "models/dist_grad.h"
#include "models/rbm.h"
#include "ops/ops.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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

/* The sections of a distributed step's gradient (dist_grad.h), and one extra
 * float after them that carries the ranks' stop requests through the same
 * allreduce. */
enum { G_W, G_VB, G_HB, G_HMEAN, G_SECTIONS };

/* One CD-k / PCD-k step on the B rows already in V0. Those are rows
 * [lo, lo + B) of the global batch: random streams start at element lo * cols.
 * `global` rows (B on one process). g == NULL: the single-process update,
 * straight into the velocities. Otherwise the gradient sections of g get
 * this process's share, and the update waits for the allreduce. */
static bz_status cd_step(bz_rbm *r, const bz_rbm_train_options *o, size_t B, unsigned epoch,
                         size_t batch, float lr, float mom, size_t lo, size_t global,
                         bz_grad_sync *g)
{
    bz_context *c = r->ctx;
    const size_t nv = r->nv, nh = r->nh;
    const uint64_t seed = o->seed;
    const uint64_t ov = (uint64_t)lo * nv, oh = (uint64_t)lo * nh;
    const float a = lr / (float)global;

    if (o->stochastic_binarize)
        CHECK(bz_op_bernoulli(c, &r->V0, &r->V0, B * nv,
                              (bz_rng_pos){seed, bz_rbm_stream(epoch, batch, 254), ov}));

    /* Positive phase: H0 = P(h | v0), Hs ~ H0. */
    CHECK(bz_rbm_up(r, &r->V0, B, &r->H0));
    CHECK(r->hid->mean_sample(r->hid, c, &r->H0, &r->Hs, &r->H0, &r->hb, B, nh,
                              (bz_rng_pos){seed, bz_rbm_stream(epoch, batch, 0), oh}));

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
        CHECK(r->vis->mean(r->vis, c, &r->V1, &r->V1, &r->vb, B, nv));
        /* CD's last step uses the visible means, which lowers the variance
         * of the gradient (Hinton's guide); every other step, and every PCD
         * step, samples them, since a persistent chain must be a true Gibbs
         * chain of the model or it drifts away from it. */
        const bz_buf *up = &r->V1;
        if (!last || o->pcd) {
            CHECK(r->vis->sample(r->vis, c, &r->Vs, &r->V1, B, nv,
                                 (bz_rng_pos){seed, bz_rbm_stream(epoch, batch, 2 * s - 1), ov}));
            up = &r->Vs;
        }
        vneg = up;
        CHECK(bz_rbm_up(r, up, B, &r->H1));
        if (!last || o->pcd) {
            bz_buf *dst = o->pcd ? &r->chain : &r->Hs;
            CHECK(r->hid->mean_sample(r->hid, c, &r->H1, dst, &r->H1, &r->hb, B, nh,
                                      (bz_rng_pos){seed, bz_rbm_stream(epoch, batch, 2 * s), oh}));
            neg = dst;
        } else {
            CHECK(r->hid->mean(r->hid, c, &r->H1, &r->H1, &r->hb, B, nh));
        }
    }

    if (g) {
        /* This process's share of the gradient; the update follows the sum. */
        CHECK(bz_sgemm(c, true, false, nv, nh, B, a, &r->V0, 0, nv, &r->H0, 0, nh, 0.0f,
                       &g->sec[G_W], 0, nh));
        CHECK(bz_sgemm(c, true, false, nv, nh, B, -a, vneg, 0, nv, &r->H1, 0, nh, 1.0f,
                       &g->sec[G_W], 0, nh));
        CHECK(bz_op_col_sum_diff(c, &g->sec[G_VB], &r->V0, vneg, B, nv, a, 0.0f));
        CHECK(bz_op_col_sum_diff(c, &g->sec[G_HB], &r->H0, &r->H1, B, nh, a, 0.0f));
        if (o->sparsity_target > 0.0f)
            CHECK(bz_op_col_sums(c, &g->sec[G_HMEAN], &r->H0, B, nh, 1.0f / (float)global,
                                 0.0f));
        return bz_op_row_sq_err_acc(c, &r->err_acc, &r->V0, &r->V1, B, nv);
    }

    /* Velocity: vW = mom vW + lr/B (V0^T H0 - V1^T H1) - lr decay W. */
    CHECK(bz_sgemm(c, true, false, nv, nh, B, a, &r->V0, 0, nv, &r->H0, 0, nh, mom, &r->vW, 0, nh));
    CHECK(bz_sgemm(c, true, false, nv, nh, B, -a, vneg, 0, nv, &r->H1, 0, nh, 1.0f, &r->vW, 0, nh));
    CHECK(bz_op_decay_apply(c, &r->W, &r->vW, nv * nh, lr * o->weight_decay));
    if (!(o->sparsity_target > 0.0f)) {
        /* CD's negative visible statistics are the reconstruction itself,
         * so the bias kernel can add up the error as it goes. */
        bool fold = vneg == &r->V1;
        CHECK(bz_op_bias_momentum_pair(c, &r->vb, &r->vvb, &r->V0, vneg, nv, &r->hb, &r->vhb,
                                       &r->H0, &r->H1, nh, B, a, mom, fold ? &r->err_col : NULL));
        return fold ? BZ_OK : bz_op_row_sq_err_acc(c, &r->err_acc, &r->V0, &r->V1, B, nv);
    }
    CHECK(bz_op_col_sum_diff(c, &r->vvb, &r->V0, vneg, B, nv, a, mom));
    CHECK(bz_op_decay_apply(c, &r->vb, &r->vvb, nv, 0.0f));
    CHECK(bz_op_col_sum_diff(c, &r->vhb, &r->H0, &r->H1, B, nh, a, mom));
    /* the sparsity pull on the hidden biases goes between their two steps */
    CHECK(bz_op_col_sums(c, &r->tmp_h, &r->H0, B, nh, 1.0f / (float)B, 0.0f));
    CHECK(bz_op_sparsity_update(c, &r->q, &r->tmp_h, &r->vhb, nh, lr * o->sparsity_cost,
                                o->sparsity_target));
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

/* The distributed step's gradient: [dW | dvb | dhb | hidden means] and the
 * stop flag. */
static bz_status grad_alloc(bz_rbm *r, bz_grad_sync *g)
{
    const size_t lens[G_SECTIONS] = {r->nv * r->nh, r->nv, r->nh, r->nh};
    return bz_grad_alloc(r->ctx, lens, G_SECTIONS, 1, g);
}

/* velocity = mom velocity + g - lr decay W; W += velocity (and the same for
 * the biases, without decay, and with the sparsity pull on the hidden ones,
 * in the order the single-process step uses). */
static bz_status apply_grad(bz_rbm *r, const bz_rbm_train_options *o, bz_grad_sync *g, float lr,
                            float mom)
{
    bz_context *c = r->ctx;
    const size_t nv = r->nv, nh = r->nh;
    CHECK(bz_op_momentum_update(c, &r->W, &r->vW, &g->sec[G_W], nv * nh, 1.0f, mom,
                                lr * o->weight_decay));
    CHECK(bz_op_momentum_update(c, &r->vb, &r->vvb, &g->sec[G_VB], nv, 1.0f, mom, 0.0f));
    if (o->sparsity_target > 0.0f) {
        CHECK(bz_op_col_sums(c, &r->vhb, &g->sec[G_HB], 1, nh, 1.0f, mom));
        CHECK(bz_op_sparsity_update(c, &r->q, &g->sec[G_HMEAN], &r->vhb, nh,
                                    lr * o->sparsity_cost, o->sparsity_target));
        return bz_op_decay_apply(c, &r->hb, &r->vhb, nh, 0.0f);
    }
    return bz_op_momentum_update(c, &r->hb, &r->vhb, &g->sec[G_HB], nh, 1.0f, mom, 0.0f);
}

/* Checks shared by both entry points; sets the global batch size. */
static bz_status check_args(bz_rbm *r, bz_data *d, const bz_rbm_train_options *o, unsigned epoch,
                            size_t *B)
{
    bz_context *c = r->ctx;
    if (d->dim != r->nv)
        return bz_fail(c, BZ_E_SHAPE, "data rows have %zu values but the RBM has %zu visible units",
                       d->dim, r->nv);
    if (o->batch_size == 0 || o->k == 0 || !(o->learning_rate > 0) || o->k > 100)
        return bz_fail(c, BZ_E_INVALID_ARG,
                       "training needs batch size >= 1, 1 <= k <= 100 and a positive learning rate");
    if (epoch >= (1u << 24))
        return bz_fail(c, BZ_E_INVALID_ARG, "epoch %u is beyond the random streams' range", epoch);
    *B = o->batch_size < d->n ? o->batch_size : d->n;
    return bz_gemm_use_batch(c, *B); /* the GEMM tiles for this batch size, if tuned */
}

/* End of an epoch: the error, summed over `comm` when there is one, the
 * divergence check and the statistics. */
static bz_status finish_epoch(bz_rbm *r, const bz_rbm *w, const bz_rbm_train_options *o,
                              unsigned epoch, size_t batch, size_t n_batches, size_t done_rows,
                              bool stopped, double t0, bz_rbm_epoch_stats *stats, bz_comm *comm)
{
    bz_context *c = r->ctx;
    bz_status st;
    if (stats)
        stats->batches_done = batch;
    /* The step adds its error by row (err_acc) or, fused into the bias
     * update, by visible unit (err_col); the total is the sum of both. They
     * are w's, the model or its padded twin, whose extra units add 0. */
    float *acc = malloc((w->cap > w->nv ? w->cap : w->nv) * sizeof *acc);
    if (!acc)
        return bz_fail(c, BZ_E_NOMEM, "out of memory");
    double sum = 0;
    st = bz_buf_read(c, &w->err_acc, 0, acc, w->cap);
    for (size_t i = 0; st == BZ_OK && i < w->cap; i++)
        sum += acc[i];
    if (st == BZ_OK)
        st = bz_buf_read(c, &w->err_col, 0, acc, w->nv);
    for (size_t i = 0; st == BZ_OK && i < w->nv; i++)
        sum += acc[i];
    free(acc);
    CHECK(st);
    if (comm && (st = comm->sum_f64(comm, &sum, 1)))
        return bz_fail(c, st, "summing the reconstruction error across ranks: %s", comm->error);
    double secs = bz_mono_s() - t0;
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

bz_status bz_rbm_train_epoch(bz_rbm *r, bz_data *d, const bz_rbm_train_options *o_in,
                             unsigned epoch, bz_rbm_epoch_stats *stats)
{
    if (!r || !d)
        return BZ_E_INVALID_ARG;
    bz_context *c = r->ctx;
    bz_rbm_train_options defaults;
    bz_rbm_train_options_init(&defaults);
    const bz_rbm_train_options *o = o_in ? o_in : &defaults;
    size_t B = 0;
    CHECK(check_args(r, d, o, epoch, &B));
    CHECK(bz_rbm_reserve(r, B));
    if (o->pcd)
        CHECK(bz_rbm_reserve_chains(r, B));

    double t0 = bz_mono_s();
    float lr = o->learning_rate / (1.0f + o->lr_decay * (float)epoch);
    float mom = epoch < o->momentum_epochs ? o->momentum_initial : o->momentum_final;
    /* w: the model, or its twin padded to the GEMM tiles (rbm_pad.c) */
    bz_rbm *w = r;
    size_t nvp, nhp;
    bz_rbm_pad_plan(r, o, B, &nvp, &nhp);
    if (nvp != r->nv || nhp != r->nh) {
        bz_rbm *twin;
        CHECK(bz_rbm_pad_enter(r, nvp, nhp, B, o->pcd, &twin));
        if (twin) {
            w = twin;
            bz_log(c, BZ_LOG_DEBUG, "training %zu-%zu padded to %zu-%zu", r->nv, r->nh, nvp, nhp);
        }
    }
    CHECK(bz_data_shuffle(d, o->seed, epoch));
    CHECK(bz_buf_fill(c, &w->err_acc, 0.0f, 0, w->cap));
    CHECK(bz_buf_fill(c, &w->err_col, 0.0f, 0, w->nv));
    size_t n_batches = (d->n + B - 1) / B, batch = o->start_batch, done_rows = 0;
    if (batch > n_batches)
        return bz_fail(c, BZ_E_INVALID_ARG, "cannot resume at batch %zu of %zu", batch, n_batches);
    bool stopped = false;
    bz_pacer pace = {0};
    bz_status st = BZ_OK;
    for (; batch < n_batches; batch++) {
        size_t first = batch * B;
        size_t rows = d->n - first < B ? d->n - first : B;
        /* Paced also so that the progress callback reports finished
         * batches, not queued ones. */
        if ((st = bz_data_fetch_perm(d, first, rows, &w->V0, w->nv)) ||
            (st = cd_step(w, o, rows, epoch, batch, lr, mom, 0, rows, NULL)) ||
            (st = bz_pace_step(c, &pace)))
            break;
        done_rows += rows;
        if (o->progress)
            o->progress(o->progress_user, batch + 1, n_batches);
        if (o->stop && *o->stop && batch + 1 < n_batches) {
            stopped = true;
            batch++;
            break;
        }
    }
    bz_pace_end(&pace);
    /* After a failure the model keeps its state from the epoch's start. */
    if (st == BZ_OK && w != r)
        st = bz_rbm_pad_leave(r, w, B);
    CHECK(st);
    return finish_epoch(r, w, o, epoch, batch, n_batches, done_rows, stopped, t0, stats, NULL);
}

/* ---- data-parallel training ---------------------------------------------- */

/* PCD across ranks. Between epochs r->chain holds all B chains, as on one
 * process (so checkpoints are the same and resume on any number of ranks);
 * during an epoch it holds this rank's rows of them for the batch size in
 * force, and the rows are regathered whenever that size changes (epoch start
 * and end, a short last batch): an allreduce of disjoint slices, exact. */
typedef struct chain_share {
    bz_buf full;          /* all chains, parked while the epoch runs */
    float *host;          /* B x nh: the global chains as last gathered */
    size_t rows, lo, n;   /* split in force: batch rows, first row here, rows here */
} chain_share;

static bz_status chains_gather(bz_rbm *r, chain_share *cs, bz_comm *comm)
{
    if (!cs->rows || !r->chain_valid)
        return BZ_OK;
    const size_t nh = r->nh;
    memset(cs->host, 0, cs->rows * nh * sizeof *cs->host);
    if (cs->n)
        CHECK(bz_buf_read(r->ctx, &r->chain, 0, cs->host + cs->lo * nh, cs->n * nh));
    bz_status st = comm->sum_f32(comm, cs->host, cs->rows * nh);
    return st ? bz_fail(r->ctx, st, "gathering the persistent chains: %s", comm->error) : BZ_OK;
}

static bz_status chains_split(bz_rbm *r, chain_share *cs, size_t rows, size_t lo, size_t n,
                              bz_comm *comm)
{
    if (rows == cs->rows)
        return BZ_OK;
    CHECK(chains_gather(r, cs, comm));
    cs->rows = rows;
    cs->lo = lo;
    cs->n = n;
    if (r->chain_valid && n)
        CHECK(bz_buf_write(r->ctx, &r->chain, 0, cs->host + lo * r->nh, n * r->nh));
    return BZ_OK;
}

static bz_status train_dist(bz_rbm *r, bz_data *d, const bz_rbm_train_options *o, unsigned epoch,
                            size_t B, bz_grad_sync *g, chain_share *cs, bz_comm *comm,
                            size_t *batch_io, size_t n_batches, size_t *done_rows, bool *stopped)
{
    bz_context *c = r->ctx;
    float lr = o->learning_rate / (1.0f + o->lr_decay * (float)epoch);
    float mom = epoch < o->momentum_epochs ? o->momentum_initial : o->momentum_final;
    size_t batch = *batch_io, lo = 0, local = 0, rows = 0;
    bz_status st = BZ_OK;
    if (batch < n_batches)
        st = bz_dist_fetch_share(d, B, batch, comm, &r->V0, &lo, &local, &rows);
    for (; st == BZ_OK && batch < n_batches; batch++) {
        double t0 = bz_mono_s();
        if (cs && (st = chains_split(r, cs, rows, lo, local, comm)))
            break;
        if (local) {
            if ((st = cd_step(r, o, local, epoch, batch, lr, mom, lo, rows, g)))
                break;
        } else if ((st = bz_grad_zero(c, g))) {
            break; /* a batch smaller than the number of ranks: nothing here */
        }
        /* Read the local gradient without blocking, queue the next batch's
         * upload (or gather) behind it, then wait for the read alone: the
         * upload runs while the ranks sum. */
        if ((st = bz_grad_exchange_begin(c, g)))
            break;
        size_t rows_now = rows, next_lo = 0, next_local = 0, next_rows = 0;
        if (batch + 1 < n_batches &&
            (st = bz_dist_fetch_share(d, B, batch + 1, comm, &r->V0, &next_lo, &next_local,
                                      &next_rows)))
            break;
        g->extra[0] = o->stop && *o->stop ? 1.0f : 0.0f;
        if ((st = bz_grad_exchange_end(c, g, comm, t0)))
            break;
        if ((st = apply_grad(r, o, g, lr, mom)))
            break;
        *done_rows += rows_now;
        lo = next_lo;
        local = next_local;
        rows = next_rows;
        if (o->progress)
            o->progress(o->progress_user, batch + 1, n_batches);
        if (g->extra[0] > 0.0f && batch + 1 < n_batches) {
            *stopped = true;
            batch++;
            break;
        }
    }
    *batch_io = batch;
    /* Nothing may still read the host copy when it is freed. */
    bz_status fs = bz_finish(c);
    return st ? st : fs;
}

bz_status bz_rbm_train_epoch_dist(bz_rbm *r, bz_data *d, const bz_rbm_train_options *o_in,
                                  unsigned epoch, bz_rbm_epoch_stats *stats, bz_comm *comm)
{
    if (!r || !d || !comm || comm->size < 1 || comm->rank < 0 || comm->rank >= comm->size)
        return BZ_E_INVALID_ARG;
    bz_context *c = r->ctx;
    bz_rbm_train_options defaults;
    bz_rbm_train_options_init(&defaults);
    const bz_rbm_train_options *o = o_in ? o_in : &defaults;
    size_t B = 0;
    CHECK(check_args(r, d, o, epoch, &B));
    size_t most = (B + (size_t)comm->size - 1) / (size_t)comm->size;
    CHECK(bz_rbm_reserve(r, most ? most : 1));
    if (o->pcd)
        CHECK(bz_rbm_reserve_chains(r, B));

    double t0 = bz_mono_s();
    CHECK(bz_data_shuffle(d, o->seed, epoch));
    CHECK(bz_buf_fill(c, &r->err_acc, 0.0f, 0, r->cap));
    CHECK(bz_buf_fill(c, &r->err_col, 0.0f, 0, r->nv));
    size_t n_batches = (d->n + B - 1) / B, batch = o->start_batch, done_rows = 0;
    if (batch > n_batches)
        return bz_fail(c, BZ_E_INVALID_ARG, "cannot resume at batch %zu of %zu", batch, n_batches);
    bz_grad_sync g;
    CHECK(grad_alloc(r, &g));
    chain_share cs = {.full = r->chain};
    bz_status st = BZ_OK;
    if (o->pcd) {
        /* Park all chains; train on this rank's rows of them. */
        bz_buf local = {0};
        if (!(cs.host = malloc(B * r->nh * sizeof *cs.host)))
            st = bz_fail(c, BZ_E_NOMEM, "out of memory for %zu chains", B);
        else if (r->chain_valid)
            st = bz_buf_read(c, &cs.full, 0, cs.host, B * r->nh);
        if (!st)
            st = bz_buf_alloc(c, &local, (most ? most : 1) * r->nh);
        if (!st)
            r->chain = local;
    }
    bool stopped = false;
    if (!st)
        st = train_dist(r, d, o, epoch, B, &g, o->pcd ? &cs : NULL, comm, &batch, n_batches,
                        &done_rows, &stopped);
    if (o->pcd && r->chain.mem != cs.full.mem) {
        /* Gather the rows back into all chains, even after a failure (the
         * job ends then, but r stays consistent). */
        bz_status gs = st ? BZ_OK : chains_gather(r, &cs, comm);
        bz_buf_release(&r->chain);
        r->chain = cs.full;
        if (!gs && !st && r->chain_valid)
            gs = bz_buf_write(c, &r->chain, 0, cs.host, B * r->nh);
        st = st ? st : gs;
    }
    free(cs.host);
    bz_grad_free(&g);
    CHECK(st);
    return finish_epoch(r, r, o, epoch, batch, n_batches, done_rows, stopped, t0, stats, comm);
}

bz_status bz_rbm_dist_sync(bz_rbm *r, bz_comm *comm)
{
    if (!r || !comm)
        return BZ_E_INVALID_ARG;
    bz_context *c = r->ctx;
    const size_t nv = r->nv, nh = r->nh, n = 2 * (nv * nh + nv + nh) + nh;
    float *h = malloc(n * sizeof *h);
    if (!h)
        return bz_fail(c, BZ_E_NOMEM, "out of memory");
    bz_buf *bufs[] = {&r->W, &r->vb, &r->hb, &r->vW, &r->vvb, &r->vhb, &r->q};
    size_t lens[] = {nv * nh, nv, nh, nv * nh, nv, nh, nh};
    bz_status st = BZ_OK;
    size_t off = 0;
    for (size_t i = 0; st == BZ_OK && i < 7; off += lens[i], i++)
        st = bz_buf_read(c, bufs[i], 0, h + off, lens[i]);
    if (st == BZ_OK && (st = comm->bcast_f32(comm, h, n)))
        st = bz_fail(c, st, "broadcasting the parameters: %s", comm->error);
    off = 0;
    for (size_t i = 0; st == BZ_OK && i < 7; off += lens[i], i++)
        st = bz_buf_write(c, bufs[i], 0, h + off, lens[i]);
    free(h);
    CHECK(st);

    /* Persistent chains, when rank 0 has them (a resumed PCD run). */
    uint64_t ch[2] = {r->chain_valid, r->chain_valid ? r->chain.count / nh : 0};
    if ((st = comm->bcast_u64(comm, ch, 2)))
        return bz_fail(c, st, "broadcasting the chains' shape: %s", comm->error);
    if (!ch[0])
        return BZ_OK;
    size_t rows = (size_t)ch[1];
    CHECK(bz_rbm_reserve_chains(r, rows));
    if (!(h = malloc(rows * nh * sizeof *h)))
        return bz_fail(c, BZ_E_NOMEM, "out of memory");
    if (comm->rank == 0)
        st = bz_buf_read(c, &r->chain, 0, h, rows * nh);
    /* Every rank takes part in the broadcast, whatever rank 0's read did. */
    bz_status bs = comm->bcast_f32(comm, h, rows * nh);
    if (!st && bs)
        st = bz_fail(c, bs, "broadcasting the chains: %s", comm->error);
    if (!st)
        st = bz_buf_write(c, &r->chain, 0, h, rows * nh);
    if (!st)
        r->chain_valid = true;
    free(h);
    return st;
}
