/*
 * A DBN's training hooks (trainer.h). Stages: pretraining of each layer's
 * RBM (checkpointed per epoch and inside one), then fine-tuning (per epoch
 * and, on one process, inside one). A checkpoint holds the classifier with
 * its velocities, every RBM of the stack made so far with its whole
 * training state, and during fine-tuning the early-stopping state: the best
 * epoch's parameters, its score, the epochs since, and the figures of an
 * interrupted epoch's first batches. The rows of the layer being pretrained
 * are recomputed from the RBMs below, as the uninterrupted run computed them.
 */
#include "models/dbn_trainer.h"
#include "models/model.h"
#include "engine/check.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct dbn_job {
    bz_dbn *d;
    bz_dbn_train_job in;
    size_t n_stages; /* L pretraining stages (or none), then fine-tuning */
    size_t n_pre;
    float *feat, *rows; /* the layer being pretrained */
    bz_data *data;
    bz_dbn_ft_stage fs; /* fine-tuning */
} dbn_job;

static bz_context *ctx_of(void *job)
{
    return ((dbn_job *)job)->d->ctx;
}

static size_t n_stages(void *job)
{
    return ((dbn_job *)job)->n_stages;
}

static bool is_pre(const dbn_job *j, size_t s)
{
    return s < j->n_pre;
}

static void stage(void *job, size_t i, bz_train_stage *out)
{
    dbn_job *j = job;
    if (is_pre(j, i))
        *out = (bz_train_stage){"pretrain", (unsigned)i + 1, (unsigned)j->d->L,
                                j->in.pretrain_epochs, true};
    else
        *out = (bz_train_stage){"finetune", 0, 0, j->in.sgd.epochs, true};
}

static void drop_data(dbn_job *j)
{
    bz_data_free(j->data);
    j->data = NULL;
    if (j->rows != j->feat)
        free(j->rows);
    free(j->feat);
    j->rows = j->feat = NULL;
}

static bz_status begin_stage(void *job, size_t i, bool resumed)
{
    dbn_job *j = job;
    bz_dbn *d = j->d;
    drop_data(j);
    if (is_pre(j, i)) {
        if (i == 0 && !resumed)
            CHECK(bz_dbn_pre_start(d, j->in.labels, j->in.n, &j->in.rbm));
        CHECK(bz_dbn_pre_features(d, i, j->in.x, j->in.n, &j->feat));
        CHECK(bz_dbn_pre_rows(d, i, j->feat, j->in.labels, j->in.n, &j->rows));
        if (!resumed)
            CHECK(bz_dbn_pre_create(d, i, j->rows, j->in.n, &j->in.rbm, j->in.comm));
        return bz_data_create(d->ctx, j->rows, j->in.n, d->rbm[i]->nv, &j->data);
    }
    return bz_dbn_ft_stage_begin(&j->fs, d, j->in.x, j->in.labels, j->in.n, j->in.nv, &j->in.sgd,
                                 resumed);
}

static bz_status epoch(void *job, size_t s, unsigned e, const bz_train_ctl *ctl,
                       bz_train_epoch_out *out)
{
    dbn_job *j = job;
    bz_dbn *d = j->d;
    if (is_pre(j, s)) {
        bz_rbm_train_options lo;
        bz_dbn_pre_options(&j->in.rbm, s, &lo);
        lo.start_batch = ctl->start_batch;
        lo.stop = ctl->stop;
        lo.progress = ctl->batch_done;
        lo.progress_user = ctl->user;
        bz_rbm_epoch_stats es = {0};
        bz_status st = j->in.comm
                           ? bz_rbm_train_epoch_dist(d->rbm[s], j->data, &lo, e, &es, j->in.comm)
                           : bz_rbm_train_epoch(d->rbm[s], j->data, &lo, e, &es);
        out->seconds = es.seconds;
        out->batches_done = es.batches_done;
        CHECK(st);
        char a[40];
        bz_train_json_number(a, sizeof a, es.recon_mse);
        snprintf(out->json, sizeof out->json,
                 "{\"phase\":\"pretrain\",\"layer\":%zu,\"epoch\":%u,\"recon_mse\":%s,"
                 "\"seconds\":%.6g}", s + 1, e + 1, a, es.seconds);
        snprintf(out->line, sizeof out->line, "(%zu%s-%zu) epoch %u/%u: recon mse %.5f, %.1f s",
                 d->s[s], s + 1 == d->L ? "+labels" : "", d->s[s + 1], e + 1,
                 j->in.pretrain_epochs, es.recon_mse, es.seconds);
        return BZ_OK;
    }
    return bz_dbn_ft_stage_epoch(&j->fs, d, j->in.xv, j->in.labels_v, &j->in.sgd, j->in.comm,
                                 j->in.ft_cb, j->in.ft_user, e, ctl, out);
}

