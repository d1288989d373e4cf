/*
 * Deep belief networks (Hinton, Osindero & Teh 2006): a stack of RBMs
 * pretrained greedily, the top one jointly with softmax label units, and the
 * same stack as a feed-forward classifier fine-tuned by backpropagation.
 *
 * Layer sizes s[0] (inputs), s[1..L] (hidden layers), K classes. The
 * generative stack: rbm[l] is s[l] x s[l+1] for l < L-1, and the top RBM
 * rbm[L-1] has s[L-1] + K visible units (the features below, then a softmax
 * group for the label) and s[L] hidden units. The classifier: weights W[l]
 * of s[l] x s[l+1] for l < L (initialised from the RBMs' weights and hidden
 * biases; the top RBM's label rows are dropped) and a new softmax layer W[L]
 * of s[L] x K. The generative stack is what `sample` uses; it is absent when
 * the network was trained without pretraining.
 */
#ifndef BZ_MODELS_DBN_H
#define BZ_MODELS_DBN_H

#include "models/rbm.h"
#include "ops/ops_dbn.h"

/* BZ_DBN_MAX_LAYERS: boltzcl.h */

struct bz_comm;
struct bz_data;

typedef struct bz_dbn {
    bz_context *ctx;
    size_t L;                          /* hidden layers */
    size_t s[BZ_DBN_MAX_LAYERS + 2];   /* s[0] inputs .. s[L] top, s[L+1] = K */
    size_t K;                          /* classes */
    bz_dbn_act act;
    bz_rbm *rbm[BZ_DBN_MAX_LAYERS];    /* generative stack, or all NULL */
    bool generative;

    /* classifier: W[l] is s[l] x s[l+1], l = 0..L */
    bz_buf W[BZ_DBN_MAX_LAYERS + 1], b[BZ_DBN_MAX_LAYERS + 1];
    bz_buf vW[BZ_DBN_MAX_LAYERS + 1], vb[BZ_DBN_MAX_LAYERS + 1];

    /* work space for `cap` rows: A[l] activations (A[0] the input), D[l]
     * deltas of layer l (D[L+1] at the output), Z logits then probabilities */
    size_t cap;
    bz_buf A[BZ_DBN_MAX_LAYERS + 1], D[BZ_DBN_MAX_LAYERS + 2], Z;
    bz_buf labels, loss, correct;

    bz_meta meta;

    /* the tile-aligned twin that fine-tuning runs on (dbn_pad.c), or NULL */
    struct bz_dbn *padded;
} bz_dbn;

/* sizes: L + 1 entries, inputs first; the classifier starts from Glorot
 * (sigmoid) or He (ReLU) normal weights drawn from seed, zero biases. */
bz_status bz_dbn_create(bz_context *ctx, const size_t *sizes, size_t n_hidden_layers,
                        size_t n_classes, bz_dbn_act act, uint64_t seed, bz_dbn **out);
void bz_dbn_free(bz_dbn *d);

bz_status bz_dbn_set_meta(bz_dbn *d, const char *key, const char *value);
const char *bz_dbn_get_meta(const bz_dbn *d, const char *key);
const char *bz_dbn_act_name(bz_dbn_act act);
/* 0 when the name is known. */
int bz_dbn_act_parse(const char *name, bz_dbn_act *act);

/* ---- pretraining ---- */

/* bz_dbn_pretrain_cb: boltzcl.h */
/* Greedy layer-wise: each RBM on the hidden probabilities (computed on the
 * device) of the one below; the top RBM on those features with the one-hot
 * labels appended. Then copies the weights into the classifier. labels in
 * [0, K). */
bz_status bz_dbn_pretrain(bz_dbn *d, const float *x, const int32_t *labels, size_t n,
                          const bz_rbm_train_options *o, unsigned epochs, bz_dbn_pretrain_cb cb,
                          void *user);

/* Pretraining layer by layer (what the trainer drives; bz_dbn_pretrain runs
 * them in a loop). Before layer 0: checks the labels and drops any earlier
 * stack. */
bz_status bz_dbn_pre_start(bz_dbn *d, const int32_t *labels, size_t n,
                           const bz_rbm_train_options *o);
/* The features layer l trains on (n x s[l], malloc'ed into *feat) from the
 * inputs x through the trained RBMs below it. */
bz_status bz_dbn_pre_features(bz_dbn *d, size_t l, const float *x, size_t n, float **feat);
/* Layer l's training rows: the features, with the one-hot label appended
 * for the top layer (then a new array in *rows, else *rows = feat). */
bz_status bz_dbn_pre_rows(bz_dbn *d, size_t l, const float *feat, const int32_t *labels,
                          size_t n, float **rows);
/* Creates rbm[l] (visible biases from its rows; rank 0's parameters on
 * every rank of comm). */
bz_status bz_dbn_pre_create(bz_dbn *d, size_t l, const float *rows, size_t n,
                            const bz_rbm_train_options *o, struct bz_comm *comm);
/* The options layer l trains with. */
void bz_dbn_pre_options(const bz_rbm_train_options *o, size_t l, bz_rbm_train_options *lo);
/* Copies the trained rbm[l] into the classifier (the stack is generative
 * once the top one is done). */
bz_status bz_dbn_pre_finish(bz_dbn *d, size_t l);

/* ---- fine-tuning ---- */

/* Fine-tuning options, results and the epoch callback are public
 * (bz_dbn_finetune_options etc. in boltzcl.h); inside, the options go by
 * their old name. */
typedef bz_dbn_finetune_options bz_dbn_sgd;
static inline void bz_dbn_sgd_init(bz_dbn_sgd *o)
{
    bz_dbn_finetune_options_init(o);
}

