/*
 * DBNs as one safetensors file: the classifier's tensors "ff.W<l>" and
 * "ff.b<l>" (l = 0..L, the last the softmax layer), the generative stack's
 * "rbm<l>.W", "rbm<l>.vbias", "rbm<l>.hbias" when pretrained, and metadata:
 * format=boltzcl, model=dbn, layers (inputs first, e.g. "784,500,500"),
 * n_classes, activation, generative (yes/no), boltzcl_version, plus free
 * entries (preprocessing, image shape).
 */
#include "io/safetensors.h"
#include "models/dbn.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FORMAT_TAG "boltzcl"

typedef struct host_list {
    float *p[4 * BZ_DBN_MAX_LAYERS + 4];
    size_t n;
} host_list;

static float *hl_alloc(host_list *h, size_t count)
{
    float *p = malloc((count ? count : 1) * sizeof *p);
    if (p)
        h->p[h->n++] = p;
    return p;
}

static void hl_free(host_list *h)
{
    for (size_t i = 0; i < h->n; i++)
        free(h->p[i]);
    h->n = 0;
}

static bz_status add_buf(bz_dbn *d, bz_st_writer *w, host_list *h, const char *name,
                         const bz_buf *b, size_t rows, size_t cols, bz_error *err)
{
    size_t count = rows ? rows * cols : cols;
    float *p = hl_alloc(h, count);
    if (!p)
        return bz_fail(d->ctx, BZ_E_NOMEM, "out of memory saving tensor '%s'", name);
    bz_status st = bz_buf_read(d->ctx, b, 0, p, count);
    if (st)
        return st;
    size_t shape[2] = {rows, cols};
    st = bz_st_writer_add(w, name, BZ_ST_F32, rows ? 2 : 1, rows ? shape : shape + 1, p, 0, err);
    return st ? bz_fail(d->ctx, st, "%s", err->msg) : BZ_OK;
}

bz_status bz_dbn_save(bz_dbn *d, const char *path)
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
        snprintf(name, sizeof name, "ff.W%zu", l);
        st = add_buf(d, w, &h, name, &d->W[l], d->s[l], d->s[l + 1], &err);
        snprintf(name, sizeof name, "ff.b%zu", l);
        if (!st)
            st = add_buf(d, w, &h, name, &d->b[l], 0, d->s[l + 1], &err);
    }
    for (size_t l = 0; d->generative && l < d->L && !st; l++) {
        bz_rbm *r = d->rbm[l];
        snprintf(name, sizeof name, "rbm%zu.W", l);
        st = add_buf(d, w, &h, name, &r->W, r->nv, r->nh, &err);
        snprintf(name, sizeof name, "rbm%zu.vbias", l);
        if (!st)
            st = add_buf(d, w, &h, name, &r->vb, 0, r->nv, &err);
        snprintf(name, sizeof name, "rbm%zu.hbias", l);
        if (!st)
            st = add_buf(d, w, &h, name, &r->hb, 0, r->nh, &err);
    }
    size_t len = 0;
    num[0] = '\0';
    for (size_t l = 0; l <= d->L; l++)
        len += (size_t)snprintf(num + len, sizeof num - len, l ? ",%zu" : "%zu", d->s[l]);
    const char *kv[][2] = {
        {"format", FORMAT_TAG},       {"model", "dbn"},
        {"boltzcl_version", BOLTZCL_VERSION_STRING},
        {"layers", num},              {"activation", bz_dbn_act_name(d->act)},
        {"generative", d->generative ? "yes" : "no"},
    };
    for (size_t i = 0; i < sizeof kv / sizeof *kv && !st; i++)
        st = bz_st_writer_set_meta(w, kv[i][0], kv[i][1], &err);
    char k[32];
    snprintf(k, sizeof k, "%zu", d->K);
    if (!st)
        st = bz_st_writer_set_meta(w, "n_classes", k, &err);
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
                           size_t rows, size_t cols, bz_buf *dst, host_list *h)
{
    bz_error err = {0};
    size_t count = rows ? rows * cols : cols, shape[2] = {rows, cols};
    float *p = hl_alloc(h, count);
    if (!p)
        return bz_fail(c, BZ_E_NOMEM, "out of memory loading %s", path);
    bz_status st = bz_st_read_f32(f, name, rows ? 2 : 1, rows ? shape : shape + 1, p, &err);
    if (st)
        return bz_fail(c, st, "%s", err.msg);
    for (size_t i = 0; i < count; i++)
        if (!isfinite(p[i]))
            return bz_fail(c, BZ_E_FORMAT, "%s: tensor '%s' holds a non-finite value at index %zu",
                           path, name, i);
    return bz_buf_write(c, dst, 0, p, count);
}

static bz_status parse_layers(bz_context *c, const char *path, const char *text, size_t *s,
                              size_t *L)
{
    size_t n = 0;
    const char *p = text;
    while (p && *p) {
        char *end = NULL;
        errno = 0;
        unsigned long long v = strtoull(p, &end, 10);
        if (errno || end == p || v == 0 || v > (1u << 24) || n > BZ_DBN_MAX_LAYERS ||
            (*end && *end != ','))
            break;
        s[n++] = (size_t)v;
        p = *end ? end + 1 : end;
        if (!*p && *end == ',')
            n = 0; /* trailing comma */
        if (!*p)
            break;
    }
    if (!text || n < 2 || (p && *p))
        return bz_fail(c, BZ_E_FORMAT, "%s: metadata 'layers' is %s%s%s, expected sizes like "
                                       "784,500,500", path, text ? "'" : "missing",
                       text ? text : "", text ? "'" : "");
    *L = n - 1;
    return BZ_OK;
}

