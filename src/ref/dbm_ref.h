/*
 * Host references of the deep-Boltzmann-machine kernels (kernels/dbm.cl) and
 * of a whole joint-training step, mirroring the device's order of operations
 * and random streams; plus the exact partition function of a tiny DBM by
 * enumeration. For the tests; double precision where the kernels accumulate.
 */
#ifndef BZ_REF_DBM_REF_H
#define BZ_REF_DBM_REF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BZ_REF_DBM_MAX_HIDDEN 3

/* Stream of layer `layer` in Gibbs sweep `step` of batch (epoch, batch). The
 * slots stay clear of the RBM trainer's (0..2k, 254, 255). */
static inline uint64_t bz_ref_dbm_stream(unsigned epoch, size_t batch, unsigned step,
                                         unsigned layer)
{
    return ((uint64_t)epoch << 40) | ((uint64_t)batch << 8) |
           (uint64_t)((16u + 4u * step + layer) & 0xffu);
}

void bz_ref_dbm_mf_update(float *mu, float *delta, const float *a, const float *b,
                          const float *bias, size_t rows, size_t cols);
void bz_ref_dbm_sample_layer(float *sample, const float *a, const float *b, const float *bias,
                             const float *base, size_t rows, size_t cols, float beta,
                             uint64_t seed, uint64_t stream, uint64_t offset);
void bz_ref_dbm_rows_dot_acc(double *acc, const float *x, const float *y, bool y_vector,
                             size_t rows, size_t cols, double scale);
void bz_ref_dbm_rows_entropy_acc(double *acc, const float *mu, size_t rows, size_t cols);
void bz_ref_dbm_rows_absmax_acc(float *acc, const float *x, size_t rows, size_t cols);

/* AIS kernels: one temperature's log-weight share of one layer (sum in
 * double, no compensation needed), and a collapsed Gibbs sweep over a state
 * layer's units, both as kernels/dbm.cl defines them. */
void bz_ref_dbm_ais_logw(double *sum, const float *x, const float *bias, const float *base,
                         bool state, bool absolute, size_t rows, size_t cols, float beta_prev,
                         float beta);
void bz_ref_dbm_ais_collapsed_sweep(float *h, float *zlo, float *zhi, const float *wlo_t,
                                    const float *whi, const float *bias, const float *blo,
                                    const float *bhi, const float *base_lo, size_t rows, size_t n,
                                    size_t nlo, size_t nhi, float beta, uint64_t seed,
                                    uint64_t stream, uint64_t offset);
/* The mode-hopping move's kernels (kernels/dbm.cl). */
void bz_ref_dbm_ais_propose(float *hp, const float *mu, size_t rows, size_t cols, size_t P,
                            size_t mu_cols, size_t col0, uint64_t seed, uint64_t row_stream,
                            uint64_t stream);
void bz_ref_dbm_ais_mh_accept(float *acc, const float *lp, const float *lpp, const float *g,
                              const float *gp, const float *c, size_t rows, size_t P,
                              uint64_t seed, uint64_t stream);

/* A DBM on the host: L hidden layers, sizes s[0] (visible) .. s[L]; W[l] is
 * s[l] x s[l+1], b[l] has s[l] entries; vW, vb the velocities. */
typedef struct bz_ref_dbm {
    size_t L, s[BZ_REF_DBM_MAX_HIDDEN + 1];
    float *W[BZ_REF_DBM_MAX_HIDDEN], *b[BZ_REF_DBM_MAX_HIDDEN + 1];
    float *vW[BZ_REF_DBM_MAX_HIDDEN], *vb[BZ_REF_DBM_MAX_HIDDEN + 1];
} bz_ref_dbm;

/* Mean field for B rows of v into mu[1..L] (B x s[l]): a doubled bottom-up
 * pass, then up to `iters` sweeps over odd then even layers, stopping when
 * no mean moved by more than tol. Returns the sweeps run. */
unsigned bz_ref_dbm_mean_field(const bz_ref_dbm *m, const float *v, size_t B, unsigned iters,
                               float tol, float *const *mu);

/* One joint-training step as the device does it: mean field on v (B rows),
 * `gibbs` layer-parity sweeps of the M persistent chains x[0..L] (updated in
 * place), then the momentum update of every weight and bias. */
void bz_ref_dbm_step(bz_ref_dbm *m, const float *v, size_t B, float *const *x, size_t M,
                     unsigned mf_iters, unsigned gibbs, float lr, float momentum, float decay,
                     uint64_t seed, unsigned epoch, size_t batch);

/* Exact log Z by enumerating the layers of one parity (at most 24 units in
 * all) and summing the others out analytically. */
double bz_ref_dbm_log_z(const bz_ref_dbm *m);

#endif
