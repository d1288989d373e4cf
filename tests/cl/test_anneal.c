/*
 * The annealing samplers on a real device: the sweep kernel against its host
 * reference bit for bit (sparse and dense couplings, a shared schedule and
 * one temperature per replica, both memory layouts), the fixed-temperature
 * sampler against the exact Boltzmann distribution by enumeration,
 * simulated annealing and parallel tempering against the exact ground state
 * of problems of up to 20 spins, PT's per-temperature energies and ln Z
 * against enumeration, determinism, limits and refusals.
 */
#include "../common/cl_fixture.h"
#include "io/safetensors.h"
#include "models/anneal.h"
#include "models/ising.h"
#include "ref/anneal_ref.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

static bz_context *ctx;

/* A random problem: each pair coupled with probability `density`, values
 * uniform in [-1, 1] (or +-1 with `unit`), linear terms likewise. */
static bz_ising *random_problem(bz_problem_kind kind, uint32_t n, double density, bool unit,
                                bool linear, unsigned long long seed)
{
    size_t cap = (size_t)n * n, count = 0;
    uint32_t *I = malloc(cap * sizeof *I), *J = malloc(cap * sizeof *J);
    double *V = malloc(cap * sizeof *V);
    assert_non_null(I);
    assert_non_null(J);
    assert_non_null(V);
    for (uint32_t i = 0; i < n; i++) {
        if (linear) {
            I[count] = J[count] = i;
            V[count++] = 2.0 * bz_test_rand(&seed) - 1.0;
        }
        for (uint32_t j = i + 1; j < n; j++) {
            if (bz_test_rand(&seed) >= density)
                continue;
            double v = 2.0 * bz_test_rand(&seed) - 1.0;
            I[count] = i;
            J[count] = j;
            V[count++] = unit ? (v < 0 ? -1.0 : 1.0) : v;
        }
    }
    bz_ising *p = NULL;
    OK(bz_ising_from_terms(ctx, kind, n, count, I, J, V, &p));
    free(I);
    free(J);
    free(V);
    return p;
}

static void spins_of(uint64_t code, uint32_t n, int8_t *s)
{
    for (uint32_t i = 0; i < n; i++)
        s[i] = (code >> i) & 1 ? 1 : -1;
}

static uint64_t code_of(const int8_t *s, uint32_t n)
{
    uint64_t c = 0;
    for (uint32_t i = 0; i < n; i++)
        if (s[i] > 0)
            c |= (uint64_t)1 << i;
    return c;
}

/* Minimum energy over all 2^n states. */
static double exact_min(const bz_ising *p)
{
    int8_t s[32] = {0};
    double best = INFINITY;
    for (uint64_t c = 0; c < ((uint64_t)1 << p->n); c++) {
        spins_of(c, p->n, s);
        double e = bz_ising_energy(p, s);
        if (e < best)
            best = e;
    }
    return best;
}

/* ---- kernel against reference ---- */

static bz_ref_ising ref_view(const bz_ising *p)
{
    return (bz_ref_ising){p->n, p->dense, p->rowp, p->col, p->dense ? p->J : p->val, p->h};
}