static bz_status end_stage(void *job, size_t i)
{
    dbn_job *j = job;
    bz_dbn *d = j->d;
    drop_data(j);
    if (is_pre(j, i))
        return bz_dbn_pre_finish(d, i);
    return bz_dbn_ft_stage_end(&j->fs, d, j->in.nv, j->in.result);
}

static bz_status check_finite(void *job, size_t s)
{
    dbn_job *j = job;
    bz_dbn *d = j->d;
    bool finite = true;
    if (is_pre(j, s)) {
        CHECK(bz_train_rbm_finite(d->rbm[s], &finite));
        if (!finite)
            return bz_fail(d->ctx, BZ_E_DIVERGED,
                           "pretraining diverged: RBM %zu's parameters are not finite; try a "
                           "learning rate (--lr-rbm) below %g", s + 1,
                           (double)j->in.rbm.learning_rate);
        return BZ_OK;
    }
    return bz_dbn_ft_stage_finite(d->ctx, d, &j->in.sgd);
}

/* ---- a classifier's fine-tuning as a stage (the DBN's and the DBM's) ---- */

bz_status bz_dbn_ft_stage_begin(bz_dbn_ft_stage *f, bz_dbn *net, const float *x,
                                const int32_t *labels, size_t n, size_t nv,
                                const bz_dbn_sgd *sgd, bool resumed)
{
    bz_dbn_ft_free(f->ft);
    f->ft = NULL;
    CHECK(bz_dbn_ft_begin(net, x, labels, n, nv, sgd, !(resumed && f->stash), &f->ft));
    if (resumed && f->stash)
        bz_dbn_ft_adopt(f->ft, &f->stash);
    else
        f->epochs_run = 0;
    return BZ_OK;
}

bz_status bz_dbn_ft_stage_epoch(bz_dbn_ft_stage *f, bz_dbn *net, const float *xv,
                                const int32_t *labels_v, const bz_dbn_sgd *sgd, bz_comm *comm,
                                bz_dbn_finetune_cb cb, void *user, unsigned e,
                                const bz_train_ctl *ctl, bz_train_epoch_out *out)
{
    bz_dbn_sgd o = *sgd;
    o.start_batch = ctl->start_batch;
    o.stop = ctl->stop;
    o.progress = ctl->batch_done;
    o.progress_user = ctl->user;
    bz_dbn_epoch_info info = {0};
    bool stop = false;
    double t0 = bz_mono_s();
    bz_status st =
        bz_dbn_ft_epoch(net, f->ft, xv, labels_v, &o, e, comm, &info, &stop, &out->batches_done);
    out->seconds = info.seconds;
    f->wall += bz_mono_s() - t0;
    CHECK(st);
    f->epochs_run = e + 1;
    out->stop_stage = stop;
    if (cb)
        cb(user, &info);
    char a[3][40];
    bz_train_json_number(a[0], sizeof a[0], info.loss);
    bz_train_json_number(a[1], sizeof a[1], info.train_accuracy);
    bz_train_json_number(a[2], sizeof a[2], info.val_accuracy);
    snprintf(out->json, sizeof out->json,
             "{\"phase\":\"finetune\",\"epoch\":%u,\"loss\":%s,\"train_accuracy\":%s,"
             "\"val_accuracy\":%s,\"seconds\":%.6g}", e + 1, a[0], a[1], a[2], info.seconds);
    snprintf(out->line, sizeof out->line,
             "epoch %u/%u: loss %.4f, train acc %.4f, val acc %.4f, %.2f s", e + 1,
             sgd->epochs, info.loss, info.train_accuracy, info.val_accuracy, info.seconds);
    return BZ_OK;
}

