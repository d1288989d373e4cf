/*
 * The dynamic Boltzmann machine (src/models/dybm.h states the model). B
 * series share the parameters and advance in lock-step; each keeps its
 * inputs z (B x M, M = (d-1+K)*N): the FIFO [x[t-1], ..., x[t-d+1]] and the
 * eligibility traces alpha_1..alpha_K. Two copies of z (zc, zn) swap every
 * step.
 *
 * Parameters: P (M x NP, row m the input, column i the unit; NP is N
 * rounded up to 8, the padding zero) and b (NP).
 * mode: 0 predict, 1 learn (one optimiser step per time step), 2 generate
 * (x comes from the model: Gaussian mean + X, binary (X < p)).
 * opt: 0 SGD, 1 RMSProp, 2 AdaGrad. Everything as src/ref/dybm_ref.c.
 */

inline float dybm_act(int binary, float a)
{
    return binary ? 1.0f / (1.0f + exp(-a)) : a;
}

inline float dybm_opt(int opt, float lr, float rho, float eps, float g, __global float *s)
{
    if (opt == 1) {
        float v = rho * *s + (1.0f - rho) * g * g;
        *s = v;
        return lr * g / (sqrt(v) + eps);
    }
    if (opt == 2) {
        float v = *s + g * g;
        *s = v;
        return lr * g / (sqrt(v) + eps);
    }
    return lr * g;
}

/* z' from z and the step's x (xc, B x N): the FIFO shifts by one lag, the
 * value leaving it (x[t-d+1]; x[t] itself when d = 1) enters every trace:
 * alpha_k' = lambda_k alpha_k + x[t-d+1]. */
inline float dybm_shift_one(uint N, uint M, uint D1, __global const float *decay,
                            __global const float *zc, __global const float *xc, uint bb, uint m)
{
    uint j = m % N;
    if (m < D1 * N)
        return m < N ? xc[bb * N + j] : zc[bb * M + m - N];
    uint k = (m - D1 * N) / N;
    float leaving = D1 ? zc[bb * M + (D1 - 1) * N + j] : xc[bb * N + j];
    return decay[k] * zc[bb * M + m] + leaving;
}

/* z' for variable j of series bb, through all lags and traces, with no
 * integer division (the same values as dybm_shift_one). */
inline void dybm_shift_var(uint N, uint M, uint D1, uint K, __global const float *decay,
                           __global const float *zc, __global const float *XC, __global float *zn,
                           uint bb, uint j)
{
    __global const float *z = zc + bb * M;
    __global float *o = zn + bb * M;
    float x = XC[bb * N + j];
    float leaving = D1 ? z[(D1 - 1) * N + j] : x;
    for (uint k = 0; k < K; k++)
        o[(D1 + k) * N + j] = decay[k] * z[(D1 + k) * N + j] + leaving;
    for (uint s = D1; s-- > 1;)
        o[s * N + j] = z[(s - 1) * N + j];
    if (D1)
        o[j] = x;
}

/* The optimiser on 8 parameters at once. */
inline float8 dybm_opt8(int opt, float lr, float rho, float eps, float8 g, __global float *s)
{
    if (opt == 0)
        return lr * g;
    float8 v = vload8(0, s);
    v = opt == 1 ? rho * v + (1.0f - rho) * g * g : v + g * g;
    vstore8(v, 0, s);
    return lr * g / (sqrt(v) + eps);
}

/* T steps in one launch, one work-group: the small and single-series case.
 * Each work-item owns blocks of 8 units (columns of P, pitch NP, a multiple
 * of 8, the padding zero): its loops over the M inputs are explicit 8-wide
 * vector operations, which a CPU device runs as SIMD. X and OUT are
 * (T x B x N) from step 0 of this launch; z starts in Z0 and ends in Z0
 * when T is even, Z1 when odd. ERR is B x NP, zero in the padding. */
