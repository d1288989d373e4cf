/*
 * The tunable parameters boltzcl knows: CLBlast's GEMM-related kernels (as
 * CLBlastOverrideParameters names them, each needing its complete set) and
 * boltzcl's own launch sizes. Pure data and arithmetic, no OpenCL, so the
 * file parser, the tuner and the tests share one definition.
 */
#ifndef BZ_TUNING_PARAMS_H
#define BZ_TUNING_PARAMS_H

#include <stdbool.h>
#include <stddef.h>

enum {
    BZ_TK_XGEMM,
    BZ_TK_XGEMM_DIRECT,
    BZ_TK_COPY,
    BZ_TK_PAD,
    BZ_TK_TRANSPOSE,
    BZ_TK_PADTRANSPOSE,
    BZ_TK_GEMM_ROUTINE,
    BZ_TK_COUNT
};

#define BZ_TK_MAX_PARAMS 16

typedef struct bz_tk_desc {
    const char *name; /* CLBlast's kernel name */
    size_t n;
    const char *params[BZ_TK_MAX_PARAMS];
} bz_tk_desc;

extern const bz_tk_desc bz_tk_table[BZ_TK_COUNT];

typedef struct bz_tune_params {
    bool has[BZ_TK_COUNT];
    size_t v[BZ_TK_COUNT][BZ_TK_MAX_PARAMS]; /* in bz_tk_table order */
    size_t wg_elementwise;                   /* 0: leave the engine's choice */
} bz_tune_params;

/* Index of a kernel / of a parameter within it, or -1. */
int bz_tk_find(const char *kernel);
int bz_tk_param(int kernel, const char *param);

size_t bz_tp_get(const bz_tune_params *p, int kernel, const char *param);
void bz_tp_set(bz_tune_params *p, int kernel, const char *param, size_t value);

/* NULL when kernel's values meet CLBlast's constraints and fit the device
 * (local memory in bytes, work-group size); else a static reason. */
const char *bz_tp_check(const bz_tune_params *p, int kernel, size_t local_mem, size_t max_wg);

/* Conservative values every OpenCL 1.2 device compiles (no local memory,
 * 64-item work-groups): the fallback when a tuned set misbehaves. */
void bz_tp_safe(bz_tune_params *p);

#endif
