/*
 * The dynamic Boltzmann machine (DyBM): a Boltzmann machine over a time
 * series whose energy at time t depends on the past through FIFO queues of
 * conduction delay d and eligibility traces.
 *
 * Notation (x[t] in R^N, or {0,1}^N for the binary DyBM):
 *   FIFO      the d-1 most recent patterns x[t-1], ..., x[t-d+1]: what is
 *             still "in transit" along a connection of conduction delay d
 *             (Osogami & Otsuka 2015, Sec. "DyBM": queues of length d-1).
 *   traces    alpha_k[t-1] = sum_{s>=d} lambda_k^(s-d) x[t-s], k = 1..K,
 *             one per decay rate lambda_k in [0, 1): the values that have
 *             left the FIFO, decayed (the LTP eligibility traces, O&O
 *             2015 Eq. 2-3; Dasgupta & Osogami 2017, Eq. 5). Updated as
 *             alpha_k <- lambda_k alpha_k + x[t-d+1] once x[t] arrives.
 *   inputs    z[t] = [x[t-1]; ...; x[t-d+1]; alpha_1[t-1]; ...; alpha_K[t-1]],
 *             M = (d-1+K) N values.
 *   field     a[t] = b + sum_{delta=1}^{d-1} W[delta] x[t-delta]
 *                      + sum_k U_k alpha_k[t-1] = b + P^T z[t]
 *             with P = [W[1]^T; ...; W[d-1]^T; U_1^T; ...; U_K^T] (M x N).
 *   Gaussian  x[t] ~ N(a[t], sigma^2 I): a[t] is the mean (Dasgupta &
 *             Osogami 2017, Eq. 4-6). With K = 0 it is a VAR(d-1) model;
 *             with decay rates all zero, alpha_k = x[t-d] and it is VAR(d).
 *   binary    P(x_i[t] = 1 | past) = sigmoid(a_i[t]) (O&O 2015, Eq. 4-5:
 *             the energy is linear in x[t], so the units are conditionally
 *             independent given the past).
 * The LTD terms of O&O 2015 (beta: spikes in transit weighted by mu_l^(s-t);
 * gamma: the unit's own trace) are fixed linear combinations of the FIFO's
 * values and of the traces, so the per-lag weights W[delta] contain them:
 * this is the "linear DyBM" parameterisation of IBM's pydybm, which has a
 * free weight per lag where the paper ties them through the LTD decay rates.
 *
 * Learning (O&O 2015, Eq. 8-10; D&O 2017, Eq. 8-10): online gradient ascent
 * on log p(x[t] | past) at every step. With unit variance the gradient is
 * e = x[t] - a[t] (Gaussian mean, or x - sigmoid(a) for binary units):
 *   dP = z[t] e^T,  db = e,
 * averaged over the B series that advance together, then one optimiser
 * step: SGD, RMSProp (s <- rho s + (1-rho) g^2, theta += lr g/(sqrt(s)+eps))
 * or AdaGrad (s <- s + g^2). The STDP reading: the weight from i to j grows
 * with x_i's spikes that arrived before x_j fires (LTP, via alpha) and the
 * sign of e handles depression.
 *
 * Values on the device: P, b and the optimiser's accumulators; per series
 * z (two copies that swap) and the step's scratch. A series is uploaded as
 * T x B x N and any number of steps run without a return to the host.
 */
#ifndef BZ_MODELS_DYBM_H
#define BZ_MODELS_DYBM_H

#include "engine/engine.h"
#include "models/meta.h"

#include <stdint.h>

#include <stdbool.h>

#define BZ_DYBM_MAX_DECAYS 8
#define BZ_DYBM_MAX_DELAY 1024
#define BZ_DYBM_MAX_N 65536

typedef enum { BZ_DYBM_SGD = 0, BZ_DYBM_RMSPROP = 1, BZ_DYBM_ADAGRAD = 2 } bz_dybm_opt;
typedef enum { BZ_DYBM_PREDICT = 0, BZ_DYBM_LEARN = 1, BZ_DYBM_GENERATE = 2 } bz_dybm_mode;
/* How a run advances: automatic, the one-launch loop (one work-group), per
 * step GEMMs (CLBlast), or per step 8-wide blocks over the whole device. */
