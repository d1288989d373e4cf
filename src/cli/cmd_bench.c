/*
 * boltzcl bench: figures, not pass/fail. GFLOP/s of SGEMM at the shapes an
 * RBM step uses and GB/s of the element-wise kernels, best of several runs
 * after a warm-up, each printed with its size and the device.
 */
#include "blas/gemm.h"
#include "cli/cli.h"
#include "cli/rbm_common.h"
#include "engine/engine.h"
#include "ops/ops.h"
#include "tuning/apply.h"
#include "tuning/search.h"

#ifdef BZ_HAVE_OPENBLAS
#include <cblas.h>
#endif
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct gemm_shape {
    char what[80];
    size_t m, n, k;
    bool ta, tb;
} gemm_shape;

enum { N_SHAPES = 4 };

/* The products of one CD step of a 784-500 RBM with batch B (100 unless
 * --batch says otherwise), as the tuner times them. */
static void rbm_shapes(gemm_shape s[N_SHAPES], size_t B)
{
    const gemm_shape t[N_SHAPES] = {
        {"hidden  V.W", B, 500, 784, false, false},
        {"visible H.W^T", B, 784, 500, false, true},
        {"grad    V^T.H", 784, 500, B, true, false},
        {"grad2   V^T.H", 784, 500, 2 * B, true, false},
    };
    for (int i = 0; i < N_SHAPES; i++) {
        s[i] = t[i];
        char dims[40];
        snprintf(dims, sizeof dims, "(%zux%zu . %zux%zu)", s[i].m, s[i].k, s[i].k, s[i].n);
        snprintf(s[i].what, sizeof s[i].what, "%-16.16s %s", t[i].what, dims);
    }
}

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

#ifdef BZ_HAVE_OPENBLAS
/* The host's practical SGEMM ceiling, same shapes, same best-of rule. */
static double time_openblas(const gemm_shape *s, int reps)
{
    float *a = malloc(s->m * s->k * 4), *b = malloc(s->k * s->n * 4), *c = malloc(s->m * s->n * 4);
    double best = 0;
    if (a && b && c) {
        for (size_t i = 0; i < s->m * s->k; i++)
            a[i] = 0.5f;
        for (size_t i = 0; i < s->k * s->n; i++)
            b[i] = 0.5f;
        best = 1e30;
        int lda = (int)(s->ta ? s->m : s->k), ldb = (int)(s->tb ? s->k : s->n);
        for (int r = -1; r < reps; r++) {
            double t0 = bz_now();
            cblas_sgemm(CblasRowMajor, s->ta ? CblasTrans : CblasNoTrans,
                        s->tb ? CblasTrans : CblasNoTrans, (int)s->m, (int)s->n, (int)s->k, 1.0f,
                        a, lda, b, ldb, 0.0f, c, (int)s->n);
            double t = bz_now() - t0;
            if (r >= 0 && t < best)
                best = t;
        }
    }
    free(a);
    free(b);
    free(c);
    return best;
}
#endif

static void tuning_warn(void *user, const char *msg)
{
    fprintf(user, "warning: %s\n", msg);
}

/* The entry a context would apply, applied now on top of CLBlast's built-in
 * values (the context was opened with tuning off so that those could be
 * measured first in the same process). */
static bool apply_tuning(bz_context *ctx, const char *explicit_file, size_t batch, char *source,
                         size_t size)
{
    bz_tuning_db db = {0};
    bz_tuning_load_search_path(&db, explicit_file, tuning_warn, stderr);
    bz_tuning_target t;
    bz_tuning_target_of(ctx, &t);
    const bz_tuning_entry *e = bz_tuning_db_match(&db, &t);
    t.batch = batch;
    const bz_tuning_entry *b = bz_tuning_db_match(&db, &t); /* laid over e, as in training */
    snprintf(source, size, "none matches this device");
    size_t used = 0;
    for (int i = 0; i < 2; i++) {
        const bz_tuning_entry *x = i ? b : e;
        if (!x)
            continue;
        char why[256];
        if (bz_tuning_apply_params(ctx, &x->params, why, sizeof why))
            fprintf(stderr, "warning: tuning entry %s partly refused: %s\n", x->source, why);
        int w = snprintf(source + used, size - used, "%s%s%s", used ? " + " : "", x->source,
                         i ? " (batch entry)" : "");
        used += w > 0 && (size_t)w < size - used ? (size_t)w : 0;
    }
    bz_tuning_db_free(&db);
    return e || b;
}

