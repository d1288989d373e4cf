// Sampling from the counter-based generator. Each work-item owns one Philox
// block (four consecutive elements of the stream), so the bits an element gets
// depend only on (seed, stream, offset + its index), never on the launch.
// `offset` is the stream position of element 0 of this call.

// Raw generator output, for bit-exact tests against the host reference.
__kernel void philox_u32(__global uint *out, const uint n, const ulong seed, const ulong stream,
                         const ulong offset)
{
    ulong first = offset >> 2;
    ulong block = first + get_global_id(0);
    ulong end = offset + n;
    if ((block << 2) >= end)
        return;
    uint4 r = bz_philox_block(seed, stream, block);
    for (uint w = 0; w < 4; w++) {
        ulong e = (block << 2) + w;
        if (e >= offset && e < end)
            out[e - offset] = bz_word(r, w);
    }
}

// out[i] = (u_i < p[i]) ? 1 : 0. out may alias p.
__kernel void bernoulli(__global float *out, __global const float *p, const uint n,
                        const ulong seed, const ulong stream, const ulong offset)
{
    ulong first = offset >> 2;
    ulong block = first + get_global_id(0);
    ulong end = offset + n;
    if ((block << 2) >= end)
        return;
    uint4 r = bz_philox_block(seed, stream, block);
    ulong e0 = block << 2;
    if (e0 >= offset && e0 + 4 <= end) {
        // Whole block inside the call: straight-line code the compiler can
        // vectorise (the common case; only the two ends take the loop).
        size_t i = (size_t)(e0 - offset);
        out[i] = bz_u01(r.x) < p[i] ? 1.0f : 0.0f;
        out[i + 1] = bz_u01(r.y) < p[i + 1] ? 1.0f : 0.0f;
        out[i + 2] = bz_u01(r.z) < p[i + 2] ? 1.0f : 0.0f;
        out[i + 3] = bz_u01(r.w) < p[i + 3] ? 1.0f : 0.0f;
        return;
    }
    for (uint w = 0; w < 4; w++) {
        ulong e = e0 + w;
        if (e >= offset && e < end) {
            size_t i = (size_t)(e - offset);
            out[i] = bz_u01(bz_word(r, w)) < p[i] ? 1.0f : 0.0f;
        }
    }
}

// out[i] = mean[i] + N(0, 1), Box-Muller on word pairs (0,1) and (2,3) of a
// block. out may alias mean.
__kernel void gaussian(__global float *out, __global const float *mean, const uint n,
                       const ulong seed, const ulong stream, const ulong offset)
{
    ulong first = offset >> 2;
    ulong block = first + get_global_id(0);
    ulong end = offset + n;
    if ((block << 2) >= end)
        return;
    uint4 r = bz_philox_block(seed, stream, block);
    float rad0 = sqrt(-2.0f * log(bz_u01_open0(r.x)));
    float rad1 = sqrt(-2.0f * log(bz_u01_open0(r.z)));
    float th0 = 6.283185307179586f * bz_u01(r.y);
    float th1 = 6.283185307179586f * bz_u01(r.w);
    float z[4] = {rad0 * cos(th0), rad0 * sin(th0), rad1 * cos(th1), rad1 * sin(th1)};
    for (uint w = 0; w < 4; w++) {
        ulong e = (block << 2) + w;
        if (e >= offset && e < end) {
            size_t i = (size_t)(e - offset);
            out[i] = mean[i] + z[w];
        }
    }
}

// Fused hidden-unit step of Gibbs sampling: prob = sigmoid(x + b) and
// sample ~ Bernoulli(prob), in one pass over the pre-activations. The stream
// position of element i is offset + i, as in `bernoulli`. prob may alias x;
// sample may be the same buffer as neither.
__kernel void bias_sigmoid_bernoulli(__global float *prob, __global float *sample,
                                     __global const float *x, __global const float *b,
                                     const uint rows, const uint cols, const ulong seed,
                                     const ulong stream, const ulong offset)
{
    ulong n = (ulong)rows * cols;
    ulong first = offset >> 2;
    ulong block = first + get_global_id(0);
    ulong end = offset + n;
    if ((block << 2) >= end)
        return;
    uint4 r = bz_philox_block(seed, stream, block);
    ulong e0 = block << 2;
    if (e0 >= offset && e0 + 4 <= end) {
        size_t i = (size_t)(e0 - offset);
        float4 z = (float4)(x[i] + b[i % cols], x[i + 1] + b[(i + 1) % cols],
                            x[i + 2] + b[(i + 2) % cols], x[i + 3] + b[(i + 3) % cols]);
        float4 p = 1.0f / (1.0f + exp(-z));
        prob[i] = p.x;
        prob[i + 1] = p.y;
        prob[i + 2] = p.z;
        prob[i + 3] = p.w;
        sample[i] = bz_u01(r.x) < p.x ? 1.0f : 0.0f;
        sample[i + 1] = bz_u01(r.y) < p.y ? 1.0f : 0.0f;
        sample[i + 2] = bz_u01(r.z) < p.z ? 1.0f : 0.0f;
        sample[i + 3] = bz_u01(r.w) < p.w ? 1.0f : 0.0f;
        return;
    }
    for (uint w = 0; w < 4; w++) {
        ulong e = e0 + w;
        if (e >= offset && e < end) {
            size_t i = (size_t)(e - offset);
            float p = bz_sigmoid(x[i] + b[i % cols]);
            prob[i] = p;
            sample[i] = bz_u01(bz_word(r, w)) < p ? 1.0f : 0.0f;
        }
    }
}