static void check_bitwise(bz_ising *p, size_t R, bool per_replica, bool spin_major)
{
    uint32_t n = p->n, S = 23;
    uint64_t seed = 77, sb = 1000;
    bz_anneal_run run;
    OK(bz_anneal_run_open(p, R, per_replica ? R : S, BZ_UPDATE_REPLICA, &run));
    if (spin_major) { /* the GPU layout, here on whatever device runs the test */
        run.si = (uint32_t)R;
        run.sr = 1;
    } else {
        run.si = 1;
        run.sr = n;
    }
    float *beta = malloc((per_replica ? R : S) * sizeof *beta);
    if (per_replica)
        for (size_t r = 0; r < R; r++)
            beta[r] = 0.2f + 0.6f * (float)r;
    else
        bz_anneal_schedule(BZ_SCHEDULE_GEOMETRIC, 0.05, 3.0, S, 2, beta);
    OK(bz_buf_write(ctx, &run.beta, 0, beta, per_replica ? R : S));
    OK(bz_anneal_run_init(&run, true, seed, sb));

    int8_t *rs = malloc((size_t)R * n), *ds = malloc((size_t)R * n);
    float *rf = malloc((size_t)R * n * sizeof *rf), *df = malloc((size_t)R * n * sizeof *df);
    float *re = malloc(R * sizeof *re), *rb = malloc(S * sizeof *rb);
    bz_ref_ising m = ref_view(p);
    for (size_t r = 0; r < R; r++)
        re[r] = bz_ref_anneal_init(&m, rs + r * n, rf + r * n, true, seed, sb, (uint32_t)r);
    OK(bz_anneal_run_energies(&run));
    assert_memory_equal(run.e, re, R * sizeof *re);
    int8_t *s0 = malloc((size_t)R * n);
    memcpy(s0, rs, (size_t)R * n);
    /* launches of 7, 9 and 7 sweeps: the fields carry over between them */
    uint32_t parts[3] = {7, 9, 7}, t = 0;
    for (int q = 0; q < 3; q++) {
        OK(bz_anneal_run_sweeps(&run, per_replica ? 0 : t, per_replica ? 0 : 1,
                                per_replica ? 1 : 0, parts[q], seed, sb, t));
        for (size_t r = 0; r < R; r++) {
            for (uint32_t k = 0; k < parts[q]; k++)
                rb[k] = per_replica ? beta[r] : beta[t + k];
            re[r] = bz_ref_anneal_sweeps(&m, rs + r * n, rf + r * n, rb, parts[q], seed, sb,
                                         (uint32_t)r, t);
        }
        t += parts[q];
        OK(bz_anneal_run_energies(&run));
        OK(bz_anneal_run_all_spins(&run, ds));
        OK(bz_anneal_run_fields(&run, df));
        assert_memory_equal(ds, rs, (size_t)R * n);
        assert_memory_equal(df, rf, (size_t)R * n * sizeof *rf);
        assert_memory_equal(run.e, re, R * sizeof *re);
    }
    /* the states moved, and the float energy is the exact one to rounding */
    size_t flipped = 0;
    for (size_t r = 0; r < R; r++) {
        double exact = bz_ising_energy(p, rs + r * n) - p->offset;
        assert_true(fabs(exact - re[r]) <= 1e-4 * (1 + fabs(exact)));
    }
    for (size_t k = 0; k < (size_t)R * n; k++)
        flipped += s0[k] != rs[k];
    assert_true(flipped > 0);
    free(beta);
    free(s0);
    free(rs);
    free(ds);
    free(rf);
    free(df);
    free(re);
    free(rb);
    bz_anneal_run_close(&run);
}

static void test_kernel_bitwise(void **state)
{
    (void)state;
    bz_ising *sparse = random_problem(BZ_PROBLEM_ISING, 37, 0.2, false, true, 11);
    bz_ising *dense = random_problem(BZ_PROBLEM_QUBO, 24, 0.9, false, true, 12);
    assert_false(sparse->dense);
    assert_true(dense->dense);
    for (int per = 0; per < 2; per++)
        for (int sm = 0; sm < 2; sm++) {
            check_bitwise(sparse, 5, per, sm);
            check_bitwise(dense, 3, per, sm);
        }
    bz_ising_free(sparse);
    bz_ising_free(dense);
}

/* The colour-parallel sweep against its reference, and its classes valid. */
static void check_colour_bitwise(bz_ising *p, size_t R, bool per_replica)
{
    uint32_t n = p->n, S = 17;
    uint64_t seed = 78, sb = 5;
    bz_error err = {0};
    bz_ising_colouring col;
    assert_int_equal(bz_ising_colour(p, &col, &err), BZ_OK);
    assert_true(bz_ising_colouring_valid(p, &col));
    assert_true(col.n_colours > 1 && col.n_colours < n);
    bz_anneal_run run;
    OK(bz_anneal_run_open(p, R, per_replica ? R : S, BZ_UPDATE_COLOUR, &run));
    assert_true(run.colour);
    float *beta = malloc((per_replica ? R : S) * sizeof *beta), rb[17];
    if (per_replica)
        for (size_t r = 0; r < R; r++)
            beta[r] = 0.3f + 0.5f * (float)r;
    else
        bz_anneal_schedule(BZ_SCHEDULE_LINEAR, 0.1, 2.0, S, 1, beta);
    OK(bz_buf_write(ctx, &run.beta, 0, beta, per_replica ? R : S));
    OK(bz_anneal_run_init(&run, true, seed, sb));
    int8_t *rs = malloc((size_t)R * n), *ds = malloc((size_t)R * n), *s0 = malloc((size_t)R * n);
    float *rf = malloc((size_t)n * sizeof *rf), *re = malloc(R * sizeof *re);
    bz_ref_ising m = ref_view(p);
    for (size_t r = 0; r < R; r++)
        bz_ref_anneal_init(&m, rs + r * n, rf, true, seed, sb, (uint32_t)r);
    memcpy(s0, rs, (size_t)R * n);
    uint32_t parts[2] = {6, 11}, t = 0;
    for (int q = 0; q < 2; q++) {
        OK(bz_anneal_run_sweeps(&run, per_replica ? 0 : t, per_replica ? 0 : 1,
                                per_replica ? 1 : 0, parts[q], seed, sb, t));
        for (size_t r = 0; r < R; r++) {
            for (uint32_t k = 0; k < parts[q]; k++)
                rb[k] = per_replica ? beta[r] : beta[t + k];
            re[r] = bz_ref_anneal_colour_sweeps(&m, col.order, col.start, col.n_colours,
                                                rs + r * n, rb, parts[q], seed, sb, (uint32_t)r, t);
        }
        t += parts[q];
        OK(bz_anneal_run_energies(&run));
        OK(bz_anneal_run_all_spins(&run, ds));
        assert_memory_equal(ds, rs, (size_t)R * n);
        assert_memory_equal(run.e, re, R * sizeof *re);
    }
    size_t flipped = 0;
    for (size_t k = 0; k < (size_t)R * n; k++)
        flipped += s0[k] != rs[k];
    assert_true(flipped > 0);
    bz_ising_colouring_free(&col);
    free(beta);
    free(rs);
    free(ds);
    free(s0);
    free(rf);
    free(re);
    bz_anneal_run_close(&run);
}

