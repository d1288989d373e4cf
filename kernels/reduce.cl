// Reductions over the rows of a batch. One work-item per column (or row)
// keeps reads coalesced on GPUs and sequential on CPUs; batches are small
// enough that a tree reduction would not pay.

// out[j] = alpha * sum_r x[r, j] + beta * out[j]
__kernel void col_sums(__global float *out, __global const float *x, const uint rows,
                       const uint cols, const float alpha, const float beta)
{
    size_t j = get_global_id(0);
    if (j >= cols)
        return;
    float s = 0.0f;
    for (uint r = 0; r < rows; r++)
        s += x[(size_t)r * cols + j];
    out[j] = alpha * s + (beta == 0.0f ? 0.0f : beta * out[j]);
}

// out[j] = alpha * (sum_r a[r, j] - sum_r b[r, j]) + beta * out[j]:
// the bias gradient of contrastive divergence, positive minus negative phase.
__kernel void col_sum_diff(__global float *out, __global const float *a, __global const float *b,
                           const uint rows, const uint cols, const float alpha, const float beta)
{
    size_t j = get_global_id(0);
    if (j >= cols)
        return;
    float s = 0.0f;
    for (uint r = 0; r < rows; r++) {
        size_t k = (size_t)r * cols + j;
        s += a[k] - b[k];
    }
    out[j] = alpha * s + (beta == 0.0f ? 0.0f : beta * out[j]);
}

// acc[r] += sum_j (a[r, j] - b[r, j])^2: reconstruction error accumulated on
// the device across a whole epoch, read back once.
__kernel void row_sq_err_acc(__global float *acc, __global const float *a,
                             __global const float *b, const uint rows, const uint cols)
{
    size_t r = get_global_id(0);
    if (r >= rows)
        return;
    float s = 0.0f;
    for (uint j = 0; j < cols; j++) {
        float d = a[(size_t)r * cols + j] - b[(size_t)r * cols + j];
        s += d * d;
    }
    acc[r] += s;
}

// Free energy of each row of v given its hidden pre-activations hpre = v W:
//   Bernoulli visible: F(v) = -v.b - sum_j softplus(c_j + hpre_j)
//   Gaussian visible:  F(v) = 0.5 |v - b|^2 - sum_j softplus(c_j + hpre_j)
// `scale` multiplies the hidden term (1 for the plain model; beta in AIS).
__kernel void free_energy_rows(__global float *out, __global const float *v,
                               __global const float *vb, __global const float *hpre,
                               __global const float *hb, const uint rows, const uint nv,
                               const uint nh, const uint gaussian, const float scale)
{
    size_t r = get_global_id(0);
    if (r >= rows)
        return;
    float vis = 0.0f;
    for (uint i = 0; i < nv; i++) {
        float x = v[(size_t)r * nv + i];
        if (gaussian) {
            float d = x - vb[i];
            vis += 0.5f * d * d;
        } else {
            vis -= x * vb[i];
        }
    }
    float hid = 0.0f;
    for (uint j = 0; j < nh; j++)
        hid += bz_softplus(scale * (hpre[(size_t)r * nh + j] + hb[j]));
    out[r] = vis - hid;
}
