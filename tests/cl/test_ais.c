/*
 * Annealed importance sampling (models/ais_layers.h) on a real device: its
 * kernels (log-weight terms, collapsed sweeps, mode-hopping moves) against
 * their host references, then RBMs and DBMs of 784 visible
 * units against exact enumeration of their small hidden layers, from a
 * uniform base and from the base rate of data, forward and in reverse.
 * Tolerances are in nats.
 */
#include "../common/cl_fixture.h"
#include "models/ais_layers.h"
#include "models/dbm.h"
#include "models/rbm.h"
#include "ref/dbm_ref.h"
#include "ref/reference.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

static bz_context *ctx;

static void fill(float *x, size_t n, float lo, float hi, unsigned long long seed)
{
    for (size_t i = 0; i < n; i++)
        x[i] = lo + (hi - lo) * bz_test_rand(&seed);
}

static void up(bz_buf *b, const float *x, size_t n)
{
    OK(bz_buf_alloc(ctx, b, n));
    OK(bz_buf_write(ctx, b, 0, x, n));
}

/* ---- kernels vs references ---- */

enum { R = 23, N = 5, NLO = 37, NHI = 11 };

static void test_kernels(void **state)
{
    (void)state;
    static float x[R * NLO], bias[NLO], base[NLO], h[R * N], zlo[R * NLO], zhi[R * NHI],
        wlo[N * NLO], whi[N * NHI], bh[N], blo[NLO], bhi[NHI], gh_after[R * N];
    fill(x, R * NLO, -30, 30, 1);
    fill(bias, NLO, -2, 2, 2);
    fill(base, NLO, -4, 1, 3);
    /* log-weights: summed-out layers (with and without a base) and a state
     * layer, at steps of the sizes AIS takes and larger */
    bz_buf bx, bbias, bbase, sum, comp, bterms;
    up(&bx, x, R * NLO);
    up(&bbias, bias, NLO);
    up(&bbase, base, NLO);
    OK(bz_buf_alloc(ctx, &sum, R));
    OK(bz_buf_alloc(ctx, &comp, R));
    OK(bz_buf_alloc(ctx, &bterms, R * NLO));
    OK(bz_buf_fill(ctx, &sum, 0.0f, 0, R));
    OK(bz_buf_fill(ctx, &comp, 0.0f, 0, R));
    double want[R] = {0};
    const float steps[][2] = {{0.0f, 0.3f}, {0.91234f, 0.91235f}, {0.99999f, 1.0f}, {0.5f, 0.2f}};
    for (size_t t = 0; t < 4; t++)
        for (int kind = 0; kind < 6; kind++) {
            const float bp = steps[t][0], b = steps[t][1];
            bool absolute = kind >= 3, with_base = kind % 3 == 1, st_layer = kind % 3 == 2;
            OK(bz_op_dbm_ais_logw(ctx, &sum, &comp, &bterms, &bx, &bbias,
                                  with_base ? &bbase : NULL, st_layer, absolute, R, NLO, bp, b));
            bz_ref_dbm_ais_logw(want, x, bias, with_base ? base : NULL, st_layer, absolute, R, NLO, bp,
                                b);
        }
    float got[R];
    OK(bz_buf_read(ctx, &sum, 0, got, R));
    for (size_t r = 0; r < R; r++)
        if (!(fabs(got[r] - want[r]) < 1e-4 + 1e-6 * fabs(want[r])))
            fail_msg("ais_logw[%zu] = %.7f, reference %.7f", r, (double)got[r], want[r]);

    /* collapsed sweeps: the same draws, the same inputs after them */
    fill(wlo, N * NLO, -1.5f, 1.5f, 4);
    fill(whi, N * NHI, -1.5f, 1.5f, 5);
    fill(bh, N, -1, 1, 6);
    fill(blo, NLO, -1, 1, 7);
    fill(bhi, NHI, -1, 1, 8);
    for (size_t i = 0; i < R * N; i++)
        h[i] = bz_test_rand(&(unsigned long long){9 + i}) < 0.5f ? 1.0f : 0.0f;
    /* inputs consistent with h: z = h W */
    for (size_t r = 0; r < R; r++) {
        for (size_t i = 0; i < NLO; i++) {
            float z = 0;
            for (size_t j = 0; j < N; j++)
                z += h[r * N + j] * wlo[j * NLO + i];
            zlo[r * NLO + i] = z;
        }
        for (size_t i = 0; i < NHI; i++) {
            float z = 0;
            for (size_t j = 0; j < N; j++)
                z += h[r * N + j] * whi[j * NHI + i];
            zhi[r * NHI + i] = z;
        }
    }
    bz_buf bh_, bzlo, bzhi, bwlo, bwhi, bbh, bblo, bbhi, terms, dx;
    up(&bh_, h, R * N);
    up(&bzlo, zlo, R * NLO);
    up(&bzhi, zhi, R * NHI);
    up(&bwlo, wlo, N * NLO);
    up(&bwhi, whi, N * NHI);
    up(&bbh, bh, N);
    up(&bblo, blo, NLO);
    up(&bbhi, bhi, NHI);
    OK(bz_buf_alloc(ctx, &terms, R * (NLO + NHI)));
    OK(bz_buf_alloc(ctx, &dx, R));
    size_t flips = 0;
    for (int t = 0; t < 6; t++) {
        bool hi = t % 2 == 0, with_base = t >= 2;
        float beta = t < 4 ? 0.7f : 1.0f;
        bz_rng_pos pos = {31, 500 + (uint64_t)t, 3};
        float before[R * N];
        memcpy(before, h, sizeof before);
        OK(bz_op_dbm_ais_collapsed_sweep(ctx, &bh_, &bzlo, hi ? &bzhi : NULL, &bwlo,
                                         hi ? &bwhi : NULL, &bbh, &bblo, hi ? &bbhi : NULL,
                                         with_base ? &bbase : NULL, &terms, &dx, R, N, NLO, NHI,
                                         beta, pos));
        bz_ref_dbm_ais_collapsed_sweep(h, zlo, hi ? zhi : NULL, wlo, hi ? whi : NULL, bh, blo,
                                       hi ? bhi : NULL, with_base ? base : NULL, R, N, NLO, NHI,
                                       beta, pos.seed, pos.stream, pos.offset);
        float gh[R * N], gz[R * NLO], gzh[R * NHI];
        OK(bz_buf_read(ctx, &bh_, 0, gh, R * N));
        OK(bz_buf_read(ctx, &bzlo, 0, gz, R * NLO));
        OK(bz_buf_read(ctx, &bzhi, 0, gzh, R * NHI));
        /* a different draw needs u within float rounding of p */
        for (size_t i = 0; i < R * N; i++) {
            if (gh[i] != h[i])
                fail_msg("sweep %d: unit %zu drawn %g, reference %g", t, i, (double)gh[i],
                         (double)h[i]);
            flips += h[i] != before[i];
        }
        for (size_t i = 0; i < R * NLO; i++)
            if (!(fabsf(gz[i] - zlo[i]) < 1e-4f))
                fail_msg("sweep %d: zlo[%zu] = %g, reference %g", t, i, (double)gz[i],
                         (double)zlo[i]);
        for (size_t i = 0; i < R * NHI; i++)
            if (!(fabsf(gzh[i] - zhi[i]) < 1e-4f))
                fail_msg("sweep %d: zhi[%zu] = %g, reference %g", t, i, (double)gzh[i],
                         (double)zhi[i]);
    }
    assert_true(flips > 20); /* the sweeps did move */

    /* mode-hopping: proposals, acceptance, taking the accepted rows */
    enum { P = 9, MC = N + 3 };
    static float mu[P * MC], hp[R * N], hp_ref[R * N], lp[R], lpp[R], g[R * P], gp[R * P],
        cc[P], acc[R], acc_ref[R], x0[R * N];
    fill(mu, P * MC, 0.001f, 0.999f, 10);
    fill(lp, R, -5, 5, 11);
    fill(lpp, R, -5, 5, 12);
    fill(g, R * P, -20, 5, 13);
    fill(gp, R * P, -20, 5, 14);
    fill(cc, P, -8, -1, 15);
    bz_buf bmu, bhp, blp, blpp, bg, bgp, bcc, bacc;
    up(&bmu, mu, P * MC);
    up(&bhp, hp, R * N);
    up(&blp, lp, R);
    up(&blpp, lpp, R);
    up(&bg, g, R * P);
    up(&bgp, gp, R * P);
    up(&bcc, cc, P);
    OK(bz_buf_alloc(ctx, &bacc, R));
    OK(bz_op_dbm_ais_propose(ctx, &bhp, &bmu, R, N, P, MC, 2, 41, 7, 8));
    bz_ref_dbm_ais_propose(hp_ref, mu, R, N, P, MC, 2, 41, 7, 8);
    OK(bz_buf_read(ctx, &bhp, 0, hp, R * N));
    size_t ones = 0;
    for (size_t i = 0; i < R * N; i++) {
        if (hp[i] != hp_ref[i])
            fail_msg("propose[%zu] = %g, reference %g", i, (double)hp[i], (double)hp_ref[i]);
        ones += hp[i] == 1.0f;
    }
    assert_true(ones > 0 && ones < R * N);
    OK(bz_op_dbm_ais_mh_accept(ctx, &bacc, &blp, &blpp, &bg, &bgp, &bcc, R, P, 43, 9));
    bz_ref_dbm_ais_mh_accept(acc_ref, lp, lpp, g, gp, cc, R, P, 43, 9);
    OK(bz_buf_read(ctx, &bacc, 0, acc, R));
    size_t moved = 0;
    for (size_t r = 0; r < R; r++) {
        if (acc[r] != acc_ref[r])
            fail_msg("mh_accept[%zu] = %g, reference %g", r, (double)acc[r], (double)acc_ref[r]);
        moved += acc[r] == 1.0f;
    }
    assert_true(moved > 0 && moved < R);
    /* take the accepted runs' rows: those of hp where acc, else unchanged */
    OK(bz_buf_read(ctx, &bh_, 0, x0, R * N));
    OK(bz_op_dbm_ais_take_rows(ctx, &bh_, &bhp, &bacc, R, N));
    OK(bz_buf_read(ctx, &bh_, 0, gh_after, R * N));
    for (size_t i = 0; i < R * N; i++)
        if (gh_after[i] != (acc[i / N] != 0.0f ? hp[i] : x0[i]))
            fail_msg("take_rows[%zu] = %g", i, (double)gh_after[i]);
    bz_buf *hopb[] = {&bmu, &bhp, &blp, &blpp, &bg, &bgp, &bcc, &bacc};
    for (size_t i = 0; i < sizeof hopb / sizeof *hopb; i++)
        bz_buf_release(hopb[i]);
    bz_buf *all[] = {&bx, &bbias, &bbase, &sum, &comp, &bterms, &bh_, &bzlo, &bzhi, &bwlo, &bwhi,
                     &bbh, &bblo, &bbhi, &terms, &dx};
    for (size_t i = 0; i < sizeof all / sizeof *all; i++)
        bz_buf_release(all[i]);
}

