#include "ref/cf_ref.h"
#include "ref/reference.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void bz_ref_cf_hidden(const float *V, const float *M, const float *Mc, const float *W,
                      const float *hb, const float *D, size_t n, size_t C, size_t K, size_t H,
                      float *P)
{
    for (size_t r = 0; r < n; r++)
        for (size_t j = 0; j < H; j++) {
            double x = hb[j];
            for (size_t c = 0; c < C; c++) {
                if (M[r * C + c] != 0)
                    for (size_t k = 0; k < K; k++)
                        x += (double)V[(r * C + c) * K + k] * W[((c * K) + k) * H + j];
                if (D && Mc[r * C + c] != 0)
                    x += D[c * H + j];
            }
            P[r * H + j] = (float)(1 / (1 + exp(-x)));
        }
}

/* The softmax of column c given hidden activations h into p (K). */
static void softmax(const float *h, const float *W, const float *vb, size_t c, size_t K, size_t H,
                    double *p)
{
    double mx = -INFINITY, z = 0;
    for (size_t k = 0; k < K; k++) {
        double x = vb[c * K + k];
        for (size_t j = 0; j < H; j++)
            x += (double)h[j] * W[(c * K + k) * H + j];
        p[k] = x;
        if (x > mx)
            mx = x;
    }
    for (size_t k = 0; k < K; k++)
        z += (p[k] = exp(p[k] - mx));
    for (size_t k = 0; k < K; k++)
        p[k] /= z;
}

void bz_ref_cf_expected(const float *P, const float *W, const float *vb, size_t n, size_t C,
                        size_t K, size_t H, float lo, float step, float *E)
{
    double p[16];
    for (size_t r = 0; r < n; r++)
        for (size_t c = 0; c < C; c++) {
            softmax(P + r * H, W, vb, c, K, H, p);
            double e = 0;
            for (size_t k = 0; k < K; k++)
                e += (double)k * p[k];
            E[r * C + c] = (float)(lo + step * e);
        }
}

static void accumulate(const float *V, const float *M, const float *Mc, const float *Vn,
                       const float *P, const float *Hn, int cond, size_t n, size_t C, size_t K,
                       size_t H, float *gW, float *gvb, float *ghb, float *gD);

void bz_ref_cf_grad(const float *V, const float *M, const float *Mc, const float *W,
                    const float *vb, const float *hb, const float *D, size_t n, size_t C,
                    size_t K, size_t H, unsigned T, float *gW, float *gvb, float *ghb, float *gD)
{
    size_t F = C * K;
    float *P = malloc(n * H * sizeof *P), *Hn = malloc(n * H * sizeof *Hn),
          *Vn = calloc(n * F, sizeof *Vn);
    if (!P || !Hn || !Vn) {
        free(P);
        free(Hn);
        free(Vn);
        return;
    }
    double p[16];
    bz_ref_cf_hidden(V, M, Mc, W, hb, D, n, C, K, H, P);
    memcpy(Hn, P, n * H * sizeof *Hn);
    for (unsigned t = 0; t < T; t++) {
        for (size_t r = 0; r < n; r++)
            for (size_t c = 0; c < C; c++) {
                if (M[r * C + c] == 0)
                    continue; /* a missing rating has no visible units */
                softmax(Hn + r * H, W, vb, c, K, H, p);
                for (size_t k = 0; k < K; k++)
                    Vn[(r * C + c) * K + k] = (float)p[k];
            }
        bz_ref_cf_hidden(Vn, M, Mc, W, hb, D, n, C, K, H, Hn);
    }
    accumulate(V, M, Mc, Vn, P, Hn, D != NULL, n, C, K, H, gW, gvb, ghb, gD);
    free(P);
    free(Hn);
    free(Vn);
}

static void accumulate(const float *V, const float *M, const float *Mc, const float *Vn,
                       const float *P, const float *Hn, int cond, size_t n, size_t C, size_t K,
                       size_t H, float *gW, float *gvb, float *ghb, float *gD)
{
    size_t F = C * K;
    memset(gW, 0, F * H * sizeof *gW);
    memset(gvb, 0, F * sizeof *gvb);
    memset(ghb, 0, H * sizeof *ghb);
    if (cond)
        memset(gD, 0, C * H * sizeof *gD);
    for (size_t r = 0; r < n; r++) {
        for (size_t j = 0; j < H; j++)
            ghb[j] += P[r * H + j] - Hn[r * H + j];
        for (size_t c = 0; c < C; c++) {
            if (cond && Mc[r * C + c] != 0)
                for (size_t j = 0; j < H; j++)
                    gD[c * H + j] += P[r * H + j] - Hn[r * H + j];
            if (M[r * C + c] == 0)
                continue;
            for (size_t k = 0; k < K; k++) {
                size_t f = c * K + k;
                float v = V[r * F + f], vn = Vn[r * F + f];
                gvb[f] += v - vn;
                for (size_t j = 0; j < H; j++)
                    gW[f * H + j] += v * P[r * H + j] - vn * Hn[r * H + j];
            }
        }
    }
}

void bz_ref_cf_grad_sampled(const float *V, const float *M, const float *Mc, const float *W,
                            const float *vb, const float *hb, const float *D, size_t n, size_t C,
                            size_t K, size_t H, uint64_t seed, uint64_t stream, float *gW,
                            float *gvb, float *ghb, float *gD)
{
    size_t F = C * K;
    float *P = malloc(n * H * sizeof *P), *S = malloc(n * H * sizeof *S),
          *Hn = malloc(n * H * sizeof *Hn), *Vn = calloc(n * F, sizeof *Vn);
    if (!P || !S || !Hn || !Vn) {
        free(P);
        free(S);
        free(Hn);
        free(Vn);
        return;
    }
    double p[16];
    bz_ref_cf_hidden(V, M, Mc, W, hb, D, n, C, K, H, P);
    for (size_t i = 0; i < n * H; i++)
        S[i] = bz_ref_u01(bz_ref_philox_u32(seed, stream * 64, i)) < P[i] ? 1.0f : 0.0f;
    for (size_t r = 0; r < n; r++)
        for (size_t c = 0; c < C; c++) {
            if (M[r * C + c] == 0)
                continue;
            softmax(S + r * H, W, vb, c, K, H, p);
            double u = bz_ref_u01(bz_ref_philox_u32(seed, stream * 64 + 1, r * C + c)), acc = 0;
            size_t pick = K - 1;
            for (size_t k = 0; k < K; k++) {
                acc += p[k];
                if (u < acc) {
                    pick = k;
                    break;
                }
            }
            Vn[(r * C + c) * K + pick] = 1;
        }
    bz_ref_cf_hidden(Vn, M, Mc, W, hb, D, n, C, K, H, Hn);
    accumulate(V, M, Mc, Vn, P, Hn, D != NULL, n, C, K, H, gW, gvb, ghb, gD);
    free(P);
    free(S);
    free(Hn);
    free(Vn);
}
