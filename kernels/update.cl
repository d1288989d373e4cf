// Parameter updates: SGD with momentum and L2 weight decay.

// velocity = momentum * velocity + lr * (grad - decay * w); w += velocity
__kernel void momentum_update(__global float *w, __global float *vel, __global const float *grad,
                              const uint n, const float lr, const float momentum,
                              const float decay)
{
    size_t i = get_global_id(0);
    if (i >= n)
        return;
    float v = momentum * vel[i] + lr * (grad[i] - decay * w[i]);
    vel[i] = v;
    w[i] += v;
}

// Second half of the update when the gradient product already accumulated
// into the velocity (the GEMM ran with beta = momentum and alpha = lr / batch):
// velocity -= lr * decay * w; w += velocity. Saves a pass over W per step.
// Without weight decay the velocity is already final and is not stored again:
// the kernel is memory-bound, and that store is a quarter of its traffic.
inline void bz_decay_step(__global float *w, __global float *vel, size_t i, float lr_decay)
{
    float v = vel[i] - lr_decay * w[i];
    if (lr_decay != 0.0f)
        vel[i] = v;
    w[i] += v;
}

__kernel void decay_apply(__global float *w, __global float *vel, const uint n,
                          const float lr_decay)
{
    size_t i = get_global_id(0);
    if (i < n)
        bz_decay_step(w, vel, i, lr_decay);
}

// Rank-1 update W[m x n] += a * x y^T, for batch size 1 and online learning.
__kernel void outer_update(__global float *w, __global const float *x, __global const float *y,
                           const uint m, const uint n, const float a)
{
    size_t i = get_global_id(0);
    if (i >= (size_t)m * n)
        return;
    w[i] += a * x[i / n] * y[i % n];
}

// velocity = a * s + momentum * velocity; bias += velocity, for bias j. The
// velocity is not read when momentum is 0, so a fresh buffer needs no fill.
inline void bz_bias_step(__global float *bias, __global float *vel, size_t j, float a, float s,
                         float momentum)
{
    float v = a * s + (momentum == 0.0f ? 0.0f : momentum * vel[j]);
    vel[j] = v;
    bias[j] += v;
}

// The whole update of one layer of DBN fine-tuning once its gradient product
// has accumulated into the weight velocity: the first work-groups finish the
// n weights as decay_apply does, the work-groups after them the biases from a
// batch of deltas, velocity = momentum * velocity + a * sum_r x[r, j]; bias +=
// velocity. One launch per layer instead of two: on a CPU device each launch
// costs scheduling beyond its work. The split is by work-group, so that each
// group runs one branch: POCL vectorises a group across its work-items only
// when their control flow agrees (split by work-item, the weights' groups ran
// three to five times slower).
__kernel void layer_step(__global float *w, __global float *wvel, const uint n,
                         const float lr_decay, __global float *bias, __global float *vel,
                         __global const float *x, const uint rows, const uint cols,
                         const float a, const float momentum)
{
    size_t wg = get_local_size(0), groups = (n + wg - 1) / wg, g = get_group_id(0);
    if (g < groups) {
        size_t i = get_global_id(0);
        if (i < n)
            bz_decay_step(w, wvel, i, lr_decay);
        return;
    }
    size_t j = (g - groups) * wg + get_local_id(0);
    if (j >= cols)
        return;
    float s = 0.0f;
    for (uint r = 0; r < rows; r++)
        s += x[(size_t)r * cols + j];
    bz_bias_step(bias, vel, j, a, s, momentum);
}

// Both bias updates of a CD step in one launch, velocity = momentum *
// velocity + a * sum_r (x0[r, j] - x1[r, j]); bias += velocity: the first nv
// work-items take the visible biases, the next nh the hidden ones. Each half
// is a few hundred items, so on a CPU device the four launches this replaces
// cost more than their work. Same arithmetic as col_sum_diff + decay_apply.
// With err non-null, the visible items also add sum_r (v0 - v1)^2 of their
// column to err[j]: the reconstruction error, without a pass of its own when
// v1 holds the reconstruction.
__kernel void bias_momentum_pair(__global float *vb, __global float *vvb,
                                 __global const float *v0, __global const float *v1,
                                 const uint nv, __global float *hb, __global float *vhb,
                                 __global const float *h0, __global const float *h1,
                                 const uint nh, const uint rows, const float a,
                                 const float momentum, __global float *err)
{
    size_t g = get_global_id(0);
    if (g >= (size_t)nv + nh)
        return;
    bool vis = g < nv;
    size_t j = vis ? g : g - nv, cols = vis ? nv : nh;
    __global float *bias = vis ? vb : hb;
    __global float *vel = vis ? vvb : vhb;
    __global const float *x0 = vis ? v0 : h0;
    __global const float *x1 = vis ? v1 : h1;
    float s = 0.0f, s2 = 0.0f;
    for (uint r = 0; r < rows; r++) {
        size_t k = (size_t)r * cols + j;
        float d = x0[k] - x1[k];
        s += d;
        s2 += d * d;
    }
    if (vis && err)
        err[j] += s2;
    bz_bias_step(bias, vel, j, a, s, momentum);
}
