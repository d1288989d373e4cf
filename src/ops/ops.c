#include "ops/ops.h"
#include "ops/launch.h"

#include <limits.h>
#include <stdio.h>

/* Work-items needed for n elements starting at stream position `offset`,
 * one Philox block of four per item. */
static size_t rng_items(size_t n, uint64_t offset)
{
    uint64_t first = offset >> 2, last = (offset + n - 1) >> 2;
    return n ? (size_t)(last - first + 1) : 0;
}

bz_status bz_op_bias_sigmoid(bz_context *ctx, bz_buf *y, const bz_buf *x, const bz_buf *b,
                             size_t rows, size_t cols)
{
    CHECK(bz_ops_fits(ctx, "bias_sigmoid", y, rows * cols));
    CHECK(bz_ops_fits(ctx, "bias_sigmoid", x, rows * cols));
    CHECK(bz_ops_fits(ctx, "bias_sigmoid", b, cols));
    RUN_ROWS("bias_sigmoid", rows, cols, A_BUF(y), A_BUF(x), A_BUF(b), A_U32(rows), A_U32(cols));
}

bz_status bz_op_bias_add(bz_context *ctx, bz_buf *y, const bz_buf *x, const bz_buf *b,
                         size_t rows, size_t cols)
{
    CHECK(bz_ops_fits(ctx, "bias_add", y, rows * cols));
    CHECK(bz_ops_fits(ctx, "bias_add", x, rows * cols));
    CHECK(bz_ops_fits(ctx, "bias_add", b, cols));
    RUN_ROWS("bias_add", rows, cols, A_BUF(y), A_BUF(x), A_BUF(b), A_U32(rows), A_U32(cols));
}

bz_status bz_op_bias_sigmoid_tempered(bz_context *ctx, bz_buf *y, const bz_buf *x,
                                      const bz_buf *b, const bz_buf *base, size_t rows,
                                      size_t cols, float scale)
{
    CHECK(bz_ops_fits(ctx, "bias_sigmoid_tempered", y, rows * cols));
    CHECK(bz_ops_fits(ctx, "bias_sigmoid_tempered", x, rows * cols));
    CHECK(bz_ops_fits(ctx, "bias_sigmoid_tempered", b, cols));
    CHECK(bz_ops_fits(ctx, "bias_sigmoid_tempered", base, cols));
    RUN_ROWS("bias_sigmoid_tempered", rows, cols, A_BUF(y), A_BUF(x), A_BUF(b), A_BUF(base),
          A_U32(rows), A_U32(cols), A_F32(scale));
}

bz_status bz_op_scale(bz_context *ctx, bz_buf *y, const bz_buf *x, size_t n, float a)
{
    CHECK(bz_ops_fits(ctx, "scale", y, n));
    CHECK(bz_ops_fits(ctx, "scale", x, n));
    RUN1D("scale", n, A_BUF(y), A_BUF(x), A_U32(n), A_F32(a));
}

bz_status bz_op_scale_block(bz_context *ctx, bz_buf *c, size_t off, size_t ldc, size_t m, size_t n,
                            float beta)
{
    CHECK(bz_ops_fits(ctx, "scale_block", c, off + (m - 1) * ldc + n));
    RUN1D("scale_block", m * n, A_BUF(c), A_U32(off), A_U32(ldc), A_U32(m), A_U32(n),
          A_F32(beta));
}

bz_status bz_op_gather_rows(bz_context *ctx, bz_buf *out, size_t out_pitch, const bz_buf *x,
                            const bz_buf *idx, size_t idx_off, size_t rows, size_t cols)
{
    /* The indices themselves are validated where they are made (a
     * permutation of the dataset's rows); here only the extents. */
    if (out_pitch < cols)
        return bz_fail(ctx, BZ_E_INTERNAL, "gather_rows: pitch %zu below %zu columns", out_pitch,
                       cols);
    CHECK(bz_ops_fits(ctx, "gather_rows", out, rows ? (rows - 1) * out_pitch + cols : 0));
    CHECK(bz_ops_fits(ctx, "gather_rows", idx, idx_off + rows));
    RUN_ROWS("gather_rows", rows, cols, A_BUF(out), A_BUF(x), A_BUF(idx), A_U32(idx_off),
          A_U32(rows), A_U32(cols), A_U32(out_pitch));
}

