/* An RBM's training hooks (rbm_trainer.c) and what the command adds. */
#ifndef BZ_MODELS_RBM_TRAINER_H
#define BZ_MODELS_RBM_TRAINER_H

#include "dist/dist.h"
#include "models/rbm.h"
#include "models/trainer.h"

/* bz_rbm_trainer_create across comm (NULL: one process). */
bz_status bz_rbm_trainer_create_dist(bz_rbm *rbm, bz_data *data, const bz_rbm_train_options *o,
                                     unsigned epochs, bz_comm *comm, bz_trainer **out);
/* Per-epoch figures on validation rows: the free-energy gap against as many
 * training rows (sub), and the pseudo-log-likelihood when pll. */
void bz_rbm_trainer_monitor(bz_trainer *t, bz_data *val, bz_data *sub, bool pll,
                            uint64_t pll_seed);

#endif