__kernel void dybm_fused(uint N, uint NP, uint M, uint D1, uint K, uint B, uint T, int binary,
                         int opt,
                         float lr, float rho, float eps, int mode, __global const float *decay,
                         __global const float *X, uint x_off, __global float *OUT, uint out_off,
                         __global float *Z0, __global float *Z1, __global float *P,
                         __global float *bias, __global float *sP, __global float *sb,
                         __global float *ERR, __global float *XC)
{
    const uint lid = get_local_id(0), L = get_local_size(0), NB = NP / 8;
    const float inv = 1.0f / (float)B;
    for (uint t = 0; t < T; t++) {
        __global float *zc = (t & 1) ? Z1 : Z0;
        __global float *zn = (t & 1) ? Z0 : Z1;
        __global const float *x = X + x_off + t * B * N;
        __global float *out = OUT + out_off + t * B * N;
        for (uint blk = lid; blk < NB; blk += L)
            for (uint bb = 0; bb < B; bb++) {
                float8 acc = vload8(blk, bias);
                __global const float *z = zc + bb * M;
                __global const float *p = P + blk * 8;
                for (uint m = 0; m < M; m++)
                    acc += vload8(0, p + m * NP) * z[m];
                float a[8];
                vstore8(acc, 0, a);
                for (uint l = 0; l < 8; l++) {
                    uint i = blk * 8 + l;
                    if (i >= N)
                        break;
                    float mu = dybm_act(binary, a[l]);
                    float v = x[bb * N + i];
                    if (mode == 2)
                        v = binary ? (v < mu ? 1.0f : 0.0f) : mu + v;
                    out[bb * N + i] = mode == 2 ? v : mu;
                    XC[bb * N + i] = v;
                    ERR[bb * NP + i] = v - mu;
                }
            }
        barrier(CLK_GLOBAL_MEM_FENCE);
        if (mode == 1)
            for (uint blk = lid; blk < NB; blk += L) {
                if (B == 1) {
                    float8 e = vload8(blk, ERR);
                    for (uint m = 0; m < M; m++) {
                        __global float *p = P + m * NP + blk * 8;
                        float8 g = e * zc[m];
                        vstore8(vload8(0, p) + dybm_opt8(opt, lr, rho, eps, g,
                                                         sP + m * NP + blk * 8), 0, p);
                    }
                } else {
                    for (uint m = 0; m < M; m++) {
                        float8 g = 0;
                        for (uint bb = 0; bb < B; bb++)
                            g += vload8(0, ERR + bb * NP + blk * 8) * zc[bb * M + m];
                        __global float *p = P + m * NP + blk * 8;
                        vstore8(vload8(0, p) + dybm_opt8(opt, lr, rho, eps, g * inv,
                                                         sP + m * NP + blk * 8), 0, p);
                    }
                }
                float8 g = 0;
                for (uint bb = 0; bb < B; bb++)
                    g += vload8(0, ERR + bb * NP + blk * 8);
                vstore8(vload8(blk, bias) + dybm_opt8(opt, lr, rho, eps, g * inv, sb + blk * 8),
                        blk, bias);
            }
        for (uint bb = 0; bb < B; bb++)
            for (uint j = lid; j < N; j += L)
                dybm_shift_var(N, M, D1, K, decay, zc, XC, zn, bb, j);
        barrier(CLK_GLOBAL_MEM_FENCE);
    }
}

/* The batch path, per step: MU = Z P (a GEMM, B x NP) before, then this
 * over B x N: bias, activation, the step's x, the error. */
__kernel void dybm_out(uint N, uint NP, int binary, int mode, __global const float *X, uint x_off,
                       __global float *OUT, uint out_off, __global const float *MU,
                       __global const float *bias, __global float *ERR, __global float *XC,
                       uint BN)
{
    uint q = get_global_id(0);
    if (q >= BN)
        return;
    uint i = q % N, r = q / N * NP + i;
    float mu = dybm_act(binary, MU[r] + bias[i]);
    float v = X[x_off + q];
    if (mode == 2)
        v = binary ? (v < mu ? 1.0f : 0.0f) : mu + v;
    OUT[out_off + q] = mode == 2 ? v : mu;
    XC[q] = v;
    ERR[r] = v - mu;
}

/* The batch path's update: G = Z^T ERR / B (a GEMM) before; P and its
 * accumulator over M x NP (MN of them), then the bias over N from ERR. */
__kernel void dybm_update(uint N, uint NP, uint MN, uint B, int opt, float lr, float rho, float eps,
                          __global const float *G, __global float *P, __global float *sP,
                          __global const float *ERR, __global float *bias, __global float *sb)
{
    uint q = get_global_id(0);
    if (q < MN) {
        P[q] += dybm_opt(opt, lr, rho, eps, G[q], &sP[q]);
    } else if (q < MN + N) {
        uint i = q - MN;
        float g = 0;
        for (uint bb = 0; bb < B; bb++)
            g += ERR[bb * NP + i];
        bias[i] += dybm_opt(opt, lr, rho, eps, g * (1.0f / (float)B), &sb[i]);
    }
}

__kernel void dybm_shift(uint N, uint M, uint D1, uint BM, __global const float *decay,
                         __global const float *zc, __global const float *XC, __global float *zn)
{
    uint q = get_global_id(0);
    if (q < BM)
        zn[q] = dybm_shift_one(N, M, D1, decay, zc, XC, q / M, q % M);
}

/* The wide path for batches, per step, over the whole device: the field
 * for a block of 8 units and 8 series per work-item (each row of P read
 * once for the 8; the bias added last), then the outputs and errors as
 * dybm_out writes them. Grid: NB blocks x ceil(B / 8). */
