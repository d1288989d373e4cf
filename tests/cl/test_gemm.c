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

/* One product: host operands, their device copies, and the reference. */
typedef struct gemm_case {
    bool ta, tb;
    size_t m, n, k, off, pad, lda, ldb, ldc, na, nb, nc;
    float alpha, beta;
    float *a, *b, *c, *r, *absr, *aa, *ab;
    bz_buf da, db, dc;
} gemm_case;

static void case_prepare(gemm_case *g, bool ta, bool tb, size_t m, size_t n, size_t k,
                         float alpha, float beta, size_t off, size_t pad)
{
    *g = (gemm_case){.ta = ta, .tb = tb, .m = m, .n = n, .k = k, .off = off, .pad = pad,
                     .alpha = alpha, .beta = beta};
    size_t a_rows = ta ? k : m, a_cols = ta ? m : k;
    size_t b_rows = tb ? n : k, b_cols = tb ? k : n;
    g->lda = a_cols + pad;
    g->ldb = b_cols + pad;
    g->ldc = n + pad;
    g->na = off + a_rows * g->lda;
    g->nb = off + b_rows * g->ldb;
    g->nc = off + m * g->ldc;
    g->a = malloc(g->na * 4);
    g->b = malloc(g->nb * 4);
    g->c = malloc(g->nc * 4);
    g->r = malloc(g->nc * 4);
    g->absr = malloc(g->nc * 4);
    g->aa = malloc(g->na * 4);
    g->ab = malloc(g->nb * 4);
    assert_true(g->a && g->b && g->c && g->r && g->absr && g->aa && g->ab);
    unsigned long long s = m * 131 + n * 17 + k;
    for (size_t i = 0; i < g->na; i++)
        g->aa[i] = fabsf(g->a[i] = bz_test_rand(&s) * 2 - 1);
    for (size_t i = 0; i < g->nb; i++)
        g->ab[i] = fabsf(g->b[i] = bz_test_rand(&s) * 2 - 1);
    for (size_t i = 0; i < g->nc; i++) {
        g->c[i] = g->r[i] = bz_test_rand(&s) * 2 - 1;
        g->absr[i] = fabsf(g->c[i]);
    }
    assert_int_equal(bz_buf_alloc(ctx, &g->da, g->na), BZ_OK);
    assert_int_equal(bz_buf_alloc(ctx, &g->db, g->nb), BZ_OK);
    assert_int_equal(bz_buf_alloc(ctx, &g->dc, g->nc), BZ_OK);
    assert_int_equal(bz_buf_write(ctx, &g->da, 0, g->a, g->na), BZ_OK);
    assert_int_equal(bz_buf_write(ctx, &g->db, 0, g->b, g->nb), BZ_OK);
    assert_int_equal(bz_buf_write(ctx, &g->dc, 0, g->c, g->nc), BZ_OK);
}

/* Enqueues the product; nothing waits for it. */
static void case_run(gemm_case *g)
{
    bz_status st = bz_sgemm(ctx, g->ta, g->tb, g->m, g->n, g->k, g->alpha, &g->da, g->off, g->lda,
                            &g->db, g->off, g->ldb, g->beta, &g->dc, g->off, g->ldc);
    if (st)
        fail_msg("sgemm failed: %s", bz_last_error(ctx));
}

static void case_verify(gemm_case *g)
{
    const size_t m = g->m, n = g->n, k = g->k, off = g->off, ldc = g->ldc;
    assert_int_equal(bz_buf_read(ctx, &g->dc, 0, g->c, g->nc), BZ_OK);
    bz_ref_sgemm(g->ta, g->tb, m, n, k, g->alpha, g->a + off, g->lda, g->b + off, g->ldb, g->beta,
                 g->r + off, ldc);
    /* Magnitude bound from |A||B|. */
    bz_ref_sgemm(g->ta, g->tb, m, n, k, fabsf(g->alpha), g->aa + off, g->lda, g->ab + off,
                 g->ldb, fabsf(g->beta), g->absr + off, ldc);
    for (size_t i = 0; i < m; i++)
        for (size_t j = 0; j < ldc; j++) {
            size_t p = off + i * ldc + j;
            double tol = j < n ? 1e-5 * sqrt((double)k + 1) * g->absr[p] + 1e-6 : 0.0;
            if (!(fabs((double)g->c[p] - g->r[p]) <= tol))
                fail_msg("sgemm %c%c %zux%zux%zu off %zu pad %zu: C[%zu,%zu] = %.8g, ref %.8g",
                         g->ta ? 'T' : 'N', g->tb ? 'T' : 'N', m, n, k, off, g->pad, i, j,
                         (double)g->c[p], (double)g->r[p]);
        }
    /* Nothing before the offset was touched. */
    for (size_t i = 0; i < off; i++)
        assert_true(g->c[i] == g->r[i]);
    bz_buf_release(&g->da);
    bz_buf_release(&g->db);
    bz_buf_release(&g->dc);
    free(g->a);
    free(g->b);
    free(g->c);
    free(g->r);
    free(g->absr);
    free(g->aa);
    free(g->ab);
}

static void check_case(bool ta, bool tb, size_t m, size_t n, size_t k, float alpha, float beta,
                       size_t off, size_t pad)
{
    gemm_case g;
    case_prepare(&g, ta, tb, m, n, k, alpha, beta, off, pad);
    case_run(&g);
    case_verify(&g);
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

/* Products queued back to back, none waited for, that copy operands into
 * CLBlast's temporary buffer (transposes, padding to the tiles; on the
 * shipped POCL tuning every product from 270^3 multiply-adds up runs the
 * indirect kernel): one buffer serves them all, and it grows between the
 * first and the second while the first may still be queued. */
static void test_queued_products_share_temp(void **state)
{
    (void)state;
    gemm_case g[4];
    case_prepare(&g[0], false, true, 300, 301, 302, 1.0f, 0.0f, 0, 0);
    case_prepare(&g[1], true, false, 420, 310, 330, 0.5f, 0.9f, 3, 1);
    case_prepare(&g[2], true, true, 301, 299, 300, 1.0f, -1.0f, 0, 2);
    case_prepare(&g[3], false, true, 300, 301, 302, 1.0f, 0.0f, 0, 0);
    for (size_t i = 0; i < 4; i++)
        case_run(&g[i]);
    for (size_t i = 0; i < 4; i++)
        case_verify(&g[i]);
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
        cmocka_unit_test(test_queued_products_share_temp),
        cmocka_unit_test(test_k_zero_and_errors),
    };
    int r = cmocka_run_group_tests(tests, NULL, NULL);
    bz_context_free(ctx);
    return r;
}
