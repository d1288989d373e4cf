/*
 * Host reference of kernels/anneal.cl: the same Metropolis sweeps, operation
 * for operation, for one replica at a time (spins and fields contiguous).
 * The device must agree bit for bit.
 */
#ifndef BZ_REF_ANNEAL_REF_H
#define BZ_REF_ANNEAL_REF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Couplings as the device holds them: CSR (rowp, col, val) or, with dense,
 * val as an n x n row-major matrix with a zero diagonal. */
typedef struct bz_ref_ising {
    uint32_t n;
    bool dense;
    const uint32_t *rowp, *col;
    const float *val, *h;
} bz_ref_ising;

/* The stream offset of the initial spins (kernels/anneal.cl). */
#define BZ_REF_AN_INIT_STREAM UINT64_C(0x4000000000000000)

/* 2^-x for 0 < x < 24, as the kernel computes it. */
float bz_ref_an_exp2_neg(float x);

/* anneal_init for replica r: random spins from (seed, stream_base + r) when
 * randomize, then the fields; returns the energy (float, no constant). */
float bz_ref_anneal_init(const bz_ref_ising *m, int8_t *spin, float *field, bool randomize,
                         uint64_t seed, uint64_t stream_base, uint32_t r);

/* anneal_sweeps for replica r: sweep t at beta[t] (the caller picks the
 * schedule's slice); returns the energy at the end. */
float bz_ref_anneal_sweeps(const bz_ref_ising *m, int8_t *spin, float *field, const float *beta,
                           uint32_t sweeps, uint64_t seed, uint64_t stream_base, uint32_t r,
                           uint64_t sweep_base);

/* anneal_colour_sweeps for replica r (sparse only): the variables visited
 * class by class in `order` (start[c] .. start[c+1] is class c), each field
 * summed afresh; returns the energy at the end. No field memory. */
float bz_ref_anneal_colour_sweeps(const bz_ref_ising *m, const uint32_t *order,
                                  const uint32_t *start, uint32_t n_colours, int8_t *spin,
                                  const float *beta, uint32_t sweeps, uint64_t seed,
                                  uint64_t stream_base, uint32_t r, uint64_t sweep_base);

#endif
