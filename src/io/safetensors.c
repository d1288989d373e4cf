#include "io/safetensors.h"

#include "base/atomic_file.h"
#include "base/text.h"
#include "io/filebuf.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "safetensors I/O assumes a little-endian host"
#endif

static const struct {
    const char *name;
    size_t size;
} dtypes[BZ_ST_DTYPE_COUNT] = {
    [BZ_ST_BOOL] = {"BOOL", 1},       [BZ_ST_U8] = {"U8", 1},
    [BZ_ST_I8] = {"I8", 1},           [BZ_ST_F8_E5M2] = {"F8_E5M2", 1},
    [BZ_ST_F8_E4M3] = {"F8_E4M3", 1}, [BZ_ST_I16] = {"I16", 2},
    [BZ_ST_U16] = {"U16", 2},         [BZ_ST_F16] = {"F16", 2},
    [BZ_ST_BF16] = {"BF16", 2},       [BZ_ST_I32] = {"I32", 4},
    [BZ_ST_U32] = {"U32", 4},         [BZ_ST_F32] = {"F32", 4},
    [BZ_ST_F64] = {"F64", 8},         [BZ_ST_I64] = {"I64", 8},
    [BZ_ST_U64] = {"U64", 8},
};

const char *bz_st_dtype_name(bz_st_dtype dtype)
{
    return (unsigned)dtype < BZ_ST_DTYPE_COUNT ? dtypes[dtype].name : NULL;
}

size_t bz_st_dtype_size(bz_st_dtype dtype)
{
    return (unsigned)dtype < BZ_ST_DTYPE_COUNT ? dtypes[dtype].size : 0;
}

static char *dup_str(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}

/* Formats "[2, 3]" into buf. */
static const char *shape_str(int ndim, const size_t *shape, char *buf, size_t cap)
{
    size_t n = (size_t)snprintf(buf, cap, "[");
    for (int i = 0; i < ndim && n < cap; i++)
        n += (size_t)snprintf(buf + n, cap - n, "%s%zu", i ? ", " : "", shape[i]);
    if (n < cap)
        snprintf(buf + n, cap - n, "]");
    return buf;
}

/* ------------------------------------------------------------------------- */
/* Reader                                                                    */
/* ------------------------------------------------------------------------- */

struct bz_st_file {
    char *name;
    uint8_t *buf;
    size_t len;
    bz_st_tensor *t;
    size_t nt;
    char **mkey;
    char **mval;
    size_t nmeta;
};

void bz_st_close(bz_st_file *f)
{
    if (!f)
        return;
    for (size_t i = 0; i < f->nt; i++)
        free((char *)f->t[i].name);
    for (size_t i = 0; i < f->nmeta; i++) {
        free(f->mkey[i]);
        free(f->mval[i]);
    }
    free(f->t);
    free(f->mkey);
    free(f->mval);
    free(f->buf);
    free(f->name);
    free(f);
}

enum { SZ_OK = 0, SZ_NOT_INT, SZ_NEGATIVE, SZ_TOO_LARGE };

static int get_size(json_object *v, size_t *out)
{
    if (!json_object_is_type(v, json_type_int))
        return SZ_NOT_INT;
    int64_t s = json_object_get_int64(v);
    if (s < 0)
        return SZ_NEGATIVE;
    uint64_t u = s == INT64_MAX ? json_object_get_uint64(v) : (uint64_t)s;
    if (u > SIZE_MAX)
        return SZ_TOO_LARGE;
    *out = (size_t)u;
    return SZ_OK;
}

static const char *size_problem(int r)
{
    return r == SZ_NOT_INT ? "is not an integer" : r == SZ_NEGATIVE ? "is negative" : "is too large";
}

typedef struct span {
    size_t begin, end, idx;
} span;

static int span_cmp(const void *a, const void *b)
{
    const span *x = a, *y = b;
    if (x->begin != y->begin)
        return x->begin < y->begin ? -1 : 1;
    if (x->end != y->end)
        return x->end < y->end ? -1 : 1;
    return x->idx < y->idx ? -1 : x->idx > y->idx;
}