static void test_colour_bitwise(void **state)
{
    (void)state;
    bz_ising *a = random_problem(BZ_PROBLEM_ISING, 61, 0.1, false, true, 13);
    bz_ising *b = random_problem(BZ_PROBLEM_MAXCUT, 200, 0.03, true, false, 14);
    for (int per = 0; per < 2; per++) {
        check_colour_bitwise(a, 4, per);
        check_colour_bitwise(b, 3, per);
    }
    /* dense problems are refused by the colour-parallel update */
    bz_ising *d = random_problem(BZ_PROBLEM_ISING, 12, 0.9, false, true, 15);
    bz_anneal_run run;
    assert_int_equal(bz_anneal_run_open(d, 2, 1, BZ_UPDATE_COLOUR, &run), BZ_E_UNSUPPORTED);
    bz_anneal_run_close(&run);
    bz_ising_free(a);
    bz_ising_free(b);
    bz_ising_free(d);
}

/* The kernel's acceptance probability 2^-x against exp2. */
static void test_exp2_neg(void **state)
{
    (void)state;
    double worst = 0;
    for (float x = 1e-4f; x < 24.0f; x += 0.0137f) {
        double rel = fabs((double)bz_ref_an_exp2_neg(x) / exp2(-(double)x) - 1);
        if (rel > worst)
            worst = rel;
    }
    assert_true(worst < 1e-6);
}

/* ---- the Boltzmann distribution ---- */

/* Samples of `replicas` chains after `sweeps` sweeps at beta against the
 * exact distribution: Pearson's chi-square over the states expected 5 times
 * or more (the rest pooled) below df + 5 sqrt(2 df), and the total variation
 * distance below 3x its expectation under exact sampling, sum_x
 * sqrt(p_x (1 - p_x) / (2 pi N)) (x2 for the half-normal mean, / 2 for TV),
 * plus 0.01. */
/* N chains at beta from random spins, through the run interface so that
 * the update scheme can be chosen. */
static void sample_scheme(bz_ising *p, double beta, size_t N, unsigned sweeps, uint64_t seed,
                          bz_update_scheme scheme, int8_t *out)
{
    bz_anneal_run run;
    OK(bz_anneal_run_open(p, N, 1, scheme, &run));
    assert_true(run.colour == (scheme == BZ_UPDATE_COLOUR));
    float b = (float)beta;
    OK(bz_buf_write(ctx, &run.beta, 0, &b, 1));
    OK(bz_anneal_run_init(&run, true, seed, 0));
    OK(bz_anneal_run_sweeps(&run, 0, 0, 0, sweeps, seed, 0, 0));
    OK(bz_anneal_run_all_spins(&run, out));
    bz_anneal_run_close(&run);
}

