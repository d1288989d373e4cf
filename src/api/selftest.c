/*
 * Known-answer self-test run before a device is used: a fused bias+sigmoid
 * and an odd-shaped transposed SGEMM, both against the host references. A
 * driver that miscompiles or a BLAS that returns garbage is caught here,
 * before it can spoil hours of training.
 */
#include "api/selftest.h"
#include "blas/gemm.h"
#include "engine/engine.h"
#include "ops/ops.h"
#include "ref/reference.h"

#include <math.h>
#include <stdlib.h>

enum { ST_ROWS = 3, ST_COLS = 37, GM = 13, GN = 7, GK = 19 };

static float pattern(size_t i)
{
    /* A deterministic, sign-changing, non-trivial input. */
    return (float)(((i * 7919u) % 257u) - 128) / 16.0f;
}

bz_status bz_selftest(bz_context *ctx)
{
    bz_status st = BZ_OK;
    bz_buf x = {0}, b = {0}, y = {0}, ga = {0}, gb = {0}, gc = {0};
    float hx[ST_ROWS * ST_COLS], hb[ST_COLS], hy[ST_ROWS * ST_COLS], ry[ST_ROWS * ST_COLS];
    float a[GK * GM], bm[GN * GK], c[GM * GN], rc[GM * GN];
    for (size_t i = 0; i < ST_ROWS * ST_COLS; i++)
        hx[i] = pattern(i) * 5.0f; /* reaches about +-40 */
    for (size_t i = 0; i < ST_COLS; i++)
        hb[i] = pattern(i + 11) / 4.0f;
    for (size_t i = 0; i < GK * GM; i++)
        a[i] = pattern(i + 3) / 8.0f;
    for (size_t i = 0; i < GN * GK; i++)
        bm[i] = pattern(i + 5) / 8.0f;
    for (size_t i = 0; i < GM * GN; i++)
        c[i] = rc[i] = pattern(i + 7);

    if ((st = bz_buf_alloc(ctx, &x, ST_ROWS * ST_COLS)) || (st = bz_buf_alloc(ctx, &b, ST_COLS)) ||
        (st = bz_buf_alloc(ctx, &y, ST_ROWS * ST_COLS)) || (st = bz_buf_alloc(ctx, &ga, GK * GM)) ||
        (st = bz_buf_alloc(ctx, &gb, GN * GK)) || (st = bz_buf_alloc(ctx, &gc, GM * GN)))
        goto done;
    if ((st = bz_buf_write(ctx, &x, 0, hx, ST_ROWS * ST_COLS)) ||
        (st = bz_buf_write(ctx, &b, 0, hb, ST_COLS)) || (st = bz_buf_write(ctx, &ga, 0, a, GK * GM)) ||
        (st = bz_buf_write(ctx, &gb, 0, bm, GN * GK)) || (st = bz_buf_write(ctx, &gc, 0, c, GM * GN)))
        goto done;
    if ((st = bz_op_bias_sigmoid(ctx, &y, &x, &b, ST_ROWS, ST_COLS)))
        goto done;
    /* C = 0.75 A^T B^T - 0.5 C with A stored k x m and B stored n x k. */
    if ((st = bz_sgemm(ctx, true, true, GM, GN, GK, 0.75f, &ga, 0, GM, &gb, 0, GK, -0.5f, &gc, 0,
                       GN)))
        goto done;
    if ((st = bz_buf_read(ctx, &y, 0, hy, ST_ROWS * ST_COLS)) ||
        (st = bz_buf_read(ctx, &gc, 0, c, GM * GN)))
        goto done;

    bz_ref_bias_sigmoid(ry, hx, hb, ST_ROWS, ST_COLS);
    for (size_t i = 0; i < ST_ROWS * ST_COLS; i++) {
        if (!(fabsf(hy[i] - ry[i]) <= 1e-6f * fabsf(ry[i]) + 1e-30f)) {
            st = bz_fail(ctx, BZ_E_SELFTEST,
                         "self-test: sigmoid element %zu is %.9g, expected %.9g (on %s)", i,
                         (double)hy[i], (double)ry[i], ctx->dev.name);
            goto done;
        }
    }
    bz_ref_sgemm(true, true, GM, GN, GK, 0.75f, a, GM, bm, GK, -0.5f, rc, GN);
    for (size_t i = 0; i < GM * GN; i++) {
        /* Inputs are exact multiples of 1/128 and k is small: float
         * accumulation is exact to a few ulps. */
        if (!(fabsf(c[i] - rc[i]) <= 1e-4f * (1.0f + fabsf(rc[i])))) {
            st = bz_fail(ctx, BZ_E_SELFTEST,
                         "self-test: SGEMM 13x7x19 (A^T B^T) element %zu is %.9g, expected "
                         "%.9g (on %s)",
                         i, (double)c[i], (double)rc[i], ctx->dev.name);
            goto done;
        }
    }
done:
    bz_buf_release(&x);
    bz_buf_release(&b);
    bz_buf_release(&y);
    bz_buf_release(&ga);
    bz_buf_release(&gb);
    bz_buf_release(&gc);
    return st;
}
