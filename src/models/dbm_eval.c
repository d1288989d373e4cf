/*
 * How good a DBM is. AIS over the odd layers with the even ones summed out
 * (models/ais_layers.h), forward from a base model whose log Z is exact and
 * in reverse from data-started states; log Z exactly when one parity of
 * layers is small; the variational lower bound on log p(v), E_q[-E(v, h)] +
 * H(q) - log Z with q the mean-field posterior, and the exact log p(v) when
 * the odd layers are small.
 */
#include "blas/gemm.h"
#include "engine/check.h"
#include "models/ais_layers.h"
#include "models/dbm.h"
#include "ref/reference.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static void dbm_net(bz_dbm *d, bz_ais_net *n)
{
    memset(n, 0, sizeof *n);
    n->ctx = d->ctx;
    n->L = d->L;
    for (size_t l = 0; l <= d->L; l++) {
        n->s[l] = d->s[l];
        n->b[l] = &d->b[l];
        if (l < d->L)
            n->W[l] = &d->W[l];
    }
}

#define PROPOSAL_ROWS 1000
#define PROPOSAL_MF_ITERS 10

/* The mean-field posteriors of the odd layers, side by side, of rows k n / M
 * of the host rows x (M of them) into mu; with draw, Bernoulli draws. */
static bz_status dbm_posteriors(bz_dbm *d, const float *x, size_t n, size_t M, unsigned iters,
                                bool draw, uint64_t seed, float *mu)
{
    const size_t nv = d->s[0];
    size_t cols = 0;
    for (size_t l = 1; l <= d->L; l += 2)
        cols += d->s[l];
    float *rows = malloc(M * nv * sizeof *rows), *q = malloc(M * cols * sizeof *q);
    bz_status st = rows && q ? BZ_OK : bz_fail(d->ctx, BZ_E_NOMEM, "out of memory");
    for (size_t k = 0; k < M && !st; k++)
        memcpy(rows + k * nv, x + (k * n / M) * nv, nv * sizeof *rows);
    for (size_t l = 1, off = 0; l <= d->L && !st; off += d->s[l], l += 2)
        if (!(st = bz_dbm_transform_layer(d, rows, M, iters, 1e-5f, l, q)))
            for (size_t k = 0; k < M; k++)
                for (size_t j = 0; j < d->s[l]; j++) {
                    float p = q[k * d->s[l] + j];
                    size_t e = k * cols + off + j;
                    if (draw)
                        p = bz_ref_u01(bz_ref_philox_u32(seed, BZ_STREAM_AIS ^ 0xf0u, e)) < p;
                    mu[e] = p;
                }
    free(rows);
    free(q);
    return st;
}

/* AIS with the mode-hopping proposals from the rows x (n; none when NULL). */
static bz_status dbm_ais_run(bz_dbm *d, const float *x, size_t n, const float *a,
                             const bz_ais_options *o, float *const *start, bz_ais_result *out)
{
    bz_ais_net net;
    dbm_net(d, &net);
    if (!x || n == 0)
        return bz_ais_layers(&net, a, o, start, NULL, out);
    size_t cols = 0, P = n < PROPOSAL_ROWS ? n : PROPOSAL_ROWS;
    for (size_t l = 1; l <= d->L; l += 2)
        cols += d->s[l];
    float *mu = malloc(P * cols * sizeof *mu);
    bz_status st = mu ? dbm_posteriors(d, x, n, P, PROPOSAL_MF_ITERS, false, 0, mu)
                      : bz_fail(d->ctx, BZ_E_NOMEM, "out of memory");
    if (!st) {
        bz_ais_proposal prop = {mu, bz_ais_proposal_rows(mu, P, cols, P, mu)};
        st = bz_ais_layers(&net, a, o, start, &prop, out);
    }
    free(mu);
    return st;
}

bz_status bz_dbm_ais(bz_dbm *d, const float *base, size_t n_base, const bz_ais_options *o,
                     bz_ais_result *out)
{
    if (!d || !out || (base && n_base == 0))
        return BZ_E_INVALID_ARG;
    float *a = malloc(d->s[0] * sizeof *a);
    if (!a)
        return bz_fail(d->ctx, BZ_E_NOMEM, "out of memory");
    bool uniform = o && o->uniform_base;
    bz_ais_base_rate(uniform ? NULL : base, uniform ? 0 : n_base, d->s[0], a);
    bz_status st = dbm_ais_run(d, base, n_base, a, o, NULL, out);
    free(a);
    return st;
}

