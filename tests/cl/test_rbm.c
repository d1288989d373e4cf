/*
 * RBM training and evaluation on a real device: one CD-k step against the
 * host reference, learning a toy distribution whose likelihood is computed
 * exactly, AIS against exact log Z, save/load and checkpoint/resume
 * round trips, and refusal of damaged or foreign model files.
 */
#include "../common/cl_fixture.h"
#include "io/safetensors.h"
#include "models/rbm.h"
#include "ref/reference.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

static bz_context *ctx;
static char tmpdir[128];

static void tmp_path(char *buf, size_t size, const char *name)
{
    snprintf(buf, size, "%s/%s", tmpdir, name);
}

/* ---- one CD-k step vs the host reference ---- */

typedef struct stream_arg {
    unsigned epoch;
    size_t batch;
} stream_arg;

static uint64_t stream_of(unsigned slot, void *p)
{
    stream_arg *a = p;
    return bz_rbm_stream(a->epoch, a->batch, slot);
}

static void check_cd_step(bool gaussian, unsigned k, bool pcd)
{
    enum { NV = 23, NH = 11, B = 9 };
    static float x[B * NV], w[NV * NH], vb[NV], hb[NH], zero_w[NV * NH], zero_v[NV], zero_h[NH];
    unsigned long long s = 77 + k + 10 * gaussian;
    for (size_t i = 0; i < B * NV; i++)
        x[i] = gaussian ? bz_test_rand(&s) * 2 - 1 : bz_test_rand(&s);
    for (size_t i = 0; i < NV * NH; i++)
        w[i] = (bz_test_rand(&s) - 0.5f) * 0.6f;
    for (size_t i = 0; i < NV; i++)
        vb[i] = bz_test_rand(&s) - 0.5f;
    for (size_t i = 0; i < NH; i++)
        hb[i] = bz_test_rand(&s) - 0.5f;
    bz_rbm *r;
    OK(bz_rbm_create(ctx, NV, NH, gaussian ? BZ_UNIT_GAUSSIAN : BZ_UNIT_BERNOULLI, 3, &r));
    OK(bz_rbm_set_params(r, w, vb, hb));
    bz_data *d;
    OK(bz_data_create(ctx, x, B, NV, &d));
    bz_rbm_train_options o;
    bz_rbm_train_options_init(&o);
    o.batch_size = B;
    o.k = k;
    o.pcd = pcd;
    o.learning_rate = 0.1f;
    o.weight_decay = 0.01f;
    o.seed = 5;
    /* Two epochs: the second uses the velocity (and chains) of the first. */
    float *ref_w = malloc(sizeof w), *ref_vw = calloc(NV * NH, 4), chain[B * NH];
    float ref_vb[NV], ref_hb[NH], ref_vvb[NV] = {0}, ref_vhb[NH] = {0};
    memcpy(ref_w, w, sizeof w);
    memcpy(ref_vb, vb, sizeof vb);
    memcpy(ref_hb, hb, sizeof hb);
    bz_ref_rbm m = {NV, NH, gaussian, ref_w, ref_vb, ref_hb, ref_vw, ref_vvb, ref_vhb};
    bool chain_valid = false;
    for (unsigned e = 0; e < 2; e++) {
        OK(bz_rbm_train_epoch(r, d, &o, e, NULL));
        uint32_t perm[B];
        bz_ref_permutation(perm, B, o.seed, BZ_STREAM_SHUFFLE ^ ((uint64_t)e << 8));
        float batch[B * NV];
        for (size_t i = 0; i < B; i++)
            memcpy(batch + i * NV, x + perm[i] * NV, NV * 4);
        if (pcd && !chain_valid) {
            /* The chains start from the first positive-phase sample. */
            float h0[B * NH];
            bz_ref_sgemm(false, false, B, NH, NV, 1.0f, batch, NV, ref_w, NH, 0.0f, h0, NH);
            bz_ref_bias_sigmoid(h0, h0, ref_hb, B, NH);
            stream_arg sa0 = {e, 0};
            bz_ref_bernoulli(chain, h0, B * NH, o.seed, stream_of(0, &sa0), 0);
            chain_valid = true;
        }
        stream_arg sa = {e, 0};
        float mom = e < o.momentum_epochs ? o.momentum_initial : o.momentum_final;
        bz_ref_cd_step(&m, batch, B, k, pcd ? chain : NULL, o.learning_rate, mom, o.weight_decay,
                       o.seed, stream_of, &sa);
    }
    float dw[NV * NH], dvb[NV], dhb[NH];
    OK(bz_rbm_get_params(r, dw, dvb, dhb));
    /* Float accumulation over a batch of 9 and two steps: 1e-5 absolute on
     * parameters of order 1. */
    for (size_t i = 0; i < NV * NH; i++)
        if (!(fabsf(dw[i] - ref_w[i]) <= 1e-5f))
            fail_msg("W[%zu] = %.8g, reference %.8g (gaussian %d, k %u, pcd %d)", i, (double)dw[i],
                     (double)ref_w[i], gaussian, k, pcd);
    for (size_t i = 0; i < NV; i++)
        assert_true(fabsf(dvb[i] - ref_vb[i]) <= 1e-5f);
    for (size_t i = 0; i < NH; i++)
        assert_true(fabsf(dhb[i] - ref_hb[i]) <= 1e-5f);
    /* And something did change. */
    assert_true(fabsf(dw[0] - w[0]) > 1e-6f || fabsf(dw[1] - w[1]) > 1e-6f);
    (void)zero_w;
    (void)zero_v;
    (void)zero_h;
    free(ref_w);
    free(ref_vw);
    bz_data_free(d);
    bz_rbm_free(r);
}

