/*
 * The public API as a user sees it: this file includes only boltzcl.h and
 * links only the shared library (tests/api/meson.build), and calls every
 * function the library exports (check_exports.sh compares the two lists).
 * Results are checked against plain C arithmetic on the host here, or
 * against the typed calls they must equal.
 */
#include <boltzcl.h>

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

static bz_context *ctx;
static char dir[] = "/tmp/bz-api-XXXXXX";

#define OK(x)                                                                                 \
    do {                                                                                      \
        bz_status s_ = (x);                                                                   \
        if (s_ != BZ_OK)                                                                      \
            fail_msg("%s failed: %s: %s", #x, bz_strerror(s_), bz_last_error(ctx));           \
    } while (0)

static void path_in(char *buf, size_t size, const char *name)
{
    snprintf(buf, size, "%s/%s", dir, name);
}

static float sigm(double x)
{
    return (float)(1.0 / (1.0 + exp(-x)));
}

/* deterministic values in [lo, hi) */
static void fill(float *x, size_t n, float lo, float hi, unsigned seed)
{
    unsigned s = seed * 2654435761u + 1;
    for (size_t i = 0; i < n; i++) {
        s = s * 1664525u + 1013904223u;
        x[i] = lo + (hi - lo) * (float)(s >> 8) / (float)(1u << 24);
    }
}

static void test_version_and_status(void **state)
{
    (void)state;
    assert_int_equal(bz_version_number(), BOLTZCL_VERSION_NUMBER);
    assert_string_equal(bz_version_string(), BOLTZCL_VERSION_STRING);
    assert_int_equal(bz_abi_version(), BOLTZCL_ABI_VERSION);
    /* pinned codes */
    assert_int_equal(BZ_E_FORMAT, 10);
    assert_int_equal(BZ_E_UNSUPPORTED, 14);
    assert_string_equal(bz_strerror(BZ_OK), "success");
    assert_string_equal(bz_strerror(BZ_E_UNSUPPORTED), "not supported");
    assert_string_equal(bz_strerror(999), "unknown status code");
    assert_string_equal(bz_last_error(ctx), "");
    assert_true(strlen(bz_device_name(ctx)) > 0);
    assert_non_null(bz_device_driver(ctx));
    OK(bz_finish(ctx));
}

static void test_layers_parse(void **state)
{
    (void)state;
    size_t s[8], n = 0;
    assert_int_equal(bz_layers_parse("784,500,500", 2, 8, s, &n), 0);
    assert_int_equal(n, 3);
    assert_int_equal(s[0], 784);
    assert_int_equal(s[2], 500);
    /* one rule everywhere: no empty entries, signs, spaces, zeros or excess */
    const char *bad[] = {"784,500,", ",500", "784,,500", "784, 500", "-5,3", "0,3", "",
                         "99999999,3", "1,2,3,4,5,6,7,8,9", "12a"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        assert_int_equal(bz_layers_parse(bad[i], 2, 8, s, &n), -1);
    assert_int_equal(bz_layers_parse("500", 2, 8, s, &n), -1); /* too few */
    assert_int_equal(bz_layers_parse(NULL, 1, 8, s, &n), -1);
}

static void test_devices(void **state)
{
    (void)state;
    bz_device_desc *d = NULL;
    size_t n = 0;
    OK(bz_devices_query(&d, &n));
    assert_true(n >= 1);
    long pick = bz_devices_pick(d, n, NULL);
    assert_true(pick >= 0 && (size_t)pick < n);
    /* the context runs on a device of the list, by name */
    int found = 0;
    for (size_t i = 0; i < n; i++)
        found |= strcmp(d[i].name, bz_device_name(ctx)) == 0;
    assert_true(found);
    char sel[32];
    snprintf(sel, sizeof sel, "%u:%u", d[n - 1].platform_index, d[n - 1].device_index);
    assert_int_equal(bz_devices_pick(d, n, sel), (long)(n - 1));
    assert_int_equal(bz_devices_pick(d, n, "99:99"), -1);
    assert_int_equal(bz_devices_pick(d, n, "no-such-device-name-xyz"), -1);
    assert_int_equal(bz_devices_pick(d, n, "1:"), -1); /* malformed */
    free(d);
    assert_int_equal(bz_devices_query(NULL, &n), BZ_E_INVALID_ARG);
}

static void test_kinds(void **state)
{
    (void)state;
    void *it = NULL;
    const bz_model_kind *k;
    const char *names[8];
    size_t n = 0;
    while ((k = bz_model_kind_iterate(&it)) && n < 8)
        names[n++] = bz_model_kind_name(k);
    assert_int_equal(n, 6);
    assert_string_equal(names[0], "rbm");
    assert_string_equal(names[1], "dbn");
    assert_string_equal(names[2], "dbm");
    assert_string_equal(names[3], "ising");
    assert_string_equal(names[4], "dybm");
    assert_string_equal(names[5], "cf");
    const bz_model_kind *cf = bz_model_kind_by_name("cf");
    assert_non_null(cf);
    assert_false(bz_model_kind_ops(cf) & (BZ_OP_RECONSTRUCT | BZ_OP_PREDICT));
    const bz_model_kind *rbm = bz_model_kind_by_name("rbm"), *dbn = bz_model_kind_by_name("dbn");
    assert_non_null(rbm);
    assert_null(bz_model_kind_by_name("crbm"));
    assert_string_equal(bz_model_kind_description(rbm), "restricted Boltzmann machine");
    assert_true(bz_model_kind_ops(rbm) & BZ_OP_RECONSTRUCT);
    assert_false(bz_model_kind_ops(rbm) & BZ_OP_PREDICT);
    assert_true(bz_model_kind_ops(dbn) & BZ_OP_PREDICT);
    assert_false(bz_model_kind_ops(dbn) & BZ_OP_FREE_ENERGY);
    assert_true(bz_model_kind_ops(bz_model_kind_by_name("dbm")) & BZ_OP_LOG_Z);
}

enum { NV = 6, NH = 4, NR = 5 };

/* F(v) = -v.b - sum_j log(1 + exp(c_j + v.W_j)) for Bernoulli units */
static double host_free_energy(const float *w, const float *b, const float *c, const float *v)
{
    double f = 0;
    for (size_t i = 0; i < NV; i++)
        f -= v[i] * b[i];
    for (size_t j = 0; j < NH; j++) {
        double a = c[j];
        for (size_t i = 0; i < NV; i++)
            a += v[i] * w[i * NH + j];
        f -= log1p(exp(a));
    }
    return f;
}

static void test_rbm_and_generic_model(void **state)
{
    (void)state;
    float w[NV * NH], b[NV], c[NH], v[NR * NV], h[NR * NH], r[NR * NV];
    fill(w, NV * NH, -1, 1, 1);
    fill(b, NV, -0.5f, 0.5f, 2);
    fill(c, NH, -0.5f, 0.5f, 3);
    fill(v, NR * NV, 0, 1, 4);
    bz_rbm *rbm = NULL;
    OK(bz_rbm_create(ctx, NV, NH, BZ_UNIT_BERNOULLI, 7, &rbm));
    assert_int_equal(bz_rbm_n_visible(rbm), NV);
    assert_int_equal(bz_rbm_n_hidden(rbm), NH);
    assert_int_equal(bz_rbm_visible_type(rbm), BZ_UNIT_BERNOULLI);
    OK(bz_rbm_init_visible_bias(rbm, v, NR));
    float vb0[NV];
    OK(bz_rbm_get_params(rbm, NULL, vb0, NULL));
    for (size_t i = 0; i < NV; i++) { /* log(p / (1 - p)) of the column means */
        double p = 0;
        for (size_t k = 0; k < NR; k++)
            p += v[k * NV + i] / NR;
        p = p < 0.001 ? 0.001 : p > 0.999 ? 0.999 : p;
        assert_float_equal(vb0[i], log(p / (1 - p)), 1e-4);
    }
    OK(bz_rbm_set_params(rbm, w, b, c));
    float w2[NV * NH];
    OK(bz_rbm_get_params(rbm, w2, NULL, NULL));
    assert_memory_equal(w, w2, sizeof w);

    /* transform: P(h|v) on the host */
    OK(bz_rbm_transform(rbm, v, NR, h));
    for (size_t k = 0; k < NR; k++)
        for (size_t j = 0; j < NH; j++) {
            double a = c[j];
            for (size_t i = 0; i < NV; i++)
                a += v[k * NV + i] * w[i * NH + j];
            assert_float_equal(h[k * NH + j], sigm(a), 1e-5);
        }
    /* reconstruct: sigmoid(h W^T + b) of those probabilities */
    OK(bz_rbm_reconstruct(rbm, v, NR, r));
    for (size_t k = 0; k < NR; k++)
        for (size_t i = 0; i < NV; i++) {
            double a = b[i];
            for (size_t j = 0; j < NH; j++)
                a += h[k * NH + j] * w[i * NH + j];
            assert_float_equal(r[k * NV + i], sigm(a), 1e-5);
        }
    float fe[NR];
    OK(bz_rbm_free_energy(rbm, v, NR, fe));
    double mean_fe = 0;
    for (size_t k = 0; k < NR; k++) {
        assert_float_equal(fe[k], host_free_energy(w, b, c, v + k * NV), 1e-4);
        mean_fe += fe[k] / NR;
    }

    /* data on the device and the scores */
    bz_data *d = NULL;
    OK(bz_data_create(ctx, v, NR, NV, &d));
    assert_int_equal(bz_data_rows(d), NR);
    assert_true(bz_data_on_device(d));
    double m = 0, mse = 0, pll = 0;
    OK(bz_rbm_mean_free_energy(rbm, d, &m));
    assert_float_equal(m, mean_fe, 1e-4);
    OK(bz_rbm_reconstruction_error(rbm, d, &mse));
    double host_mse = 0;
    for (size_t i = 0; i < NR * NV; i++)
        host_mse += (r[i] - v[i]) * (r[i] - v[i]) / (NR * NV);
    assert_float_equal(mse, host_mse, 1e-5);
    OK(bz_rbm_pseudo_log_likelihood(rbm, d, 3, &pll));
    assert_true(pll < 0 && isfinite(pll));

    /* exact log Z by enumerating the 4 hidden units, against the host */
    double lz = 0;
    OK(bz_rbm_exact_log_z(rbm, &lz));
    double acc = -INFINITY;
    for (unsigned s = 0; s < (1u << NV); s++) {
        float vv[NV];
        for (size_t i = 0; i < NV; i++)
            vv[i] = (float)((s >> i) & 1);
        double t = -host_free_energy(w, b, c, vv);
        acc = acc > t ? acc + log1p(exp(t - acc)) : t + log1p(exp(acc - t));
    }
    assert_float_equal(lz, acc, 1e-4);
    bz_ais_options ao;
    bz_ais_options_init(&ao);
    assert_int_equal(ao.runs, 100);
    ao.runs = 50;
    ao.betas = 2000;
    bz_ais_result ar;
    OK(bz_rbm_ais(rbm, d, &ao, &ar));
    assert_float_equal(ar.log_z, acc, 0.1);
    /* the interval brackets the estimate, and the reverse estimate, started
     * from exact draws of p(h | v) on the data, lands on the same value */
    assert_true(ar.log_z_lo <= ar.log_z && ar.log_z <= ar.log_z_hi);
    bz_ais_result rr;
    OK(bz_rbm_ais_reverse(rbm, d, d, &ao, &rr));
    assert_float_equal(rr.log_z, acc, 0.1);

    /* one training epoch moves the parameters and reports its figures */
    bz_rbm_train_options to;
    bz_rbm_train_options_init(&to);
    assert_int_equal(to.batch_size, 100);
    to.batch_size = NR;
    bz_rbm_epoch_stats es = {0};
    OK(bz_rbm_train_epoch(rbm, d, &to, 0, &es));
    assert_int_equal(es.samples, NR);
    assert_true(es.recon_mse > 0 && es.recon_mse < 1);
    OK(bz_rbm_get_params(rbm, w2, NULL, NULL));
    assert_memory_not_equal(w, w2, sizeof w);
    OK(bz_rbm_set_params(rbm, w, b, c));

    float smp[NR * NV], smp2[NR * NV];
    OK(bz_rbm_sample(rbm, NULL, NR, 10, 5, smp));
    OK(bz_rbm_sample(rbm, NULL, NR, 10, 5, smp2));
    assert_memory_equal(smp, smp2, sizeof smp); /* deterministic for a seed */
    for (size_t i = 0; i < NR * NV; i++)
        assert_true(smp[i] >= 0 && smp[i] <= 1);

    /* standardisation: refused when not positive, kept otherwise */
    float mean[NV], sd[NV], mo[NV], so[NV];
    fill(mean, NV, 0, 1, 8);
    fill(sd, NV, 0.5f, 2, 9);
    assert_int_equal(bz_rbm_get_standardization(rbm, mo, so), 0);
    sd[2] = 0;
    assert_int_equal(bz_rbm_set_standardization(rbm, mean, sd), BZ_E_INVALID_ARG);
    assert_non_null(strstr(bz_last_error(ctx), "feature 2"));
    sd[2] = 1;
    OK(bz_rbm_set_standardization(rbm, mean, sd));
    assert_int_equal(bz_rbm_get_standardization(rbm, mo, so), 1);
    assert_memory_equal(mo, mean, sizeof mean);
    assert_memory_equal(so, sd, sizeof sd);
    OK(bz_rbm_set_meta(rbm, "note", "api test"));
    assert_string_equal(bz_rbm_get_meta(rbm, "note"), "api test");
    assert_null(bz_rbm_get_meta(rbm, "absent"));

    char p1[256];
    path_in(p1, sizeof p1, "rbm.safetensors");
    OK(bz_rbm_save(rbm, p1));
    bz_rbm *back = NULL;
    OK(bz_rbm_load(ctx, p1, &back));
    OK(bz_rbm_get_params(back, w2, NULL, NULL));
    assert_memory_equal(w, w2, sizeof w);
    assert_int_equal(bz_rbm_get_standardization(back, mo, so), 1);
    assert_memory_equal(so, sd, sizeof sd);
    assert_string_equal(bz_rbm_get_meta(back, "note"), "api test");
    bz_rbm_free(back);

    /* the generic handle: load as any kind, same answers as the typed calls */
    bz_model *gm = NULL;
    OK(bz_model_load(ctx, p1, &gm));
    assert_string_equal(bz_model_kind_name(bz_model_get_kind(gm)), "rbm");
    assert_ptr_equal(bz_model_context(gm), ctx);
    assert_int_equal(bz_model_n_inputs(gm), NV);
    assert_int_equal(bz_model_n_features(gm), NH);
    assert_int_equal(bz_model_n_classes(gm), 0);
    assert_int_equal(bz_model_n_layers(gm), 2);
    assert_int_equal(bz_model_layer_size(gm, 1), NH);
    assert_int_equal(bz_model_layer_size(gm, 2), 0);
    assert_string_equal(bz_model_get_meta(gm, "note"), "api test");
    OK(bz_model_set_meta(gm, "note", "changed"));
    assert_string_equal(bz_model_get_meta(gm, "note"), "changed");
    assert_non_null(bz_model_rbm(gm));
    assert_null(bz_model_dbn(gm));
    assert_null(bz_model_dbm(gm));
    float gh[NR * NH], gr[NR * NV], gf[NR];
    OK(bz_model_transform(gm, v, NR, gh));
    assert_memory_equal(gh, h, sizeof h);
    OK(bz_model_reconstruct(gm, v, NR, gr));
    assert_memory_equal(gr, r, sizeof r);
    OK(bz_model_free_energy(gm, v, NR, gf));
    assert_memory_equal(gf, fe, sizeof fe);
    double gmfe = 0;
    OK(bz_model_score(gm, BZ_SCORE_FREE_ENERGY, v, NR, 0, &gmfe));
    assert_float_equal(gmfe, mean_fe, 1e-4);
    OK(bz_model_score(gm, BZ_SCORE_RECON_MSE, v, NR, 0, &gmfe));
    assert_float_equal(gmfe, host_mse, 1e-5);
    bz_ais_result ex;
    OK(bz_model_log_z(gm, NULL, NULL, 0, &ex));
    assert_float_equal(ex.log_z, acc, 1e-4);
    OK(bz_model_sample(gm, NULL, NR, 10, 5, smp2));
    assert_memory_equal(smp, smp2, sizeof smp);
    /* what an RBM does not do, said clearly */
    float prob[NR * 2];
    int32_t cls[NR];
    assert_int_equal(bz_model_predict_proba(gm, v, NR, prob), BZ_E_UNSUPPORTED);
    assert_non_null(strstr(bz_last_error(ctx), "rbm models"));
    assert_non_null(strstr(bz_last_error(ctx), "predict"));
    assert_int_equal(bz_model_predict(gm, v, NR, cls), BZ_E_UNSUPPORTED);
    assert_int_equal(bz_model_score(gm, BZ_SCORE_BOUND, v, NR, 0, &gmfe), BZ_E_UNSUPPORTED);
    char p2[256];
    path_in(p2, sizeof p2, "rbm2.safetensors");
    OK(bz_model_save(gm, p2));
    bz_model_free(gm);
    /* wrapping a typed handle takes it over */
    OK(bz_model_from_rbm(&rbm, &gm));
    assert_null(rbm);
    OK(bz_model_score(gm, BZ_SCORE_PSEUDO_LL, v, NR, 3, &gmfe));
    assert_float_equal(gmfe, pll, 1e-6);
    bz_model_free(gm);
    bz_data_free(d);
    /* the wrong kind and non-models are refused by name */
    bz_dbn *nd = NULL;
    assert_int_equal(bz_dbn_load(ctx, p2, &nd), BZ_E_FORMAT);
    assert_non_null(strstr(bz_last_error(ctx), "not a DBN"));
    assert_ptr_equal(bz_model_kind_of_file(p2), bz_model_kind_by_name("rbm"));
    assert_null(bz_model_kind_of_file("/nonexistent/model.safetensors"));
    assert_int_equal(bz_model_load(ctx, "/nonexistent/model.safetensors", &gm), BZ_E_IO);
    assert_null(gm);
}

enum { DIN = 8, K = 3, DN = 60 };

/* three separable classes: class k lights inputs [k*2, k*2 + 2) */
static void make_classes(float *x, int32_t *y, size_t n, unsigned seed)
{
    fill(x, n * DIN, 0, 0.3f, seed);
    for (size_t i = 0; i < n; i++) {
        y[i] = (int32_t)(i % K);
        x[i * DIN + 2 * (size_t)y[i]] = 1;
        x[i * DIN + 2 * (size_t)y[i] + 1] = 1;
    }
}

static void test_dbn(void **state)
{
    (void)state;
    float x[DN * DIN];
    int32_t y[DN];
    make_classes(x, y, DN, 11);
    bz_dataset *ds = NULL;
    OK(bz_dataset_from_memory(ctx, x, y, DN, DIN, &ds));
    assert_int_equal(bz_dataset_rows(ds), DN);
    assert_int_equal(bz_dataset_dim(ds), DIN);
    assert_int_equal(bz_dataset_n_classes(ds), K);
    size_t hh = 9, ww = 9;
    bz_dataset_image_shape(ds, &hh, &ww);
    assert_int_equal(hh, 0);
    bz_dataset_scale01(ds); /* largest value 1: unchanged */
    assert_memory_equal(bz_dataset_x(ds), x, sizeof x);
    assert_memory_equal(bz_dataset_labels(ds), y, sizeof y);

    const size_t sizes[] = {DIN, 12, 10};
    bz_dbn *d = NULL;
    OK(bz_dbn_create(ctx, sizes, 2, K, BZ_ACT_SIGMOID, 5, &d));
    assert_string_equal(bz_dbn_act_name(BZ_ACT_RELU), "relu");
    bz_dbn_act act;
    assert_int_equal(bz_dbn_act_parse("relu", &act), 0);
    assert_int_equal(act, BZ_ACT_RELU);
    assert_int_not_equal(bz_dbn_act_parse("tanh", &act), 0);
    bz_rbm_train_options ro;
    bz_rbm_train_options_init(&ro);
    ro.batch_size = 10;
    OK(bz_dbn_pretrain(d, bz_dataset_x(ds), bz_dataset_labels(ds), DN, &ro, 3, NULL, NULL));
    bz_dbn_finetune_options fo;
    bz_dbn_finetune_options_init(&fo);
    assert_int_equal(fo.batch_size, 32);
    fo.batch_size = 10;
    fo.epochs = 30;
    fo.learning_rate = 0.5f;
    bz_dbn_finetune_result res;
    OK(bz_dbn_finetune(d, x, y, DN, NULL, NULL, 0, &fo, NULL, NULL, &res));
    assert_true(res.epochs_run >= 1);
    OK(bz_dbn_set_meta(d, "task", "three bars"));
    assert_string_equal(bz_dbn_get_meta(d, "task"), "three bars");

    /* predict_proba against a host forward pass over the layers */
    float prob[DN * K];
    OK(bz_dbn_predict_proba(d, x, DN, prob));
    float w0[DIN * 12], b0[12], w1[12 * 10], b1[10], w2[10 * K], b2[K];
    OK(bz_dbn_get_layer(d, 0, w0, b0));
    OK(bz_dbn_get_layer(d, 1, w1, b1));
    OK(bz_dbn_get_layer(d, 2, w2, b2));
    int right = 0;
    for (size_t i = 0; i < DN; i++) {
        float a1[12], a2[10];
        double z[K], zmax = -INFINITY, sum = 0;
        for (size_t j = 0; j < 12; j++) {
            double a = b0[j];
            for (size_t k = 0; k < DIN; k++)
                a += x[i * DIN + k] * w0[k * 12 + j];
            a1[j] = sigm(a);
        }
        for (size_t j = 0; j < 10; j++) {
            double a = b1[j];
            for (size_t k = 0; k < 12; k++)
                a += a1[k] * w1[k * 10 + j];
            a2[j] = sigm(a);
        }
        for (size_t j = 0; j < K; j++) {
            z[j] = b2[j];
            for (size_t k = 0; k < 10; k++)
                z[j] += a2[k] * w2[k * K + j];
            zmax = z[j] > zmax ? z[j] : zmax;
        }
        for (size_t j = 0; j < K; j++)
            sum += exp(z[j] - zmax);
        size_t best = 0;
        for (size_t j = 0; j < K; j++) {
            assert_float_equal(prob[i * K + j], exp(z[j] - zmax) / sum, 1e-4);
            best = prob[i * K + j] > prob[i * K + best] ? j : best;
        }
        right += (int32_t)best == y[i];
    }
    assert_true(right >= DN * 9 / 10); /* separable: learned */
    float feat[DN * 10];
    OK(bz_dbn_transform(d, x, DN, feat));
    OK(bz_dbn_set_layer(d, 2, w2, b2));

    int32_t lab[4] = {0, 1, 2, 0};
    float gen[4 * DIN];
    OK(bz_dbn_generate(d, lab, 4, 20, 3, gen));
    for (size_t i = 0; i < 4 * DIN; i++)
        assert_true(gen[i] >= 0 && gen[i] <= 1);

    char p[256];
    path_in(p, sizeof p, "dbn.safetensors");
    OK(bz_dbn_save(d, p));
    bz_dbn *back = NULL;
    OK(bz_dbn_load(ctx, p, &back));
    float prob2[DN * K];
    OK(bz_dbn_predict_proba(back, x, DN, prob2));
    assert_memory_equal(prob, prob2, sizeof prob);
    bz_dbn_free(back);

    /* through the generic handle */
    bz_model *m = NULL;
    OK(bz_model_load(ctx, p, &m));
    assert_string_equal(bz_model_kind_name(bz_model_get_kind(m)), "dbn");
    assert_int_equal(bz_model_n_classes(m), K);
    assert_int_equal(bz_model_n_features(m), 10);
    assert_int_equal(bz_model_n_layers(m), 4); /* 8-12-10 and 3 classes */
    assert_int_equal(bz_model_layer_size(m, 3), K);
    assert_string_equal(bz_model_get_meta(m, "task"), "three bars");
    OK(bz_model_predict_proba(m, x, DN, prob2));
    assert_memory_equal(prob, prob2, sizeof prob);
    int32_t cls[DN];
    OK(bz_model_predict(m, x, DN, cls));
    int right2 = 0;
    for (size_t i = 0; i < DN; i++)
        right2 += cls[i] == y[i];
    assert_int_equal(right2, right);
    float f2[DN * 10];
    OK(bz_model_transform(m, x, DN, f2));
    assert_memory_equal(feat, f2, sizeof feat);
    float g2[4 * DIN];
    OK(bz_model_sample(m, lab, 4, 20, 3, g2));
    assert_memory_equal(gen, g2, sizeof gen);
    int32_t badlab[1] = {K};
    assert_int_equal(bz_model_sample(m, badlab, 1, 1, 1, g2), BZ_E_INVALID_ARG);
    float r[DN * DIN];
    assert_int_equal(bz_model_reconstruct(m, x, DN, r), BZ_E_UNSUPPORTED);
    assert_non_null(strstr(bz_last_error(ctx), "dbn models"));
    bz_ais_result ar;
    assert_int_equal(bz_model_log_z(m, NULL, NULL, 0, &ar), BZ_E_UNSUPPORTED);
    bz_model_free(m);
    OK(bz_model_from_dbn(&d, &m));
    assert_non_null(bz_model_dbn(m));
    bz_model_free(m);
    bz_dataset_close(ds);
}

static void test_dbm(void **state)
{
    (void)state;
    float x[DN * DIN];
    int32_t y[DN];
    make_classes(x, y, DN, 12);
    for (size_t i = 0; i < DN * DIN; i++)
        x[i] = x[i] > 0.5f ? 1.0f : 0.0f;
    const size_t sizes[] = {DIN, 6, 4};
    bz_dbm *d = NULL;
    OK(bz_dbm_create(ctx, sizes, 2, 9, &d));
    float w0[DIN * 6], b1[6];
    OK(bz_dbm_get_layer(d, 0, w0, NULL));
    OK(bz_dbm_get_layer(d, 1, NULL, b1));
    OK(bz_dbm_set_layer(d, 0, w0, NULL));
    bz_rbm_train_options ro;
    bz_rbm_train_options_init(&ro);
    ro.batch_size = 10;
    OK(bz_dbm_pretrain(d, x, DN, &ro, 2, NULL, NULL));
    bz_dbm_train_options o;
    bz_dbm_train_options_init(&o);
    assert_int_equal(o.chains, 100);
    o.batch_size = 10;
    o.chains = 10;
    bz_data *data = NULL;
    OK(bz_data_create(ctx, x, DN, DIN, &data));
    bz_dbm_epoch_stats es = {0};
    OK(bz_dbm_train_epoch(d, data, &o, 0, &es));
    assert_int_equal(es.samples, DN);
    bz_data_free(data);
    OK(bz_dbm_set_meta(d, "mf_iters", "10"));
    assert_string_equal(bz_dbm_get_meta(d, "mf_iters"), "10");

    float mf[DN * 10];
    OK(bz_dbm_transform(d, x, DN, 10, 1e-5f, mf));
    double bound = 0, lz = 0;
    OK(bz_dbm_mean_bound(d, x, DN, 10, 1e-5f, &bound));
    OK(bz_dbm_exact_log_z(d, &lz));
    /* the bound lies below the exact average log-likelihood, which is < 0 */
    assert_true(bound - lz < 0);
    bz_ais_options ao;
    bz_ais_options_init(&ao);
    ao.runs = 50;
    ao.betas = 2000;
    bz_ais_result ar;
    OK(bz_dbm_ais(d, x, DN, &ao, &ar));
    assert_float_equal(ar.log_z, lz, 0.2);
    float smp[3 * DIN];
    OK(bz_dbm_sample(d, 3, 5, 2, smp));
    bz_dbn_finetune_options fo;
    bz_dbn_finetune_options_init(&fo);
    fo.batch_size = 10;
    fo.epochs = 5;
    OK(bz_dbm_finetune(d, x, y, DN, NULL, NULL, 0, K, 10, &fo, NULL, NULL, NULL));
    float prob[DN * K];
    OK(bz_dbm_predict_proba(d, x, DN, 10, prob));
    char p[256];
    path_in(p, sizeof p, "dbm.safetensors");
    OK(bz_dbm_save(d, p));
    bz_dbm *back = NULL;
    OK(bz_dbm_load(ctx, p, &back));
    bz_dbm_free(back);

    bz_model *m = NULL;
    OK(bz_model_load(ctx, p, &m));
    assert_string_equal(bz_model_kind_name(bz_model_get_kind(m)), "dbm");
    assert_int_equal(bz_model_n_features(m), 10);
    assert_int_equal(bz_model_n_classes(m), K);
    float mf2[DN * 10], prob2[DN * K];
    OK(bz_model_transform(m, x, DN, mf2));
    assert_memory_equal(mf, mf2, sizeof mf);
    OK(bz_model_predict_proba(m, x, DN, prob2));
    assert_memory_equal(prob, prob2, sizeof prob);
    double b2 = 0;
    OK(bz_model_score(m, BZ_SCORE_BOUND, x, DN, 0, &b2));
    assert_float_equal(b2, bound, 1e-4);
    bz_ais_result ex;
    OK(bz_model_log_z(m, NULL, NULL, 0, &ex));
    assert_float_equal(ex.log_z, lz, 1e-6);
    assert_int_equal(bz_model_score(m, BZ_SCORE_PSEUDO_LL, x, DN, 0, &b2), BZ_E_UNSUPPORTED);
    bz_model_free(m);
    OK(bz_model_from_dbm(&d, &m));
    assert_non_null(bz_model_dbm(m));
    bz_model_free(m);
}

static void test_datasets_from_files(void **state)
{
    (void)state;
    char p[256];
    path_in(p, sizeof p, "d.csv");
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fprintf(f, "label,a,b\n1,0,4\n0,2,1\n2,3,0\n");
    assert_int_equal(fclose(f), 0);
    bz_dataset *ds = NULL;
    OK(bz_dataset_open_csv(ctx, p, 1, &ds));
    assert_int_equal(bz_dataset_rows(ds), 3);
    assert_int_equal(bz_dataset_dim(ds), 2);
    assert_int_equal(bz_dataset_labels(ds)[2], 2);
    bz_dataset_scale01(ds);
    assert_float_equal(bz_dataset_x(ds)[1], 1.0, 0);
    bz_dataset_binarize(ds, 0.5f); /* rows /4: [0 1] [.5 .25] [.75 0] */
    assert_float_equal(bz_dataset_x(ds)[2], 0.0, 0); /* 0.5 is not above 0.5 */
    assert_float_equal(bz_dataset_x(ds)[4], 1.0, 0);
    bz_dataset_close(ds);
    OK(bz_dataset_open(ctx, p, &ds)); /* by name: .csv */
    assert_int_equal(bz_dataset_n_classes(ds), 3);
    bz_dataset_close(ds);
    /* IDX: 2 images of 2x3 bytes, labels beside */
    char img[256], lab[256];
    path_in(img, sizeof img, "t-images-idx3-ubyte");
    path_in(lab, sizeof lab, "t-labels-idx1-ubyte");
    const unsigned char ih[] = {0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0, 3,
                                0, 51, 102, 153, 204, 255, 255, 0, 0, 0, 0, 0};
    const unsigned char lh[] = {0, 0, 8, 1, 0, 0, 0, 2, 7, 3};
    f = fopen(img, "wb");
    assert_int_equal(fwrite(ih, 1, sizeof ih, f), sizeof ih);
    fclose(f);
    f = fopen(lab, "wb");
    assert_int_equal(fwrite(lh, 1, sizeof lh, f), sizeof lh);
    fclose(f);
    OK(bz_dataset_open_idx(ctx, img, lab, &ds));
    size_t h, w;
    bz_dataset_image_shape(ds, &h, &w);
    assert_int_equal(h, 2);
    assert_int_equal(w, 3);
    assert_int_equal(bz_dataset_labels(ds)[0], 7);
    bz_dataset_scale01(ds);
    assert_float_equal(bz_dataset_x(ds)[1], 0.2, 1e-6);
    bz_dataset_close(ds);
    assert_int_equal(bz_dataset_open(ctx, "/nonexistent/x.csv", &ds), BZ_E_IO);
    assert_null(ds);
    assert_non_null(strstr(bz_last_error(ctx), "/nonexistent/x.csv"));
    float nan_row[2] = {NAN, 1};
    assert_int_equal(bz_dataset_from_memory(ctx, nan_row, NULL, 1, 2, &ds), BZ_E_FORMAT);
    unlink(p);
    unlink(img);
    unlink(lab);
}

/* ---- training orchestration: a stop, a resume, the refusals ---- */

/* Counts the per-batch progress calls of a run and requests a stop at the
 * stop_at-th (0: never). */
typedef struct stopper {
    size_t stop_at, batches, epochs_done;
    const char *kind;
} stopper;

static void on_progress(void *user, const bz_train_progress *p)
{
    stopper *s = user;
    assert_string_equal(p->kind, s->kind);
    if (p->epoch_done) {
        s->epochs_done++;
        assert_non_null(p->metrics_json);
        assert_int_equal(p->metrics_json[0], '{');
        assert_true(p->summary && p->summary[0]);
        return;
    }
    s->batches++;
    assert_true(p->batch >= 1 && p->batch <= p->batches);
    if (s->stop_at && s->batches == s->stop_at)
        bz_request_stop(15);
}

static bz_train_options train_opts(const char *ckpt, int resume, const char *fp, stopper *s)
{
    bz_train_options o;
    bz_train_options_init(&o);
    assert_null(o.checkpoint);
    assert_int_equal(o.resume, 0);
    o.checkpoint = ckpt;
    o.resume = resume;
    o.fingerprint = fp;
    o.progress = on_progress;
    o.progress_user = s;
    return o;
}

/* After a run stopped at the stop_at-th batch: what the caller is told. */
static void check_stopped(bz_status st, const bz_train_result *res, const char *ckpt)
{
    assert_int_equal(st, BZ_E_INTERRUPTED);
    assert_int_equal(res->stop_signal, 15);
    assert_int_equal(bz_stop_requested(), 15);
    assert_int_equal(res->checkpoint_written, 1);
    assert_int_equal(access(ckpt, F_OK), 0);
    bz_clear_stop();
    assert_int_equal(bz_stop_requested(), 0);
}

enum { TR = 40, TEPOCHS = 3 };

/* A fresh RBM (seed 3) trained TEPOCHS epochs through the trainer; its
 * parameters when the run returned BZ_OK or BZ_E_INTERRUPTED. */
static bz_status rbm_run(const float *x, const bz_train_options *to, bz_train_result *res,
                         float *w, float *vb, float *hb)
{
    bz_rbm *rbm = NULL;
    bz_data *d = NULL;
    bz_trainer *t = NULL;
    OK(bz_rbm_create(ctx, NV, NH, BZ_UNIT_BERNOULLI, 3, &rbm));
    OK(bz_data_create(ctx, x, TR, NV, &d));
    bz_rbm_train_options o;
    bz_rbm_train_options_init(&o);
    o.batch_size = 10;
    o.learning_rate = 0.1f;
    o.seed = 4;
    OK(bz_rbm_trainer_create(rbm, d, &o, TEPOCHS, &t));
    bz_status st = bz_trainer_run(t, to, res);
    if (st == BZ_OK || st == BZ_E_INTERRUPTED)
        OK(bz_rbm_get_params(rbm, w, vb, hb));
    bz_trainer_free(t);
    bz_data_free(d);
    bz_rbm_free(rbm);
    return st;
}

static void test_rbm_trainer(void **state)
{
    (void)state;
    float x[TR * NV];
    fill(x, TR * NV, 0, 1, 21);
    for (size_t i = 0; i < TR * NV; i++)
        x[i] = x[i] > 0.6f ? 1.0f : 0.0f;
    char ck[300];
    path_in(ck, sizeof ck, "rbm.ckpt");
    float w0[NV * NH], b0[NV], c0[NH], w[NV * NH], b[NV], c[NH];
    bz_train_result res;

    /* uninterrupted: 4 batches an epoch */
    stopper s = {0, 0, 0, "rbm"};
    bz_train_options to = train_opts(NULL, 0, NULL, &s);
    OK(rbm_run(x, &to, &res, w0, b0, c0));
    assert_int_equal(res.epochs_run, TEPOCHS);
    assert_int_equal(s.batches, TEPOCHS * TR / 10);
    assert_int_equal(s.epochs_done, TEPOCHS);

    /* stopped in the second epoch after its second batch */
    s = (stopper){6, 0, 0, "rbm"};
    to = train_opts(ck, 0, "data=x21;lr=0.1", &s);
    check_stopped(rbm_run(x, &to, &res, w, b, c), &res, ck);
    assert_int_equal(s.batches, 6);
    assert_string_equal(res.phase, "train");
    assert_int_equal(res.epoch, 1);
    assert_int_equal(res.batch, 2);
    assert_int_equal(res.epochs_run, 1);
    assert_memory_not_equal(w, w0, sizeof w);

    /* another fingerprint: refused, naming the setting */
    s = (stopper){0, 0, 0, "rbm"};
    to = train_opts(ck, 1, "data=x21;lr=0.2", &s);
    assert_int_equal(rbm_run(x, &to, &res, w, b, c), BZ_E_INVALID_ARG);
    assert_non_null(strstr(bz_last_error(ctx), "lr"));
    assert_int_equal(s.batches, 0);
    /* a fresh run over the checkpoint: refused without overwrite */
    to = train_opts(ck, 0, "data=x21;lr=0.1", &s);
    assert_int_equal(rbm_run(x, &to, &res, w, b, c), BZ_E_INVALID_ARG);
    assert_non_null(strstr(bz_last_error(ctx), "already exists"));
    assert_int_equal(s.batches, 0);

    /* the same fingerprint: the rest of the run, and exactly its parameters */
    to = train_opts(ck, 1, "data=x21;lr=0.1", &s);
    OK(rbm_run(x, &to, &res, w, b, c));
    assert_int_equal(s.batches, TEPOCHS * TR / 10 - 6);
    assert_int_equal(res.epochs_run, TEPOCHS - 1);
    assert_memory_equal(w, w0, sizeof w);
    assert_memory_equal(b, b0, sizeof b);
    assert_memory_equal(c, c0, sizeof c);
    unlink(ck);
}

/* A tiny DBN (DIN-12-10, K classes, DN rows) trained through the trainer:
 * 2 pretraining epochs per layer, 4 fine-tuning epochs; its layers. */
static bz_status dbn_run(const float *x, const int32_t *y, const bz_train_options *to,
                         float *layers, bz_dbn_finetune_result *fr)
{
    const size_t sizes[] = {DIN, 12, 10};
    bz_dbn *d = NULL;
    bz_trainer *t = NULL;
    OK(bz_dbn_create(ctx, sizes, 2, K, BZ_ACT_SIGMOID, 5, &d));
    bz_dbn_train_spec sp;
    bz_dbn_train_spec_init(&sp);
    assert_int_equal(sp.pretrain_epochs, 10);
    assert_int_equal(sp.finetune.batch_size, 32);
    sp.x = x;
    sp.labels = y;
    sp.n = DN;
    sp.pretrain.batch_size = 10;
    sp.pretrain_epochs = 2;
    sp.finetune.batch_size = 10;
    sp.finetune.epochs = 4;
    sp.finetune.patience = 0;
    sp.finetune.learning_rate = 0.5f;
    sp.result = fr;
    OK(bz_dbn_trainer_create(d, &sp, &t));
    /* The bounds hold at least the parameters: the stack's RBMs and the
     * classifier in the model, both with momenta in a checkpoint. */
    uint64_t mb = 0, cb = 0;
    assert_int_equal(bz_trainer_output_bytes(t, NULL, &cb), BZ_E_INVALID_ARG);
    OK(bz_trainer_output_bytes(t, &mb, &cb));
    const uint64_t rbm_params = (uint64_t)(DIN * 12 + DIN + 12 + 12 * 10 + 12 + 10) * 4;
    const uint64_t clf_params = (uint64_t)(DIN * 12 + 12 + 12 * 10 + 10 + 10 * K + K) * 4;
    assert_true(mb >= rbm_params + clf_params);
    assert_true(cb >= 2 * (rbm_params + clf_params));
    assert_true(mb < 64u << 20 && cb < 64u << 20); /* bounds, not nonsense */
    bz_train_result res;
    bz_status st = bz_trainer_run(t, to, &res);
    if (st == BZ_OK) {
        assert_int_equal(res.epochs_run > 0, 1);
        OK(bz_dbn_get_layer(d, 0, layers, layers + DIN * 12));
        OK(bz_dbn_get_layer(d, 1, layers + DIN * 12 + 12, layers + DIN * 12 + 12 + 120));
        OK(bz_dbn_get_layer(d, 2, layers + DIN * 12 + 12 + 130,
                            layers + DIN * 12 + 12 + 130 + 10 * K));
    } else if (st == BZ_E_INTERRUPTED) {
        check_stopped(st, &res, to->checkpoint);
        assert_string_equal(res.phase, "pretrain");
        assert_int_equal(res.layer, 2);
        assert_int_equal(res.epoch, 1);
        assert_int_equal(res.batch, 4);
    }
    bz_trainer_free(t);
    bz_dbn_free(d);
    return st;
}

enum { DBN_PARAMS = DIN * 12 + 12 + 12 * 10 + 10 + 10 * K + K };

static void test_dbn_trainer(void **state)
{
    (void)state;
    float x[DN * DIN];
    int32_t y[DN];
    make_classes(x, y, DN, 31);
    char ck[300];
    path_in(ck, sizeof ck, "dbn.ckpt");
    float want[DBN_PARAMS], got[DBN_PARAMS];
    bz_dbn_finetune_result fr0, fr;

    /* refusals of the constructor */
    bz_dbn *d = NULL;
    const size_t sizes[] = {DIN, 12, 10};
    OK(bz_dbn_create(ctx, sizes, 2, K, BZ_ACT_SIGMOID, 5, &d));
    bz_dbn_train_spec sp;
    bz_dbn_train_spec_init(&sp);
    bz_trainer *t = NULL;
    assert_int_equal(bz_dbn_trainer_create(d, &sp, &t), BZ_E_INVALID_ARG);
    assert_null(t);
    assert_non_null(strstr(bz_last_error(ctx), "labels"));
    bz_dbn_free(d);

    /* 6 batches an epoch: 12 per pretrained layer, then 24 of fine-tuning */
    stopper s = {0, 0, 0, "dbn"};
    bz_train_options to = train_opts(NULL, 0, NULL, &s);
    OK(dbn_run(x, y, &to, want, &fr0));
    assert_int_equal(s.batches, 48);
    assert_int_equal(s.epochs_done, 8);
    assert_int_equal(fr0.epochs_run, 4);

    /* stopped in the second layer's second epoch after 4 batches */
    s = (stopper){22, 0, 0, "dbn"};
    to = train_opts(ck, 0, "dbn=tiny", &s);
    assert_int_equal(dbn_run(x, y, &to, got, &fr), BZ_E_INTERRUPTED);
    to = train_opts(ck, 1, "dbn=other", &s);
    assert_int_equal(dbn_run(x, y, &to, got, &fr), BZ_E_INVALID_ARG);
    s = (stopper){0, 0, 0, "dbn"};
    to = train_opts(ck, 1, "dbn=tiny", &s);
    OK(dbn_run(x, y, &to, got, &fr));
    assert_int_equal(s.batches, 48 - 22);
    assert_memory_equal(got, want, sizeof want);
    assert_int_equal(fr.epochs_run, fr0.epochs_run);
    assert_int_equal(fr.best_epoch, fr0.best_epoch);
    unlink(ck);
}

enum { DBM_PARAMS = DIN * 6 + 6 * 4 + DIN + 6 + 4 };

/* A tiny DBM (DIN-6-4) through every stage: 1 pretraining epoch per layer,
 * 2 joint epochs, 2 epochs of its classifier; its parameters and class
 * probabilities. */
static bz_status dbm_run(const float *x, const int32_t *y, const bz_train_options *to,
                         float *params, float *prob)
{
    const size_t sizes[] = {DIN, 6, 4};
    bz_dbm *d = NULL;
    bz_trainer *t = NULL;
    OK(bz_dbm_create(ctx, sizes, 2, 9, &d));
    bz_dbm_train_spec sp;
    bz_dbm_train_spec_init(&sp);
    assert_int_equal(sp.epochs, 10);
    assert_int_equal(sp.joint.chains, 100);
    sp.x = x;
    sp.n = DN;
    sp.pretrain.batch_size = 10;
    sp.pretrain_epochs = 1;
    sp.joint.batch_size = 10;
    sp.joint.chains = 10;
    sp.epochs = 2;
    sp.finetune = 1;
    sp.labels = y;
    sp.n_classes = K;
    sp.mf_iters = 5;
    sp.sgd.batch_size = 10;
    sp.sgd.epochs = 2;
    sp.sgd.patience = 0;
    OK(bz_dbm_trainer_create(d, &sp, &t));
    bz_train_result res;
    bz_status st = bz_trainer_run(t, to, &res);
    if (st == BZ_OK) {
        OK(bz_dbm_get_layer(d, 0, params, params + DIN * 6 + 6 * 4));
        OK(bz_dbm_get_layer(d, 1, params + DIN * 6, params + DIN * 6 + 6 * 4 + DIN));
        OK(bz_dbm_get_layer(d, 2, NULL, params + DIN * 6 + 6 * 4 + DIN + 6));
        OK(bz_dbm_predict_proba(d, x, DN, 5, prob));
    } else if (st == BZ_E_INTERRUPTED) {
        check_stopped(st, &res, to->checkpoint);
        assert_string_equal(res.phase, "joint");
        assert_int_equal(res.epoch, 0);
        assert_int_equal(res.batch, 3);
    }
    bz_trainer_free(t);
    bz_dbm_free(d);
    return st;
}

static void test_dbm_trainer(void **state)
{
    (void)state;
    float x[DN * DIN];
    int32_t y[DN];
    make_classes(x, y, DN, 32);
    for (size_t i = 0; i < DN * DIN; i++)
        x[i] = x[i] > 0.5f ? 1.0f : 0.0f;
    char ck[300];
    path_in(ck, sizeof ck, "dbm.ckpt");
    float want[DBM_PARAMS], got[DBM_PARAMS], pw[DN * K], pg[DN * K];

    /* a classifier without labels: refused */
    bz_dbm *d = NULL;
    const size_t sizes[] = {DIN, 6, 4};
    OK(bz_dbm_create(ctx, sizes, 2, 9, &d));
    bz_dbm_train_spec sp;
    bz_dbm_train_spec_init(&sp);
    sp.x = x;
    sp.n = DN;
    sp.finetune = 1;
    bz_trainer *t = NULL;
    assert_int_equal(bz_dbm_trainer_create(d, &sp, &t), BZ_E_INVALID_ARG);
    assert_null(t);
    assert_non_null(strstr(bz_last_error(ctx), "labels"));
    bz_dbm_free(d);

    /* 6 batches an epoch: 6 per pretrained layer, 12 joint, 12 classifier */
    stopper s = {0, 0, 0, "dbm"};
    bz_train_options to = train_opts(NULL, 0, NULL, &s);
    OK(dbm_run(x, y, &to, want, pw));
    assert_int_equal(s.batches, 36);

    /* stopped in the first joint epoch after 3 batches */
    s = (stopper){15, 0, 0, "dbm"};
    to = train_opts(ck, 0, "dbm=tiny", &s);
    assert_int_equal(dbm_run(x, y, &to, got, pg), BZ_E_INTERRUPTED);
    to = train_opts(ck, 0, "dbm=tiny", &s);
    assert_int_equal(dbm_run(x, y, &to, got, pg), BZ_E_INVALID_ARG);
    s = (stopper){0, 0, 0, "dbm"};
    to = train_opts(ck, 1, "dbm=tiny", &s);
    OK(dbm_run(x, y, &to, got, pg));
    assert_int_equal(s.batches, 36 - 15);
    assert_memory_equal(got, want, sizeof want);
    assert_memory_equal(pg, pw, sizeof pw);
    unlink(ck);
}

static void test_tune_refuses(void **state)
{
    (void)state;
    bz_tune_options o;
    bz_tune_options_init(&o);
    assert_true(o.seconds > 0);
    char out[256];
    path_in(out, sizeof out, "tuning.jsonl");
    o.device = "no-such-device-xyz";
    o.out = out;
    o.seconds = 1;
    /* a device that does not exist: exit code 1, and no tuning file */
    assert_int_equal(bz_tune_run(&o), 1);
    assert_int_not_equal(access(out, F_OK), 0);
}

/* ---- optimisation problems ---- */

enum { GN = 12 };

/* A weighted graph on GN vertices: a ring plus chords, weights 1..3. */
static size_t host_graph(uint32_t *I, uint32_t *J, double *V)
{
    size_t m = 0;
    for (uint32_t i = 0; i < GN; i++) {
        I[m] = i, J[m] = (i + 1) % GN, V[m] = 1 + (i % 3), m++;
        if (i % 2 == 0)
            I[m] = i, J[m] = (i + 5) % GN, V[m] = 1 + ((i / 2) % 2), m++;
    }
    return m;
}

static double host_cut(const uint32_t *I, const uint32_t *J, const double *V, size_t m,
                       const int8_t *s)
{
    double cut = 0;
    for (size_t k = 0; k < m; k++)
        cut += s[I[k]] != s[J[k]] ? V[k] : 0;
    return cut;
}

static void test_optimisation(void **state)
{
    (void)state;
    /* Ising by terms: E(s) = s0 s1 - 2 s1 s2 + 0.5 s0 */
    uint32_t ti[3] = {0, 1, 0}, tj[3] = {1, 2, 0};
    double tv[3] = {1.0, -2.0, 0.5};
    bz_ising *p = NULL;
    OK(bz_ising_from_terms(ctx, BZ_PROBLEM_ISING, 3, 3, ti, tj, tv, &p));
    assert_int_equal(bz_ising_size(p), 3);
    assert_int_equal(bz_ising_kind(p), BZ_PROBLEM_ISING);
    assert_int_equal(bz_ising_couplings(p), 2);
    int8_t up[3] = {1, 1, 1}, mixed[3] = {1, -1, 1};
    assert_true(bz_ising_energy(p, up) == -0.5);    /* 1 - 2 + 0.5 */
    assert_true(bz_ising_energy(p, mixed) == 1.5);  /* -1 + 2 + 0.5 */
    assert_true(bz_ising_objective(p, 1.5) == 1.5); /* Ising: E itself */
    bz_ising_free(p);

    /* dense QUBO: x'Qx, with the diagonal linear */
    float q[9] = {-1, 2, 0, 0, -1, -3, 0, 0, 2};
    OK(bz_ising_from_dense(ctx, BZ_PROBLEM_QUBO, 3, q, NULL, &p));
    int8_t x110[3] = {1, 1, -1}, x011[3] = {-1, 1, 1};
    assert_true(bz_ising_energy(p, x110) == 0.0);  /* -1 + 2 - 1 */
    assert_true(bz_ising_energy(p, x011) == -2.0); /* -1 - 3 + 2 */
    bz_ising_free(p);

    /* Max-Cut: the annealer and parallel tempering find the cut that
     * enumerating all 2^GN assignments gives */
    uint32_t I[2 * GN], J[2 * GN];
    double V[2 * GN];
    size_t m = host_graph(I, J, V);
    double best_cut = 0;
    int8_t s[GN];
    for (unsigned c = 0; c < 1u << GN; c++) {
        for (int i = 0; i < GN; i++)
            s[i] = (c >> i) & 1 ? 1 : -1;
        double cut = host_cut(I, J, V, m, s);
        best_cut = cut > best_cut ? cut : best_cut;
    }
    /* the same graph as a rudy file, 1-based */
    char path[300];
    path_in(path, sizeof path, "graph.txt");
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fprintf(f, "%d %zu\n", GN, m);
    for (size_t k = 0; k < m; k++)
        fprintf(f, "%u %u %g\n", I[k] + 1, J[k] + 1, V[k]);
    fclose(f);
    OK(bz_ising_load(ctx, path, BZ_PROBLEM_MAXCUT, &p));
    assert_int_equal(bz_ising_size(p), GN);
    assert_int_equal(bz_ising_kind(p), BZ_PROBLEM_MAXCUT);
    assert_int_equal(bz_ising_couplings(p), m);
    for (int i = 0; i < GN; i++)
        s[i] = i % 3 ? 1 : -1;
    assert_true(bz_ising_objective(p, bz_ising_energy(p, s)) == host_cut(I, J, V, m, s));
    double bmin = 0, bmax = 0;
    bz_ising_beta_range(p, &bmin, &bmax);
    assert_true(bmin > 0 && bmax > bmin);

    bz_anneal_options ao;
    bz_anneal_options_init(&ao);
    assert_int_equal(ao.sweeps, 1000);
    assert_int_equal(ao.restarts, 1);
    ao.replicas = 8;
    ao.sweeps = 300;
    ao.seed = 5;
    int8_t best[GN];
    bz_anneal_result r;
    OK(bz_anneal(p, &ao, best, &r));
    assert_true(bz_ising_objective(p, r.best_energy) == best_cut);
    assert_true(bz_ising_energy(p, best) == r.best_energy);
    assert_true(host_cut(I, J, V, m, best) == best_cut);
    assert_int_equal(r.replicas, 8);
    assert_int_equal(r.sweeps, 300);
    assert_int_equal(r.anneals, 1);
    assert_true(r.spin_updates == 8ull * 300 * GN);
    assert_true(r.beta_min == bmin && r.beta_max == bmax); /* the problem's range */
    assert_int_equal(r.temperatures, 0);
    assert_true(r.time_to_target < 0); /* no target asked */

    /* the assignment on disk: the side (0/1) of each vertex */
    char sol[300];
    path_in(sol, sizeof sol, "cut.txt");
    OK(bz_ising_save_solution(p, best, sol));
    f = fopen(sol, "r");
    assert_non_null(f);
    for (int i = 0; i < GN; i++) {
        int side = -1;
        assert_int_equal(fscanf(f, "%d", &side), 1);
        assert_int_equal(side, best[i] > 0 ? 1 : 0);
    }
    assert_int_equal(fscanf(f, "%*d"), EOF);
    fclose(f);
    unlink(sol);

    bz_pt_options po;
    bz_pt_options_init(&po);
    assert_int_equal(po.sweeps, 10000);
    po.ladders = 2;
    po.sweeps = 400;
    po.seed = 9;
    size_t nt = bz_pt_ladder_size(p, &po);
    assert_true(nt >= 4 && nt <= 1024);
    bz_pt_level *lv = calloc(nt, sizeof *lv);
    assert_non_null(lv);
    int8_t best_pt[GN];
    OK(bz_anneal_pt(p, &po, best_pt, &r, lv));
    assert_int_equal(r.temperatures, nt);
    assert_true(bz_ising_objective(p, r.best_energy) == best_cut);
    assert_true(host_cut(I, J, V, m, best_pt) == best_cut);
    /* a geometric ladder from the problem's range, colder levels lower in
     * energy on average, never below the ground state */
    assert_true(fabs(lv[0].beta - bmin) < 1e-9 * bmin);
    assert_true(fabs(lv[nt - 1].beta - bmax) < 1e-9 * bmax);
    for (size_t k = 0; k < nt; k++) {
        assert_true(lv[k].samples > 0);
        assert_true(lv[k].swap_rate >= 0 && lv[k].swap_rate <= 1);
        assert_true(lv[k].mean_energy >= -best_cut - 1e-9);
        if (k)
            assert_true(lv[k].beta > lv[k - 1].beta);
    }
    assert_true(lv[nt - 1].mean_energy < lv[0].mean_energy);
    assert_true(lv[nt - 1].swap_rate == 0);
    free(lv);

    /* sampling at a fixed temperature: +-1 spins, each chain's energy, and
     * the same chains for the same seed */
    enum { R = 16 };
    int8_t *a = malloc(R * GN), *b = malloc(R * GN);
    double ea[R], eb[R];
    assert_non_null(a);
    assert_non_null(b);
    OK(bz_ising_sample(p, 0.5, R, 50, 11, a, ea));
    OK(bz_ising_sample(p, 0.5, R, 50, 11, b, eb));
    assert_memory_equal(a, b, R * GN);
    for (int k = 0; k < R; k++) {
        for (int i = 0; i < GN; i++)
            assert_true(a[k * GN + i] == 1 || a[k * GN + i] == -1);
        assert_true(ea[k] == eb[k]);
        assert_true(fabs(ea[k] - bz_ising_energy(p, a + k * GN)) < 1e-4);
    }
    free(a);
    free(b);
    bz_ising_free(p);

    /* a bad file: BZ_E_FORMAT with the file and line on the context */
    f = fopen(path, "w");
    assert_non_null(f);
    fputs("3 1\n1 7 1\n", f);
    fclose(f);
    p = NULL;
    assert_int_equal(bz_ising_load(ctx, path, BZ_PROBLEM_MAXCUT, &p), BZ_E_FORMAT);
    assert_null(p);
    assert_non_null(strstr(bz_last_error(ctx), "graph.txt:2:"));
    unlink(path);
}

/* E(s) of the dense problem below, from its definition */
enum { QN = 6 };
static double host_dense_energy(const float *m, const float *h, const int8_t *s)
{
    double e = 0;
    for (int i = 0; i < QN; i++) {
        e += h[i] * s[i];
        for (int j = 0; j < QN; j++)
            e += (double)m[i * QN + j] * s[i] * s[j]; /* every entry a term */
    }
    return e;
}

/* An optimisation problem as a model kind: saved and loaded through the
 * generic loader, the generic bz_model calls on it against enumeration. */
static void test_ising_model(void **state)
{
    (void)state;
    /* a dense Ising problem (every pair coupled), with a field */
    float m[QN * QN], h[QN];
    fill(m, QN * QN, -1, 1, 21);
    fill(h, QN, -0.5f, 0.5f, 22);
    for (int i = 0; i < QN; i++)
        m[i * QN + i] = 0;
    bz_ising *p = NULL;
    OK(bz_ising_from_dense(ctx, BZ_PROBLEM_ISING, QN, m, h, &p));
    bz_ising *inner = p;
    bz_model *mod = NULL;
    OK(bz_model_from_ising(&p, &mod));
    assert_null(p);
    assert_ptr_equal(bz_model_ising(mod), inner);
    assert_null(bz_model_rbm(mod));
    const bz_model_kind *k = bz_model_get_kind(mod);
    assert_string_equal(bz_model_kind_name(k), "ising");
    assert_ptr_equal(k, bz_model_kind_by_name("ising"));
    unsigned ops = bz_model_kind_ops(k);
    assert_true(ops & BZ_OP_SAMPLE && ops & BZ_OP_FREE_ENERGY && ops & BZ_OP_SCORE &&
                ops & BZ_OP_LOG_Z);
    assert_false(ops & (BZ_OP_TRANSFORM | BZ_OP_RECONSTRUCT | BZ_OP_PREDICT));
    assert_int_equal(bz_model_n_inputs(mod), QN);
    assert_int_equal(bz_model_n_classes(mod), 0);

    /* energies of all 2^QN states as rows of +-1, their mean as the score,
     * and log Z and <E> at beta = 1 and 0.5 */
    enum { S = 1 << QN };
    float *rows = malloc(S * QN * sizeof *rows), fe[S];
    assert_non_null(rows);
    double e_all[S], mean = 0;
    for (int c = 0; c < S; c++) {
        int8_t sp[QN];
        for (int i = 0; i < QN; i++)
            rows[c * QN + i] = sp[i] = (c >> i) & 1 ? 1 : -1;
        e_all[c] = host_dense_energy(m, h, sp);
        mean += e_all[c] / S;
    }
    OK(bz_model_free_energy(mod, rows, S, fe));
    for (int c = 0; c < S; c++)
        assert_true(fabs(fe[c] - e_all[c]) < 1e-5 * (1 + fabs(e_all[c])));
    double score = 0;
    OK(bz_model_score(mod, BZ_SCORE_FREE_ENERGY, rows, S, 1, &score));
    assert_true(fabs(score - mean) < 1e-9);
    double lz_host[2] = {0, 0}, mean_e[2] = {0, 0};
    const double betas[2] = {1.0, 0.5};
    for (int b = 0; b < 2; b++) {
        double z = 0;
        for (int c = 0; c < S; c++) {
            z += exp(-betas[b] * e_all[c]);
            mean_e[b] += e_all[c] * exp(-betas[b] * e_all[c]);
        }
        lz_host[b] = log(z);
        mean_e[b] /= z;
    }
    bz_ais_result lz;
    OK(bz_model_log_z(mod, NULL, NULL, 0, &lz));
    assert_true(fabs(lz.log_z - lz_host[0]) < 1e-9);
    OK(bz_model_set_meta(mod, "beta", "0.5"));
    OK(bz_model_log_z(mod, NULL, NULL, 0, &lz));
    assert_true(fabs(lz.log_z - lz_host[1]) < 1e-9);
    bz_ais_options ais;
    bz_ais_options_init(&ais);
    assert_int_equal(bz_model_log_z(mod, &ais, NULL, 0, &lz), BZ_E_UNSUPPORTED);

    /* sampling at beta 0.5: +-1 rows whose mean energy is the Boltzmann
     * average (4 standard errors) */
    enum { NS = 4096 };
    float *smp = malloc(NS * QN * sizeof *smp), *es = malloc(NS * sizeof *es);
    assert_non_null(smp);
    assert_non_null(es);
    OK(bz_model_sample(mod, NULL, NS, 30, 7, smp));
    for (size_t q = 0; q < (size_t)NS * QN; q++)
        assert_true(smp[q] == 1 || smp[q] == -1);
    OK(bz_model_free_energy(mod, smp, NS, es));
    double se = 0, se2 = 0;
    for (int r = 0; r < NS; r++)
        se += es[r], se2 += (double)es[r] * es[r];
    se /= NS;
    double sd = sqrt(se2 / NS - se * se);
    assert_true(fabs(se - mean_e[1]) < 4 * sd / sqrt(NS));
    assert_true(mean_e[1] < mean); /* the check can tell beta 0.5 from beta 0 */
    assert_true(fabs(mean - mean_e[1]) > 4 * sd / sqrt(NS));
    free(smp);
    free(es);

    /* what an Ising problem does not do, and rows that are not spins */
    float feat[QN];
    int32_t lab[1] = {0};
    assert_int_equal(bz_model_transform(mod, rows, 1, feat), BZ_E_UNSUPPORTED);
    assert_int_equal(bz_model_predict(mod, rows, 1, lab), BZ_E_UNSUPPORTED);
    assert_int_equal(bz_model_sample(mod, lab, 1, 1, 1, feat), BZ_E_UNSUPPORTED);
    float keep = rows[3];
    rows[3] = 0.5f;
    assert_int_equal(bz_model_free_energy(mod, rows, 1, fe), BZ_E_INVALID_ARG);
    assert_non_null(strstr(bz_last_error(ctx), "row 0, variable 3"));
    rows[3] = keep;

    /* saved and loaded: the same energies, the free metadata kept */
    char path[300];
    path_in(path, sizeof path, "ising.safetensors");
    OK(bz_model_save(mod, path));
    bz_model *back = NULL;
    OK(bz_model_load(ctx, path, &back));
    assert_ptr_equal(bz_model_get_kind(back), k);
    assert_string_equal(bz_model_get_meta(back, "beta"), "0.5");
    float fe2[S];
    OK(bz_model_free_energy(back, rows, S, fe2));
    assert_memory_equal(fe, fe2, sizeof fe);
    bz_model_free(back);
    bz_model_free(mod);

    /* a sparse Max-Cut problem and a QUBO with its constant, through
     * bz_ising_save and bz_ising_load (the file's kind wins) */
    uint32_t I[2 * GN], J[2 * GN];
    double V[2 * GN];
    size_t ne = host_graph(I, J, V);
    OK(bz_ising_from_terms(ctx, BZ_PROBLEM_MAXCUT, GN, ne, I, J, V, &p));
    OK(bz_ising_save(p, path));
    bz_ising *q = NULL;
    OK(bz_ising_load(ctx, path, BZ_PROBLEM_QUBO, &q));
    assert_int_equal(bz_ising_kind(q), BZ_PROBLEM_MAXCUT);
    assert_int_equal(bz_ising_size(q), GN);
    assert_int_equal(bz_ising_couplings(q), ne);
    for (unsigned c = 0; c < 1u << GN; c += 37) {
        int8_t sp[GN];
        for (int i = 0; i < GN; i++)
            sp[i] = (c >> i) & 1 ? 1 : -1;
        assert_true(bz_ising_energy(q, sp) == bz_ising_energy(p, sp));
        assert_true(bz_ising_objective(q, bz_ising_energy(q, sp)) == host_cut(I, J, V, ne, sp));
    }
    bz_ising_free(p);
    bz_ising_free(q);
    uint32_t qi[4] = {0, 1, 0, 2}, qj[4] = {0, 1, 1, 2};
    double qv[4] = {-1, -1, 2, 3};
    OK(bz_ising_from_terms(ctx, BZ_PROBLEM_QUBO, 3, 4, qi, qj, qv, &p));
    OK(bz_ising_save(p, path));
    OK(bz_model_load(ctx, path, &mod));
    float x[8 * 3], fx[8];
    for (int c = 0; c < 8; c++)
        for (int i = 0; i < 3; i++)
            x[c * 3 + i] = (float)((c >> i) & 1);
    OK(bz_model_free_energy(mod, x, 8, fx));
    for (int c = 0; c < 8; c++) { /* x'Qx: -x0 - x1 + 2 x0 x1 + 3 x2 */
        double want = -x[c * 3] - x[c * 3 + 1] + 2 * x[c * 3] * x[c * 3 + 1] + 3 * x[c * 3 + 2];
        assert_true(fabs(fx[c] - want) < 1e-6);
    }
    x[0] = -1; /* QUBO rows are 0/1 */
    assert_int_equal(bz_model_free_energy(mod, x, 1, fx), BZ_E_INVALID_ARG);
    bz_model_free(mod);
    bz_ising_free(p);
    unlink(path);
    free(rows);
}

static int setup(void **state)
{
    (void)state;
    bz_context_options o;
    bz_context_options_init(&o);
    assert_int_equal(o.log_level, BZ_LOG_WARN);
    bz_status st = bz_context_create(&o, &ctx);
    if (st == BZ_E_NO_PLATFORM || st == BZ_E_NO_DEVICE) {
        fprintf(stderr, "skipping: no OpenCL device (%s)\n", bz_last_error(ctx));
        bz_context_free(ctx);
        exit(77);
    }
    if (st) {
        fprintf(stderr, "no context: %s\n", bz_last_error(ctx));
        return -1;
    }
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char p[300];
    const char *names[] = {"rbm.safetensors", "rbm2.safetensors", "dbn.safetensors",
                           "dbm.safetensors"};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
        path_in(p, sizeof p, names[i]);
        unlink(p);
    }
    rmdir(dir);
    bz_context_free(ctx);
    return 0;
}

/* ---- collaborative filtering ---- */

enum { CU = 24, CI = 16 };

/* Low-rank ratings on 1..5: user taste s_u and item kind t_i in {-1, +1},
 * rating 3 + 2 s_u t_i (1 or 5), with every user rating about two thirds
 * of the items; ids far from dense indexes. Returns the count. */
static size_t cf_ratings(uint32_t *u, uint32_t *i, float *r)
{
    size_t n = 0;
    for (unsigned a = 0; a < CU; a++)
        for (unsigned b = 0; b < CI; b++) {
            if ((a + 2 * b) % 3 == 0)
                continue;
            int s = (a % 2) ? 1 : -1, t = (b % 4 < 2) ? 1 : -1;
            u[n] = 100 + 7 * a;
            i[n] = 5000 - 11 * b;
            r[n++] = (float)(3 + 2 * s * t);
        }
    return n;
}

static void test_cf(void **state)
{
    (void)state;
    uint32_t u[CU * CI], it[CU * CI];
    float r[CU * CI];
    size_t n = cf_ratings(u, it, r);
    bz_cf_train_options o;
    bz_cf_train_options_init(&o);
    assert_int_equal(o.hidden, 128);
    assert_int_equal(o.epochs, 20);
    assert_int_equal(o.batch_size, 64);
    assert_true(o.learning_rate == 1.0f && o.cd_start == 1 && o.cd_max == 9);
    o.hidden = 16;
    o.epochs = 12;
    o.batch_size = 4;
    o.seed = 5;

    /* bad input: named, nothing made */
    bz_cf *cf = NULL;
    float bad = r[3];
    r[3] = NAN;
    assert_int_equal(bz_cf_create_from_ratings(ctx, u, it, r, n, 1, 5, 1, &o, &cf),
                     BZ_E_INVALID_ARG);
    assert_null(cf);
    assert_non_null(strstr(bz_last_error(ctx), "row 3"));
    r[3] = 6;
    assert_int_equal(bz_cf_create_from_ratings(ctx, u, it, r, n, 1, 5, 1, &o, &cf),
                     BZ_E_INVALID_ARG);
    assert_non_null(strstr(bz_last_error(ctx), "outside the scale"));
    r[3] = bad;
    uint32_t keep = u[5];
    u[5] = u[4];
    uint32_t keep_i = it[5];
    it[5] = it[4];
    assert_int_equal(bz_cf_create_from_ratings(ctx, u, it, r, n, 1, 5, 1, &o, &cf),
                     BZ_E_INVALID_ARG);
    assert_non_null(strstr(bz_last_error(ctx), "more than once"));
    u[5] = keep;
    it[5] = keep_i;
    assert_int_equal(bz_cf_create_from_ratings(ctx, u, it, r, n, 1, 5, 0, &o, &cf),
                     BZ_E_INVALID_ARG);
    assert_null(cf);

    OK(bz_cf_create_from_ratings(ctx, u, it, r, n, 1, 5, 1, &o, &cf));
    bz_cf_info info;
    OK(bz_cf_get_info(cf, &info));
    assert_int_equal(info.n_users, CU);
    assert_int_equal(info.n_items, CI);
    assert_int_equal(info.n_ratings, n);
    assert_int_equal(info.hidden, 16);
    assert_true(info.lo == 1 && info.hi == 5 && info.step == 1);
    assert_int_equal(info.item_based, 0);
    double mean = 0, mse_mean = 0;
    for (size_t k = 0; k < n; k++)
        mean += r[k];
    mean /= (double)n;
    for (size_t k = 0; k < n; k++)
        mse_mean += (r[k] - mean) * (r[k] - mean);
    double rmse_mean = sqrt(mse_mean / (double)n);
    assert_float_equal(info.mean_rating, mean, 1e-4);
    uint32_t users[CU], items[CI];
    OK(bz_cf_get_ids(cf, users, items));
    assert_int_equal(users[0], 100);
    assert_int_equal(users[CU - 1], 100 + 7 * (CU - 1));
    assert_int_equal(items[0], 5000 - 11 * (CI - 1));
    assert_int_equal(items[CI - 1], 5000);

    /* training through the generic trainer */
    bz_trainer *t = NULL;
    OK(bz_cf_trainer_create(cf, &o, &t));
    stopper st = {0, 0, 0, "cf"};
    bz_train_options to = train_opts(NULL, 0, NULL, &st);
    bz_train_result res;
    OK(bz_trainer_run(t, &to, &res));
    assert_int_equal(res.epochs_run, 12);
    assert_int_equal(st.epochs_done, 12);
    bz_trainer_free(t);
    bz_cf_train_options badopt = o;
    badopt.learning_rate = 0;
    assert_int_equal(bz_cf_trainer_create(cf, &badopt, &t), BZ_E_INVALID_ARG);
    assert_null(t);

    double rmse, mae;
    OK(bz_cf_evaluate(cf, u, it, r, n, &rmse, &mae));
    assert_true(rmse < 0.6 * rmse_mean);
    assert_true(mae <= rmse + 1e-9);

    /* predictions: in the scale, evaluate's figures from them, unknown
     * ids get the mean */
    float p[CU * CI + 1];
    uint32_t pu[CU * CI + 1], pi[CU * CI + 1];
    memcpy(pu, u, n * sizeof *u);
    memcpy(pi, it, n * sizeof *it);
    pu[n] = 99999;
    pi[n] = it[0];
    size_t unknown = 0;
    OK(bz_cf_predict_ratings(cf, pu, pi, n + 1, p, &unknown));
    assert_int_equal(unknown, 1);
    assert_float_equal(p[n], mean, 1e-4);
    double se = 0;
    for (size_t k = 0; k < n; k++) {
        assert_true(p[k] >= 1 - 1e-5f && p[k] <= 5 + 1e-5f);
        se += (p[k] - r[k]) * (p[k] - r[k]);
    }
    assert_float_equal(sqrt(se / (double)n), rmse, 1e-5);

    /* recommendations: unrated items only, best first, as predicted */
    uint32_t user = 100 + 7 * 3, ri[CI];
    float rr[CI];
    size_t nr = 0, n_rated = 0;
    for (size_t k = 0; k < n; k++)
        n_rated += u[k] == user;
    OK(bz_cf_recommend(cf, user, CI, ri, rr, &nr));
    assert_int_equal(nr, CI - n_rated);
    assert_true(nr > 0);
    for (size_t q = 0; q < nr; q++) {
        for (size_t k = 0; k < n; k++)
            assert_false(u[k] == user && it[k] == ri[q]);
        if (q)
            assert_true(rr[q] <= rr[q - 1]);
        float one;
        OK(bz_cf_predict_ratings(cf, &user, &ri[q], 1, &one, NULL));
        assert_float_equal(one, rr[q], 1e-5);
    }
    OK(bz_cf_recommend(cf, user, 2, ri, rr, &nr));
    assert_int_equal(nr, 2);
    assert_int_equal(bz_cf_recommend(cf, 99999, 2, ri, rr, &nr), BZ_E_INVALID_ARG);
    assert_non_null(strstr(bz_last_error(ctx), "99999"));

    /* files: the typed and the generic loader give the same model */
    char path[300];
    path_in(path, sizeof path, "cf.safetensors");
    OK(bz_cf_save(cf, path));
    bz_cf *back = NULL;
    OK(bz_cf_load(ctx, path, &back));
    float q[CU * CI + 1];
    OK(bz_cf_predict_ratings(back, pu, pi, n + 1, q, NULL));
    for (size_t k = 0; k <= n; k++)
        assert_float_equal(q[k], p[k], 1e-6);
    bz_model *m = NULL;
    OK(bz_model_load(ctx, path, &m));
    assert_string_equal(bz_model_kind_name(bz_model_get_kind(m)), "cf");
    bz_cf *inner = bz_model_cf(m);
    assert_non_null(inner);
    assert_null(bz_model_rbm(m));
    OK(bz_cf_evaluate(inner, u, it, r, n, &se, &mae));
    assert_float_equal(se, rmse, 1e-6);
    bz_model_free(m);
    bz_model *m2 = NULL;
    bz_cf *typed = back;
    OK(bz_model_from_cf(&back, &m2));
    assert_null(back);
    assert_ptr_equal(bz_model_cf(m2), typed);
    bz_model_free(m2);
    bz_cf_free(cf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_version_and_status), cmocka_unit_test(test_layers_parse),
        cmocka_unit_test(test_devices),            cmocka_unit_test(test_kinds),
        cmocka_unit_test(test_rbm_and_generic_model), cmocka_unit_test(test_dbn),
        cmocka_unit_test(test_dbm),                cmocka_unit_test(test_datasets_from_files),
        cmocka_unit_test(test_tune_refuses),       cmocka_unit_test(test_rbm_trainer),
        cmocka_unit_test(test_dbn_trainer),        cmocka_unit_test(test_dbm_trainer),
        cmocka_unit_test(test_optimisation),       cmocka_unit_test(test_ising_model),
        cmocka_unit_test(test_cf),
    };
    if (getenv("BZ_API_TEST_FILTER"))
        cmocka_set_test_filter(getenv("BZ_API_TEST_FILTER"));
    return cmocka_run_group_tests(tests, setup, teardown);
}