bz_status bz_op_philox_u32(bz_context *ctx, bz_buf *out, size_t n, bz_rng_pos pos)
{
    CHECK(bz_ops_fits(ctx, "philox_u32", out, n));
    RUN1D("philox_u32", rng_items(n, pos.offset), A_BUF(out), A_U32(n), A_U64(pos.seed),
          A_U64(pos.stream), A_U64(pos.offset));
}

bz_status bz_op_bernoulli(bz_context *ctx, bz_buf *out, const bz_buf *p, size_t n,
                          bz_rng_pos pos)
{
    CHECK(bz_ops_fits(ctx, "bernoulli", out, n));
    CHECK(bz_ops_fits(ctx, "bernoulli", p, n));
    RUN1D("bernoulli", rng_items(n, pos.offset), A_BUF(out), A_BUF(p), A_U32(n),
          A_U64(pos.seed), A_U64(pos.stream), A_U64(pos.offset));
}

bz_status bz_op_gaussian(bz_context *ctx, bz_buf *out, const bz_buf *mean, size_t n,
                         bz_rng_pos pos)
{
    CHECK(bz_ops_fits(ctx, "gaussian", out, n));
    CHECK(bz_ops_fits(ctx, "gaussian", mean, n));
    RUN1D("gaussian", rng_items(n, pos.offset), A_BUF(out), A_BUF(mean), A_U32(n),
          A_U64(pos.seed), A_U64(pos.stream), A_U64(pos.offset));
}

bz_status bz_op_bias_sigmoid_bernoulli(bz_context *ctx, bz_buf *prob, bz_buf *sample,
                                       const bz_buf *x, const bz_buf *b, size_t rows,
                                       size_t cols, bz_rng_pos pos)
{
    size_t n = rows * cols;
    CHECK(bz_ops_fits(ctx, "bias_sigmoid_bernoulli", prob, n));
    CHECK(bz_ops_fits(ctx, "bias_sigmoid_bernoulli", sample, n));
    CHECK(bz_ops_fits(ctx, "bias_sigmoid_bernoulli", x, n));
    CHECK(bz_ops_fits(ctx, "bias_sigmoid_bernoulli", b, cols));
    RUN1D("bias_sigmoid_bernoulli", rng_items(n, pos.offset), A_BUF(prob), A_BUF(sample),
          A_BUF(x), A_BUF(b), A_U32(rows), A_U32(cols), A_U64(pos.seed), A_U64(pos.stream),
          A_U64(pos.offset));
}

bz_status bz_op_momentum_update(bz_context *ctx, bz_buf *w, bz_buf *vel, const bz_buf *grad,
                                size_t n, float lr, float momentum, float decay)
{
    CHECK(bz_ops_fits(ctx, "momentum_update", w, n));
    CHECK(bz_ops_fits(ctx, "momentum_update", vel, n));
    CHECK(bz_ops_fits(ctx, "momentum_update", grad, n));
    RUN1D("momentum_update", n, A_BUF(w), A_BUF(vel), A_BUF(grad), A_U32(n), A_F32(lr),
          A_F32(momentum), A_F32(decay));
}

bz_status bz_op_decay_apply(bz_context *ctx, bz_buf *w, bz_buf *vel, size_t n, float lr_decay)
{
    CHECK(bz_ops_fits(ctx, "decay_apply", w, n));
    CHECK(bz_ops_fits(ctx, "decay_apply", vel, n));
    RUN1D("decay_apply", n, A_BUF(w), A_BUF(vel), A_U32(n), A_F32(lr_decay));
}