static void test_cd1_bernoulli(void **state)
{
    (void)state;
    check_cd_step(false, 1, false);
}

static void test_cd3_bernoulli(void **state)
{
    (void)state;
    check_cd_step(false, 3, false);
}

static void test_pcd2_bernoulli(void **state)
{
    (void)state;
    check_cd_step(false, 2, true);
}

static void test_cd2_gaussian(void **state)
{
    (void)state;
    check_cd_step(true, 2, false);
}

/* ---- bars and stripes: learning, measured exactly ---- */

enum { BAS = 4, BAS_NV = BAS * BAS, BAS_PATTERNS = 30, BAS_REPS = 20 };
static float bas[BAS_PATTERNS * BAS_REPS * BAS_NV];

/* The epoch's reconstruction error, summed by the bias kernel for CD and by
 * a row kernel for PCD and with sparsity: with W = 0 the reconstruction is
 * sigmoid(vb) whatever the hidden units do, so the host knows the answer. */
static void test_recon_error_paths(void **state)
{
    (void)state;
    enum { NV = 23, NH = 11, B = 9 };
    static float x[B * NV], w[NV * NH], vb[NV], hb[NH];
    unsigned long long s = 404;
    for (size_t i = 0; i < B * NV; i++)
        x[i] = bz_test_rand(&s);
    for (size_t i = 0; i < NV; i++)
        vb[i] = bz_test_rand(&s) * 4 - 2;
    for (size_t i = 0; i < NH; i++)
        hb[i] = bz_test_rand(&s) - 0.5f;
    double want = 0;
    for (size_t r = 0; r < B; r++)
        for (size_t j = 0; j < NV; j++) {
            double d = x[r * NV + j] - 1.0 / (1.0 + exp(-(double)vb[j]));
            want += d * d;
        }
    want /= (double)B * NV;
    for (int mode = 0; mode < 3; mode++) { /* CD-1, PCD, CD-1 with sparsity */
        bz_rbm *r;
        OK(bz_rbm_create(ctx, NV, NH, BZ_UNIT_BERNOULLI, 3, &r));
        OK(bz_rbm_set_params(r, w, vb, hb));
        bz_data *d;
        OK(bz_data_create(ctx, x, B, NV, &d));
        bz_rbm_train_options o;
        bz_rbm_train_options_init(&o);
        o.batch_size = B; /* one step: the error is that of the first parameters */
        o.pcd = mode == 1;
        o.sparsity_target = mode == 2 ? 0.1f : 0.0f;
        bz_rbm_epoch_stats es;
        OK(bz_rbm_train_epoch(r, d, &o, 0, &es));
        if (!(fabs(es.recon_mse - want) <= 1e-6 * want))
            fail_msg("mode %d: recon_mse %.9g, expected %.9g", mode, es.recon_mse, want);
        bz_data_free(d);
        bz_rbm_free(r);
    }
}

