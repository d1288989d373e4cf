/*
 * boltzcl train rbm: the main job. Loads and prepares data, trains with
 * CD-k or PCD, reports per-epoch metrics (reconstruction error, the
 * free-energy gap between training and validation data, pseudo-log-
 * likelihood), checkpoints every epoch atomically, and writes the model and
 * pictures at the end.
 */
#include "cli/cli.h"
#include "cli/cli_dist.h"
#include "cli/files.h"
#include "cli/rbm_common.h"
#include "cli/train_run.h"
#include "models/rbm_trainer.h"

#include <signal.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct train_args {
    const char *data, *device, *out, *samples, *filters, *recon, *log, *resume, *visible,
        *binarize, *checkpoint;
    size_t hidden, epochs, batch, k, pll_rows;
    double lr, momentum, final_momentum, weight_decay, sparsity_target, sparsity_cost, lr_decay,
        val_split;
    long seed, momentum_epochs;
    bool pcd, json, no_scale, quiet, distributed, no_pad, overwrite;
} train_args;

/* "train", or "train (rank R of N)" in a distributed run, for messages. */
static char cmd_name[64] = "train";

static int fail_ctx(bz_context *ctx, bz_status st)
{
    return bz_cli_fail(cmd_name, ctx, st);
}

static bz_status set_meta_num(bz_rbm *r, const char *key, double v)
{
    char b[64];
    snprintf(b, sizeof b, "%.9g", v);
    return bz_rbm_set_meta(r, key, b);
}

static int train_rbm_with(void *args, bz_comm *comm);

/* The last epoch's figures, for --json, taken from what the trainer reports. */
typedef struct last_figures {
    bz_cli_progress *bar;
    double recon_mse, sps, gap, pseudo_ll;
} last_figures;

static double jget(json_object *o, const char *key)
{
    json_object *v;
    return json_object_object_get_ex(o, key, &v) && v && !json_object_is_type(v, json_type_null)
               ? json_object_get_double(v)
               : NAN;
}

/* JSON has no NaN: null. */
static json_object *jnum(double v)
{
    return isfinite(v) ? json_object_new_double(v) : NULL;
}

static void on_progress(void *user, const bz_train_progress *p)
{
    last_figures *l = user;
    bz_cli_progress_cb(l->bar, p);
    if (!p->epoch_done)
        return;
    json_object *o = json_tokener_parse(p->metrics_json);
    if (!o)
        return;
    l->recon_mse = jget(o, "recon_mse");
    l->sps = jget(o, "samples_per_s");
    l->gap = jget(o, "free_energy_gap");
    l->pseudo_ll = jget(o, "pseudo_ll");
    json_object_put(o);
}

