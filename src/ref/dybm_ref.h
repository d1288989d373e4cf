/*
 * Plain-C host reference of the dynamic Boltzmann machine (DyBM) step, the
 * definition the device kernels (kernels/dybm.cl) are tested against. The
 * model and its notation are documented in src/models/dybm.h; this file
 * computes exactly what that comment states, in float, summing in the same
 * order as the fused kernel.
 *
 * B series advance in lock-step and share the parameters: z is B rows of M
 * = (d-1+K)*N inputs, [x[t-1], ..., x[t-d+1], alpha_1, ..., alpha_K].
 */
#ifndef BZ_REF_DYBM_REF_H
#define BZ_REF_DYBM_REF_H

#include <stddef.h>

enum { BZ_DYBM_REF_SGD = 0, BZ_DYBM_REF_RMSPROP = 1, BZ_DYBM_REF_ADAGRAD = 2 };

typedef struct bz_dybm_ref {
    size_t n, delay, k, batch; /* N, d >= 1, K decay rates, B series */
    const float *decay;        /* K rates in [0, 1) */
    int binary;                /* 1: Bernoulli units (sigmoid), 0: Gaussian */
    int opt;                   /* BZ_DYBM_REF_* */
    float lr, rho, eps;
    float *P;  /* M x N: row m is the input z_m, column i the output unit */
    float *b;  /* N */
    float *sP, *sb; /* optimiser accumulators, as P and b */
    float *z;  /* B x M */
} bz_dybm_ref;

/* M = (d-1+K)*N */
size_t bz_dybm_ref_inputs(const bz_dybm_ref *r);

/* One step for all B series: x is B x N, the values observed at time t
 * (read in mode 0 and 1); out (B x N) gets the means or firing
 * probabilities given the history. learn: the parameters take one
 * optimiser step on the log-likelihood of x. gen (not NULL): instead of
 * observing x, the step generates it: Gaussian x = mean + gen, binary
 * x = (gen < p), and writes the generated values to xgen (B x N). Then the
 * FIFO and the traces take x. */
void bz_dybm_ref_step(bz_dybm_ref *r, const float *x, float *out, int learn, const float *gen,
                      float *xgen);

#endif
