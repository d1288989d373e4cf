/*
 * The one safetensors loader and saver of every model kind: the format tag,
 * the kind lookup, shape-checked tensor reads with a non-finite check,
 * counts, layer lists and the free metadata live here once; a kind's
 * descriptor says only which tensors and keys it has.
 */
#include "models/model.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FORMAT_TAG "boltzcl"

/* Keys every file has, owned by the generic layer. */
static const char *const common_meta[] = {"format", "model", "boltzcl_version"};

int bz_layers_parse(const char *text, size_t min_n, size_t max_n, size_t *sizes, size_t *n)
{
    if (!text || !sizes || !n)
        return -1;
    size_t k = 0;
    const char *p = text;
    if (!*p)
        return -1;
    for (;;) {
        /* digits only: strtoull would take signs and spaces */
        if (*p < '0' || *p > '9')
            return -1;
        char *end = NULL;
        errno = 0;
        unsigned long long v = strtoull(p, &end, 10);
        if (errno || v == 0 || v > (1u << 24) || k == max_n)
            return -1;
        sizes[k++] = (size_t)v;
        if (!*end)
            break;
        if (*end != ',')
            return -1;
        p = end + 1; /* "784,500," ends in an empty size: refused above */
    }
    if (k < min_n)
        return -1;
    *n = k;
    return 0;
}

/* ---- reader ---- */

const char *bz_mr_meta(const bz_model_reader *rd, const char *key)
{
    return bz_st_meta(rd->file, key);
}

bool bz_mr_has(const bz_model_reader *rd, const char *name)
{
    return bz_st_find(rd->file, name) != NULL;
}

bz_status bz_mr_count(const bz_model_reader *rd, const char *key, size_t lo, size_t hi,
                      size_t *out)
{
    const char *v = bz_st_meta(rd->file, key);
    char *end = NULL;
    errno = 0;
    unsigned long long x = v && *v >= '0' && *v <= '9' ? strtoull(v, &end, 10) : 0;
    if (!v || errno || !end || end == v || *end || x < lo || x > hi)
        return bz_fail(rd->ctx, BZ_E_FORMAT, "%s: metadata '%s' is %s%s%s, expected a count "
                                             "from %zu to %zu", rd->path, key, v ? "'" : "missing",
                       v ? v : "", v ? "'" : "", lo, hi);
    *out = (size_t)x;
    return BZ_OK;
}

bz_status bz_mr_layers(const bz_model_reader *rd, const char *key, size_t min_n, size_t max_n,
                       size_t *sizes, size_t *n)
{
    const char *v = bz_st_meta(rd->file, key);
    if (bz_layers_parse(v, min_n, max_n, sizes, n))
        return bz_fail(rd->ctx, BZ_E_FORMAT, "%s: metadata '%s' is %s%s%s, expected %zu to %zu "
                                             "sizes like 784,500,500", rd->path, key,
                       v ? "'" : "missing", v ? v : "", v ? "'" : "", min_n, max_n);
    return BZ_OK;
}

bz_status bz_mr_host(const bz_model_reader *rd, const char *name, size_t rows, size_t cols,
                     float *dst)
{
    bz_error err = {0};
    size_t shape[2] = {rows, cols}, count = rows ? rows * cols : cols;
    bz_status st = bz_st_read_f32(rd->file, name, rows ? 2 : 1, rows ? shape : shape + 1, dst,
                                  &err);
    if (st)
        return bz_fail(rd->ctx, st, "%s", err.msg);
    for (size_t i = 0; i < count; i++)
        if (!isfinite(dst[i]))
            return bz_fail(rd->ctx, BZ_E_FORMAT,
                           "%s: tensor '%s' holds a non-finite value at index %zu", rd->path,
                           name, i);
    return BZ_OK;
}

bz_status bz_mr_buf(const bz_model_reader *rd, const char *name, size_t rows, size_t cols,
                    bz_buf *dst)
{
    size_t count = rows ? rows * cols : cols;
    float *p = malloc((count ? count : 1) * sizeof *p);
    if (!p)
        return bz_fail(rd->ctx, BZ_E_NOMEM, "out of memory loading %s", rd->path);
    bz_status st = bz_mr_host(rd, name, rows, cols, p);
    if (!st)
        st = bz_buf_write(rd->ctx, dst, 0, p, count);
    free(p);
    return st;
}

/* ---- writer ---- */

static float *keep(bz_model_writer *wr, size_t count)
{
    if (wr->n_host == sizeof wr->host / sizeof *wr->host)
        return NULL;
    float *p = malloc((count ? count : 1) * sizeof *p);
    if (p)
        wr->host[wr->n_host++] = p;
    return p;
}

static bz_status add(bz_model_writer *wr, const char *name, size_t rows, size_t cols,
                     const float *p)
{
    size_t shape[2] = {rows, cols};
    bz_status st = bz_st_writer_add(wr->w, name, BZ_ST_F32, rows ? 2 : 1,
                                    rows ? shape : shape + 1, p, 0, &wr->err);
    return st ? bz_fail(wr->ctx, st, "%s", wr->err.msg) : BZ_OK;
}

bz_status bz_mw_host(bz_model_writer *wr, const char *name, size_t rows, size_t cols,
                     const float *src)
{
    size_t count = rows ? rows * cols : cols;
    float *p = keep(wr, count);
    if (!p)
        return bz_fail(wr->ctx, BZ_E_NOMEM, "out of memory saving tensor '%s'", name);
    memcpy(p, src, count * sizeof *p);
    return add(wr, name, rows, cols, p);
}

