/*
 * The DBM side of the tool: `train dbm` (greedy pretraining of the modified
 * RBMs, joint training, optionally the classifier of the paper), and what
 * `eval`, `sample`, `transform` and `predict` do when --model names a DBM
 * file (they dispatch here).
 */
#include "cli/ais_report.h"
#include "cli/cli.h"
#include "cli/files.h"
#include "base/atomic_file.h"
#include "cli/rbm_common.h"
#include "cli/train_run.h"
#include "models/dbm_trainer.h"
#include "io/csv.h"
#include "io/npy.h"
#include "io/pngio.h"
#include "models/dbm.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static unsigned model_mf_iters(const bz_dbm *d)
{
    const char *m = bz_dbm_get_meta(d, "mf_iters");
    unsigned long v = m ? strtoul(m, NULL, 10) : 0;
    return v >= 1 && v <= 1000 ? (unsigned)v : 10;
}

/* ---- train dbm ---- */

typedef struct dbm_args {
    const char *data, *test, *layers, *out, *device, *binarize, *checkpoint, *resume, *log;
    size_t pretrain_epochs, epochs, mf_iters, chains, gibbs, batch, rows, finetune_epochs,
        ft_batch, patience;
    double lr, lr_rbm, lr_decay, weight_decay, ft_lr, val_split;
    long seed;
    bool json, quiet, overwrite;
} dbm_args;

/* Seconds per phase for --json, from the trainer's per-epoch figures. */
typedef struct phase_secs {
    bz_cli_progress *bar;
    double pre, joint;
    unsigned joint_epochs;
} phase_secs;

static void on_progress(void *user, const bz_train_progress *p)
{
    phase_secs *ps = user;
    bz_cli_progress_cb(ps->bar, p);
    if (!p->epoch_done)
        return;
    json_object *o = json_tokener_parse(p->metrics_json), *v;
    double secs = o && json_object_object_get_ex(o, "seconds", &v) ? json_object_get_double(v) : 0;
    json_object_put(o);
    if (!strcmp(p->phase, "pretrain"))
        ps->pre += secs;
    else if (!strcmp(p->phase, "joint")) {
        ps->joint += secs;
        ps->joint_epochs++;
    }
}

static double accuracy(bz_dbm *d, const bz_dataset *ds, unsigned iters, bz_status *st)
{
    size_t K = d->clf->K;
    float *p = malloc(ds->n * K * sizeof *p);
    if (!p) {
        *st = BZ_E_NOMEM;
        return NAN;
    }
    *st = bz_dbm_predict_proba(d, ds->x, ds->n, iters, p);
    size_t hit = 0;
    for (size_t i = 0; !*st && i < ds->n; i++) {
        size_t arg = 0;
        for (size_t j = 1; j < K; j++)
            if (p[i * K + j] > p[i * K + arg])
                arg = j;
        hit += (int32_t)arg == ds->labels[i];
    }
    free(p);
    return *st ? NAN : (double)hit / (double)ds->n;
}

