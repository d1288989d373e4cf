/*
 * boltzcl: Boltzmann machines (RBM, DBN, DBM) on any OpenCL device.
 *
 * One public header. Handles are opaque and come in create/free pairs; every
 * function that can fail returns a bz_status. The numeric values of bz_status
 * are pinned: they never change between releases, so they may be stored or
 * compared across versions. A context keeps a detailed message for the last
 * failure (which OpenCL call, its CL_* name, the head of a build log, the
 * CLBlast status), read with bz_last_error().
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

#define BOLTZCL_VERSION_MAJOR 0
#define BOLTZCL_VERSION_MINOR 1
#define BOLTZCL_VERSION_PATCH 0
#define BOLTZCL_VERSION_STRING "0.1.0"
#define BOLTZCL_VERSION_NUMBER \
    (BOLTZCL_VERSION_MAJOR * 10000 + BOLTZCL_VERSION_MINOR * 100 + BOLTZCL_VERSION_PATCH)

/* Version of the library actually linked (may differ from the header's). */
BZ_API unsigned bz_version_number(void);
BZ_API const char *bz_version_string(void);

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
BZ_API bz_status bz_context_create(const bz_context_options *opts, bz_context **out);
BZ_API void bz_context_free(bz_context *ctx);

/* Detailed message of the last failure on this context; "" when none. */
BZ_API const char *bz_last_error(const bz_context *ctx);

/* Name and driver of the device in use. */
BZ_API const char *bz_device_name(const bz_context *ctx);
BZ_API const char *bz_device_driver(const bz_context *ctx);

/* Blocks until everything queued on the context has finished. */
BZ_API bz_status bz_finish(bz_context *ctx);

/* ------------------------------------------------------------------------- */
/* Restricted Boltzmann machines                                             */
/* ------------------------------------------------------------------------- */

typedef struct bz_rbm bz_rbm;

typedef enum bz_unit_type {
    BZ_UNIT_BERNOULLI = 0,
    BZ_UNIT_GAUSSIAN = 1 /* real-valued, unit variance */
} bz_unit_type;

/* Creates an RBM with W ~ N(0, 0.01^2) drawn from `seed`, zero biases. */
BZ_API bz_status bz_rbm_create(bz_context *ctx, size_t n_visible, size_t n_hidden,
                               bz_unit_type visible, uint64_t seed, bz_rbm **out);
BZ_API void bz_rbm_free(bz_rbm *rbm);
BZ_API size_t bz_rbm_n_visible(const bz_rbm *rbm);
BZ_API size_t bz_rbm_n_hidden(const bz_rbm *rbm);
BZ_API bz_unit_type bz_rbm_visible_type(const bz_rbm *rbm);

/* Host copies of the parameters: W is n_visible x n_hidden, row-major. Any
 * pointer may be NULL to skip it. */
BZ_API bz_status bz_rbm_get_params(bz_rbm *rbm, float *w, float *vbias, float *hbias);
BZ_API bz_status bz_rbm_set_params(bz_rbm *rbm, const float *w, const float *vbias,
                                   const float *hbias);
/* Sets the visible biases to log(p / (1 - p)) of the data's means (clamped to
 * [0.001, 0.999]), as Hinton's practical guide recommends; for Gaussian
 * visible units, to the data's means. */
BZ_API bz_status bz_rbm_init_visible_bias(bz_rbm *rbm, const float *x, size_t n);

/* Hidden probabilities P(h=1|v) for n rows of v (n x n_visible) into h
 * (n x n_hidden). */
BZ_API bz_status bz_rbm_transform(bz_rbm *rbm, const float *v, size_t n, float *h);
/* Mean-field reconstruction E[v | P(h|v)] of n rows. */
BZ_API bz_status bz_rbm_reconstruct(bz_rbm *rbm, const float *v, size_t n, float *out);
/* Free energy F(v) of each of n rows. */
BZ_API bz_status bz_rbm_free_energy(bz_rbm *rbm, const float *v, size_t n, float *f);
/* Runs n Gibbs chains for `steps` steps from v_init (n rows), or from
 * uniform noise when v_init is NULL; writes the visible means of the last
 * step. Deterministic for a seed. */
BZ_API bz_status bz_rbm_sample(bz_rbm *rbm, const float *v_init, size_t n, unsigned steps,
                               uint64_t seed, float *out);

/* ---- data on the device ---- */

/* A dataset of n rows of `dim` floats for training and evaluation. Kept on
 * the device when it fits, otherwise streamed from `x` batch by batch (then
 * x must stay valid until bz_data_free). */
typedef struct bz_data bz_data;
BZ_API bz_status bz_data_create(bz_context *ctx, const float *x, size_t n, size_t dim,
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
BZ_API bz_status bz_rbm_train_epoch(bz_rbm *rbm, bz_data *data, const bz_rbm_train_options *opts,
                                    unsigned epoch, bz_rbm_epoch_stats *stats);

/* ---- evaluation ---- */

/* Mean squared error of the mean-field reconstruction, per entry. */
BZ_API bz_status bz_rbm_reconstruction_error(bz_rbm *rbm, bz_data *data, double *mse);
/* Mean free energy of the rows. */
BZ_API bz_status bz_rbm_mean_free_energy(bz_rbm *rbm, bz_data *data, double *mean);
/* Pseudo-log-likelihood as scikit-learn's BernoulliRBM.score_samples
 * computes it (one random entry flipped per row), averaged over rows. */
BZ_API bz_status bz_rbm_pseudo_log_likelihood(bz_rbm *rbm, bz_data *data, uint64_t seed,
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
BZ_API bz_status bz_rbm_ais(bz_rbm *rbm, bz_data *base, const bz_ais_options *opts,
                            bz_ais_result *out);
/* Reverse AIS: every run starts from an exact draw of p(h | v) for a row of
 * `data` (host rows) and anneals down to the base model of `base`. Its log Z
 * errs high where the forward estimate errs low, as long as those states
 * are close to the model's distribution. */
BZ_API bz_status bz_rbm_ais_reverse(bz_rbm *rbm, bz_data *data, bz_data *base,
                                    const bz_ais_options *opts, bz_ais_result *out);
/* Exact log Z by enumerating the smaller layer (at most 24 units). */
BZ_API bz_status bz_rbm_exact_log_z(bz_rbm *rbm, double *log_z);

/* ---- files ---- */

/* Saves as safetensors (tensors W, vbias, hbias; metadata naming the model,
 * unit types and boltzcl version), atomically: a crash leaves the old file. */
BZ_API bz_status bz_rbm_save(bz_rbm *rbm, const char *path);
/* Loads a model saved by bz_rbm_save; refuses other files with BZ_E_FORMAT. */
BZ_API bz_status bz_rbm_load(bz_context *ctx, const char *path, bz_rbm **out);

#ifdef __cplusplus
}
#endif
#endif /* BOLTZCL_H */
