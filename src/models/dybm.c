/*
 * The DyBM on the device (model in dybm.h, kernels in kernels/dybm.cl):
 * parameters, per-series state, and runs of many steps. Three ways to
 * advance: one launch of dybm_fused for all T steps (one work-group loops
 * over t with barriers: no host round trip, no per-step launch; the way for
 * a single series or a small batch); for batches, per step two launches
 * over the whole device (dybm_mean8: fields, outputs and errors, a block of
 * 8 units for 8 series per work-item; dybm_grad8: the update and the
 * shift), the automatic choice; or per step two GEMMs (CLBlast) and three
 * element-wise kernels, kept for devices where CLBlast's products win.
 */
#include "models/dybm.h"
#include "blas/gemm.h"
#include "engine/check.h"
#include "ref/reference.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Longest run in one launch of the fused kernel (a GPU's watchdog). */
#define FUSED_MAX_STEPS 4096
/* B*N at most this runs fused by default. */
#define FUSED_MAX_BN 4096

size_t bz_dybm_inputs(const bz_dybm *d)
{
    return (d->delay - 1 + d->k) * d->n;
}

static bz_status kernel_of(bz_dybm *d, const char *name, cl_kernel *k)
{
    cl_int rc;
    *k = clCreateKernel(d->prog, name, &rc);
    return rc == CL_SUCCESS ? BZ_OK : bz_cl_fail(d->ctx, rc, "clCreateKernel", name);
}

bool bz_dybm_parse_decays(const char *s, float *decay, size_t *k)
{
    *k = 0;
    if (!s || !*s || !strcmp(s, "none"))
        return true;
    const char *p = s;
    for (;;) {
        char *end;
        double v = strtod(p, &end);
        if (end == p || !(v >= 0 && v < 1) || *k == BZ_DYBM_MAX_DECAYS)
            return false;
        decay[(*k)++] = (float)v;
        if (*end == '\0')
            return true;
        if (*end != ',')
            return false;
        p = end + 1;
    }
}

bz_status bz_dybm_create(bz_context *ctx, size_t n, size_t delay, const float *decay, size_t k,
                         bool binary, bz_dybm **out)
{
    *out = NULL;
    if (!ctx || !ctx->ready)
        return ctx ? bz_fail(ctx, BZ_E_INVALID_ARG, "the context has no device")
                   : BZ_E_INVALID_ARG;
    if (n < 1 || n > BZ_DYBM_MAX_N || delay < 1 || delay > BZ_DYBM_MAX_DELAY ||
        k > BZ_DYBM_MAX_DECAYS || (delay == 1 && k == 0))
        return bz_fail(ctx, BZ_E_INVALID_ARG,
                       "a DyBM needs 1 to %d variables, a delay of 1 to %d and at most %d decay "
                       "rates, and some input (delay 1 needs a decay rate); got %zu, %zu, %zu",
                       BZ_DYBM_MAX_N, BZ_DYBM_MAX_DELAY, BZ_DYBM_MAX_DECAYS, n, delay, k);
    for (size_t i = 0; i < k; i++)
        if (!(decay[i] >= 0 && decay[i] < 1))
            return bz_fail(ctx, BZ_E_INVALID_ARG, "decay rate %g is not in [0, 1)",
                           (double)decay[i]);
    size_t M = (delay - 1 + k) * n;
    if (M * n > ((size_t)1 << 31))
        return bz_fail(ctx, BZ_E_INVALID_ARG, "a DyBM of %zu variables and %zu inputs is too "
                                              "large", n, M);
    bz_dybm *d = calloc(1, sizeof *d);
    if (!d)
        return bz_fail(ctx, BZ_E_NOMEM, "out of memory");
    d->ctx = ctx;
    d->n = n;
    d->delay = delay;
    d->k = k;
    d->np = (n + 7) / 8 * 8;
    if (k)
        memcpy(d->decay, decay, k * sizeof *decay);
    d->binary = binary;
    d->opt = BZ_DYBM_RMSPROP;
    d->lr = 0.001f;
    d->rho = 0.9f;
    d->eps = 1e-6f;
    d->mean = calloc(n, sizeof *d->mean);
    d->scale = malloc(n * sizeof *d->scale);
    d->sigma = malloc(n * sizeof *d->sigma);
    bz_status st = BZ_OK;
    if (!d->mean || !d->scale || !d->sigma) {
        st = bz_fail(ctx, BZ_E_NOMEM, "out of memory");
        goto fail;
    }
    for (size_t i = 0; i < n; i++)
        d->scale[i] = d->sigma[i] = 1;
    static const char *const files[] = {"dybm.cl"};
    float dec[BZ_DYBM_MAX_DECAYS + 1] = {0};
    if (k)
        memcpy(dec, decay, k * sizeof *decay);
    if ((st = bz_program_build(ctx, files, 1, "", &d->prog)) ||
        (st = kernel_of(d, "dybm_fused", &d->k_fused)) ||
        (st = kernel_of(d, "dybm_out", &d->k_out)) ||
        (st = kernel_of(d, "dybm_update", &d->k_update)) ||
        (st = kernel_of(d, "dybm_shift", &d->k_shift)) ||
        (st = kernel_of(d, "dybm_mean8", &d->k_mean8)) ||
        (st = kernel_of(d, "dybm_grad8", &d->k_grad8)) ||
        (st = bz_buf_alloc(ctx, &d->P, M * d->np)) ||
        (st = bz_buf_alloc(ctx, &d->sP, M * d->np)) || (st = bz_buf_alloc(ctx, &d->b, d->np)) ||
        (st = bz_buf_alloc(ctx, &d->sb, d->np)) ||
        (st = bz_buf_alloc(ctx, &d->dec, k + 1)) ||
        (st = bz_buf_write(ctx, &d->dec, 0, dec, k + 1)) ||
        (st = bz_buf_fill(ctx, &d->P, 0, 0, M * d->np)) ||
        (st = bz_buf_fill(ctx, &d->b, 0, 0, d->np)) ||
        (st = bz_dybm_reset_optimizer(d)))
        goto fail;
    *out = d;
    return BZ_OK;
fail:
    bz_dybm_free(d);
    return st;
}

