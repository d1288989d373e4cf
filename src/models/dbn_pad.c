/*
 * Shape-aware fine-tuning: the classifier whose layer sizes are not
 * multiples of the GEMM tiles in force trains on a twin padded up to them,
 * so that CLBlast's indirect kernel runs on the weights, velocities,
 * activations and deltas where they lie instead of copying them into padded
 * temporary buffers for every product (and back, for the gradients that
 * accumulate into the velocities). 784-500-500-10 at batch 32 trains as
 * 800-512-512-10.
 *
 * Why the twin gives the same training: its extra units are inert. Their
 * weights in and out start at zero, and an extra hidden unit's bias puts its
 * output at exactly 0 (sigmoid(-1e4) = 1 / (1 + inf), or ReLU(0)); so its
 * outgoing weights meet a zero activation, its derivative is 0 (h (1 - h),
 * or [h > 0]), its delta is 0, and every gradient entry of an extra unit or
 * input is a product with an exact zero. The sums of the real units gain
 * only exact zeros, which CLBlast would have added too when it padded the
 * operands itself. Without dropout a padded run is therefore the same
 * arithmetic; with dropout the masks follow the padded rows (other random
 * counters), the same training drawn otherwise.
 *
 * The network keeps its shape: the twin's state is copied in when an epoch
 * starts and back when it ends, so validation, the best-epoch snapshot and
 * files never see the padding.
 */
#include "engine/check.h"
#include "models/dbn.h"
#include "models/pad.h"
#include "tuning/apply.h"

#include <stdlib.h>

/* The multiple each size s[l] (l <= L; the classes are not padded) must be
 * for none of the indirect products to copy it: per product, column-major
 * as CLBlast sees it (blas/gemm.c), M takes tiles of MWG, N of NWG and K of
 * KWG. Layer l's forward product is (m, n, k) = (s[l+1], B, s[l]), its
 * gradient (s[l+1], s[l], B), and the delta into l >= 1 (s[l], B, s[l+1]).
 * Products below the indirect size run XgemmDirect, which copies nothing. */
static void tile_multiples(const size_t *s, size_t L, size_t B, const bz_gemm_tiles *t,
                           size_t *need)
{
    const double cut = (double)t->min_indirect * (double)t->min_indirect *
                       (double)t->min_indirect;
    for (size_t l = 0; l <= L + 1; l++)
        need[l] = 1;
    for (size_t l = 0; l <= L; l++) {
        const double in = (double)s[l], out = (double)s[l + 1], b = (double)B;
        if (out * b * in >= cut) { /* forward and gradient: the same size */
            need[l + 1] = bz_pad_lcm(need[l + 1], t->mwg);
            need[l] = bz_pad_lcm(bz_pad_lcm(need[l], t->kwg), t->nwg);
            if (l > 0) { /* the delta into layer l */
                need[l] = bz_pad_lcm(need[l], t->mwg);
                need[l + 1] = bz_pad_lcm(need[l + 1], t->kwg);
            }
        }
    }
}

static double macs(const size_t *s, size_t L)
{
    double m = 0;
    for (size_t l = 0; l <= L; l++)
        m += (double)s[l] * (double)s[l + 1];
    return m;
}

void bz_dbn_pad_plan(const bz_dbn *d, size_t B, const bz_dbn_sgd *o, size_t *sp)
{
    const size_t L = d->L;
    for (size_t l = 0; l <= L + 1; l++)
        sp[l] = d->s[l];
    bz_gemm_tiles t;
    if (o->no_padding || !bz_tuning_gemm_tiles(d->ctx, &t) || t.gemmk != 0)
        return;
    size_t need[BZ_DBN_MAX_LAYERS + 2], pad[BZ_DBN_MAX_LAYERS + 2];
    tile_multiples(d->s, L, B, &t, need);
    bool grows = false;
    for (size_t l = 0; l <= L + 1; l++) {
        pad[l] = l <= L ? bz_pad_round_up(d->s[l], need[l]) : d->s[l];
        grows |= pad[l] != d->s[l];
    }
    if (!grows || macs(pad, L) > BZ_PAD_MAX_GROWTH * macs(d->s, L))
        return;
    /* A product that padding lifts over the indirect size brings roles of
     * its own: the padded sizes must meet those too, or padding would only
     * add work. */
    tile_multiples(pad, L, B, &t, need);
    for (size_t l = 0; l <= L; l++)
        if (pad[l] % need[l])
            return;
    for (size_t l = 0; l <= L; l++)
        sp[l] = pad[l];
}

