// Kernels of deep Boltzmann machines (Salakhutdinov & Hinton 2009): the
// mean-field update of a hidden layer, which takes its input from the layer
// below and the one above as the results of two matrix products, the
// layer-parity Gibbs step of the persistent chains and of annealed importance
// sampling, per-row reductions for the variational bound, and the AIS
// machinery of models/ais_layers.h (log-weight terms, collapsed sweeps,
// mode-hopping moves). Element-wise kernels take one work-item per element, the row
// reductions one per row (layers are at most a few thousand units wide).

// Mean-field fixed-point update of one layer, in place:
//   mu = sigmoid(a + bias + b), delta = |mu_new - mu_old|,
// where a is the input from below and b the input from above (has_b = 0 for
// the top layer, b then unused). delta feeds the convergence test.
__kernel void dbm_mf_update(__global float *mu, __global float *delta, __global const float *a,
                            __global const float *b, __global const float *bias, const uint rows,
                            const uint cols, const uint has_b)
{
    size_t j = get_global_id(0), r = get_global_id(1);
    if (j >= cols || r >= rows)
        return;
    size_t i = r * cols + j;
    float z = a[i] + bias[j];
    if (has_b)
        z += b[i];
    float m = bz_sigmoid(z);
    delta[i] = fabs(m - mu[i]);
    mu[i] = m;
}

// One layer of a layer-parity Gibbs step: the layer's units are independent
// given its two neighbours, so odd and even layers are sampled alternately.
//   z = beta * (a + bias + b) + (1 - beta) * base,  sample ~ Bernoulli(sigmoid(z))
// flags bit 0: b (input from above) present; bit 1: base (the AIS base-rate
// biases) present. beta = 1 for training and sampling. Element i uses stream
// position offset + i, as `bernoulli` does.
__kernel void dbm_sample_layer(__global float *sample, __global const float *a,
                               __global const float *b, __global const float *bias,
                               __global const float *base, const uint rows, const uint cols,
                               const uint flags, const float beta, const ulong seed,
                               const ulong stream, const ulong offset)
{
    size_t j = get_global_id(0), r = get_global_id(1);
    if (j >= cols || r >= rows)
        return;
    size_t i = r * cols + j;
    float z = a[i] + bias[j];
    if (flags & 1u)
        z += b[i];
    z *= beta;
    if (flags & 2u)
        z += (1.0f - beta) * base[j];
    float p = bz_sigmoid(z);
    ulong e = offset + i;
    uint4 q = bz_philox_block(seed, stream, e >> 2);
    sample[i] = bz_u01(bz_word(q, (uint)(e & 3))) < p ? 1.0f : 0.0f;
}

// acc[r] += scale * sum_c x[r, c] * y[r, c] (y_matrix = 1) or
// acc[r] += scale * sum_c x[r, c] * y[c] (y_matrix = 0, y a bias vector).
__kernel void dbm_rows_dot_acc(__global float *acc, __global const float *x,
                               __global const float *y, const uint rows, const uint cols,
                               const uint y_matrix, const float scale)
{
    size_t r = get_global_id(0);
    if (r >= rows)
        return;
    size_t o = r * cols, oy = y_matrix ? o : 0;
    float s = 0.0f;
    for (uint c = 0; c < cols; c++)
        s += x[o + c] * y[oy + c];
    acc[r] += scale * s;
}

// Entropy of factorised Bernoulli posteriors: acc[r] += sum_c H(mu[r, c]),
// H(m) = -m log m - (1 - m) log(1 - m), 0 log 0 = 0.
__kernel void dbm_rows_entropy_acc(__global float *acc, __global const float *mu,
                                   const uint rows, const uint cols)
{
    size_t r = get_global_id(0);
    if (r >= rows)
        return;
    size_t o = r * cols;
    float s = 0.0f;
    for (uint c = 0; c < cols; c++) {
        float m = mu[o + c];
        if (m > 0.0f)
            s -= m * log(m);
        if (m < 1.0f)
            s -= (1.0f - m) * log(1.0f - m);
    }
    acc[r] += s;
}

// acc[r] = max(acc[r], max_c |x[r, c]|): the largest mean-field change of a row.
__kernel void dbm_rows_absmax_acc(__global float *acc, __global const float *x, const uint rows,
                                  const uint cols)
{
    size_t r = get_global_id(0);
    if (r >= rows)
        return;
    size_t o = r * cols;
    float m = acc[r];
    for (uint c = 0; c < cols; c++)
        m = fmax(m, fabs(x[o + c]));
    acc[r] = m;
}