static void make_bars_and_stripes(void)
{
    size_t p = 0;
    float pats[32][BAS_NV];
    for (unsigned m = 0; m < 16; m++) { /* horizontal bars */
        for (size_t r = 0; r < BAS; r++)
            for (size_t c = 0; c < BAS; c++)
                pats[p][r * BAS + c] = (float)((m >> r) & 1);
        p++;
    }
    for (unsigned m = 1; m < 15; m++) { /* vertical; all-off and all-on already counted */
        for (size_t r = 0; r < BAS; r++)
            for (size_t c = 0; c < BAS; c++)
                pats[p][r * BAS + c] = (float)((m >> c) & 1);
        p++;
    }
    assert_int_equal(p, BAS_PATTERNS);
    for (size_t i = 0; i < BAS_PATTERNS * BAS_REPS; i++)
        memcpy(bas + i * BAS_NV, pats[i % BAS_PATTERNS], sizeof pats[0]);
}

static double exact_avg_ll(bz_rbm *r, bz_data *d)
{
    double lz, fe;
    OK(bz_rbm_exact_log_z(r, &lz));
    OK(bz_rbm_mean_free_energy(r, d, &fe));
    return -fe - lz;
}

static bz_rbm *bas_model; /* trained once, reused by the AIS test */

static double train_bas(bz_rbm **out, unsigned k, bool pcd, float lr, float mom, double *before)
{
    const size_t n = BAS_PATTERNS * BAS_REPS;
    bz_data *d;
    OK(bz_data_create(ctx, bas, n, BAS_NV, &d));
    OK(bz_rbm_create(ctx, BAS_NV, 16, BZ_UNIT_BERNOULLI, 11, out));
    OK(bz_rbm_init_visible_bias(*out, bas, n));
    *before = exact_avg_ll(*out, d);
    bz_rbm_train_options o;
    bz_rbm_train_options_init(&o);
    o.batch_size = 10;
    o.learning_rate = lr;
    o.k = k;
    o.pcd = pcd;
    o.momentum_final = mom;
    o.weight_decay = 1e-4f;
    for (unsigned e = 0; e < 150; e++) {
        OK(bz_rbm_train_epoch(*out, d, &o, e, NULL));
        if (pcd && e % 50 == 0) {
            /* Metrics in between must not disturb the persistent chains. */
            double fe;
            OK(bz_rbm_mean_free_energy(*out, d, &fe));
        }
    }
    double after = exact_avg_ll(*out, d);
    bz_data_free(d);
    return after;
}

static void test_learns_bars_and_stripes(void **state)
{
    (void)state;
    make_bars_and_stripes();
    double before, after = train_bas(&bas_model, 5, false, 0.1f, 0.5f, &before);
    /* A uniform model over 16 pixels scores 16 log(1/2) = -11.09 nats; the
     * data distribution itself log(1/30) = -3.40. Learning must close most
     * of that gap. */
    fprintf(stderr, "bars and stripes, CD-5: exact average log-likelihood %.3f -> %.3f nats\n",
            before, after);
    assert_true(before < -10.0);
    assert_true(after > -5.0);

    bz_rbm *p;
    after = train_bas(&p, 1, true, 0.03f, 0.0f, &before);
    fprintf(stderr, "bars and stripes, PCD-1: exact average log-likelihood %.3f -> %.3f nats\n",
            before, after);
    assert_true(after > -8.0);
    bz_rbm_free(p);
}

