/*
 * Problem files: G-set/rudy Max-Cut text, sparse `i j value` text for QUBO
 * and Ising models, dense matrices from .npy and safetensors. Every refusal
 * names the file and the line (text) or what is wrong (binary files).
 */
#include "io/filebuf.h"
#include "io/npy_read.h"
#include "io/safetensors.h"
#include "models/ising.h"

#include <errno.h>
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_TEXT_BYTES ((size_t)1 << 32)

/* Numbers parse in the C locale whatever the application set. */
typedef struct locale_guard {
    locale_t c, old;
} locale_guard;

static void c_locale_enter(locale_guard *g)
{
    g->c = newlocale(LC_ALL_MASK, "C", (locale_t)0);
    g->old = g->c ? uselocale(g->c) : (locale_t)0;
}

static void c_locale_leave(locale_guard *g)
{
    if (g->c) {
        uselocale(g->old);
        freelocale(g->c);
    }
}

/* Splits a line (NUL-terminated, no newline) into at most 4 fields. */
static int split(char *line, char **f)
{
    int k = 0;
    char *p = line;
    for (;;) {
        while (*p == ' ' || *p == '\t' || *p == '\r')
            p++;
        if (!*p)
            return k;
        if (k == 4)
            return 5;
        f[k++] = p;
        while (*p && *p != ' ' && *p != '\t' && *p != '\r')
            p++;
        if (*p)
            *p++ = '\0';
    }
}

static bool parse_index(const char *s, unsigned long long *v)
{
    if (*s < '0' || *s > '9')
        return false;
    errno = 0;
    char *end;
    *v = strtoull(s, &end, 10);
    return !*end && errno == 0;
}

static bool parse_value(const char *s, double *v)
{
    errno = 0;
    char *end;
    *v = strtod(s, &end);
    return end != s && !*end && isfinite(*v);
}

typedef struct term_list {
    bz_ising_term *t;
    size_t n, cap;
} term_list;

static bool push(term_list *l, uint32_t i, uint32_t j, double v)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 4096;
        bz_ising_term *g = realloc(l->t, cap * sizeof *g);
        if (!g)
            return false;
        l->t = g;
        l->cap = cap;
    }
    l->t[l->n++] = (bz_ising_term){i, j, v};
    return true;
}

/* Text: G-set (`N E` then `i j w`, 1-based, maxcut) or sparse (optional
 * `N M`, then `i j value`, 0-based). Blank lines and lines starting with #
 * are skipped. */
