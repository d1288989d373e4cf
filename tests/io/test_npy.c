/* .npy output: exact header bytes and data. */
#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <cmocka.h>

#include "io/npy.h"
#include "io_test_util.h"

#include <stdlib.h>
#include <string.h>

static int setup(void **state)
{
    *state = tu_mkdtemp();
    return 0;
}

static int teardown(void **state)
{
    tu_rmtree(*state);
    return 0;
}

/* Builds the header numpy.save writes (format 1.0, 64-byte alignment). */
static size_t expected_header(const char *dict, char *out)
{
    size_t dl = strlen(dict);
    size_t total = (10 + dl + 1 + 63) / 64 * 64;
    memcpy(out, "\x93NUMPY\x01\x00", 8);
    out[8] = (char)((total - 10) & 0xff);
    out[9] = (char)((total - 10) >> 8);
    memcpy(out + 10, dict, dl);
    memset(out + 10 + dl, ' ', total - 11 - dl);
    out[total - 1] = '\n';
    return total;
}

static void test_header_exact_bytes(void **state)
{
    (void)state;
    char got[256], want[256];
    const size_t s2[2] = {3, 4};
    size_t n = bz_npy_header_f32(2, s2, got, sizeof got);
    assert_int_equal(n, 128);
    /* 10 + 59-byte dict + 58 spaces + '\n' = 128; length field 118 = 0x76. */
    assert_int_equal(
        expected_header("{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }", want),
        128);
    assert_memory_equal(got, want, 128);
    assert_int_equal((unsigned char)got[8], 0x76);
    assert_int_equal(got[9], 0);
    assert_memory_equal(got + 10 + 59, "                                                  ", 50);

    const size_t s1[1] = {5};
    n = bz_npy_header_f32(1, s1, got, sizeof got);
    assert_int_equal(n, expected_header("{'descr': '<f4', 'fortran_order': False, "
                                        "'shape': (5,), }",
                                        want));
    assert_memory_equal(got, want, n);
    assert_int_equal(n % 64, 0);

    n = bz_npy_header_f32(0, NULL, got, sizeof got);
    assert_int_equal(n, expected_header("{'descr': '<f4', 'fortran_order': False, "
                                        "'shape': (), }",
                                        want));
    assert_memory_equal(got, want, n);

    const size_t big[2] = {60000, 784};
    n = bz_npy_header_f32(2, big, got, sizeof got);
    assert_int_equal(n, 128);
    assert_non_null(strstr(got + 10, "'shape': (60000, 784), }"));
    assert_int_equal(bz_npy_header_f32(2, big, got, 100), 0); /* too small a buffer */
}

static void test_write_file(void **state)
{
    char *p = tu_join(*state, "a.npy");
    const float x[6] = {1, -2, 3.5f, 0, 1e-30f, 7};
    bz_error err = {0};
    assert_int_equal(bz_npy_write_f32_2d(p, x, 2, 3, &err), BZ_OK);
    size_t n;
    uint8_t *b = tu_read_file(p, &n);
    assert_non_null(b);
    assert_int_equal(n, 128 + sizeof x);
    char want[256];
    expected_header("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", want);
    assert_memory_equal(b, want, 128);
    assert_memory_equal(b + 128, x, sizeof x);
    free(b);
    assert_int_equal(tu_count_temp_files(*state), 0);

    char *q = tu_join(*state, "missing/a.npy");
    assert_int_equal(bz_npy_write_f32_2d(q, x, 2, 3, &err), BZ_E_IO);
    assert_true(tu_has(err.msg, q));
    const size_t s9[9] = {1, 1, 1, 1, 1, 1, 1, 1, 1};
    assert_int_equal(bz_npy_write_f32(p, x, 9, s9, &err), BZ_E_INVALID_ARG);
    free(q);
    free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_header_exact_bytes),
        cmocka_unit_test_setup_teardown(test_write_file, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
