#include "tuner/tune_worker.h"
#include "blas/gemm.h"
#include "engine/engine.h"
#include "ops/ops.h"
#include "ref/reference.h"
#include "tuning/apply.h"
#include "tuner/space.h"

#include <clblast_c.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

typedef struct shape_data {
    bz_buf a, b, c;
    float *ref;
    size_t lda, ldb;
} shape_data;

static bz_context *ctx;
static FILE *out;

static void reply(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void reply(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfprintf(out, fmt, ap);
    va_end(ap);
    fputc('\n', out);
    fflush(out);
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void fill_host(float *x, size_t n, uint64_t *s)
{
    for (size_t i = 0; i < n; i++)
        x[i] = (float)((bz_space_rand(s) >> 40) & 0xFFFFFF) / 8388608.0f - 1.0f;
}

static bz_status prepare(const bz_tune_shape *s, shape_data *d, uint64_t *seed)
{
    size_t na = s->m * s->k, nb = s->k * s->n, nc = s->m * s->n;
    d->lda = s->ta ? s->m : s->k;
    d->ldb = s->tb ? s->k : s->n;
    float *a = malloc(na * 4), *b = malloc(nb * 4);
    d->ref = malloc(nc * 4);
    bz_status st = a && b && d->ref ? BZ_OK : BZ_E_NOMEM;
    if (!st) {
        fill_host(a, na, seed);
        fill_host(b, nb, seed);
        bz_ref_sgemm(s->ta, s->tb, s->m, s->n, s->k, 1.0f, a, d->lda, b, d->ldb, 0.0f, d->ref,
                     s->n);
    }
    if (!st && !(st = bz_buf_alloc(ctx, &d->a, na)) && !(st = bz_buf_alloc(ctx, &d->b, nb)) &&
        !(st = bz_buf_alloc(ctx, &d->c, nc)) && !(st = bz_buf_write(ctx, &d->a, 0, a, na)))
        st = bz_buf_write(ctx, &d->b, 0, b, nb);
    free(a);
    free(b);
    return st;
}

static bz_status run(const bz_tune_shape *s, shape_data *d)
{
    bz_status st = bz_sgemm(ctx, s->ta, s->tb, s->m, s->n, s->k, 1.0f, &d->a, 0, d->lda, &d->b, 0,
                            d->ldb, 0.0f, &d->c, 0, s->n);
    return st ? st : bz_finish(ctx);
}

/* Checks one product, then times it; *t is the best of reps runs. A result
 * of 1 means wrong numbers (why says how wrong). */
static int check_and_time(const bz_tune_shape *s, shape_data *d, int reps, double *t, char *why,
                          size_t size)
{
    size_t nc = s->m * s->n;
    bz_status st;
    /* a kernel that writes nothing must not pass on the last candidate's result */
    if ((st = bz_buf_fill(ctx, &d->c, 1e30f, 0, nc)) || (st = run(s, d))) {
        snprintf(why, size, "%s", bz_last_error(ctx));
        return -1;
    }
    float *c = malloc(nc * 4);
    if (!c || bz_buf_read(ctx, &d->c, 0, c, nc)) {
        free(c);
        snprintf(why, size, "cannot read the result back");
        return -1;
    }
    double err = bz_tune_rel_error(c, d->ref, nc);
    free(c);
    if (!bz_tune_accept(err, s->k)) {
        snprintf(why, size, "%zux%zux%zu%s%s: relative error %.3g > %.3g", s->m, s->n, s->k,
                 s->ta ? "T" : "N", s->tb ? "T" : "N", err, bz_tune_tolerance(s->k));
        return 1;
    }
    *t = 1e30;
    for (int r = 0; r < reps; r++) {
        double t0 = now();
        if ((st = run(s, d))) {
            snprintf(why, size, "%s", bz_last_error(ctx));
            return -1;
        }
        double dt = now() - t0;
        if (dt < *t)
            *t = dt;
    }
    return 0;
}

static void evaluate(shape_data *data, int reps, double limit, const bz_tune_params *p)
{
    char why[512] = "";
    if (p && bz_tuning_apply_params(ctx, p, why, sizeof why)) {
        reply("R fail %s", why);
        return;
    }
    char line[512] = "R ok";
    double total = 0;
    for (size_t i = 0; i < bz_tune_n_shapes; i++) {
        double t;
        int r = check_and_time(&bz_tune_shapes[i], &data[i], reps, &t, why, sizeof why);
        if (r) {
            reply("R %s %s", r > 0 ? "bad" : "fail", why);
            return;
        }
        total += t;
        if (limit > 0 && total > limit) {
            reply("R slow");
            return;
        }
        size_t len = strlen(line);
        snprintf(line + len, sizeof line - len, " %.9f", t);
    }
    reply("%s", line);
}

/* Odd sizes hit every edge case of the tiles: partial tiles, k below the
 * unroll factor, single rows and columns. */
static int verify_odd(const bz_tune_params *p, char *why, size_t size)
{
    static const size_t dims[][3] = {{1, 7, 63}, {7, 257, 1}, {63, 100, 257}, {257, 63, 100},
                                     {100, 257, 7}};
    uint64_t seed = 99;
    if (bz_tuning_apply_params(ctx, p, why, size))
        return -1;
    for (size_t s = 0; s < sizeof dims / sizeof *dims; s++) {
        for (int tr = 0; tr < 4; tr++) {
            bz_tune_shape sh = {dims[s][0], dims[s][1], dims[s][2], tr & 1, (tr >> 1) & 1};
            size_t na = sh.m * sh.k, nb = sh.k * sh.n, nc = sh.m * sh.n;
            size_t lda = sh.ta ? sh.m : sh.k, ldb = sh.tb ? sh.k : sh.n;
            float *a = malloc(na * 4), *b = malloc(nb * 4), *c = malloc(nc * 4);
            float *ref = malloc(nc * 4);
            bz_buf da = {0}, db = {0}, dc = {0};
            int rc = -1;
            if (a && b && c && ref) {
                fill_host(a, na, &seed);
                fill_host(b, nb, &seed);
                fill_host(ref, nc, &seed);
                if (!bz_buf_alloc(ctx, &da, na) && !bz_buf_alloc(ctx, &db, nb) &&
                    !bz_buf_alloc(ctx, &dc, nc) && !bz_buf_write(ctx, &da, 0, a, na) &&
                    !bz_buf_write(ctx, &db, 0, b, nb) && !bz_buf_write(ctx, &dc, 0, ref, nc) &&
                    !bz_sgemm(ctx, sh.ta, sh.tb, sh.m, sh.n, sh.k, 1.5f, &da, 0, lda, &db, 0, ldb,
                              -0.5f, &dc, 0, sh.n) &&
                    !bz_buf_read(ctx, &dc, 0, c, nc)) {
                    bz_ref_sgemm(sh.ta, sh.tb, sh.m, sh.n, sh.k, 1.5f, a, lda, b, ldb, -0.5f, ref,
                                 sh.n);
                    double err = bz_tune_rel_error(c, ref, nc);
                    rc = bz_tune_accept(err, sh.k) ? 0 : 1;
                    if (rc)
                        snprintf(why, size, "%zux%zux%zu trans %d%d: relative error %.3g", sh.m,
                                 sh.n, sh.k, sh.ta, sh.tb, err);
                } else {
                    snprintf(why, size, "%s", bz_last_error(ctx));
                }
            }
            free(a);
            free(b);
            free(c);
            free(ref);
            bz_buf_release(&da);
            bz_buf_release(&db);
            bz_buf_release(&dc);
            if (rc)
                return rc;
        }
    }
    return 0;
}

static void verify(shape_data *data, int reps, const bz_tune_params *p)
{
    char why[512] = "";
    static const size_t force[] = {BZ_FORCE_DIRECT, BZ_FORCE_INDIRECT, 0};
    for (size_t f = 0; f < 3; f++) {
        bz_tune_params q = *p;
        if (force[f])
            q.v[BZ_TK_GEMM_ROUTINE][0] = force[f];
        int r = verify_odd(&q, why, sizeof why);
        if (r) {
            reply("R %s %s path: %s", r > 0 ? "bad" : "fail",
                  f == 0 ? "direct" : f == 1 ? "indirect" : "chosen", why);
            return;
        }
    }
    evaluate(data, reps, 0, NULL);
}

static void sweep_wg(void)
{
    static const size_t sizes[] = {16, 32, 64, 128, 256, 512, 1024};
    const size_t cols = 500, rows = 2000, n = rows * cols;
    bz_buf x = {0}, y = {0}, b = {0};
    size_t best_wg = ctx->wg_elementwise;
    double best = 1e30;
    if (!bz_buf_alloc(ctx, &x, n) && !bz_buf_alloc(ctx, &y, n) && !bz_buf_alloc(ctx, &b, cols) &&
        !bz_buf_fill(ctx, &x, 0.25f, 0, n) && !bz_buf_fill(ctx, &b, 0.1f, 0, cols)) {
        for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) {
            if (sizes[i] > ctx->dev.max_work_group)
                break;
            ctx->wg_elementwise = sizes[i];
            for (int r = -1; r < 5; r++) { /* r = -1 compiles for this size */
                double t0 = now();
                if (bz_op_bias_sigmoid(ctx, &y, &x, &b, rows, cols) || bz_finish(ctx))
                    break;
                double t = now() - t0;
                if (r >= 0 && t < best) {
                    best = t;
                    best_wg = sizes[i];
                }
            }
        }
    }
    bz_buf_release(&x);
    bz_buf_release(&y);
    bz_buf_release(&b);
    ctx->wg_elementwise = best_wg;
    reply("R wg %zu %.3f", best_wg, best < 1e29 ? 8.0 * (double)n / best * 1e-9 : 0.0);
}

void bz_tune_worker(int in_fd, int out_fd, const bz_tune_options *o)
{
    FILE *in = fdopen(in_fd, "r");
    out = fdopen(out_fd, "w");
    if (!in || !out)
        _exit(3);
    bz_context_options co;
    bz_context_options_init(&co);
    co.device = o->device;
    co.tuning_file = "off"; /* start from CLBlast's own values: the baseline */
    co.skip_selftest = 1;   /* every candidate is checked against the reference anyway */
    co.log_level = BZ_LOG_ERROR;
    bz_status st = bz_context_create(&co, &ctx);
    if (st) {
        reply("X %s: %s", bz_strerror(st), bz_last_error(ctx));
        _exit(2);
    }
    bz_tuning_target tg;
    bz_tuning_target_of(ctx, &tg);
    reply("H\t%s\t%s\t%s\t%s\t%llu\t%zu", tg.type, tg.device, tg.vendor, tg.driver,
          (unsigned long long)ctx->dev.local_mem, ctx->dev.max_work_group);
    shape_data *data = calloc(bz_tune_n_shapes, sizeof *data);
    uint64_t seed = 12345;
    for (size_t i = 0; data && i < bz_tune_n_shapes; i++)
        if ((st = prepare(&bz_tune_shapes[i], &data[i], &seed))) {
            reply("X cannot prepare the test matrices: %s", bz_last_error(ctx));
            _exit(2);
        }
    int reps = o->reps > 0 ? o->reps : 3;
    char line[4096];
    while (fgets(line, sizeof line, in)) {
        bz_tune_params p;
        memset(&p, 0, sizeof p);
        if (line[0] == 'B') {
            evaluate(data, reps, 0, NULL);
        } else if (line[0] == 'E') {
            char *rest;
            double limit = strtod(line + 1, &rest);
            if (!bz_space_decode(&p, rest, NULL))
                reply("R fail unreadable candidate");
            else
                evaluate(data, reps, limit, &p);
            CLBlastClearCache(); /* each candidate's programs are dead weight afterwards */
        } else if (line[0] == 'V') {
            if (!bz_space_decode(&p, line + 1, NULL))
                reply("R fail unreadable candidate");
            else
                verify(data, reps, &p);
        } else if (line[0] == 'W') {
            sweep_wg();
        } else {
            break;
        }
    }
    /* exit without tearing down: the parent only waits for the pipe to close */
    _exit(0);
}