static int train_rbm(int argc, char **argv)
{
    train_args a = {
        .data = "fashion-mnist", .out = "rbm.safetensors", .visible = "bernoulli",
        .binarize = "none", .hidden = 500, .epochs = 10, .batch = 100, .k = 1,
        .pll_rows = 2000, .lr = NAN, .momentum = NAN, .final_momentum = NAN,
        .weight_decay = 2e-4, .sparsity_cost = 0.01, .val_split = 0.05, .seed = 1,
        .momentum_epochs = 5,
    };
    const bz_opt opts[] = {
        {"data", BZ_OPT_STRING, &a.data, "D", "fashion-mnist, fashion-mnist:test, an IDX or CSV file"},
        {"hidden", BZ_OPT_SIZE, &a.hidden, "N", "hidden units (500)"},
        {"epochs", BZ_OPT_SIZE, &a.epochs, "N", "epochs (10)"},
        {"batch", BZ_OPT_SIZE, &a.batch, "N", "minibatch size (100)"},
        {"lr", BZ_OPT_FLOAT, &a.lr, "F", "learning rate (0.05; 0.001 for gaussian visible units)"},
        {"k", BZ_OPT_SIZE, &a.k, "N", "Gibbs steps per update, CD-k (1)"},
        {"pcd", BZ_OPT_FLAG, &a.pcd, NULL, "persistent contrastive divergence"},
        {"no-pad", BZ_OPT_FLAG, &a.no_pad, NULL,
         "train at the model's sizes, not padded to the GEMM tiles"},
        {"visible", BZ_OPT_STRING, &a.visible, "T", "bernoulli or gaussian (standardised data)"},
        {"momentum", BZ_OPT_FLOAT, &a.momentum, "F", "initial momentum (0.5; 0 with --pcd)"},
        {"final-momentum", BZ_OPT_FLOAT, &a.final_momentum, "F",
         "momentum later on (0.9; 0 with --pcd)"},
        {"momentum-epochs", BZ_OPT_INT, &a.momentum_epochs, "N", "epochs at the initial momentum (5)"},
        {"weight-decay", BZ_OPT_FLOAT, &a.weight_decay, "F", "L2 weight decay (2e-4)"},
        {"sparsity-target", BZ_OPT_FLOAT, &a.sparsity_target, "F", "mean hidden activation target (off)"},
        {"sparsity-cost", BZ_OPT_FLOAT, &a.sparsity_cost, "F", "weight of the sparsity penalty (0.01)"},
        {"lr-decay", BZ_OPT_FLOAT, &a.lr_decay, "F", "lr / (1 + F * epoch) (0)"},
        {"binarize", BZ_OPT_STRING, &a.binarize, "M", "none, threshold, stochastic or a threshold"},
        {"no-scale", BZ_OPT_FLAG, &a.no_scale, NULL, "do not scale pixel values to [0, 1]"},
        {"val-split", BZ_OPT_FLOAT, &a.val_split, "F", "fraction held out for monitoring (0.05)"},
        {"pll-rows", BZ_OPT_SIZE, &a.pll_rows, "N", "validation rows for pseudo-likelihood (2000)"},
        {"seed", BZ_OPT_INT, &a.seed, "N", "random seed (1)"},
        {"out", BZ_OPT_STRING, &a.out, "FILE", "model file (rbm.safetensors)"},
        BZ_CLI_TRAIN_STATE_OPTS(a),
        {"samples", BZ_OPT_STRING, &a.samples, "PNG", "write Gibbs samples from noise"},
        {"filters", BZ_OPT_STRING, &a.filters, "PNG", "write the learned filters"},
        {"recon", BZ_OPT_STRING, &a.recon, "PNG", "write validation images and reconstructions"},
        BZ_CLI_TRAIN_REPORT_OPTS(a),
        {"distributed", BZ_OPT_FLAG, &a.distributed, NULL,
         "data-parallel over the ranks of mpirun -np N (one device each; batch stays global)"},
        {0},
    };
    const char *pos[1];
    size_t npos;
    int pr = bz_args_parse("train rbm", "[options]", opts, argc, argv, pos, 0, &npos);
    if (pr)
        return pr > 0 ? 0 : 2;
    return bz_cli_run_ranks("train", a.distributed, train_rbm_with, &a);
}

