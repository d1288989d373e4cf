/* A DyBM's training hooks (dybm_trainer.c) and what a run is made of. */
#ifndef BZ_MODELS_DYBM_TRAINER_H
#define BZ_MODELS_DYBM_TRAINER_H

#include "models/dybm.h"
#include "models/trainer.h"

/* One series, standardised (d's mean and scale say how), T x N; the first
 * n_train steps are learnt online every epoch (from an empty history), the
 * n_test after them are the held-out tail, predicted one step ahead from
 * the history the training steps left, by the parameters at the end of the
 * epoch (learning on during the tail when online_test is set: each
 * prediction is still made before its value is seen). */
typedef struct bz_dybm_train_job {
    const float *x; /* must outlive the trainer */
    size_t n_train, n_test;
    unsigned epochs;
    size_t chunk;      /* steps per progress report (a "batch") */
    float lr_decay;    /* epoch e (from 0) learns at lr / (1 + lr_decay e) */
    bool online_test;
    /* after each epoch: RMSE in the series' units, NAN when there is none */
    double train_rmse, test_rmse, seconds;
} bz_dybm_train_job;

/* job is copied; the figures are written back to result (may be NULL)
 * after each epoch. */
bz_status bz_dybm_trainer_make(bz_dybm *d, const bz_dybm_train_job *job,
                               bz_dybm_train_job *result, bz_trainer **out);

/* RMSE over rows [from, to) of predictions pred against x (both T x N,
 * standardised), in the units of the series (scale applied). */
double bz_dybm_rmse(const bz_dybm *d, const float *x, const float *pred, size_t from, size_t to);

extern const bz_train_hooks bz_dybm_train_hooks;

#endif
