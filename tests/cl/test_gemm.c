/*
 * SGEMM through CLBlast against the double-precision host reference, for all
 * four transpose combinations, odd shapes, non-trivial alpha/beta, offsets
 * and padded leading dimensions. Margin: |c - ref| <= 1e-5 * sqrt(k) * (sum
 * of |a||b| terms) + 1e-6, a bound float accumulation meets comfortably.
 */
#include "../common/cl_fixture.h"
#include "blas/gemm.h"
#include "ref/reference.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

static bz_context *ctx;

static void check_case(bool ta, bool tb, size_t m, size_t n, size_t k, float alpha, float beta,
                       size_t off, size_t pad)
{
    size_t a_rows = ta ? k : m, a_cols = ta ? m : k;
    size_t b_rows = tb ? n : k, b_cols = tb ? k : n;
    size_t lda = a_cols + pad, ldb = b_cols + pad, ldc = n + pad;
    size_t na = off + a_rows * lda, nb = off + b_rows * ldb, nc = off + m * ldc;
    float *a = malloc(na * 4), *b = malloc(nb * 4), *c = malloc(nc * 4), *r = malloc(nc * 4);
    float *absr = malloc(nc * 4), *aa = malloc(na * 4), *ab = malloc(nb * 4);
    assert_non_null(a);
    assert_non_null(absr);
    unsigned long long s = m * 131 + n * 17 + k;
    for (size_t i = 0; i < na; i++)
        aa[i] = fabsf(a[i] = bz_test_rand(&s) * 2 - 1);
    for (size_t i = 0; i < nb; i++)
        ab[i] = fabsf(b[i] = bz_test_rand(&s) * 2 - 1);
    for (size_t i = 0; i < nc; i++) {
        c[i] = r[i] = bz_test_rand(&s) * 2 - 1;
        absr[i] = fabsf(c[i]);
    }
    bz_buf da, db, dc;
    assert_int_equal(bz_buf_alloc(ctx, &da, na), BZ_OK);
    assert_int_equal(bz_buf_alloc(ctx, &db, nb), BZ_OK);
    assert_int_equal(bz_buf_alloc(ctx, &dc, nc), BZ_OK);
    assert_int_equal(bz_buf_write(ctx, &da, 0, a, na), BZ_OK);
    assert_int_equal(bz_buf_write(ctx, &db, 0, b, nb), BZ_OK);
    assert_int_equal(bz_buf_write(ctx, &dc, 0, c, nc), BZ_OK);
    bz_status st = bz_sgemm(ctx, ta, tb, m, n, k, alpha, &da, off, lda, &db, off, ldb, beta, &dc,
                            off, ldc);
    if (st)
        fail_msg("sgemm failed: %s", bz_last_error(ctx));
    assert_int_equal(bz_buf_read(ctx, &dc, 0, c, nc), BZ_OK);
    bz_ref_sgemm(ta, tb, m, n, k, alpha, a + off, lda, b + off, ldb, beta, r + off, ldc);
    /* Magnitude bound from |A||B|. */
    bz_ref_sgemm(ta, tb, m, n, k, fabsf(alpha), aa + off, lda, ab + off, ldb, fabsf(beta),
                 absr + off, ldc);
    for (size_t i = 0; i < m; i++)
        for (size_t j = 0; j < ldc; j++) {
            size_t p = off + i * ldc + j;
            double tol = j < n ? 1e-5 * sqrt((double)k + 1) * absr[p] + 1e-6 : 0.0;
            if (!(fabs((double)c[p] - r[p]) <= tol))
                fail_msg("sgemm %c%c %zux%zux%zu off %zu pad %zu: C[%zu,%zu] = %.8g, ref %.8g",
                         ta ? 'T' : 'N', tb ? 'T' : 'N', m, n, k, off, pad, i, j, (double)c[p],
                         (double)r[p]);
        }
    /* Nothing before the offset was touched. */
    for (size_t i = 0; i < off; i++)
        assert_true(c[i] == r[i]);
    bz_buf_release(&da);
    bz_buf_release(&db);
    bz_buf_release(&dc);
    free(a);
    free(b);
    free(c);
    free(r);
    free(absr);
    free(aa);
    free(ab);
}

static void test_transposes_odd_shapes(void **state)
{
    (void)state;
    const size_t dims[] = {1, 7, 63, 100, 257};
    for (int t = 0; t < 4; t++)
        for (size_t i = 0; i < 5; i++)
            for (size_t j = 0; j < 5; j++) {
                size_t m = dims[i], n = dims[j], k = dims[(i + 2 * j + t) % 5];
                check_case(t & 1, t & 2, m, n, k, 0.75f, -0.5f, (i + j) % 3 * 5, (t + i) % 2 * 3);
            }
}

static void test_rbm_shapes(void **state)
{
    (void)state;
    check_case(false, false, 100, 500, 784, 1.0f, 0.0f, 0, 0);
    check_case(false, true, 100, 784, 500, 1.0f, 0.0f, 0, 0);
    check_case(true, false, 784, 500, 200, 0.01f, 0.9f, 0, 0);
}

static void test_k_zero_and_errors(void **state)
{
    (void)state;
    /* k = 0 scales C by beta, as BLAS defines it. */
    check_case(false, false, 5, 6, 0, 1.0f, 0.5f, 0, 0);
    bz_buf a, b, c;
    assert_int_equal(bz_buf_alloc(ctx, &a, 10), BZ_OK);
    assert_int_equal(bz_buf_alloc(ctx, &b, 10), BZ_OK);
    assert_int_equal(bz_buf_alloc(ctx, &c, 10), BZ_OK);
    assert_int_equal(bz_sgemm(ctx, false, false, 4, 4, 4, 1, &a, 0, 4, &b, 0, 4, 0, &c, 0, 4),
                     BZ_E_SHAPE);
    assert_non_null(strstr(bz_last_error(ctx), "4x4x4"));
    bz_buf_release(&a);
    bz_buf_release(&b);
    bz_buf_release(&c);
}

int main(void)
{
    ctx = bz_test_open_context();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_transposes_odd_shapes),
        cmocka_unit_test(test_rbm_shapes),
        cmocka_unit_test(test_k_zero_and_errors),
    };
    int r = cmocka_run_group_tests(tests, NULL, NULL);
    bz_context_free(ctx);
    return r;
}
