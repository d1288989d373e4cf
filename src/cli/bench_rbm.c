/*
 * boltzcl bench rbm: seconds per training epoch of an RBM on real data, the
 * samples/s and GFLOP/s it reaches, and the share of the epoch spent in the
 * matrix products (measured by running the same products alone).
 */
#include "blas/gemm.h"
#include "cli/cli.h"
#include "cli/rbm_common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The products of one CD-k step, alone, for every batch of an epoch. */
static bz_status time_products(bz_rbm *r, size_t n, size_t B, unsigned k, double *secs)
{
    bz_context *c = r->ctx;
    const size_t nv = r->nv, nh = r->nh;
    bz_status st = bz_rbm_reserve(r, B);
    if (st || (st = bz_finish(c)))
        return st;
    double t0 = bz_now();
    for (size_t first = 0; first < n; first += B) {
        size_t rows = n - first < B ? n - first : B;
        if ((st = bz_rbm_up(r, &r->V0, rows, &r->H0)))
            return st;
        for (unsigned s = 0; s < k; s++)
            if ((st = bz_rbm_down(r, &r->Hs, rows, &r->V1)) || (st = bz_rbm_up(r, &r->V1, rows, &r->H1)))
                return st;
        if ((st = bz_sgemm(c, true, false, nv, nh, rows, 1.0f, &r->V0, 0, nv, &r->H0, 0, nh, 0.5f,
                           &r->vW, 0, nh)) ||
            (st = bz_sgemm(c, true, false, nv, nh, rows, -1.0f, &r->V1, 0, nv, &r->H1, 0, nh, 1.0f,
                           &r->vW, 0, nh)))
            return st;
    }
    st = bz_finish(c);
    *secs = bz_now() - t0;
    return st;
}

int bz_cmd_bench_rbm(int argc, char **argv)
{
    const char *data = "fashion-mnist", *device = NULL;
    size_t hidden = 500, batch = 100, k = 1, epochs = 1;
    bool pcd = false, json = false;
    const bz_opt opts[] = {
        {"data", BZ_OPT_STRING, &data, "D", "training data (fashion-mnist)"},
        {"hidden", BZ_OPT_SIZE, &hidden, "N", "hidden units (500)"},
        {"batch", BZ_OPT_SIZE, &batch, "N", "minibatch size (100)"},
        {"k", BZ_OPT_SIZE, &k, "N", "Gibbs steps (1)"},
        {"epochs", BZ_OPT_SIZE, &epochs, "N", "timed epochs, best kept (1)"},
        {"pcd", BZ_OPT_FLAG, &pcd, NULL, "persistent contrastive divergence"},
        {"json", BZ_OPT_FLAG, &json, NULL, "print the figures as JSON on stdout"},
        {"device", BZ_OPT_STRING, &device, "SEL", "device (P:D, gpu, cpu, or name part)"},
        {0},
    };
    const char *pos[1];
    size_t npos;
    int pr = bz_args_parse("bench rbm", "[options]", opts, argc, argv, pos, 0, &npos);
    if (pr)
        return pr > 0 ? 0 : 2;
    if (hidden == 0 || batch == 0 || k == 0 || k > 100 || epochs == 0) {
        fprintf(stderr, "boltzcl bench rbm: --hidden, --batch, --epochs >= 1 and 1 <= --k <= 100\n");
        return 2;
    }
    bz_prep prep = {.scale = true};
    bz_dataset ds;
    if (bz_cli_load("bench", data, &prep, &ds))
        return 1;
    bz_context *ctx = bz_cli_open(device, false);
    if (!ctx) {
        bz_dataset_free(&ds);
        return 1;
    }
    int rc = 1;
    bz_rbm *r = NULL;
    bz_data *d = NULL, *warm = NULL;
    bz_status st;
    if ((st = bz_rbm_create(ctx, ds.dim, hidden, BZ_UNIT_BERNOULLI, 1, &r)) ||
        (st = bz_rbm_init_visible_bias(r, ds.x, ds.n)) ||
        (st = bz_data_create(ctx, ds.x, ds.n, ds.dim, &d)) ||
        (st = bz_data_create(ctx, ds.x, ds.n < 2 * batch ? ds.n : 2 * batch, ds.dim, &warm))) {
        bz_cli_fail("bench", ctx, st);
        goto out;
    }
    bz_rbm_train_options o;
    bz_rbm_train_options_init(&o);
    o.batch_size = batch;
    o.k = (unsigned)k;
    o.pcd = pcd;
    /* Warm-up: compiles every kernel and product shape the epoch will use. */
    bz_rbm_epoch_stats es;
    if ((st = bz_rbm_train_epoch(r, warm, &o, 0, &es)) || (st = bz_finish(ctx))) {
        bz_cli_fail("bench", ctx, st);
        goto out;
    }
    double best = 1e30;
    for (size_t e = 0; e < epochs; e++) {
        double t0 = bz_now();
        if ((st = bz_rbm_train_epoch(r, d, &o, (unsigned)e, &es)) || (st = bz_finish(ctx))) {
            bz_cli_fail("bench", ctx, st);
            goto out;
        }
        double t = bz_now() - t0;
        best = t < best ? t : best;
    }
    double gemm_s;
    if ((st = time_products(r, ds.n, batch, (unsigned)k, &gemm_s))) {
        bz_cli_fail("bench", ctx, st);
        goto out;
    }
    /* Products per step: one up-pass, k down/up pairs, two gradient products. */
    double flops = 2.0 * (double)ds.n * (double)ds.dim * (double)hidden * (double)(3 + 2 * k);
    double gflops = flops / best * 1e-9;
    FILE *txt = json ? stderr : stdout;
    fprintf(txt, "device: %s (driver %s)\n", bz_device_name(ctx), bz_device_driver(ctx));
    fprintf(txt, "RBM %zu-%zu, %s-%zu, batch %zu, %zu rows of %s (%s):\n", ds.dim, hidden,
            pcd ? "PCD" : "CD", k, batch, ds.n, data,
            bz_data_on_device(d) ? "data on the device" : "data streamed");
    fprintf(txt, "  seconds per epoch   %.3f\n  samples/s           %.0f\n"
                 "  GFLOP/s (products)  %.2f\n  products alone      %.3f s (%.0f%% of the epoch)\n",
            best, (double)ds.n / best, gflops, gemm_s, 100.0 * gemm_s / best);
    if (json) {
        json_object *j = json_object_new_object();
        json_object_object_add(j, "device", json_object_new_string(bz_device_name(ctx)));
        json_object_object_add(j, "seconds_per_epoch", json_object_new_double(best));
        json_object_object_add(j, "samples_per_s", json_object_new_double((double)ds.n / best));
        json_object_object_add(j, "gflops", json_object_new_double(gflops));
        json_object_object_add(j, "gemm_seconds", json_object_new_double(gemm_s));
        json_object_object_add(j, "gemm_share", json_object_new_double(gemm_s / best));
        bz_cli_print_json(j);
        json_object_put(j);
    }
    rc = 0;
out:
    bz_data_free(d);
    bz_data_free(warm);
    bz_rbm_free(r);
    bz_context_free(ctx);
    bz_dataset_free(&ds);
    return rc;
}
