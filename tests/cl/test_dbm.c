/*
 * Deep Boltzmann machines on a real device: every kernel of kernels/dbm.cl
 * against its host reference, the mean-field fixed point against its
 * equations, one joint-training step (mean field, layer-parity Gibbs sweeps
 * on the same random streams, momentum updates) against the host reference
 * for two and three hidden layers, AIS against exact enumeration on a tiny
 * DBM (at 784 visible units: test_ais.c), pretraining and the classifier on a toy set, save/load round trips,
 * and refusal of foreign or wrong-shaped files in both directions.
 */
#include "io/safetensors.h"
#include "models/dbm.h"
#include "ref/dbm_ref.h"
#include "ref/reference.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "../common/cl_helpers.h"

static bz_context *ctx;
static char tmpdir[128];

/* ---- kernels vs references ---- */

enum { R = 29, C = 17 };

static void test_kernels(void **state)
{
    (void)state;
    float a[R * C], b[R * C], bias[C], base[C], mu[R * C], mu_ref[R * C], d[R * C], d_ref[R * C];
    bz_test_fill(a, R * C, -6, 6, 1);
    bz_test_fill(b, R * C, -6, 6, 2);
    bz_test_fill(bias, C, -2, 2, 3);
    bz_test_fill(base, C, -3, 3, 4);
    bz_test_fill(mu, R * C, 0, 1, 5);
    memcpy(mu_ref, mu, sizeof mu);
    bz_buf ba, bb, bbias, bbase, bmu, bd, bs, bacc;
    bz_test_up(ctx, &ba, a, R * C);
    bz_test_up(ctx, &bb, b, R * C);
    bz_test_up(ctx, &bbias, bias, C);
    bz_test_up(ctx, &bbase, base, C);
    bz_test_up(ctx, &bmu, mu, R * C);
    bz_test_up(ctx, &bd, mu, R * C);
    bz_test_up(ctx, &bs, mu, R * C);
    for (int with_b = 0; with_b < 2; with_b++) {
        OK(bz_op_dbm_mf_update(ctx, &bmu, &bd, &ba, with_b ? &bb : NULL, &bbias, R, C));
        bz_ref_dbm_mf_update(mu_ref, d_ref, a, with_b ? b : NULL, bias, R, C);
        bz_test_down(ctx, &bmu, mu, R * C);
        bz_test_down(ctx, &bd, d, R * C);
        bz_test_near(mu, mu_ref, R * C, 2e-7f, 2e-6f, "mf_update mu");
        bz_test_near(d, d_ref, R * C, 4e-7f, 2e-6f, "mf_update delta");
    }
    /* Samples: the same bits; a mismatch needs u within an ulp of p. */
    float s[R * C], s_ref[R * C];
    const float betas[] = {1.0f, 0.37f, 0.0f};
    for (int t = 0; t < 6; t++) {
        bool hb = t & 1, hbase = t >= 2;
        float beta = betas[t / 2];
        bz_rng_pos pos = {77, 1234 + (uint64_t)t, 5};
        OK(bz_op_dbm_sample_layer(ctx, &bs, &ba, hb ? &bb : NULL, &bbias, hbase ? &bbase : NULL, R,
                                  C, beta, pos));
        bz_ref_dbm_sample_layer(s_ref, a, hb ? b : NULL, bias, hbase ? base : NULL, R, C, beta,
                                pos.seed, pos.stream, pos.offset);
        bz_test_down(ctx, &bs, s, R * C);
        size_t ones = 0;
        for (size_t i = 0; i < R * C; i++)
            ones += s[i] == 1.0f;
        assert_true(ones > 0 && ones < R * C);
        bz_test_near(s, s_ref, R * C, 0, 0, "sample_layer");
    }
    assert_int_equal(bz_op_dbm_sample_layer(ctx, &ba, &ba, NULL, &bbias, NULL, R, C, 1, (bz_rng_pos){0}),
                     BZ_E_INVALID_ARG);
    /* Row reductions. */
    float acc0[R], acc[R];
    double accd[R];
    bz_test_fill(acc0, R, -1, 1, 6);
    for (size_t r = 0; r < R; r++)
        accd[r] = acc0[r];
    bz_test_up(ctx, &bacc, acc0, R);
    OK(bz_op_dbm_rows_dot_acc(ctx, &bacc, &ba, &bb, false, R, C, 0.5f));
    OK(bz_op_dbm_rows_dot_acc(ctx, &bacc, &ba, &bbias, true, R, C, -1.5f));
    OK(bz_op_dbm_rows_entropy_acc(ctx, &bacc, &bmu, R, C));
    bz_ref_dbm_rows_dot_acc(accd, a, b, false, R, C, 0.5);
    bz_ref_dbm_rows_dot_acc(accd, a, bias, true, R, C, -1.5);
    bz_ref_dbm_rows_entropy_acc(accd, mu, R, C);
    bz_test_down(ctx, &bacc, acc, R);
    float want[R];
    for (size_t r = 0; r < R; r++)
        want[r] = (float)accd[r];
    bz_test_near(acc, want, R, 1e-3f, 1e-5f, "row reductions");
    float mx[R], mx_ref[R];
    bz_test_fill(mx, R, 0, 3, 7);
    memcpy(mx_ref, mx, sizeof mx);
    OK(bz_buf_write(ctx, &bacc, 0, mx, R));
    OK(bz_op_dbm_rows_absmax_acc(ctx, &bacc, &ba, R, C));
    bz_ref_dbm_rows_absmax_acc(mx_ref, a, R, C);
    bz_test_down(ctx, &bacc, mx, R);
    bz_test_near(mx, mx_ref, R, 0, 0, "rows_absmax");
    bz_buf *all[] = {&ba, &bb, &bbias, &bbase, &bmu, &bd, &bs, &bacc};
    for (size_t i = 0; i < sizeof all / sizeof *all; i++)
        bz_buf_release(all[i]);
}

