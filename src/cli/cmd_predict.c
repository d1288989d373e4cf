/*
 * The DBN side of the tool: `predict` (classes, probabilities, accuracy,
 * per-class precision and recall, confusion matrix), and what `sample` and
 * `transform` do when --model names a DBN file (they dispatch here).
 */
#include "cli/cli.h"
#include "cli/files.h"
#include "cli/rbm_common.h"
#include "base/atomic_file.h"
#include "io/csv.h"
#include "io/npy.h"
#include "io/pngio.h"
#include "models/dbn.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void model_tiles(const bz_dbn *d, size_t *th, size_t *tw)
{
    const char *h = bz_dbn_get_meta(d, "image_height"), *w = bz_dbn_get_meta(d, "image_width");
    bz_cli_tile_shape(d->s[0], h ? strtoul(h, NULL, 10) : 0, w ? strtoul(w, NULL, 10) : 0, th,
                      tw);
}

static int write_preds(const char *path, const float *p, const size_t *cls, size_t n, size_t K)
{
    /* Written beside and renamed over, like every output: a failure leaves
     * an earlier file of predictions as it was. */
    bz_atomic_file af;
    bz_error err = {0};
    if (bz_atomic_open(&af, path, &err)) {
        fprintf(stderr, "boltzcl predict: %s\n", err.msg);
        return -1;
    }
    FILE *f = af.fp;
    fprintf(f, "class");
    for (size_t j = 0; j < K; j++)
        fprintf(f, ",p%zu", j);
    fprintf(f, "\n");
    for (size_t i = 0; i < n; i++) {
        fprintf(f, "%zu", cls[i]);
        for (size_t j = 0; j < K; j++)
            fprintf(f, ",%.6g", (double)p[i * K + j]);
        fprintf(f, "\n");
    }
    if (bz_atomic_commit(&af, &err)) {
        fprintf(stderr, "boltzcl predict: %s\n", err.msg);
        return -1;
    }
    return 0;
}

static int write_confusion_png(const char *path, const size_t *cm, size_t K, bz_error *err)
{
    /* One square per cell, darker for a larger share of the true class's row. */
    const size_t cell = K <= 20 ? 24 : K <= 100 ? 6 : 1, w = K * cell;
    uint8_t *pix = malloc(w * w);
    if (!pix)
        return -1;
    for (size_t r = 0; r < K; r++) {
        size_t tot = 0;
        for (size_t c = 0; c < K; c++)
            tot += cm[r * K + c];
        for (size_t c = 0; c < K; c++) {
            double f = tot ? (double)cm[r * K + c] / (double)tot : 0;
            uint8_t v = (uint8_t)lround(255.0 * (1.0 - f));
            for (size_t y = 0; y < cell; y++)
                memset(pix + (r * cell + y) * w + c * cell, v, cell);
        }
    }
    int rc = bz_png_write_gray(path, pix, w, w, err) ? -1 : 0;
    free(pix);
    return rc;
}

