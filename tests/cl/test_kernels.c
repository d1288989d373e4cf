/*
 * Every element-wise, sampling, update and reduction kernel against its host
 * reference. Tolerances: 1e-6 relative where the kernel evaluates one
 * transcendental function (float has 6e-8 unit roundoff, exp/log on OpenCL
 * devices are within 3-4 ulp); bit-exact for the generator and the Bernoulli
 * draws; 5 sigma for the statistical checks.
 */
#include "../common/cl_fixture.h"
#include "ops/ops.h"
#include "ref/reference.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

static bz_context *ctx;

static void up(bz_buf *b, const float *h, size_t n)
{
    assert_int_equal(bz_buf_alloc(ctx, b, n), BZ_OK);
    if (h)
        assert_int_equal(bz_buf_write(ctx, b, 0, h, n), BZ_OK);
}

static void down(const bz_buf *b, float *h, size_t n)
{
    assert_int_equal(bz_buf_read(ctx, b, 0, h, n), BZ_OK);
}

static void test_sigmoid(void **state)
{
    (void)state;
    enum { R = 37, C = 101, N = R * C };
    static float x[N], b[C], y[N], ref[N];
    unsigned long long s = 1;
    for (size_t i = 0; i < N; i++)
        x[i] = (bz_test_rand(&s) - 0.5f) * 40.0f;
    /* The extremes the issue names. */
    x[0] = 80.0f;
    x[1] = -80.0f;
    x[2] = 0.0f;
    for (size_t i = 0; i < C; i++)
        b[i] = i < 3 ? 0.0f : (bz_test_rand(&s) - 0.5f) * 4.0f;
    bz_buf dx, db, dy;
    up(&dx, x, N);
    up(&db, b, C);
    up(&dy, NULL, N);
    assert_int_equal(bz_op_bias_sigmoid(ctx, &dy, &dx, &db, R, C), BZ_OK);
    down(&dy, y, N);
    bz_ref_bias_sigmoid(ref, x, b, R, C);
    for (size_t i = 0; i < N; i++) {
        double tol = 1e-6 * fabs(ref[i]);
        if (!(fabs((double)y[i] - ref[i]) <= tol))
            fail_msg("sigmoid[%zu](%g) = %.9g, reference %.9g", i, (double)x[i], (double)y[i],
                     (double)ref[i]);
    }
    assert_true(y[0] == 1.0f);
    assert_true(y[1] > 0.0f && y[1] < 1e-34f);
    /* In place. */
    assert_int_equal(bz_op_bias_sigmoid(ctx, &dx, &dx, &db, R, C), BZ_OK);
    down(&dx, y, N);
    for (size_t i = 0; i < N; i++)
        assert_true(fabs((double)y[i] - ref[i]) <= 1e-6 * fabs(ref[i]));
    bz_buf_release(&dx);
    bz_buf_release(&db);
    bz_buf_release(&dy);
}

/* The rows x cols grid launcher (bz_launch_rows) at shapes where its
 * work-groups run past the rows or the columns, or hold several short rows:
 * every element gets its own column's bias, exactly once. */
static void test_row_grid_shapes(void **state)
{
    (void)state;
    const size_t shapes[][2] = {{1, 1}, {5, 3}, {300, 3}, {2, 300}, {37, 101}, {3, 1000}, {1, 257}};
    for (size_t s_ = 0; s_ < sizeof shapes / sizeof *shapes; s_++) {
        size_t R = shapes[s_][0], C = shapes[s_][1], N = R * C;
        float *x = malloc(N * sizeof *x), *b = malloc(C * sizeof *b), *y = malloc(N * sizeof *y);
        assert_true(x && b && y);
        for (size_t i = 0; i < N; i++)
            x[i] = (float)i;
        for (size_t j = 0; j < C; j++)
            b[j] = 0.25f * (float)(j + 1);
        bz_buf dx, db;
        up(&dx, x, N);
        up(&db, b, C);
        assert_int_equal(bz_op_bias_add(ctx, &dx, &dx, &db, R, C), BZ_OK);
        down(&dx, y, N);
        for (size_t i = 0; i < N; i++)
            if (y[i] != x[i] + b[i % C])
                fail_msg("%zu x %zu: element %zu is %g, expected %g", R, C, i, (double)y[i],
                         (double)(x[i] + b[i % C]));
        bz_buf_release(&dx);
        bz_buf_release(&db);
        free(x);
        free(b);
        free(y);
    }
}

