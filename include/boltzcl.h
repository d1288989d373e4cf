/*
 * boltzcl: Boltzmann machines (RBM, DBN, DBM) on any OpenCL device.
 *
 * One public header. Handles are opaque and come in create/free pairs; every
 * function that can fail returns a bz_status. The numeric values of bz_status
 * are pinned: they never change between releases, so they may be stored or
 * compared across versions. A context keeps a detailed message for the last
 * failure (which OpenCL call, its CL_* name, the head of a build log, the
 * CLBlast status), read with bz_last_error().
 *
 * Every model kind (RBM, DBN, DBM, and kinds added later) is reached through
 * one generic handle, bz_model: load any boltzcl file, ask its kind and
 * sizes, and transform, sample, reconstruct, score and classify through it;
 * an operation a kind lacks returns BZ_E_UNSUPPORTED naming the kind. Kinds
 * are listed by bz_model_kind_iterate. Typed handles (bz_rbm, bz_dbn,
 * bz_dbm, bz_cf) create and train each kind and convert into a bz_model.
 *
 * Data: a bz_dataset holds rows of floats and optional labels read from IDX,
 * CSV, the named Fashion-MNIST splits, or caller memory. Models take rows as
 * they were prepared for training (the metadata preprocess_* says how).
 *
 * Status-returning functions are BZ_NODISCARD: ignoring a failure is a
 * compile-time warning.
 */
#ifndef BOLTZCL_H
#define BOLTZCL_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(_WIN32)
#define BZ_API __declspec(dllexport)
#elif defined(__GNUC__)
#define BZ_API __attribute__((visibility("default")))
#else
#define BZ_API
#endif

/* Marks functions whose status must be checked. */
#if defined(__GNUC__) || defined(__clang__)
#define BZ_NODISCARD __attribute__((warn_unused_result))
#else
#define BZ_NODISCARD
#endif

#define BOLTZCL_VERSION_MAJOR 0
#define BOLTZCL_VERSION_MINOR 1
#define BOLTZCL_VERSION_PATCH 0
#define BOLTZCL_VERSION_STRING "0.1.0"
#define BOLTZCL_VERSION_NUMBER \
    (BOLTZCL_VERSION_MAJOR * 10000 + BOLTZCL_VERSION_MINOR * 100 + BOLTZCL_VERSION_PATCH)

/* ABI version: the soname's number (libboltzcl.so.1). It changes when a
 * function, a struct layout or a pinned value of this header changes
 * incompatibly; additions keep it. */
#define BOLTZCL_ABI_VERSION 1

/* Version of the library actually linked (may differ from the header's). */
BZ_API unsigned bz_version_number(void);
BZ_API const char *bz_version_string(void);
/* ABI version of the library actually linked: a program built against
 * BOLTZCL_ABI_VERSION should refuse to run when they differ. */
BZ_API unsigned bz_abi_version(void);

/* Status codes. Pinned values: append only, never renumber. */
typedef enum bz_status {
    BZ_OK = 0,
    BZ_E_INVALID_ARG = 1,  /* a caller's argument is out of range or NULL */
    BZ_E_NO_PLATFORM = 2,  /* no OpenCL platform installed at all */
    BZ_E_NO_DEVICE = 3,    /* no device matches the selection */
    BZ_E_OPENCL = 4,       /* an OpenCL call failed */
    BZ_E_BUILD = 5,        /* a kernel program failed to compile */
    BZ_E_BLAS = 6,         /* a CLBlast call failed */
    BZ_E_NOMEM = 7,        /* host memory exhausted */
    BZ_E_DEVICE_MEM = 8,   /* device memory exhausted or allocation too large */
    BZ_E_IO = 9,           /* a file could not be opened, read or written */
    BZ_E_FORMAT = 10,      /* a file's contents are corrupt or not what we expect */
    BZ_E_SHAPE = 11,       /* tensor shapes do not fit together */
    BZ_E_SELFTEST = 12,    /* the device failed its known-answer self-test */
    BZ_E_DIVERGED = 13,    /* training produced NaN or Inf */
    BZ_E_UNSUPPORTED = 14, /* valid request this build or device cannot serve */
    BZ_E_INTERRUPTED = 15, /* stopped on request (SIGINT) */
    BZ_E_INTERNAL = 16     /* a bug in boltzcl: please report it */
} bz_status;

/* Short static description of a status code; never NULL. */
BZ_API const char *bz_strerror(int status);

/* Log levels for the callback. */
enum { BZ_LOG_ERROR = 0, BZ_LOG_WARN = 1, BZ_LOG_INFO = 2, BZ_LOG_DEBUG = 3 };
typedef void (*bz_log_fn)(void *user, int level, const char *message);

typedef struct bz_context bz_context;

typedef struct bz_context_options {
    /* Device selection: NULL means $BOLTZCL_DEVICE, else automatic (a GPU if
     * any, otherwise the CPU). Forms: "P:D" (platform and device index),
     * "gpu", "cpu", or a case-insensitive substring of the device name. */
    const char *device;
    bz_log_fn log;          /* NULL: messages at or below log_level go to stderr */
    void *log_user;
    int log_level;          /* BZ_LOG_WARN by default */
    int skip_selftest;      /* 1: do not run the known-answer self-test */
    /* Compiled-kernel binary cache: -1 automatic (on for GPU drivers, off on
     * POCL, which caches by itself), 0 off, 1 on. */
    int binary_cache;
    const char *cache_dir;  /* NULL: $XDG_CACHE_HOME/boltzcl or ~/.cache/boltzcl */
    const char *kernel_dir; /* NULL: $BOLTZCL_KERNEL_DIR, else the embedded sources */
    const char *tuning_file;/* NULL: the usual search path (see README) */
} bz_context_options;

BZ_API void bz_context_options_init(bz_context_options *opts);

/*
 * Creates a context on the selected device. As with sqlite3_open, *out is set
 * to a handle even on failure (unless host memory ran out), so that
 * bz_last_error() can explain what went wrong; free it with
 * bz_context_free() either way.
 */
BZ_API BZ_NODISCARD bz_status bz_context_create(const bz_context_options *opts, bz_context **out);
BZ_API void bz_context_free(bz_context *ctx);

/* Detailed message of the last failure on this context; "" when none. */
BZ_API const char *bz_last_error(const bz_context *ctx);

/* Name and driver of the device in use. */
BZ_API const char *bz_device_name(const bz_context *ctx);
BZ_API const char *bz_device_driver(const bz_context *ctx);

/* Blocks until everything queued on the context has finished. */
BZ_API BZ_NODISCARD bz_status bz_finish(bz_context *ctx);

/* ------------------------------------------------------------------------- */
/* Restricted Boltzmann machines                                             */
/* ------------------------------------------------------------------------- */

typedef struct bz_rbm bz_rbm;

typedef enum bz_unit_type {
    BZ_UNIT_BERNOULLI = 0,
    BZ_UNIT_GAUSSIAN = 1 /* real-valued, unit variance */
} bz_unit_type;

/* Creates an RBM with W ~ N(0, 0.01^2) drawn from `seed`, zero biases. */
BZ_API BZ_NODISCARD bz_status bz_rbm_create(bz_context *ctx, size_t n_visible, size_t n_hidden,
                               bz_unit_type visible, uint64_t seed, bz_rbm **out);
BZ_API void bz_rbm_free(bz_rbm *rbm);
BZ_API size_t bz_rbm_n_visible(const bz_rbm *rbm);
BZ_API size_t bz_rbm_n_hidden(const bz_rbm *rbm);
BZ_API bz_unit_type bz_rbm_visible_type(const bz_rbm *rbm);

/* Host copies of the parameters: W is n_visible x n_hidden, row-major. Any
 * pointer may be NULL to skip it. */
BZ_API BZ_NODISCARD bz_status bz_rbm_get_params(bz_rbm *rbm, float *w, float *vbias, float *hbias);
BZ_API BZ_NODISCARD bz_status bz_rbm_set_params(bz_rbm *rbm, const float *w, const float *vbias,
                                   const float *hbias);
/* Sets the visible biases to log(p / (1 - p)) of the data's means (clamped to
 * [0.001, 0.999]), as Hinton's practical guide recommends; for Gaussian
 * visible units, to the data's means. */