int bz_cmd_predict_dbn(int argc, char **argv)
{
    const char *model = NULL, *data = NULL, *out = NULL, *confusion = NULL, *device = NULL;
    bool json = false;
    const bz_opt opts[] = {
        {"model", BZ_OPT_STRING, &model, "FILE", "the DBN"},
        {"data", BZ_OPT_STRING, &data, "D", "rows to classify (labels, if present, are scored)"},
        {"out", BZ_OPT_STRING, &out, "CSV", "class and class probabilities per row"},
        {"confusion", BZ_OPT_STRING, &confusion, "PNG", "confusion matrix picture (rows: truth)"},
        {"json", BZ_OPT_FLAG, &json, NULL, "print the figures as JSON on stdout"},
        {"device", BZ_OPT_STRING, &device, "SEL", "device (P:D, gpu, cpu, or name part)"},
        {0},
    };
    const char *pos[1];
    size_t npos;
    int pr = bz_args_parse("predict", "--model FILE --data D [--out CSV] [--confusion PNG]", opts,
                           argc, argv, pos, 0, &npos);
    if (pr)
        return pr > 0 ? 0 : 2;
    if (!model || !data) {
        fprintf(stderr, "boltzcl predict: --model and --data are required\n");
        return 2;
    }
    int files_rc = bz_cli_check_files(
        "predict", (const bz_file_arg[]){{"--model", model}, {"--data", data}, {0}},
        (const bz_file_arg[]){{"--out", out}, {"--confusion", confusion}, {0}}, false);
    if (files_rc)
        return files_rc;
    bz_context *ctx = bz_cli_open(device, json);
    if (!ctx)
        return 1;
    int rc = 1;
    bz_dataset ds = {0};
    float *p = NULL;
    size_t *cls = NULL, *cm = NULL;
    bz_model *mh = bz_cli_load_model("predict", ctx, model, "dbn");
    bz_dbn *d = bz_model_dbn(mh);
    if (!d || bz_cli_load_for("predict", data, mh, &ds))
        goto out;
    size_t K = d->K, n = ds.n;
    p = malloc(n * K * sizeof *p);
    cls = malloc(n * sizeof *cls);
    cm = calloc(K * K, sizeof *cm);
    if (!p || !cls || !cm) {
        fprintf(stderr, "boltzcl predict: out of memory\n");
        goto out;
    }
    bz_status st = bz_dbn_predict_proba(d, ds.x, n, p);
    if (st) {
        bz_cli_fail("predict", ctx, st);
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        size_t arg = 0;
        for (size_t j = 1; j < K; j++)
            if (p[i * K + j] > p[i * K + arg])
                arg = j;
        cls[i] = arg;
    }
    if (out && write_preds(out, p, cls, n, K)) {
        fprintf(stderr, "boltzcl predict: cannot write %s\n", out);
        goto out;
    }
    bool labelled = ds.labels != NULL;
    size_t hit = 0;
    for (size_t i = 0; labelled && i < n; i++) {
        if (ds.labels[i] < 0 || (size_t)ds.labels[i] >= K) {
            fprintf(stderr, "boltzcl predict: row %zu has label %d, not a class of the model "
                            "(0..%zu)\n", i, (int)ds.labels[i], K - 1);
            goto out;
        }
        cm[(size_t)ds.labels[i] * K + cls[i]]++;
        hit += (size_t)ds.labels[i] == cls[i];
    }
    double acc = labelled ? (double)hit / (double)n : NAN;
    json_object *o = json ? json_object_new_object() : NULL, *pc = NULL, *cj = NULL;
    if (o) {
        json_object_object_add(o, "rows", json_object_new_int64((int64_t)n));
        json_object_object_add(o, "n_classes", json_object_new_int((int)K));
        if (labelled) {
            json_object_object_add(o, "accuracy", json_object_new_double(acc));
            pc = json_object_new_array();
            cj = json_object_new_array();
        }
    } else if (labelled) {
        printf("accuracy %.4f (%zu of %zu)\n\nclass  precision  recall  support\n", acc, hit, n);
    }
    for (size_t c = 0; labelled && c < K; c++) {
        size_t tp = cm[c * K + c], col = 0, row = 0;
        for (size_t j = 0; j < K; j++) {
            col += cm[j * K + c];
            row += cm[c * K + j];
        }
        double prec = col ? (double)tp / (double)col : 0, rec = row ? (double)tp / (double)row : 0;
        if (o) {
            json_object *e = json_object_new_object();
            json_object_object_add(e, "class", json_object_new_int((int)c));
            json_object_object_add(e, "precision", json_object_new_double(prec));
            json_object_object_add(e, "recall", json_object_new_double(rec));
            json_object_object_add(e, "support", json_object_new_int64((int64_t)row));
            json_object_array_add(pc, e);
            json_object *r = json_object_new_array();
            for (size_t j = 0; j < K; j++)
                json_object_array_add(r, json_object_new_int64((int64_t)cm[c * K + j]));
            json_object_array_add(cj, r);
        } else {
            printf("%5zu  %9.4f  %6.4f  %7zu\n", c, prec, rec, row);
        }
    }
    if (labelled && !o) {
        printf("\nconfusion matrix (rows: true class, columns: predicted)\n     ");
        for (size_t j = 0; j < K; j++)
            printf(" %6zu", j);
        printf("\n");
        for (size_t c = 0; c < K; c++) {
            printf("%5zu", c);
            for (size_t j = 0; j < K; j++)
                printf(" %6zu", cm[c * K + j]);
            printf("\n");
        }
    } else if (!labelled && !o && !out) {
        for (size_t i = 0; i < n; i++)
            printf("%zu\n", cls[i]);
    }
    if (o) {
        if (pc) {
            json_object_object_add(o, "per_class", pc);
            json_object_object_add(o, "confusion", cj);
        }
        bz_cli_print_json(o);
        json_object_put(o);
    }
    bz_error err = {0};
    if (confusion && !labelled) {
        fprintf(stderr, "boltzcl predict: --confusion needs labelled data\n");
        goto out;
    }
    if (confusion && write_confusion_png(confusion, cm, K, &err)) {
        fprintf(stderr, "boltzcl predict: %s\n", err.msg[0] ? err.msg : "out of memory");
        goto out;
    }
    rc = 0;
out:
    free(p);
    free(cls);
    free(cm);
    bz_dataset_free(&ds);
    bz_model_free(mh);
    bz_context_free(ctx);
    return rc;
}

