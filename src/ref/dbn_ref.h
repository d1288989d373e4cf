/*
 * Host references of the deep-belief-network kernels (kernels/dbn.cl), for
 * the tests: double precision where the kernels accumulate, the same random
 * bits (Philox) where they draw.
 */
#ifndef BZ_REF_DBN_REF_H
#define BZ_REF_DBN_REF_H

#include <stddef.h>
#include <stdint.h>

void bz_ref_bias_relu(float *y, const float *x, const float *b, size_t rows, size_t cols);
void bz_ref_bias_softmax(float *y, const float *x, const float *b, size_t rows, size_t cols);
/* prob, delta (rows x cols); loss[r] and correct[r] are accumulated into. */
void bz_ref_softmax_xent_grad(float *prob, float *delta, float *loss, float *correct,
                              const float *x, const float *b, const float *labels, size_t rows,
                              size_t cols, float scale);
/* 1 when element `index` of the stream is kept by dropout of probability p. */
int bz_ref_dropout_keep(uint64_t seed, uint64_t stream, uint64_t index, float p);
void bz_ref_dropout_fwd(float *a, size_t n, float p, uint64_t seed, uint64_t stream,
                        uint64_t offset);
/* act 0: sigmoid, 1: ReLU (see bz_dbn_act). */
void bz_ref_act_backward(float *delta, const float *a, size_t n, int act, float p, uint64_t seed,
                         uint64_t stream, uint64_t offset);
void bz_ref_bias_sigmoid_softmax_tail(float *y, const float *x, const float *b, size_t rows,
                                      size_t cols, size_t k);
void bz_ref_sample_bernoulli_softmax_tail(float *out, const float *mean, size_t rows,
                                          size_t cols, size_t k, uint64_t seed, uint64_t stream,
                                          uint64_t offset);

#endif
