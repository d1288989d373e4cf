#include "io/dataset.h"

#include "io/csv.h"
#include "io/idx.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define DEFAULT_DATA_DIR "/usr/share/datasets"
#define STD_FLOOR 1e-8

static void set_name(bz_dataset *ds, const char *name)
{
    size_t n = strlen(name);
    if (n >= sizeof ds->name)
        n = sizeof ds->name - 1;
    memcpy(ds->name, name, n);
    ds->name[n] = 0;
}

static float max_abs(const float *x, size_t count)
{
    float m = 0.0f;
    for (size_t i = 0; i < count; i++) {
        float a = fabsf(x[i]);
        if (a > m)
            m = a;
    }
    return m;
}

void bz_dataset_free(bz_dataset *ds)
{
    if (!ds)
        return;
    free(ds->x);
    free(ds->labels);
    memset(ds, 0, sizeof *ds);
}

bz_status bz_dataset_check_finite(const bz_dataset *ds, bz_error *err)
{
    if (!ds || (!ds->x && ds->n && ds->dim))
        return bz_error_set(err, BZ_E_INVALID_ARG, "bz_dataset_check_finite: NULL dataset");
    for (size_t i = 0; i < ds->n; i++) {
        const float *row = ds->x + i * ds->dim;
        for (size_t j = 0; j < ds->dim; j++)
            if (!isfinite(row[j]))
                return bz_error_set(err, BZ_E_FORMAT,
                                    "%s: row %zu, column %zu: value is %s, expected a finite "
                                    "number",
                                    ds->name, i, j, isnan(row[j]) ? "NaN" : "Inf");
    }
    return BZ_OK;
}

static int is_regular_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* Replaces the last occurrence of from in the file-name part of path. */
static int replace_in_basename(const char *path, const char *from, const char *to, char *out,
                               size_t cap)
{
    const char *slash = strrchr(path, '/');
    const char *base = slash ? slash + 1 : path;
    const char *hit = NULL;
    for (const char *p = strstr(base, from); p; p = strstr(p + 1, from))
        hit = p;
    if (!hit)
        return 0;
    int n = snprintf(out, cap, "%.*s%s%s", (int)(hit - path), path, to, hit + strlen(from));
    return n > 0 && (size_t)n < cap;
}

/* Finds the labels file beside an IDX images file; 1 and *out set if found. */
static int find_labels(const char *images, char *out, size_t cap)
{
    static const char *const pats[][2] = {
        {"images-idx3", "labels-idx1"},
        {"images.idx3", "labels.idx1"},
        {"-images", "-labels"},
        {"images", "labels"},
    };
    char cand[4096];
    for (size_t i = 0; i < sizeof pats / sizeof pats[0]; i++) {
        if (!replace_in_basename(images, pats[i][0], pats[i][1], cand, sizeof cand))
            continue;
        size_t n = strlen(cand);
        int gz = n > 3 && strcmp(cand + n - 3, ".gz") == 0;
        char alt[4096];
        if (gz) {
            memcpy(alt, cand, n - 3);
            alt[n - 3] = 0;
        } else if (n + 4 <= sizeof alt) {
            memcpy(alt, cand, n);
            memcpy(alt + n, ".gz", 4);
        } else {
            alt[0] = 0;
        }
        const char *tries[2] = {cand, alt};
        for (int t = 0; t < 2; t++) {
            if (tries[t][0] && strcmp(tries[t], images) != 0 && is_regular_file(tries[t]) &&
                strlen(tries[t]) < cap) {
                memcpy(out, tries[t], strlen(tries[t]) + 1);
                return 1;
            }
        }
    }
    return 0;
}

