/*
 * boltzcl bench: figures, not pass/fail. GFLOP/s of SGEMM at the shapes an
 * RBM step uses and GB/s of the element-wise kernels, best of several runs
 * after a warm-up, each printed with its size and the device.
 */
#include "blas/gemm.h"
#include "cli/cli.h"
#include "engine/engine.h"
#include "ops/ops.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct gemm_shape {
    const char *what;
    size_t m, n, k;
    bool ta, tb;
} gemm_shape;

/* The products of one CD step of a 784-500 RBM with batch 100. */
static const gemm_shape rbm_shapes[] = {
    {"hidden  V.W      (100x784 . 784x500)", 100, 500, 784, false, false},
    {"visible H.W^T    (100x500 . 500x784)", 100, 784, 500, false, true},
    {"grad    V^T.H    (784x100 . 100x500)", 784, 500, 100, true, false},
    {"grad2   V^T.H    (784x200 . 200x500)", 784, 500, 200, true, false},
};

static bz_status fill_random(bz_context *ctx, bz_buf *b, size_t n, uint64_t stream)
{
    bz_status st = bz_op_philox_u32(ctx, b, n, (bz_rng_pos){42, stream, 0});
    if (st)
        return st;
    /* Reinterpret the bits as small floats: u32 -> [0,1) via the scale kernel
     * would need a conversion kernel; uniform data is not needed for timing, so
     * a fill with a constant keeps the numbers finite. */
    return bz_buf_fill(ctx, b, 0.5f, 0, n);
}

static bz_status time_gemm(bz_context *ctx, const gemm_shape *s, int reps, double *best)
{
    bz_buf a = {0}, b = {0}, c = {0};
    bz_status st;
    if ((st = bz_buf_alloc(ctx, &a, s->m * s->k)) || (st = bz_buf_alloc(ctx, &b, s->k * s->n)) ||
        (st = bz_buf_alloc(ctx, &c, s->m * s->n)))
        goto out;
    if ((st = fill_random(ctx, &a, s->m * s->k, 1)) || (st = fill_random(ctx, &b, s->k * s->n, 2)) ||
        (st = bz_buf_fill(ctx, &c, 0.0f, 0, s->m * s->n)))
        goto out;
    size_t lda = s->ta ? s->m : s->k, ldb = s->tb ? s->k : s->n;
    *best = 1e30;
    for (int r = -1; r < reps; r++) { /* r = -1 is the warm-up */
        if ((st = bz_finish(ctx)))
            goto out;
        double t0 = bz_now();
        if ((st = bz_sgemm(ctx, s->ta, s->tb, s->m, s->n, s->k, 1.0f, &a, 0, lda, &b, 0, ldb, 0.0f,
                           &c, 0, s->n)) ||
            (st = bz_finish(ctx)))
            goto out;
        double t = bz_now() - t0;
        if (r >= 0 && t < *best)
            *best = t;
    }
out:
    bz_buf_release(&a);
    bz_buf_release(&b);
    bz_buf_release(&c);
    return st;
}

typedef struct ew_case {
    const char *what;
    int kind;
    double bytes_per_elem;
} ew_case;

static bz_status time_elementwise(bz_context *ctx, const ew_case *e, size_t n, int reps,
                                  double *best)
{
    bz_buf x = {0}, y = {0}, z = {0}, b = {0};
    const size_t cols = 500, rows = n / cols;
    bz_status st;
    if ((st = bz_buf_alloc(ctx, &x, n)) || (st = bz_buf_alloc(ctx, &y, n)) ||
        (st = bz_buf_alloc(ctx, &z, n)) || (st = bz_buf_alloc(ctx, &b, cols)))
        goto out;
    if ((st = bz_buf_fill(ctx, &x, 0.25f, 0, n)) || (st = bz_buf_fill(ctx, &y, 0.5f, 0, n)) ||
        (st = bz_buf_fill(ctx, &z, 0.0f, 0, n)) || (st = bz_buf_fill(ctx, &b, 0.1f, 0, cols)))
        goto out;
    *best = 1e30;
    for (int r = -1; r < reps; r++) {
        if ((st = bz_finish(ctx)))
            goto out;
        double t0 = bz_now();
        switch (e->kind) {
        case 0: st = bz_op_bias_sigmoid(ctx, &y, &x, &b, rows, cols); break;
        case 1: st = bz_op_bernoulli(ctx, &y, &x, n, (bz_rng_pos){1, 2, 0}); break;
        case 2: st = bz_op_bias_sigmoid_bernoulli(ctx, &y, &z, &x, &b, rows, cols,
                                                  (bz_rng_pos){1, 2, 0});
            break;
        case 3: st = bz_op_momentum_update(ctx, &x, &y, &z, n, 1e-6f, 0.9f, 1e-4f); break;
        default: st = bz_op_gaussian(ctx, &y, &x, n, (bz_rng_pos){1, 2, 0}); break;
        }
        if (st || (st = bz_finish(ctx)))
            goto out;
        double t = bz_now() - t0;
        if (r >= 0 && t < *best)
            *best = t;
    }
out:
    bz_buf_release(&x);
    bz_buf_release(&y);
    bz_buf_release(&z);
    bz_buf_release(&b);
    return st;
}

