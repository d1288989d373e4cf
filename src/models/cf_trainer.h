/* The ratings RBM's training hooks (cf_trainer.c). */
#ifndef BZ_MODELS_CF_TRAINER_H
#define BZ_MODELS_CF_TRAINER_H

#include "models/cf.h"
#include "models/trainer.h"

/* Ratings to score after every epoch, in dense indexes. */
typedef struct bz_cf_pairs {
    const uint32_t *u, *i;
    const uint8_t *cls;
    size_t n;
} bz_cf_pairs;

/* A trainer of cf on the rows of set for `epochs` epochs (cf, set and the
 * pairs stay the caller's). After each epoch it reports the RMSE and MAE
 * on train (may have n 0) and test (n 0: none). */
bz_status bz_cf_trainer_make(bz_cf *cf, const bz_cf_set *set, const bz_cf_train_opts *o,
                               unsigned epochs, bz_cf_pairs train, bz_cf_pairs test,
                               bz_trainer **out);

/* As bz_cf_trainer_make on the model's own training ratings (scored
 * after each epoch, no test pairs), the set made here and owned by the
 * trainer. */
bz_status bz_cf_trainer_make_own(bz_cf *cf, const bz_cf_train_opts *o, unsigned epochs,
                                 bz_trainer **out);

#endif
