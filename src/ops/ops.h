/*
 * Host-side launchers of the element-wise, sampling, update and reduction
 * kernels in kernels/ (*.cl). Every launcher checks that its operands fit their
 * buffers before it enqueues anything; offsets are in floats.
 */
#ifndef BZ_OPS_OPS_H
#define BZ_OPS_OPS_H

#include "engine/engine.h"

#include <stdint.h>

/* Position in a random stream: (seed, stream, offset of element 0). */
typedef struct bz_rng_pos {
    uint64_t seed, stream, offset;
} bz_rng_pos;

bz_status bz_op_bias_sigmoid(bz_context *ctx, bz_buf *y, const bz_buf *x, const bz_buf *b,
                             size_t rows, size_t cols);
bz_status bz_op_bias_add(bz_context *ctx, bz_buf *y, const bz_buf *x, const bz_buf *b,
                         size_t rows, size_t cols);
bz_status bz_op_bias_sigmoid_tempered(bz_context *ctx, bz_buf *y, const bz_buf *x,
                                      const bz_buf *b, const bz_buf *base, size_t rows,
                                      size_t cols, float scale);
bz_status bz_op_scale(bz_context *ctx, bz_buf *y, const bz_buf *x, size_t n, float a);
bz_status bz_op_scale_block(bz_context *ctx, bz_buf *c, size_t off, size_t ldc, size_t m, size_t n,
                            float beta);
/* Row r of out (out_pitch floats apart) = row idx[idx_off + r] of x, which
 * has `cols` columns; out's columns past cols are left alone. */
bz_status bz_op_gather_rows(bz_context *ctx, bz_buf *out, size_t out_pitch, const bz_buf *x,
                            const bz_buf *idx, size_t idx_off, size_t rows, size_t cols);

bz_status bz_op_philox_u32(bz_context *ctx, bz_buf *out, size_t n, bz_rng_pos pos);
bz_status bz_op_bernoulli(bz_context *ctx, bz_buf *out, const bz_buf *p, size_t n,
                          bz_rng_pos pos);
bz_status bz_op_gaussian(bz_context *ctx, bz_buf *out, const bz_buf *mean, size_t n,
                         bz_rng_pos pos);
bz_status bz_op_bias_sigmoid_bernoulli(bz_context *ctx, bz_buf *prob, bz_buf *sample,
                                       const bz_buf *x, const bz_buf *b, size_t rows,
                                       size_t cols, bz_rng_pos pos);

bz_status bz_op_momentum_update(bz_context *ctx, bz_buf *w, bz_buf *vel, const bz_buf *grad,
                                size_t n, float lr, float momentum, float decay);
bz_status bz_op_decay_apply(bz_context *ctx, bz_buf *w, bz_buf *vel, size_t n, float lr_decay);
/* One layer's step in one launch: decay_apply on the n weights (w, wvel),
 * and for the biases vel = momentum vel + a * column sums of x (rows x
 * cols); bias += vel. */
bz_status bz_op_layer_step(bz_context *ctx, bz_buf *w, bz_buf *wvel, size_t n, float lr_decay,
                           bz_buf *bias, bz_buf *vel, const bz_buf *x, size_t rows, size_t cols,
                           float a, float momentum);
/* The visible and hidden bias steps of CD in one launch: for each bias,
 * vel = momentum vel + a * column sum of (x0 - x1); bias += vel. With err
 * (nv floats) non-NULL, err[j] += sum over rows of (v0 - v1)^2 as well. */
bz_status bz_op_bias_momentum_pair(bz_context *ctx, bz_buf *vb, bz_buf *vvb, const bz_buf *v0,
                                   const bz_buf *v1, size_t nv, bz_buf *hb, bz_buf *vhb,
                                   const bz_buf *h0, const bz_buf *h1, size_t nh, size_t rows,
                                   float a, float momentum, bz_buf *err);
bz_status bz_op_outer_update(bz_context *ctx, bz_buf *w, const bz_buf *x, const bz_buf *y,
                             size_t m, size_t n, float a);

bz_status bz_op_col_sums(bz_context *ctx, bz_buf *out, const bz_buf *x, size_t rows, size_t cols,
                         float alpha, float beta);
bz_status bz_op_col_sum_diff(bz_context *ctx, bz_buf *out, const bz_buf *a, const bz_buf *b,
                             size_t rows, size_t cols, float alpha, float beta);
bz_status bz_op_row_sq_err_acc(bz_context *ctx, bz_buf *acc, const bz_buf *a, const bz_buf *b,
                               size_t rows, size_t cols);
bz_status bz_op_free_energy_rows(bz_context *ctx, bz_buf *out, const bz_buf *v, const bz_buf *vb,
                                 const bz_buf *hpre, const bz_buf *hb, size_t rows, size_t nv,
                                 size_t nh, bool gaussian, float scale);

/* RBM-specific kernels (kernels/rbm.cl). */
bz_status bz_op_flip_entries(bz_context *ctx, bz_buf *v, const bz_buf *idx, size_t rows,
                             size_t cols);
bz_status bz_op_sparsity_update(bz_context *ctx, bz_buf *q, const bz_buf *batch_mean, bz_buf *vel,
                                size_t n, float lr_cost, float target);

#endif
