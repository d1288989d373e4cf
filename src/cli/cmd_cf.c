/*
 * Collaborative filtering from the command line: `train cf` (a ratings RBM
 * on a ratings file, with a held-out test file or a seeded random split,
 * RMSE and MAE per epoch, through the generic trainer), `recommend` (the
 * items a user has not rated, best predicted first), and the ratings
 * model's `predict` (user,item pairs to ratings) and `eval` (RMSE and MAE
 * on a ratings file), reached through dispatch.c.
 */
#include "cli/cli.h"
#include "cli/files.h"
#include "cli/rbm_common.h"
#include "cli/train_run.h"
#include "io/ratings.h"
#include "models/cf.h"
#include "models/cf_trainer.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Ratings in the model's dense indexes; ids the model lacks are marked. */
typedef struct dense_set {
    size_t n;
    uint32_t *u, *i;
    uint8_t *cls;
    uint8_t *known; /* 1 when both ids are the model's */
} dense_set;

static void dense_free(dense_set *d)
{
    free(d->u);
    free(d->i);
    free(d->cls);
    free(d->known);
    memset(d, 0, sizeof *d);
}

static int dense_alloc(dense_set *d, size_t n)
{
    memset(d, 0, sizeof *d);
    d->u = malloc((n ? n : 1) * sizeof *d->u);
    d->i = malloc((n ? n : 1) * sizeof *d->i);
    d->cls = malloc(n ? n : 1);
    d->known = malloc(n ? n : 1);
    d->n = n;
    if (!d->u || !d->i || !d->cls || !d->known) {
        dense_free(d);
        return -1;
    }
    return 0;
}

/* The entries of r (those with keep[k] == want, keep NULL: all) in dense
 * indexes of uids/iids. */
static int to_dense(const bz_ratings *r, const uint8_t *cls, const uint8_t *keep, int want,
                    const uint32_t *uids, size_t nu, const uint32_t *iids, size_t ni,
                    dense_set *out)
{
    size_t n = 0;
    for (size_t k = 0; k < r->n; k++)
        n += !keep || keep[k] == want;
    if (dense_alloc(out, n))
        return -1;
    size_t q = 0;
    for (size_t k = 0; k < r->n; k++) {
        if (keep && keep[k] != want)
            continue;
        long u = bz_ids_find(uids, nu, r->user[k]), i = bz_ids_find(iids, ni, r->item[k]);
        out->known[q] = u >= 0 && i >= 0;
        out->u[q] = u >= 0 ? (uint32_t)u : 0;
        out->i[q] = i >= 0 ? (uint32_t)i : 0;
        out->cls[q] = cls ? cls[k] : 0;
        q++;
    }
    return 0;
}

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t k = 0; k < n; k++)
        h = (h ^ b[k]) * 0x100000001B3ull;
    return h;
}

/* ---- train cf ---- */

typedef struct cf_args {
    const char *ratings, *test, *scale, *out, *checkpoint, *resume, *log, *device;
    size_t hidden, epochs, batch, cd_start, cd_max, cd_every;
    double test_split, lr, lr_decay, momentum, final_momentum, weight_decay;
    long seed, momentum_epochs;
    bool items, conditional, mean_field, json, quiet, overwrite;
} cf_args;

typedef struct cf_last {
    bz_cli_progress *bar;
    char json[1024];
} cf_last;

static void on_progress(void *user, const bz_train_progress *p)
{
    cf_last *l = user;
    bz_cli_progress_cb(l->bar, p);
    if (p->epoch_done && p->metrics_json)
        snprintf(l->json, sizeof l->json, "%s", p->metrics_json);
}

static double jget(json_object *o, const char *key)
{
    json_object *v;
    return o && json_object_object_get_ex(o, key, &v) && v &&
                   !json_object_is_type(v, json_type_null)
               ? json_object_get_double(v)
               : NAN;
}

static json_object *jnum(double v)
{
    return isfinite(v) ? json_object_new_double(v) : NULL;
}

