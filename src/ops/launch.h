/*
 * What every kernel launcher shares: a table of kernel arguments, extent
 * checks that name the kernel, and a macro that sets the arguments and
 * launches a 1-D range (CHECK comes from engine/check.h). Internal to src/ops.
 */
#ifndef BZ_OPS_LAUNCH_H
#define BZ_OPS_LAUNCH_H

#include "engine/check.h"
#include "engine/engine.h"

typedef struct bz_kernel_arg {
    size_t size;
    const void *value;
} bz_kernel_arg;

#define A_BUF(b) ((bz_kernel_arg){sizeof(cl_mem), &(b)->mem})
#define A_U32(v) ((bz_kernel_arg){sizeof(cl_uint), &(cl_uint){(cl_uint)(v)}})
#define A_U64(v) ((bz_kernel_arg){sizeof(cl_ulong), &(cl_ulong){(cl_ulong)(v)}})
#define A_F32(v) ((bz_kernel_arg){sizeof(cl_float), &(cl_float){(cl_float)(v)}})

/* Looks the kernel up and sets its arguments; a failure names the kernel and
 * the argument index. */
bz_status bz_ops_set_args(bz_context *ctx, const char *name, cl_kernel *k,
                          const bz_kernel_arg *args, size_t n);

/* The buffer exists, holds `need` floats, and `need` fits a 32-bit index. */
bz_status bz_ops_fits(bz_context *ctx, const char *name, const bz_buf *b, size_t need);

#define RUN1D(name, global, ...)                                                          \
    do {                                                                                  \
        const bz_kernel_arg args_[] = {__VA_ARGS__};                                      \
        cl_kernel k_;                                                                     \
        bz_status st_ = bz_ops_set_args(ctx, name, &k_, args_, sizeof args_ / sizeof *args_); \
        if (st_)                                                                          \
            return st_;                                                                   \
        return bz_launch1d(ctx, k_, name, global);                                        \
    } while (0)

/* The same over a rows x cols grid (bz_launch_rows). */
#define RUN_ROWS(name, rows, cols, ...)                                                   \
    do {                                                                                  \
        const bz_kernel_arg args_[] = {__VA_ARGS__};                                      \
        cl_kernel k_;                                                                     \
        bz_status st_ = bz_ops_set_args(ctx, name, &k_, args_, sizeof args_ / sizeof *args_); \
        if (st_)                                                                          \
            return st_;                                                                   \
        return bz_launch_rows(ctx, k_, name, rows, cols);                                 \
    } while (0)

#endif
