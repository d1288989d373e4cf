/*
 * A DBM's training hooks (trainer.h). Stages: pretraining of each layer's
 * modified RBM (checkpointed per epoch and inside one, like any RBM), joint
 * training (per epoch and inside one), then the optional classifier, fine-
 * tuned as a DBN's (per epoch and inside one). A checkpoint holds the DBM's
 * parameters, velocities and persistent chains, every pretraining RBM made
 * so far with its whole training state, and the classifier with its
 * fine-tuning state; the rows of the layer being pretrained and the
 * classifier's inputs are recomputed, as the uninterrupted run computed
 * them.
 */
#include "models/dbm_trainer.h"
#include "models/model.h"
#include "models/dbn_trainer.h"
#include "engine/check.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { ST_PRE, ST_JOINT, ST_FT };

typedef struct dbm_job {
    bz_dbm *d;
    bz_dbm_train_job in;
    int kind[BZ_DBM_MAX_HIDDEN + 2];
    unsigned layer[BZ_DBM_MAX_HIDDEN + 2];
    size_t n_stages;
    bz_rbm *pre[BZ_DBM_MAX_HIDDEN];
    float *rows;   /* the rows of the layer being pretrained */
    bz_data *data; /* on the device */
    /* the classifier: its network, inputs and fine-tuning state */
    bz_dbn *net;
    float *aug, *augv;
    bz_dbn_ft_stage fs;
} dbm_job;

static bz_context *ctx_of(void *job)
{
    return ((dbm_job *)job)->d->ctx;
}

static size_t n_stages(void *job)
{
    return ((dbm_job *)job)->n_stages;
}

static void stage(void *job, size_t i, bz_train_stage *out)
{
    dbm_job *j = job;
    switch (j->kind[i]) {
    case ST_PRE:
        *out = (bz_train_stage){"pretrain", j->layer[i] + 1, (unsigned)j->d->L,
                                j->in.pretrain_epochs, true};
        break;
    case ST_JOINT:
        *out = (bz_train_stage){"joint", 0, 0, j->in.epochs, true};
        break;
    default:
        *out = (bz_train_stage){"finetune", 0, 0, j->in.sgd.epochs, true};
        break;
    }
}

static void drop_data(dbm_job *j)
{
    bz_data_free(j->data);
    j->data = NULL;
    free(j->rows);
    j->rows = NULL;
}

static bz_status begin_stage(void *job, size_t i, bool resumed)
{
    dbm_job *j = job;
    bz_dbm *d = j->d;
    drop_data(j);
    if (j->kind[i] == ST_PRE) {
        size_t l = j->layer[i];
        CHECK(bz_dbm_pre_input(d, j->pre, l, j->in.x, j->in.n, &j->rows));
        if (!resumed) {
            bz_rbm_free(j->pre[l]);
            j->pre[l] = NULL;
            CHECK(bz_dbm_pre_create(d, l, j->rows, j->in.n, &j->in.rbm, &j->pre[l]));
        }
        return bz_data_create(d->ctx, j->rows, j->in.n, bz_dbm_pre_visible(d, l), &j->data);
    }
    if (j->kind[i] == ST_JOINT)
        return bz_data_create(d->ctx, j->in.x, j->in.n, d->s[0], &j->data);
    /* The classifier: made from the DBM's weights, unless a checkpoint
     * brought it. */
    if (!(resumed && j->net)) {
        bz_dbn_free(j->net);
        j->net = NULL;
        CHECK(bz_dbm_classifier_create(d, j->in.n_classes, j->in.sgd.seed, &j->net));
    }
    free(j->aug);
    free(j->augv);
    j->aug = j->augv = NULL;
    CHECK(bz_dbm_classifier_rows(d, j->in.x, j->in.n, j->in.mf_iters, &j->aug));
    if (j->in.nv)
        CHECK(bz_dbm_classifier_rows(d, j->in.xv, j->in.nv, j->in.mf_iters, &j->augv));
    return bz_dbn_ft_stage_begin(&j->fs, j->net, j->aug, j->in.labels, j->in.n, j->in.nv,
                                 &j->in.sgd, resumed);
}

