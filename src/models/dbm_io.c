/*
 * DBMs as one safetensors file: tensors "W<l>" (s[l] x s[l+1], l < L) and
 * "b<l>" (l <= L), the classifier's "clf.W<l>" / "clf.b<l>" when fine-tuned,
 * and metadata format=boltzcl, model=dbm, layers (visible first, e.g.
 * "784,500,1000"), n_classes (with a classifier), boltzcl_version, plus free
 * entries (preprocessing, image shape, mean-field sweeps).
 */
#include "io/safetensors.h"
#include "models/dbm.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FORMAT_TAG "boltzcl"
#define MAX_TENSORS (4 * BZ_DBM_MAX_HIDDEN + 8)

typedef struct host_list {
    float *p[MAX_TENSORS];
    size_t n;
} host_list;

static void hl_free(host_list *h)
{
    for (size_t i = 0; i < h->n; i++)
        free(h->p[i]);
    h->n = 0;
}

static bz_status add(bz_context *c, bz_st_writer *w, host_list *h, const char *name,
                     const bz_buf *b, size_t rows, size_t cols)
{
    size_t count = rows ? rows * cols : cols;
    float *p = malloc(count * sizeof *p);
    if (!p)
        return bz_fail(c, BZ_E_NOMEM, "out of memory saving tensor '%s'", name);
    h->p[h->n++] = p;
    bz_status st = bz_buf_read(c, b, 0, p, count);
    if (st)
        return st;
    bz_error err = {0};
    size_t shape[2] = {rows, cols};
    st = bz_st_writer_add(w, name, BZ_ST_F32, rows ? 2 : 1, rows ? shape : shape + 1, p, 0, &err);
    return st ? bz_fail(c, st, "%s", err.msg) : BZ_OK;
}

bz_status bz_dbm_save(bz_dbm *d, const char *path)
{
    if (!d || !path)
        return BZ_E_INVALID_ARG;
    bz_context *c = d->ctx;
    bz_st_writer *w = NULL;
    bz_error err = {0};
    host_list h = {0};
    char name[64], num[256];
    bz_status st = bz_st_writer_create(&w, &err);
    if (st)
        return bz_fail(c, st, "%s", err.msg);
    for (size_t l = 0; l <= d->L && !st; l++) {
        snprintf(name, sizeof name, "b%zu", l);
        st = add(c, w, &h, name, &d->b[l], 0, d->s[l]);
        snprintf(name, sizeof name, "W%zu", l);
        if (!st && l < d->L)
            st = add(c, w, &h, name, &d->W[l], d->s[l], d->s[l + 1]);
    }
    for (size_t l = 0; d->clf && l <= d->clf->L && !st; l++) {
        snprintf(name, sizeof name, "clf.W%zu", l);
        st = add(c, w, &h, name, &d->clf->W[l], d->clf->s[l], d->clf->s[l + 1]);
        snprintf(name, sizeof name, "clf.b%zu", l);
        if (!st)
            st = add(c, w, &h, name, &d->clf->b[l], 0, d->clf->s[l + 1]);
    }
    size_t len = 0;
    for (size_t l = 0; l <= d->L; l++)
        len += (size_t)snprintf(num + len, sizeof num - len, l ? ",%zu" : "%zu", d->s[l]);
    const char *kv[][2] = {{"format", FORMAT_TAG},
                           {"model", "dbm"},
                           {"boltzcl_version", BOLTZCL_VERSION_STRING},
                           {"layers", num}};
    for (size_t i = 0; i < sizeof kv / sizeof *kv && !st; i++)
        st = bz_st_writer_set_meta(w, kv[i][0], kv[i][1], &err);
    if (!st && d->clf) {
        char k[32];
        snprintf(k, sizeof k, "%zu", d->clf->K);
        st = bz_st_writer_set_meta(w, "n_classes", k, &err);
    }
    for (size_t i = 0; i < d->meta.n && !st; i++)
        st = bz_st_writer_set_meta(w, d->meta.key[i], d->meta.val[i], &err);
    if (!st)
        st = bz_st_writer_write(w, path, &err);
    if (st && err.msg[0])
        st = bz_fail(c, st, "%s", err.msg);
    bz_st_writer_free(w);
    hl_free(&h);
    return st;
}

static bz_status read_into(bz_context *c, const bz_st_file *f, const char *path, const char *name,
                           size_t rows, size_t cols, bz_buf *dst)
{
    bz_error err = {0};
    size_t count = rows ? rows * cols : cols, shape[2] = {rows, cols};
    float *p = malloc(count * sizeof *p);
    if (!p)
        return bz_fail(c, BZ_E_NOMEM, "out of memory loading %s", path);
    bz_status st = bz_st_read_f32(f, name, rows ? 2 : 1, rows ? shape : shape + 1, p, &err);
    if (st) {
        free(p);
        return bz_fail(c, st, "%s: %s", path, err.msg);
    }
    for (size_t i = 0; i < count; i++)
        if (!isfinite(p[i])) {
            free(p);
            return bz_fail(c, BZ_E_FORMAT, "%s: tensor '%s' holds a non-finite value at index %zu",
                           path, name, i);
        }
    st = bz_buf_write(c, dst, 0, p, count);
    free(p);
    return st;
}

