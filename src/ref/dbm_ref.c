#include "ref/dbm_ref.h"
#include "ref/reference.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void bz_ref_dbm_mf_update(float *mu, float *delta, const float *a, const float *b,
                          const float *bias, size_t rows, size_t cols)
{
    for (size_t i = 0; i < rows * cols; i++) {
        float z = a[i] + bias[i % cols];
        if (b)
            z += b[i];
        float m = (float)bz_ref_sigmoid((double)z);
        delta[i] = fabsf(m - mu[i]);
        mu[i] = m;
    }
}

void bz_ref_dbm_sample_layer(float *sample, const float *a, const float *b, const float *bias,
                             const float *base, size_t rows, size_t cols, float beta,
                             uint64_t seed, uint64_t stream, uint64_t offset)
{
    for (size_t i = 0; i < rows * cols; i++) {
        size_t j = i % cols;
        float z = a[i] + bias[j];
        if (b)
            z += b[i];
        z *= beta;
        if (base)
            z += (1.0f - beta) * base[j];
        float p = (float)bz_ref_sigmoid((double)z);
        float u = bz_ref_u01(bz_ref_philox_u32(seed, stream, offset + i));
        sample[i] = u < p ? 1.0f : 0.0f;
    }
}

void bz_ref_dbm_rows_dot_acc(double *acc, const float *x, const float *y, bool y_vector,
                             size_t rows, size_t cols, double scale)
{
    for (size_t r = 0; r < rows; r++) {
        double s = 0;
        for (size_t c = 0; c < cols; c++)
            s += (double)x[r * cols + c] * (double)y[(y_vector ? 0 : r * cols) + c];
        acc[r] += scale * s;
    }
}

void bz_ref_dbm_rows_entropy_acc(double *acc, const float *mu, size_t rows, size_t cols)
{
    for (size_t r = 0; r < rows; r++) {
        double s = 0;
        for (size_t c = 0; c < cols; c++) {
            double m = mu[r * cols + c];
            if (m > 0)
                s -= m * log(m);
            if (m < 1)
                s -= (1 - m) * log(1 - m);
        }
        acc[r] += s;
    }
}

void bz_ref_dbm_rows_absmax_acc(float *acc, const float *x, size_t rows, size_t cols)
{
    for (size_t r = 0; r < rows; r++)
        for (size_t c = 0; c < cols; c++)
            acc[r] = fmaxf(acc[r], fabsf(x[r * cols + c]));
}

void bz_ref_dbm_ais_logw(double *sum, const float *x, const float *bias, const float *base,
                         bool state, bool absolute, size_t rows, size_t cols, float beta_prev,
                         float beta)
{
    if (absolute)
        beta_prev = 0.0f;
    for (size_t r = 0; r < rows; r++) {
        double s = 0;
        for (size_t c = 0; c < cols; c++) {
            double z = (double)x[r * cols + c] + bias[c];
            if (state) {
                s += ((double)beta - beta_prev) * x[r * cols + c] * bias[c];
            } else {
                double a = base ? base[c] : 0.0;
                s += bz_ref_softplus(beta * z + (1.0 - beta) * a) -
                     (absolute ? 0.0 : bz_ref_softplus(beta_prev * z + (1.0 - beta_prev) * a));
            }
        }
        sum[r] += s;
    }
}

void bz_ref_dbm_ais_collapsed_sweep(float *h, float *zlo, float *zhi, const float *wlo_t,
                                    const float *whi, const float *bias, const float *blo,
                                    const float *bhi, const float *base_lo, size_t rows, size_t n,
                                    size_t nlo, size_t nhi, float beta, uint64_t seed,
                                    uint64_t stream, uint64_t offset)
{
    for (size_t r = 0; r < rows; r++)
        for (size_t j = 0; j < n; j++) {
            float old = h[r * n + j];
            double s = (double)beta * bias[j];
            for (size_t i = 0; i < nlo; i++) {
                float w = wlo_t[j * nlo + i];
                double zeta = (double)beta * ((double)zlo[r * nlo + i] + blo[i] - old * w) +
                              (1.0 - beta) * (base_lo ? base_lo[i] : 0.0);
                s += bz_ref_softplus(zeta + (double)beta * w) - bz_ref_softplus(zeta);
            }
            for (size_t i = 0; zhi && i < nhi; i++) {
                float w = whi[j * nhi + i];
                double zeta = (double)beta * ((double)zhi[r * nhi + i] + bhi[i] - old * w);
                s += bz_ref_softplus(zeta + (double)beta * w) - bz_ref_softplus(zeta);
            }
            float u = bz_ref_u01(bz_ref_philox_u32(seed, stream, offset + r * n + j));
            float now = u < (float)bz_ref_sigmoid(s) ? 1.0f : 0.0f, dx = now - old;
            if (dx != 0.0f) {
                for (size_t i = 0; i < nlo; i++)
                    zlo[r * nlo + i] += dx * wlo_t[j * nlo + i];
                for (size_t i = 0; zhi && i < nhi; i++)
                    zhi[r * nhi + i] += dx * whi[j * nhi + i];
            }
            h[r * n + j] = now;
        }
}

