/*
 * Engine behaviour on a real device: selection by every form, refusal of a
 * device that does not exist, compile errors surfacing the build log, and the
 * compiled-binary cache (forced on here, even on POCL) reusing good entries
 * and recovering from damaged ones.
 */
#include "../common/cl_fixture.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

static bz_context *ctx;
static char tmpdir[256];

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void test_select_by_forms(void **state)
{
    (void)state;
    char idx[32];
    snprintf(idx, sizeof idx, "%u:%u", ctx->dev.platform_index, ctx->dev.device_index);
    char part[8];
    snprintf(part, sizeof part, "%.5s", ctx->dev.name);
    const char *forms[] = {idx, part, (ctx->dev.type & CL_DEVICE_TYPE_GPU) ? "gpu" : "cpu"};
    for (size_t i = 0; i < 3; i++) {
        bz_context_options o;
        bz_context_options_init(&o);
        o.device = forms[i];
        o.skip_selftest = 1;
        bz_context *c = NULL;
        bz_status st = bz_context_create(&o, &c);
        if (st)
            fail_msg("selecting '%s' failed: %s", forms[i], bz_last_error(c));
        assert_string_equal(bz_device_name(c), ctx->dev.name);
        bz_context_free(c);
    }
}

static void test_select_missing(void **state)
{
    (void)state;
    bz_context_options o;
    bz_context_options_init(&o);
    o.device = "no-such-device-xyz";
    bz_context *c = NULL;
    assert_int_equal(bz_context_create(&o, &c), BZ_E_NO_DEVICE);
    assert_non_null(strstr(bz_last_error(c), "no-such-device-xyz"));
    assert_non_null(strstr(bz_last_error(c), ctx->dev.name)); /* lists what exists */
    bz_context_free(c);
    o.device = "7:";
    assert_int_equal(bz_context_create(&o, &c), BZ_E_INVALID_ARG);
    assert_non_null(strstr(bz_last_error(c), "invalid device selector"));
    bz_context_free(c);
}

static void test_build_error(void **state)
{
    (void)state;
    char path[300];
    snprintf(path, sizeof path, "%s/broken.cl", tmpdir);
    write_text(path, "__kernel void broken(__global float *x) { x[0] = undeclared_thing; }\n");
    char saved[sizeof ctx->kernel_dir];
    memcpy(saved, ctx->kernel_dir, sizeof saved);
    snprintf(ctx->kernel_dir, sizeof ctx->kernel_dir, "%s", tmpdir);
    const char *files[] = {"broken.cl"};
    cl_program p = NULL;
    assert_int_equal(bz_program_build(ctx, files, 1, "", &p), BZ_E_BUILD);
    assert_null(p);
    assert_non_null(strstr(bz_last_error(ctx), "CL_BUILD_PROGRAM_FAILURE"));
    assert_non_null(strstr(bz_last_error(ctx), "undeclared_thing")); /* the compiler's log */
    /* A missing file names itself. */
    const char *missing[] = {"missing.cl"};
    assert_int_equal(bz_program_build(ctx, missing, 1, "", &p), BZ_E_IO);
    assert_non_null(strstr(bz_last_error(ctx), "missing.cl"));
    memcpy(ctx->kernel_dir, saved, sizeof saved);
}

static void test_binary_cache(void **state)
{
    (void)state;
    char cache[300];
    snprintf(cache, sizeof cache, "%s/cache", tmpdir);
    int saved_cache = ctx->binary_cache;
    char saved_dir[sizeof ctx->cache_dir];
    memcpy(saved_dir, ctx->cache_dir, sizeof saved_dir);
    ctx->binary_cache = 1;
    snprintf(ctx->cache_dir, sizeof ctx->cache_dir, "%s", cache);
    const char *files[] = {"common.cl", "philox.cl", "sample.cl"};
    unsigned hits0 = ctx->cache_hits, stores0 = ctx->cache_stores;

    cl_program p = NULL;
    assert_int_equal(bz_program_build(ctx, files, 3, "-DBZ_CACHE_TEST=1", &p), BZ_OK);
    clReleaseProgram(p);
    assert_int_equal(ctx->cache_stores, stores0 + 1);
    assert_int_equal(ctx->cache_hits, hits0);

    assert_int_equal(bz_program_build(ctx, files, 3, "-DBZ_CACHE_TEST=1", &p), BZ_OK);
    assert_int_equal(ctx->cache_hits, hits0 + 1); /* reused */
    assert_int_equal(ctx->cache_stores, stores0 + 1);
    /* The cached program really works. */
    cl_int rc;
    cl_kernel k = clCreateKernel(p, "philox_u32", &rc);
    assert_int_equal(rc, CL_SUCCESS);
    clReleaseKernel(k);
    clReleaseProgram(p);

    /* Truncate the entry: it is detected, rebuilt and rewritten. */
    char cmd[700];
    snprintf(cmd, sizeof cmd, "for f in %s/*.bin; do truncate -s 100 \"$f\"; done", cache);
    assert_int_equal(system(cmd), 0);
    assert_int_equal(bz_program_build(ctx, files, 3, "-DBZ_CACHE_TEST=1", &p), BZ_OK);
    clReleaseProgram(p);
    assert_int_equal(ctx->cache_hits, hits0 + 1);
    assert_int_equal(ctx->cache_stores, stores0 + 2);
    assert_int_equal(bz_program_build(ctx, files, 3, "-DBZ_CACHE_TEST=1", &p), BZ_OK);
    clReleaseProgram(p);
    assert_int_equal(ctx->cache_hits, hits0 + 2);

    /* Other options are another key. */
    assert_int_equal(bz_program_build(ctx, files, 3, "-DBZ_CACHE_TEST=2", &p), BZ_OK);
    clReleaseProgram(p);
    assert_int_equal(ctx->cache_stores, stores0 + 3);

    ctx->binary_cache = saved_cache;
    memcpy(ctx->cache_dir, saved_dir, sizeof saved_dir);
}

static void test_kernel_dir_override(void **state)
{
    (void)state;
    /* BOLTZCL_KERNEL_DIR makes the engine read sources from disk. */
    char path[300];
    snprintf(path, sizeof path, "%s/common.cl", tmpdir);
    write_text(path, "#define FROM_DISK 1\n");
    char saved[sizeof ctx->kernel_dir];
    memcpy(saved, ctx->kernel_dir, sizeof saved);
    snprintf(ctx->kernel_dir, sizeof ctx->kernel_dir, "%s", tmpdir);
    char *text = NULL;
    size_t len = 0;
    assert_int_equal(bz_kernel_source_read(ctx, "common.cl", &text, &len), BZ_OK);
    assert_string_equal(text, "#define FROM_DISK 1\n");
    free(text);
    memcpy(ctx->kernel_dir, saved, sizeof saved);
    assert_int_equal(bz_kernel_source_read(ctx, "common.cl", &text, &len), BZ_OK);
    assert_non_null(strstr(text, "bz_sigmoid"));
    free(text);
}

int main(void)
{
    ctx = bz_test_open_context();
    snprintf(tmpdir, sizeof tmpdir, "/tmp/bz-engine-test-XXXXXX");
    if (!mkdtemp(tmpdir))
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_select_by_forms), cmocka_unit_test(test_select_missing),
        cmocka_unit_test(test_build_error),     cmocka_unit_test(test_binary_cache),
        cmocka_unit_test(test_kernel_dir_override),
    };
    int r = cmocka_run_group_tests(tests, NULL, NULL);
    bz_context_free(ctx);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
    if (system(cmd) != 0)
        r = r ? r : 1;
    return r;
}
