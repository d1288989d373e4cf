/*
 * boltzcl train dbn: a deep belief network classifier. Greedy layer-wise
 * pretraining of a stack of RBMs (the top one with the labels), then
 * supervised fine-tuning of the same stack as a feed-forward network with a
 * softmax output, early stopping on a validation split; saves one file.
 */
#include "cli/cli.h"
#include "cli/files.h"
#include "cli/cli_dist.h"
#include "cli/rbm_common.h"
#include "cli/train_run.h"
#include "models/dbn_trainer.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct dbn_args {
    const char *data, *test, *layers, *activation, *out, *device, *checkpoint, *resume, *log;
    size_t pretrain_epochs, finetune_epochs, batch, rbm_batch, patience;
    double lr_rbm, lr, lr_decay, momentum, dropout, val_split, weight_decay;
    long seed;
    bool no_pretrain, binarize, json, quiet, distributed, no_pad, overwrite;
    /* from --layers and --activation */
    size_t sizes[BZ_DBN_MAX_LAYERS + 1], L;
    bz_dbn_act act;
} dbn_args;

typedef struct cb_state {
    const dbn_args *a;
    const bz_dbn *d;
    double *epoch_s; /* each fine-tuning epoch's training pass, for --json */
    size_t n_epochs, cap_epochs;
} cb_state;

static void on_finetune(void *user, const bz_dbn_epoch_info *e)
{
    cb_state *s = user;
    if (s->n_epochs == s->cap_epochs) {
        size_t cap = s->cap_epochs ? 2 * s->cap_epochs : 64;
        double *p = realloc(s->epoch_s, cap * sizeof *p);
        if (p) {
            s->epoch_s = p;
            s->cap_epochs = cap;
        }
    }
    if (s->n_epochs < s->cap_epochs)
        s->epoch_s[s->n_epochs++] = e->seconds;
}

/* Pretraining seconds for --json, from the trainer's per-epoch figures. */
typedef struct pre_secs {
    bz_cli_progress *bar;
    double seconds;
} pre_secs;

static void on_progress(void *user, const bz_train_progress *p)
{
    pre_secs *ps = user;
    bz_cli_progress_cb(ps->bar, p);
    if (!p->epoch_done || strcmp(p->phase, "pretrain") != 0)
        return;
    json_object *o = json_tokener_parse(p->metrics_json), *v;
    if (o && json_object_object_get_ex(o, "seconds", &v))
        ps->seconds += json_object_get_double(v);
    json_object_put(o);
}

static double accuracy_of(bz_dbn *d, const bz_dataset *ds, bz_status *st)
{
    float *p = malloc(ds->n * d->K * sizeof *p);
    if (!p) {
        *st = BZ_E_NOMEM;
        return NAN;
    }
    *st = bz_dbn_predict_proba(d, ds->x, ds->n, p);
    size_t hit = 0;
    for (size_t i = 0; !*st && i < ds->n; i++) {
        size_t arg = 0;
        for (size_t j = 1; j < d->K; j++)
            if (p[i * d->K + j] > p[i * d->K + arg])
                arg = j;
        hit += (int32_t)arg == ds->labels[i];
    }
    free(p);
    return *st ? NAN : (double)hit / (double)ds->n;
}

static int train_dbn_with(void *args, bz_comm *comm);

