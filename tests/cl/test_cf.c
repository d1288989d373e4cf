/*
 * The ratings RBM (models/cf.h) on a real device: the gradient of a
 * minibatch against the host reference, with a missing rating adding
 * exactly nothing to it; the prediction rule against the host reference;
 * learning synthetic ratings of known low-rank structure and noise floor;
 * save/load round trips and refusal of damaged files.
 */
#include "../common/cl_fixture.h"
#include "io/safetensors.h"
#include "models/cf.h"
#include "models/cf_trainer.h"
#include "ref/cf_ref.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

static bz_context *ctx;
static char tmpdir[128];

/* Random ratings of a U x I grid at the given density (classes below K). */
typedef struct toy {
    size_t n;
    uint32_t u[4096], i[4096];
    uint8_t c[4096];
    uint32_t uid[256], iid[256];
} toy;

static void make_toy(toy *t, size_t U, size_t I, unsigned K, float density,
                     unsigned long long seed)
{
    t->n = 0;
    for (size_t u = 0; u < U; u++)
        t->uid[u] = (uint32_t)(10 * u + 3);
    for (size_t i = 0; i < I; i++)
        t->iid[i] = (uint32_t)(7 * i + 1);
    for (size_t u = 0; u < U; u++)
        for (size_t i = 0; i < I; i++)
            if (bz_test_rand(&seed) < density) {
                t->u[t->n] = (uint32_t)u;
                t->i[t->n] = (uint32_t)i;
                t->c[t->n++] = (uint8_t)(bz_test_rand(&seed) * (float)K);
            }
}

/* The dense blocks of the given rows, built on the host from the set. */
static void dense(const bz_cf *cf, const bz_cf_set *s, const uint32_t *rows, size_t n, float *V,
                  float *M, float *Mc)
{
    size_t C = cf->n_cols, K = cf->K;
    memset(V, 0, n * C * K * sizeof *V);
    memset(M, 0, n * C * sizeof *M);
    memset(Mc, 0, n * C * sizeof *Mc);
    for (size_t r = 0; r < n; r++)
        for (uint32_t e = s->rowptr[rows[r]]; e < s->rowptr[rows[r] + 1]; e++) {
            uint32_t c = s->ent[e] >> 4, k = s->ent[e] & 15u;
            Mc[r * C + c] = 1;
            if (k) {
                M[r * C + c] = 1;
                V[(r * C + c) * K + k - 1] = 1;
            }
        }
}

static void randomize(bz_cf *cf, unsigned long long seed)
{
    size_t F = cf->F, H = cf->H, C = cf->n_cols;
    float *W = malloc(F * H * sizeof *W), *vb = malloc(F * sizeof *vb), *hb = malloc(H * 4),
          *D = malloc(C * H * sizeof *D);
    for (size_t i = 0; i < F * H; i++)
        W[i] = (bz_test_rand(&seed) - 0.5f) * 1.2f;
    for (size_t i = 0; i < F; i++)
        vb[i] = bz_test_rand(&seed) - 0.5f;
    for (size_t i = 0; i < H; i++)
        hb[i] = bz_test_rand(&seed) - 0.5f;
    for (size_t i = 0; i < C * H; i++)
        D[i] = bz_test_rand(&seed) - 0.5f;
    OK(bz_cf_set_params(cf, W, vb, hb, D));
    free(W);
    free(vb);
    free(hb);
    free(D);
}

static float max_abs_diff(const float *a, const float *b, size_t n)
{
    float m = 0;
    for (size_t i = 0; i < n; i++)
        m = fmaxf(m, fabsf(a[i] - b[i]));
    return m;
}

