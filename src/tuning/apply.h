/*
 * Applying a tuning entry to a context: CLBlast's kernels through
 * CLBlastOverrideParameters (process-wide for the device, as CLBlast keeps
 * it), boltzcl's own launch sizes in the context.
 */
#ifndef BZ_TUNING_APPLY_H
#define BZ_TUNING_APPLY_H

#include "engine/engine.h"
#include "tuning/db.h"

#include <stdbool.h>

/* Describes ctx's device as the tuning files key it. */
void bz_tuning_target_of(const bz_context *ctx, bz_tuning_target *t);

/* Overrides every kernel p has; a kernel CLBlast refuses is skipped and
 * counted. Returns the number refused, the last reason in why. */
int bz_tuning_apply_params(bz_context *ctx, const bz_tune_params *p, char *why, size_t size);

/* Counts the overrides of CLBlast's parameters in this process (they hold
 * for every context on the device): what depends on the parameters in force,
 * such as the temporary-buffer sizes blas/gemm.c remembers, compares it. */
unsigned long bz_tuning_generation(void);

/* Looks the device up along the search path and applies the best entry,
 * recording it in ctx->tuning_source. Never fails: a bad file or entry is a
 * warning. Returns true when CLBlast parameters were overridden. */
bool bz_tuning_apply_for_context(bz_context *ctx);

/* Replaces whatever was applied by the conservative set (bz_tp_safe). */
void bz_tuning_apply_safe(bz_context *ctx);

/* What a context keeps of its tuning: the device's entry and the batch
 * entries (db.h) that match the device, one per batch size. */
#define BZ_TUNING_MAX_BATCHES 8

typedef struct bz_tuning_batch {
    size_t batch;
    bz_tune_params params;
    char source[600];
    bool refused; /* failed its check on this device: never applied again */
} bz_tuning_batch;

struct bz_tuning_state {
    bool has_base;
    bz_tune_params base;
    bz_tuning_batch batches[BZ_TUNING_MAX_BATCHES];
    size_t n_batches;
    int applied; /* index into batches, -1 for the device's entry alone */
};

/* Lays the batch entry for batch over the device's entry (or takes it off
 * when there is none for that batch). Returns the entry now in force, or
 * NULL for the device's entry; *changed says whether parameters were
 * overridden, so that the caller can check them. */
const bz_tuning_batch *bz_tuning_use_batch(bz_context *ctx, size_t batch, bool *changed);

/* After a batch entry failed its check: back to the device's entry, and the
 * batch entry is not used again by this context. */
void bz_tuning_refuse_batch(bz_context *ctx);

/* The tiles of CLBlast's indirect GEMM kernel in force for ctx, from its
 * tuning (a batch entry over the device's), so that models can lay their
 * matrices out on them. False when no tuning sets them: CLBlast's own
 * choice is not known here. */
typedef struct bz_gemm_tiles {
    size_t gemmk, mwg, nwg, kwg;
    size_t min_indirect; /* products of m n k >= this cubed run indirect */
} bz_gemm_tiles;

bool bz_tuning_gemm_tiles(const bz_context *ctx, bz_gemm_tiles *t);

/* The context goes away: CLBlast's parameters no longer belong to it. */
void bz_tuning_forget(const bz_context *ctx);

#endif
