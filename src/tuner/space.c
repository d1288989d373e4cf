#include "tuner/space.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct range {
    int kernel;
    const char *param;
    size_t n;
    size_t v[8];
} range;

/* GEMMK 1 (2-D register tiling) has its own ranges, in xgemm_k1[]. Besides
 * powers of two, the tiles include divisors of the sizes the models use
 * (batch 100, 500 hidden units, 784 pixels): a tile that divides a product's
 * sizes spares CLBlast its padding copies and the padded work. */
static const range ranges[] = {
    {BZ_TK_XGEMM, "MWG", 5, {16, 32, 64, 100, 128}},
    {BZ_TK_XGEMM, "NWG", 6, {16, 32, 50, 64, 100, 128}},
    {BZ_TK_XGEMM, "KWG", 5, {4, 8, 16, 20, 32}},
    {BZ_TK_XGEMM, "KWI", 4, {1, 2, 4, 8}},
    {BZ_TK_XGEMM, "MDIMC", 6, {4, 5, 8, 10, 16, 32}},
    {BZ_TK_XGEMM, "NDIMC", 6, {4, 5, 8, 10, 16, 32}},
    {BZ_TK_XGEMM, "MDIMA", 4, {4, 8, 16, 32}},
    {BZ_TK_XGEMM, "NDIMB", 4, {4, 8, 16, 32}},
    {BZ_TK_XGEMM, "VWM", 4, {1, 2, 4, 8}},
    {BZ_TK_XGEMM, "VWN", 4, {1, 2, 4, 8}},
    {BZ_TK_XGEMM, "STRM", 2, {0, 1}},
    {BZ_TK_XGEMM, "STRN", 2, {0, 1}},
    {BZ_TK_XGEMM, "SA", 2, {0, 1}},
    {BZ_TK_XGEMM, "SB", 2, {0, 1}},
    {BZ_TK_XGEMM_DIRECT, "WGD", 4, {8, 16, 32, 64}},
    {BZ_TK_XGEMM_DIRECT, "MDIMCD", 4, {4, 8, 16, 32}},
    {BZ_TK_XGEMM_DIRECT, "NDIMCD", 4, {4, 8, 16, 32}},
    {BZ_TK_XGEMM_DIRECT, "MDIMAD", 4, {4, 8, 16, 32}},
    {BZ_TK_XGEMM_DIRECT, "NDIMBD", 4, {4, 8, 16, 32}},
    {BZ_TK_XGEMM_DIRECT, "KWID", 5, {1, 2, 4, 8, 16}},
    {BZ_TK_XGEMM_DIRECT, "VWMD", 4, {1, 2, 4, 8}},
    {BZ_TK_XGEMM_DIRECT, "VWND", 4, {1, 2, 4, 8}},
    {BZ_TK_XGEMM_DIRECT, "PADA", 2, {0, 1}},
    {BZ_TK_XGEMM_DIRECT, "PADB", 2, {0, 1}},
    {BZ_TK_COPY, "COPY_DIMX", 3, {8, 16, 32}},
    {BZ_TK_COPY, "COPY_DIMY", 3, {8, 16, 32}},
    {BZ_TK_COPY, "COPY_VW", 4, {1, 2, 4, 8}},
    {BZ_TK_COPY, "COPY_WPT", 4, {1, 2, 4, 8}},
    {BZ_TK_PAD, "PAD_DIMX", 3, {8, 16, 32}},
    {BZ_TK_PAD, "PAD_DIMY", 3, {8, 16, 32}},
    {BZ_TK_PAD, "PAD_WPTX", 3, {1, 2, 4}},
    {BZ_TK_PAD, "PAD_WPTY", 3, {1, 2, 4}},
    {BZ_TK_TRANSPOSE, "TRA_DIM", 4, {4, 8, 16, 32}},
    {BZ_TK_TRANSPOSE, "TRA_PAD", 2, {0, 1}},
    {BZ_TK_TRANSPOSE, "TRA_SHUFFLE", 2, {0, 1}},
    {BZ_TK_TRANSPOSE, "TRA_WPT", 5, {1, 2, 4, 8, 16}},
    {BZ_TK_PADTRANSPOSE, "PADTRA_PAD", 2, {0, 1}},
    {BZ_TK_PADTRANSPOSE, "PADTRA_TILE", 4, {8, 16, 32, 64}},
    {BZ_TK_PADTRANSPOSE, "PADTRA_WPT", 5, {1, 2, 4, 8, 16}},
};

static const range xgemm_k1[] = {
    {BZ_TK_XGEMM, "MWG", 5, {8, 16, 32, 64, 128}},
    {BZ_TK_XGEMM, "NWG", 5, {8, 16, 32, 64, 128}},
    {BZ_TK_XGEMM, "MDIMC", 5, {2, 4, 8, 16, 32}},
    {BZ_TK_XGEMM, "NDIMC", 5, {2, 4, 8, 16, 32}},
    {BZ_TK_XGEMM, "VWM", 4, {1, 2, 4, 8}},
    {BZ_TK_XGEMM, "VWN", 4, {1, 2, 4, 8}},
    {BZ_TK_XGEMM, "KREG", 5, {1, 2, 4, 8, 16}},
};

