/* CSV reader and writer. */
#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <cmocka.h>

#include "io/csv.h"
#include "io_test_util.h"

#include <math.h>
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

static bz_status parse(const char *text, int labels, int header, bz_csv *out, bz_error *err)
{
    bz_csv_options o;
    bz_csv_options_init(&o);
    o.labels = labels;
    o.header = header;
    return bz_csv_parse(text, strlen(text), "d.csv", &o, out, err);
}

static void test_header_labels_crlf_bom(void **state)
{
    (void)state;
    const char *text = "\xEF\xBB\xBFlabel,pixel0,pixel1,pixel2\r\n"
                       "7,0,128,255\r\n"
                       "\r\n"
                       "2, 1.5 ,\"-3\",4e2\r\n";
    bz_csv c;
    bz_error err = {0};
    assert_int_equal(parse(text, 1, -1, &c, &err), BZ_OK);
    assert_int_equal(c.rows, 2);
    assert_int_equal(c.cols, 3);
    assert_int_equal(c.had_header, 1);
    assert_int_equal(c.max_label, 7);
    assert_int_equal(c.labels[0], 7);
    assert_int_equal(c.labels[1], 2);
    const float want[6] = {0, 128, 255, 1.5f, -3, 400};
    for (int i = 0; i < 6; i++)
        assert_true(c.x[i] == want[i]);
    bz_csv_free(&c);
}

static void test_no_header_no_trailing_newline(void **state)
{
    (void)state;
    bz_csv c;
    bz_error err = {0};
    assert_int_equal(parse("1,0.25\n0,0.5", 1, -1, &c, &err), BZ_OK);
    assert_int_equal(c.rows, 2);
    assert_int_equal(c.cols, 1);
    assert_int_equal(c.had_header, 0);
    assert_true(c.x[0] == 0.25f && c.x[1] == 0.5f);
    bz_csv_free(&c);
}

static void test_without_labels(void **state)
{
    (void)state;
    bz_csv c;
    bz_error err = {0};
    assert_int_equal(parse("a,b\n-1,2\n3,-4\n", 0, -1, &c, &err), BZ_OK);
    assert_int_equal(c.rows, 2);
    assert_int_equal(c.cols, 2);
    assert_null(c.labels);
    assert_int_equal(c.max_label, -1);
    assert_true(c.x[0] == -1 && c.x[3] == -4);
    bz_csv_free(&c);

    /* Tab-separated. */
    bz_csv_options o;
    bz_csv_options_init(&o);
    o.labels = 0;
    o.delimiter = '\t';
    const char *tsv = "1\t2\n3\t4\n";
    assert_int_equal(bz_csv_parse(tsv, strlen(tsv), "t.tsv", &o, &c, &err), BZ_OK);
    assert_int_equal(c.cols, 2);
    assert_true(c.x[3] == 4);
    bz_csv_free(&c);
}

static void test_forced_header_modes(void **state)
{
    (void)state;
    bz_csv c;
    bz_error err = {0};
    /* header = 1 skips even a numeric first line. */
    assert_int_equal(parse("9,9\n1,2\n", 1, 1, &c, &err), BZ_OK);
    assert_int_equal(c.rows, 1);
    assert_int_equal(c.labels[0], 1);
    bz_csv_free(&c);
    /* header = 0: a text first line is data, hence an error on line 1. */
    assert_int_equal(parse("label,p\n1,2\n", 1, 0, &c, &err), BZ_E_FORMAT);
    assert_true(tu_has(err.msg, "d.csv: line 1, column 1: label 'label' is not an integer"));
}

static void test_ragged_rows(void **state)
{
    (void)state;
    bz_csv c;
    bz_error err = {0};
    assert_int_equal(parse("label,a,b\n1,2,3\n4,5\n", 1, -1, &c, &err), BZ_E_FORMAT);
    assert_true(tu_has(err.msg, "d.csv: line 3: 2 fields, expected 3 as on line 1"));
    assert_null(c.x);
    assert_int_equal(parse("1,2,3\n1,2,3\n1,2,3,4,5\n", 1, -1, &c, &err), BZ_E_FORMAT);
    assert_true(tu_has(err.msg, "line 3: 5 fields, expected 3"));
    /* A trailing delimiter is an extra (empty) field. */
    assert_int_equal(parse("1,2\n1,2,\n", 1, -1, &c, &err), BZ_E_FORMAT);
    assert_true(tu_has(err.msg, "line 2: 3 fields, expected 2"));
}

