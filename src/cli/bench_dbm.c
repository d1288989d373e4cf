/*
 * boltzcl bench dbm: seconds per joint-training epoch of a DBM on real data
 * and the share of that time spent in the matrix products, measured by
 * timing one more epoch with every launch timed synchronously
 * (BOLTZCL_PROFILE's mechanism) and summing the products' entries.
 */
#include "cli/cli.h"
#include "cli/rbm_common.h"
#include "models/dbm.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int bz_cmd_bench_dbm(int argc, char **argv)
{
    const char *data = "fashion-mnist", *device = NULL, *layers = "500,1000";
    size_t batch = 100, chains = 100, mf = 10, gibbs = 5, rows = 10000, epochs = 1;
    bool json = false;
    const bz_opt opts[] = {
        {"data", BZ_OPT_STRING, &data, "D", "training data (fashion-mnist, binarised)"},
        {"layers", BZ_OPT_STRING, &layers, "N,N[,N]", "hidden layers (500,1000)"},
        {"rows", BZ_OPT_SIZE, &rows, "N", "rows per epoch, 0: all (10000)"},
        {"batch", BZ_OPT_SIZE, &batch, "N", "minibatch size (100)"},
        {"chains", BZ_OPT_SIZE, &chains, "N", "persistent chains (100)"},
        {"mf-iters", BZ_OPT_SIZE, &mf, "N", "mean-field sweeps, run in full (10)"},
        {"gibbs-steps", BZ_OPT_SIZE, &gibbs, "N", "Gibbs sweeps of the chains per update (5)"},
        {"epochs", BZ_OPT_SIZE, &epochs, "N", "timed epochs, best kept (1)"},
        {"json", BZ_OPT_FLAG, &json, NULL, "print the figures as JSON on stdout"},
        {"device", BZ_OPT_STRING, &device, "SEL", "device (P:D, gpu, cpu, or name part)"},
        {0},
    };
    const char *pos[1];
    size_t npos;
    int pr = bz_args_parse("bench dbm", "[options]", opts, argc, argv, pos, 0, &npos);
    if (pr)
        return pr > 0 ? 0 : 2;
    size_t sizes[BZ_DBM_MAX_HIDDEN + 1], L;
    if (bz_layers_parse(layers, 2, BZ_DBM_MAX_HIDDEN, sizes + 1, &L) || batch == 0 || chains == 0 || mf == 0 ||
        mf > 1000 || epochs == 0 || gibbs == 0 || gibbs > 50) {
        fprintf(stderr, "boltzcl bench dbm: --layers takes 2 or 3 sizes separated by single commas; --batch, --chains, "
                        "--epochs >= 1, 1 <= --mf-iters <= 1000, 1 <= --gibbs-steps <= 50\n");
        return 2;
    }
    bz_prep prep = {.scale = true, .binarize = BZ_BIN_THRESHOLD, .threshold = 0.5f};
    bz_dataset ds;
    if (bz_cli_load("bench", data, &prep, &ds))
        return 1;
    if (rows && rows < ds.n)
        ds.n = rows;
    bz_context *ctx = bz_cli_open(device, false);
    if (!ctx) {
        bz_dataset_free(&ds);
        return 1;
    }
    sizes[0] = ds.dim;
    int rc = 1;
    bz_dbm *d = NULL;
    bz_data *dd = NULL, *warm = NULL;
    bz_status st;
    bz_dbm_train_options o;
    bz_dbm_train_options_init(&o);
    o.batch_size = batch;
    o.chains = chains;
    o.mf_iters = (unsigned)mf;
    o.gibbs_steps = (unsigned)gibbs;
    o.mf_tol = 0.0f; /* every sweep, so that epochs are comparable */
    if ((st = bz_dbm_create(ctx, sizes, L, 1, &d)) ||
        (st = bz_data_create(ctx, ds.x, ds.n, ds.dim, &dd)) ||
        (st = bz_data_create(ctx, ds.x, ds.n < 2 * batch ? ds.n : 2 * batch, ds.dim, &warm)))
        goto fail;
    bz_dbm_epoch_stats es;
    if ((st = bz_dbm_train_epoch(d, warm, &o, 0, &es)) || (st = bz_finish(ctx)))
        goto fail;
    double best = 1e30;
    for (size_t e = 0; e < epochs; e++) {
        double t0 = bz_now();
        if ((st = bz_dbm_train_epoch(d, dd, &o, (unsigned)e, &es)) || (st = bz_finish(ctx)))
            goto fail;
        double t = bz_now() - t0;
        best = t < best ? t : best;
    }
    /* One profiled epoch: the share of launch time in the products. */
    bool was = ctx->profile;
    size_t n_prof = ctx->n_prof;
    ctx->profile = true;
    ctx->n_prof = 0;
    double t0 = bz_now();
    st = bz_dbm_train_epoch(d, dd, &o, 0, &es);
    if (!st)
        st = bz_finish(ctx);
    double prof_wall = bz_now() - t0, gemm = 0, all = 0;
    for (size_t i = 0; i < ctx->n_prof; i++) {
        all += ctx->prof[i].seconds;
        if (!strncmp(ctx->prof[i].name, "sgemm", 5))
            gemm += ctx->prof[i].seconds;
    }
    ctx->profile = was;
    ctx->n_prof = was ? ctx->n_prof : n_prof;
    if (st)
        goto fail;
    double share = all > 0 ? gemm / all : 0;
    FILE *txt = json ? stderr : stdout;
    fprintf(txt, "device: %s (driver %s)\n", bz_device_name(ctx), bz_device_driver(ctx));
    fprintf(txt, "DBM %zu", ds.dim);
    for (size_t l = 1; l <= L; l++)
        fprintf(txt, "-%zu", sizes[l]);
    fprintf(txt, ", batch %zu, %zu chains x %zu Gibbs sweeps, %zu mean-field sweeps, %zu rows "
                 "of %s:\n", batch, chains, gibbs, mf, ds.n, data);
    fprintf(txt, "  seconds per epoch   %.3f\n  samples/s           %.0f\n"
                 "  products            %.0f%% of launch time (profiled epoch: %.3f s, %.3f s "
                 "in products)\n",
            best, (double)ds.n / best, 100.0 * share, prof_wall, gemm);
    if (json) {
        json_object *j = json_object_new_object();
        json_object_object_add(j, "device", json_object_new_string(bz_device_name(ctx)));
        json_object_object_add(j, "seconds_per_epoch", json_object_new_double(best));
        json_object_object_add(j, "rows", json_object_new_int64((int64_t)ds.n));
        json_object_object_add(j, "samples_per_s", json_object_new_double((double)ds.n / best));
        json_object_object_add(j, "gemm_share", json_object_new_double(share));
        json_object_object_add(j, "gemm_seconds_profiled", json_object_new_double(gemm));
        bz_cli_print_json(j);
        json_object_put(j);
    }
    rc = 0;
    goto out;
fail:
    bz_cli_fail("bench", ctx, st);
out:
    bz_data_free(dd);
    bz_data_free(warm);
    bz_dbm_free(d);
    bz_context_free(ctx);
    bz_dataset_free(&ds);
    return rc;
}