typedef enum {
    BZ_DYBM_PATH_AUTO = 0,
    BZ_DYBM_PATH_FUSED = 1,
    BZ_DYBM_PATH_GEMM = 2,
    BZ_DYBM_PATH_WIDE = 3
} bz_dybm_path;

typedef struct bz_dybm {
    bz_context *ctx;
    size_t n, delay, k;   /* N, d, K */
    size_t np;            /* N rounded up to 8: the pitch of P on the device */
    float decay[BZ_DYBM_MAX_DECAYS];
    bool binary;
    bz_dybm_opt opt;
    float lr, rho, eps;
    /* standardisation of real series: x_std = (x - mean) / scale; and the
     * residual sd per variable in standardised units (sampling) */
    float *mean, *scale, *sigma;
    bz_buf P, b, sP, sb, dec; /* P: M x np, b: np, padding zero */
    /* per-run state for `batch` series */
    size_t batch;
    bz_buf Z[2], ERR, XC, MU, G;
    int cur; /* which Z holds z[t] */
    bz_dybm_path path;
    cl_program prog;
    cl_kernel k_fused, k_out, k_update, k_shift, k_mean8, k_grad8;
    bz_meta meta;
} bz_dybm;

/* M = (d-1+K) N */
size_t bz_dybm_inputs(const bz_dybm *d);

/* A DyBM with zero parameters and an identity standardisation. */
bz_status bz_dybm_create(bz_context *ctx, size_t n, size_t delay, const float *decay, size_t k,
                         bool binary, bz_dybm **out);
void bz_dybm_free(bz_dybm *d);

/* Parameters to and from the host: P (M x N) and b (N). */
bz_status bz_dybm_get_params(bz_dybm *d, float *P, float *b);
bz_status bz_dybm_set_params(bz_dybm *d, const float *P, const float *b);
/* Zero optimiser accumulators. */
bz_status bz_dybm_reset_optimizer(bz_dybm *d);

/* State for `batch` series, all FIFOs and traces zero (the mean of a
 * standardised series). */
bz_status bz_dybm_reset(bz_dybm *d, size_t batch);
/* The state z (batch x M) to and from the host. */
bz_status bz_dybm_get_state(bz_dybm *d, float *z);
bz_status bz_dybm_set_state(bz_dybm *d, const float *z);

/* T steps for the batch series: X (device, from float offset x_off, T x B
 * x N), OUT (device, from out_off, T x B x N) gets each step's mean or
 * firing probability (PREDICT, LEARN) or the generated pattern (GENERATE,
 * where X holds the noise: added to the mean, or uniforms compared with
 * the probability). */
bz_status bz_dybm_run(bz_dybm *d, bz_dybm_mode mode, const bz_buf *X, size_t x_off, bz_buf *OUT,
                      size_t out_off, size_t T);

/* Host convenience: X and OUT on the host (T x B x N). */
bz_status bz_dybm_run_host(bz_dybm *d, bz_dybm_mode mode, const float *X, float *out, size_t T);

bz_status bz_dybm_set_meta(bz_dybm *d, const char *key, const char *value);

/* Parses "0.5,0.2" into at most BZ_DYBM_MAX_DECAYS rates in [0, 1);
 * "" or "none": no traces. */
bool bz_dybm_parse_decays(const char *s, float *decay, size_t *k);

/* The noise of GENERATE for T steps of the batch series, step t0 on, from
 * seed (Philox, src/ref): Gaussian units N(0, sigma_i^2) in standardised
 * units, binary units uniform in [0, 1). */
void bz_dybm_noise(const bz_dybm *d, uint64_t seed, size_t t0, float *out, size_t T);

/* The kind (dybm_kind.c) and its model files. */
extern const struct bz_model_kind bz_kind_dybm;
bz_status bz_dybm_save(bz_dybm *d, const char *path);
bz_status bz_dybm_load(bz_context *ctx, const char *path, bz_dybm **out);

#endif
