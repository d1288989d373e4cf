/* Device selection: every BOLTZCL_DEVICE form parses, bad ones are refused
 * with a message, and ranking picks GPUs before CPUs. No OpenCL needed. */
#include "engine/engine.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

static void test_parse_forms(void **state)
{
    (void)state;
    bz_device_selector s;
    bz_error e = {0};
    assert_int_equal(bz_device_selector_parse(NULL, &s, &e), BZ_OK);
    assert_int_equal(s.kind, BZ_SEL_AUTO);
    assert_int_equal(bz_device_selector_parse("  ", &s, &e), BZ_OK);
    assert_int_equal(s.kind, BZ_SEL_AUTO);
    assert_int_equal(bz_device_selector_parse("auto", &s, &e), BZ_OK);
    assert_int_equal(s.kind, BZ_SEL_AUTO);
    assert_int_equal(bz_device_selector_parse("GPU", &s, &e), BZ_OK);
    assert_int_equal(s.kind, BZ_SEL_GPU);
    assert_int_equal(bz_device_selector_parse("cpu", &s, &e), BZ_OK);
    assert_int_equal(s.kind, BZ_SEL_CPU);
    assert_int_equal(bz_device_selector_parse("1:2", &s, &e), BZ_OK);
    assert_int_equal(s.kind, BZ_SEL_INDEX);
    assert_int_equal(s.platform, 1);
    assert_int_equal(s.device, 2);
    assert_int_equal(bz_device_selector_parse(" 0:0 ", &s, &e), BZ_OK);
    assert_int_equal(s.kind, BZ_SEL_INDEX);
    assert_int_equal(bz_device_selector_parse("Radeon", &s, &e), BZ_OK);
    assert_int_equal(s.kind, BZ_SEL_NAME);
    assert_string_equal(s.name, "Radeon");
    /* AMD names carry colons; they are names, not indices. */
    assert_int_equal(bz_device_selector_parse("gfx90a:sramecc+", &s, &e), BZ_OK);
    assert_int_equal(s.kind, BZ_SEL_NAME);
}

static void test_parse_rejects(void **state)
{
    (void)state;
    bz_device_selector s;
    const char *bad[] = {"1:", ":1", "1:2:3", "12", "1::2", "99999:0"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        bz_error e = {0};
        assert_int_equal(bz_device_selector_parse(bad[i], &s, &e), BZ_E_INVALID_ARG);
        assert_non_null(strstr(e.msg, "invalid device selector"));
        assert_non_null(strstr(e.msg, "P:D"));
    }
    char longname[300];
    memset(longname, 'a', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    bz_error e = {0};
    assert_int_equal(bz_device_selector_parse(longname, &s, &e), BZ_E_INVALID_ARG);
    assert_non_null(strstr(e.msg, "too long"));
}

static void test_rank(void **state)
{
    (void)state;
    bz_device_info d[3];
    memset(d, 0, sizeof d);
    strcpy(d[0].name, "pthread-skylake");
    d[0].type = CL_DEVICE_TYPE_CPU;
    d[0].platform_index = 0;
    strcpy(d[1].name, "NVIDIA H100");
    d[1].type = CL_DEVICE_TYPE_GPU;
    d[1].platform_index = 1;
    strcpy(d[2].name, "Intel Arc");
    d[2].type = CL_DEVICE_TYPE_GPU;
    d[2].platform_index = 2;
    size_t order[3];
    bz_device_selector s;
    bz_error e;

    bz_device_selector_parse(NULL, &s, &e);
    assert_int_equal(bz_devices_rank(d, 3, &s, order), 3);
    assert_int_equal(order[0], 1); /* GPUs first, in discovery order */
    assert_int_equal(order[1], 2);
    assert_int_equal(order[2], 0);

    bz_device_selector_parse("cpu", &s, &e);
    assert_int_equal(bz_devices_rank(d, 3, &s, order), 1);
    assert_int_equal(order[0], 0);

    bz_device_selector_parse("h100", &s, &e);
    assert_int_equal(bz_devices_rank(d, 3, &s, order), 1);
    assert_int_equal(order[0], 1);

    bz_device_selector_parse("2:0", &s, &e);
    assert_int_equal(bz_devices_rank(d, 3, &s, order), 1);
    assert_int_equal(order[0], 2);

    bz_device_selector_parse("3:0", &s, &e);
    assert_int_equal(bz_devices_rank(d, 3, &s, order), 0);
    bz_device_selector_parse("nonsense", &s, &e);
    assert_int_equal(bz_devices_rank(d, 3, &s, order), 0);

    char list[512] = "";
    bz_devices_describe(d, 3, list, sizeof list);
    assert_non_null(strstr(list, "1:0  NVIDIA H100 (GPU"));
    assert_non_null(strstr(list, "0:0  pthread-skylake (CPU"));
}

static void test_strerror(void **state)
{
    (void)state;
    assert_string_equal(bz_strerror(BZ_OK), "success");
    assert_string_equal(bz_strerror(BZ_E_BUILD), "kernel compilation failed");
    assert_string_equal(bz_strerror(12345), "unknown status code");
    /* Pinned values. */
    assert_int_equal(BZ_E_NO_PLATFORM, 2);
    assert_int_equal(BZ_E_BUILD, 5);
    assert_int_equal(BZ_E_DIVERGED, 13);
    assert_string_equal(bz_cl_error_name(-5), "CL_OUT_OF_RESOURCES");
    assert_string_equal(bz_cl_error_name(-1001), "CL_PLATFORM_NOT_FOUND_KHR");
    assert_string_equal(bz_cl_error_name(-77777), "CL_UNKNOWN_ERROR(-77777)");
}

static void test_error_prefix(void **state)
{
    (void)state;
    bz_error e;
    bz_error_set(&e, BZ_E_IO, "cannot open %s", "x.idx");
    bz_error_prefix(&e, "loading %s", "train");
    assert_string_equal(e.msg, "loading train: cannot open x.idx");
    assert_int_equal(e.status, BZ_E_IO);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_forms), cmocka_unit_test(test_parse_rejects),
        cmocka_unit_test(test_rank),        cmocka_unit_test(test_strerror),
        cmocka_unit_test(test_error_prefix),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
