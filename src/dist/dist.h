/*
 * Data-parallel training across processes.
 *
 * Two halves. bz_comm is the small interface the training code sees: rank,
 * size and three collectives behind function pointers, so the core library
 * never links MPI and a test or another transport can stand in. The MPI half
 * (dist.c, built only with -Dmpi and BZ_HAVE_MPI defined) starts MPI, fills a
 * bz_comm with MPI_Allreduce / MPI_Bcast, picks each rank's device and ends the
 * whole job when one rank cannot go on.
 *
 * Numerics: a rank that holds rows [lo, hi) of a global batch samples with
 * element offsets lo * cols, so the random numbers follow the global sample
 * index, and the gradients are summed across ranks before the update: N ranks
 * reproduce one rank to rounding (the sums are associated differently).
 */
#ifndef BZ_DIST_DIST_H
#define BZ_DIST_DIST_H

#include "boltzcl.h"

#include <stdbool.h>
#include <stddef.h>

typedef struct bz_comm bz_comm;
struct bz_comm {
    int rank, size, local_rank;
    /* In-place element-wise sums across all ranks (MPI_IN_PLACE, MPI_SUM). */
    bz_status (*sum_f32)(bz_comm *c, float *x, size_t n);
    bz_status (*sum_f64)(bz_comm *c, double *x, size_t n);
    /* Rank 0's x to every rank. */
    bz_status (*bcast_f32)(bz_comm *c, float *x, size_t n);
    bz_status (*bcast_u64)(bz_comm *c, uint64_t *x, size_t n);
    void *impl;
    /* Filled by training: steps taken, seconds from a batch's start until its
     * local gradient was on the host (device work, with the upload of the
     * next batch overlapped), and seconds inside the gradient allreduce. */
    size_t steps;
    double compute_s, reduce_s;
    size_t reduce_floats; /* floats per allreduce */
    char error[512];      /* what a failed collective said */
};

/* One epoch of data-parallel training: like bz_rbm_train_epoch, but this
 * process trains on its share of every batch (the batch size stays global)
 * and the gradients are summed across comm before each update. Every rank
 * must call it with the same options and data; stats are global. */
bz_status bz_rbm_train_epoch_dist(bz_rbm *rbm, bz_data *data, const bz_rbm_train_options *opts,
                                  unsigned epoch, bz_rbm_epoch_stats *stats, bz_comm *comm);

/* Gives every rank rank 0's parameters and training state (weights, biases,
 * velocities, sparsity estimates). */
bz_status bz_rbm_dist_sync(bz_rbm *rbm, bz_comm *comm);

/* The rows [lo, hi) of a batch of `rows` rows that `rank` of `size` holds. */
static inline void bz_dist_share(size_t rows, int rank, int size, size_t *lo, size_t *hi)
{
    *lo = rows * (size_t)rank / (size_t)size;
    *hi = rows * ((size_t)rank + 1) / (size_t)size;
}

#ifdef BZ_HAVE_MPI
/* Starts MPI (once) and fills *out; returns 0, or prints why and returns -1. */
int bz_dist_init(int *argc, char ***argv, bz_comm **out);
/* MPI_Finalize; frees the communicator. */
void bz_dist_finalize(bz_comm *c);
/* Prints "boltzcl: rank R of N (host): <message>; ending the whole job" and
 * calls MPI_Abort: every rank of the job stops. */
_Noreturn void bz_dist_abort(bz_comm *c, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The device selector for this rank: the user's selector when it names one
 * device, otherwise the (local rank mod count)-th of the best devices of the
 * node (GPUs round-robin; the CPU through POCL on a node without one). */
void bz_dist_pick_device(const bz_comm *c, const char *user_sel, char *out, size_t size);
/* Wall-clock cost of one in-place float allreduce of n floats over reps
 * repetitions, each the slowest rank's: the median, and the fastest in *best
 * (may be NULL). Every rank must call it. */
double bz_dist_time_allreduce(bz_comm *c, size_t n, int reps, double *best);
/* MPI_Barrier, and the largest of every rank's x. */
void bz_dist_barrier(void);
double bz_dist_max(double x);
#endif

#endif
