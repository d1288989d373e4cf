/*
 * What every kernel launcher shares: a table of kernel arguments, extent
 * checks that name the kernel, and macros that set the arguments and launch
 * a 1-D range or a rows x cols grid (CHECK comes from engine/check.h).
 * Internal to src/ops.
 */
#ifndef BZ_OPS_LAUNCH_H
#define BZ_OPS_LAUNCH_H

#include "engine/check.h"
#include "engine/engine.h"

#define A_BUF BZ_KARG_BUF
#define A_U32 BZ_KARG_U32
#define A_U64 BZ_KARG_U64
#define A_F32 BZ_KARG_F32

/* Looks the kernel up and sets its arguments; a failure names the kernel and
 * the argument index. */
bz_status bz_ops_set_args(bz_context *ctx, const char *name, cl_kernel *k,
                          const bz_kernel_arg *args, size_t n);

/* The buffer exists, holds `need` floats, and `need` fits a 32-bit index. */
bz_status bz_ops_fits(bz_context *ctx, const char *name, const bz_buf *b, size_t need);

/* Sets the arguments of kernel `name` and returns `launch`, an expression
 * that enqueues k_ (one of the two below). */
#define RUN_KERNEL(name, launch, ...)                                                     \
    do {                                                                                  \
        const bz_kernel_arg args_[] = {__VA_ARGS__};                                      \
        cl_kernel k_;                                                                     \
        bz_status st_ = bz_ops_set_args(ctx, name, &k_, args_, sizeof args_ / sizeof *args_); \
        if (st_)                                                                          \
            return st_;                                                                   \
        return launch;                                                                    \
    } while (0)

/* Over `global` items (bz_launch1d). */
#define RUN1D(name, global, ...) RUN_KERNEL(name, bz_launch1d(ctx, k_, name, global), __VA_ARGS__)

/* Over a rows x cols grid (bz_launch_rows). */
#define RUN_ROWS(name, rows, cols, ...)                                                   \
    RUN_KERNEL(name, bz_launch_rows(ctx, k_, name, rows, cols), __VA_ARGS__)

#endif