static void test_rng_bits(void **state)
{
    (void)state;
    const uint64_t seeds[] = {0, 1, 0xdeadbeefcafef00dULL};
    const uint64_t streams[] = {0, 7, 1ULL << 40};
    const size_t sizes[] = {1, 3, 4, 5, 1000, 4099};
    const uint64_t offsets[] = {0, 1, 6, 1ULL << 33};
    const size_t wgs[] = {1, 7, 64, 256};
    static uint32_t dev[4099], ref[4099];
    bz_buf d;
    up(&d, NULL, 4099);
    size_t saved_wg = ctx->wg_elementwise;
    for (size_t a = 0; a < 3; a++)
        for (size_t b = 0; b < 3; b++)
            for (size_t c = 0; c < 6; c++)
                for (size_t o = 0; o < 4; o++) {
                    size_t w = wgs[(a + b + c + o) % 4];
                    if (w > ctx->dev.max_work_group)
                        w = ctx->dev.max_work_group;
                    ctx->wg_elementwise = w;
                    bz_rng_pos p = {seeds[a], streams[b], offsets[o]};
                    assert_int_equal(bz_op_philox_u32(ctx, &d, sizes[c], p), BZ_OK);
                    assert_int_equal(bz_buf_read(ctx, &d, 0, dev, sizes[c]), BZ_OK);
                    bz_ref_philox_fill(ref, sizes[c], p.seed, p.stream, p.offset);
                    if (memcmp(dev, ref, sizes[c] * 4) != 0)
                        fail_msg("philox differs: seed %llu stream %llu n %zu offset %llu wg %zu",
                                 (unsigned long long)p.seed, (unsigned long long)p.stream,
                                 sizes[c], (unsigned long long)p.offset, w);
                }
    /* The same call at every work-group size gives the same bits. */
    static uint32_t first[4099];
    for (size_t i = 0; i < 4; i++) {
        ctx->wg_elementwise = wgs[i] < ctx->dev.max_work_group ? wgs[i] : ctx->dev.max_work_group;
        assert_int_equal(bz_op_philox_u32(ctx, &d, 4099, (bz_rng_pos){5, 6, 3}), BZ_OK);
        assert_int_equal(bz_buf_read(ctx, &d, 0, i ? dev : first, 4099), BZ_OK);
        if (i)
            assert_memory_equal(dev, first, 4099 * 4);
    }
    ctx->wg_elementwise = saved_wg;
    bz_buf_release(&d);
}

static void test_bernoulli_exact(void **state)
{
    (void)state;
    enum { N = 10007 };
    static float p[N], y[N], ref[N];
    unsigned long long s = 3;
    for (size_t i = 0; i < N; i++)
        p[i] = bz_test_rand(&s);
    p[0] = 0.0f;
    p[1] = 1.0f;
    bz_buf dp, dy;
    up(&dp, p, N);
    up(&dy, NULL, N);
    bz_rng_pos pos = {11, 2, 5};
    assert_int_equal(bz_op_bernoulli(ctx, &dy, &dp, N, pos), BZ_OK);
    down(&dy, y, N);
    bz_ref_bernoulli(ref, p, N, pos.seed, pos.stream, pos.offset);
    assert_memory_equal(y, ref, sizeof y);
    assert_true(y[0] == 0.0f);
    assert_true(y[1] == 1.0f);
    bz_buf_release(&dp);
    bz_buf_release(&dy);
}

static void test_bernoulli_stats(void **state)
{
    (void)state;
    enum { N = 1000000 };
    static float p[N], y[N];
    const float probs[] = {0.01f, 0.3f, 0.5f, 0.93f};
    bz_buf dp, dy;
    up(&dp, NULL, N);
    up(&dy, NULL, N);
    for (size_t c = 0; c < 4; c++) {
        for (size_t i = 0; i < N; i++)
            p[i] = probs[c];
        assert_int_equal(bz_buf_write(ctx, &dp, 0, p, N), BZ_OK);
        assert_int_equal(bz_op_bernoulli(ctx, &dy, &dp, N, (bz_rng_pos){99, c, 0}), BZ_OK);
        down(&dy, y, N);
        double sum = 0;
        for (size_t i = 0; i < N; i++)
            sum += y[i];
        double q = probs[c], sigma = sqrt(q * (1 - q) / N);
        double mean = sum / N;
        if (fabs(mean - q) > 5 * sigma)
            fail_msg("Bernoulli(%g): mean %g is %.1f sigma away", q, mean, (mean - q) / sigma);
    }
    bz_buf_release(&dp);
    bz_buf_release(&dy);
}

