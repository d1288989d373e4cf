/*
 * Data-parallel training under mpirun (suite mpi): two ranks reproduce one
 * process (CD with a sparsity target), a rank killed mid-epoch ends the job
 * and leaves a checkpoint that loads and resumes on one process to the
 * uninterrupted result (PCD), and a rank whose device fails ends the job with
 * a message naming it.
 *
 * Arguments: the boltzcl binary and mpirun's path ("" when the build has no
 * MPI or mpirun is missing: the test is skipped).
 */
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

/* Largest parameter difference allowed between N ranks and one process after
 * a few epochs: the gradient sums are associated differently, nothing more
 * (measured: about 2e-7). */
#define TOLERANCE 1e-5f

static const char *mpirun;
static char *dir, *data;

#define TRAIN_ARGS(out)                                                                        \
    "train", "rbm", "--data", data, "--hidden", "12", "--batch", "30", "--epochs", "3",        \
        "--seed", "5", "--val-split", "0", "--sparsity-target", "0.1", "--quiet", "--out", out

static int run_mpi(const char *const *args, const char *const *env, char **err)
{
    return mpi_run(mpirun, args, env, err);
}

static float max_diff(const rel_params *a, const rel_params *b)
{
    assert_int_equal(a->nv, b->nv);
    assert_int_equal(a->nh, b->nh);
    float m = 0;
    for (size_t i = 0; i < a->nv * a->nh; i++)
        m = fmaxf(m, fabsf(a->w[i] - b->w[i]));
    for (size_t i = 0; i < a->nv; i++)
        m = fmaxf(m, fabsf(a->vb[i] - b->vb[i]));
    for (size_t i = 0; i < a->nh; i++)
        m = fmaxf(m, fabsf(a->hb[i] - b->hb[i]));
    return m;
}

static void load(const char *name, bool checkpoint, rel_params *p, unsigned *next_epoch)
{
    bz_context *ctx = rel_open_context();
    char *path = rel_path(dir, name);
    bz_status st = rel_load(ctx, path, checkpoint, p, next_epoch);
    if (st)
        fail_msg("%s does not load: %s: %s", path, bz_strerror(st), bz_last_error(ctx));
    free(path);
    bz_context_free(ctx);
}

/* The single-process reference model (CD, or PCD when pcd), trained once. */
static void reference(bool pcd)
{
    char *out = rel_path(dir, pcd ? "one-pcd.safetensors" : "one.safetensors");
    if (!rel_exists(out)) {
        const char *args[] = {TRAIN_ARGS(out), pcd ? "--pcd" : NULL, NULL};
        char *err = NULL;
        int st = rel_run(args, NULL, &err);
        if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
            fail_msg("single-process training: %s\n%s", rel_status_str(st), err);
        free(err);
    }
    free(out);
}

static void test_two_ranks_match_one(void **state)
{
    (void)state;
    reference(false);
    char *out = rel_path(dir, "two.safetensors");
    const char *args[] = {"-np", "2", "--oversubscribe", rel_boltzcl, TRAIN_ARGS(out),
                          "--distributed", NULL};
    char *err = NULL;
    int st = run_mpi(args, mpi_env, &err);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
        fail_msg("mpirun -np 2: %s\n%s", rel_status_str(st), err);
    free(err);
    rel_params one = {0}, two = {0}, ck = {0};
    load("one.safetensors", false, &one, NULL);
    load("two.safetensors", false, &two, NULL);
    unsigned next = 0;
    load("two.safetensors.ckpt", true, &ck, &next);
    float d = max_diff(&one, &two);
    fprintf(stderr, "max |2 ranks - 1 process| over W, vbias, hbias: %g (tolerance %g)\n",
            (double)d, (double)TOLERANCE);
    assert_true(d < TOLERANCE);
    assert_true(max_diff(&two, &ck) == 0.0f);
    assert_int_equal(next, 3);
    rel_params_free(&one);
    rel_params_free(&two);
    rel_params_free(&ck);
    free(out);
}

static void test_killed_rank_ends_job(void **state)
{
    (void)state;
    reference(true);
    char *out = rel_path(dir, "killed.safetensors");
    char *ckpt = rel_path(dir, "killed.safetensors.ckpt");
    /* PCD, whose chains are spread over the ranks during an epoch. Rank 1
     * dies (SIGKILL) after batch 3 of epoch 2: epoch 1's checkpoint must
     * survive and load. */
    const char *env[] = {mpi_env[0], mpi_env[1], mpi_env[2], "BOLTZCL_TEST_KILL_RANK=1:2:3",
                         NULL};
    const char *args[] = {"-np", "2", "--oversubscribe", "-x", "BOLTZCL_TEST_KILL_RANK",
                          rel_boltzcl, TRAIN_ARGS(out), "--pcd", "--distributed", NULL};
    char *err = NULL;
    double t0 = rel_now();
    int st = run_mpi(args, env, &err);
    fprintf(stderr, "job with a killed rank: %s after %.1f s\n", rel_status_str(st),
            rel_now() - t0);
    if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
        fail_msg("the job succeeded although rank 1 was killed:\n%s", err);
    if (!strstr(err, "rank 1") || !(strstr(err, "signal 9") || strstr(err, "Killed")))
        fail_msg("mpirun's message does not name the killed rank:\n%s", err);
    free(err);
    assert_false(rel_exists(out));
    rel_params ck = {0};
    unsigned next = 0;
    load("killed.safetensors.ckpt", true, &ck, &next);
    assert_int_equal(next, 1);
    rel_params_free(&ck);

    /* Resume on one process (another number of ranks): the result is the
     * uninterrupted run's. */
    const char *resume[] = {TRAIN_ARGS(out), "--pcd", "--resume", ckpt, NULL};
    st = rel_run(resume, NULL, &err);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
        fail_msg("resuming on one process: %s\n%s", rel_status_str(st), err);
    free(err);
    rel_params one = {0}, res = {0};
    load("one-pcd.safetensors", false, &one, NULL);
    load("killed.safetensors", false, &res, NULL);
    float d = max_diff(&one, &res);
    fprintf(stderr, "max |resumed (2 ranks, then 1) - 1 process|: %g\n", (double)d);
    assert_true(d < TOLERANCE);
    rel_params_free(&one);
    rel_params_free(&res);
    free(out);
    free(ckpt);
}

static void test_device_failure_ends_job(void **state)
{
    (void)state;
    char *out = rel_path(dir, "fault.safetensors");
    /* MPMD: rank 1 alone runs with an injected OpenCL failure. */
    const char *args[] = {"-np", "1", "--oversubscribe", rel_boltzcl, TRAIN_ARGS(out),
                          "--distributed", ":", "-np", "1", "env", "BOLTZCL_FAULT=60",
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
    dir = rel_tmpdir("mpi");
    data = rel_path(dir, "data.csv");
    rel_write_csv(data, 250, 64, 11); /* batches of 30: the last one has 10 rows */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_two_ranks_match_one),
        cmocka_unit_test(test_killed_rank_ends_job),
        cmocka_unit_test(test_device_failure_ends_job),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    rel_rmtree(dir);
    free(dir);
    free(data);
    return rc;
}