BZ_API BZ_NODISCARD bz_status bz_rbm_init_visible_bias(bz_rbm *rbm, const float *x, size_t n);

/* Hidden probabilities P(h=1|v) for n rows of v (n x n_visible) into h
 * (n x n_hidden). */
BZ_API BZ_NODISCARD bz_status bz_rbm_transform(bz_rbm *rbm, const float *v, size_t n, float *h);
/* Mean-field reconstruction E[v | P(h|v)] of n rows. */
BZ_API BZ_NODISCARD bz_status bz_rbm_reconstruct(bz_rbm *rbm, const float *v, size_t n, float *out);
/* Free energy F(v) of each of n rows. */
BZ_API BZ_NODISCARD bz_status bz_rbm_free_energy(bz_rbm *rbm, const float *v, size_t n, float *f);
/* Runs n Gibbs chains for `steps` steps from v_init (n rows), or from
 * uniform noise when v_init is NULL; writes the visible means of the last
 * step. Deterministic for a seed. */
BZ_API BZ_NODISCARD bz_status bz_rbm_sample(bz_rbm *rbm, const float *v_init, size_t n, unsigned steps,
                               uint64_t seed, float *out);

/* ---- data on the device ---- */

/* A dataset of n rows of `dim` floats for training and evaluation. Kept on
 * the device when it fits, otherwise streamed from `x` batch by batch (then
 * x must stay valid until bz_data_free). */
typedef struct bz_data bz_data;
BZ_API BZ_NODISCARD bz_status bz_data_create(bz_context *ctx, const float *x, size_t n, size_t dim,
                                bz_data **out);
BZ_API void bz_data_free(bz_data *data);
BZ_API size_t bz_data_rows(const bz_data *data);
BZ_API int bz_data_on_device(const bz_data *data);

/* ---- training ---- */

typedef struct bz_rbm_train_options {
    size_t batch_size;       /* 100 */
    unsigned k;              /* Gibbs steps of CD-k / PCD-k: 1 */
    int pcd;                 /* 1: persistent chains, as many as the batch size */
    float learning_rate;     /* 0.05 (0.001 suits Gaussian visible units) */
    float momentum_initial;  /* 0.5 ... */
    float momentum_final;    /* ... then 0.9 ... */
    unsigned momentum_epochs;/* ... from this epoch on: 5 */
    float weight_decay;      /* L2 on W: 2e-4 */
    float sparsity_target;   /* 0: off */
    float sparsity_cost;     /* 0.01 when a target is set */
    float lr_decay;          /* lr / (1 + lr_decay * epoch): 0 */
    int stochastic_binarize; /* 1: resample each batch as Bernoulli(pixel) */
    uint64_t seed;           /* shuffling and sampling: 1 */
    /* Called after each batch is queued (host side; does not wait). */
    void (*progress)(void *user, size_t batches_done, size_t batches_total);
    void *progress_user;
    /* When *stop becomes non-zero the epoch ends after the current batch with
     * BZ_E_INTERRUPTED; stats->batches_done says where to resume. */
    volatile int *stop;
    size_t start_batch;      /* resume inside an epoch: skip this many batches */
    /* 1: train at the model's own sizes. By default a model trains on a copy
     * padded to the tuned GEMM tiles when that makes the products faster
     * (README, "Tile-aligned training"); the same training, drawn from other
     * random streams. */
    int no_padding;
} bz_rbm_train_options;

BZ_API void bz_rbm_train_options_init(bz_rbm_train_options *opts);

typedef struct bz_rbm_epoch_stats {
    double recon_mse; /* mean squared reconstruction error of the CD steps */
    double seconds;
    double samples_per_s;
    size_t samples;
    size_t batches_done; /* batches of this epoch completed, start_batch included */
} bz_rbm_epoch_stats;

/* One epoch (epoch counts from 0; it keys the shuffle, the random streams
 * and the schedules, so resuming at epoch e reproduces an uninterrupted run).
 * Returns BZ_E_DIVERGED when the parameters stop being finite (checked once
 * per epoch); the model is then unusable, so save nothing and fall back to
 * the last checkpoint. */
BZ_API BZ_NODISCARD bz_status bz_rbm_train_epoch(bz_rbm *rbm, bz_data *data, const bz_rbm_train_options *opts,
                                    unsigned epoch, bz_rbm_epoch_stats *stats);

/* ---- evaluation ---- */

/* Mean squared error of the mean-field reconstruction, per entry. */
BZ_API BZ_NODISCARD bz_status bz_rbm_reconstruction_error(bz_rbm *rbm, bz_data *data, double *mse);
/* Mean free energy of the rows. */
BZ_API BZ_NODISCARD bz_status bz_rbm_mean_free_energy(bz_rbm *rbm, bz_data *data, double *mean);
/* Pseudo-log-likelihood as scikit-learn's BernoulliRBM.score_samples
 * computes it (one random entry flipped per row), averaged over rows. */
BZ_API BZ_NODISCARD bz_status bz_rbm_pseudo_log_likelihood(bz_rbm *rbm, bz_data *data, uint64_t seed,
                                              double *mean);

typedef struct bz_ais_options {
    unsigned runs;  /* independent annealing runs: 100 */
    unsigned betas; /* intermediate distributions: 10000 */
    uint64_t seed;
    /* a collapsed Gibbs sweep over the hidden units every this many
     * temperatures (each unit given the others, the visible units summed
     * out; about ten times a Gibbs step's arithmetic): 0, none */
    unsigned collapsed_every;
    /* a mode-hopping move every this many temperatures when data are
     * given (a Metropolis-Hastings step proposing states from the data's
     * posteriors, which lets a run cross between the model's modes): 10;
     * 0, none */
    unsigned hop_every;
    /* base model uniform even when data are given (they then serve only
     * the mode-hopping proposals): 0 */
    int uniform_base;
} bz_ais_options;
BZ_API void bz_ais_options_init(bz_ais_options *opts);

typedef struct bz_ais_result {
    double log_z;    /* estimate of log Z */
    double log_z_sd; /* standard deviation of the estimate (delta method) */
    /* log(mean w -+ 3 sd(mean w)) + log Z_A; -inf (reverse: +inf) when the
     * weights are too spread for a lower end */
    double log_z_lo, log_z_hi;
} bz_ais_result;

/* Annealed importance sampling (Salakhutdinov & Murray 2008) from the
 * base-rate model fitted to `base` (NULL: uniform) over the hidden units,
 * the visible ones summed out. Bernoulli visible only. */
BZ_API BZ_NODISCARD bz_status bz_rbm_ais(bz_rbm *rbm, bz_data *base, const bz_ais_options *opts,
                            bz_ais_result *out);
/* Reverse AIS: every run starts from an exact draw of p(h | v) for a row of
 * `data` (host rows) and anneals down to the base model of `base`. Its log Z
 * errs high where the forward estimate errs low, as long as those states
 * are close to the model's distribution. */
BZ_API BZ_NODISCARD bz_status bz_rbm_ais_reverse(bz_rbm *rbm, bz_data *data, bz_data *base,
                                    const bz_ais_options *opts, bz_ais_result *out);
/* Exact log Z by enumerating the smaller layer (at most 24 units). */
BZ_API BZ_NODISCARD bz_status bz_rbm_exact_log_z(bz_rbm *rbm, double *log_z);

/* ---- files ---- */

/* Saves as safetensors (tensors W, vbias, hbias; metadata naming the model,
 * unit types and boltzcl version), atomically: a crash leaves the old file. */
BZ_API BZ_NODISCARD bz_status bz_rbm_save(bz_rbm *rbm, const char *path);
/* Loads a model saved by bz_rbm_save; refuses other files with BZ_E_FORMAT. */
BZ_API BZ_NODISCARD bz_status bz_rbm_load(bz_context *ctx, const char *path, bz_rbm **out);

/* Per-feature standardisation the model was trained with (Gaussian visible
 * units): new data is mapped x -> (x - mean) / std before the model sees it.
 * set copies n_visible floats of each; get copies them out and returns 1, or
 * returns 0 when the model has none. */
BZ_API BZ_NODISCARD bz_status bz_rbm_set_standardization(bz_rbm *rbm, const float *mean,
                                                         const float *std);
BZ_API int bz_rbm_get_standardization(const bz_rbm *rbm, float *mean, float *std);
/* Free-form string metadata saved with the model (copied; at most 32
 * entries); get returns NULL when absent. */
