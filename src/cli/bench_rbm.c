/*
 * boltzcl bench rbm: seconds per training epoch of an RBM on real data, the
 * samples/s and GFLOP/s it reaches, and the share of the epoch spent in the
 * matrix products (measured by running the same products alone).
 *
 * With --distributed (under mpirun -np N): the per-step time until the local
 * gradient is on the host, the allreduce time, and the scaling efficiency
 * against rank 0 training the same epoch alone; --sweep also times the
 * allreduce over a range of sizes (including each layer of the
 * 784-500-500-2000 DBN) and fits t = alpha + beta * bytes.
 */
#include "blas/gemm.h"
#include "cli/cli.h"
#include "cli/rbm_common.h"
#include "dist/dist.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The products of one CD-k step, alone, for every batch of an epoch. */
static bz_status time_products(bz_rbm *model, size_t n, size_t B, unsigned k, double *secs)
{
    /* at the sizes training ran: the tile-aligned twin when there is one */
    bz_rbm *r = model->padded ? model->padded : model;
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
        /* Drain per batch, as training does, so the queue stays short. */
        if ((st = bz_finish(c)))
            return st;
    }
    st = bz_finish(c);
    *secs = bz_now() - t0;
    return st;
}

#ifdef BZ_HAVE_MPI
/* Least-squares fit of t = alpha + beta * bytes. */
static void fit_line(const double *x, const double *y, size_t n, double *alpha, double *beta)
{
    double sx = 0, sy = 0, sxx = 0, sxy = 0;
    for (size_t i = 0; i < n; i++) {
        sx += x[i];
        sy += y[i];
        sxx += x[i] * x[i];
        sxy += x[i] * y[i];
    }
    double den = (double)n * sxx - sx * sx;
    *beta = den != 0 ? ((double)n * sxy - sx * sy) / den : 0;
    *alpha = (sy - *beta * sx) / (double)n;
}

static void allreduce_sweep(bz_comm *comm, FILE *txt, json_object *j)
{
    /* Layers of the 784-500-500-2000 DBN: W + visible + hidden biases. */
    static const size_t layers[][2] = {{784, 500}, {500, 500}, {500, 2000}};
    static const size_t sweep[] = {1024, 16384, 65536, 262144, 1048576, 2097152};
    enum { REPS = 30, NS = sizeof sweep / sizeof *sweep };
    const bool root = comm->rank == 0;
    size_t total = 0;
    double best;
    json_object *jl = json_object_new_array();
    if (root)
        fprintf(txt, "  allreduce (median / fastest of %d, %d ranks):\n", REPS, comm->size);
    for (size_t i = 0; i < 3; i++) {
        size_t n = layers[i][0] * layers[i][1] + layers[i][0] + layers[i][1];
        total += n;
        double t = bz_dist_time_allreduce(comm, n, REPS, &best);
        if (root)
            fprintf(txt, "    %4zu-%-4zu layer  %8zu floats  %8.3f / %8.3f ms\n", layers[i][0],
                    layers[i][1], n, t * 1e3, best * 1e3);
        json_object *e = json_object_new_object();
        json_object_object_add(e, "floats", json_object_new_int64((int64_t)n));
        json_object_object_add(e, "median_s", json_object_new_double(t));
        json_object_object_add(e, "best_s", json_object_new_double(best));
        json_object_array_add(jl, e);
    }
    double tt = bz_dist_time_allreduce(comm, total, REPS, &best);
    if (root)
        fprintf(txt, "    whole DBN        %8zu floats  %8.3f / %8.3f ms\n", total, tt * 1e3,
                best * 1e3);
    double x[NS], y[NS], yb[NS];
    for (size_t i = 0; i < NS; i++) {
        x[i] = 4.0 * (double)sweep[i];
        y[i] = bz_dist_time_allreduce(comm, sweep[i], REPS, &yb[i]);
    }
    double alpha, beta, alpha_b, beta_b;
    fit_line(x, y, NS, &alpha, &beta);
    fit_line(x, yb, NS, &alpha_b, &beta_b);
    if (root) {
        fprintf(txt, "    fit t = alpha + beta * bytes over 4 KB..8 MB:\n"
                     "      medians  alpha %8.1f us  beta %.3f ns/byte (%.2f GB/s)\n"
                     "      fastest  alpha %8.1f us  beta %.3f ns/byte (%.2f GB/s)\n",
                alpha * 1e6, beta * 1e9, beta > 0 ? 1e-9 / beta : 0.0, alpha_b * 1e6,
                beta_b * 1e9, beta_b > 0 ? 1e-9 / beta_b : 0.0);
    }
    json_object_object_add(j, "allreduce_dbn_layers", jl);
    json_object_object_add(j, "allreduce_dbn_median_s", json_object_new_double(tt));
    json_object_object_add(j, "allreduce_alpha_s", json_object_new_double(alpha));
    json_object_object_add(j, "allreduce_beta_s_per_byte", json_object_new_double(beta));
    json_object_object_add(j, "allreduce_alpha_best_s", json_object_new_double(alpha_b));
    json_object_object_add(j, "allreduce_beta_best_s_per_byte", json_object_new_double(beta_b));
}