static int train_rbm_with(void *args, bz_comm *comm)
{
    train_args a = *(const train_args *)args;
    const bool root = !comm || comm->rank == 0;
    if (comm)
        snprintf(cmd_name, sizeof cmd_name, "train (rank %d of %d)", comm->rank, comm->size);
    if (!root)
        a.quiet = true;

    const bz_units *vis = bz_units_by_name(a.visible);
    if (!vis) {
        fprintf(stderr, "boltzcl train: --visible must be bernoulli or gaussian, not '%s'\n",
                a.visible);
        return 2;
    }
    if (isnan(a.lr)) /* not given; a negative one is refused below, not replaced */
        a.lr = vis->binary ? 0.05 : 0.001;
    /* Persistent chains track the model only while the weights move slowly:
     * with momentum 0.9 they fell behind (all of Fashion-MNIST, 25 epochs:
     * AIS log-likelihood -788 against CD-1's -213), without it PCD came out
     * level with CD-1. So PCD runs without momentum unless asked. */
    if (isnan(a.momentum))
        a.momentum = a.pcd ? 0.0 : 0.5;
    if (isnan(a.final_momentum))
        a.final_momentum = a.pcd ? 0.0 : 0.9;
    const char *c = "train";
    if (bz_args_bad(c, a.hidden == 0, "--hidden", ">= 1") ||
        bz_args_bad(c, a.epochs == 0, "--epochs", ">= 1") ||
        bz_args_bad(c, a.batch == 0, "--batch", ">= 1") ||
        bz_args_bad(c, a.k == 0 || a.k > 100, "--k", "between 1 and 100") ||
        bz_args_bad(c, !(a.lr > 0), "--lr", "> 0") ||
        bz_args_bad(c, a.val_split < 0 || a.val_split >= 1, "--val-split", "in [0, 1)") ||
        bz_args_bad(c, a.momentum < 0 || a.momentum >= 1, "--momentum", "in [0, 1)") ||
        bz_args_bad(c, a.final_momentum < 0 || a.final_momentum >= 1, "--final-momentum",
                    "in [0, 1)") ||
        bz_args_bad(c, a.momentum_epochs < 0, "--momentum-epochs", ">= 0") ||
        bz_args_bad(c, a.weight_decay < 0, "--weight-decay", ">= 0") ||
        bz_args_bad(c, a.sparsity_target < 0 || a.sparsity_target >= 1, "--sparsity-target",
                    "in [0, 1)") ||
        bz_args_bad(c, a.sparsity_cost < 0, "--sparsity-cost", ">= 0") ||
        bz_args_bad(c, a.lr_decay < 0, "--lr-decay", ">= 0") ||
        bz_args_bad(c, a.seed < 0, "--seed", ">= 0"))
        return 2;
    bz_prep prep = {.scale = !a.no_scale};
    if (bz_cli_parse_binarize("train", a.binarize, &prep))
        return 2;
    if (!vis->binary && prep.binarize != BZ_BIN_NONE) {
        fprintf(stderr, "boltzcl train: --binarize makes no sense with gaussian visible units\n");
        return 2;
    }
    char ckpt[1100];
    bz_cli_checkpoint_path(a.checkpoint, a.out, ckpt, sizeof ckpt);
    /* Rank 0 alone writes: it checks every path and locks --out. */
    int files_rc = root ? bz_cli_check_files(
                        cmd_name, (const bz_file_arg[]){{"--data", a.data}, {0}},
                        (const bz_file_arg[]){{"--out", a.out}, {"--checkpoint", ckpt},
                                              {"--samples", a.samples}, {"--filters", a.filters},
                                              {"--recon", a.recon}, {"--log", a.log}, {0}},
                        true)
                  : 0;
    if (files_rc)
        return files_rc;

    bz_dataset all = {0}, tr = {0}, va = {0};
    if (bz_cli_load("train", a.data, &prep, &all))
        return 1;
    float *mean = NULL, *sd = NULL;
    if (!vis->binary) {
        mean = malloc(all.dim * sizeof *mean);
        sd = malloc(all.dim * sizeof *sd);
        if (!mean || !sd) {
            fprintf(stderr, "boltzcl train: out of memory\n");
            return 1;
        }
        bz_dataset_standardize(&all, mean, sd);
    }
    /* The data before the split, which --seed and --val-split make. */
    char dfp[64];
    bz_train_data_fingerprint(all.x, all.n, all.dim, NULL, dfp, sizeof dfp);
    bz_error err = {0};
    if (a.val_split > 0) {
        if (bz_dataset_split(&all, a.val_split, (uint64_t)a.seed, &tr, &va, &err)) {
            fprintf(stderr, "boltzcl train: %s\n", err.msg);
            return 1;
        }
        bz_dataset_free(&all);
    } else {
        tr = all;
    }
    if (tr.n == 0) {
        fprintf(stderr, "boltzcl train: no training rows left after the validation split\n");
        return 1;
    }

    int rc = 1;
    char rank_device[300];
    const char *device = bz_cli_rank_device(comm, a.device, rank_device, sizeof rank_device);
    bz_context *ctx = bz_cli_open(device, false);
    bz_rbm *rbm = NULL;
    bz_data *dtr = NULL, *dva = NULL, *dsub = NULL;
    FILE *logf = NULL;
    bz_trainer *trainer = NULL;
    json_object *final = json_object_new_object();
    if (!ctx)
        goto out;
    bz_status st;
    /* A resumed run starts from this model too: the trainer then replaces
     * its whole state with the checkpoint's (rank 0's, on every rank). */
    if ((st = bz_rbm_create(ctx, tr.dim, a.hidden, vis->type, (uint64_t)a.seed, &rbm)) ||
        (st = bz_rbm_init_visible_bias(rbm, tr.x, tr.n))) {
        fail_ctx(ctx, st);
        goto out;
    }
    /* Every rank starts from rank 0's parameters and training state. */
    if (comm && (st = bz_rbm_dist_sync(rbm, comm))) {
        fail_ctx(ctx, st);
        goto out;
    }
    /* A model saved without its standardisation would silently misread
     * every later input, so a failure here ends the run. */
    if ((mean && (st = bz_rbm_set_standardization(rbm, mean, sd))) ||
        (st = bz_rbm_set_meta(rbm, "data", a.data)) ||
        (st = set_meta_num(rbm, "image_height", (double)tr.height)) ||
        (st = set_meta_num(rbm, "image_width", (double)tr.width)) ||
        (st = bz_rbm_set_meta(rbm, "preprocess_scale", prep.scale ? "yes" : "no")) ||
        (st = bz_rbm_set_meta(rbm, "preprocess_binarize", a.binarize)) ||
        (st = bz_rbm_set_meta(rbm, "training", a.pcd ? "pcd" : "cd")) ||
        (st = set_meta_num(rbm, "k", (double)a.k)) ||
        (st = set_meta_num(rbm, "learning_rate", a.lr)) ||
        (st = set_meta_num(rbm, "batch_size", (double)a.batch)) ||
        (st = set_meta_num(rbm, "weight_decay", a.weight_decay)) ||
        (st = set_meta_num(rbm, "seed", (double)a.seed))) {
        fail_ctx(ctx, st);
        goto out;
    }

    if ((st = bz_data_create(ctx, tr.x, tr.n, tr.dim, &dtr))) {
        fail_ctx(ctx, st);
        goto out;
    }
    size_t mon = 0;
    if (va.n && root) {
        mon = va.n < a.pll_rows ? va.n : a.pll_rows;
        if ((st = bz_data_create(ctx, va.x, mon, va.dim, &dva)) ||
            (st = bz_data_create(ctx, tr.x, mon < tr.n ? mon : tr.n, tr.dim, &dsub))) {
            fail_ctx(ctx, st);
            goto out;
        }
    }

    bz_rbm_train_options o;
    bz_rbm_train_options_init(&o);
    o.batch_size = a.batch;
    o.k = (unsigned)a.k;
    o.pcd = a.pcd;
    o.no_padding = a.no_pad;
    o.learning_rate = (float)a.lr;
    o.momentum_initial = (float)a.momentum;
    o.momentum_final = (float)a.final_momentum;
    o.momentum_epochs = (unsigned)a.momentum_epochs;
    o.weight_decay = (float)a.weight_decay;
    o.sparsity_target = (float)a.sparsity_target;
    o.sparsity_cost = (float)a.sparsity_cost;
    o.lr_decay = (float)a.lr_decay;
    o.stochastic_binarize = prep.binarize == BZ_BIN_STOCHASTIC;
    o.seed = (uint64_t)a.seed;
    if ((st = bz_rbm_trainer_create_dist(rbm, dtr, &o, (unsigned)a.epochs, comm, &trainer))) {
        fail_ctx(ctx, st);
        goto out;
    }
    bz_rbm_trainer_monitor(trainer, dva, dsub, vis->binary, (uint64_t)a.seed);

    if (root && bz_cli_train_check_space("rbm", trainer, "--out", a.out, ckpt))
        goto out;

    /* What makes a run this run: a resume with anything else is refused.
     * The epoch count is not part of it (a finished run may be extended). */
    char fp[1024] = "";
    bz_cli_fp_add(fp, sizeof fp, "hidden", "%zu", a.hidden);
    bz_cli_fp_add(fp, sizeof fp, "visible", "%s", vis->name);
    bz_cli_fp_add(fp, sizeof fp, "batch", "%zu", a.batch);
    bz_cli_fp_add(fp, sizeof fp, "k", "%zu", a.k);
    bz_cli_fp_add(fp, sizeof fp, "pcd", "%d", a.pcd);
    bz_cli_fp_add(fp, sizeof fp, "lr", "%.9g", a.lr);
    bz_cli_fp_add(fp, sizeof fp, "momentum", "%.9g,%.9g,%ld", a.momentum, a.final_momentum,
                  a.momentum_epochs);
    bz_cli_fp_add(fp, sizeof fp, "weight_decay", "%.9g", a.weight_decay);
    bz_cli_fp_add(fp, sizeof fp, "sparsity", "%.9g,%.9g", a.sparsity_target, a.sparsity_cost);
    bz_cli_fp_add(fp, sizeof fp, "lr_decay", "%.9g", a.lr_decay);
    bz_cli_fp_add(fp, sizeof fp, "binarize", "%s", a.binarize);
    bz_cli_fp_add(fp, sizeof fp, "scale", "%d", prep.scale);
    bz_cli_fp_add(fp, sizeof fp, "val_split", "%.9g", a.val_split);
    bz_cli_fp_add(fp, sizeof fp, "seed", "%ld", a.seed);
    bz_cli_fp_add(fp, sizeof fp, "no_pad", "%d", a.no_pad);
    bz_cli_fp_add(fp, sizeof fp, "data", "%s", dfp);

    bz_cli_progress ps;
    bz_cli_progress_init(&ps, a.quiet, comm ? comm->rank : -1);
    if (root && a.log && bz_cli_train_log_open("train", a.log, a.resume != NULL, &logf))
        goto out;
    ps.log = logf;
    bz_train_options to;
    bz_cli_train_options(&to, ckpt, a.resume, a.overwrite, fp);
    last_figures lastf = {&ps, NAN, NAN, NAN, NAN};
    to.progress = on_progress;
    to.progress_user = &lastf;
    bz_cli_train_signals();

    if (!a.quiet)
        fprintf(stderr, "training a %zu-%zu RBM (%s visible, %s-%zu) on %zu rows of %s, %s, "
                        "device %s\n", tr.dim, a.hidden, vis->name, a.pcd ? "PCD" : "CD", a.k,
                tr.n, a.data, bz_data_on_device(dtr) ? "data on the device" : "data streamed",
                bz_device_name(ctx));
    if (comm && !a.quiet)
        fprintf(stderr, "data-parallel over %d ranks: %zu rows of each batch of %zu per rank\n",
                comm->size, (a.batch + (size_t)comm->size - 1) / (size_t)comm->size, a.batch);
    bz_train_result res;
    st = bz_trainer_run(trainer, &to, &res);
    if (st == BZ_OK && a.resume && !a.quiet && res.epochs_run == 0)
        fprintf(stderr, "the checkpoint had all %zu epochs already\n", a.epochs);
    if (st) {
        rc = bz_cli_train_outcome(cmd_name, ctx, st, &res, ckpt, root);
        goto out;
    }
    unsigned ep = (unsigned)a.epochs;
    double total_s = res.seconds, last_mse = lastf.recon_mse, last_pll = lastf.pseudo_ll,
           last_gap = lastf.gap, last_sps = lastf.sps;
    bool have_pll = !isnan(last_pll);
    if (!root) {
        rc = 0; /* rank 0 alone writes the model and pictures */
        goto out;
    }
    if ((st = bz_rbm_save(rbm, a.out))) {
        fail_ctx(ctx, st);
        goto out;
    }
    size_t th, tw;
    bz_cli_tile_shape(tr.dim, tr.height, tr.width, &th, &tw);
    if (a.filters && bz_cli_write_filters("train", rbm, th, tw, a.filters))
        goto out;
    if (a.samples &&
        bz_cli_write_samples("train", rbm, 100, 1000, (uint64_t)a.seed, NULL, th, tw, a.samples))
        goto out;
    if (a.recon && bz_cli_write_recon("train", rbm, va.n ? &va : &tr, 50, th, tw, a.recon))
        goto out;
    if (!a.quiet) {
        fprintf(stderr, "saved %s", a.out);
        const char *pics[] = {a.filters, a.samples, a.recon};
        for (int i = 0; i < 3; i++)
            if (pics[i])
                fprintf(stderr, ", %s", pics[i]);
        fprintf(stderr, " (%.1f s of training)\n", total_s);
    }
    json_object_object_add(final, "epochs", json_object_new_int((int)ep));
    json_object_object_add(final, "seconds", json_object_new_double(total_s));
    json_object_object_add(final, "samples_per_s", jnum(last_sps));
    json_object_object_add(final, "recon_mse", jnum(last_mse));
    json_object_object_add(final, "pseudo_ll", have_pll ? jnum(last_pll) : NULL);
    json_object_object_add(final, "free_energy_gap", dva ? jnum(last_gap) : NULL);
    json_object_object_add(final, "model", json_object_new_string(a.out));
    json_object_object_add(final, "device", json_object_new_string(bz_device_name(ctx)));
    if (a.json)
        bz_cli_print_json(final);
    rc = 0;
out:
    json_object_put(final);
    if (logf)
        fclose(logf);
    bz_trainer_free(trainer);
    bz_data_free(dtr);
    bz_data_free(dva);
    bz_data_free(dsub);
    bz_rbm_free(rbm);
    bz_context_free(ctx);
    bz_dataset_free(&tr);
    bz_dataset_free(&va);
    free(mean);
    free(sd);
    return rc;
}

int bz_cmd_train(int argc, char **argv)
{
    if (argc < 1 || argv[0][0] == '-') {
        fprintf(stderr, "usage: boltzcl train rbm|dbn|dbm|dybm|cf [options]   (see boltzcl train rbm --help)\n");
        return argc >= 1 && (!strcmp(argv[0], "--help") || !strcmp(argv[0], "-h")) ? 0 : 2;
    }
    bz_cli_set_train_argv(argc, argv);
    if (!strcmp(argv[0], "rbm"))
        return train_rbm(argc - 1, argv + 1);
    if (!strcmp(argv[0], "dbn")) return bz_cmd_train_dbn(argc - 1, argv + 1);
    if (!strcmp(argv[0], "dbm")) return bz_cmd_train_dbm(argc - 1, argv + 1);
    if (!strcmp(argv[0], "dybm"))
        return bz_cmd_train_dybm(argc - 1, argv + 1);
    if (!strcmp(argv[0], "cf"))
        return bz_cmd_train_cf(argc - 1, argv + 1);
    fprintf(stderr, "boltzcl train: unknown model '%s' (rbm, dbn, dbm, dybm or cf)\n", argv[0]);
    return 2;
}