int bz_cmd_train_cf(int argc, char **argv)
{
    cf_args a = {
        .out = "cf.safetensors", .hidden = 128, .epochs = 20, .batch = 64, .cd_start = 1,
        .cd_max = 9, .cd_every = 10, .test_split = NAN, .lr = 1, .lr_decay = 0.05,
        .momentum = 0.5, .final_momentum = 0.5, .weight_decay = 0.001, .seed = 1,
        .momentum_epochs = 5,
    };
    const bz_opt opts[] = {
        {"ratings", BZ_OPT_STRING, &a.ratings, "FILE",
         "ratings: u.data, ratings.dat, ratings.csv or user,item,rating CSV"},
        {"test", BZ_OPT_STRING, &a.test, "FILE", "held-out ratings to score (u1.test)"},
        {"test-split", BZ_OPT_FLOAT, &a.test_split, "F",
         "without --test: fraction of the ratings held out at random by --seed (0.1)"},
        {"scale", BZ_OPT_STRING, &a.scale, "LO:HI:STEP",
         "rating scale (from the data: 0.5:5:0.5 with half stars, else 1:5:1)"},
        {"hidden", BZ_OPT_SIZE, &a.hidden, "N", "hidden units (128)"},
        {"items", BZ_OPT_FLAG, &a.items, NULL,
         "item-based: each item is a case over the users' ratings (I-RBM)"},
        {"conditional", BZ_OPT_FLAG, &a.conditional, NULL,
         "conditional RBM: which columns were rated (test pairs included) feeds the hidden units"},
        {"epochs", BZ_OPT_SIZE, &a.epochs, "N", "epochs (20)"},
        {"batch", BZ_OPT_SIZE, &a.batch, "N", "rows per minibatch (64)"},
        {"lr", BZ_OPT_FLOAT, &a.lr, "F", "learning rate (1)"},
        {"lr-decay", BZ_OPT_FLOAT, &a.lr_decay, "F", "epoch e runs at lr / (1 + F * e) (0.05)"},
        {"momentum", BZ_OPT_FLOAT, &a.momentum, "F", "initial momentum (0.5)"},
        {"final-momentum", BZ_OPT_FLOAT, &a.final_momentum, "F", "momentum later on (0.5)"},
        {"momentum-epochs", BZ_OPT_INT, &a.momentum_epochs, "N", "epochs at the initial momentum (5)"},
        {"weight-decay", BZ_OPT_FLOAT, &a.weight_decay, "F", "L2 weight decay (0.001)"},
        {"cd-start", BZ_OPT_SIZE, &a.cd_start, "T", "Gibbs steps per update at first, CD-T (1)"},
        {"cd-max", BZ_OPT_SIZE, &a.cd_max, "T", "at most this many steps (9)"},
        {"cd-every", BZ_OPT_SIZE, &a.cd_every, "N", "one more step every N epochs (10)"},
        {"mean-field", BZ_OPT_FLAG, &a.mean_field, NULL,
         "probabilities instead of samples in the Gibbs chain"},
        {"seed", BZ_OPT_INT, &a.seed, "N", "random seed of the split and the model (1)"},
        {"out", BZ_OPT_STRING, &a.out, "FILE", "model file (cf.safetensors)"},
        BZ_CLI_TRAIN_STATE_OPTS(a),
        BZ_CLI_TRAIN_REPORT_OPTS(a),
        {0},
    };
    const char *pos[1];
    size_t npos;
    int pr = bz_args_parse("train cf", "--ratings FILE [options]", opts, argc, argv, pos, 0,
                           &npos);
    if (pr)
        return pr > 0 ? 0 : 2;
    const char *c = "train cf";
    if (isnan(a.test_split))
        a.test_split = a.test ? 0 : 0.1;
    if (bz_args_bad(c, !a.ratings, "--ratings", "given (a ratings file)") ||
        bz_args_bad(c, a.hidden == 0 || a.hidden > 65536, "--hidden", "between 1 and 65536") ||
        bz_args_bad(c, a.epochs == 0, "--epochs", ">= 1") ||
        bz_args_bad(c, a.batch == 0, "--batch", ">= 1") ||
        bz_args_bad(c, !(a.lr > 0), "--lr", "> 0") ||
        bz_args_bad(c, a.test && a.test_split > 0, "--test-split", "0 with --test") ||
        bz_args_bad(c, !(a.test_split >= 0 && a.test_split < 1), "--test-split", "in [0, 1)") ||
        bz_args_bad(c, a.momentum < 0 || a.momentum >= 1, "--momentum", "in [0, 1)") ||
        bz_args_bad(c, a.final_momentum < 0 || a.final_momentum >= 1, "--final-momentum",
                    "in [0, 1)") ||
        bz_args_bad(c, a.momentum_epochs < 0, "--momentum-epochs", ">= 0") ||
        bz_args_bad(c, !(a.weight_decay >= 0), "--weight-decay", ">= 0") ||
        bz_args_bad(c, !(a.lr_decay >= 0), "--lr-decay", ">= 0") ||
        bz_args_bad(c, a.cd_start == 0 || a.cd_start > 100, "--cd-start", "between 1 and 100") ||
        bz_args_bad(c, a.cd_max < a.cd_start || a.cd_max > 100, "--cd-max",
                    "between --cd-start and 100") ||
        bz_args_bad(c, a.cd_every == 0, "--cd-every", ">= 1") ||
        bz_args_bad(c, a.seed < 0, "--seed", ">= 0"))
        return 2;
    char ckpt[1100];
    bz_cli_checkpoint_path(a.checkpoint, a.out, ckpt, sizeof ckpt);
    int frc = bz_cli_check_files(
        c, (const bz_file_arg[]){{"--ratings", a.ratings}, {"--test", a.test}, {0}},
        (const bz_file_arg[]){{"--out", a.out}, {"--checkpoint", ckpt}, {"--log", a.log}, {0}},
        true);
    if (frc)
        return frc;

    int rc = 1;
    bz_error err = {0};
    bz_ratings all = {0}, test = {0};
    uint8_t *cls = NULL, *tcls = NULL, *keep = NULL;
    uint32_t *uids = NULL, *iids = NULL, *cat = NULL;
    size_t nu = 0, ni = 0;
    dense_set tr = {0}, te = {0};
    bz_context *ctx = NULL;
    bz_cf *cf = NULL;
    bz_cf_set set = {0};
    bz_trainer *trainer = NULL;
    FILE *logf = NULL;
    json_object *final = json_object_new_object();
    bz_rating_scale scale;
    if (bz_ratings_read(a.ratings, 1, &all, &err) ||
        (a.test && bz_ratings_read(a.test, 1, &test, &err)) ||
        (a.scale ? bz_rating_scale_parse(a.scale, &scale, &err)
                 : bz_rating_scale_guess(&all, &scale, &err))) {
        fprintf(stderr, "boltzcl %s: %s\n", c, bz_cli_safe(err.msg));
        goto out;
    }
    cls = malloc(all.n);
    tcls = malloc(test.n ? test.n : 1);
    keep = malloc(all.n);
    cat = malloc((all.n + test.n) * sizeof *cat);
    if (!cls || !tcls || !keep || !cat) {
        fprintf(stderr, "boltzcl %s: out of memory\n", c);
        goto out;
    }
    if (bz_ratings_classes(&all, &scale, cls, &err) ||
        (test.n && bz_ratings_classes(&test, &scale, tcls, &err))) {
        fprintf(stderr, "boltzcl %s: %s\n", c, bz_cli_safe(err.msg));
        goto out;
    }
    /* ids: those of both files, so that a test user or item without
     * training ratings is known (it is predicted from the biases) */
    memcpy(cat, all.user, all.n * sizeof *cat);
    if (test.n)
        memcpy(cat + all.n, test.user, test.n * sizeof *cat);
    if (bz_ids_unique(cat, all.n + test.n, &uids, &nu, &err))
        goto oom;
    memcpy(cat, all.item, all.n * sizeof *cat);
    if (test.n)
        memcpy(cat + all.n, test.item, test.n * sizeof *cat);
    if (bz_ids_unique(cat, all.n + test.n, &iids, &ni, &err))
        goto oom;
    if (a.test_split > 0)
        bz_ratings_split(all.n, a.test_split, (uint64_t)a.seed, keep);
    else
        memset(keep, 1, all.n);
    if (to_dense(&all, cls, keep, 1, uids, nu, iids, ni, &tr) ||
        (a.test_split > 0 ? to_dense(&all, cls, keep, 0, uids, nu, iids, ni, &te)
                          : to_dense(&test, tcls, NULL, 1, uids, nu, iids, ni, &te)))
        goto oom;
    if (tr.n == 0) {
        fprintf(stderr, "boltzcl %s: no training ratings left after the split\n", c);
        goto out;
    }
    if (!(ctx = bz_cli_open(a.device, a.quiet)))
        goto out;
    bz_cf_config cfg = {a.hidden, scale.classes, scale.lo, scale.step, a.items, a.conditional};
    bz_status st;
    if ((st = bz_cf_create(ctx, &cfg, uids, nu, iids, ni, tr.u, tr.i, tr.cls, tr.n,
                           (uint64_t)a.seed, &cf)) ||
        (st = bz_cf_set_make(cf, te.u, te.i, te.n, &set)) ||
        (st = bz_meta_set(&cf->meta, ctx, "ratings", a.ratings)) ||
        (a.test && (st = bz_meta_set(&cf->meta, ctx, "test", a.test)))) {
        bz_cli_fail(c, ctx, st);
        goto out;
    }
    bz_cf_train_opts o;
    bz_cf_train_opts_init(&o);
    o.batch = a.batch;
    o.learning_rate = (float)a.lr;
    o.lr_decay = (float)a.lr_decay;
    o.momentum_initial = (float)a.momentum;
    o.momentum_final = (float)a.final_momentum;
    o.momentum_epochs = (unsigned)a.momentum_epochs;
    o.weight_decay = (float)a.weight_decay;
    o.k_start = (unsigned)a.cd_start;
    o.k_max = (unsigned)a.cd_max;
    o.k_every = (unsigned)a.cd_every;
    o.mean_field = a.mean_field;
    o.seed = (uint64_t)a.seed;
    bz_cf_pairs ptr = {tr.u, tr.i, tr.cls, tr.n}, pte = {te.u, te.i, te.cls, te.n};
    if ((st = bz_cf_trainer_make(cf, &set, &o, (unsigned)a.epochs, ptr, pte, &trainer))) {
        bz_cli_fail(c, ctx, st);
        goto out;
    }
    if (bz_cli_train_check_space("cf", trainer, "--out", a.out, ckpt))
        goto out;
    /* what makes a run this run (the epoch count may grow on resume) */
    uint64_t h = 0xCBF29CE484222325ull;
    h = fnv(h, tr.u, tr.n * sizeof *tr.u);
    h = fnv(h, tr.i, tr.n * sizeof *tr.i);
    h = fnv(h, tr.cls, tr.n);
    h = fnv(h, te.u, te.n * sizeof *te.u);
    h = fnv(h, te.i, te.n * sizeof *te.i);
    char fp[1024] = "";
    bz_cli_fp_add(fp, sizeof fp, "hidden", "%zu", a.hidden);
    bz_cli_fp_add(fp, sizeof fp, "rows", "%s", a.items ? "items" : "users");
    bz_cli_fp_add(fp, sizeof fp, "conditional", "%d", a.conditional);
    bz_cli_fp_add(fp, sizeof fp, "scale", "%g:%u:%g", (double)scale.lo, scale.classes,
                  (double)scale.step);
    bz_cli_fp_add(fp, sizeof fp, "batch", "%zu", a.batch);
    bz_cli_fp_add(fp, sizeof fp, "lr", "%.9g,%.9g", a.lr, a.lr_decay);
    bz_cli_fp_add(fp, sizeof fp, "momentum", "%.9g,%.9g,%ld", a.momentum, a.final_momentum,
                  a.momentum_epochs);
    bz_cli_fp_add(fp, sizeof fp, "weight_decay", "%.9g", a.weight_decay);
    bz_cli_fp_add(fp, sizeof fp, "cd", "%zu,%zu,%zu,%d", a.cd_start, a.cd_max, a.cd_every,
                  a.mean_field);
    bz_cli_fp_add(fp, sizeof fp, "seed", "%ld", a.seed);
    bz_cli_fp_add(fp, sizeof fp, "data", "%zu+%zu:%016llx", tr.n, te.n, (unsigned long long)h);

    bz_cli_progress ps;
    bz_cli_progress_init(&ps, a.quiet, -1);
    if (a.log && bz_cli_train_log_open(c, a.log, a.resume != NULL, &logf))
        goto out;
    ps.log = logf;
    bz_train_options to;
    bz_cli_train_options(&to, ckpt, a.resume, a.overwrite, fp);
    cf_last last = {&ps, ""};
    to.progress = on_progress;
    to.progress_user = &last;
    bz_cli_train_signals();
    if (!a.quiet)
        fprintf(stderr, "training a ratings RBM (%s-based%s, %zu %s x %u classes, %zu hidden) on "
                "%zu ratings of %zu users and %zu items, %zu held out, device %s\n",
                a.items ? "item" : "user", a.conditional ? ", conditional" : "", cf->n_cols,
                a.items ? "users" : "items", scale.classes, a.hidden, tr.n, nu, ni, te.n,
                bz_device_name(ctx));
    bz_train_result res;
    st = bz_trainer_run(trainer, &to, &res);
    if (st == BZ_OK && a.resume && !a.quiet && res.epochs_run == 0)
        fprintf(stderr, "the checkpoint had all %zu epochs already\n", a.epochs);
    if (st) {
        rc = bz_cli_train_outcome(c, ctx, st, &res, ckpt, true);
        goto out;
    }
    double trr, tra, ter = NAN, tea = NAN;
    if ((st = bz_cf_score(cf, &set, tr.u, tr.i, tr.cls, tr.n, &trr, &tra)) ||
        (te.n && (st = bz_cf_score(cf, &set, te.u, te.i, te.cls, te.n, &ter, &tea))) ||
        (st = bz_cf_save(cf, a.out))) {
        bz_cli_fail(c, ctx, st);
        goto out;
    }
    if (!a.quiet)
        fprintf(stderr, "saved %s (%.1f s of training)\n", a.out, res.seconds);
    json_object *lj = json_tokener_parse(last.json);
    json_object_object_add(final, "test_rmse", jnum(ter));
    json_object_object_add(final, "test_mae", jnum(tea));
    json_object_object_add(final, "train_rmse", jnum(trr));
    json_object_object_add(final, "train_mae", jnum(tra));
    json_object_object_add(final, "epochs", json_object_new_int((int)a.epochs));
    json_object_object_add(final, "seconds", json_object_new_double(res.seconds));
    json_object_object_add(final, "last_epoch_seconds", jnum(jget(lj, "seconds")));
    json_object_object_add(final, "train_ratings", json_object_new_int64((int64_t)tr.n));
    json_object_object_add(final, "test_ratings", json_object_new_int64((int64_t)te.n));
    json_object_object_add(final, "model", json_object_new_string(a.out));
    json_object_object_add(final, "device", json_object_new_string(bz_device_name(ctx)));
    json_object_put(lj);
    if (a.json)
        bz_cli_print_json(final);
    rc = 0;
    goto out;
oom:
    fprintf(stderr, "boltzcl %s: out of memory\n", c);
out:
    json_object_put(final);
    if (logf)
        fclose(logf);
    bz_trainer_free(trainer);
    bz_cf_set_free(&set);
    bz_cf_free(cf);
    bz_context_free(ctx);
    dense_free(&tr);
    dense_free(&te);
    free(uids);
    free(iids);
    free(cat);
    free(cls);
    free(tcls);
    free(keep);
    bz_ratings_free(&all);
    bz_ratings_free(&test);
    return rc;
}