static void test_ais_matches_exact(void **state)
{
    (void)state;
    assert_non_null(bas_model);
    bz_data *d;
    OK(bz_data_create(ctx, bas, BAS_PATTERNS * BAS_REPS, BAS_NV, &d));
    double exact;
    OK(bz_rbm_exact_log_z(bas_model, &exact));
    bz_ais_options ao;
    bz_ais_options_init(&ao);
    ao.runs = 100;
    ao.betas = 3000;
    bz_ais_result res;
    OK(bz_rbm_ais(bas_model, d, &ao, &res));
    fprintf(stderr, "AIS log Z %.4f +- %.4f, exact %.4f\n", res.log_z, res.log_z_sd, exact);
    assert_true(fabs(res.log_z - exact) < 0.2);
    assert_true(res.log_z_sd >= 0 && res.log_z_sd < 0.2);
    bz_data_free(d);

    /* A wide model: 784 visible, 12 hidden, random weights; exact over h. */
    enum { NV = 784, NH = 12 };
    static float w[NV * NH], vb[NV], hb[NH], x[200 * NV];
    unsigned long long s = 4;
    for (size_t i = 0; i < NV * NH; i++)
        w[i] = (bz_test_rand(&s) - 0.5f) * 0.2f;
    for (size_t i = 0; i < NV; i++)
        vb[i] = (bz_test_rand(&s) - 0.5f) * 2;
    for (size_t i = 0; i < NH; i++)
        hb[i] = bz_test_rand(&s) - 0.5f;
    for (size_t i = 0; i < 200 * NV; i++)
        x[i] = bz_test_rand(&s) < 0.3f ? 1.0f : 0.0f;
    bz_rbm *r;
    OK(bz_rbm_create(ctx, NV, NH, BZ_UNIT_BERNOULLI, 1, &r));
    OK(bz_rbm_set_params(r, w, vb, hb));
    OK(bz_data_create(ctx, x, 200, NV, &d));
    OK(bz_rbm_exact_log_z(r, &exact));
    ao.betas = 1000;
    OK(bz_rbm_ais(r, d, &ao, &res));
    fprintf(stderr, "784-12: AIS log Z %.4f +- %.4f, exact %.4f\n", res.log_z, res.log_z_sd, exact);
    assert_true(fabs(res.log_z - exact) < 0.2);
    bz_data_free(d);
    bz_rbm_free(r);
}

static void test_exact_log_z_gaussian(void **state)
{
    (void)state;
    /* 2 Gaussian visible, 2 hidden: Z by brute-force quadrature over v. */
    float w[4] = {0.5f, -0.3f, 0.2f, 0.7f}, vb[2] = {0.1f, -0.4f}, hb[2] = {0.3f, -0.2f};
    bz_rbm *r;
    OK(bz_rbm_create(ctx, 2, 2, BZ_UNIT_GAUSSIAN, 1, &r));
    OK(bz_rbm_set_params(r, w, vb, hb));
    double lz;
    OK(bz_rbm_exact_log_z(r, &lz));
    double z = 0, step = 0.02;
    for (double v0 = -10; v0 <= 10; v0 += step)
        for (double v1 = -10; v1 <= 10; v1 += step) {
            double f = 0.5 * ((v0 - vb[0]) * (v0 - vb[0]) + (v1 - vb[1]) * (v1 - vb[1]));
            for (int j = 0; j < 2; j++)
                f -= bz_ref_softplus(hb[j] + v0 * w[j] + v1 * w[2 + j]);
            z += exp(-f) * step * step;
        }
    assert_true(fabs(lz - log(z)) < 1e-3);
    bz_ais_result res;
    assert_int_equal(bz_rbm_ais(r, NULL, NULL, &res), BZ_E_UNSUPPORTED);
    bz_rbm_free(r);
}

/* ---- files ---- */

