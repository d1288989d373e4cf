/*
 * Tile-aligned training (models/rbm_pad.c). The context runs a tuning file
 * whose GEMM tiles are 16 wide and whose products all go indirect, so that a
 * 124-62 RBM trains padded to 128-64, as 784-500 does to 800-512 on the
 * shipped POCL tuning. Checked: when padding is chosen and when not; the
 * extra units stay exactly inert; the model gets back exactly the twin's
 * state; padded training is the same training as unpadded (other random
 * streams, so the same error within noise, not the same bits); resuming a
 * padded run gives the uninterrupted run's weights bit for bit, with the
 * data on the device and streamed.
 */
#include "../common/cl_fixture.h"
#include "models/dbn.h"
#include "models/rbm.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

enum { NV = 124, NH = 62, NVP = 128, NHP = 64, N = 320, B = 16 };

static bz_context *ctx;
static float data[N * NV];

/* Noisy copies of four prototypes: something for the model to learn. */
static void make_data(void)
{
    unsigned long long s = 5;
    float proto[4][NV];
    for (size_t p = 0; p < 4; p++)
        for (size_t i = 0; i < NV; i++)
            proto[p][i] = bz_test_rand(&s) < 0.35f ? 1.0f : 0.0f;
    for (size_t r = 0; r < N; r++)
        for (size_t i = 0; i < NV; i++) {
            float v = proto[r % 4][i];
            data[r * NV + i] = bz_test_rand(&s) < 0.05f ? 1.0f - v : v;
        }
}

static bz_rbm_train_options options(bool pcd)
{
    bz_rbm_train_options o;
    bz_rbm_train_options_init(&o);
    o.batch_size = B;
    o.pcd = pcd;
    o.learning_rate = 0.05f;
    o.momentum_epochs = 2;
    o.seed = 4;
    return o;
}

static void plan_follows_the_tiles(void **state)
{
    (void)state;
    bz_rbm *r, *g;
    OK(bz_rbm_create(ctx, NV, NH, BZ_UNIT_BERNOULLI, 1, &r));
    OK(bz_rbm_create(ctx, NV, NH, BZ_UNIT_GAUSSIAN, 1, &g));
    bz_rbm_train_options o = options(false);
    size_t nv, nh;
    bz_rbm_pad_plan(r, &o, B, &nv, &nh);
    assert_int_equal(nv, NVP);
    assert_int_equal(nh, NHP);
    bz_rbm_pad_plan(g, &o, B, &nv, &nh); /* CD-1 reads Gaussian means: padded too */
    assert_int_equal(nv, NVP);
    o.no_padding = 1;
    bz_rbm_pad_plan(r, &o, B, &nv, &nh);
    assert_int_equal(nv, NV);
    assert_int_equal(nh, NH);
    o = options(true); /* sampled Gaussian units would not stay zero */
    bz_rbm_pad_plan(g, &o, B, &nv, &nh);
    assert_int_equal(nv, NV);
    assert_int_equal(nh, NH);
    o = options(false);
    bz_rbm_pad_plan(r, &o, 1, &nv, &nh); /* 1 x 124 x 62 < 20^3 runs XgemmDirect */
    assert_int_equal(nv, NV);
    /* a DBN's top RBM: its last 10 visible units are a softmax group, which
     * columns added at the end would displace */
    const bz_units *plain = r->vis;
    bz_dbn_use_label_units(r, 10);
    bz_rbm_pad_plan(r, &o, B, &nv, &nh);
    assert_int_equal(nv, NV);
    assert_int_equal(nh, NH);
    r->vis = plain;
    bz_rbm_free(g);
    bz_rbm_free(r);
    /* 40 x 20 would grow to 48 x 32: more extra work than the copies save */
    OK(bz_rbm_create(ctx, 40, 20, BZ_UNIT_BERNOULLI, 1, &r));
    bz_rbm_pad_plan(r, &o, B, &nv, &nh);
    assert_int_equal(nv, 40);
    assert_int_equal(nh, 20);
    bz_rbm_free(r);
}