static bz_status load_labels(const char *path, size_t n_images, const char *images_path,
                             int32_t **labels_out, int *n_classes, bz_error *err)
{
    bz_idx li;
    bz_status st = bz_idx_load(path, &li, err);
    if (st != BZ_OK)
        return st;
    if (li.type == BZ_IDX_F32 || li.type == BZ_IDX_F64) {
        st = bz_error_set(err, BZ_E_FORMAT,
                          "%s: labels have element type %s, expected an integer type (u8, i8, "
                          "i16 or i32)",
                          path, bz_idx_type_name(li.type));
        goto out;
    }
    if (li.ndim != 1) {
        st = bz_error_set(err, BZ_E_FORMAT,
                          "%s: labels file has %d dimensions, expected 1 (one label per image)",
                          path, li.ndim);
        goto out;
    }
    if (li.dims[0] != n_images) {
        st = bz_error_set(err, BZ_E_SHAPE, "%s: %zu labels, but %s has %zu images", path,
                          li.dims[0], images_path, n_images);
        goto out;
    }
    int32_t *labels = malloc((li.count ? li.count : 1) * sizeof *labels);
    if (!labels) {
        st = bz_error_set(err, BZ_E_NOMEM, "%s: out of memory", path);
        goto out;
    }
    int32_t maxl = -1;
    for (size_t i = 0; i < li.count; i++) {
        float v = li.data[i];
        if (!(v >= 0.0f && v < (float)BZ_DATASET_MAX_CLASSES)) {
            free(labels);
            st = bz_error_set(err, BZ_E_FORMAT, "%s: label %zu is %.0f, expected 0 to %d", path,
                              i, (double)v, BZ_DATASET_MAX_CLASSES - 1);
            goto out;
        }
        labels[i] = (int32_t)v;
        if (labels[i] > maxl)
            maxl = labels[i];
    }
    *labels_out = labels;
    *n_classes = maxl + 1;
out:
    bz_idx_free(&li);
    return st;
}

bz_status bz_dataset_load_idx(const char *images_path, const char *labels_path,
                              bz_dataset *out, bz_error *err)
{
    if (!out)
        return bz_error_set(err, BZ_E_INVALID_ARG, "bz_dataset_load_idx: NULL output");
    memset(out, 0, sizeof *out);
    if (!images_path)
        return bz_error_set(err, BZ_E_INVALID_ARG, "bz_dataset_load_idx: NULL path");

    bz_idx im;
    bz_status st = bz_idx_load(images_path, &im, err);
    if (st != BZ_OK)
        return st;
    if (im.ndim < 2) {
        st = bz_error_set(err, BZ_E_SHAPE,
                          "%s: IDX data has 1 dimension, expected at least 2 (samples x "
                          "features, or samples x height x width); is this a labels file?",
                          images_path);
        bz_idx_free(&im);
        return st;
    }
    bz_dataset ds;
    memset(&ds, 0, sizeof ds);
    ds.n = im.dims[0];
    ds.dim = im.count / im.dims[0];
    if (im.ndim == 3) {
        ds.height = im.dims[1];
        ds.width = im.dims[2];
    }
    ds.x = im.data;
    im.data = NULL;
    ds.max_value = im.type == BZ_IDX_U8 ? 255.0f : max_abs(ds.x, ds.n * ds.dim);
    set_name(&ds, images_path);
    bz_idx_free(&im);

    if (labels_path) {
        st = load_labels(labels_path, ds.n, images_path, &ds.labels, &ds.n_classes, err);
        if (st != BZ_OK) {
            bz_dataset_free(&ds);
            return st;
        }
    }
    st = bz_dataset_check_finite(&ds, err);
    if (st != BZ_OK) {
        bz_dataset_free(&ds);
        return st;
    }
    *out = ds;
    return BZ_OK;
}

bz_status bz_dataset_load_csv(const char *path, int with_labels, bz_dataset *out,
                              bz_error *err)
{
    if (!out)
        return bz_error_set(err, BZ_E_INVALID_ARG, "bz_dataset_load_csv: NULL output");
    memset(out, 0, sizeof *out);
    bz_csv_options o;
    bz_csv_options_init(&o);
    o.labels = with_labels != 0;
    bz_csv c;
    bz_status st = bz_csv_load(path, &o, &c, err);
    if (st != BZ_OK)
        return st;
    out->n = c.rows;
    out->dim = c.cols;
    out->x = c.x;
    out->labels = c.labels;
    out->n_classes = c.labels ? c.max_label + 1 : 0;
    out->max_value = max_abs(c.x, c.rows * c.cols);
    set_name(out, path);
    return BZ_OK;
}

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

