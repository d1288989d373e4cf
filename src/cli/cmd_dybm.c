/*
 * boltzcl train dybm, and predict and sample for a DyBM model (dispatch.c):
 * dynamic Boltzmann machines on time series (src/models/dybm.h).
 *
 * Series files (src/io/series.h): CSV (rows are time steps, columns
 * variables, an optional header and time column) or .npy (T or T x N).
 * A Gaussian DyBM standardises each variable with the mean and standard
 * deviation of the training part and remembers them; figures and outputs
 * are in the series' own units.
 */
#include "cli/cli.h"
#include "cli/files.h"
#include "cli/rbm_common.h"
#include "cli/train_run.h"
#include "io/csv.h"
#include "io/npy.h"
#include "io/series.h"
#include "models/dybm_trainer.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && !strcmp(s + a - b, suffix);
}

static int load_series(const char *cmd, const char *path, bool time_column, bz_series *s)
{
    bz_error err = {0};
    if (bz_series_load(path, time_column, s, &err)) {
        fprintf(stderr, "boltzcl %s: %s\n", cmd, err.msg);
        return 1;
    }
    return 0;
}

/* Writes rows x cols as .npy (a name ending in .npy) or CSV. */
static int write_rows(const char *cmd, const char *path, const float *x, size_t rows,
                      size_t cols)
{
    bz_error err = {0};
    bz_status st = ends_with(path, ".npy") ? bz_npy_write_f32_2d(path, x, rows, cols, &err)
                                           : bz_csv_write(path, x, rows, cols, NULL, 0, &err);
    if (st) {
        fprintf(stderr, "boltzcl %s: %s\n", cmd, err.msg);
        return 1;
    }
    return 0;
}

/* Standardised copy of x by d's mean and scale. */
static float *standardise(const bz_dybm *d, const float *x, size_t rows)
{
    float *z = malloc((rows * d->n + 1) * sizeof *z);
    for (size_t q = 0; z && q < rows * d->n; q++)
        z[q] = (x[q] - d->mean[q % d->n]) / d->scale[q % d->n];
    return z;
}

/* A binary DyBM's series holds 0 and 1 only. */
static int check_binary(const char *cmd, const char *path, const bz_series *s)
{
    for (size_t q = 0; q < s->rows * s->cols; q++)
        if (s->x[q] != 0 && s->x[q] != 1) {
            fprintf(stderr, "boltzcl %s: %s: row %zu, column %zu (from 1) holds %g; a binary "
                            "DyBM's series holds 0 and 1 only\n", cmd, path, q / s->cols + 1,
                    q % s->cols + 1, (double)s->x[q]);
            return 1;
        }
    return 0;
}

typedef struct train_args {
    const char *series, *decays, *units, *optimizer, *out, *checkpoint, *resume, *log, *device;
    size_t delay, epochs, chunk;
    double lr, lr_decay, test_split, rho;
    bool time_column, online_test, json, quiet, overwrite;
} train_args;