/* Trains 4 epochs and checks the twin: zero weights and velocities of every
 * extra unit, their biases where they were put, and the model's parameters
 * equal to the twin's own. Returns the last epoch's error. */
static double train_and_check(bz_unit_type vis, bool pcd, bool no_padding, float sparsity)
{
    bz_data *d;
    OK(bz_data_create(ctx, data, N, NV, &d));
    bz_rbm *r;
    OK(bz_rbm_create(ctx, NV, NH, vis, 3, &r));
    OK(bz_rbm_init_visible_bias(r, data, N));
    bz_rbm_train_options o = options(pcd);
    o.no_padding = no_padding;
    o.sparsity_target = sparsity;
    if (vis == BZ_UNIT_GAUSSIAN)
        o.learning_rate = 0.005f;
    bz_rbm_epoch_stats es;
    for (unsigned e = 0; e < 4; e++)
        OK(bz_rbm_train_epoch(r, d, &o, e, &es));
    assert_true(isfinite(es.recon_mse));
    if (no_padding) {
        assert_null(r->padded);
    } else {
        bz_rbm *p = r->padded;
        assert_non_null(p);
        assert_int_equal(p->nv, NVP);
        assert_int_equal(p->nh, NHP);
        static float w[NVP * NHP], vw[NVP * NHP], rw[NV * NH];
        float vb[NVP], hb[NHP], rvb[NV], rhb[NH];
        OK(bz_buf_read(ctx, &p->W, 0, w, NVP * NHP));
        OK(bz_buf_read(ctx, &p->vW, 0, vw, NVP * NHP));
        OK(bz_buf_read(ctx, &p->vb, 0, vb, NVP));
        OK(bz_buf_read(ctx, &p->hb, 0, hb, NHP));
        OK(bz_rbm_get_params(r, rw, rvb, rhb));
        for (size_t i = 0; i < NVP; i++)
            for (size_t j = 0; j < NHP; j++) {
                float x = w[i * NHP + j];
                if (i >= NV || j >= NH) {
                    if (x != 0.0f || vw[i * NHP + j] != 0.0f)
                        fail_msg("extra unit's weight W[%zu][%zu] = %g, velocity %g", i, j,
                                 (double)x, (double)vw[i * NHP + j]);
                } else if (x != rw[i * NH + j]) {
                    fail_msg("model W[%zu][%zu] = %.9g, twin %.9g", i, j,
                             (double)rw[i * NH + j], (double)x);
                }
            }
        float vfill = vis == BZ_UNIT_BERNOULLI ? -1.0e4f : 0.0f;
        for (size_t i = 0; i < NVP; i++)
            assert_true(i < NV ? vb[i] == rvb[i] : vb[i] == vfill);
        /* the sparsity pull moves an extra hidden bias a little, never up
         * to where its unit could turn on */
        for (size_t j = 0; j < NHP; j++)
            assert_true(j < NH ? hb[j] == rhb[j] : sparsity > 0 ? hb[j] < -9.0e3f
                                                                 : hb[j] == -1.0e4f);
    }
    bz_rbm_free(r);
    bz_data_free(d);
    return es.recon_mse;
}