static bz_status epoch(void *job, size_t s, unsigned e, const bz_train_ctl *ctl,
                       bz_train_epoch_out *out)
{
    dbm_job *j = job;
    bz_dbm *d = j->d;
    char a[40];
    if (j->kind[s] == ST_PRE) {
        size_t l = j->layer[s];
        bz_rbm_train_options lo;
        bz_dbm_pre_options(&j->in.rbm, l, &lo);
        lo.start_batch = ctl->start_batch;
        lo.stop = ctl->stop;
        lo.progress = ctl->batch_done;
        lo.progress_user = ctl->user;
        bz_rbm_epoch_stats es = {0};
        bz_status st = bz_rbm_train_epoch(j->pre[l], j->data, &lo, e, &es);
        out->seconds = es.seconds;
        out->batches_done = es.batches_done;
        CHECK(st);
        bz_train_json_number(a, sizeof a, es.recon_mse);
        snprintf(out->json, sizeof out->json,
                 "{\"phase\":\"pretrain\",\"layer\":%zu,\"epoch\":%u,\"recon_mse\":%s,"
                 "\"seconds\":%.6g}", l + 1, e + 1, a, es.seconds);
        snprintf(out->line, sizeof out->line, "epoch %u/%u: recon mse %.5f, %.1f s", e + 1,
                 j->in.pretrain_epochs, es.recon_mse, es.seconds);
        return BZ_OK;
    }
    if (j->kind[s] == ST_JOINT) {
        bz_dbm_train_options o = j->in.joint;
        o.start_batch = ctl->start_batch;
        o.stop = ctl->stop;
        o.progress = ctl->batch_done;
        o.progress_user = ctl->user;
        bz_dbm_epoch_stats es = {0};
        bz_status st = bz_dbm_train_epoch(d, j->data, &o, e, &es);
        out->seconds = es.seconds;
        out->batches_done = es.batches_done;
        CHECK(st);
        snprintf(out->json, sizeof out->json,
                 "{\"phase\":\"joint\",\"epoch\":%u,\"seconds\":%.6g,\"mean_sweeps\":%.6g}", e + 1,
                 es.seconds, es.mean_sweeps);
        snprintf(out->line, sizeof out->line,
                 "epoch %u/%u: %.1f s, %.2f mean-field sweeps per batch", e + 1, j->in.epochs,
                 es.seconds, es.mean_sweeps);
        return BZ_OK;
    }
    return bz_dbn_ft_stage_epoch(&j->fs, j->net, j->augv, j->in.labels_v, &j->in.sgd, NULL,
                                 j->in.ft_cb, j->in.ft_user, e, ctl, out);
}

static void drop_classifier(dbm_job *j)
{
    bz_dbn_ft_free(j->fs.ft);
    bz_dbn_ft_free(j->fs.stash);
    j->fs.ft = j->fs.stash = NULL;
    bz_dbn_free(j->net);
    j->net = NULL;
    free(j->aug);
    free(j->augv);
    j->aug = j->augv = NULL;
}

static bz_status end_stage(void *job, size_t i)
{
    dbm_job *j = job;
    drop_data(j);
    if (j->kind[i] == ST_PRE && j->layer[i] + 1 == j->d->L) {
        CHECK(bz_dbm_pre_compose(j->d, j->pre));
        for (size_t l = 0; l < j->d->L; l++) {
            bz_rbm_free(j->pre[l]);
            j->pre[l] = NULL;
        }
    }
    if (j->kind[i] != ST_FT)
        return BZ_OK;
    CHECK(bz_dbn_ft_stage_end(&j->fs, j->net, j->in.nv, j->in.ft_result));
    bz_dbn_free(j->d->clf);
    j->d->clf = j->net;
    j->net = NULL;
    drop_classifier(j);
    return BZ_OK;
}

static bz_status check_finite(void *job, size_t s)
{
    dbm_job *j = job;
    bz_dbm *d = j->d;
    bool finite = true;
    if (j->kind[s] == ST_PRE) {
        CHECK(bz_train_rbm_finite(j->pre[j->layer[s]], &finite));
        if (!finite)
            return bz_fail(d->ctx, BZ_E_DIVERGED,
                           "pretraining diverged: RBM %u's parameters are not finite; try a "
                           "learning rate (--lr-rbm) below %g", j->layer[s] + 1,
                           (double)j->in.rbm.learning_rate);
        return BZ_OK;
    }
    for (size_t l = 0; l <= d->L && finite; l++) {
        if (l < d->L)
            CHECK(bz_train_buf_finite(d->ctx, &d->W[l], d->s[l] * d->s[l + 1], &finite));
        if (finite)
            CHECK(bz_train_buf_finite(d->ctx, &d->b[l], d->s[l], &finite));
    }
    if (!finite)
        return bz_fail(d->ctx, BZ_E_DIVERGED,
                       "joint training diverged: the DBM's parameters are not finite; try a "
                       "learning rate below %g", (double)j->in.joint.learning_rate);
    if (j->kind[s] == ST_FT && j->net)
        return bz_dbn_ft_stage_finite(d->ctx, j->net, &j->in.sgd);
    return BZ_OK;
}

