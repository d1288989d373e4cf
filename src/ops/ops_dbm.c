#include "ops/ops_dbm.h"
#include "ops/launch.h"

#include <limits.h>
#include <stdio.h>

bz_status bz_op_dbm_mf_update(bz_context *ctx, bz_buf *mu, bz_buf *delta, const bz_buf *a,
                              const bz_buf *b, const bz_buf *bias, size_t rows, size_t cols)
{
    const char *n = "dbm_mf_update";
    size_t e = rows * cols;
    CHECK(bz_ops_fits(ctx, n, mu, e));
    CHECK(bz_ops_fits(ctx, n, delta, e));
    CHECK(bz_ops_fits(ctx, n, a, e));
    CHECK(bz_ops_fits(ctx, n, bias, cols));
    if (b)
        CHECK(bz_ops_fits(ctx, n, b, e));
    RUN_ROWS(n, rows, cols, A_BUF(mu), A_BUF(delta), A_BUF(a), A_BUF(b ? b : a), A_BUF(bias), A_U32(rows),
          A_U32(cols), A_U32(b != NULL));
}

bz_status bz_op_dbm_sample_layer(bz_context *ctx, bz_buf *sample, const bz_buf *a,
                                 const bz_buf *b, const bz_buf *bias, const bz_buf *base,
                                 size_t rows, size_t cols, float beta, bz_rng_pos pos)
{
    const char *n = "dbm_sample_layer";
    size_t e = rows * cols;
    CHECK(bz_ops_fits(ctx, n, sample, e));
    CHECK(bz_ops_fits(ctx, n, a, e));
    CHECK(bz_ops_fits(ctx, n, bias, cols));
    if (b)
        CHECK(bz_ops_fits(ctx, n, b, e));
    if (base)
        CHECK(bz_ops_fits(ctx, n, base, cols));
    if (sample == a || sample == b)
        return bz_fail(ctx, BZ_E_INVALID_ARG, "%s: the sample may not alias an input", n);
    unsigned flags = (b ? 1u : 0u) | (base ? 2u : 0u);
    RUN_ROWS(n, rows, cols, A_BUF(sample), A_BUF(a), A_BUF(b ? b : a), A_BUF(bias), A_BUF(base ? base : bias),
          A_U32(rows), A_U32(cols), A_U32(flags), A_F32(beta), A_U64(pos.seed), A_U64(pos.stream),
          A_U64(pos.offset));
}

bz_status bz_op_dbm_rows_dot_acc(bz_context *ctx, bz_buf *acc, const bz_buf *x, const bz_buf *y,
                                 bool y_vector, size_t rows, size_t cols, float scale)
{
    const char *n = "dbm_rows_dot_acc";
    CHECK(bz_ops_fits(ctx, n, acc, rows));
    CHECK(bz_ops_fits(ctx, n, x, rows * cols));
    CHECK(bz_ops_fits(ctx, n, y, y_vector ? cols : rows * cols));
    RUN1D(n, rows, A_BUF(acc), A_BUF(x), A_BUF(y), A_U32(rows), A_U32(cols), A_U32(!y_vector),
          A_F32(scale));
}

bz_status bz_op_dbm_rows_softplus_diff_acc(bz_context *ctx, bz_buf *acc, const bz_buf *pre,
                                           const bz_buf *bias, size_t rows, size_t cols,
                                           float beta_prev, float beta)
{
    const char *n = "dbm_rows_softplus_diff_acc";
    CHECK(bz_ops_fits(ctx, n, acc, rows));
    CHECK(bz_ops_fits(ctx, n, pre, rows * cols));
    CHECK(bz_ops_fits(ctx, n, bias, cols));
    RUN1D(n, rows, A_BUF(acc), A_BUF(pre), A_BUF(bias), A_U32(rows), A_U32(cols), A_F32(beta_prev),
          A_F32(beta));
}

bz_status bz_op_dbm_rows_entropy_acc(bz_context *ctx, bz_buf *acc, const bz_buf *mu, size_t rows,
                                     size_t cols)
{
    const char *n = "dbm_rows_entropy_acc";
    CHECK(bz_ops_fits(ctx, n, acc, rows));
    CHECK(bz_ops_fits(ctx, n, mu, rows * cols));
    RUN1D(n, rows, A_BUF(acc), A_BUF(mu), A_U32(rows), A_U32(cols));
}

bz_status bz_op_dbm_rows_absmax_acc(bz_context *ctx, bz_buf *acc, const bz_buf *x, size_t rows,
                                    size_t cols)
{
    const char *n = "dbm_rows_absmax_acc";
    CHECK(bz_ops_fits(ctx, n, acc, rows));
    CHECK(bz_ops_fits(ctx, n, x, rows * cols));
    RUN1D(n, rows, A_BUF(acc), A_BUF(x), A_U32(rows), A_U32(cols));
}