/* ---- a random DBM on both sides ---- */

typedef struct pair {
    bz_dbm *dev;
    bz_ref_dbm ref;
} pair;

static void pair_make(pair *p, const size_t *s, size_t L, float wsd, unsigned long long seed)
{
    OK(bz_dbm_create(ctx, s, L, 1, &p->dev));
    memset(&p->ref, 0, sizeof p->ref);
    p->ref.L = L;
    for (size_t l = 0; l <= L; l++) {
        p->ref.s[l] = s[l];
        p->ref.b[l] = malloc(s[l] * sizeof(float));
        p->ref.vb[l] = calloc(s[l], sizeof(float));
        bz_test_fill(p->ref.b[l], s[l], -1, 1, seed + 10 + l);
        if (l < L) {
            p->ref.W[l] = malloc(s[l] * s[l + 1] * sizeof(float));
            p->ref.vW[l] = calloc(s[l] * s[l + 1], sizeof(float));
            bz_test_fill(p->ref.W[l], s[l] * s[l + 1], -wsd, wsd, seed + 20 + l);
        }
        OK(bz_dbm_set_layer(p->dev, l, l < L ? p->ref.W[l] : NULL, p->ref.b[l]));
    }
}

static void pair_free(pair *p)
{
    bz_dbm_free(p->dev);
    for (size_t l = 0; l <= p->ref.L; l++) {
        free(p->ref.b[l]);
        free(p->ref.vb[l]);
        if (l < p->ref.L) {
            free(p->ref.W[l]);
            free(p->ref.vW[l]);
        }
    }
}

static double sigm(double z)
{
    return 1.0 / (1.0 + exp(-z));
}

