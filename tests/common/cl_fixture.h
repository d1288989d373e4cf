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
#include <string.h>
#include <unistd.h>

#define BZ_TEST_SKIP 77

/* Fails the test with the engine's message when a call does not return
 * BZ_OK; `ctx` is the test file's context (needs cmocka.h where it is used). */
#define OK(x)                                                                                 \
    do {                                                                                      \
        bz_status s_ = (x);                                                                   \
        if (s_ != BZ_OK)                                                                      \
            fail_msg("%s failed: %s: %s", #x, bz_strerror(s_), bz_last_error(ctx));           \
    } while (0)

/* A context on the selected device; with `tuning` (one line of a tuning
 * file, src/tuning/db.h) the context runs that tuning instead of the shipped
 * one, as tests of shape-aware training need known GEMM tiles. */
static inline bz_context *bz_test_open_context_tuned(const char *tuning)
{
    bz_context_options o;
    bz_context_options_init(&o);
    char path[] = "/tmp/bz-test-tuning-XXXXXX";
    if (tuning) {
        int fd = mkstemp(path);
        FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
        if (!f || fprintf(f, "%s\n", tuning) < 0 || fclose(f) != 0) {
            fprintf(stderr, "cannot write the test's tuning file %s\n", path);
            exit(1);
        }
        o.tuning_file = path;
    }
    bz_context *ctx = NULL;
    bz_status st = bz_context_create(&o, &ctx);
    if (tuning) /* read once, when the context is made */
        unlink(path);
    if (st == BZ_E_NO_PLATFORM || st == BZ_E_NO_DEVICE) {
        fprintf(stderr, "skipping: no OpenCL device (%s)\n", bz_last_error(ctx));
        bz_context_free(ctx);
        exit(BZ_TEST_SKIP);
    }
    if (st != BZ_OK || (tuning && !strstr(ctx->tuning_source, path))) {
        fprintf(stderr, "cannot create a context: %s: %s (tuning: %s)\n", bz_strerror(st),
                bz_last_error(ctx), ctx ? ctx->tuning_source : "-");
        bz_context_free(ctx);
        exit(1);
    }
    return ctx;
}

static inline bz_context *bz_test_open_context(void)
{
    return bz_test_open_context_tuned(NULL);
}

/* Tiles 16 wide that any OpenCL 1.2 device builds, and every product of
 * 20^3 multiply-adds or more indirect: sizes like 124 and 62 then train
 * padded, to 128 and 64, as 784 and 500 do on the shipped POCL tuning. */
#define BZ_TEST_TUNING_16                                                                      \
    "{\"device\":\"*\",\"driver\":\"*\",\"clblast\":{\"Xgemm\":{\"GEMMK\":0,"                   \
    "\"KREG\":1,\"KWG\":16,\"KWI\":2,\"MDIMA\":8,\"MDIMC\":8,\"MWG\":16,"                      \
    "\"NDIMB\":8,\"NDIMC\":8,\"NWG\":16,\"SA\":0,\"SB\":0,\"STRM\":0,\"STRN\":0,"             \
    "\"VWM\":2,\"VWN\":2},\"GemmRoutine\":{\"XGEMM_MIN_INDIRECT_SIZE\":20}}}"

/* Deterministic test data: a small LCG, independent of the engine's RNG. */
static inline float bz_test_rand(unsigned long long *s)
{
    *s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
    return (float)((*s >> 40) & 0xFFFFFF) / 16777216.0f;
}

#endif
