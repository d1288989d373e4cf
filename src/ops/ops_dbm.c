#include "ops/ops_dbm.h"
#include "ops/launch.h"

#include <limits.h>
#include <stdio.h>

bz_status bz_op_dbm_mf_update(bz_context *ctx, bz_buf *mu, bz_buf *delta, const bz_buf *a,
                              const bz_buf *b, const bz_buf *bias, size_t rows, size_t cols)
{
    const char *n = "dbm_mf_update";
    size_t e = rows * cols;
    CHECK(bz_ops_fits(ctx, n, mu, e));
    CHECK(bz_ops_fits(ctx, n, delta, e));
    CHECK(bz_ops_fits(ctx, n, a, e));
    CHECK(bz_ops_fits(ctx, n, bias, cols));
    if (b)
        CHECK(bz_ops_fits(ctx, n, b, e));
    RUN_ROWS(n, rows, cols, A_BUF(mu), A_BUF(delta), A_BUF(a), A_BUF(b ? b : a), A_BUF(bias), A_U32(rows),
          A_U32(cols), A_U32(b != NULL));
}

bz_status bz_op_dbm_sample_layer(bz_context *ctx, bz_buf *sample, const bz_buf *a,
                                 const bz_buf *b, const bz_buf *bias, const bz_buf *base,
                                 size_t rows, size_t cols, float beta, bz_rng_pos pos)
{
    const char *n = "dbm_sample_layer";
    size_t e = rows * cols;
    CHECK(bz_ops_fits(ctx, n, sample, e));
    CHECK(bz_ops_fits(ctx, n, a, e));
    CHECK(bz_ops_fits(ctx, n, bias, cols));
    if (b)
        CHECK(bz_ops_fits(ctx, n, b, e));
    if (base)
        CHECK(bz_ops_fits(ctx, n, base, cols));
    if (sample == a || sample == b)
        return bz_fail(ctx, BZ_E_INVALID_ARG, "%s: the sample may not alias an input", n);
    unsigned flags = (b ? 1u : 0u) | (base ? 2u : 0u);
    RUN_ROWS(n, rows, cols, A_BUF(sample), A_BUF(a), A_BUF(b ? b : a), A_BUF(bias), A_BUF(base ? base : bias),
          A_U32(rows), A_U32(cols), A_U32(flags), A_F32(beta), A_U64(pos.seed), A_U64(pos.stream),
          A_U64(pos.offset));
}

bz_status bz_op_dbm_rows_dot_acc(bz_context *ctx, bz_buf *acc, const bz_buf *x, const bz_buf *y,
                                 bool y_vector, size_t rows, size_t cols, float scale)
{
    const char *n = "dbm_rows_dot_acc";
    CHECK(bz_ops_fits(ctx, n, acc, rows));
    CHECK(bz_ops_fits(ctx, n, x, rows * cols));
    CHECK(bz_ops_fits(ctx, n, y, y_vector ? cols : rows * cols));
    RUN1D(n, rows, A_BUF(acc), A_BUF(x), A_BUF(y), A_U32(rows), A_U32(cols), A_U32(!y_vector),
          A_F32(scale));
}

bz_status bz_op_dbm_rows_entropy_acc(bz_context *ctx, bz_buf *acc, const bz_buf *mu, size_t rows,
                                     size_t cols)
{
    const char *n = "dbm_rows_entropy_acc";
    CHECK(bz_ops_fits(ctx, n, acc, rows));
    CHECK(bz_ops_fits(ctx, n, mu, rows * cols));
    RUN1D(n, rows, A_BUF(acc), A_BUF(mu), A_U32(rows), A_U32(cols));
}

bz_status bz_op_dbm_rows_absmax_acc(bz_context *ctx, bz_buf *acc, const bz_buf *x, size_t rows,
                                    size_t cols)
{
    const char *n = "dbm_rows_absmax_acc";
    CHECK(bz_ops_fits(ctx, n, acc, rows));
    CHECK(bz_ops_fits(ctx, n, x, rows * cols));
    RUN1D(n, rows, A_BUF(acc), A_BUF(x), A_U32(rows), A_U32(cols));
}

