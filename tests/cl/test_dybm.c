/*
 * The dynamic Boltzmann machine on a real device: both ways of advancing
 * (the one-launch loop and the per-step GEMMs) against the host reference
 * (src/ref/dybm_ref.c) over hundreds of steps of online learning, with every
 * step's prediction, the final FIFO/trace state and the parameters compared;
 * generation of binary patterns bit for bit; the VAR special case against a
 * least-squares fit; and memorising a sequence of letter bitmaps (and its
 * reverse) that the binary DyBM then regenerates exactly from its first
 * letter.
 */
#include "../common/cl_fixture.h"
#include "models/dybm.h"
#include "ref/dybm_ref.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

static bz_context *ctx;

/* Standard normal from the fixture's uniform generator (Box-Muller). */
static float randn(unsigned long long *s)
{
    float u = bz_test_rand(s), v = bz_test_rand(s);
    if (u < 1e-7f)
        u = 1e-7f;
    return sqrtf(-2.0f * logf(u)) * cosf(6.2831853f * v);
}

/* Largest |a - b| / (1 + |b|). */
static double rel_diff(const float *a, const float *b, size_t n)
{
    double m = 0;
    for (size_t i = 0; i < n; i++) {
        double e = fabs((double)a[i] - b[i]) / (1 + fabs((double)b[i]));
        if (!(e <= m))
            m = isnan(e) ? INFINITY : e;
    }
    return m;
}

/* Runs T steps on the device and on the reference from the same random
 * parameters, and compares. gen: the steps generate (noise or uniforms). */
static void compare(size_t N, size_t delay, const float *decay, size_t K, size_t B, bool binary,
                    bz_dybm_opt opt, bz_dybm_path path, bz_dybm_mode mode, size_t T, double tol)
{
    bz_dybm *d = NULL;
    OK(bz_dybm_create(ctx, N, delay, decay, K, binary, &d));
    d->opt = opt;
    d->lr = 0.01f;
    d->path = path;
    size_t M = bz_dybm_inputs(d);
    unsigned long long s = 12345 + N * 7 + B;
    float *P = malloc(M * N * sizeof *P), *b = malloc(N * sizeof *b);
    float *X = malloc(T * B * N * sizeof *X), *out = malloc(T * B * N * sizeof *out);
    float *rout = malloc(T * B * N * sizeof *rout), *rgen = malloc(B * N * sizeof *rgen);
    float *z = malloc(B * M * sizeof *z);
    for (size_t q = 0; q < M * N; q++)
        P[q] = 0.1f * (bz_test_rand(&s) - 0.5f);
    for (size_t i = 0; i < N; i++)
        b[i] = 0.2f * (bz_test_rand(&s) - 0.5f);
    /* a smooth series: sines of different periods plus noise; binary: its
     * sign; generation: noise (Gaussian) or uniforms (binary) */
    for (size_t t = 0; t < T; t++)
        for (size_t q = 0; q < B * N; q++) {
            float v = sinf(0.3f * (float)t * (1 + (float)(q % 5) * 0.1f) + (float)q) +
                      0.3f * randn(&s);
            if (mode == BZ_DYBM_GENERATE)
                v = binary ? bz_test_rand(&s) : 0.1f * randn(&s);
            else if (binary)
                v = v > 0 ? 1.0f : 0.0f;
            X[t * B * N + q] = v;
        }
    OK(bz_dybm_set_params(d, P, b));
    OK(bz_dybm_reset(d, B));
    OK(bz_dybm_run_host(d, mode, X, out, T));
    bz_dybm_ref r = {N, delay, K, B, decay, binary, (int)opt, d->lr, d->rho, d->eps,
                     P, b, calloc(M * N, sizeof(float)), calloc(N, sizeof(float)),
                     calloc(B * M, sizeof(float))};
    for (size_t t = 0; t < T; t++) {
        const float *x = X + t * B * N;
        if (mode == BZ_DYBM_GENERATE) {
            bz_dybm_ref_step(&r, NULL, rout + t * B * N, 0, x, rgen);
            memcpy(rout + t * B * N, rgen, B * N * sizeof *rgen);
        } else {
            bz_dybm_ref_step(&r, x, rout + t * B * N, mode == BZ_DYBM_LEARN, NULL, NULL);
        }
    }
    double e_out = rel_diff(out, rout, T * B * N);
    OK(bz_dybm_get_state(d, z));
    double e_z = rel_diff(z, r.z, B * M);
    float *dP = malloc(M * N * sizeof *dP), *db = malloc(N * sizeof *db);
    OK(bz_dybm_get_params(d, dP, db));
    double e_p = fmax(rel_diff(dP, P, M * N), rel_diff(db, b, N));
    print_message("N %zu d %zu K %zu B %zu %s opt %d path %d mode %d: %zu steps, max rel diff: "
                  "outputs %.2e, state %.2e, params %.2e\n", N, delay, K, B,
                  binary ? "binary" : "gaussian", (int)opt, (int)path, (int)mode, T, e_out, e_z,
                  e_p);
    if (mode == BZ_DYBM_GENERATE && binary)
        assert_true(e_out == 0); /* patterns bit for bit */
    assert_true(e_out <= tol);
    assert_true(e_z <= tol);
    assert_true(e_p <= tol);
    /* the state is the definition's: the FIFO holds the last d-1 inputs */
    if (mode != BZ_DYBM_GENERATE)
        for (size_t bb = 0; bb < B; bb++)
            for (size_t lag = 1; lag < delay && lag <= T; lag++)
                for (size_t j = 0; j < N; j++)
                    assert_true(z[bb * M + (lag - 1) * N + j] == X[(T - lag) * B * N + bb * N + j]);
    free(P);
    free(b);
    free(X);
    free(out);
    free(rout);
    free(rgen);
    free(z);
    free(dP);
    free(db);
    free(r.sP);
    free(r.sb);
    free(r.z);
    bz_dybm_free(d);
}

