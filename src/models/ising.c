/*
 * Ising form of Ising, QUBO and Max-Cut problems: term accumulation, the
 * sparse/dense choice, energies, the annealing range, solutions on disk.
 */
#include "models/ising.h"
#include "models/model.h"
#include "engine/engine.h"
#include "base/atomic_file.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void bz_ising_free(bz_ising *p)
{
    if (!p)
        return;
    bz_ising_release_device(p);
    free(p->h);
    free(p->J);
    free(p->rowp);
    free(p->col);
    free(p->val);
    bz_meta_free(&p->meta);
    free(p);
}

size_t bz_ising_size(const bz_ising *p)
{
    return p ? p->n : 0;
}

bz_problem_kind bz_ising_kind(const bz_ising *p)
{
    return p ? p->kind : BZ_PROBLEM_ISING;
}

size_t bz_ising_couplings(const bz_ising *p)
{
    return p ? p->pairs : 0;
}

static int cmp_term(const void *a, const void *b)
{
    const bz_ising_term *x = a, *y = b;
    if (x->i != y->i)
        return x->i < y->i ? -1 : 1;
    if (x->j != y->j)
        return x->j < y->j ? -1 : 1;
    return 0;
}

/* Adds one term of the problem's kind to the Ising form: pairs go to the
 * pair list (i < j), linear parts to hd, constants to c. */
static void add_term(bz_problem_kind kind, uint32_t i, uint32_t j, double v, double *hd,
                     double *c, bz_ising_term *pair, bool *has_pair)
{
    *has_pair = false;
    if (i == j) {
        if (kind == BZ_PROBLEM_QUBO) { /* v x_i = v (1 + s_i) / 2 */
            hd[i] += v / 2;
            *c += v / 2;
        } else {
            hd[i] += v;
        }
        return;
    }
    uint32_t a = i < j ? i : j, b = i < j ? j : i;
    double pv = v;
    if (kind == BZ_PROBLEM_QUBO) { /* v x_i x_j = v (1 + s_i + s_j + s_i s_j) / 4 */
        pv = v / 4;
        hd[i] += v / 4;
        hd[j] += v / 4;
        *c += v / 4;
    } else if (kind == BZ_PROBLEM_MAXCUT) { /* -w [s_i != s_j] = w (s_i s_j - 1) / 2 */
        pv = v / 2;
        *c -= v / 2;
    }
    *pair = (bz_ising_term){a, b, pv};
    *has_pair = true;
}

static bz_ising *alloc_problem(bz_problem_kind kind, uint32_t n)
{
    bz_ising *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->kind = kind;
    p->n = n;
    p->h = calloc(n ? n : 1, sizeof *p->h);
    if (!p->h) {
        free(p);
        return NULL;
    }
    return p;
}

/* Dense storage from merged pairs (sorted, i < j, non-zero). */
static bz_status store_pairs(bz_ising *p, const bz_ising_term *pr, size_t np, bz_error *err)
{
    uint32_t n = p->n;
    double all = (double)n * (n - 1) / 2;
    p->pairs = np;
    p->dense = n > 1 && (double)np >= BZ_ISING_DENSE_SHARE * all;
    if (p->dense) {
        p->J = calloc((size_t)n * n, sizeof *p->J);
        if (!p->J)
            return bz_error_set(err, BZ_E_NOMEM, "out of memory for a %u x %u coupling matrix",
                                n, n);
        for (size_t k = 0; k < np; k++) {
            p->J[(size_t)pr[k].i * n + pr[k].j] = (float)pr[k].v;
            p->J[(size_t)pr[k].j * n + pr[k].i] = (float)pr[k].v;
        }
        return BZ_OK;
    }
    p->nnz = 2 * np;
    p->rowp = calloc((size_t)n + 1, sizeof *p->rowp);
    p->col = malloc((p->nnz ? p->nnz : 1) * sizeof *p->col);
    p->val = malloc((p->nnz ? p->nnz : 1) * sizeof *p->val);
    if (!p->rowp || !p->col || !p->val)
        return bz_error_set(err, BZ_E_NOMEM, "out of memory for %zu couplings", np);
    for (size_t k = 0; k < np; k++) {
        p->rowp[pr[k].i + 1]++;
        p->rowp[pr[k].j + 1]++;
    }
    for (uint32_t i = 0; i < n; i++)
        p->rowp[i + 1] += p->rowp[i];
    uint32_t *fill = malloc(((size_t)n + 1) * sizeof *fill);
    if (!fill)
        return bz_error_set(err, BZ_E_NOMEM, "out of memory for %zu couplings", np);
    memcpy(fill, p->rowp, ((size_t)n + 1) * sizeof *fill);
    /* Pairs are sorted by (i, j): row i receives its j > i in order, and row
     * j receives i in increasing i, all below j's own later entries, so every
     * row ends up with ascending columns. */
    for (size_t k = 0; k < np; k++) {
        uint32_t a = pr[k].i, b = pr[k].j;
        p->col[fill[b]] = a;
        p->val[fill[b]++] = (float)pr[k].v;
    }
    for (size_t k = 0; k < np; k++) {
        uint32_t a = pr[k].i, b = pr[k].j;
        p->col[fill[a]] = b;
        p->val[fill[a]++] = (float)pr[k].v;
    }
    free(fill);
    return BZ_OK;
}

