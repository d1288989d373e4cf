/*
 * Internal side of the device samplers (anneal.c): a set of replicas on the
 * device and the launches over it, used by the public samplers and by the
 * tests that hold the kernels to the host reference.
 */
#ifndef BZ_MODELS_ANNEAL_H
#define BZ_MODELS_ANNEAL_H

#include "engine/engine.h"
#include "models/ising.h"

typedef struct bz_anneal_run {
    bz_ising *p;
    size_t R;
    uint32_t si, sr;  /* spin i of replica r at i * si + r * sr */
    size_t local;     /* work-group size */
    bz_buf spin;      /* n x R bytes of +-1 */
    bz_buf field, energy, beta;
    float *e;         /* host copy of the energies */
    int8_t *all;      /* scratch for spin-major reads */
    bool colour;      /* anneal_colour_sweeps: one work-group per replica */
} bz_anneal_run;

/* CPU devices keep each replica's spins together; GPUs interleave them. */
bool bz_anneal_replica_major(const bz_context *ctx);
size_t bz_anneal_default_replicas(const bz_context *ctx);

/* The scheme AUTO resolves for this problem, device and replica count. */
bz_update_scheme bz_anneal_scheme(const bz_ising *p, size_t R, bz_update_scheme want);
bz_status bz_anneal_run_open(bz_ising *p, size_t R, size_t n_beta, bz_update_scheme scheme,
                             bz_anneal_run *run);
void bz_anneal_run_close(bz_anneal_run *run);
bz_status bz_anneal_run_init(bz_anneal_run *run, bool randomize, uint64_t seed,
                             uint64_t stream_base);
bz_status bz_anneal_run_sweeps(bz_anneal_run *run, uint32_t beta_base, uint32_t bs, uint32_t br,
                               uint32_t sweeps, uint64_t seed, uint64_t stream_base,
                               uint64_t sweep_base);
/* Reads the replicas' energies into run->e. */
bz_status bz_anneal_run_energies(bz_anneal_run *run);
bz_status bz_anneal_run_spins(bz_anneal_run *run, size_t r, int8_t *dst);
/* All spins / fields, replica by replica (R x n). */
bz_status bz_anneal_run_all_spins(bz_anneal_run *run, int8_t *dst);
bz_status bz_anneal_run_fields(bz_anneal_run *run, float *dst);

/* Sweeps per launch for n spins and R replicas, at most `remaining`. */
uint32_t bz_anneal_chunk(size_t n, size_t R, uint32_t remaining);
/* beta of each sweep of an anneal. */
void bz_anneal_schedule(bz_schedule kind, double lo, double hi, uint32_t sweeps, uint32_t spb,
                        float *beta);
/* Fills log_z and free_energy of a ladder whose beta and mean_energy are set. */
void bz_pt_log_z(const bz_ising *p, bz_pt_level *lv, size_t K);

#endif