bz_status bz_dbn_ft_stage_end(bz_dbn_ft_stage *f, bz_dbn *net, size_t nv,
                              bz_dbn_finetune_result *r)
{
    CHECK(bz_dbn_ft_end(net, f->ft));
    if (r) {
        r->epochs_run = f->epochs_run;
        r->best_epoch = f->ft->best_epoch;
        r->best_val_accuracy = nv ? f->ft->best : NAN;
        r->seconds = f->wall;
        r->seconds_per_epoch = f->epochs_run ? f->ft->train_secs / f->epochs_run : 0;
    }
    bz_dbn_ft_free(f->ft);
    f->ft = NULL;
    return BZ_OK;
}

bz_status bz_dbn_ft_stage_finite(bz_context *c, bz_dbn *net, const bz_dbn_sgd *sgd)
{
    bool finite = true;
    for (size_t l = 0; l <= net->L && finite; l++) {
        CHECK(bz_train_buf_finite(c, &net->W[l], net->s[l] * net->s[l + 1], &finite));
        if (finite)
            CHECK(bz_train_buf_finite(c, &net->b[l], net->s[l + 1], &finite));
    }
    if (!finite)
        return bz_fail(c, BZ_E_DIVERGED,
                       "fine-tuning diverged: the classifier's parameters are not finite; try a "
                       "learning rate below %g", (double)sgd->learning_rate);
    return BZ_OK;
}

static bz_status put_num(bz_ckpt_out *o, const char *key, double v)
{
    char b[40];
    snprintf(b, sizeof b, "%.17g", v);
    return bz_ckpt_put_meta(o, key, b);
}

static double get_num(const bz_ckpt_in *in, const char *key)
{
    const char *v = bz_ckpt_get_meta(in, key);
    return v ? strtod(v, NULL) : NAN;
}

static void key(char *buf, size_t size, const char *prefix, const char *fmt, size_t l)
{
    int n = snprintf(buf, size, "%s", prefix);
    if (n >= 0 && (size_t)n < size)
        snprintf(buf + n, size - (size_t)n, fmt, l);
}

bz_status bz_dbn_ckpt_put_net(bz_ckpt_out *o, const char *prefix, bz_dbn *d, const bz_dbn_ft *t,
                              unsigned epochs_run)
{
    char n[96];
    for (size_t l = 0; l <= d->L + 1; l++) {
        key(n, sizeof n, prefix, "size%zu", l);
        CHECK(put_num(o, n, (double)d->s[l]));
    }
    for (size_t l = 0; l <= d->L; l++) {
        size_t nw = d->s[l] * d->s[l + 1], nb = d->s[l + 1];
        key(n, sizeof n, prefix, "W%zu", l);
        CHECK(bz_ckpt_put_buf(o, n, &d->W[l], nw));
        key(n, sizeof n, prefix, "W%zu_velocity", l);
        CHECK(bz_ckpt_put_buf(o, n, &d->vW[l], nw));
        key(n, sizeof n, prefix, "b%zu", l);
        CHECK(bz_ckpt_put_buf(o, n, &d->b[l], nb));
        key(n, sizeof n, prefix, "b%zu_velocity", l);
        CHECK(bz_ckpt_put_buf(o, n, &d->vb[l], nb));
    }
    if (!t)
        return BZ_OK;
    static const char *const names[] = {"ft", "ft_best", "ft_best_epoch", "ft_since",
                                        "ft_train_seconds", "ft_part_loss", "ft_part_hits",
                                        "ft_epochs_run"};
    const double v[] = {1, t->best, t->best_epoch, t->since, t->train_secs, t->part_loss,
                        t->part_hits, epochs_run};
    for (size_t i = 0; i < sizeof v / sizeof *v; i++) {
        key(n, sizeof n, prefix, names[i], 0);
        CHECK(i ? put_num(o, n, v[i]) : bz_ckpt_put_meta(o, n, "yes"));
    }
    for (size_t l = 0; t->best_epoch && l <= d->L; l++) {
        key(n, sizeof n, prefix, "best_W%zu", l);
        CHECK(bz_ckpt_put_host(o, n, t->best_w[l], d->s[l] * d->s[l + 1]));
        key(n, sizeof n, prefix, "best_b%zu", l);
        CHECK(bz_ckpt_put_host(o, n, t->best_b[l], d->s[l + 1]));
    }
    return BZ_OK;
}