bz_status bz_op_layer_step(bz_context *ctx, bz_buf *w, bz_buf *wvel, size_t n, float lr_decay,
                           bz_buf *bias, bz_buf *vel, const bz_buf *x, size_t rows, size_t cols,
                           float a, float momentum)
{
    static const char name[] = "layer_step";
    CHECK(bz_ops_fits(ctx, name, w, n));
    CHECK(bz_ops_fits(ctx, name, wvel, n));
    CHECK(bz_ops_fits(ctx, name, bias, cols));
    CHECK(bz_ops_fits(ctx, name, vel, cols));
    CHECK(bz_ops_fits(ctx, name, x, rows * cols));
    if (n + cols > UINT_MAX)
        return bz_fail(ctx, BZ_E_SHAPE, "%s: %zu weights and %zu biases exceed 32-bit indexing",
                       name, n, cols);
    /* the biases start at a work-group boundary (the kernel's comment) */
    size_t wg = ctx->wg_elementwise;
    RUN1D(name, (n + wg - 1) / wg * wg + cols, A_BUF(w), A_BUF(wvel), A_U32(n), A_F32(lr_decay),
          A_BUF(bias),
          A_BUF(vel), A_BUF(x), A_U32(rows), A_U32(cols), A_F32(a), A_F32(momentum));
}

bz_status bz_op_bias_momentum_pair(bz_context *ctx, bz_buf *vb, bz_buf *vvb, const bz_buf *v0,
                                   const bz_buf *v1, size_t nv, bz_buf *hb, bz_buf *vhb,
                                   const bz_buf *h0, const bz_buf *h1, size_t nh, size_t rows,
                                   float a, float momentum, bz_buf *err)
{
    static const char name[] = "bias_momentum_pair";
    if (err)
        CHECK(bz_ops_fits(ctx, name, err, nv));
    static const cl_mem none = NULL;
    CHECK(bz_ops_fits(ctx, name, vb, nv));
    CHECK(bz_ops_fits(ctx, name, vvb, nv));
    CHECK(bz_ops_fits(ctx, name, v0, rows * nv));
    CHECK(bz_ops_fits(ctx, name, v1, rows * nv));
    CHECK(bz_ops_fits(ctx, name, hb, nh));
    CHECK(bz_ops_fits(ctx, name, vhb, nh));
    CHECK(bz_ops_fits(ctx, name, h0, rows * nh));
    CHECK(bz_ops_fits(ctx, name, h1, rows * nh));
    RUN1D(name, nv + nh, A_BUF(vb), A_BUF(vvb), A_BUF(v0), A_BUF(v1), A_U32(nv), A_BUF(hb),
          A_BUF(vhb), A_BUF(h0), A_BUF(h1), A_U32(nh), A_U32(rows), A_F32(a), A_F32(momentum),
          err ? A_BUF(err) : (bz_kernel_arg){sizeof(cl_mem), &none});
}

bz_status bz_op_outer_update(bz_context *ctx, bz_buf *w, const bz_buf *x, const bz_buf *y,
                             size_t m, size_t n, float a)
{
    CHECK(bz_ops_fits(ctx, "outer_update", w, m * n));
    CHECK(bz_ops_fits(ctx, "outer_update", x, m));
    CHECK(bz_ops_fits(ctx, "outer_update", y, n));
    RUN1D("outer_update", m * n, A_BUF(w), A_BUF(x), A_BUF(y), A_U32(m), A_U32(n), A_F32(a));
}

bz_status bz_op_col_sums(bz_context *ctx, bz_buf *out, const bz_buf *x, size_t rows, size_t cols,
                         float alpha, float beta)
{
    CHECK(bz_ops_fits(ctx, "col_sums", out, cols));
    CHECK(bz_ops_fits(ctx, "col_sums", x, rows * cols));
    RUN1D("col_sums", cols, A_BUF(out), A_BUF(x), A_U32(rows), A_U32(cols), A_F32(alpha),
          A_F32(beta));
}