static void check_boltzmann(bz_ising *p, double beta, size_t N, unsigned sweeps, uint64_t seed,
                            bz_update_scheme scheme)
{
    uint32_t n = p->n;
    size_t K = (size_t)1 << n;
    double *pr = malloc(K * sizeof *pr);
    int8_t s[32] = {0};
    double emin = INFINITY, z = 0;
    for (size_t c = 0; c < K; c++) {
        spins_of(c, n, s);
        pr[c] = bz_ising_energy(p, s);
        if (pr[c] < emin)
            emin = pr[c];
    }
    for (size_t c = 0; c < K; c++)
        z += pr[c] = exp(-beta * (pr[c] - emin));
    for (size_t c = 0; c < K; c++)
        pr[c] /= z;
    int8_t *out = malloc(N * n);
    if (scheme == BZ_UPDATE_AUTO)
        OK(bz_ising_sample(p, beta, N, sweeps, seed, out, NULL));
    else
        sample_scheme(p, beta, N, sweeps, seed, scheme, out);
    double *cnt = calloc(K, sizeof *cnt);
    for (size_t r = 0; r < N; r++)
        cnt[code_of(out + r * n, n)] += 1;
    double chi = 0, pool_o = 0, pool_e = 0, tv = 0, etv = 0;
    size_t df = 0;
    for (size_t c = 0; c < K; c++) {
        double e = pr[c] * N;
        tv += fabs(cnt[c] / N - pr[c]) / 2;
        etv += sqrt(pr[c] * (1 - pr[c]) / (2 * M_PI * N));
        if (e >= 5) {
            chi += (cnt[c] - e) * (cnt[c] - e) / e;
            df++;
        } else {
            pool_o += cnt[c];
            pool_e += e;
        }
    }
    if (pool_e >= 5) {
        chi += (pool_o - pool_e) * (pool_o - pool_e) / pool_e;
        df++;
    }
    df--;
    double lim = df + 5 * sqrt(2.0 * df);
    print_message("  n %u beta %.2f N %zu: chi2 %.1f (df %zu, limit %.1f), TV %.4f (limit %.4f)\n",
                  n, beta, N, chi, df, lim, tv, 3 * etv + 0.01);
    assert_true(df >= 20);
    assert_true(chi < lim);
    assert_true(tv < 3 * etv + 0.01);
    free(pr);
    free(out);
    free(cnt);
}

static void test_boltzmann(void **state)
{
    (void)state;
    bz_ising *a = random_problem(BZ_PROBLEM_ISING, 10, 0.5, false, true, 21);
    check_boltzmann(a, 1.0, 1 << 16, 60, 5, BZ_UPDATE_AUTO);
    check_boltzmann(a, 1.0, 1 << 15, 60, 8, BZ_UPDATE_COLOUR);
    bz_ising *b = random_problem(BZ_PROBLEM_QUBO, 9, 0.95, false, true, 22); /* dense */
    assert_true(b->dense);
    check_boltzmann(b, 1.5, 1 << 16, 60, 6, BZ_UPDATE_AUTO);
    /* a frustrated unit-weight Max-Cut graph, where the ground states share
     * most of the mass */
    bz_ising *c = random_problem(BZ_PROBLEM_MAXCUT, 10, 0.4, true, false, 23);
    assert_false(c->dense);
    check_boltzmann(c, 0.5, 1 << 16, 60, 7, BZ_UPDATE_REPLICA);
    check_boltzmann(c, 0.5, 1 << 15, 60, 9, BZ_UPDATE_COLOUR);
    bz_ising_free(a);
    bz_ising_free(b);
    bz_ising_free(c);
}

/* ---- ground states ---- */

static void test_ground_states(void **state)
{
    (void)state;
    struct {
        bz_problem_kind kind;
        uint32_t n;
        double density;
        bool unit, linear;
    } cases[] = {
        {BZ_PROBLEM_MAXCUT, 20, 0.3, true, false}, /* a G-set-like +-1 graph */
        {BZ_PROBLEM_MAXCUT, 20, 0.15, false, false},
        {BZ_PROBLEM_ISING, 20, 0.25, false, true},
        {BZ_PROBLEM_QUBO, 18, 0.8, false, true},  /* dense on the device */
    };
    for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
        bz_ising *p = random_problem(cases[k].kind, cases[k].n, cases[k].density, cases[k].unit,
                                     cases[k].linear, 100 + k);
        double want = exact_min(p);
        bz_anneal_options o;
        bz_anneal_options_init(&o);
        o.replicas = 8;
        o.sweeps = 2000;
        o.seed = 3 + k;
        int8_t best[32];
        bz_anneal_result res;
        OK(bz_anneal(p, &o, best, &res));
        print_message("  case %zu: SA best %.6f, exact %.6f\n", k, res.best_energy, want);
        assert_true(fabs(res.best_energy - want) < 1e-9 * (1 + fabs(want)));
        assert_true(fabs(bz_ising_energy(p, best) - res.best_energy) < 1e-12);
        assert_int_equal(res.sweeps, 2000);
        assert_int_equal(res.anneals, 1);
        assert_true(res.spin_updates == 2000ull * 8 * p->n);
        if (!p->dense) {
            o.scheme = BZ_UPDATE_COLOUR;
            OK(bz_anneal(p, &o, best, &res));
            print_message("  case %zu: SA (colour classes) best %.6f\n", k, res.best_energy);
            assert_true(fabs(res.best_energy - want) < 1e-9 * (1 + fabs(want)));
        }

        bz_pt_options po;
        bz_pt_options_init(&po);
        po.temperatures = 8;
        po.ladders = 1;
        po.sweeps = 2000;
        po.seed = 9 + k;
        OK(bz_anneal_pt(p, &po, best, &res, NULL));
        print_message("  case %zu: PT best %.6f\n", k, res.best_energy);
        assert_true(fabs(res.best_energy - want) < 1e-9 * (1 + fabs(want)));
        bz_ising_free(p);
    }
}