/* Device floats of a classifier of sizes s (parameters and velocities) and
 * its work space for `rows` rows (bz_dbn_reserve). */
static double dbn_floats(const size_t *s, size_t L, size_t K, size_t rows)
{
    double f = 0, units = 0;
    for (size_t l = 0; l <= L; l++)
        f += 2.0 * ((double)s[l] * (double)s[l + 1] + (double)s[l + 1]);
    for (size_t l = 0; l <= L + 1; l++)
        units += (double)s[l] * (l == 0 || l == L + 1 ? 1.0 : 2.0);
    return f + (double)rows * (units + (double)K + 3.0);
}

static bz_status twin_create(bz_dbn *d, const size_t *sp)
{
    bz_dbn *p = d->padded;
    bool same = p && p->act == d->act && p->L == d->L && p->K == d->K;
    for (size_t l = 0; same && l <= d->L + 1; l++)
        same = p->s[l] == sp[l];
    if (same)
        return BZ_OK;
    bz_dbn_free(p);
    d->padded = NULL;
    if (!(p = calloc(1, sizeof *p)))
        return bz_fail(d->ctx, BZ_E_NOMEM, "out of memory");
    p->ctx = d->ctx;
    p->L = d->L;
    p->K = d->K;
    p->act = d->act;
    for (size_t l = 0; l <= d->L + 1; l++)
        p->s[l] = sp[l];
    bz_status st = BZ_OK;
    for (size_t l = 0; l <= p->L && !st; l++) {
        size_t n = p->s[l] * p->s[l + 1];
        if (!(st = bz_buf_alloc(d->ctx, &p->W[l], n)) &&
            !(st = bz_buf_alloc(d->ctx, &p->vW[l], n)) &&
            !(st = bz_buf_alloc(d->ctx, &p->b[l], p->s[l + 1])))
            st = bz_buf_alloc(d->ctx, &p->vb[l], p->s[l + 1]);
    }
    if (st) {
        bz_dbn_free(p);
        return st;
    }
    d->padded = p;
    return BZ_OK;
}

bz_status bz_dbn_pad_enter(bz_dbn *d, const size_t *sp, size_t B, bz_dbn **twin)
{
    *twin = NULL;
    bz_context *c = d->ctx;
    /* Both networks and both work spaces must fit; when they do not, train
     * unpadded. */
    if (!d->padded && 4.0 * (dbn_floats(sp, d->L, d->K, B) + dbn_floats(d->s, d->L, d->K, d->cap)) >
                          (double)bz_device_budget(c))
        return BZ_OK;
    CHECK(twin_create(d, sp));
    bz_dbn *p = d->padded;
    const float fill = d->act == BZ_ACT_SIGMOID ? BZ_PAD_BIAS : 0.0f;
    for (size_t l = 0; l <= d->L; l++) {
        size_t in = d->s[l], out = d->s[l + 1];
        CHECK(bz_buf_copy_padded(c, &d->W[l], out, in, &p->W[l], sp[l + 1], sp[l], 0.0f));
        CHECK(bz_buf_copy_padded(c, &d->vW[l], out, in, &p->vW[l], sp[l + 1], sp[l], 0.0f));
        CHECK(bz_buf_copy_padded(c, &d->b[l], out, 1, &p->b[l], sp[l + 1], 1, fill));
        CHECK(bz_buf_copy_padded(c, &d->vb[l], out, 1, &p->vb[l], sp[l + 1], 1, 0.0f));
    }
    bool fresh = p->cap < B;
    CHECK(bz_dbn_reserve(p, B));
    if (fresh) /* the inputs' extra columns: the gather leaves them alone */
        CHECK(bz_buf_fill(c, &p->A[0], 0.0f, 0, p->cap * sp[0]));
    *twin = p;
    return BZ_OK;
}

bz_status bz_dbn_pad_leave(bz_dbn *d, const bz_dbn *p)
{
    bz_context *c = d->ctx;
    for (size_t l = 0; l <= d->L; l++) {
        size_t in = d->s[l], out = d->s[l + 1];
        CHECK(bz_buf_copy_rect(c, &p->W[l], p->s[l + 1], &d->W[l], out, in, out));
        CHECK(bz_buf_copy_rect(c, &p->vW[l], p->s[l + 1], &d->vW[l], out, in, out));
        CHECK(bz_buf_copy(c, &p->b[l], 0, &d->b[l], 0, out));
        CHECK(bz_buf_copy(c, &p->vb[l], 0, &d->vb[l], 0, out));
    }
    return BZ_OK;
}
