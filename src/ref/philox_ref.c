#include "ref/reference.h"

#include <math.h>

#define M0 UINT32_C(0xD2511F53)
#define M1 UINT32_C(0xCD9E8D57)
#define W0 UINT32_C(0x9E3779B9)
#define W1 UINT32_C(0xBB67AE85)

void bz_ref_philox_block(uint64_t seed, uint64_t stream, uint64_t block, uint32_t out[4])
{
    uint32_t c0 = (uint32_t)block, c1 = (uint32_t)(block >> 32);
    uint32_t c2 = (uint32_t)stream, c3 = (uint32_t)(stream >> 32);
    uint32_t k0 = (uint32_t)seed, k1 = (uint32_t)(seed >> 32);
    for (int r = 0; r < 10; r++) {
        if (r > 0) {
            k0 += W0;
            k1 += W1;
        }
        uint64_t p0 = (uint64_t)M0 * c0;
        uint64_t p1 = (uint64_t)M1 * c2;
        uint32_t hi0 = (uint32_t)(p0 >> 32), lo0 = (uint32_t)p0;
        uint32_t hi1 = (uint32_t)(p1 >> 32), lo1 = (uint32_t)p1;
        uint32_t n0 = hi1 ^ c1 ^ k0, n2 = hi0 ^ c3 ^ k1;
        c0 = n0;
        c1 = lo1;
        c2 = n2;
        c3 = lo0;
    }
    out[0] = c0;
    out[1] = c1;
    out[2] = c2;
    out[3] = c3;
}

uint32_t bz_ref_philox_u32(uint64_t seed, uint64_t stream, uint64_t index)
{
    uint32_t r[4];
    bz_ref_philox_block(seed, stream, index >> 2, r);
    return r[index & 3];
}

float bz_ref_u01(uint32_t x)
{
    return (float)(x >> 8) * (1.0f / 16777216.0f);
}

float bz_ref_u01_open0(uint32_t x)
{
    return (float)((x >> 8) + 1u) * (1.0f / 16777216.0f);
}

void bz_ref_philox_fill(uint32_t *out, size_t n, uint64_t seed, uint64_t stream, uint64_t offset)
{
    for (size_t i = 0; i < n; i++)
        out[i] = bz_ref_philox_u32(seed, stream, offset + i);
}

void bz_ref_bernoulli(float *out, const float *p, size_t n, uint64_t seed, uint64_t stream,
                      uint64_t offset)
{
    for (size_t i = 0; i < n; i++)
        out[i] = bz_ref_u01(bz_ref_philox_u32(seed, stream, offset + i)) < p[i] ? 1.0f : 0.0f;
}

void bz_ref_gaussian(float *out, const float *mean, size_t n, uint64_t seed, uint64_t stream,
                     uint64_t offset)
{
    for (size_t i = 0; i < n; i++) {
        uint64_t e = offset + i;
        uint32_t r[4];
        bz_ref_philox_block(seed, stream, e >> 2, r);
        unsigned w = (unsigned)(e & 3);
        unsigned pair = w >> 1; /* words (0,1) or (2,3) */
        double rad = sqrt(-2.0 * log((double)bz_ref_u01_open0(r[2 * pair])));
        double th = 6.283185307179586 * (double)bz_ref_u01(r[2 * pair + 1]);
        double z = (w & 1) ? rad * sin(th) : rad * cos(th);
        out[i] = (float)((double)mean[i] + z);
    }
}