static void test_save_load_same_free_energy(void **state)
{
    (void)state;
    assert_non_null(bas_model);
    char path[256];
    tmp_path(path, sizeof path, "bas.safetensors");
    OK(bz_rbm_set_meta(bas_model, "note", "bars and stripes"));
    OK(bz_rbm_save(bas_model, path));
    bz_rbm *r;
    OK(bz_rbm_load(ctx, path, &r));
    float f1[BAS_PATTERNS], f2[BAS_PATTERNS];
    OK(bz_rbm_free_energy(bas_model, bas, BAS_PATTERNS, f1));
    OK(bz_rbm_free_energy(r, bas, BAS_PATTERNS, f2));
    assert_memory_equal(f1, f2, sizeof f1);
    assert_string_equal(bz_rbm_get_meta(r, "note"), "bars and stripes");
    /* The layout Python's safetensors expects. */
    bz_st_file *f;
    bz_error err;
    assert_int_equal(bz_st_open(path, &f, &err), BZ_OK);
    const bz_st_tensor *t = bz_st_find(f, "W");
    assert_non_null(t);
    assert_int_equal(t->ndim, 2);
    assert_int_equal(t->shape[0], BAS_NV);
    assert_int_equal(t->shape[1], 16);
    assert_string_equal(bz_st_meta(f, "model"), "rbm");
    assert_string_equal(bz_st_meta(f, "format"), "boltzcl");
    bz_st_close(f);
    bz_rbm_free(r);
}

static void train_epochs(bz_rbm *r, bz_data *d, bz_rbm_train_options *o, unsigned from,
                         unsigned to)
{
    for (unsigned e = from; e < to; e++)
        OK(bz_rbm_train_epoch(r, d, o, e, NULL));
}

static void check_resume(bool pcd, bool stream)
{
    enum { NV = 30, NH = 9, N = 250 };
    static float x[N * NV];
    unsigned long long s = 21;
    for (size_t i = 0; i < N * NV; i++)
        x[i] = bz_test_rand(&s) < 0.4f ? 1.0f : 0.0f;
    if (stream)
        setenv("BOLTZCL_STREAM_DATA", "1", 1);
    bz_data *d;
    OK(bz_data_create(ctx, x, N, NV, &d));
    unsetenv("BOLTZCL_STREAM_DATA");
    assert_int_equal(bz_data_on_device(d), !stream);
    bz_rbm_train_options o;
    bz_rbm_train_options_init(&o);
    o.batch_size = 32; /* a partial last batch */
    o.pcd = pcd;
    o.momentum_epochs = 1;
    o.seed = 9;
    bz_rbm *a, *b;
    OK(bz_rbm_create(ctx, NV, NH, BZ_UNIT_BERNOULLI, 2, &a));
    train_epochs(a, d, &o, 0, 4);

    char path[256];
    tmp_path(path, sizeof path, "resume.ckpt");
    OK(bz_rbm_create(ctx, NV, NH, BZ_UNIT_BERNOULLI, 2, &b));
    train_epochs(b, d, &o, 0, 1);
    /* Stop inside epoch 2 after the current batch, as SIGINT does. */
    volatile int stop = 0;
    o.stop = &stop;
    stop = 1;
    bz_rbm_epoch_stats es;
    assert_int_equal(bz_rbm_train_epoch(b, d, &o, 1, &es), BZ_E_INTERRUPTED);
    assert_int_equal(es.batches_done, 1);
    OK(bz_rbm_save_checkpoint(b, path, (bz_rbm_resume){1, es.batches_done}));
    bz_rbm_free(b);
    o.stop = NULL;

    bz_rbm_resume at;
    OK(bz_rbm_load_checkpoint(ctx, path, &b, &at));
    assert_int_equal(at.epoch, 1);
    assert_int_equal(at.batch, 1);
    o.start_batch = at.batch;
    OK(bz_rbm_train_epoch(b, d, &o, 1, NULL));
    o.start_batch = 0;
    train_epochs(b, d, &o, 2, 4);

    float wa[NV * NH], wb[NV * NH];
    OK(bz_rbm_get_params(a, wa, NULL, NULL));
    OK(bz_rbm_get_params(b, wb, NULL, NULL));
    for (size_t i = 0; i < NV * NH; i++)
        if (wa[i] != wb[i])
            fail_msg("resumed run differs at W[%zu]: %.9g vs %.9g (pcd %d stream %d)", i,
                     (double)wb[i], (double)wa[i], pcd, stream);
    /* A checkpoint is not a model and vice versa: both load as models, only
     * the checkpoint as a checkpoint. */
    char mpath[256];
    tmp_path(mpath, sizeof mpath, "plain.safetensors");
    OK(bz_rbm_save(a, mpath));
    bz_rbm *c;
    assert_int_equal(bz_rbm_load_checkpoint(ctx, mpath, &c, &at), BZ_E_FORMAT);
    assert_non_null(strstr(bz_last_error(ctx), "not a checkpoint"));
    bz_rbm_free(a);
    bz_rbm_free(b);
    bz_data_free(d);
}