// softplus(x + d) - softplus(x) = log1p(sigmoid(x) * expm1(d)), which keeps
// the precision of a small difference d (AIS steps move beta by 1e-5) that
// subtracting two softplus values of size |x| would lose.
inline float bz_softplus_step(float x, float d)
{
    if (fabs(d) > 1.0f)
        return bz_softplus(x + d) - bz_softplus(x);
    return log1p(bz_sigmoid(x) * expm1(d));
}

// The same as a sum of two positive terms, log(sigmoid(-x) + sigmoid(x) e^d),
// for d of any size and sign (a weight); three transcendentals, no branch.
inline float bz_softplus_shift(float x, float d)
{
    float e = exp(-fabs(x)), p = 1.0f / (1.0f + e), q = e * p; // sigmoid(|x|), sigmoid(-|x|)
    float on = x >= 0.0f ? p : q, off = x >= 0.0f ? q : p;       // sigmoid(x), sigmoid(-x)
    return log(off + on * exp(d));
}

// One layer's terms of the AIS log-weights, one work-item per (run, unit)
// (dbm_ais_rows_kahan sums them):
//   state layer (flags bit 0):  (beta - beta_prev) x[r, c] bias[c]
//   summed-out layer:           softplus(beta z + (1 - beta) a) - (the same at beta_prev)
//   bit 2, absolute:            the state term at beta_prev = 0, the summed
//                               term softplus(beta z + (1 - beta) a) alone
// where for a summed-out layer x is its input from the state layers, z = x +
// bias, a the base-rate bias of the visible layer (bit 1) or 0.
__kernel void dbm_ais_terms(__global float *terms, __global const float *x,
                            __global const float *bias, __global const float *base,
                            const uint rows, const uint cols, const uint flags,
                            const float beta_prev, const float beta)
{
    size_t c = get_global_id(0), r = get_global_id(1);
    if (c >= cols || r >= rows)
        return;
    size_t i = r * cols + c;
    float bp = (flags & 4u) ? 0.0f : beta_prev, t;
    if (flags & 1u) {
        t = (beta - bp) * x[i] * bias[c];
    } else {
        float z = x[i] + bias[c], a = (flags & 2u) ? base[c] : 0.0f;
        if (flags & 4u) {
            float y = beta * z + (1.0f - beta) * a;
            t = fmax(y, 0.0f) + log1p(exp(-fabs(y)));
        } else {
            t = bz_softplus_step(bp * z + (1.0f - bp) * a, (beta - bp) * (z - a));
        }
    }
    terms[i] = t;
}

// sum[r] + comp[r] += sum_c terms[r, c], compensated (Kahan): AIS adds 10^4
// small terms to a total of hundreds of nats.
__kernel void dbm_ais_rows_kahan(__global float *sum, __global float *comp,
                                 __global const float *terms, const uint rows, const uint cols)
{
    size_t r = get_global_id(0);
    if (r >= rows)
        return;
    float s = 0.0f;
    for (uint c = 0; c < cols; c++)
        s += terms[r * cols + c];
    float y = s - comp[r], t = sum[r] + y;
    comp[r] = (t - sum[r]) - y;
    sum[r] = t;
}

// A collapsed Gibbs sweep over the units of one state layer of AIS, the
// neighbouring layers summed out: unit j of run r is drawn from its
// conditional given the other units of the state layers alone,
//   logit = beta bias_j + sum_i [softplus(zeta_i + beta w_ij) - softplus(zeta_i)]
// over the units i of the layer below (zlo, tempered with the base rate when
// base_lo is present, flags bit 1) and above (zhi, flags bit 0), zeta_i the
// tempered input of i with unit j off. Units go in order, two launches each:
// dbm_ais_flip_terms fills the terms of unit j for every (run, i), after
// adding the last flip (unit jprev, change dx[r]) to the neighbours' inputs;
// dbm_ais_flip_draw sums them and draws the unit. Element-wise launches
// vectorise where a per-run loop would not. Columns c < nlo are the layer
// below, the rest the layer above. wlo is W_{l-1} transposed (n x nlo), whi
// is W_l (n x nhi), so that unit j's weights are a row; zlo, zhi hold the
// neighbours' inputs from the state layers (no bias, no beta, no base), blo,
// bhi their biases. j = n: only the last flip is applied.
__kernel void dbm_ais_flip_terms(__global float *terms, __global const float *h,
                                 __global const float *dx, __global float *zlo,
                                 __global float *zhi, __global const float *wlo,
                                 __global const float *whi, __global const float *blo,
                                 __global const float *bhi, __global const float *base_lo,
                                 const uint rows, const uint n, const uint nlo, const uint nhi,
                                 const uint flags, const uint j, const uint jprev,
                                 const float beta)
{
    size_t c = get_global_id(0), r = get_global_id(1), cols = nlo + nhi;
    if (c >= cols || r >= rows)
        return;
    bool lo = c < nlo;
    size_t i = lo ? c : c - nlo;
    __global float *z = lo ? zlo + r * nlo + i : zhi + r * nhi + i;
    __global const float *w = lo ? wlo + i : whi + i;
    size_t stride = lo ? nlo : nhi;
    float zi = *z;
    if (jprev < n) {
        zi += dx[r] * w[jprev * stride];
        *z = zi;
    }
    if (j >= n)
        return;
    float wj = w[j * stride], bi = lo ? blo[i] : bhi[i];
    float a = (lo && (flags & 2u)) ? base_lo[i] : 0.0f;
    float zeta = beta * (zi + bi - h[r * n + j] * wj) + (1.0f - beta) * a;
    terms[r * cols + c] = bz_softplus_shift(zeta, beta * wj);
}

