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

/* Looks the device up along the search path and applies the best entry,
 * recording it in ctx->tuning_source. Never fails: a bad file or entry is a
 * warning. Returns true when CLBlast parameters were overridden. */
bool bz_tuning_apply_for_context(bz_context *ctx);

/* Replaces whatever was applied by the conservative set (bz_tp_safe). */
void bz_tuning_apply_safe(bz_context *ctx);

#endif