static void release_state(bz_dybm *d)
{
    bz_buf_release(&d->Z[0]);
    bz_buf_release(&d->Z[1]);
    bz_buf_release(&d->ERR);
    bz_buf_release(&d->XC);
    bz_buf_release(&d->MU);
    bz_buf_release(&d->G);
    d->batch = 0;
}

void bz_dybm_free(bz_dybm *d)
{
    if (!d)
        return;
    release_state(d);
    bz_buf_release(&d->P);
    bz_buf_release(&d->sP);
    bz_buf_release(&d->b);
    bz_buf_release(&d->sb);
    bz_buf_release(&d->dec);
    cl_kernel ks[] = {d->k_fused, d->k_out, d->k_update, d->k_shift, d->k_mean8, d->k_grad8};
    for (size_t i = 0; i < sizeof ks / sizeof *ks; i++)
        if (ks[i])
            clReleaseKernel(ks[i]);
    if (d->prog)
        clReleaseProgram(d->prog);
    free(d->mean);
    free(d->scale);
    free(d->sigma);
    bz_meta_free(&d->meta);
    free(d);
}

bz_status bz_dybm_get_params(bz_dybm *d, float *P, float *b)
{
    const size_t M = bz_dybm_inputs(d), N = d->n, NP = d->np;
    float *pad = malloc(M * NP * sizeof *pad);
    if (!pad)
        return bz_fail(d->ctx, BZ_E_NOMEM, "out of memory");
    bz_status st = bz_buf_read(d->ctx, &d->P, 0, pad, M * NP);
    for (size_t m = 0; m < M && !st; m++)
        memcpy(P + m * N, pad + m * NP, N * sizeof *P);
    if (!st)
        st = bz_buf_read(d->ctx, &d->b, 0, b, N);
    free(pad);
    return st;
}

bz_status bz_dybm_set_params(bz_dybm *d, const float *P, const float *b)
{
    const size_t M = bz_dybm_inputs(d), N = d->n, NP = d->np;
    float *pad = calloc(M * NP, sizeof *pad);
    if (!pad)
        return bz_fail(d->ctx, BZ_E_NOMEM, "out of memory");
    for (size_t m = 0; m < M; m++)
        memcpy(pad + m * NP, P + m * N, N * sizeof *P);
    bz_status st = bz_buf_write(d->ctx, &d->P, 0, pad, M * NP);
    if (!st)
        st = bz_buf_write(d->ctx, &d->b, 0, b, N);
    free(pad);
    return st;
}

bz_status bz_dybm_reset_optimizer(bz_dybm *d)
{
    CHECK(bz_buf_fill(d->ctx, &d->sP, 0, 0, bz_dybm_inputs(d) * d->np));
    return bz_buf_fill(d->ctx, &d->sb, 0, 0, d->np);
}