/* ---- parallel tempering statistics ---- */

static void test_pt_levels(void **state)
{
    (void)state;
    bz_ising *p = random_problem(BZ_PROBLEM_ISING, 12, 0.4, false, true, 31);
    uint32_t n = p->n;
    size_t K = 12;
    double betas[12];
    for (size_t k = 0; k < K; k++)
        betas[k] = 0.05 * pow(60.0, (double)k / (K - 1)); /* 0.05 .. 3 */
    bz_pt_options o;
    bz_pt_options_init(&o);
    o.temperatures = K;
    o.ladders = 64;
    o.sweeps = 3000;
    o.exchange_every = 2;
    o.betas = betas;
    bz_pt_level lv[12];
    bz_anneal_result res;
    OK(bz_anneal_pt(p, &o, NULL, &res, lv));
    /* exact <E>, sd(E) and ln Z at each beta */
    int8_t s[32] = {0};
    double emin = INFINITY, emax = -INFINITY;
    for (uint64_t c = 0; c < ((uint64_t)1 << n); c++) {
        spins_of(c, n, s);
        double e = bz_ising_energy(p, s);
        emin = e < emin ? e : emin;
        emax = e > emax ? e : emax;
    }
    for (size_t k = 0; k < K; k++) {
        double z = 0, m1 = 0, m2 = 0;
        for (uint64_t c = 0; c < ((uint64_t)1 << n); c++) {
            spins_of(c, n, s);
            double e = bz_ising_energy(p, s), w = exp(-betas[k] * (e - emin));
            z += w;
            m1 += w * e;
            m2 += w * e * e;
        }
        m1 /= z;
        double sd = sqrt(m2 / z - m1 * m1), lz = log(z) - betas[k] * emin;
        /* 64 ladders x 1125 rounds after burn-in; the chains' correlation
         * leaves some 10^4 effective samples: 5 sigma of the mean is below
         * 0.05 sd, and 0.02 of the range covers the rest */
        print_message("  beta %.3f: <E> %.4f exact %.4f (sd %.3f/%.3f), swap %.2f, ln Z %.4f "
                      "exact %.4f\n", betas[k], lv[k].mean_energy, m1, lv[k].sd_energy, sd,
                      lv[k].swap_rate, lv[k].log_z, lz);
        assert_true(fabs(lv[k].mean_energy - m1) < 0.05 * sd + 0.02 * (emax - emin));
        assert_true(fabs(lv[k].sd_energy - sd) < 0.1 * sd + 0.02 * (emax - emin));
        if (k + 1 < K)
            assert_true(lv[k].swap_rate > 0.05 && lv[k].swap_rate <= 1);
        assert_int_equal(lv[k].samples, 64ull * (3000 - 750) / 2);
        /* trapezoid integration on a 12-step ladder: within 2% of ln Z */
        assert_true(fabs(lv[k].log_z - lz) < 0.02 * fabs(lz) + 0.05);
        assert_true(fabs(lv[k].free_energy + lz / betas[k]) < (0.02 * fabs(lz) + 0.05) / betas[k]);
    }
    assert_true(fabs(res.best_energy - emin) < 1e-9);
    bz_ising_free(p);
}

/* ---- determinism, limits, refusals ---- */