// Draws unit j of every run from its terms (see dbm_ais_flip_terms); dx[r]
// gets the change. The uniform of (r, j) is at stream position offset + r * n
// + j.
__kernel void dbm_ais_flip_draw(__global float *h, __global float *dx,
                                __global const float *terms, __global const float *bias,
                                const uint rows, const uint n, const uint cols, const uint j,
                                const float beta, const ulong seed, const ulong stream,
                                const ulong offset)
{
    size_t r = get_global_id(0);
    if (r >= rows)
        return;
    float s = beta * bias[j];
    for (uint c = 0; c < cols; c++)
        s += terms[r * cols + c];
    ulong e = offset + r * n + j;
    uint4 q = bz_philox_block(seed, stream, e >> 2);
    float now = bz_u01(bz_word(q, (uint)(e & 3))) < bz_sigmoid(s) ? 1.0f : 0.0f;
    dx[r] = now - h[r * n + j];
    h[r * n + j] = now;
}

// Mode-hopping for AIS: a Metropolis-Hastings move on the state layers with
// an independent proposal q, a mixture over data rows n of factorised
// Bernoulli posteriors mu_n (P rows of mu_cols, the state layers side by
// side, this layer's at column col0). A proposal picks one row per run (the
// uniform at position r of stream row_stream) and draws the layer's units
// from it (unit (r, j) at position r * cols + j of stream).
__kernel void dbm_ais_propose(__global float *hp, __global const float *mu, const uint rows,
                              const uint cols, const uint P, const uint mu_cols, const uint col0,
                              const ulong seed, const ulong row_stream, const ulong stream)
{
    size_t j = get_global_id(0), r = get_global_id(1);
    if (j >= cols || r >= rows)
        return;
    uint4 q = bz_philox_block(seed, row_stream, r >> 2);
    uint n = (uint)((ulong)bz_word(q, (uint)(r & 3)) * P >> 32);
    ulong e = r * cols + j;
    uint4 u = bz_philox_block(seed, stream, e >> 2);
    hp[e] = bz_u01(bz_word(u, (uint)(e & 3))) < mu[n * mu_cols + col0 + j] ? 1.0f : 0.0f;
}

// The acceptance of the move: log q(h) = logsumexp_n (g[r, n] + c[n]) - log P
// with g = h . logit(mu_n) (a product) and c[n] = sum log(1 - mu_n); lp, lpp
// the log unnormalised target at the current and proposed states. acc[r] = 1
// when the run moves (the uniform at position r of stream).
__kernel void dbm_ais_mh_accept(__global float *acc, __global const float *lp,
                                __global const float *lpp, __global const float *g,
                                __global const float *gp, __global const float *c,
                                const uint rows, const uint P, const ulong seed,
                                const ulong stream)
{
    size_t r = get_global_id(0);
    if (r >= rows)
        return;
    float m = -INFINITY, mp = -INFINITY;
    for (uint n = 0; n < P; n++) {
        m = fmax(m, g[r * P + n] + c[n]);
        mp = fmax(mp, gp[r * P + n] + c[n]);
    }
    float s = 0.0f, sp = 0.0f;
    for (uint n = 0; n < P; n++) {
        s += exp(g[r * P + n] + c[n] - m);
        sp += exp(gp[r * P + n] + c[n] - mp);
    }
    float la = (lpp[r] - lp[r]) + (m + log(s)) - (mp + log(sp));
    uint4 q = bz_philox_block(seed, stream, r >> 2);
    acc[r] = log(bz_u01_open0(bz_word(q, (uint)(r & 3)))) < la ? 1.0f : 0.0f;
}

// x[r] = xp[r] for the runs that moved (acc[r] = 1), rows x cols.
__kernel void dbm_ais_take_rows(__global float *x, __global const float *xp,
                                __global const float *acc, const uint rows, const uint cols)
{
    size_t j = get_global_id(0), r = get_global_id(1);
    if (j >= cols || r >= rows)
        return;
    if (acc[r] != 0.0f)
        x[r * cols + j] = xp[r * cols + j];
}