static void check_mean_field(const size_t *s, size_t L)
{
    pair p;
    pair_make(&p, s, L, 1.0f, 100 + L);
    enum { B = 9 };
    float v[B * 64];
    bz_test_fill_bits(v, B * s[0], 3);
    OK(bz_dbm_reserve(p.dev, B));
    OK(bz_buf_write(ctx, &p.dev->X0, 0, v, B * s[0]));
    /* A few sweeps: the same as the host reference. */
    float *mu[BZ_DBM_MAX_HIDDEN + 1] = {0}, *got = malloc(B * 64 * sizeof *got);
    for (size_t l = 1; l <= L; l++)
        mu[l] = malloc(B * s[l] * sizeof(float));
    unsigned sw = 0;
    OK(bz_dbm_mean_field_dev(p.dev, B, 4, 0.0f, &sw));
    assert_int_equal(sw, 4);
    assert_int_equal(bz_ref_dbm_mean_field(&p.ref, v, B, 4, 0.0f, mu), 4);
    for (size_t l = 1; l <= L; l++) {
        bz_test_down(ctx, &p.dev->MU[l], got, B * s[l]);
        bz_test_near(got, mu[l], B * s[l], 2e-5f, 0, "mean field after 4 sweeps");
    }
    /* Converged: every layer satisfies its fixed-point equation. */
    OK(bz_dbm_mean_field_dev(p.dev, B, 500, 1e-7f, &sw));
    assert_true(sw < 500);
    for (size_t l = 1; l <= L; l++)
        bz_test_down(ctx, &p.dev->MU[l], mu[l], B * s[l]);
    mu[0] = v;
    double worst = 0;
    for (size_t l = 1; l <= L; l++)
        for (size_t r = 0; r < B; r++)
            for (size_t j = 0; j < s[l]; j++) {
                double z = p.ref.b[l][j];
                for (size_t i = 0; i < s[l - 1]; i++)
                    z += (double)mu[l - 1][r * s[l - 1] + i] * p.ref.W[l - 1][i * s[l] + j];
                for (size_t k = 0; l < L && k < s[l + 1]; k++)
                    z += (double)mu[l + 1][r * s[l + 1] + k] * p.ref.W[l][j * s[l + 1] + k];
                double e = fabs(sigm(z) - mu[l][r * s[l] + j]);
                worst = e > worst ? e : worst;
            }
    if (worst > 1e-5)
        fail_msg("mean-field fixed point violated by %g", worst);
    for (size_t l = 1; l <= L; l++)
        free(mu[l]);
    free(got);
    pair_free(&p);
}

static void test_mean_field(void **state)
{
    (void)state;
    const size_t s2[] = {13, 9, 7}, s3[] = {11, 8, 6, 5};
    check_mean_field(s2, 2);
    check_mean_field(s3, 3);
}

static void check_joint_step(const size_t *s, size_t L)
{
    pair p;
    pair_make(&p, s, L, 0.5f, 200 + L);
    enum { B = 8, M = 6 };
    float v[B * 64];
    bz_test_fill_bits(v, B * s[0], 9);
    float *x[BZ_DBM_MAX_HIDDEN + 1], *xd[BZ_DBM_MAX_HIDDEN + 1];
    for (size_t l = 0; l <= L; l++) {
        x[l] = malloc(M * s[l] * sizeof(float));
        xd[l] = malloc(M * s[l] * sizeof(float));
        bz_test_fill_bits(x[l], M * s[l], 30 + l);
    }
    OK(bz_dbm_set_chains(p.dev, x, M));
    bz_dbm_train_options o;
    bz_dbm_train_options_init(&o);
    o.batch_size = B;
    o.chains = M;
    o.mf_iters = 3;
    o.mf_tol = 0.0f;
    o.gibbs_steps = 2;
    o.learning_rate = 0.1f;
    o.weight_decay = 0.01f;
    /* two steps: the second one sees momentum */
    for (unsigned step = 0; step < 2; step++) {
        OK(bz_dbm_train_batch(p.dev, v, B, &o, 3, step));
        float lr = o.learning_rate / (1.0f + o.lr_decay * 3.0f);
        bz_ref_dbm_step(&p.ref, v, B, x, M, o.mf_iters, o.gibbs_steps, lr, o.momentum_initial,
                        o.weight_decay, o.seed, 3, step);
        OK(bz_dbm_get_chains(p.dev, xd));
        for (size_t l = 0; l <= L; l++)
            bz_test_near(xd[l], x[l], M * s[l], 0, 0, "chains");
    }
    float *w = malloc(64 * 64 * sizeof *w);
    for (size_t l = 0; l <= L; l++) {
        OK(bz_dbm_get_layer(p.dev, l, l < L ? w : NULL, xd[0]));
        bz_test_near(xd[0], p.ref.b[l], s[l], 2e-6f, 1e-5f, "bias after two steps");
        if (l < L)
            bz_test_near(w, p.ref.W[l], s[l] * s[l + 1], 2e-6f, 1e-5f, "weights after two steps");
    }
    free(w);
    for (size_t l = 0; l <= L; l++) {
        free(x[l]);
        free(xd[l]);
    }
    pair_free(&p);
}