static void same_training_as_unpadded(void **state)
{
    (void)state;
    struct {
        bz_unit_type vis;
        bool pcd;
        float sparsity;
        const char *name;
    } cases[] = {
        {BZ_UNIT_BERNOULLI, false, 0.0f, "Bernoulli CD-1"},
        {BZ_UNIT_BERNOULLI, true, 0.0f, "Bernoulli PCD-1"},
        {BZ_UNIT_BERNOULLI, false, 0.1f, "Bernoulli CD-1, sparsity target"},
        {BZ_UNIT_GAUSSIAN, false, 0.0f, "Gaussian CD-1"},
    };
    for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
        double padded = train_and_check(cases[c].vis, cases[c].pcd, false, cases[c].sparsity);
        double plain = train_and_check(cases[c].vis, cases[c].pcd, true, cases[c].sparsity);
        fprintf(stderr, "%s: reconstruction error after 4 epochs %.5f padded, %.5f not\n",
                cases[c].name, padded, plain);
        /* The same learning drawn from other random streams: the spread of
         * the error between seeds here is a few percent. */
        if (!(fabs(padded - plain) <= 0.1 * plain))
            fail_msg("%s: padded error %.6f against %.6f unpadded", cases[c].name, padded, plain);
    }
}

static void train_epochs(bz_rbm *r, bz_data *d, bz_rbm_train_options *o, unsigned from,
                         unsigned to)
{
    for (unsigned e = from; e < to; e++)
        OK(bz_rbm_train_epoch(r, d, o, e, NULL));
}

static void check_resume(bool pcd, bool stream)
{
    if (stream)
        setenv("BOLTZCL_STREAM_DATA", "1", 1);
    bz_data *d;
    OK(bz_data_create(ctx, data, N, NV, &d));
    unsetenv("BOLTZCL_STREAM_DATA");
    assert_int_equal(bz_data_on_device(d), !stream);
    bz_rbm_train_options o = options(pcd);
    bz_rbm *a, *b;
    OK(bz_rbm_create(ctx, NV, NH, BZ_UNIT_BERNOULLI, 2, &a));
    train_epochs(a, d, &o, 0, 3);
    assert_non_null(a->padded);

    OK(bz_rbm_create(ctx, NV, NH, BZ_UNIT_BERNOULLI, 2, &b));
    train_epochs(b, d, &o, 0, 1);
    volatile int stop = 1; /* stops epoch 2 after its first batch */
    o.stop = &stop;
    bz_rbm_epoch_stats es;
    assert_int_equal(bz_rbm_train_epoch(b, d, &o, 1, &es), BZ_E_INTERRUPTED);
    assert_int_equal(es.batches_done, 1);
    o.stop = NULL;
    /* The model now holds the state after that batch: its checkpoint, loaded
     * into a new model, goes on from there. */
    char path[] = "/tmp/bz-rbm-pad-ckpt-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    OK(bz_rbm_save_checkpoint(b, path, (bz_rbm_resume){1, es.batches_done}));
    bz_rbm_free(b);
    bz_rbm *c;
    bz_rbm_resume at;
    OK(bz_rbm_load_checkpoint(ctx, path, &c, &at));
    unlink(path);
    assert_int_equal(at.batch, 1);
    o.start_batch = 1;
    OK(bz_rbm_train_epoch(c, d, &o, 1, NULL));
    o.start_batch = 0;
    train_epochs(c, d, &o, 2, 3);

    static float wa[NV * NH], wc[NV * NH];
    OK(bz_rbm_get_params(a, wa, NULL, NULL));
    OK(bz_rbm_get_params(c, wc, NULL, NULL));
    for (size_t i = 0; i < NV * NH; i++)
        if (wa[i] != wc[i])
            fail_msg("resumed padded run differs at W[%zu]: %.9g vs %.9g (pcd %d stream %d)", i,
                     (double)wc[i], (double)wa[i], pcd, stream);
    bz_rbm_free(a);
    bz_rbm_free(c);
    bz_data_free(d);
}

static void resume_is_exact(void **state)
{
    (void)state;
    check_resume(false, false);
    check_resume(true, true);
}

int main(void)
{
    make_data();
    ctx = bz_test_open_context_tuned(BZ_TEST_TUNING_16);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(plan_follows_the_tiles),
        cmocka_unit_test(same_training_as_unpadded),
        cmocka_unit_test(resume_is_exact),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    bz_context_free(ctx);
    return rc;
}
