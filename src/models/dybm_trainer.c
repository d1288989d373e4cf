/*
 * A DyBM's training hooks (trainer.h): one stage of epochs; an epoch learns
 * the training part of the series online, step by step from an empty
 * history, in chunks of steps (the trainer's "batches": progress, the stop
 * request), then predicts the held-out tail one step ahead. The whole
 * series stays on the device; a chunk is one launch (or the batch path's
 * launches) with no return to the host. A checkpoint holds the parameters,
 * the optimiser's accumulators and the FIFO/trace state, so a run stopped
 * inside an epoch continues at the same step.
 */
#include "models/dybm_trainer.h"
#include "engine/check.h"
#include "models/model.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct dybm_job {
    bz_dybm *d;
    bz_dybm_train_job j;
    bz_dybm_train_job *result;
    float lr0;
    bz_buf X, OUT;
    float *pred; /* host copy of OUT */
} dybm_job;

double bz_dybm_rmse(const bz_dybm *d, const float *x, const float *pred, size_t from, size_t to)
{
    const size_t N = d->n;
    if (to <= from)
        return NAN;
    double s = 0;
    for (size_t t = from; t < to; t++)
        for (size_t i = 0; i < N; i++) {
            double e = ((double)x[t * N + i] - pred[t * N + i]) * d->scale[i];
            s += e * e;
        }
    return sqrt(s / (double)((to - from) * N));
}

static bz_context *ctx_of(void *job)
{
    return ((dybm_job *)job)->d->ctx;
}

static void stage(void *job, size_t i, bz_train_stage *out)
{
    (void)i;
    *out = (bz_train_stage){"train", 0, 0, ((dybm_job *)job)->j.epochs, true};
}

static bz_status begin_stage(void *job, size_t i, bool resumed)
{
    (void)i;
    (void)resumed;
    dybm_job *j = job;
    bz_context *c = j->d->ctx;
    const size_t count = (j->j.n_train + j->j.n_test) * j->d->n;
    if (j->X.mem)
        return BZ_OK;
    CHECK(bz_buf_alloc(c, &j->X, count));
    CHECK(bz_buf_alloc(c, &j->OUT, count));
    CHECK(bz_buf_write(c, &j->X, 0, j->j.x, count));
    if (!(j->pred = malloc(count * sizeof *j->pred)))
        return bz_fail(c, BZ_E_NOMEM, "out of memory");
    if (j->d->batch != 1)
        CHECK(bz_dybm_reset(j->d, 1));
    return BZ_OK;
}