int bz_cmd_bench(int argc, char **argv)
{
    const char *device = NULL;
    long reps = 10;
    bool json = false;
    const bz_opt opts[] = {
        {"device", BZ_OPT_STRING, &device, "SEL", "device (P:D, gpu, cpu, or name part)"},
        {"reps", BZ_OPT_INT, &reps, "N", "timed repetitions per case, best kept (default 10)"},
        {"json", BZ_OPT_FLAG, &json, NULL, "print the figures as one JSON object"},
        {0},
    };
    const char *pos[1];
    size_t npos = 0;
    int r = bz_args_parse("bench", "[gemm|ops|all] [options]", opts, argc, argv, pos, 1, &npos);
    if (r)
        return r > 0 ? 0 : 2;
    const char *what = npos ? pos[0] : "all";
    bool do_gemm = !strcmp(what, "all") || !strcmp(what, "gemm");
    bool do_ops = !strcmp(what, "all") || !strcmp(what, "ops");
    if (!do_gemm && !do_ops) {
        fprintf(stderr, "boltzcl bench: unknown benchmark '%s' (gemm, ops or all)\n", what);
        return 2;
    }
    if (reps < 1 || reps > 100000) {
        fprintf(stderr, "boltzcl bench: --reps must be between 1 and 100000\n");
        return 2;
    }
    bz_context *ctx = bz_cli_open(device, false);
    if (!ctx)
        return 1;
    json_object *out = json_object_new_object();
    json_object_object_add(out, "device", json_object_new_string(bz_device_name(ctx)));
    json_object_object_add(out, "driver", json_object_new_string(bz_device_driver(ctx)));
    FILE *txt = json ? stderr : stdout;
    fprintf(txt, "device: %s (driver %s)\n", bz_device_name(ctx), bz_device_driver(ctx));
    int rc = 0;
    if (do_gemm) {
        json_object *arr = json_object_new_array();
        fprintf(txt, "\nSGEMM (CLBlast), best of %ld:\n", reps);
        for (size_t i = 0; i < sizeof rbm_shapes / sizeof *rbm_shapes; i++) {
            const gemm_shape *s = &rbm_shapes[i];
            double t;
            bz_status st = time_gemm(ctx, s, (int)reps, &t);
            if (st) {
                rc = bz_cli_fail("bench", ctx, st);
                break;
            }
            double gf = 2.0 * (double)s->m * (double)s->n * (double)s->k / t * 1e-9;
            fprintf(txt, "  %-40s %8.3f ms  %7.2f GFLOP/s\n", s->what, t * 1e3, gf);
            json_object *o = json_object_new_object();
            json_object_object_add(o, "m", json_object_new_int64((int64_t)s->m));
            json_object_object_add(o, "n", json_object_new_int64((int64_t)s->n));
            json_object_object_add(o, "k", json_object_new_int64((int64_t)s->k));
            json_object_object_add(o, "trans_a", json_object_new_boolean(s->ta));
            json_object_object_add(o, "trans_b", json_object_new_boolean(s->tb));
            json_object_object_add(o, "seconds", json_object_new_double(t));
            json_object_object_add(o, "gflops", json_object_new_double(gf));
            json_object_array_add(arr, o);
        }
        json_object_object_add(out, "gemm", arr);
    }
    if (do_ops && rc == 0) {
        static const ew_case cases[] = {
            {"bias_sigmoid", 0, 8},
            {"bernoulli", 1, 8},
            {"bias_sigmoid_bernoulli", 2, 12},
            {"momentum_update", 3, 20},
            {"gaussian", 4, 8},
        };
        const size_t n = (size_t)1 << 22;
        json_object *arr = json_object_new_array();
        fprintf(txt, "\nelement-wise kernels, %zu elements, best of %ld:\n", n, reps);
        for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
            double t;
            bz_status st = time_elementwise(ctx, &cases[i], n, (int)reps, &t);
            if (st) {
                rc = bz_cli_fail("bench", ctx, st);
                break;
            }
            double gbs = cases[i].bytes_per_elem * (double)n / t * 1e-9;
            fprintf(txt, "  %-26s %8.3f ms  %7.2f GB/s\n", cases[i].what, t * 1e3, gbs);
            json_object *o = json_object_new_object();
            json_object_object_add(o, "kernel", json_object_new_string(cases[i].what));
            json_object_object_add(o, "elements", json_object_new_int64((int64_t)n));
            json_object_object_add(o, "seconds", json_object_new_double(t));
            json_object_object_add(o, "gb_per_s", json_object_new_double(gbs));
            json_object_array_add(arr, o);
        }
        json_object_object_add(out, "elementwise", arr);
    }
    if (json && rc == 0)
        printf("%s\n", json_object_to_json_string_ext(out, JSON_C_TO_STRING_PLAIN));
    json_object_put(out);
    bz_context_free(ctx);
    return rc;
}
