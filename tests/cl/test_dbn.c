/*
 * Deep belief networks on a real device: every kernel of kernels/dbn.cl
 * against its host reference, the fine-tuning gradient against finite
 * differences of a host forward pass (with and without dropout, sigmoid and
 * ReLU), the learning-rate decay, pretraining + fine-tuning a separable toy
 * set to 100%, class-conditional generation recognised by the network
 * itself, save/load round trips, and refusal of RBM files by the DBN loader
 * and vice versa.
 */
#include "models/dbn.h"
#include "models/model.h"
#include "ops/ops_dbn.h"
#include "ref/dbn_ref.h"
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

enum { R = 37, C = 13 };

static void test_bias_relu_softmax(void **state)
{
    (void)state;
    float x[R * C], b[C], y[R * C], ref[R * C];
    bz_test_fill(x, R * C, -30, 30, 1);
    bz_test_fill(b, C, -2, 2, 2);
    bz_buf bx, bb, by;
    bz_test_up(ctx, &bx, x, R * C);
    bz_test_up(ctx, &bb, b, C);
    bz_test_up(ctx, &by, x, R * C);
    OK(bz_op_bias_relu(ctx, &by, &bx, &bb, R, C));
    bz_test_down(ctx, &by, y, R * C);
    bz_ref_bias_relu(ref, x, b, R, C);
    bz_test_near(y, ref, R * C, 0, 0, "bias_relu"); /* one rounding, exact */
    /* Softmax in place, with logits up to 32 apart: 1e-6 absolute on
     * probabilities, 1e-5 relative. */
    OK(bz_op_bias_softmax(ctx, &bx, &bx, &bb, R, C));
    bz_test_down(ctx, &bx, y, R * C);
    bz_ref_bias_softmax(ref, x, b, R, C);
    bz_test_near(y, ref, R * C, 1e-7f, 1e-5f, "bias_softmax");
    for (size_t r = 0; r < R; r++) {
        double s = 0;
        for (size_t j = 0; j < C; j++)
            s += y[r * C + j];
        assert_true(fabs(s - 1) < 1e-5);
    }
    bz_buf_release(&bx);
    bz_buf_release(&bb);
    bz_buf_release(&by);
}

static void test_softmax_xent_grad(void **state)
{
    (void)state;
    float x[R * C], b[C], lab[R], p[R * C], dl[R * C], loss[R], cor[R];
    float rp[R * C], rd[R * C], rl[R], rc[R];
    bz_test_fill(x, R * C, -8, 8, 3);
    bz_test_fill(b, C, -1, 1, 4);
    for (size_t r = 0; r < R; r++) {
        lab[r] = (float)(r * 7 % C);
        loss[r] = rl[r] = 0.25f; /* accumulates */
        cor[r] = rc[r] = 1.0f;
    }
    x[5 * C + 3] = 200.0f; /* one extreme logit: no overflow, loss stays finite */
    lab[5] = 4;
    bz_buf bx, bb, bl, bp, bd, bloss, bcor;
    bz_test_up(ctx, &bx, x, R * C);
    bz_test_up(ctx, &bb, b, C);
    bz_test_up(ctx, &bl, lab, R);
    bz_test_up(ctx, &bp, x, R * C);
    bz_test_up(ctx, &bd, x, R * C);
    bz_test_up(ctx, &bloss, loss, R);
    bz_test_up(ctx, &bcor, cor, R);
    const float scale = 1.0f / R;
    OK(bz_op_softmax_xent_grad(ctx, &bp, &bd, &bloss, &bcor, &bx, &bb, &bl, R, C, scale));
    bz_test_down(ctx, &bp, p, R * C);
    bz_test_down(ctx, &bd, dl, R * C);
    bz_test_down(ctx, &bloss, loss, R);
    bz_test_down(ctx, &bcor, cor, R);
    bz_ref_softmax_xent_grad(rp, rd, rl, rc, x, b, lab, R, C, scale);
    bz_test_near(p, rp, R * C, 1e-7f, 1e-5f, "prob");
    bz_test_near(dl, rd, R * C, 1e-8f, 1e-5f, "delta");
    bz_test_near(loss, rl, R, 1e-5f, 1e-5f, "loss");
    bz_test_near(cor, rc, R, 0, 0, "correct");
    assert_true(isfinite(loss[5]) && loss[5] > 190);
    /* Aliasing prob with x gives the same. */
    OK(bz_op_softmax_xent_grad(ctx, &bx, &bd, &bloss, &bcor, &bx, &bb, &bl, R, C, scale));
    bz_test_down(ctx, &bx, p, R * C);
    bz_test_near(p, rp, R * C, 1e-7f, 1e-5f, "prob (aliased)");
    bz_buf *bufs[] = {&bx, &bb, &bl, &bp, &bd, &bloss, &bcor};
    for (size_t i = 0; i < 7; i++)
        bz_buf_release(bufs[i]);
}