int bz_cmd_train_dbm(int argc, char **argv)
{
    dbm_args a = {
        .data = "fashion-mnist", .layers = "500,1000", .out = "dbm.safetensors",
        .binarize = "threshold", .pretrain_epochs = 10, .epochs = 10, .mf_iters = 10,
        .chains = 100, .gibbs = 5, .batch = 100, .ft_batch = 32, .patience = 10, .lr = 0.001,
        .lr_rbm = 0.05, .lr_decay = 0.1, .weight_decay = 2e-4, .ft_lr = 0.1, .val_split = 0.1,
        .seed = 1,
    };
    const bz_opt opts[] = {
        {"data", BZ_OPT_STRING, &a.data, "D", "training data (fashion-mnist, IDX, CSV)"},
        {"test", BZ_OPT_STRING, &a.test, "D", "labelled test data for the classifier's accuracy"},
        {"layers", BZ_OPT_STRING, &a.layers, "N,N[,N]", "2 or 3 hidden layer sizes (500,1000)"},
        {"pretrain-epochs", BZ_OPT_SIZE, &a.pretrain_epochs, "N", "epochs per RBM, 0: none (10)"},
        {"epochs", BZ_OPT_SIZE, &a.epochs, "N", "joint-training epochs (10)"},
        {"mf-iters", BZ_OPT_SIZE, &a.mf_iters, "N", "mean-field sweeps at most (10)"},
        {"chains", BZ_OPT_SIZE, &a.chains, "N", "persistent Gibbs chains (100)"},
        {"gibbs-steps", BZ_OPT_SIZE, &a.gibbs, "N", "Gibbs sweeps per update (5)"},
        {"batch", BZ_OPT_SIZE, &a.batch, "N", "minibatch size (100)"},
        {"lr", BZ_OPT_FLOAT, &a.lr, "F", "joint-training learning rate (0.001)"},
        {"lr-decay", BZ_OPT_FLOAT, &a.lr_decay, "F", "lr / (1 + F * epoch) (0.1)"},
        {"lr-rbm", BZ_OPT_FLOAT, &a.lr_rbm, "F", "pretraining learning rate (0.05)"},
        {"weight-decay", BZ_OPT_FLOAT, &a.weight_decay, "F", "L2 weight decay (2e-4)"},
        {"binarize", BZ_OPT_STRING, &a.binarize, "M", "none, threshold or a threshold (threshold)"},
        {"rows", BZ_OPT_SIZE, &a.rows, "N", "use only the first N rows of --data"},
        {"finetune-epochs", BZ_OPT_SIZE, &a.finetune_epochs, "N",
         "fine-tune a classifier on the labels for at most N epochs (0: none)"},
        {"ft-lr", BZ_OPT_FLOAT, &a.ft_lr, "F", "fine-tuning learning rate (0.1)"},
        {"ft-batch", BZ_OPT_SIZE, &a.ft_batch, "N", "fine-tuning batch size (32)"},
        {"patience", BZ_OPT_SIZE, &a.patience, "N", "fine-tuning early-stopping patience (10)"},
        {"val-split", BZ_OPT_FLOAT, &a.val_split, "F", "validation fraction for fine-tuning (0.1)"},
        {"seed", BZ_OPT_INT, &a.seed, "N", "random seed (1)"},
        {"out", BZ_OPT_STRING, &a.out, "FILE", "the model (dbm.safetensors)"},
        BZ_CLI_TRAIN_STATE_OPTS(a),
        BZ_CLI_TRAIN_REPORT_OPTS(a),
        {0},
    };
    const char *pos[1];
    size_t npos;
    int pr = bz_args_parse("train dbm", "--data D --layers N,N[,N] --out FILE [options]", opts,
                           argc, argv, pos, 0, &npos);
    if (pr)
        return pr > 0 ? 0 : 2;
    size_t sizes[BZ_DBM_MAX_HIDDEN + 1], L;
    if (bz_layers_parse(a.layers, 2, BZ_DBM_MAX_HIDDEN, sizes + 1, &L)) {
        fprintf(stderr, "boltzcl train dbm: --layers takes 2 or 3 positive sizes separated by "
                        "single commas, e.g. 500,1000; got '%s'\n", a.layers);
        return 2;
    }
    const char *c = "train dbm";
    if (bz_args_bad(c, !(a.lr > 0), "--lr", "> 0") ||
        bz_args_bad(c, !(a.lr_rbm > 0), "--lr-rbm", "> 0") ||
        bz_args_bad(c, !(a.ft_lr > 0), "--ft-lr", "> 0") ||
        bz_args_bad(c, !(a.lr_decay >= 0), "--lr-decay", ">= 0") ||
        bz_args_bad(c, !(a.weight_decay >= 0), "--weight-decay", ">= 0") ||
        bz_args_bad(c, a.batch == 0, "--batch", ">= 1") ||
        bz_args_bad(c, a.chains == 0 || a.chains > (1u << 20), "--chains", "between 1 and 2^20") ||
        bz_args_bad(c, a.mf_iters == 0 || a.mf_iters > 1000, "--mf-iters", "between 1 and 1000") ||
        bz_args_bad(c, a.gibbs == 0 || a.gibbs > 50, "--gibbs-steps", "between 1 and 50") ||
        bz_args_bad(c, a.ft_batch == 0, "--ft-batch", ">= 1") ||
        bz_args_bad(c, a.seed < 0, "--seed", ">= 0") ||
        bz_args_bad(c, !(a.val_split >= 0 && a.val_split < 1), "--val-split", "in [0, 1)") ||
        bz_args_bad(c, a.epochs > (1u << 20), "--epochs", "at most 2^20") ||
        bz_args_bad(c, a.pretrain_epochs > (1u << 20), "--pretrain-epochs", "at most 2^20") ||
        bz_args_bad(c, a.finetune_epochs > (1u << 20), "--finetune-epochs", "at most 2^20") ||
        bz_args_bad(c, a.epochs == 0 && a.pretrain_epochs == 0, "--epochs or --pretrain-epochs",
                    ">= 1"))
        return 2;
    bz_prep prep = {.scale = true};
    if (bz_cli_parse_binarize("train dbm", a.binarize, &prep))
        return 2;
    if (prep.binarize == BZ_BIN_STOCHASTIC) {
        fprintf(stderr, "boltzcl train dbm: --binarize stochastic is not supported for DBMs; "
                        "use threshold or none\n");
        return 2;
    }
    char ckpt[1100];
    bz_cli_checkpoint_path(a.checkpoint, a.out, ckpt, sizeof ckpt);
    int files_rc = bz_cli_check_files(
        "train dbm", (const bz_file_arg[]){{"--data", a.data}, {"--test", a.test}, {0}},
        (const bz_file_arg[]){{"--out", a.out}, {"--checkpoint", ckpt}, {"--log", a.log}, {0}},
        true);
    if (files_rc)
        return files_rc;
    bz_dataset all = {0}, tr = {0}, va = {0}, te = {0};
    bz_context *ctx = NULL;
    bz_dbm *d = NULL;
    bz_trainer *trainer = NULL;
    FILE *logf = NULL;
    int rc = 1;
    bz_status st = BZ_OK;
    if (bz_cli_load("train dbm", a.data, &prep, &all))
        return 1;
    if (a.rows && a.rows < all.n)
        all.n = a.rows;
    bool ft = a.finetune_epochs > 0;
    if (ft && (!all.labels || all.n_classes < 2)) {
        fprintf(stderr, "boltzcl train dbm: --finetune-epochs needs labelled data; %s has none\n",
                all.name);
        goto out;
    }
    if (a.test && ft) {
        if (bz_cli_load("train dbm", a.test, &prep, &te))
            goto out;
        if (!te.labels || te.dim != all.dim || te.n_classes > all.n_classes) {
            fprintf(stderr, "boltzcl train dbm: test data %s needs labels of the training "
                            "classes and %zu values per row\n", te.name, all.dim);
            goto out;
        }
    }
    bz_error err = {0};
    if (bz_dataset_split(&all, ft ? a.val_split : 0.0, (uint64_t)a.seed, &tr, &va, &err)) {
        fprintf(stderr, "boltzcl train dbm: %s\n", err.msg);
        goto out;
    }
    sizes[0] = all.dim;
    if (!(ctx = bz_cli_open(a.device, a.quiet)))
        goto out;
    if ((st = bz_dbm_create(ctx, sizes, L, (uint64_t)a.seed, &d)))
        goto fail;
    char hbuf[64], wbuf[64], mbuf[64];
    snprintf(hbuf, sizeof hbuf, "%zu", all.height);
    snprintf(wbuf, sizeof wbuf, "%zu", all.width);
    snprintf(mbuf, sizeof mbuf, "%zu", a.mf_iters);
    if ((st = bz_dbm_set_meta(d, "image_height", hbuf)) ||
        (st = bz_dbm_set_meta(d, "image_width", wbuf)) ||
        (st = bz_dbm_set_meta(d, "mf_iters", mbuf)) ||
        (st = bz_dbm_set_meta(d, "preprocess_scale", "yes")) ||
        (st = bz_dbm_set_meta(d, "preprocess_binarize", a.binarize)) ||
        (st = bz_dbm_set_meta(d, "data", a.data)))
        goto fail;
    if (!a.quiet)
        fprintf(stderr, "DBM %zu-%s on %s: %zu training rows%s\n", all.dim, a.layers,
                bz_device_name(ctx), tr.n, ft ? ", then a classifier" : "");
    bz_dbm_train_job job;
    memset(&job, 0, sizeof job);
    job.x = tr.x;
    job.n = tr.n;
    bz_rbm_train_options_init(&job.rbm);
    job.rbm.batch_size = a.batch;
    job.rbm.learning_rate = (float)a.lr_rbm;
    job.rbm.seed = (uint64_t)a.seed;
    job.pretrain_epochs = (unsigned)a.pretrain_epochs;
    bz_dbm_train_options_init(&job.joint);
    job.joint.batch_size = a.batch;
    job.joint.chains = a.chains;
    job.joint.mf_iters = (unsigned)a.mf_iters;
    job.joint.gibbs_steps = (unsigned)a.gibbs;
    job.joint.learning_rate = (float)a.lr;
    job.joint.lr_decay = (float)a.lr_decay;
    job.joint.weight_decay = (float)a.weight_decay;
    job.joint.seed = (uint64_t)a.seed;
    job.epochs = (unsigned)a.epochs;
    bz_dbn_finetune_result fr = {0};
    if (ft) {
        job.finetune = 1;
        job.labels = tr.labels;
        job.xv = va.x;
        job.labels_v = va.labels;
        job.nv = va.n;
        job.n_classes = (size_t)all.n_classes;
        job.mf_iters = (unsigned)a.mf_iters;
        bz_dbn_sgd_init(&job.sgd);
        job.sgd.batch_size = a.ft_batch;
        job.sgd.learning_rate = (float)a.ft_lr;
        job.sgd.epochs = (unsigned)a.finetune_epochs;
        job.sgd.patience = (unsigned)a.patience;
        job.sgd.seed = (uint64_t)a.seed;
        job.ft_result = &fr;
    }
    if ((st = bz_dbm_trainer_make(d, &job, &trainer)))
        goto fail;
    if (bz_cli_train_check_space("dbm", trainer, "--out", a.out, ckpt))
        goto out;
    /* What makes a run this run (the joint epochs may be extended). */
    char fp[1024] = "", dfp[64];
    bz_train_data_fingerprint(all.x, all.n, all.dim, ft ? all.labels : NULL, dfp, sizeof dfp);
    bz_cli_fp_add(fp, sizeof fp, "layers", "%s", a.layers);
    bz_cli_fp_add(fp, sizeof fp, "pretrain_epochs", "%zu", a.pretrain_epochs);
    bz_cli_fp_add(fp, sizeof fp, "joint", "%d", a.epochs > 0);
    bz_cli_fp_add(fp, sizeof fp, "mf_iters", "%zu", a.mf_iters);
    bz_cli_fp_add(fp, sizeof fp, "chains", "%zu", a.chains);
    bz_cli_fp_add(fp, sizeof fp, "gibbs_steps", "%zu", a.gibbs);
    bz_cli_fp_add(fp, sizeof fp, "batch", "%zu", a.batch);
    bz_cli_fp_add(fp, sizeof fp, "lr", "%.9g", a.lr);
    bz_cli_fp_add(fp, sizeof fp, "lr_decay", "%.9g", a.lr_decay);
    bz_cli_fp_add(fp, sizeof fp, "lr_rbm", "%.9g", a.lr_rbm);
    bz_cli_fp_add(fp, sizeof fp, "weight_decay", "%.9g", a.weight_decay);
    bz_cli_fp_add(fp, sizeof fp, "binarize", "%s", a.binarize);
    bz_cli_fp_add(fp, sizeof fp, "finetune", "%zu,%.9g,%zu,%zu,%.9g", a.finetune_epochs,
                  a.ft_lr, a.ft_batch, a.patience, ft ? a.val_split : 0.0);
    bz_cli_fp_add(fp, sizeof fp, "seed", "%ld", a.seed);
    bz_cli_fp_add(fp, sizeof fp, "data", "%s", dfp);
    if (a.log && bz_cli_train_log_open("train dbm", a.log, a.resume != NULL, &logf))
        goto out;
    bz_cli_progress ps;
    bz_cli_progress_init(&ps, a.quiet, -1);
    ps.log = logf;
    bz_train_options to;
    bz_cli_train_options(&to, ckpt, a.resume, a.overwrite, fp);
    phase_secs secs = {&ps, 0, 0, 0};
    to.progress = on_progress;
    to.progress_user = &secs;
    bz_cli_train_signals();
    bz_train_result res;
    double t0 = bz_now();
    st = bz_trainer_run(trainer, &to, &res);
    double train_s = bz_now() - t0;
    if (st) {
        rc = bz_cli_train_outcome("train dbm", ctx, st, &res, ckpt, true);
        goto out;
    }
    double test_acc = NAN;
    if (ft && a.test && isnan(test_acc = accuracy(d, &te, (unsigned)a.mf_iters, &st))) {
        st = st ? st : BZ_E_INTERNAL;
        goto fail;
    }
    if ((st = bz_dbm_save(d, a.out)))
        goto fail;
    if (!a.quiet) {
        fprintf(stderr, "pretraining %.1f s, joint training %.1f s", secs.pre, secs.joint);
        if (ft)
            fprintf(stderr, ", classifier val acc %.4f (epoch %u)", fr.best_val_accuracy,
                    fr.best_epoch);
        if (!isnan(test_acc))
            fprintf(stderr, ", test acc %.4f", test_acc);
        fprintf(stderr, "; wrote %s\n", a.out);
    }
    if (a.json) {
        json_object *j = json_object_new_object();
        json_object_object_add(j, "model", json_object_new_string("dbm"));
        json_object_object_add(j, "layers", json_object_new_string(a.layers));
        json_object_object_add(j, "pretrain_epochs", json_object_new_int((int)a.pretrain_epochs));
        json_object_object_add(j, "epochs", json_object_new_int((int)a.epochs));
        json_object_object_add(j, "seconds", json_object_new_double(train_s));
        /* the epochs of this run (a resumed run's own) */
        json_object_object_add(j, "pretrain_seconds", json_object_new_double(secs.pre));
        json_object_object_add(j, "joint_seconds", json_object_new_double(secs.joint));
        json_object_object_add(j, "joint_seconds_per_epoch",
                               json_object_new_double(secs.joint_epochs
                                                          ? secs.joint / secs.joint_epochs
                                                          : 0));
        if (ft)
            json_object_object_add(j, "val_accuracy", isfinite(fr.best_val_accuracy)
                                                          ? json_object_new_double(fr.best_val_accuracy)
                                                          : NULL);
        if (!isnan(test_acc))
            json_object_object_add(j, "test_accuracy", json_object_new_double(test_acc));
        json_object_object_add(j, "device", json_object_new_string(bz_device_name(ctx)));
        json_object_object_add(j, "out", json_object_new_string(a.out));
        bz_cli_print_json(j);
        json_object_put(j);
    }
    rc = 0;
    goto out;
fail:
    bz_cli_fail("train dbm", ctx, st);
out:
    bz_trainer_free(trainer);
    if (logf)
        fclose(logf);
    bz_dbm_free(d);
    bz_context_free(ctx);
    bz_dataset_free(&all);
    bz_dataset_free(&tr);
    bz_dataset_free(&va);
    bz_dataset_free(&te);
    return rc;
}

