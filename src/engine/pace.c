/*
 * Bounding the work a training loop queues. Left alone, a loop enqueues a
 * whole epoch (tens of thousands of commands) before its first read. POCL's
 * scheduler walks its queue, and CLBlast's indirect GEMM allocates
 * temporaries that live until their commands run, so an unbounded queue made
 * the RBM three times and DBN fine-tuning (batch 32) five to ten times
 * slower there. Two steps in flight keep a GPU just as busy.
 */
#include "engine/engine.h"

bz_status bz_pace_step(bz_context *ctx, bz_pacer *p)
{
    cl_event mark = NULL;
    cl_int rc = clEnqueueMarkerWithWaitList(ctx->queue, 0, NULL, &mark);
    if (rc != CL_SUCCESS)
        return bz_cl_fail(ctx, rc, "clEnqueueMarkerWithWaitList", "");
    unsigned slot = p->next++ % 2;
    rc = CL_SUCCESS;
    if (p->mark[slot]) {
        rc = clWaitForEvents(1, &p->mark[slot]);
        clReleaseEvent(p->mark[slot]);
    }
    p->mark[slot] = mark;
    return rc == CL_SUCCESS ? BZ_OK : bz_cl_fail(ctx, rc, "clWaitForEvents", "");
}

void bz_pace_end(bz_pacer *p)
{
    for (int i = 0; i < 2; i++) {
        if (p->mark[i])
            clReleaseEvent(p->mark[i]);
        p->mark[i] = NULL;
    }
}
