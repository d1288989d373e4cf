// Kernels of deep belief networks: the feed-forward pass and backpropagation
// of supervised fine-tuning, and the softmax label group of the top RBM.
// Element-wise kernels take one work-item per element; the row-wise ones
// (softmax, cross-entropy) one per row, since the class count is small.

// y = max(x + b, 0). y may alias x.
__kernel void bias_relu(__global float *y, __global const float *x, __global const float *b,
                        const uint rows, const uint cols)
{
    size_t j = get_global_id(0), r = get_global_id(1);
    if (j >= cols || r >= rows)
        return;
    size_t i = r * cols + j;
    y[i] = fmax(x[i] + b[j], 0.0f);
}

// Row-wise softmax of x + b. y may alias x.
__kernel void bias_softmax(__global float *y, __global const float *x, __global const float *b,
                           const uint rows, const uint cols)
{
    size_t r = get_global_id(0);
    if (r >= rows)
        return;
    size_t o = r * cols;
    float m = -INFINITY;
    for (uint j = 0; j < cols; j++)
        m = fmax(m, x[o + j] + b[j]);
    float s = 0.0f;
    for (uint j = 0; j < cols; j++) {
        float e = exp(x[o + j] + b[j] - m);
        y[o + j] = e;
        s += e;
    }
    float inv = 1.0f / s;
    for (uint j = 0; j < cols; j++)
        y[o + j] *= inv;
}

// Softmax output layer and cross-entropy gradient in one pass per row:
//   prob = softmax(x + b), delta = scale * (prob - onehot(label)),
//   loss[r] += -log prob[label] (from the log-sum-exp, so never -inf),
//   correct[r] += (argmax prob == label), first maximum on ties.
// Labels are stored as floats (exact below 2^24). prob may alias x.
__kernel void softmax_xent_grad(__global float *prob, __global float *delta,
                                __global float *loss, __global float *correct,
                                __global const float *x, __global const float *b,
                                __global const float *labels, const uint rows, const uint cols,
                                const float scale)
{
    size_t r = get_global_id(0);
    if (r >= rows)
        return;
    size_t o = r * cols;
    uint y = (uint)labels[r];
    float m = -INFINITY;
    uint arg = 0;
    for (uint j = 0; j < cols; j++) {
        float z = x[o + j] + b[j];
        if (z > m) {
            m = z;
            arg = j;
        }
    }
    float s = 0.0f, zy = 0.0f;
    for (uint j = 0; j < cols; j++) {
        float z = x[o + j] + b[j];
        if (j == y)
            zy = z;
        float e = exp(z - m);
        prob[o + j] = e;
        s += e;
    }
    float inv = 1.0f / s;
    for (uint j = 0; j < cols; j++) {
        float p = prob[o + j] * inv;
        prob[o + j] = p;
        delta[o + j] = scale * (p - (j == y ? 1.0f : 0.0f));
    }
    loss[r] += (m + log(s)) - zy;
    correct[r] += arg == y ? 1.0f : 0.0f;
}

// The keep decision of inverted dropout for element e of a stream: the same
// bits in the forward and the backward pass, so no mask is stored.
inline bool bz_dropout_keep(ulong seed, ulong stream, ulong e, float p)
{
    uint4 r = bz_philox_block(seed, stream, e >> 2);
    return bz_u01(bz_word(r, (uint)(e & 3))) >= p;
}

// Inverted dropout in place: a = keep ? a / (1 - p) : 0 with P(keep) = 1 - p.
__kernel void dropout_fwd(__global float *a, const uint n, const float p, const ulong seed,
                          const ulong stream, const ulong offset)
{
    size_t i = get_global_id(0);
    if (i >= n)
        return;
    a[i] = bz_dropout_keep(seed, stream, offset + i, p) ? a[i] / (1.0f - p) : 0.0f;
}