static void test_joint_step(void **state)
{
    (void)state;
    const size_t s2[] = {12, 9, 7}, s3[] = {10, 8, 7, 5};
    check_joint_step(s2, 2);
    check_joint_step(s3, 3);
}

static void test_ais_exact(void **state)
{
    (void)state;
    const size_t s2[] = {10, 8, 6}, s3[] = {7, 6, 5, 4};
    for (int which = 0; which < 2; which++) {
        pair p;
        size_t L = which ? 3 : 2;
        pair_make(&p, which ? s3 : s2, L, 1.5f, 300 + L);
        double exact, exact_ref = bz_ref_dbm_log_z(&p.ref);
        OK(bz_dbm_exact_log_z(p.dev, &exact));
        assert_true(fabs(exact - exact_ref) < 1e-9);
        bz_ais_options o;
        bz_ais_options_init(&o);
        o.runs = 200;
        o.betas = 2000;
        o.seed = 5;
        bz_ais_result r;
        OK(bz_dbm_ais(p.dev, NULL, 0, &o, &r));
        if (!(fabs(r.log_z - exact) < 0.3))
            fail_msg("L=%zu: AIS log Z %.4f (sd %.4f), exact %.4f", L, r.log_z, r.log_z_sd, exact);
        pair_free(&p);
    }
}

/* Toy data: two prototypes with noise; label = prototype. */
enum { TN = 400, TD = 16 };
static float toy_x[TN * TD];
static int32_t toy_y[TN];

static void make_toy(void)
{
    unsigned long long sd = 42;
    for (size_t i = 0; i < TN; i++) {
        int c = (int)(i % 2);
        toy_y[i] = c;
        for (size_t j = 0; j < TD; j++) {
            int on = c ? j < TD / 2 : j >= TD / 2;
            float u = bz_test_rand(&sd);
            toy_x[i * TD + j] = (u < 0.1f) ? (float)!on : (float)on;
        }
    }
}

/* Exact mean log p*(v) of a 2-hidden-layer DBM by summing h2 out by
 * enumeration and h1 analytically. */
static double exact_mean_log_pstar(bz_dbm *d, const float *x, size_t n)
{
    size_t s0 = d->s[0], s1 = d->s[1], s2 = d->s[2];
    float *w0 = malloc(s0 * s1 * sizeof *w0), *w1 = malloc(s1 * s2 * sizeof *w1);
    float *b0 = malloc(s0 * 4), *b1 = malloc(s1 * 4), *b2 = malloc(s2 * 4);
    OK(bz_dbm_get_layer(d, 0, w0, b0));
    OK(bz_dbm_get_layer(d, 1, w1, b1));
    OK(bz_dbm_get_layer(d, 2, NULL, b2));
    double total = 0;
    for (size_t r = 0; r < n; r++) {
        const float *v = x + r * s0;
        double vb = 0, mx = -INFINITY, sum = 0;
        for (size_t i = 0; i < s0; i++)
            vb += v[i] * b0[i];
        for (unsigned g = 0; g < (1u << s2); g++) {
            double t = vb;
            for (size_t k = 0; k < s2; k++)
                t += ((g >> k) & 1u) ? b2[k] : 0.0;
            for (size_t j = 0; j < s1; j++) {
                double z = b1[j];
                for (size_t i = 0; i < s0; i++)
                    z += v[i] * w0[i * s1 + j];
                for (size_t k = 0; k < s2; k++)
                    z += ((g >> k) & 1u) ? w1[j * s2 + k] : 0.0;
                t += bz_ref_softplus(z);
            }
            if (t > mx) {
                sum = sum * exp(mx - t) + 1;
                mx = t;
            } else {
                sum += exp(t - mx);
            }
        }
        total += mx + log(sum);
    }
    free(w0);
    free(w1);
    free(b0);
    free(b1);
    free(b2);
    return total / (double)n;
}