/* ---- whole estimates against exact enumeration, 784 visible units ---- */

/* Synthetic images: noisy copies of random prototypes (30% of the pixels on,
 * 15% of the pixels flipped), so that models trained on them have the
 * strong, few-mode structure of trained models. */
enum { NV = 784, ROWS = 600, PROTOS = 10 };
static float data[ROWS * NV];

static void make_data(void)
{
    static float proto[PROTOS * NV];
    unsigned long long s = 2026;
    for (size_t i = 0; i < PROTOS * NV; i++)
        proto[i] = bz_test_rand(&s) < 0.3f ? 1.0f : 0.0f;
    for (size_t r = 0; r < ROWS; r++)
        for (size_t i = 0; i < NV; i++) {
            float p = proto[(r % PROTOS) * NV + i];
            data[r * NV + i] = bz_test_rand(&s) < 0.15f ? 1.0f - p : p;
        }
}

/* AIS settings of the tests: fewer runs and temperatures than the defaults
 * (100 x 10,000), enough at these sizes. */
static bz_ais_options test_options(unsigned seed, bool uniform)
{
    bz_ais_options o;
    bz_ais_options_init(&o);
    o.runs = 64;
    o.betas = 2500;
    o.seed = seed;
    o.uniform_base = uniform;
    return o;
}

