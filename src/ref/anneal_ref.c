/* Mirrors kernels/anneal.cl; the build is ISO C, so no multiply-add is fused. */
#include "ref/anneal_ref.h"
#include "ref/reference.h"

#include <string.h>

#define LOG2E 1.44269504f
#define LN2 0.693147181f

float bz_ref_an_exp2_neg(float x)
{
    int k = (int)x;
    float y = (x - (float)k - 0.5f) * LN2;
    float p = -1.0f / 5040.0f;
    p = p * y + 1.0f / 720.0f;
    p = p * y - 1.0f / 120.0f;
    p = p * y + 1.0f / 24.0f;
    p = p * y - 1.0f / 6.0f;
    p = p * y + 0.5f;
    p = p * y - 1.0f;
    p = p * y + 1.0f;
    p = p * 0.707106781f;
    uint32_t bits = (uint32_t)(127 - k) << 23;
    float scale;
    memcpy(&scale, &bits, sizeof scale);
    return p * scale;
}

static float energy_of(const bz_ref_ising *m, const int8_t *spin, const float *field)
{
    float e = 0.0f;
    for (uint32_t i = 0; i < m->n; i++)
        e = e + (float)spin[i] * (field[i] + m->h[i]);
    return 0.5f * e;
}

float bz_ref_anneal_init(const bz_ref_ising *m, int8_t *spin, float *field, bool randomize,
                         uint64_t seed, uint64_t stream_base, uint32_t r)
{
    uint32_t n = m->n;
    if (randomize)
        for (uint32_t i = 0; i < n; i++)
            spin[i] = (bz_ref_philox_u32(seed, stream_base + r + BZ_REF_AN_INIT_STREAM, i) >> 31)
                          ? 1
                          : -1;
    for (uint32_t i = 0; i < n; i++) {
        float f = m->h[i];
        if (m->dense) {
            const float *row = m->val + (size_t)i * n;
            for (uint32_t j = 0; j < n; j++)
                f = f + row[j] * (float)spin[j];
        } else {
            for (uint32_t k = m->rowp[i]; k < m->rowp[i + 1]; k++)
                f = f + m->val[k] * (float)spin[m->col[k]];
        }
        field[i] = f;
    }
    return energy_of(m, spin, field);
}

float bz_ref_anneal_sweeps(const bz_ref_ising *m, int8_t *spin, float *field, const float *beta,
                           uint32_t sweeps, uint64_t seed, uint64_t stream_base, uint32_t r,
                           uint64_t sweep_base)
{
    uint32_t n = m->n;
    uint64_t stream = stream_base + r;
    for (uint32_t t = 0; t < sweeps; t++) {
        float b = beta[t];
        uint64_t e0 = (sweep_base + t) * (uint64_t)n;
        for (uint32_t i = 0; i < n; i++) {
            float f = field[i];
            int8_t s = spin[i];
            float de = s > 0 ? -2.0f * f : 2.0f * f;
            if (de > 0.0f) {
                float x = (b * de) * LOG2E;
                if (!(x < 24.0f))
                    continue;
                uint32_t w = bz_ref_philox_u32(seed, stream, e0 + i);
                float u = (float)((w >> 8) + 1u) * (1.0f / 16777216.0f);
                if (!(u < bz_ref_an_exp2_neg(x)))
                    continue;
            }
            s = (int8_t)-s;
            spin[i] = s;
            float d = s > 0 ? 2.0f : -2.0f;
            if (m->dense) {
                const float *row = m->val + (size_t)i * n;
                for (uint32_t j = 0; j < n; j++)
                    field[j] = field[j] + row[j] * d;
            } else {
                for (uint32_t k = m->rowp[i]; k < m->rowp[i + 1]; k++)
                    field[m->col[k]] = field[m->col[k]] + m->val[k] * d;
            }
        }
    }
    return energy_of(m, spin, field);
}

static float pull_field(const bz_ref_ising *m, const int8_t *spin, uint32_t i)
{
    float f = m->h[i];
    for (uint32_t k = m->rowp[i]; k < m->rowp[i + 1]; k++)
        f = f + m->val[k] * (float)spin[m->col[k]];
    return f;
}

float bz_ref_anneal_colour_sweeps(const bz_ref_ising *m, const uint32_t *order,
                                  const uint32_t *start, uint32_t n_colours, int8_t *spin,
                                  const float *beta, uint32_t sweeps, uint64_t seed,
                                  uint64_t stream_base, uint32_t r, uint64_t sweep_base)
{
    uint32_t n = m->n;
    uint64_t stream = stream_base + r;
    for (uint32_t t = 0; t < sweeps; t++) {
        float b = beta[t];
        uint64_t e0 = (sweep_base + t) * (uint64_t)n;
        for (uint32_t c = 0; c < n_colours; c++) {
            for (uint32_t q = start[c]; q < start[c + 1]; q++) {
                uint32_t i = order[q];
                float f = pull_field(m, spin, i);
                int8_t s = spin[i];
                float de = s > 0 ? -2.0f * f : 2.0f * f;
                if (de > 0.0f) {
                    float x = (b * de) * LOG2E;
                    if (!(x < 24.0f))
                        continue;
                    uint32_t w = bz_ref_philox_u32(seed, stream, e0 + i);
                    float u = (float)((w >> 8) + 1u) * (1.0f / 16777216.0f);
                    if (!(u < bz_ref_an_exp2_neg(x)))
                        continue;
                }
                spin[i] = (int8_t)-s;
            }
        }
    }
    float e = 0.0f;
    for (uint32_t i = 0; i < n; i++)
        e = e + (float)spin[i] * (pull_field(m, spin, i) + m->h[i]);
    return 0.5f * e;
}
