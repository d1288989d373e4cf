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
