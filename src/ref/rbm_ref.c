/* Host reference of one contrastive-divergence step, in double precision
 * where the device accumulates, with the device's random streams. */
#include "ref/reference.h"

#include <stdlib.h>
#include <string.h>

void bz_ref_permutation(uint32_t *perm, size_t n, uint64_t seed, uint64_t stream)
{
    for (size_t i = 0; i < n; i++)
        perm[i] = (uint32_t)i;
    for (size_t i = n - 1; n > 0 && i > 0; i--) {
        uint32_t r = bz_ref_philox_u32(seed, stream, i);
        size_t j = (size_t)(((uint64_t)r * (i + 1)) >> 32);
        uint32_t t = perm[i];
        perm[i] = perm[j];
        perm[j] = t;
    }
}

/* out (rows x cols) = in (rows x inner) . W or . W^T */
static void matmul(float *out, const float *in, const float *w, size_t rows, size_t nv,
                   size_t nh, bool down)
{
    if (down)
        bz_ref_sgemm(false, true, rows, nv, nh, 1.0f, in, nh, w, nh, 0.0f, out, nv);
    else
        bz_ref_sgemm(false, false, rows, nh, nv, 1.0f, in, nv, w, nh, 0.0f, out, nh);
}

static void vis_mean(const bz_ref_rbm *m, float *v, size_t B)
{
    if (m->gaussian) {
        for (size_t r = 0; r < B; r++)
            for (size_t i = 0; i < m->nv; i++)
                v[r * m->nv + i] += m->vb[i];
    } else {
        bz_ref_bias_sigmoid(v, v, m->vb, B, m->nv);
    }
}

static void vis_sample(const bz_ref_rbm *m, float *out, const float *mean, size_t n,
                       uint64_t seed, uint64_t stream)
{
    if (m->gaussian)
        bz_ref_gaussian(out, mean, n, seed, stream, 0);
    else
        bz_ref_bernoulli(out, mean, n, seed, stream, 0);
}

void bz_ref_cd_step(bz_ref_rbm *m, const float *v0, size_t B, unsigned k, float *chain, float lr,
                    float mom, float decay, uint64_t seed,
                    uint64_t (*stream)(unsigned slot, void *), void *sarg)
{
    const size_t nv = m->nv, nh = m->nh;
    float *h0 = malloc(B * nh * 4), *hs = malloc(B * nh * 4), *v1 = malloc(B * nv * 4),
          *vs = malloc(B * nv * 4), *h1 = malloc(B * nh * 4);
    matmul(h0, v0, m->w, B, nv, nh, false);
    bz_ref_bias_sigmoid(h0, h0, m->hb, B, nh);
    bz_ref_bernoulli(hs, h0, B * nh, seed, stream(0, sarg), 0);
    float *neg = hs;
    if (chain)
        neg = chain;
    const float *vneg = v1;
    for (unsigned s = 1; s <= k; s++) {
        bool last = s == k;
        matmul(v1, neg, m->w, B, nv, nh, true);
        vis_mean(m, v1, B);
        const float *up = v1;
        if (!last || chain) {
            vis_sample(m, vs, v1, B * nv, seed, stream(2 * s - 1, sarg));
            up = vs;
        }
        vneg = up;
        matmul(h1, up, m->w, B, nv, nh, false);
        bz_ref_bias_sigmoid(h1, h1, m->hb, B, nh);
        if (!last || chain) {
            float *dst = chain ? chain : hs;
            bz_ref_bernoulli(dst, h1, B * nh, seed, stream(2 * s, sarg), 0);
            neg = dst;
        }
    }
    const float a = lr / (float)B;
    for (size_t i = 0; i < nv; i++)
        for (size_t j = 0; j < nh; j++) {
            double g = 0;
            for (size_t r = 0; r < B; r++)
                g += (double)v0[r * nv + i] * h0[r * nh + j] - (double)vneg[r * nv + i] * h1[r * nh + j];
            size_t p = i * nh + j;
            double v = (double)mom * m->vw[p] + (double)a * g - (double)lr * decay * m->w[p];
            m->vw[p] = (float)v;
            m->w[p] = (float)((double)m->w[p] + v);
        }
    for (size_t i = 0; i < nv; i++) {
        double g = 0;
        for (size_t r = 0; r < B; r++)
            g += (double)v0[r * nv + i] - vneg[r * nv + i];
        m->vvb[i] = (float)((double)mom * m->vvb[i] + (double)a * g);
        m->vb[i] += m->vvb[i];
    }
    for (size_t j = 0; j < nh; j++) {
        double g = 0;
        for (size_t r = 0; r < B; r++)
            g += (double)h0[r * nh + j] - h1[r * nh + j];
        m->vhb[j] = (float)((double)mom * m->vhb[j] + (double)a * g);
        m->hb[j] += m->vhb[j];
    }
    free(h0);
    free(hs);
    free(v1);
    free(vs);
    free(h1);
}