static bz_status parse_tensor(const char *fname, const char *tname, json_object *info,
                              size_t data_start, size_t data_len, bz_st_tensor *t, size_t *begin,
                              bz_error *err)
{
    if (!json_object_is_type(info, json_type_object))
        return bz_error_set(err, BZ_E_FORMAT,
                            "%s: tensor '%.200s': entry is a JSON %s, expected an object with "
                            "dtype, shape and data_offsets",
                            fname, tname, json_type_to_name(json_object_get_type(info)));
    json_object *jd, *js, *jo;
    if (!json_object_object_get_ex(info, "dtype", &jd) ||
        !json_object_object_get_ex(info, "shape", &js) ||
        !json_object_object_get_ex(info, "data_offsets", &jo))
        return bz_error_set(err, BZ_E_FORMAT,
                            "%s: tensor '%.200s': missing \"%s\"", fname, tname,
                            !json_object_object_get_ex(info, "dtype", NULL)   ? "dtype"
                            : !json_object_object_get_ex(info, "shape", NULL) ? "shape"
                                                                              : "data_offsets");
    if (!json_object_is_type(jd, json_type_string))
        return bz_error_set(err, BZ_E_FORMAT, "%s: tensor '%.200s': dtype is not a string",
                            fname, tname);
    const char *ds = json_object_get_string(jd);
    int dt = -1;
    for (int i = 0; i < BZ_ST_DTYPE_COUNT; i++)
        if (strcmp(ds, dtypes[i].name) == 0)
            dt = i;
    if (dt < 0)
        return bz_error_set(err, BZ_E_FORMAT,
                            "%s: tensor '%.200s': unknown dtype \"%.40s\", expected one of BOOL, "
                            "U8, I8, F8_E5M2, F8_E4M3, I16, U16, F16, BF16, I32, U32, F32, F64, "
                            "I64, U64",
                            fname, tname, ds);
    t->dtype = (bz_st_dtype)dt;

    if (!json_object_is_type(js, json_type_array))
        return bz_error_set(err, BZ_E_FORMAT,
                            "%s: tensor '%.200s': shape is not an array of integers", fname,
                            tname);
    size_t nd = json_object_array_length(js);
    if (nd > BZ_ST_MAX_DIMS)
        return bz_error_set(err, BZ_E_FORMAT,
                            "%s: tensor '%.200s': %zu dimensions, at most %d supported", fname,
                            tname, nd, BZ_ST_MAX_DIMS);
    t->ndim = (int)nd;
    int has_zero = 0;
    for (size_t i = 0; i < nd; i++) {
        int r = get_size(json_object_array_get_idx(js, i), &t->shape[i]);
        if (r != SZ_OK)
            return bz_error_set(err, BZ_E_FORMAT,
                                "%s: tensor '%.200s': shape[%zu] %s, expected a non-negative "
                                "integer",
                                fname, tname, i, size_problem(r));
        has_zero |= t->shape[i] == 0;
    }
    size_t numel = has_zero ? 0 : 1;
    char sb[256];
    for (size_t i = 0; numel && i < nd; i++) {
        if (numel > SIZE_MAX / t->shape[i] || numel * t->shape[i] > SIZE_MAX / dtypes[dt].size)
            return bz_error_set(err, BZ_E_FORMAT,
                                "%s: tensor '%.200s': shape %s overflows the byte count", fname,
                                tname, shape_str(t->ndim, t->shape, sb, sizeof sb));
        numel *= t->shape[i];
    }
    t->numel = numel;
    t->nbytes = numel * dtypes[dt].size;

    if (!json_object_is_type(jo, json_type_array) || json_object_array_length(jo) != 2)
        return bz_error_set(err, BZ_E_FORMAT,
                            "%s: tensor '%.200s': data_offsets is not an array [begin, end]",
                            fname, tname);
    size_t b = 0, e = 0;
    int rb = get_size(json_object_array_get_idx(jo, 0), &b);
    int re = get_size(json_object_array_get_idx(jo, 1), &e);
    if (rb != SZ_OK || re != SZ_OK)
        return bz_error_set(err, BZ_E_FORMAT,
                            "%s: tensor '%.200s': data_offsets %s %s, expected a non-negative "
                            "integer",
                            fname, tname, rb != SZ_OK ? "begin" : "end",
                            size_problem(rb != SZ_OK ? rb : re));
    if (b > e)
        return bz_error_set(err, BZ_E_FORMAT,
                            "%s: tensor '%.200s': data_offsets [%zu, %zu] end before they begin",
                            fname, tname, b, e);
    if (e > data_len)
        return bz_error_set(err, BZ_E_FORMAT,
                            "%s: tensor '%.200s': data_offsets [%zu, %zu] run past the end of "
                            "the %zu-byte data buffer (file offset %zu, file size %zu)",
                            fname, tname, b, e, data_len, data_start + e, data_start + data_len);
    if (e - b != t->nbytes)
        return bz_error_set(err, BZ_E_FORMAT,
                            "%s: tensor '%.200s': data_offsets [%zu, %zu] hold %zu bytes, but "
                            "%s %s needs %zu",
                            fname, tname, b, e, e - b, dtypes[dt].name,
                            shape_str(t->ndim, t->shape, sb, sizeof sb), t->nbytes);
    t->offset = data_start + b;
    *begin = b;
    return BZ_OK;
}

