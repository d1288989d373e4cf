/*
 * Ratings files (io/ratings.h): the four layouts, half-star scales, dense
 * ids, the seeded split, and refusal of bad lines, ratings off the scale,
 * duplicate pairs and ids beyond 32 bits with the file and line named.
 */
#include "io/ratings.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

static bz_status parse(const char *text, int with_rating, bz_ratings *r, bz_error *err)
{
    return bz_ratings_parse(text, strlen(text), "r.txt", with_rating, r, err);
}

static void expect_fail(const char *text, int with_rating, const char *what)
{
    bz_ratings r;
    bz_error err = {0};
    assert_int_not_equal(parse(text, with_rating, &r, &err), BZ_OK);
    if (!strstr(err.msg, what))
        fail_msg("'%s' not in '%s'", what, err.msg);
    assert_null(r.user);
}

static void test_layouts(void **st)
{
    (void)st;
    const char *texts[] = {
        "196\t242\t3\t881250949\n186\t302\t3\t891717742\n",     /* u.data */
        "196::242::3::978300760\r\n186::302::3::978302109\r\n", /* ratings.dat */
        "userId,movieId,rating,timestamp\n196,242,3.0,964982703\n186,302,3.0,1\n",
        "196, 242, 3\n\n186,302,3\n", /* plain CSV, blank line */
    };
    for (size_t k = 0; k < 4; k++) {
        bz_ratings r;
        bz_error err = {0};
        if (parse(texts[k], 1, &r, &err) != BZ_OK)
            fail_msg("layout %zu: %s", k, err.msg);
        assert_int_equal(r.n, 2);
        assert_int_equal(r.user[1], 186);
        assert_int_equal(r.item[1], 302);
        assert_true(r.value[0] == 3.0f);
        bz_ratings_free(&r);
    }
    /* pairs: the rating field is optional */
    bz_ratings r;
    bz_error err = {0};
    assert_int_equal(parse("1,10\n2,20,4\n", 0, &r, &err), BZ_OK);
    assert_int_equal(r.n, 2);
    assert_null(r.value);
    assert_int_equal(r.item[1], 20);
    bz_ratings_free(&r);
    /* the largest 32-bit id */
    assert_int_equal(parse("4294967295,0,5\n", 1, &r, &err), BZ_OK);
    assert_int_equal(r.user[0], 4294967295u);
    bz_ratings_free(&r);
}

static void test_scales(void **st)
{
    (void)st;
    bz_ratings r;
    bz_error err = {0};
    assert_int_equal(parse("1,1,0.5\n1,2,5\n2,1,3.5\n", 1, &r, &err), BZ_OK);
    bz_rating_scale s;
    assert_int_equal(bz_rating_scale_guess(&r, &s, &err), BZ_OK);
    assert_int_equal(s.classes, 10);
    assert_true(s.lo == 0.5f && s.step == 0.5f);
    uint8_t c[3];
    assert_int_equal(bz_ratings_classes(&r, &s, c, &err), BZ_OK);
    assert_int_equal(c[0], 0);
    assert_int_equal(c[1], 9);
    assert_int_equal(c[2], 6);
    /* on a 1..5 scale a half star is off the scale, with its line */
    assert_int_equal(bz_rating_scale_parse("1:5:1", &s, &err), BZ_OK);
    assert_int_equal(s.classes, 5);
    assert_int_equal(bz_ratings_classes(&r, &s, c, &err), BZ_E_FORMAT);
    assert_non_null(strstr(err.msg, "r.txt:1: rating 0.5 is outside the scale 1 to 5"));
    bz_ratings_free(&r);
    assert_int_equal(parse("1,1,4\n1,2,6\n", 1, &r, &err), BZ_OK);
    assert_int_equal(bz_ratings_classes(&r, &s, c, &err), BZ_E_FORMAT);
    assert_non_null(strstr(err.msg, "r.txt:2: rating 6"));
    bz_ratings_free(&r);
    assert_int_equal(parse("1,1,4\n1,2,0\n", 1, &r, &err), BZ_OK);
    assert_int_equal(bz_ratings_classes(&r, &s, c, &err), BZ_E_FORMAT);
    bz_ratings_free(&r);
    assert_int_not_equal(bz_rating_scale_parse("5:1:1", &s, &err), BZ_OK);
    assert_int_not_equal(bz_rating_scale_parse("1:5:0.3", &s, &err), BZ_OK);
    assert_int_not_equal(bz_rating_scale_parse("1:5", &s, &err), BZ_OK);
}

