// Kernels specific to training and evaluating RBMs.

// Flips one entry per row, v[r, idx[r]] = 1 - v[r, idx[r]]: the corrupted
// copy of the pseudo-log-likelihood estimator (as scikit-learn computes it).
__kernel void flip_entries(__global float *v, __global const uint *idx, const uint rows,
                           const uint cols)
{
    size_t r = get_global_id(0);
    if (r >= rows)
        return;
    size_t k = (size_t)r * cols + idx[r];
    v[k] = 1.0f - v[k];
}

// Sparsity target (Hinton's practical guide, section 11): q tracks the mean
// activation of each hidden unit with decay 0.9 over batches; the hidden
// bias velocity gets lr * cost * (target - q).
__kernel void sparsity_update(__global float *q, __global const float *batch_mean,
                              __global float *vel, const uint n, const float lr_cost,
                              const float target)
{
    size_t j = get_global_id(0);
    if (j >= n)
        return;
    float qj = 0.9f * q[j] + 0.1f * batch_mean[j];
    q[j] = qj;
    vel[j] += lr_cost * (target - qj);
}

// One annealed-importance-sampling weight update for a Bernoulli RBM against
// the base-rate model A (visible biases a, no weights):
//   log p*_beta(v) = (1 - beta) v.a + beta v.b + sum_j softplus(beta (c_j + hpre_j))
//   logw += log p*_beta(v) - log p*_beta_prev(v)
// hpre = v W was computed for the current v.
__kernel void ais_logw(__global float *logw, __global const float *v, __global const float *a,
                       __global const float *b, __global const float *hpre,
                       __global const float *c, const uint rows, const uint nv, const uint nh,
                       const float beta_prev, const float beta)
{
    size_t r = get_global_id(0);
    if (r >= rows)
        return;
    float va = 0.0f, vb = 0.0f;
    for (uint i = 0; i < nv; i++) {
        float x = v[(size_t)r * nv + i];
        va += x * a[i];
        vb += x * b[i];
    }
    float d = (beta - beta_prev) * (vb - va);
    for (uint j = 0; j < nh; j++) {
        float z = hpre[(size_t)r * nh + j] + c[j];
        d += bz_softplus(beta * z) - bz_softplus(beta_prev * z);
    }
    logw[r] += d;
}