/* ---- predict, eval, recommend ---- */

/* Predictions for the pairs of d: the model's rule where it knows both
 * ids, the mean training rating elsewhere. */
static bz_status predict_dense(bz_cf *cf, const dense_set *d, float *out, size_t *unknown)
{
    size_t nk = 0;
    for (size_t k = 0; k < d->n; k++)
        nk += d->known[k];
    *unknown = d->n - nk;
    dense_set k2;
    if (dense_alloc(&k2, nk))
        return bz_fail(cf->ctx, BZ_E_NOMEM, "out of memory");
    for (size_t k = 0, q = 0; k < d->n; k++)
        if (d->known[k]) {
            k2.u[q] = d->u[k];
            k2.i[q++] = d->i[k];
        }
    float *p = malloc((nk ? nk : 1) * sizeof *p);
    bz_cf_set set = {0};
    bz_status st = p ? bz_cf_set_make(cf, k2.u, k2.i, nk, &set)
                     : bz_fail(cf->ctx, BZ_E_NOMEM, "out of memory");
    if (!st)
        st = bz_cf_predict(cf, &set, k2.u, k2.i, nk, p);
    float mean = bz_cf_mean_rating(cf);
    for (size_t k = 0, q = 0; !st && k < d->n; k++)
        out[k] = d->known[k] ? p[q++] : mean;
    bz_cf_set_free(&set);
    dense_free(&k2);
    free(p);
    return st;
}

