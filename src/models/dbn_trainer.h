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

/* A classifier's fine-tuning run as a trainer stage, the same for a DBN and
 * for a DBM's classifier: the running state, the state a checkpoint brought
 * (adopted by a resumed begin), and this run's epochs and seconds
 * (validation included). */
typedef struct bz_dbn_ft_stage {
    bz_dbn_ft *ft;    /* while the stage runs */
    bz_dbn_ft *stash; /* from a checkpoint, until begin */
    unsigned epochs_run;
    double wall;
} bz_dbn_ft_stage;

bz_status bz_dbn_ft_stage_begin(bz_dbn_ft_stage *f, bz_dbn *net, const float *x,
                                const int32_t *labels, size_t n, size_t nv,
                                const bz_dbn_sgd *sgd, bool resumed);
/* One epoch with the trainer's control; its figures (cb, when set, and
 * out's JSON and line). */
bz_status bz_dbn_ft_stage_epoch(bz_dbn_ft_stage *f, bz_dbn *net, const float *xv,
                                const int32_t *labels_v, const bz_dbn_sgd *sgd, bz_comm *comm,
                                bz_dbn_finetune_cb cb, void *user, unsigned e,
                                const bz_train_ctl *ctl, bz_train_epoch_out *out);
/* Keeps the best epoch, fills r (may be NULL), frees the running state. */
bz_status bz_dbn_ft_stage_end(bz_dbn_ft_stage *f, bz_dbn *net, size_t nv,
                              bz_dbn_finetune_result *r);
/* BZ_E_DIVERGED naming the classifier when its parameters are not finite. */
bz_status bz_dbn_ft_stage_finite(bz_context *c, bz_dbn *net, const bz_dbn_sgd *sgd);


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