static void test_non_numeric_and_non_finite(void **state)
{
    (void)state;
    bz_csv c;
    bz_error err = {0};
    assert_int_equal(parse("1,2,3\n4,5,abc\n", 1, -1, &c, &err), BZ_E_FORMAT);
    assert_true(tu_has(err.msg, "d.csv: line 2, column 3: 'abc' is not a number"));
    assert_int_equal(parse("1,2,3\n4,1.5x,3\n", 1, -1, &c, &err), BZ_E_FORMAT);
    assert_true(tu_has(err.msg, "line 2, column 2: '1.5x' is not a number"));
    assert_int_equal(parse("1,2,3\n4,,3\n", 1, -1, &c, &err), BZ_E_FORMAT);
    assert_true(tu_has(err.msg, "line 2, column 2: empty field"));
    assert_int_equal(parse("1,2\n4,NaN\n", 1, -1, &c, &err), BZ_E_FORMAT);
    assert_true(tu_has(err.msg, "line 2, column 2: value 'NaN' is not finite"));
    assert_int_equal(parse("1,2\n4,-inf\n", 1, -1, &c, &err), BZ_E_FORMAT);
    assert_true(tu_has(err.msg, "line 2, column 2: value '-inf' is not finite"));
    assert_int_equal(parse("1,2\n4,1e39\n", 1, -1, &c, &err), BZ_E_FORMAT);
    assert_true(tu_has(err.msg, "line 2, column 2: value '1e39' is outside the float32 range"));
    assert_int_equal(parse("1,2\n4,1e999\n", 1, -1, &c, &err), BZ_E_FORMAT);
    assert_true(tu_has(err.msg, "outside the float32 range"));
    /* A NUL byte inside a field. */
    const char nul[] = "1,2\n3,4\0x\n";
    assert_int_equal(bz_csv_parse(nul, sizeof nul - 1, "n.csv", NULL, &c, &err), BZ_E_FORMAT);
    assert_true(tu_has(err.msg, "n.csv: line 2, column 2: '4?x' is not a number"));
}

static void test_bad_labels(void **state)
{
    (void)state;
    bz_csv c;
    bz_error err = {0};
    assert_int_equal(parse("1,2\n2.5,3\n", 1, -1, &c, &err), BZ_E_FORMAT);
    assert_true(tu_has(err.msg, "line 2, column 1: label '2.5' is not an integer"));
    assert_int_equal(parse("1,2\n-1,3\n", 1, -1, &c, &err), BZ_E_FORMAT);
    assert_true(tu_has(err.msg, "line 2, column 1: label '-1' is negative"));
    assert_int_equal(parse("1,2\n70000,3\n", 1, -1, &c, &err), BZ_E_FORMAT);
    assert_true(tu_has(err.msg, "line 2, column 1: label '70000' is too large"));
    assert_int_equal(parse("1,2\n99999999999999999999,3\n", 1, -1, &c, &err), BZ_E_FORMAT);
    assert_true(tu_has(err.msg, "too large"));
    assert_int_equal(parse("5\n6\n", 1, -1, &c, &err), BZ_E_FORMAT);
    assert_true(tu_has(err.msg, "line 1: 1 column, expected a label column followed by"));
}

static void test_empty_and_header_only(void **state)
{
    (void)state;
    bz_csv c;
    bz_error err = {0};
    assert_int_equal(parse("", 1, -1, &c, &err), BZ_E_FORMAT);
    assert_true(tu_has(err.msg, "d.csv: empty file"));
    assert_int_equal(parse("\n \r\n\n", 1, -1, &c, &err), BZ_E_FORMAT);
    assert_true(tu_has(err.msg, "empty file"));
    assert_int_equal(parse("label,a\n", 1, -1, &c, &err), BZ_E_FORMAT);
    assert_true(tu_has(err.msg, "no data rows after the header on line 1"));
}

static void test_quotes(void **state)
{
    (void)state;
    bz_csv c;
    bz_error err = {0};
    assert_int_equal(parse("\"label\",\"a,b\"\n\"3\",\"4\"\n", 1, -1, &c, &err), BZ_OK);
    assert_int_equal(c.cols, 1);
    assert_int_equal(c.labels[0], 3);
    assert_true(c.x[0] == 4);
    bz_csv_free(&c);
    assert_int_equal(parse("1,2\n3,\"4\n", 1, -1, &c, &err), BZ_E_FORMAT);
    assert_true(tu_has(err.msg, "line 2, column 2: unterminated quoted field"));
    assert_int_equal(parse("1,2\n3,\"4\"x\n", 1, -1, &c, &err), BZ_E_FORMAT);
    assert_true(tu_has(err.msg, "line 2, column 2: unexpected character 'x' after a closing"));
}