/* ---- eval on a DBM ---- */

int bz_cmd_eval_dbm(int argc, char **argv)
{
    const char *model = NULL, *data = NULL, *device = NULL, *base = NULL;
    bool json = false, ais = false;
    size_t runs = 100, betas = 10000, limit = 0, iters = 0;
    long seed = 1;
    const bz_opt opts[] = {
        {"model", BZ_OPT_STRING, &model, "FILE", "the DBM to evaluate"},
        {"data", BZ_OPT_STRING, &data, "D", "data (default: the model's test split)"},
        {"rows", BZ_OPT_SIZE, &limit, "N", "use only the first N rows"},
        {"ais", BZ_OPT_FLAG, &ais, NULL, "estimate log Z by AIS; report the log-likelihood bound"},
        {"ais-runs", BZ_OPT_SIZE, &runs, "N", "AIS runs (100)"},
        {"ais-betas", BZ_OPT_SIZE, &betas, "N", "AIS intermediate distributions (10000)"},
        {"ais-base", BZ_OPT_STRING, &base, "D", "data for the base-rate model (default: --data)"},
        {"mf-iters", BZ_OPT_SIZE, &iters, "N", "mean-field sweeps (the model's)"},
        {"seed", BZ_OPT_INT, &seed, "N", "random seed (1)"},
        {"json", BZ_OPT_FLAG, &json, NULL, "print the figures as JSON on stdout"},
        {"device", BZ_OPT_STRING, &device, "SEL", "device (P:D, gpu, cpu, or name part)"},
        {0},
    };
    const char *pos[1];
    size_t npos;
    int pr = bz_args_parse("eval", "--model DBM [--data D] [--ais] [options]", opts, argc, argv,
                           pos, 0, &npos);
    if (pr)
        return pr > 0 ? 0 : 2;
    if (!model || runs == 0 || betas < 10 || seed < 0 || iters > 1000) {
        fprintf(stderr, "boltzcl eval: --model is required; --ais-runs >= 1, --ais-betas >= 10, "
                        "--seed >= 0, --mf-iters <= 1000\n");
        return 2;
    }
    bz_context *ctx = bz_cli_open(device, json);
    if (!ctx)
        return 1;
    int rc = 1;
    bz_dataset ds = {0}, bs = {0};
    json_object *o = json_object_new_object();
    bz_model *mh = bz_cli_load_model("eval", ctx, model, "dbm");
    bz_dbm *d = bz_model_dbm(mh);
    if (!d)
        goto out;
    if (!data) {
        data = bz_cli_default_eval_data("eval", bz_dbm_get_meta(d, "data"));
        if (!data)
            goto out;
    }
    if (bz_cli_load_for("eval", data, mh, &ds))
        goto out;
    size_t n = limit && limit < ds.n ? limit : ds.n;
    unsigned it = iters ? (unsigned)iters : model_mf_iters(d);
    double bound;
    double t0 = bz_now();
    bz_status st = bz_dbm_mean_bound(d, ds.x, n, it, 1e-5f, &bound);
    if (st) {
        bz_cli_fail("eval", ctx, st);
        goto out;
    }
    FILE *txt = json ? stderr : stdout;
    fprintf(txt, "model %s: DBM", model);
    for (size_t l = 0; l <= d->L; l++)
        fprintf(txt, "%c%zu", l ? '-' : ' ', d->s[l]);
    fprintf(txt, ", %zu rows of %s\n  E_q[-E] + H(q)     %.4f  (mean field, %u sweeps at most, %.1f s)\n",
            n, data, bound, it, bz_now() - t0);
    json_object_object_add(o, "rows", json_object_new_int64((int64_t)n));
    json_object_object_add(o, "mean_unnormalized_bound", json_object_new_double(bound));
    /* With the exact log Z every derived figure uses it (log_z_used). */
    double lz = NAN, ll = NAN;
    if (bz_dbm_exact_log_z(d, &lz) == BZ_OK) {
        fprintf(txt, "  exact_log_z        %.4f\n", lz);
        json_object_object_add(o, "exact_log_z", json_object_new_double(lz));
        if (bz_dbm_exact_mean_log_p(d, ds.x, n, lz, &ll) == BZ_OK) {
            fprintf(txt, "  exact avg log-lik  %.4f  (enumerating the odd layers)\n", ll);
            json_object_object_add(o, "exact_avg_log_likelihood", json_object_new_double(ll));
        }
    }
    double lz_used = lz;
    if (ais) {
        const bz_dataset *bd = &ds;
        if (base) {
            if (bz_cli_load_for("eval", base, mh, &bs))
                goto out;
            bd = &bs;
        }
        size_t nb = bd == &ds ? n : bd->n;
        bz_ais_options ao;
        bz_ais_options_init(&ao);
        ao.runs = (unsigned)runs;
        ao.betas = (unsigned)betas;
        ao.seed = (uint64_t)seed;
        bz_ais_result res, rev;
        t0 = bz_now();
        if ((st = bz_dbm_ais(d, bd->x, nb, &ao, &res))) {
            bz_cli_fail("eval", ctx, st);
            goto out;
        }
        double secs = bz_now() - t0;
        t0 = bz_now();
        if ((st = bz_dbm_ais_reverse(d, ds.x, n, bd->x, nb, it, &ao, &rev))) {
            bz_cli_fail("eval", ctx, st);
            goto out;
        }
        double rsecs = bz_now() - t0;
        bz_cli_ais_report(txt, o, &res, &rev, runs, betas, secs, rsecs);
        if (isnan(lz_used))
            lz_used = res.log_z;
        fprintf(txt, "  avg_log_likelihood >= %.4f  (variational lower bound, %s log Z)\n",
                bound - lz_used, isnan(lz) ? "AIS" : "the exact");
        if (isnan(lz))
            fprintf(txt, "  ... >= %.4f with the reverse estimate of log Z (conservative)\n",
                    bound - rev.log_z);
        json_object_object_add(o, "avg_log_likelihood_bound",
                               json_object_new_double(bound - lz_used));
        json_object_object_add(o, "avg_log_likelihood_bound_reverse",
                               json_object_new_double(bound - rev.log_z));
        json_object_object_add(o, "ais_seconds", json_object_new_double(secs));
        json_object_object_add(o, "reverse_ais_seconds", json_object_new_double(rsecs));
    } else if (!isnan(lz)) {
        fprintf(txt, "  avg_log_likelihood >= %.4f  (variational lower bound, the exact log Z)\n",
                bound - lz);
        json_object_object_add(o, "avg_log_likelihood_bound", json_object_new_double(bound - lz));
    }
    json_object_object_add(o, "log_z_used", json_object_new_string(
                                                !isnan(lz) ? "exact" : ais ? "ais" : "none"));
    if (json)
        bz_cli_print_json(o);
    rc = 0;
out:
    json_object_put(o);
    bz_dataset_free(&ds);
    bz_dataset_free(&bs);
    bz_model_free(mh);
    bz_context_free(ctx);
    return rc;
}

