#include "ref/dybm_ref.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

size_t bz_dybm_ref_inputs(const bz_dybm_ref *r)
{
    return (r->delay - 1 + r->k) * r->n;
}

/* theta += step for gradient g (ascent on the log-likelihood). */
static float opt_step(const bz_dybm_ref *r, float g, float *s)
{
    switch (r->opt) {
    case BZ_DYBM_REF_RMSPROP:
        *s = r->rho * *s + (1.0f - r->rho) * g * g;
        return r->lr * g / (sqrtf(*s) + r->eps);
    case BZ_DYBM_REF_ADAGRAD:
        *s = *s + g * g;
        return r->lr * g / (sqrtf(*s) + r->eps);
    default:
        return r->lr * g;
    }
}

void bz_dybm_ref_step(bz_dybm_ref *r, const float *x, float *out, int learn, const float *gen,
                      float *xgen)
{
    const size_t N = r->n, B = r->batch, M = bz_dybm_ref_inputs(r), D1 = r->delay - 1;
    float *err = malloc(B * N * sizeof *err), *xc = malloc(B * N * sizeof *xc);
    float *zn = malloc((B * M + 1) * sizeof *zn);
    if (!err || !xc || !zn)
        abort();
    for (size_t bb = 0; bb < B; bb++)
        for (size_t i = 0; i < N; i++) {
            float acc = r->b[i];
            for (size_t m = 0; m < M; m++)
                acc += r->P[m * N + i] * r->z[bb * M + m];
            float mu = r->binary ? 1.0f / (1.0f + expf(-acc)) : acc;
            out[bb * N + i] = mu;
            float v;
            if (gen) {
                float g = gen[bb * N + i];
                v = r->binary ? (g < mu ? 1.0f : 0.0f) : mu + g;
                xgen[bb * N + i] = v;
            } else {
                v = x[bb * N + i];
            }
            xc[bb * N + i] = v;
            err[bb * N + i] = v - mu;
        }
    if (learn) {
        const float inv = 1.0f / (float)B;
        for (size_t i = 0; i < N; i++) {
            for (size_t m = 0; m < M; m++) {
                float g = 0;
                for (size_t bb = 0; bb < B; bb++)
                    g += err[bb * N + i] * r->z[bb * M + m];
                r->P[m * N + i] += opt_step(r, g * inv, &r->sP[m * N + i]);
            }
            float g = 0;
            for (size_t bb = 0; bb < B; bb++)
                g += err[bb * N + i];
            r->b[i] += opt_step(r, g * inv, &r->sb[i]);
        }
    }
    for (size_t bb = 0; bb < B; bb++)
        for (size_t m = 0; m < M; m++) {
            const float *zc = r->z + bb * M;
            size_t j = m % N;
            if (m < D1 * N) {
                zn[bb * M + m] = m < N ? xc[bb * N + j] : zc[m - N];
            } else {
                size_t k = (m - D1 * N) / N;
                float leaving = D1 ? zc[(D1 - 1) * N + j] : xc[bb * N + j];
                zn[bb * M + m] = r->decay[k] * zc[m] + leaving;
            }
        }
    memcpy(r->z, zn, B * M * sizeof *zn);
    free(err);
    free(xc);
    free(zn);
}