BZ_API BZ_NODISCARD bz_status bz_rbm_set_meta(bz_rbm *rbm, const char *key, const char *value);
BZ_API const char *bz_rbm_get_meta(const bz_rbm *rbm, const char *key);

/* ------------------------------------------------------------------------- */
/* Deep belief networks                                                      */
/* ------------------------------------------------------------------------- */

/* Layer sizes s[0] (inputs) .. s[L] (top hidden layer) and K classes: a
 * stack of RBMs pretrained greedily (the top one with K softmax label units)
 * and the same stack as a feed-forward classifier with a softmax layer,
 * fine-tuned by backpropagation. */
typedef struct bz_dbn bz_dbn;

typedef enum bz_dbn_act { BZ_ACT_SIGMOID = 0, BZ_ACT_RELU = 1 } bz_dbn_act;

#define BZ_DBN_MAX_LAYERS 8

/* sizes: n_hidden_layers + 1 entries, inputs first (n_hidden_layers 1 to
 * BZ_DBN_MAX_LAYERS); n_classes 2 to 4096. The classifier starts from
 * Glorot (sigmoid) or He (ReLU) normal weights drawn from seed. */
BZ_API BZ_NODISCARD bz_status bz_dbn_create(bz_context *ctx, const size_t *sizes,
                                            size_t n_hidden_layers, size_t n_classes,
                                            bz_dbn_act act, uint64_t seed, bz_dbn **out);
BZ_API void bz_dbn_free(bz_dbn *dbn);
/* Metadata saved with the network (copied); get returns NULL when absent. */
BZ_API BZ_NODISCARD bz_status bz_dbn_set_meta(bz_dbn *dbn, const char *key, const char *value);
BZ_API const char *bz_dbn_get_meta(const bz_dbn *dbn, const char *key);
/* "sigmoid" / "relu"; parse returns 0 when the name is known. */
BZ_API const char *bz_dbn_act_name(bz_dbn_act act);
BZ_API int bz_dbn_act_parse(const char *name, bz_dbn_act *act);

/* Called after each pretraining epoch of layer `layer` (from 0). */
typedef void (*bz_dbn_pretrain_cb)(void *user, size_t layer, unsigned epoch,
                                   const bz_rbm_epoch_stats *st);
/* Greedy layer-wise pretraining on n host rows x (n x s[0]) with labels in
 * [0, K): each RBM for `epochs` epochs with options o (NULL: defaults). The
 * top RBM learns the labels as a softmax group; the weights then initialise
 * the classifier. */
BZ_API BZ_NODISCARD bz_status bz_dbn_pretrain(bz_dbn *dbn, const float *x,
                                              const int32_t *labels, size_t n,
                                              const bz_rbm_train_options *o, unsigned epochs,
                                              bz_dbn_pretrain_cb cb, void *user);

typedef struct bz_dbn_finetune_options {
    size_t batch_size;   /* 32 */
    float learning_rate; /* 0.1 */
    float lr_decay;      /* epoch e (from 0) steps with learning_rate / (1 + lr_decay e): 0 */
    float momentum;      /* 0.9 */
    float weight_decay;  /* 0 */
    float dropout;       /* on hidden activations: 0 */
    unsigned epochs;     /* 100 */
    unsigned patience;   /* stop after this many epochs without a better validation
                            accuracy; 0: never (the best epoch is kept either way): 10 */
    uint64_t seed;       /* 1 */
    int no_padding;      /* 1: run at the network's own sizes, not padded to the GEMM
                            tiles: 0 */
    /* As in bz_rbm_train_options (one process only): per-batch progress, the
     * stop flag (the epoch ends after the current batch with
     * BZ_E_INTERRUPTED), resuming inside an epoch. */
    void (*progress)(void *user, size_t batches_done, size_t batches_total);
    void *progress_user;
    volatile int *stop;
    size_t start_batch;
} bz_dbn_finetune_options;
BZ_API void bz_dbn_finetune_options_init(bz_dbn_finetune_options *o);

typedef struct bz_dbn_epoch_info {
    unsigned epoch;
    double loss, train_accuracy, val_accuracy; /* val NaN without validation data */
    double seconds; /* of the training pass, validation excluded */
} bz_dbn_epoch_info;
typedef void (*bz_dbn_finetune_cb)(void *user, const bz_dbn_epoch_info *e);

typedef struct bz_dbn_finetune_result {
    unsigned epochs_run, best_epoch; /* best_epoch from 1 */
    double best_val_accuracy;        /* NaN without validation data */
    double seconds;                  /* all of it, validation included */
    double seconds_per_epoch;        /* training passes only */
} bz_dbn_finetune_result;

/* Fine-tunes the classifier by minibatch SGD on cross-entropy over n rows
 * (labels in [0, K)); with nv validation rows (xv may be NULL when nv is 0)
 * the epoch of best validation accuracy is kept and early stopping applies,
 * without them the epoch of best training accuracy. cb and res may be NULL. */
BZ_API BZ_NODISCARD bz_status bz_dbn_finetune(bz_dbn *dbn, const float *x,
                                              const int32_t *labels, size_t n, const float *xv,
                                              const int32_t *labels_v, size_t nv,
                                              const bz_dbn_finetune_options *o,
                                              bz_dbn_finetune_cb cb, void *user,
                                              bz_dbn_finetune_result *res);
/* Class probabilities (n x K) of n rows. */
BZ_API BZ_NODISCARD bz_status bz_dbn_predict_proba(bz_dbn *dbn, const float *x, size_t n,
                                                   float *prob);
/* Top hidden layer's activations (n x s[L]). */
BZ_API BZ_NODISCARD bz_status bz_dbn_transform(bz_dbn *dbn, const float *x, size_t n,
                                               float *h);
/* The classifier's layer l (0..L; L is the softmax layer): W is s[l] x
 * s[l+1] row-major (s[L+1] = K), b has s[l+1] entries; NULL skips. */
BZ_API BZ_NODISCARD bz_status bz_dbn_get_layer(bz_dbn *dbn, size_t l, float *w, float *b);
BZ_API BZ_NODISCARD bz_status bz_dbn_set_layer(bz_dbn *dbn, size_t l, const float *w,
                                               const float *b);
/* Class-conditional samples (n x s[0]): Gibbs sampling in the top RBM with
 * the label units clamped to labels[i] for `steps` steps, then a mean-field
 * down pass. Needs a pretrained network (BZ_E_UNSUPPORTED otherwise). */
BZ_API BZ_NODISCARD bz_status bz_dbn_generate(bz_dbn *dbn, const int32_t *labels, size_t n,
                                              unsigned steps, uint64_t seed, float *out);
/* Saves as safetensors, atomically. */
BZ_API BZ_NODISCARD bz_status bz_dbn_save(bz_dbn *dbn, const char *path);
/* Loads a DBN file; refuses other files with BZ_E_FORMAT. */
BZ_API BZ_NODISCARD bz_status bz_dbn_load(bz_context *ctx, const char *path, bz_dbn **out);

/* ------------------------------------------------------------------------- */
/* Deep Boltzmann machines                                                   */
/* ------------------------------------------------------------------------- */

/* Binary units in layers v, h1 .. hL (L = 2 or 3), each connected to its
 * neighbours (Salakhutdinov & Hinton 2009). */
typedef struct bz_dbm bz_dbm;

/* sizes: n_hidden_layers + 1 entries, visible first; W ~ N(0, 0.01^2). */
BZ_API BZ_NODISCARD bz_status bz_dbm_create(bz_context *ctx, const size_t *sizes,
                                            size_t n_hidden_layers, uint64_t seed,
                                            bz_dbm **out);
BZ_API void bz_dbm_free(bz_dbm *dbm);
BZ_API BZ_NODISCARD bz_status bz_dbm_set_meta(bz_dbm *dbm, const char *key, const char *value);
BZ_API const char *bz_dbm_get_meta(const bz_dbm *dbm, const char *key);
/* W_l (s[l] x s[l+1], l < L) and b_l (l <= L) to or from the host; NULL skips. */
BZ_API BZ_NODISCARD bz_status bz_dbm_get_layer(bz_dbm *dbm, size_t l, float *w, float *b);
BZ_API BZ_NODISCARD bz_status bz_dbm_set_layer(bz_dbm *dbm, size_t l, const float *w,
                                               const float *b);