static int load_model(const char *cmd, const char *path, const char *device, bz_context **ctx,
                      bz_cf **cf)
{
    if (!(*ctx = bz_cli_open(device, true)))
        return 1;
    bz_status st = bz_cf_load(*ctx, path, cf);
    if (st) {
        bz_cli_fail(cmd, *ctx, st);
        return 1;
    }
    return 0;
}

int bz_cmd_predict_cf(int argc, char **argv)
{
    const char *model = NULL, *pairs = NULL, *out = NULL, *device = NULL;
    const bz_opt opts[] = {
        {"model", BZ_OPT_STRING, &model, "FILE", "a ratings model (boltzcl train cf)"},
        {"pairs", BZ_OPT_STRING, &pairs, "FILE", "user,item pairs (a ratings file also does)"},
        {"out", BZ_OPT_STRING, &out, "FILE", "write user,item,rating CSV here (stdout)"},
        {"device", BZ_OPT_STRING, &device, "SEL", "device (P:D, gpu, cpu, or name part)"},
        {0},
    };
    const char *pos[1];
    size_t npos;
    int pr = bz_args_parse("predict", "--model FILE --pairs FILE [options]", opts, argc, argv,
                           pos, 0, &npos);
    if (pr)
        return pr > 0 ? 0 : 2;
    if (bz_args_bad("predict", !model, "--model", "given") ||
        bz_args_bad("predict", !pairs, "--pairs", "given (a file of user,item lines)"))
        return 2;
    int frc = bz_cli_check_files("predict",
                                 (const bz_file_arg[]){{"--model", model}, {"--pairs", pairs}, {0}},
                                 (const bz_file_arg[]){{"--out", out}, {0}}, false);
    if (frc)
        return frc;
    bz_ratings r = {0};
    bz_error err = {0};
    if (bz_ratings_read(pairs, 0, &r, &err)) {
        fprintf(stderr, "boltzcl predict: %s\n", bz_cli_safe(err.msg));
        return 1;
    }
    bz_context *ctx = NULL;
    bz_cf *cf = NULL;
    dense_set d = {0};
    float *p = NULL;
    FILE *f = NULL;
    int rc = 1;
    size_t unknown = 0;
    if (load_model("predict", model, device, &ctx, &cf))
        goto done;
    if (to_dense(&r, NULL, NULL, 1, cf->user_ids, cf->n_users, cf->item_ids, cf->n_items, &d) ||
        !(p = malloc(r.n * sizeof *p))) {
        fprintf(stderr, "boltzcl predict: out of memory\n");
        goto done;
    }
    bz_status st = predict_dense(cf, &d, p, &unknown);
    if (st) {
        bz_cli_fail("predict", ctx, st);
        goto done;
    }
    f = out ? fopen(out, "w") : stdout;
    if (!f) {
        fprintf(stderr, "boltzcl predict: cannot write %s\n", bz_cli_safe(out));
        goto done;
    }
    fprintf(f, "user,item,rating\n");
    for (size_t k = 0; k < r.n; k++)
        fprintf(f, "%u,%u,%.4f\n", r.user[k], r.item[k], (double)p[k]);
    if (out && fclose(f) != 0) {
        f = NULL;
        fprintf(stderr, "boltzcl predict: cannot write %s\n", bz_cli_safe(out));
        goto done;
    }
    f = NULL;
    if (unknown)
        fprintf(stderr, "boltzcl predict: %zu of %zu pairs have a user or item the model has not "
                "seen; they get the mean rating %.3f\n", unknown, r.n,
                (double)bz_cf_mean_rating(cf));
    rc = 0;
done:
    if (f && f != stdout)
        fclose(f);
    free(p);
    dense_free(&d);
    bz_cf_free(cf);
    bz_context_free(ctx);
    bz_ratings_free(&r);
    return rc;
}

