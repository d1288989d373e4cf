#include "ops/ops_dbn.h"
#include "ops/launch.h"

#include <limits.h>
#include <stdio.h>

bz_status bz_op_bias_relu(bz_context *ctx, bz_buf *y, const bz_buf *x, const bz_buf *b,
                          size_t rows, size_t cols)
{
    CHECK(bz_ops_fits(ctx, "bias_relu", y, rows * cols));
    CHECK(bz_ops_fits(ctx, "bias_relu", x, rows * cols));
    CHECK(bz_ops_fits(ctx, "bias_relu", b, cols));
    RUN_ROWS("bias_relu", rows, cols, A_BUF(y), A_BUF(x), A_BUF(b), A_U32(rows), A_U32(cols));
}

bz_status bz_op_bias_softmax(bz_context *ctx, bz_buf *y, const bz_buf *x, const bz_buf *b,
                             size_t rows, size_t cols)
{
    CHECK(bz_ops_fits(ctx, "bias_softmax", y, rows * cols));
    CHECK(bz_ops_fits(ctx, "bias_softmax", x, rows * cols));
    CHECK(bz_ops_fits(ctx, "bias_softmax", b, cols));
    RUN1D("bias_softmax", rows, A_BUF(y), A_BUF(x), A_BUF(b), A_U32(rows), A_U32(cols));
}

bz_status bz_op_softmax_xent_grad(bz_context *ctx, bz_buf *prob, bz_buf *delta, bz_buf *loss,
                                  bz_buf *correct, const bz_buf *x, const bz_buf *b,
                                  const bz_buf *labels, size_t rows, size_t cols, float scale)
{
    if (cols == 0)
        return bz_fail(ctx, BZ_E_SHAPE, "softmax_xent_grad: no classes");
    CHECK(bz_ops_fits(ctx, "softmax_xent_grad", prob, rows * cols));
    CHECK(bz_ops_fits(ctx, "softmax_xent_grad", delta, rows * cols));
    CHECK(bz_ops_fits(ctx, "softmax_xent_grad", loss, rows));
    CHECK(bz_ops_fits(ctx, "softmax_xent_grad", correct, rows));
    CHECK(bz_ops_fits(ctx, "softmax_xent_grad", x, rows * cols));
    CHECK(bz_ops_fits(ctx, "softmax_xent_grad", b, cols));
    CHECK(bz_ops_fits(ctx, "softmax_xent_grad", labels, rows));
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
    CHECK(bz_ops_fits(ctx, "dropout_fwd", a, n));
    RUN1D("dropout_fwd", n, A_BUF(a), A_U32(n), A_F32(p), A_U64(pos.seed), A_U64(pos.stream),
          A_U64(pos.offset));
}

bz_status bz_op_act_backward(bz_context *ctx, bz_buf *delta, const bz_buf *a, size_t n,
                             bz_dbn_act act, float p, bz_rng_pos pos)
{
    if (act != BZ_ACT_SIGMOID && act != BZ_ACT_RELU)
        return bz_fail(ctx, BZ_E_INVALID_ARG, "act_backward: unknown activation %d", (int)act);
    CHECK(check_p(ctx, "act_backward", p));
    CHECK(bz_ops_fits(ctx, "act_backward", delta, n));
    CHECK(bz_ops_fits(ctx, "act_backward", a, n));
    RUN1D("act_backward", n, A_BUF(delta), A_BUF(a), A_U32(n), A_U32(act), A_F32(p),
          A_U64(pos.seed), A_U64(pos.stream), A_U64(pos.offset));
}

bz_status bz_op_bias_sigmoid_softmax_tail(bz_context *ctx, bz_buf *y, const bz_buf *x,
                                          const bz_buf *b, size_t rows, size_t cols, size_t k)
{
    if (k > cols)
        return bz_fail(ctx, BZ_E_SHAPE, "bias_sigmoid_softmax_tail: %zu label units of %zu", k,
                       cols);
    CHECK(bz_ops_fits(ctx, "bias_sigmoid_softmax_tail", y, rows * cols));
    CHECK(bz_ops_fits(ctx, "bias_sigmoid_softmax_tail", x, rows * cols));
    CHECK(bz_ops_fits(ctx, "bias_sigmoid_softmax_tail", b, cols));
    RUN1D("bias_sigmoid_softmax_tail", rows * (cols - k) + rows, A_BUF(y), A_BUF(x), A_BUF(b), A_U32(rows),
          A_U32(cols), A_U32(k));
}

bz_status bz_op_sample_bernoulli_softmax_tail(bz_context *ctx, bz_buf *out, const bz_buf *mean,
                                              size_t rows, size_t cols, size_t k, bz_rng_pos pos)
{
    if (k > cols)
        return bz_fail(ctx, BZ_E_SHAPE, "sample_bernoulli_softmax_tail: %zu label units of %zu",
                       k, cols);
    CHECK(bz_ops_fits(ctx, "sample_bernoulli_softmax_tail", out, rows * cols));
    CHECK(bz_ops_fits(ctx, "sample_bernoulli_softmax_tail", mean, rows * cols));
    RUN1D("sample_bernoulli_softmax_tail", rows * (cols - k) + rows, A_BUF(out), A_BUF(mean), A_U32(rows),
          A_U32(cols), A_U32(k), A_U64(pos.seed), A_U64(pos.stream), A_U64(pos.offset));
}