static void test_gaussian(void **state)
{
    (void)state;
    enum { N = 1000000 };
    static float m[N], y[N], ref[N];
    for (size_t i = 0; i < N; i++)
        m[i] = (i % 2) ? 1.5f : -0.5f;
    bz_buf dm, dy;
    up(&dm, m, N);
    up(&dy, NULL, N);
    bz_rng_pos pos = {4, 8, 1};
    assert_int_equal(bz_op_gaussian(ctx, &dy, &dm, N, pos), BZ_OK);
    down(&dy, y, N);
    bz_ref_gaussian(ref, m, N, pos.seed, pos.stream, pos.offset);
    /* Same uniforms as the host; only log/sqrt/sin/cos rounding differs. */
    for (size_t i = 0; i < N; i++)
        if (!(fabs((double)y[i] - ref[i]) <= 2e-5 * (1.0 + fabs(ref[i]))))
            fail_msg("gaussian[%zu] = %.9g, reference %.9g", i, (double)y[i], (double)ref[i]);
    double s1 = 0, s2 = 0;
    for (size_t i = 0; i < N; i++) {
        double z = y[i] - m[i];
        s1 += z;
        s2 += z * z;
    }
    double mean = s1 / N, var = s2 / N - mean * mean;
    /* sd of the sample mean is 1/sqrt(N); of the sample variance sqrt(2/N). */
    assert_true(fabs(mean) < 5.0 / sqrt((double)N));
    assert_true(fabs(var - 1.0) < 5.0 * sqrt(2.0 / N));
    bz_buf_release(&dm);
    bz_buf_release(&dy);
}

enum { FUSED_R = 100, FUSED_C = 500, FUSED_N = FUSED_R * FUSED_C };

/* One fused call on the first rows x cols of x (device dx) and bias b: the
 * probabilities within 1e-6 of the reference and, since the draws use the
 * device's probabilities, the samples bit-exact against the reference
 * sampler fed the same probabilities. */
static void check_fused(bz_buf *dx, bz_buf *db, const float *x, const float *b, size_t rows,
                        size_t cols, bz_rng_pos pos)
{
    static float p[FUSED_N], smp[FUSED_N], rp[FUSED_N], rs[FUSED_N];
    size_t n = rows * cols;
    bz_buf dp, ds;
    up(&dp, NULL, n);
    up(&ds, NULL, n);
    assert_int_equal(bz_op_bias_sigmoid_bernoulli(ctx, &dp, &ds, dx, db, rows, cols, pos), BZ_OK);
    down(&dp, p, n);
    down(&ds, smp, n);
    bz_ref_bias_sigmoid(rp, x, b, rows, cols);
    for (size_t i = 0; i < n; i++)
        assert_true(fabs((double)p[i] - rp[i]) <= 1e-6 * fabs(rp[i]));
    bz_ref_bernoulli(rs, p, n, pos.seed, pos.stream, pos.offset);
    assert_memory_equal(smp, rs, n * sizeof *rs);
    bz_buf_release(&dp);
    bz_buf_release(&ds);
}

static void test_fused_sigmoid_bernoulli(void **state)
{
    (void)state;
    static float x[FUSED_N], b[FUSED_C];
    unsigned long long s = 9;
    for (size_t i = 0; i < FUSED_N; i++)
        x[i] = (bz_test_rand(&s) - 0.5f) * 8.0f;
    for (size_t i = 0; i < FUSED_C; i++)
        b[i] = bz_test_rand(&s) - 0.5f;
    bz_buf dx, db;
    up(&dx, x, FUSED_N);
    up(&db, b, FUSED_C);
    check_fused(&dx, &db, x, b, FUSED_R, FUSED_C, (bz_rng_pos){123, 1, 50000});
    /* Stream positions and a size that are not multiples of four: the first
     * and last Philox blocks are shared with neighbouring calls. */
    for (uint64_t off = 50001; off <= 50003; off++)
        check_fused(&dx, &db, x, b, 7, 13, (bz_rng_pos){123, 1, off});
    bz_buf_release(&dx);
    bz_buf_release(&db);
}

