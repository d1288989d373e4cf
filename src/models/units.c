#include "models/units.h"

#include <string.h>

static bz_status bern_mean(const bz_units *u, bz_context *ctx, bz_buf *mean, const bz_buf *pre,
                           const bz_buf *bias, size_t rows, size_t cols)
{
    (void)u;
    return bz_op_bias_sigmoid(ctx, mean, pre, bias, rows, cols);
}

static bz_status bern_sample(const bz_units *u, bz_context *ctx, bz_buf *sample,
                             const bz_buf *mean, size_t rows, size_t cols, bz_rng_pos pos)
{
    (void)u;
    return bz_op_bernoulli(ctx, sample, mean, rows * cols, pos);
}

static bz_status gauss_mean(const bz_units *u, bz_context *ctx, bz_buf *mean, const bz_buf *pre,
                            const bz_buf *bias, size_t rows, size_t cols)
{
    (void)u;
    return bz_op_bias_add(ctx, mean, pre, bias, rows, cols);
}

static bz_status gauss_sample(const bz_units *u, bz_context *ctx, bz_buf *sample,
                              const bz_buf *mean, size_t rows, size_t cols, bz_rng_pos pos)
{
    (void)u;
    return bz_op_gaussian(ctx, sample, mean, rows * cols, pos);
}

static bz_status bern_mean_sample(const bz_units *u, bz_context *ctx, bz_buf *mean, bz_buf *sample,
                                  const bz_buf *pre, const bz_buf *bias, size_t rows, size_t cols,
                                  bz_rng_pos pos)
{
    (void)u;
    return bz_op_bias_sigmoid_bernoulli(ctx, mean, sample, pre, bias, rows, cols, pos);
}

static bz_status gauss_mean_sample(const bz_units *u, bz_context *ctx, bz_buf *mean, bz_buf *sample,
                                   const bz_buf *pre, const bz_buf *bias, size_t rows, size_t cols,
                                   bz_rng_pos pos)
{
    (void)u;
    bz_status st = bz_op_bias_add(ctx, mean, pre, bias, rows, cols);
    return st ? st : bz_op_gaussian(ctx, sample, mean, rows * cols, pos);
}

static const bz_units bernoulli = {
    "bernoulli", BZ_UNIT_BERNOULLI, bern_mean, bern_sample, bern_mean_sample, false, true, 0,
};

static const bz_units gaussian = {
    "gaussian", BZ_UNIT_GAUSSIAN, gauss_mean, gauss_sample, gauss_mean_sample, true, false, 0,
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