__kernel void dybm_mean8(uint N, uint NP, uint M, uint B, int binary, int mode,
                         __global const float *Z, __global const float *P,
                         __global const float *bias, __global const float *X, uint x_off,
                         __global float *OUT, uint out_off, __global float *ERR,
                         __global float *XC)
{
    uint blk = get_global_id(0), b0 = get_global_id(1) * 8;
    if (blk >= NP / 8 || b0 >= B)
        return;
    uint nb = B - b0 < 8 ? B - b0 : 8;
    /* rows past B read series b0 again and are not stored */
    __global const float *z[8];
    for (uint r = 0; r < 8; r++)
        z[r] = Z + (b0 + (r < nb ? r : 0)) * M;
    float8 a0 = 0, a1 = 0, a2 = 0, a3 = 0, a4 = 0, a5 = 0, a6 = 0, a7 = 0;
    __global const float *p = P + blk * 8;
    for (uint m = 0; m < M; m++) {
        float8 w = vload8(0, p + m * NP);
        a0 += w * z[0][m];
        a1 += w * z[1][m];
        a2 += w * z[2][m];
        a3 += w * z[3][m];
        a4 += w * z[4][m];
        a5 += w * z[5][m];
        a6 += w * z[6][m];
        a7 += w * z[7][m];
    }
    /* the bias, the activation, the step's x and the error, as dybm_out */
    float8 a[8] = {a0, a1, a2, a3, a4, a5, a6, a7};
    float8 bv = vload8(blk, bias);
    for (uint r = 0; r < nb; r++) {
        float v8[8];
        vstore8(a[r] + bv, 0, v8);
        uint bb = b0 + r;
        for (uint l = 0; l < 8; l++) {
            uint i = blk * 8 + l;
            if (i >= N)
                break;
            float mu = dybm_act(binary, v8[l]);
            float v = X[x_off + bb * N + i];
            if (mode == 2)
                v = binary ? (v < mu ? 1.0f : 0.0f) : mu + v;
            OUT[out_off + bb * N + i] = mode == 2 ? v : mu;
            XC[bb * N + i] = v;
            ERR[bb * NP + i] = v - mu;
        }
    }
}

/* One row of the update: the gradient g (already averaged) into P or the
 * bias through the optimiser. */
inline void dybm_apply8(int opt, float lr, float rho, float eps, float8 g, __global float *p,
                        __global float *s)
{
    vstore8(vload8(0, p) + dybm_opt8(opt, lr, rho, eps, g, s), 0, p);
}

/* The wide path's update and shift in one launch: the first NB x
 * ceil((M + 1) / 4) work-items (when learning) take 4 input rows (row M:
 * the bias) and a block of 8 units each, each error block read once for
 * the 4 rows, the gradient averaged over the B series, then the optimiser;
 * the next N x B shift the FIFO and traces of one variable of one series
 * into ZN (the update reads only Z, the shift writes only ZN). */
__kernel void dybm_grad8(uint N, uint NP, uint M, uint D1, uint K, uint B, int learn, int opt,
                         float lr, float rho, float eps, __global const float *decay,
                         __global const float *Z, __global const float *ERR,
                         __global const float *XC, __global float *ZN, __global float *P,
                         __global float *sP, __global float *bias, __global float *sb)
{
    const uint NB = NP / 8, rows = (M + 4) / 4, q = get_global_id(0);
    const uint n_grad = learn ? NB * rows : 0;
    if (q >= n_grad) { /* the shift of one variable of one series */
        uint r = q - n_grad;
        if (r < N * B)
            dybm_shift_var(N, M, D1, K, decay, Z, XC, ZN, r / N, r % N);
        return;
    }
    uint blk = q % NB, m0 = q / NB * 4;
    if (m0 > M)
        return;
    float8 g0 = 0, g1 = 0, g2 = 0, g3 = 0;
    /* the row index of each of the 4 (M: the bias, its input 1) */
    uint m1 = m0 + 1 < M ? m0 + 1 : M, m2 = m0 + 2 < M ? m0 + 2 : M, m3 = m0 + 3 < M ? m0 + 3 : M;
    for (uint bb = 0; bb < B; bb++) {
        float8 e = vload8(0, ERR + bb * NP + blk * 8);
        __global const float *z = Z + bb * M;
        g0 += m0 < M ? e * z[m0] : e;
        g1 += m1 < M ? e * z[m1] : e;
        g2 += m2 < M ? e * z[m2] : e;
        g3 += m3 < M ? e * z[m3] : e;
    }
    const float inv = 1.0f / (float)B;
    float8 g[4] = {g0 * inv, g1 * inv, g2 * inv, g3 * inv};
    for (uint r = 0; r < 4 && m0 + r <= M; r++) {
        uint m = m0 + r;
        if (m < M)
            dybm_apply8(opt, lr, rho, eps, g[r], P + m * NP + blk * 8, sP + m * NP + blk * 8);
        else
            dybm_apply8(opt, lr, rho, eps, g[r], bias + blk * 8, sb + blk * 8);
    }
}