static void check_grad(bool item_based, bool conditional, unsigned T)
{
    enum { U = 11, I = 13, K = 5, H = 7 };
    static toy t;
    make_toy(&t, U, I, K, 0.35f, 5 + T + 2 * conditional + 4 * item_based);
    bz_cf_config cfg = {H, K, 1.0f, 1.0f, item_based, conditional};
    bz_cf *cf;
    OK(bz_cf_create(ctx, &cfg, t.uid, U, t.iid, I, t.u, t.i, t.c, t.n, 3, &cf));
    randomize(cf, 99 + T);
    /* Two extra pairs known to be rated, rating unknown (conditional only). */
    uint32_t xu[2] = {1, 4}, xi[2] = {2, 9};
    bz_cf_set s;
    OK(bz_cf_set_make(cf, xu, xi, 2, &s));
    /* Rows 0, 2 and the last but one: columns no one of them rated exist. */
    uint32_t rows[3] = {0, 2, (uint32_t)cf->n_rows - 2};
    size_t n = 3, C = cf->n_cols, F = cf->F;
    float *V = malloc(n * F * 4), *M = malloc(n * C * 4), *Mc = malloc(n * C * 4);
    float *W = malloc(F * H * 4), *vb = malloc(F * 4), hb[H], *D = malloc(C * H * 4);
    float *gW = malloc(F * H * 4), *gvb = malloc(F * 4), ghb[H], *gD = malloc(C * H * 4);
    float *rW = malloc(F * H * 4), *rvb = malloc(F * 4), rhb[H], *rD = malloc(C * H * 4);
    dense(cf, &s, rows, n, V, M, Mc);
    OK(bz_cf_get_params(cf, W, vb, hb, D));
    OK(bz_cf_batch_grad(cf, &s, rows, n, T, false, 1, 2, gW, gvb, ghb, gD));
    bz_ref_cf_grad(V, M, Mc, W, vb, hb, conditional ? D : NULL, n, C, K, H, T, rW, rvb, rhb, rD);
    assert_true(max_abs_diff(gW, rW, F * H) < 2e-5f);
    assert_true(max_abs_diff(gvb, rvb, F) < 2e-5f);
    assert_true(max_abs_diff(ghb, rhb, H) < 2e-5f);
    if (conditional)
        assert_true(max_abs_diff(gD, rD, C * H) < 2e-5f);
    /* A column none of the rows rated: its weights and biases get exactly
     * zero, bit for bit, as do those of every class not seen or
     * reconstructed there. */
    size_t missing = 0;
    for (size_t c = 0; c < C; c++) {
        bool rated = false;
        for (size_t r = 0; r < n; r++)
            rated |= M[r * C + c] != 0;
        if (rated)
            continue;
        missing++;
        for (size_t f = c * K; f < (c + 1) * K; f++) {
            assert_true(gvb[f] == 0.0f);
            for (size_t j = 0; j < H; j++)
                assert_true(gW[f * H + j] == 0.0f);
        }
    }
    assert_true(missing > 0);
    /* Sampled chains: the same zeros; CD-1 equals the host reference with
     * the same Philox draws. */
    OK(bz_cf_batch_grad(cf, &s, rows, n, T, true, 1, 3, gW, gvb, ghb, gD));
    if (T == 1) {
        bz_ref_cf_grad_sampled(V, M, Mc, W, vb, hb, conditional ? D : NULL, n, C, K, H, 1, 3, rW,
                               rvb, rhb, rD);
        assert_true(max_abs_diff(gW, rW, F * H) < 2e-5f);
        assert_true(max_abs_diff(gvb, rvb, F) < 2e-5f);
        assert_true(max_abs_diff(ghb, rhb, H) < 2e-5f);
        if (conditional)
            assert_true(max_abs_diff(gD, rD, C * H) < 2e-5f);
    }
    for (size_t c = 0; c < C; c++) {
        bool rated = false;
        for (size_t r = 0; r < n; r++)
            rated |= M[r * C + c] != 0;
        for (size_t f = c * K; !rated && f < (c + 1) * K; f++) {
            assert_true(gvb[f] == 0.0f);
            for (size_t j = 0; j < H; j++)
                assert_true(gW[f * H + j] == 0.0f);
        }
    }
    free(V); free(M); free(Mc); free(W); free(vb); free(D);
    free(gW); free(gvb); free(gD); free(rW); free(rvb); free(rD);
    bz_cf_set_free(&s);
    bz_cf_free(cf);
}

