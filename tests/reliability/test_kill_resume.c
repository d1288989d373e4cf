/*
 * Checkpoints that survive a kill. `boltzcl train rbm` writes a checkpoint
 * atomically after every epoch; SIGKILL at any moment must leave either no
 * checkpoint or a whole, loadable one, and training resumed from it (or
 * restarted, when there is none) must end with exactly the model of an
 * uninterrupted run of the same seed. SIGINT must stop after the current
 * batch with exit status 130, save a checkpoint, say how to resume, and the
 * resumed run must again give the identical model.
 *
 * DBNs and DBMs run through the same trainer: killed (SIGKILL) after any
 * batch of any phase (every pretraining layer, joint training, fine-tuning)
 * and resumed, they end with the uninterrupted run's model file, byte for
 * byte; SIGINT, SIGTERM and SIGHUP save, print the command that resumes and
 * exit 128 + signal, and that very command finishes the run. A run whose
 * parameters stop being finite writes nothing and exits non-zero; a fresh
 * run refuses to replace a checkpoint; a resume with other settings or data
 * is refused naming what differs. The places are exact: the tool raises the
 * signal itself after the N-th batch (BOLTZCL_TEST_SIGNAL_AFTER=N:SIG).
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

/* ---- every kind through the trainer ---- */

/* The command of a kind (NULL-terminated into args), the options that make
 * the run, then extra ones. */
static void kind_args(const fixture *f, const char *kind, const char *data, const char **extra,
                      const char **args)
{
    size_t n = 0;
    static const char *const dbn[] = {"--layers", "8,6", "--pretrain-epochs", "2",
                                      "--finetune-epochs", "3", "--batch", "8", "--rbm-batch",
                                      "8", "--val-split", "0.25", "--patience", "0", NULL};
    static const char *const dbm[] = {"--layers", "8,6", "--pretrain-epochs", "2", "--epochs",
                                      "3", "--batch", "8", "--chains", "8", "--binarize", "none",
                                      "--finetune-epochs", "2", "--val-split", "0.25", NULL};
    static const char *const rbm[] = {"--hidden", "8", "--batch", "8", "--epochs", "4", "--pcd",
                                      NULL};
    const char *const *own = !strcmp(kind, "dbn") ? dbn : !strcmp(kind, "dbm") ? dbm : rbm;
    args[n++] = "train";
    args[n++] = kind;
    args[n++] = "--data";
    args[n++] = data ? data : f->data;
    args[n++] = "--out";
    args[n++] = f->out;
    args[n++] = "--checkpoint";
    args[n++] = f->ckpt;
    args[n++] = "--quiet";
    for (size_t i = 0; own[i]; i++)
        args[n++] = own[i];
    for (size_t i = 0; extra && extra[i]; i++)
        args[n++] = extra[i];
    args[n] = NULL;
}

/* Runs the kind's training; returns the wait status, stderr into *err. */
static int run_kind(const fixture *f, const char *kind, const char *signal_after,
                    const char **extra, char **err)
{
    const char *args[64];
    kind_args(f, kind, NULL, extra, args);
    char envs[64];
    snprintf(envs, sizeof envs, "BOLTZCL_TEST_SIGNAL_AFTER=%s", signal_after ? signal_after : "");
    const char *env[] = {envs, NULL};
    return rel_run(args, signal_after ? env : NULL, err);
}

static void expect_exit(int status, int code, const char *what, const char *err)
{
    if (!WIFEXITED(status) || WEXITSTATUS(status) != code)
        fail_msg("%s: %s, expected exit %d\n%s", what, rel_status_str(status), code,
                 err ? err : "");
}

/* The uninterrupted run's model file, and the batches it runs in all. */
static char *kind_reference(const fixture *f, const char *kind, size_t *len)
{
    remove_outputs(f);
    char *err = NULL;
    int status = run_kind(f, kind, NULL, NULL, &err);
    expect_exit(status, 0, kind, err);
    free(err);
    char *ref = rel_read(f->out, len);
    assert_non_null(ref);
    remove_outputs(f);
    return ref;
}

