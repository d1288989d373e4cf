/*
 * Fault-injection walk over a whole small training run of the command-line
 * tool: BOLTZCL_FAULT=N makes the N-th fallible engine operation (buffer
 * allocation, transfer, fill or copy, kernel launch, program build, CLBlast
 * call, context creation) fail. For every N the run must either succeed with
 * exactly the model an undisturbed run writes (when N lies past the end, or
 * when a fallback absorbs the failure: a dataset that cannot be allocated on
 * the device is streamed instead) or fail with exit status 1 and a message
 * naming the failed call, never by a signal (crash or sanitizer abort), and
 * never touching the model file that was there before. The checkpoint left
 * behind, if any, must load. The walk ends after a run of successes. Two
 * walks: training from scratch, and resuming a PCD run from a checkpoint
 * (which must survive every failure too).
 * Run it under ASan/LSan (tools/check.sh --sanitize) to check that every
 * failure path frees everything.
 */
#include "rel_util.h"

#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

/* Successes in a row that end the walk. Inside the run only fallbacks absorb
 * a failure (a dataset that cannot be put on the device is streamed, a tuned
 * GEMM that fails gives way to CLBlast's defaults), so successes there come
 * alone or in short runs; long runs only past its end. */
#define END_STREAK 10

static bool has_temp_files(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    bool found = false;
    while (d && (e = readdir(d)))
        found = found || strstr(e->d_name, ".boltzcl-tmp.") != NULL;
    if (d)
        closedir(d);
    return found;
}

/* The line holding "injected fault" names an OpenCL or CLBlast call. */
static bool names_failed_call(const char *err)
{
    const char *hit = strstr(err, "injected fault");
    if (!hit)
        return false;
    const char *line = hit;
    while (line > err && line[-1] != '\n')
        line--;
    size_t len = (size_t)(hit - line);
    char *head = strndup(line, len);
    bool named = head && (strstr(head, "cl") || strstr(head, "CLBlast"));
    free(head);
    return named;
}

typedef struct fixture {
    bz_context *ctx;
    char *dir, *data, *model, *ckpt, *start_ckpt;
    char *good; /* the model file that is there before each run */
    size_t good_len;
} fixture;

static void run_ok(const char *const *args, const char *what)
{
    char *err = NULL;
    int status = rel_run(args, NULL, &err);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        fail_msg("%s: %s\n%s", what, rel_status_str(status), err);
    free(err);
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    if (!f)
        return -1;
    f->ctx = rel_open_context();
    f->dir = rel_tmpdir("faultwalk");
    f->data = rel_path(f->dir, "data.csv");
    f->model = rel_path(f->dir, "model.safetensors");
    f->ckpt = rel_path(f->dir, "model.safetensors.ckpt");
    f->start_ckpt = rel_path(f->dir, "start.ckpt");
    rel_write_csv(f->data, 64, 16, 1);
    /* The model that is already there: another seed, another shape. */
    const char *make_good[] = {"train", "rbm", "--data", f->data, "--hidden", "5", "--epochs",
                               "1", "--seed", "7", "--out", f->model, "--quiet", NULL};
    run_ok(make_good, "making the existing model");
    f->good = rel_read(f->model, &f->good_len);
    unlink(f->ckpt);
    *state = f;
    return f->good ? 0 : -1;
}

static int teardown(void **state)
{
    fixture *f = *state;
    rel_rmtree(f->dir);
    free(f->dir);
    free(f->data);
    free(f->model);
    free(f->ckpt);
    free(f->start_ckpt);
    free(f->good);
    bz_context_free(f->ctx);
    free(f);
    return 0;
}

/* A file's contents, restored before every run and compared after it. */
typedef struct kept_file {
    const char *path;
    char *bytes;
    size_t len;
} kept_file;

static bool same_contents(const kept_file *k)
{
    size_t len;
    char *now = rel_read(k->path, &len);
    bool same = now && len == k->len && memcmp(now, k->bytes, len) == 0;
    free(now);
    return same;
}

/* Walks BOLTZCL_FAULT=1, 2, ... over `args` (which write f->model) until
 * END_STREAK successes in a row. ref: what a successful run writes. The
 * kept files must be untouched by every failed run. */