bz_status bz_dbn_finetune(bz_dbn *d, const float *x, const int32_t *labels, size_t n,
                          const float *xv, const int32_t *labels_v, size_t nv,
                          const bz_dbn_sgd *o, bz_dbn_finetune_cb cb, void *user,
                          bz_dbn_finetune_result *res);

/* Fine-tuning epoch by epoch (what the trainer drives; bz_dbn_finetune runs
 * it in a loop). The state between epochs: */
typedef struct bz_dbn_ft {
    struct bz_data *x, *y;
    float *ylab, *prob, *acc;
    size_t acc_n, n, nv;
    float *best_w[BZ_DBN_MAX_LAYERS + 1], *best_b[BZ_DBN_MAX_LAYERS + 1]; /* best epoch's */
    double best;           /* its score (validation accuracy, else training), -1 before */
    unsigned best_epoch;   /* from 1; 0 before */
    unsigned since;        /* epochs since it */
    double train_secs;
    double part_loss, part_hits; /* an interrupted epoch's batches so far */
} bz_dbn_ft;
/* zero_velocities: a new run (velocities start at rest). */
bz_status bz_dbn_ft_begin(bz_dbn *d, const float *x, const int32_t *labels, size_t n, size_t nv,
                          const bz_dbn_sgd *o, bool zero_velocities, bz_dbn_ft **out);
/* Epoch e: its steps (from o->start_batch), validation, the best epoch's
 * snapshot; *stop when patience ran out. BZ_E_INTERRUPTED with
 * *batches_done after a stop request. */
bz_status bz_dbn_ft_epoch(bz_dbn *d, bz_dbn_ft *t, const float *xv, const int32_t *labels_v,
                          const bz_dbn_sgd *o, unsigned e, struct bz_comm *comm,
                          bz_dbn_epoch_info *info, bool *stop, size_t *batches_done);
/* Snapshot storage of the best epoch (for a restored state). */
bz_status bz_dbn_ft_alloc_best(bz_dbn *d, bz_dbn_ft *t);
/* Puts the best epoch's parameters back. */
bz_status bz_dbn_ft_end(bz_dbn *d, bz_dbn_ft *t);
void bz_dbn_ft_free(bz_dbn_ft *t);

/* One SGD step on B host rows (labels as floats), the same code path as
 * fine-tuning; the dropout masks use the streams of (epoch, batch). Adds
 * the batch's summed cross-entropy to *loss when not NULL. */
bz_status bz_dbn_train_batch(bz_dbn *d, const float *x, const float *labels, size_t B,
                             const bz_dbn_sgd *o, unsigned epoch, size_t batch, double *loss);
/* Stream of the dropout mask after hidden layer l (1..L). */
static inline uint64_t bz_dbn_dropout_stream(unsigned epoch, size_t batch, size_t layer)
{
    return bz_rbm_stream(epoch, batch, (unsigned)(128 + layer));
}

/* Shape-aware fine-tuning (dbn_pad.c). The layer sizes sp[0..L] to train at
 * with batch B under the GEMM tiles in force: their multiples when that
 * pays, else the network's own. */
void bz_dbn_pad_plan(const bz_dbn *d, size_t B, const bz_dbn_sgd *o, size_t *sp);
/* Copies the classifier (weights, biases, velocities) into its twin of
 * sizes sp (made or reused, work space for B rows), the extra units inert.
 * *twin stays NULL when the twin does not fit in device memory beside the
 * network: train unpadded then. */
bz_status bz_dbn_pad_enter(bz_dbn *d, const size_t *sp, size_t B, bz_dbn **twin);
/* Copies the twin's classifier back into the network. */
bz_status bz_dbn_pad_leave(bz_dbn *d, const bz_dbn *twin);

/* ---- inference ---- */

/* Class probabilities (n x K) of n rows. */
bz_status bz_dbn_predict_proba(bz_dbn *d, const float *x, size_t n, float *prob);
/* Top hidden layer's activations (n x s[L]). */
bz_status bz_dbn_transform(bz_dbn *d, const float *x, size_t n, float *h);
/* Classifier parameters to/from the host (W[l] row-major, l = 0..L). */
bz_status bz_dbn_get_layer(bz_dbn *d, size_t l, float *w, float *b);
bz_status bz_dbn_set_layer(bz_dbn *d, size_t l, const float *w, const float *b);

/* Class-conditional generation: n chains of Gibbs sampling in the top RBM
 * with the label units clamped to labels[i], `steps` steps from random
 * features, then a mean-field down pass to the inputs (n x s[0]). */
bz_status bz_dbn_generate(bz_dbn *d, const int32_t *labels, size_t n, unsigned steps,
                          uint64_t seed, float *out);

/* Internal: work space for `rows` rows; hidden layers of the B rows in
 * A[0], with dropout of probability p (streams of (epoch, batch)) when p > 0.
 * The rows are rows [row0, row0 + B) of the batch: the dropout masks follow
 * the global row, so a rank holding part of a batch draws what one process
 * would. */
bz_status bz_dbn_reserve(bz_dbn *d, size_t rows);
bz_status bz_dbn_forward_hidden(bz_dbn *d, size_t B, float p, uint64_t seed, unsigned epoch,
                                size_t batch, size_t row0);

/* ---- files ---- */

bz_status bz_dbn_save(bz_dbn *d, const char *path);
/* Refuses RBM files and other files with BZ_E_FORMAT. */
bz_status bz_dbn_load(bz_context *ctx, const char *path, bz_dbn **out);

/* Gives the top RBM r its visible units: features, then a softmax label
 * group of k (a parameter of r's own units). */
void bz_dbn_use_label_units(bz_rbm *r, size_t k);

#endif