void bz_ref_dbm_ais_propose(float *hp, const float *mu, size_t rows, size_t cols, size_t P,
                            size_t mu_cols, size_t col0, uint64_t seed, uint64_t row_stream,
                            uint64_t stream)
{
    for (size_t r = 0; r < rows; r++) {
        size_t n = (size_t)(((uint64_t)bz_ref_philox_u32(seed, row_stream, r) * P) >> 32);
        for (size_t j = 0; j < cols; j++) {
            float u = bz_ref_u01(bz_ref_philox_u32(seed, stream, r * cols + j));
            hp[r * cols + j] = u < mu[n * mu_cols + col0 + j] ? 1.0f : 0.0f;
        }
    }
}

static double log_mixture(const float *g, const float *c, size_t P)
{
    double m = -INFINITY, s = 0;
    for (size_t n = 0; n < P; n++)
        m = fmax(m, (double)g[n] + c[n]);
    for (size_t n = 0; n < P; n++)
        s += exp((double)g[n] + c[n] - m);
    return m + log(s);
}

void bz_ref_dbm_ais_mh_accept(float *acc, const float *lp, const float *lpp, const float *g,
                              const float *gp, const float *c, size_t rows, size_t P,
                              uint64_t seed, uint64_t stream)
{
    for (size_t r = 0; r < rows; r++) {
        double la = ((double)lpp[r] - lp[r]) + log_mixture(g + r * P, c, P) -
                    log_mixture(gp + r * P, c, P);
        float u = bz_ref_u01_open0(bz_ref_philox_u32(seed, stream, r));
        acc[r] = log((double)u) < la ? 1.0f : 0.0f;
    }
}

/* ---- a whole DBM ---- */

static size_t widest(const bz_ref_dbm *m)
{
    size_t w = 0;
    for (size_t l = 0; l <= m->L; l++)
        w = m->s[l] > w ? m->s[l] : w;
    return w;
}

/* P = x_{l-1} W_{l-1} (rows x s[l]) */
static void from_below(const bz_ref_dbm *m, size_t l, const float *xb, size_t rows, float *out)
{
    bz_ref_sgemm(false, false, rows, m->s[l], m->s[l - 1], 1.0f, xb, m->s[l - 1], m->W[l - 1],
                 m->s[l], 0.0f, out, m->s[l]);
}

/* Q = x_{l+1} W_l^T (rows x s[l]) */
static void from_above(const bz_ref_dbm *m, size_t l, const float *xa, size_t rows, float *out)
{
    bz_ref_sgemm(false, true, rows, m->s[l], m->s[l + 1], 1.0f, xa, m->s[l + 1], m->W[l],
                 m->s[l + 1], 0.0f, out, m->s[l]);
}

unsigned bz_ref_dbm_mean_field(const bz_ref_dbm *m, const float *v, size_t B, unsigned iters,
                               float tol, float *const *mu)
{
    size_t w = widest(m);
    float *P[BZ_REF_DBM_MAX_HIDDEN + 1] = {0};
    float *Q = malloc(B * w * sizeof *Q), *D = malloc(B * w * sizeof *D);
    float *acc = malloc(B * sizeof *acc);
    for (size_t l = 1; l <= m->L; l++)
        P[l] = malloc(B * m->s[l] * sizeof(float));
    const float *below = v;
    for (size_t l = 1; l <= m->L; l++) {
        bz_ref_sgemm(false, false, B, m->s[l], m->s[l - 1], l < m->L ? 2.0f : 1.0f, below,
                     m->s[l - 1], m->W[l - 1], m->s[l], 0.0f, Q, m->s[l]);
        bz_ref_bias_sigmoid(mu[l], Q, m->b[l], B, m->s[l]);
        below = mu[l];
    }
    from_below(m, 1, v, B, P[1]);
    unsigned it = 0;
    while (it < iters) {
        it++;
        for (size_t r = 0; r < B; r++)
            acc[r] = 0.0f;
        for (size_t parity = 1; parity <= 2; parity++) {
            for (size_t l = parity; l <= m->L; l += 2) {
                if (l > 1)
                    from_below(m, l, mu[l - 1], B, P[l]);
                if (l < m->L)
                    from_above(m, l, mu[l + 1], B, Q);
                bz_ref_dbm_mf_update(mu[l], D, P[l], l < m->L ? Q : NULL, m->b[l], B, m->s[l]);
                bz_ref_dbm_rows_absmax_acc(acc, D, B, m->s[l]);
            }
        }
        float mx = 0;
        for (size_t r = 0; r < B; r++)
            mx = fmaxf(mx, acc[r]);
        if (mx < tol)
            break;
    }
    for (size_t l = 1; l <= m->L; l++)
        free(P[l]);
    free(Q);
    free(D);
    free(acc);
    return it;
}

