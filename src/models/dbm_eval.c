/*
 * How good a DBM is. AIS (Salakhutdinov & Hinton 2009, after Salakhutdinov &
 * Murray 2008) anneals from a base-rate model over the even layers (v, h2),
 * the odd layers (h1, h3) being summed out analytically:
 *   log p*_beta(x_even) = (1 - beta) v.a + beta sum_even x_l.b_l
 *                         + sum_odd sum_j softplus(beta (x_{l-1} W_{l-1} + x_{l+1} W_l^T + b_l)_j)
 * with the transition of a layer-parity Gibbs sweep at beta. The variational
 * lower bound on log p(v) is E_q[-E(v, h)] + H(q) - log Z with q the
 * mean-field posterior.
 */
#include "blas/gemm.h"
#include "engine/check.h"
#include "models/dbm.h"
#include "ref/reference.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static size_t widest(const bz_dbm *d)
{
    size_t w = 0;
    for (size_t l = 0; l <= d->L; l++)
        w = d->s[l] > w ? d->s[l] : w;
    return w;
}

/* out = x_{l-1} W_{l-1} + x_{l+1} W_l^T (whichever exist), rows x s[l]. */
static bz_status total_input(bz_dbm *d, size_t l, bz_buf *const *x, size_t rows, bz_buf *out)
{
    bz_context *c = d->ctx;
    float beta = 0.0f;
    if (l > 0) {
        CHECK(bz_sgemm(c, false, false, rows, d->s[l], d->s[l - 1], 1.0f, x[l - 1], 0,
                       d->s[l - 1], &d->W[l - 1], 0, d->s[l], 0.0f, out, 0, d->s[l]));
        beta = 1.0f;
    }
    if (l < d->L)
        CHECK(bz_sgemm(c, false, true, rows, d->s[l], d->s[l + 1], 1.0f, x[l + 1], 0,
                       d->s[l + 1], &d->W[l], 0, d->s[l + 1], beta, out, 0, d->s[l]));
    return BZ_OK;
}

/* Salakhutdinov & Murray's schedule shape (as for RBMs, rbm_eval.c). */
static double beta_at(unsigned k, unsigned K)
{
    double n1 = K * (500.0 / 14500.0), n2 = K * (4000.0 / 14500.0);
    double n3 = (double)K - n1 - n2;
    double x = (double)k;
    if (x <= n1)
        return 0.5 * x / n1;
    if (x <= n1 + n2)
        return 0.5 + 0.4 * (x - n1) / n2;
    return 0.9 + 0.1 * (x - n1 - n2) / n3;
}

