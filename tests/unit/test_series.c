/*
 * Time-series files without a device (src/io/series.c): CSV with and
 * without a header, a time column dropped when asked or named, .npy of one
 * and two dimensions; refusals naming the file and the line (ragged rows,
 * NaN, empty fields) or the row and column (non-finite .npy values), and
 * of arrays of other shapes.
 */
#include "io/npy.h"
#include "io/series.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

static char dir[64];

static const char *path_of(const char *name)
{
    static char p[160];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    return p;
}

static const char *write_text(const char *name, const char *text)
{
    const char *p = path_of(name);
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    return p;
}

static void refused(const char *path, bool time_column, const char *needle)
{
    bz_series s;
    bz_error err = {0};
    assert_int_not_equal(bz_series_load(path, time_column, &s, &err), BZ_OK);
    print_message("refused: %s\n", err.msg);
    assert_non_null(strstr(err.msg, path));
    assert_non_null(strstr(err.msg, needle));
    assert_null(s.x);
}

static void test_csv(void **state)
{
    (void)state;
    bz_series s;
    bz_error err = {0};
    /* header naming the time column: dropped by itself */
    const char *p = write_text("a.csv", "year,x,y\n1700,1.5,2\n1701,3,-4e1\n1702,5,6\n");
    assert_int_equal(bz_series_load(p, false, &s, &err), BZ_OK);
    assert_int_equal(s.rows, 3);
    assert_int_equal(s.cols, 2);
    assert_true(s.had_header && s.dropped_time);
    assert_true(s.x[0] == 1.5f && s.x[3] == -40.0f && s.x[5] == 6.0f);
    bz_series_free(&s);
    /* dates in a time column, asked for; no header */
    p = write_text("b.csv", "2020-01-01,1\n2020-01-02,2\n\"2020-01-03\",3\n");
    assert_int_equal(bz_series_load(p, true, &s, &err), BZ_OK);
    assert_int_equal(s.rows, 3);
    assert_int_equal(s.cols, 1);
    assert_true(s.x[2] == 3.0f);
    bz_series_free(&s);
    /* no time column: all columns are variables */
    p = write_text("c.csv", "a,b\n1,2\n3,4\n");
    assert_int_equal(bz_series_load(p, false, &s, &err), BZ_OK);
    assert_int_equal(s.cols, 2);
    assert_false(s.dropped_time);
    bz_series_free(&s);
    refused(write_text("ragged.csv", "a,b\n1,2\n3\n4,5\n"), false, "line 3");
    refused(write_text("nan.csv", "1,2\n3,nan\n4,5\n"), false, "line 2");
    refused(write_text("inf.csv", "t,x\n1,2\n2,inf\n"), false, "line 3");
    refused(write_text("empty.csv", "1,\n2,3\n"), false, "line 1");
    refused(write_text("none.csv", "a,b\n"), false, "no data rows");
}

static void test_npy(void **state)
{
    (void)state;
    bz_series s;
    bz_error err = {0};
    float x[6] = {1, 2, 3, 4, 5, 6};
    size_t one[1] = {6}, two[2] = {3, 2}, three[3] = {1, 3, 2};
    const char *p = path_of("one.npy");
    assert_int_equal(bz_npy_write_f32(p, x, 1, one, &err), BZ_OK);
    assert_int_equal(bz_series_load(p, false, &s, &err), BZ_OK);
    assert_true(s.rows == 6 && s.cols == 1 && s.x[5] == 6.0f);
    bz_series_free(&s);
    p = path_of("two.npy");
    assert_int_equal(bz_npy_write_f32(p, x, 2, two, &err), BZ_OK);
    assert_int_equal(bz_series_load(p, false, &s, &err), BZ_OK);
    assert_true(s.rows == 3 && s.cols == 2 && s.x[3] == 4.0f);
    bz_series_free(&s);
    p = path_of("three.npy");
    assert_int_equal(bz_npy_write_f32(p, x, 3, three, &err), BZ_OK);
    refused(p, false, "1-D or 2-D");
    /* the writer refuses NaN, so the file is made by hand: a v1.0 header */
    const char hdr[] = "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 2), }";
    char head[128];
    size_t hl = strlen(hdr), total = 10 + hl + 1;
    size_t pad = (64 - total % 64) % 64;
    memcpy(head, "\x93NUMPY\x01\x00", 8);
    head[8] = (char)((hl + pad + 1) & 0xff);
    head[9] = (char)((hl + pad + 1) >> 8);
    memcpy(head + 10, hdr, hl);
    memset(head + 10 + hl, ' ', pad);
    head[10 + hl + pad] = '\n';
    x[3] = NAN;
    p = path_of("nan.npy");
    FILE *f = fopen(p, "wb");
    assert_non_null(f);
    fwrite(head, 1, 10 + hl + pad + 1, f);
    fwrite(x, sizeof *x, 6, f);
    fclose(f);
    refused(p, false, "row 2, column 2");
}

int main(void)
{
    snprintf(dir, sizeof dir, "/tmp/bz-series-XXXXXX");
    if (!mkdtemp(dir))
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_csv),
        cmocka_unit_test(test_npy),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    const char *names[] = {"a.csv", "b.csv", "c.csv", "ragged.csv", "nan.csv", "inf.csv",
                           "empty.csv", "none.csv", "one.npy", "two.npy", "three.npy",
                           "nan.npy"};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++)
        unlink(path_of(names[i]));
    rmdir(dir);
    return rc;
}
