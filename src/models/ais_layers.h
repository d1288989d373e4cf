/*
 * Annealed importance sampling for a chain of binary layers x_0 (visible) ..
 * x_L: an RBM (L = 1) or a DBM (L = 2, 3). The state of a run is the odd
 * layers (h1, and h3 when L = 3); the even layers (v, h2), independent of
 * each other given the odd ones, are summed out analytically, as Salakhutdinov
 * & Hinton (2009) do for a DBM:
 *   log p*_beta(x_odd) = beta sum_odd x_l . b_l
 *        + sum_i softplus(beta (b_0 + W_0 x_1)_i + (1 - beta) a_i)          (v)
 *        + sum_even l>0 sum_j softplus(beta (b_l + x_{l-1} W_{l-1} + x_{l+1} W_l^T)_j)
 * from the base model at beta = 0: the visible layer independent with the
 * base-rate biases a, every other layer uniform, so log Z_0 = sum_i
 * softplus(a_i) + (s_1 + .. + s_L) log 2 exactly.
 * The transition at beta: a mode-hopping move (below) every o->hop_every
 * temperatures when data are given,
 * collapsed Gibbs sweeps over the odd units if asked (each unit given the
 * other odd units alone, the even layers summed out; see kernels/dbm.cl),
 * then the Rao-Blackwellised blocked step, the even layers given the odd
 * ones and the odd ones given the even. Each leaves p_beta of the odd layers
 * invariant.
 * Run in reverse (beta from 1 to 0) from states close to the model's
 * distribution, the same machinery gives log Z_0 - log mean(w), an estimate
 * that errs high where the forward one errs low (Burda, Grosse &
 * Salakhutdinov 2015; Grosse et al. 2016).
 */
#ifndef BZ_MODELS_AIS_LAYERS_H
#define BZ_MODELS_AIS_LAYERS_H

#include "engine/engine.h"
#include "boltzcl.h"

#define BZ_AIS_MAX_HIDDEN 3

typedef struct bz_ais_net {
    bz_context *ctx;
    size_t L, s[BZ_AIS_MAX_HIDDEN + 1];
    const bz_buf *W[BZ_AIS_MAX_HIDDEN];     /* W_l: s[l] x s[l+1] */
    const bz_buf *b[BZ_AIS_MAX_HIDDEN + 1]; /* b_l: s[l] */
} bz_ais_net;

/* Base-rate biases from n host rows of nv values (smoothed means, as
 * Salakhutdinov & Murray); x NULL: 0 (a uniform base). */
void bz_ais_base_rate(const float *x, size_t n, size_t nv, float *a);

/* The mode-hopping move: a Metropolis-Hastings step on the state layers
 * whose proposal, independent of the current state, draws a row n of mu at
 * random and the units from Bernoulli(mu_n): the mean-field posteriors of
 * data rows, clamped to [1e-4, 1 - 1e-4] (P rows, the odd layers side by
 * side: s[1], then s[3]). Valid for any such mixture, it lets a run jump
 * between the modes where the data lie, which the Gibbs steps cannot cross
 * when the model has a few strong hidden units; at low beta, where the
 * target is diffuse, it is mostly refused. */
typedef struct bz_ais_proposal {
    const float *mu;
    size_t P;
} bz_ais_proposal;

/* Clamps and keeps at most `most` rows of mu (n rows of cols), spread over
 * them, into out (most x cols); returns the rows kept. */
size_t bz_ais_proposal_rows(const float *mu, size_t n, size_t cols, size_t most, float *out);

/* Forward AIS (start NULL): from the base model. Reverse (start: for every
 * odd l, o->runs host rows of s[l] binary values; NULL entries for even l):
 * from those states at beta = 1 down to the base model; out->log_z is then
 * log Z_0 - log mean(w), its interval the same of mean(w) -+ 3 standard
 * errors. a: the visible base-rate biases (s[0] values). */
bz_status bz_ais_layers(const bz_ais_net *net, const float *a, const bz_ais_options *o,
                        float *const *start, const bz_ais_proposal *prop, bz_ais_result *out);

#endif