bz_status bz_dbm_ais(bz_dbm *d, const float *base, size_t n_base, const bz_ais_options *o_in,
                     bz_ais_result *out)
{
    if (!d || !out || (base && n_base == 0))
        return BZ_E_INVALID_ARG;
    bz_context *c = d->ctx;
    bz_ais_options o;
    bz_ais_options_init(&o);
    if (o_in)
        o = *o_in;
    if (o.runs == 0 || o.betas < 10)
        return bz_fail(c, BZ_E_INVALID_ARG, "AIS needs at least 1 run and 10 temperatures");
    const size_t M = o.runs, L = d->L, nv = d->s[0], w = widest(d);
    float *ba = malloc(nv * sizeof *ba), *lw = malloc(M * sizeof *lw);
    /* X[l]: the chains' states; A[l]: the odd layers' total input at the
     * current even state (shared by the weight update and the sweep), A[0]
     * scratch for the even layers */
    bz_buf X[BZ_DBM_MAX_HIDDEN + 1] = {{0}}, A[BZ_DBM_MAX_HIDDEN + 1] = {{0}}, logw = {0},
           bA = {0};
    bz_buf *xs[BZ_DBM_MAX_HIDDEN + 1] = {0};
    bz_status st = BZ_OK;
    if (!ba || !lw) {
        st = bz_fail(c, BZ_E_NOMEM, "out of memory");
        goto done;
    }
    /* Base-rate model: visible biases from the smoothed data means, hidden
     * units uniform. */
    double log_za = 0;
    for (size_t l = 1; l <= L; l++)
        log_za += (double)d->s[l] * log(2.0);
    for (size_t i = 0; i < nv; i++) {
        double p = 0.5;
        if (base) {
            double s = 0;
            for (size_t k = 0; k < n_base; k++)
                s += base[k * nv + i];
            p = (s + 0.05 * (double)n_base) / (1.1 * (double)n_base);
        }
        ba[i] = (float)log(p / (1 - p));
        log_za += bz_ref_softplus(ba[i]);
    }
    for (size_t l = 0; l <= L && !st; l++) {
        xs[l] = &X[l];
        if (!(st = bz_buf_alloc(c, &X[l], M * d->s[l])) && (l % 2 == 1 || l == 0))
            st = bz_buf_alloc(c, &A[l], M * (l ? d->s[l] : w));
    }
    if (st || (st = bz_buf_alloc(c, &logw, M)) ||
        (st = bz_buf_alloc(c, &bA, nv)) || (st = bz_buf_write(c, &bA, 0, ba, nv)) ||
        (st = bz_buf_fill(c, &logw, 0.0f, 0, M)) || (st = bz_buf_fill(c, &A[0], 0.0f, 0, M * w)))
        goto done;
    /* The even layers from the base model (beta = 0). */
    for (size_t l = 0; l <= L && !st; l += 2)
        st = bz_op_dbm_sample_layer(c, &X[l], &A[0], NULL, &d->b[l], l == 0 ? &bA : NULL, M,
                                    d->s[l], 0.0f,
                                    (bz_rng_pos){o.seed, BZ_STREAM_AIS ^ bz_rbm_stream(0, 0, (unsigned)l), 0});
    const unsigned K = o.betas;
    for (unsigned k = 1; k <= K && !st; k++) {
        float bprev = (float)beta_at(k - 1, K), b = (float)beta_at(k, K);
        for (size_t l = 0; l <= L && !st; l += 2)
            st = bz_op_dbm_rows_dot_acc(c, &logw, &X[l], &d->b[l], true, M, d->s[l], b - bprev);
        if (!st)
            st = bz_op_dbm_rows_dot_acc(c, &logw, &X[0], &bA, true, M, nv, bprev - b);
        for (size_t l = 1; l <= L && !st; l += 2)
            if (!(st = total_input(d, l, xs, M, &A[l])))
                st = bz_op_dbm_rows_softplus_diff_acc(c, &logw, &A[l], &d->b[l], M, d->s[l],
                                                      bprev, b);
        if (st || k == K)
            break;
        /* Drain the queue now and then: CLBlast's temporary buffers of
         * queued products are freed only as they complete. */
        if (k % 16 == 0 && (st = bz_finish(c)))
            break;
        /* A layer-parity sweep at beta: the odd layers from the inputs just
         * computed (the even state has not moved), then the even ones. */
        for (size_t parity = 1; parity <= 2 && !st; parity++) {
            for (size_t l = parity % 2; l <= L && !st; l += 2) {
                bz_buf *in = &A[l % 2 ? l : 0];
                if (l % 2 == 0 && (st = total_input(d, l, xs, M, in)))
                    break;
                st = bz_op_dbm_sample_layer(
                    c, &X[l], in, NULL, &d->b[l], l == 0 ? &bA : NULL, M, d->s[l], b,
                    (bz_rng_pos){o.seed, BZ_STREAM_AIS ^ bz_rbm_stream(k, 0, (unsigned)l), 0});
            }
        }
    }
    if (st || (st = bz_buf_read(c, &logw, 0, lw, M)))
        goto done;
    double mx = -INFINITY;
    for (size_t i = 0; i < M; i++)
        mx = lw[i] > mx ? lw[i] : mx;
    if (!isfinite(mx)) {
        st = bz_fail(c, BZ_E_DIVERGED, "DBM AIS weights are not finite: the model's parameters "
                                       "are probably not finite either");
        goto done;
    }
    double m = 0, m2 = 0;
    for (size_t i = 0; i < M; i++) {
        double e = exp((double)lw[i] - mx);
        m += e;
        m2 += e * e;
    }
    m /= (double)M;
    double var = M > 1 ? (m2 / (double)M - m * m) * (double)M / (double)(M - 1) : 0.0;
    double se = sqrt(var > 0 ? var : 0) / sqrt((double)M);
    out->log_z = log_za + mx + log(m);
    out->log_z_sd = se / m;
    out->log_z_lo = log_za + mx + log(m - 3 * se > 1e-300 ? m - 3 * se : 1e-300);
    out->log_z_hi = log_za + mx + log(m + 3 * se);
done:
    for (size_t l = 0; l <= BZ_DBM_MAX_HIDDEN; l++) {
        bz_buf_release(&X[l]);
        bz_buf_release(&A[l]);
    }
    bz_buf_release(&logw);
    bz_buf_release(&bA);
    free(ba);
    free(lw);
    return st;
}