bz_status bz_dbn_load(bz_context *c, const char *path, bz_dbn **out)
{
    if (!c || !path || !out)
        return BZ_E_INVALID_ARG;
    *out = NULL;
    bz_st_file *f = NULL;
    bz_error err = {0};
    bz_status st = bz_st_open(path, &f, &err);
    if (st)
        return bz_fail(c, st, "%s", err.msg);
    host_list h = {0};
    bz_dbn *d = NULL;
    const char *fmt = bz_st_meta(f, "format"), *model = bz_st_meta(f, "model");
    if (!fmt || strcmp(fmt, FORMAT_TAG) != 0) {
        st = bz_fail(c, BZ_E_FORMAT,
                     "%s: not a boltzcl model (a safetensors file without format=boltzcl "
                     "metadata)", path);
        goto out;
    }
    if (!model || strcmp(model, "dbn") != 0) {
        st = bz_fail(c, BZ_E_FORMAT, "%s: holds a boltzcl '%s' model, not a DBN%s", path,
                     model ? model : "(unnamed)",
                     model && !strcmp(model, "rbm") ? " (use the RBM commands: eval, sample, "
                                                      "transform)" : "");
        goto out;
    }
    size_t s[BZ_DBN_MAX_LAYERS + 2], L = 0;
    if ((st = parse_layers(c, path, bz_st_meta(f, "layers"), s, &L)))
        goto out;
    const char *ks = bz_st_meta(f, "n_classes"), *an = bz_st_meta(f, "activation"),
               *gen = bz_st_meta(f, "generative");
    char *end = NULL;
    unsigned long K = ks ? strtoul(ks, &end, 10) : 0;
    bz_dbn_act act;
    if (!ks || *end || K < 2 || K > 4096 || bz_dbn_act_parse(an, &act) || !gen ||
        (strcmp(gen, "yes") && strcmp(gen, "no"))) {
        st = bz_fail(c, BZ_E_FORMAT,
                     "%s: DBN metadata n_classes '%s', activation '%s', generative '%s' not "
                     "understood", path, ks ? ks : "?", an ? an : "?", gen ? gen : "?");
        goto out;
    }
    if ((st = bz_dbn_create(c, s, L, K, act, 0, &d)))
        goto out;
    char name[64];
    for (size_t l = 0; l <= L && !st; l++) {
        snprintf(name, sizeof name, "ff.W%zu", l);
        st = read_into(c, f, path, name, d->s[l], d->s[l + 1], &d->W[l], &h);
        snprintf(name, sizeof name, "ff.b%zu", l);
        if (!st)
            st = read_into(c, f, path, name, 0, d->s[l + 1], &d->b[l], &h);
        hl_free(&h);
    }
    if (!st && !strcmp(gen, "yes")) {
        for (size_t l = 0; l < L && !st; l++) {
            size_t nv = d->s[l] + (l + 1 == L ? K : 0);
            if ((st = bz_rbm_create(c, nv, d->s[l + 1], BZ_UNIT_BERNOULLI, 0, &d->rbm[l])))
                break;
            bz_rbm *r = d->rbm[l];
            if (l + 1 == L)
                r->vis = bz_dbn_label_units(K);
            snprintf(name, sizeof name, "rbm%zu.W", l);
            st = read_into(c, f, path, name, nv, d->s[l + 1], &r->W, &h);
            snprintf(name, sizeof name, "rbm%zu.vbias", l);
            if (!st)
                st = read_into(c, f, path, name, 0, nv, &r->vb, &h);
            snprintf(name, sizeof name, "rbm%zu.hbias", l);
            if (!st)
                st = read_into(c, f, path, name, 0, d->s[l + 1], &r->hb, &h);
            hl_free(&h);
        }
        d->generative = !st;
    }
    static const char *const own[] = {"format", "model", "boltzcl_version", "layers",
                                      "activation", "generative", "n_classes"};
    for (size_t i = 0; i < bz_st_meta_count(f) && !st; i++) {
        const char *k, *v;
        bz_st_meta_at(f, i, &k, &v);
        bool skip = false;
        for (size_t j = 0; j < sizeof own / sizeof *own; j++)
            skip = skip || strcmp(k, own[j]) == 0;
        if (!skip)
            st = bz_dbn_set_meta(d, k, v);
    }
    if (!st) {
        *out = d;
        d = NULL;
    }
out:
    bz_dbn_free(d);
    hl_free(&h);
    bz_st_close(f);
    return st;
}

void bz_model_file_kind(const char *path, char *buf, size_t size)
{
    if (!size)
        return;
    buf[0] = '\0';
    bz_st_file *f = NULL;
    bz_error err = {0};
    if (!path || bz_st_open(path, &f, &err))
        return;
    const char *fmt = bz_st_meta(f, "format"), *model = bz_st_meta(f, "model");
    if (fmt && !strcmp(fmt, FORMAT_TAG) && model)
        snprintf(buf, size, "%s", model);
    bz_st_close(f);
}
