/*
 * Data-parallel DBN training under mpirun (suite mpi): two ranks train the
 * model one process trains (greedy pretraining of both layers, then
 * fine-tuning with dropout), to the same weights within float rounding and
 * the same predictions; and a rank whose device fails during training ends
 * the job with a message naming it.
 *
 * Arguments: the boltzcl binary and mpirun's path ("" when the build has no
 * MPI or mpirun is missing: the test is skipped).
 */
#include "io/dataset.h"
#include "models/dbn.h"
#include "mpi_util.h"
#include "rel_util.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <cmocka.h>

/* Largest parameter (or class probability) difference allowed between two
 * ranks and one process: the gradient sums are associated differently, and
 * two epochs of SGD at learning rate 0.5 with momentum 0.9 amplify that
 * rounding (measured: about 5e-6; a dropout mask drawn at the wrong row
 * gives differences of 0.1 and more). */
#define TOLERANCE 5e-5f

static const char *mpirun;
static char *dir, *data;

/* 250 rows: 225 for training, 25 for validation. Fine-tuning batches of 32
 * end with a batch of one row, which leaves rank 0 without rows; the
 * pretraining batches of 30 end with 15. */
#define TRAIN_ARGS(out)                                                                          \
    "train", "dbn", "--data", data, "--layers", "16,12", "--pretrain-epochs", "2",              \
        "--finetune-epochs", "2", "--batch", "32", "--rbm-batch", "30", "--lr", "0.5",          \
        "--lr-rbm", "0.3", "--dropout", "0.2", "--seed", "7", "--quiet", "--out", out

static float max_diff(const float *a, const float *b, size_t n)
{
    float m = 0;
    for (size_t i = 0; i < n; i++)
        m = fmaxf(m, fabsf(a[i] - b[i]));
    return m;
}

/* Largest difference over the classifier's layers and the generative
 * stack's RBMs (weights and both biases). */
static float model_diff(bz_dbn *a, bz_dbn *b)
{
    assert_int_equal(a->L, b->L);
    assert_int_equal(a->K, b->K);
    assert_true(a->generative && b->generative);
    float m = 0;
    for (size_t l = 0; l <= a->L; l++) {
        size_t nw = a->s[l] * a->s[l + 1], nb = a->s[l + 1];
        assert_int_equal(a->s[l], b->s[l]);
        float *w = malloc(2 * (nw + nb) * sizeof *w);
        assert_non_null(w);
        assert_int_equal(bz_dbn_get_layer(a, l, w, w + nw), BZ_OK);
        assert_int_equal(bz_dbn_get_layer(b, l, w + nw + nb, w + 2 * nw + nb), BZ_OK);
        m = fmaxf(m, max_diff(w, w + nw + nb, nw + nb));
        free(w);
    }
    for (size_t l = 0; l < a->L; l++) {
        bz_rbm *ra = a->rbm[l], *rb = b->rbm[l];
        size_t n = ra->nv * ra->nh + ra->nv + ra->nh;
        assert_int_equal(ra->nv, rb->nv);
        assert_int_equal(ra->nh, rb->nh);
        float *p = malloc(2 * n * sizeof *p);
        assert_non_null(p);
        assert_int_equal(bz_rbm_get_params(ra, p, p + ra->nv * ra->nh, p + n - ra->nh), BZ_OK);
        assert_int_equal(bz_rbm_get_params(rb, p + n, p + n + ra->nv * ra->nh, p + 2 * n - ra->nh),
                         BZ_OK);
        m = fmaxf(m, max_diff(p, p + n, n));
        free(p);
    }
    return m;
}

static size_t argmax(const float *p, size_t k)
{
    size_t arg = 0;
    for (size_t j = 1; j < k; j++)
        if (p[j] > p[arg])
            arg = j;
    return arg;
}