static void test_file_gz_and_missing(void **state)
{
    const char *text = "label,a\n1,2\n0,3\n";
    char *p = tu_join(*state, "d.csv");
    tu_write_file(p, text, strlen(text));
    bz_csv c;
    bz_error err = {0};
    assert_int_equal(bz_csv_load(p, NULL, &c, &err), BZ_OK);
    assert_int_equal(c.rows, 2);
    bz_csv_free(&c);
    size_t gn;
    uint8_t *gz = tu_gzip(text, strlen(text), &gn);
    char *pg = tu_join(*state, "d.csv.gz");
    tu_write_file(pg, gz, gn);
    assert_int_equal(bz_csv_load(pg, NULL, &c, &err), BZ_OK);
    assert_int_equal(c.rows, 2);
    assert_true(c.x[1] == 3);
    bz_csv_free(&c);
    char *pm = tu_join(*state, "missing.csv");
    assert_int_equal(bz_csv_load(pm, NULL, &c, &err), BZ_E_IO);
    assert_true(tu_has(err.msg, pm));
    assert_true(tu_has(err.msg, "No such file"));
    free(pm);
    free(pg);
    free(gz);
    free(p);
}

static void test_writer_round_trip(void **state)
{
    char *p = tu_join(*state, "out.csv");
    const float x[6] = {0.1f, -2.5e-7f, 3.4028235e38f, 1.0f / 3.0f, 0.0f, -0.0f};
    const int32_t labels[2] = {4, 0};
    bz_error err = {0};
    assert_int_equal(bz_csv_write(p, x, 2, 3, labels, 1, &err), BZ_OK);
    size_t n;
    uint8_t *text = tu_read_file(p, &n);
    assert_non_null(text);
    assert_true(tu_has((char *)text, "label,x0,x1,x2\n4,"));
    free(text);
    bz_csv c;
    assert_int_equal(bz_csv_load(p, NULL, &c, &err), BZ_OK);
    assert_int_equal(c.rows, 2);
    assert_int_equal(c.cols, 3);
    assert_int_equal(c.had_header, 1);
    assert_memory_equal(c.x, x, sizeof x); /* bit-exact, sign of zero included */
    assert_int_equal(c.labels[0], 4);
    assert_int_equal(c.labels[1], 0);
    bz_csv_free(&c);

    /* Without labels or header. */
    assert_int_equal(bz_csv_write(p, x, 3, 2, NULL, 0, &err), BZ_OK);
    bz_csv_options o;
    bz_csv_options_init(&o);
    o.labels = 0;
    assert_int_equal(bz_csv_load(p, &o, &c, &err), BZ_OK);
    assert_int_equal(c.rows, 3);
    assert_int_equal(c.had_header, 0);
    assert_memory_equal(c.x, x, sizeof x);
    bz_csv_free(&c);

    float bad[2] = {1.0f, NAN};
    assert_int_equal(bz_csv_write(p, bad, 1, 2, NULL, 0, &err), BZ_E_INVALID_ARG);
    assert_true(tu_has(err.msg, "row 0, column 1 is not finite"));
    assert_int_equal(tu_count_temp_files(*state), 0);
    free(p);
}

static void test_robust_to_corruption(void **state)
{
    (void)state;
    const char *text = "label,a,b\n1,2.5,\"3\"\r\n0,1e3,-4\n";
    size_t n = strlen(text);
    bz_csv c;
    bz_error err;
    char *m = malloc(n);
    for (size_t len = 0; len <= n; len++) {
        memcpy(m, text, len);
        bz_status st = bz_csv_parse(m, len, "cut", NULL, &c, &err);
        assert_true(st == BZ_OK || st == BZ_E_FORMAT);
        bz_csv_free(&c);
    }
    uint64_t rng = 7;
    for (int it = 0; it < 20000; it++) {
        memcpy(m, text, n);
        int k = 1 + (int)(tu_rand(&rng) % 3);
        for (int f = 0; f < k; f++)
            m[tu_rand(&rng) % n] = (char)(tu_rand(&rng) & 0xff);
        bz_status st = bz_csv_parse(m, n, "fuzz", NULL, &c, &err);
        assert_true(st == BZ_OK || st == BZ_E_FORMAT);
        if (st == BZ_OK)
            for (size_t i = 0; i < c.rows * c.cols; i++)
                assert_true(isfinite(c.x[i]));
        bz_csv_free(&c);
    }
    free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_header_labels_crlf_bom),
        cmocka_unit_test(test_no_header_no_trailing_newline),
        cmocka_unit_test(test_without_labels),
        cmocka_unit_test(test_forced_header_modes),
        cmocka_unit_test(test_ragged_rows),
        cmocka_unit_test(test_non_numeric_and_non_finite),
        cmocka_unit_test(test_bad_labels),
        cmocka_unit_test(test_empty_and_header_only),
        cmocka_unit_test(test_quotes),
        cmocka_unit_test_setup_teardown(test_file_gz_and_missing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_writer_round_trip, setup, teardown),
        cmocka_unit_test(test_robust_to_corruption),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