// Backpropagation through an activation (and the dropout that followed it):
// delta *= f'(z), with f' from the stored output a (after dropout when p > 0):
//   act 0, sigmoid: f' = h (1 - h);  act 1, ReLU: f' = [h > 0];
// where h = a (1 - p) for a kept unit; a dropped unit passes no gradient,
// and a kept one gets the dropout's 1 / (1 - p) too.
__kernel void act_backward(__global float *delta, __global const float *a, const uint n,
                           const uint act, const float p, const ulong seed, const ulong stream,
                           const ulong offset)
{
    size_t i = get_global_id(0);
    if (i >= n)
        return;
    float g = 1.0f, h = a[i];
    if (p > 0.0f) {
        if (!bz_dropout_keep(seed, stream, offset + i, p)) {
            delta[i] = 0.0f;
            return;
        }
        g = 1.0f / (1.0f - p);
        h = h * (1.0f - p);
    }
    float d = act == 0 ? h * (1.0f - h) : (h > 0.0f ? 1.0f : 0.0f);
    delta[i] *= g * d;
}

// The top RBM's visible layer: the first cols - k units are Bernoulli, the
// last k a softmax group (the label). Both kernels below launch
// rows * (cols - k) + rows work-items: one per Bernoulli unit, then one per
// row that owns its whole label group, so y may alias x.

// Means: sigmoid(x + b) for the Bernoulli units, softmax of x + b over the
// group.
__kernel void bias_sigmoid_softmax_tail(__global float *y, __global const float *x,
                                        __global const float *b, const uint rows,
                                        const uint cols, const uint k)
{
    size_t i = get_global_id(0);
    uint first = cols - k;
    size_t nb = (size_t)rows * first;
    if (i < nb) {
        size_t r = i / first, c = i % first, e = r * cols + c;
        y[e] = bz_sigmoid(x[e] + b[c]);
        return;
    }
    size_t r = i - nb;
    if (r >= rows || k == 0)
        return;
    size_t o = r * cols + first;
    float m = -INFINITY;
    for (uint j = 0; j < k; j++)
        m = fmax(m, x[o + j] + b[first + j]);
    float s = 0.0f;
    for (uint j = 0; j < k; j++) {
        float e = exp(x[o + j] + b[first + j] - m);
        y[o + j] = e;
        s += e;
    }
    float inv = 1.0f / s;
    for (uint j = 0; j < k; j++)
        y[o + j] *= inv;
}

// Samples given the means: Bernoulli(mean) for the first units, for the
// group one category, one-hot. Element e (row-major index r * cols + c) uses
// stream position offset + e, as `bernoulli` does; the group draws the
// uniform of its first element and picks the first unit whose running sum
// of means exceeds it (the last when rounding leaves the sum below).
__kernel void sample_bernoulli_softmax_tail(__global float *out, __global const float *mean,
                                            const uint rows, const uint cols, const uint k,
                                            const ulong seed, const ulong stream,
                                            const ulong offset)
{
    size_t i = get_global_id(0);
    uint first = cols - k;
    size_t nb = (size_t)rows * first;
    if (i < nb) {
        size_t r = i / first, c = i % first, e = r * cols + c;
        uint4 q = bz_philox_block(seed, stream, (offset + e) >> 2);
        out[e] = bz_u01(bz_word(q, (uint)((offset + e) & 3))) < mean[e] ? 1.0f : 0.0f;
        return;
    }
    size_t r = i - nb;
    if (r >= rows || k == 0)
        return;
    size_t o = r * cols + first;
    ulong e = offset + o;
    uint4 q = bz_philox_block(seed, stream, e >> 2);
    float u = bz_u01(bz_word(q, (uint)(e & 3)));
    uint pick = k - 1;
    float acc = 0.0f;
    for (uint j = 0; j < k; j++) {
        acc += mean[o + j];
        if (u < acc) {
            pick = j;
            break;
        }
    }
    for (uint j = 0; j < k; j++)
        out[o + j] = j == pick ? 1.0f : 0.0f;
}