static bz_status parse_metadata(bz_st_file *f, json_object *meta, bz_error *err)
{
    if (!json_object_is_type(meta, json_type_object))
        return bz_error_set(err, BZ_E_FORMAT,
                            "%s: __metadata__ is a JSON %s, expected an object of strings",
                            f->name, json_type_to_name(json_object_get_type(meta)));
    size_t n = (size_t)json_object_object_length(meta);
    f->mkey = calloc(n ? n : 1, sizeof *f->mkey);
    f->mval = calloc(n ? n : 1, sizeof *f->mval);
    if (!f->mkey || !f->mval)
        return bz_error_set(err, BZ_E_NOMEM, "%s: out of memory", f->name);
    struct json_object_iterator it = json_object_iter_begin(meta);
    struct json_object_iterator end = json_object_iter_end(meta);
    for (; !json_object_iter_equal(&it, &end); json_object_iter_next(&it)) {
        const char *k = json_object_iter_peek_name(&it);
        json_object *v = json_object_iter_peek_value(&it);
        if (!json_object_is_type(v, json_type_string))
            return bz_error_set(err, BZ_E_FORMAT,
                                "%s: __metadata__ value for key '%.200s' is a JSON %s, expected "
                                "a string",
                                f->name, k, json_type_to_name(json_object_get_type(v)));
        if (f->nmeta >= n)
            return bz_error_set(err, BZ_E_INTERNAL, "%s: metadata count changed", f->name);
        f->mkey[f->nmeta] = dup_str(k);
        f->mval[f->nmeta] = dup_str(json_object_get_string(v));
        f->nmeta++;
        if (!f->mkey[f->nmeta - 1] || !f->mval[f->nmeta - 1])
            return bz_error_set(err, BZ_E_NOMEM, "%s: out of memory", f->name);
    }
    return BZ_OK;
}