static void walk(fixture *f, const char *const *args, const kept_file *ref, kept_file *kept,
                 size_t n_kept, const char *name)
{
    unsigned streak = 0, failures = 0, with_ckpt = 0, last_failure = 0, n;
    for (n = 1; streak < END_STREAK; n++) {
        for (size_t i = 0; i < n_kept; i++)
            rel_write(kept[i].path, kept[i].bytes, kept[i].len);
        unlink(f->ckpt);
        char fault[32];
        snprintf(fault, sizeof fault, "BOLTZCL_FAULT=%u", n);
        const char *env[] = {fault, NULL};
        char *err;
        int status = rel_run(args, env, &err);
        if (!WIFEXITED(status) || (WEXITSTATUS(status) != 0 && WEXITSTATUS(status) != 1))
            fail_msg("%s, fault %u: %s\n%s", name, n, rel_status_str(status), err);
        if (strstr(err, "Sanitizer"))
            fail_msg("%s, fault %u: sanitizer report\n%s", name, n, err);
        if (WEXITSTATUS(status) == 0) {
            streak++;
            if (!same_contents(ref))
                fail_msg("%s, fault %u: the run succeeded but wrote another model than an "
                         "undisturbed run\n%s", name, n, err);
        } else {
            streak = 0;
            failures++;
            last_failure = n;
            if (!names_failed_call(err))
                fail_msg("%s, fault %u: no message naming the failed call; stderr:\n%s", name,
                         n, err);
            for (size_t i = 0; i < n_kept; i++)
                if (!same_contents(&kept[i]))
                    fail_msg("%s, fault %u: %s was changed\n%s", name, n, kept[i].path, err);
            if (rel_exists(f->ckpt)) {
                with_ckpt++;
                if (rel_load(f->ctx, f->ckpt, true, NULL, NULL))
                    fail_msg("%s, fault %u: the checkpoint left behind does not load: %s", name,
                             n, bz_last_error(f->ctx));
            }
        }
        if (has_temp_files(f->dir))
            fail_msg("%s, fault %u: a temporary file was left behind\n%s", name, n, err);
        free(err);
    }
    printf("%s: walked fault points 1..%u: %u failed cleanly (%u after writing a checkpoint), "
           "the last at %u; %u inside the run were absorbed by a fallback\n",
           name, n - 1, failures, with_ckpt, last_failure, last_failure - failures);
    /* A walk that never failed would mean the switch is not wired in. */
    assert_true(failures >= 20);
}

/* Runs args undisturbed; returns what it wrote to f->model, and removes it
 * and the checkpoint. */
static kept_file undisturbed(fixture *f, const char *const *args)
{
    unlink(f->model);
    run_ok(args, "the undisturbed run");
    kept_file k = {f->model, NULL, 0};
    k.bytes = rel_read(f->model, &k.len);
    assert_non_null(k.bytes);
    unlink(f->ckpt);
    return k;
}

/* Two epochs from scratch. */
static void walk_training(void **state)
{
    fixture *f = *state;
    const char *args[] = {"train", "rbm", "--data", f->data, "--hidden", "8", "--epochs", "2",
                          "--batch", "32", "--out", f->model, "--quiet", NULL};
    kept_file ref = undisturbed(f, args);
    kept_file kept[] = {{f->model, f->good, f->good_len}};
    walk(f, args, &ref, kept, 1, "training");
    free(ref.bytes);
}

/* Resuming a PCD run from a checkpoint for its last epoch: the checkpoint
 * loader's failure paths, and the checkpoint must survive them too. */
static void walk_resume(void **state)
{
    fixture *f = *state;
    const char *first[] = {"train", "rbm", "--data", f->data, "--hidden", "8", "--epochs", "1",
                           "--batch", "32", "--pcd", "--out", f->model, "--checkpoint",
                           f->start_ckpt, "--quiet", NULL};
    unlink(f->model);
    run_ok(first, "the first epoch");
    kept_file start = {f->start_ckpt, NULL, 0};
    start.bytes = rel_read(f->start_ckpt, &start.len);
    assert_non_null(start.bytes);

    const char *args[] = {"train", "rbm", "--data", f->data, "--hidden", "8", "--epochs", "2",
                          "--batch", "32", "--pcd", "--resume", f->start_ckpt, "--out",
                          f->model, "--quiet", NULL};
    kept_file ref = undisturbed(f, args);
    rel_write(f->start_ckpt, start.bytes, start.len);
    kept_file kept[] = {{f->model, f->good, f->good_len}, start};
    walk(f, args, &ref, kept, 2, "resume");
    free(ref.bytes);
    free(start.bytes);
}

int main(int argc, char **argv)
{
    rel_init(argc, argv);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(walk_training, setup, teardown),
        cmocka_unit_test_setup_teardown(walk_resume, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