static bz_status ais_terms(bz_context *ctx, bz_buf *terms, const bz_buf *x, const bz_buf *bias,
                           const bz_buf *base, size_t rows, size_t cols, unsigned flags,
                           float beta_prev, float beta)
{
    RUN_ROWS("dbm_ais_terms", rows, cols, A_BUF(terms), A_BUF(x), A_BUF(bias), A_BUF(base),
             A_U32(rows), A_U32(cols), A_U32(flags), A_F32(beta_prev), A_F32(beta));
}

static bz_status ais_rows_kahan(bz_context *ctx, bz_buf *sum, bz_buf *comp, const bz_buf *terms,
                                size_t rows, size_t cols)
{
    RUN1D("dbm_ais_rows_kahan", rows, A_BUF(sum), A_BUF(comp), A_BUF(terms), A_U32(rows),
          A_U32(cols));
}

bz_status bz_op_dbm_ais_logw(bz_context *ctx, bz_buf *sum, bz_buf *comp, bz_buf *terms,
                             const bz_buf *x, const bz_buf *bias, const bz_buf *base, bool state,
                             bool absolute, size_t rows, size_t cols, float beta_prev,
                             float beta)
{
    const char *n = "dbm_ais_logw";
    CHECK(bz_ops_fits(ctx, n, sum, rows));
    CHECK(bz_ops_fits(ctx, n, comp, rows));
    CHECK(bz_ops_fits(ctx, n, terms, rows * cols));
    CHECK(bz_ops_fits(ctx, n, x, rows * cols));
    CHECK(bz_ops_fits(ctx, n, bias, cols));
    if (base)
        CHECK(bz_ops_fits(ctx, n, base, cols));
    unsigned flags = (state ? 1u : 0u) | (base ? 2u : 0u) | (absolute ? 4u : 0u);
    CHECK(ais_terms(ctx, terms, x, bias, base ? base : bias, rows, cols, flags, beta_prev, beta));
    return ais_rows_kahan(ctx, sum, comp, terms, rows, cols);
}

static bz_status flip_terms(bz_context *ctx, bz_buf *terms, const bz_buf *h, const bz_buf *dx,
                            bz_buf *zlo, bz_buf *zhi, const bz_buf *wlo, const bz_buf *whi,
                            const bz_buf *blo, const bz_buf *bhi, const bz_buf *base_lo,
                            size_t rows, size_t n, size_t nlo, size_t nhi, unsigned flags,
                            size_t j, size_t jprev, float beta)
{
    RUN_ROWS("dbm_ais_flip_terms", rows, nlo + nhi, A_BUF(terms), A_BUF(h), A_BUF(dx), A_BUF(zlo),
             A_BUF(zhi), A_BUF(wlo), A_BUF(whi), A_BUF(blo), A_BUF(bhi), A_BUF(base_lo),
             A_U32(rows), A_U32(n), A_U32(nlo), A_U32(nhi), A_U32(flags), A_U32(j), A_U32(jprev),
             A_F32(beta));
}

static bz_status flip_draw(bz_context *ctx, bz_buf *h, bz_buf *dx, const bz_buf *terms,
                           const bz_buf *bias, size_t rows, size_t n, size_t cols, size_t j,
                           float beta, bz_rng_pos pos)
{
    RUN1D("dbm_ais_flip_draw", rows, A_BUF(h), A_BUF(dx), A_BUF(terms), A_BUF(bias), A_U32(rows),
          A_U32(n), A_U32(cols), A_U32(j), A_F32(beta), A_U64(pos.seed), A_U64(pos.stream),
          A_U64(pos.offset));
}

