/* The gradient exchange of data-parallel training (see dist_grad.h). */
#include "models/dist_grad.h"
#include "engine/check.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

static bz_status sub_buffer(bz_context *c, bz_buf *all, size_t off, size_t n, bz_buf *out)
{
    cl_buffer_region reg = {off * sizeof(float), n * sizeof(float)};
    cl_int rc;
    out->mem = clCreateSubBuffer(all->mem, CL_MEM_READ_WRITE, CL_BUFFER_CREATE_TYPE_REGION, &reg,
                                 &rc);
    if (rc != CL_SUCCESS) {
        out->mem = NULL;
        return bz_cl_fail(c, rc, "clCreateSubBuffer", "gradient section");
    }
    out->count = n;
    return BZ_OK;
}

void bz_grad_free(bz_grad_sync *g)
{
    /* The host copy may not be freed under a read still in flight. */
    if (g->read) {
        clWaitForEvents(1, &g->read);
        clReleaseEvent(g->read);
    }
    for (size_t i = 0; i < g->n_sec; i++)
        bz_buf_release(&g->sec[i]);
    bz_buf_release(&g->all);
    free(g->host);
    memset(g, 0, sizeof *g);
}

bz_status bz_grad_alloc(bz_context *c, const size_t *lens, size_t n, size_t extra,
                        bz_grad_sync *g)
{
    memset(g, 0, sizeof *g);
    if (n == 0 || n > BZ_GRAD_MAX_SECTIONS)
        return bz_fail(c, BZ_E_INTERNAL, "a gradient of %zu sections (1 to %d)", n,
                       BZ_GRAD_MAX_SECTIONS);
    /* Sub-buffers must start at CL_DEVICE_MEM_BASE_ADDR_ALIGN (in bits). */
    cl_uint bits = 1024;
    clGetDeviceInfo(c->dev.id, CL_DEVICE_MEM_BASE_ADDR_ALIGN, sizeof bits, &bits, NULL);
    size_t al = bits / 8 / sizeof(float);
    al = al ? al : 1;
    size_t end = 0;
    for (size_t i = 0; i < n; i++) {
        g->off[i] = (end + al - 1) / al * al;
        end = g->off[i] + lens[i];
    }
    g->n_dev = end;
    g->n_red = end + extra;
    bz_status st;
    if (!(g->host = calloc(g->n_red, sizeof *g->host)))
        st = bz_fail(c, BZ_E_NOMEM, "out of memory for a gradient of %zu floats", g->n_red);
    else if (!(st = bz_buf_alloc(c, &g->all, g->n_dev)))
        st = bz_buf_fill(c, &g->all, 0.0f, 0, g->n_dev);
    for (size_t i = 0; !st && i < n; i++, g->n_sec = i)
        st = sub_buffer(c, &g->all, g->off[i], lens[i], &g->sec[i]);
    if (st) {
        bz_grad_free(g);
        return st;
    }
    g->extra = g->host + g->n_dev;
    return BZ_OK;
}

bz_status bz_grad_zero(bz_context *c, bz_grad_sync *g)
{
    return bz_buf_fill(c, &g->all, 0.0f, 0, g->n_dev);
}

bz_status bz_grad_exchange_begin(bz_context *c, bz_grad_sync *g)
{
    cl_int rc = bz_fault_hit(c) ? CL_OUT_OF_RESOURCES
                                : clEnqueueReadBuffer(c->queue, g->all.mem, CL_FALSE, 0,
                                                      g->n_dev * sizeof(float), g->host, 0, NULL,
                                                      &g->read);
    if (rc != CL_SUCCESS) {
        g->read = NULL;
        return bz_cl_fail(c, rc, "clEnqueueReadBuffer", "gradient");
    }
    clFlush(c->queue);
    return BZ_OK;
}

bz_status bz_grad_exchange_end(bz_context *c, bz_grad_sync *g, bz_comm *comm, double t0)
{
    cl_int rc = clWaitForEvents(1, &g->read);
    clReleaseEvent(g->read);
    g->read = NULL;
    if (rc != CL_SUCCESS)
        return bz_cl_fail(c, rc, "clWaitForEvents", "gradient read");
    double t1 = bz_mono_s();
    bz_status st = comm->sum_f32(comm, g->host, g->n_red);
    if (st)
        return bz_fail(c, st, "gradient allreduce: %s", comm->error);
    double t2 = bz_mono_s();
    comm->steps++;
    comm->compute_s += t1 - t0;
    comm->reduce_s += t2 - t1;
    comm->reduce_floats = g->n_red;
    /* The host copy is not touched again before the next read, which the
     * in-order queue runs after this write. */
    rc = bz_fault_hit(c) ? CL_OUT_OF_RESOURCES
                         : clEnqueueWriteBuffer(c->queue, g->all.mem, CL_FALSE, 0,
                                                g->n_dev * sizeof(float), g->host, 0, NULL, NULL);
    return rc == CL_SUCCESS ? BZ_OK : bz_cl_fail(c, rc, "clEnqueueWriteBuffer", "summed gradient");
}

bz_status bz_dist_fetch_share(bz_data *d, size_t B, size_t batch, const bz_comm *comm, bz_buf *dst,
                              size_t *lo, size_t *local, size_t *rows)
{
    size_t first = batch * B, hi;
    *rows = d->n - first < B ? d->n - first : B;
    bz_dist_share(*rows, comm->rank, comm->size, lo, &hi);
    *local = hi - *lo;
    return *local ? bz_data_fetch_perm(d, first + *lo, *local, dst, d->dim) : BZ_OK;
}