static void test_resume_cd(void **state)
{
    (void)state;
    check_resume(false, false);
}

static void test_resume_pcd_streamed(void **state)
{
    (void)state;
    check_resume(true, true);
}

static void write_bytes(const char *path, const void *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, n, f), n);
    fclose(f);
}

static void expect_refused(const char *path, const char *needle)
{
    bz_rbm *r = (bz_rbm *)1;
    bz_status st = bz_rbm_load(ctx, path, &r);
    if (st == BZ_OK)
        fail_msg("%s was accepted", path);
    assert_null(r);
    if (!strstr(bz_last_error(ctx), needle))
        fail_msg("loading %s: message '%s' does not mention '%s'", path, bz_last_error(ctx),
                 needle);
}

static void write_st(const char *path, const char *model, size_t nv, size_t nh, size_t wrows,
                     float fill)
{
    bz_st_writer *w;
    bz_error err;
    assert_int_equal(bz_st_writer_create(&w, &err), BZ_OK);
    float *buf = malloc(wrows * nh * 4 + nv * 4 + nh * 4);
    for (size_t i = 0; i < wrows * nh + nv + nh; i++)
        buf[i] = fill;
    size_t sw[2] = {wrows, nh}, sv[1] = {nv}, sh[1] = {nh};
    bz_st_writer_add(w, "W", BZ_ST_F32, 2, sw, buf, 1, &err);
    bz_st_writer_add(w, "vbias", BZ_ST_F32, 1, sv, buf + wrows * nh, 1, &err);
    bz_st_writer_add(w, "hbias", BZ_ST_F32, 1, sh, buf + wrows * nh + nv, 1, &err);
    if (model) {
        char a[32], b[32];
        snprintf(a, sizeof a, "%zu", nv);
        snprintf(b, sizeof b, "%zu", nh);
        bz_st_writer_set_meta(w, "format", "boltzcl", &err);
        bz_st_writer_set_meta(w, "model", model, &err);
        bz_st_writer_set_meta(w, "visible", "bernoulli", &err);
        bz_st_writer_set_meta(w, "hidden", "bernoulli", &err);
        bz_st_writer_set_meta(w, "n_visible", a, &err);
        bz_st_writer_set_meta(w, "n_hidden", b, &err);
    }
    assert_int_equal(bz_st_writer_write(w, path, &err), BZ_OK);
    bz_st_writer_free(w);
    free(buf);
}