typedef struct bz_dbm_train_options {
    size_t batch_size;      /* 100 */
    size_t chains;          /* persistent chains: 100 */
    unsigned mf_iters;      /* mean-field sweeps at most: 10 */
    float mf_tol;           /* ... or until no mean moves by more: 1e-4 */
    unsigned gibbs_steps;   /* layer-parity sweeps per update: 5 */
    float learning_rate;    /* 0.001 */
    float lr_decay;         /* lr / (1 + lr_decay * epoch): 0.1 */
    float momentum_initial, momentum_final; /* 0.5, then 0.9 ... */
    unsigned momentum_epochs;               /* ... from this epoch: 5 */
    float weight_decay;     /* 2e-4 */
    uint64_t seed;          /* 1 */
    /* As in bz_rbm_train_options: per-batch progress, the stop flag (the
     * epoch ends after the current batch with BZ_E_INTERRUPTED), resuming
     * inside an epoch. */
    void (*progress)(void *user, size_t batches_done, size_t batches_total);
    void *progress_user;
    volatile int *stop;
    size_t start_batch;
} bz_dbm_train_options;
BZ_API void bz_dbm_train_options_init(bz_dbm_train_options *o);

typedef struct bz_dbm_epoch_stats {
    double seconds, mean_sweeps; /* mean-field sweeps per batch */
    size_t samples;
    size_t batches_done; /* start_batch included */
} bz_dbm_epoch_stats;

typedef void (*bz_dbm_pretrain_cb)(void *user, size_t layer, unsigned epoch,
                                   const bz_rbm_epoch_stats *st);
/* Greedy pretraining of the paper's modified RBMs (CD-1 with options o, NULL
 * for defaults) on n host rows, `epochs` epochs each, then composes the
 * DBM's parameters. */
BZ_API BZ_NODISCARD bz_status bz_dbm_pretrain(bz_dbm *dbm, const float *x, size_t n,
                                              const bz_rbm_train_options *o, unsigned epochs,
                                              bz_dbm_pretrain_cb cb, void *user);
/* One epoch of joint training (mean-field data term, persistent Gibbs
 * chains for the model term); epoch counts from 0. */
BZ_API BZ_NODISCARD bz_status bz_dbm_train_epoch(bz_dbm *dbm, bz_data *data,
                                                 const bz_dbm_train_options *o, unsigned epoch,
                                                 bz_dbm_epoch_stats *stats);
/* Mean-field posteriors of n rows, hidden layers side by side (n x (s[1] +
 * .. + s[L])), at most `iters` sweeps or until no mean moves by more than
 * tol. */
BZ_API BZ_NODISCARD bz_status bz_dbm_transform(bz_dbm *dbm, const float *x, size_t n,
                                               unsigned iters, float tol, float *out);
/* n samples (n x s[0]): chains from noise, `steps` layer-parity sweeps. */
BZ_API BZ_NODISCARD bz_status bz_dbm_sample(bz_dbm *dbm, size_t n, unsigned steps,
                                            uint64_t seed, float *out);
/* Mean over n rows of the variational bound on log p(v) without log Z. */
BZ_API BZ_NODISCARD bz_status bz_dbm_mean_bound(bz_dbm *dbm, const float *x, size_t n,
                                                unsigned iters, float tol, double *mean);
/* AIS estimate of log Z from the base-rate model of n_base host rows (NULL:
 * uniform); exact log Z when one parity of layers has at most 24 units. */
BZ_API BZ_NODISCARD bz_status bz_dbm_ais(bz_dbm *dbm, const float *base, size_t n_base,
                                         const bz_ais_options *o, bz_ais_result *out);
BZ_API BZ_NODISCARD bz_status bz_dbm_exact_log_z(bz_dbm *dbm, double *log_z);
/* Builds a classifier from the DBM's weights for K classes, on the inputs
 * [v, q(h2)], and fine-tunes it as bz_dbn_finetune does. */
BZ_API BZ_NODISCARD bz_status bz_dbm_finetune(bz_dbm *dbm, const float *x,
                                              const int32_t *labels, size_t n, const float *xv,
                                              const int32_t *labels_v, size_t nv, size_t K,
                                              unsigned mf_iters,
                                              const bz_dbn_finetune_options *o,
                                              bz_dbn_finetune_cb cb, void *user,
                                              bz_dbn_finetune_result *res);
/* Class probabilities (n x K) through the fine-tuned classifier. */
BZ_API BZ_NODISCARD bz_status bz_dbm_predict_proba(bz_dbm *dbm, const float *x, size_t n,
                                                   unsigned mf_iters, float *prob);
BZ_API BZ_NODISCARD bz_status bz_dbm_save(bz_dbm *dbm, const char *path);
/* Loads a DBM file; refuses other files with BZ_E_FORMAT. */
BZ_API BZ_NODISCARD bz_status bz_dbm_load(bz_context *ctx, const char *path, bz_dbm **out);

/* ------------------------------------------------------------------------- */
/* Any model kind                                                            */
/* ------------------------------------------------------------------------- */

/* A model kind's descriptor (static; never freed). */
typedef struct bz_model_kind bz_model_kind;

/* Iterates the kinds this library knows, as av_codec_iterate does: start
 * with *opaque = NULL; returns NULL after the last. */
BZ_API const bz_model_kind *bz_model_kind_iterate(void **opaque);
/* The kind whose files say model=name ("rbm", "dbn", "dbm"); NULL if none. */
BZ_API const bz_model_kind *bz_model_kind_by_name(const char *name);
/* Its file name ("rbm") and a description ("restricted Boltzmann machine"). */
BZ_API const char *bz_model_kind_name(const bz_model_kind *kind);
BZ_API const char *bz_model_kind_description(const bz_model_kind *kind);

/* The kind of the model in a boltzcl file, read from its header alone (the
 * tensors are not loaded); NULL when the file cannot be read, is not a
 * boltzcl model or holds a kind this library does not know. */
BZ_API const bz_model_kind *bz_model_kind_of_file(const char *path);

/* Operations, as bits of bz_model_kind_ops. Pinned values. */
enum {
    BZ_OP_TRANSFORM = 1 << 0,
    BZ_OP_RECONSTRUCT = 1 << 1,
    BZ_OP_SAMPLE = 1 << 2,
    BZ_OP_FREE_ENERGY = 1 << 3,
    BZ_OP_SCORE = 1 << 4,
    BZ_OP_LOG_Z = 1 << 5,
    BZ_OP_PREDICT = 1 << 6
};
/* The operations the kind has (a model may still refuse one it lacks the
 * parts for, e.g. a DBM without a classifier). */
BZ_API unsigned bz_model_kind_ops(const bz_model_kind *kind);

typedef struct bz_model bz_model;
typedef struct bz_cf bz_cf; /* a ratings RBM (collaborative filtering, below) */

/* Loads any boltzcl model file. Refuses files that are not boltzcl models,
 * of unknown kinds, damaged or holding non-finite numbers (BZ_E_FORMAT). */
BZ_API BZ_NODISCARD bz_status bz_model_load(bz_context *ctx, const char *path, bz_model **out);
/* Saves atomically in the kind's format. */
BZ_API BZ_NODISCARD bz_status bz_model_save(bz_model *model, const char *path);
BZ_API void bz_model_free(bz_model *model);

/* Wraps a typed model; the bz_model takes ownership and *typed becomes NULL
 * (free the bz_model, not the typed handle). */
BZ_API BZ_NODISCARD bz_status bz_model_from_rbm(bz_rbm **rbm, bz_model **out);
BZ_API BZ_NODISCARD bz_status bz_model_from_dbn(bz_dbn **dbn, bz_model **out);
BZ_API BZ_NODISCARD bz_status bz_model_from_dbm(bz_dbm **dbm, bz_model **out);
BZ_API BZ_NODISCARD bz_status bz_model_from_cf(bz_cf **cf, bz_model **out);
/* The typed handle inside (borrowed), or NULL when the model is another kind. */
BZ_API bz_rbm *bz_model_rbm(bz_model *model);
BZ_API bz_dbn *bz_model_dbn(bz_model *model);
BZ_API bz_dbm *bz_model_dbm(bz_model *model);
BZ_API bz_cf *bz_model_cf(bz_model *model);