/* Validates buf (taking ownership of it) into a new bz_st_file. */
static bz_status parse_owned(uint8_t *buf, size_t len, const char *name, bz_st_file **out,
                             bz_error *err)
{
    bz_st_file *f = calloc(1, sizeof *f);
    json_tokener *tok = NULL;
    json_object *root = NULL;
    span *spans = NULL;
    bz_status st = BZ_OK;
    if (!f || !(f->name = dup_str(name))) {
        free(f);
        free(buf);
        return bz_error_set(err, BZ_E_NOMEM, "%s: out of memory", name);
    }
    f->buf = buf;
    f->len = len;

    if (len < 8) {
        st = bz_error_set(err, BZ_E_FORMAT,
                          "%s: not a safetensors file: %zu bytes, too short for the 8-byte "
                          "header length",
                          name, len);
        goto fail;
    }
    uint64_t hlen = 0;
    for (int i = 7; i >= 0; i--)
        hlen = hlen << 8 | buf[i];
    if (hlen > len - 8) {
        st = bz_error_set(err, BZ_E_FORMAT,
                          "%s: not a safetensors file: header length %llu exceeds file size %zu",
                          name, (unsigned long long)hlen, len);
        goto fail;
    }
    if (hlen > BZ_ST_MAX_HEADER) {
        st = bz_error_set(err, BZ_E_FORMAT,
                          "%s: offset 0: header length %llu exceeds the %u-byte limit", name,
                          (unsigned long long)hlen, BZ_ST_MAX_HEADER);
        goto fail;
    }
    if (hlen < 2 || buf[8] != '{') {
        st = bz_error_set(err, BZ_E_FORMAT,
                          "%s: not a safetensors file: offset 8: expected a JSON header "
                          "starting with '{' (header length %llu)",
                          name, (unsigned long long)hlen);
        goto fail;
    }
    const char *hdr = (const char *)buf + 8;
    size_t hn = (size_t)hlen;
    const char *nul = memchr(hdr, 0, hn);
    if (nul) {
        st = bz_error_set(err, BZ_E_FORMAT, "%s: offset %zu: NUL byte inside the JSON header",
                          name, 8 + (size_t)(nul - hdr));
        goto fail;
    }

    tok = json_tokener_new();
    if (!tok) {
        st = bz_error_set(err, BZ_E_NOMEM, "%s: out of memory", name);
        goto fail;
    }
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_ALLOW_TRAILING_CHARS |
                                    JSON_TOKENER_VALIDATE_UTF8);
    root = json_tokener_parse_ex(tok, hdr, (int)hn);
    enum json_tokener_error je = json_tokener_get_error(tok);
    size_t pend = json_tokener_get_parse_end(tok);
    if (je == json_tokener_continue || (je == json_tokener_success && !root)) {
        st = bz_error_set(err, BZ_E_FORMAT,
                          "%s: offset %zu: JSON header ends before its object is complete "
                          "(header length %zu)",
                          name, 8 + hn, hn);
        goto fail;
    }
    if (je != json_tokener_success) {
        st = bz_error_set(err, BZ_E_FORMAT, "%s: offset %zu: invalid JSON header: %s", name,
                          8 + pend, json_tokener_error_desc(je));
        goto fail;
    }
    for (size_t i = pend; i < hn; i++) {
        char c = hdr[i];
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r') {
            st = bz_error_set(err, BZ_E_FORMAT,
                              "%s: offset %zu: unexpected data after the JSON header object "
                              "(expected spaces up to offset %zu)",
                              name, 8 + i, 8 + hn);
            goto fail;
        }
    }
    if (!json_object_is_type(root, json_type_object)) {
        st = bz_error_set(err, BZ_E_FORMAT, "%s: offset 8: JSON header is not an object", name);
        goto fail;
    }

    size_t data_start = 8 + hn, data_len = len - data_start;
    size_t nkeys = (size_t)json_object_object_length(root);
    f->t = calloc(nkeys ? nkeys : 1, sizeof *f->t);
    spans = calloc(nkeys ? nkeys : 1, sizeof *spans);
    if (!f->t || !spans) {
        st = bz_error_set(err, BZ_E_NOMEM, "%s: out of memory", name);
        goto fail;
    }
    int have_meta = 0;
    struct json_object_iterator it = json_object_iter_begin(root);
    struct json_object_iterator end = json_object_iter_end(root);
    for (; !json_object_iter_equal(&it, &end); json_object_iter_next(&it)) {
        const char *k = json_object_iter_peek_name(&it);
        json_object *v = json_object_iter_peek_value(&it);
        if (strcmp(k, "__metadata__") == 0) {
            if (have_meta++) {
                st = bz_error_set(err, BZ_E_FORMAT, "%s: __metadata__ appears twice", name);
                goto fail;
            }
            st = parse_metadata(f, v, err);
            if (st != BZ_OK)
                goto fail;
            continue;
        }
        if (f->nt >= nkeys) {
            st = bz_error_set(err, BZ_E_INTERNAL, "%s: header key count changed", name);
            goto fail;
        }
        bz_st_tensor *t = &f->t[f->nt];
        size_t b = 0;
        st = parse_tensor(name, k, v, data_start, data_len, t, &b, err);
        if (st != BZ_OK)
            goto fail;
        t->name = dup_str(k);
        if (!t->name) {
            st = bz_error_set(err, BZ_E_NOMEM, "%s: out of memory", name);
            goto fail;
        }
        t->data = buf + t->offset;
        spans[f->nt].begin = b;
        spans[f->nt].end = b + t->nbytes;
        spans[f->nt].idx = f->nt;
        f->nt++;
    }

    /* Sorted by offset, the tensors must tile the data buffer exactly. */
    qsort(spans, f->nt, sizeof *spans, span_cmp);
    size_t expect = 0;
    for (size_t i = 0; i < f->nt; i++) {
        const bz_st_tensor *t = &f->t[spans[i].idx];
        if (spans[i].begin < expect) {
            st = bz_error_set(err, BZ_E_FORMAT,
                              "%s: tensor '%.200s' (data_offsets [%zu, %zu]) overlaps tensor "
                              "'%.200s', which ends at %zu",
                              name, t->name, spans[i].begin, spans[i].end,
                              f->t[spans[i - 1].idx].name, expect);
            goto fail;
        }
        if (spans[i].begin > expect) {
            st = bz_error_set(err, BZ_E_FORMAT,
                              "%s: %zu unused bytes in the data buffer before tensor '%.200s' "
                              "(data offsets %zu..%zu, file offset %zu)",
                              name, spans[i].begin - expect, t->name, expect, spans[i].begin,
                              data_start + expect);
            goto fail;
        }
        expect = spans[i].end;
    }
    if (expect != data_len) {
        st = bz_error_set(err, BZ_E_FORMAT,
                          "%s: offset %zu: %zu bytes after the last tensor, expected the "
                          "tensors to cover the %zu-byte data buffer exactly",
                          name, data_start + expect, data_len - expect, data_len);
        goto fail;
    }

    free(spans);
    json_object_put(root);
    json_tokener_free(tok);
    *out = f;
    return BZ_OK;

fail:
    free(spans);
    if (root)
        json_object_put(root);
    if (tok)
        json_tokener_free(tok);
    bz_st_close(f);
    return st;
}

