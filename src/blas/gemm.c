#include "blas/gemm.h"

#include "ops/ops.h"
#include "tuning/apply.h"

#include <clblast_c.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *bz_clblast_status_name(int code)
{
#define S(x) case x: return #x
    switch (code) {
    S(CLBlastSuccess); S(CLBlastOpenCLCompilerNotAvailable); S(CLBlastTempBufferAllocFailure);
    S(CLBlastOpenCLOutOfResources); S(CLBlastOpenCLOutOfHostMemory);
    S(CLBlastOpenCLBuildProgramFailure); S(CLBlastInvalidValue); S(CLBlastInvalidCommandQueue);
    S(CLBlastInvalidMemObject); S(CLBlastInvalidBinary); S(CLBlastInvalidBuildOptions);
    S(CLBlastInvalidProgram); S(CLBlastInvalidProgramExecutable); S(CLBlastInvalidKernelName);
    S(CLBlastInvalidKernelDefinition); S(CLBlastInvalidKernel); S(CLBlastInvalidArgIndex);
    S(CLBlastInvalidArgValue); S(CLBlastInvalidArgSize); S(CLBlastInvalidKernelArgs);
    S(CLBlastInvalidLocalNumDimensions); S(CLBlastInvalidLocalThreadsTotal);
    S(CLBlastInvalidLocalThreadsDim); S(CLBlastInvalidGlobalOffset);
    S(CLBlastInvalidEventWaitList); S(CLBlastInvalidEvent); S(CLBlastInvalidOperation);
    S(CLBlastInvalidBufferSize); S(CLBlastInvalidGlobalWorkSize); S(CLBlastNotImplemented);
    S(CLBlastInvalidMatrixA); S(CLBlastInvalidMatrixB); S(CLBlastInvalidMatrixC);
    S(CLBlastInvalidVectorX); S(CLBlastInvalidVectorY); S(CLBlastInvalidDimension);
    S(CLBlastInvalidLeadDimA); S(CLBlastInvalidLeadDimB); S(CLBlastInvalidLeadDimC);
    S(CLBlastInvalidIncrementX); S(CLBlastInvalidIncrementY); S(CLBlastInsufficientMemoryA);
    S(CLBlastInsufficientMemoryB); S(CLBlastInsufficientMemoryC); S(CLBlastInsufficientMemoryX);
    S(CLBlastInsufficientMemoryY); S(CLBlastInsufficientMemoryTemp);
    S(CLBlastInvalidBatchCount); S(CLBlastInvalidOverrideKernel);
    S(CLBlastMissingOverrideParameter); S(CLBlastInvalidLocalMemUsage);
    S(CLBlastNoHalfPrecision); S(CLBlastNoDoublePrecision); S(CLBlastInvalidVectorScalar);
    S(CLBlastInsufficientMemoryScalar); S(CLBlastDatabaseError); S(CLBlastUnknownError);
    S(CLBlastUnexpectedError);
    default: return "CLBlastUnknownStatus";
    }
#undef S
}

/*
 * CLBlast's indirect GEMM needs a temporary buffer whenever it copies an
 * operand (a transpose, or padding up to the tiles). Left to itself it
 * allocates one for every product and frees it after; on POCL that is a
 * fresh host allocation each time, which the kernels then fault in page by
 * page: at DBN fine-tuning's batch of 32 that was three allocations and
 * about 1.5 MB of new pages per step. The context keeps one buffer instead,
 * grown to the largest need, and remembers CLBlast's size for each product
 * (computing one costs as much host work as launching the product). In-order
 * queues run one product's copies before the next product's, so one buffer
 * serves them all.
 */
#define BZ_GEMM_SIZES 32

typedef struct gemm_size {
    size_t key[11];
    unsigned long generation; /* bz_tuning_generation() when computed */
    size_t bytes;
    bool valid;
} gemm_size;

struct bz_gemm_temp {
    cl_mem mem;
    size_t bytes;
    gemm_size sizes[BZ_GEMM_SIZES];
    size_t next; /* the entry replaced next */
};

/* The temporary buffer for this product, or NULL to let CLBlast allocate
 * (none needed, or ours could not be made). */