static void test_updates(void **state)
{
    (void)state;
    enum { M = 63, N = 29, MN = M * N };
    static float w[MN], v[MN], g[MN], rw[MN], rv[MN], x[M], y[N];
    unsigned long long s = 5;
    for (size_t i = 0; i < MN; i++) {
        w[i] = rw[i] = bz_test_rand(&s) - 0.5f;
        v[i] = rv[i] = (bz_test_rand(&s) - 0.5f) * 0.1f;
        g[i] = bz_test_rand(&s) - 0.5f;
    }
    for (size_t i = 0; i < M; i++)
        x[i] = bz_test_rand(&s);
    for (size_t i = 0; i < N; i++)
        y[i] = bz_test_rand(&s) - 0.5f;
    bz_buf dw, dv, dg, dx, dy;
    up(&dw, w, MN);
    up(&dv, v, MN);
    up(&dg, g, MN);
    up(&dx, x, M);
    up(&dy, y, N);
    assert_int_equal(bz_op_momentum_update(ctx, &dw, &dv, &dg, MN, 0.05f, 0.9f, 2e-4f), BZ_OK);
    bz_ref_momentum_update(rw, rv, g, MN, 0.05f, 0.9f, 2e-4f);
    down(&dw, w, MN);
    down(&dv, v, MN);
    for (size_t i = 0; i < MN; i++) {
        assert_true(fabsf(w[i] - rw[i]) <= 1e-6f);
        assert_true(fabsf(v[i] - rv[i]) <= 1e-6f);
    }
    assert_int_equal(bz_op_outer_update(ctx, &dw, &dx, &dy, M, N, -0.25f), BZ_OK);
    bz_ref_outer_update(rw, x, y, M, N, -0.25f);
    down(&dw, w, MN);
    for (size_t i = 0; i < MN; i++)
        assert_true(fabsf(w[i] - rw[i]) <= 1e-6f);
    /* decay_apply is the second half of an update whose gradient already sits
     * in the velocity: equal to momentum_update with momentum 1, grad 0. */
    assert_int_equal(bz_op_decay_apply(ctx, &dw, &dv, MN, 0.05f * 2e-4f), BZ_OK);
    static float zero[MN];
    bz_ref_momentum_update(rw, rv, zero, MN, 0.05f, 1.0f, 2e-4f);
    down(&dw, w, MN);
    down(&dv, v, MN);
    for (size_t i = 0; i < MN; i++) {
        assert_true(fabsf(w[i] - rw[i]) <= 1e-6f);
        assert_true(fabsf(v[i] - rv[i]) <= 1e-6f);
    }
    bz_buf_release(&dw);
    bz_buf_release(&dv);
    bz_buf_release(&dg);
    bz_buf_release(&dx);
    bz_buf_release(&dy);
}