int bz_cmd_sample_dbn(int argc, char **argv)
{
    const char *model = NULL, *out = NULL, *device = NULL;
    size_t n = 10, steps = 1000;
    long label = LONG_MIN, seed = 1; /* LONG_MIN: no --label, a row per class */
    const bz_opt opts[] = {
        {"model", BZ_OPT_STRING, &model, "FILE", "the DBN"},
        {"out", BZ_OPT_STRING, &out, "PNG", "grid of samples"},
        {"label", BZ_OPT_INT, &label, "C", "class to generate (default: one row per class)"},
        {"n", BZ_OPT_SIZE, &n, "N", "samples (per class without --label) (10)"},
        {"steps", BZ_OPT_SIZE, &steps, "N", "Gibbs steps in the top RBM (1000)"},
        {"seed", BZ_OPT_INT, &seed, "N", "random seed (1)"},
        {"device", BZ_OPT_STRING, &device, "SEL", "device (P:D, gpu, cpu, or name part)"},
        {0},
    };
    const char *pos[1];
    size_t npos;
    int pr = bz_args_parse("sample", "--model DBN --out PNG [--label C] [options]", opts, argc,
                           argv, pos, 0, &npos);
    if (pr)
        return pr > 0 ? 0 : 2;
    if (!model || !out) {
        fprintf(stderr, "boltzcl sample: --model and --out are required for a DBN\n");
        return 2;
    }
    if (n == 0 || n > 10000 || steps == 0 || steps > 1000000 || seed < 0) {
        fprintf(stderr, "boltzcl sample: 1 <= --n <= 10000, 1 <= --steps <= 10^6, --seed >= 0\n");
        return 2;
    }
    if (label != LONG_MIN && label < 0) {
        fprintf(stderr, "boltzcl sample: --label must be a class number, 0 or more; got %ld "
                        "(leave --label out for one row per class)\n", label);
        return 2;
    }
    int files_rc = bz_cli_check_files("sample", (const bz_file_arg[]){{"--model", model}, {0}},
                                (const bz_file_arg[]){{"--out", out}, {0}}, false);
    if (files_rc)
        return files_rc;
    bz_context *ctx = bz_cli_open(device, false);
    if (!ctx)
        return 1;
    int rc = 1;
    int32_t *labels = NULL;
    float *x = NULL;
    bz_model *mh = bz_cli_load_model("sample", ctx, model, "dbn");
    bz_dbn *d = bz_model_dbn(mh);
    if (!d)
        goto out;
    if (label >= (long)d->K) {
        fprintf(stderr, "boltzcl sample: --label %ld is not a class of this DBN (0..%zu)\n",
                label, d->K - 1);
        goto out;
    }
    size_t rows = label >= 0 ? 1 : d->K, total = rows * n;
    labels = malloc(total * sizeof *labels);
    x = malloc(total * d->s[0] * sizeof *x);
    if (!labels || !x) {
        fprintf(stderr, "boltzcl sample: out of memory\n");
        goto out;
    }
    for (size_t i = 0; i < total; i++)
        labels[i] = label >= 0 ? (int32_t)label : (int32_t)(i / n);
    bz_status st = bz_dbn_generate(d, labels, total, (unsigned)steps, (uint64_t)seed, x);
    if (st) {
        bz_cli_fail("sample", ctx, st);
        goto out;
    }
    size_t th, tw;
    model_tiles(d, &th, &tw);
    size_t cols = label >= 0 ? (size_t)ceil(sqrt((double)n)) : n;
    bz_error err = {0};
    if (bz_png_write_tiles(out, x, total, th, tw, cols, 0, &err)) {
        fprintf(stderr, "boltzcl sample: %s\n", err.msg);
        goto out;
    }
    fprintf(stderr, "wrote %zu samples (%s) to %s\n", total,
            label >= 0 ? "one class" : "one row per class", out);
    rc = 0;
out:
    free(labels);
    free(x);
    bz_model_free(mh);
    bz_context_free(ctx);
    return rc;
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}

