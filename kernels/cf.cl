// Collaborative filtering with an RBM over ratings (Salakhutdinov, Mnih and
// Hinton, ICML 2007): each row (a user, or an item in the item-based
// variant) is one RBM over the columns it rated, with a K-way softmax
// group per column and weights shared by all rows. A minibatch of rows is
// held as dense blocks so that the products run through CLBlast:
//   V  [n x C*K]  one-hot ratings, all zero where a column is not rated
//   M  [n x C]    1 where the row rated the column
//   Mc [n x C]    1 where the row is known to have rated it (the
//                 conditional RBM's input; includes ratings not known)
// A column that is not rated has zero rows in V and in the negative phase
// (the softmax of a missing column is masked to zero), so it adds exactly
// nothing to any product. Needs philox.cl before it.
//
// Entries of a row (CSR): (column << 4) | (class + 1), with 0 for a column
// known to be rated whose rating is not known.

__kernel void cf_expand(__global const uint *rowptr, __global const uint *ent,
                        __global const uint *rows, uint n, uint C, uint K,
                        __global float *V, __global float *M, __global float *Mc)
{
    uint r = get_global_id(0);
    if (r >= n)
        return;
    uint row = rows[r];
    for (uint e = rowptr[row]; e < rowptr[row + 1]; e++) {
        uint x = ent[e], c = x >> 4, k = x & 15u;
        size_t at = (size_t)r * C + c;
        Mc[at] = 1.0f;
        if (k) {
            M[at] = 1.0f;
            V[at * K + (k - 1)] = 1.0f;
        }
    }
}

// P = sigmoid(X + hb) in place; S = a Bernoulli sample of P (sample != 0,
// Philox stream `stream`, element i) or P itself.
__kernel void cf_hidden(__global float *X, __global const float *hb, uint n, uint H,
                        ulong seed, ulong stream, uint sample, __global float *S)
{
    uint i = get_global_id(0);
    if (i >= n * H)
        return;
    uint j = i % H;
    float p = 1.0f / (1.0f + exp(-(X[i] + hb[j])));
    X[i] = p;
    if (sample) {
        uint4 b = bz_philox_block(seed, stream, i / 4);
        S[i] = bz_u01(bz_word(b, i % 4)) < p ? 1.0f : 0.0f;
    } else {
        S[i] = p;
    }
}

// The softmax of each group (row r, column c) of L [n x C*K] plus vb, in
// place: mode 0 the probabilities, mode 1 a one-hot sample (Philox stream
// `stream`, element r*C+c), both zero where M is 0; mode 2 leaves L alone
// and writes the expected rating lo + step * E[k] of every group into E
// [n x C], rated or not.
__kernel void cf_visible(__global float *L, __global const float *vb, __global const float *M,
                         uint n, uint C, uint K, float lo, float step, ulong seed, ulong stream,
                         uint mode, __global float *E)
{
    uint g = get_global_id(0);
    if (g >= n * C)
        return;
    uint c = g % C;
    __global float *l = L + (size_t)g * K;
    __global const float *b = vb + (size_t)c * K;
    if (mode != 2 && M[g] == 0.0f) {
        for (uint k = 0; k < K; k++)
            l[k] = 0.0f;
        return;
    }
    float mx = -INFINITY;
    for (uint k = 0; k < K; k++)
        mx = fmax(mx, l[k] + b[k]);
    float z = 0.0f, ev = 0.0f;
    for (uint k = 0; k < K; k++) {
        float e = exp(l[k] + b[k] - mx);
        z += e;
        ev += e * (float)k;
    }
    if (mode == 2) {
        E[g] = lo + step * (ev / z);
        return;
    }
    if (mode == 0) {
        for (uint k = 0; k < K; k++)
            l[k] = exp(l[k] + b[k] - mx) / z;
        return;
    }
    uint4 rb = bz_philox_block(seed, stream, g / 4);
    float u = bz_u01(bz_word(rb, g % 4)) * z, acc = 0.0f;
    uint pick = K - 1;
    for (uint k = 0; k < K; k++) {
        acc += exp(l[k] + b[k] - mx);
        if (u < acc) {
            pick = k;
            break;
        }
    }
    for (uint k = 0; k < K; k++)
        l[k] = k == pick ? 1.0f : 0.0f;
}

// v = momentum * v + lr * (g * inv_n - decay * w); w += v
__kernel void cf_update(__global float *w, __global float *v, __global const float *g, uint n,
                        float lr, float inv_n, float momentum, float decay)
{
    uint i = get_global_id(0);
    if (i >= n)
        return;
    float d = momentum * v[i] + lr * (g[i] * inv_n - decay * w[i]);
    v[i] = d;
    w[i] += d;
}

// out[j] = sum over the n rows of A[r, j] - B[r, j] (the bias statistics)
__kernel void cf_colsum(__global const float *A, __global const float *B, uint n, uint cols,
                        __global float *out)
{
    uint j = get_global_id(0);
    if (j >= cols)
        return;
    float s = 0.0f;
    for (uint r = 0; r < n; r++) {
        size_t at = (size_t)r * cols + j;
        s += A[at] - B[at];
    }
    out[j] = s;
}