BZ_API const bz_model_kind *bz_model_get_kind(const bz_model *model);
BZ_API bz_context *bz_model_context(const bz_model *model);
/* Values per input row; per row of transform's output; classes (0 when the
 * model does not classify); layers (inputs first; for a DBN the classes
 * are the last entry) and the size of layer i (0 past the end). */
BZ_API size_t bz_model_n_inputs(const bz_model *model);
BZ_API size_t bz_model_n_features(const bz_model *model);
BZ_API size_t bz_model_n_classes(const bz_model *model);
BZ_API size_t bz_model_n_layers(const bz_model *model);
BZ_API size_t bz_model_layer_size(const bz_model *model, size_t i);
/* Metadata saved with the model (preprocess_scale, preprocess_binarize,
 * image_height, ...); NULL when absent. */
BZ_API const char *bz_model_get_meta(const bz_model *model, const char *key);
BZ_API BZ_NODISCARD bz_status bz_model_set_meta(bz_model *model, const char *key,
                                                const char *value);

/* Features of n rows (n x n_features): an RBM's hidden probabilities, a
 * DBN's top hidden layer, a DBM's mean-field posteriors of all hidden
 * layers. */
BZ_API BZ_NODISCARD bz_status bz_model_transform(bz_model *model, const float *x, size_t n,
                                                 float *out);
/* Mean-field reconstruction of n rows (n x n_inputs). */
BZ_API BZ_NODISCARD bz_status bz_model_reconstruct(bz_model *model, const float *x, size_t n,
                                                   float *out);
/* n samples (n x n_inputs) after `steps` Gibbs steps from noise. labels (n
 * of them) clamp the class where the kind samples class-conditionally (a
 * DBN requires them); NULL otherwise. Deterministic for a seed. */
BZ_API BZ_NODISCARD bz_status bz_model_sample(bz_model *model, const int32_t *labels, size_t n,
                                              unsigned steps, uint64_t seed, float *out);
/* Free energy F(v) of each of n rows. */
BZ_API BZ_NODISCARD bz_status bz_model_free_energy(bz_model *model, const float *x, size_t n,
                                                   float *out);

/* Scores averaged over rows. Pinned values. */
typedef enum bz_score {
    BZ_SCORE_FREE_ENERGY = 0, /* mean free energy (RBM) */
    BZ_SCORE_PSEUDO_LL = 1,   /* mean pseudo-log-likelihood (RBM, Bernoulli visible) */
    BZ_SCORE_RECON_MSE = 2,   /* mean-field reconstruction error per entry (RBM) */
    BZ_SCORE_BOUND = 3        /* variational bound on log p(v) without log Z (DBM) */
} bz_score;
/* The mean of a score over n rows; seed keys any randomness (the
 * pseudo-likelihood's flipped entries). */
BZ_API BZ_NODISCARD bz_status bz_model_score(bz_model *model, bz_score what, const float *x,
                                             size_t n, uint64_t seed, double *mean);
/* log Z of the model: exact by enumeration when ais is NULL (small models
 * only; BZ_E_UNSUPPORTED otherwise), else annealed importance sampling from
 * the base-rate model of the n_base rows of base (NULL: uniform). */
BZ_API BZ_NODISCARD bz_status bz_model_log_z(bz_model *model, const bz_ais_options *ais,
                                             const float *base, size_t n_base,
                                             bz_ais_result *out);
/* Class probabilities (n x n_classes) and the most probable class of n rows. */
BZ_API BZ_NODISCARD bz_status bz_model_predict_proba(bz_model *model, const float *x, size_t n,
                                                     float *prob);
BZ_API BZ_NODISCARD bz_status bz_model_predict(bz_model *model, const float *x, size_t n,
                                               int32_t *classes);

/* ------------------------------------------------------------------------- */
/* Data sets                                                                 */
/* ------------------------------------------------------------------------- */

/* Rows of floats with optional integer labels, in host memory. */
typedef struct bz_dataset bz_dataset;

/* Opens a data set by name: "fashion-mnist" (or ":train"),
 * "fashion-mnist:test" (from $BOLTZCL_DATA_DIR, default /usr/share/datasets),
 * an IDX image file (gzip'd or not; labels found beside it), or a ".csv"
 * file (label first, optional header). Values keep the file's scale
 * (bz_dataset_scale01 maps them to [0, 1]). Errors go to ctx's
 * bz_last_error. */
BZ_API BZ_NODISCARD bz_status bz_dataset_open(bz_context *ctx, const char *spec,
                                              bz_dataset **out);
/* IDX images with an explicit labels file (NULL: no labels). */
BZ_API BZ_NODISCARD bz_status bz_dataset_open_idx(bz_context *ctx, const char *images,
                                                  const char *labels, bz_dataset **out);
/* A CSV file; with_labels: its first column is the label. */
BZ_API BZ_NODISCARD bz_status bz_dataset_open_csv(bz_context *ctx, const char *path,
                                                  int with_labels, bz_dataset **out);
/* Copies n rows of dim floats from caller memory, and n labels (>= 0) when
 * labels is not NULL. */
BZ_API BZ_NODISCARD bz_status bz_dataset_from_memory(bz_context *ctx, const float *x,
                                                     const int32_t *labels, size_t n,
                                                     size_t dim, bz_dataset **out);
BZ_API void bz_dataset_close(bz_dataset *ds);
BZ_API size_t bz_dataset_rows(const bz_dataset *ds);
BZ_API size_t bz_dataset_dim(const bz_dataset *ds);
/* 1 + the largest label; 0 without labels. */
BZ_API size_t bz_dataset_n_classes(const bz_dataset *ds);
/* The rows (rows x dim, row-major) and labels (NULL without); owned by ds. */
BZ_API const float *bz_dataset_x(const bz_dataset *ds);
BZ_API const int32_t *bz_dataset_labels(const bz_dataset *ds);
/* Image height and width when the rows are images (else 0). */
BZ_API void bz_dataset_image_shape(const bz_dataset *ds, size_t *height, size_t *width);
/* Divides by the source's largest value (255 for byte images): [0, 1]. */
BZ_API void bz_dataset_scale01(bz_dataset *ds);
/* x = x > threshold ? 1 : 0. */
BZ_API void bz_dataset_binarize(bz_dataset *ds, float threshold);

/* ------------------------------------------------------------------------- */
/* Devices and tuning                                                        */
/* ------------------------------------------------------------------------- */

typedef struct bz_device_desc {
    unsigned platform_index, device_index; /* as "P:D" selects it */
    char platform[128];
    char name[256];
    char vendor[128];
    char driver[128];
    char version[128];
    int is_gpu, is_cpu;
    unsigned compute_units;
    uint64_t global_mem, max_alloc;
} bz_device_desc;

/* Every OpenCL device of every platform (*out freed with free()), in
 * platform then device order; BZ_E_NO_PLATFORM when none is installed. */
BZ_API BZ_NODISCARD bz_status bz_devices_query(bz_device_desc **out, size_t *count);
/* Index into devices[] of the device a context would pick for selector
 * (NULL: $BOLTZCL_DEVICE, else automatic), before its self-test; -1 when
 * none matches or the selector is malformed. */
BZ_API long bz_devices_pick(const bz_device_desc *devices, size_t count, const char *selector);

typedef struct bz_tune_options {
    const char *device;   /* selector as for contexts; NULL: $BOLTZCL_DEVICE or automatic */
    double seconds;       /* search budget; the final checks come on top: 600 */
    const char *out;      /* NULL: the user's tuning file */
    const char *state;    /* NULL: <cache dir>/boltzcl/tune-<device>.state */
    int fresh;            /* 1: ignore an existing state file */
    int reps;             /* timed runs per shape, best kept */
    unsigned long seed;
    double candidate_timeout; /* seconds before a candidate counts as hung */
    size_t batch;         /* 0: the device's entry (batch-100 shapes); N: a batch entry for N */
} bz_tune_options;
BZ_API void bz_tune_options_init(bz_tune_options *o);
/* Searches CLBlast's GEMM parameters and boltzcl's launch sizes for the
 * device and writes the winner to the tuning file; progress goes to stderr.
 * Returns a process exit code (0 success, 1 failure). Forks worker
 * processes: call it before anything else opens OpenCL. */
BZ_API int bz_tune_run(const bz_tune_options *o);

