/*
 * Plain C references for every kernel: the truth the device results are
 * checked against in tests and in the self-test. Double precision where the
 * kernel accumulates, bit-exact where the kernel is integer (the RNG).
 */
#ifndef BZ_REF_REFERENCE_H
#define BZ_REF_REFERENCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Philox4x32-10 block for (seed, stream, block): the same bits as kernels/philox.cl. */
void bz_ref_philox_block(uint64_t seed, uint64_t stream, uint64_t block, uint32_t out[4]);
/* Element `index` of a stream: word index % 4 of block index / 4. */
uint32_t bz_ref_philox_u32(uint64_t seed, uint64_t stream, uint64_t index);
float bz_ref_u01(uint32_t x);
float bz_ref_u01_open0(uint32_t x);

/* n elements of a stream starting at position offset. */
void bz_ref_philox_fill(uint32_t *out, size_t n, uint64_t seed, uint64_t stream, uint64_t offset);
void bz_ref_bernoulli(float *out, const float *p, size_t n, uint64_t seed, uint64_t stream,
                      uint64_t offset);
void bz_ref_gaussian(float *out, const float *mean, size_t n, uint64_t seed, uint64_t stream,
                     uint64_t offset);

double bz_ref_sigmoid(double z);
double bz_ref_softplus(double z);
void bz_ref_bias_sigmoid(float *y, const float *x, const float *b, size_t rows, size_t cols);

/* Row-major C = alpha op(A) op(B) + beta C, accumulated in double. */
void bz_ref_sgemm(bool ta, bool tb, size_t m, size_t n, size_t k, float alpha, const float *a,
                  size_t lda, const float *b, size_t ldb, float beta, float *c, size_t ldc);

void bz_ref_momentum_update(float *w, float *vel, const float *grad, size_t n, float lr,
                            float momentum, float decay);
void bz_ref_outer_update(float *w, const float *x, const float *y, size_t m, size_t n, float a);
void bz_ref_col_sums(float *out, const float *x, size_t rows, size_t cols, float alpha,
                     float beta);

/* Free energy of each row (see kernels/reduce.cl), computing v W itself. */
void bz_ref_free_energy(double *out, const float *v, size_t rows, const float *w,
                        const float *vb, const float *hb, size_t nv, size_t nh, bool gaussian);

#endif

/* ---- RBM training (tests) ---- */

/* The permutation of n rows used for epoch `epoch` (Fisher-Yates driven by
 * the generator), shared by the engine and its tests. */
void bz_ref_permutation(uint32_t *perm, size_t n, uint64_t seed, uint64_t stream);

/* One CD-k (or PCD-k with `chain`, B x nh, updated in place) step on the
 * batch v0 (B x nv), mirroring the device's order of operations and random
 * streams; stream(slot) gives the stream id of each sampling slot. */
typedef struct bz_ref_rbm {
    size_t nv, nh;
    bool gaussian;
    float *w, *vb, *hb, *vw, *vvb, *vhb; /* parameters and velocities */
} bz_ref_rbm;

void bz_ref_cd_step(bz_ref_rbm *m, const float *v0, size_t B, unsigned k, float *chain, float lr,
                    float momentum, float decay, uint64_t seed, uint64_t (*stream)(unsigned slot, void *),
                    void *stream_arg);