static void test_refuses_bad_models(void **state)
{
    (void)state;
    char p[256];
    tmp_path(p, sizeof p, "missing.safetensors");
    expect_refused(p, "missing.safetensors");
    tmp_path(p, sizeof p, "random.bin");
    unsigned char junk[300];
    for (size_t i = 0; i < sizeof junk; i++)
        junk[i] = (unsigned char)(i * 37 + 11);
    write_bytes(p, junk, sizeof junk);
    expect_refused(p, "random.bin");
    tmp_path(p, sizeof p, "foreign.safetensors");
    write_st(p, NULL, 4, 3, 4, 0.5f);
    expect_refused(p, "not a boltzcl model");
    tmp_path(p, sizeof p, "dbn.safetensors");
    write_st(p, "dbn", 4, 3, 4, 0.5f);
    expect_refused(p, "not an RBM");
    tmp_path(p, sizeof p, "shape.safetensors");
    write_st(p, "rbm", 4, 3, 5, 0.5f);
    expect_refused(p, "W");
    tmp_path(p, sizeof p, "nan.safetensors");
    write_st(p, "rbm", 4, 3, 4, NAN);
    expect_refused(p, "non-finite");
    /* Truncating a good model anywhere is refused. */
    char good[256];
    tmp_path(good, sizeof good, "good.safetensors");
    write_st(good, "rbm", 4, 3, 4, 0.5f);
    FILE *f = fopen(good, "rb");
    unsigned char all[4096];
    size_t n = fread(all, 1, sizeof all, f);
    fclose(f);
    bz_rbm *r;
    OK(bz_rbm_load(ctx, good, &r));
    bz_rbm_free(r);
    for (size_t cut = 0; cut < n; cut += 7) {
        tmp_path(p, sizeof p, "cut.safetensors");
        write_bytes(p, all, cut);
        expect_refused(p, "cut.safetensors");
    }
}

static void test_data_shape_mismatch(void **state)
{
    (void)state;
    float x[20] = {0};
    bz_rbm *r;
    bz_data *d;
    OK(bz_rbm_create(ctx, 5, 3, BZ_UNIT_BERNOULLI, 1, &r));
    OK(bz_data_create(ctx, x, 5, 4, &d));
    assert_int_equal(bz_rbm_train_epoch(r, d, NULL, 0, NULL), BZ_E_SHAPE);
    assert_non_null(strstr(bz_last_error(ctx), "4 values"));
    double v;
    assert_int_equal(bz_rbm_mean_free_energy(r, d, &v), BZ_E_SHAPE);
    bz_data_free(d);
    bz_rbm_free(r);
}

static void test_divergence_detected(void **state)
{
    (void)state;
    enum { NV = 8, NH = 4, N = 40 };
    float x[N * NV];
    for (size_t i = 0; i < N * NV; i++)
        x[i] = (float)(i % 3 == 0);
    bz_rbm *r;
    bz_data *d;
    OK(bz_rbm_create(ctx, NV, NH, BZ_UNIT_GAUSSIAN, 1, &r));
    OK(bz_data_create(ctx, x, N, NV, &d));
    bz_rbm_train_options o;
    bz_rbm_train_options_init(&o);
    o.batch_size = 10;
    o.learning_rate = 1e6f; /* Gaussian units explode with this */
    bz_status st = BZ_OK;
    for (unsigned e = 0; e < 5 && st == BZ_OK; e++)
        st = bz_rbm_train_epoch(r, d, &o, e, NULL);
    assert_int_equal(st, BZ_E_DIVERGED);
    assert_non_null(strstr(bz_last_error(ctx), "smaller learning rate"));
    bz_data_free(d);
    bz_rbm_free(r);
}

int main(void)
{
    ctx = bz_test_open_context();
    snprintf(tmpdir, sizeof tmpdir, "/tmp/bz-rbm-test-XXXXXX");
    if (!mkdtemp(tmpdir))
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cd1_bernoulli),
        cmocka_unit_test(test_recon_error_paths),
        cmocka_unit_test(test_cd3_bernoulli),
        cmocka_unit_test(test_pcd2_bernoulli),
        cmocka_unit_test(test_cd2_gaussian),
        cmocka_unit_test(test_learns_bars_and_stripes),
        cmocka_unit_test(test_ais_matches_exact),
        cmocka_unit_test(test_exact_log_z_gaussian),
        cmocka_unit_test(test_save_load_same_free_energy),
        cmocka_unit_test(test_resume_cd),
        cmocka_unit_test(test_resume_pcd_streamed),
        cmocka_unit_test(test_refuses_bad_models),
        cmocka_unit_test(test_data_shape_mismatch),
        cmocka_unit_test(test_divergence_detected),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    bz_rbm_free(bas_model);
    bz_context_free(ctx);
    char cmd[200];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
    if (system(cmd) != 0 && rc == 0)
        rc = 1;
    return rc;
}