int bz_cmd_transform_dbn(int argc, char **argv)
{
    const char *model = NULL, *data = NULL, *out = NULL, *device = NULL;
    const bz_opt opts[] = {
        {"model", BZ_OPT_STRING, &model, "FILE", "the DBN"},
        {"data", BZ_OPT_STRING, &data, "D", "rows to transform"},
        {"out", BZ_OPT_STRING, &out, "FILE", "top-layer features: .npy or .csv"},
        {"device", BZ_OPT_STRING, &device, "SEL", "device (P:D, gpu, cpu, or name part)"},
        {0},
    };
    const char *pos[1];
    size_t npos;
    int pr = bz_args_parse("transform", "--model DBN --data D --out FILE", opts, argc, argv, pos,
                           0, &npos);
    if (pr)
        return pr > 0 ? 0 : 2;
    if (!model || !data || !out || (!ends_with(out, ".npy") && !ends_with(out, ".csv"))) {
        fprintf(stderr, "boltzcl transform: --model, --data and --out (.npy or .csv) are "
                        "required\n");
        return 2;
    }
    int files_rc = bz_cli_check_files("transform",
                                (const bz_file_arg[]){{"--model", model}, {"--data", data}, {0}},
                                (const bz_file_arg[]){{"--out", out}, {0}}, false);
    if (files_rc)
        return files_rc;
    bz_context *ctx = bz_cli_open(device, false);
    if (!ctx)
        return 1;
    int rc = 1;
    bz_dataset ds = {0};
    float *h = NULL;
    bz_model *mh = bz_cli_load_model("transform", ctx, model, "dbn");
    bz_dbn *d = bz_model_dbn(mh);
    if (!d || bz_cli_load_for("transform", data, mh, &ds))
        goto out;
    size_t nh = d->s[d->L];
    if (!(h = malloc(ds.n * nh * sizeof *h))) {
        fprintf(stderr, "boltzcl transform: out of memory\n");
        goto out;
    }
    bz_status st = bz_dbn_transform(d, ds.x, ds.n, h);
    if (st) {
        bz_cli_fail("transform", ctx, st);
        goto out;
    }
    bz_error err = {0};
    st = ends_with(out, ".npy") ? bz_npy_write_f32_2d(out, h, ds.n, nh, &err)
                                : bz_csv_write(out, h, ds.n, nh, ds.labels, 1, &err);
    if (st) {
        fprintf(stderr, "boltzcl transform: %s\n", err.msg);
        goto out;
    }
    fprintf(stderr, "wrote %zu x %zu top-layer features to %s\n", ds.n, nh, out);
    rc = 0;
out:
    free(h);
    bz_dataset_free(&ds);
    bz_model_free(mh);
    bz_context_free(ctx);
    return rc;
}
