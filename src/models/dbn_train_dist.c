/*
 * Data-parallel DBN fine-tuning (see dbn_dist.h): the steps of an epoch on
 * this rank's share of each batch, the gradient exchange, the update, and
 * the initial broadcast of the classifier.
 */
#include "models/dbn_dist.h"
#include "engine/check.h"

#include <stdlib.h>
#include <time.h>

/* velocity = momentum velocity + g - lr decay W; W += velocity: with g the
 * summed -lr gradient, what the single-process step's velocity product and
 * decay pass compute (the sum associated differently). Biases: no decay. */
static bz_status apply_grad(bz_dbn *d, const bz_dbn_sgd *o, bz_grad_sync *g, float lr)
{
    bz_context *c = d->ctx;
    const size_t L = d->L;
    for (size_t l = 0; l <= L; l++) {
        size_t in = d->s[l], out = d->s[l + 1];
        CHECK(bz_op_momentum_update(c, &d->W[l], &d->vW[l], &g->sec[l], in * out, 1.0f,
                                    o->momentum, lr * o->weight_decay));
        CHECK(bz_op_momentum_update(c, &d->b[l], &d->vb[l], &g->sec[L + 1 + l], out, 1.0f,
                                    o->momentum, 0.0f));
    }
    return BZ_OK;
}

/* This rank's rows of batch b of both the inputs and the labels. */
static bz_status fetch(bz_dbn *d, bz_data *x, bz_data *y, size_t B, size_t b, bz_comm *comm,
                       size_t *lo, size_t *local, size_t *rows)
{
    CHECK(bz_dist_fetch_share(x, B, b, comm, &d->A[0], lo, local, rows));
    return bz_dist_fetch_share(y, B, b, comm, &d->labels, lo, local, rows);
}

bz_status bz_dbn_epoch_steps_dist(bz_dbn *d, bz_data *x, bz_data *y, size_t B, const bz_dbn_sgd *o,
                                  unsigned epoch, bz_comm *comm)
{
    if (!d || !x || !y || !o || !comm || B == 0 || x->n != y->n)
        return BZ_E_INVALID_ARG;
    bz_context *c = d->ctx;
    const size_t L = d->L;
    /* One buffer: the weights of every layer, then their biases. */
    size_t lens[2 * (BZ_DBN_MAX_LAYERS + 1)];
    for (size_t l = 0; l <= L; l++) {
        lens[l] = d->s[l] * d->s[l + 1];
        lens[L + 1 + l] = d->s[l + 1];
    }
    bz_grad_sync g;
    CHECK(bz_grad_alloc(c, lens, 2 * (L + 1), 0, &g));
    const float lr = bz_dbn_sgd_lr(o, epoch);
    const size_t nb = (x->n + B - 1) / B;
    size_t lo = 0, local = 0, rows = 0;
    bz_status st = fetch(d, x, y, B, 0, comm, &lo, &local, &rows);
    for (size_t b = 0; st == BZ_OK && b < nb; b++) {
        double t0 = bz_mono_s();
        if (local)
            st = bz_dbn_sgd_step(d, local, o, epoch, b, lo, rows, &g);
        else
            st = bz_grad_zero(c, &g); /* a batch smaller than the number of ranks */
        if (st || (st = bz_grad_exchange_begin(c, &g)))
            break;
        /* The next batch uploads while the ranks sum; the update below reads
         * neither of the buffers it fills. */
        size_t next_lo = 0, next_local = 0, next_rows = 0;
        if (b + 1 < nb &&
            (st = fetch(d, x, y, B, b + 1, comm, &next_lo, &next_local, &next_rows)))
            break;
        if ((st = bz_grad_exchange_end(c, &g, comm, t0)) || (st = apply_grad(d, o, &g, lr)))
            break;
        lo = next_lo;
        local = next_local;
        rows = next_rows;
    }
    /* Nothing may still read the host copy when it is freed. */
    bz_status fs = bz_finish(c);
    bz_grad_free(&g);
    return st ? st : fs;
}

bz_status bz_dbn_dist_sync(bz_dbn *d, bz_comm *comm)
{
    if (!d || !comm)
        return BZ_E_INVALID_ARG;
    bz_context *c = d->ctx;
    size_t n = 0;
    for (size_t l = 0; l <= d->L; l++)
        n += d->s[l] * d->s[l + 1] + d->s[l + 1];
    float *h = malloc(n * sizeof *h);
    if (!h)
        return bz_fail(c, BZ_E_NOMEM, "out of memory for %zu parameters", n);
    bz_status st = BZ_OK;
    size_t off = 0;
    for (size_t l = 0; st == BZ_OK && l <= d->L; off += d->s[l] * d->s[l + 1] + d->s[l + 1], l++)
        st = bz_dbn_get_layer(d, l, h + off, h + off + d->s[l] * d->s[l + 1]);
    if (st == BZ_OK && (st = comm->bcast_f32(comm, h, n)))
        st = bz_fail(c, st, "broadcasting the DBN's parameters: %s", comm->error);
    off = 0;
    for (size_t l = 0; st == BZ_OK && l <= d->L; off += d->s[l] * d->s[l + 1] + d->s[l + 1], l++)
        st = bz_dbn_set_layer(d, l, h + off, h + off + d->s[l] * d->s[l + 1]);
    free(h);
    return st;
}
