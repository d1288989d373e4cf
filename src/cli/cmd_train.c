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

#include <signal.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <unistd.h>

static volatile int stop_requested;

static void on_sigint(int sig)
{
    (void)sig;
    stop_requested = 1;
}

typedef struct progress_state {
    unsigned epoch, epochs;
    int last_pct;
    bool bar;
    /* test hook (tests/mpi): BOLTZCL_TEST_KILL_RANK=R:E:B makes rank R of a
     * distributed run kill itself with SIGKILL after batch B of epoch E
     * (1-based), as a crash would */
    long kill_epoch, kill_batch;
} progress_state;

static void progress(void *user, size_t done, size_t total)
{
    progress_state *p = user;
    if (p->kill_epoch == (long)p->epoch && p->kill_batch == (long)done)
        raise(SIGKILL);
    if (!p->bar)
        return;
    int pct = (int)(100 * done / total);
    if (pct == p->last_pct)
        return;
    p->last_pct = pct;
    char bar[31];
    int fill = pct * 30 / 100;
    for (int i = 0; i < 30; i++)
        bar[i] = i < fill ? '#' : '.';
    bar[30] = '\0';
    fprintf(stderr, "\r  epoch %u/%u [%s] %3d%%", p->epoch, p->epochs, bar, pct);
    fflush(stderr);
}