bz_status bz_st_parse(const void *buf, size_t len, const char *name, bz_st_file **out,
                      bz_error *err)
{
    if (!out)
        return bz_error_set(err, BZ_E_INVALID_ARG, "bz_st_parse: NULL output");
    *out = NULL;
    if (!buf && len)
        return bz_error_set(err, BZ_E_INVALID_ARG, "bz_st_parse: NULL buffer");
    if (!name)
        name = "<memory>";
    uint8_t *copy = malloc(len ? len : 1);
    if (!copy)
        return bz_error_set(err, BZ_E_NOMEM, "%s: cannot allocate %zu bytes", name, len);
    if (len)
        memcpy(copy, buf, len);
    return parse_owned(copy, len, name, out, err);
}

bz_status bz_st_open(const char *path, bz_st_file **out, bz_error *err)
{
    if (!out)
        return bz_error_set(err, BZ_E_INVALID_ARG, "bz_st_open: NULL output");
    *out = NULL;
    if (!path)
        return bz_error_set(err, BZ_E_INVALID_ARG, "bz_st_open: NULL path");
    uint8_t *buf = NULL;
    size_t len = 0;
    bz_status st = bz_read_file(path, BZ_IO_MAX_BYTES, &buf, &len, err);
    if (st != BZ_OK)
        return st;
    return parse_owned(buf, len, path, out, err);
}

size_t bz_st_count(const bz_st_file *f)
{
    return f ? f->nt : 0;
}

const bz_st_tensor *bz_st_at(const bz_st_file *f, size_t i)
{
    return f && i < f->nt ? &f->t[i] : NULL;
}

const bz_st_tensor *bz_st_find(const bz_st_file *f, const char *name)
{
    if (!f || !name)
        return NULL;
    for (size_t i = 0; i < f->nt; i++)
        if (strcmp(f->t[i].name, name) == 0)
            return &f->t[i];
    return NULL;
}

const char *bz_st_meta(const bz_st_file *f, const char *key)
{
    if (!f || !key)
        return NULL;
    for (size_t i = 0; i < f->nmeta; i++)
        if (strcmp(f->mkey[i], key) == 0)
            return f->mval[i];
    return NULL;
}

size_t bz_st_meta_count(const bz_st_file *f)
{
    return f ? f->nmeta : 0;
}

int bz_st_meta_at(const bz_st_file *f, size_t i, const char **key, const char **value)
{
    if (!f || i >= f->nmeta)
        return 0;
    if (key)
        *key = f->mkey[i];
    if (value)
        *value = f->mval[i];
    return 1;
}

bz_status bz_st_read_f32(const bz_st_file *f, const char *name, int ndim, const size_t *shape,
                         float *dst, bz_error *err)
{
    if (!f || !name || (!dst && shape))
        return bz_error_set(err, BZ_E_INVALID_ARG, "bz_st_read_f32: NULL argument");
    const bz_st_tensor *t = bz_st_find(f, name);
    if (!t)
        return bz_error_set(err, BZ_E_FORMAT, "%s: tensor '%s' not found", f->name, name);
    if (t->dtype != BZ_ST_F32)
        return bz_error_set(err, BZ_E_FORMAT, "%s: tensor '%s' has dtype %s, expected F32",
                            f->name, name, dtypes[t->dtype].name);
    if (shape) {
        int same = ndim == t->ndim;
        for (int i = 0; same && i < ndim; i++)
            same = shape[i] == t->shape[i];
        if (!same) {
            char a[256], b[256];
            return bz_error_set(err, BZ_E_SHAPE, "%s: tensor '%s' has shape %s, expected %s",
                                f->name, name, shape_str(t->ndim, t->shape, a, sizeof a),
                                shape_str(ndim < 0 ? 0 : ndim > BZ_ST_MAX_DIMS ? BZ_ST_MAX_DIMS
                                                                               : ndim,
                                          shape, b, sizeof b));
        }
    }
    if (dst && t->nbytes)
        memcpy(dst, t->data, t->nbytes);
    return BZ_OK;
}

/* ------------------------------------------------------------------------- */
/* Writer                                                                    */
/* ------------------------------------------------------------------------- */

typedef struct st_entry {
    char *name;
    bz_st_dtype dtype;
    int ndim;
    size_t shape[BZ_ST_MAX_DIMS];
    size_t nbytes;
    const void *data;
    void *owned;
} st_entry;

struct bz_st_writer {
    st_entry *e;
    size_t n, cap;
    char **mkey, **mval;
    size_t nmeta, mcap;
};

