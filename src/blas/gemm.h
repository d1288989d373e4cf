/*
 * Every matrix product goes through here, to CLBlast. Row-major storage
 * throughout; offsets and leading dimensions are in floats.
 */
#ifndef BZ_BLAS_GEMM_H
#define BZ_BLAS_GEMM_H

#include "engine/engine.h"

#include <stdbool.h>

/* C[m x n] = alpha * op(A)[m x k] * op(B)[k x n] + beta * C */
bz_status bz_sgemm(bz_context *ctx, bool trans_a, bool trans_b, size_t m, size_t n, size_t k,
                   float alpha, const bz_buf *a, size_t a_off, size_t lda, const bz_buf *b,
                   size_t b_off, size_t ldb, float beta, bz_buf *c, size_t c_off, size_t ldc);

/* Called once the context has a queue: applies tuned parameters and runs one
 * small product so that CLBlast compiles its kernels before timing starts. */
bz_status bz_gemm_setup(bz_context *ctx);

/* Models call this with their minibatch size before they train: when a
 * tuning file has a batch entry for it (tuning/db.h) that entry's GEMM
 * parameters are laid over the device's, else the device's are put back.
 * Cheap when nothing changes; a switch costs about a millisecond per kernel
 * overridden, and a batch entry's first use compiles and checks it. */
bz_status bz_gemm_use_batch(bz_context *ctx, size_t batch);

/* Drops CLBlast's cached programs before the OpenCL context goes away. */
void bz_gemm_forget_device(bz_context *ctx);

#endif
