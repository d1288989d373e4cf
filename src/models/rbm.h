/*
 * Internal view of an RBM and of a device dataset. Parameters live on the
 * device; training touches the host only for the per-epoch shuffle and the
 * metrics that ask for it.
 */
#ifndef BZ_MODELS_RBM_H
#define BZ_MODELS_RBM_H

#include "engine/engine.h"
#include "models/meta.h"
#include "models/units.h"


struct bz_data {
    bz_context *ctx;
    size_t n, dim;
    bool resident; /* rows live in x; otherwise streamed from host */
    bz_buf x;
    const float *host;
    bz_buf idx; /* this epoch's permutation (resident mode) */
    uint32_t *perm;
    /* streaming: two host staging areas, reused once their upload is done */
    float *stage[2];
    int turn;
    cl_event stage_done[2];
};

struct bz_rbm {
    bz_context *ctx;
    size_t nv, nh;
    const bz_units *vis, *hid;
    bz_units vis_own; /* units with parameters of this RBM's own, when vis points here */
    bz_buf W, vb, hb;    /* parameters: W is nv x nh */
    bz_buf vW, vvb, vhb; /* velocities */
    bz_buf q;            /* running hidden activation for the sparsity target */

    /* batch work space, allocated for `cap` rows on first use */
    size_t cap;
    bz_buf V0, V1, Vs;   /* data, reconstruction means, intermediate samples */
    bz_buf H0, H1, Hs;   /* positive probs, negative probs, samples */
    bz_buf tmp_h, err_acc;
    bz_buf err_col; /* the training step's squared error by visible unit (nv floats) */

    /* persistent chains (PCD): hidden samples, one row per batch row */
    bz_buf chain;
    bool chain_valid;

    /* preprocessing to apply to new data (standardisation), host copies of
     * n_visible floats each; NULL when the data was only scaled */
    float *data_mean, *data_std;

    /* free-form metadata carried into the model file */
    bz_meta meta;

    /* the tile-aligned twin that training runs on (rbm_pad.c), or NULL */
    struct bz_rbm *padded;
};

/* Shape-aware training (rbm_pad.c). The sizes to train at with batch B:
 * the GEMM tiles' multiples when that pays, else the model's own. */
void bz_rbm_pad_plan(const bz_rbm *rbm, const bz_rbm_train_options *o, size_t B, size_t *nvp,
                     size_t *nhp);
/* Copies the model's state into its twin of nvp x nhp units (made or
 * reused), the extra units inert. *twin stays NULL when the twin does not
 * fit in device memory beside the model: train unpadded then. */
bz_status bz_rbm_pad_enter(bz_rbm *rbm, size_t nvp, size_t nhp, size_t B, bool pcd,
                           bz_rbm **twin);
/* Copies the twin's state (B chains for PCD) back into the model. */
bz_status bz_rbm_pad_leave(bz_rbm *rbm, bz_rbm *twin, size_t B);

/* Device bytes of an RBM's parameters, velocities and sparsity estimates
 * (what bz_rbm_create allocates) and its work space for `rows` rows (what
 * bz_rbm_reserve allocates). */
size_t bz_rbm_device_bytes(size_t nv, size_t nh, size_t rows);

/* Makes sure the batch work space holds `rows` rows. */
bz_status bz_rbm_reserve(bz_rbm *rbm, size_t rows);

/* Makes sure the persistent chains hold `rows` rows (they survive
 * bz_rbm_reserve, which evaluation calls with other sizes). */
bz_status bz_rbm_reserve_chains(bz_rbm *rbm, size_t rows);

/* Copies rows [first, first+count) of the data into dst (count x dim). */
bz_status bz_data_fetch(bz_data *d, size_t first, size_t count, bz_buf *dst);

/* Fills dst with the rows perm[first .. first+count) of this epoch's order,
 * `pitch` floats apart (d->dim, or more for a padded layout). */
bz_status bz_data_fetch_perm(bz_data *d, size_t first, size_t count, bz_buf *dst, size_t pitch);

/* Draws this epoch's permutation of the rows from (seed, epoch). */
bz_status bz_data_shuffle(bz_data *d, uint64_t seed, unsigned epoch);

/* Hidden pre-activations H = V W for `rows` rows (V at offset 0). */
bz_status bz_rbm_up(bz_rbm *rbm, const bz_buf *v, size_t rows, bz_buf *h);
/* Visible pre-activations V = H W^T. */
bz_status bz_rbm_down(bz_rbm *rbm, const bz_buf *h, size_t rows, bz_buf *v);

/* Records the per-feature standardisation the model was trained with. */
bz_status bz_rbm_set_standardization(bz_rbm *rbm, const float *mean, const float *std);

/* Metadata stored with the model (copied). */
bz_status bz_rbm_set_meta(bz_rbm *rbm, const char *key, const char *value);
const char *bz_rbm_get_meta(const bz_rbm *rbm, const char *key);

/* Checkpoints: parameters plus training state (velocities, sparsity
 * estimates, PCD chains), so that a resumed run continues exactly. */
typedef struct bz_rbm_resume {
    unsigned epoch; /* the epoch to run next (from 0) */
    size_t batch;   /* batches of that epoch already done (after an interrupt) */
} bz_rbm_resume;
bz_status bz_rbm_save_checkpoint(bz_rbm *rbm, const char *path, bz_rbm_resume at);
/* The same with extra metadata (the trainer's position and fingerprint). */
bz_status bz_rbm_save_checkpoint_meta(bz_rbm *rbm, const char *path, bz_rbm_resume at,
                                      const bz_meta *extra);
bz_status bz_rbm_load_checkpoint(bz_context *ctx, const char *path, bz_rbm **out,
                                 bz_rbm_resume *at);

/* Random stream identifiers: (epoch, batch, slot) never collide. */
static inline uint64_t bz_rbm_stream(unsigned epoch, size_t batch, unsigned slot)
{
    return ((uint64_t)epoch << 40) | ((uint64_t)batch << 8) | (slot & 0xffu);
}
#define BZ_STREAM_INIT UINT64_C(0xffffff0000000001)
#define BZ_STREAM_SHUFFLE UINT64_C(0xffffff0000000002)
#define BZ_STREAM_EVAL UINT64_C(0xffffff0000000003)
#define BZ_STREAM_AIS UINT64_C(0xffffff0000000004)

#endif
