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
    // Straight-line scalar code with guarded stores, which CPU devices
    // vectorise across work-items (see BZ_PHILOX_WORDS).
    ulong end = offset + n;
    ulong block = (offset >> 2) + get_global_id(0);
    ulong e0 = block << 2;
    uint r0, r1, r2, r3;
    BZ_PHILOX_WORDS(seed, stream, block, r0, r1, r2, r3);
#define BZ_SAMPLE(k, word)                                                          \
    if (e0 + k >= offset && e0 + k < end) {                                         \
        uint i_ = (uint)(e0 + k - offset);                                          \
        out[i_] = bz_u01(word) < p[i_] ? 1.0f : 0.0f;                               \
    }
    BZ_SAMPLE(0, r0)
    BZ_SAMPLE(1, r1)
    BZ_SAMPLE(2, r2)
    BZ_SAMPLE(3, r3)
#undef BZ_SAMPLE
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
    // Scalar, branch-light code (see BZ_PHILOX_WORDS): the guards below
    // become masked stores, so CPU devices vectorise across work-items.
    ulong end = offset + (ulong)rows * cols;
    ulong block = (offset >> 2) + get_global_id(0);
    ulong e0 = block << 2;
    uint r0, r1, r2, r3;
    BZ_PHILOX_WORDS(seed, stream, block, r0, r1, r2, r3);
#define BZ_SIGMOID_SAMPLE(k, word)                                                  \
    if (e0 + k >= offset && e0 + k < end) {                                         \
        uint i_ = (uint)(e0 + k - offset);                                          \
        float p_ = bz_sigmoid(x[i_] + b[i_ % cols]);                                \
        prob[i_] = p_;                                                              \
        sample[i_] = bz_u01(word) < p_ ? 1.0f : 0.0f;                               \
    }
    BZ_SIGMOID_SAMPLE(0, r0)
    BZ_SIGMOID_SAMPLE(1, r1)
    BZ_SIGMOID_SAMPLE(2, r2)
    BZ_SIGMOID_SAMPLE(3, r3)
#undef BZ_SIGMOID_SAMPLE
}