bz_status bz_op_col_sum_diff(bz_context *ctx, bz_buf *out, const bz_buf *a, const bz_buf *b,
                             size_t rows, size_t cols, float alpha, float beta)
{
    CHECK(bz_ops_fits(ctx, "col_sum_diff", out, cols));
    CHECK(bz_ops_fits(ctx, "col_sum_diff", a, rows * cols));
    CHECK(bz_ops_fits(ctx, "col_sum_diff", b, rows * cols));
    RUN1D("col_sum_diff", cols, A_BUF(out), A_BUF(a), A_BUF(b), A_U32(rows), A_U32(cols),
          A_F32(alpha), A_F32(beta));
}

bz_status bz_op_row_sq_err_acc(bz_context *ctx, bz_buf *acc, const bz_buf *a, const bz_buf *b,
                               size_t rows, size_t cols)
{
    CHECK(bz_ops_fits(ctx, "row_sq_err_acc", acc, rows));
    CHECK(bz_ops_fits(ctx, "row_sq_err_acc", a, rows * cols));
    CHECK(bz_ops_fits(ctx, "row_sq_err_acc", b, rows * cols));
    RUN1D("row_sq_err_acc", rows, A_BUF(acc), A_BUF(a), A_BUF(b), A_U32(rows), A_U32(cols));
}

bz_status bz_op_free_energy_rows(bz_context *ctx, bz_buf *out, const bz_buf *v, const bz_buf *vb,
                                 const bz_buf *hpre, const bz_buf *hb, size_t rows, size_t nv,
                                 size_t nh, bool gaussian, float scale)
{
    CHECK(bz_ops_fits(ctx, "free_energy_rows", out, rows));
    CHECK(bz_ops_fits(ctx, "free_energy_rows", v, rows * nv));
    CHECK(bz_ops_fits(ctx, "free_energy_rows", vb, nv));
    CHECK(bz_ops_fits(ctx, "free_energy_rows", hpre, rows * nh));
    CHECK(bz_ops_fits(ctx, "free_energy_rows", hb, nh));
    RUN1D("free_energy_rows", rows, A_BUF(out), A_BUF(v), A_BUF(vb), A_BUF(hpre), A_BUF(hb),
          A_U32(rows), A_U32(nv), A_U32(nh), A_U32(gaussian ? 1 : 0), A_F32(scale));
}

bz_status bz_op_flip_entries(bz_context *ctx, bz_buf *v, const bz_buf *idx, size_t rows,
                             size_t cols)
{
    CHECK(bz_ops_fits(ctx, "flip_entries", v, rows * cols));
    CHECK(bz_ops_fits(ctx, "flip_entries", idx, rows));
    RUN1D("flip_entries", rows, A_BUF(v), A_BUF(idx), A_U32(rows), A_U32(cols));
}

bz_status bz_op_sparsity_update(bz_context *ctx, bz_buf *q, const bz_buf *batch_mean, bz_buf *vel,
                                size_t n, float lr_cost, float target)
{
    CHECK(bz_ops_fits(ctx, "sparsity_update", q, n));
    CHECK(bz_ops_fits(ctx, "sparsity_update", batch_mean, n));
    CHECK(bz_ops_fits(ctx, "sparsity_update", vel, n));
    RUN1D("sparsity_update", n, A_BUF(q), A_BUF(batch_mean), A_BUF(vel), A_U32(n), A_F32(lr_cost),
          A_F32(target));
}

bz_status bz_ops_set_args(bz_context *ctx, const char *name, cl_kernel *k,
                          const bz_kernel_arg *args, size_t n)
{
    bz_status st = bz_kernel(ctx, name, k);
    return st ? st : bz_kernel_set_args(ctx, *k, name, args, n);
}

bz_status bz_ops_fits(bz_context *ctx, const char *name, const bz_buf *b, size_t need)
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
