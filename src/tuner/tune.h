/*
 * boltzcl-tune / `boltzcl tune`: searches CLBlast's GEMM parameters and
 * boltzcl's launch sizes for one device at the shapes the models use, and
 * writes the winner as a tuning-file entry (tuning/db.h).
 *
 * The OpenCL work runs in a child process (tune_worker.c) that the search
 * (tune.c) restarts when a candidate crashes the driver or hangs; the parent
 * never touches OpenCL, so forking stays safe. Every result is appended to a
 * state file, so an interrupted run resumes where it stopped.
 */
#ifndef BZ_TUNER_TUNE_H
#define BZ_TUNER_TUNE_H

#include "boltzcl.h"

#include <stdbool.h>
#include <stddef.h>

/* bz_tune_options, bz_tune_options_init and bz_tune_run are public
 * (boltzcl.h). */

/* The GEMM shapes tuned for: the products of a CD step of the models. */
typedef struct bz_tune_shape {
    size_t m, n, k;
    bool ta, tb;
} bz_tune_shape;

extern bz_tune_shape bz_tune_shapes[];
extern const size_t bz_tune_n_shapes;

/* Tunes for minibatches of `batch` rows instead of 100 (tiles that divide
 * the batch spare CLBlast its padding); call before bz_tune_run. */
void bz_tune_set_batch(size_t batch);

/* Relative error (max |c - ref| / max |ref|) beyond which a candidate's
 * product is wrong: 1e-4 * sqrt(k), loose for float accumulation yet far
 * below what a broken kernel produces. */
double bz_tune_tolerance(size_t k);

/* max |c - ref| / max |ref|; infinite when c holds a NaN. */
double bz_tune_rel_error(const float *c, const float *ref, size_t n);

/* Whether a product over k terms with that error is right. */
bool bz_tune_accept(double rel_error, size_t k);

#endif
