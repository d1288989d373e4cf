/*
 * Datasets for training: on the device when they fit (uploaded once, batches
 * gathered there by index), otherwise streamed from host memory through two
 * staging areas, so the host gathers batch b+1 while the device works on b.
 */
#include "models/rbm.h"
#include "ops/ops.h"
#include "ref/reference.h"

#include <stdlib.h>
#include <string.h>

/* Keep a quarter of the device's budget for the model and work space. */
static bool fits_on_device(const bz_context *ctx, size_t bytes)
{
    return bytes <= ctx->dev.max_alloc && bytes <= bz_device_budget(ctx) / 4 * 3;
}

bz_status bz_data_create(bz_context *ctx, const float *x, size_t n, size_t dim, bz_data **out)
{
    if (!ctx || !out || !x || n == 0 || dim == 0)
        return bz_fail(ctx, BZ_E_INVALID_ARG, "bz_data_create: empty data");
    if (!ctx->ready)
        return bz_fail(ctx, BZ_E_INVALID_ARG, "bz_data_create: the context has no device");
    *out = NULL;
    if (n > UINT32_MAX || dim > UINT32_MAX || n * dim / dim != n)
        return bz_fail(ctx, BZ_E_SHAPE, "dataset of %zu x %zu is too large", n, dim);
    bz_data *d = calloc(1, sizeof *d);
    if (!d)
        return bz_fail(ctx, BZ_E_NOMEM, "out of memory");
    d->ctx = ctx;
    d->n = n;
    d->dim = dim;
    d->host = x;
    d->perm = malloc(n * sizeof *d->perm);
    bz_status st = d->perm ? BZ_OK : bz_fail(ctx, BZ_E_NOMEM, "out of memory");
    for (size_t i = 0; st == BZ_OK && i < n; i++)
        d->perm[i] = (uint32_t)i;
    size_t bytes = n * dim * sizeof(float);
    const char *force = getenv("BOLTZCL_STREAM_DATA"); /* tests exercise streaming */
    d->resident = fits_on_device(ctx, bytes) && !(force && force[0] == '1');
    if (st == BZ_OK && d->resident) {
        st = bz_buf_alloc(ctx, &d->x, n * dim);
        if (st == BZ_OK)
            st = bz_buf_write(ctx, &d->x, 0, x, n * dim);
        if (st == BZ_OK)
            st = bz_buf_alloc(ctx, &d->idx, n);
        if (st == BZ_OK)
            st = bz_buf_write(ctx, &d->idx, 0, d->perm, n);
        if (st == BZ_E_DEVICE_MEM) {
            /* Not enough memory after all: stream instead. */
            bz_log(ctx, BZ_LOG_INFO, "dataset of %zu MiB does not fit on %s; streaming it",
                   bytes >> 20, ctx->dev.name);
            bz_buf_release(&d->x);
            bz_buf_release(&d->idx);
            d->resident = false;
            st = BZ_OK;
        }
    }
    if (st != BZ_OK) {
        bz_data_free(d);
        return st;
    }
    *out = d;
    return BZ_OK;
}

void bz_data_free(bz_data *d)
{
    if (!d)
        return;
    for (int i = 0; i < 2; i++) {
        if (d->stage_done[i]) {
            clWaitForEvents(1, &d->stage_done[i]);
            clReleaseEvent(d->stage_done[i]);
        }
        free(d->stage[i]);
    }
    bz_buf_release(&d->x);
    bz_buf_release(&d->idx);
    free(d->perm);
    free(d);
}

size_t bz_data_rows(const bz_data *d)
{
    return d ? d->n : 0;
}

int bz_data_on_device(const bz_data *d)
{
    return d && d->resident;
}

bz_status bz_data_shuffle(bz_data *d, uint64_t seed, unsigned epoch)
{
    /* Fisher-Yates driven by the counter-based generator: the order depends
     * only on (seed, epoch), so a resumed run sees the same batches. */
    bz_ref_permutation(d->perm, d->n, seed, BZ_STREAM_SHUFFLE ^ ((uint64_t)epoch << 8));
    if (d->resident)
        return bz_buf_write(d->ctx, &d->idx, 0, d->perm, d->n);
    return BZ_OK;
}

static bz_status stream_rows(bz_data *d, const uint32_t *rows, size_t first, size_t count,
                             bz_buf *dst, size_t pitch)
{
    bz_context *ctx = d->ctx;
    /* Alternate staging areas; wait only for the upload that last used this
     * one, which was two batches ago. */
    int s = d->turn;
    d->turn ^= 1;
    size_t need = count * pitch;
    if (d->stage_done[s]) {
        clWaitForEvents(1, &d->stage_done[s]);
        clReleaseEvent(d->stage_done[s]);
        d->stage_done[s] = NULL;
    }
    float *g = realloc(d->stage[s], need * sizeof(float));
    if (!g)
        return bz_fail(ctx, BZ_E_NOMEM, "out of memory staging a batch");
    d->stage[s] = g;
    for (size_t r = 0; r < count; r++) {
        size_t src = rows ? rows[first + r] : first + r;
        memcpy(g + r * pitch, d->host + src * d->dim, d->dim * sizeof(float));
        if (pitch > d->dim) /* a padded layout's columns stay zero */
            memset(g + r * pitch + d->dim, 0, (pitch - d->dim) * sizeof(float));
    }
    if (need > dst->count)
        return bz_fail(ctx, BZ_E_INTERNAL, "batch of %zu floats exceeds its buffer", need);
    if (bz_fault_hit(ctx))
        return bz_fail(ctx, BZ_E_OPENCL, "clEnqueueWriteBuffer: injected fault");
    cl_int rc = clEnqueueWriteBuffer(ctx->queue, dst->mem, CL_FALSE, 0, need * sizeof(float), g,
                                     0, NULL, &d->stage_done[s]);
    return rc == CL_SUCCESS ? BZ_OK : bz_cl_fail(ctx, rc, "clEnqueueWriteBuffer", "batch");
}

bz_status bz_data_fetch(bz_data *d, size_t first, size_t count, bz_buf *dst)
{
    if (first > d->n || count > d->n - first)
        return bz_fail(d->ctx, BZ_E_INTERNAL, "rows %zu..%zu outside a dataset of %zu", first,
                       first + count, d->n);
    if (d->resident)
        return bz_buf_copy(d->ctx, &d->x, first * d->dim, dst, 0, count * d->dim);
    return stream_rows(d, NULL, first, count, dst, d->dim);
}

bz_status bz_data_fetch_perm(bz_data *d, size_t first, size_t count, bz_buf *dst, size_t pitch)
{
    if (first > d->n || count > d->n - first || pitch < d->dim)
        return bz_fail(d->ctx, BZ_E_INTERNAL, "rows %zu..%zu (pitch %zu) outside a dataset of %zu",
                       first, first + count, pitch, d->n);
    if (d->resident)
        return bz_op_gather_rows(d->ctx, dst, pitch, &d->x, &d->idx, first, count, d->dim);
    return stream_rows(d, d->perm, first, count, dst, pitch);
}