static void test_determinism_and_limits(void **state)
{
    (void)state;
    bz_ising *p = random_problem(BZ_PROBLEM_MAXCUT, 300, 0.05, true, false, 41);
    bz_anneal_options o;
    bz_anneal_options_init(&o);
    o.replicas = 3;
    o.sweeps = 200;
    o.restarts = 2;
    o.seed = 5;
    int8_t *a = malloc(p->n), *b = malloc(p->n);
    bz_anneal_result ra, rb;
    OK(bz_anneal(p, &o, a, &ra));
    OK(bz_anneal(p, &o, b, &rb));
    assert_memory_equal(a, b, p->n);
    assert_true(ra.best_energy == rb.best_energy);
    assert_int_equal(ra.anneals, 2);
    assert_int_equal(ra.sweeps, 400);

    /* growing anneals: 100, 200, 400, 500, 500 sweeps */
    o.sweeps = 100;
    o.sweeps_max = 500;
    o.restarts = 5;
    OK(bz_anneal(p, &o, b, &rb));
    assert_int_equal(rb.sweeps, 1700);
    assert_int_equal(rb.anneals, 5);
    o.sweeps_max = 0;
    o.sweeps = 200;

    /* a target: the run stops once it is met and says when */
    o.restarts = 0;
    o.limits.use_target = 1;
    o.limits.target = ra.best_energy + 3;
    o.limits.seconds = 60;
    OK(bz_anneal(p, &o, b, &rb));
    assert_true(rb.time_to_target >= 0 && rb.time_to_target <= rb.seconds);
    assert_true(rb.best_energy <= o.limits.target);
    /* an unreachable target with a time limit: stops on time, no time to target */
    o.limits.target = -1e9;
    o.limits.seconds = 0.3;
    o.restarts = 0;
    OK(bz_anneal(p, &o, b, &rb));
    assert_true(rb.time_to_target < 0);
    assert_true(rb.seconds >= 0.3 && rb.seconds < 5);
    /* a stop request */
    volatile int stop = 1;
    o.limits.seconds = 0;
    o.limits.use_target = 0;
    o.restarts = 1;
    o.limits.stop = &stop;
    assert_int_equal(bz_anneal(p, &o, b, &rb), BZ_E_INTERRUPTED);
    assert_true(isfinite(rb.best_energy));

    /* refusals */
    bz_anneal_options_init(&o);
    o.sweeps = 0;
    assert_int_equal(bz_anneal(p, &o, b, &rb), BZ_E_INVALID_ARG);
    bz_anneal_options_init(&o);
    o.restarts = 0;
    assert_int_equal(bz_anneal(p, &o, b, &rb), BZ_E_INVALID_ARG);
    assert_non_null(strstr(bz_last_error(ctx), "time limit"));
    bz_anneal_options_init(&o);
    o.beta_min = 2;
    o.beta_max = 1;
    assert_int_equal(bz_anneal(p, &o, b, &rb), BZ_E_INVALID_ARG);
    bz_pt_options po;
    bz_pt_options_init(&po);
    po.temperatures = 1;
    assert_int_equal(bz_anneal_pt(p, &po, b, &rb, NULL), BZ_E_INVALID_ARG);
    double bad[3] = {0.1, 0.3, 0.2};
    po.temperatures = 3;
    po.betas = bad;
    assert_int_equal(bz_anneal_pt(p, &po, b, &rb, NULL), BZ_E_INVALID_ARG);
    assert_non_null(strstr(bz_last_error(ctx), "increasing"));
    free(a);
    free(b);
    bz_ising_free(p);
}

/* The public constructors: files through bz_ising_load with the message on
 * the context, dense matrices, bad terms. */
static void test_public_constructors(void **state)
{
    (void)state;
    char path[] = "/tmp/bz-anneal-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "w");
    fputs("3 2\n1 2 1\n2 4 1\n", f);
    fclose(f);
    bz_ising *p = NULL;
    assert_int_equal(bz_ising_load(ctx, path, BZ_PROBLEM_MAXCUT, &p), BZ_E_FORMAT);
    assert_null(p);
    assert_non_null(strstr(bz_last_error(ctx), ":3: vertex 4 out of range 1..3"));
    f = fopen(path, "w");
    fputs("3 2\n1 2 1\n2 3 1\n", f);
    fclose(f);
    OK(bz_ising_load(ctx, path, BZ_PROBLEM_MAXCUT, &p));
    unlink(path);
    assert_int_equal(bz_ising_size(p), 3);
    assert_int_equal(bz_ising_couplings(p), 2);
    assert_int_equal(bz_ising_kind(p), BZ_PROBLEM_MAXCUT);
    int8_t s[3] = {1, -1, 1};
    assert_true(bz_ising_objective(p, bz_ising_energy(p, s)) == 2.0);
    bz_ising_free(p);

    /* dense QUBO: x'Qx */
    float q[9] = {1, -2, 0, 0, -1, 3, 0, 0, 2};
    OK(bz_ising_from_dense(ctx, BZ_PROBLEM_QUBO, 3, q, NULL, &p));
    for (unsigned c = 0; c < 8; c++) {
        int8_t t[3];
        int x[3];
        for (int i = 0; i < 3; i++) {
            x[i] = (c >> i) & 1;
            t[i] = x[i] ? 1 : -1;
        }
        double want = 0;
        for (int i = 0; i < 3; i++)
            for (int j = 0; j < 3; j++)
                want += q[i * 3 + j] * x[i] * x[j];
        assert_true(fabs(bz_ising_energy(p, t) - want) < 1e-12);
    }
    int8_t best[3];
    bz_anneal_options o;
    bz_anneal_options_init(&o);
    bz_anneal_result r;
    OK(bz_anneal(p, &o, best, &r));
    assert_true(r.best_energy == -2.0); /* x = (1, 1, 0): 1 - 2 - 1 */
    assert_true(r.best_energy == exact_min(p));
    bz_ising_free(p);

    uint32_t I[1] = {0}, J[1] = {5};
    double V[1] = {1};
    assert_int_equal(bz_ising_from_terms(ctx, BZ_PROBLEM_ISING, 3, 1, I, J, V, &p),
                     BZ_E_INVALID_ARG);
    assert_non_null(strstr(bz_last_error(ctx), "names variable 5 of 3"));
    assert_int_equal(bz_ising_from_terms(ctx, BZ_PROBLEM_ISING, 0, 0, NULL, NULL, NULL, &p),
                     BZ_E_INVALID_ARG);
}

