#include "tuning/params.h"

#include <string.h>

/* Names sorted as CLBlast's database lists them, so files diff cleanly
 * against CLBlast's own tuner output. */
const bz_tk_desc bz_tk_table[BZ_TK_COUNT] = {
    [BZ_TK_XGEMM] = {"Xgemm", 16,
                     {"GEMMK", "KREG", "KWG", "KWI", "MDIMA", "MDIMC", "MWG", "NDIMB", "NDIMC",
                      "NWG", "SA", "SB", "STRM", "STRN", "VWM", "VWN"}},
    [BZ_TK_XGEMM_DIRECT] = {"XgemmDirect", 10,
                            {"KWID", "MDIMAD", "MDIMCD", "NDIMBD", "NDIMCD", "PADA", "PADB",
                             "VWMD", "VWND", "WGD"}},
    [BZ_TK_COPY] = {"Copy", 4, {"COPY_DIMX", "COPY_DIMY", "COPY_VW", "COPY_WPT"}},
    [BZ_TK_PAD] = {"Pad", 4, {"PAD_DIMX", "PAD_DIMY", "PAD_WPTX", "PAD_WPTY"}},
    [BZ_TK_TRANSPOSE] = {"Transpose", 4, {"TRA_DIM", "TRA_PAD", "TRA_SHUFFLE", "TRA_WPT"}},
    [BZ_TK_PADTRANSPOSE] = {"Padtranspose", 3, {"PADTRA_PAD", "PADTRA_TILE", "PADTRA_WPT"}},
    [BZ_TK_GEMM_ROUTINE] = {"GemmRoutine", 1, {"XGEMM_MIN_INDIRECT_SIZE"}},
};

int bz_tk_find(const char *kernel)
{
    for (int k = 0; k < BZ_TK_COUNT; k++)
        if (strcmp(bz_tk_table[k].name, kernel) == 0)
            return k;
    return -1;
}

int bz_tk_param(int kernel, const char *param)
{
    if (kernel < 0 || kernel >= BZ_TK_COUNT)
        return -1;
    for (size_t i = 0; i < bz_tk_table[kernel].n; i++)
        if (strcmp(bz_tk_table[kernel].params[i], param) == 0)
            return (int)i;
    return -1;
}

size_t bz_tp_get(const bz_tune_params *p, int kernel, const char *param)
{
    int i = bz_tk_param(kernel, param);
    return i < 0 ? 0 : p->v[kernel][i];
}

void bz_tp_set(bz_tune_params *p, int kernel, const char *param, size_t value)
{
    int i = bz_tk_param(kernel, param);
    if (i >= 0)
        p->v[kernel][i] = value;
}

static bool mult(size_t x, size_t of)
{
    return of != 0 && x % of == 0;
}

static bool vec_width(size_t w)
{
    return w == 1 || w == 2 || w == 4 || w == 8 || w == 16;
}

static const char *check_xgemm(const bz_tune_params *p, size_t local_mem, size_t max_wg)
{
#define G(n) bz_tp_get(p, BZ_TK_XGEMM, n)
    size_t gemmk = G("GEMMK"), kreg = G("KREG"), kwg = G("KWG"), kwi = G("KWI");
    size_t mdima = G("MDIMA"), mdimc = G("MDIMC"), mwg = G("MWG"), ndimb = G("NDIMB");
    size_t ndimc = G("NDIMC"), nwg = G("NWG"), sa = G("SA"), sb = G("SB"), vwm = G("VWM");
    size_t vwn = G("VWN"), strm = G("STRM"), strn = G("STRN");
#undef G
    if (gemmk > 1 || sa > 1 || sb > 1 || strm > 1 || strn > 1 || kreg == 0)
        return "GEMMK, SA, SB, STRM and STRN are 0 or 1, KREG >= 1";
    if (!vec_width(vwm) || !vec_width(vwn))
        return "VWM and VWN must be vector widths (1, 2, 4, 8, 16)";
    if (!mult(kwg, kwi))
        return "KWG must be a multiple of KWI";
    if (!mult(mwg, mdimc * vwm) || !mult(nwg, ndimc * vwn))
        return "MWG must be a multiple of MDIMC*VWM and NWG of NDIMC*VWN";
    if ((sa && !mult(mwg, mdima * vwm)) || (sb && !mult(nwg, ndimb * vwn)))
        return "MWG must be a multiple of MDIMA*VWM and NWG of NDIMB*VWN";
    if (gemmk == 0) {
        /* The local-memory loaders spread a KWG x MWG tile over the work-group.
         * They exist only with SA (resp. SB): without them MDIMA and NDIMB are
         * unused, and freeing KWG from their multiples lets tiles such as
         * KWG 20 divide the model's sizes (784, 500, 100) exactly. */
        if (kreg != 1 || (sa && (!mult(mdimc * ndimc, mdima) || !mult(kwg, mdimc * ndimc / mdima))) ||
            (sb && (!mult(mdimc * ndimc, ndimb) || !mult(kwg, mdimc * ndimc / ndimb))))
            return "GEMMK 0 needs KREG 1 and, with SA/SB, KWG a multiple of MDIMC*NDIMC/MDIMA "
                   "and /NDIMB";
    } else {
        if (mdima != mdimc || ndimb != ndimc || sa || sb || strm || strn || kwg != 1 ||
            kwi != 1 || !mult(kreg, vwn))
            return "GEMMK 1 needs MDIMA=MDIMC, NDIMB=NDIMC, no SA/SB/STRM/STRN, KWG=KWI=1, "
                   "KREG a multiple of VWN";
    }
    if ((sa * kwg * mwg + sb * kwg * nwg) * 4 > local_mem)
        return "the local-memory tiles exceed the device's local memory";
    if (mdimc * ndimc > max_wg)
        return "MDIMC*NDIMC exceeds the device's work-group size";
    return NULL;
}

