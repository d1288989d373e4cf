/*
 * Model kinds behind one descriptor, as FFmpeg describes codecs (AVCodec,
 * av_codec_iterate) and SQLite its virtual-table modules: a versioned struct
 * of function pointers per kind, in one static table (registry.c). The
 * public bz_model handle (src/api) and every command dispatch through it, so
 * adding a kind is a file in src/models/ that defines its descriptor and one
 * line in registry.c.
 *
 * Files: ONE generic safetensors loader and saver (model_file.c) checks the
 * format tag, finds the kind by the file's `model` metadata, hands the
 * kind's read/write hook a reader or writer that knows how to fetch a named
 * tensor of a given shape (refusing wrong shapes and non-finite values) and
 * to parse counts and layer lists, and carries the free metadata entries
 * (preprocessing, image shape) that the kind's schema does not own.
 *
 * A hook left NULL means the kind does not support the operation; callers
 * turn that into BZ_E_UNSUPPORTED with a message naming the kind and the
 * operation (bz_model_unsupported).
 */
#ifndef BZ_MODELS_MODEL_H
#define BZ_MODELS_MODEL_H

#include "engine/engine.h"
#include "io/safetensors.h"
#include "models/meta.h"

/* Bumped when a field is added to bz_model_kind; a descriptor records the
 * version it was written against, so fields past it are never read. */
#define BZ_MODEL_KIND_VERSION 2

#define BZ_MODEL_MAX_LAYERS 10

/* ---- the generic file reader and writer given to a kind's hooks ---- */

typedef struct bz_model_reader {
    bz_context *ctx;
    const char *path;
    const bz_st_file *file;
} bz_model_reader;

typedef struct bz_model_writer {
    bz_context *ctx;
    bz_st_writer *w;
    float *host[64]; /* host copies of device tensors, freed after the write */
    size_t n_host;
    bz_error err;
} bz_model_writer;

/* The metadata value of key, NULL when absent. */
const char *bz_mr_meta(const bz_model_reader *rd, const char *key);
/* True when the file holds tensor `name`. */
bool bz_mr_has(const bz_model_reader *rd, const char *name);
/* A unit or class count in [lo, hi] from metadata key (BZ_E_FORMAT naming
 * the key and the value otherwise). */
bz_status bz_mr_count(const bz_model_reader *rd, const char *key, size_t lo, size_t hi,
                      size_t *out);
/* A layer list ("784,500,500") from metadata key: between min_n and max_n
 * sizes (bz_parse_layers). */
bz_status bz_mr_layers(const bz_model_reader *rd, const char *key, size_t min_n, size_t max_n,
                       size_t *sizes, size_t *n);
/* Tensor `name` of rows x cols floats (rows 0: a vector of cols) into host
 * memory or a device buffer; refuses a missing tensor, another dtype or
 * shape, and non-finite values. */
bz_status bz_mr_host(const bz_model_reader *rd, const char *name, size_t rows, size_t cols,
                     float *dst);
bz_status bz_mr_buf(const bz_model_reader *rd, const char *name, size_t rows, size_t cols,
                    bz_buf *dst);

/* Adds tensor `name` (rows 0: a vector) from host memory (copied) or from a
 * device buffer. */
bz_status bz_mw_host(bz_model_writer *wr, const char *name, size_t rows, size_t cols,
                     const float *src);
bz_status bz_mw_buf(bz_model_writer *wr, const char *name, size_t rows, size_t cols,
                    const bz_buf *src);
bz_status bz_mw_meta(bz_model_writer *wr, const char *key, const char *value);
bz_status bz_mw_count(bz_model_writer *wr, const char *key, size_t value);
bz_status bz_mw_layers(bz_model_writer *wr, const char *key, const size_t *sizes, size_t n);

/* ---- the descriptor ---- */

/* What a model looks like from outside. */
typedef struct bz_model_shape {
    size_t n_inputs;    /* values per input row */
    size_t n_features;  /* values per row that transform writes */
    size_t n_classes;   /* 0 when the model does not classify */
    size_t n_layers;    /* entries of layers[]: inputs first */
    size_t layers[BZ_MODEL_MAX_LAYERS];
} bz_model_shape;

/* Scores; numbers pinned as bz_score in boltzcl.h. */
typedef enum bz_model_score_kind {
    BZ_MS_FREE_ENERGY = 0, /* mean free energy F(v) */
    BZ_MS_PSEUDO_LL = 1,   /* mean pseudo-log-likelihood */
    BZ_MS_RECON_MSE = 2,   /* mean-field reconstruction error per entry */
    BZ_MS_BOUND = 3        /* mean variational bound on log p(v) without log Z */
} bz_model_score_kind;

/* The training orchestration of a kind (checkpoints, resume, progress, stop
 * request, early stopping, divergence check, MPI): its table of hooks for
 * the one training loop, defined in models/trainer.h; the registry only
 * carries the pointer. Version 2 of the descriptor added it. */
