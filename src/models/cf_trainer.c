/*
 * The ratings RBM's training hooks (trainer.h): one stage of epochs of
 * bz_cf_train_epoch, the RMSE and MAE on training and test ratings after
 * each, and a checkpoint of the parameters and velocities.
 */
#include "models/cf_trainer.h"
#include "engine/check.h"
#include "models/model.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct cf_job {
    bz_cf *cf;
    const bz_cf_set *set;
    bz_cf_train_opts o;
    unsigned epochs;
    bz_cf_pairs train, test;
    bz_cf_set *owned; /* freed with the job when the trainer owns the set */
} cf_job;

static void job_free(void *job)
{
    cf_job *j = job;
    if (j->owned) {
        bz_cf_set_free(j->owned);
        free(j->owned);
    }
    free(j);
}

static bz_context *ctx_of(void *job)
{
    return ((cf_job *)job)->cf->ctx;
}

static void stage(void *job, size_t i, bz_train_stage *out)
{
    (void)i;
    *out = (bz_train_stage){"train", 0, 0, ((cf_job *)job)->epochs, true};
}

static bz_status epoch(void *job, size_t s, unsigned e, const bz_train_ctl *ctl,
                       bz_train_epoch_out *out)
{
    (void)s;
    cf_job *j = job;
    bz_cf_train_opts o = j->o;
    o.start_batch = ctl->start_batch;
    o.stop = ctl->stop;
    o.progress = ctl->batch_done;
    o.progress_user = ctl->user;
    size_t done = 0;
    double secs = 0;
    bz_status st = bz_cf_train_epoch(j->cf, j->set, &o, e, &done, &secs);
    out->seconds = secs;
    out->batches_done = done;
    if (st)
        return st;
    double tr = NAN, tra = NAN, te = NAN, tea = NAN;
    if (j->train.n)
        CHECK(bz_cf_score(j->cf, j->set, j->train.u, j->train.i, j->train.cls, j->train.n, &tr,
                          &tra));
    if (j->test.n)
        CHECK(bz_cf_score(j->cf, j->set, j->test.u, j->test.i, j->test.cls, j->test.n, &te,
                          &tea));
    char a[4][32];
    bz_train_json_number(a[0], sizeof a[0], tr);
    bz_train_json_number(a[1], sizeof a[1], tra);
    bz_train_json_number(a[2], sizeof a[2], te);
    bz_train_json_number(a[3], sizeof a[3], tea);
    unsigned T = bz_cf_cd_steps(&j->o, e);
    snprintf(out->json, sizeof out->json,
             "{\"epoch\":%u,\"cd_steps\":%u,\"train_rmse\":%s,\"train_mae\":%s,\"test_rmse\":%s,"
             "\"test_mae\":%s,\"seconds\":%.6g}", e + 1, T, a[0], a[1], a[2], a[3], secs);
    int n = snprintf(out->line, sizeof out->line, "epoch %3u  CD-%u  train rmse %.4f mae %.4f",
                     e + 1, T, tr, tra);
    if (j->test.n && n > 0 && (size_t)n < sizeof out->line)
        n += snprintf(out->line + n, sizeof out->line - (size_t)n, "  test rmse %.4f mae %.4f",
                      te, tea);
    if (n > 0 && (size_t)n < sizeof out->line)
        snprintf(out->line + n, sizeof out->line - (size_t)n, "  %.2f s", secs);
    return BZ_OK;
}

static bz_status check_finite(void *job, size_t s)
{
    (void)s;
    cf_job *j = job;
    bz_cf *cf = j->cf;
    bool a = true, b = true, c = true, d = true;
    CHECK(bz_train_buf_finite(cf->ctx, &cf->W, cf->F * cf->H, &a));
    CHECK(bz_train_buf_finite(cf->ctx, &cf->vb, cf->F, &b));
    CHECK(bz_train_buf_finite(cf->ctx, &cf->hb, cf->H, &c));
    if (cf->cfg.conditional)
        CHECK(bz_train_buf_finite(cf->ctx, &cf->D, cf->n_cols * cf->H, &d));
    if (!(a && b && c && d))
        return bz_fail(cf->ctx, BZ_E_DIVERGED,
                       "training diverged: the ratings RBM's parameters are not finite; try a "
                       "learning rate below %g", (double)j->o.learning_rate);
    return BZ_OK;
}