static bz_status check_n(uint32_t n, const char *what, bz_error *err)
{
    if (n == 0)
        return bz_error_set(err, BZ_E_FORMAT, "%s: a problem needs at least one variable", what);
    if (n > BZ_ISING_MAX_N)
        return bz_error_set(err, BZ_E_FORMAT, "%s: %u variables, more than the %u supported",
                            what, n, BZ_ISING_MAX_N);
    return BZ_OK;
}

static bz_status finish_h(bz_ising *p, const double *hd, double c, const char *what,
                          bz_error *err)
{
    for (uint32_t i = 0; i < p->n; i++) {
        p->h[i] = (float)hd[i];
        if (!isfinite(p->h[i]))
            return bz_error_set(err, BZ_E_FORMAT, "%s: the linear term of variable %u is not finite",
                                what, i);
    }
    p->offset = c;
    if (!isfinite(c))
        return bz_error_set(err, BZ_E_FORMAT, "%s: the constant of the energy is not finite",
                            what);
    return BZ_OK;
}

bz_status bz_ising_build_terms(bz_problem_kind kind, uint32_t n, const bz_ising_term *t,
                               size_t count, const char *what, bz_ising **out, bz_error *err)
{
    *out = NULL;
    bz_status st = check_n(n, what, err);
    if (st)
        return st;
    bz_ising *p = alloc_problem(kind, n);
    double *hd = calloc(n, sizeof *hd);
    bz_ising_term *pr = malloc((count ? count : 1) * sizeof *pr);
    if (!p || !hd || !pr) {
        st = bz_error_set(err, BZ_E_NOMEM, "out of memory for %s", what);
        goto done;
    }
    double c = 0;
    size_t np = 0;
    for (size_t k = 0; k < count; k++) {
        if (t[k].i >= n || t[k].j >= n) {
            st = bz_error_set(err, BZ_E_FORMAT, "%s: term %zu names variable %u of %u", what, k,
                              t[k].i >= n ? t[k].i : t[k].j, n);
            goto done;
        }
        if (!isfinite(t[k].v)) {
            st = bz_error_set(err, BZ_E_FORMAT, "%s: term %zu is not finite", what, k);
            goto done;
        }
        if (kind == BZ_PROBLEM_MAXCUT && t[k].i == t[k].j) {
            st = bz_error_set(err, BZ_E_FORMAT, "%s: term %zu is a loop (%u, %u), not an edge",
                              what, k, t[k].i, t[k].j);
            goto done;
        }
        bool has;
        add_term(kind, t[k].i, t[k].j, t[k].v, hd, &c, &pr[np], &has);
        np += has;
    }
    qsort(pr, np, sizeof *pr, cmp_term);
    size_t m = 0;
    for (size_t k = 0; k < np;) {
        bz_ising_term s = pr[k++];
        while (k < np && pr[k].i == s.i && pr[k].j == s.j)
            s.v += pr[k++].v;
        if (s.v != 0) {
            if (!isfinite((float)s.v)) {
                st = bz_error_set(err, BZ_E_FORMAT, "%s: the coupling of %u and %u overflows",
                                  what, s.i, s.j);
                goto done;
            }
            pr[m++] = s;
        }
    }
    st = finish_h(p, hd, c, what, err);
    if (!st)
        st = store_pairs(p, pr, m, err);
done:
    free(hd);
    free(pr);
    if (st)
        bz_ising_free(p);
    else
        *out = p;
    return st;
}