static bz_status load_named(const char *spec, const char *dataset, const char *split,
                            bz_dataset *out, bz_error *err)
{
    const char *prefix;
    if (!split || strcmp(split, "train") == 0)
        prefix = "train";
    else if (strcmp(split, "test") == 0)
        prefix = "t10k";
    else
        return bz_error_set(err, BZ_E_INVALID_ARG,
                            "%s: unknown split '%s', expected '%s', '%s:train' or '%s:test'",
                            spec, split, dataset, dataset, dataset);
    const char *dir = getenv("BOLTZCL_DATA_DIR");
    if (!dir || !*dir)
        dir = DEFAULT_DATA_DIR;
    char images[4096], labels[4096];
    int a = snprintf(images, sizeof images, "%s/%s/%s-images-idx3-ubyte.gz", dir, dataset,
                     prefix);
    int b = snprintf(labels, sizeof labels, "%s/%s/%s-labels-idx1-ubyte.gz", dir, dataset,
                     prefix);
    if (a < 0 || b < 0 || (size_t)a >= sizeof images || (size_t)b >= sizeof labels)
        return bz_error_set(err, BZ_E_INVALID_ARG, "%s: BOLTZCL_DATA_DIR is too long", spec);
    const char *files[2] = {images, labels};
    for (int i = 0; i < 2; i++) {
        struct stat sb;
        if (stat(files[i], &sb) != 0)
            return bz_error_set(err, BZ_E_IO,
                                "%s: cannot open %s: %s; install the data with `apt-get install "
                                "dataset-%s` (or set BOLTZCL_DATA_DIR to a directory holding "
                                "%s/)",
                                spec, files[i], strerror(errno), dataset, dataset);
    }
    bz_status st = bz_dataset_load_idx(images, labels, out, err);
    if (st != BZ_OK)
        return st;
    if (out->height == 0) {
        bz_dataset_free(out);
        return bz_error_set(err, BZ_E_FORMAT, "%s: expected n x height x width images", images);
    }
    set_name(out, spec);
    return BZ_OK;
}

static const char *const named_sets[] = {"fashion-mnist"};

bool bz_dataset_is_named(const char *spec)
{
    for (size_t i = 0; spec && i < sizeof named_sets / sizeof named_sets[0]; i++) {
        size_t n = strlen(named_sets[i]);
        if (strncmp(spec, named_sets[i], n) == 0 && (spec[n] == 0 || spec[n] == ':'))
            return true;
    }
    return false;
}

bool bz_dataset_labels_path(const char *spec, char *buf, size_t cap)
{
    if (!spec || bz_dataset_is_named(spec) || ends_with(spec, ".csv") ||
        ends_with(spec, ".csv.gz") || ends_with(spec, ".CSV"))
        return false;
    return find_labels(spec, buf, cap);
}

bz_status bz_dataset_load(const char *spec, bz_dataset *out, bz_error *err)
{
    if (!out)
        return bz_error_set(err, BZ_E_INVALID_ARG, "bz_dataset_load: NULL output");
    memset(out, 0, sizeof *out);
    if (!spec || !*spec)
        return bz_error_set(err, BZ_E_INVALID_ARG, "bz_dataset_load: empty dataset name");

    for (size_t i = 0; i < sizeof named_sets / sizeof named_sets[0]; i++) {
        size_t n = strlen(named_sets[i]);
        if (strncmp(spec, named_sets[i], n) == 0 && (spec[n] == 0 || spec[n] == ':'))
            return load_named(spec, named_sets[i], spec[n] ? spec + n + 1 : NULL, out, err);
    }

    if (ends_with(spec, ".csv") || ends_with(spec, ".csv.gz") || ends_with(spec, ".CSV"))
        return bz_dataset_load_csv(spec, 1, out, err);

    char labels[4096];
    return bz_dataset_load_idx(spec, find_labels(spec, labels, sizeof labels) ? labels : NULL,
                               out, err);
}

