/*
 * Shared set-up for the `cl` suite: one context for the whole binary on the
 * device the environment selects (POCL in CI). With no OpenCL platform or no
 * matching device the binary exits 77, which meson reports as skipped.
 */
#ifndef BZ_TESTS_CL_FIXTURE_H
#define BZ_TESTS_CL_FIXTURE_H

#include "engine/engine.h"

#include <stdio.h>
#include <stdlib.h>

#define BZ_TEST_SKIP 77

/* Fails the test with the engine's message when a call does not return
 * BZ_OK; `ctx` is the test file's context (needs cmocka.h where it is used). */
#define OK(x)                                                                                 \
    do {                                                                                      \
        bz_status s_ = (x);                                                                   \
        if (s_ != BZ_OK)                                                                      \
            fail_msg("%s failed: %s: %s", #x, bz_strerror(s_), bz_last_error(ctx));           \
    } while (0)

static inline bz_context *bz_test_open_context(void)
{
    bz_context_options o;
    bz_context_options_init(&o);
    bz_context *ctx = NULL;
    bz_status st = bz_context_create(&o, &ctx);
    if (st == BZ_E_NO_PLATFORM || st == BZ_E_NO_DEVICE) {
        fprintf(stderr, "skipping: no OpenCL device (%s)\n", bz_last_error(ctx));
        bz_context_free(ctx);
        exit(BZ_TEST_SKIP);
    }
    if (st != BZ_OK) {
        fprintf(stderr, "cannot create a context: %s: %s\n", bz_strerror(st), bz_last_error(ctx));
        bz_context_free(ctx);
        exit(1);
    }
    return ctx;
}

/* Deterministic test data: a small LCG, independent of the engine's RNG. */
static inline float bz_test_rand(unsigned long long *s)
{
    *s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
    return (float)((*s >> 40) & 0xFFFFFF) / 16777216.0f;
}

#endif