static void test_reductions(void **state)
{
    (void)state;
    enum { R = 100, C = 257, N = R * C };
    static float a[N], b[N], out[C], ref[C], refb[C], acc[R];
    unsigned long long s = 8;
    for (size_t i = 0; i < N; i++) {
        a[i] = bz_test_rand(&s);
        b[i] = bz_test_rand(&s);
    }
    for (size_t j = 0; j < C; j++)
        out[j] = ref[j] = (float)j;
    bz_buf da, db, dout, dacc;
    up(&da, a, N);
    up(&db, b, N);
    up(&dout, out, C);
    up(&dacc, NULL, R);
    assert_int_equal(bz_op_col_sums(ctx, &dout, &da, R, C, 0.5f, 2.0f), BZ_OK);
    bz_ref_col_sums(ref, a, R, C, 0.5f, 2.0f);
    down(&dout, out, C);
    for (size_t j = 0; j < C; j++)
        assert_true(fabsf(out[j] - ref[j]) <= 1e-5f * (1 + fabsf(ref[j])));
    /* Difference of column sums = sums of a minus sums of b. */
    assert_int_equal(bz_op_col_sum_diff(ctx, &dout, &da, &db, R, C, 0.01f, 0.0f), BZ_OK);
    bz_ref_col_sums(ref, a, R, C, 0.01f, 0.0f);
    bz_ref_col_sums(refb, b, R, C, 0.01f, 0.0f);
    down(&dout, out, C);
    for (size_t j = 0; j < C; j++)
        assert_true(fabsf(out[j] - (ref[j] - refb[j])) <= 1e-5f);
    assert_int_equal(bz_buf_fill(ctx, &dacc, 1.0f, 0, R), BZ_OK);
    assert_int_equal(bz_op_row_sq_err_acc(ctx, &dacc, &da, &db, R, C), BZ_OK);
    down(&dacc, acc, R);
    for (size_t r = 0; r < R; r++) {
        double e = 1.0;
        for (size_t j = 0; j < C; j++)
            e += ((double)a[r * C + j] - b[r * C + j]) * ((double)a[r * C + j] - b[r * C + j]);
        assert_true(fabs(acc[r] - e) <= 1e-5 * e);
    }
    bz_buf_release(&da);
    bz_buf_release(&db);
    bz_buf_release(&dout);
    bz_buf_release(&dacc);
}

/* The fused bias step of CD against a double-precision host loop: each
 * half must see only its own rows and columns (sizes differ on purpose). */
/* One layer's bias step of DBN fine-tuning against a double-precision loop,
 * with momentum and without (the first step's velocity may be garbage-free
 * but the kernel must not read it then). */
/* One DBN layer's update in one launch: the weights as decay_apply (with
 * and without weight decay), the biases from the column sums of a batch of
 * deltas with momentum (pass 0: momentum 0, the velocity not read). */
static void test_layer_step(void **state)
{
    (void)state;
    enum { R = 33, C = 517, NW = 1031 };
    static float x[R * C];
    float b[C], v[C], w[NW], wv[NW], w0[NW], wv0[NW];
    double rb[C], rv[C];
    unsigned long long s = 77;
    for (size_t i = 0; i < R * C; i++)
        x[i] = bz_test_rand(&s) - 0.5f;
    for (int pass = 0; pass < 2; pass++) {
        const float a = -0.1f / R, mom = pass ? 0.9f : 0.0f, lr_decay = pass ? 0.01f : 0.0f;
        for (size_t j = 0; j < C; j++) {
            b[j] = (float)(rb[j] = bz_test_rand(&s) - 0.5);
            v[j] = pass ? (float)(rv[j] = 0.1 * (bz_test_rand(&s) - 0.5)) : NAN;
            rv[j] = pass ? rv[j] : 0.0;
        }
        for (size_t i = 0; i < NW; i++) {
            w[i] = w0[i] = bz_test_rand(&s) - 0.5f;
            wv[i] = wv0[i] = 0.01f * (bz_test_rand(&s) - 0.5f);
        }
        bz_buf db, dv, dx, dw, dwv;
        up(&db, b, C);
        up(&dv, v, C);
        up(&dx, x, R * C);
        up(&dw, w, NW);
        up(&dwv, wv, NW);
        assert_int_equal(
            bz_op_layer_step(ctx, &dw, &dwv, NW, lr_decay, &db, &dv, &dx, R, C, a, mom), BZ_OK);
        down(&db, b, C);
        down(&dv, v, C);
        down(&dw, w, NW);
        down(&dwv, wv, NW);
        for (size_t i = 0; i < NW; i++) {
            /* one multiply-add in float: within an ulp or two (the device may
             * fuse it) */
            double vel = (double)wv0[i] - (double)lr_decay * w0[i];
            if (!(fabs(wv[i] - vel) <= 1e-9 + 3e-7 * fabs(vel) &&
                  fabs(w[i] - (w0[i] + vel)) <= 1e-9 + 3e-7 * fabs(w0[i] + vel)))
                fail_msg("weight %zu: %.9g (velocity %.9g), expected %.9g (%.9g)", i,
                         (double)w[i], (double)wv[i], (double)(w0[i] + vel), (double)vel);
        }
        for (size_t j = 0; j < C; j++) {
            double sum = 0;
            for (size_t r = 0; r < R; r++)
                sum += x[r * C + j];
            double vel = (double)a * sum + (double)mom * rv[j];
            /* float sums of R terms of size 0.5: a few ulps of the total */
            assert_true(fabs(v[j] - vel) <= 1e-6 + 1e-5 * fabs(vel));
            assert_true(fabs(b[j] - (rb[j] + vel)) <= 1e-6 + 1e-5 * fabs(rb[j] + vel));
        }
        bz_buf_release(&db);
        bz_buf_release(&dv);
        bz_buf_release(&dx);
        bz_buf_release(&dw);
        bz_buf_release(&dwv);
    }
}