/* ---- sample, transform, predict ---- */

int bz_cmd_sample_dbm(int argc, char **argv)
{
    const char *model = NULL, *out = NULL, *device = NULL;
    size_t n = 100, steps = 1000;
    long seed = 1;
    const bz_opt opts[] = {
        {"model", BZ_OPT_STRING, &model, "FILE", "the DBM"},
        {"out", BZ_OPT_STRING, &out, "PNG", "grid of Gibbs samples (visible means)"},
        {"n", BZ_OPT_SIZE, &n, "N", "number of chains (100)"},
        {"steps", BZ_OPT_SIZE, &steps, "N", "layer-parity Gibbs sweeps from noise (1000)"},
        {"seed", BZ_OPT_INT, &seed, "N", "random seed (1)"},
        {"device", BZ_OPT_STRING, &device, "SEL", "device (P:D, gpu, cpu, or name part)"},
        {0},
    };
    const char *pos[1];
    size_t npos;
    int pr = bz_args_parse("sample", "--model DBM --out PNG [options]", opts, argc, argv, pos, 0,
                           &npos);
    if (pr)
        return pr > 0 ? 0 : 2;
    if (!model || !out || n == 0 || n > 10000 || steps == 0 || steps > 1000000 || seed < 0) {
        fprintf(stderr, "boltzcl sample: --model and --out are required for a DBM; "
                        "1 <= --n <= 10000, 1 <= --steps <= 10^6, --seed >= 0\n");
        return 2;
    }
    int files_rc = bz_cli_check_files("sample", (const bz_file_arg[]){{"--model", model}, {0}},
                                (const bz_file_arg[]){{"--out", out}, {0}}, false);
    if (files_rc)
        return files_rc;
    bz_context *ctx = bz_cli_open(device, false);
    if (!ctx)
        return 1;
    int rc = 1;
    float *x = NULL;
    bz_model *mh = bz_cli_load_model("sample", ctx, model, "dbm");
    bz_dbm *d = bz_model_dbm(mh);
    if (!d)
        goto out;
    if (!(x = malloc(n * d->s[0] * sizeof *x))) {
        fprintf(stderr, "boltzcl sample: out of memory\n");
        goto out;
    }
    bz_status st = bz_dbm_sample(d, n, (unsigned)steps, (uint64_t)seed, x);
    if (st) {
        bz_cli_fail("sample", ctx, st);
        goto out;
    }
    const char *h = bz_dbm_get_meta(d, "image_height"), *w = bz_dbm_get_meta(d, "image_width");
    size_t th, tw;
    bz_cli_tile_shape(d->s[0], h ? strtoul(h, NULL, 10) : 0, w ? strtoul(w, NULL, 10) : 0, &th,
                      &tw);
    bz_error err = {0};
    if (bz_png_write_tiles(out, x, n, th, tw, (size_t)ceil(sqrt((double)n)), 0, &err)) {
        fprintf(stderr, "boltzcl sample: %s\n", err.msg);
        goto out;
    }
    fprintf(stderr, "wrote %zu DBM samples (%zu Gibbs sweeps) to %s\n", n, steps, out);
    rc = 0;
out:
    free(x);
    bz_model_free(mh);
    bz_context_free(ctx);
    return rc;
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}