static void test_grad_user(void **st)
{
    (void)st;
    check_grad(false, false, 1);
    check_grad(false, false, 3);
}

static void test_grad_item_conditional(void **st)
{
    (void)st;
    check_grad(true, false, 1);
    check_grad(false, true, 2);
    check_grad(true, true, 1);
}

/* The prediction rule: expected rating under the softmax given the
 * mean-field hidden activations of the row's ratings. */
static void test_prediction_rule(void **st)
{
    (void)st;
    enum { U = 9, I = 12, K = 10, H = 5 };
    static toy t;
    make_toy(&t, U, I, K, 0.4f, 17);
    for (int cond = 0; cond < 2; cond++) {
        bz_cf_config cfg = {H, K, 0.5f, 0.5f, cond == 1, cond == 1};
        bz_cf *cf;
        OK(bz_cf_create(ctx, &cfg, t.uid, U, t.iid, I, t.u, t.i, t.c, t.n, 3, &cf));
        randomize(cf, 41 + (unsigned long long)cond);
        uint32_t xu[1] = {3}, xi[1] = {5};
        bz_cf_set s;
        OK(bz_cf_set_make(cf, xu, xi, 1, &s));
        size_t R = cf->n_rows, C = cf->n_cols, F = cf->F;
        uint32_t rows[32];
        for (size_t r = 0; r < R; r++)
            rows[r] = (uint32_t)(R - 1 - r);
        float *E = malloc(R * C * 4), *rE = malloc(R * C * 4), *V = malloc(R * F * 4),
              *M = malloc(R * C * 4), *Mc = malloc(R * C * 4), *P = malloc(R * H * 4);
        float *W = malloc(F * H * 4), *vb = malloc(F * 4), hb[H], *D = malloc(C * H * 4);
        OK(bz_cf_get_params(cf, W, vb, hb, D));
        OK(bz_cf_predict_rows(cf, &s, rows, R, E));
        dense(cf, &s, rows, R, V, M, Mc);
        bz_ref_cf_hidden(V, M, Mc, W, hb, cond ? D : NULL, R, C, K, H, P);
        bz_ref_cf_expected(P, W, vb, R, C, K, H, 0.5f, 0.5f, rE);
        assert_true(max_abs_diff(E, rE, R * C) < 1e-4f);
        /* pairs: the same numbers, for the file's orientation */
        float out[3];
        uint32_t pu[3] = {0, 8, 3}, pi[3] = {11, 0, 5};
        OK(bz_cf_predict(cf, &s, pu, pi, 3, out));
        for (int q = 0; q < 3; q++) {
            uint32_t row = bz_cf_row(cf, pu[q], pi[q]), col = bz_cf_col(cf, pu[q], pi[q]);
            assert_true(fabsf(out[q] - rE[(R - 1 - row) * C + col]) < 1e-4f);
            assert_true(out[q] >= 0.5f && out[q] <= 5.0f);
        }
        free(E); free(rE); free(V); free(M); free(Mc); free(P); free(W); free(vb); free(D);
        bz_cf_set_free(&s);
        bz_cf_free(cf);
    }
}

/* Synthetic ratings: a rank-2 structure, Gaussian noise of known size,
 * rounded to 1..5. The best any model can do on held-out ratings is the
 * expectation of the rounded rating given the structure (the noise
 * floor); predicting every rating by the mean of the training ratings is
 * the baseline. */
enum { SU = 240, SI = 120 };
static float floor_rating(float mu, float sigma)
{
    /* E[clip(round(mu + sigma z), 1, 5)] by quadrature */
    double e = 0, w = 0;
    for (int q = -400; q <= 400; q++) {
        double z = q / 100.0, p = exp(-z * z / 2);
        double r = floor(mu + sigma * z + 0.5);
        r = r < 1 ? 1 : r > 5 ? 5 : r;
        e += p * r;
        w += p;
    }
    return (float)(e / w);
}