static void test_refusals(void **st)
{
    (void)st;
    expect_fail("1,2,3\n1,x,4\n", 1, "r.txt:2: item id 'x' is not an unsigned integer");
    expect_fail("1,2,3\n-1,3,4\n", 1, "r.txt:2: user id '-1'");
    expect_fail("1,2,3\n4294967296,3,4\n", 1, "r.txt:2: user id '4294967296' does not fit 32 bits");
    expect_fail("1\t2\t3\n1\t99999999999\t4\n", 1, "r.txt:2: item id '99999999999' does not fit");
    expect_fail("1,2,3\n1,3\n", 1, "r.txt:2: 2 fields where a rating needs at least 3");
    expect_fail("1,2,abc\n", 1, "r.txt:1: rating 'abc' is not a number");
    expect_fail("1,2,nan\n", 1, "is not a number");
    expect_fail("1,2,3\n5,6,1\n1,2,4\n", 1,
                "r.txt:3: user 1 and item 2 appear twice (first at line 1)");
    expect_fail("1::2::3\n1::2::4\n", 1, "appear twice");
    expect_fail("userId,movieId,rating\n", 1, "no ratings");
    expect_fail("", 1, "no ratings");
    bz_ratings r;
    bz_error err = {0};
    const char nul[] = "1,2,3\n1,\0002,3\n";
    assert_int_not_equal(bz_ratings_parse(nul, sizeof nul - 1, "n.csv", 1, &r, &err), BZ_OK);
    assert_non_null(strstr(err.msg, "n.csv:2: a NUL byte"));
    /* from a file: the path in the message */
    char path[] = "/tmp/bz-ratings-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "w");
    fputs("userId,movieId,rating,timestamp\n1,1,4.0,0\n2,1,9x,0\n", f);
    fclose(f);
    assert_int_equal(bz_ratings_read(path, 1, &r, &err), BZ_E_FORMAT);
    char want[64];
    snprintf(want, sizeof want, "%s:3: rating '9x'", path);
    assert_non_null(strstr(err.msg, want));
    unlink(path);
    assert_int_equal(bz_ratings_read(path, 1, &r, &err), BZ_E_IO);
    assert_non_null(strstr(err.msg, path));
}

static void test_ids_and_split(void **st)
{
    (void)st;
    uint32_t ids[6] = {30, 10, 20, 10, 4000000000u, 30}, *u;
    size_t n;
    bz_error err = {0};
    assert_int_equal(bz_ids_unique(ids, 6, &u, &n, &err), BZ_OK);
    assert_int_equal(n, 4);
    assert_int_equal(u[0], 10);
    assert_int_equal(u[3], 4000000000u);
    assert_int_equal(bz_ids_find(u, n, 20), 1);
    assert_int_equal(bz_ids_find(u, n, 4000000000u), 3);
    assert_int_equal(bz_ids_find(u, n, 25), -1);
    free(u);
    uint8_t a[1000], b[1000];
    bz_ratings_split(1000, 0.1, 7, a);
    bz_ratings_split(1000, 0.1, 7, b);
    assert_memory_equal(a, b, sizeof a);
    size_t test = 0;
    for (int i = 0; i < 1000; i++)
        test += !a[i];
    assert_int_equal(test, 100);
    bz_ratings_split(1000, 0.1, 8, b);
    assert_memory_not_equal(a, b, sizeof a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_layouts),
        cmocka_unit_test(test_scales),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_ids_and_split),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
