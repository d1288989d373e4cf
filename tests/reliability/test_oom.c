/*
 * Models too large for the device: `boltzcl train rbm` must fail quickly
 * with exit status 1 and a message giving the sizes involved, not crash or
 * try for minutes, and must leave an existing model file alone. Uses
 * Fashion-MNIST when it is installed ($BOLTZCL_DATA_DIR or
 * /usr/share/datasets), else generated rows of the same width.
 */
#include "rel_util.h"

#include "engine/engine.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#define DIM 784
/* Loading Fashion-MNIST takes about a second; sanitizers slow it down. */
#define FAST_S 60.0

typedef struct fixture {
    bz_context *ctx;
    char *dir, *data, *model;
    char *good;
    size_t good_len;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    if (!f)
        return -1;
    f->ctx = rel_open_context();
    f->dir = rel_tmpdir("oom");
    const char *dd = getenv("BOLTZCL_DATA_DIR");
    char fm[1024];
    snprintf(fm, sizeof fm, "%s/fashion-mnist/train-images-idx3-ubyte.gz",
             dd && dd[0] ? dd : "/usr/share/datasets");
    if (rel_exists(fm)) {
        f->data = strdup("fashion-mnist");
    } else {
        f->data = rel_path(f->dir, "wide.csv");
        rel_write_csv(f->data, 40, DIM, 3);
    }
    /* An existing model, made with the same tool. */
    char *small = rel_path(f->dir, "small.csv");
    rel_write_csv(small, 16, 4, 4);
    f->model = rel_path(f->dir, "model.safetensors");
    const char *args[] = {"train", "rbm", "--data", small, "--hidden", "3", "--epochs", "1",
                          "--out", f->model, "--quiet", NULL};
    char *err;
    int status = rel_run(args, NULL, &err);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fprintf(stderr, "making a model: %s\n%s", rel_status_str(status), err);
        return -1;
    }
    free(err);
    free(small);
    /* Its checkpoint would make the runs below refuse to start over it. */
    char *ckpt = rel_path(f->dir, "model.safetensors.ckpt");
    unlink(ckpt);
    free(ckpt);
    f->good = rel_read(f->model, &f->good_len);
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
    free(f->good);
    bz_context_free(f->ctx);
    free(f);
    return 0;
}

/* Runs train with --hidden/--batch; returns stderr after the common checks:
 * a quick exit 1 (no signal) that leaves the model file as it was. */
static char *train_fails(const fixture *f, const char *hidden, const char *batch)
{
    const char *args[] = {"train", "rbm", "--data", f->data, "--hidden", hidden, "--batch",
                          batch, "--epochs", "1", "--out", f->model, "--quiet", NULL};
    char *err;
    double t0 = rel_now();
    int status = rel_run(args, NULL, &err);
    double t = rel_now() - t0;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 1)
        fail_msg("--hidden %s --batch %s: %s, expected exit 1\n%s", hidden, batch,
                 rel_status_str(status), err);
    if (t > FAST_S)
        fail_msg("--hidden %s --batch %s: took %.0f s to fail", hidden, batch, t);
    size_t len;
    char *now = rel_read(f->model, &len);
    if (!now || len != f->good_len || memcmp(now, f->good, len) != 0)
        fail_msg("--hidden %s: the existing model file was changed", hidden);
    free(now);
    printf("--hidden %s --batch %s: %s", hidden, batch, err);
    return err;
}

/* The message gives sizes: at least two figures in MiB (what was asked for
 * and what the device has). */
static void expect_sizes(const char *err)
{
    unsigned figures = 0;
    for (const char *p = err; (p = strstr(p, " MiB")) != NULL; p++)
        if (p > err && p[-1] >= '0' && p[-1] <= '9')
            figures++;
    if (figures < 2)
        fail_msg("the message does not give the sizes involved:\n%s", err);
}

/* The weights alone exceed the largest buffer the device allows: 2,000,000
 * hidden units, or more on a device with larger buffers. Where that many
 * weights are beyond what boltzcl supports at all (2^31), that is the
 * message; either way nothing large is allocated. */
static void weights_beyond_device(void **state)
{
    fixture *f = *state;
    size_t hidden = 2000000, max_alloc = (size_t)f->ctx->dev.max_alloc;
    if ((size_t)DIM * hidden * sizeof(float) <= max_alloc)
        hidden = max_alloc / (DIM * sizeof(float)) + 1;
    char h[32];
    snprintf(h, sizeof h, "%zu", hidden);
    char *err = train_fails(f, h, "100");
    if ((size_t)DIM * hidden > ((size_t)1 << 31)) {
        assert_non_null(strstr(err, bz_strerror(BZ_E_SHAPE)));
        assert_non_null(strstr(err, h));
        assert_non_null(strstr(err, "784"));
    } else {
        assert_non_null(strstr(err, bz_strerror(BZ_E_DEVICE_MEM)));
        expect_sizes(err);
    }
    free(err);
}

/* Beyond what boltzcl supports at all, on any device. */
static void weights_beyond_limits(void **state)
{
    fixture *f = *state;
    char *err = train_fails(f, "20000000", "100");
    assert_non_null(strstr(err, "20000000"));
    assert_non_null(strstr(err, "784"));
    free(err);
}

/* The model fits but a batch's hidden activations do not: a whole-dataset
 * batch with enough hidden units that they exceed the largest buffer by a
 * sixteenth. */
static void batch_beyond_device(void **state)
{
    fixture *f = *state;
    if (strcmp(f->data, "fashion-mnist") != 0) {
        printf("skipped: needs Fashion-MNIST's 60000 rows\n");
        skip();
    }
    size_t rows = 57000; /* after the 5 % validation split */
    size_t fit = (size_t)f->ctx->dev.max_alloc / (rows * sizeof(float));
    size_t hidden = fit + fit / 16 + 1; /* sizes that differ in MiB too */
    char h[32];
    snprintf(h, sizeof h, "%zu", hidden);
    char *err = train_fails(f, h, "60000");
    assert_non_null(strstr(err, bz_strerror(BZ_E_DEVICE_MEM)));
    expect_sizes(err);
    free(err);
}

int main(int argc, char **argv)
{
    rel_init(argc, argv);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(weights_beyond_device),
        cmocka_unit_test(weights_beyond_limits),
        cmocka_unit_test(batch_beyond_device),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