int bz_cmd_eval_cf(int argc, char **argv)
{
    const char *model = NULL, *ratings = NULL, *device = NULL;
    bool json = false;
    const bz_opt opts[] = {
        {"model", BZ_OPT_STRING, &model, "FILE", "a ratings model (boltzcl train cf)"},
        {"ratings", BZ_OPT_STRING, &ratings, "FILE", "ratings to score (RMSE, MAE)"},
        {"json", BZ_OPT_FLAG, &json, NULL, "print the figures as JSON on stdout"},
        {"device", BZ_OPT_STRING, &device, "SEL", "device (P:D, gpu, cpu, or name part)"},
        {0},
    };
    const char *pos[1];
    size_t npos;
    int pr = bz_args_parse("eval", "--model FILE --ratings FILE [options]", opts, argc, argv, pos,
                           0, &npos);
    if (pr)
        return pr > 0 ? 0 : 2;
    if (bz_args_bad("eval", !model, "--model", "given") ||
        bz_args_bad("eval", !ratings, "--ratings", "given (a ratings file) for a ratings model"))
        return 2;
    int frc = bz_cli_check_files(
        "eval", (const bz_file_arg[]){{"--model", model}, {"--ratings", ratings}, {0}},
        (const bz_file_arg[]){{0}}, false);
    if (frc)
        return frc;
    bz_ratings r = {0};
    bz_error err = {0};
    bz_context *ctx = NULL;
    bz_cf *cf = NULL;
    dense_set d = {0};
    float *p = NULL;
    uint8_t *cls = NULL;
    int rc = 1;
    size_t unknown = 0;
    if (bz_ratings_read(ratings, 1, &r, &err)) {
        fprintf(stderr, "boltzcl eval: %s\n", bz_cli_safe(err.msg));
        goto done;
    }
    if (load_model("eval", model, device, &ctx, &cf))
        goto done;
    bz_rating_scale s = {cf->cfg.lo, cf->cfg.step, (unsigned)cf->K};
    if (!(cls = malloc(r.n)) || !(p = malloc(r.n * sizeof *p))) {
        fprintf(stderr, "boltzcl eval: out of memory\n");
        goto done;
    }
    if (bz_ratings_classes(&r, &s, cls, &err)) {
        fprintf(stderr, "boltzcl eval: %s (the model's scale)\n", bz_cli_safe(err.msg));
        goto done;
    }
    if (to_dense(&r, cls, NULL, 1, cf->user_ids, cf->n_users, cf->item_ids, cf->n_items, &d)) {
        fprintf(stderr, "boltzcl eval: out of memory\n");
        goto done;
    }
    bz_status st = predict_dense(cf, &d, p, &unknown);
    if (st) {
        bz_cli_fail("eval", ctx, st);
        goto done;
    }
    double se = 0, ae = 0;
    for (size_t k = 0; k < r.n; k++) {
        double e = (double)p[k] - (double)r.value[k];
        se += e * e;
        ae += fabs(e);
    }
    double rmse = sqrt(se / (double)r.n), mae = ae / (double)r.n;
    if (json) {
        json_object *o = json_object_new_object();
        json_object_object_add(o, "rmse", json_object_new_double(rmse));
        json_object_object_add(o, "mae", json_object_new_double(mae));
        json_object_object_add(o, "ratings", json_object_new_int64((int64_t)r.n));
        json_object_object_add(o, "unknown_ids", json_object_new_int64((int64_t)unknown));
        bz_cli_print_json(o);
        json_object_put(o);
    } else {
        printf("ratings      %zu\nrmse         %.4f\nmae          %.4f\n", r.n, rmse, mae);
        if (unknown)
            printf("unknown ids  %zu (given the mean rating %.3f)\n", unknown,
                   (double)bz_cf_mean_rating(cf));
    }
    rc = 0;
done:
    free(p);
    free(cls);
    dense_free(&d);
    bz_cf_free(cf);
    bz_context_free(ctx);
    bz_ratings_free(&r);
    return rc;
}