int bz_cmd_train_dybm(int argc, char **argv)
{
    const char *cmd = "train dybm";
    train_args a = {.decays = "0.5", .units = "gaussian", .optimizer = "rmsprop",
                    .out = "dybm.safetensors", .delay = 3, .epochs = 20, .chunk = 1000,
                    .lr = 0.001, .test_split = 0.2, .rho = 0.9};
    const bz_opt opts[] = {
        {"series", BZ_OPT_STRING, &a.series, "FILE", "time series: CSV or .npy (rows: steps)"},
        {"time-column", BZ_OPT_FLAG, &a.time_column, NULL,
         "the first CSV column is time (dropped; found by itself when the header names it)"},
        {"delay", BZ_OPT_SIZE, &a.delay, "D", "conduction delay: lags 1..D-1 in the FIFO (3)"},
        {"decays", BZ_OPT_STRING, &a.decays, "a,b,..",
         "decay rates of the eligibility traces, in [0, 1), or none (0.5)"},
        {"units", BZ_OPT_STRING, &a.units, "U", "gaussian (real values) or binary (0/1)"},
        {"epochs", BZ_OPT_SIZE, &a.epochs, "N", "passes over the training part (20)"},
        {"optimizer", BZ_OPT_STRING, &a.optimizer, "O", "rmsprop, adagrad or sgd (rmsprop)"},
        {"lr", BZ_OPT_FLOAT, &a.lr, "F", "learning rate (0.001)"},
        {"lr-decay", BZ_OPT_FLOAT, &a.lr_decay, "F", "epoch e (from 0) uses lr / (1 + F e) (0)"},
        {"rho", BZ_OPT_FLOAT, &a.rho, "F", "RMSProp's decay of squared gradients (0.9)"},
        {"test-split", BZ_OPT_FLOAT, &a.test_split, "F",
         "the last fraction F of the steps is held out and predicted one step ahead (0.2)"},
        {"online-test", BZ_OPT_FLAG, &a.online_test, NULL,
         "keep learning along the held-out tail (each prediction made before its value)"},
        {"chunk", BZ_OPT_SIZE, &a.chunk, "N", "steps per launch and progress report (1000)"},
        {"out", BZ_OPT_STRING, &a.out, "FILE", "the model (dybm.safetensors)"},
        BZ_CLI_TRAIN_STATE_OPTS(a),
        BZ_CLI_TRAIN_REPORT_OPTS(a),
        {0},
    };
    const char *pos[1];
    size_t npos;
    int pr = bz_args_parse(cmd, "--series FILE [--delay D --decays a,b,c] [options]", opts, argc,
                           argv, pos, 0, &npos);
    if (pr)
        return pr > 0 ? 0 : 2;
    float dec[BZ_DYBM_MAX_DECAYS];
    size_t K;
    bz_dybm_opt opt = !strcmp(a.optimizer, "sgd")       ? BZ_DYBM_SGD
                      : !strcmp(a.optimizer, "adagrad") ? BZ_DYBM_ADAGRAD
                                                        : BZ_DYBM_RMSPROP;
    if (!a.series) {
        fprintf(stderr, "boltzcl %s: give the time series with --series FILE\n", cmd);
        return 2;
    }
    if (!bz_dybm_parse_decays(a.decays, dec, &K)) {
        fprintf(stderr, "boltzcl %s: --decays takes up to %d rates in [0, 1) separated by single "
                        "commas, or none; got '%s'\n", cmd, BZ_DYBM_MAX_DECAYS, a.decays);
        return 2;
    }
    if (bz_args_bad(cmd, strcmp(a.units, "gaussian") && strcmp(a.units, "binary"), "--units",
                    "gaussian or binary") ||
        bz_args_bad(cmd, strcmp(a.optimizer, "rmsprop") && strcmp(a.optimizer, "adagrad") &&
                             strcmp(a.optimizer, "sgd"),
                    "--optimizer", "rmsprop, adagrad or sgd") ||
        bz_args_bad(cmd, a.delay < 1 || a.delay > BZ_DYBM_MAX_DELAY, "--delay",
                    "between 1 and 1024") ||
        bz_args_bad(cmd, a.delay == 1 && K == 0, "--delay", "2 or more without decay rates") ||
        bz_args_bad(cmd, a.epochs < 1 || a.epochs > (1u << 20), "--epochs",
                    "between 1 and 2^20") ||
        bz_args_bad(cmd, !(a.lr > 0), "--lr", "> 0") ||
        bz_args_bad(cmd, !(a.lr_decay >= 0), "--lr-decay", ">= 0") ||
        bz_args_bad(cmd, !(a.rho > 0 && a.rho < 1), "--rho", "in (0, 1)") ||
        bz_args_bad(cmd, !(a.test_split >= 0 && a.test_split < 1), "--test-split", "in [0, 1)") ||
        bz_args_bad(cmd, a.chunk < 1, "--chunk", ">= 1"))
        return 2;
    char ckpt[1100];
    bz_cli_checkpoint_path(a.checkpoint, a.out, ckpt, sizeof ckpt);
    const bz_file_arg in[] = {{"--series", a.series}, {0}};
    const bz_file_arg outs[] = {{"--out", a.out}, {"--checkpoint", ckpt}, {"--log", a.log}, {0}};
    int rc = bz_cli_check_files(cmd, in, outs, true);
    if (rc)
        return rc;
    rc = 1;
    bz_series s = {0};
    bz_context *ctx = NULL;
    bz_dybm *d = NULL;
    bz_trainer *trainer = NULL;
    float *z = NULL;
    FILE *logf = NULL;
    if (load_series(cmd, a.series, a.time_column, &s))
        return 1;
    bool binary = !strcmp(a.units, "binary");
    if (binary && check_binary(cmd, a.series, &s))
        goto out;
    size_t T = s.rows, N = s.cols;
    size_t T2 = (size_t)floor(a.test_split * (double)T), T1 = T - T2;
    /* the training part needs a full history at least once: d + 1 steps */
    if (T1 < a.delay + 1 || (a.test_split > 0 && T2 < 1)) {
        fprintf(stderr, "boltzcl %s: %s: %zu time steps are too few for delay %zu with "
                        "--test-split %g: the training part needs at least %zu steps%s\n", cmd,
                a.series, T, a.delay, a.test_split, a.delay + 1,
                a.test_split > 0 ? " and the held-out tail one" : "");
        goto out;
    }
    if (!(ctx = bz_cli_open(a.device, a.quiet)))
        goto out;
    bz_status st = bz_dybm_create(ctx, N, a.delay, dec, K, binary, &d);
    if (st) {
        bz_cli_fail(cmd, ctx, st);
        goto out;
    }
    d->opt = opt;
    d->lr = (float)a.lr;
    d->rho = (float)a.rho;
    /* standardisation from the training part alone */
    for (size_t i = 0; i < N && !binary; i++) {
        double m = 0, v = 0;
        for (size_t t = 0; t < T1; t++)
            m += s.x[t * N + i];
        m /= (double)T1;
        for (size_t t = 0; t < T1; t++)
            v += (s.x[t * N + i] - m) * (s.x[t * N + i] - m);
        double sd = sqrt(v / (double)T1);
        d->mean[i] = (float)m;
        d->scale[i] = sd > 0 ? (float)sd : 1.0f;
    }
    if (!(z = standardise(d, s.x, T))) {
        bz_cli_fail(cmd, ctx, bz_fail(ctx, BZ_E_NOMEM, "out of memory"));
        goto out;
    }
    char num[64];
    snprintf(num, sizeof num, "%.9g", a.lr);
    if ((st = bz_dybm_set_meta(d, "series", a.series)) ||
        (st = bz_dybm_set_meta(d, "optimizer", a.optimizer)) ||
        (st = bz_dybm_set_meta(d, "lr", num))) {
        bz_cli_fail(cmd, ctx, st);
        goto out;
    }
    if (!a.quiet)
        fprintf(stderr, "%s DyBM of %zu variables, delay %zu, %zu decay rates on %s: %zu "
                        "training steps, %zu held out\n", a.units, N, a.delay, K,
                bz_device_name(ctx), T1, T2);
    bz_dybm_train_job job = {.x = z, .n_train = T1, .n_test = T2, .epochs = (unsigned)a.epochs,
                             .chunk = a.chunk, .lr_decay = (float)a.lr_decay,
                             .online_test = a.online_test};
    bz_dybm_train_job res = job;
    res.train_rmse = res.test_rmse = NAN;
    if ((st = bz_dybm_trainer_make(d, &job, &res, &trainer))) {
        bz_cli_fail(cmd, ctx, st);
        goto out;
    }
    if (bz_cli_train_check_space("dybm", trainer, "--out", a.out, ckpt))
        goto out;
    char fp[1024] = "", dfp[64];
    bz_train_data_fingerprint(s.x, T, N, NULL, dfp, sizeof dfp);
    bz_cli_fp_add(fp, sizeof fp, "units", "%s", a.units);
    bz_cli_fp_add(fp, sizeof fp, "delay", "%zu", a.delay);
    bz_cli_fp_add(fp, sizeof fp, "decays", "%s", a.decays);
    bz_cli_fp_add(fp, sizeof fp, "optimizer", "%s", a.optimizer);
    bz_cli_fp_add(fp, sizeof fp, "lr", "%.9g,%.9g,%.9g", a.lr, a.lr_decay, a.rho);
    bz_cli_fp_add(fp, sizeof fp, "split", "%.9g,%d", a.test_split, a.online_test);
    bz_cli_fp_add(fp, sizeof fp, "chunk", "%zu", a.chunk);
    bz_cli_fp_add(fp, sizeof fp, "data", "%s", dfp);
    if (a.log && bz_cli_train_log_open(cmd, a.log, a.resume != NULL, &logf))
        goto out;
    bz_cli_progress ps;
    bz_cli_progress_init(&ps, a.quiet, -1);
    ps.log = logf;
    bz_train_options to;
    bz_cli_train_options(&to, ckpt, a.resume, a.overwrite, fp);
    to.progress = bz_cli_progress_cb;
    to.progress_user = &ps;
    bz_cli_train_signals();
    bz_train_result tres;
    double t0 = bz_now();
    st = bz_trainer_run(trainer, &to, &tres);
    double seconds = bz_now() - t0;
    if (st) {
        rc = bz_cli_train_outcome(cmd, ctx, st, &tres, ckpt, true);
        goto out;
    }
    /* persistence on the same tail: x[t-1] predicts x[t] */
    double pers = NAN;
    if (T2) {
        double sum = 0;
        for (size_t t = T1; t < T; t++)
            for (size_t i = 0; i < N; i++) {
                double e = (double)s.x[t * N + i] - s.x[(t - 1) * N + i];
                sum += e * e;
            }
        pers = sqrt(sum / (double)(T2 * N));
    }
    if ((st = bz_dybm_save(d, a.out))) {
        bz_cli_fail(cmd, ctx, st);
        goto out;
    }
    if (!a.quiet) {
        fprintf(stderr, "train_rmse %.6g", res.train_rmse);
        if (T2)
            fprintf(stderr, ", test_rmse %.6g (persistence %.6g)", res.test_rmse, pers);
        fprintf(stderr, "; %.2f s; wrote %s\n", seconds, a.out);
    }
    if (a.json) {
        json_object *o = json_object_new_object();
        json_object_object_add(o, "model", json_object_new_string("dybm"));
        json_object_object_add(o, "units", json_object_new_string(a.units));
        json_object_object_add(o, "variables", json_object_new_int64((int64_t)N));
        json_object_object_add(o, "delay", json_object_new_int64((int64_t)a.delay));
        json_object_object_add(o, "decays", json_object_new_string(a.decays));
        json_object_object_add(o, "train_steps", json_object_new_int64((int64_t)T1));
        json_object_object_add(o, "test_steps", json_object_new_int64((int64_t)T2));
        json_object_object_add(o, "train_rmse", isfinite(res.train_rmse)
                                                    ? json_object_new_double(res.train_rmse)
                                                    : NULL);
        json_object_object_add(o, "test_rmse", isfinite(res.test_rmse)
                                                   ? json_object_new_double(res.test_rmse)
                                                   : NULL);
        json_object_object_add(o, "persistence_rmse",
                               isfinite(pers) ? json_object_new_double(pers) : NULL);
        json_object_object_add(o, "epochs", json_object_new_int64((int64_t)a.epochs));
        json_object_object_add(o, "seconds", json_object_new_double(seconds));
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
    free(z);
    bz_dybm_free(d);
    bz_context_free(ctx);
    bz_series_free(&s);
    return rc;
}

/* The model and, when given, the series in its units (standardised), with
 * the checks both commands share. */
static int open_model(const char *cmd, const char *model, const char *series, bool time_column,
                      const char *device, bz_context **ctx, bz_dybm **d, bz_series *s)
{
    if (!model) {
        fprintf(stderr, "boltzcl %s: give the model with --model FILE\n", cmd);
        return 2;
    }
    const bz_file_arg in[] = {{"--model", model}, {"--series", series}, {0}};
    int rc = bz_cli_check_files(cmd, in, NULL, false);
    if (rc)
        return rc;
    if (series && load_series(cmd, series, time_column, s))
        return 1;
    if (!(*ctx = bz_cli_open(device, true)))
        return 1;
    bz_status st = bz_dybm_load(*ctx, model, d);
    if (st)
        return bz_cli_fail(cmd, *ctx, st);
    if (series && s->cols != (*d)->n) {
        fprintf(stderr, "boltzcl %s: %s has %zu variables per row; the model %s takes %zu\n", cmd,
                series, s->cols, model, (*d)->n);
        return 1;
    }
    if (series && (*d)->binary && check_binary(cmd, series, s))
        return 1;
    return 0;
}

int bz_cmd_predict_dybm(int argc, char **argv)
{
    const char *cmd = "predict", *model = NULL, *series = NULL, *out = "predictions.csv",
               *device = NULL;
    size_t horizon = 1;
    bool time_column = false, json = false;
    const bz_opt opts[] = {
        {"model", BZ_OPT_STRING, &model, "FILE", "a DyBM (boltzcl train dybm)"},
        {"series", BZ_OPT_STRING, &series, "FILE", "the series to predict along (CSV or .npy)"},
        {"time-column", BZ_OPT_FLAG, &time_column, NULL, "the first CSV column is time"},
        {"horizon", BZ_OPT_SIZE, &horizon, "H", "steps forecast past the end, fed back (1)"},
        {"out", BZ_OPT_STRING, &out, "FILE",
         "T + H rows: row t predicts step t from the steps before it, then the forecasts "
         "(.csv or .npy; predictions.csv)"},
        {"json", BZ_OPT_FLAG, &json, NULL, "print the one-step RMSE as JSON on stdout"},
        {"device", BZ_OPT_STRING, &device, "SEL", "device (P:D, gpu, cpu, or name part)"},
        {0},
    };
    const char *pos[1];
    size_t npos;
    int pr = bz_args_parse(cmd, "--model FILE --series FILE [--horizon H] [--out FILE]", opts,
                           argc, argv, pos, 0, &npos);
    if (pr)
        return pr > 0 ? 0 : 2;
    if (!series) {
        fprintf(stderr, "boltzcl %s: give the series with --series FILE\n", cmd);
        return 2;
    }
    if (bz_args_bad(cmd, horizon > 1000000, "--horizon", "at most 1000000"))
        return 2;
    const bz_file_arg outs[] = {{"--out", out}, {0}};
    int rc = bz_cli_check_files(cmd, NULL, outs, false);
    if (rc)
        return rc;
    bz_context *ctx = NULL;
    bz_dybm *d = NULL;
    bz_series s = {0};
    float *z = NULL, *pred = NULL, *zero = NULL;
    if ((rc = open_model(cmd, model, series, time_column, device, &ctx, &d, &s)))
        goto done;
    rc = 1;
    const size_t T = s.rows, N = d->n;
    z = standardise(d, s.x, T);
    pred = malloc(((T + horizon) * N + 1) * sizeof *pred);
    zero = calloc(horizon * N + 1, sizeof *zero);
    if (!z || !pred || !zero) {
        bz_cli_fail(cmd, ctx, bz_fail(ctx, BZ_E_NOMEM, "out of memory"));
        goto done;
    }
    /* binary units forecast their most likely value: uniforms of 0.5 */
    for (size_t q = 0; d->binary && q < horizon * N; q++)
        zero[q] = 0.5f;
    bz_status st = bz_dybm_reset(d, 1);
    if (!st)
        st = bz_dybm_run_host(d, BZ_DYBM_PREDICT, z, pred, T);
    if (!st && horizon)
        st = bz_dybm_run_host(d, BZ_DYBM_GENERATE, zero, pred + T * N, horizon);
    if (st) {
        bz_cli_fail(cmd, ctx, st);
        goto done;
    }
    size_t skip = d->delay < T ? d->delay : 0;
    double rmse = bz_dybm_rmse(d, z, pred, skip, T);
    for (size_t q = 0; q < (T + horizon) * N; q++)
        pred[q] = pred[q] * d->scale[q % N] + d->mean[q % N];
    if (write_rows(cmd, out, pred, T + horizon, N))
        goto done;
    fprintf(stderr, "one-step RMSE over steps %zu..%zu: %.6g; wrote %zu rows to %s\n", skip + 1,
            T, rmse, T + horizon, out);
    if (json) {
        json_object *o = json_object_new_object();
        json_object_object_add(o, "rmse", isfinite(rmse) ? json_object_new_double(rmse) : NULL);
        json_object_object_add(o, "steps", json_object_new_int64((int64_t)T));
        json_object_object_add(o, "horizon", json_object_new_int64((int64_t)horizon));
        json_object_object_add(o, "out", json_object_new_string(out));
        bz_cli_print_json(o);
        json_object_put(o);
    }
    rc = 0;
done:
    free(z);
    free(pred);
    free(zero);
    bz_dybm_free(d);
    bz_context_free(ctx);
    bz_series_free(&s);
    return rc;
}

int bz_cmd_sample_dybm(int argc, char **argv)
{
    const char *cmd = "sample", *model = NULL, *series = NULL, *out = "continuation.csv",
               *device = NULL;
    size_t steps = 100;
    long seed = 1;
    bool time_column = false, mean = false;
    const bz_opt opts[] = {
        {"model", BZ_OPT_STRING, &model, "FILE", "a DyBM (boltzcl train dybm)"},
        {"series", BZ_OPT_STRING, &series, "FILE",
         "the series to continue (CSV or .npy); without it, from an empty history"},
        {"time-column", BZ_OPT_FLAG, &time_column, NULL, "the first CSV column is time"},
        {"steps", BZ_OPT_SIZE, &steps, "N", "steps to generate (100)"},
        {"mean", BZ_OPT_FLAG, &mean, NULL,
         "no noise: the mean (Gaussian) or the more likely value (binary) at every step"},
        {"seed", BZ_OPT_INT, &seed, "N", "random seed (1)"},
        {"out", BZ_OPT_STRING, &out, "FILE", "the generated steps (.csv or .npy; "
                                             "continuation.csv)"},
        {"device", BZ_OPT_STRING, &device, "SEL", "device (P:D, gpu, cpu, or name part)"},
        {0},
    };
    const char *pos[1];
    size_t npos;
    int pr = bz_args_parse(cmd, "--model FILE [--series FILE] [--steps N] [--out FILE]", opts,
                           argc, argv, pos, 0, &npos);
    if (pr)
        return pr > 0 ? 0 : 2;
    if (bz_args_bad(cmd, steps < 1 || steps > 10000000, "--steps", "between 1 and 10^7") ||
        bz_args_bad(cmd, seed < 0, "--seed", ">= 0"))
        return 2;
    const bz_file_arg outs[] = {{"--out", out}, {0}};
    int rc = bz_cli_check_files(cmd, NULL, outs, false);
    if (rc)
        return rc;
    bz_context *ctx = NULL;
    bz_dybm *d = NULL;
    bz_series s = {0};
    float *z = NULL, *gen = NULL, *noise = NULL, *tmp = NULL;
    if ((rc = open_model(cmd, model, series, time_column, device, &ctx, &d, &s)))
        goto done;
    rc = 1;
    const size_t N = d->n, T = series ? s.rows : 0;
    z = series ? standardise(d, s.x, T) : NULL;
    gen = malloc((steps * N + 1) * sizeof *gen);
    noise = malloc((steps * N + 1) * sizeof *noise);
    tmp = malloc((T * N + 1) * sizeof *tmp);
    bz_status st = bz_dybm_reset(d, 1);
    if (!st && ((series && !z) || !gen || !noise || !tmp))
        st = bz_fail(ctx, BZ_E_NOMEM, "out of memory");
    if (!st && T)
        st = bz_dybm_run_host(d, BZ_DYBM_PREDICT, z, tmp, T);
    if (!st) {
        if (mean)
            for (size_t q = 0; q < steps * N; q++)
                noise[q] = d->binary ? 0.5f : 0.0f;
        else
            bz_dybm_noise(d, (uint64_t)seed, 0, noise, steps);
        st = bz_dybm_run_host(d, BZ_DYBM_GENERATE, noise, gen, steps);
    }
    if (st) {
        bz_cli_fail(cmd, ctx, st);
        goto done;
    }
    for (size_t q = 0; q < steps * N; q++)
        gen[q] = gen[q] * d->scale[q % N] + d->mean[q % N];
    if (write_rows(cmd, out, gen, steps, N))
        goto done;
    fprintf(stderr, "generated %zu steps%s; wrote %s\n", steps,
            series ? " after the series" : " from an empty history", out);
    rc = 0;
done:
    free(z);
    free(gen);
    free(noise);
    free(tmp);
    bz_dybm_free(d);
    bz_context_free(ctx);
    bz_series_free(&s);
    return rc;
}