static double gflops_of(const gemm_shape *s, double t)
{
    return t > 0 && t < 1e29 ? 2.0 * (double)s->m * (double)s->n * (double)s->k / t * 1e-9 : 0.0;
}

static double ratio(double a, double b)
{
    return a > 0 && b > 0 ? a / b : 0.0;
}

/* Built-in, tuned and OpenBLAS rates from one run, in that order: OpenBLAS
 * last because its threads keep spinning for a while after each call. */
static int bench_gemm(bz_context *ctx, const char *explicit_file, int reps, size_t batch,
                      FILE *txt, json_object *out)
{
    enum { N = N_SHAPES };
    gemm_shape shapes[N];
    rbm_shapes(shapes, batch);
    double t_builtin[N], t_tuned[N], t_blas[N] = {0};
    for (size_t i = 0; i < N; i++) {
        bz_status st = time_gemm(ctx, &shapes[i], reps, &t_builtin[i]);
        if (st)
            return bz_cli_fail("bench", ctx, st);
    }
    char source[1400];
    bool tuned = apply_tuning(ctx, explicit_file, batch, source, sizeof source);
    for (size_t i = 0; i < N; i++) {
        t_tuned[i] = 0;
        bz_status st = tuned ? time_gemm(ctx, &shapes[i], reps, &t_tuned[i]) : BZ_OK;
        if (st)
            return bz_cli_fail("bench", ctx, st);
    }
#ifdef BZ_HAVE_OPENBLAS
    for (size_t i = 0; i < N; i++)
        t_blas[i] = time_openblas(&shapes[i], reps);
#endif
    fprintf(txt, "\nSGEMM GFLOP/s, best of %d; tuning entry: %s\n", reps, source);
    fprintf(txt, "  %-38s %9s %7s %9s %8s %9s\n", "", "built-in", "tuned", "OpenBLAS",
            "tuned/bi", "tuned/OB");
    json_object *arr = json_object_new_array(), *old = json_object_new_array();
    for (size_t i = 0; i < N; i++) {
        const gemm_shape *s = &shapes[i];
        double gb = gflops_of(s, t_builtin[i]), gt = gflops_of(s, t_tuned[i]);
        double go = gflops_of(s, t_blas[i]);
        /* a column with no figure (no tuning entry, no OpenBLAS) prints "-" */
        char cgt[16] = "-", cgo[16] = "-", crb[16] = "-", cro[16] = "-";
        if (gt > 0) {
            snprintf(cgt, sizeof cgt, "%.2f", gt);
            snprintf(crb, sizeof crb, "%.2fx", ratio(gt, gb));
        }
        if (go > 0)
            snprintf(cgo, sizeof cgo, "%.2f", go);
        if (gt > 0 && go > 0)
            snprintf(cro, sizeof cro, "%.2fx", ratio(gt, go));
        fprintf(txt, "  %-38s %9.2f %7s %9s %8s %9s\n", s->what, gb, cgt, cgo, crb, cro);
        json_object *o = json_object_new_object();
        json_object_object_add(o, "m", json_object_new_int64((int64_t)s->m));
        json_object_object_add(o, "n", json_object_new_int64((int64_t)s->n));
        json_object_object_add(o, "k", json_object_new_int64((int64_t)s->k));
        json_object_object_add(o, "trans_a", json_object_new_boolean(s->ta));
        json_object_object_add(o, "trans_b", json_object_new_boolean(s->tb));
        json_object_object_add(o, "gflops_builtin", json_object_new_double(gb));
        json_object_object_add(o, "gflops_tuned", tuned ? json_object_new_double(gt) : NULL);
        json_object_object_add(o, "gflops_openblas", go > 0 ? json_object_new_double(go) : NULL);
        json_object_array_add(arr, o);
        /* the earlier per-product layout, with the rate now in force */
        double t = tuned ? t_tuned[i] : t_builtin[i];
        json_object *g = json_object_new_object();
        json_object_object_add(g, "m", json_object_new_int64((int64_t)s->m));
        json_object_object_add(g, "n", json_object_new_int64((int64_t)s->n));
        json_object_object_add(g, "k", json_object_new_int64((int64_t)s->k));
        json_object_object_add(g, "trans_a", json_object_new_boolean(s->ta));
        json_object_object_add(g, "trans_b", json_object_new_boolean(s->tb));
        json_object_object_add(g, "seconds", json_object_new_double(t));
        json_object_object_add(g, "gflops", json_object_new_double(gflops_of(s, t)));
        json_object_array_add(old, g);
    }
    json_object_object_add(out, "tuning", json_object_new_string(source));
    json_object_object_add(out, "batch", json_object_new_int64((int64_t)batch));
    json_object_object_add(out, "shapes", arr);
    json_object_object_add(out, "gemm", old);
    return 0;
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
    if (argc > 0 && !strcmp(argv[0], "rbm"))
        return bz_cmd_bench_rbm(argc - 1, argv + 1);
    if (argc > 0 && !strcmp(argv[0], "dbm")) return bz_cmd_bench_dbm(argc - 1, argv + 1);
    if (argc > 0 && !strcmp(argv[0], "dybm"))
        return bz_cmd_bench_dybm(argc - 1, argv + 1);
    const char *device = NULL;
    long reps = 10, batch = 100;
    bool json = false;
    const bz_opt opts[] = {
        {"device", BZ_OPT_STRING, &device, "SEL", "device (P:D, gpu, cpu, or name part)"},
        {"reps", BZ_OPT_INT, &reps, "N", "timed repetitions per case, best kept (default 10)"},
        {"batch", BZ_OPT_INT, &batch, "N",
         "gemm: the products of minibatches of N rows, tuned with the batch entry for N when "
         "there is one (default 100)"},
        {"json", BZ_OPT_FLAG, &json, NULL, "print the figures as one JSON object"},
        {0},
    };
    const char *pos[1];
    size_t npos = 0;
    int r = bz_args_parse("bench", "[gemm|ops|all] [options]  (also: bench rbm, bench dbm, bench dybm)", opts, argc, argv, pos, 1, &npos);
    if (r)
        return r > 0 ? 0 : 2;
    const char *what = npos ? pos[0] : "all";
    bool do_gemm = !strcmp(what, "all") || !strcmp(what, "gemm");
    bool do_ops = !strcmp(what, "all") || !strcmp(what, "ops");
    if (!do_gemm && !do_ops) {
        fprintf(stderr, "boltzcl bench: unknown benchmark '%s' (gemm, ops or all)\n", what);
        return 2;
    }
    if (reps < 1 || reps > 100000 || batch < 1 || batch > 65536) {
        fprintf(stderr, "boltzcl bench: --reps must be 1..100000 and --batch 1..65536\n");
        return 2;
    }
    /* For gemm the context starts with CLBlast's own parameters, so that both
     * they and the tuned ones are measured in this one process. */
    char saved[1024];
    const char *explicit_tuning = NULL;
    if (getenv("BOLTZCL_TUNING_FILE")) { /* copied: setenv may free the original */
        snprintf(saved, sizeof saved, "%s", getenv("BOLTZCL_TUNING_FILE"));
        explicit_tuning = saved;
    }
    if (do_gemm)
        setenv("BOLTZCL_TUNING_FILE", "off", 1);
    bz_context *ctx = bz_cli_open(device, false);
    if (do_gemm) {
        if (explicit_tuning)
            setenv("BOLTZCL_TUNING_FILE", explicit_tuning, 1);
        else
            unsetenv("BOLTZCL_TUNING_FILE");
    }
    if (!ctx)
        return 1;
    json_object *out = json_object_new_object();
    json_object_object_add(out, "device", json_object_new_string(bz_device_name(ctx)));
    json_object_object_add(out, "driver", json_object_new_string(bz_device_driver(ctx)));
    FILE *txt = json ? stderr : stdout;
    fprintf(txt, "device: %s (driver %s)\n", bz_device_name(ctx), bz_device_driver(ctx));
    int rc = 0;
    if (do_gemm)
        rc = bench_gemm(ctx, explicit_tuning, (int)reps, (size_t)batch, txt, out);
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
        printf("%s\n", bz_cli_json_text(out));
    json_object_put(out);
    bz_context_free(ctx);
    return rc;
}