bz_status bz_dbn_ckpt_get_net(const bz_ckpt_in *in, const char *path, const char *prefix,
                              bz_dbn *d, bz_dbn_ft **stash, unsigned *epochs_run)
{
    bz_context *c = d->ctx;
    char n[96];
    *stash = NULL;
    for (size_t l = 0; l <= d->L + 1; l++) {
        key(n, sizeof n, prefix, "size%zu", l);
        double v = get_num(in, n);
        if (!(v == (double)d->s[l]))
            return bz_fail(c, BZ_E_INVALID_ARG, "checkpoint %s holds a network of other sizes "
                                                "(layer %zu: %g, the options ask for %zu)",
                           path, l, v, d->s[l]);
    }
    for (size_t l = 0; l <= d->L; l++) {
        size_t nw = d->s[l] * d->s[l + 1], nb = d->s[l + 1];
        key(n, sizeof n, prefix, "W%zu", l);
        CHECK(bz_ckpt_get_buf(in, n, &d->W[l], nw));
        key(n, sizeof n, prefix, "W%zu_velocity", l);
        CHECK(bz_ckpt_get_buf(in, n, &d->vW[l], nw));
        key(n, sizeof n, prefix, "b%zu", l);
        CHECK(bz_ckpt_get_buf(in, n, &d->b[l], nb));
        key(n, sizeof n, prefix, "b%zu_velocity", l);
        CHECK(bz_ckpt_get_buf(in, n, &d->vb[l], nb));
    }
    key(n, sizeof n, prefix, "ft", 0);
    const char *ft = bz_ckpt_get_meta(in, n);
    if (!ft || strcmp(ft, "yes") != 0)
        return BZ_OK;
    bz_dbn_ft *t = calloc(1, sizeof *t);
    if (!t)
        return bz_fail(c, BZ_E_NOMEM, "out of memory");
    *stash = t;
    double v[7];
    static const char *const names[] = {"ft_best", "ft_best_epoch", "ft_since",
                                        "ft_train_seconds", "ft_part_loss", "ft_part_hits",
                                        "ft_epochs_run"};
    for (size_t i = 0; i < 7; i++) {
        key(n, sizeof n, prefix, names[i], 0);
        v[i] = get_num(in, n);
    }
    if (isnan(v[0]) || !(v[1] >= 0 && v[1] < 1e7) || !(v[2] >= 0 && v[2] < 1e7) ||
        isnan(v[4]) || isnan(v[5]) || !(v[6] >= 0 && v[6] < 1e7))
        return bz_fail(c, BZ_E_FORMAT, "%s: invalid fine-tuning state", path);
    t->best = v[0];
    t->best_epoch = (unsigned)v[1];
    t->since = (unsigned)v[2];
    t->train_secs = v[3];
    t->part_loss = v[4];
    t->part_hits = v[5];
    *epochs_run = (unsigned)v[6];
    if (t->best_epoch) {
        CHECK(bz_dbn_ft_alloc_best(d, t));
        for (size_t l = 0; l <= d->L; l++) {
            key(n, sizeof n, prefix, "best_W%zu", l);
            CHECK(bz_ckpt_get_host(in, n, t->best_w[l], d->s[l] * d->s[l + 1]));
            key(n, sizeof n, prefix, "best_b%zu", l);
            CHECK(bz_ckpt_get_host(in, n, t->best_b[l], d->s[l + 1]));
        }
    }
    return BZ_OK;
}

void bz_dbn_ft_adopt(bz_dbn_ft *t, bz_dbn_ft **stash)
{
    bz_dbn_ft *s = *stash;
    t->best = s->best;
    t->best_epoch = s->best_epoch;
    t->since = s->since;
    t->train_secs = s->train_secs;
    t->part_loss = s->part_loss;
    t->part_hits = s->part_hits;
    for (size_t l = 0; l <= BZ_DBN_MAX_LAYERS; l++) {
        free(t->best_w[l]);
        free(t->best_b[l]);
        t->best_w[l] = s->best_w[l];
        t->best_b[l] = s->best_b[l];
        s->best_w[l] = s->best_b[l] = NULL;
    }
    bz_dbn_ft_free(s);
    *stash = NULL;
}