void bz_dataset_scale01(bz_dataset *ds)
{
    if (!ds || !ds->x || ds->max_value == 0.0f)
        return;
    size_t count = ds->n * ds->dim;
    float inv = 1.0f / ds->max_value;
    if (ds->max_value == 255.0f) {
        for (size_t i = 0; i < count; i++)
            ds->x[i] /= 255.0f; /* exact division: 255/255 == 1 */
    } else {
        for (size_t i = 0; i < count; i++)
            ds->x[i] *= inv;
    }
    ds->max_value = 1.0f;
}

void bz_dataset_binarize(bz_dataset *ds, float threshold)
{
    if (!ds || !ds->x)
        return;
    size_t count = ds->n * ds->dim;
    for (size_t i = 0; i < count; i++)
        ds->x[i] = ds->x[i] > threshold ? 1.0f : 0.0f;
    ds->max_value = 1.0f;
}

#define STD_BLOCK 256

void bz_dataset_standardize(bz_dataset *ds, float *mean_out, float *std_out)
{
    if (!ds || !ds->x || ds->n == 0)
        return;
    const size_t n = ds->n, dim = ds->dim;
    /* Two passes (mean, then squared deviations) in double, over blocks of
     * columns so that rows are read contiguously and nothing is allocated. */
    for (size_t j0 = 0; j0 < dim; j0 += STD_BLOCK) {
        size_t bw = dim - j0 < STD_BLOCK ? dim - j0 : STD_BLOCK;
        double mean[STD_BLOCK], ss[STD_BLOCK];
        float m[STD_BLOCK], s[STD_BLOCK];
        for (size_t j = 0; j < bw; j++)
            mean[j] = ss[j] = 0.0;
        for (size_t i = 0; i < n; i++) {
            const float *row = ds->x + i * dim + j0;
            for (size_t j = 0; j < bw; j++)
                mean[j] += row[j];
        }
        for (size_t j = 0; j < bw; j++)
            mean[j] /= (double)n;
        for (size_t i = 0; i < n; i++) {
            const float *row = ds->x + i * dim + j0;
            for (size_t j = 0; j < bw; j++) {
                double d = row[j] - mean[j];
                ss[j] += d * d;
            }
        }
        for (size_t j = 0; j < bw; j++) {
            double sd = sqrt(ss[j] / (double)n);
            m[j] = (float)mean[j];
            s[j] = (float)(sd < STD_FLOOR ? STD_FLOOR : sd);
            if (mean_out)
                mean_out[j0 + j] = m[j];
            if (std_out)
                std_out[j0 + j] = s[j];
        }
        for (size_t i = 0; i < n; i++) {
            float *row = ds->x + i * dim + j0;
            for (size_t j = 0; j < bw; j++)
                row[j] = (row[j] - m[j]) / s[j];
        }
    }
    ds->max_value = max_abs(ds->x, n * dim);
}

void bz_dataset_apply_standardization(bz_dataset *ds, const float *mean, const float *std)
{
    if (!ds || !ds->x || !mean || !std)
        return;
    for (size_t i = 0; i < ds->n; i++) {
        float *row = ds->x + i * ds->dim;
        for (size_t j = 0; j < ds->dim; j++) {
            float sd = std[j] < (float)STD_FLOOR ? (float)STD_FLOOR : std[j];
            row[j] = (row[j] - mean[j]) / sd;
        }
    }
    ds->max_value = max_abs(ds->x, ds->n * ds->dim);
}

/* Copies the listed rows (idx NULL: rows first..first+count) into *out. */
static bz_status gather(const bz_dataset *src, const size_t *idx, size_t first, size_t count,
                        bz_dataset *out, bz_error *err)
{
    memset(out, 0, sizeof *out);
    out->n = count;
    out->dim = src->dim;
    out->height = src->height;
    out->width = src->width;
    out->n_classes = src->n_classes;
    out->max_value = src->max_value;
    memcpy(out->name, src->name, sizeof out->name);
    if (count == 0)
        return BZ_OK;
    if (src->dim && count > SIZE_MAX / sizeof(float) / src->dim)
        return bz_error_set(err, BZ_E_NOMEM, "%s: subset too large", src->name);
    out->x = malloc(count * src->dim * sizeof(float) + 1);
    if (src->labels)
        out->labels = malloc(count * sizeof(int32_t));
    if (!out->x || (src->labels && !out->labels)) {
        bz_dataset_free(out);
        return bz_error_set(err, BZ_E_NOMEM, "%s: cannot allocate %zu rows", src->name, count);
    }
    for (size_t i = 0; i < count; i++) {
        size_t r = idx ? idx[i] : first + i;
        memcpy(out->x + i * src->dim, src->x + r * src->dim, src->dim * sizeof(float));
        if (src->labels)
            out->labels[i] = src->labels[r];
    }
    return BZ_OK;
}

