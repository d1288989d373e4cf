// Metropolis sweeps of Ising models for annealing and parallel tempering.
// Built as its own program with philox.cl (src/models/anneal.c).
//
// The model: E(s) = sum_{i<j} J_ij s_i s_j + sum_i h_i s_i, s_i = +-1; the
// couplings come as a symmetric CSR matrix (both directions stored) or a
// dense n x n row-major matrix with a zero diagonal. Each replica keeps its
// local fields f_i = h_i + sum_j J_ij s_j; flipping s_i changes E by
// -2 s_i f_i.
//
// Scheme: one work-item is one replica, a single Markov chain updated one
// spin at a time in index order (systematic-scan Metropolis), so a sweep has
// exactly sequential semantics and no two spins of a chain are ever updated
// at once; the device's parallelism is across replicas. A launch runs many
// sweeps, and only an accepted flip touches the neighbours' fields.
//
// Spins and fields are addressed as i * si + r * sr: replica-major on CPU
// devices (each work-item streams its own rows), spin-major on GPUs
// (neighbouring work-items read neighbouring words). The arithmetic is the
// same either way and is mirrored operation for operation by
// src/ref/anneal_ref.c, so results are bit-identical on every device.
// Contraction into fused multiply-adds would break that, hence:
#pragma OPENCL FP_CONTRACT OFF

// Counter layout: replica chain c draws from stream c; the Metropolis test of
// spin i in global sweep t uses element t * n + i of that stream (a word is
// drawn only when the test needs one). Initial spins use stream
// c + BZ_AN_INIT_STREAM, element i.
#define BZ_AN_INIT_STREAM 0x4000000000000000UL
#define BZ_AN_LOG2E 1.44269504f
#define BZ_AN_LN2 0.693147181f

// 2^-x for 0 < x < 24, from +, * and an exponent write only (no exp(),
// whose last bit differs between devices): x = k + f, 2^-f = 2^-1/2 *
// e^{-(f - 1/2) ln 2} by a degree-7 Taylor polynomial (relative error below
// 1e-8, under float rounding), times 2^-k.
inline float bz_an_exp2_neg(float x)
{
    int k = (int)x;
    float y = (x - (float)k - 0.5f) * BZ_AN_LN2;
    float p = -1.0f / 5040.0f;
    p = p * y + 1.0f / 720.0f;
    p = p * y - 1.0f / 120.0f;
    p = p * y + 1.0f / 24.0f;
    p = p * y - 1.0f / 6.0f;
    p = p * y + 0.5f;
    p = p * y - 1.0f;
    p = p * y + 1.0f;
    p = p * 0.707106781f;
    return p * as_float((uint)(127 - k) << 23);
}

// Recomputes f = h + J s for every replica; with `randomize`, first draws
// uniform random spins. energy[r] gets the replica's energy (without the
// problem's constant).
__kernel void anneal_init(__global const uint *rowp, __global const uint *col,
                          __global const float *val, __global const float *h,
                          __global char *spin, __global float *field, __global float *energy,
                          uint n, uint R, uint dense, uint si, uint sr, uint randomize,
                          ulong seed, ulong stream_base)
{
    uint r = get_global_id(0);
    if (r >= R)
        return;
    size_t base = (size_t)r * sr;
    if (randomize) {
        ulong stream = stream_base + r + BZ_AN_INIT_STREAM;
        for (uint i = 0; i < n; i += 4) {
            uint c0, c1, c2, c3;
            BZ_PHILOX_WORDS(seed, stream, (ulong)(i >> 2), c0, c1, c2, c3);
            uint w[4] = {c0, c1, c2, c3};
            for (uint q = 0; q < 4 && i + q < n; q++)
                spin[base + (size_t)(i + q) * si] = (w[q] >> 31) ? (char)1 : (char)-1;
        }
    }
    float e = 0.0f;
    for (uint i = 0; i < n; i++) {
        float f = h[i];
        if (dense) {
            __global const float *row = val + (size_t)i * n;
            for (uint j = 0; j < n; j++)
                f = f + row[j] * (float)spin[base + (size_t)j * si];
        } else {
            for (uint k = rowp[i]; k < rowp[i + 1]; k++)
                f = f + val[k] * (float)spin[base + (size_t)col[k] * si];
        }
        field[base + (size_t)i * si] = f;
        e = e + (float)spin[base + (size_t)i * si] * (f + h[i]);
    }
    energy[r] = 0.5f * e;
}

// The sweeps of one replica with spin stride SI: a macro, so that the
// replica-major layout (SI = 1) compiles without a multiply per access (the
// neighbour loop of a flip is most of the time on a CPU).
#define BZ_AN_SWEEPS(SI)                                                                   \
    for (uint t = 0; t < sweeps; t++) {                                                    \
        float b = beta[(size_t)(beta_base + t) * bs + (size_t)r * br];                     \
        ulong e0 = (sweep_base + t) * (ulong)n;                                            \
        for (uint i = 0; i < n; i++) {                                                     \
            size_t at = base + (size_t)i * (SI);                                           \
            float f = field[at];                                                           \
            char s = spin[at];                                                             \
            float de = s > 0 ? -2.0f * f : 2.0f * f;                                       \
            if (de > 0.0f) {                                                               \
                float x = (b * de) * BZ_AN_LOG2E;                                          \
                if (!(x < 24.0f))                                                          \
                    continue;                                                              \
                ulong el = e0 + i;                                                         \
                if ((el >> 2) != cached) {                                                 \
                    cached = el >> 2;                                                      \
                    BZ_PHILOX_WORDS(seed, stream, cached, c0, c1, c2, c3);                 \
                }                                                                          \
                uint q = (uint)(el & 3);                                                   \
                uint w = q == 0 ? c0 : q == 1 ? c1 : q == 2 ? c2 : c3;                     \
                float u = (float)((w >> 8) + 1u) * (1.0f / 16777216.0f);                   \
                if (!(u < bz_an_exp2_neg(x)))                                              \
                    continue;                                                              \
            }                                                                              \
            s = (char)-s;                                                                  \
            spin[at] = s;                                                                  \
            float d = s > 0 ? 2.0f : -2.0f;                                                \
            if (dense) {                                                                   \
                __global const float *row = val + (size_t)i * n;                           \
                for (uint j = 0; j < n; j++)                                               \
                    field[base + (size_t)j * (SI)] = field[base + (size_t)j * (SI)] + row[j] * d; \
            } else {                                                                       \
                for (uint k = rowp[i]; k < rowp[i + 1]; k++) {                             \
                    size_t aj = base + (size_t)col[k] * (SI);                              \
                    field[aj] = field[aj] + val[k] * d;                                    \
                }                                                                          \
            }                                                                              \
        }                                                                                  \
    }

