/*
 * Tile-aligned fine-tuning (models/dbn_pad.c), on a context whose GEMM tiles
 * are 16 wide: a 124-62-60-4 classifier fine-tunes as 128-64-64-4, as
 * 784-500-500-10 does as 800-512-512-10 on the shipped POCL tuning at batch
 * 32. Checked: when padding is chosen and when not; the extra units stay
 * exactly inert (zero weights and velocities, biases where they were put);
 * the network gets back exactly the twin's state; without dropout a padded
 * run is the same arithmetic as an unpadded one, and with dropout the same
 * training from other masks.
 */
#include "../common/cl_fixture.h"
#include "models/dbn.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

enum { NI = 124, NH1 = 62, NH2 = 60, NK = 4, B = 16, N = 328 }; /* 20.5 batches */
static const size_t sizes[3] = {NI, NH1, NH2}, padded[3] = {128, 64, 64};

static bz_context *ctx;
static float data[N * NI];
static int32_t labels[N];

/* Noisy copies of four prototypes, labelled by prototype. */
static void make_data(void)
{
    unsigned long long s = 9;
    float proto[NK][NI];
    for (size_t p = 0; p < NK; p++)
        for (size_t i = 0; i < NI; i++)
            proto[p][i] = bz_test_rand(&s) < 0.3f ? 1.0f : 0.0f;
    for (size_t r = 0; r < N; r++) {
        labels[r] = (int32_t)(r % NK);
        for (size_t i = 0; i < NI; i++) {
            float v = proto[r % NK][i];
            data[r * NI + i] = bz_test_rand(&s) < 0.15f ? 1.0f - v : v;
        }
    }
}

static bz_dbn_sgd options(float dropout, bool no_padding, unsigned epochs)
{
    bz_dbn_sgd o;
    bz_dbn_sgd_init(&o);
    o.batch_size = B;
    o.learning_rate = 0.1f;
    o.dropout = dropout;
    o.epochs = epochs;
    o.patience = 0;
    o.seed = 6;
    o.no_padding = no_padding;
    return o;
}

static void plan_of(const size_t *s, size_t L, size_t batch, bool no_padding, size_t *sp)
{
    bz_dbn *d;
    OK(bz_dbn_create(ctx, s, L, NK, BZ_ACT_SIGMOID, 1, &d));
    bz_dbn_sgd o = options(0.0f, no_padding, 1);
    bz_dbn_pad_plan(d, batch, &o, sp);
    assert_int_equal(sp[L + 1], NK); /* the classes are never padded */
    bz_dbn_free(d);
}

static void plan_follows_the_tiles(void **state)
{
    (void)state;
    size_t sp[4];
    plan_of(sizes, 2, B, false, sp);
    for (size_t l = 0; l < 3; l++)
        assert_int_equal(sp[l], padded[l]);
    plan_of(sizes, 2, B, true, sp); /* no_padding */
    for (size_t l = 0; l < 3; l++)
        assert_int_equal(sp[l], sizes[l]);
    /* one row: every product is below 20^3 and runs XgemmDirect */
    plan_of(sizes, 2, 1, false, sp);
    for (size_t l = 0; l < 3; l++)
        assert_int_equal(sp[l], sizes[l]);
    /* 40-20 would grow to 48-32: more extra work than the copies save */
    const size_t small[2] = {40, 20};
    plan_of(small, 1, B, false, sp);
    assert_int_equal(sp[0], 40);
    assert_int_equal(sp[1], 20);
    /* already on the tiles: nothing to pad */
    plan_of(padded, 2, B, false, sp);
    for (size_t l = 0; l < 3; l++)
        assert_int_equal(sp[l], padded[l]);
}

typedef struct last_epoch {
    bz_dbn_epoch_info info;
} last_epoch;

static void on_epoch(void *user, const bz_dbn_epoch_info *e)
{
    ((last_epoch *)user)->info = *e;
}

static bz_dbn *finetune(bz_dbn_act act, const bz_dbn_sgd *o, last_epoch *last)
{
    bz_dbn *d;
    OK(bz_dbn_create(ctx, sizes, 2, NK, act, 3, &d));
    bz_dbn_finetune_result res;
    OK(bz_dbn_finetune(d, data, labels, N, NULL, NULL, 0, o, on_epoch, last, &res));
    assert_int_equal(res.epochs_run, o->epochs);
    assert_null(o->no_padding ? d->padded : NULL);
    return d;
}

/* The twin after training: every weight and velocity of an extra unit or
 * input exactly zero, the extra hidden biases at their fill and their
 * velocities zero; with `model_too`, the network's parameters equal to the
 * twin's (the last epoch is the one kept). */