/* Strict UTF-8: no overlong forms, surrogates or code points past U+10FFFF. */
static int valid_utf8(const char *str)
{
    const unsigned char *s = (const unsigned char *)str;
    while (*s) {
        unsigned c = *s;
        int n;
        unsigned min;
        if (c < 0x80) {
            s++;
            continue;
        } else if ((c & 0xE0) == 0xC0) {
            n = 1;
            min = 0x80;
            c &= 0x1F;
        } else if ((c & 0xF0) == 0xE0) {
            n = 2;
            min = 0x800;
            c &= 0x0F;
        } else if ((c & 0xF8) == 0xF0) {
            n = 3;
            min = 0x10000;
            c &= 0x07;
        } else {
            return 0;
        }
        for (int i = 1; i <= n; i++) {
            if ((s[i] & 0xC0) != 0x80)
                return 0;
            c = c << 6 | (s[i] & 0x3F);
        }
        if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
            return 0;
        s += n + 1;
    }
    return 1;
}

bz_status bz_st_writer_create(bz_st_writer **out, bz_error *err)
{
    if (!out)
        return bz_error_set(err, BZ_E_INVALID_ARG, "bz_st_writer_create: NULL output");
    *out = calloc(1, sizeof **out);
    if (!*out)
        return bz_error_set(err, BZ_E_NOMEM, "safetensors writer: out of memory");
    return BZ_OK;
}

void bz_st_writer_free(bz_st_writer *w)
{
    if (!w)
        return;
    for (size_t i = 0; i < w->n; i++) {
        free(w->e[i].name);
        free(w->e[i].owned);
    }
    for (size_t i = 0; i < w->nmeta; i++) {
        free(w->mkey[i]);
        free(w->mval[i]);
    }
    free(w->e);
    free(w->mkey);
    free(w->mval);
    free(w);
}

bz_status bz_st_writer_add(bz_st_writer *w, const char *name, bz_st_dtype dtype, int ndim,
                           const size_t *shape, const void *data, int copy, bz_error *err)
{
    if (!w || !name || (ndim > 0 && !shape))
        return bz_error_set(err, BZ_E_INVALID_ARG, "bz_st_writer_add: NULL argument");
    if (!*name || !valid_utf8(name) || strcmp(name, "__metadata__") == 0)
        return bz_error_set(err, BZ_E_INVALID_ARG,
                            "safetensors writer: invalid tensor name '%.200s' (expected "
                            "non-empty UTF-8, not __metadata__)",
                            name);
    if ((unsigned)dtype >= BZ_ST_DTYPE_COUNT)
        return bz_error_set(err, BZ_E_INVALID_ARG, "safetensors writer: tensor '%.200s': "
                            "invalid dtype %d", name, (int)dtype);
    if (ndim < 0 || ndim > BZ_ST_MAX_DIMS)
        return bz_error_set(err, BZ_E_INVALID_ARG,
                            "safetensors writer: tensor '%.200s': %d dimensions, expected 0 to "
                            "%d",
                            name, ndim, BZ_ST_MAX_DIMS);
    for (size_t i = 0; i < w->n; i++)
        if (strcmp(w->e[i].name, name) == 0)
            return bz_error_set(err, BZ_E_INVALID_ARG,
                                "safetensors writer: tensor '%.200s' added twice", name);
    size_t numel = 1, esize = dtypes[dtype].size;
    for (int i = 0; i < ndim; i++)
        if (shape[i] == 0)
            numel = 0;
    for (int i = 0; numel && i < ndim; i++) {
        if (numel > SIZE_MAX / shape[i] || numel * shape[i] > SIZE_MAX / esize)
            return bz_error_set(err, BZ_E_INVALID_ARG,
                                "safetensors writer: tensor '%.200s': shape overflows", name);
        numel *= shape[i];
    }
    size_t nbytes = numel * esize;
    if (nbytes && !data)
        return bz_error_set(err, BZ_E_INVALID_ARG,
                            "safetensors writer: tensor '%.200s': NULL data", name);
    if (w->n == w->cap) {
        size_t ncap = w->cap ? w->cap * 2 : 8;
        st_entry *ne = realloc(w->e, ncap * sizeof *ne);
        if (!ne)
            return bz_error_set(err, BZ_E_NOMEM, "safetensors writer: out of memory");
        w->e = ne;
        w->cap = ncap;
    }
    st_entry *e = &w->e[w->n];
    memset(e, 0, sizeof *e);
    e->name = dup_str(name);
    if (!e->name)
        return bz_error_set(err, BZ_E_NOMEM, "safetensors writer: out of memory");
    e->dtype = dtype;
    e->ndim = ndim;
    for (int i = 0; i < ndim; i++)
        e->shape[i] = shape[i];
    e->nbytes = nbytes;
    e->data = data;
    if (copy && nbytes) {
        e->owned = malloc(nbytes);
        if (!e->owned) {
            free(e->name);
            return bz_error_set(err, BZ_E_NOMEM,
                                "safetensors writer: tensor '%.200s': cannot copy %zu bytes",
                                name, nbytes);
        }
        memcpy(e->owned, data, nbytes);
        e->data = e->owned;
    }
    w->n++;
    return BZ_OK;
}