static void test_train_classify_save_load(void **state)
{
    (void)state;
    make_toy();
    const size_t s[] = {TD, 12, 8};
    bz_dbm *d = NULL, *e = NULL;
    OK(bz_dbm_create(ctx, s, 2, 3, &d));
    bz_rbm_train_options ro;
    bz_rbm_train_options_init(&ro);
    ro.batch_size = 20;
    ro.learning_rate = 0.1f;
    OK(bz_dbm_pretrain(d, toy_x, TN, &ro, 5, NULL, NULL));
    bz_data *data = NULL;
    OK(bz_data_create(ctx, toy_x, TN, TD, &data));
    bz_dbm_train_options o;
    bz_dbm_train_options_init(&o);
    o.batch_size = 20;
    o.chains = 20;
    o.learning_rate = 0.01f;
    double bound0, bound1;
    OK(bz_dbm_mean_bound(d, toy_x, TN, 10, 1e-5f, &bound0));
    for (unsigned ep = 0; ep < 3; ep++) {
        bz_dbm_epoch_stats st;
        OK(bz_dbm_train_epoch(d, data, &o, ep, &st));
        assert_true(st.mean_sweeps >= 1 && st.mean_sweeps <= o.mf_iters);
    }
    OK(bz_dbm_mean_bound(d, toy_x, TN, 10, 1e-5f, &bound1));
    double lz;
    OK(bz_dbm_exact_log_z(d, &lz));
    /* A log-likelihood bound: below 0, above the uniform model's. */
    /* The variational bound lies below the exact log-likelihood, not far. */
    double ll = exact_mean_log_pstar(d, toy_x, TN) - lz;
    if (!(bound1 - lz <= ll + 1e-3 && bound1 - lz > ll - 2.0 && bound1 > bound0))
        fail_msg("bound %g (before joint training %g), exact log-likelihood %g", bound1 - lz,
                 bound0 - lz, ll);
    bz_data_free(data);
    /* The classifier: [v, mu_2] through the DBN fine-tuning path. */
    bz_dbn_sgd so;
    bz_dbn_sgd_init(&so);
    so.epochs = 5;
    so.patience = 0;
    bz_dbn_finetune_result fr;
    OK(bz_dbm_finetune(d, toy_x, toy_y, TN, NULL, NULL, 0, 2, 10, &so, NULL, NULL, &fr));
    float *p1 = malloc(TN * 2 * sizeof *p1), *p2 = malloc(TN * 2 * sizeof *p2);
    OK(bz_dbm_predict_proba(d, toy_x, TN, 10, p1));
    size_t hit = 0;
    for (size_t i = 0; i < TN; i++)
        hit += (p1[2 * i + 1] > p1[2 * i]) == (toy_y[i] == 1);
    assert_true(hit >= TN * 95 / 100);
    /* Save, load: the same mean-field features and the same predictions. */
    char path[256];
    snprintf(path, sizeof path, "%s/toy.safetensors", tmpdir);
    OK(bz_dbm_set_meta(d, "note", "toy"));
    OK(bz_dbm_save(d, path));
    OK(bz_dbm_load(ctx, path, &e));
    assert_string_equal(bz_dbm_get_meta(e, "note"), "toy");
    size_t F = s[1] + s[2];
    float *f1 = malloc(TN * F * sizeof *f1), *f2 = malloc(TN * F * sizeof *f2);
    OK(bz_dbm_transform(d, toy_x, TN, 10, 0.0f, f1));
    OK(bz_dbm_transform(e, toy_x, TN, 10, 0.0f, f2));
    assert_memory_equal(f1, f2, TN * F * sizeof *f1);
    OK(bz_dbm_predict_proba(e, toy_x, TN, 10, p2));
    assert_memory_equal(p1, p2, TN * 2 * sizeof *p1);
    float *smp = malloc(7 * TD * sizeof *smp);
    OK(bz_dbm_sample(e, 7, 20, 3, smp));
    for (size_t i = 0; i < 7 * TD; i++)
        assert_true(smp[i] >= 0 && smp[i] <= 1);
    free(smp);
    free(f1);
    free(f2);
    free(p1);
    free(p2);
    bz_dbm_free(d);
    bz_dbm_free(e);
}

