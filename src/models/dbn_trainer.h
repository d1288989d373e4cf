/* A DBN's training hooks (dbn_trainer.c) and what a run is made of. */
#ifndef BZ_MODELS_DBN_TRAINER_H
#define BZ_MODELS_DBN_TRAINER_H

#include "models/dbn_dist.h"
#include "models/trainer.h"

typedef struct bz_dbn_train_job {
    const float *x;           /* n labelled training rows (must outlive the trainer) */
    const int32_t *labels;
    size_t n;
    const float *xv;          /* nv validation rows, or none */
    const int32_t *labels_v;
    size_t nv;
    bz_rbm_train_options rbm; /* pretraining */
    unsigned pretrain_epochs; /* per layer; 0: no pretraining */
    bz_dbn_sgd sgd;           /* fine-tuning; epochs at most, patience */
    bz_comm *comm;            /* data-parallel ranks, or NULL */
    bz_dbn_finetune_cb ft_cb; /* each fine-tuning epoch's figures, or NULL */
    void *ft_user;
    bz_dbn_finetune_result *result; /* filled when fine-tuning ends; may be NULL */
} bz_dbn_train_job;


/* A classifier and its fine-tuning state (t may be NULL) in a checkpoint,
 * under names starting with prefix; read back into a network of the same
 * sizes, the fine-tuning state into a new *stash (NULL when there was
 * none), which bz_dbn_ft_adopt moves into a fine-tuning begun afresh. */
bz_status bz_dbn_ckpt_put_net(bz_ckpt_out *o, const char *prefix, bz_dbn *net,
                              const bz_dbn_ft *t, unsigned epochs_run);
bz_status bz_dbn_ckpt_get_net(const bz_ckpt_in *in, const char *path, const char *prefix,
                              bz_dbn *net, bz_dbn_ft **stash, unsigned *epochs_run);
void bz_dbn_ft_adopt(bz_dbn_ft *t, bz_dbn_ft **stash);
bz_status bz_dbn_trainer_make(bz_dbn *d, const bz_dbn_train_job *job, bz_trainer **out);

#endif