bz_status bz_dbm_ais_reverse(bz_dbm *d, const float *x, size_t n_rows, const float *base,
                             size_t n_base, unsigned mf_iters, const bz_ais_options *o_in,
                             bz_ais_result *out)
{
    if (!d || !x || n_rows == 0 || !out || (base && n_base == 0) || mf_iters == 0)
        return BZ_E_INVALID_ARG;
    bz_ais_options o;
    bz_ais_options_init(&o);
    if (o_in)
        o = *o_in;
    if (o.runs == 0)
        return bz_fail(d->ctx, BZ_E_INVALID_ARG, "AIS needs at least 1 run");
    const size_t M = o.runs, nv = d->s[0];
    size_t cols = 0;
    for (size_t l = 1; l <= d->L; l += 2)
        cols += d->s[l];
    float *a = malloc(nv * sizeof *a), *h = malloc(M * cols * sizeof *h);
    float *start[BZ_DBM_MAX_HIDDEN + 1] = {0};
    bz_status st = a && h ? BZ_OK : bz_fail(d->ctx, BZ_E_NOMEM, "out of memory");
    /* each run starts from a draw of the mean-field posterior of its row */
    if (!st)
        st = dbm_posteriors(d, x, n_rows, M, mf_iters, true, o.seed, h);
    for (size_t l = 1, off = 0; l <= d->L && !st; off += d->s[l], l += 2) {
        if (!(start[l] = malloc(M * d->s[l] * sizeof(float)))) {
            st = bz_fail(d->ctx, BZ_E_NOMEM, "out of memory");
            break;
        }
        for (size_t k = 0; k < M; k++)
            memcpy(start[l] + k * d->s[l], h + k * cols + off, d->s[l] * sizeof(float));
    }
    if (!st) {
        bool uniform = o.uniform_base;
        bz_ais_base_rate(uniform ? NULL : base, uniform ? 0 : n_base, nv, a);
        st = dbm_ais_run(d, base ? base : x, base ? n_base : n_rows, a, &o, start, out);
    }
    for (size_t l = 0; l <= BZ_DBM_MAX_HIDDEN; l++)
        free(start[l]);
    free(a);
    free(h);
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

bz_status bz_dbm_exact_mean_log_p(bz_dbm *d, const float *x, size_t n, double log_z,
                                  double *mean)
{
    if (!d || !x || n == 0 || !mean)
        return BZ_E_INVALID_ARG;
    const size_t L = d->L, s1 = d->s[1], s3 = L == 3 ? d->s[3] : 0, nb = s1 + s3,
                 nv = d->s[0], s2 = d->s[2];
    if (nb > BZ_DBM_EXACT_LL_UNITS)
        return bz_fail(d->ctx, BZ_E_UNSUPPORTED,
                       "the exact log-likelihood enumerates the odd layers, at most %d units; "
                       "this DBM has %zu", BZ_DBM_EXACT_LL_UNITS, nb);
    const size_t G = (size_t)1 << nb;
    float *w0 = malloc(nv * s1 * sizeof *w0), *w1 = malloc(s1 * s2 * sizeof *w1),
          *w2 = s3 ? malloc(s2 * s3 * sizeof *w2) : NULL, *b0 = malloc(nv * sizeof *b0),
          *b1 = malloc(s1 * sizeof *b1), *b2 = malloc(s2 * sizeof *b2),
          *b3 = s3 ? malloc(s3 * sizeof *b3) : NULL;
    double *g = malloc(G * sizeof *g), *u = malloc(s1 * sizeof *u);
    bz_status st = w0 && w1 && b0 && b1 && b2 && g && u && (!s3 || (w2 && b3))
                       ? BZ_OK
                       : bz_fail(d->ctx, BZ_E_NOMEM, "out of memory");
    if (!st && !(st = bz_dbm_get_layer(d, 0, w0, b0)) && !(st = bz_dbm_get_layer(d, 1, w1, b1)) &&
        !(st = bz_dbm_get_layer(d, 2, s3 ? w2 : NULL, b2)) && s3)
        st = bz_dbm_get_layer(d, 3, NULL, b3);
    /* g(h_odd): everything of log p*(v) but v.b0 + h1.(v W0), h2 summed out */
    for (size_t c = 0; c < G && !st; c++) {
        double t = 0;
        for (size_t j = 0; j < s1; j++)
            t += ((c >> j) & 1u) ? b1[j] : 0.0;
        for (size_t j = 0; j < s3; j++)
            t += ((c >> (s1 + j)) & 1u) ? b3[j] : 0.0;
        for (size_t k = 0; k < s2; k++) {
            double z = b2[k];
            for (size_t j = 0; j < s1; j++)
                z += ((c >> j) & 1u) ? w1[j * s2 + k] : 0.0;
            for (size_t j = 0; j < s3; j++)
                z += ((c >> (s1 + j)) & 1u) ? w2[k * s3 + j] : 0.0;
            t += bz_ref_softplus(z);
        }
        g[c] = t;
    }
    double total = 0;
    for (size_t r = 0; r < n && !st; r++) {
        const float *v = x + r * nv;
        double vb = 0;
        for (size_t i = 0; i < nv; i++)
            vb += (double)v[i] * b0[i];
        for (size_t j = 0; j < s1; j++) {
            u[j] = 0;
            for (size_t i = 0; i < nv; i++)
                u[j] += (double)v[i] * w0[i * s1 + j];
        }
        double mx = -INFINITY, sum = 0;
        for (size_t c = 0; c < G; c++) {
            double t = g[c];
            for (size_t j = 0; j < s1; j++)
                t += ((c >> j) & 1u) ? u[j] : 0.0;
            if (t > mx) {
                sum = sum * exp(mx - t) + 1;
                mx = t;
            } else {
                sum += exp(t - mx);
            }
        }
        total += vb + mx + log(sum);
    }
    if (!st)
        *mean = total / (double)n - log_z;
    free(w0);
    free(w1);
    free(w2);
    free(b0);
    free(b1);
    free(b2);
    free(b3);
    free(g);
    free(u);
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