bz_status bz_mw_buf(bz_model_writer *wr, const char *name, size_t rows, size_t cols,
                    const bz_buf *src)
{
    size_t count = rows ? rows * cols : cols;
    float *p = keep(wr, count);
    if (!p)
        return bz_fail(wr->ctx, BZ_E_NOMEM, "out of memory saving tensor '%s'", name);
    bz_status st = bz_buf_read(wr->ctx, src, 0, p, count);
    return st ? st : add(wr, name, rows, cols, p);
}

bz_status bz_mw_meta(bz_model_writer *wr, const char *key, const char *value)
{
    bz_status st = bz_st_writer_set_meta(wr->w, key, value, &wr->err);
    return st ? bz_fail(wr->ctx, st, "%s", wr->err.msg) : BZ_OK;
}

bz_status bz_mw_count(bz_model_writer *wr, const char *key, size_t value)
{
    char num[32];
    snprintf(num, sizeof num, "%zu", value);
    return bz_mw_meta(wr, key, num);
}

bz_status bz_mw_layers(bz_model_writer *wr, const char *key, const size_t *sizes, size_t n)
{
    char text[BZ_MODEL_MAX_LAYERS * 12 + 1];
    size_t len = 0;
    text[0] = '\0';
    for (size_t l = 0; l < n && len < sizeof text; l++)
        len += (size_t)snprintf(text + len, sizeof text - len, l ? ",%zu" : "%zu", sizes[l]);
    return bz_mw_meta(wr, key, text);
}

/* ---- the generic loader and saver ---- */

static bool owned(const bz_model_kind *k, const char *key)
{
    for (size_t i = 0; i < sizeof common_meta / sizeof *common_meta; i++)
        if (!strcmp(key, common_meta[i]))
            return true;
    for (const char *const *o = k->own_meta; o && *o; o++)
        if (!strcmp(key, *o))
            return true;
    return false;
}

bz_status bz_model_file_read(bz_context *c, const char *path, const bz_model_kind *want,
                             bz_model_read_extra extra, void *user, void **impl,
                             const bz_model_kind **kind_out)
{
    if (!c || !path || !impl)
        return BZ_E_INVALID_ARG;
    *impl = NULL;
    bz_st_file *f = NULL;
    bz_error err = {0};
    bz_status st = bz_st_open(path, &f, &err);
    if (st)
        return bz_fail(c, st, "%s", err.msg);
    const char *fmt = bz_st_meta(f, "format"), *model = bz_st_meta(f, "model");
    const bz_model_kind *k = model ? bz_model_kind_find(model) : NULL;
    void *m = NULL;
    if (!fmt || strcmp(fmt, FORMAT_TAG) != 0) {
        st = bz_fail(c, BZ_E_FORMAT, "%s: not a boltzcl model (a safetensors file without "
                                     "format=boltzcl metadata)", path);
        goto out;
    }
    if (want && k != want) {
        st = bz_fail(c, BZ_E_FORMAT, "%s: holds a boltzcl '%s' model, not %s (%s)", path,
                     model ? model : "(unnamed)", want->article, want->description);
        goto out;
    }
    if (!k) {
        st = bz_fail(c, BZ_E_FORMAT, "%s: holds a boltzcl '%s' model, a kind this version (%s) "
                                     "does not know", path, model ? model : "(unnamed)",
                     BOLTZCL_VERSION_STRING);
        goto out;
    }
    bz_model_reader rd = {c, path, f};
    if ((st = k->read(&rd, &m)))
        goto out;
    bz_meta *meta = k->meta(m);
    for (size_t i = 0; i < bz_st_meta_count(f) && !st; i++) {
        const char *key, *v;
        bz_st_meta_at(f, i, &key, &v);
        if (!owned(k, key))
            st = bz_meta_set(meta, c, key, v);
    }
    if (!st && extra)
        st = extra(&rd, m, user);
    if (!st) {
        *impl = m;
        m = NULL;
        if (kind_out)
            *kind_out = k;
    }
out:
    if (m)
        k->destroy(m);
    bz_st_close(f);
    return st;
}

bz_status bz_model_file_write(const bz_model_kind *k, void *impl, bz_context *c,
                              const char *path, bz_model_write_extra extra, void *user)
{
    if (!k || !impl || !c || !path)
        return BZ_E_INVALID_ARG;
    bz_model_writer wr = {.ctx = c};
    bz_status st = bz_st_writer_create(&wr.w, &wr.err);
    if (st)
        return bz_fail(c, st, "%s", wr.err.msg);
    if (!st)
        st = bz_mw_meta(&wr, "format", FORMAT_TAG);
    if (!st)
        st = bz_mw_meta(&wr, "model", k->name);
    if (!st)
        st = bz_mw_meta(&wr, "boltzcl_version", BOLTZCL_VERSION_STRING);
    if (!st)
        st = k->write(impl, &wr);
    if (!st && extra)
        st = extra(&wr, impl, user);
    const bz_meta *meta = k->meta(impl);
    for (size_t i = 0; i < meta->n && !st; i++)
        if (!owned(k, meta->key[i]))
            st = bz_mw_meta(&wr, meta->key[i], meta->val[i]);
    if (!st && (st = bz_st_writer_write(wr.w, path, &wr.err)))
        bz_fail(c, st, "%s", wr.err.msg);
    bz_st_writer_free(wr.w);
    for (size_t i = 0; i < wr.n_host; i++)
        free(wr.host[i]);
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

bz_status bz_model_unsupported(bz_context *ctx, const bz_model_kind *kind, const char *op)
{
    return bz_fail(ctx, BZ_E_UNSUPPORTED, "%s models (%s) do not support %s", kind->name,
                   kind->description, op);
}