static void test_dropout_and_act_backward(void **state)
{
    (void)state;
    enum { N = 1001 };
    static float a[N], d0[N], y[N], ref[N];
    const bz_rng_pos pos = {9, 1234, 6}; /* an offset not a multiple of 4 */
    for (int act = 0; act < 2; act++) {
        for (int with_p = 0; with_p < 2; with_p++) {
            float p = with_p ? 0.3f : 0.0f;
            bz_test_fill(a, N, act ? -1 : 0.001f, 0.999f, 10 + (unsigned)act);
            if (act)
                for (size_t i = 0; i < N; i++)
                    a[i] = a[i] < 0 ? 0 : a[i] * 3;
            float fwd[N];
            memcpy(fwd, a, sizeof a);
            bz_buf ba, bd;
            bz_test_up(ctx, &ba, a, N);
            if (p > 0) {
                OK(bz_op_dropout_fwd(ctx, &ba, N, p, pos));
                bz_test_down(ctx, &ba, y, N);
                bz_ref_dropout_fwd(fwd, N, p, pos.seed, pos.stream, pos.offset);
                /* OpenCL lets a float division be off by 2.5 ulp (NVIDIA's is), so
                 * 3 ulp relative; a dropped unit must still be exactly 0. */
                bz_test_near(y, fwd, N, 0, 3.6e-7f, "dropout_fwd");
                size_t kept = 0;
                for (size_t i = 0; i < N; i++)
                    kept += (size_t)bz_ref_dropout_keep(pos.seed, pos.stream, pos.offset + i, p);
                assert_true(kept > N * 0.6 && kept < N * 0.8);
            }
            bz_test_fill(d0, N, -1, 1, 20);
            bz_test_up(ctx, &bd, d0, N);
            OK(bz_op_act_backward(ctx, &bd, &ba, N, (bz_dbn_act)act, p, pos));
            bz_test_down(ctx, &bd, y, N);
            memcpy(ref, d0, sizeof d0);
            bz_ref_act_backward(ref, fwd, N, act, p, pos.seed, pos.stream, pos.offset);
            bz_test_near(y, ref, N, 1e-7f, 1e-5f, act ? "act_backward relu" : "act_backward sigmoid");
            bz_buf_release(&ba);
            bz_buf_release(&bd);
        }
    }
    /* Out-of-range probability is refused with a message. */
    bz_buf ba;
    bz_test_up(ctx, &ba, a, N);
    assert_int_equal(bz_op_dropout_fwd(ctx, &ba, N, 1.0f, pos), BZ_E_INVALID_ARG);
    assert_non_null(strstr(bz_last_error(ctx), "dropout"));
    bz_buf_release(&ba);
}

/* The top RBM's label units carry their group size with them: two RBMs
 * with 3 and 5 classes keep their own, and the units sample with the row
 * shape (what PCD and CD-k's intermediate steps call), exactly as the
 * reference does. */