bz_status bz_st_writer_set_meta(bz_st_writer *w, const char *key, const char *value,
                                bz_error *err)
{
    if (!w || !key || !value)
        return bz_error_set(err, BZ_E_INVALID_ARG, "bz_st_writer_set_meta: NULL argument");
    if (!valid_utf8(key))
        return bz_error_set(err, BZ_E_INVALID_ARG,
                            "safetensors writer: metadata key '%.200s' is not valid UTF-8", key);
    /* Values record what the user gave (a data path, say) and a path need not
     * be UTF-8: such bytes are stored escaped (\xNN) rather than failing a
     * save at the end of a run. */
    char *v;
    if (valid_utf8(value)) {
        v = dup_str(value);
    } else {
        size_t need = bz_text_escape(NULL, 0, value, BZ_ESC_UTF8) + 1;
        v = malloc(need);
        if (v)
            bz_text_escape(v, need, value, BZ_ESC_UTF8);
    }
    if (!v)
        return bz_error_set(err, BZ_E_NOMEM, "safetensors writer: out of memory");
    for (size_t i = 0; i < w->nmeta; i++) {
        if (strcmp(w->mkey[i], key) == 0) {
            free(w->mval[i]);
            w->mval[i] = v;
            return BZ_OK;
        }
    }
    if (w->nmeta == w->mcap) {
        size_t ncap = w->mcap ? w->mcap * 2 : 8;
        char **nk = realloc(w->mkey, ncap * sizeof *nk);
        if (nk)
            w->mkey = nk;
        char **nv = nk ? realloc(w->mval, ncap * sizeof *nv) : NULL;
        if (nv)
            w->mval = nv;
        if (!nk || !nv) {
            free(v);
            return bz_error_set(err, BZ_E_NOMEM, "safetensors writer: out of memory");
        }
        w->mcap = ncap;
    }
    char *k = dup_str(key);
    if (!k) {
        free(v);
        return bz_error_set(err, BZ_E_NOMEM, "safetensors writer: out of memory");
    }
    w->mkey[w->nmeta] = k;
    w->mval[w->nmeta] = v;
    w->nmeta++;
    return BZ_OK;
}

/* Data order: larger dtypes first (keeps every tensor aligned), then name. */
static int entry_before(const st_entry *x, const st_entry *y)
{
    size_t sx = dtypes[x->dtype].size, sy = dtypes[y->dtype].size;
    if (sx != sy)
        return sx > sy;
    return strcmp(x->name, y->name) < 0;
}

typedef struct st_layout {
    size_t *order;  /* entry indices in data order */
    char *header;   /* JSON, space-padded, not NUL-terminated past hlen */
    size_t hlen;    /* multiple of 8 */
    size_t data_len;
} st_layout;

static void layout_free(st_layout *l)
{
    free(l->order);
    free(l->header);
}