static void expect_same_model(const fixture *f, const char *ref, size_t ref_len,
                              const char *what)
{
    size_t len = 0;
    char *got = rel_read(f->out, &len);
    if (!got)
        fail_msg("%s: no model written", what);
    if (len != ref_len || memcmp(got, ref, len) != 0)
        fail_msg("%s: the model differs from the uninterrupted run's", what);
    free(got);
}

/* SIGKILL after batch n for each n, then --resume (or a fresh start when
 * no checkpoint was written yet): the uninterrupted model, bit for bit. */
static void kill_resume_kind(const fixture *f, const char *kind, const int *after, size_t count)
{
    size_t ref_len;
    char *ref = kind_reference(f, kind, &ref_len);
    unsigned resumed = 0;
    for (size_t i = 0; i < count; i++) {
        remove_outputs(f);
        char sig[32], what[96];
        snprintf(sig, sizeof sig, "%d:%d", after[i], SIGKILL);
        snprintf(what, sizeof what, "%s killed after batch %d", kind, after[i]);
        int status = run_kind(f, kind, sig, NULL, NULL);
        if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGKILL)
            fail_msg("%s: %s", what, rel_status_str(status));
        assert_false(rel_exists(f->out));
        bool have = rel_exists(f->ckpt);
        const char *extra[] = {"--resume", f->ckpt, NULL};
        char *err = NULL;
        status = run_kind(f, kind, NULL, have ? extra : NULL, &err);
        expect_exit(status, 0, what, err);
        free(err);
        expect_same_model(f, ref, ref_len, what);
        resumed += have;
    }
    printf("%s: %u of %zu kills resumed from a checkpoint, all identical\n", kind, resumed,
           count);
    assert_true(resumed + 2 >= count);
    free(ref);
}

static void dbn_kill_resume(void **state)
{
    /* 48 training rows in batches of 8: 6 batches per epoch; two layers of
     * two pretraining epochs (batches 1-24), then fine-tuning (25-42). Kills
     * inside epochs, at their ends, in every phase. */
    static const int after[] = {3, 6, 8, 12, 15, 19, 24, 26, 30, 37, 41};
    kill_resume_kind(*state, "dbn", after, sizeof after / sizeof *after);
}

static void dbm_kill_resume(void **state)
{
    /* 48 rows in batches of 8: pretraining 1-24, joint training 25-42, then
     * the classifier's two epochs of two batches (32 and 16 rows), 43-46. */
    static const int after[] = {2, 6, 9, 13, 18, 24, 27, 30, 36, 42, 43, 44, 45};
    kill_resume_kind(*state, "dbm", after, sizeof after / sizeof *after);
}

/* The command after "resume with: ", split at spaces (the test's paths have
 * none), without the leading "boltzcl". */
static size_t resume_command(const char *err, char *buf, size_t size, const char **args)
{
    const char *p = strstr(err, "resume with: ");
    if (!p)
        return 0;
    p += strlen("resume with: ");
    size_t n = strcspn(p, "\n");
    if (n >= size)
        return 0;
    memcpy(buf, p, n);
    buf[n] = '\0';
    size_t k = 0;
    char *tok = strtok(buf, " ");
    if (tok && !strcmp(tok, "boltzcl")) /* the program: rel_run adds it */
        tok = strtok(NULL, " ");
    for (; tok && k < 63; tok = strtok(NULL, " "))
        args[k++] = tok;
    args[k] = NULL;
    return k;
}