static void test_label_units_per_instance(void **state)
{
    (void)state;
    enum { NR = 7, NC = 12 };
    bz_rbm *r3 = NULL, *r5 = NULL;
    OK(bz_rbm_create(ctx, NC, 4, BZ_UNIT_BERNOULLI, 1, &r3));
    OK(bz_rbm_create(ctx, NC, 4, BZ_UNIT_BERNOULLI, 1, &r5));
    bz_dbn_use_label_units(r3, 3);
    bz_dbn_use_label_units(r5, 5);
    assert_int_equal(r3->vis->group, 3);
    assert_int_equal(r5->vis->group, 5);
    float x[NR * NC], b[NC], y[NR * NC], ref[NR * NC], s[NR * NC], rs[NR * NC];
    bz_test_fill(x, NR * NC, -4, 4, 40);
    bz_test_fill(b, NC, -1, 1, 41);
    bz_buf bx = {0}, bb = {0}, bs = {0};
    bz_test_up(ctx, &bb, b, NC);
    bz_test_up(ctx, &bs, x, NR * NC);
    const bz_rbm *rr[2] = {r3, r5};
    const size_t kk[2] = {3, 5};
    for (int i = 0; i < 2; i++) {
        bz_test_up(ctx, &bx, x, NR * NC);
        OK(rr[i]->vis->mean(rr[i]->vis, ctx, &bx, &bx, &bb, NR, NC));
        bz_test_down(ctx, &bx, y, NR * NC);
        bz_ref_bias_sigmoid_softmax_tail(ref, x, b, NR, NC, kk[i]);
        bz_test_near(y, ref, NR * NC, 1e-7f, 1e-5f, "label mean");
        const bz_rng_pos pos = {9, 2, 0};
        OK(rr[i]->vis->sample(rr[i]->vis, ctx, &bs, &bx, NR, NC, pos));
        bz_test_down(ctx, &bs, s, NR * NC);
        bz_ref_sample_bernoulli_softmax_tail(rs, y, NR, NC, kk[i], pos.seed, pos.stream,
                                             pos.offset);
        bz_test_near(s, rs, NR * NC, 0, 0, "label sample");
        bz_buf_release(&bx);
    }
    bz_buf_release(&bb);
    bz_buf_release(&bs);
    bz_rbm_free(r3);
    bz_rbm_free(r5);
}

static void test_label_units(void **state)
{
    (void)state;
    enum { NR = 29, NC = 17, K = 5 };
    float x[NR * NC], b[NC], y[NR * NC], ref[NR * NC], s[NR * NC], rs[NR * NC];
    bz_test_fill(x, NR * NC, -6, 6, 30);
    bz_test_fill(b, NC, -1, 1, 31);
    bz_buf bx, bb, bs;
    bz_test_up(ctx, &bx, x, NR * NC);
    bz_test_up(ctx, &bb, b, NC);
    bz_test_up(ctx, &bs, x, NR * NC);
    /* In place, as the RBM trainer calls it. */
    OK(bz_op_bias_sigmoid_softmax_tail(ctx, &bx, &bx, &bb, NR, NC, K));
    bz_test_down(ctx, &bx, y, NR * NC);
    bz_ref_bias_sigmoid_softmax_tail(ref, x, b, NR, NC, K);
    bz_test_near(y, ref, NR * NC, 1e-7f, 1e-5f, "sigmoid_softmax_tail");
    /* Sampling from the reference means: the same bits, so exact. */
    const bz_rng_pos pos = {77, 5, 3};
    OK(bz_buf_write(ctx, &bx, 0, ref, NR * NC));
    OK(bz_op_sample_bernoulli_softmax_tail(ctx, &bs, &bx, NR, NC, K, pos));
    bz_test_down(ctx, &bs, s, NR * NC);
    bz_ref_sample_bernoulli_softmax_tail(rs, ref, NR, NC, K, pos.seed, pos.stream, pos.offset);
    bz_test_near(s, rs, NR * NC, 0, 0, "sample_bernoulli_softmax_tail");
    for (size_t r = 0; r < NR; r++) {
        float ones = 0;
        for (size_t j = NC - K; j < NC; j++)
            ones += s[r * NC + j];
        assert_true(ones == 1.0f);
    }
    /* The categorical frequencies follow the means: one row repeated. */
    enum { M = 4000 };
    static float mm[M * 3], ss[M * 3];
    for (size_t r = 0; r < M; r++) {
        mm[r * 3] = 0.2f;
        mm[r * 3 + 1] = 0.5f;
        mm[r * 3 + 2] = 0.3f;
    }
    bz_buf bm, bo;
    bz_test_up(ctx, &bm, mm, M * 3);
    bz_test_up(ctx, &bo, mm, M * 3);
    OK(bz_op_sample_bernoulli_softmax_tail(ctx, &bo, &bm, M, 3, 3, pos));
    bz_test_down(ctx, &bo, ss, M * 3);
    double f[3] = {0};
    for (size_t r = 0; r < M; r++)
        for (size_t j = 0; j < 3; j++)
            f[j] += ss[r * 3 + j] / M;
    assert_true(fabs(f[0] - 0.2) < 0.03 && fabs(f[1] - 0.5) < 0.03 && fabs(f[2] - 0.3) < 0.03);
    bz_buf *bufs[] = {&bx, &bb, &bs, &bm, &bo};
    for (size_t i = 0; i < 5; i++)
        bz_buf_release(bufs[i]);
}