static bz_status save(void *job, bz_ckpt_out *o)
{
    dbm_job *j = job;
    bz_dbm *d = j->d;
    char n[64];
    for (size_t l = 0; l <= d->L; l++) {
        if (l < d->L) {
            snprintf(n, sizeof n, "W%zu", l);
            CHECK(bz_ckpt_put_buf(o, n, &d->W[l], d->s[l] * d->s[l + 1]));
            snprintf(n, sizeof n, "W%zu_velocity", l);
            CHECK(bz_ckpt_put_buf(o, n, &d->vW[l], d->s[l] * d->s[l + 1]));
        }
        snprintf(n, sizeof n, "b%zu", l);
        CHECK(bz_ckpt_put_buf(o, n, &d->b[l], d->s[l]));
        snprintf(n, sizeof n, "b%zu_velocity", l);
        CHECK(bz_ckpt_put_buf(o, n, &d->vb[l], d->s[l]));
        if (d->chains_valid) {
            snprintf(n, sizeof n, "chains%zu", l);
            CHECK(bz_ckpt_put_buf(o, n, &d->C[l], d->n_chains * d->s[l]));
        }
    }
    snprintf(n, sizeof n, "%zu", d->chains_valid ? d->n_chains : (size_t)0);
    CHECK(bz_ckpt_put_meta(o, "chains", n));
    size_t np = 0;
    for (size_t l = 0; l < d->L && j->pre[l]; l++, np++) {
        snprintf(n, sizeof n, "pre%zu.", l);
        CHECK(bz_ckpt_put_rbm(o, n, j->pre[l]));
    }
    snprintf(n, sizeof n, "%zu", np);
    CHECK(bz_ckpt_put_meta(o, "pretrained_rbms", n));
    if (j->net) {
        snprintf(n, sizeof n, "%zu", j->net->K);
        CHECK(bz_ckpt_put_meta(o, "classifier_classes", n));
        CHECK(bz_dbn_ckpt_put_net(o, "clf.", j->net, j->fs.ft, j->fs.epochs_run));
    }
    for (size_t l = 0; l <= d->L; l++) {
        snprintf(n, sizeof n, "%zu", d->s[l]);
        char key[32];
        snprintf(key, sizeof key, "size%zu", l);
        CHECK(bz_ckpt_put_meta(o, key, n));
    }
    return BZ_OK;
}

static bz_status load(void *job, const char *path, const bz_ckpt_in *in, bz_train_pos at)
{
    (void)at;
    dbm_job *j = job;
    bz_dbm *d = j->d;
    bz_context *c = d->ctx;
    char n[64];
    for (size_t l = 0; l <= d->L; l++) {
        char key[32];
        snprintf(key, sizeof key, "size%zu", l);
        const char *v = bz_ckpt_get_meta(in, key);
        if (!v || strtoull(v, NULL, 10) != d->s[l])
            return bz_fail(c, BZ_E_INVALID_ARG, "checkpoint %s holds a DBM of other layer sizes "
                                                "(layer %zu: %s, the options ask for %zu)",
                           path, l, v ? v : "none", d->s[l]);
    }
    for (size_t l = 0; l <= d->L; l++) {
        if (l < d->L) {
            snprintf(n, sizeof n, "W%zu", l);
            CHECK(bz_ckpt_get_buf(in, n, &d->W[l], d->s[l] * d->s[l + 1]));
            snprintf(n, sizeof n, "W%zu_velocity", l);
            CHECK(bz_ckpt_get_buf(in, n, &d->vW[l], d->s[l] * d->s[l + 1]));
        }
        snprintf(n, sizeof n, "b%zu", l);
        CHECK(bz_ckpt_get_buf(in, n, &d->b[l], d->s[l]));
        snprintf(n, sizeof n, "b%zu_velocity", l);
        CHECK(bz_ckpt_get_buf(in, n, &d->vb[l], d->s[l]));
    }
    const char *ch = bz_ckpt_get_meta(in, "chains");
    size_t M = ch ? (size_t)strtoull(ch, NULL, 10) : 0;
    d->chains_valid = false;
    if (M) {
        if (M > (1u << 20))
            return bz_fail(c, BZ_E_FORMAT, "%s: %zu chains", path, M);
        CHECK(bz_dbm_reserve_chains(d, M));
        for (size_t l = 0; l <= d->L; l++) {
            snprintf(n, sizeof n, "chains%zu", l);
            CHECK(bz_ckpt_get_buf(in, n, &d->C[l], M * d->s[l]));
        }
        d->chains_valid = true;
    }
    const char *pr = bz_ckpt_get_meta(in, "pretrained_rbms");
    size_t np = pr ? (size_t)strtoull(pr, NULL, 10) : 0;
    if (np > d->L)
        return bz_fail(c, BZ_E_FORMAT, "%s: %zu pretraining RBMs for %zu layers", path, np, d->L);
    for (size_t l = 0; l < np; l++) {
        bz_rbm_free(j->pre[l]);
        j->pre[l] = NULL;
        CHECK(bz_rbm_create(c, bz_dbm_pre_visible(d, l), bz_dbm_pre_hidden(d, l),
                            BZ_UNIT_BERNOULLI, 0, &j->pre[l]));
        snprintf(n, sizeof n, "pre%zu.", l);
        CHECK(bz_ckpt_get_rbm(in, n, j->pre[l]));
    }
    drop_classifier(j);
    const char *k = bz_ckpt_get_meta(in, "classifier_classes");
    if (!k)
        return BZ_OK;
    if (!j->in.finetune || strtoull(k, NULL, 10) != j->in.n_classes)
        return bz_fail(c, BZ_E_INVALID_ARG, "checkpoint %s holds a classifier of %s classes; the "
                                            "run has %zu", path, k, j->in.n_classes);
    /* The network as the stage makes it, then the checkpoint's state. */
    CHECK(bz_dbm_classifier_create(d, j->in.n_classes, j->in.sgd.seed, &j->net));
    return bz_dbn_ckpt_get_net(in, path, "clf.", j->net, &j->fs.stash, &j->fs.epochs_run);
}