static void test_bias_momentum_pair(void **state)
{
    (void)state;
    enum { R = 100, NV = 257, NH = 131 };
    static float v0[R * NV], v1[R * NV], h0[R * NH], h1[R * NH];
    float vb[NV], vvb[NV], hb[NH], vhb[NH];
    double rvb[NV], rhb[NH], rvv[NV], rvh[NH];
    unsigned long long s = 21;
    for (size_t i = 0; i < R * NV; i++) {
        v0[i] = bz_test_rand(&s);
        v1[i] = bz_test_rand(&s);
    }
    for (size_t i = 0; i < R * NH; i++) {
        h0[i] = bz_test_rand(&s);
        h1[i] = bz_test_rand(&s);
    }
    for (size_t j = 0; j < NV; j++) {
        vb[j] = (float)(rvb[j] = bz_test_rand(&s) - 0.5);
        vvb[j] = (float)(rvv[j] = 0.1 * (bz_test_rand(&s) - 0.5));
    }
    for (size_t j = 0; j < NH; j++) {
        hb[j] = (float)(rhb[j] = bz_test_rand(&s) - 0.5);
        vhb[j] = (float)(rvh[j] = 0.1 * (bz_test_rand(&s) - 0.5));
    }
    const float a = 0.05f / R, mom = 0.9f;
    bz_buf d[8];
    up(&d[0], vb, NV);
    up(&d[1], vvb, NV);
    up(&d[2], v0, R * NV);
    up(&d[3], v1, R * NV);
    up(&d[4], hb, NH);
    up(&d[5], vhb, NH);
    up(&d[6], h0, R * NH);
    up(&d[7], h1, R * NH);
    float err[NV];
    for (size_t j = 0; j < NV; j++)
        err[j] = (float)j;
    bz_buf derr;
    up(&derr, err, NV);
    assert_int_equal(bz_op_bias_momentum_pair(ctx, &d[0], &d[1], &d[2], &d[3], NV, &d[4], &d[5],
                                              &d[6], &d[7], NH, R, a, mom, &derr),
                     BZ_OK);
    down(&d[0], vb, NV);
    down(&d[1], vvb, NV);
    down(&d[4], hb, NH);
    down(&d[5], vhb, NH);
    down(&derr, err, NV);
    for (size_t j = 0; j < NV; j++) {
        double e = (double)j;
        for (size_t r = 0; r < R; r++) {
            double dv = (double)v0[r * NV + j] - v1[r * NV + j];
            e += dv * dv;
        }
        assert_true(fabs(err[j] - e) <= 1e-5 * e);
    }
    bz_buf_release(&derr);
    for (size_t j = 0; j < NV + NH; j++) {
        bool vis = j < NV;
        size_t c = vis ? j : j - NV, cols = vis ? NV : NH;
        const float *x0 = vis ? v0 : h0, *x1 = vis ? v1 : h1;
        double sum = 0;
        for (size_t r = 0; r < R; r++)
            sum += (double)x0[r * cols + c] - x1[r * cols + c];
        double vel = (double)a * sum + mom * (vis ? rvv[c] : rvh[c]);
        double bias = (vis ? rvb[c] : rhb[c]) + vel;
        /* 100 float additions of terms below 1: a few 1e-7 of the sum */
        assert_true(fabs((vis ? vvb[c] : vhb[c]) - vel) <= 1e-6);
        assert_true(fabs((vis ? vb[c] : hb[c]) - bias) <= 2e-6);
    }
    for (int i = 0; i < 8; i++)
        bz_buf_release(&d[i]);
}

/* The moves of tile-aligned training (models/rbm_pad.c): rows gathered into
 * a wider pitch and rectangles copied between pitches must be exact and
 * leave the padding columns as they were. */