/* ---- backprop vs finite differences ---- */

enum { GI = 6, GH1 = 5, GH2 = 4, GK = 3, GB = 7 };

typedef struct tiny {
    double w[3][GI * GH1], b[3][GH1];
} tiny;

static const size_t gs[4] = {GI, GH1, GH2, GK};

/* Mean cross-entropy of the batch in double, with the dropout masks of
 * (seed, epoch 0, batch 0). */
static double host_loss(const tiny *t, const float *x, const float *lab, int act, float p,
                        uint64_t seed)
{
    double loss = 0;
    for (size_t r = 0; r < GB; r++) {
        double a[GI], z[GI];
        for (size_t i = 0; i < GI; i++)
            a[i] = x[r * GI + i];
        for (size_t l = 0; l < 3; l++) {
            size_t m = gs[l], n = gs[l + 1];
            for (size_t j = 0; j < n; j++) {
                double s = t->b[l][j];
                for (size_t i = 0; i < m; i++)
                    s += a[i] * t->w[l][i * n + j];
                z[j] = s;
            }
            if (l == 2)
                break;
            for (size_t j = 0; j < n; j++) {
                double h = act ? (z[j] > 0 ? z[j] : 0) : 1 / (1 + exp(-z[j]));
                if (p > 0)
                    h = bz_ref_dropout_keep(seed, bz_dbn_dropout_stream(0, 0, l + 1), r * n + j, p)
                            ? h / (1 - p)
                            : 0;
                a[j] = h;
            }
        }
        double m = -INFINITY, s = 0;
        for (size_t j = 0; j < GK; j++)
            m = z[j] > m ? z[j] : m;
        for (size_t j = 0; j < GK; j++)
            s += exp(z[j] - m);
        loss += m + log(s) - z[(size_t)lab[r]];
    }
    return loss / GB;
}

static void check_gradient(int act, float p)
{
    const size_t sizes[3] = {GI, GH1, GH2};
    bz_dbn *d;
    OK(bz_dbn_create(ctx, sizes, 2, GK, (bz_dbn_act)act, 11, &d));
    float x[GB * GI], lab[GB];
    bz_test_fill(x, GB * GI, 0, 1, 40);
    for (size_t r = 0; r < GB; r++)
        lab[r] = (float)(r % GK);
    tiny t;
    float wf[3][GI * GH1], bf[3][GH1], wa[3][GI * GH1], ba[3][GH1];
    for (size_t l = 0; l < 3; l++) {
        bz_test_fill(wf[l], gs[l] * gs[l + 1], -1, 1, 50 + l);
        bz_test_fill(bf[l], gs[l + 1], -0.5f, 0.5f, 60 + l);
        OK(bz_dbn_set_layer(d, l, wf[l], bf[l]));
        for (size_t i = 0; i < gs[l] * gs[l + 1]; i++)
            t.w[l][i] = wf[l][i];
        for (size_t j = 0; j < gs[l + 1]; j++)
            t.b[l][j] = bf[l][j];
    }
    /* lr 1, no momentum or decay: the step moves each parameter by minus
     * its gradient. */
    bz_dbn_sgd o;
    bz_dbn_sgd_init(&o);
    o.learning_rate = 1.0f;
    o.momentum = 0.0f;
    o.dropout = p;
    o.seed = 3;
    double loss = 0;
    OK(bz_dbn_train_batch(d, x, lab, GB, &o, 0, 0, &loss));
    double l0 = host_loss(&t, x, lab, act, p, o.seed);
    assert_true(fabs(loss / GB - l0) < 1e-5 * (1 + l0));
    size_t checked = 0;
    for (size_t l = 0; l < 3; l++) {
        OK(bz_dbn_get_layer(d, l, wa[l], ba[l]));
        size_t nw = gs[l] * gs[l + 1], nb = gs[l + 1];
        for (size_t i = 0; i < nw + nb; i++) {
            double *param = i < nw ? &t.w[l][i] : &t.b[l][i - nw];
            double got = i < nw ? (double)wf[l][i] - wa[l][i] : (double)bf[l][i - nw] - ba[l][i - nw];
            const double h = 1e-5;
            double keep = *param;
            *param = keep + h;
            double lp = host_loss(&t, x, lab, act, p, o.seed);
            *param = keep - h;
            double lm = host_loss(&t, x, lab, act, p, o.seed);
            *param = keep;
            double want = (lp - lm) / (2 * h);
            /* float device arithmetic vs double central differences */
            if (!(fabs(got - want) <= 2e-5 + 1e-3 * fabs(want)))
                fail_msg("act %d p %.1f layer %zu param %zu: gradient %.8g, finite "
                         "differences %.8g", act, (double)p, l, i, got, want);
            checked += fabs(want) > 1e-4;
        }
    }
    assert_true(checked > 20); /* the check saw real gradients */
    bz_dbn_free(d);
}