static cl_mem temp_for(bz_context *ctx, CLBlastTranspose ta, CLBlastTranspose tb, size_t m,
                       size_t n, size_t k, size_t a_off, size_t lda, size_t b_off, size_t ldb,
                       size_t c_off, size_t ldc)
{
    struct bz_gemm_temp *t = ctx->gemm_temp;
    if (!t && !(t = ctx->gemm_temp = calloc(1, sizeof *t)))
        return NULL;
    const size_t key[11] = {(size_t)ta, (size_t)tb, m, n, k, a_off, lda, b_off, ldb, c_off, ldc};
    const unsigned long gen = bz_tuning_generation();
    gemm_size *e = NULL;
    for (size_t i = 0; i < BZ_GEMM_SIZES && !e; i++)
        if (t->sizes[i].valid && t->sizes[i].generation == gen &&
            !memcmp(t->sizes[i].key, key, sizeof key))
            e = &t->sizes[i];
    if (!e) {
        size_t bytes = 0;
        cl_command_queue q = ctx->queue;
        if (CLBlastSGemmTempBufferSize(CLBlastLayoutColMajor, ta, tb, m, n, k, a_off, lda, b_off,
                                       ldb, c_off, ldc, &q, &bytes) != CLBlastSuccess)
            return NULL;
        e = &t->sizes[t->next++ % BZ_GEMM_SIZES];
        memcpy(e->key, key, sizeof key);
        e->generation = gen;
        e->bytes = bytes;
        e->valid = true;
    }
    if (e->bytes == 0)
        return NULL;
    if (e->bytes > t->bytes) {
        /* Commands still queued keep the old buffer alive until they ran. */
        if (t->mem)
            clReleaseMemObject(t->mem);
        cl_int rc;
        t->mem = clCreateBuffer(ctx->cl, CL_MEM_READ_WRITE, e->bytes, NULL, &rc);
        t->bytes = rc == CL_SUCCESS ? e->bytes : 0;
        if (rc != CL_SUCCESS)
            t->mem = NULL;
    }
    return t->mem;
}

static void temp_free(bz_context *ctx)
{
    if (ctx->gemm_temp && ctx->gemm_temp->mem)
        clReleaseMemObject(ctx->gemm_temp->mem);
    free(ctx->gemm_temp);
    ctx->gemm_temp = NULL;
}

bz_status bz_sgemm(bz_context *ctx, bool trans_a, bool trans_b, size_t m, size_t n, size_t k,
                   float alpha, const bz_buf *a, size_t a_off, size_t lda, const bz_buf *b,
                   size_t b_off, size_t ldb, float beta, bz_buf *c, size_t c_off, size_t ldc)
{
    if (m == 0 || n == 0)
        return BZ_OK;
    if (!ctx->ready && !ctx->queue)
        return bz_fail(ctx, BZ_E_INVALID_ARG, "sgemm: the context has no device");
    /* Shapes are checked here, where the caller's intent is known, so the
     * message names the product rather than CLBlast's view of it. */
    size_t a_rows = trans_a ? k : m, a_cols = trans_a ? m : k;
    size_t b_rows = trans_b ? n : k, b_cols = trans_b ? k : n;
    if (lda < a_cols || ldb < b_cols || ldc < n ||
        (a_rows && a_off + (a_rows - 1) * lda + a_cols > a->count) ||
        (b_rows && b_off + (b_rows - 1) * ldb + b_cols > b->count) ||
        c_off + (m - 1) * ldc + n > c->count)
        return bz_fail(ctx, BZ_E_SHAPE,
                       "sgemm %zux%zux%zu (trans %d%d): an operand does not fit its buffer "
                       "(A %zu, B %zu, C %zu floats; ld %zu %zu %zu)",
                       m, n, k, trans_a, trans_b, a->count, b->count, c->count, lda, ldb, ldc);
    if (k == 0) /* C = beta C: CLBlast rejects k == 0 */
        return bz_op_scale_block(ctx, c, c_off, ldc, m, n, beta);
    if (bz_fault_hit(ctx))
        return bz_fail(ctx, BZ_E_BLAS, "CLBlastSgemm: injected fault");
    cl_command_queue q = ctx->queue;
    double t0 = bz_prof_begin(ctx);
    /* The row-major product is handed to CLBlast as the column-major C^T =
     * op(B)^T op(A)^T, which is the same memory. CLBlast's indirect Xgemm
     * kernel stores C column-major, so a row-major call costs a transposing
     * copy of C on the way out (and on the way in when beta != 0); this form
     * skips both, which saved 10-25% of every RBM product on POCL. */
    const CLBlastTranspose ta = trans_b ? CLBlastTransposeYes : CLBlastTransposeNo,
                           tb = trans_a ? CLBlastTransposeYes : CLBlastTransposeNo;
    cl_mem temp = temp_for(ctx, ta, tb, n, m, k, b_off, ldb, a_off, lda, c_off, ldc);
    CLBlastStatusCode s =
        temp ? CLBlastSgemmWithTempBuffer(CLBlastLayoutColMajor, ta, tb, n, m, k, alpha, b->mem,
                                          b_off, ldb, a->mem, a_off, lda, beta, c->mem, c_off,
                                          ldc, &q, NULL, temp)
             : CLBlastInsufficientMemoryTemp;
    if (s == CLBlastInsufficientMemoryTemp) /* none, or a size CLBlast disowns */
        s = CLBlastSgemm(CLBlastLayoutColMajor, ta, tb, n, m, k, alpha, b->mem, b_off, ldb,
                         a->mem, a_off, lda, beta, c->mem, c_off, ldc, &q, NULL);
    if (ctx->profile) {
        char name[80];
        snprintf(name, sizeof name, "sgemm %c%c %zux%zux%zu", trans_a ? 'T' : 'N', trans_b ? 'T' : 'N',
                 m, n, k);
        name[47] = '\0';
        bz_prof_end(ctx, name, t0);
    }
    if (s != CLBlastSuccess)
        return bz_fail(ctx, s == CLBlastTempBufferAllocFailure ? BZ_E_DEVICE_MEM : BZ_E_BLAS,
                       "CLBlastSgemm(%zux%zux%zu, trans %d%d) failed: %s (%d)", m, n, k, trans_a,
                       trans_b, bz_clblast_status_name(s), (int)s);
    return BZ_OK;
}