static bz_status read_text(const char *path, char *text, bz_problem_kind kind, bz_ising **out,
                           bz_error *err)
{
    bool gset = kind == BZ_PROBLEM_MAXCUT;
    unsigned long long hdr_n = 0, hdr_m = 0, max_index = 0;
    bool have_header = false, have_data = false;
    term_list l = {0};
    bz_status st = BZ_OK;
    size_t lineno = 0;
    locale_guard g;
    c_locale_enter(&g);
    char *p = text;
    while (*p) {
        char *line = p;
        char *nl = strchr(p, '\n');
        if (nl) {
            *nl = '\0';
            p = nl + 1;
        } else {
            p += strlen(p);
        }
        lineno++;
        char *f[4];
        int k = split(line, f);
        if (k == 0 || f[0][0] == '#')
            continue;
        if (!have_header && !have_data && k == 2) {
            if (!parse_index(f[0], &hdr_n) || !parse_index(f[1], &hdr_m)) {
                st = bz_error_set(err, BZ_E_FORMAT,
                                  "%s:%zu: the header must be two counts `N %s`, found '%s %s'",
                                  path, lineno, gset ? "E" : "M", f[0], f[1]);
                goto done;
            }
            if (hdr_n == 0 || hdr_n > BZ_ISING_MAX_N) {
                st = bz_error_set(err, BZ_E_FORMAT, "%s:%zu: %llu variables (1..%u supported)",
                                  path, lineno, hdr_n, BZ_ISING_MAX_N);
                goto done;
            }
            have_header = true;
            continue;
        }
        if (gset && !have_header) {
            st = bz_error_set(err, BZ_E_FORMAT,
                              "%s:%zu: a G-set/rudy file starts with `N E` (vertices, edges)",
                              path, lineno);
            goto done;
        }
        if (k != 3) {
            st = bz_error_set(err, BZ_E_FORMAT, "%s:%zu: expected `i j %s` (3 fields), found %d",
                              path, lineno, gset ? "weight" : "value", k > 4 ? 5 : k);
            goto done;
        }
        unsigned long long a, b;
        double v;
        if (!parse_index(f[0], &a) || !parse_index(f[1], &b)) {
            st = bz_error_set(err, BZ_E_FORMAT, "%s:%zu: '%s %s' are not variable indices", path,
                              lineno, f[0], f[1]);
            goto done;
        }
        if (!parse_value(f[2], &v)) {
            st = bz_error_set(err, BZ_E_FORMAT, "%s:%zu: '%s' is not a finite number", path,
                              lineno, f[2]);
            goto done;
        }
        if (gset) {
            if (a < 1 || b < 1 || a > hdr_n || b > hdr_n) {
                st = bz_error_set(err, BZ_E_FORMAT,
                                  "%s:%zu: vertex %llu out of range 1..%llu (G-set is 1-based)",
                                  path, lineno, (a < 1 || a > hdr_n) ? a : b, hdr_n);
                goto done;
            }
            if (a == b) {
                st = bz_error_set(err, BZ_E_FORMAT, "%s:%zu: loop on vertex %llu", path, lineno,
                                  a);
                goto done;
            }
            a--;
            b--;
        } else {
            unsigned long long lim = have_header ? hdr_n : BZ_ISING_MAX_N;
            if (a >= lim || b >= lim) {
                st = bz_error_set(err, BZ_E_FORMAT,
                                  "%s:%zu: index %llu out of range 0..%llu (0-based)", path,
                                  lineno, a >= lim ? a : b, lim - 1);
                goto done;
            }
        }
        if (a > max_index)
            max_index = a;
        if (b > max_index)
            max_index = b;
        if (have_header && l.n == hdr_m) {
            st = bz_error_set(err, BZ_E_FORMAT, "%s:%zu: more entries than the %llu the header gives",
                              path, lineno, hdr_m);
            goto done;
        }
        if (!push(&l, (uint32_t)a, (uint32_t)b, v)) {
            st = bz_error_set(err, BZ_E_NOMEM, "%s: out of memory at line %zu", path, lineno);
            goto done;
        }
        have_data = true;
    }
    if (have_header && l.n != hdr_m) {
        st = bz_error_set(err, BZ_E_FORMAT, "%s:%zu: the header gives %llu entries, the file has %zu",
                          path, lineno, hdr_m, l.n);
        goto done;
    }
    if (!have_header && !have_data) {
        st = bz_error_set(err, BZ_E_FORMAT, "%s: no entries", path);
        goto done;
    }
    uint32_t n = (uint32_t)(have_header ? hdr_n : max_index + 1);
    st = bz_ising_build_terms(kind, n, l.t, l.n, path, out, err);
done:
    c_locale_leave(&g);
    free(l.t);
    return st;
}

static const char *kind_tensor(bz_problem_kind kind)
{
    return kind == BZ_PROBLEM_QUBO ? "Q" : kind == BZ_PROBLEM_MAXCUT ? "W" : "J";
}

/* A tensor of F32 or F64 into floats. */
static bz_status st_floats(const char *path, const bz_st_tensor *t, float *dst, bz_error *err)
{
    if (t->dtype == BZ_ST_F32) {
        memcpy(dst, t->data, t->numel * sizeof *dst);
    } else if (t->dtype == BZ_ST_F64) {
        const unsigned char *b = t->data;
        for (size_t k = 0; k < t->numel; k++) {
            double d;
            memcpy(&d, b + 8 * k, 8);
            dst[k] = (float)d;
        }
    } else {
        return bz_error_set(err, BZ_E_FORMAT, "%s: tensor '%s' is %s; F32 or F64 expected", path,
                            t->name, bz_st_dtype_name(t->dtype));
    }
    return BZ_OK;
}