static void test_gradient_sigmoid(void **state)
{
    (void)state;
    check_gradient(0, 0.0f);
}

static void test_gradient_relu(void **state)
{
    (void)state;
    check_gradient(1, 0.0f);
}

static void test_gradient_dropout(void **state)
{
    (void)state;
    check_gradient(0, 0.4f);
    check_gradient(1, 0.25f);
}

/* Epoch e steps with lr / (1 + decay e): a step of epoch 1 with lr 1 and
 * decay 1 is the step of epoch 0 with lr 0.5 (weight decay scales with it);
 * a negative decay is refused. */
static void test_lr_decay(void **state)
{
    (void)state;
    const size_t sizes[3] = {GI, GH1, GH2};
    bz_dbn *a, *b;
    OK(bz_dbn_create(ctx, sizes, 2, GK, BZ_ACT_SIGMOID, 5, &a));
    OK(bz_dbn_create(ctx, sizes, 2, GK, BZ_ACT_SIGMOID, 5, &b));
    float x[GB * GI], lab[GB];
    bz_test_fill(x, GB * GI, 0, 1, 41);
    for (size_t r = 0; r < GB; r++)
        lab[r] = (float)(r % GK);
    bz_dbn_sgd o;
    bz_dbn_sgd_init(&o);
    o.weight_decay = 0.01f;
    o.learning_rate = 0.5f;
    OK(bz_dbn_train_batch(a, x, lab, GB, &o, 0, 0, NULL));
    o.learning_rate = 1.0f;
    o.lr_decay = 1.0f;
    OK(bz_dbn_train_batch(b, x, lab, GB, &o, 1, 0, NULL));
    float wa[GI * GH1], ba[GH1], wb[GI * GH1], bb[GH1];
    for (size_t l = 0; l < 3; l++) {
        OK(bz_dbn_get_layer(a, l, wa, ba));
        OK(bz_dbn_get_layer(b, l, wb, bb));
        assert_memory_equal(wa, wb, gs[l] * gs[l + 1] * sizeof *wa);
        assert_memory_equal(ba, bb, gs[l + 1] * sizeof *ba);
    }
    /* ... and differs from an undecayed step of epoch 1. */
    o.lr_decay = 0.0f;
    OK(bz_dbn_train_batch(a, x, lab, GB, &o, 1, 0, NULL));
    OK(bz_dbn_get_layer(a, 0, wa, ba));
    OK(bz_dbn_get_layer(b, 0, wb, bb));
    assert_memory_not_equal(wa, wb, sizeof wa);
    o.lr_decay = -0.1f;
    assert_int_equal(bz_dbn_train_batch(a, x, lab, GB, &o, 0, 0, NULL), BZ_E_INVALID_ARG);
    assert_non_null(strstr(bz_last_error(ctx), "decay"));
    bz_dbn_free(a);
    bz_dbn_free(b);
}