static void test_pitched_moves(void **state)
{
    (void)state;
    enum { ROWS = 37, COLS = 29, PITCH = 32, PICK = 11 };
    static float x[ROWS * COLS], out[PICK * PITCH], back[PICK * COLS];
    uint32_t idx[3 + PICK];
    unsigned long long s = 12;
    for (size_t i = 0; i < ROWS * COLS; i++)
        x[i] = bz_test_rand(&s);
    for (size_t r = 0; r < 3 + PICK; r++)
        idx[r] = (uint32_t)((r * 7 + 5) % ROWS);
    bz_buf dx, didx, dout, dback;
    up(&dx, x, ROWS * COLS);
    assert_int_equal(bz_buf_alloc(ctx, &didx, 3 + PICK), BZ_OK);
    assert_int_equal(bz_buf_write(ctx, &didx, 0, idx, 3 + PICK), BZ_OK);
    up(&dout, NULL, PICK * PITCH);
    up(&dback, NULL, PICK * COLS);
    assert_int_equal(bz_buf_fill(ctx, &dout, -7.0f, 0, PICK * PITCH), BZ_OK);
    assert_int_equal(bz_op_gather_rows(ctx, &dout, PITCH, &dx, &didx, 3, PICK, COLS), BZ_OK);
    down(&dout, out, PICK * PITCH);
    for (size_t r = 0; r < PICK; r++)
        for (size_t c = 0; c < PITCH; c++) {
            float want = c < COLS ? x[idx[3 + r] * COLS + c] : -7.0f;
            if (out[r * PITCH + c] != want)
                fail_msg("gather: row %zu column %zu is %g, expected %g", r, c,
                         (double)out[r * PITCH + c], (double)want);
        }
    /* and back to the narrow pitch */
    assert_int_equal(bz_buf_copy_rect(ctx, &dout, PITCH, &dback, COLS, PICK, COLS), BZ_OK);
    down(&dback, back, PICK * COLS);
    for (size_t r = 0; r < PICK; r++)
        assert_memory_equal(back + r * COLS, x + idx[3 + r] * COLS, COLS * sizeof(float));
    /* a pitch below the width, or a rectangle past the end, is refused */
    assert_int_equal(bz_op_gather_rows(ctx, &dout, COLS - 1, &dx, &didx, 0, PICK, COLS),
                     BZ_E_INTERNAL);
    assert_int_equal(bz_buf_copy_rect(ctx, &dout, PITCH, &dback, COLS, PICK + 1, COLS),
                     BZ_E_INTERNAL);
    assert_int_equal(bz_buf_copy_rect(ctx, &dout, COLS - 1, &dback, COLS, 2, COLS),
                     BZ_E_INTERNAL);
    bz_buf_release(&dx);
    bz_buf_release(&didx);
    bz_buf_release(&dout);
    bz_buf_release(&dback);
}

static void test_shape_checks(void **state)
{
    (void)state;
    bz_buf small, big;
    up(&small, NULL, 10);
    up(&big, NULL, 100);
    assert_int_equal(bz_op_bias_sigmoid(ctx, &big, &small, &small, 10, 10), BZ_E_SHAPE);
    assert_non_null(strstr(bz_last_error(ctx), "bias_sigmoid"));
    assert_int_equal(bz_buf_write(ctx, &small, 5, (float[10]){0}, 10), BZ_E_INTERNAL);
    bz_buf_release(&small);
    bz_buf_release(&big);
}

int main(void)
{
    ctx = bz_test_open_context();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sigmoid),          cmocka_unit_test(test_row_grid_shapes),
        cmocka_unit_test(test_rng_bits),
        cmocka_unit_test(test_bernoulli_exact),  cmocka_unit_test(test_bernoulli_stats),
        cmocka_unit_test(test_gaussian),         cmocka_unit_test(test_fused_sigmoid_bernoulli),
        cmocka_unit_test(test_updates),          cmocka_unit_test(test_reductions),
        cmocka_unit_test(test_layer_step),
        cmocka_unit_test(test_bias_momentum_pair),
        cmocka_unit_test(test_pitched_moves),
        cmocka_unit_test(test_shape_checks),
    };
    int r = cmocka_run_group_tests(tests, NULL, NULL);
    bz_context_free(ctx);
    return r;
}