/* Every fallible device operation of an anneal made to fail in turn: the
 * call reports it (no crash, nothing half built left behind), and the same
 * problem then anneals to its ground state. */
static void test_fault_walk(void **state)
{
    (void)state;
    int failures = 0;
    for (long k = 1; k <= 40; k++) {
        bz_ising *p = random_problem(BZ_PROBLEM_ISING, 14, 0.3, false, true, 51);
        double want = exact_min(p);
        bz_anneal_options o;
        bz_anneal_options_init(&o);
        o.replicas = 4;
        o.sweeps = 300;
        o.restarts = 2;
        bz_anneal_result r;
        int8_t best[14];
        ctx->fault_countdown = k;
        bz_status st = bz_anneal(p, &o, best, &r);
        bool hit = ctx->fault_countdown == 0;
        ctx->fault_countdown = 0;
        if (hit) {
            assert_int_not_equal(st, BZ_OK);
            assert_non_null(strstr(bz_last_error(ctx), "injected fault"));
            failures++;
        } else {
            OK(st);
        }
        OK(bz_anneal(p, &o, best, &r));
        assert_true(fabs(r.best_energy - want) < 1e-9 * (1 + fabs(want)));
        bz_ising_free(p);
        if (!hit)
            break; /* past the last fallible operation */
    }
    print_message("  %d injected failures reported\n", failures);
    assert_true(failures >= 10);
}

/* A saved problem file written by hand: metadata pairs, tensors h and one of
 * J / J_coo. */
static void write_problem(const char *path, const char *const *meta, const float *h, size_t n,
                          const char *jname, const float *j, size_t rows, size_t cols)
{
    bz_error err = {0};
    bz_st_writer *w = NULL;
    assert_int_equal(bz_st_writer_create(&w, &err), BZ_OK);
    for (; meta && *meta; meta += 2)
        assert_int_equal(bz_st_writer_set_meta(w, meta[0], meta[1], &err), BZ_OK);
    size_t hs[1] = {n}, js[2] = {rows, cols};
    assert_int_equal(bz_st_writer_add(w, "h", BZ_ST_F32, 1, hs, h, 1, &err), BZ_OK);
    if (jname)
        assert_int_equal(bz_st_writer_add(w, jname, BZ_ST_F32, 2, js, j, 1, &err), BZ_OK);
    assert_int_equal(bz_st_writer_write(w, path, &err), BZ_OK);
    bz_st_writer_free(w);
}

static void load_refused(const char *path, const char *needle)
{
    bz_ising *p = NULL;
    bz_status st = bz_ising_load(ctx, path, BZ_PROBLEM_ISING, &p);
    if (st != BZ_E_FORMAT || !strstr(bz_last_error(ctx), needle))
        fail_msg("status %d, message '%s'; wanted BZ_E_FORMAT with '%s'", (int)st,
                 bz_last_error(ctx), needle);
    assert_null(p);
}

/* The "ising" model kind's files: a hand-written file that follows the
 * schema loads with the energies it states; each broken rule is refused
 * with a message naming it. */