static int bench_dist(const char *data, const char *device, size_t hidden, size_t batch, size_t k,
                      size_t epochs, bool pcd, bool json, bool sweep)
{
    bz_comm *comm;
    if (bz_dist_init(NULL, NULL, &comm))
        return 1;
    const bool root = comm->rank == 0;
    bz_prep prep = {.scale = true};
    bz_dataset ds;
    if (bz_cli_load("bench", data, &prep, &ds))
        bz_dist_abort(comm, 1, "cannot load %s", data);
    char sel[300];
    bz_dist_pick_device(comm, device, sel, sizeof sel);
    bz_context *ctx = bz_cli_open(sel[0] ? sel : NULL, !root);
    if (!ctx)
        bz_dist_abort(comm, 1, "no OpenCL device");
    bz_rbm *r = NULL;
    bz_data *d = NULL, *warm = NULL;
    bz_status st;
    bz_rbm_train_options o;
    bz_rbm_train_options_init(&o);
    o.batch_size = batch;
    o.k = (unsigned)k;
    o.pcd = pcd;
    bz_rbm_epoch_stats es;
    if ((st = bz_rbm_create(ctx, ds.dim, hidden, BZ_UNIT_BERNOULLI, 1, &r)) ||
        (st = bz_rbm_init_visible_bias(r, ds.x, ds.n)) ||
        (st = bz_data_create(ctx, ds.x, ds.n, ds.dim, &d)) ||
        (st = bz_data_create(ctx, ds.x, ds.n < 2 * batch ? ds.n : 2 * batch, ds.dim, &warm)) ||
        (st = bz_rbm_train_epoch_dist(r, warm, &o, 0, &es, comm)) || (st = bz_finish(ctx))) {
        bz_cli_fail("bench", ctx, st);
        bz_dist_abort(comm, 1, "benchmark set-up failed (see the message above)");
    }
    /* Baseline: rank 0 trains the epoch alone while the others wait. */
    double t1 = 0;
    if (root) {
        if ((st = bz_rbm_train_epoch(r, warm, &o, 0, &es)) || (st = bz_finish(ctx))) {
            bz_cli_fail("bench", ctx, st);
            bz_dist_abort(comm, 1, "benchmark failed (see the message above)");
        }
        t1 = 1e30;
        for (size_t e = 0; e < epochs; e++) {
            double t0 = bz_now();
            if ((st = bz_rbm_train_epoch(r, d, &o, (unsigned)e, &es)) || (st = bz_finish(ctx))) {
                bz_cli_fail("bench", ctx, st);
                bz_dist_abort(comm, 1, "benchmark failed (see the message above)");
            }
            double t = bz_now() - t0;
            t1 = t < t1 ? t : t1;
        }
    }
    if ((st = bz_rbm_dist_sync(r, comm)))
        bz_dist_abort(comm, 1, "%s", bz_last_error(ctx));
    double tn = 1e30, comp = 0, red = 0;
    size_t steps = 1;
    for (size_t e = 0; e < epochs; e++) {
        comm->steps = 0;
        comm->compute_s = comm->reduce_s = 0;
        bz_dist_barrier();
        double t0 = bz_now();
        if ((st = bz_rbm_train_epoch_dist(r, d, &o, (unsigned)e, &es, comm))) {
            bz_cli_fail("bench", ctx, st);
            bz_dist_abort(comm, 1, "benchmark failed (see the message above)");
        }
        double t = bz_now() - t0;
        t = bz_dist_max(t);
        if (t < tn) {
            tn = t;
            comp = comm->compute_s;
            red = comm->reduce_s;
            steps = comm->steps ? comm->steps : 1;
        }
    }
    double eff = t1 / ((double)comm->size * tn);
    double flops = 2.0 * (double)ds.n * (double)ds.dim * (double)hidden * (double)(3 + 2 * k);
    FILE *txt = json ? stderr : stdout;
    json_object *j = json_object_new_object();
    if (root) {
        fprintf(txt, "device (rank 0): %s (driver %s)\n", bz_device_name(ctx),
                bz_device_driver(ctx));
        fprintf(txt, "RBM %zu-%zu, %s-%zu, global batch %zu, %zu rows of %s, %d ranks:\n",
                ds.dim, hidden, pcd ? "PCD" : "CD", k, batch, ds.n, data, comm->size);
        fprintf(txt, "  one rank alone       %.3f s per epoch\n"
                     "  %2d ranks             %.3f s per epoch (%.0f samples/s, %.2f GFLOP/s)\n"
                     "  per step (rank 0)    compute %.3f ms, allreduce %.3f ms of %zu floats\n"
                     "  speed-up             %.2fx, scaling efficiency %.0f%%\n"
                     "  allreduce share      %.0f%% of a step\n",
                t1, comm->size, tn, (double)ds.n / tn, flops / tn * 1e-9, comp / (double)steps * 1e3,
                red / (double)steps * 1e3, comm->reduce_floats, t1 / tn, 100 * eff,
                100 * red / (comp + red));
        json_object_object_add(j, "ranks", json_object_new_int(comm->size));
        json_object_object_add(j, "device", json_object_new_string(bz_device_name(ctx)));
        json_object_object_add(j, "seconds_per_epoch_1", json_object_new_double(t1));
        json_object_object_add(j, "seconds_per_epoch_n", json_object_new_double(tn));
        json_object_object_add(j, "compute_s_per_step",
                               json_object_new_double(comp / (double)steps));
        json_object_object_add(j, "allreduce_s_per_step", json_object_new_double(red / (double)steps));
        json_object_object_add(j, "allreduce_floats", json_object_new_int64((int64_t)comm->reduce_floats));
        json_object_object_add(j, "scaling_efficiency", json_object_new_double(eff));
    }
    if (sweep)
        allreduce_sweep(comm, txt, j);
    if (root && json)
        bz_cli_print_json(j);
    json_object_put(j);
    bz_data_free(d);
    bz_data_free(warm);
    bz_rbm_free(r);
    bz_context_free(ctx);
    bz_dataset_free(&ds);
    bz_dist_finalize(comm);
    return 0;
}
#endif