/* ------------------------------------------------------------------------- */
/* Helpers                                                                   */
/* ------------------------------------------------------------------------- */

/* Parses a layer list "784,500,500": between min_n and max_n positive sizes
 * (each at most 2^24) separated by single commas, nothing else (no spaces,
 * no empty or trailing entry: "784,500," is refused). Returns 0 and fills
 * sizes/n, or -1. Every layer list of the library and the tool goes through
 * this one function. */
BZ_API int bz_layers_parse(const char *text, size_t min_n, size_t max_n, size_t *sizes,
                           size_t *n);

/* ------------------------------------------------------------------------- */
/* Optimisation: Ising, QUBO and Max-Cut problems by annealing               */
/* ------------------------------------------------------------------------- */

/*
 * A problem is a fully connected Boltzmann machine with fixed weights. All
 * kinds are held in Ising form, E(s) = c + sum_{i<j} J_ij s_i s_j +
 * sum_i h_i s_i with s_i = +-1, where E is the quantity to minimise in the
 * problem's own terms:
 *   BZ_PROBLEM_ISING   E itself;
 *   BZ_PROBLEM_QUBO    sum_{i,j} Q_ij x_i x_j with x_i = (1 + s_i) / 2;
 *   BZ_PROBLEM_MAXCUT  minus the weight of the cut between s = +1 and -1.
 * Terms (files and bz_ising_from_terms): an entry (i, j, v) with i != j adds
 * v s_i s_j (v x_i x_j, or an edge of weight v), i == j adds v s_i (v x_i;
 * refused for Max-Cut); repeated entries add up. Formats are in the README.
 */
typedef struct bz_ising bz_ising;

typedef enum bz_problem_kind {
    BZ_PROBLEM_ISING = 0,
    BZ_PROBLEM_QUBO = 1,
    BZ_PROBLEM_MAXCUT = 2
} bz_problem_kind;

/* Reads a problem file: Max-Cut from G-set/rudy text (`N E`, then `i j w`,
 * 1-based), QUBO and Ising from sparse text (`i j value`, 0-based, the
 * diagonal linear), or any kind from a dense .npy matrix or a safetensors
 * file (tensor J, Q or W, optional h). A problem saved by bz_ising_save (the
 * "ising" model kind) carries its own kind, and `kind` is not used for it.
 * Bad files: BZ_E_FORMAT naming the file and line (or offset); BZ_E_IO when
 * unreadable. */
BZ_API bz_status bz_ising_load(bz_context *ctx, const char *path, bz_problem_kind kind,
                               bz_ising **out);
/* From `count` terms (i[k], j[k], v[k]) over n variables. */
BZ_API bz_status bz_ising_from_terms(bz_context *ctx, bz_problem_kind kind, size_t n,
                                     size_t count, const uint32_t *i, const uint32_t *j,
                                     const double *v, bz_ising **out);
/* From a dense n x n row-major matrix m and optional linear terms h (NULL:
 * none). Ising and QUBO: every entry a term, as above (the diagonal
 * linear); Max-Cut: the symmetric adjacency matrix, zero diagonal, no h. */
BZ_API bz_status bz_ising_from_dense(bz_context *ctx, bz_problem_kind kind, size_t n,
                                     const float *m, const float *h, bz_ising **out);
BZ_API void bz_ising_free(bz_ising *p);
BZ_API size_t bz_ising_size(const bz_ising *p);
BZ_API bz_problem_kind bz_ising_kind(const bz_ising *p);
/* Pairs (i < j) with a non-zero coupling. */
BZ_API size_t bz_ising_couplings(const bz_ising *p);
/* E(s) for n spins of +-1, in double precision. */
BZ_API double bz_ising_energy(const bz_ising *p, const int8_t *s);
/* The figure users quote: the cut weight (-E) for Max-Cut, E otherwise. */
BZ_API double bz_ising_objective(const bz_ising *p, double energy);
/* The annealing range chosen from the problem's scale: the largest energy
 * change of one flip is accepted with probability 1/2 at beta_min, the
 * smallest non-zero one with probability 1/(100 n) at beta_max (one uphill
 * move in a hundred sweeps, so the anneal ends quenched). */
BZ_API void bz_ising_beta_range(const bz_ising *p, double *beta_min, double *beta_max);

/* Saves the problem as a boltzcl model file of kind "ising" (README: the
 * schema), atomically; bz_ising_load and bz_model_load read it back. */
BZ_API bz_status bz_ising_save(const bz_ising *p, const char *path);
/* The generic handle over a problem (energy as free energy and score,
 * sampling and exact log Z at the inverse temperature of metadata "beta",
 * default 1; rows in the problem's variables: +-1 for Ising, 0/1 for QUBO and
 * Max-Cut). Takes ownership as bz_model_from_rbm does. */
BZ_API BZ_NODISCARD bz_status bz_model_from_ising(bz_ising **problem, bz_model **out);
/* The problem inside (borrowed), or NULL for another kind. */
BZ_API bz_ising *bz_model_ising(bz_model *model);

/* Writes one line per variable: s_i (+1/-1) for Ising, x_i (0/1) for QUBO,
 * the side (0/1) for Max-Cut; atomically. */
BZ_API bz_status bz_ising_save_solution(const bz_ising *p, const int8_t *s, const char *path);

/* `replicas` independent chains at inverse temperature beta for `sweeps`
 * Metropolis sweeps from uniform random spins; out gets replicas x n spins,
 * energies (may be NULL) each chain's E. Deterministic for a seed. */
BZ_API bz_status bz_ising_sample(bz_ising *p, double beta, size_t replicas, unsigned sweeps,
                                 uint64_t seed, int8_t *out, double *energies);

typedef enum bz_schedule {
    BZ_SCHEDULE_GEOMETRIC = 0, /* beta_min * (beta_max / beta_min)^(k / (K - 1)) */
    BZ_SCHEDULE_LINEAR = 1     /* beta_min + (beta_max - beta_min) k / (K - 1) */
} bz_schedule;

/* How a device updates the spins of one replica; both are exact sequential
 * Metropolis sweeps (README, "Update scheme"). */
typedef enum bz_update_scheme {
    BZ_UPDATE_AUTO = 0,    /* colour-parallel on GPUs with few replicas, else per replica */
    BZ_UPDATE_REPLICA = 1, /* one work-item per replica, spins in index order */
    BZ_UPDATE_COLOUR = 2   /* one work-group per replica, a graph colouring's classes in
                              parallel (sparse problems whose spins fit local memory) */
} bz_update_scheme;

/* What a run may stop on, and what it reports while it runs. */
typedef struct bz_anneal_limits {
    double seconds;   /* > 0: stop when this much sampling time has passed */
    int use_target;   /* 1: stop as soon as a state with E <= target is found */
    double target;
    /* Called whenever the best energy improves (host side). */
    void (*progress)(void *user, double seconds, double best_energy, uint64_t sweeps);
    void *progress_user;
    volatile int *stop; /* non-zero: stop after the current launch */
} bz_anneal_limits;

typedef struct bz_anneal_options {
    size_t replicas;          /* chains annealed at once; 0: chosen for the device */
    unsigned sweeps;          /* sweeps of one anneal: 1000 */
    unsigned sweeps_max;      /* > sweeps: anneal k runs min(sweeps 2^k, sweeps_max) */
    unsigned sweeps_per_beta; /* sweeps at each temperature: 1 */
    unsigned restarts;        /* anneals per replica: 1; 0 runs until limits.seconds */
    bz_schedule schedule;     /* geometric */
    double beta_min, beta_max;/* 0: bz_ising_beta_range */
    uint64_t seed;            /* 1 */
    bz_update_scheme scheme;  /* automatic */
    bz_anneal_limits limits;
} bz_anneal_options;

typedef struct bz_anneal_result {
    double best_energy;      /* E of the best state seen */
    double seconds;          /* sampling time */
    double time_to_target;   /* seconds until E <= target was first seen; -1 if never */
    uint64_t sweeps;         /* sweeps run per replica, all anneals together */
    uint64_t spin_updates;   /* replicas x sweeps x n Metropolis tests */
    double spin_updates_per_s;
    unsigned anneals;        /* anneals completed per replica */
    size_t replicas;
    double beta_min, beta_max;
    size_t temperatures;     /* parallel tempering: the ladder's size; 0 for annealing */
} bz_anneal_result;