int bz_cmd_recommend(int argc, char **argv)
{
    const char *model = NULL, *device = NULL;
    long user = -1;
    size_t top = 10;
    bool json = false;
    const bz_opt opts[] = {
        {"model", BZ_OPT_STRING, &model, "FILE", "a ratings model (boltzcl train cf)"},
        {"user", BZ_OPT_INT, &user, "ID", "the user, by the ratings file's id"},
        {"top", BZ_OPT_SIZE, &top, "N", "how many items (10)"},
        {"json", BZ_OPT_FLAG, &json, NULL, "print the list as JSON on stdout"},
        {"device", BZ_OPT_STRING, &device, "SEL", "device (P:D, gpu, cpu, or name part)"},
        {0},
    };
    const char *pos[1];
    size_t npos;
    int pr = bz_args_parse("recommend", "--model FILE --user ID [--top N]", opts, argc, argv, pos,
                           0, &npos);
    if (pr)
        return pr > 0 ? 0 : 2;
    if (bz_args_bad("recommend", !model, "--model", "given") ||
        bz_args_bad("recommend", user < 0 || user > (long)UINT32_MAX, "--user",
                    "a user id of the ratings file (0 to 4294967295)") ||
        bz_args_bad("recommend", top == 0, "--top", ">= 1"))
        return 2;
    int frc = bz_cli_check_files("recommend", (const bz_file_arg[]){{"--model", model}, {0}},
                                 (const bz_file_arg[]){{0}}, false);
    if (frc)
        return frc;
    bz_context *ctx = NULL;
    bz_cf *cf = NULL;
    uint32_t *items = NULL;
    float *ratings = NULL;
    size_t n = 0;
    int rc = 1;
    bz_status st;
    if (load_model("recommend", model, device, &ctx, &cf))
        goto done;
    /* the library ranks the user's unrated items (bz_cf_recommend) */
    if (top > cf->n_items)
        top = cf->n_items;
    items = malloc(top * sizeof *items);
    ratings = malloc(top * sizeof *ratings);
    if (!items || !ratings) {
        fprintf(stderr, "boltzcl recommend: out of memory\n");
        goto done;
    }
    if ((st = bz_cf_recommend(cf, (uint32_t)user, top, items, ratings, &n))) {
        bz_cli_fail("recommend", ctx, st);
        goto done;
    }
    if (json) {
        json_object *o = json_object_new_object(), *arr = json_object_new_array();
        json_object_object_add(o, "user", json_object_new_int64(user));
        for (size_t k = 0; k < n; k++) {
            json_object *e = json_object_new_object();
            json_object_object_add(e, "item", json_object_new_int64(items[k]));
            json_object_object_add(e, "rating", json_object_new_double(ratings[k]));
            json_object_array_add(arr, e);
        }
        json_object_object_add(o, "items", arr);
        bz_cli_print_json(o);
        json_object_put(o);
    } else {
        printf("item,predicted_rating\n");
        for (size_t k = 0; k < n; k++)
            printf("%u,%.4f\n", items[k], (double)ratings[k]);
    }
    rc = 0;
done:
    free(items);
    free(ratings);
    bz_cf_free(cf);
    bz_context_free(ctx);
    return rc;
}