#define N_RANGES (sizeof ranges / sizeof *ranges)
#define N_K1 (sizeof xgemm_k1 / sizeof *xgemm_k1)

uint64_t bz_space_rand(uint64_t *s)
{
    /* splitmix64: good enough for sampling, and reproducible from --seed */
    uint64_t z = (*s += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

static size_t pick(uint64_t *rng, size_t n)
{
    return (size_t)(bz_space_rand(rng) % n);
}

static bool in_mode(int kernel, int mode)
{
    if (mode == BZ_MODE_DIRECT)
        return kernel == BZ_TK_XGEMM_DIRECT;
    return kernel == BZ_TK_XGEMM || kernel == BZ_TK_COPY || kernel == BZ_TK_PAD ||
           kernel == BZ_TK_TRANSPOSE || kernel == BZ_TK_PADTRANSPOSE;
}

static bool gemmk1(const bz_tune_params *p)
{
    return bz_tp_get(p, BZ_TK_XGEMM, "GEMMK") == 1;
}

/* The fixed values of the kernel-1 variant, and its tied dimensions. */
static void k1_fixup(bz_tune_params *p)
{
    static const char *const zero[] = {"SA", "SB", "STRM", "STRN"};
    for (size_t i = 0; i < 4; i++)
        bz_tp_set(p, BZ_TK_XGEMM, zero[i], 0);
    bz_tp_set(p, BZ_TK_XGEMM, "KWG", 1);
    bz_tp_set(p, BZ_TK_XGEMM, "KWI", 1);
    bz_tp_set(p, BZ_TK_XGEMM, "MDIMA", bz_tp_get(p, BZ_TK_XGEMM, "MDIMC"));
    bz_tp_set(p, BZ_TK_XGEMM, "NDIMB", bz_tp_get(p, BZ_TK_XGEMM, "NDIMC"));
}

static bool mode_valid(const bz_tune_params *p, int mode, size_t local_mem, size_t max_wg)
{
    for (int k = 0; k < BZ_TK_COUNT; k++)
        if (in_mode(k, mode) && bz_tp_check(p, k, local_mem, max_wg))
            return false;
    return true;
}

static void draw(bz_tune_params *p, const range *r, uint64_t *rng)
{
    bz_tp_set(p, r->kernel, r->param, r->v[pick(rng, r->n)]);
}

void bz_space_random(bz_tune_params *p, int mode, uint64_t *rng, size_t local_mem, size_t max_wg)
{
    for (int tries = 0; tries < 100000; tries++) {
        /* GEMMK 1 is CLBlast's kernel for mobile GPUs: a small share of draws */
        bool k1 = mode == BZ_MODE_INDIRECT && pick(rng, 8) == 0;
        for (size_t i = 0; i < N_RANGES; i++)
            if (in_mode(ranges[i].kernel, mode))
                draw(p, &ranges[i], rng);
        if (mode == BZ_MODE_INDIRECT) {
            bz_tp_set(p, BZ_TK_XGEMM, "GEMMK", k1);
            bz_tp_set(p, BZ_TK_XGEMM, "KREG", 1);
            if (k1) {
                for (size_t i = 0; i < N_K1; i++)
                    draw(p, &xgemm_k1[i], rng);
                k1_fixup(p);
            }
        }
        for (int k = 0; k < BZ_TK_COUNT; k++)
            if (in_mode(k, mode))
                p->has[k] = true;
        if (mode_valid(p, mode, local_mem, max_wg))
            return;
    }
    /* the constraints leave plenty of valid points; this is unreachable in
     * practice, but a valid result is still owed */
    bz_tune_params safe;
    bz_tp_safe(&safe);
    for (int k = 0; k < BZ_TK_COUNT; k++)
        if (in_mode(k, mode))
            memcpy(p->v[k], safe.v[k], sizeof p->v[k]);
}

/* A step to a neighbouring value usually; now and then anywhere in range. */
static void step(bz_tune_params *p, const range *r, uint64_t *rng)
{
    size_t cur = bz_tp_get(p, r->kernel, r->param), at = 0;
    for (size_t i = 0; i < r->n; i++)
        if (r->v[i] == cur)
            at = i;
    size_t to = at;
    if (pick(rng, 4) == 0)
        to = pick(rng, r->n);
    else if (at == 0)
        to = 1;
    else if (at + 1 == r->n)
        to = at - 1;
    else
        to = pick(rng, 2) ? at + 1 : at - 1;
    bz_tp_set(p, r->kernel, r->param, r->v[to < r->n ? to : 0]);
}

void bz_space_mutate(bz_tune_params *p, int mode, uint64_t *rng, size_t local_mem, size_t max_wg)
{
    bz_tune_params start = *p;
    for (int tries = 0; tries < 10000; tries++) {
        *p = start;
        bool k1 = mode == BZ_MODE_INDIRECT && gemmk1(p);
        size_t changes = 1 + pick(rng, 3);
        for (size_t c = 0; c < changes; c++) {
            if (k1 && pick(rng, 3) != 0) {
                step(p, &xgemm_k1[pick(rng, N_K1)], rng);
                k1_fixup(p);
                continue;
            }
            const range *r;
            do {
                r = &ranges[pick(rng, N_RANGES)];
                /* the GEMM kernel matters most: the helper passes get a quarter of the moves */
            } while (!in_mode(r->kernel, mode) ||
                     (mode == BZ_MODE_INDIRECT && r->kernel != BZ_TK_XGEMM && pick(rng, 4)) ||
                     (k1 && r->kernel == BZ_TK_XGEMM));
            step(p, r, rng);
        }
        if (memcmp(p->v, start.v, sizeof p->v) != 0 && mode_valid(p, mode, local_mem, max_wg))
            return;
    }
    *p = start;
}

size_t bz_space_seeds(int mode, bz_tune_params *out, size_t max)
{
    static const size_t xgemm[][BZ_TK_MAX_PARAMS] = {
        /* GEMMK KREG KWG KWI MDIMA MDIMC MWG NDIMB NDIMC NWG SA SB STRM STRN VWM VWN */
        {0, 1, 32, 2, 8, 8, 64, 8, 8, 64, 0, 0, 0, 0, 8, 8},
        {0, 1, 16, 2, 16, 16, 128, 8, 8, 64, 0, 0, 0, 0, 8, 8},
        {0, 1, 32, 4, 8, 8, 32, 8, 8, 64, 0, 0, 0, 0, 4, 8},
        {0, 1, 20, 2, 8, 8, 128, 10, 10, 100, 0, 0, 0, 0, 8, 2},
        /* the shipped POCL batch-32 entry: what a 600 s search at batch 32
         * did not reach (25 s per candidate there, mostly compiling) */
        {0, 1, 20, 2, 8, 8, 128, 8, 8, 32, 0, 0, 0, 0, 8, 4},
        /* the shipped POCL device entry (appended: a resumed search keeps
         * the seeds' numbers) */
        {0, 1, 20, 2, 8, 4, 64, 10, 10, 100, 0, 0, 0, 0, 8, 2},
    };
    static const size_t direct[][BZ_TK_MAX_PARAMS] = {
        /* KWID MDIMAD MDIMCD NDIMBD NDIMCD PADA PADB VWMD VWND WGD */
        {2, 8, 8, 8, 8, 1, 1, 4, 4, 32},
        {8, 8, 8, 8, 8, 1, 1, 8, 8, 64},
        {4, 4, 4, 4, 4, 0, 0, 8, 8, 32},
    };
    static const size_t helpers[4][BZ_TK_MAX_PARAMS] = {
        {16, 8, 4, 1}, /* Copy */
        {16, 8, 2, 1}, /* Pad */
        {16, 0, 0, 4}, /* Transpose */
        {0, 16, 2},    /* Padtranspose */
    };
    size_t n = 0, count = mode == BZ_MODE_DIRECT ? sizeof direct / sizeof *direct
                                                 : sizeof xgemm / sizeof *xgemm;
    for (size_t i = 0; i < count && n < max; i++, n++) {
        bz_tp_safe(&out[n]);
        if (mode == BZ_MODE_DIRECT) {
            memcpy(out[n].v[BZ_TK_XGEMM_DIRECT], direct[i], sizeof direct[i]);
        } else {
            memcpy(out[n].v[BZ_TK_XGEMM], xgemm[i], sizeof xgemm[i]);
            for (int k = 0; k < 4; k++)
                memcpy(out[n].v[BZ_TK_COPY + k], helpers[k], sizeof helpers[k]);
        }
    }
    return n;
}

void bz_space_encode(const bz_tune_params *p, char *buf, size_t size)
{
    size_t used = 0;
    buf[0] = '\0';
    for (int k = 0; k < BZ_TK_COUNT; k++)
        for (size_t i = 0; i < bz_tk_table[k].n && used < size; i++)
            used += (size_t)snprintf(buf + used, size - used, "%s%zu", used ? " " : "",
                                     p->v[k][i]);
}

bool bz_space_decode(bz_tune_params *p, const char *text, const char **end)
{
    const char *s = text;
    for (int k = 0; k < BZ_TK_COUNT; k++) {
        p->has[k] = true;
        for (size_t i = 0; i < bz_tk_table[k].n; i++) {
            char *e;
            unsigned long long v = strtoull(s, &e, 10);
            if (e == s)
                return false;
            p->v[k][i] = (size_t)v;
            s = e;
        }
    }
    if (end)
        *end = s;
    return true;
}