bz_status bz_ising_build_dense(bz_problem_kind kind, uint32_t n, const float *mat, const float *h,
                               const char *what, bz_ising **out, bz_error *err)
{
    *out = NULL;
    bz_status st = check_n(n, what, err);
    if (st)
        return st;
    for (size_t k = 0; k < (size_t)n * n; k++)
        if (!isfinite(mat[k]))
            return bz_error_set(err, BZ_E_FORMAT, "%s: entry (%zu, %zu) is not finite", what,
                                k / n, k % n);
    if (h)
        for (uint32_t i = 0; i < n; i++)
            if (!isfinite(h[i]))
                return bz_error_set(err, BZ_E_FORMAT, "%s: h[%u] is not finite", what, i);
    if (kind == BZ_PROBLEM_MAXCUT) {
        if (h)
            return bz_error_set(err, BZ_E_FORMAT, "%s: a Max-Cut problem has no linear terms",
                                what);
        for (uint32_t i = 0; i < n; i++) {
            if (mat[(size_t)i * n + i] != 0)
                return bz_error_set(err, BZ_E_FORMAT,
                                    "%s: the adjacency matrix has %g on its diagonal at %u", what,
                                    (double)mat[(size_t)i * n + i], i);
            for (uint32_t j = i + 1; j < n; j++)
                if (mat[(size_t)i * n + j] != mat[(size_t)j * n + i])
                    return bz_error_set(err, BZ_E_FORMAT,
                                        "%s: the adjacency matrix is not symmetric at (%u, %u)",
                                        what, i, j);
        }
    }
    /* The terms in the builder's order: each pair once (i < j) with both
     * triangles added, for Max-Cut the upper triangle only. */
    size_t cap = (size_t)n * (n - 1) / 2 + n;
    bz_ising_term *t = malloc(cap * sizeof *t);
    if (!t)
        return bz_error_set(err, BZ_E_NOMEM, "out of memory for %s", what);
    size_t count = 0;
    for (uint32_t i = 0; i < n; i++) {
        double d = (double)mat[(size_t)i * n + i] + (h ? (double)h[i] : 0.0);
        if (d != 0)
            t[count++] = (bz_ising_term){i, i, d};
        for (uint32_t j = i + 1; j < n; j++) {
            double v = mat[(size_t)i * n + j];
            if (kind != BZ_PROBLEM_MAXCUT)
                v += mat[(size_t)j * n + i];
            if (v != 0)
                t[count++] = (bz_ising_term){i, j, v};
        }
    }
    st = bz_ising_build_terms(kind, n, t, count, what, out, err);
    free(t);
    return st;
}

double bz_ising_energy(const bz_ising *p, const int8_t *s)
{
    uint32_t n = p->n;
    double e = 0;
    for (uint32_t i = 0; i < n; i++) {
        double row = 0;
        if (p->dense) {
            for (uint32_t j = i + 1; j < n; j++)
                row += (double)p->J[(size_t)i * n + j] * s[j];
        } else {
            for (uint32_t k = p->rowp[i]; k < p->rowp[i + 1]; k++)
                if (p->col[k] > i)
                    row += (double)p->val[k] * s[p->col[k]];
        }
        e += s[i] * (row + (double)p->h[i]);
    }
    return e + p->offset;
}

double bz_ising_objective(const bz_ising *p, double energy)
{
    return p && p->kind == BZ_PROBLEM_MAXCUT ? -energy : energy;
}

void bz_ising_scales(const bz_ising *p, double *de_max, double *de_min)
{
    double mx = 0, mn = INFINITY;
    for (uint32_t i = 0; i < p->n; i++) {
        double a = fabs((double)p->h[i]);
        if (a > 0 && a < mn)
            mn = a;
        if (p->dense) {
            for (uint32_t j = 0; j < p->n; j++) {
                double v = fabs((double)p->J[(size_t)i * p->n + j]);
                a += v;
                if (v > 0 && v < mn)
                    mn = v;
            }
        } else {
            for (uint32_t k = p->rowp[i]; k < p->rowp[i + 1]; k++) {
                double v = fabs((double)p->val[k]);
                a += v;
                if (v > 0 && v < mn)
                    mn = v;
            }
        }
        if (a > mx)
            mx = a;
    }
    if (mx == 0) /* no terms at all: any temperature will do */
        mx = mn = 1;
    *de_max = 2 * mx;
    *de_min = 2 * mn;
}

void bz_ising_beta_range(const bz_ising *p, double *beta_min, double *beta_max)
{
    double hi, lo;
    bz_ising_scales(p, &hi, &lo);
    *beta_min = log(2.0) / hi;
    /* a whole sweep of n spins at the coldest end makes one such uphill
     * move with probability about 1/100, so the last sweeps quench */
    *beta_max = log(100.0 * p->n) / lo;
    if (*beta_max < *beta_min)
        *beta_max = *beta_min;
}