static void test_learns_low_rank(void **st)
{
    (void)st;
    static uint32_t uu[SU * SI], ii[SU * SI];
    static uint8_t cc[SU * SI];
    static float truth[SU * SI];
    static uint32_t uid[SU], iid[SI];
    float a[SU][2], b[SI][2];
    unsigned long long s = 2024;
    for (size_t u = 0; u < SU; u++) {
        uid[u] = (uint32_t)u;
        for (int d = 0; d < 2; d++)
            a[u][d] = bz_test_rand(&s) * 2 - 1;
    }
    for (size_t i = 0; i < SI; i++) {
        iid[i] = (uint32_t)i;
        for (int d = 0; d < 2; d++)
            b[i][d] = bz_test_rand(&s) * 2 - 1;
    }
    const float sigma = 0.5f;
    size_t n = 0;
    for (size_t u = 0; u < SU; u++)
        for (size_t i = 0; i < SI; i++) {
            if (bz_test_rand(&s) > 0.3f)
                continue;
            float mu = 3.0f + 1.5f * (a[u][0] * b[i][0] + a[u][1] * b[i][1]);
            float g = sqrtf(-2 * logf(bz_test_rand(&s) + 1e-7f)) *
                      cosf(6.2831853f * bz_test_rand(&s));
            float r = floorf(mu + sigma * g + 0.5f);
            r = r < 1 ? 1 : r > 5 ? 5 : r;
            uu[n] = (uint32_t)u;
            ii[n] = (uint32_t)i;
            cc[n] = (uint8_t)(r - 1);
            truth[n] = floor_rating(mu, sigma);
            n++;
        }
    /* every 10th rating is held out */
    static uint32_t tu[SU * SI], ti[SU * SI], vu[SU * SI], vi[SU * SI];
    static uint8_t tc[SU * SI], vc[SU * SI];
    size_t nt = 0, nv = 0;
    double mean = 0, floor_se = 0, base_se = 0;
    for (size_t k = 0; k < n; k++) {
        if (k % 10 == 0) {
            vu[nv] = uu[k], vi[nv] = ii[k], vc[nv++] = cc[k];
        } else {
            tu[nt] = uu[k], ti[nt] = ii[k], tc[nt++] = cc[k];
            mean += cc[k] + 1;
        }
    }
    mean /= (double)nt;
    for (size_t k = 0; k < n; k += 10) {
        double d = truth[k] - (cc[k] + 1), e = mean - (cc[k] + 1);
        floor_se += d * d;
        base_se += e * e;
    }
    double floor_rmse = sqrt(floor_se / (double)nv), base_rmse = sqrt(base_se / (double)nv);
    bz_cf_config cfg = {30, 5, 1.0f, 1.0f, false, false};
    bz_cf *cf;
    OK(bz_cf_create(ctx, &cfg, uid, SU, iid, SI, tu, ti, tc, nt, 7, &cf));
    bz_cf_set set;
    OK(bz_cf_set_make(cf, NULL, NULL, 0, &set));
    bz_cf_train_opts o;
    bz_cf_train_opts_init(&o);
    o.batch = 10;
    o.learning_rate = 0.05f;
    o.weight_decay = 0.001f;
    o.k_every = 10;
    o.k_max = 3;
    double rmse = 0, mae = 0;
    for (unsigned e = 0; e < 30; e++)
        OK(bz_cf_train_epoch(cf, &set, &o, e, NULL, NULL));
    OK(bz_cf_score(cf, &set, vu, vi, vc, nv, &rmse, &mae));
    printf("low-rank ratings: noise floor %.4f, mean baseline %.4f, model %.4f\n", floor_rmse,
           base_rmse, rmse);
    /* most of the way from the baseline to the floor */
    assert_true(rmse < floor_rmse + 0.3 * (base_rmse - floor_rmse));
    assert_true(rmse > floor_rmse - 0.05);
    bz_cf_set_free(&set);
    bz_cf_free(cf);
}