bz_status bz_dybm_reset(bz_dybm *d, size_t batch)
{
    if (batch < 1)
        return bz_fail(d->ctx, BZ_E_INVALID_ARG, "a DyBM run needs at least one series");
    size_t M = bz_dybm_inputs(d), N = d->n;
    if (batch * M > ((size_t)1 << 31) || batch * N * (size_t)FUSED_MAX_STEPS > ((size_t)1 << 32))
        return bz_fail(d->ctx, BZ_E_INVALID_ARG, "%zu series of a DyBM with %zu inputs are too "
                                                 "many for one run", batch, M);
    if (d->batch != batch) {
        release_state(d);
        bz_status st;
        if ((st = bz_buf_alloc(d->ctx, &d->Z[0], batch * M)) ||
            (st = bz_buf_alloc(d->ctx, &d->Z[1], batch * M)) ||
            (st = bz_buf_alloc(d->ctx, &d->ERR, batch * d->np)) ||
            (st = bz_buf_alloc(d->ctx, &d->XC, batch * N)) ||
            (st = bz_buf_alloc(d->ctx, &d->MU, batch * d->np)) ||
            (st = bz_buf_alloc(d->ctx, &d->G, M * d->np)) ||
            (st = bz_buf_fill(d->ctx, &d->ERR, 0, 0, batch * d->np))) {
            release_state(d);
            return st;
        }
        d->batch = batch;
    }
    d->cur = 0;
    return bz_buf_fill(d->ctx, &d->Z[0], 0, 0, batch * M);
}

bz_status bz_dybm_get_state(bz_dybm *d, float *z)
{
    return bz_buf_read(d->ctx, &d->Z[d->cur], 0, z, d->batch * bz_dybm_inputs(d));
}

bz_status bz_dybm_set_state(bz_dybm *d, const float *z)
{
    return bz_buf_write(d->ctx, &d->Z[d->cur], 0, z, d->batch * bz_dybm_inputs(d));
}

/* Kernel arguments (engine.h's BZ_KARG_*, short names for the long lists
 * below). */
#define KB BZ_KARG_BUF
#define KU BZ_KARG_U32
#define KI BZ_KARG_I32
#define KF BZ_KARG_F32
#define SET(k, name, ...)                                                                       \
    do {                                                                                        \
        const bz_kernel_arg a_[] = {__VA_ARGS__};                                               \
        CHECK(bz_kernel_set_args(d->ctx, k, name, a_, sizeof a_ / sizeof *a_));                 \
    } while (0)

static bz_status run_fused(bz_dybm *d, int mode, const bz_buf *X, size_t x_off, bz_buf *OUT,
                           size_t out_off, size_t T)
{
    bz_context *ctx = d->ctx;
    const size_t N = d->n, M = bz_dybm_inputs(d), B = d->batch;
    size_t kmax = 0;
    cl_int rc = clGetKernelWorkGroupInfo(d->k_fused, ctx->dev.id, CL_KERNEL_WORK_GROUP_SIZE,
                                         sizeof kmax, &kmax, NULL);
    if (rc != CL_SUCCESS)
        return bz_cl_fail(ctx, rc, "clGetKernelWorkGroupInfo", "dybm_fused");
    size_t L = 1, NB = d->np / 8;
    while (L < NB && L < 64)
        L *= 2;
    while (L > kmax && L > 1)
        L /= 2;
    for (size_t t0 = 0; t0 < T; t0 += FUSED_MAX_STEPS) {
        size_t steps = T - t0 < FUSED_MAX_STEPS ? T - t0 : FUSED_MAX_STEPS;
        SET(d->k_fused, "dybm_fused", KU(N), KU(d->np), KU(M), KU(d->delay - 1), KU(d->k),
            KU(B), KU(steps), KI(d->binary), KI(d->opt), KF(d->lr), KF(d->rho), KF(d->eps),
            KI(mode), KB(&d->dec),
            KB(X), KU(x_off + t0 * B * N), KB(OUT), KU(out_off + t0 * B * N),
            KB(&d->Z[d->cur]), KB(&d->Z[1 - d->cur]), KB(&d->P), KB(&d->b), KB(&d->sP),
            KB(&d->sb), KB(&d->ERR), KB(&d->XC));
        if (bz_fault_hit(ctx))
            return bz_fail(ctx, BZ_E_OPENCL, "clEnqueueNDRangeKernel(dybm_fused): injected fault");
        double t = bz_prof_begin(ctx);
        rc = clEnqueueNDRangeKernel(ctx->queue, d->k_fused, 1, NULL, &L, &L, 0, NULL, NULL);
        bz_prof_end(ctx, "dybm_fused", t);
        if (rc != CL_SUCCESS)
            return bz_cl_fail(ctx, rc, "clEnqueueNDRangeKernel", "dybm_fused");
        d->cur ^= (int)(steps & 1);
    }
    return BZ_OK;
}

