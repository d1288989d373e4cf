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
/* acc[r] += entropy of the Bernoulli means of row r. */
bz_status bz_op_dbm_rows_entropy_acc(bz_context *ctx, bz_buf *acc, const bz_buf *mu, size_t rows,
                                     size_t cols);
/* acc[r] = max(acc[r], max |x[r, c]|). */
bz_status bz_op_dbm_rows_absmax_acc(bz_context *ctx, bz_buf *acc, const bz_buf *x, size_t rows,
                                    size_t cols);

/* One temperature of AIS, one layer, added to the compensated sums (sum,
 * comp: rows each): a state layer (state = true; x its units) adds
 * (beta - beta_prev) x . bias; a summed-out layer (x its input from the state
 * layers) adds sum_c softplus(beta z + (1 - beta) base) - (the same at
 * beta_prev), z = x + bias, base NULL for none. absolute: the terms at beta
 * alone (beta_prev = 0 for a state layer), log p*_beta up to a constant.
 * terms: rows x cols scratch. */
bz_status bz_op_dbm_ais_logw(bz_context *ctx, bz_buf *sum, bz_buf *comp, bz_buf *terms,
                             const bz_buf *x, const bz_buf *bias, const bz_buf *base, bool state,
                             bool absolute, size_t rows, size_t cols, float beta_prev,
                             float beta);
/* A collapsed Gibbs sweep at beta over the n units of a state layer h (rows
 * x n), its neighbours summed out: zlo (rows x nlo) and zhi (rows x nhi, NULL
 * for the top layer) hold the neighbours' inputs from the state layers
 * (biases blo, bhi apart) and are updated in place; wlo_t is W_{l-1}
 * transposed (n x nlo), whi is W_l (n x nhi); base_lo the base-rate biases
 * of the layer below (NULL: none); terms (rows x (nlo + nhi)) and dx (rows)
 * scratch. The uniform of (r, j) is at position pos.offset + r n + j. Two
 * launches per unit. */
bz_status bz_op_dbm_ais_collapsed_sweep(bz_context *ctx, bz_buf *h, bz_buf *zlo, bz_buf *zhi,
                                        const bz_buf *wlo_t, const bz_buf *whi,
                                        const bz_buf *bias, const bz_buf *blo, const bz_buf *bhi,
                                        const bz_buf *base_lo, bz_buf *terms, bz_buf *dx,
                                        size_t rows, size_t n, size_t nlo, size_t nhi, float beta,
                                        bz_rng_pos pos);
/* Mode-hopping moves of AIS (kernels/dbm.cl): proposals for one state layer
 * (cols units) from the mixture of P rows of mu (mu_cols wide, the layer at
 * column col0); the acceptance from the log targets lp, lpp and the
 * products g, gp (rows x P) with c (P); the accepted runs' rows copied. */
bz_status bz_op_dbm_ais_propose(bz_context *ctx, bz_buf *hp, const bz_buf *mu, size_t rows,
                                size_t cols, size_t P, size_t mu_cols, size_t col0,
                                uint64_t seed, uint64_t row_stream, uint64_t stream);
bz_status bz_op_dbm_ais_mh_accept(bz_context *ctx, bz_buf *acc, const bz_buf *lp,
                                  const bz_buf *lpp, const bz_buf *g, const bz_buf *gp,
                                  const bz_buf *c, size_t rows, size_t P, uint64_t seed,
                                  uint64_t stream);
bz_status bz_op_dbm_ais_take_rows(bz_context *ctx, bz_buf *x, const bz_buf *xp,
                                  const bz_buf *acc, size_t rows, size_t cols);

#endif
