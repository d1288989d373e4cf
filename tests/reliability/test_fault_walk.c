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
 * behind, if any, must load. The walk ends after a run of successes.
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

/* Successes in a row that end the walk: only the dataset upload absorbs a
 * failure, so isolated successes occur inside the run, long runs only past
 * its end. */
#define END_STREAK 10

static bool has_temp_files(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    bool found = false;
    while (d && (e = readdir(d)))
        found = found || strstr(e->d_name, ".tmp.") != NULL;
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

static void fault_walk(void **state)
{
    (void)state;
    bz_context *ctx = rel_open_context();
    char *dir = rel_tmpdir("faultwalk");
    char *data = rel_path(dir, "data.csv");
    char *model = rel_path(dir, "model.safetensors");
    char *ckpt = rel_path(dir, "model.safetensors.ckpt");
    char *ref = rel_path(dir, "ref.safetensors");
    char *ref_ckpt = rel_path(dir, "ref.safetensors.ckpt");
    rel_write_csv(data, 64, 16, 1);

    /* The model that is already there: another seed, another shape. */
    char *err = NULL;
    const char *make_good[] = {"train", "rbm", "--data", data, "--hidden", "5", "--epochs", "1",
                               "--seed", "7", "--out", model, "--quiet", NULL};
    int status = rel_run(make_good, NULL, &err);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        fail_msg("making the existing model: %s\n%s", rel_status_str(status), err);
    free(err);
    size_t good_len;
    char *good = rel_read(model, &good_len);
    assert_non_null(good);
    unlink(ckpt);

    /* The run under test, undisturbed, for what a success must write. */
    const char *walk_ref[] = {"train", "rbm", "--data", data, "--hidden", "8", "--epochs", "2",
                              "--batch", "32", "--out", ref, "--quiet", NULL};
    status = rel_run(walk_ref, NULL, &err);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        fail_msg("the undisturbed run: %s\n%s", rel_status_str(status), err);
    free(err);
    size_t ref_len;
    char *ref_bytes = rel_read(ref, &ref_len);
    assert_non_null(ref_bytes);
    unlink(ref);
    unlink(ref_ckpt);

    const char *walk[] = {"train", "rbm", "--data", data, "--hidden", "8", "--epochs", "2",
                          "--batch", "32", "--out", model, "--quiet", NULL};
    unsigned streak = 0, failures = 0, with_ckpt = 0, last_failure = 0;
    unsigned n;
    for (n = 1; streak < END_STREAK; n++) {
        rel_write(model, good, good_len);
        unlink(ckpt);
        char fault[32];
        snprintf(fault, sizeof fault, "BOLTZCL_FAULT=%u", n);
        const char *env[] = {fault, NULL};
        status = rel_run(walk, env, &err);
        if (!WIFEXITED(status) || (WEXITSTATUS(status) != 0 && WEXITSTATUS(status) != 1))
            fail_msg("fault %u: %s\n%s", n, rel_status_str(status), err);
        if (strstr(err, "Sanitizer"))
            fail_msg("fault %u: sanitizer report\n%s", n, err);
        size_t len;
        char *now = rel_read(model, &len);
        if (WEXITSTATUS(status) == 0) {
            streak++;
            if (!now || len != ref_len || memcmp(now, ref_bytes, len) != 0)
                fail_msg("fault %u: the run succeeded but wrote another model than an "
                         "undisturbed run\n%s", n, err);
        } else {
            streak = 0;
            failures++;
            last_failure = n;
            if (!names_failed_call(err))
                fail_msg("fault %u: no message naming the failed call; stderr:\n%s", n, err);
            if (!now || len != good_len || memcmp(now, good, len) != 0)
                fail_msg("fault %u: the existing model file was changed\n%s", n, err);
            if (rel_exists(ckpt)) {
                with_ckpt++;
                bz_status st = rel_load(ctx, ckpt, true, NULL, NULL);
                if (st)
                    fail_msg("fault %u: the checkpoint left behind does not load: %s",
                             n, bz_last_error(ctx));
            }
        }
        if (has_temp_files(dir))
            fail_msg("fault %u: a temporary file was left behind\n%s", n, err);
        free(now);
        free(err);
    }
    printf("walked fault points 1..%u: %u failed cleanly (%u after a checkpoint), the last "
           "at %u; %u runs succeeded inside the run, the rest past its end\n",
           n - 1, failures, with_ckpt, last_failure, last_failure - failures);
    /* A walk that never failed would mean the switch is not wired in. */
    assert_true(failures >= 20);
    assert_true(with_ckpt > 0);

    free(good);
    free(ref_bytes);
    rel_rmtree(dir);
    free(dir);
    free(data);
    free(model);
    free(ckpt);
    free(ref);
    free(ref_ckpt);
    bz_context_free(ctx);
}

int main(int argc, char **argv)
{
    rel_init(argc, argv);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(fault_walk),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