static bz_status read_safetensors(const char *path, bz_problem_kind kind, bz_ising **out,
                                  bz_error *err)
{
    bz_st_file *f = NULL;
    bz_status st = bz_st_open(path, &f, err);
    if (st)
        return st;
    /* a boltzcl model file: saved problems are read by the model loader
     * (bz_ising_load), any other kind is no problem at all */
    const char *fmt = bz_st_meta(f, "format"), *model = bz_st_meta(f, "model");
    if (fmt && !strcmp(fmt, "boltzcl")) {
        st = bz_error_set(err, BZ_E_FORMAT, "%s: a boltzcl %s model file, not an optimisation "
                          "problem", path, model ? model : "(unnamed)");
        bz_st_close(f);
        return st;
    }
    const char *name = kind_tensor(kind);
    const bz_st_tensor *m = bz_st_find(f, name);
    if (!m && kind != BZ_PROBLEM_MAXCUT)
        m = bz_st_find(f, name = "J");
    float *mat = NULL, *h = NULL;
    if (!m) {
        st = bz_error_set(err, BZ_E_FORMAT, "%s: no tensor '%s' (the %s matrix)", path,
                          kind_tensor(kind),
                          kind == BZ_PROBLEM_MAXCUT ? "adjacency" : "coupling");
        goto done;
    }
    if (m->ndim != 2 || m->shape[0] != m->shape[1] || m->shape[0] == 0 ||
        m->shape[0] > 65535) {
        st = bz_error_set(err, BZ_E_SHAPE, "%s: tensor '%s' must be a square n x n matrix, "
                          "1 <= n <= 65535", path, name);
        goto done;
    }
    size_t n = m->shape[0];
    mat = malloc(n * n * sizeof *mat);
    if (!mat) {
        st = bz_error_set(err, BZ_E_NOMEM, "%s: out of memory", path);
        goto done;
    }
    if ((st = st_floats(path, m, mat, err)))
        goto done;
    const bz_st_tensor *ht = bz_st_find(f, "h");
    if (ht) {
        if (ht->ndim != 1 || ht->shape[0] != n) {
            st = bz_error_set(err, BZ_E_SHAPE, "%s: tensor 'h' must hold %zu values", path, n);
            goto done;
        }
        h = malloc(n * sizeof *h);
        if (!h) {
            st = bz_error_set(err, BZ_E_NOMEM, "%s: out of memory", path);
            goto done;
        }
        if ((st = st_floats(path, ht, h, err)))
            goto done;
    }
    st = bz_ising_build_dense(kind, (uint32_t)n, mat, h, path, out, err);
done:
    free(mat);
    free(h);
    bz_st_close(f);
    return st;
}

static bz_status read_npy(const char *path, const uint8_t *buf, size_t len, bz_problem_kind kind,
                          bz_ising **out, bz_error *err)
{
    bz_npy_array a;
    bz_status st = bz_npy_parse_f32(buf, len, path, &a, err);
    if (st)
        return st;
    if (a.ndim != 2 || a.shape[0] != a.shape[1] || a.shape[0] == 0 || a.shape[0] > 65535) {
        st = bz_error_set(err, BZ_E_SHAPE, "%s: a square n x n matrix is needed (1 <= n <= 65535)",
                          path);
    } else {
        st = bz_ising_build_dense(kind, (uint32_t)a.shape[0], a.data, NULL, path, out, err);
    }
    free(a.data);
    return st;
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}

bz_status bz_ising_read(const char *path, bz_problem_kind kind, bz_ising **out, bz_error *err)
{
    *out = NULL;
    if (ends_with(path, ".safetensors"))
        return read_safetensors(path, kind, out, err);
    uint8_t *buf = NULL;
    size_t len = 0;
    bz_status st = bz_read_file(path, MAX_TEXT_BYTES, &buf, &len, err);
    if (st)
        return st;
    if (bz_npy_is_npy(buf, len)) {
        st = read_npy(path, buf, len, kind, out, err);
    } else if (memchr(buf, '\0', len)) {
        st = bz_error_set(err, BZ_E_FORMAT,
                          "%s: binary data, but not .npy (name .safetensors files so)", path);
    } else {
        st = read_text(path, (char *)buf, kind, out, err);
    }
    free(buf);
    return st;
}