struct bz_train_hooks;

typedef struct bz_model_kind {
    int version;             /* BZ_MODEL_KIND_VERSION it was written against */
    const char *name;        /* the file's `model` metadata: "rbm" */
    const char *description; /* "restricted Boltzmann machine" */
    const char *article;     /* how messages name it: "an RBM" */
    /* metadata keys the kind's schema writes itself (not free metadata) */
    const char *const *own_meta;

    /* life cycle and files; required */
    bz_status (*read)(const bz_model_reader *rd, void **impl);
    bz_status (*write)(void *impl, bz_model_writer *wr);
    void (*destroy)(void *impl);
    bz_meta *(*meta)(void *impl);
    void (*shape)(const void *impl, bz_model_shape *out);

    /* operations; NULL when unsupported */
    /* features of n rows (n x n_features) */
    bz_status (*transform)(void *impl, const float *x, size_t n, float *out);
    /* mean-field reconstruction (n x n_inputs) */
    bz_status (*reconstruct)(void *impl, const float *x, size_t n, float *out);
    /* n samples (n x n_inputs) after `steps` Gibbs steps from noise; labels
     * (n of them) clamp a class where the kind can, NULL otherwise */
    bz_status (*sample)(void *impl, const int32_t *labels, size_t n, unsigned steps,
                        uint64_t seed, float *out);
    /* per-row free energy (n) */
    bz_status (*free_energy)(void *impl, const float *x, size_t n, float *out);
    /* a mean score over n rows; BZ_E_UNSUPPORTED for a score it lacks */
    bz_status (*score)(void *impl, bz_model_score_kind what, const float *x, size_t n,
                       uint64_t seed, double *out);
    /* log Z: exact when ais is NULL, else AIS from the base-rate model of
     * the n_base rows of base (NULL: uniform) */
    bz_status (*log_z)(void *impl, const bz_ais_options *ais, const float *base, size_t n_base,
                       bz_ais_result *out);
    /* class probabilities (n x n_classes) */
    bz_status (*predict_proba)(void *impl, const float *x, size_t n, float *prob);

    /* training orchestration (see above); NULL: the kind is not trained by
     * the generic loop (always NULL in version 1) */
    const struct bz_train_hooks *train;
} bz_model_kind;

/* An instance of any kind (the public bz_model). */
struct bz_model {
    const bz_model_kind *kind;
    bz_context *ctx;
    void *impl; /* bz_rbm *, bz_dbn *, bz_dbm *, bz_ising * */
};

/* The descriptors (one file each). */
extern const bz_model_kind bz_kind_rbm, bz_kind_dbn, bz_kind_dbm, bz_kind_ising, bz_kind_cf;
/* the kinds' training hooks (rbm_trainer.c, dbn_trainer.c, dbm_trainer.c) */
extern const struct bz_train_hooks bz_rbm_train_hooks, bz_dbn_train_hooks, bz_dbm_train_hooks,
    bz_cf_train_hooks;

/* Registry (registry.c): kinds in table order; *opaque starts NULL; NULL at
 * the end. */
const bz_model_kind *bz_model_kind_next(void **opaque);
/* By file name ("rbm"); NULL when unknown. */
const bz_model_kind *bz_model_kind_find(const char *name);

/* The generic loader: opens path, checks the format tag, finds the kind by
 * the file's `model` metadata (refusing another kind than `want` when want
 * is not NULL, with a message naming both), reads it with the kind's hook,
 * copies the free metadata, then lets `extra` (may be NULL) read more from
 * the same file (checkpoint state). */
typedef bz_status (*bz_model_read_extra)(const bz_model_reader *rd, void *impl, void *user);
bz_status bz_model_file_read(bz_context *ctx, const char *path, const bz_model_kind *want,
                             bz_model_read_extra extra, void *user, void **impl,
                             const bz_model_kind **kind);
/* The generic saver: format tag, kind, version, the kind's tensors and
 * metadata, `extra` (may be NULL), the free metadata; written atomically. */
typedef bz_status (*bz_model_write_extra)(bz_model_writer *wr, void *impl, void *user);
bz_status bz_model_file_write(const bz_model_kind *kind, void *impl, bz_context *ctx,
                              const char *path, bz_model_write_extra extra, void *user);
/* The kind name of a boltzcl file into buf ("" when unreadable or none). */
void bz_model_file_kind(const char *path, char *buf, size_t size);

/* BZ_E_UNSUPPORTED: "<kind> models do not support <op>" on ctx. */
bz_status bz_model_unsupported(bz_context *ctx, const bz_model_kind *kind, const char *op);

/* Layer lists ("784,500,500") are parsed by bz_layers_parse (boltzcl.h),
 * the one parser every reader of such lists uses. */

#endif
