/* A DBM's training hooks (dbm_trainer.c) and what a run is made of. */
#ifndef BZ_MODELS_DBM_TRAINER_H
#define BZ_MODELS_DBM_TRAINER_H

#include "models/dbm.h"
#include "models/trainer.h"

typedef struct bz_dbm_train_job {
    const float *x;         /* n training rows (must outlive the trainer) */
    size_t n;
    bz_rbm_train_options rbm; /* pretraining */
    unsigned pretrain_epochs; /* per layer; 0: none */
    bz_dbm_train_options joint;
    unsigned epochs;          /* joint training; 0: none */
    /* the classifier (finetune != 0): labels of x, validation rows */
    int finetune;
    const int32_t *labels;
    const float *xv;
    const int32_t *labels_v;
    size_t nv, n_classes;
    unsigned mf_iters;
    bz_dbn_sgd sgd;
    bz_dbn_finetune_cb ft_cb;
    void *ft_user;
    bz_dbn_finetune_result *ft_result; /* may be NULL */
} bz_dbm_train_job;

bz_status bz_dbm_trainer_make(bz_dbm *d, const bz_dbm_train_job *job, bz_trainer **out);

#endif