bz_status bz_dbm_exact_log_z(bz_dbm *d, double *log_z)
{
    if (!d || !log_z)
        return BZ_E_INVALID_ARG;
    bz_ref_dbm m = {.L = d->L};
    size_t par[2] = {0, 0};
    for (size_t l = 0; l <= d->L; l++) {
        m.s[l] = d->s[l];
        par[l % 2] += d->s[l];
    }
    if ((par[0] < par[1] ? par[0] : par[1]) > 24)
        return bz_fail(d->ctx, BZ_E_UNSUPPORTED,
                       "exact log Z enumerates the even or the odd layers, at most 24 units; this "
                       "DBM has %zu even and %zu odd", par[0], par[1]);
    bz_status st = BZ_OK;
    for (size_t l = 0; l <= d->L && !st; l++) {
        m.b[l] = malloc(d->s[l] * sizeof(float));
        if (l < d->L)
            m.W[l] = malloc(d->s[l] * d->s[l + 1] * sizeof(float));
        if (!m.b[l] || (l < d->L && !m.W[l]))
            st = bz_fail(d->ctx, BZ_E_NOMEM, "out of memory");
        else
            st = bz_dbm_get_layer(d, l, l < d->L ? m.W[l] : NULL, m.b[l]);
    }
    if (!st)
        *log_z = bz_ref_dbm_log_z(&m);
    for (size_t l = 0; l <= d->L; l++) {
        free(m.b[l]);
        if (l < d->L)
            free(m.W[l]);
    }
    return st;
}

bz_status bz_dbm_mean_bound(bz_dbm *d, const float *x, size_t n, unsigned iters, float tol,
                            double *mean)
{
    if (!d || !x || n == 0 || !mean || iters == 0)
        return BZ_E_INVALID_ARG;
    bz_context *c = d->ctx;
    const size_t chunk = 1000, L = d->L;
    CHECK(bz_dbm_reserve(d, n < chunk ? n : chunk));
    float *acc = malloc(d->cap * sizeof *acc);
    if (!acc)
        return bz_fail(c, BZ_E_NOMEM, "out of memory");
    double sum = 0;
    bz_status st = BZ_OK;
    for (size_t first = 0; first < n && !st; first += d->cap) {
        size_t rows = n - first < d->cap ? n - first : d->cap;
        if ((st = bz_buf_write(c, &d->X0, 0, x + first * d->s[0], rows * d->s[0])) ||
            (st = bz_dbm_mean_field_dev(d, rows, iters, tol, NULL)) ||
            (st = bz_buf_fill(c, &d->acc, 0.0f, 0, rows)) ||
            (st = bz_op_dbm_rows_dot_acc(c, &d->acc, &d->X0, &d->b[0], true, rows, d->s[0], 1.0f)))
            break;
        for (size_t l = 1; l <= L && !st; l++)
            if (!(st = bz_op_dbm_rows_dot_acc(c, &d->acc, &d->MU[l], &d->b[l], true, rows, d->s[l],
                                              1.0f)))
                st = bz_op_dbm_rows_entropy_acc(c, &d->acc, &d->MU[l], rows, d->s[l]);
        for (size_t l = 0; l < L && !st; l++) {
            const bz_buf *mu = l == 0 ? &d->X0 : &d->MU[l];
            /* (mu_l W_l) . mu_{l+1}, the product in P[l+1] (no longer needed) */
            if (!(st = bz_sgemm(c, false, false, rows, d->s[l + 1], d->s[l], 1.0f, mu, 0, d->s[l],
                                &d->W[l], 0, d->s[l + 1], 0.0f, &d->P[l + 1], 0, d->s[l + 1])))
                st = bz_op_dbm_rows_dot_acc(c, &d->acc, &d->P[l + 1], &d->MU[l + 1], false, rows,
                                            d->s[l + 1], 1.0f);
        }
        if (!st && !(st = bz_buf_read(c, &d->acc, 0, acc, rows)))
            for (size_t r = 0; r < rows; r++)
                sum += acc[r];
    }
    free(acc);
    if (!st)
        *mean = sum / (double)n;
    return st;
}
