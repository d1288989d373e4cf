#include "models/units.h"

#include <string.h>

static bz_status bern_mean_sample(bz_context *ctx, bz_buf *mean, bz_buf *sample,
                                  const bz_buf *pre, const bz_buf *bias, size_t rows, size_t cols,
                                  bz_rng_pos pos)
{
    return bz_op_bias_sigmoid_bernoulli(ctx, mean, sample, pre, bias, rows, cols, pos);
}

static bz_status gauss_mean_sample(bz_context *ctx, bz_buf *mean, bz_buf *sample,
                                   const bz_buf *pre, const bz_buf *bias, size_t rows, size_t cols,
                                   bz_rng_pos pos)
{
    bz_status st = bz_op_bias_add(ctx, mean, pre, bias, rows, cols);
    return st ? st : bz_op_gaussian(ctx, sample, mean, rows * cols, pos);
}

static const bz_units bernoulli = {
    "bernoulli", BZ_UNIT_BERNOULLI, bz_op_bias_sigmoid, bz_op_bernoulli, bern_mean_sample,
    false,       true,
};

static const bz_units gaussian = {
    "gaussian", BZ_UNIT_GAUSSIAN, bz_op_bias_add, bz_op_gaussian, gauss_mean_sample, true, false,
};

const bz_units *bz_units_get(bz_unit_type type)
{
    switch (type) {
    case BZ_UNIT_BERNOULLI: return &bernoulli;
    case BZ_UNIT_GAUSSIAN: return &gaussian;
    }
    return NULL;
}

const bz_units *bz_units_by_name(const char *name)
{
    if (name && strcmp(name, bernoulli.name) == 0)
        return &bernoulli;
    if (name && strcmp(name, gaussian.name) == 0)
        return &gaussian;
    return NULL;
}