static void signal_kind(const fixture *f, const char *kind, int sig, int after)
{
    size_t ref_len;
    char *ref = kind_reference(f, kind, &ref_len);
    char spec[32], what[96];
    snprintf(spec, sizeof spec, "%d:%d", after, sig);
    snprintf(what, sizeof what, "%s, signal %d after batch %d", kind, sig, after);
    char *err = NULL;
    int status = run_kind(f, kind, spec, NULL, &err);
    expect_exit(status, 128 + sig, what, err);
    if (!strstr(err, "interrupted in") || !rel_exists(f->ckpt) || rel_exists(f->out))
        fail_msg("%s: no checkpoint, or a model written:\n%s", what, err);
    char hint[1200];
    snprintf(hint, sizeof hint, "--resume %s", f->ckpt);
    char line[4096];
    const char *args[64];
    if (!strstr(err, hint) || resume_command(err, line, sizeof line, args) < 4)
        fail_msg("%s: no resume command naming %s:\n%s", what, f->ckpt, err);
    printf("%s: %s", what, strstr(err, "interrupted in"));
    free(err);
    /* The printed command, as printed, finishes the run. */
    status = rel_run(args, NULL, &err);
    expect_exit(status, 0, "the printed resume command", err);
    free(err);
    expect_same_model(f, ref, ref_len, what);
    free(ref);
}

static void signals_save_and_resume(void **state)
{
    const fixture *f = *state;
    signal_kind(f, "dbn", SIGINT, 9);   /* pretraining, layer 1 */
    signal_kind(f, "dbn", SIGTERM, 28); /* fine-tuning */
    signal_kind(f, "dbm", SIGHUP, 16);  /* pretraining, layer 2 */
    signal_kind(f, "dbm", SIGTERM, 29); /* joint training */
    signal_kind(f, "dbm", SIGINT, 45);  /* the classifier */
    signal_kind(f, "rbm", SIGHUP, 10);
}

static void nonfinite_writes_nothing(void **state)
{
    const fixture *f = *state;
    const char *kinds[] = {"rbm", "dbm", "dbn"};
    for (int i = 0; i < 3; i++) {
        remove_outputs(f);
        /* --lr is the RBM's, the DBM's joint training's and the DBN's
         * fine-tuning's: the last two diverge after finite pretraining (the
         * DBN's saturating units keep a finite, useless network up to about
         * 1e36). */
        const char *lr = !strcmp(kinds[i], "dbn") ? "3e38" : "1e30";
        const char *extra[] = {"--lr", lr, NULL};
        char *err = NULL;
        int status = run_kind(f, kinds[i], NULL, extra, &err);
        if (!WIFEXITED(status) || WEXITSTATUS(status) == 0 || !strstr(err, "diverged"))
            fail_msg("%s --lr %s: %s\n%s", kinds[i], lr, rel_status_str(status), err);
        if (rel_exists(f->out))
            fail_msg("%s --lr %s wrote a model:\n%s", kinds[i], lr, err);
        if (rel_exists(f->ckpt)) {
            /* Then it is the last finite one, and the message names it. */
            if (!strstr(err, "last finite checkpoint is") || !strstr(err, f->ckpt))
                fail_msg("%s: the message does not name the last finite checkpoint:\n%s",
                         kinds[i], err);
        } else if (!strstr(err, "nothing was written")) {
            fail_msg("%s: no checkpoint and no word of it:\n%s", kinds[i], err);
        }
        printf("%s --lr %s: %s", kinds[i], lr, strstr(err, "diverged"));
        free(err);
    }
    /* The RBM's checkpoint, when one was kept, holds finite numbers: the
     * library refuses to load anything else. */
    remove_outputs(f);
    const char *extra[] = {"--lr", "1e30", "--epochs", "1", NULL};
    char *err = NULL;
    int status = run_kind(f, "rbm", NULL, extra, &err);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) != 0);
    assert_false(rel_exists(f->out));
    if (rel_exists(f->ckpt) && rel_load(f->ctx, f->ckpt, true, NULL, NULL))
        fail_msg("a non-finite checkpoint was written: %s", bz_last_error(f->ctx));
    free(err);
}