int bz_cmd_transform_dbm(int argc, char **argv)
{
    const char *model = NULL, *data = NULL, *out = NULL, *device = NULL;
    size_t layer = 0, iters = 0;
    const bz_opt opts[] = {
        {"model", BZ_OPT_STRING, &model, "FILE", "the DBM"},
        {"data", BZ_OPT_STRING, &data, "D", "rows to transform"},
        {"out", BZ_OPT_STRING, &out, "FILE", "mean-field posteriors: .npy or .csv"},
        {"layer", BZ_OPT_SIZE, &layer, "L", "only hidden layer L (default: all, side by side)"},
        {"mf-iters", BZ_OPT_SIZE, &iters, "N", "mean-field sweeps (the model's)"},
        {"device", BZ_OPT_STRING, &device, "SEL", "device (P:D, gpu, cpu, or name part)"},
        {0},
    };
    const char *pos[1];
    size_t npos;
    int pr = bz_args_parse("transform", "--model DBM --data D --out FILE [--layer L]", opts, argc,
                           argv, pos, 0, &npos);
    if (pr)
        return pr > 0 ? 0 : 2;
    if (!model || !data || !out || (!ends_with(out, ".npy") && !ends_with(out, ".csv")) ||
        iters > 1000) {
        fprintf(stderr, "boltzcl transform: --model, --data and --out (.npy or .csv) are "
                        "required; --mf-iters <= 1000\n");
        return 2;
    }
    int files_rc = bz_cli_check_files("transform",
                                (const bz_file_arg[]){{"--model", model}, {"--data", data}, {0}},
                                (const bz_file_arg[]){{"--out", out}, {0}}, false);
    if (files_rc)
        return files_rc;
    bz_context *ctx = bz_cli_open(device, false);
    if (!ctx)
        return 1;
    int rc = 1;
    bz_dataset ds = {0};
    float *h = NULL;
    bz_model *mh = bz_cli_load_model("transform", ctx, model, "dbm");
    bz_dbm *d = bz_model_dbm(mh);
    if (!d || bz_cli_load_for("transform", data, mh, &ds))
        goto out;
    if (layer > d->L) {
        fprintf(stderr, "boltzcl transform: --layer %zu, but the DBM has %zu hidden layers\n",
                layer, d->L);
        goto out;
    }
    size_t width = 0;
    for (size_t l = 1; l <= d->L; l++)
        width += !layer || l == layer ? d->s[l] : 0;
    if (!(h = malloc(ds.n * width * sizeof *h))) {
        fprintf(stderr, "boltzcl transform: out of memory\n");
        goto out;
    }
    unsigned it = iters ? (unsigned)iters : model_mf_iters(d);
    bz_status st = layer ? bz_dbm_transform_layer(d, ds.x, ds.n, it, 1e-5f, layer, h)
                         : bz_dbm_transform(d, ds.x, ds.n, it, 1e-5f, h);
    if (st) {
        bz_cli_fail("transform", ctx, st);
        goto out;
    }
    bz_error err = {0};
    st = ends_with(out, ".npy") ? bz_npy_write_f32_2d(out, h, ds.n, width, &err)
                                : bz_csv_write(out, h, ds.n, width, ds.labels, 1, &err);
    if (st) {
        fprintf(stderr, "boltzcl transform: %s\n", err.msg);
        goto out;
    }
    fprintf(stderr, "wrote %zu x %zu mean-field posteriors to %s\n", ds.n, width, out);
    rc = 0;
out:
    free(h);
    bz_dataset_free(&ds);
    bz_model_free(mh);
    bz_context_free(ctx);
    return rc;
}