static bz_status run_gemm(bz_dybm *d, int mode, const bz_buf *X, size_t x_off, bz_buf *OUT,
                          size_t out_off, size_t T)
{
    bz_context *ctx = d->ctx;
    const size_t N = d->n, NP = d->np, M = bz_dybm_inputs(d), B = d->batch;
    for (size_t t = 0; t < T; t++) {
        bz_buf *zc = &d->Z[d->cur], *zn = &d->Z[1 - d->cur];
        /* MU (B x NP) = Z (B x M) P (M x NP) */
        CHECK(bz_sgemm(ctx, false, false, B, NP, M, 1.0f, zc, 0, M, &d->P, 0, NP, 0.0f, &d->MU,
                       0, NP));
        SET(d->k_out, "dybm_out", KU(N), KU(NP), KI(d->binary), KI(mode), KB(X),
            KU(x_off + t * B * N), KB(OUT), KU(out_off + t * B * N), KB(&d->MU), KB(&d->b),
            KB(&d->ERR), KB(&d->XC), KU(B * N));
        CHECK(bz_launch1d(ctx, d->k_out, "dybm_out", B * N));
        if (mode == BZ_DYBM_LEARN) {
            /* G (M x NP) = Z^T (M x B) ERR (B x NP) / B */
            CHECK(bz_sgemm(ctx, true, false, M, NP, B, 1.0f / (float)B, zc, 0, M, &d->ERR, 0,
                           NP, 0.0f, &d->G, 0, NP));
            SET(d->k_update, "dybm_update", KU(N), KU(NP), KU(M * NP), KU(B), KI(d->opt), KF(d->lr),
                KF(d->rho), KF(d->eps), KB(&d->G), KB(&d->P), KB(&d->sP), KB(&d->ERR), KB(&d->b),
                KB(&d->sb));
            CHECK(bz_launch1d(ctx, d->k_update, "dybm_update", M * NP + N));
        }
        SET(d->k_shift, "dybm_shift", KU(N), KU(M), KU(d->delay - 1), KU(B * M), KB(&d->dec),
            KB(zc), KB(&d->XC), KB(zn));
        CHECK(bz_launch1d(ctx, d->k_shift, "dybm_shift", B * M));
        d->cur ^= 1;
    }
    return BZ_OK;
}

/* A 2-D grid of cols x rows items in work-groups of 8 x 8 at most. */
static bz_status launch2d(bz_dybm *d, cl_kernel k, const char *name, size_t cols, size_t rows)
{
    bz_context *ctx = d->ctx;
    size_t local[2] = {cols < 8 ? cols : 8, rows < 8 ? rows : 8};
    size_t global[2] = {(cols + local[0] - 1) / local[0] * local[0],
                        (rows + local[1] - 1) / local[1] * local[1]};
    if (bz_fault_hit(ctx))
        return bz_fail(ctx, BZ_E_OPENCL, "clEnqueueNDRangeKernel(%s): injected fault", name);
    double t = bz_prof_begin(ctx);
    cl_int rc = clEnqueueNDRangeKernel(ctx->queue, k, 2, NULL, global, local, 0, NULL, NULL);
    bz_prof_end(ctx, name, t);
    return rc == CL_SUCCESS ? BZ_OK : bz_cl_fail(ctx, rc, "clEnqueueNDRangeKernel", name);
}

