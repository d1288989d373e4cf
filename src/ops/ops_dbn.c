#include "ops/ops_dbn.h"

#include <limits.h>
#include <stdio.h>

/* The same argument table and extent checks as ops.c. */
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
        const arg args_[] = {__VA_ARGS__};                                              \
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

bz_status bz_op_bias_relu(bz_context *ctx, bz_buf *y, const bz_buf *x, const bz_buf *b,
                          size_t rows, size_t cols)
{
    CHECK(fits(ctx, "bias_relu", y, rows * cols));
    CHECK(fits(ctx, "bias_relu", x, rows * cols));
    CHECK(fits(ctx, "bias_relu", b, cols));
    RUN1D("bias_relu", rows * cols, A_BUF(y), A_BUF(x), A_BUF(b), A_U32(rows), A_U32(cols));
}

bz_status bz_op_bias_softmax(bz_context *ctx, bz_buf *y, const bz_buf *x, const bz_buf *b,
                             size_t rows, size_t cols)
{
    CHECK(fits(ctx, "bias_softmax", y, rows * cols));
    CHECK(fits(ctx, "bias_softmax", x, rows * cols));
    CHECK(fits(ctx, "bias_softmax", b, cols));
    RUN1D("bias_softmax", rows, A_BUF(y), A_BUF(x), A_BUF(b), A_U32(rows), A_U32(cols));
}

bz_status bz_op_softmax_xent_grad(bz_context *ctx, bz_buf *prob, bz_buf *delta, bz_buf *loss,
                                  bz_buf *correct, const bz_buf *x, const bz_buf *b,
                                  const bz_buf *labels, size_t rows, size_t cols, float scale)
{
    if (cols == 0)
        return bz_fail(ctx, BZ_E_SHAPE, "softmax_xent_grad: no classes");
    CHECK(fits(ctx, "softmax_xent_grad", prob, rows * cols));
    CHECK(fits(ctx, "softmax_xent_grad", delta, rows * cols));
    CHECK(fits(ctx, "softmax_xent_grad", loss, rows));
    CHECK(fits(ctx, "softmax_xent_grad", correct, rows));
    CHECK(fits(ctx, "softmax_xent_grad", x, rows * cols));
    CHECK(fits(ctx, "softmax_xent_grad", b, cols));
    CHECK(fits(ctx, "softmax_xent_grad", labels, rows));
    RUN1D("softmax_xent_grad", rows, A_BUF(prob), A_BUF(delta), A_BUF(loss), A_BUF(correct),
          A_BUF(x), A_BUF(b), A_BUF(labels), A_U32(rows), A_U32(cols), A_F32(scale));
}

static bz_status check_p(bz_context *ctx, const char *name, float p)
{
    if (!(p >= 0.0f && p < 1.0f))
        return bz_fail(ctx, BZ_E_INVALID_ARG, "%s: dropout probability %g is not in [0, 1)", name,
                       (double)p);
    return BZ_OK;
}

bz_status bz_op_dropout_fwd(bz_context *ctx, bz_buf *a, size_t n, float p, bz_rng_pos pos)
{
    CHECK(check_p(ctx, "dropout_fwd", p));
    CHECK(fits(ctx, "dropout_fwd", a, n));
    RUN1D("dropout_fwd", n, A_BUF(a), A_U32(n), A_F32(p), A_U64(pos.seed), A_U64(pos.stream),
          A_U64(pos.offset));
}

bz_status bz_op_act_backward(bz_context *ctx, bz_buf *delta, const bz_buf *a, size_t n,
                             bz_dbn_act act, float p, bz_rng_pos pos)
{
    if (act != BZ_ACT_SIGMOID && act != BZ_ACT_RELU)
        return bz_fail(ctx, BZ_E_INVALID_ARG, "act_backward: unknown activation %d", (int)act);
    CHECK(check_p(ctx, "act_backward", p));
    CHECK(fits(ctx, "act_backward", delta, n));
    CHECK(fits(ctx, "act_backward", a, n));
    RUN1D("act_backward", n, A_BUF(delta), A_BUF(a), A_U32(n), A_U32(act), A_F32(p),
          A_U64(pos.seed), A_U64(pos.stream), A_U64(pos.offset));
}

bz_status bz_op_bias_sigmoid_softmax_tail(bz_context *ctx, bz_buf *y, const bz_buf *x,
                                          const bz_buf *b, size_t rows, size_t cols, size_t k)
{
    if (k > cols)
        return bz_fail(ctx, BZ_E_SHAPE, "bias_sigmoid_softmax_tail: %zu label units of %zu", k,
                       cols);
    CHECK(fits(ctx, "bias_sigmoid_softmax_tail", y, rows * cols));
    CHECK(fits(ctx, "bias_sigmoid_softmax_tail", x, rows * cols));
    CHECK(fits(ctx, "bias_sigmoid_softmax_tail", b, cols));
    RUN1D("bias_sigmoid_softmax_tail", rows * (cols - k) + rows, A_BUF(y), A_BUF(x), A_BUF(b), A_U32(rows),
          A_U32(cols), A_U32(k));
}

bz_status bz_op_sample_bernoulli_softmax_tail(bz_context *ctx, bz_buf *out, const bz_buf *mean,
                                              size_t rows, size_t cols, size_t k, bz_rng_pos pos)
{
    if (k > cols)
        return bz_fail(ctx, BZ_E_SHAPE, "sample_bernoulli_softmax_tail: %zu label units of %zu",
                       k, cols);
    CHECK(fits(ctx, "sample_bernoulli_softmax_tail", out, rows * cols));
    CHECK(fits(ctx, "sample_bernoulli_softmax_tail", mean, rows * cols));
    RUN1D("sample_bernoulli_softmax_tail", rows * (cols - k) + rows, A_BUF(out), A_BUF(mean), A_U32(rows),
          A_U32(cols), A_U32(k), A_U64(pos.seed), A_U64(pos.stream), A_U64(pos.offset));
}
