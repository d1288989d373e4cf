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
__kernel void decay_apply(__global float *w, __global float *vel, const uint n,
                          const float lr_decay)
{
    size_t i = get_global_id(0);
    if (i >= n)
        return;
    float v = vel[i] - lr_decay * w[i];
    vel[i] = v;
    w[i] += v;
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