typedef struct train_args {
    const char *data, *device, *out, *samples, *filters, *recon, *log, *resume, *visible,
        *binarize, *checkpoint;
    size_t hidden, epochs, batch, k, pll_rows;
    double lr, momentum, final_momentum, weight_decay, sparsity_target, sparsity_cost, lr_decay,
        val_split;
    long seed, momentum_epochs;
    bool pcd, json, no_scale, quiet, distributed, no_pad;
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
        {"checkpoint", BZ_OPT_STRING, &a.checkpoint, "FILE", "checkpoint file (OUT.ckpt)"},
        {"resume", BZ_OPT_STRING, &a.resume, "FILE", "continue from a checkpoint"},
        {"samples", BZ_OPT_STRING, &a.samples, "PNG", "write Gibbs samples from noise"},
        {"filters", BZ_OPT_STRING, &a.filters, "PNG", "write the learned filters"},
        {"recon", BZ_OPT_STRING, &a.recon, "PNG", "write validation images and reconstructions"},
        {"log", BZ_OPT_STRING, &a.log, "FILE", "one JSON line of metrics per epoch"},
        {"json", BZ_OPT_FLAG, &a.json, NULL, "print the final figures as JSON on stdout"},
        {"quiet", BZ_OPT_FLAG, &a.quiet, NULL, "no per-epoch lines or progress bar"},
        {"device", BZ_OPT_STRING, &a.device, "SEL", "device (P:D, gpu, cpu, or name part)"},
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
    char ckpt_default[1100];
    if (!a.checkpoint) {
        snprintf(ckpt_default, sizeof ckpt_default, "%s.ckpt", a.out);
        a.checkpoint = ckpt_default;
    }
    /* Rank 0 alone writes: it checks every path and locks --out. */
    int files_rc = root ? bz_cli_check_files(
                        cmd_name, (const bz_file_arg[]){{"--data", a.data}, {0}},
                        (const bz_file_arg[]){{"--out", a.out}, {"--checkpoint", a.checkpoint},
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
    json_object *final = json_object_new_object();
    if (!ctx)
        goto out;
    bz_status st;
    bz_rbm_resume at = {0, 0};
    if (a.resume && comm) {
        /* Rank 0 reads the checkpoint (no shared file system needed); the
         * others start from a fresh model and receive its state. The batch
         * position is global, so any number of ranks may resume it. */
        uint64_t where[3] = {0, 0, 0};
        if (root) {
            st = bz_rbm_load_checkpoint(ctx, a.resume, &rbm, &at);
            if (st) {
                fail_ctx(ctx, st);
                goto out;
            }
            where[0] = at.epoch;
            where[1] = at.batch;
            where[2] = rbm->nv != tr.dim || rbm->nh != a.hidden || rbm->vis != vis;
            if (where[2])
                fprintf(stderr, "boltzcl train: checkpoint %s holds a %zu-%zu %s RBM; the options "
                                "ask for %zu-%zu %s\n", a.resume, rbm->nv, rbm->nh,
                        rbm->vis->name, tr.dim, a.hidden, vis->name);
        }
        if ((st = comm->bcast_u64(comm, where, 3))) {
            fprintf(stderr, "boltzcl train: %s\n", comm->error);
            goto out;
        }
        if (where[2])
            goto out;
        at.epoch = (unsigned)where[0];
        at.batch = (size_t)where[1];
        if (!root && (st = bz_rbm_create(ctx, tr.dim, a.hidden, vis->type, (uint64_t)a.seed,
                                         &rbm))) {
            fail_ctx(ctx, st);
            goto out;
        }
        if (!a.quiet)
            fprintf(stderr, "resuming from %s at epoch %u, batch %zu on %d ranks\n", a.resume,
                    at.epoch + 1, at.batch, comm->size);
    } else if (a.resume) {
        st = bz_rbm_load_checkpoint(ctx, a.resume, &rbm, &at);
        if (st) {
            fail_ctx(ctx, st);
            goto out;
        }
        if (rbm->nv != tr.dim || rbm->nh != a.hidden || rbm->vis != vis) {
            fprintf(stderr, "boltzcl train: checkpoint %s holds a %zu-%zu %s RBM; the options ask "
                            "for %zu-%zu %s\n", a.resume, rbm->nv, rbm->nh, rbm->vis->name,
                    tr.dim, a.hidden, vis->name);
            goto out;
        }
        if (!a.quiet)
            fprintf(stderr, "resuming from %s at epoch %u, batch %zu\n", a.resume, at.epoch + 1,
                    at.batch);
    } else {
        if ((st = bz_rbm_create(ctx, tr.dim, a.hidden, vis->type, (uint64_t)a.seed, &rbm)) ||
            (st = bz_rbm_init_visible_bias(rbm, tr.x, tr.n))) {
            fail_ctx(ctx, st);
            goto out;
        }
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
    if (root && a.log && !(logf = fopen(a.log, at.epoch || at.batch ? "a" : "w"))) {
        fprintf(stderr, "boltzcl train: cannot write %s: %s\n", a.log, strerror(errno));
        goto out;
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
    progress_state ps = {0, (unsigned)a.epochs, -1, false, -1, -1};
    bool tty = isatty(2) && !a.quiet;
    ps.bar = tty;
    const char *kill_hook = getenv("BOLTZCL_TEST_KILL_RANK");
    int kill_rank = -1;
    if (comm && kill_hook &&
        sscanf(kill_hook, "%d:%ld:%ld", &kill_rank, &ps.kill_epoch, &ps.kill_batch) == 3 &&
        kill_rank != comm->rank)
        ps.kill_epoch = ps.kill_batch = -1;
    if (tty || ps.kill_epoch >= 0) {
        o.progress = progress;
        o.progress_user = &ps;
    }
    o.stop = &stop_requested;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigint;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    if (!a.quiet)
        fprintf(stderr, "training a %zu-%zu RBM (%s visible, %s-%zu) on %zu rows of %s, %s, "
                        "device %s\n", tr.dim, a.hidden, vis->name, a.pcd ? "PCD" : "CD", a.k,
                tr.n, a.data, bz_data_on_device(dtr) ? "data on the device" : "data streamed",
                bz_device_name(ctx));
    if (comm && !a.quiet)
        fprintf(stderr, "data-parallel over %d ranks: %zu rows of each batch of %zu per rank\n",
                comm->size, (a.batch + (size_t)comm->size - 1) / (size_t)comm->size, a.batch);
    double total_s = 0, last_mse = 0, last_pll = 0, last_gap = 0, last_sps = 0;
    bool have_pll = false;
    unsigned ep = at.epoch;
    o.start_batch = at.batch;
    for (; ep < a.epochs; ep++) {
        ps.epoch = ep + 1;
        ps.last_pct = -1;
        bz_rbm_epoch_stats es;
        st = comm ? bz_rbm_train_epoch_dist(rbm, dtr, &o, ep, &es, comm)
                  : bz_rbm_train_epoch(rbm, dtr, &o, ep, &es);
        if (tty)
            fprintf(stderr, "\r%60s\r", "");
        if (st == BZ_E_INTERRUPTED) {
            bz_rbm_resume here = {ep, es.batches_done};
            bz_status s2 = root ? bz_rbm_save_checkpoint(rbm, a.checkpoint, here) : BZ_OK;
            if (s2) {
                fail_ctx(ctx, s2);
            } else if (root) {
                fprintf(stderr, "interrupted in epoch %u after batch %zu; saved %s\n"
                                "resume with the same options and --resume %s\n",
                        ep + 1, es.batches_done, a.checkpoint, a.checkpoint);
            }
            rc = 130;
            goto out;
        }
        if (st) {
            fail_ctx(ctx, st);
            if (st == BZ_E_DIVERGED)
                fprintf(stderr, "the last good checkpoint (if any) is %s; nothing was saved "
                                "from this epoch\n", a.checkpoint);
            goto out;
        }
        o.start_batch = 0;
        total_s += es.seconds;
        last_mse = es.recon_mse;
        last_sps = es.samples_per_s;
        json_object *line = json_object_new_object();
        json_object_object_add(line, "epoch", json_object_new_int((int)ep + 1));
        json_object_object_add(line, "recon_mse", json_object_new_double(es.recon_mse));
        json_object_object_add(line, "seconds", json_object_new_double(es.seconds));
        json_object_object_add(line, "samples_per_s", json_object_new_double(es.samples_per_s));
        if (dva) {
            double fv, ft;
            if ((st = bz_rbm_mean_free_energy(rbm, dva, &fv)) ||
                (st = bz_rbm_mean_free_energy(rbm, dsub, &ft))) {
                fail_ctx(ctx, st);
                json_object_put(line);
                goto out;
            }
            last_gap = fv - ft;
            json_object_object_add(line, "free_energy_gap", json_object_new_double(last_gap));
            if (vis->binary) {
                if ((st = bz_rbm_pseudo_log_likelihood(rbm, dva, (uint64_t)a.seed, &last_pll))) {
                    fail_ctx(ctx, st);
                    json_object_put(line);
                    goto out;
                }
                have_pll = true;
                json_object_object_add(line, "pseudo_ll", json_object_new_double(last_pll));
            }
        }
        if (!a.quiet) {
            fprintf(stderr, "epoch %3u  recon_mse %.5f", ep + 1, es.recon_mse);
            if (have_pll)
                fprintf(stderr, "  pseudo_ll %8.2f", last_pll);
            if (dva)
                fprintf(stderr, "  fe_gap %+.3f", last_gap);
            fprintf(stderr, "  %.2f s  %.0f samples/s\n", es.seconds, es.samples_per_s);
        }
        if (logf) {
            fprintf(logf, "%s\n", bz_cli_json_text(line));
            fflush(logf);
        }
        json_object_put(line);
        if (root &&
            (st = bz_rbm_save_checkpoint(rbm, a.checkpoint, (bz_rbm_resume){ep + 1, 0}))) {
            fail_ctx(ctx, st);
            goto out;
        }
    }
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
    json_object_object_add(final, "samples_per_s", json_object_new_double(last_sps));
    json_object_object_add(final, "recon_mse", json_object_new_double(last_mse));
    json_object_object_add(final, "pseudo_ll", have_pll ? json_object_new_double(last_pll) : NULL);
    json_object_object_add(final, "free_energy_gap", dva ? json_object_new_double(last_gap) : NULL);
    json_object_object_add(final, "model", json_object_new_string(a.out));
    json_object_object_add(final, "device", json_object_new_string(bz_device_name(ctx)));
    if (a.json)
        bz_cli_print_json(final);
    rc = 0;
out:
    json_object_put(final);
    if (logf)
        fclose(logf);
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
        fprintf(stderr, "usage: boltzcl train rbm [options]   (see boltzcl train rbm --help)\n");
        return argc >= 1 && (!strcmp(argv[0], "--help") || !strcmp(argv[0], "-h")) ? 0 : 2;
    }
    if (!strcmp(argv[0], "rbm"))
        return train_rbm(argc - 1, argv + 1);
    if (!strcmp(argv[0], "dbn")) return bz_cmd_train_dbn(argc - 1, argv + 1);
    if (!strcmp(argv[0], "dbm")) return bz_cmd_train_dbm(argc - 1, argv + 1);
    fprintf(stderr, "boltzcl train: unknown model '%s' (rbm)\n", argv[0]);
    return 2;
}
