/*
 * Collaborative filtering with a restricted Boltzmann machine over ratings
 * (Salakhutdinov, Mnih and Hinton, ICML 2007). Rows are users (or items,
 * item_based), columns the other side; every row is one RBM over the
 * columns it rated, with a K-way softmax group per rated column and
 * Bernoulli hidden units, the weights shared by all rows. The conditional
 * variant adds a weight matrix D from "the row rated this column" (known
 * even where the rating is not, as for the pairs to predict) to the hidden
 * units.
 *
 * On the device a minibatch of rows is expanded from the sparse ratings
 * (kept on the device, 8 bytes each) into dense masked blocks
 * (kernels/cf.cl), and every product goes through CLBlast; only one
 * minibatch is ever dense, so the data set itself need not fit densely.
 * A missing rating has zero rows in both phases and contributes exactly
 * nothing to the gradient.
 *
 * Prediction of a rating: the expected value of the column's softmax given
 * the row's mean-field hidden activations (from the ratings it has).
 */
#ifndef BZ_MODELS_CF_H
#define BZ_MODELS_CF_H

#include "engine/engine.h"
#include "models/meta.h"

#include <stdbool.h>
#include <stdint.h>

typedef struct bz_cf_config {
    size_t hidden;
    unsigned classes; /* K, at most 15 */
    float lo, step;   /* class k is the rating lo + k * step */
    bool item_based;  /* rows are items */
    bool conditional; /* the D matrix */
} bz_cf_config;

/* Ratings of rows in compressed form: the entries of row r are
 * ent[rowptr[r] .. rowptr[r + 1]), each (column << 4) | (class + 1), or
 * (column << 4) for a column known to be rated with the rating unknown. */
typedef struct bz_cf_set {
    size_t n_rows, nnz;
    uint32_t *rowptr, *ent;
    bz_buf d_rowptr, d_ent;
} bz_cf_set;

typedef struct bz_cf {
    bz_context *ctx;
    bz_cf_config cfg;
    size_t n_users, n_items, n_rows, n_cols, F, H, K;
    uint32_t *user_ids, *item_ids; /* the file's ids, sorted: dense index = position */
    /* the training ratings in dense indexes (the model predicts from them) */
    size_t n_ratings;
    uint32_t *r_user, *r_item;
    uint8_t *r_cls;
    /* parameters: W [F x H], vb [F], hb [H], D [n_cols x H]; velocities */
    bz_buf W, vb, hb, D, vW, vvb, vhb, vD;
    bz_meta meta;
    /* device program and work space for up to `cap` rows */
    cl_program prog;
    cl_kernel k_expand, k_hidden, k_visible, k_update, k_colsum;
    size_t cap;
    bz_buf V, M, Mc, L, X, P, S, Hn, rows, gW, gvb, ghb, gD, E;
} bz_cf;

/* A model for the given ids (sorted, distinct) and training ratings (dense
 * indexes, classes below cfg.classes), initialised from seed: small random
 * weights, visible biases from each column's class frequencies. */
bz_status bz_cf_create(bz_context *ctx, const bz_cf_config *cfg, const uint32_t *user_ids,
                       size_t n_users, const uint32_t *item_ids, size_t n_items,
                       const uint32_t *r_user, const uint32_t *r_item, const uint8_t *r_cls,
                       size_t n_ratings, uint64_t seed, bz_cf **out);
void bz_cf_free(bz_cf *cf);

/* Row and column of a (user, item) pair. */
static inline uint32_t bz_cf_row(const bz_cf *cf, uint32_t u, uint32_t i)
{
    return cf->cfg.item_based ? i : u;
}
static inline uint32_t bz_cf_col(const bz_cf *cf, uint32_t u, uint32_t i)
{
    return cf->cfg.item_based ? u : i;
}

/* The model's training ratings by row, on the device, plus the extra pairs
 * (dense indexes) as "rated, rating unknown" when the model is conditional
 * (ignored otherwise). */
bz_status bz_cf_set_make(bz_cf *cf, const uint32_t *extra_u, const uint32_t *extra_i,
                         size_t n_extra, bz_cf_set *out);
void bz_cf_set_free(bz_cf_set *s);

typedef struct bz_cf_train_opts {
    size_t batch;
    float learning_rate, momentum_initial, momentum_final, weight_decay;
    float lr_decay; /* epoch e runs at learning_rate / (1 + lr_decay * e) */
    unsigned momentum_epochs;
    unsigned k_start, k_max, k_every; /* CD-T: T = min(k_max, k_start + epoch / k_every) */
    bool mean_field;                  /* probabilities instead of samples in the Gibbs chain */
    uint64_t seed;
    /* trainer's: batches to skip, stop flag, per-batch callback */
    size_t start_batch;
    volatile int *stop;
    void (*progress)(void *user, size_t done, size_t total);
    void *progress_user;
} bz_cf_train_opts;

void bz_cf_train_opts_init(bz_cf_train_opts *o);
/* The number of Gibbs steps of epoch e. */
unsigned bz_cf_cd_steps(const bz_cf_train_opts *o, unsigned epoch);

/* One epoch over the rows of set, in an order fixed by seed and epoch;
 * BZ_E_INTERRUPTED with *done batches when stopped. */
bz_status bz_cf_train_epoch(bz_cf *cf, const bz_cf_set *set, const bz_cf_train_opts *o,
                            unsigned epoch, size_t *done, double *seconds);

/* The gradient statistics of one minibatch (rows of set) after T Gibbs
 * steps, before any scaling: gW [F x H], gvb [F], ghb [H], gD [n_cols x H]
 * (NULL when not conditional). sample false: mean-field chain. */
bz_status bz_cf_batch_grad(bz_cf *cf, const bz_cf_set *set, const uint32_t *rows, size_t n,
                           unsigned T, bool sample, uint64_t seed, uint64_t stream, float *gW,
                           float *gvb, float *ghb, float *gD);

/* Expected ratings of every column for the given rows [n x n_cols]. */
bz_status bz_cf_predict_rows(bz_cf *cf, const bz_cf_set *set, const uint32_t *rows, size_t n,
                             float *E);
/* Predicted ratings of n (user, item) pairs in dense indexes. */
bz_status bz_cf_predict(bz_cf *cf, const bz_cf_set *set, const uint32_t *u, const uint32_t *i,
                        size_t n, float *out);
/* RMSE and MAE of the predictions against the ratings lo + step * cls. */
bz_status bz_cf_score(bz_cf *cf, const bz_cf_set *set, const uint32_t *u, const uint32_t *i,
                      const uint8_t *cls, size_t n, double *rmse, double *mae);

/* The mean of the model's training ratings (what ids it lacks are
 * given); lo without ratings. */
float bz_cf_mean_rating(const bz_cf *cf);

/* Parameters to and from the host (tests, files). D may be NULL when not
 * conditional. */
bz_status bz_cf_get_params(bz_cf *cf, float *W, float *vb, float *hb, float *D);
bz_status bz_cf_set_params(bz_cf *cf, const float *W, const float *vb, const float *hb,
                           const float *D);

/* Files (cf_kind.c). */
bz_status bz_cf_save(bz_cf *cf, const char *path);
bz_status bz_cf_load(bz_context *ctx, const char *path, bz_cf **out);

#endif