BZ_API void bz_anneal_options_init(bz_anneal_options *opts);
/* Simulated annealing of many replicas on the device; best (n spins, may be
 * NULL) gets the lowest-energy state seen at the end of a launch or anneal.
 * BZ_E_INTERRUPTED when limits.stop ended it (best and res still filled). */
BZ_API bz_status bz_anneal(bz_ising *p, const bz_anneal_options *opts, int8_t *best,
                           bz_anneal_result *res);

typedef struct bz_pt_options {
    size_t temperatures;     /* ladder size; 0: bz_pt_ladder_size */
    size_t ladders;          /* independent ladders run at once; 0: chosen for the device */
    unsigned sweeps;         /* sweeps per replica: 10000 */
    unsigned exchange_every; /* sweeps between exchange attempts: 10 */
    unsigned burn_in;        /* sweeps before the statistics start: sweeps / 4 */
    double beta_min, beta_max;/* 0: bz_ising_beta_range; the ladder is geometric */
    const double *betas;     /* or an explicit increasing ladder of `temperatures` */
    uint64_t seed;           /* 1 */
    bz_update_scheme scheme; /* automatic */
    bz_anneal_limits limits;
} bz_pt_options;

/* Statistics of one temperature of the ladder over the samples after
 * burn-in (one per ladder and exchange round). */
typedef struct bz_pt_level {
    double beta;
    double mean_energy, sd_energy;
    double swap_rate;   /* accepted / attempted exchanges with the next level; 0 for the last */
    double log_z;       /* ln Z(beta) by thermodynamic integration of <E> from beta = 0 */
    double free_energy; /* -ln Z / beta */
    uint64_t samples;
} bz_pt_level;

BZ_API void bz_pt_options_init(bz_pt_options *opts);
/* The ladder size a run with these options uses: opts->temperatures, or
 * when 0, enough geometric steps for exchanges to pass on the problem's
 * scale: ceil(sqrt(n) ln(beta_max / beta_min) / 2), 4..1024 (a step of
 * beta then moves the energy by about one standard deviation). */
BZ_API size_t bz_pt_ladder_size(const bz_ising *p, const bz_pt_options *opts);
/* Parallel tempering (replica exchange between neighbouring temperatures);
 * levels (NULL or bz_pt_ladder_size entries) gets the statistics. */
BZ_API bz_status bz_anneal_pt(bz_ising *p, const bz_pt_options *opts, int8_t *best,
                              bz_anneal_result *res, bz_pt_level *levels);

/* ------------------------------------------------------------------------- */
/* Training orchestration (every model kind)                                 */
/* ------------------------------------------------------------------------- */
/*
 * One training loop for every kind of model: a bz_trainer runs a kind's
 * stages (an RBM's epochs; a DBN's pretraining layer by layer, then its
 * fine-tuning; a DBM's pretraining, joint training and classifier) and, the
 * same way for all of them, writes a checkpoint atomically after every epoch
 * (and when stopped inside one), resumes from it exactly, reports progress
 * per batch and per epoch, honours stop requests, stops early when the kind
 * says so, and checks after every epoch, before anything is written, that
 * the parameters are finite. Data-parallel training passes the ranks to the
 * kind's trainer constructor; rank 0 alone writes.
 */

/* Asks every running training to stop after its current batch (it then
 * saves a checkpoint and returns BZ_E_INTERRUPTED). Async-signal-safe: call
 * it from a signal handler (pass the signal number) or from another thread
 * (pass any positive value). */
BZ_API void bz_request_stop(int signal_number);
/* The value passed to the pending stop request, 0 when none. */
BZ_API int bz_stop_requested(void);
/* Forgets a stop request (before starting another run). */
BZ_API void bz_clear_stop(void);

/* What the progress callback is told. */
typedef struct bz_train_progress {
    const char *kind;      /* "rbm", "dbn", "dbm", "cf", ... */
    const char *phase;     /* "train", "pretrain", "joint", "finetune" */
    unsigned layer;        /* pretraining: the layer (from 1), else 0 */
    unsigned layers;       /* layers pretrained in all */
    unsigned epoch;        /* from 1 */
    unsigned epochs;       /* of this phase, at most */
    size_t batch, batches; /* batches of this epoch done, of */
    int epoch_done;        /* 1: the epoch has ended; the two texts below are set */
    const char *metrics_json; /* the epoch's figures, one JSON object (for --log) */
    const char *summary;      /* the same for people, one line */
} bz_train_progress;
typedef void (*bz_train_progress_fn)(void *user, const bz_train_progress *p);

typedef struct bz_train_options {
    /* Checkpoint file, written atomically after every epoch and when
     * stopped; NULL: none. */
    const char *checkpoint;
    /* 1: continue from a checkpoint (it must exist, be of this kind and
     * carry the same fingerprint): resume_from, or else `checkpoint` */
    int resume;
    const char *resume_from;
    /* 1: a fresh run may replace an existing checkpoint; by default it is
     * refused (BZ_E_INVALID_ARG) so that a run's state is never lost */
    int overwrite;
    /* The settings and data that make a run what it is, as
     * "key=value;key=value" (values without ';'); stored in the checkpoint,
     * and a resume whose fingerprint differs is refused naming the keys. */
    const char *fingerprint;
    bz_train_progress_fn progress; /* per batch and per epoch; may be NULL */
    void *progress_user;
} bz_train_options;
BZ_API void bz_train_options_init(bz_train_options *opts);

typedef struct bz_train_result {
    /* where the run ended; after BZ_E_INTERRUPTED, where to resume */
    const char *phase;
    unsigned layer, epoch; /* epoch: the next one to run (from 0) */
    size_t batch;          /* batches of that epoch done */
    unsigned epochs_run;   /* epochs completed by this call */
    double seconds;        /* in epochs, this call */
    int checkpoint_written; /* 1: the checkpoint file holds the state of `epoch` */
    int stop_signal;       /* BZ_E_INTERRUPTED: the value given to bz_request_stop */
} bz_train_result;

typedef struct bz_trainer bz_trainer;

/* A trainer for an RBM on `data` for `epochs` epochs with the options of
 * bz_rbm_train_epoch (their progress/stop/start_batch fields are the
 * trainer's to set). rbm and data stay the caller's and must outlive it. */
BZ_API BZ_NODISCARD bz_status bz_rbm_trainer_create(bz_rbm *rbm, bz_data *data,
                                                    const bz_rbm_train_options *opts,
                                                    unsigned epochs, bz_trainer **out);

/* What a DBN's training is made of: greedy pretraining of every layer for
 * pretrain_epochs epochs (0: none; then the classifier starts from its
 * initial weights), then fine-tuning of the classifier as bz_dbn_finetune
 * does (finetune.epochs at most, early stopping with patience, the best
 * epoch kept). The rows and labels are the caller's and must outlive the
 * trainer. The progress/stop/start_batch fields of both option sets are the
 * trainer's to set. */
typedef struct bz_dbn_train_spec {
    const float *x;            /* n training rows (n x s[0]) ... */
    const int32_t *labels;     /* ... and their labels in [0, K) */
    size_t n;
    const float *xv;           /* nv validation rows, or NULL with nv 0 */
    const int32_t *labels_v;
    size_t nv;
    bz_rbm_train_options pretrain; /* defaults of bz_rbm_train_options_init */
    unsigned pretrain_epochs;      /* per layer: 10 */
    bz_dbn_finetune_options finetune; /* defaults of bz_dbn_finetune_options_init */
    bz_dbn_finetune_cb epoch_cb;   /* each fine-tuning epoch's figures; may be NULL */
    void *epoch_user;
    bz_dbn_finetune_result *result; /* filled when fine-tuning ends; may be NULL */
} bz_dbn_train_spec;
/* Defaults (no data: set x, labels and n). */
BZ_API void bz_dbn_train_spec_init(bz_dbn_train_spec *spec);
/* A trainer for dbn as spec says (copied; dbn and the data stay the
 * caller's). BZ_E_INVALID_ARG, naming the field, for missing rows or
 * labels. */
BZ_API BZ_NODISCARD bz_status bz_dbn_trainer_create(bz_dbn *dbn, const bz_dbn_train_spec *spec,
                                                    bz_trainer **out);