static void decay_apply(float *w, float *vel, size_t n, float lr_decay)
{
    for (size_t i = 0; i < n; i++) {
        float v = vel[i] - lr_decay * w[i];
        vel[i] = v;
        w[i] += v;
    }
}

void bz_ref_dbm_step(bz_ref_dbm *m, const float *v, size_t B, float *const *x, size_t M,
                     unsigned mf_iters, unsigned gibbs, float lr, float momentum, float decay,
                     uint64_t seed, unsigned epoch, size_t batch)
{
    const size_t L = m->L, w = widest(m);
    float *mu[BZ_REF_DBM_MAX_HIDDEN + 1] = {0};
    for (size_t l = 1; l <= L; l++)
        mu[l] = malloc(B * m->s[l] * sizeof(float));
    mu[0] = (float *)v;
    bz_ref_dbm_mean_field(m, v, B, mf_iters, 0.0f, mu);
    float *A = malloc(M * w * sizeof *A), *Bq = malloc(M * w * sizeof *Bq);
    for (unsigned s = 0; s < gibbs; s++) {
        for (size_t parity = 1; parity <= 2; parity++) {
            for (size_t l = parity % 2; l <= L; l += 2) {
                /* the kernel's a: the product from below, or from above for v */
                const float *bq = NULL;
                if (l > 0) {
                    from_below(m, l, x[l - 1], M, A);
                    if (l < L) {
                        from_above(m, l, x[l + 1], M, Bq);
                        bq = Bq;
                    }
                } else {
                    from_above(m, 0, x[1], M, A);
                }
                bz_ref_dbm_sample_layer(x[l], A, bq, m->b[l], NULL, M, m->s[l], 1.0f, seed,
                                        bz_ref_dbm_stream(epoch, batch, s, (unsigned)l), 0);
            }
        }
    }
    const float aB = lr / (float)B, aM = lr / (float)M;
    for (size_t l = 0; l < L; l++) {
        size_t p = m->s[l], q = m->s[l + 1];
        bz_ref_sgemm(true, false, p, q, B, aB, mu[l], p, mu[l + 1], q, momentum, m->vW[l], q);
        bz_ref_sgemm(true, false, p, q, M, -aM, x[l], p, x[l + 1], q, 1.0f, m->vW[l], q);
        decay_apply(m->W[l], m->vW[l], p * q, lr * decay);
    }
    for (size_t l = 0; l <= L; l++) {
        bz_ref_col_sums(m->vb[l], mu[l], B, m->s[l], aB, momentum);
        bz_ref_col_sums(m->vb[l], x[l], M, m->s[l], -aM, 1.0f);
        decay_apply(m->b[l], m->vb[l], m->s[l], 0.0f);
    }
    for (size_t l = 1; l <= L; l++)
        free(mu[l]);
    free(A);
    free(Bq);
}

double bz_ref_dbm_log_z(const bz_ref_dbm *m)
{
    const size_t L = m->L;
    size_t n_par[2] = {0, 0};
    for (size_t l = 0; l <= L; l++)
        n_par[l % 2] += m->s[l];
    size_t par = n_par[0] <= n_par[1] ? 0 : 1, nbits = n_par[par];
    if (nbits > 24)
        return NAN;
    size_t w = widest(m);
    float *x[BZ_REF_DBM_MAX_HIDDEN + 1] = {0};
    for (size_t l = 0; l <= L; l++)
        x[l] = calloc(m->s[l], sizeof(float));
    double *pre = malloc(w * sizeof *pre);
    double mx = -INFINITY, sum = 0;
    for (uint64_t g = 0; g < ((uint64_t)1 << nbits); g++) {
        size_t bit = 0;
        for (size_t l = par; l <= L; l += 2)
            for (size_t i = 0; i < m->s[l]; i++, bit++)
                x[l][i] = (float)((g >> bit) & 1u);
        double t = 0;
        for (size_t l = par; l <= L; l += 2)
            for (size_t i = 0; i < m->s[l]; i++)
                t += (double)x[l][i] * m->b[l][i];
        for (size_t l = 1 - par; l <= L; l += 2) {
            for (size_t j = 0; j < m->s[l]; j++) {
                double z = m->b[l][j];
                if (l > 0)
                    for (size_t i = 0; i < m->s[l - 1]; i++)
                        z += (double)x[l - 1][i] * m->W[l - 1][i * m->s[l] + j];
                if (l < L)
                    for (size_t k = 0; k < m->s[l + 1]; k++)
                        z += (double)x[l + 1][k] * m->W[l][j * m->s[l + 1] + k];
                pre[j] = z;
            }
            for (size_t j = 0; j < m->s[l]; j++)
                t += bz_ref_softplus(pre[j]);
        }
        if (t > mx) {
            sum = sum * exp(mx - t) + 1.0;
            mx = t;
        } else {
            sum += exp(t - mx);
        }
    }
    for (size_t l = 0; l <= L; l++)
        free(x[l]);
    free(pre);
    return mx + log(sum);
}
