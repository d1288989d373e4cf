/*
 * Shape-aware training: an RBM whose sizes are not multiples of the GEMM
 * tiles in force trains on a twin padded up to them, so that CLBlast's
 * indirect kernel runs on the weights, the velocities and the hidden
 * activations where they lie instead of copying them into padded temporary
 * buffers for every product (and back, for the gradient).
 *
 * Why the twin gives the same training: its extra visible and hidden units
 * are inert. Their weights start at zero; a Bernoulli unit's bias of
 * BZ_PAD_BIAS makes its probability exactly 0 (1 / (1 + inf)), so its samples
 * are 0, and a Gaussian visible unit's mean is its bias, 0, plus a product
 * with zero weights. Every gradient entry of an extra unit is then a product
 * with an exact zero, and the weights stay zero. What changes is the layout
 * of the random streams (element i of a padded row is another counter), so a
 * padded run is a different draw of the same training, not the same bits.
 *
 * The model itself keeps its shape: the twin's state is copied in when an
 * epoch starts and back when it ends, so evaluation, checkpoints and files
 * never see the padding.
 */
#include "engine/check.h"
#include "models/pad.h"
#include "models/rbm.h"
#include "tuning/apply.h"

#include <stdlib.h>

void bz_rbm_pad_plan(const bz_rbm *r, const bz_rbm_train_options *o, size_t B, size_t *nvp,
                     size_t *nhp)
{
    *nvp = r->nv;
    *nhp = r->nh;
    bz_gemm_tiles t;
    if (o->no_padding || !bz_tuning_gemm_tiles(r->ctx, &t) || t.gemmk != 0)
        return;
    /* The extra units must stay exactly zero: hidden units are Bernoulli,
     * and a Gaussian visible unit's sample (PCD, CD-k > 1) would be noise.
     * Only the plain unit types: others give meaning to column positions
     * (a DBN's top RBM takes its last K visible units as a softmax group),
     * which extra columns at the end would take over. */
    if (r->hid != bz_units_get(BZ_UNIT_BERNOULLI) || r->vis != bz_units_get(r->vis->type) ||
        (r->vis->type != BZ_UNIT_BERNOULLI && (o->pcd || o->k > 1)))
        return;
    /* Products below the indirect size run XgemmDirect, which copies
     * nothing: padding would only add work. */
    double mnk = (double)B * (double)r->nv * (double)r->nh;
    double cut = (double)t.min_indirect;
    if (mnk < cut * cut * cut)
        return;
    /* Column-major as CLBlast sees them (blas/gemm.c): the hidden units are
     * M of the up and gradient products (tiles of MWG); the visible units are
     * K of the up product (KWG) and N of the gradient (NWG). */
    size_t nh = bz_pad_round_up(r->nh, t.mwg);
    size_t nv = bz_pad_round_up(r->nv, bz_pad_lcm(t.nwg, t.kwg));
    if ((double)nv * (double)nh > BZ_PAD_MAX_GROWTH * (double)r->nv * (double)r->nh)
        return;
    *nvp = nv;
    *nhp = nh;
}

static bz_status twin_create(bz_rbm *r, size_t nvp, size_t nhp)
{
    bz_rbm *p = r->padded;
    if (p && p->nv == nvp && p->nh == nhp)
        return BZ_OK;
    bz_rbm_free(p);
    r->padded = NULL;
    if (!(p = calloc(1, sizeof *p)))
        return bz_fail(r->ctx, BZ_E_NOMEM, "out of memory");
    p->ctx = r->ctx;
    p->nv = nvp;
    p->nh = nhp;
    p->vis_own = r->vis_own;
    p->vis = r->vis == &r->vis_own ? &p->vis_own : r->vis;
    p->hid = r->hid;
    bz_context *c = r->ctx;
    bz_status st;
    if ((st = bz_buf_alloc(c, &p->W, nvp * nhp)) || (st = bz_buf_alloc(c, &p->vb, nvp)) ||
        (st = bz_buf_alloc(c, &p->hb, nhp)) || (st = bz_buf_alloc(c, &p->vW, nvp * nhp)) ||
        (st = bz_buf_alloc(c, &p->vvb, nvp)) || (st = bz_buf_alloc(c, &p->vhb, nhp)) ||
        (st = bz_buf_alloc(c, &p->q, nhp))) {
        bz_rbm_free(p);
        return st;
    }
    r->padded = p;
    return BZ_OK;
}

