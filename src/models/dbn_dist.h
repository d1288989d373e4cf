/*
 * Data-parallel DBN training (mpirun -np N boltzcl train dbn --distributed).
 *
 * Pretraining trains each layer's RBM with bz_rbm_train_epoch_dist. Fine-
 * tuning runs the single-process SGD step on this rank's rows [lo, hi) of
 * every global batch, with the softmax deltas scaled by the global batch and
 * the dropout masks entered at the global row, writes the gradients of all
 * layers into one buffer (dist_grad.h), sums it across ranks in one in-place
 * allreduce and applies it: N ranks reproduce one process to rounding.
 * Validation is split across the ranks too and the hit counts summed, which
 * is exact, so every rank takes the same early-stopping decisions.
 *
 * Every rank calls these with the same data and options.
 */
#ifndef BZ_MODELS_DBN_DIST_H
#define BZ_MODELS_DBN_DIST_H

#include "dist/dist.h"
#include "models/dbn.h"
#include "models/dist_grad.h"

/* bz_dbn_pretrain across comm (NULL: one process). Each layer's RBM starts
 * from rank 0's initial parameters. Every rank computes the next layer's
 * inputs for all rows: a forward pass, cheap beside the epochs, and each rank
 * needs rows from all over the data set as the batches are shuffled. */
bz_status bz_dbn_pretrain_dist(bz_dbn *d, const float *x, const int32_t *labels, size_t n,
                               const bz_rbm_train_options *o, unsigned epochs,
                               bz_dbn_pretrain_cb cb, void *user, bz_comm *comm);

/* bz_dbn_finetune across comm (NULL: one process); the result is global. */
bz_status bz_dbn_finetune_dist(bz_dbn *d, const float *x, const int32_t *labels, size_t n,
                               const float *xv, const int32_t *labels_v, size_t nv,
                               const bz_dbn_sgd *o, bz_dbn_finetune_cb cb, void *user,
                               bz_dbn_finetune_result *res, bz_comm *comm);

/* Gives every rank rank 0's classifier weights and biases. */
bz_status bz_dbn_dist_sync(bz_dbn *d, bz_comm *comm);

/* ---- internal, between dbn_train.c and dbn_train_dist.c ---- */

/* One SGD step on the B rows in A[0] (labels in d->labels), which are rows
 * [lo, lo + B) of a batch of `global` rows. g == NULL: the single-process
 * step, with the gradients accumulated straight into the velocities.
 * Otherwise this rank's share of -lr times the gradients goes into g's
 * sections (weights of layers 0..L, then their biases) and the update waits
 * for the allreduce. */
bz_status bz_dbn_sgd_step(bz_dbn *d, size_t B, const bz_dbn_sgd *o, unsigned epoch, size_t batch,
                          size_t lo, size_t global, bz_grad_sync *g);
/* The learning rate of the steps of `epoch`. */
float bz_dbn_sgd_lr(const bz_dbn_sgd *o, unsigned epoch);

/* The steps of one fine-tuning epoch across comm, in batches of B rows of
 * data x (rows of s[0]) and labels y (one float per row), both already
 * shuffled for the epoch: this rank's rows of each batch. d->loss and
 * d->correct accumulate this rank's rows' figures, as on one process. */
bz_status bz_dbn_epoch_steps_dist(bz_dbn *d, bz_data *x, bz_data *y, size_t B, const bz_dbn_sgd *o,
                                  unsigned epoch, bz_comm *comm);

#endif