static bz_status save(void *job, bz_ckpt_out *o)
{
    dbn_job *j = job;
    bz_dbn *d = j->d;
    CHECK(bz_dbn_ckpt_put_net(o, "", d, j->fs.ft, j->fs.epochs_run));
    char n[64];
    size_t nr = 0;
    for (; nr < d->L && d->rbm[nr]; nr++) {
        snprintf(n, sizeof n, "rbm%zu.", nr);
        CHECK(bz_ckpt_put_rbm(o, n, d->rbm[nr]));
    }
    CHECK(put_num(o, "rbms", (double)nr));
    return bz_ckpt_put_meta(o, "generative", d->generative ? "yes" : "no");
}

static bz_status load(void *job, const char *path, const bz_ckpt_in *in, bz_train_pos at)
{
    (void)at;
    dbn_job *j = job;
    bz_dbn *d = j->d;
    bz_context *c = d->ctx;
    bz_dbn_ft_free(j->fs.stash);
    j->fs.stash = NULL;
    CHECK(bz_dbn_ckpt_get_net(in, path, "", d, &j->fs.stash, &j->fs.epochs_run));
    double nr = get_num(in, "rbms");
    if (!(nr >= 0 && nr <= (double)d->L))
        return bz_fail(c, BZ_E_FORMAT, "%s: %g RBMs for %zu layers", path, nr, d->L);
    for (size_t l = 0; l < d->L; l++) {
        bz_rbm_free(d->rbm[l]);
        d->rbm[l] = NULL;
    }
    char n[64];
    for (size_t l = 0; l < (size_t)nr; l++) {
        bool top = l + 1 == d->L;
        CHECK(bz_rbm_create(c, d->s[l] + (top ? d->K : 0), d->s[l + 1], BZ_UNIT_BERNOULLI, 0,
                            &d->rbm[l]));
        if (top)
            bz_dbn_use_label_units(d->rbm[l], d->K);
        snprintf(n, sizeof n, "rbm%zu.", l);
        CHECK(bz_ckpt_get_rbm(in, n, d->rbm[l]));
    }
    const char *g = bz_ckpt_get_meta(in, "generative");
    d->generative = g && !strcmp(g, "yes");
    return BZ_OK;
}

/* The registry's descriptor of the kind points at this table. */
/* The model: the generative stack and the classifier. A checkpoint holds
 * each with its momenta, the RBMs' chains, and the classifier's best epoch
 * kept for early stopping (a third copy). */
static void output_bytes(void *job, uint64_t *model, uint64_t *checkpoint)
{
    const dbn_job *j = job;
    const bz_dbn *d = j->d;
    const uint64_t f = sizeof(float);
    uint64_t rbms = 0, chains = 0, clf = 0;
    for (size_t l = 0; l < d->L; l++) {
        rbms += bz_train_rbm_param_bytes(d->s[l], d->s[l + 1]);
        chains += ((uint64_t)j->in.rbm.batch_size + 1) * d->s[l + 1] * f;
    }
    for (size_t l = 0; l <= d->L; l++)
        clf += ((uint64_t)d->s[l] * d->s[l + 1] + d->s[l + 1]) * f;
    *model = rbms + clf + BZ_TRAIN_META_BYTES;
    *checkpoint = 2 * rbms + chains + 3 * clf + BZ_TRAIN_META_BYTES;
}

const bz_train_hooks bz_dbn_train_hooks = {
    BZ_TRAIN_HOOKS_VERSION, "dbn", ctx_of, n_stages, stage, begin_stage, epoch, end_stage,
    check_finite, save, NULL, load, NULL, output_bytes,
};

static void free_job(void *job)
{
    dbn_job *j = job;
    if (!j)
        return;
    drop_data(j);
    bz_dbn_ft_free(j->fs.ft);
    bz_dbn_ft_free(j->fs.stash);
    free(j);
}

bz_status bz_dbn_trainer_make(bz_dbn *d, const bz_dbn_train_job *in, bz_trainer **out)
{
    if (!d || !in || !in->x || !in->labels || in->n == 0 || (in->nv && !in->xv) ||
        (in->nv && !in->labels_v) || !out)
        return BZ_E_INVALID_ARG;
    dbn_job *j = calloc(1, sizeof *j);
    if (!j)
        return bz_fail(d->ctx, BZ_E_NOMEM, "out of memory");
    j->d = d;
    j->in = *in;
    j->n_pre = in->pretrain_epochs ? d->L : 0;
    j->n_stages = j->n_pre + 1;
    bz_status st = bz_trainer_make(bz_kind_dbn.train, j, free_job, in->comm, out);
    if (st)
        free_job(j);
    return st;
}
