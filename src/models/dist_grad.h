/*
 * The gradient exchange of data-parallel training, shared by the RBM trainer
 * (rbm_train.c) and DBN fine-tuning (dbn_train.c).
 *
 * A model's gradient lives in one device buffer whose sections (weights,
 * biases, ...) start at the device's sub-buffer alignment, so the trainer's
 * products and kernels write each section in place and one read, one
 * in-place allreduce over one contiguous host buffer and one write move the
 * whole gradient per step. A few caller-set floats after the gradient ride in
 * the same allreduce (the ranks' stop requests, for instance).
 *
 * A step: compute this rank's share into the sections, bz_grad_exchange_begin
 * (queues the read and returns), queue the next batch's upload, then
 * bz_grad_exchange_end (waits for the read, sums across ranks, queues the
 * write back): the upload overlaps the allreduce.
 */
#ifndef BZ_MODELS_DIST_GRAD_H
#define BZ_MODELS_DIST_GRAD_H

#include "dist/dist.h"
#include "engine/engine.h"
#include "models/rbm.h"

/* Sections at most: a DBN's weights and biases for 8 hidden layers and the
 * softmax layer (18), with room to spare. */
#define BZ_GRAD_MAX_SECTIONS 24

typedef struct bz_grad_sync {
    bz_buf all;                         /* the device gradient, n_dev floats */
    bz_buf sec[BZ_GRAD_MAX_SECTIONS];   /* sub-buffers of `all` */
    size_t off[BZ_GRAD_MAX_SECTIONS];   /* their first floats in `all` */
    size_t n_sec, n_dev, n_red;
    float *host;    /* n_red floats: the n_dev of `all`, then the extras */
    float *extra;   /* host + n_dev: set before bz_grad_exchange_end, summed with it */
    cl_event read;  /* the read in flight between begin and end */
} bz_grad_sync;

/* Allocates sections of lens[0..n) floats (zeroed) and `extra` floats after
 * them on the host. On failure g is left empty (bz_grad_free is harmless). */
bz_status bz_grad_alloc(bz_context *c, const size_t *lens, size_t n, size_t extra,
                        bz_grad_sync *g);
/* Waits for a read still in flight, then frees everything. */
void bz_grad_free(bz_grad_sync *g);
/* Zeroes the device gradient: the share of a rank without rows in a batch. */
bz_status bz_grad_zero(bz_context *c, bz_grad_sync *g);

/* Queues the non-blocking read of the device gradient into g->host and
 * flushes the queue. */
bz_status bz_grad_exchange_begin(bz_context *c, bz_grad_sync *g);
/* Waits for the read, sums g->host (gradient and extras) across comm in one
 * in-place allreduce, and queues the write of the sum back into the device
 * gradient. t0: when this step's device work began, for comm's timings. */
bz_status bz_grad_exchange_end(bz_context *c, bz_grad_sync *g, bz_comm *comm, double t0);

/* Fetches this rank's share of global batch `batch` (rows of B, the last one
 * shorter, of d's current permutation) into dst: the batch has *rows rows, of
 * which this rank holds *local from *lo on (possibly none). */
bz_status bz_dist_fetch_share(bz_data *d, size_t B, size_t batch, const bz_comm *comm, bz_buf *dst,
                              size_t *lo, size_t *local, size_t *rows);

#endif