static bz_status epoch(void *job, size_t s, unsigned e, const bz_train_ctl *ctl,
                       bz_train_epoch_out *out)
{
    (void)s;
    dybm_job *j = job;
    bz_dybm *d = j->d;
    bz_context *c = d->ctx;
    const size_t N = d->n, T1 = j->j.n_train, T2 = j->j.n_test, chunk = j->j.chunk;
    const size_t batches = (T1 + chunk - 1) / chunk;
    double t0 = bz_mono_s();
    d->lr = j->lr0 / (1.0f + j->j.lr_decay * (float)e);
    if (ctl->start_batch == 0) /* else the checkpoint's state continues */
        CHECK(bz_dybm_reset(d, 1));
    for (size_t b = ctl->start_batch; b < batches; b++) {
        if (ctl->stop && *ctl->stop) {
            CHECK(bz_finish(c));
            out->batches_done = b;
            out->seconds = bz_mono_s() - t0;
            return BZ_E_INTERRUPTED;
        }
        size_t from = b * chunk, steps = T1 - from < chunk ? T1 - from : chunk;
        CHECK(bz_dybm_run(d, BZ_DYBM_LEARN, &j->X, from * N, &j->OUT, from * N, steps));
        CHECK(bz_finish(c));
        if (ctl->batch_done)
            ctl->batch_done(ctl->user, b + 1, batches);
    }
    if (T2)
        CHECK(bz_dybm_run(d, j->j.online_test ? BZ_DYBM_LEARN : BZ_DYBM_PREDICT, &j->X, T1 * N,
                          &j->OUT, T1 * N, T2));
    CHECK(bz_buf_read(c, &j->OUT, 0, j->pred, (T1 + T2) * N));
    double sec = bz_mono_s() - t0;
    /* the online training error skips the first d steps, whose history is
     * partly the empty start */
    size_t skip = d->delay < T1 ? d->delay : 0;
    double tr = bz_dybm_rmse(d, j->j.x, j->pred, skip, T1);
    double te = T2 ? bz_dybm_rmse(d, j->j.x, j->pred, T1, T1 + T2) : NAN;
    /* the residual sd per variable, for sampling */
    for (size_t i = 0; i < N && T1 > skip; i++) {
        double s2 = 0;
        for (size_t t = skip; t < T1; t++) {
            double r = (double)j->j.x[t * N + i] - j->pred[t * N + i];
            s2 += r * r;
        }
        d->sigma[i] = (float)sqrt(s2 / (double)(T1 - skip));
    }
    j->j.train_rmse = tr;
    j->j.test_rmse = te;
    j->j.seconds = sec;
    if (j->result) {
        j->result->train_rmse = tr;
        j->result->test_rmse = te;
        j->result->seconds = sec;
    }
    out->seconds = sec;
    out->batches_done = batches;
    char a[2][40];
    bz_train_json_number(a[0], sizeof a[0], tr);
    bz_train_json_number(a[1], sizeof a[1], te);
    snprintf(out->json, sizeof out->json,
             "{\"epoch\":%u,\"train_rmse\":%s,\"test_rmse\":%s,\"seconds\":%.6g,"
             "\"steps_per_s\":%.6g,\"lr\":%.6g}",
             e + 1, a[0], a[1], sec, (double)(T1 + T2) / (sec > 0 ? sec : 1e-9), (double)d->lr);
    int n = snprintf(out->line, sizeof out->line, "epoch %3u  train_rmse %.6g", e + 1, tr);
    if (T2 && n > 0 && (size_t)n < sizeof out->line)
        n += snprintf(out->line + n, sizeof out->line - (size_t)n, "  test_rmse %.6g", te);
    if (n > 0 && (size_t)n < sizeof out->line)
        snprintf(out->line + n, sizeof out->line - (size_t)n, "  %.2f s  %.0f steps/s", sec,
                 (double)(T1 + T2) / (sec > 0 ? sec : 1e-9));
    return BZ_OK;
}

static bz_status check_finite(void *job, size_t s)
{
    (void)s;
    dybm_job *j = job;
    bz_dybm *d = j->d;
    bool fp = false, fb = false;
    CHECK(bz_train_buf_finite(d->ctx, &d->P, bz_dybm_inputs(d) * d->np, &fp));
    CHECK(bz_train_buf_finite(d->ctx, &d->b, d->np, &fb));
    if (!fp || !fb)
        return bz_fail(d->ctx, BZ_E_DIVERGED, "training diverged: the DyBM's parameters are not "
                                              "finite; try a learning rate below %g",
                       (double)j->lr0);
    return BZ_OK;
}

static bz_status save(void *job, bz_ckpt_out *o)
{
    dybm_job *j = job;
    bz_dybm *d = j->d;
    const size_t MP = bz_dybm_inputs(d) * d->np, M = bz_dybm_inputs(d);
    char v[64];
    snprintf(v, sizeof v, "%zu,%zu,%zu,%d", d->n, d->delay, d->k, (int)d->binary);
    CHECK(bz_ckpt_put_meta(o, "dybm_shape", v));
    CHECK(bz_ckpt_put_buf(o, "P", &d->P, MP));
    CHECK(bz_ckpt_put_buf(o, "b", &d->b, d->np));
    CHECK(bz_ckpt_put_buf(o, "P_accumulator", &d->sP, MP));
    CHECK(bz_ckpt_put_buf(o, "b_accumulator", &d->sb, d->np));
    CHECK(bz_ckpt_put_buf(o, "state", &d->Z[d->cur], M));
    return bz_ckpt_put_host(o, "sigma", d->sigma, d->n);
}