bz_status bz_dataset_subset(const bz_dataset *src, size_t first, size_t count,
                            bz_dataset *out, bz_error *err)
{
    if (!out)
        return bz_error_set(err, BZ_E_INVALID_ARG, "bz_dataset_subset: NULL output");
    if (!src || out == src)
        return bz_error_set(err, BZ_E_INVALID_ARG,
                            "bz_dataset_subset: NULL source or output aliases it");
    if (first > src->n || count > src->n - first) {
        memset(out, 0, sizeof *out);
        return bz_error_set(err, BZ_E_INVALID_ARG,
                            "%s: rows %zu..%zu requested, dataset has %zu rows", src->name,
                            first, first + count, src->n);
    }
    return gather(src, NULL, first, count, out, err);
}

/* splitmix64: a fixed, portable sequence for the shuffle. */
static uint64_t splitmix64(uint64_t *state)
{
    uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* Uniform integer in [0, bound) by rejection, without modulo bias. */
static uint64_t uniform_below(uint64_t *state, uint64_t bound)
{
    uint64_t limit = UINT64_MAX - UINT64_MAX % bound;
    uint64_t r;
    do
        r = splitmix64(state);
    while (r >= limit);
    return r % bound;
}

bz_status bz_dataset_split(const bz_dataset *src, double val_fraction, uint64_t seed,
                           bz_dataset *train, bz_dataset *val, bz_error *err)
{
    if (!train || !val || train == val)
        return bz_error_set(err, BZ_E_INVALID_ARG, "bz_dataset_split: bad output arguments");
    memset(train, 0, sizeof *train);
    memset(val, 0, sizeof *val);
    if (!src || src == train || src == val)
        return bz_error_set(err, BZ_E_INVALID_ARG,
                            "bz_dataset_split: NULL source or output aliases it");
    if (!(val_fraction >= 0.0 && val_fraction < 1.0))
        return bz_error_set(err, BZ_E_INVALID_ARG,
                            "%s: validation fraction %g is outside [0, 1)", src->name,
                            val_fraction);
    size_t n_val = (size_t)floor((double)src->n * val_fraction + 0.5);
    if (n_val > src->n)
        n_val = src->n;
    if (val_fraction > 0.0 && (n_val == 0 || n_val == src->n))
        return bz_error_set(err, BZ_E_INVALID_ARG,
                            "%s: validation fraction %g of %zu rows leaves an empty %s set",
                            src->name, val_fraction, src->n, n_val == 0 ? "validation"
                                                                        : "training");
    if (src->n == 0)
        return bz_error_set(err, BZ_E_INVALID_ARG, "%s: cannot split an empty dataset",
                            src->name);

    size_t *perm = malloc(src->n * sizeof *perm);
    if (!perm)
        return bz_error_set(err, BZ_E_NOMEM, "%s: out of memory", src->name);
    for (size_t i = 0; i < src->n; i++)
        perm[i] = i;
    uint64_t state = seed;
    for (size_t i = src->n - 1; i > 0; i--) {
        size_t j = (size_t)uniform_below(&state, (uint64_t)i + 1);
        size_t t = perm[i];
        perm[i] = perm[j];
        perm[j] = t;
    }
    bz_status st = gather(src, perm, 0, n_val, val, err);
    if (st == BZ_OK)
        st = gather(src, perm + n_val, 0, src->n - n_val, train, err);
    free(perm);
    if (st != BZ_OK) {
        bz_dataset_free(train);
        bz_dataset_free(val);
    }
    return st;
}