static bz_status parse_layers(bz_context *c, const char *path, const char *text, size_t *s,
                              size_t *L)
{
    size_t n = 0;
    const char *p = text;
    bool ok = text != NULL;
    while (ok && *p) {
        char *end = NULL;
        errno = 0;
        unsigned long long v = strtoull(p, &end, 10);
        if (errno || end == p || v == 0 || v > (1u << 24) || n > BZ_DBM_MAX_HIDDEN ||
            (*end && *end != ',') || (*end == ',' && !end[1]))
            ok = false;
        else
            s[n++] = (size_t)v;
        p = ok && *end ? end + 1 : end;
    }
    if (!ok || n < 3)
        return bz_fail(c, BZ_E_FORMAT,
                       "%s: DBM metadata 'layers' is %s%s%s, expected 3 or 4 sizes like "
                       "784,500,1000", path, text ? "'" : "missing", text ? text : "",
                       text ? "'" : "");
    *L = n - 1;
    return BZ_OK;
}

bz_status bz_dbm_load(bz_context *c, const char *path, bz_dbm **out)
{
    if (!c || !path || !out)
        return BZ_E_INVALID_ARG;
    *out = NULL;
    bz_st_file *f = NULL;
    bz_error err = {0};
    bz_status st = bz_st_open(path, &f, &err);
    if (st)
        return bz_fail(c, st, "%s", err.msg);
    bz_dbm *d = NULL;
    const char *fmt = bz_st_meta(f, "format"), *model = bz_st_meta(f, "model");
    if (!fmt || strcmp(fmt, FORMAT_TAG) != 0) {
        st = bz_fail(c, BZ_E_FORMAT,
                     "%s: not a boltzcl model (a safetensors file without format=boltzcl "
                     "metadata)", path);
        goto out;
    }
    if (!model || strcmp(model, "dbm") != 0) {
        st = bz_fail(c, BZ_E_FORMAT, "%s: holds a boltzcl '%s' model, not a DBM (deep Boltzmann "
                                     "machine)", path, model ? model : "(unnamed)");
        goto out;
    }
    size_t s[BZ_DBM_MAX_HIDDEN + 2], L = 0;
    if ((st = parse_layers(c, path, bz_st_meta(f, "layers"), s, &L)) ||
        (st = bz_dbm_create(c, s, L, 0, &d)))
        goto out;
    char name[64];
    for (size_t l = 0; l <= L && !st; l++) {
        snprintf(name, sizeof name, "b%zu", l);
        st = read_into(c, f, path, name, 0, s[l], &d->b[l]);
        snprintf(name, sizeof name, "W%zu", l);
        if (!st && l < L)
            st = read_into(c, f, path, name, s[l], s[l + 1], &d->W[l]);
    }
    const char *ks = bz_st_meta(f, "n_classes");
    if (!st && ks) {
        char *end = NULL;
        unsigned long K = strtoul(ks, &end, 10);
        if (*end || end == ks || K < 2 || K > 4096) {
            st = bz_fail(c, BZ_E_FORMAT, "%s: metadata n_classes '%s' is not 2 to 4096", path,
                         ks);
            goto out;
        }
        size_t sizes[BZ_DBM_MAX_HIDDEN + 1] = {s[0] + s[2], s[1], s[2], L > 2 ? s[3] : 0};
        if ((st = bz_dbn_create(c, sizes, L, K, BZ_ACT_SIGMOID, 0, &d->clf)))
            goto out;
        for (size_t l = 0; l <= L && !st; l++) {
            snprintf(name, sizeof name, "clf.W%zu", l);
            st = read_into(c, f, path, name, d->clf->s[l], d->clf->s[l + 1], &d->clf->W[l]);
            snprintf(name, sizeof name, "clf.b%zu", l);
            if (!st)
                st = read_into(c, f, path, name, 0, d->clf->s[l + 1], &d->clf->b[l]);
        }
    }
    static const char *const own[] = {"format", "model", "boltzcl_version", "layers",
                                      "n_classes"};
    for (size_t i = 0; i < bz_st_meta_count(f) && !st; i++) {
        const char *k, *v;
        bz_st_meta_at(f, i, &k, &v);
        bool skip = false;
        for (size_t j = 0; j < sizeof own / sizeof *own; j++)
            skip = skip || strcmp(k, own[j]) == 0;
        if (!skip)
            st = bz_dbm_set_meta(d, k, v);
    }
    if (!st) {
        *out = d;
        d = NULL;
    }
out:
    bz_dbm_free(d);
    bz_st_close(f);
    return st;
}
