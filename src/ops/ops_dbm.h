/*
 * Launchers of the deep-Boltzmann-machine kernels (kernels/dbm.cl). Like
 * ops.h, each checks its operands' extents before enqueueing; optional
 * operands are NULL.
 */
#ifndef BZ_OPS_OPS_DBM_H
#define BZ_OPS_OPS_DBM_H

#include "ops/ops.h"

/* mu = sigmoid(a + bias + b) in place (b NULL for the top layer), delta =
 * |change|; all rows x cols except bias (cols). */
bz_status bz_op_dbm_mf_update(bz_context *ctx, bz_buf *mu, bz_buf *delta, const bz_buf *a,
                              const bz_buf *b, const bz_buf *bias, size_t rows, size_t cols);
/* sample ~ Bernoulli(sigmoid(beta (a + bias + b) + (1 - beta) base)); b and base
 * may be NULL. sample may alias neither a nor b. */
bz_status bz_op_dbm_sample_layer(bz_context *ctx, bz_buf *sample, const bz_buf *a,
                                 const bz_buf *b, const bz_buf *bias, const bz_buf *base,
                                 size_t rows, size_t cols, float beta, bz_rng_pos pos);
/* acc[r] += scale x[r] . y[r] (y rows x cols) or scale x[r] . y (y_vector: cols). */
bz_status bz_op_dbm_rows_dot_acc(bz_context *ctx, bz_buf *acc, const bz_buf *x, const bz_buf *y,
                                 bool y_vector, size_t rows, size_t cols, float scale);
/* acc[r] += sum_c softplus(beta z) - softplus(beta_prev z), z = pre + bias. */
bz_status bz_op_dbm_rows_softplus_diff_acc(bz_context *ctx, bz_buf *acc, const bz_buf *pre,
                                           const bz_buf *bias, size_t rows, size_t cols,
                                           float beta_prev, float beta);
/* acc[r] += entropy of the Bernoulli means of row r. */
bz_status bz_op_dbm_rows_entropy_acc(bz_context *ctx, bz_buf *acc, const bz_buf *mu, size_t rows,
                                     size_t cols);
/* acc[r] = max(acc[r], max |x[r, c]|). */
bz_status bz_op_dbm_rows_absmax_acc(bz_context *ctx, bz_buf *acc, const bz_buf *x, size_t rows,
                                    size_t cols);

#endif