// `sweeps` Metropolis sweeps of every replica. Sweep t of this launch (global
// sweep sweep_base + t) runs replica r at beta[(beta_base + t) * bs + r * br]:
// bs = 1, br = 0 for an annealing schedule shared by all replicas, bs = 0,
// br = 1 for one temperature per replica (parallel tempering). energy[r] gets
// the energy at the end, from the fields.
__kernel void anneal_sweeps(__global const uint *rowp, __global const uint *col,
                            __global const float *val, __global const float *h,
                            __global char *spin, __global float *field, __global float *energy,
                            __global const float *beta, uint beta_base, uint bs, uint br,
                            uint n, uint R, uint dense, uint si, uint sr, uint sweeps,
                            ulong seed, ulong stream_base, ulong sweep_base)
{
    uint r = get_global_id(0);
    if (r >= R)
        return;
    size_t base = (size_t)r * sr;
    ulong stream = stream_base + r;
    ulong cached = ~0UL;
    uint c0 = 0, c1 = 0, c2 = 0, c3 = 0;
    if (si == 1) {
        BZ_AN_SWEEPS(1)
    } else {
        BZ_AN_SWEEPS(si)
    }
    float e = 0.0f;
    for (uint i = 0; i < n; i++) {
        size_t at = base + (size_t)i * si;
        e = e + (float)spin[at] * (field[at] + h[i]);
    }
    energy[r] = 0.5f * e;
}

// The colour-parallel sweep, for devices with few replicas to run and many
// work-items per replica to spare (sparse couplings only). One work-group is
// one replica, its spins in local memory; the variables come in classes of a
// graph colouring (order[start[c] .. start[c+1]) is class c), no two of a
// class coupled, so the work-items update a class at once and a barrier
// separates classes: the sweep is exactly a sequential sweep that visits the
// variables class by class. Each field is summed afresh from the
// neighbours' spins (no field memory to keep coherent); the Metropolis test
// of variable i in sweep t draws element t * n + i of the replica's stream,
// as anneal_sweeps does. Spins are replica-major (i + r * n).
__kernel void anneal_colour_sweeps(__global const uint *rowp, __global const uint *col,
                                   __global const float *val, __global const float *h,
                                   __global char *spin, __global float *energy,
                                   __global const float *beta, uint beta_base, uint bs, uint br,
                                   __global const uint *order, __global const uint *start,
                                   uint n_colours, uint n, uint sweeps, ulong seed,
                                   ulong stream_base, ulong sweep_base, __local char *ls)
{
    uint r = get_group_id(0), lid = get_local_id(0), L = get_local_size(0);
    size_t base = (size_t)r * n;
    ulong stream = stream_base + r;
    for (uint i = lid; i < n; i += L)
        ls[i] = spin[base + i];
    barrier(CLK_LOCAL_MEM_FENCE);
    for (uint t = 0; t < sweeps; t++) {
        float b = beta[(size_t)(beta_base + t) * bs + (size_t)r * br];
        ulong e0 = (sweep_base + t) * (ulong)n;
        for (uint c = 0; c < n_colours; c++) {
            for (uint q = start[c] + lid; q < start[c + 1]; q += L) {
                uint i = order[q];
                float f = h[i];
                for (uint k = rowp[i]; k < rowp[i + 1]; k++)
                    f = f + val[k] * (float)ls[col[k]];
                char s = ls[i];
                float de = s > 0 ? -2.0f * f : 2.0f * f;
                if (de > 0.0f) {
                    float x = (b * de) * BZ_AN_LOG2E;
                    if (!(x < 24.0f))
                        continue;
                    ulong el = e0 + i;
                    uint c0, c1, c2, c3;
                    BZ_PHILOX_WORDS(seed, stream, el >> 2, c0, c1, c2, c3);
                    uint qq = (uint)(el & 3);
                    uint w = qq == 0 ? c0 : qq == 1 ? c1 : qq == 2 ? c2 : c3;
                    float u = (float)((w >> 8) + 1u) * (1.0f / 16777216.0f);
                    if (!(u < bz_an_exp2_neg(x)))
                        continue;
                }
                ls[i] = (char)-s;
            }
            barrier(CLK_LOCAL_MEM_FENCE);
        }
    }
    for (uint i = lid; i < n; i += L)
        spin[base + i] = ls[i];
    if (lid == 0) {
        float e = 0.0f;
        for (uint i = 0; i < n; i++) {
            float f = h[i];
            for (uint k = rowp[i]; k < rowp[i + 1]; k++)
                f = f + val[k] * (float)ls[col[k]];
            e = e + (float)ls[i] * (f + h[i]);
        }
        energy[r] = 0.5f * e;
    }
}
