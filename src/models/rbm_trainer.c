/*
 * An RBM's training hooks (trainer.h): one stage of epochs of
 * bz_rbm_train_epoch (or its data-parallel twin), the per-epoch monitoring
 * figures, and the RBM checkpoint format of rbm_io.c with the trainer's
 * position and fingerprint added.
 */
#include "models/rbm_trainer.h"
#include "models/model.h"
#include "engine/check.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct rbm_job {
    bz_rbm *rbm;
    bz_data *data;
    bz_rbm_train_options o;
    unsigned epochs;
    bz_comm *comm;
    /* monitoring: validation rows and as many training rows, or NULL */
    bz_data *val, *sub;
    bool pll;
    uint64_t pll_seed;
} rbm_job;

static bz_context *ctx_of(void *job)
{
    return ((rbm_job *)job)->rbm->ctx;
}

static void stage(void *job, size_t i, bz_train_stage *out)
{
    (void)i;
    *out = (bz_train_stage){"train", 0, 0, ((rbm_job *)job)->epochs, true};
}

static bz_status epoch(void *job, size_t s, unsigned e, const bz_train_ctl *ctl,
                       bz_train_epoch_out *out)
{
    (void)s;
    rbm_job *j = job;
    bz_rbm_train_options o = j->o;
    o.start_batch = ctl->start_batch;
    o.stop = ctl->stop;
    o.progress = ctl->batch_done;
    o.progress_user = ctl->user;
    bz_rbm_epoch_stats es = {0};
    bz_status st = j->comm ? bz_rbm_train_epoch_dist(j->rbm, j->data, &o, e, &es, j->comm)
                           : bz_rbm_train_epoch(j->rbm, j->data, &o, e, &es);
    out->seconds = es.seconds;
    out->batches_done = es.batches_done;
    if (st)
        return st;
    double gap = NAN, pll = NAN;
    if (j->val && j->sub) {
        double fv, ft;
        CHECK(bz_rbm_mean_free_energy(j->rbm, j->val, &fv));
        CHECK(bz_rbm_mean_free_energy(j->rbm, j->sub, &ft));
        gap = fv - ft;
        if (j->pll)
            CHECK(bz_rbm_pseudo_log_likelihood(j->rbm, j->val, j->pll_seed, &pll));
    }
    char a[4][40];
    bz_train_json_number(a[0], sizeof a[0], es.recon_mse);
    bz_train_json_number(a[1], sizeof a[1], es.samples_per_s);
    bz_train_json_number(a[2], sizeof a[2], gap);
    bz_train_json_number(a[3], sizeof a[3], pll);
    int n = snprintf(out->json, sizeof out->json,
                     "{\"epoch\":%u,\"recon_mse\":%s,\"seconds\":%.6g,\"samples_per_s\":%s",
                     e + 1, a[0], es.seconds, a[1]);
    if (j->val && n > 0 && (size_t)n < sizeof out->json)
        n += snprintf(out->json + n, sizeof out->json - (size_t)n, ",\"free_energy_gap\":%s", a[2]);
    if (j->val && j->pll && n > 0 && (size_t)n < sizeof out->json)
        n += snprintf(out->json + n, sizeof out->json - (size_t)n, ",\"pseudo_ll\":%s", a[3]);
    if (n > 0 && (size_t)n < sizeof out->json)
        snprintf(out->json + n, sizeof out->json - (size_t)n, "}");
    n = snprintf(out->line, sizeof out->line, "epoch %3u  recon_mse %.5f", e + 1, es.recon_mse);
    if (j->val && j->pll && n > 0 && (size_t)n < sizeof out->line)
        n += snprintf(out->line + n, sizeof out->line - (size_t)n, "  pseudo_ll %8.2f", pll);
    if (j->val && n > 0 && (size_t)n < sizeof out->line)
        n += snprintf(out->line + n, sizeof out->line - (size_t)n, "  fe_gap %+.3f", gap);
    if (n > 0 && (size_t)n < sizeof out->line)
        snprintf(out->line + n, sizeof out->line - (size_t)n, "  %.2f s  %.0f samples/s",
                 es.seconds, es.samples_per_s);
    return BZ_OK;
}

static bz_status check_finite(void *job, size_t s)
{
    (void)s;
    rbm_job *j = job;
    bool finite;
    CHECK(bz_train_rbm_finite(j->rbm, &finite));
    if (!finite)
        return bz_fail(j->rbm->ctx, BZ_E_DIVERGED,
                       "training diverged: the RBM's parameters are not finite; try a learning "
                       "rate below %g", (double)j->o.learning_rate);
    return BZ_OK;
}

