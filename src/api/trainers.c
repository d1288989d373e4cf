/*
 * The public constructors of DBN and DBM trainers: a caller's spec (public
 * types only) becomes the kind's training job, run by the one trainer of
 * src/models/trainer.c. Data-parallel training passes its ranks through the
 * models' own constructors; the public ones train in one process.
 */
#include "boltzcl.h"
#include "engine/engine.h"
#include "models/dbm_trainer.h"
#include "models/dbn_trainer.h"

#include <string.h>

void bz_dbn_train_spec_init(bz_dbn_train_spec *s)
{
    if (!s)
        return;
    memset(s, 0, sizeof *s);
    bz_rbm_train_options_init(&s->pretrain);
    s->pretrain_epochs = 10;
    bz_dbn_finetune_options_init(&s->finetune);
}

bz_status bz_dbn_trainer_create(bz_dbn *dbn, const bz_dbn_train_spec *s, bz_trainer **out)
{
    if (!dbn || !s || !out)
        return BZ_E_INVALID_ARG;
    *out = NULL;
    if (!s->x || !s->labels || s->n == 0)
        return bz_fail(dbn->ctx, BZ_E_INVALID_ARG,
                       "a DBN trainer needs training rows, their labels and n > 0");
    if (s->nv && (!s->xv || !s->labels_v))
        return bz_fail(dbn->ctx, BZ_E_INVALID_ARG,
                       "nv validation rows need xv and labels_v");
    bz_dbn_train_job job = {
        .x = s->x,
        .labels = s->labels,
        .n = s->n,
        .xv = s->xv,
        .labels_v = s->labels_v,
        .nv = s->nv,
        .rbm = s->pretrain,
        .pretrain_epochs = s->pretrain_epochs,
        .sgd = s->finetune,
        .comm = NULL,
        .ft_cb = s->epoch_cb,
        .ft_user = s->epoch_user,
        .result = s->result,
    };
    return bz_dbn_trainer_make(dbn, &job, out);
}

void bz_dbm_train_spec_init(bz_dbm_train_spec *s)
{
    if (!s)
        return;
    memset(s, 0, sizeof *s);
    bz_rbm_train_options_init(&s->pretrain);
    s->pretrain_epochs = 10;
    bz_dbm_train_options_init(&s->joint);
    s->epochs = 10;
    s->mf_iters = 10;
    bz_dbn_finetune_options_init(&s->sgd);
}

bz_status bz_dbm_trainer_create(bz_dbm *dbm, const bz_dbm_train_spec *s, bz_trainer **out)
{
    if (!dbm || !s || !out)
        return BZ_E_INVALID_ARG;
    *out = NULL;
    if (!s->x || s->n == 0)
        return bz_fail(dbm->ctx, BZ_E_INVALID_ARG, "a DBM trainer needs training rows and n > 0");
    if (s->finetune && s->nv && (!s->xv || !s->labels_v))
        return bz_fail(dbm->ctx, BZ_E_INVALID_ARG,
                       "nv validation rows need xv and labels_v");
    bz_dbm_train_job job = {
        .x = s->x,
        .n = s->n,
        .rbm = s->pretrain,
        .pretrain_epochs = s->pretrain_epochs,
        .joint = s->joint,
        .epochs = s->epochs,
        .finetune = s->finetune,
        .labels = s->labels,
        .xv = s->xv,
        .labels_v = s->labels_v,
        .nv = s->nv,
        .n_classes = s->n_classes,
        .mf_iters = s->mf_iters,
        .sgd = s->sgd,
        .ft_cb = s->epoch_cb,
        .ft_user = s->epoch_user,
        .ft_result = s->result,
    };
    return bz_dbm_trainer_make(dbm, &job, out);
}
