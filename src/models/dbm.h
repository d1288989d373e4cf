/*
 * Deep Boltzmann machines (Salakhutdinov & Hinton 2009): binary units in
 * layers x_0 = v, x_1 .. x_L (L = 2 or 3), every layer undirected and
 * connected to its neighbours only:
 *   -E(x) = sum_l x_l . b_l + sum_{l<L} x_l W_l x_{l+1},   W_l is s[l] x s[l+1].
 * Training: greedy pretraining of modified RBMs (the bottom one with doubled
 * bottom-up input, the top one with doubled hidden units, middle weights
 * halved when composed), then joint training with a mean-field positive
 * phase and persistent layer-parity Gibbs chains for the negative phase.
 * Evaluation: AIS over the odd layers with the even ones summed out
 * analytically (forward and reverse), and the variational lower bound on
 * log p(v).
 * Classification as in the paper: the mean-field posterior of h2 is appended
 * to the input of a feed-forward network initialised from the DBM and
 * fine-tuned by the DBN code.
 */
#ifndef BZ_MODELS_DBM_H
#define BZ_MODELS_DBM_H

#include "models/dbn.h"
#include "ops/ops_dbm.h"
#include "ref/dbm_ref.h"

#define BZ_DBM_MAX_HIDDEN BZ_REF_DBM_MAX_HIDDEN

typedef struct bz_dbm {
    bz_context *ctx;
    size_t L;                          /* hidden layers: 2 or 3 */
    size_t s[BZ_DBM_MAX_HIDDEN + 1];   /* s[0] visible .. s[L] */
    bz_buf W[BZ_DBM_MAX_HIDDEN], b[BZ_DBM_MAX_HIDDEN + 1];
    bz_buf vW[BZ_DBM_MAX_HIDDEN], vb[BZ_DBM_MAX_HIDDEN + 1];

    /* mean-field work space for `cap` rows: X0 the data, MU[l] the means,
     * P[l] the input from below, Q scratch for the input from above, D the
     * changes, acc a per-row accumulator */
    size_t cap;
    bz_buf X0, MU[BZ_DBM_MAX_HIDDEN + 1], P[BZ_DBM_MAX_HIDDEN + 1], Q, D, acc;

    /* persistent chains: n_chains rows of every layer, and scratch */
    size_t n_chains;
    bz_buf C[BZ_DBM_MAX_HIDDEN + 1], CA, CB;
    bool chains_valid;

    /* classifier (NULL until fine-tuned): a DBN whose input is [v, mu_2] */
    bz_dbn *clf;

    bz_meta meta;
} bz_dbm;

/* sizes: L + 1 entries, visible first; W ~ N(0, 0.01^2) from seed, zero biases. */
bz_status bz_dbm_create(bz_context *ctx, const size_t *sizes, size_t n_hidden_layers,
                        uint64_t seed, bz_dbm **out);
void bz_dbm_free(bz_dbm *d);
bz_status bz_dbm_set_meta(bz_dbm *d, const char *key, const char *value);
const char *bz_dbm_get_meta(const bz_dbm *d, const char *key);

/* Host copies of W_l (l < L) and b_l (l <= L); NULL skips. */
bz_status bz_dbm_get_layer(bz_dbm *d, size_t l, float *w, float *b);
bz_status bz_dbm_set_layer(bz_dbm *d, size_t l, const float *w, const float *b);
/* Makes room for M persistent chains (drops the current ones when M changes). */
bz_status bz_dbm_reserve_chains(bz_dbm *d, size_t M);
/* The persistent chains (M rows per layer, x[0..L]): read or replace. */
bz_status bz_dbm_set_chains(bz_dbm *d, float *const *x, size_t M);
bz_status bz_dbm_get_chains(bz_dbm *d, float *const *x);

/* ---- mean field ---- */

bz_status bz_dbm_reserve(bz_dbm *d, size_t rows);
/* Mean field for the `rows` rows in X0 into MU[1..L] (see dbm_ref.h for the
 * schedule); *sweeps (may be NULL) gets the sweeps run. */
bz_status bz_dbm_mean_field_dev(bz_dbm *d, size_t rows, unsigned iters, float tol,
                                unsigned *sweeps);
/* Mean-field posteriors of n host rows: n x (s[1] + .. + s[L]), layers side
 * by side. */
bz_status bz_dbm_transform(bz_dbm *d, const float *x, size_t n, unsigned iters, float tol,
                           float *out);
/* Only layer l's posteriors (n x s[l]). */
bz_status bz_dbm_transform_layer(bz_dbm *d, const float *x, size_t n, unsigned iters, float tol,
                                 size_t l, float *out);

/* One layer-parity Gibbs sweep of the M persistent chains: odd layers given
 * the even ones, then even layers given the odd ones, on the streams of
 * bz_ref_dbm_stream(epoch, batch, step, layer). */
bz_status bz_dbm_gibbs_sweep(bz_dbm *d, size_t M, uint64_t seed, unsigned epoch, size_t batch,
                             unsigned step);

/* ---- training ---- */

/* bz_dbm_train_options, bz_dbm_epoch_stats and bz_dbm_pretrain_cb are
 * public (boltzcl.h). */

/* Greedy pretraining with the modified RBMs (bz_rbm_train_epoch with CD-1):
 * x is n host rows. Then composes the DBM's parameters. */
bz_status bz_dbm_pretrain(bz_dbm *d, const float *x, size_t n, const bz_rbm_train_options *o,
                          unsigned epochs, bz_dbm_pretrain_cb cb, void *user);