static bz_status load(void *job, const char *path, const bz_ckpt_in *in, bz_train_pos at)
{
    (void)at;
    dybm_job *j = job;
    bz_dybm *d = j->d;
    const size_t MP = bz_dybm_inputs(d) * d->np, M = bz_dybm_inputs(d);
    char v[64];
    snprintf(v, sizeof v, "%zu,%zu,%zu,%d", d->n, d->delay, d->k, (int)d->binary);
    const char *have = bz_ckpt_get_meta(in, "dybm_shape");
    if (!have || strcmp(have, v))
        return bz_fail(d->ctx, BZ_E_INVALID_ARG, "checkpoint %s holds a DyBM of another shape "
                                                 "(n,delay,decays,binary: %s; the options ask "
                                                 "for %s)", path, have ? have : "none", v);
    if (d->batch != 1)
        CHECK(bz_dybm_reset(d, 1));
    CHECK(bz_ckpt_get_buf(in, "P", &d->P, MP));
    CHECK(bz_ckpt_get_buf(in, "b", &d->b, d->np));
    CHECK(bz_ckpt_get_buf(in, "P_accumulator", &d->sP, MP));
    CHECK(bz_ckpt_get_buf(in, "b_accumulator", &d->sb, d->np));
    CHECK(bz_ckpt_get_buf(in, "state", &d->Z[d->cur], M));
    return bz_ckpt_get_host(in, "sigma", d->sigma, d->n);
}

/* The model: the parameters (M x N and the biases) and the
 * standardisation; a checkpoint adds the optimiser's accumulators and the
 * FIFO and trace state. */
static void output_bytes(void *job, uint64_t *model, uint64_t *checkpoint)
{
    const bz_dybm *d = ((const dybm_job *)job)->d;
    const uint64_t f = sizeof(float), MP = (uint64_t)bz_dybm_inputs(d) * d->np;
    *model = (MP + d->np + 3 * (uint64_t)d->n) * f + BZ_TRAIN_META_BYTES;
    *checkpoint = (2 * (MP + d->np) + bz_dybm_inputs(d) + d->n) * f + BZ_TRAIN_META_BYTES;
}

const bz_train_hooks bz_dybm_train_hooks = {
    BZ_TRAIN_HOOKS_VERSION, "dybm", ctx_of, NULL, stage, begin_stage, epoch, NULL,
    check_finite, save, NULL, load, NULL, output_bytes,
};

static void free_job(void *job)
{
    dybm_job *j = job;
    if (!j)
        return;
    bz_buf_release(&j->X);
    bz_buf_release(&j->OUT);
    free(j->pred);
    free(j);
}

bz_status bz_dybm_trainer_make(bz_dybm *d, const bz_dybm_train_job *job,
                               bz_dybm_train_job *result, bz_trainer **out)
{
    if (!d || !job || !out || !job->x || !job->n_train || !job->epochs || !job->chunk)
        return d ? bz_fail(d->ctx, BZ_E_INVALID_ARG, "a DyBM trainer needs a series, training "
                                                     "steps, epochs and a chunk size")
                 : BZ_E_INVALID_ARG;
    dybm_job *j = calloc(1, sizeof *j);
    if (!j)
        return bz_fail(d->ctx, BZ_E_NOMEM, "out of memory");
    j->d = d;
    j->j = *job;
    j->result = result;
    j->lr0 = d->lr;
    bz_status st = bz_trainer_make(&bz_dybm_train_hooks, j, free_job, NULL, out);
    if (st)
        free_job(j);
    return st;
}
