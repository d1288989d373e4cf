/*
 * The tuner's search space: CLBlast's own tuner ranges, widened a little for
 * CPUs, with its constraints (bz_tp_check) enforced at sampling time so that
 * almost every candidate compiles. A "mode" is one GEMM path: direct (the
 * XgemmDirect kernel alone) or indirect (Xgemm plus its copy, pad and
 * transpose passes).
 */
#ifndef BZ_TUNER_SPACE_H
#define BZ_TUNER_SPACE_H

#include "tuning/params.h"

#include <stdint.h>

enum { BZ_MODE_DIRECT, BZ_MODE_INDIRECT, BZ_MODE_COUNT };

/* XGEMM_MIN_INDIRECT_SIZE values that force one path at any size we use. */
#define BZ_FORCE_DIRECT 50000
#define BZ_FORCE_INDIRECT 1

uint64_t bz_space_rand(uint64_t *state);

/* Draws the mode's kernels uniformly from the valid space. */
void bz_space_random(bz_tune_params *p, int mode, uint64_t *rng, size_t local_mem, size_t max_wg);

/* Moves one to three of the mode's parameters a step (or a random jump);
 * the result is valid and differs from the input. */
void bz_space_mutate(bz_tune_params *p, int mode, uint64_t *rng, size_t local_mem, size_t max_wg);

/* Hand-picked starting points for a mode (tile shapes that suit wide SIMD
 * CPUs and GPUs alike); the search measures them before sampling, since on a
 * slow compiler every evaluation counts. Returns how many it wrote. */
size_t bz_space_seeds(int mode, bz_tune_params *out, size_t max);

/* Space-separated values of every kernel, in table order, and back. */
void bz_space_encode(const bz_tune_params *p, char *buf, size_t size);
bool bz_space_decode(bz_tune_params *p, const char *text, const char **end);

#endif