int bz_cmd_train_dbn(int argc, char **argv)
{
    dbn_args a = {
        .data = "fashion-mnist", .layers = "500,500,2000", .activation = "sigmoid",
        .out = "dbn.safetensors", .pretrain_epochs = 10, .finetune_epochs = 100, .batch = 32,
        .rbm_batch = 100, .patience = 10, .lr_rbm = 0.05, .lr = 0.1, .momentum = 0.9,
        .val_split = 0.1, .seed = 1,
    };
    const bz_opt opts[] = {
        {"data", BZ_OPT_STRING, &a.data, "D", "labelled training data (fashion-mnist, IDX, CSV)"},
        {"test", BZ_OPT_STRING, &a.test, "D", "labelled test data, evaluated at the end"},
        {"layers", BZ_OPT_STRING, &a.layers, "N,N,..", "hidden layer sizes (500,500,2000)"},
        {"pretrain-epochs", BZ_OPT_SIZE, &a.pretrain_epochs, "N", "RBM epochs per layer (10)"},
        {"finetune-epochs", BZ_OPT_SIZE, &a.finetune_epochs, "N", "backprop epochs at most (100)"},
        {"no-pretrain", BZ_OPT_FLAG, &a.no_pretrain, NULL, "random initialisation, no RBMs"},
        {"no-pad", BZ_OPT_FLAG, &a.no_pad, NULL,
         "pretrain and fine-tune at the network's own sizes, not padded to the GEMM tiles"},
        {"binarize", BZ_OPT_FLAG, &a.binarize, NULL, "threshold the inputs at 0.5"},
        {"activation", BZ_OPT_STRING, &a.activation, "A", "sigmoid or relu (fine-tuning)"},
        {"dropout", BZ_OPT_FLOAT, &a.dropout, "P", "dropout of hidden units in fine-tuning (0)"},
        {"batch", BZ_OPT_SIZE, &a.batch, "N", "fine-tuning batch size (32)"},
        {"rbm-batch", BZ_OPT_SIZE, &a.rbm_batch, "N", "pretraining batch size (100)"},
        {"lr-rbm", BZ_OPT_FLOAT, &a.lr_rbm, "F", "pretraining learning rate (0.05)"},
        {"lr", BZ_OPT_FLOAT, &a.lr, "F", "fine-tuning learning rate (0.1)"},
        {"lr-decay", BZ_OPT_FLOAT, &a.lr_decay, "F",
         "fine-tuning epoch e (from 0) uses lr / (1 + F * e) (0)"},
        {"momentum", BZ_OPT_FLOAT, &a.momentum, "F", "fine-tuning momentum (0.9)"},
        {"weight-decay", BZ_OPT_FLOAT, &a.weight_decay, "F", "fine-tuning L2 on weights (0)"},
        {"patience", BZ_OPT_SIZE, &a.patience, "N",
         "stop after N epochs without a better validation accuracy; 0 never (10)"},
        {"val-split", BZ_OPT_FLOAT, &a.val_split, "F", "validation fraction of --data (0.1)"},
        {"seed", BZ_OPT_INT, &a.seed, "N", "random seed (1)"},
        {"out", BZ_OPT_STRING, &a.out, "FILE", "the model (dbn.safetensors)"},
        BZ_CLI_TRAIN_STATE_OPTS(a),
        BZ_CLI_TRAIN_REPORT_OPTS(a),
        {"distributed", BZ_OPT_FLAG, &a.distributed, NULL,
         "data-parallel over the ranks of mpirun -np N (one device each; batches stay global; "
         "resumed on one process)"},
        {0},
    };
    const char *pos[1];
    size_t npos;
    int pr = bz_args_parse("train dbn", "--data D --layers N,N,.. --out FILE [options]", opts,
                           argc, argv, pos, 0, &npos);
    if (pr)
        return pr > 0 ? 0 : 2;
    size_t sizes[BZ_DBN_MAX_LAYERS + 1], L;
    bz_dbn_act act;
    if (bz_layers_parse(a.layers, 1, BZ_DBN_MAX_LAYERS, sizes + 1, &L)) {
        fprintf(stderr, "boltzcl train dbn: --layers takes 1 to %d positive sizes separated by "
                        "single commas, e.g. 500,500,2000; got '%s'\n", BZ_DBN_MAX_LAYERS, a.layers);
        return 2;
    }
    if (bz_dbn_act_parse(a.activation, &act)) {
        fprintf(stderr, "boltzcl train dbn: --activation is sigmoid or relu, not '%s'\n",
                a.activation);
        return 2;
    }
    const char *c = "train dbn";
    if (bz_args_bad(c, !(a.dropout >= 0 && a.dropout < 1), "--dropout", "in [0, 1)") ||
        bz_args_bad(c, !(a.val_split >= 0 && a.val_split < 1), "--val-split", "in [0, 1)") ||
        bz_args_bad(c, !(a.lr > 0), "--lr", "> 0") ||
        bz_args_bad(c, !(a.lr_rbm > 0), "--lr-rbm", "> 0") ||
        bz_args_bad(c, !(a.lr_decay >= 0), "--lr-decay", ">= 0") ||
        bz_args_bad(c, !(a.weight_decay >= 0), "--weight-decay", ">= 0") ||
        bz_args_bad(c, a.batch == 0, "--batch", ">= 1") ||
        bz_args_bad(c, a.rbm_batch == 0, "--rbm-batch", ">= 1") ||
        bz_args_bad(c, a.seed < 0, "--seed", ">= 0") ||
        bz_args_bad(c, !(a.momentum >= 0 && a.momentum < 1), "--momentum", "in [0, 1)") ||
        bz_args_bad(c, a.finetune_epochs == 0 || a.finetune_epochs > (1u << 20),
                    "--finetune-epochs", "between 1 and 2^20") ||
        bz_args_bad(c, (!a.no_pretrain && a.pretrain_epochs == 0) ||
                           a.pretrain_epochs > (1u << 20),
                    "--pretrain-epochs", "between 1 and 2^20 (or give --no-pretrain)"))
        return 2;
    memcpy(a.sizes, sizes, sizeof sizes);
    a.L = L;
    a.act = act;
    return bz_cli_run_ranks("train dbn", a.distributed, train_dbn_with, &a);
}

