// Kernels of deep Boltzmann machines (Salakhutdinov & Hinton 2009): the
// mean-field update of a hidden layer, which takes its input from the layer
// below and the one above as the results of two matrix products, the
// layer-parity Gibbs step of the persistent chains and of annealed importance
// sampling, and per-row reductions for the AIS weights and the variational
// bound. Element-wise kernels take one work-item per element, the row
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

// The summed-out layers' share of an AIS weight update:
//   acc[r] += sum_c softplus(beta * z) - softplus(beta_prev * z),  z = pre[r, c] + bias[c]
__kernel void dbm_rows_softplus_diff_acc(__global float *acc, __global const float *pre,
                                         __global const float *bias, const uint rows,
                                         const uint cols, const float beta_prev, const float beta)
{
    size_t r = get_global_id(0);
    if (r >= rows)
        return;
    size_t o = r * cols;
    float s = 0.0f;
    for (uint c = 0; c < cols; c++) {
        float z = pre[o + c] + bias[c];
        s += bz_softplus(beta * z) - bz_softplus(beta_prev * z);
    }
    acc[r] += s;
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