bz_status bz_op_dbm_ais_collapsed_sweep(bz_context *ctx, bz_buf *h, bz_buf *zlo, bz_buf *zhi,
                                        const bz_buf *wlo_t, const bz_buf *whi,
                                        const bz_buf *bias, const bz_buf *blo, const bz_buf *bhi,
                                        const bz_buf *base_lo, bz_buf *terms, bz_buf *dx,
                                        size_t rows, size_t n, size_t nlo, size_t nhi, float beta,
                                        bz_rng_pos pos)
{
    const char *name = "dbm_ais_collapsed_sweep";
    if (!zhi)
        nhi = 0;
    CHECK(bz_ops_fits(ctx, name, h, rows * n));
    CHECK(bz_ops_fits(ctx, name, zlo, rows * nlo));
    CHECK(bz_ops_fits(ctx, name, wlo_t, n * nlo));
    CHECK(bz_ops_fits(ctx, name, bias, n));
    CHECK(bz_ops_fits(ctx, name, blo, nlo));
    CHECK(bz_ops_fits(ctx, name, terms, rows * (nlo + nhi)));
    CHECK(bz_ops_fits(ctx, name, dx, rows));
    if (zhi || whi || bhi) {
        if (!zhi || !whi || !bhi)
            return bz_fail(ctx, BZ_E_INVALID_ARG, "%s: zhi, whi and bhi go together", name);
        CHECK(bz_ops_fits(ctx, name, zhi, rows * nhi));
        CHECK(bz_ops_fits(ctx, name, whi, n * nhi));
        CHECK(bz_ops_fits(ctx, name, bhi, nhi));
    }
    if (base_lo)
        CHECK(bz_ops_fits(ctx, name, base_lo, nlo));
    unsigned flags = (zhi ? 1u : 0u) | (base_lo ? 2u : 0u);
    for (size_t j = 0; j <= n; j++) {
        CHECK(flip_terms(ctx, terms, h, dx, zlo, zhi ? zhi : zlo, wlo_t, whi ? whi : wlo_t, blo,
                         bhi ? bhi : blo, base_lo ? base_lo : blo, rows, n, nlo, nhi, flags, j,
                         j ? j - 1 : n, beta));
        if (j < n)
            CHECK(flip_draw(ctx, h, dx, terms, bias, rows, n, nlo + nhi, j, beta, pos));
    }
    return BZ_OK;
}

bz_status bz_op_dbm_ais_propose(bz_context *ctx, bz_buf *hp, const bz_buf *mu, size_t rows,
                                size_t cols, size_t P, size_t mu_cols, size_t col0,
                                uint64_t seed, uint64_t row_stream, uint64_t stream)
{
    const char *n = "dbm_ais_propose";
    CHECK(bz_ops_fits(ctx, n, hp, rows * cols));
    CHECK(bz_ops_fits(ctx, n, mu, P * mu_cols));
    if (P == 0 || col0 + cols > mu_cols)
        return bz_fail(ctx, BZ_E_INVALID_ARG, "%s: columns %zu..%zu of %zu, %zu rows", n, col0,
                       col0 + cols, mu_cols, P);
    RUN_ROWS(n, rows, cols, A_BUF(hp), A_BUF(mu), A_U32(rows), A_U32(cols), A_U32(P),
             A_U32(mu_cols), A_U32(col0), A_U64(seed), A_U64(row_stream), A_U64(stream));
}

bz_status bz_op_dbm_ais_mh_accept(bz_context *ctx, bz_buf *acc, const bz_buf *lp,
                                  const bz_buf *lpp, const bz_buf *g, const bz_buf *gp,
                                  const bz_buf *c, size_t rows, size_t P, uint64_t seed,
                                  uint64_t stream)
{
    const char *n = "dbm_ais_mh_accept";
    CHECK(bz_ops_fits(ctx, n, acc, rows));
    CHECK(bz_ops_fits(ctx, n, lp, rows));
    CHECK(bz_ops_fits(ctx, n, lpp, rows));
    CHECK(bz_ops_fits(ctx, n, g, rows * P));
    CHECK(bz_ops_fits(ctx, n, gp, rows * P));
    CHECK(bz_ops_fits(ctx, n, c, P));
    RUN1D(n, rows, A_BUF(acc), A_BUF(lp), A_BUF(lpp), A_BUF(g), A_BUF(gp), A_BUF(c), A_U32(rows),
          A_U32(P), A_U64(seed), A_U64(stream));
}

bz_status bz_op_dbm_ais_take_rows(bz_context *ctx, bz_buf *x, const bz_buf *xp,
                                  const bz_buf *acc, size_t rows, size_t cols)
{
    const char *n = "dbm_ais_take_rows";
    CHECK(bz_ops_fits(ctx, n, x, rows * cols));
    CHECK(bz_ops_fits(ctx, n, xp, rows * cols));
    CHECK(bz_ops_fits(ctx, n, acc, rows));
    RUN_ROWS(n, rows, cols, A_BUF(x), A_BUF(xp), A_BUF(acc), A_U32(rows), A_U32(cols));
}