/* |estimate - exact| within tol nats, and the exact value inside the
 * estimate's interval widened by slack nats. */
static void check_estimate(const char *what, const bz_ais_result *r, double exact, double tol,
                           double slack)
{
    fprintf(stderr, "%s: log Z %.4f +- %.4f (%.4f .. %.4f), exact %.4f\n", what, r->log_z,
            r->log_z_sd, r->log_z_lo, r->log_z_hi, exact);
    if (!(fabs(r->log_z - exact) < tol))
        fail_msg("%s: log Z %.4f, exact %.4f: off by more than %.2f nats", what, r->log_z, exact,
                 tol);
    if (!(r->log_z_lo - slack <= exact && exact <= r->log_z_hi + slack))
        fail_msg("%s: the interval %.4f .. %.4f misses the exact %.4f", what, r->log_z_lo,
                 r->log_z_hi, exact);
}

static void check_dbm(const size_t *s, size_t L)
{
    bz_dbm *d;
    OK(bz_dbm_create(ctx, s, L, 7, &d));
    bz_rbm_train_options ro;
    bz_rbm_train_options_init(&ro);
    ro.batch_size = 20;
    ro.learning_rate = 0.05f;
    OK(bz_dbm_pretrain(d, data, ROWS, &ro, 2, NULL, NULL));
    bz_data *dd;
    OK(bz_data_create(ctx, data, ROWS, NV, &dd));
    bz_dbm_train_options o;
    bz_dbm_train_options_init(&o);
    o.batch_size = 20;
    o.chains = 20;
    OK(bz_dbm_train_epoch(d, dd, &o, 0, NULL));
    bz_data_free(dd);
    double lz, ll, mf;
    OK(bz_dbm_exact_log_z(d, &lz));
    OK(bz_dbm_exact_mean_log_p(d, data, ROWS, lz, &ll));
    OK(bz_dbm_mean_bound(d, data, ROWS, 10, 1e-5f, &mf));
    fprintf(stderr, "DBM L=%zu: exact log Z %.4f, exact mean log p(v) %.4f, bound %.4f\n", L,
            lz, ll, mf - lz);
    /* the variational bound with the exact log Z: below the truth */
    assert_true(mf - lz <= ll + 1e-3);
    char what[64];
    for (int uniform = 0; uniform < 2; uniform++) {
        bz_ais_options ao = test_options(3 + (unsigned)uniform, uniform);
        bz_ais_result r;
        OK(bz_dbm_ais(d, data, ROWS, &ao, &r));
        snprintf(what, sizeof what, "DBM L=%zu, %s base", L, uniform ? "uniform" : "data");
        check_estimate(what, &r, lz, 0.5, 0.1);
    }
    bz_ais_options ao = test_options(5, false);
    bz_ais_result rev;
    OK(bz_dbm_ais_reverse(d, data, ROWS, data, ROWS, 10, &ao, &rev));
    snprintf(what, sizeof what, "DBM L=%zu, reverse", L);
    check_estimate(what, &rev, lz, 0.5, 0.1);
    /* the conservative figure (the reverse estimate's upper end) never puts
     * the bound above the exact log-likelihood */
    if (!(mf - rev.log_z_hi <= ll + 1e-3))
        fail_msg("%s: bound %.4f above the exact log-likelihood %.4f", what, mf - rev.log_z_hi,
                 ll);
    bz_dbm_free(d);
}