bz_status bz_ising_save_solution(const bz_ising *p, const int8_t *s, const char *path)
{
    if (!p || !s || !path)
        return BZ_E_INVALID_ARG;
    size_t cap = (size_t)p->n * 3 + 1;
    char *buf = malloc(cap), *w = buf;
    if (!buf)
        return p->ctx ? bz_fail(p->ctx, BZ_E_NOMEM, "out of memory") : BZ_E_NOMEM;
    for (uint32_t i = 0; i < p->n; i++) {
        if (p->kind == BZ_PROBLEM_ISING) {
            memcpy(w, s[i] > 0 ? "1\n" : "-1\n", s[i] > 0 ? 2 : 3);
            w += s[i] > 0 ? 2 : 3;
        } else {
            *w++ = s[i] > 0 ? '1' : '0';
            *w++ = '\n';
        }
    }
    bz_error err = {0};
    bz_status st = bz_atomic_write_file(path, buf, (size_t)(w - buf), &err);
    free(buf);
    if (st && p->ctx)
        return bz_fail(p->ctx, st, "%s", err.msg);
    return st;
}

/* ---- public constructors: the host builders plus the context ---- */

static bz_status adopt(bz_context *ctx, bz_status st, bz_ising *p, const bz_error *err,
                       bz_ising **out)
{
    if (st)
        return bz_fail(ctx, st, "%s", err->msg);
    p->ctx = ctx;
    *out = p;
    return BZ_OK;
}

static bool kind_ok(bz_problem_kind k)
{
    return k == BZ_PROBLEM_ISING || k == BZ_PROBLEM_QUBO || k == BZ_PROBLEM_MAXCUT;
}

bz_status bz_ising_load(bz_context *ctx, const char *path, bz_problem_kind kind, bz_ising **out)
{
    if (!ctx || !out)
        return BZ_E_INVALID_ARG;
    *out = NULL;
    if (!path || !kind_ok(kind))
        return bz_fail(ctx, BZ_E_INVALID_ARG, "bz_ising_load: a path and a problem kind are needed");
    char saved[16];
    bz_model_file_kind(path, saved, sizeof saved);
    if (!strcmp(saved, "ising"))
        return bz_ising_load_model(ctx, path, out);
    bz_error err = {0};
    bz_ising *p = NULL;
    bz_status st = bz_ising_read(path, kind, &p, &err);
    return adopt(ctx, st, p, &err, out);
}

bz_status bz_ising_from_terms(bz_context *ctx, bz_problem_kind kind, size_t n, size_t count,
                              const uint32_t *i, const uint32_t *j, const double *v,
                              bz_ising **out)
{
    if (!ctx || !out)
        return BZ_E_INVALID_ARG;
    *out = NULL;
    if (!kind_ok(kind) || n == 0 || n > BZ_ISING_MAX_N || (count && (!i || !j || !v)))
        return bz_fail(ctx, BZ_E_INVALID_ARG,
                       "bz_ising_from_terms: n must be 1..%u and the term arrays given",
                       BZ_ISING_MAX_N);
    bz_ising_term *t = malloc((count ? count : 1) * sizeof *t);
    if (!t)
        return bz_fail(ctx, BZ_E_NOMEM, "out of memory for %zu terms", count);
    for (size_t k = 0; k < count; k++)
        t[k] = (bz_ising_term){i[k], j[k], v[k]};
    bz_error err = {0};
    bz_ising *p = NULL;
    bz_status st = bz_ising_build_terms(kind, (uint32_t)n, t, count, "problem", &p, &err);
    free(t);
    if (st == BZ_E_FORMAT) /* the caller's arrays, not a file */
        st = BZ_E_INVALID_ARG;
    return adopt(ctx, st, p, &err, out);
}

bz_status bz_ising_from_dense(bz_context *ctx, bz_problem_kind kind, size_t n, const float *m,
                              const float *h, bz_ising **out)
{
    if (!ctx || !out)
        return BZ_E_INVALID_ARG;
    *out = NULL;
    if (!kind_ok(kind) || n == 0 || n > 65535 || !m)
        return bz_fail(ctx, BZ_E_INVALID_ARG,
                       "bz_ising_from_dense: n must be 1..65535 and the matrix given");
    bz_error err = {0};
    bz_ising *p = NULL;
    bz_status st = bz_ising_build_dense(kind, (uint32_t)n, m, h, "problem", &p, &err);
    if (st == BZ_E_FORMAT)
        st = BZ_E_INVALID_ARG;
    return adopt(ctx, st, p, &err, out);
}