static bz_status save_file(void *job, const char *path, const bz_meta *meta, bz_train_pos at)
{
    rbm_job *j = job;
    return bz_rbm_save_checkpoint_meta(j->rbm, path, (bz_rbm_resume){at.epoch, at.batch}, meta);
}

static bz_status load(void *job, const char *path, const bz_ckpt_in *in, bz_train_pos at)
{
    (void)in;
    (void)at;
    rbm_job *j = job;
    bz_rbm *r = j->rbm, *k = NULL;
    bz_context *c = r->ctx;
    bz_rbm_resume pos;
    CHECK(bz_rbm_load_checkpoint(c, path, &k, &pos));
    bz_status st = BZ_OK;
    if (k->nv != r->nv || k->nh != r->nh || k->vis != r->vis) {
        st = bz_fail(c, BZ_E_INVALID_ARG, "checkpoint %s holds a %zu-%zu %s RBM; the options ask "
                                          "for %zu-%zu %s", path, k->nv, k->nh, k->vis->name,
                     r->nv, r->nh, r->vis->name);
        goto out;
    }
    const size_t nv = r->nv, nh = r->nh;
    if ((st = bz_buf_copy(c, &k->W, 0, &r->W, 0, nv * nh)) ||
        (st = bz_buf_copy(c, &k->vb, 0, &r->vb, 0, nv)) ||
        (st = bz_buf_copy(c, &k->hb, 0, &r->hb, 0, nh)) ||
        (st = bz_buf_copy(c, &k->vW, 0, &r->vW, 0, nv * nh)) ||
        (st = bz_buf_copy(c, &k->vvb, 0, &r->vvb, 0, nv)) ||
        (st = bz_buf_copy(c, &k->vhb, 0, &r->vhb, 0, nh)) ||
        (st = bz_buf_copy(c, &k->q, 0, &r->q, 0, nh)))
        goto out;
    r->chain_valid = false;
    if (k->chain_valid) {
        size_t rows = k->chain.count / nh;
        if ((st = bz_rbm_reserve_chains(r, rows)) ||
            (st = bz_buf_copy(c, &k->chain, 0, &r->chain, 0, rows * nh)))
            goto out;
        r->chain_valid = true;
    }
out:
    bz_rbm_free(k);
    return st;
}

static bz_status sync(void *job, bz_comm *comm)
{
    return bz_rbm_dist_sync(((rbm_job *)job)->rbm, comm);
}

/* The registry's descriptor of the kind points at this table. */
/* The model: parameters and the data mean; a checkpoint adds the momenta,
 * the sparsity targets and a persistent chain per batch row. */
static void output_bytes(void *job, uint64_t *model, uint64_t *checkpoint)
{
    const rbm_job *j = job;
    const size_t nv = j->rbm->nv, nh = j->rbm->nh;
    const uint64_t p = bz_train_rbm_param_bytes(nv, nh), f = sizeof(float);
    *model = p + nv * f + BZ_TRAIN_META_BYTES;
    *checkpoint = 2 * p + (nv + nh + (uint64_t)j->o.batch_size * nh) * f + BZ_TRAIN_META_BYTES;
}

const bz_train_hooks bz_rbm_train_hooks = {
    BZ_TRAIN_HOOKS_VERSION, "rbm", ctx_of, NULL, stage, NULL, epoch, NULL,
    check_finite, NULL, save_file, load, sync, output_bytes,
};

bz_status bz_rbm_trainer_create_dist(bz_rbm *rbm, bz_data *data, const bz_rbm_train_options *o,
                                     unsigned epochs, bz_comm *comm, bz_trainer **out)
{
    if (!rbm || !data || !o || !out)
        return BZ_E_INVALID_ARG;
    rbm_job *j = calloc(1, sizeof *j);
    if (!j)
        return bz_fail(rbm->ctx, BZ_E_NOMEM, "out of memory");
    j->rbm = rbm;
    j->data = data;
    j->o = *o;
    j->epochs = epochs;
    j->comm = comm;
    bz_status st = bz_trainer_make(bz_kind_rbm.train, j, free, comm, out);
    if (st)
        free(j);
    return st;
}

bz_status bz_rbm_trainer_create(bz_rbm *rbm, bz_data *data, const bz_rbm_train_options *o,
                                unsigned epochs, bz_trainer **out)
{
    return bz_rbm_trainer_create_dist(rbm, data, o, epochs, NULL, out);
}

void bz_rbm_trainer_monitor(bz_trainer *t, bz_data *val, bz_data *sub, bool pll,
                            uint64_t pll_seed)
{
    rbm_job *j = t->job;
    j->val = val;
    j->sub = sub;
    j->pll = pll;
    j->pll_seed = pll_seed;
}
