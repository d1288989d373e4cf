/*
 * boltzcl bench dybm: time steps per second of online learning of a
 * Gaussian DyBM on one series and on a batch of series advancing in
 * lock-step, each way of advancing (the one-launch loop, per-step GEMMs),
 * alternated over rounds, the best round of each kept; prints the batch's
 * throughput (series-steps per second) as a ratio to one series'.
 */
#include "cli/cli.h"
#include "models/dybm.h"

#include <json-c/json.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bz_status timed(bz_dybm *d, size_t B, bz_dybm_path path, const bz_buf *X, bz_buf *out,
                       size_t steps, double *sec)
{
    d->path = path;
    bz_status st = bz_dybm_reset(d, B);
    if (!st) /* warm-up: builds, first launches */
        st = bz_dybm_run(d, BZ_DYBM_LEARN, X, 0, out, 0, steps < 20 ? steps : 20);
    if (!st)
        st = bz_finish(d->ctx);
    double t0 = bz_now();
    if (!st)
        st = bz_dybm_run(d, BZ_DYBM_LEARN, X, 0, out, 0, steps);
    if (!st)
        st = bz_finish(d->ctx);
    *sec = bz_now() - t0;
    return st;
}

int bz_cmd_bench_dybm(int argc, char **argv)
{
    const char *device = NULL, *decays = "0.2,0.5,0.8";
    size_t n = 100, delay = 10, batch = 64, steps = 4000, rounds = 3;
    bool json = false;
    const bz_opt opts[] = {
        {"n", BZ_OPT_SIZE, &n, "N", "variables (100)"},
        {"delay", BZ_OPT_SIZE, &delay, "D", "conduction delay (10)"},
        {"decays", BZ_OPT_STRING, &decays, "a,b,..", "decay rates of the traces (0.2,0.5,0.8)"},
        {"batch", BZ_OPT_SIZE, &batch, "B", "series in the batch (64)"},
        {"steps", BZ_OPT_SIZE, &steps, "T", "time steps per timing of one series (4000)"},
        {"rounds", BZ_OPT_SIZE, &rounds, "R", "alternated rounds, the best kept (3)"},
        {"json", BZ_OPT_FLAG, &json, NULL, "print the figures as JSON on stdout"},
        {"device", BZ_OPT_STRING, &device, "SEL", "device (P:D, gpu, cpu, or name part)"},
        {0},
    };
    const char *pos[1];
    size_t npos;
    int pr = bz_args_parse("bench dybm", "[options]", opts, argc, argv, pos, 0, &npos);
    if (pr)
        return pr > 0 ? 0 : 2;
    float dec[BZ_DYBM_MAX_DECAYS];
    size_t K;
    if (!bz_dybm_parse_decays(decays, dec, &K) || n == 0 || delay == 0 || batch == 0 ||
        steps == 0 || rounds == 0) {
        fprintf(stderr, "boltzcl bench dybm: --decays takes up to %d rates in [0, 1) separated "
                        "by commas; --n, --delay, --batch, --steps, --rounds >= 1\n",
                BZ_DYBM_MAX_DECAYS);
        return 2;
    }
    bz_context *ctx = bz_cli_open(device, json);
    if (!ctx)
        return 1;
    bz_dybm *d = NULL;
    bz_buf X = {0}, out = {0};
    int rc = 1;
    /* the batch runs steps / batch * 4 steps (at least 20): a similar time */
    size_t bsteps = steps * 4 / batch < 20 ? 20 : steps * 4 / batch;
    size_t count = (steps > bsteps * batch ? steps : bsteps * batch) * n;
    float *host = malloc(count * sizeof *host);
    bz_status st = host ? bz_dybm_create(ctx, n, delay, dec, K, false, &d) : BZ_E_NOMEM;
    if (!st) {
        unsigned long long s = 7;
        for (size_t q = 0; q < count; q++) { /* a random walk's steps: noise */
            s = s * 6364136223846793005ULL + 1442695040888963407ULL;
            host[q] = (float)((double)(s >> 11) / 9007199254740992.0 - 0.5);
        }
        d->lr = 1e-4f;
        st = bz_buf_alloc(ctx, &X, count);
    }
    if (!st)
        st = bz_buf_write(ctx, &X, 0, host, count);
    if (!st)
        st = bz_buf_alloc(ctx, &out, count);
    /* one series, then the batch; each way of advancing */
    static const char *const names[3] = {"one_launch", "gemm", "wide"};
    const bz_dybm_path paths[3] = {BZ_DYBM_PATH_FUSED, BZ_DYBM_PATH_GEMM, BZ_DYBM_PATH_WIDE};
    double best[6] = {INFINITY, INFINITY, INFINITY, INFINITY, INFINITY, INFINITY};
    for (size_t r = 0; r < rounds && !st; r++)
        for (int c = 0; c < 6 && !st; c++) {
            double sec;
            bool one = c < 3;
            st = timed(d, one ? 1 : batch, paths[c % 3], &X, &out, one ? steps : bsteps, &sec);
            double per = sec / (double)(one ? steps : bsteps * batch); /* per series-step */
            if (per < best[c])
                best[c] = per;
        }
    if (st) {
        bz_cli_fail("bench dybm", ctx, st);
        goto out;
    }
    double one = fmin(best[0], fmin(best[1], best[2]));
    double many = fmin(best[3], fmin(best[4], best[5]));
    if (json) {
        json_object *o = json_object_new_object();
        json_object_object_add(o, "n", json_object_new_int64((int64_t)n));
        json_object_object_add(o, "delay", json_object_new_int64((int64_t)delay));
        json_object_object_add(o, "decays", json_object_new_int64((int64_t)K));
        json_object_object_add(o, "batch", json_object_new_int64((int64_t)batch));
        for (int c = 0; c < 6; c++) {
            char key[64];
            snprintf(key, sizeof key, "%s_%s_series_steps_per_s", c < 3 ? "single" : "batch",
                     names[c % 3]);
            json_object_object_add(o, key, json_object_new_double(1 / best[c]));
        }
        json_object_object_add(o, "single_steps_per_s", json_object_new_double(1 / one));
        json_object_object_add(o, "batch_series_steps_per_s", json_object_new_double(1 / many));
        json_object_object_add(o, "batch_over_single", json_object_new_double(one / many));
        json_object_object_add(o, "device", json_object_new_string(bz_device_name(ctx)));
        printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
        json_object_put(o);
    } else {
        printf("Gaussian DyBM, %zu variables, delay %zu, %zu decay rates, online RMSProp, on %s\n",
               n, delay, K, bz_device_name(ctx));
        printf("  series-steps/s     one launch   per-step GEMMs   per-step 8-wide\n");
        printf("  one series       %10.0f       %10.0f        %10.0f\n", 1 / best[0],
               1 / best[1], 1 / best[2]);
        printf("  %3zu series       %10.0f       %10.0f        %10.0f\n", batch, 1 / best[3],
               1 / best[4], 1 / best[5]);
        printf("  best: one series %.0f steps/s, %zu series %.0f series-steps/s: %.2fx\n",
               1 / one, batch, 1 / many, one / many);
    }
    rc = 0;
out:
    bz_buf_release(&X);
    bz_buf_release(&out);
    bz_dybm_free(d);
    bz_context_free(ctx);
    free(host);
    return rc;
}
