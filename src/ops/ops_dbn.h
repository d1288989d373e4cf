/*
 * Launchers of the deep-belief-network kernels (kernels/dbn.cl): forward and
 * backward passes of fine-tuning, and the top RBM's softmax label group.
 * Like ops.h, each checks its operands' extents before enqueueing.
 */
#ifndef BZ_OPS_OPS_DBN_H
#define BZ_OPS_OPS_DBN_H

#include "ops/ops.h"

/* Activations of hidden layers in fine-tuning. Values are stored in files. */
/* bz_dbn_act (sigmoid, ReLU) is public: boltzcl.h */

/* y = max(x + b, 0), rows x cols; y may alias x. */
bz_status bz_op_bias_relu(bz_context *ctx, bz_buf *y, const bz_buf *x, const bz_buf *b,
                          size_t rows, size_t cols);
/* Row-wise softmax of x + b; y may alias x. */
bz_status bz_op_bias_softmax(bz_context *ctx, bz_buf *y, const bz_buf *x, const bz_buf *b,
                             size_t rows, size_t cols);
/* prob = softmax(x + b), delta = scale (prob - onehot(labels)), loss[r] +=
 * cross-entropy, correct[r] += argmax hit; labels are `rows` floats. */
bz_status bz_op_softmax_xent_grad(bz_context *ctx, bz_buf *prob, bz_buf *delta, bz_buf *loss,
                                  bz_buf *correct, const bz_buf *x, const bz_buf *b,
                                  const bz_buf *labels, size_t rows, size_t cols, float scale);
/* Inverted dropout in place over n elements at stream position pos. */
bz_status bz_op_dropout_fwd(bz_context *ctx, bz_buf *a, size_t n, float p, bz_rng_pos pos);
/* delta *= f'(activation) (and the dropout mask of the same pos when p > 0). */
bz_status bz_op_act_backward(bz_context *ctx, bz_buf *delta, const bz_buf *a, size_t n,
                             bz_dbn_act act, float p, bz_rng_pos pos);
/* Sigmoid over the first cols - k columns, softmax over the last k; y may
 * alias x. */
bz_status bz_op_bias_sigmoid_softmax_tail(bz_context *ctx, bz_buf *y, const bz_buf *x,
                                          const bz_buf *b, size_t rows, size_t cols, size_t k);
/* Bernoulli samples of the first cols - k columns, one-hot categorical of
 * the last k; out may alias mean. */
bz_status bz_op_sample_bernoulli_softmax_tail(bz_context *ctx, bz_buf *out, const bz_buf *mean,
                                              size_t rows, size_t cols, size_t k, bz_rng_pos pos);

#endif