int bz_cmd_predict_dbm(int argc, char **argv)
{
    const char *model = NULL, *data = NULL, *out = NULL, *device = NULL;
    bool json = false;
    const bz_opt opts[] = {
        {"model", BZ_OPT_STRING, &model, "FILE", "a DBM trained with --finetune-epochs"},
        {"data", BZ_OPT_STRING, &data, "D", "rows to classify (labels, if present, are scored)"},
        {"out", BZ_OPT_STRING, &out, "CSV", "class per row"},
        {"json", BZ_OPT_FLAG, &json, NULL, "print the figures as JSON on stdout"},
        {"device", BZ_OPT_STRING, &device, "SEL", "device (P:D, gpu, cpu, or name part)"},
        {0},
    };
    const char *pos[1];
    size_t npos;
    int pr = bz_args_parse("predict", "--model DBM --data D [--out CSV]", opts, argc, argv, pos, 0,
                           &npos);
    if (pr)
        return pr > 0 ? 0 : 2;
    if (!model || !data) {
        fprintf(stderr, "boltzcl predict: --model and --data are required\n");
        return 2;
    }
    int files_rc = bz_cli_check_files("predict",
                                (const bz_file_arg[]){{"--model", model}, {"--data", data}, {0}},
                                (const bz_file_arg[]){{"--out", out}, {0}}, false);
    if (files_rc)
        return files_rc;
    bz_context *ctx = bz_cli_open(device, json);
    if (!ctx)
        return 1;
    int rc = 1;
    bz_dataset ds = {0};
    float *p = NULL;
    bz_model *mh = bz_cli_load_model("predict", ctx, model, "dbm");
    bz_dbm *d = bz_model_dbm(mh);
    if (!d || bz_cli_load_for("predict", data, mh, &ds))
        goto out;
    if (!d->clf) {
        fprintf(stderr, "boltzcl predict: %s is a DBM without a classifier; train it with "
                        "labelled data and --finetune-epochs N\n", model);
        goto out;
    }
    size_t K = d->clf->K, n = ds.n, hit = 0;
    if (!(p = malloc(n * K * sizeof *p))) {
        fprintf(stderr, "boltzcl predict: out of memory\n");
        goto out;
    }
    bz_status st = bz_dbm_predict_proba(d, ds.x, n, model_mf_iters(d), p);
    if (st) {
        bz_cli_fail("predict", ctx, st);
        goto out;
    }
    /* Written beside and renamed over, like every output: a failure leaves
     * an earlier file of predictions as it was. */
    bz_atomic_file af = {0};
    bz_error aerr = {0};
    if (out && bz_atomic_open(&af, out, &aerr)) {
        fprintf(stderr, "boltzcl predict: %s\n", aerr.msg);
        goto out;
    }
    FILE *f = out ? af.fp : NULL;
    if (f)
        fprintf(f, "class\n");
    for (size_t i = 0; i < n; i++) {
        size_t arg = 0;
        for (size_t j = 1; j < K; j++)
            if (p[i * K + j] > p[i * K + arg])
                arg = j;
        if (f)
            fprintf(f, "%zu\n", arg);
        else if (!ds.labels && !json)
            printf("%zu\n", arg);
        hit += ds.labels && (size_t)ds.labels[i] == arg;
    }
    if (f && bz_atomic_commit(&af, &aerr)) {
        fprintf(stderr, "boltzcl predict: %s\n", aerr.msg);
        goto out;
    }
    double acc = ds.labels ? (double)hit / (double)n : NAN;
    if (json) {
        json_object *o = json_object_new_object();
        json_object_object_add(o, "rows", json_object_new_int64((int64_t)n));
        json_object_object_add(o, "n_classes", json_object_new_int((int)K));
        if (ds.labels)
            json_object_object_add(o, "accuracy", json_object_new_double(acc));
        bz_cli_print_json(o);
        json_object_put(o);
    } else if (ds.labels) {
        printf("accuracy %.4f (%zu of %zu)\n", acc, hit, n);
    }
    rc = 0;
out:
    free(p);
    bz_dataset_free(&ds);
    bz_model_free(mh);
    bz_context_free(ctx);
    return rc;
}
