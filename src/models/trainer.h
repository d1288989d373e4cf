/*
 * Training orchestration shared by every model kind (trainer.c).
 *
 * A kind describes its training as a list of stages (an RBM: one; a DBN:
 * one pretraining stage per layer, then fine-tuning; a DBM: pretraining per
 * layer, joint training, then its classifier), each a number of epochs, and
 * supplies a small versioned table of hooks: run one epoch of a stage (from
 * a batch, watching the stop flag, reporting progress per batch), check its
 * parameters are finite, and save or restore its whole training state. The
 * trainer does the rest the same way for every kind: the stop request, the
 * per-epoch atomic checkpoint recording stage, layer, epoch and batch, the
 * refusal to overwrite a checkpoint or to resume one made with other
 * settings or data (a fingerprint stored in it), the finite check after
 * every epoch before anything is written, early stopping, and the progress
 * callback. The model registry points at a kind's hooks.
 */
#ifndef BZ_MODELS_TRAINER_H
#define BZ_MODELS_TRAINER_H

#include "boltzcl.h"
#include "dist/dist.h"
#include "engine/engine.h"
#include "io/safetensors.h"
#include "models/meta.h"

#include <stdbool.h>

#define BZ_TRAIN_HOOKS_VERSION 1

/* Where a run is: the stage, the next epoch of it (from 0), and the batches
 * of that epoch already done. */
typedef struct bz_train_pos {
    unsigned stage, epoch;
    size_t batch;
} bz_train_pos;

typedef struct bz_train_stage {
    const char *phase; /* "train", "pretrain", "joint", "finetune" */
    unsigned layer;    /* pretraining: the layer from 1, else 0 */
    unsigned layers;   /* layers pretrained in all */
    unsigned epochs;   /* at most */
    /* false: a stage run in one piece (no checkpoint inside it; a resumed
     * run redoes it from the checkpoint before it) */
    bool checkpointable;
} bz_train_stage;

/* What the trainer hands an epoch hook. */
typedef struct bz_train_ctl {
    size_t start_batch;  /* batches of this epoch already done (resume) */
    volatile int *stop;  /* the epoch ends after the current batch when non-zero */
    /* per batch: call with (done, total) as batches complete */
    void (*batch_done)(void *user, size_t done, size_t total);
    void *user;
} bz_train_ctl;

/* What an epoch hook reports. */
typedef struct bz_train_epoch_out {
    size_t batches_done; /* when interrupted (BZ_E_INTERRUPTED) */
    bool stop_stage;     /* early stopping: the stage ends after this epoch */
    double seconds;
    /* the epoch's figures as one JSON object text, and a line for people */
    char json[1024];
    char line[512];
} bz_train_epoch_out;

typedef struct bz_ckpt_out bz_ckpt_out;
typedef struct bz_ckpt_in bz_ckpt_in;

typedef struct bz_train_hooks {
    unsigned version; /* BZ_TRAIN_HOOKS_VERSION */
    const char *kind; /* the model's name: "rbm", "dbn", "dbm" */
    bz_context *(*context)(void *job);
    /* NULL: one stage */
    size_t (*n_stages)(void *job);
    void (*stage)(void *job, size_t i, bz_train_stage *out);
    /* Prepares stage i (data, per-stage models); NULL: nothing to prepare.
     * resumed: the state came from a checkpoint of this stage; keep it. */
    bz_status (*begin_stage)(void *job, size_t i, bool resumed);
    /* One epoch; BZ_E_INTERRUPTED (out->batches_done set) when stopped
     * before its end. */
    bz_status (*epoch)(void *job, size_t stage, unsigned epoch, const bz_train_ctl *ctl,
                       bz_train_epoch_out *out);
    /* Finishes stage i (composes, keeps the best epoch, frees per-stage
     * state); NULL: nothing to finish. */
    bz_status (*end_stage)(void *job, size_t i);
    /* BZ_E_DIVERGED with a message naming what is not finite, else BZ_OK. */
    bz_status (*check_finite)(void *job, size_t stage);
    /* The whole training state into a checkpoint, and back (before
     * begin_stage(pos.stage, true)). save_file, when set, writes the file
     * itself with the trainer's metadata (meta) added; otherwise save fills
     * the generic writer. */
    bz_status (*save)(void *job, bz_ckpt_out *out);
    bz_status (*save_file)(void *job, const char *path, const bz_meta *meta, bz_train_pos at);
    bz_status (*load)(void *job, const char *path, const bz_ckpt_in *in, bz_train_pos at);
    /* optional: every rank gets rank 0's state after a resume */
    bz_status (*sync)(void *job, bz_comm *comm);
    /* optional: upper bounds of the bytes of the model file the job makes
     * and of its largest checkpoint (metadata included), for the free-space
     * check before a run; they may be loose, never short */
    void (*output_bytes)(void *job, uint64_t *model, uint64_t *checkpoint);
} bz_train_hooks;

/* The trainer: a kind's hooks and job, and how to run them. */
struct bz_trainer {
    const bz_train_hooks *hooks;
    void *job;
    void (*free_job)(void *job);
    bz_comm *comm; /* NULL: one process; else rank 0 alone writes */
};

bz_status bz_trainer_make(const bz_train_hooks *hooks, void *job, void (*free_job)(void *job),
                          bz_comm *comm, bz_trainer **out);

/* ---- helpers for the kinds' hooks ---- */

/* Generic checkpoint contents: device buffers, host arrays, metadata. */
bz_status bz_ckpt_put_buf(bz_ckpt_out *o, const char *name, const bz_buf *b, size_t count);
bz_status bz_ckpt_put_host(bz_ckpt_out *o, const char *name, const float *x, size_t count);
bz_status bz_ckpt_put_meta(bz_ckpt_out *o, const char *key, const char *value);
/* An RBM's whole training state under names "<prefix>W" etc. */
bz_status bz_ckpt_put_rbm(bz_ckpt_out *o, const char *prefix, bz_rbm *r);
bz_status bz_ckpt_get_buf(const bz_ckpt_in *in, const char *name, bz_buf *b, size_t count);
bz_status bz_ckpt_get_host(const bz_ckpt_in *in, const char *name, float *x, size_t count);
const char *bz_ckpt_get_meta(const bz_ckpt_in *in, const char *key);
/* Restores an RBM made with the right sizes (and units) from the names of
 * bz_ckpt_put_rbm. */
bz_status bz_ckpt_get_rbm(const bz_ckpt_in *in, const char *prefix, bz_rbm *r);

/* Whether count floats of b are all finite (read in slices). */
bz_status bz_train_buf_finite(bz_context *c, const bz_buf *b, size_t count, bool *finite);
/* An RBM's parameters, all of them. */
bz_status bz_train_rbm_finite(bz_rbm *r, bool *finite);

/* Bytes of an RBM's parameters (weights and both biases) as floats. */
uint64_t bz_train_rbm_param_bytes(size_t nv, size_t nh);
/* Room for a file's header and metadata, added to every bound. */
#define BZ_TRAIN_META_BYTES ((uint64_t)1 << 20)

/* v as a JSON number ("%.9g"), or null when it is not finite (JSON has no
 * NaN), for the epochs' figures; returns what snprintf returns. */
int bz_train_json_number(char *buf, size_t size, double v);

/* Fingerprint of data for bz_train_options.fingerprint: "rowsxcols:hash". */
void bz_train_data_fingerprint(const float *x, size_t n, size_t dim, const int32_t *labels,
                               char *buf, size_t size);

#endif
