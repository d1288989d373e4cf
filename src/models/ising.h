/*
 * Optimisation problems as Ising models (boltzcl.h, "Optimisation"): the
 * host representation, built from terms or a dense matrix, the file readers,
 * and the device samplers (anneal.c). Everything up to the device is plain
 * host code with bz_error, so the readers are tested without OpenCL.
 */
#ifndef BZ_MODELS_ISING_H
#define BZ_MODELS_ISING_H

#include "boltzcl.h"
#include "base/error.h"
#include "models/meta.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Largest problem: indices and CSR offsets are 32-bit on the device. */
#define BZ_ISING_MAX_N (1u << 24)
/* Couplings are held densely on the device from this share of all pairs up. */
#define BZ_ISING_DENSE_SHARE 0.5

struct bz_ising_dev; /* anneal.c */

struct bz_ising {
    bz_context *ctx;       /* NULL for a problem built by the host-only readers */
    bz_problem_kind kind;
    uint32_t n;
    double offset;         /* the constant c of E */
    float *h;              /* n */
    bool dense;            /* J as n x n below, else CSR */
    float *J;              /* dense: n x n row-major, symmetric, zero diagonal */
    uint32_t *rowp, *col;  /* CSR: both directions, columns ascending */
    float *val;
    size_t nnz;            /* CSR entries (2 per pair) */
    size_t pairs;          /* pairs i < j with J_ij != 0 */
    struct bz_ising_dev *dev;
    bz_meta meta;          /* free metadata of a saved problem (ising_kind.c) */
};

/* One term, for the builders. */
typedef struct bz_ising_term {
    uint32_t i, j;
    double v;
} bz_ising_term;

/* Builds a host-only problem from terms (kind's meaning as in boltzcl.h);
 * `what` names the source in messages ("G1", "problem"). Max-Cut refuses
 * linear terms. Non-finite values are refused. */
bz_status bz_ising_build_terms(bz_problem_kind kind, uint32_t n, const bz_ising_term *t,
                               size_t count, const char *what, bz_ising **out, bz_error *err);
/* From a dense n x n matrix (Ising, QUBO: every entry a term; Max-Cut: the
 * symmetric adjacency matrix, zero diagonal) plus optional linear terms. */
bz_status bz_ising_build_dense(bz_problem_kind kind, uint32_t n, const float *m, const float *h,
                               const char *what, bz_ising **out, bz_error *err);

/* A saved problem (the "ising" model kind, ising_kind.c) through the
 * generic loader; the kind comes from the file. */
bz_status bz_ising_load_model(bz_context *ctx, const char *path, bz_ising **out);

/* Reads a file (host only); kind as given by the caller. */
bz_status bz_ising_read(const char *path, bz_problem_kind kind, bz_ising **out, bz_error *err);

/* CSR view of the couplings for either storage (built on demand for a dense
 * problem by the caller of the device code). */
void bz_ising_release_device(bz_ising *p); /* anneal.c */

/* Largest and smallest non-zero single-flip energy scales (2 sum |J| + 2|h|
 * of the most coupled spin; 2 x the smallest non-zero magnitude). */
void bz_ising_scales(const bz_ising *p, double *de_max, double *de_min);

/* Classes of variables no two of which are coupled: class k holds
 * order[start[k] .. start[k+1]). Sparse problems only. */
typedef struct bz_ising_colouring {
    uint32_t n_colours;
    uint32_t *start; /* n_colours + 1 */
    uint32_t *order; /* n: the variables class by class, ascending within one */
} bz_ising_colouring;

/* Greedy colouring in index order (at most the largest degree + 1 classes). */
bz_status bz_ising_colour(const bz_ising *p, bz_ising_colouring *out, bz_error *err);
void bz_ising_colouring_free(bz_ising_colouring *c);
/* Every variable in exactly one non-empty class, no coupled pair in one. */
bool bz_ising_colouring_valid(const bz_ising *p, const bz_ising_colouring *c);

#endif
