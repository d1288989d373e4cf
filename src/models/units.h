/*
 * Unit types behind one small interface: how a layer turns pre-activations
 * into means, how it samples, and what it contributes to the free energy.
 * The RBM training loop, DBN layers and DBM layers only talk to this, so new
 * unit types (softmax, ReLU) slot in without copying the loop.
 */
#ifndef BZ_MODELS_UNITS_H
#define BZ_MODELS_UNITS_H

#include "boltzcl.h"
#include "ops/ops.h"

typedef struct bz_units bz_units;
struct bz_units {
    const char *name; /* as stored in model files: "bernoulli", "gaussian" */
    bz_unit_type type;
    /* Every function gets the units themselves (u), so that a layer's own
     * parameters (a softmax group's size) travel with it, and the row shape
     * (rows x cols) of the values. */
    /* mean = E[x | pre] with pre = input + bias; mean may alias pre */
    bz_status (*mean)(const bz_units *u, bz_context *ctx, bz_buf *mean, const bz_buf *pre,
                      const bz_buf *bias, size_t rows, size_t cols);
    /* sample = a draw given the mean; sample may alias mean */
    bz_status (*sample)(const bz_units *u, bz_context *ctx, bz_buf *sample, const bz_buf *mean,
                        size_t rows, size_t cols, bz_rng_pos pos);
    /* both in one pass where the kernels allow it */
    bz_status (*mean_sample)(const bz_units *u, bz_context *ctx, bz_buf *mean, bz_buf *sample,
                             const bz_buf *pre, const bz_buf *bias, size_t rows, size_t cols,
                             bz_rng_pos pos);
    /* true: the visible free-energy term is 0.5|v-b|^2, else -v.b */
    bool quadratic_energy;
    /* true: values are probabilities in [0, 1] (pseudo-likelihood applies) */
    bool binary;
    /* per-instance parameter: the size of a trailing softmax group (0: none) */
    size_t group;
};

const bz_units *bz_units_get(bz_unit_type type);
/* By the name stored in model files; NULL when unknown. */
const bz_units *bz_units_by_name(const char *name);

#endif
