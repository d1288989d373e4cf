/*
 * The training loop of the public API (bz_trainer) on an RBM, as a binding
 * would drive it: a stop requested from the progress callback ends the run
 * after that batch with a checkpoint, and the run resumed from it ends with
 * the uninterrupted run's parameters bit for bit; progress comes per batch
 * and per epoch with the epoch's figures as JSON; a fresh run does not
 * replace a checkpoint, a resume with another fingerprint is refused naming
 * the difference, and a diverging run writes nothing.
 */
#include "../common/cl_fixture.h"

#include <json-c/json.h>
#include <math.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include <cmocka.h>

#define NV 12
#define NH 7
#define ROWS 60 /* 6 batches of 10 */
#define EPOCHS 3

static bz_context *ctx;
static float data[ROWS * NV];
static char dir[64], ckpt[128];

static int group_setup(void **state)
{
    (void)state;
    ctx = bz_test_open_context_tuned(NULL);
    uint64_t s = 99;
    for (size_t i = 0; i < ROWS * NV; i++) {
        s = s * 6364136223846793005ULL + 1442695040888963407ULL;
        data[i] = (float)((s >> 40) & 1);
    }
    snprintf(dir, sizeof dir, "/tmp/bz-trainer-XXXXXX");
    if (!mkdtemp(dir))
        return -1;
    snprintf(ckpt, sizeof ckpt, "%s/rbm.ckpt", dir);
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    unlink(ckpt);
    rmdir(dir);
    bz_context_free(ctx);
    return 0;
}

static bool exists(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0;
}

static void options(bz_rbm_train_options *o, float lr)
{
    bz_rbm_train_options_init(o);
    o->batch_size = 10;
    o->pcd = 1;
    o->learning_rate = lr;
    o->seed = 5;
}

typedef struct watch {
    unsigned stop_epoch;
    size_t stop_batch;
    size_t batches, epochs_done;
    unsigned last_epoch;
    bool json_ok;
} watch;

static void on_progress(void *user, const bz_train_progress *p)
{
    watch *w = user;
    if (p->epoch_done) {
        w->epochs_done++;
        json_object *o = json_tokener_parse(p->metrics_json), *v;
        w->json_ok = w->json_ok && o && json_object_object_get_ex(o, "epoch", &v) &&
                     json_object_get_int(v) == (int)p->epoch &&
                     json_object_object_get_ex(o, "recon_mse", &v) && p->summary &&
                     p->summary[0] && !strcmp(p->kind, "rbm") && !strcmp(p->phase, "train");
        json_object_put(o);
        w->last_epoch = p->epoch;
        return;
    }
    w->batches++;
    assert_int_equal(p->batches, ROWS / 10);
    if (p->epoch == w->stop_epoch && p->batch == w->stop_batch)
        bz_request_stop(SIGINT);
}

/* Trains a fresh RBM (seed 5) with the trainer; returns its status and W. */
static bz_status train(const bz_train_options *to, float lr, watch *w, bz_train_result *res,
                       float *wout)
{
    bz_rbm *rbm = NULL;
    bz_data *d = NULL;
    bz_trainer *t = NULL;
    OK(bz_rbm_create(ctx, NV, NH, BZ_UNIT_BERNOULLI, 5, &rbm));
    OK(bz_rbm_init_visible_bias(rbm, data, ROWS));
    OK(bz_data_create(ctx, data, ROWS, NV, &d));
    bz_rbm_train_options o;
    options(&o, lr);
    OK(bz_rbm_trainer_create(rbm, d, &o, EPOCHS, &t));
    bz_train_options opts = *to;
    if (w) {
        opts.progress = on_progress;
        opts.progress_user = w;
    }
    bz_status st = bz_trainer_run(t, &opts, res);
    if (wout)
        OK(bz_rbm_get_params(rbm, wout, NULL, NULL));
    bz_trainer_free(t);
    bz_data_free(d);
    bz_rbm_free(rbm);
    return st;
}

static void stop_then_resume_is_exact(void **state)
{
    (void)state;
    unlink(ckpt);
    float want[NV * NH], got[NV * NH];
    bz_train_options to;
    bz_train_options_init(&to);
    bz_train_result res;
    watch w = {0, 0, 0, 0, 0, true};
    OK(train(&to, 0.1f, &w, &res, want));
    assert_int_equal(res.epochs_run, EPOCHS);
    assert_int_equal(w.batches, EPOCHS * ROWS / 10);
    assert_int_equal(w.epochs_done, EPOCHS);
    assert_true(w.json_ok);
    assert_false(exists(ckpt));

    to.checkpoint = ckpt;
    watch stop = {2, 4, 0, 0, 0, true};
    bz_status st = train(&to, 0.1f, &stop, &res, NULL);
    assert_int_equal(st, BZ_E_INTERRUPTED);
    assert_int_equal(bz_stop_requested(), SIGINT);
    assert_int_equal(res.stop_signal, SIGINT);
    assert_int_equal(res.epoch, 1); /* the second epoch, from 0 */
    assert_int_equal(res.batch, 4);
    assert_true(res.checkpoint_written && exists(ckpt));
    bz_clear_stop();
    assert_int_equal(bz_stop_requested(), 0);

    to.resume = 1;
    watch rest = {0, 0, 0, 0, 0, true};
    OK(train(&to, 0.1f, &rest, &res, got));
    /* The rest of the second epoch and the third. */
    assert_int_equal(rest.batches, ROWS / 10 - 4 + ROWS / 10);
    assert_int_equal(rest.epochs_done, 2);
    assert_memory_equal(got, want, sizeof want);
}

static void refusals(void **state)
{
    (void)state;
    unlink(ckpt);
    bz_train_options to;
    bz_train_options_init(&to);
    to.checkpoint = ckpt;
    to.fingerprint = "lr=0.1;batch=10";
    bz_train_result res;
    OK(train(&to, 0.1f, NULL, &res, NULL));
    assert_true(exists(ckpt));
    /* A fresh run over it. */
    assert_int_equal(train(&to, 0.1f, NULL, &res, NULL), BZ_E_INVALID_ARG);
    assert_non_null(strstr(bz_last_error(ctx), "already exists"));
    /* A resume with other settings. */
    to.resume = 1;
    to.fingerprint = "lr=0.2;batch=10;k=2";
    assert_int_equal(train(&to, 0.2f, NULL, &res, NULL), BZ_E_INVALID_ARG);
    const char *e = bz_last_error(ctx);
    if (!strstr(e, "lr: checkpoint 0.1, now 0.2") || !strstr(e, "k: checkpoint (none), now 2") ||
        strstr(e, "batch:"))
        fail_msg("the refusal does not name exactly what differs: %s", e);
    /* Allowed to start over. */
    to.resume = 0;
    to.overwrite = 1;
    OK(train(&to, 0.2f, NULL, &res, NULL));
}

static void divergence_writes_nothing(void **state)
{
    (void)state;
    unlink(ckpt);
    bz_train_options to;
    bz_train_options_init(&to);
    to.checkpoint = ckpt;
    bz_train_result res;
    assert_int_equal(train(&to, 1e30f, NULL, &res, NULL), BZ_E_DIVERGED);
    assert_false(exists(ckpt));
    assert_int_equal(res.epochs_run, 0);
    assert_non_null(strstr(bz_last_error(ctx), "nothing was written"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(stop_then_resume_is_exact),
        cmocka_unit_test(refusals),
        cmocka_unit_test(divergence_writes_nothing),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