static void test_dbm_two_layers(void **state)
{
    (void)state;
    const size_t s[] = {NV, 14, 30};
    check_dbm(s, 2);
}

static void test_dbm_three_layers(void **state)
{
    (void)state;
    const size_t s[] = {NV, 12, 20, 6};
    check_dbm(s, 3);
}

static void test_rbm(void **state)
{
    (void)state;
    bz_rbm *r;
    OK(bz_rbm_create(ctx, NV, 20, BZ_UNIT_BERNOULLI, 5, &r));
    OK(bz_rbm_init_visible_bias(r, data, ROWS));
    bz_data *dd;
    OK(bz_data_create(ctx, data, ROWS, NV, &dd));
    bz_rbm_train_options o;
    bz_rbm_train_options_init(&o);
    o.batch_size = 20;
    o.pcd = 1;
    o.learning_rate = 0.02f;
    o.momentum_initial = o.momentum_final = 0.0f;
    for (unsigned e = 0; e < 5; e++)
        OK(bz_rbm_train_epoch(r, dd, &o, e, NULL));
    double lz, fe;
    OK(bz_rbm_exact_log_z(r, &lz));
    OK(bz_rbm_mean_free_energy(r, dd, &fe));
    for (int uniform = 0; uniform < 2; uniform++) {
        bz_ais_options ao = test_options(11 + (unsigned)uniform, uniform);
        bz_ais_result res;
        OK(bz_rbm_ais(r, dd, &ao, &res));
        check_estimate(uniform ? "RBM 784-20, uniform base" : "RBM 784-20, data base", &res, lz,
                       0.3, 0.1);
    }
    bz_ais_options ao = test_options(13, false);
    bz_ais_result rev;
    OK(bz_rbm_ais_reverse(r, dd, dd, &ao, &rev));
    check_estimate("RBM 784-20, reverse", &rev, lz, 0.3, 0.1);
    /* the log-likelihood from the conservative end never above the truth */
    fprintf(stderr, "RBM: exact mean log p(v) %.4f, from the reverse estimate %.4f\n", -fe - lz,
            -fe - rev.log_z_hi);
    assert_true(-fe - rev.log_z_hi <= -fe - lz + 1e-3);
    bz_data_free(dd);
    bz_rbm_free(r);
}

int main(void)
{
    ctx = bz_test_open_context();
    make_data();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kernels),
        cmocka_unit_test(test_dbm_two_layers),
        cmocka_unit_test(test_dbm_three_layers),
        cmocka_unit_test(test_rbm),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    bz_context_free(ctx);
    return rc;
}