/* Float sums in another order (GEMM tiles, the bias added last),
 * contracted multiply-adds and RMSProp's division by small accumulators
 * let the device and the reference drift apart slowly; over these runs
 * they stay below 1e-5 relative (6e-6 at most on POCL), so 1e-4 leaves
 * room for other devices, while a wrong index, lag or trace moves the
 * figures by O(0.1). */
static void test_fused_vs_reference(void **state)
{
    (void)state;
    const float dec2[] = {0.5f, 0.8f}, dec0[] = {0.0f};
    compare(5, 4, dec2, 2, 1, false, BZ_DYBM_RMSPROP, BZ_DYBM_PATH_FUSED, BZ_DYBM_LEARN, 400,
            1e-4);
    compare(7, 1, dec2, 2, 1, false, BZ_DYBM_SGD, BZ_DYBM_PATH_FUSED, BZ_DYBM_LEARN, 300, 1e-4);
    compare(3, 3, dec0, 0, 2, true, BZ_DYBM_ADAGRAD, BZ_DYBM_PATH_FUSED, BZ_DYBM_LEARN, 300,
            1e-4);
    compare(300, 2, dec2, 1, 1, false, BZ_DYBM_RMSPROP, BZ_DYBM_PATH_FUSED, BZ_DYBM_PREDICT, 50,
            1e-4);
    compare(6, 3, dec2, 2, 2, true, BZ_DYBM_SGD, BZ_DYBM_PATH_FUSED, BZ_DYBM_GENERATE, 200, 1e-4);
    compare(4, 2, dec2, 1, 1, false, BZ_DYBM_SGD, BZ_DYBM_PATH_FUSED, BZ_DYBM_GENERATE, 100,
            1e-4);
}

static void test_gemm_vs_reference(void **state)
{
    (void)state;
    const float dec3[] = {0.2f, 0.5f, 0.9f};
    compare(6, 3, dec3, 3, 5, false, BZ_DYBM_RMSPROP, BZ_DYBM_PATH_GEMM, BZ_DYBM_LEARN, 150,
            1e-4);
    compare(5, 2, dec3, 1, 3, true, BZ_DYBM_ADAGRAD, BZ_DYBM_PATH_GEMM, BZ_DYBM_LEARN, 100, 1e-4);
    compare(6, 3, dec3, 2, 4, true, BZ_DYBM_SGD, BZ_DYBM_PATH_GEMM, BZ_DYBM_GENERATE, 60, 1e-4);
}