static void test_save_load(void **st)
{
    (void)st;
    enum { U = 9, I = 12, K = 5, H = 4 };
    static toy t;
    make_toy(&t, U, I, K, 0.5f, 23);
    bz_cf_config cfg = {H, K, 1.0f, 1.0f, true, true};
    bz_cf *cf, *back;
    OK(bz_cf_create(ctx, &cfg, t.uid, U, t.iid, I, t.u, t.i, t.c, t.n, 3, &cf));
    randomize(cf, 5);
    char path[256];
    snprintf(path, sizeof path, "%s/cf.safetensors", tmpdir);
    OK(bz_cf_save(cf, path));
    OK(bz_cf_load(ctx, path, &back));
    assert_int_equal(back->n_ratings, cf->n_ratings);
    assert_true(back->cfg.item_based && back->cfg.conditional);
    assert_int_equal(back->user_ids[U - 1], t.uid[U - 1]);
    bz_cf_set s1, s2;
    OK(bz_cf_set_make(cf, NULL, NULL, 0, &s1));
    OK(bz_cf_set_make(back, NULL, NULL, 0, &s2));
    uint32_t pu[4] = {0, 1, 8, 4}, pi[4] = {0, 11, 3, 7};
    float p1[4], p2[4];
    OK(bz_cf_predict(cf, &s1, pu, pi, 4, p1));
    OK(bz_cf_predict(back, &s2, pu, pi, 4, p2));
    assert_memory_equal(p1, p2, sizeof p1);
    bz_cf_set_free(&s1);
    bz_cf_set_free(&s2);
    bz_cf_free(back);
    /* damaged: a rating index past the users, and wrong metadata */
    bz_error err = {0};
    bz_st_file *f;
    assert_int_equal(bz_st_open(path, &f, &err), BZ_OK);
    bz_st_writer *w;
    assert_int_equal(bz_st_writer_create(&w, &err), BZ_OK);
    for (size_t k = 0; k < bz_st_count(f); k++) {
        const bz_st_tensor *tt = bz_st_at(f, k);
        void *d = malloc(tt->nbytes);
        memcpy(d, tt->data, tt->nbytes);
        if (!strcmp(tt->name, "ratings"))
            ((uint32_t *)d)[0] = 1000;
        assert_int_equal(bz_st_writer_add(w, tt->name, tt->dtype, tt->ndim, tt->shape, d, 1, &err),
                         BZ_OK);
        free(d);
    }
    for (size_t k = 0; k < bz_st_meta_count(f); k++) {
        const char *key, *val;
        bz_st_meta_at(f, k, &key, &val);
        assert_int_equal(bz_st_writer_set_meta(w, key, val, &err), BZ_OK);
    }
    char bad[256];
    snprintf(bad, sizeof bad, "%s/bad.safetensors", tmpdir);
    assert_int_equal(bz_st_writer_write(w, bad, &err), BZ_OK);
    assert_int_not_equal(bz_cf_load(ctx, bad, &back), BZ_OK);
    assert_non_null(strstr(bz_last_error(ctx), "out of range"));
    assert_int_equal(bz_st_writer_set_meta(w, "rows", "columns", &err), BZ_OK);
    assert_int_equal(bz_st_writer_write(w, bad, &err), BZ_OK);
    assert_int_not_equal(bz_cf_load(ctx, bad, &back), BZ_OK);
    assert_non_null(strstr(bz_last_error(ctx), "rows"));
    bz_st_writer_free(w);
    bz_st_close(f);
    bz_cf_free(cf);
}

int main(void)
{
    ctx = bz_test_open_context();
    snprintf(tmpdir, sizeof tmpdir, "/tmp/bz-cf-test-XXXXXX");
    if (!mkdtemp(tmpdir))
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_grad_user),
        cmocka_unit_test(test_grad_item_conditional),
        cmocka_unit_test(test_prediction_rule),
        cmocka_unit_test(test_learns_low_rank),
        cmocka_unit_test(test_save_load),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    bz_context_free(ctx);
    char cmd[200];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", tmpdir);
    return rc;
}