/* The training itself: on one process (comm NULL), or on every rank of a
 * distributed job, where rank 0 alone reports and writes the model. */
static int train_dbn_with(void *args, bz_comm *comm)
{
    dbn_args a = *(const dbn_args *)args;
    size_t *sizes = a.sizes, L = a.L;
    const bool root = !comm || comm->rank == 0;
    char cmd[64] = "train dbn";
    if (comm)
        snprintf(cmd, sizeof cmd, "train dbn (rank %d of %d)", comm->rank, comm->size);
    if (!root) {
        a.quiet = true;
        a.json = false;
    }
    bz_prep prep = {.scale = true, .binarize = a.binarize ? BZ_BIN_THRESHOLD : BZ_BIN_NONE,
                    .threshold = 0.5f};
    bz_dataset all = {0}, tr = {0}, va = {0}, te = {0};
    bz_context *ctx = NULL;
    bz_dbn *d = NULL;
    bz_trainer *trainer = NULL;
    FILE *logf = NULL;
    cb_state cs = {&a, NULL, NULL, 0, 0};
    int rc = 1;
    /* Rank 0 alone writes: it checks every path and locks --out. */
    const bz_file_arg in[] = {{"--data", a.data}, {"--test", a.test}, {0}};
    char ckpt[1100];
    bz_cli_checkpoint_path(a.checkpoint, a.out, ckpt, sizeof ckpt);
    const bz_file_arg outs[] = {{"--out", a.out}, {"--checkpoint", ckpt}, {"--log", a.log}, {0}};
    int files_rc = root ? bz_cli_check_files(cmd, in, outs, true) : 0;
    if (files_rc)
        return files_rc;
    if (bz_cli_load("train dbn", a.data, &prep, &all))
        return 1;
    if (!all.labels || all.n_classes < 2) {
        fprintf(stderr, "boltzcl train dbn: %s has no labels (or only one class); a DBN "
                        "classifier needs them\n", all.name);
        goto out;
    }
    if (a.test && bz_cli_load("train dbn", a.test, &prep, &te))
        goto out;
    if (a.test && (!te.labels || te.dim != all.dim)) {
        fprintf(stderr, "boltzcl train dbn: test data %s needs labels and %zu values per row\n",
                te.name, all.dim);
        goto out;
    }
    size_t K = (size_t)all.n_classes;
    if (a.test && (size_t)te.n_classes > K) {
        fprintf(stderr, "boltzcl train dbn: test data has class %d, unseen in training\n",
                te.n_classes - 1);
        goto out;
    }
    bz_error err = {0};
    if (bz_dataset_split(&all, a.val_split, (uint64_t)a.seed, &tr, &va, &err)) {
        fprintf(stderr, "boltzcl train dbn: %s\n", err.msg);
        goto out;
    }
    sizes[0] = all.dim;
    char rank_device[300];
    if (!(ctx = bz_cli_open(bz_cli_rank_device(comm, a.device, rank_device, sizeof rank_device),
                            a.quiet)))
        goto out;
    bz_status st = bz_dbn_create(ctx, sizes, L, K, a.act, (uint64_t)a.seed, &d);
    /* Every rank starts from rank 0's parameters. */
    if (!st && comm)
        st = bz_dbn_dist_sync(d, comm);
    if (st) {
        bz_cli_fail(cmd, ctx, st);
        goto out;
    }
    char hbuf[64], wbuf[64];
    snprintf(hbuf, sizeof hbuf, "%zu", all.height);
    snprintf(wbuf, sizeof wbuf, "%zu", all.width);
    if ((st = bz_dbn_set_meta(d, "image_height", hbuf)) ||
        (st = bz_dbn_set_meta(d, "image_width", wbuf)) ||
        (st = bz_dbn_set_meta(d, "preprocess_scale", "yes")) ||
        (st = bz_dbn_set_meta(d, "preprocess_binarize", a.binarize ? "threshold" : "none")) ||
        (st = bz_dbn_set_meta(d, "data", a.data))) {
        bz_cli_fail(cmd, ctx, st);
        goto out;
    }
    if (!a.quiet)
        fprintf(stderr, "DBN %zu-%s-%zu (%s) on %s: %zu training, %zu validation rows\n", all.dim,
                a.layers, K, a.activation, bz_device_name(ctx), tr.n, va.n);
    if (comm && !a.quiet)
        fprintf(stderr, "data-parallel over %d ranks: up to %zu rows of each batch of %zu "
                        "(pretraining %zu) per rank\n", comm->size,
                (a.batch + (size_t)comm->size - 1) / (size_t)comm->size, a.batch, a.rbm_batch);
    cs.d = d;
    bz_dbn_train_job job;
    memset(&job, 0, sizeof job);
    job.x = tr.x;
    job.labels = tr.labels;
    job.n = tr.n;
    job.xv = va.x;
    job.labels_v = va.labels;
    job.nv = va.n;
    bz_rbm_train_options_init(&job.rbm);
    job.rbm.batch_size = a.rbm_batch;
    job.rbm.learning_rate = (float)a.lr_rbm;
    job.rbm.seed = (uint64_t)a.seed;
    job.rbm.no_padding = a.no_pad;
    job.pretrain_epochs = a.no_pretrain ? 0 : (unsigned)a.pretrain_epochs;
    bz_dbn_sgd_init(&job.sgd);
    job.sgd.batch_size = a.batch;
    job.sgd.learning_rate = (float)a.lr;
    job.sgd.lr_decay = (float)a.lr_decay;
    job.sgd.momentum = (float)a.momentum;
    job.sgd.weight_decay = (float)a.weight_decay;
    job.sgd.dropout = (float)a.dropout;
    job.sgd.epochs = (unsigned)a.finetune_epochs;
    job.sgd.patience = (unsigned)a.patience;
    job.sgd.seed = (uint64_t)a.seed;
    job.sgd.no_padding = a.no_pad;
    job.comm = comm;
    job.ft_cb = on_finetune;
    job.ft_user = &cs;
    bz_dbn_finetune_result fr = {0};
    job.result = &fr;
    if ((st = bz_dbn_trainer_make(d, &job, &trainer))) {
        bz_cli_fail(cmd, ctx, st);
        goto out;
    }
    if (root && bz_cli_train_check_space("dbn", trainer, "--out", a.out, ckpt))
        goto out;
    /* What makes a run this run; the epochs of fine-tuning may be raised. */
    char fp[1024] = "", dfp[64];
    bz_train_data_fingerprint(all.x, all.n, all.dim, all.labels, dfp, sizeof dfp);
    bz_cli_fp_add(fp, sizeof fp, "layers", "%s", a.layers);
    bz_cli_fp_add(fp, sizeof fp, "activation", "%s", a.activation);
    bz_cli_fp_add(fp, sizeof fp, "pretrain", "%zu,%zu,%.9g",
                  a.no_pretrain ? (size_t)0 : a.pretrain_epochs, a.rbm_batch, a.lr_rbm);
    bz_cli_fp_add(fp, sizeof fp, "batch", "%zu", a.batch);
    bz_cli_fp_add(fp, sizeof fp, "lr", "%.9g", a.lr);
    bz_cli_fp_add(fp, sizeof fp, "lr_decay", "%.9g", a.lr_decay);
    bz_cli_fp_add(fp, sizeof fp, "momentum", "%.9g", a.momentum);
    bz_cli_fp_add(fp, sizeof fp, "weight_decay", "%.9g", a.weight_decay);
    bz_cli_fp_add(fp, sizeof fp, "dropout", "%.9g", a.dropout);
    bz_cli_fp_add(fp, sizeof fp, "patience", "%zu", a.patience);
    bz_cli_fp_add(fp, sizeof fp, "binarize", "%d", a.binarize);
    bz_cli_fp_add(fp, sizeof fp, "val_split", "%.9g", a.val_split);
    bz_cli_fp_add(fp, sizeof fp, "seed", "%ld", a.seed);
    bz_cli_fp_add(fp, sizeof fp, "no_pad", "%d", a.no_pad);
    bz_cli_fp_add(fp, sizeof fp, "data", "%s", dfp);
    if (root && a.log && bz_cli_train_log_open("train dbn", a.log, a.resume != NULL, &logf))
        goto out;
    bz_cli_progress ps;
    bz_cli_progress_init(&ps, a.quiet, comm ? comm->rank : -1);
    ps.log = logf;
    pre_secs pre = {&ps, 0};
    bz_train_options to;
    bz_cli_train_options(&to, ckpt, a.resume, a.overwrite, fp);
    to.progress = on_progress;
    to.progress_user = &pre;
    bz_cli_train_signals();
    bz_train_result res;
    st = bz_trainer_run(trainer, &to, &res);
    if (st) {
        rc = bz_cli_train_outcome(cmd, ctx, st, &res, ckpt, root);
        goto out;
    }
    double pre_s = pre.seconds;
    if (!root) {
        rc = 0; /* rank 0 alone evaluates the test data and writes the model */
        goto out;
    }
    double test_acc = NAN;
    if (a.test && isnan(test_acc = accuracy_of(d, &te, &st))) {
        bz_cli_fail(cmd, ctx, st ? st : BZ_E_INTERNAL);
        goto out;
    }
    if ((st = bz_dbn_save(d, a.out))) {
        bz_cli_fail(cmd, ctx, st);
        goto out;
    }
    if (!a.quiet) {
        fprintf(stderr, "best epoch %u of %u: val acc %.4f", fr.best_epoch, fr.epochs_run,
                fr.best_val_accuracy);
        if (a.test)
            fprintf(stderr, ", test acc %.4f", test_acc);
        fprintf(stderr, "; pretraining %.1f s, fine-tuning %.1f s (%.2f s per epoch); wrote %s\n",
                pre_s, fr.seconds, fr.seconds_per_epoch, a.out);
    }
    if (a.json) {
        json_object *o = json_object_new_object();
        json_object_object_add(o, "model", json_object_new_string("dbn"));
        json_object_object_add(o, "layers", json_object_new_string(a.layers));
        json_object_object_add(o, "activation", json_object_new_string(a.activation));
        json_object_object_add(o, "pretrained", json_object_new_boolean(!a.no_pretrain));
        json_object_object_add(o, "binarized", json_object_new_boolean(a.binarize));
        json_object_object_add(o, "dropout", json_object_new_double(a.dropout));
        json_object_object_add(o, "val_accuracy", isnan(fr.best_val_accuracy)
                                                      ? NULL
                                                      : json_object_new_double(fr.best_val_accuracy));
        if (a.test)
            json_object_object_add(o, "test_accuracy", json_object_new_double(test_acc));
        json_object_object_add(o, "pretrain_seconds", json_object_new_double(pre_s));
        json_object_object_add(o, "finetune_seconds", json_object_new_double(fr.seconds));
        json_object_object_add(o, "finetune_seconds_per_epoch",
                               json_object_new_double(fr.seconds_per_epoch));
        json_object *es = json_object_new_array();
        for (size_t i = 0; i < cs.n_epochs; i++)
            json_object_array_add(es, json_object_new_double(cs.epoch_s[i]));
        json_object_object_add(o, "finetune_epoch_seconds", es);
        json_object_object_add(o, "epochs_run", json_object_new_int((int)fr.epochs_run));
        json_object_object_add(o, "best_epoch", json_object_new_int((int)fr.best_epoch));
        json_object_object_add(o, "device", json_object_new_string(bz_device_name(ctx)));
        json_object_object_add(o, "out", json_object_new_string(a.out));
        bz_cli_print_json(o);
        json_object_put(o);
    }
    rc = 0;
out:
    bz_trainer_free(trainer);
    if (logf)
        fclose(logf);
    free(cs.epoch_s);
    bz_dbn_free(d);
    bz_context_free(ctx);
    bz_dataset_free(&all);
    bz_dataset_free(&tr);
    bz_dataset_free(&va);
    bz_dataset_free(&te);
    return rc;
}