/* One small product so that CLBlast compiles its kernels now; when tuned
 * parameters are in force the result is checked too, since a tuning entry
 * made elsewhere may not suit this device. */
static bz_status warm_up(bz_context *ctx, bool check)
{
    bz_buf a, b, c;
    bz_status st = bz_buf_alloc(ctx, &a, 64);
    if (st)
        return st;
    st = bz_buf_alloc(ctx, &b, 64);
    if (st) {
        bz_buf_release(&a);
        return st;
    }
    st = bz_buf_alloc(ctx, &c, 64);
    if (!st)
        st = bz_buf_fill(ctx, &a, 1.0f, 0, 64);
    if (!st)
        st = bz_buf_fill(ctx, &b, 1.0f, 0, 64);
    if (!st)
        st = bz_sgemm(ctx, false, false, 8, 8, 8, 1.0f, &a, 0, 8, &b, 0, 8, 0.0f, &c, 0, 8);
    if (!st)
        st = bz_finish(ctx) == BZ_OK ? BZ_OK : ctx->err.status;
    float out[64];
    if (!st && check && !(st = bz_buf_read(ctx, &c, 0, out, 64)))
        for (size_t i = 0; i < 64 && !st; i++)
            if (out[i] != 8.0f)
                st = bz_fail(ctx, BZ_E_BLAS, "warm-up SGEMM gave %g instead of 8", (double)out[i]);
    bz_buf_release(&a);
    bz_buf_release(&b);
    bz_buf_release(&c);
    return st;
}

bz_status bz_gemm_setup(bz_context *ctx)
{
    /* Before anything compiles: CLBlast keys its programs by the parameters. */
    bool tuned = bz_tuning_apply_for_context(ctx);
    bz_status st = warm_up(ctx, tuned);
    if (st != BZ_OK && tuned) {
        bz_log(ctx, BZ_LOG_WARN, "SGEMM fails with the tuning entry %s (%s); using conservative "
               "parameters instead", ctx->tuning_source, ctx->err.msg);
        bz_tuning_apply_safe(ctx);
        st = warm_up(ctx, true);
    }
    return st;
}

bz_status bz_gemm_use_batch(bz_context *ctx, size_t batch)
{
    bool changed;
    const bz_tuning_batch *b = bz_tuning_use_batch(ctx, batch, &changed);
    if (!changed || !b)
        return BZ_OK;
    /* A batch entry is checked when first laid on, as the device's entry is
     * at context creation; one that fails is dropped with a warning and the
     * device's entry goes on. */
    bz_status st = warm_up(ctx, true);
    if (st == BZ_OK)
        return BZ_OK;
    bz_log(ctx, BZ_LOG_WARN, "SGEMM fails with the tuning entry %s for batch %zu (%s); using the "
           "device's entry instead", b->source, batch, ctx->err.msg);
    bz_tuning_refuse_batch(ctx);
    return warm_up(ctx, true);
}

void bz_gemm_forget_device(bz_context *ctx)
{
    temp_free(ctx);
    bz_tuning_forget(ctx);
    CLBlastClearCache();
}