int bz_cmd_bench_rbm(int argc, char **argv)
{
    const char *data = "fashion-mnist", *device = NULL;
    size_t hidden = 500, batch = 100, k = 1, epochs = 1;
    bool pcd = false, json = false, distributed = false, sweep = false, no_pad = false;
    const bz_opt opts[] = {
        {"data", BZ_OPT_STRING, &data, "D", "training data (fashion-mnist)"},
        {"hidden", BZ_OPT_SIZE, &hidden, "N", "hidden units (500)"},
        {"batch", BZ_OPT_SIZE, &batch, "N", "minibatch size (100)"},
        {"k", BZ_OPT_SIZE, &k, "N", "Gibbs steps (1)"},
        {"epochs", BZ_OPT_SIZE, &epochs, "N", "timed epochs, best kept (1)"},
        {"pcd", BZ_OPT_FLAG, &pcd, NULL, "persistent contrastive divergence"},
        {"no-pad", BZ_OPT_FLAG, &no_pad, NULL,
         "train at the model's sizes, not padded to the GEMM tiles (to compare)"},
        {"json", BZ_OPT_FLAG, &json, NULL, "print the figures as JSON on stdout"},
        {"device", BZ_OPT_STRING, &device, "SEL", "device (P:D, gpu, cpu, or name part)"},
        {"distributed", BZ_OPT_FLAG, &distributed, NULL,
         "under mpirun: compute and allreduce time per step, scaling efficiency"},
        {"sweep", BZ_OPT_FLAG, &sweep, NULL,
         "with --distributed: allreduce cost by size (alpha + beta * bytes)"},
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
    if (distributed || sweep) {
#ifdef BZ_HAVE_MPI
        return bench_dist(data, device, hidden, batch, k, epochs, pcd, json, sweep);
#else
        fprintf(stderr, "boltzcl bench rbm: --distributed needs a build with MPI (install "
                        "libopenmpi-dev and reconfigure with -Dmpi=enabled)\n");
        return 2;
#endif
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
    o.no_padding = no_pad;
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
    char layout[64] = ", not padded";
    if (r->padded)
        snprintf(layout, sizeof layout, ", trained as %zu-%zu", r->padded->nv, r->padded->nh);
    fprintf(txt, "RBM %zu-%zu, %s-%zu, batch %zu, %zu rows of %s (%s%s):\n", ds.dim, hidden,
            pcd ? "PCD" : "CD", k, batch, ds.n, data,
            bz_data_on_device(d) ? "data on the device" : "data streamed", layout);
    fprintf(txt, "  seconds per epoch   %.3f\n  samples/s           %.0f\n"
                 "  GFLOP/s (products)  %.2f\n  products alone      %.3f s (%.0f%% of the epoch)\n",
            best, (double)ds.n / best, gflops, gemm_s, 100.0 * gemm_s / best);
    if (json) {
        json_object *j = json_object_new_object();
        json_object_object_add(j, "device", json_object_new_string(bz_device_name(ctx)));
        json_object_object_add(j, "padded", json_object_new_boolean(r->padded != NULL));
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