static void test_two_ranks_match_one(void **state)
{
    (void)state;
    char *one = rel_path(dir, "one.safetensors"), *two = rel_path(dir, "two.safetensors");
    const char *args1[] = {TRAIN_ARGS(one), NULL};
    char *err = NULL;
    int st = rel_run(args1, NULL, &err);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
        fail_msg("single-process training: %s\n%s", rel_status_str(st), err);
    free(err);
    const char *args2[] = {"-np", "2", "--oversubscribe", rel_boltzcl, TRAIN_ARGS(two),
                           "--distributed", NULL};
    st = mpi_run(mpirun, args2, mpi_env, &err);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
        fail_msg("mpirun -np 2: %s\n%s", rel_status_str(st), err);
    free(err);

    bz_context *ctx = rel_open_context();
    bz_dbn *a = NULL, *b = NULL;
    if (bz_dbn_load(ctx, one, &a) || bz_dbn_load(ctx, two, &b))
        fail_msg("a model does not load: %s", bz_last_error(ctx));
    float d = model_diff(a, b);
    fprintf(stderr, "max |2 ranks - 1 process| over all weights and biases: %g (tolerance %g)\n",
            (double)d, (double)TOLERANCE);
    assert_true(d < TOLERANCE);

    /* The same class for every row, with probabilities as close. */
    bz_dataset ds = {0};
    bz_error e = {0};
    if (bz_dataset_load_csv(data, 1, &ds, &e))
        fail_msg("%s", e.msg);
    bz_dataset_scale01(&ds); /* as train and predict do */
    const size_t K = a->K;
    float *pa = malloc(ds.n * K * sizeof *pa), *pb = malloc(ds.n * K * sizeof *pb);
    assert_non_null(pa);
    assert_non_null(pb);
    assert_int_equal(bz_dbn_predict_proba(a, ds.x, ds.n, pa), BZ_OK);
    assert_int_equal(bz_dbn_predict_proba(b, ds.x, ds.n, pb), BZ_OK);
    size_t same = 0, hits = 0;
    for (size_t i = 0; i < ds.n; i++) {
        same += argmax(pa + i * K, K) == argmax(pb + i * K, K);
        hits += (int32_t)argmax(pb + i * K, K) == ds.labels[i];
    }
    float dp = max_diff(pa, pb, ds.n * K);
    fprintf(stderr, "predictions: %zu of %zu the same (accuracy %.3f), max |probability "
                    "difference| %g\n", same, ds.n, (double)hits / (double)ds.n, (double)dp);
    assert_int_equal(same, ds.n);
    assert_true(dp < TOLERANCE);
    free(pa);
    free(pb);
    bz_dataset_free(&ds);
    bz_dbn_free(a);
    bz_dbn_free(b);
    bz_context_free(ctx);
    free(one);
    free(two);
}

static void test_device_failure_ends_job(void **state)
{
    (void)state;
    char *out = rel_path(dir, "fault.safetensors");
    /* MPMD: rank 1 alone runs with an injected OpenCL failure (the 800th
     * fallible operation: in fine-tuning today; any phase must end the job
     * the same way). */
    const char *args[] = {"-np", "1", "--oversubscribe", rel_boltzcl, TRAIN_ARGS(out),
                          "--distributed", ":", "-np", "1", "env", "BOLTZCL_FAULT=800",
                          rel_boltzcl, TRAIN_ARGS(out), "--distributed", NULL};
    mpi_expect_rank1_failure(mpirun, args, out);
    free(out);
}

int main(int argc, char **argv)
{
    rel_init(argc, argv);
    mpirun = argc > 2 ? argv[2] : "";
    if (!mpirun[0]) {
        fprintf(stderr, "skipping: this build has no MPI or mpirun is not installed\n");
        return 77;
    }
    bz_context_free(rel_open_context()); /* exits 77 without a device */
    dir = rel_tmpdir("mpi-dbn");
    data = rel_path(dir, "data.csv");
    rel_write_csv(data, 250, 64, 11);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_two_ranks_match_one),
        cmocka_unit_test(test_device_failure_ends_job),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    rel_rmtree(dir);
    free(dir);
    free(data);
    return rc;
}