static bz_status save(void *job, bz_ckpt_out *out)
{
    bz_cf *cf = ((cf_job *)job)->cf;
    size_t F = cf->F, H = cf->H, dn = cf->cfg.conditional ? cf->n_cols * H : 1;
    CHECK(bz_ckpt_put_buf(out, "W", &cf->W, F * H));
    CHECK(bz_ckpt_put_buf(out, "vbias", &cf->vb, F));
    CHECK(bz_ckpt_put_buf(out, "hbias", &cf->hb, H));
    CHECK(bz_ckpt_put_buf(out, "D", &cf->D, dn));
    CHECK(bz_ckpt_put_buf(out, "W_velocity", &cf->vW, F * H));
    CHECK(bz_ckpt_put_buf(out, "vbias_velocity", &cf->vvb, F));
    CHECK(bz_ckpt_put_buf(out, "hbias_velocity", &cf->vhb, H));
    return bz_ckpt_put_buf(out, "D_velocity", &cf->vD, dn);
}

static bz_status load(void *job, const char *path, const bz_ckpt_in *in, bz_train_pos at)
{
    (void)path;
    (void)at;
    bz_cf *cf = ((cf_job *)job)->cf;
    size_t F = cf->F, H = cf->H, dn = cf->cfg.conditional ? cf->n_cols * H : 1;
    CHECK(bz_ckpt_get_buf(in, "W", &cf->W, F * H));
    CHECK(bz_ckpt_get_buf(in, "vbias", &cf->vb, F));
    CHECK(bz_ckpt_get_buf(in, "hbias", &cf->hb, H));
    CHECK(bz_ckpt_get_buf(in, "D", &cf->D, dn));
    CHECK(bz_ckpt_get_buf(in, "W_velocity", &cf->vW, F * H));
    CHECK(bz_ckpt_get_buf(in, "vbias_velocity", &cf->vvb, F));
    CHECK(bz_ckpt_get_buf(in, "hbias_velocity", &cf->vhb, H));
    return bz_ckpt_get_buf(in, "D_velocity", &cf->vD, dn);
}

/* The model: the parameters, the id maps and the training ratings (which
 * predictions start from; 16 bytes each is room for any encoding of a
 * user, an item and a class); a checkpoint holds the parameters with
 * their velocities. */
static void output_bytes(void *job, uint64_t *model, uint64_t *checkpoint)
{
    const bz_cf *cf = ((const cf_job *)job)->cf;
    const uint64_t f = sizeof(float);
    const uint64_t params = ((uint64_t)cf->F * cf->H + cf->F + cf->H +
                             (uint64_t)(cf->cfg.conditional ? cf->n_cols : 1) * cf->H) * f;
    *model = params + 8 * ((uint64_t)cf->n_users + cf->n_items) + 16 * (uint64_t)cf->n_ratings +
             BZ_TRAIN_META_BYTES;
    *checkpoint = 2 * params + BZ_TRAIN_META_BYTES;
}

const bz_train_hooks bz_cf_train_hooks = {
    BZ_TRAIN_HOOKS_VERSION, "cf", ctx_of, NULL, stage, NULL, epoch, NULL,
    check_finite, save, NULL, load, NULL, output_bytes,
};

static bz_status make(bz_cf *cf, const bz_cf_set *set, bz_cf_set *owned,
                     const bz_cf_train_opts *o, unsigned epochs, bz_cf_pairs train,
                     bz_cf_pairs test, bz_trainer **out)
{
    cf_job *j = calloc(1, sizeof *j);
    if (!j)
        return bz_fail(cf->ctx, BZ_E_NOMEM, "out of memory");
    j->cf = cf;
    j->set = set;
    j->o = *o;
    j->epochs = epochs;
    j->train = train;
    j->test = test;
    bz_status st = bz_trainer_make(&bz_cf_train_hooks, j, job_free, NULL, out);
    if (st)
        free(j);
    else
        j->owned = owned;
    return st;
}

bz_status bz_cf_trainer_make(bz_cf *cf, const bz_cf_set *set, const bz_cf_train_opts *o,
                             unsigned epochs, bz_cf_pairs train, bz_cf_pairs test,
                             bz_trainer **out)
{
    if (!cf || !set || !o || !out)
        return BZ_E_INVALID_ARG;
    return make(cf, set, NULL, o, epochs, train, test, out);
}

bz_status bz_cf_trainer_make_own(bz_cf *cf, const bz_cf_train_opts *o, unsigned epochs,
                                 bz_trainer **out)
{
    if (!cf || !o || !out)
        return BZ_E_INVALID_ARG;
    *out = NULL;
    bz_cf_set *set = calloc(1, sizeof *set);
    if (!set)
        return bz_fail(cf->ctx, BZ_E_NOMEM, "out of memory");
    bz_status st = bz_cf_set_make(cf, NULL, NULL, 0, set);
    bz_cf_pairs train = {cf->r_user, cf->r_item, cf->r_cls, cf->n_ratings}, none = {0};
    if (!st)
        st = make(cf, set, set, o, epochs, train, none, out);
    if (st) {
        bz_cf_set_free(set);
        free(set);
    }
    return st;
}