static void test_wide_vs_reference(void **state)
{
    (void)state;
    const float dec3[] = {0.2f, 0.5f, 0.9f};
    compare(13, 4, dec3, 3, 6, false, BZ_DYBM_RMSPROP, BZ_DYBM_PATH_WIDE, BZ_DYBM_LEARN, 150,
            1e-4);
    compare(9, 2, dec3, 1, 3, true, BZ_DYBM_ADAGRAD, BZ_DYBM_PATH_WIDE, BZ_DYBM_LEARN, 100, 1e-4);
    compare(6, 3, dec3, 2, 4, true, BZ_DYBM_SGD, BZ_DYBM_PATH_WIDE, BZ_DYBM_GENERATE, 60, 1e-4);
}

/* Solves the n x n system A x = y (Gaussian elimination with pivoting;
 * A and y are overwritten). */
static void solve(double *A, double *y, size_t n)
{
    for (size_t c = 0; c < n; c++) {
        size_t p = c;
        for (size_t r = c + 1; r < n; r++)
            if (fabs(A[r * n + c]) > fabs(A[p * n + c]))
                p = r;
        for (size_t k = 0; k < n; k++) {
            double t = A[c * n + k];
            A[c * n + k] = A[p * n + k];
            A[p * n + k] = t;
        }
        double t = y[c];
        y[c] = y[p];
        y[p] = t;
        for (size_t r = c + 1; r < n; r++) {
            double f = A[r * n + c] / A[c * n + c];
            for (size_t k = c; k < n; k++)
                A[r * n + k] -= f * A[c * n + k];
            y[r] -= f * y[c];
        }
    }
    for (size_t c = n; c-- > 0;) {
        for (size_t k = c + 1; k < n; k++)
            y[c] -= A[c * n + k] * y[k];
        y[c] /= A[c * n + c];
    }
}

/* With zero decay rates the trace is x[t-d] itself, and with none the
 * DyBM has lags 1..d-1 only: a VAR model. Online SGD with a decreasing
 * step over many epochs must reach the least-squares fit of that VAR on
 * the same series (the history before t = 0 being zero, as the DyBM
 * starts). A series of a known VAR(2) of 3 variables; the DyBM as
 * (d = 2, one decay rate 0) and as (d = 3, no traces). */
static void var_case(size_t delay, const float *decay, size_t K)
{
    enum { N = 3, T = 4000, LAGS = 2, Q = 1 + LAGS * N };
    const double A1[N][N] = {{0.5, 0.1, 0.0}, {-0.2, 0.4, 0.1}, {0.0, 0.3, 0.3}};
    const double A2[N][N] = {{0.2, 0.0, -0.1}, {0.0, -0.3, 0.0}, {0.1, 0.0, 0.2}};
    const double c[N] = {0.3, -0.2, 0.1};
    float *X = malloc(T * N * sizeof *X), *out = malloc(T * N * sizeof *out);
    unsigned long long s = 99;
    for (size_t t = 0; t < T; t++)
        for (size_t i = 0; i < N; i++) {
            double v = c[i] + 0.5 * randn(&s);
            for (size_t j = 0; j < N; j++) {
                v += t >= 1 ? A1[i][j] * X[(t - 1) * N + j] : 0;
                v += t >= 2 ? A2[i][j] * X[(t - 2) * N + j] : 0;
            }
            X[t * N + i] = (float)v;
        }
    /* least squares: regressors [1, x[t-1], x[t-2]] per output */
    double AtA[Q * Q] = {0}, Aty[Q * N] = {0};
    for (size_t t = 0; t < T; t++) {
        double r[Q] = {1};
        for (size_t l = 0; l < LAGS; l++)
            for (size_t j = 0; j < N; j++)
                r[1 + l * N + j] = t > l ? X[(t - 1 - l) * N + j] : 0;
        for (size_t a = 0; a < Q; a++) {
            for (size_t b = 0; b < Q; b++)
                AtA[a * Q + b] += r[a] * r[b];
            for (size_t i = 0; i < N; i++)
                Aty[i * Q + a] += r[a] * X[t * N + i];
        }
    }
    double coef[N][Q];
    for (size_t i = 0; i < N; i++) {
        double A[Q * Q], y[Q];
        memcpy(A, AtA, sizeof A);
        memcpy(y, Aty + i * Q, sizeof y);
        solve(A, y, Q);
        memcpy(coef[i], y, sizeof y);
    }
    bz_dybm *d = NULL;
    OK(bz_dybm_create(ctx, N, delay, decay, K, false, &d));
    d->opt = BZ_DYBM_SGD;
    d->path = BZ_DYBM_PATH_FUSED;
    for (unsigned e = 0; e < 60; e++) {
        d->lr = 0.01f / (1.0f + 0.3f * (float)e);
        OK(bz_dybm_reset(d, 1));
        OK(bz_dybm_run_host(d, BZ_DYBM_LEARN, X, out, T));
    }
    size_t M = bz_dybm_inputs(d);
    assert_int_equal(M, LAGS * N);
    float P[LAGS * N * N], b[N];
    OK(bz_dybm_get_params(d, P, b));
    double worst = 0;
    for (size_t i = 0; i < N; i++) {
        worst = fmax(worst, fabs(b[i] - coef[i][0]));
        /* P row (lag l, input j), column i; both layouts put lag 1 first
         * (the trace of decay 0 is lag d = 2) */
        for (size_t m = 0; m < M; m++)
            worst = fmax(worst, fabs(P[m * N + i] - coef[i][1 + m]));
    }
    print_message("VAR(2) as a DyBM (d %zu, K %zu): largest |coefficient - least squares| "
                  "%.4f (true vs least squares differ by up to %.3f)\n", delay, K, worst,
                  fabs(coef[0][1] - A1[0][0]));
    assert_true(worst < 0.02);
    free(X);
    free(out);
    bz_dybm_free(d);
}

