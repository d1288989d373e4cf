/* Device buffers of 32-bit words and the launch helpers. */
#include "engine/engine.h"
#include "engine/check.h"

#include <stdint.h>
#include <stdio.h>

bz_status bz_buf_alloc(bz_context *ctx, bz_buf *buf, size_t count)
{
    buf->mem = NULL;
    buf->count = 0;
    if (count == 0)
        count = 1; /* OpenCL refuses empty buffers; one word is harmless */
    size_t bytes = count * sizeof(float);
    if (bytes / sizeof(float) != count || bytes > ctx->dev.max_alloc)
        return bz_fail(ctx, BZ_E_DEVICE_MEM,
                       "a buffer of %zu MiB exceeds the device's largest allocation "
                       "(%llu MiB on %s)",
                       (bytes + (1u << 20) - 1) >> 20, (unsigned long long)(ctx->dev.max_alloc >> 20),
                       ctx->dev.name);
    if (bz_fault_hit(ctx))
        return bz_fail(ctx, BZ_E_DEVICE_MEM, "clCreateBuffer(%zu bytes): injected fault", bytes);
    cl_int rc;
    cl_mem m = clCreateBuffer(ctx->cl, CL_MEM_READ_WRITE, bytes, NULL, &rc);
    if (rc != CL_SUCCESS) {
        char what[64];
        snprintf(what, sizeof what, "%zu bytes", bytes);
        return bz_cl_fail(ctx, rc, "clCreateBuffer", what);
    }
    buf->mem = m;
    buf->count = count;
    return BZ_OK;
}

size_t bz_device_budget(const bz_context *ctx)
{
    cl_ulong g = ctx->dev.global_mem;
    if (ctx->dev.type & CL_DEVICE_TYPE_CPU)
        g /= 2;
    return g > SIZE_MAX ? SIZE_MAX : (size_t)g;
}

void bz_buf_release(bz_buf *buf)
{
    if (buf && buf->mem) {
        clReleaseMemObject(buf->mem);
        buf->mem = NULL;
        buf->count = 0;
    }
}

static bz_status check_range(bz_context *ctx, const bz_buf *buf, size_t off, size_t count,
                             const char *what)
{
    if (!buf->mem || off > buf->count || count > buf->count - off)
        return bz_fail(ctx, BZ_E_INTERNAL, "%s: range [%zu, %zu) outside a buffer of %zu words",
                       what, off, off + count, buf->count);
    return BZ_OK;
}

bz_status bz_buf_write(bz_context *ctx, bz_buf *buf, size_t offset, const void *src, size_t count)
{
    bz_status st = check_range(ctx, buf, offset, count, "buffer write");
    if (st || count == 0)
        return st;
    if (bz_fault_hit(ctx))
        return bz_fail(ctx, BZ_E_OPENCL, "clEnqueueWriteBuffer: injected fault");
    cl_int rc = clEnqueueWriteBuffer(ctx->queue, buf->mem, CL_TRUE, offset * 4, count * 4, src,
                                     0, NULL, NULL);
    return rc == CL_SUCCESS ? BZ_OK : bz_cl_fail(ctx, rc, "clEnqueueWriteBuffer", "");
}

bz_status bz_buf_read(bz_context *ctx, const bz_buf *buf, size_t offset, void *dst, size_t count)
{
    bz_status st = check_range(ctx, buf, offset, count, "buffer read");
    if (st || count == 0)
        return st;
    if (bz_fault_hit(ctx))
        return bz_fail(ctx, BZ_E_OPENCL, "clEnqueueReadBuffer: injected fault");
    cl_int rc = clEnqueueReadBuffer(ctx->queue, buf->mem, CL_TRUE, offset * 4, count * 4, dst, 0,
                                    NULL, NULL);
    return rc == CL_SUCCESS ? BZ_OK : bz_cl_fail(ctx, rc, "clEnqueueReadBuffer", "");
}

bz_status bz_buf_fill(bz_context *ctx, bz_buf *buf, float value, size_t offset, size_t count)
{
    bz_status st = check_range(ctx, buf, offset, count, "buffer fill");
    if (st || count == 0)
        return st;
    if (bz_fault_hit(ctx))
        return bz_fail(ctx, BZ_E_OPENCL, "clEnqueueFillBuffer: injected fault");
    cl_int rc = clEnqueueFillBuffer(ctx->queue, buf->mem, &value, sizeof value, offset * 4,
                                    count * 4, 0, NULL, NULL);
    return rc == CL_SUCCESS ? BZ_OK : bz_cl_fail(ctx, rc, "clEnqueueFillBuffer", "");
}

bz_status bz_buf_copy(bz_context *ctx, const bz_buf *src, size_t src_off, bz_buf *dst,
                      size_t dst_off, size_t count)
{
    bz_status st = check_range(ctx, src, src_off, count, "buffer copy source");
    if (!st)
        st = check_range(ctx, dst, dst_off, count, "buffer copy destination");
    if (st || count == 0)
        return st;
    if (bz_fault_hit(ctx))
        return bz_fail(ctx, BZ_E_OPENCL, "clEnqueueCopyBuffer: injected fault");
    cl_int rc = clEnqueueCopyBuffer(ctx->queue, src->mem, dst->mem, src_off * 4, dst_off * 4,
                                    count * 4, 0, NULL, NULL);
    return rc == CL_SUCCESS ? BZ_OK : bz_cl_fail(ctx, rc, "clEnqueueCopyBuffer", "");
}