static bz_status run_wide(bz_dybm *d, int mode, const bz_buf *X, size_t x_off, bz_buf *OUT,
                          size_t out_off, size_t T)
{
    bz_context *ctx = d->ctx;
    const size_t N = d->n, NP = d->np, M = bz_dybm_inputs(d), B = d->batch;
    const int learn = mode == BZ_DYBM_LEARN;
    const size_t items = (learn ? NP / 8 * ((M + 4) / 4) : 0) + N * B;
    for (size_t t = 0; t < T; t++) {
        bz_buf *zc = &d->Z[d->cur], *zn = &d->Z[1 - d->cur];
        SET(d->k_mean8, "dybm_mean8", KU(N), KU(NP), KU(M), KU(B), KI(d->binary), KI(mode),
            KB(zc), KB(&d->P), KB(&d->b), KB(X), KU(x_off + t * B * N), KB(OUT),
            KU(out_off + t * B * N), KB(&d->ERR), KB(&d->XC));
        CHECK(launch2d(d, d->k_mean8, "dybm_mean8", NP / 8, (B + 7) / 8));
        SET(d->k_grad8, "dybm_grad8", KU(N), KU(NP), KU(M), KU(d->delay - 1), KU(d->k), KU(B),
            KI(learn), KI(d->opt), KF(d->lr), KF(d->rho), KF(d->eps), KB(&d->dec), KB(zc),
            KB(&d->ERR), KB(&d->XC), KB(zn), KB(&d->P), KB(&d->sP), KB(&d->b), KB(&d->sb));
        CHECK(bz_launch1d(ctx, d->k_grad8, "dybm_grad8", items));
        d->cur ^= 1;
    }
    return BZ_OK;
}

bz_status bz_dybm_run(bz_dybm *d, bz_dybm_mode mode, const bz_buf *X, size_t x_off, bz_buf *OUT,
                      size_t out_off, size_t T)
{
    if (!d->batch)
        return bz_fail(d->ctx, BZ_E_INVALID_ARG, "bz_dybm_run before bz_dybm_reset");
    size_t BN = d->batch * d->n;
    if (X->count < x_off + T * BN || OUT->count < out_off + T * BN ||
        x_off + T * BN > ((size_t)1 << 32) || out_off + T * BN > ((size_t)1 << 32))
        return bz_fail(d->ctx, BZ_E_INVALID_ARG, "a DyBM run of %zu steps does not fit its "
                                                 "buffers", T);
    bz_dybm_path path = d->path;
    if (path == BZ_DYBM_PATH_AUTO)
        path = BN <= FUSED_MAX_BN && (d->batch == 1 || BN * bz_dybm_inputs(d) < ((size_t)1 << 16))
                   ? BZ_DYBM_PATH_FUSED
                   : BZ_DYBM_PATH_WIDE;
    if (path == BZ_DYBM_PATH_FUSED)
        return run_fused(d, (int)mode, X, x_off, OUT, out_off, T);
    if (path == BZ_DYBM_PATH_GEMM)
        return run_gemm(d, (int)mode, X, x_off, OUT, out_off, T);
    return run_wide(d, (int)mode, X, x_off, OUT, out_off, T);
}

bz_status bz_dybm_run_host(bz_dybm *d, bz_dybm_mode mode, const float *X, float *out, size_t T)
{
    size_t count = T * d->batch * d->n;
    if (!count)
        return BZ_OK;
    bz_buf x = {0}, o = {0};
    bz_status st;
    if (!(st = bz_buf_alloc(d->ctx, &x, count)) && !(st = bz_buf_alloc(d->ctx, &o, count)) &&
        !(st = bz_buf_write(d->ctx, &x, 0, X, count)) &&
        !(st = bz_dybm_run(d, mode, &x, 0, &o, 0, T)))
        st = bz_buf_read(d->ctx, &o, 0, out, count);
    bz_buf_release(&x);
    bz_buf_release(&o);
    return st;
}

bz_status bz_dybm_set_meta(bz_dybm *d, const char *key, const char *value)
{
    return bz_meta_set(&d->meta, d->ctx, key, value);
}

void bz_dybm_noise(const bz_dybm *d, uint64_t seed, size_t t0, float *out, size_t T)
{
    const size_t BN = (d->batch ? d->batch : 1) * d->n;
    for (size_t q = 0; q < T * BN; q++) {
        uint64_t idx = (uint64_t)(t0 * BN + q);
        float u = bz_ref_u01(bz_ref_philox_u32(seed, 0, 2 * idx));
        if (d->binary) {
            out[q] = u;
            continue;
        }
        /* Box-Muller: u in (0, 1] for the logarithm */
        float v = bz_ref_u01(bz_ref_philox_u32(seed, 0, 2 * idx + 1));
        float r = sqrtf(-2.0f * logf(1.0f - u));
        out[q] = d->sigma[q % d->n] * r * cosf(6.28318531f * v);
    }
}