/* What a DBM's training is made of, each stage optional: greedy pretraining
 * of every layer (pretrain_epochs, 0: none), joint training for `epochs`
 * epochs (0: none), then with `finetune` a classifier on [v, q(h2)] for
 * n_classes classes fine-tuned as bz_dbm_finetune does. */
typedef struct bz_dbm_train_spec {
    const float *x;            /* n training rows (n x s[0]) */
    size_t n;
    bz_rbm_train_options pretrain; /* defaults of bz_rbm_train_options_init */
    unsigned pretrain_epochs;      /* per layer: 10 */
    bz_dbm_train_options joint;    /* defaults of bz_dbm_train_options_init */
    unsigned epochs;               /* joint training: 10 */
    int finetune;                  /* 1: train the classifier too: 0 */
    const int32_t *labels;         /* labels of x, for the classifier */
    const float *xv;               /* nv validation rows, or NULL with nv 0 */
    const int32_t *labels_v;
    size_t nv;
    size_t n_classes;              /* 2 or more, for the classifier */
    unsigned mf_iters;             /* mean-field sweeps of the classifier's inputs: 10 */
    bz_dbn_finetune_options sgd;   /* the classifier's fine-tuning */
    bz_dbn_finetune_cb epoch_cb;   /* each fine-tuning epoch's figures; may be NULL */
    void *epoch_user;
    bz_dbn_finetune_result *result; /* may be NULL */
} bz_dbm_train_spec;
/* Defaults (no data: set x and n, and for the classifier labels and
 * n_classes). */
BZ_API void bz_dbm_train_spec_init(bz_dbm_train_spec *spec);
/* A trainer for dbm as spec says (copied; dbm and the data stay the
 * caller's). BZ_E_INVALID_ARG, naming the field, for missing rows, or a
 * classifier without labels, classes or sweeps. */
BZ_API BZ_NODISCARD bz_status bz_dbm_trainer_create(bz_dbm *dbm, const bz_dbm_train_spec *spec,
                                                    bz_trainer **out);

/* ------------------------------------------------------------------------- */
/* Collaborative filtering: a ratings RBM                                    */
/* ------------------------------------------------------------------------- */
/*
 * The RBM over ratings of Salakhutdinov, Mnih and Hinton (2007), as
 * `boltzcl train cf` trains it: every user (or, item-based, every item) is
 * one RBM over the ratings it has, a softmax over the classes of the rating
 * scale per rated column, the weights shared. Users and items are named by
 * the caller's ids (any 32-bit values); ratings are values lo, lo + step,
 * ..., hi. The model keeps its training ratings: predictions start from
 * them. Files are those of the command line (model "cf"), read by
 * bz_model_load too (bz_model_cf gives the typed handle).
 */

typedef struct bz_cf_train_options {
    /* the model's shape (read when it is created) */
    size_t hidden;            /* hidden units: 128 */
    int item_based;           /* 1: each item is a case over its users' ratings: 0 */
    int conditional;          /* 1: which columns were rated feeds the hidden units: 0 */
    /* its training */
    unsigned epochs;          /* 20 */
    size_t batch_size;        /* rows per minibatch: 64 */
    float learning_rate;      /* 1 */
    float lr_decay;           /* epoch e runs at learning_rate / (1 + lr_decay * e): 0.05 */
    float momentum_initial;   /* 0.5 ... */
    float momentum_final;     /* ... then 0.5 ... */
    unsigned momentum_epochs; /* ... from this epoch on: 5 */
    float weight_decay;       /* L2: 0.001 */
    /* Gibbs steps per update: min(cd_max, cd_start + epoch / cd_every): 1, 9, 10 */
    unsigned cd_start, cd_max, cd_every;
    int mean_field;           /* 1: probabilities instead of samples in the chain: 0 */
    uint64_t seed;            /* initial weights, order of the rows, sampling: 1 */
} bz_cf_train_options;
/* The defaults of `boltzcl train cf`. */
BZ_API void bz_cf_train_options_init(bz_cf_train_options *opts);

/* A model of n ratings (user[k], item[k], rating[k]) on the scale lo..hi by
 * step (at most 15 values), shaped by opts (hidden, item_based,
 * conditional) and initialised from opts->seed. BZ_E_INVALID_ARG naming the
 * row for a rating that is not finite or off the scale, and for a
 * (user, item) pair given twice. */
BZ_API BZ_NODISCARD bz_status bz_cf_create_from_ratings(bz_context *ctx, const uint32_t *user,
                                                        const uint32_t *item, const float *rating,
                                                        size_t n, float lo, float hi, float step,
                                                        const bz_cf_train_options *opts,
                                                        bz_cf **out);
BZ_API void bz_cf_free(bz_cf *cf);

typedef struct bz_cf_info {
    size_t n_users, n_items, n_ratings, hidden;
    float lo, hi, step;     /* the rating scale */
    int item_based, conditional;
    float mean_rating;      /* of the training ratings */
} bz_cf_info;
BZ_API BZ_NODISCARD bz_status bz_cf_get_info(const bz_cf *cf, bz_cf_info *out);
/* The ids the model knows, sorted (n_users and n_items of them). */
BZ_API BZ_NODISCARD bz_status bz_cf_get_ids(const bz_cf *cf, uint32_t *users, uint32_t *items);

/* A trainer for cf on its own ratings for opts->epochs epochs through the
 * generic trainer (bz_trainer_run: checkpoints, bz_request_stop); the
 * training RMSE and MAE are reported after each epoch. opts's hidden,
 * item_based and conditional are the model's and are not read. cf stays
 * the caller's and must outlive the trainer. */
BZ_API BZ_NODISCARD bz_status bz_cf_trainer_create(bz_cf *cf, const bz_cf_train_options *opts,
                                                   bz_trainer **out);

/* Predicted ratings of n (user, item) pairs; a pair whose user or item the
 * model lacks gets the mean training rating (*n_unknown of them; may be
 * NULL). */
BZ_API BZ_NODISCARD bz_status bz_cf_predict_ratings(bz_cf *cf, const uint32_t *user,
                                                    const uint32_t *item, size_t n, float *out,
                                                    size_t *n_unknown);
/* The items the user has not rated, best predicted first (ties: smaller id
 * first), at most `top` of them: ids in items, predictions in ratings (both
 * `top` long), how many in *n_out. BZ_E_INVALID_ARG for a user the model
 * lacks. */
BZ_API BZ_NODISCARD bz_status bz_cf_recommend(bz_cf *cf, uint32_t user, size_t top,
                                              uint32_t *items, float *ratings, size_t *n_out);
/* RMSE and MAE of the predictions of n rated pairs (unknown ids as in
 * bz_cf_predict_ratings). */
BZ_API BZ_NODISCARD bz_status bz_cf_evaluate(bz_cf *cf, const uint32_t *user,
                                             const uint32_t *item, const float *rating, size_t n,
                                             double *rmse, double *mae);

BZ_API BZ_NODISCARD bz_status bz_cf_save(bz_cf *cf, const char *path);
BZ_API BZ_NODISCARD bz_status bz_cf_load(bz_context *ctx, const char *path, bz_cf **out);

/* Frees a trainer of any kind (not the model or data it trains). */
BZ_API void bz_trainer_free(bz_trainer *t);
/*
 * Upper bounds, in bytes, of the model file the run's result makes and of
 * the largest checkpoint it writes, so that a caller can check free space
 * before a long run instead of failing at its end. A bound is 0 where the
 * kind does not give one.
 */
BZ_API BZ_NODISCARD bz_status bz_trainer_output_bytes(const bz_trainer *t, uint64_t *model_bytes,
                                                      uint64_t *checkpoint_bytes);
/*
 * Runs (or, with opts->resume, continues) the training. Returns BZ_OK when
 * every stage has run; BZ_E_INTERRUPTED after a stop request (the state is
 * in the checkpoint, res says where); BZ_E_DIVERGED when parameters stopped
 * being finite (nothing of that epoch is written; bz_last_error names the
 * last finite checkpoint); BZ_E_INVALID_ARG for a checkpoint that may not be
 * overwritten or does not match (the message says what differs).
 */
BZ_API BZ_NODISCARD bz_status bz_trainer_run(bz_trainer *t, const bz_train_options *opts,
                                             bz_train_result *res);

#ifdef __cplusplus
}
#endif
#endif /* BOLTZCL_H */

