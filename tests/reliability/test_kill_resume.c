/*
 * Checkpoints that survive a kill. `boltzcl train rbm` writes a checkpoint
 * atomically after every epoch; SIGKILL at any moment must leave either no
 * checkpoint or a whole, loadable one, and training resumed from it (or
 * restarted, when there is none) must end with exactly the model of an
 * uninterrupted run of the same seed. SIGINT must stop after the current
 * batch with exit status 130, save a checkpoint, say how to resume, and the
 * resumed run must again give the identical model.
 */
#include "rel_util.h"

#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#define KILL_ROUNDS 20
#define KILL_EPOCHS 40
#define SIGINT_EPOCHS 60
#define STR_(x) #x
#define STR(x) STR_(x)

typedef struct fixture {
    bz_context *ctx;
    char *dir, *data, *out, *ckpt;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    if (!f)
        return -1;
    f->ctx = rel_open_context();
    f->dir = rel_tmpdir("killresume");
    f->data = rel_path(f->dir, "data.csv");
    f->out = rel_path(f->dir, "model.safetensors");
    f->ckpt = rel_path(f->dir, "model.ckpt");
    rel_write_csv(f->data, 64, 16, 2);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    rel_rmtree(f->dir);
    free(f->dir);
    free(f->data);
    free(f->out);
    free(f->ckpt);
    bz_context_free(f->ctx);
    free(f);
    return 0;
}

/* The training command; extra options (NULL-terminated) go at the end. */
static void train_args(const fixture *f, const char *epochs, bool quiet, const char *resume,
                       const char **args)
{
    size_t n = 0;
    const char *base[] = {"train", "rbm", "--data", f->data, "--hidden", "8", "--batch", "8",
                          "--seed", "3", "--pcd", "--epochs", epochs, "--out", f->out,
                          "--checkpoint", f->ckpt};
    for (size_t i = 0; i < sizeof base / sizeof *base; i++)
        args[n++] = base[i];
    if (quiet)
        args[n++] = "--quiet";
    if (resume) {
        args[n++] = "--resume";
        args[n++] = resume;
    }
    args[n] = NULL;
}

static void remove_outputs(const fixture *f)
{
    unlink(f->out);
    unlink(f->ckpt);
}

/* Reads from fd, appending to *buf, until `needle` appears or EOF. */
static bool read_until(int fd, char **buf, size_t *len, size_t *cap, const char *needle)
{
    for (;;) {
        if (needle && strstr(*buf, needle))
            return true;
        if (*len + 1 >= *cap) {
            *cap *= 2;
            char *nb = realloc(*buf, *cap);
            assert_non_null(nb);
            *buf = nb;
        }
        ssize_t r = read(fd, *buf + *len, *cap - *len - 1);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return false;
        *len += (size_t)r;
        (*buf)[*len] = '\0';
    }
}

/* A run in the background with stderr on a pipe. */
typedef struct child {
    pid_t pid;
    int fd;
    char *err;
    size_t len, cap;
} child;

/* Starts training and returns once it says it is training (the signal
 * handlers are in place by then); *t_start: how long that took. */
static void start_training(const fixture *f, const char *epochs, child *c, double *t_start)
{
    const char *args[24];
    train_args(f, epochs, false, NULL, args);
    double t0 = rel_now();
    c->pid = rel_spawn(args, NULL, NULL, &c->fd);
    c->len = 0;
    c->cap = 4096;
    c->err = calloc(1, c->cap);
    assert_non_null(c->err);
    if (!read_until(c->fd, &c->err, &c->len, &c->cap, "training a"))
        fail_msg("training did not start:\n%s", c->err);
    if (t_start)
        *t_start = rel_now() - t0;
}

/* Drains stderr and waits; returns the wait status. */
static int finish_child(child *c)
{
    read_until(c->fd, &c->err, &c->len, &c->cap, NULL);
    close(c->fd);
    int status;
    while (waitpid(c->pid, &status, 0) < 0)
        assert_int_equal(errno, EINTR);
    return status;
}

/* An uninterrupted run: its parameters, how long it took to start training
 * and how long training took. Twice: the first run may compile kernels. */
static void reference(const fixture *f, const char *epochs, rel_params *p, double *t_start,
                      double *t_train)
{
    for (int i = 0; i < 2; i++) {
        remove_outputs(f);
        child c;
        start_training(f, epochs, &c, t_start);
        double t0 = rel_now();
        int status = finish_child(&c);
        *t_train = rel_now() - t0;
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
            fail_msg("uninterrupted run: %s\n%s", rel_status_str(status), c.err);
        free(c.err);
    }
    bz_status st = rel_load(f->ctx, f->out, false, p, NULL);
    if (st)
        fail_msg("uninterrupted run's model: %s", bz_last_error(f->ctx));
    remove_outputs(f);
}