static const char *check_direct(const bz_tune_params *p, size_t local_mem, size_t max_wg)
{
#define G(n) bz_tp_get(p, BZ_TK_XGEMM_DIRECT, n)
    size_t kwid = G("KWID"), mdimad = G("MDIMAD"), mdimcd = G("MDIMCD"), ndimbd = G("NDIMBD");
    size_t ndimcd = G("NDIMCD"), pada = G("PADA"), padb = G("PADB"), vwmd = G("VWMD");
    size_t vwnd = G("VWND"), wgd = G("WGD");
#undef G
    if (pada > 1 || padb > 1 || !vec_width(vwmd) || !vec_width(vwnd))
        return "PADA/PADB are 0 or 1, VWMD/VWND vector widths";
    if (!mult(wgd, kwid))
        return "WGD must be a multiple of KWID";
    if (!mult(wgd, mdimcd * vwmd) || !mult(wgd, ndimcd * vwnd) || !mult(wgd, mdimad * vwmd) ||
        !mult(wgd, ndimbd * vwnd))
        return "WGD must be a multiple of MDIMCD*VWMD, NDIMCD*VWND, MDIMAD*VWMD, NDIMBD*VWND";
    if (!mult(mdimcd * ndimcd, mdimad) || !mult(mdimcd * ndimcd, ndimbd) ||
        !mult(wgd, mdimcd * ndimcd / mdimad) || !mult(wgd, mdimcd * ndimcd / ndimbd))
        return "WGD must be a multiple of MDIMCD*NDIMCD/MDIMAD and /NDIMBD";
    if ((wgd * (wgd + pada) + wgd * (wgd + padb)) * 4 > local_mem)
        return "the local-memory tiles exceed the device's local memory";
    if (mdimcd * ndimcd > max_wg)
        return "MDIMCD*NDIMCD exceeds the device's work-group size";
    return NULL;
}

const char *bz_tp_check(const bz_tune_params *p, int kernel, size_t local_mem, size_t max_wg)
{
    const size_t *v = p->v[kernel];
    for (size_t i = 0; i < bz_tk_table[kernel].n; i++)
        if (v[i] > 65536)
            return "a value is implausibly large";
    switch (kernel) {
    case BZ_TK_XGEMM: return check_xgemm(p, local_mem, max_wg);
    case BZ_TK_XGEMM_DIRECT: return check_direct(p, local_mem, max_wg);
    case BZ_TK_COPY: /* COPY_DIMX COPY_DIMY COPY_VW COPY_WPT */
        if (!v[0] || !v[1] || !v[3] || !vec_width(v[2]))
            return "COPY_DIM*, COPY_WPT >= 1, COPY_VW a vector width";
        return v[0] * v[1] > max_wg ? "COPY_DIMX*COPY_DIMY exceeds the work-group size" : NULL;
    case BZ_TK_PAD: /* PAD_DIMX PAD_DIMY PAD_WPTX PAD_WPTY */
        if (!v[0] || !v[1] || !v[2] || !v[3])
            return "PAD_* must be >= 1";
        return v[0] * v[1] > max_wg ? "PAD_DIMX*PAD_DIMY exceeds the work-group size" : NULL;
    case BZ_TK_TRANSPOSE: { /* TRA_DIM TRA_PAD TRA_SHUFFLE TRA_WPT */
        if (!v[0] || v[1] > 1 || v[2] > 1 || !vec_width(v[3]))
            return "TRA_DIM >= 1, TRA_PAD/TRA_SHUFFLE 0 or 1, TRA_WPT a vector width";
        size_t t = v[0] * v[3];
        if (t * (t + v[1]) * 4 > local_mem)
            return "the transpose tile exceeds the device's local memory";
        return v[0] * v[0] > max_wg ? "TRA_DIM^2 exceeds the work-group size" : NULL;
    }
    case BZ_TK_PADTRANSPOSE: { /* PADTRA_PAD PADTRA_TILE PADTRA_WPT */
        if (v[0] > 1 || !v[1] || !v[2])
            return "PADTRA_PAD 0 or 1, PADTRA_TILE and PADTRA_WPT >= 1";
        size_t t = v[1] * v[2];
        if (t * (t + v[0]) * 4 > local_mem)
            return "the transpose tile exceeds the device's local memory";
        return v[1] * v[1] > max_wg ? "PADTRA_TILE^2 exceeds the work-group size" : NULL;
    }
    case BZ_TK_GEMM_ROUTINE:
        return v[0] == 0 ? "XGEMM_MIN_INDIRECT_SIZE must be >= 1" : NULL;
    default: return "unknown kernel";
    }
}

void bz_tp_safe(bz_tune_params *p)
{
    static const size_t safe[BZ_TK_COUNT][BZ_TK_MAX_PARAMS] = {
        [BZ_TK_XGEMM] = {0, 1, 16, 2, 8, 8, 32, 8, 8, 32, 0, 0, 0, 0, 1, 1},
        [BZ_TK_XGEMM_DIRECT] = {2, 8, 8, 8, 8, 1, 1, 1, 1, 8},
        [BZ_TK_COPY] = {8, 8, 1, 1},
        [BZ_TK_PAD] = {8, 8, 1, 1},
        [BZ_TK_TRANSPOSE] = {8, 0, 0, 1},
        [BZ_TK_PADTRANSPOSE] = {0, 8, 1},
        [BZ_TK_GEMM_ROUTINE] = {384},
    };
    memset(p, 0, sizeof *p);
    for (int k = 0; k < BZ_TK_COUNT; k++) {
        p->has[k] = true;
        memcpy(p->v[k], safe[k], sizeof safe[k]);
    }
}
