// Row-wise bias and activation kernels. Matrices are row-major, rows x cols;
// the bias has cols entries.

// y = sigmoid(x + b). y may alias x.
__kernel void bias_sigmoid(__global float *y, __global const float *x, __global const float *b,
                           const uint rows, const uint cols)
{
    size_t j = get_global_id(0), r = get_global_id(1);
    if (j >= cols || r >= rows)
        return;
    size_t i = r * cols + j;
    y[i] = bz_sigmoid(x[i] + b[j]);
}

// y = x + b: the mean of Gaussian units with unit variance. y may alias x.
__kernel void bias_add(__global float *y, __global const float *x, __global const float *b,
                       const uint rows, const uint cols)
{
    size_t j = get_global_id(0), r = get_global_id(1);
    if (j >= cols || r >= rows)
        return;
    size_t i = r * cols + j;
    y[i] = x[i] + b[j];
}

// y = sigmoid(scale * (x + b)) with a separate base bias term:
// y = sigmoid(scale * (x + b) + (1 - scale) * base). Used by annealed
// importance sampling, where scale is the inverse temperature beta.
__kernel void bias_sigmoid_tempered(__global float *y, __global const float *x,
                                    __global const float *b, __global const float *base,
                                    const uint rows, const uint cols, const float scale)
{
    size_t j = get_global_id(0), r = get_global_id(1);
    if (j >= cols || r >= rows)
        return;
    size_t i = r * cols + j;
    float z = scale * (x[i] + b[j]);
    if (base)
        z += (1.0f - scale) * base[j];
    y[i] = bz_sigmoid(z);
}

// Gathers rows of x by index: out[r] = x[idx[r]]. Used to build shuffled
// minibatches from a dataset that lives on the device.
// Row r of out starts at r * out_pitch: a tile-aligned layout (rbm_pad.c)
// takes the rows with padding columns that keep their zeros.
__kernel void gather_rows(__global float *out, __global const float *x, __global const uint *idx,
                          const uint idx_off, const uint rows, const uint cols,
                          const uint out_pitch)
{
    size_t c = get_global_id(0), r = get_global_id(1);
    if (c >= cols || r >= rows)
        return;
    out[r * out_pitch + c] = x[(size_t)idx[idx_off + r] * cols + c];
}

// y = a * x (element-wise scale), y may alias x.
__kernel void scale(__global float *y, __global const float *x, const uint n, const float a)
{
    size_t i = get_global_id(0);
    if (i >= n)
        return;
    y[i] = a * x[i];
}

// C = beta * C over an m x n block with leading dimension ldc: the k = 0 case
// of GEMM, which CLBlast refuses.
__kernel void scale_block(__global float *c, const uint off, const uint ldc, const uint m,
                          const uint n, const float beta)
{
    size_t i = get_global_id(0);
    if (i >= (size_t)m * n)
        return;
    size_t p = off + (i / n) * ldc + i % n;
    c[p] = beta == 0.0f ? 0.0f : beta * c[p];
}