static void sleep_s(double s)
{
    struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

static double uniform(unsigned long long *rng)
{
    *rng = *rng * 6364136223846793005ULL + 1442695040888963407ULL;
    return (double)(*rng >> 11) / 9007199254740992.0;
}

/* Resumes from the checkpoint when there is one (else starts over) and
 * checks the final model against the reference. */
static void finish_and_compare(const fixture *f, const char *epochs, const rel_params *want,
                               const char *what)
{
    const char *args[24];
    bool have_ckpt = rel_exists(f->ckpt);
    train_args(f, epochs, true, have_ckpt ? f->ckpt : NULL, args);
    char *err;
    int status = rel_run(args, NULL, &err);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        fail_msg("%s: the %s run: %s\n%s", what, have_ckpt ? "resumed" : "restarted",
                 rel_status_str(status), err);
    free(err);
    rel_params got = {0};
    if (rel_load(f->ctx, f->out, false, &got, NULL))
        fail_msg("%s: final model: %s", what, bz_last_error(f->ctx));
    if (!rel_params_equal(&got, want))
        fail_msg("%s: the %s run ended with another model than an uninterrupted one", what,
                 have_ckpt ? "resumed" : "restarted");
    rel_params_free(&got);
}

/* Every fourth round kills while the tool starts up (loading data, opening
 * the device); the others at a random moment of training, checkpoint writes
 * included. */
static void sigkill_then_resume(void **state)
{
    fixture *f = *state;
    rel_params want = {0};
    double t_start, t_train;
    reference(f, STR(KILL_EPOCHS), &want, &t_start, &t_train);

    double t0 = rel_now();
    unsigned long long rng = 20240607;
    unsigned during_start = 0, before_ckpt = 0, after_ckpt = 0, finished = 0, passed = 0;
    /* The window kills are drawn from. It shrinks whenever a run finishes
     * first: the machine got faster than when the reference was timed (other
     * jobs ended), and kills past the end test nothing. */
    double span = 0.9 * t_train;
    for (int round = 0; round < KILL_ROUNDS; round++) {
        remove_outputs(f);
        bool early = round % 4 == 0;
        double delay = (early ? t_start : span) * uniform(&rng);
        int status;
        if (early) {
            const char *args[24];
            train_args(f, STR(KILL_EPOCHS), true, NULL, args);
            pid_t pid = rel_spawn(args, NULL, NULL, NULL);
            sleep_s(delay);
            kill(pid, SIGKILL);
            while (waitpid(pid, &status, 0) < 0)
                assert_int_equal(errno, EINTR);
        } else {
            child c;
            start_training(f, STR(KILL_EPOCHS), &c, NULL);
            sleep_s(delay);
            kill(c.pid, SIGKILL);
            status = finish_child(&c);
            free(c.err);
        }
        char what[96];
        snprintf(what, sizeof what, "round %d (kill %.3f s after %s)", round, delay,
                 early ? "the start" : "training started");
        if (WIFEXITED(status)) {
            if (WEXITSTATUS(status) != 0)
                fail_msg("%s: %s before the kill", what, rel_status_str(status));
            finished++;
            if (!early)
                span *= 0.7;
        } else if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGKILL) {
            fail_msg("%s: %s", what, rel_status_str(status));
        } else if (early) {
            during_start++;
        } else if (rel_exists(f->ckpt)) {
            after_ckpt++;
        } else {
            before_ckpt++;
        }
        if (rel_exists(f->ckpt)) {
            unsigned next = 0;
            if (rel_load(f->ctx, f->ckpt, true, NULL, &next))
                fail_msg("%s: torn checkpoint: %s", what, bz_last_error(f->ctx));
            assert_true(next >= 1 && next <= KILL_EPOCHS);
        }
        /* The model file is written only at the end: absent or whole. */
        if (rel_exists(f->out) && rel_load(f->ctx, f->out, false, NULL, NULL))
            fail_msg("%s: torn model file: %s", what, bz_last_error(f->ctx));
        finish_and_compare(f, STR(KILL_EPOCHS), &want, what);
        passed++;
    }
    printf("kill and resume: %u/%d identical to the uninterrupted run (killed %u while "
           "starting, %u in training before the first checkpoint, %u after it; %u finished "
           "first) in %.1f s\n",
           passed, KILL_ROUNDS, during_start, before_ckpt, after_ckpt, finished, rel_now() - t0);
    /* Most kills must land in training, past a checkpoint. */
    assert_true(after_ckpt >= KILL_ROUNDS / 2);
    rel_params_free(&want);
}

static void sigint_then_resume(void **state)
{
    fixture *f = *state;
    rel_params want = {0};
    double t_start, t_train;
    reference(f, STR(SIGINT_EPOCHS), &want, &t_start, &t_train);

    child c;
    start_training(f, STR(SIGINT_EPOCHS), &c, NULL);
    /* Somewhere in the middle of training. */
    sleep_s(t_train * 0.4);
    kill(c.pid, SIGINT);
    int status = finish_child(&c);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 130)
        fail_msg("SIGINT: %s, expected exit 130\n%s", rel_status_str(status), c.err);
    char hint[1200];
    snprintf(hint, sizeof hint, "--resume %s", f->ckpt);
    if (!strstr(c.err, "interrupted in epoch") || !strstr(c.err, hint))
        fail_msg("SIGINT: no resume instructions naming %s:\n%s", f->ckpt, c.err);
    assert_false(rel_exists(f->out));
    unsigned next = 0;
    if (rel_load(f->ctx, f->ckpt, true, NULL, &next))
        fail_msg("SIGINT: checkpoint does not load: %s", bz_last_error(f->ctx));
    assert_true(next < SIGINT_EPOCHS);
    printf("SIGINT: %s", strstr(c.err, "interrupted in epoch"));
    free(c.err);
    finish_and_compare(f, STR(SIGINT_EPOCHS), &want, "SIGINT");
    rel_params_free(&want);
}

int main(int argc, char **argv)
{
    rel_init(argc, argv);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(sigkill_then_resume, setup, teardown),
        cmocka_unit_test_setup_teardown(sigint_then_resume, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