bz_status bz_buf_copy_rect(bz_context *ctx, const bz_buf *src, size_t src_pitch, bz_buf *dst,
                           size_t dst_pitch, size_t rows, size_t cols)
{
    if (rows == 0 || cols == 0)
        return BZ_OK;
    if (cols > src_pitch || cols > dst_pitch)
        return bz_fail(ctx, BZ_E_INTERNAL, "rectangle copy of %zu columns with pitches %zu, %zu",
                       cols, src_pitch, dst_pitch);
    bz_status st = check_range(ctx, src, 0, (rows - 1) * src_pitch + cols, "rectangle copy source");
    if (!st)
        st = check_range(ctx, dst, 0, (rows - 1) * dst_pitch + cols, "rectangle copy destination");
    if (st)
        return st;
    if (bz_fault_hit(ctx))
        return bz_fail(ctx, BZ_E_OPENCL, "clEnqueueCopyBufferRect: injected fault");
    const size_t origin[3] = {0, 0, 0}, region[3] = {cols * 4, rows, 1};
    cl_int rc = clEnqueueCopyBufferRect(ctx->queue, src->mem, dst->mem, origin, origin, region,
                                        src_pitch * 4, 0, dst_pitch * 4, 0, 0, NULL, NULL);
    return rc == CL_SUCCESS ? BZ_OK : bz_cl_fail(ctx, rc, "clEnqueueCopyBufferRect", "");
}

bz_status bz_buf_copy_padded(bz_context *ctx, const bz_buf *src, size_t src_cols, size_t rows,
                             bz_buf *dst, size_t dst_cols, size_t dst_rows, float fill)
{
    if (src_cols > dst_cols || rows > dst_rows)
        return bz_fail(ctx, BZ_E_INTERNAL, "padded copy of %zu x %zu into %zu x %zu", rows,
                       src_cols, dst_rows, dst_cols);
    if (dst_cols > src_cols || dst_rows > rows)
        CHECK(bz_buf_fill(ctx, dst, fill, 0, dst_rows * dst_cols));
    return bz_buf_copy_rect(ctx, src, src_cols, dst, dst_cols, rows, src_cols);
}

bz_status bz_kernel_set_args(bz_context *ctx, cl_kernel k, const char *name,
                             const bz_kernel_arg *args, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        cl_int rc = clSetKernelArg(k, (cl_uint)i, args[i].size, args[i].value);
        if (rc != CL_SUCCESS) {
            char what[96];
            snprintf(what, sizeof what, "%s, argument %zu", name, i);
            return bz_cl_fail(ctx, rc, "clSetKernelArg", what);
        }
    }
    return BZ_OK;
}

bz_status bz_launch1d(bz_context *ctx, cl_kernel k, const char *name, size_t global)
{
    if (global == 0)
        return BZ_OK;
    size_t wg = ctx->wg_elementwise;
    size_t g = (global + wg - 1) / wg * wg;
    if (bz_fault_hit(ctx))
        return bz_fail(ctx, BZ_E_OPENCL, "clEnqueueNDRangeKernel(%s): injected fault", name);
    double t0 = bz_prof_begin(ctx);
    cl_int rc = clEnqueueNDRangeKernel(ctx->queue, k, 1, NULL, &g, &wg, 0, NULL, NULL);
    bz_prof_end(ctx, name, t0);
    return rc == CL_SUCCESS ? BZ_OK : bz_cl_fail(ctx, rc, "clEnqueueNDRangeKernel", name);
}

bz_status bz_launch_rows(bz_context *ctx, cl_kernel k, const char *name, size_t rows,
                         size_t cols)
{
    if (rows == 0 || cols == 0)
        return BZ_OK;
    /* A work-group of up to wg items: a row's columns, or several short
     * rows (l0 a power of two, so wg / l0 divides wg evenly). */
    size_t wg = ctx->wg_elementwise, l0 = 1;
    while (l0 < cols && l0 < wg)
        l0 *= 2;
    size_t l1 = wg / l0 < rows ? wg / l0 : rows;
    if (l1 == 0)
        l1 = 1;
    size_t local[2] = {l0, l1};
    size_t global[2] = {(cols + l0 - 1) / l0 * l0, (rows + l1 - 1) / l1 * l1};
    if (bz_fault_hit(ctx))
        return bz_fail(ctx, BZ_E_OPENCL, "clEnqueueNDRangeKernel(%s): injected fault", name);
    double t0 = bz_prof_begin(ctx);
    cl_int rc = clEnqueueNDRangeKernel(ctx->queue, k, 2, NULL, global, local, 0, NULL, NULL);
    bz_prof_end(ctx, name, t0);
    return rc == CL_SUCCESS ? BZ_OK : bz_cl_fail(ctx, rc, "clEnqueueNDRangeKernel", name);
}