/* ---- end to end on a toy set ---- */

enum { TN = 240, TD = 16, TK = 4 };
static float toy_x[TN * TD];
static int32_t toy_y[TN];
static bz_dbn *toy;

/* Class c lights the pixels of row c of a 4x4 image, plus 10% noise. */
static void make_toy(void)
{
    unsigned long long s = 99;
    for (size_t i = 0; i < TN; i++) {
        int32_t c = (int32_t)(i % TK);
        toy_y[i] = c;
        for (size_t j = 0; j < TD; j++) {
            float on = (j / 4 == (size_t)c) ? 1.0f : 0.0f;
            toy_x[i * TD + j] = bz_test_rand(&s) < 0.1f ? 1.0f - on : on;
        }
    }
}

static size_t argmax(const float *p, size_t k)
{
    size_t a = 0;
    for (size_t j = 1; j < k; j++)
        if (p[j] > p[a])
            a = j;
    return a;
}

static void test_pretrain_finetune_toy(void **state)
{
    (void)state;
    make_toy();
    const size_t sizes[3] = {TD, 12, 24};
    OK(bz_dbn_create(ctx, sizes, 2, TK, BZ_ACT_SIGMOID, 1, &toy));
    bz_rbm_train_options ro;
    bz_rbm_train_options_init(&ro);
    ro.batch_size = 10;
    ro.learning_rate = 0.1f;
    OK(bz_dbn_pretrain(toy, toy_x, toy_y, TN, &ro, 30, NULL, NULL));
    assert_true(toy->generative);
    bz_dbn_sgd o;
    bz_dbn_sgd_init(&o);
    o.batch_size = 10;
    o.epochs = 30;
    o.patience = 0;
    bz_dbn_finetune_result res;
    OK(bz_dbn_finetune(toy, toy_x, toy_y, TN, NULL, NULL, 0, &o, NULL, NULL, &res));
    static float p[TN * TK];
    OK(bz_dbn_predict_proba(toy, toy_x, TN, p));
    size_t hit = 0;
    for (size_t i = 0; i < TN; i++)
        hit += argmax(p + i * TK, TK) == (size_t)toy_y[i];
    if (hit != TN)
        fail_msg("training accuracy %zu / %d after fine-tuning", hit, TN);
}

static void test_generation_recognised(void **state)
{
    (void)state;
    assert_non_null(toy);
    enum { PER = 25 };
    int32_t lab[TK * PER];
    static float x[TK * PER * TD], p[TK * PER * TK];
    for (size_t i = 0; i < TK * PER; i++)
        lab[i] = (int32_t)(i / PER);
    OK(bz_dbn_generate(toy, lab, TK * PER, 200, 7, x));
    OK(bz_dbn_predict_proba(toy, x, TK * PER, p));
    size_t hit = 0;
    for (size_t i = 0; i < TK * PER; i++)
        hit += argmax(p + i * TK, TK) == (size_t)lab[i];
    if (hit < TK * PER * 7 / 10)
        fail_msg("only %zu of %d class-conditional samples recognised as their class", hit,
                 TK * PER);
    /* Deterministic for a seed. */
    static float x2[TK * PER * TD];
    OK(bz_dbn_generate(toy, lab, TK * PER, 200, 7, x2));
    assert_memory_equal(x, x2, sizeof x);
    /* A label outside the classes is refused with a message. */
    int32_t bad = TK;
    assert_int_equal(bz_dbn_generate(toy, &bad, 1, 10, 1, x), BZ_E_INVALID_ARG);
    assert_non_null(strstr(bz_last_error(ctx), "label"));
}