bz_status bz_rbm_pad_enter(bz_rbm *r, size_t nvp, size_t nhp, size_t B, bool pcd, bz_rbm **twin)
{
    *twin = NULL;
    bz_context *c = r->ctx;
    /* Both copies of the model and both work spaces must fit; when they do
     * not, train unpadded. */
    if (!r->padded && bz_rbm_device_bytes(nvp, nhp, B) + bz_rbm_device_bytes(r->nv, r->nh, B) >
                          bz_device_budget(c))
        return BZ_OK;
    CHECK(twin_create(r, nvp, nhp));
    bz_rbm *p = r->padded;
    const size_t nv = r->nv, nh = r->nh;
    const float vb_fill = r->vis->type == BZ_UNIT_BERNOULLI ? BZ_PAD_BIAS : 0.0f;
    CHECK(bz_buf_copy_padded(c, &r->W, nh, nv, &p->W, nhp, nvp, 0.0f));
    CHECK(bz_buf_copy_padded(c, &r->vW, nh, nv, &p->vW, nhp, nvp, 0.0f));
    CHECK(bz_buf_copy_padded(c, &r->vb, nv, 1, &p->vb, nvp, 1, vb_fill));
    CHECK(bz_buf_copy_padded(c, &r->vvb, nv, 1, &p->vvb, nvp, 1, 0.0f));
    CHECK(bz_buf_copy_padded(c, &r->hb, nh, 1, &p->hb, nhp, 1, BZ_PAD_BIAS));
    CHECK(bz_buf_copy_padded(c, &r->vhb, nh, 1, &p->vhb, nhp, 1, 0.0f));
    CHECK(bz_buf_copy_padded(c, &r->q, nh, 1, &p->q, nhp, 1, 0.0f));
    bool fresh = p->cap < B;
    CHECK(bz_rbm_reserve(p, B));
    if (fresh) /* the data's extra columns: the gather leaves them alone */
        CHECK(bz_buf_fill(c, &p->V0, 0.0f, 0, p->cap * nvp));
    p->chain_valid = false;
    if (pcd) {
        CHECK(bz_rbm_reserve_chains(p, B));
        if (r->chain_valid && r->chain.count >= B * nh) {
            CHECK(bz_buf_copy_padded(c, &r->chain, nh, B, &p->chain, nhp, B, 0.0f));
            p->chain_valid = true;
        }
    }
    *twin = p;
    return BZ_OK;
}

bz_status bz_rbm_pad_leave(bz_rbm *r, bz_rbm *p, size_t B)
{
    bz_context *c = r->ctx;
    const size_t nv = r->nv, nh = r->nh;
    CHECK(bz_buf_copy_rect(c, &p->W, p->nh, &r->W, nh, nv, nh));
    CHECK(bz_buf_copy_rect(c, &p->vW, p->nh, &r->vW, nh, nv, nh));
    CHECK(bz_buf_copy(c, &p->vb, 0, &r->vb, 0, nv));
    CHECK(bz_buf_copy(c, &p->vvb, 0, &r->vvb, 0, nv));
    CHECK(bz_buf_copy(c, &p->hb, 0, &r->hb, 0, nh));
    CHECK(bz_buf_copy(c, &p->vhb, 0, &r->vhb, 0, nh));
    CHECK(bz_buf_copy(c, &p->q, 0, &r->q, 0, nh));
    if (p->chain_valid) {
        CHECK(bz_rbm_reserve_chains(r, B));
        CHECK(bz_buf_copy_rect(c, &p->chain, p->nh, &r->chain, nh, B, nh));
    }
    r->chain_valid = p->chain_valid;
    return BZ_OK;
}