static void check_twin(bz_dbn *d, bool model_too)
{
    bz_dbn *p = d->padded;
    assert_non_null(p);
    const float fill = d->act == BZ_ACT_SIGMOID ? -1.0e4f : 0.0f;
    for (size_t l = 0; l <= d->L; l++) {
        size_t in = d->s[l], out = d->s[l + 1], pin = p->s[l], pout = p->s[l + 1];
        assert_int_equal(pin, l <= 2 ? padded[l] : NK);
        float *w = malloc(pin * pout * sizeof *w), *vw = malloc(pin * pout * sizeof *vw);
        float *b = malloc(pout * sizeof *b), *vb = malloc(pout * sizeof *vb);
        float *mw = malloc(in * out * sizeof *mw), *mb = malloc(out * sizeof *mb);
        assert_true(w && vw && b && vb && mw && mb);
        OK(bz_buf_read(ctx, &p->W[l], 0, w, pin * pout));
        OK(bz_buf_read(ctx, &p->vW[l], 0, vw, pin * pout));
        OK(bz_buf_read(ctx, &p->b[l], 0, b, pout));
        OK(bz_buf_read(ctx, &p->vb[l], 0, vb, pout));
        OK(bz_dbn_get_layer(d, l, mw, mb));
        for (size_t i = 0; i < pin; i++)
            for (size_t j = 0; j < pout; j++) {
                float x = w[i * pout + j], v = vw[i * pout + j];
                if (i >= in || j >= out) {
                    if (x != 0.0f || v != 0.0f)
                        fail_msg("layer %zu: extra W[%zu][%zu] = %g, velocity %g", l, i, j,
                                 (double)x, (double)v);
                } else if (model_too && x != mw[i * out + j]) {
                    fail_msg("layer %zu: network W[%zu][%zu] = %.9g, twin %.9g", l, i, j,
                             (double)mw[i * out + j], (double)x);
                }
            }
        for (size_t j = 0; j < pout; j++) {
            if (j >= out && (b[j] != fill || vb[j] != 0.0f))
                fail_msg("layer %zu: extra bias %zu = %g (velocity %g), not %g", l, j,
                         (double)b[j], (double)vb[j], (double)fill);
            if (j < out && model_too && b[j] != mb[j])
                fail_msg("layer %zu: network bias %zu = %.9g, twin %.9g", l, j, (double)mb[j],
                         (double)b[j]);
        }
        free(w);
        free(vw);
        free(b);
        free(vb);
        free(mw);
        free(mb);
    }
}

static void twin_is_inert_and_handed_back(void **state)
{
    (void)state;
    const bz_dbn_act acts[2] = {BZ_ACT_SIGMOID, BZ_ACT_RELU};
    for (size_t a = 0; a < 2; a++) {
        last_epoch last;
        bz_dbn_sgd o = options(0.2f, false, 1); /* one epoch: the best is the last */
        bz_dbn *d = finetune(acts[a], &o, &last);
        check_twin(d, true);
        o.epochs = 3; /* the twin reused, entered and left again */
        bz_dbn_finetune_result res;
        OK(bz_dbn_finetune(d, data, labels, N, NULL, NULL, 0, &o, on_epoch, &last, &res));
        check_twin(d, false);
        bz_dbn_free(d);
    }
}

/* Largest difference between the two networks' weights and biases. */
static double max_param_diff(bz_dbn *a, bz_dbn *b)
{
    double worst = 0;
    for (size_t l = 0; l <= a->L; l++) {
        size_t n = a->s[l] * a->s[l + 1], m = a->s[l + 1];
        float *wa = malloc((n + m) * sizeof *wa), *wb = malloc((n + m) * sizeof *wb);
        assert_true(wa && wb);
        OK(bz_dbn_get_layer(a, l, wa, wa + n));
        OK(bz_dbn_get_layer(b, l, wb, wb + n));
        for (size_t i = 0; i < n + m; i++)
            worst = fmax(worst, fabs((double)wa[i] - (double)wb[i]));
        free(wa);
        free(wb);
    }
    return worst;
}

static void same_training_as_unpadded(void **state)
{
    (void)state;
    /* No dropout: nothing random but the shuffle, which is the same, and the
     * padded products only add exact zeros to the sums. Three epochs of SGD
     * leave the two within rounding (a leaking extra unit moves weights by
     * 1e-2 and more; on POCL they come out bit for bit equal). */
    const bz_dbn_act acts[2] = {BZ_ACT_SIGMOID, BZ_ACT_RELU};
    for (size_t a = 0; a < 2; a++) {
        last_epoch lp, lu;
        bz_dbn_sgd op = options(0.0f, false, 3), ou = options(0.0f, true, 3);
        bz_dbn *p = finetune(acts[a], &op, &lp), *u = finetune(acts[a], &ou, &lu);
        double diff = max_param_diff(p, u);
        fprintf(stderr, "%s, no dropout: loss %.6f padded, %.6f not; largest parameter "
                        "difference %.3g\n", bz_dbn_act_name(acts[a]), lp.info.loss,
                lu.info.loss, diff);
        if (!(diff <= 1e-4))
            fail_msg("padded and unpadded fine-tuning differ by %g", diff);
        bz_dbn_free(p);
        bz_dbn_free(u);
    }
    /* Dropout: other masks, the same learning. Single runs differ by up to
     * 40% here between seeds (padded or not), so the mean of three. */
    double sp = 0, su = 0;
    for (uint64_t seed = 6; seed < 9; seed++) {
        last_epoch lp, lu;
        bz_dbn_sgd op = options(0.2f, false, 4), ou = options(0.2f, true, 4);
        op.seed = ou.seed = seed;
        bz_dbn *p = finetune(BZ_ACT_SIGMOID, &op, &lp), *u = finetune(BZ_ACT_SIGMOID, &ou, &lu);
        assert_true(lp.info.train_accuracy >= 0.95 && lu.info.train_accuracy >= 0.95);
        sp += lp.info.loss / 3;
        su += lu.info.loss / 3;
        bz_dbn_free(p);
        bz_dbn_free(u);
    }
    fprintf(stderr, "sigmoid, dropout 0.2: mean loss of three seeds %.5f padded, %.5f not\n",
            sp, su);
    if (!(fabs(sp - su) <= 0.3 * su))
        fail_msg("padded mean loss %.5f against %.5f unpadded", sp, su);
}

int main(void)
{
    make_data();
    ctx = bz_test_open_context_tuned(BZ_TEST_TUNING_16);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(plan_follows_the_tiles),
        cmocka_unit_test(twin_is_inert_and_handed_back),
        cmocka_unit_test(same_training_as_unpadded),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    bz_context_free(ctx);
    return rc;
}