/* The same layer by layer (what the trainer drives). Layer l's RBM is
 * pre_visible(l) x pre_hidden(l) (the copies included). */
size_t bz_dbm_pre_visible(const bz_dbm *d, size_t l);
size_t bz_dbm_pre_hidden(const bz_dbm *d, size_t l);
/* Layer l's training rows (n x pre_visible(l), malloc'ed into *in) from the
 * data x and the trained RBMs pre[0..l-1]. */
bz_status bz_dbm_pre_input(bz_dbm *d, bz_rbm *const *pre, size_t l, const float *x, size_t n,
                           float **in);
/* Layer l's RBM, its copies tied, visible biases from its rows in. */
bz_status bz_dbm_pre_create(bz_dbm *d, size_t l, const float *in, size_t n,
                            const bz_rbm_train_options *o, bz_rbm **r);
/* The options layer l trains with. */
void bz_dbm_pre_options(const bz_rbm_train_options *o, size_t l, bz_rbm_train_options *lo);
/* The DBM's parameters from the trained RBMs pre[0..L-1]. */
bz_status bz_dbm_pre_compose(bz_dbm *d, bz_rbm *const *pre);
/* One epoch of joint training. */
bz_status bz_dbm_train_epoch(bz_dbm *d, bz_data *data, const bz_dbm_train_options *o,
                             unsigned epoch, bz_dbm_epoch_stats *stats);
/* One joint step on B host rows (the same code path): for tests. */
bz_status bz_dbm_train_batch(bz_dbm *d, const float *x, size_t B, const bz_dbm_train_options *o,
                             unsigned epoch, size_t batch);

/* ---- evaluation ---- */

/* AIS estimate of log Z (models/ais_layers.h; bz_ais_options as for RBMs);
 * the base-rate model from the host rows base (n_base of them; NULL:
 * uniform). */
bz_status bz_dbm_ais(bz_dbm *d, const float *base, size_t n_base, const bz_ais_options *o,
                     bz_ais_result *out);
/* Reverse AIS (models/ais_layers.h): every run starts from a draw of the
 * mean-field posterior (mf_iters sweeps) of the odd layers given one of the
 * n host rows x, and anneals down to the base model of base (NULL: uniform).
 * Its log Z errs high where the forward estimate errs low, as long as the
 * data-started states are close to the model's distribution. */
bz_status bz_dbm_ais_reverse(bz_dbm *d, const float *x, size_t n, const float *base,
                             size_t n_base, unsigned mf_iters, const bz_ais_options *o,
                             bz_ais_result *out);
/* Exact log Z when one parity of layers has at most 24 units. */
bz_status bz_dbm_exact_log_z(bz_dbm *d, double *log_z);
/* Mean over the n host rows x of the exact log p(v) = log p*(v) - log_z, by
 * enumerating the odd layers (at most BZ_DBM_EXACT_LL_UNITS units). */
#define BZ_DBM_EXACT_LL_UNITS 20
bz_status bz_dbm_exact_mean_log_p(bz_dbm *d, const float *x, size_t n, double log_z,
                                  double *mean);
/* Mean over n rows of the variational bound without log Z:
 * E_q[-E(v, h)] + H(q), with q the mean-field posterior. */
bz_status bz_dbm_mean_bound(bz_dbm *d, const float *x, size_t n, unsigned iters, float tol,
                            double *mean);
/* Gibbs samples: n chains from noise, `steps` layer-parity sweeps, then the
 * visible means (n x s[0]). */
bz_status bz_dbm_sample(bz_dbm *d, size_t n, unsigned steps, uint64_t seed, float *out);

/* ---- classification ---- */

/* The classifier's inputs: [v, mu_2] per row (n x (s[0] + s[2])). */
bz_status bz_dbm_classifier_inputs(bz_dbm *d, const float *x, size_t n, unsigned iters,
                                   float tol, float *out);
/* Builds the classifier from the DBM's weights (K classes) and fine-tunes it
 * with bz_dbn_finetune on the augmented inputs. */
bz_status bz_dbm_finetune(bz_dbm *d, const float *x, const int32_t *labels, size_t n,
                          const float *xv, const int32_t *labels_v, size_t nv, size_t K,
                          unsigned mf_iters, const bz_dbn_sgd *o, bz_dbn_finetune_cb cb,
                          void *user, bz_dbn_finetune_result *res);
/* The same in steps: the classifier initialised from the DBM's weights,
 * and its input rows (n x (s[0] + s[2]), malloc'ed into *rows). */
bz_status bz_dbm_classifier_create(bz_dbm *d, size_t K, uint64_t seed, bz_dbn **net);
bz_status bz_dbm_classifier_rows(bz_dbm *d, const float *x, size_t n, unsigned mf_iters,
                                 float **rows);
/* Class probabilities (n x K). */
bz_status bz_dbm_predict_proba(bz_dbm *d, const float *x, size_t n, unsigned mf_iters,
                               float *prob);

/* ---- files ---- */

bz_status bz_dbm_save(bz_dbm *d, const char *path);
/* Refuses RBM, DBN and other files, and wrong shapes, with BZ_E_FORMAT / BZ_E_SHAPE. */
bz_status bz_dbm_load(bz_context *ctx, const char *path, bz_dbm **out);

/* Mean-field sweeps inference runs: the model's mf_iters metadata (what it
 * was trained with), else 10. */
unsigned bz_dbm_infer_iters(const bz_dbm *d);

#endif