/* The registry's descriptor of the kind points at this table. */
/* The model: the DBM and its classifier (a DBN over [v, mu_L]). A
 * checkpoint holds both with their momenta, the persistent chains, the
 * pretrained RBMs with theirs, and the classifier's best epoch. */
static void output_bytes(void *job, uint64_t *model, uint64_t *checkpoint)
{
    const dbm_job *j = job;
    const bz_dbm *d = j->d;
    const uint64_t f = sizeof(float);
    uint64_t dbm = 0, units = 0, pre_chains = 0, clf = 0;
    for (size_t l = 0; l < d->L; l++) {
        dbm += bz_train_rbm_param_bytes(d->s[l], d->s[l + 1]);
        pre_chains += ((uint64_t)j->in.rbm.batch_size + 1) * d->s[l + 1] * f;
    }
    for (size_t l = 0; l <= d->L; l++)
        units += d->s[l];
    if (j->in.finetune) {
        /* inputs s0 + s2, then s1, s2 (, s3), then the classes */
        size_t sz[BZ_DBM_MAX_HIDDEN + 2] = {d->s[0] + d->s[2]};
        for (size_t l = 1; l <= d->L; l++)
            sz[l] = d->s[l];
        sz[d->L + 1] = j->in.n_classes;
        for (size_t l = 0; l <= d->L; l++)
            clf += ((uint64_t)sz[l] * sz[l + 1] + sz[l + 1]) * f;
    }
    *model = dbm + clf + BZ_TRAIN_META_BYTES;
    *checkpoint = 2 * dbm + (uint64_t)j->in.joint.chains * units * f + 2 * dbm + pre_chains +
                  3 * clf + BZ_TRAIN_META_BYTES;
}

const bz_train_hooks bz_dbm_train_hooks = {
    BZ_TRAIN_HOOKS_VERSION, "dbm", ctx_of, n_stages, stage, begin_stage, epoch, end_stage,
    check_finite, save, NULL, load, NULL, output_bytes,
};

static void free_job(void *job)
{
    dbm_job *j = job;
    if (!j)
        return;
    drop_data(j);
    drop_classifier(j);
    for (size_t l = 0; l < BZ_DBM_MAX_HIDDEN; l++)
        bz_rbm_free(j->pre[l]);
    free(j);
}

bz_status bz_dbm_trainer_make(bz_dbm *d, const bz_dbm_train_job *in, bz_trainer **out)
{
    if (!d || !in || !in->x || in->n == 0 || !out)
        return BZ_E_INVALID_ARG;
    if (in->finetune && (!in->labels || in->n_classes < 2 || in->mf_iters == 0))
        return bz_fail(d->ctx, BZ_E_INVALID_ARG, "a DBM classifier needs labels of 2 classes or "
                                                 "more and mean-field sweeps");
    dbm_job *j = calloc(1, sizeof *j);
    if (!j)
        return bz_fail(d->ctx, BZ_E_NOMEM, "out of memory");
    j->d = d;
    j->in = *in;
    if (in->pretrain_epochs)
        for (size_t l = 0; l < d->L; l++) {
            j->kind[j->n_stages] = ST_PRE;
            j->layer[j->n_stages++] = (unsigned)l;
        }
    if (in->epochs)
        j->kind[j->n_stages++] = ST_JOINT;
    if (in->finetune)
        j->kind[j->n_stages++] = ST_FT;
    bz_status st = bz_trainer_make(bz_kind_dbm.train, j, free_job, NULL, out);
    if (st)
        free_job(j);
    return st;
}