static bz_status build_layout(const bz_st_writer *w, st_layout *l, bz_error *err)
{
    memset(l, 0, sizeof *l);
    l->order = malloc((w->n ? w->n : 1) * sizeof *l->order);
    if (!l->order)
        return bz_error_set(err, BZ_E_NOMEM, "safetensors writer: out of memory");
    for (size_t i = 0; i < w->n; i++)
        l->order[i] = i;
    /* Insertion sort: qsort has no context argument, and models hold few
     * tensors. Names are unique, so the order is total. */
    for (size_t i = 1; i < w->n; i++) {
        size_t v = l->order[i], j = i;
        while (j > 0 && entry_before(&w->e[v], &w->e[l->order[j - 1]])) {
            l->order[j] = l->order[j - 1];
            j--;
        }
        l->order[j] = v;
    }

    bz_status st = BZ_OK;
    json_object *root = json_object_new_object();
    if (!root)
        goto nomem;
    if (w->nmeta) {
        json_object *m = json_object_new_object();
        if (!m || json_object_object_add(root, "__metadata__", m) != 0) {
            json_object_put(m);
            goto nomem;
        }
        for (size_t i = 0; i < w->nmeta; i++) {
            json_object *s = json_object_new_string(w->mval[i]);
            if (!s || json_object_object_add(m, w->mkey[i], s) != 0) {
                json_object_put(s);
                goto nomem;
            }
        }
    }
    size_t off = 0;
    for (size_t k = 0; k < w->n; k++) {
        const st_entry *e = &w->e[l->order[k]];
        if (off > SIZE_MAX - e->nbytes) {
            st = bz_error_set(err, BZ_E_INVALID_ARG, "safetensors writer: data too large");
            goto out;
        }
        json_object *t = json_object_new_object();
        if (!t || json_object_object_add(root, e->name, t) != 0) {
            json_object_put(t);
            goto nomem;
        }
        json_object *sh = json_object_new_array();
        json_object *of = json_object_new_array();
        json_object *dt = json_object_new_string(dtypes[e->dtype].name);
        int bad = !sh || !of || !dt;
        if (!bad)
            bad = json_object_object_add(t, "dtype", dt) != 0;
        else
            json_object_put(dt);
        if (!bad)
            bad = json_object_object_add(t, "shape", sh) != 0;
        else
            json_object_put(sh);
        if (!bad)
            bad = json_object_object_add(t, "data_offsets", of) != 0;
        else
            json_object_put(of);
        if (bad)
            goto nomem;
        for (int d = 0; d < e->ndim; d++)
            if (json_object_array_add(sh, json_object_new_uint64(e->shape[d])) != 0)
                goto nomem;
        if (json_object_array_add(of, json_object_new_uint64(off)) != 0 ||
            json_object_array_add(of, json_object_new_uint64(off + e->nbytes)) != 0)
            goto nomem;
        off += e->nbytes;
    }
    l->data_len = off;
    size_t jlen = 0;
    const char *js = json_object_to_json_string_length(
        root, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &jlen);
    if (!js)
        goto nomem;
    size_t padded = (jlen + 7) / 8 * 8;
    if (padded > BZ_ST_MAX_HEADER) {
        st = bz_error_set(err, BZ_E_INVALID_ARG,
                          "safetensors writer: header of %zu bytes exceeds the %u-byte limit",
                          padded, BZ_ST_MAX_HEADER);
        goto out;
    }
    l->header = malloc(padded ? padded : 1);
    if (!l->header)
        goto nomem;
    memcpy(l->header, js, jlen);
    memset(l->header + jlen, ' ', padded - jlen);
    l->hlen = padded;
    goto out;
nomem:
    st = bz_error_set(err, BZ_E_NOMEM, "safetensors writer: out of memory");
out:
    json_object_put(root);
    if (st != BZ_OK)
        layout_free(l);
    return st;
}

static void put_le64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

bz_status bz_st_writer_to_memory(const bz_st_writer *w, uint8_t **buf, size_t *len,
                                 bz_error *err)
{
    if (!w || !buf || !len)
        return bz_error_set(err, BZ_E_INVALID_ARG, "bz_st_writer_to_memory: NULL argument");
    *buf = NULL;
    *len = 0;
    st_layout l;
    bz_status st = build_layout(w, &l, err);
    if (st != BZ_OK)
        return st;
    if (l.data_len > SIZE_MAX - 8 - l.hlen) {
        layout_free(&l);
        return bz_error_set(err, BZ_E_NOMEM, "safetensors writer: data too large");
    }
    size_t total = 8 + l.hlen + l.data_len;
    uint8_t *b = malloc(total);
    if (!b) {
        layout_free(&l);
        return bz_error_set(err, BZ_E_NOMEM, "safetensors writer: cannot allocate %zu bytes",
                            total);
    }
    put_le64(b, l.hlen);
    memcpy(b + 8, l.header, l.hlen);
    size_t off = 8 + l.hlen;
    for (size_t k = 0; k < w->n; k++) {
        const st_entry *e = &w->e[l.order[k]];
        if (e->nbytes)
            memcpy(b + off, e->data, e->nbytes);
        off += e->nbytes;
    }
    layout_free(&l);
    *buf = b;
    *len = total;
    return BZ_OK;
}

bz_status bz_st_writer_write(const bz_st_writer *w, const char *path, bz_error *err)
{
    if (!w || !path)
        return bz_error_set(err, BZ_E_INVALID_ARG, "bz_st_writer_write: NULL argument");
    st_layout l;
    bz_status st = build_layout(w, &l, err);
    if (st != BZ_OK)
        return st;
    bz_atomic_file af;
    st = bz_atomic_open(&af, path, err);
    if (st != BZ_OK) {
        layout_free(&l);
        return st;
    }
    uint8_t lenb[8];
    put_le64(lenb, l.hlen);
    st = bz_atomic_write(&af, lenb, 8, err);
    if (st == BZ_OK)
        st = bz_atomic_write(&af, l.header, l.hlen, err);
    for (size_t k = 0; st == BZ_OK && k < w->n; k++) {
        const st_entry *e = &w->e[l.order[k]];
        st = bz_atomic_write(&af, e->data, e->nbytes, err);
    }
    layout_free(&l);
    if (st != BZ_OK) {
        bz_atomic_abort(&af);
        return st;
    }
    return bz_atomic_commit(&af, err);
}