static void test_var_special_case(void **state)
{
    (void)state;
    const float zero[] = {0.0f};
    var_case(2, zero, 1);
    var_case(3, NULL, 0);
}

/* 7 x 5 bitmaps. */
static const char *const letters[4][7] = {
    {"####.", "#...#", "#...#", "#...#", "#...#", "#...#", "####."}, /* D */
    {"#...#", "#...#", ".#.#.", "..#..", "..#..", "..#..", "..#.."}, /* Y */
    {"####.", "#...#", "#...#", "####.", "#...#", "#...#", "####."}, /* B */
    {"#...#", "##.##", "#.#.#", "#.#.#", "#...#", "#...#", "#...#"}, /* M */
};

/* The seed's demonstration: D Y B M, then the same in reverse, M B Y D,
 * repeated; the binary DyBM learns it online and, given the first letter,
 * generates the rest (each unit on when its firing probability is above
 * one half) exactly. */
static void test_letters(void **state)
{
    (void)state;
    enum { N = 35, PERIOD = 8, REPS = 4, T = PERIOD * REPS };
    const int order[PERIOD] = {0, 1, 2, 3, 3, 2, 1, 0};
    float *X = malloc(T * N * sizeof *X), *out = malloc(T * N * sizeof *out);
    for (size_t t = 0; t < T; t++)
        for (size_t r = 0; r < 7; r++)
            for (size_t c = 0; c < 5; c++)
                X[t * N + r * 5 + c] = letters[order[t % PERIOD]][r][c] == '#' ? 1.0f : 0.0f;
    const float decay[] = {0.5f};
    bz_dybm *d = NULL;
    OK(bz_dybm_create(ctx, N, 3, decay, 1, true, &d));
    d->opt = BZ_DYBM_RMSPROP;
    d->lr = 0.05f;
    for (unsigned e = 0; e < 200; e++) {
        OK(bz_dybm_reset(d, 1));
        OK(bz_dybm_run_host(d, BZ_DYBM_LEARN, X, out, T));
    }
    /* seed: the first letter observed, then T - 1 generated steps */
    OK(bz_dybm_reset(d, 1));
    OK(bz_dybm_run_host(d, BZ_DYBM_PREDICT, X, out, 1));
    float *half = malloc(T * N * sizeof *half);
    for (size_t q = 0; q < T * N; q++)
        half[q] = 0.5f;
    OK(bz_dybm_run_host(d, BZ_DYBM_GENERATE, half, out, T - 1));
    size_t wrong = 0;
    for (size_t q = 0; q < (T - 1) * N; q++)
        wrong += out[q] != X[N + q];
    print_message("letters: %zu of %d generated pixels differ from the sequence\n", wrong,
                  (T - 1) * N);
    assert_int_equal(wrong, 0);
    free(half);
    free(X);
    free(out);
    bz_dybm_free(d);
}

int main(void)
{
    ctx = bz_test_open_context();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fused_vs_reference),
        cmocka_unit_test(test_gemm_vs_reference),
        cmocka_unit_test(test_wide_vs_reference),
        cmocka_unit_test(test_var_special_case),
        cmocka_unit_test(test_letters),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    bz_context_free(ctx);
    return rc;
}
