/*
 * Helpers the `cl` model tests share (include after cmocka.h and
 * cl_fixture.h): deterministic data, host <-> device copies that fail the
 * test on error, element-wise comparison with absolute and relative
 * tolerances, and a scratch folder per test binary.
 */
#ifndef BZ_TESTS_CL_HELPERS_H
#define BZ_TESTS_CL_HELPERS_H

#include "../common/cl_fixture.h"

#include <dirent.h>
#include <math.h>
#include <stdio.h>

/* n values uniform in [lo, hi) from the test LCG */
static inline void bz_test_fill(float *x, size_t n, float lo, float hi, unsigned long long seed)
{
    for (size_t i = 0; i < n; i++)
        x[i] = lo + (hi - lo) * bz_test_rand(&seed);
}

/* n fair coin flips as 0/1 */
static inline void bz_test_fill_bits(float *x, size_t n, unsigned long long seed)
{
    for (size_t i = 0; i < n; i++)
        x[i] = bz_test_rand(&seed) < 0.5f ? 1.0f : 0.0f;
}

/* A new device buffer holding x (n floats). */
static inline void bz_test_up(bz_context *ctx, bz_buf *b, const float *x, size_t n)
{
    OK(bz_buf_alloc(ctx, b, n));
    OK(bz_buf_write(ctx, b, 0, x, n));
}

static inline void bz_test_down(bz_context *ctx, const bz_buf *b, float *x, size_t n)
{
    OK(bz_buf_read(ctx, b, 0, x, n));
}

/* Fails naming the first entry off by more than abs_tol + rel_tol |want|
 * (NaN never passes). */
static inline void bz_test_near(const float *got, const float *want, size_t n, float abs_tol,
                                float rel_tol, const char *what)
{
    for (size_t i = 0; i < n; i++) {
        float tol = abs_tol + rel_tol * fabsf(want[i]);
        if (!(fabsf(got[i] - want[i]) <= tol))
            fail_msg("%s[%zu] = %.9g, reference %.9g", what, i, (double)got[i], (double)want[i]);
    }
}

/* A fresh folder /tmp/bz-<tag>-XXXXXX into dir (at least 64 bytes). */
static inline int bz_test_tmpdir(char *dir, size_t size, const char *tag)
{
    snprintf(dir, size, "/tmp/bz-%s-XXXXXX", tag);
    return mkdtemp(dir) ? 0 : -1;
}

/* Removes the folder and the files in it (the tests write no subfolders);
 * 0 on success. */
static inline int bz_test_rmdir(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return -1;
    int rc = 0;
    char path[512];
    for (struct dirent *e; (e = readdir(d));) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        rc |= unlink(path);
    }
    closedir(d);
    return rc | rmdir(dir);
}

#endif