static void write_file(const char *path, const char *model, const char *layers, size_t w0_rows)
{
    bz_st_writer *w = NULL;
    bz_error err = {0};
    static float zeros[64 * 64];
    assert_int_equal(bz_st_writer_create(&w, &err), 0);
    size_t sh_w0[2] = {w0_rows, 5}, sh_w1[2] = {5, 4}, b0[1] = {6}, b1[1] = {5}, b2[1] = {4};
    assert_int_equal(bz_st_writer_add(w, "W0", BZ_ST_F32, 2, sh_w0, zeros, 1, &err), 0);
    assert_int_equal(bz_st_writer_add(w, "W1", BZ_ST_F32, 2, sh_w1, zeros, 1, &err), 0);
    assert_int_equal(bz_st_writer_add(w, "b0", BZ_ST_F32, 1, b0, zeros, 1, &err), 0);
    assert_int_equal(bz_st_writer_add(w, "b1", BZ_ST_F32, 1, b1, zeros, 1, &err), 0);
    assert_int_equal(bz_st_writer_add(w, "b2", BZ_ST_F32, 1, b2, zeros, 1, &err), 0);
    assert_int_equal(bz_st_writer_set_meta(w, "format", "boltzcl", &err), 0);
    if (model)
        assert_int_equal(bz_st_writer_set_meta(w, "model", model, &err), 0);
    if (layers)
        assert_int_equal(bz_st_writer_set_meta(w, "layers", layers, &err), 0);
    assert_int_equal(bz_st_writer_write(w, path, &err), 0);
    bz_st_writer_free(w);
}

static void test_refusals(void **state)
{
    (void)state;
    char good[256], bad[256], rbmf[256];
    snprintf(good, sizeof good, "%s/good.safetensors", tmpdir);
    snprintf(bad, sizeof bad, "%s/bad.safetensors", tmpdir);
    snprintf(rbmf, sizeof rbmf, "%s/rbm.safetensors", tmpdir);
    bz_dbm *d = NULL;
    write_file(good, "dbm", "6,5,4", 6);
    OK(bz_dbm_load(ctx, good, &d));
    assert_int_equal(d->L, 2);
    bz_dbm_free(d);
    d = NULL;
    /* Other loaders refuse a DBM file. */
    bz_rbm *r = NULL;
    bz_dbn *n = NULL;
    assert_int_equal(bz_rbm_load(ctx, good, &r), BZ_E_FORMAT);
    assert_int_equal(bz_dbn_load(ctx, good, &n), BZ_E_FORMAT);
    assert_null(r);
    assert_null(n);
    /* The DBM loader refuses an RBM file, a wrong shape, bad metadata. */
    OK(bz_rbm_create(ctx, 6, 5, BZ_UNIT_BERNOULLI, 1, &r));
    OK(bz_rbm_save(r, rbmf));
    bz_rbm_free(r);
    assert_int_equal(bz_dbm_load(ctx, rbmf, &d), BZ_E_FORMAT);
    assert_non_null(strstr(bz_last_error(ctx), "not a DBM"));
    write_file(bad, "dbm", "6,5,4", 7);
    assert_int_equal(bz_dbm_load(ctx, bad, &d), BZ_E_SHAPE);
    assert_non_null(strstr(bz_last_error(ctx), "W0"));
    write_file(bad, "dbm", "6,5", 6);
    assert_int_equal(bz_dbm_load(ctx, bad, &d), BZ_E_FORMAT);
    write_file(bad, "dbm", NULL, 6);
    assert_int_equal(bz_dbm_load(ctx, bad, &d), BZ_E_FORMAT);
    write_file(bad, NULL, "6,5,4", 6);
    assert_int_equal(bz_dbm_load(ctx, bad, &d), BZ_E_FORMAT);
    assert_null(d);
    /* Creation refuses one hidden layer or four. */
    const size_t s[] = {4, 4, 4, 4, 4};
    assert_int_equal(bz_dbm_create(ctx, s, 1, 1, &d), BZ_E_SHAPE);
    assert_int_equal(bz_dbm_create(ctx, s, 4, 1, &d), BZ_E_SHAPE);
}

int main(void)
{
    ctx = bz_test_open_context();
    if (bz_test_tmpdir(tmpdir, sizeof tmpdir, "dbm-test"))
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kernels),
        cmocka_unit_test(test_mean_field),
        cmocka_unit_test(test_joint_step),
        cmocka_unit_test(test_ais_exact),
        cmocka_unit_test(test_train_classify_save_load),
        cmocka_unit_test(test_refusals),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    bz_context_free(ctx);
    if (bz_test_rmdir(tmpdir) != 0 && rc == 0)
        rc = 1;
    return rc;
}