static void test_save_load_round_trip(void **state)
{
    (void)state;
    assert_non_null(toy);
    char path[256];
    snprintf(path, sizeof path, "%s/toy.safetensors", tmpdir);
    OK(bz_dbn_set_meta(toy, "image_height", "4"));
    OK(bz_dbn_save(toy, path));
    bz_dbn *back;
    OK(bz_dbn_load(ctx, path, &back));
    assert_int_equal(back->L, 2);
    assert_int_equal(back->K, TK);
    assert_true(back->generative);
    assert_string_equal(bz_dbn_get_meta(back, "image_height"), "4");
    static float p1[TN * TK], p2[TN * TK], g1[8 * TD], g2[8 * TD], h1[TN * 24], h2[TN * 24];
    OK(bz_dbn_predict_proba(toy, toy_x, TN, p1));
    OK(bz_dbn_predict_proba(back, toy_x, TN, p2));
    assert_memory_equal(p1, p2, sizeof p1);
    OK(bz_dbn_transform(toy, toy_x, TN, h1));
    OK(bz_dbn_transform(back, toy_x, TN, h2));
    assert_memory_equal(h1, h2, sizeof h1);
    int32_t lab[8] = {0, 1, 2, 3, 0, 1, 2, 3};
    OK(bz_dbn_generate(toy, lab, 8, 50, 3, g1));
    OK(bz_dbn_generate(back, lab, 8, 50, 3, g2));
    assert_memory_equal(g1, g2, sizeof g1);
    bz_dbn_free(back);

    /* Without pretraining: no generative stack, and sampling says why. */
    const size_t sizes[2] = {TD, 8};
    bz_dbn *plain;
    OK(bz_dbn_create(ctx, sizes, 1, TK, BZ_ACT_RELU, 2, &plain));
    snprintf(path, sizeof path, "%s/plain.safetensors", tmpdir);
    OK(bz_dbn_save(plain, path));
    bz_dbn_free(plain);
    OK(bz_dbn_load(ctx, path, &plain));
    assert_false(plain->generative);
    assert_int_equal(plain->act, BZ_ACT_RELU);
    assert_int_equal(bz_dbn_generate(plain, lab, 1, 10, 1, g1), BZ_E_UNSUPPORTED);
    assert_non_null(strstr(bz_last_error(ctx), "pretrain"));
    bz_dbn_free(plain);
}

static void test_refusals(void **state)
{
    (void)state;
    char rbm_path[256], dbn_path[256];
    snprintf(rbm_path, sizeof rbm_path, "%s/an-rbm.safetensors", tmpdir);
    snprintf(dbn_path, sizeof dbn_path, "%s/toy.safetensors", tmpdir);
    bz_rbm *r;
    OK(bz_rbm_create(ctx, 4, 3, BZ_UNIT_BERNOULLI, 1, &r));
    OK(bz_rbm_save(r, rbm_path));
    bz_rbm_free(r);
    bz_dbn *d = (bz_dbn *)1;
    assert_int_equal(bz_dbn_load(ctx, rbm_path, &d), BZ_E_FORMAT);
    assert_null(d);
    assert_non_null(strstr(bz_last_error(ctx), "not a DBN"));
    r = (bz_rbm *)1;
    assert_int_equal(bz_rbm_load(ctx, dbn_path, &r), BZ_E_FORMAT);
    assert_null(r);
    assert_non_null(strstr(bz_last_error(ctx), "not an RBM"));
    char kind[16];
    bz_model_file_kind(dbn_path, kind, sizeof kind);
    assert_string_equal(kind, "dbn");
    bz_model_file_kind(rbm_path, kind, sizeof kind);
    assert_string_equal(kind, "rbm");
    bz_model_file_kind("/nonexistent/file", kind, sizeof kind);
    assert_string_equal(kind, "");
}

int main(void)
{
    ctx = bz_test_open_context();
    if (bz_test_tmpdir(tmpdir, sizeof tmpdir, "dbn-test"))
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bias_relu_softmax),
        cmocka_unit_test(test_softmax_xent_grad),
        cmocka_unit_test(test_dropout_and_act_backward),
        cmocka_unit_test(test_label_units),
        cmocka_unit_test(test_label_units_per_instance),
        cmocka_unit_test(test_gradient_sigmoid),
        cmocka_unit_test(test_gradient_relu),
        cmocka_unit_test(test_gradient_dropout),
        cmocka_unit_test(test_lr_decay),
        cmocka_unit_test(test_pretrain_finetune_toy),
        cmocka_unit_test(test_generation_recognised),
        cmocka_unit_test(test_save_load_round_trip),
        cmocka_unit_test(test_refusals),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    bz_dbn_free(toy);
    bz_context_free(ctx);
    if (bz_test_rmdir(tmpdir) != 0 && rc == 0)
        rc = 1;
    return rc;
}
