#include "ops/ops_dbm.h"

#include <limits.h>
#include <stdio.h>

/* The same argument table and extent checks as ops.c and ops_dbn.c. */
typedef struct arg {
    size_t size;
    const void *value;
} arg;

#define A_BUF(b) ((arg){sizeof(cl_mem), &(b)->mem})
#define A_U32(v) ((arg){sizeof(cl_uint), &(cl_uint){(cl_uint)(v)}})
#define A_U64(v) ((arg){sizeof(cl_ulong), &(cl_ulong){(cl_ulong)(v)}})
#define A_F32(v) ((arg){sizeof(cl_float), &(cl_float){(cl_float)(v)}})

static bz_status set_args(bz_context *ctx, const char *name, cl_kernel *k, const arg *args,
                          size_t n)
{
    bz_status st = bz_kernel(ctx, name, k);
    if (st)
        return st;
    for (size_t i = 0; i < n; i++) {
        cl_int rc = clSetKernelArg(*k, (cl_uint)i, args[i].size, args[i].value);
        if (rc != CL_SUCCESS) {
            char what[80];
            snprintf(what, sizeof what, "%s, argument %zu", name, i);
            return bz_cl_fail(ctx, rc, "clSetKernelArg", what);
        }
    }
    return BZ_OK;
}

static bz_status fits(bz_context *ctx, const char *name, const bz_buf *b, size_t need)
{
    if (!b || !b->mem)
        return bz_fail(ctx, BZ_E_INVALID_ARG, "%s: missing buffer", name);
    if (need > b->count)
        return bz_fail(ctx, BZ_E_SHAPE, "%s: needs %zu floats, buffer holds %zu", name, need,
                       b->count);
    if (need > UINT_MAX)
        return bz_fail(ctx, BZ_E_SHAPE, "%s: %zu elements exceed the kernel's 32-bit index",
                       name, need);
    return BZ_OK;
}

#define RUN1D(name, global, ...)                                                       \
    do {                                                                               \
        const arg args_[] = {__VA_ARGS__};                                             \
        cl_kernel k_;                                                                  \
        bz_status st_ = set_args(ctx, name, &k_, args_, sizeof args_ / sizeof *args_); \
        if (st_)                                                                       \
            return st_;                                                                \
        return bz_launch1d(ctx, k_, name, global);                                     \
    } while (0)

#define CHECK(x)            \
    do {                    \
        bz_status c_ = (x); \
        if (c_)             \
            return c_;      \
    } while (0)

bz_status bz_op_dbm_mf_update(bz_context *ctx, bz_buf *mu, bz_buf *delta, const bz_buf *a,
                              const bz_buf *b, const bz_buf *bias, size_t rows, size_t cols)
{
    const char *n = "dbm_mf_update";
    size_t e = rows * cols;
    CHECK(fits(ctx, n, mu, e));
    CHECK(fits(ctx, n, delta, e));
    CHECK(fits(ctx, n, a, e));
    CHECK(fits(ctx, n, bias, cols));
    if (b)
        CHECK(fits(ctx, n, b, e));
    RUN1D(n, e, A_BUF(mu), A_BUF(delta), A_BUF(a), A_BUF(b ? b : a), A_BUF(bias), A_U32(rows),
          A_U32(cols), A_U32(b != NULL));
}

bz_status bz_op_dbm_sample_layer(bz_context *ctx, bz_buf *sample, const bz_buf *a,
                                 const bz_buf *b, const bz_buf *bias, const bz_buf *base,
                                 size_t rows, size_t cols, float beta, bz_rng_pos pos)
{
    const char *n = "dbm_sample_layer";
    size_t e = rows * cols;
    CHECK(fits(ctx, n, sample, e));
    CHECK(fits(ctx, n, a, e));
    CHECK(fits(ctx, n, bias, cols));
    if (b)
        CHECK(fits(ctx, n, b, e));
    if (base)
        CHECK(fits(ctx, n, base, cols));
    if (sample == a || sample == b)
        return bz_fail(ctx, BZ_E_INVALID_ARG, "%s: the sample may not alias an input", n);
    unsigned flags = (b ? 1u : 0u) | (base ? 2u : 0u);
    RUN1D(n, e, A_BUF(sample), A_BUF(a), A_BUF(b ? b : a), A_BUF(bias), A_BUF(base ? base : bias),
          A_U32(rows), A_U32(cols), A_U32(flags), A_F32(beta), A_U64(pos.seed), A_U64(pos.stream),
          A_U64(pos.offset));
}

bz_status bz_op_dbm_rows_dot_acc(bz_context *ctx, bz_buf *acc, const bz_buf *x, const bz_buf *y,
                                 bool y_vector, size_t rows, size_t cols, float scale)
{
    const char *n = "dbm_rows_dot_acc";
    CHECK(fits(ctx, n, acc, rows));
    CHECK(fits(ctx, n, x, rows * cols));
    CHECK(fits(ctx, n, y, y_vector ? cols : rows * cols));
    RUN1D(n, rows, A_BUF(acc), A_BUF(x), A_BUF(y), A_U32(rows), A_U32(cols), A_U32(!y_vector),
          A_F32(scale));
}

bz_status bz_op_dbm_rows_softplus_diff_acc(bz_context *ctx, bz_buf *acc, const bz_buf *pre,
                                           const bz_buf *bias, size_t rows, size_t cols,
                                           float beta_prev, float beta)
{
    const char *n = "dbm_rows_softplus_diff_acc";
    CHECK(fits(ctx, n, acc, rows));
    CHECK(fits(ctx, n, pre, rows * cols));
    CHECK(fits(ctx, n, bias, cols));
    RUN1D(n, rows, A_BUF(acc), A_BUF(pre), A_BUF(bias), A_U32(rows), A_U32(cols), A_F32(beta_prev),
          A_F32(beta));
}

bz_status bz_op_dbm_rows_entropy_acc(bz_context *ctx, bz_buf *acc, const bz_buf *mu, size_t rows,
                                     size_t cols)
{
    const char *n = "dbm_rows_entropy_acc";
    CHECK(fits(ctx, n, acc, rows));
    CHECK(fits(ctx, n, mu, rows * cols));
    RUN1D(n, rows, A_BUF(acc), A_BUF(mu), A_U32(rows), A_U32(cols));
}

bz_status bz_op_dbm_rows_absmax_acc(bz_context *ctx, bz_buf *acc, const bz_buf *x, size_t rows,
                                    size_t cols)
{
    const char *n = "dbm_rows_absmax_acc";
    CHECK(fits(ctx, n, acc, rows));
    CHECK(fits(ctx, n, x, rows * cols));
    RUN1D(n, rows, A_BUF(acc), A_BUF(x), A_U32(rows), A_U32(cols));
}