static void overwrite_refused(void **state)
{
    const fixture *f = *state;
    remove_outputs(f);
    char *err = NULL;
    int status = run_kind(f, "dbm", NULL, NULL, &err);
    expect_exit(status, 0, "first run", err);
    free(err);
    size_t len, len2;
    char *before = rel_read(f->ckpt, &len);
    assert_non_null(before);
    status = run_kind(f, "dbm", NULL, NULL, &err);
    if (!WIFEXITED(status) || WEXITSTATUS(status) == 0 || !strstr(err, "already exists"))
        fail_msg("a second fresh run over the checkpoint: %s\n%s", rel_status_str(status), err);
    free(err);
    char *after = rel_read(f->ckpt, &len2);
    assert_true(after && len == len2 && !memcmp(before, after, len));
    free(after);
    const char *extra[] = {"--overwrite", NULL};
    status = run_kind(f, "dbm", NULL, extra, &err);
    expect_exit(status, 0, "--overwrite", err);
    free(err);
    free(before);
}

static void fingerprint_refused(void **state)
{
    const fixture *f = *state;
    size_t ref_len;
    char *ref = kind_reference(f, "dbn", &ref_len);
    char *err = NULL;
    int status = run_kind(f, "dbn", "20:2", NULL, &err);
    expect_exit(status, 130, "SIGINT", err);
    free(err);
    size_t len, len2;
    char *saved = rel_read(f->ckpt, &len);
    assert_non_null(saved);
    /* Other data of the same width. */
    char *other = rel_path(f->dir, "other.csv");
    rel_write_csv(other, 64, 16, 9);
    static const char *const changes[][3] = {
        {"--batch", "16", "batch"},   {"--lr", "0.2", "lr"},
        {"--seed", "4", "seed"},      {"--rbm-batch", "16", "pretrain"},
        {"--dropout", "0.5", "dropout"}, {NULL, NULL, "data"},
    };
    for (size_t i = 0; i < sizeof changes / sizeof *changes; i++) {
        const char *args[64];
        const char *extra[] = {"--resume", f->ckpt, changes[i][0], changes[i][1], NULL};
        kind_args(f, "dbn", changes[i][0] ? NULL : other, extra, args);
        status = rel_run(args, NULL, &err);
        char key[64];
        snprintf(key, sizeof key, "%s: checkpoint", changes[i][2]);
        if (!WIFEXITED(status) || WEXITSTATUS(status) == 0 || !strstr(err, key))
            fail_msg("resume with changed %s: %s, expected a refusal naming it\n%s",
                     changes[i][2], rel_status_str(status), err);
        if (i == 0)
            printf("changed --batch: %s", strstr(err, "cannot resume"));
        free(err);
        assert_false(rel_exists(f->out));
        char *now = rel_read(f->ckpt, &len2);
        assert_true(now && len == len2 && !memcmp(saved, now, len));
        free(now);
    }
    /* The unchanged resume still gives the uninterrupted model. */
    const char *extra[] = {"--resume", f->ckpt, NULL};
    status = run_kind(f, "dbn", NULL, extra, &err);
    expect_exit(status, 0, "the unchanged resume", err);
    free(err);
    expect_same_model(f, ref, ref_len, "after the refusals");
    free(other);
    free(saved);
    free(ref);
}

int main(int argc, char **argv)
{
    rel_init(argc, argv);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(sigkill_then_resume, setup, teardown),
        cmocka_unit_test_setup_teardown(sigint_then_resume, setup, teardown),
        cmocka_unit_test_setup_teardown(dbn_kill_resume, setup, teardown),
        cmocka_unit_test_setup_teardown(dbm_kill_resume, setup, teardown),
        cmocka_unit_test_setup_teardown(signals_save_and_resume, setup, teardown),
        cmocka_unit_test_setup_teardown(nonfinite_writes_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(overwrite_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(fingerprint_refused, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