static void test_saved_problem_files(void **state)
{
    (void)state;
    char path[] = "/tmp/bz-problem-XXXXXX.safetensors";
    int fd = mkstemps(path, 12);
    assert_true(fd >= 0);
    close(fd);
    /* E = 0.25 + 2 s0 s2 - s1 s2 + 0.5 s1 as COO triplets */
    const char *const ok[] = {"format", "boltzcl", "model", "ising", "problem", "ising",
                              "n", "3", "couplings", "2", "offset", "0.25", NULL};
    float h[3] = {0, 0.5f, 0}, coo[6] = {0, 2, 2, 2, 1, -1};
    write_problem(path, ok, h, 3, "J_coo", coo, 2, 3);
    bz_ising *p = NULL;
    OK(bz_ising_load(ctx, path, BZ_PROBLEM_MAXCUT, &p));
    assert_int_equal(bz_ising_kind(p), BZ_PROBLEM_ISING);
    assert_int_equal(bz_ising_couplings(p), 2);
    for (unsigned c = 0; c < 8; c++) {
        int8_t s[3];
        for (int i = 0; i < 3; i++)
            s[i] = (c >> i) & 1 ? 1 : -1;
        double want = 0.25 + 2.0 * s[0] * s[2] - s[1] * s[2] + 0.5 * s[1];
        assert_true(bz_ising_energy(p, s) == want);
    }
    bz_ising_free(p);

    const char *bad_kind[] = {"format", "boltzcl", "model", "ising", "problem", "tsp",
                              "n", "3", "couplings", "2", "offset", "0", NULL};
    write_problem(path, bad_kind, h, 3, "J_coo", coo, 2, 3);
    load_refused(path, "'problem' must be ising, qubo or maxcut");
    const char *bad_offset[] = {"format", "boltzcl", "model", "ising", "problem", "ising",
                                "n", "3", "couplings", "2", "offset", "nan", NULL};
    write_problem(path, bad_offset, h, 3, "J_coo", coo, 2, 3);
    load_refused(path, "'offset' must be a finite number");
    /* metadata larger than the tensors: refused before allocating for it */
    const char *big[] = {"format", "boltzcl", "model", "ising", "problem", "ising",
                         "n", "16000000", "couplings", "2", "offset", "0", NULL};
    write_problem(path, big, h, 3, "J_coo", coo, 2, 3);
    load_refused(path, "tensor 'h' must hold 16000000 values");
    float coo_bad[6] = {0, 3, 2, 2, 1, -1};
    write_problem(path, ok, h, 3, "J_coo", coo_bad, 2, 3);
    load_refused(path, "J_coo row 0: (0, 3) is not a pair of distinct variables 0..2");
    float coo_self[6] = {1, 1, 2, 2, 1, -1};
    write_problem(path, ok, h, 3, "J_coo", coo_self, 2, 3);
    load_refused(path, "J_coo row 0");
    /* dense J: symmetric, zero diagonal, as many couplings as stated */
    float jd[9] = {0, 0, 2, 0, 0, -1, 2, -1, 0};
    write_problem(path, ok, h, 3, "J", jd, 3, 3);
    OK(bz_ising_load(ctx, path, BZ_PROBLEM_ISING, &p));
    int8_t s1[3] = {1, -1, 1};
    assert_true(bz_ising_energy(p, s1) == 0.25 + 2 + 1 - 0.5);
    bz_ising_free(p);
    jd[1] = 1; /* J_01 = 1, J_10 = 0 */
    write_problem(path, ok, h, 3, "J", jd, 3, 3);
    load_refused(path, "symmetric with a zero diagonal (entry 0, 1)");
    jd[1] = 0;
    jd[4] = 1;
    write_problem(path, ok, h, 3, "J", jd, 3, 3);
    load_refused(path, "(entry 1, 1)");
    jd[4] = 0;
    jd[1] = jd[3] = 3;
    write_problem(path, ok, h, 3, "J", jd, 3, 3);
    load_refused(path, "tensor J holds 3 non-zero couplings, metadata 'couplings' says 2");
    /* Max-Cut has no field */
    const char *cut[] = {"format", "boltzcl", "model", "ising", "problem", "maxcut",
                         "n", "3", "couplings", "2", "offset", "0", NULL};
    write_problem(path, cut, h, 3, "J_coo", coo, 2, 3);
    load_refused(path, "a Max-Cut problem has no linear terms (h[1] = 0.5)");
    /* another kind of boltzcl file is no problem */
    const char *rbm[] = {"format", "boltzcl", "model", "rbm", NULL};
    write_problem(path, rbm, h, 3, NULL, NULL, 0, 0);
    load_refused(path, "a boltzcl rbm model file, not an optimisation problem");
    unlink(path);
}

int main(void)
{
    ctx = bz_test_open_context();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exp2_neg),
        cmocka_unit_test(test_kernel_bitwise),
        cmocka_unit_test(test_colour_bitwise),
        cmocka_unit_test(test_boltzmann),
        cmocka_unit_test(test_ground_states),
        cmocka_unit_test(test_pt_levels),
        cmocka_unit_test(test_determinism_and_limits),
        cmocka_unit_test(test_public_constructors),
        cmocka_unit_test(test_fault_walk),
        cmocka_unit_test(test_saved_problem_files),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    bz_context_free(ctx);
    return rc;
}
