/*
 * The Ising kind: an optimisation problem as a fully connected Boltzmann
 * machine with fixed weights. File schema (through the generic loader,
 * model_file.c), always in Ising form E(s) = offset + sum_{i<j} J_ij s_i s_j
 * + sum_i h_i s_i:
 *   tensor "h"      n values (zero for Max-Cut);
 *   tensor "J"      n x n, symmetric with a zero diagonal (dense problems),
 *   or "J_coo"      couplings x 3 rows (i, j, J_ij), 0-based, i != j (sparse
 *                   problems; indices are exact in F32 up to BZ_ISING_MAX_N);
 *   metadata        problem (ising, qubo or maxcut: how the objective is
 *                   quoted and solutions written), n, couplings, offset.
 * The free entry beta (default 1) is the inverse temperature of sampling
 * and of log Z. Rows given to and returned by the model are in the
 * problem's own variables, as solution files are: spins +-1 for Ising, 0/1
 * for QUBO (x) and Max-Cut (the side).
 */
#include "models/ising.h"
#include "models/model.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const own_meta[] = {"problem", "n", "couplings", "offset", NULL};

/* Exact log Z enumerates 2^n states. */
#define LOG_Z_MAX_N 24

static const char *problem_name(bz_problem_kind k)
{
    return k == BZ_PROBLEM_MAXCUT ? "maxcut" : k == BZ_PROBLEM_QUBO ? "qubo" : "ising";
}

static bz_status ising_write(void *impl, bz_model_writer *wr)
{
    bz_ising *p = impl;
    bz_status st = bz_mw_meta(wr, "problem", problem_name(p->kind));
    char num[40];
    snprintf(num, sizeof num, "%.17g", p->offset);
    if (!st)
        st = bz_mw_meta(wr, "offset", num);
    if (!st)
        st = bz_mw_count(wr, "n", p->n);
    if (!st)
        st = bz_mw_count(wr, "couplings", p->pairs);
    if (!st)
        st = bz_mw_host(wr, "h", 0, p->n, p->h);
    if (st || p->dense)
        return st ? st : bz_mw_host(wr, "J", p->n, p->n, p->J);
    if (!p->pairs)
        return BZ_OK;
    float *coo = malloc(p->pairs * 3 * sizeof *coo);
    if (!coo)
        return bz_fail(wr->ctx, BZ_E_NOMEM, "out of memory for %zu couplings", p->pairs);
    size_t m = 0;
    for (uint32_t i = 0; i < p->n; i++)
        for (uint32_t k = p->rowp[i]; k < p->rowp[i + 1]; k++)
            if (p->col[k] > i && m < p->pairs) {
                coo[3 * m] = (float)i;
                coo[3 * m + 1] = (float)p->col[k];
                coo[3 * m + 2] = p->val[k];
                m++;
            }
    st = bz_mw_host(wr, "J_coo", p->pairs, 3, coo);
    free(coo);
    return st;
}

/* An index stored as F32: a whole number in [0, n). */
static bool index_ok(float v, uint32_t n)
{
    return v >= 0 && v < (float)n && v == floorf(v);
}

/* Tensor name is rows x cols F32 (rows 0: a vector of cols), checked before
 * the caller allocates for it. */
static bz_status shape_ok(const bz_model_reader *rd, const char *name, size_t rows, size_t cols)
{
    const bz_st_tensor *t = bz_st_find(rd->file, name);
    bool ok = t && t->ndim == (rows ? 2 : 1) &&
              (rows ? t->shape[0] == rows && t->shape[1] == cols : t->shape[0] == cols);
    if (ok)
        return BZ_OK;
    if (rows)
        return bz_fail(rd->ctx, BZ_E_FORMAT, "%s: tensor '%s' must be %zu x %zu", rd->path, name,
                       rows, cols);
    return bz_fail(rd->ctx, BZ_E_FORMAT, "%s: tensor '%s' must hold %zu values", rd->path, name,
                   cols);
}

static bz_status ising_read(const bz_model_reader *rd, void **impl)
{
    bz_context *c = rd->ctx;
    const char *kind_s = bz_mr_meta(rd, "problem"), *off_s = bz_mr_meta(rd, "offset");
    bz_problem_kind kind;
    if (kind_s && !strcmp(kind_s, "ising"))
        kind = BZ_PROBLEM_ISING;
    else if (kind_s && !strcmp(kind_s, "qubo"))
        kind = BZ_PROBLEM_QUBO;
    else if (kind_s && !strcmp(kind_s, "maxcut"))
        kind = BZ_PROBLEM_MAXCUT;
    else
        return bz_fail(c, BZ_E_FORMAT, "%s: metadata 'problem' must be ising, qubo or maxcut",
                       rd->path);
    char *end = NULL;
    double offset = off_s ? strtod(off_s, &end) : NAN;
    if (!off_s || end == off_s || *end || !isfinite(offset))
        return bz_fail(c, BZ_E_FORMAT, "%s: metadata 'offset' must be a finite number",
                       rd->path);
    size_t n = 0, pairs = 0;
    bz_status st = bz_mr_count(rd, "n", 1, BZ_ISING_MAX_N, &n);
    if (!st)
        st = bz_mr_count(rd, "couplings", 0, n * (n - 1) / 2, &pairs);
    if (st)
        return st;
    /* shapes before any allocation: the sizes come from metadata */
    bool dense = bz_mr_has(rd, "J");
    if ((st = shape_ok(rd, "h", 0, n)) || (dense && (st = shape_ok(rd, "J", n, n))) ||
        (!dense && pairs && (st = shape_ok(rd, "J_coo", pairs, 3))))
        return st;
    float *h = malloc(n * sizeof *h);
    float *m = malloc((dense ? n * n : pairs * 3 + 1) * sizeof *m);
    bz_ising_term *t = malloc((pairs + n + 1) * sizeof *t);
    if (!h || !m || !t) {
        st = bz_fail(c, BZ_E_NOMEM, "%s: out of memory", rd->path);
        goto done;
    }
    if ((st = bz_mr_host(rd, "h", 0, n, h)))
        goto done;
    if (dense)
        st = bz_mr_host(rd, "J", n, n, m);
    else if (pairs)
        st = bz_mr_host(rd, "J_coo", pairs, 3, m);
    if (st)
        goto done;
    size_t count = 0;
    if (dense) {
        size_t nz = 0;
        for (size_t i = 0; i < n && !st; i++)
            for (size_t j = i; j < n; j++) {
                float a = m[i * n + j];
                if ((i == j && a != 0) || a != m[j * n + i]) {
                    st = bz_fail(c, BZ_E_FORMAT, "%s: tensor J must be symmetric with a zero "
                                                 "diagonal (entry %zu, %zu)", rd->path, i, j);
                    break;
                }
                nz += i != j && a != 0;
            }
        if (!st && nz != pairs)
            st = bz_fail(c, BZ_E_FORMAT, "%s: tensor J holds %zu non-zero couplings, metadata "
                                         "'couplings' says %zu", rd->path, nz, pairs);
        for (size_t i = 0; i < n && !st; i++)
            for (size_t j = i + 1; j < n; j++)
                if (m[i * n + j] != 0)
                    t[count++] = (bz_ising_term){(uint32_t)i, (uint32_t)j, m[i * n + j]};
    } else {
        for (size_t k = 0; k < pairs && !st; k++) {
            const float *r = m + 3 * k;
            if (!index_ok(r[0], (uint32_t)n) || !index_ok(r[1], (uint32_t)n) || r[0] == r[1])
                st = bz_fail(c, BZ_E_FORMAT, "%s: J_coo row %zu: (%g, %g) is not a pair of "
                                             "distinct variables 0..%zu", rd->path, k,
                             (double)r[0], (double)r[1], n - 1);
            else
                t[count++] = (bz_ising_term){(uint32_t)r[0], (uint32_t)r[1], r[2]};
        }
    }
    for (size_t i = 0; i < n && !st; i++) {
        if (h[i] != 0 && kind == BZ_PROBLEM_MAXCUT)
            st = bz_fail(c, BZ_E_FORMAT, "%s: a Max-Cut problem has no linear terms (h[%zu] = %g)",
                         rd->path, i, (double)h[i]);
        else if (h[i] != 0)
            t[count++] = (bz_ising_term){(uint32_t)i, (uint32_t)i, h[i]};
    }
    if (st)
        goto done;
    /* the terms are in Ising form whatever the problem: built as Ising, then
     * told how its objective is quoted */
    bz_error err = {0};
    bz_ising *p = NULL;
    if ((st = bz_ising_build_terms(BZ_PROBLEM_ISING, (uint32_t)n, t, count, rd->path, &p, &err))) {
        st = bz_fail(c, st, "%s", err.msg);
        goto done;
    }
    p->kind = kind;
    p->offset = offset;
    p->ctx = c;
    *impl = p;
done:
    free(h);
    free(m);
    free(t);
    return st;
}

static void ising_destroy(void *impl)
{
    bz_ising_free(impl);
}

static bz_meta *ising_meta(void *impl)
{
    return &((bz_ising *)impl)->meta;
}

static void ising_shape(const void *impl, bz_model_shape *out)
{
    const bz_ising *p = impl;
    memset(out, 0, sizeof *out);
    out->n_inputs = p->n;
    out->n_layers = 1;
    out->layers[0] = p->n;
}

/* The free entry beta: sampling's and log Z's inverse temperature. */
static bz_status beta_of(bz_ising *p, double *beta)
{
    const char *s = bz_meta_get(&p->meta, "beta");
    char *end = NULL;
    *beta = s ? strtod(s, &end) : 1.0;
    if (s && (end == s || *end || !isfinite(*beta) || *beta < 0))
        return bz_fail(p->ctx, BZ_E_INVALID_ARG, "metadata beta must be a number >= 0, not '%s'",
                       s);
    return BZ_OK;
}

/* Rows in the problem's own variables to spins; refuses anything else. */
static bz_status rows_to_spins(bz_ising *p, const float *x, size_t rows, int8_t *s)
{
    bool pm = p->kind == BZ_PROBLEM_ISING;
    for (size_t k = 0; k < rows * p->n; k++) {
        float v = x[k];
        if (pm ? (v != 1 && v != -1) : (v != 0 && v != 1))
            return bz_fail(p->ctx, BZ_E_INVALID_ARG,
                           "row %zu, variable %zu: %g is not %s", k / p->n, k % p->n, (double)v,
                           pm ? "a spin (+1 or -1)" : "0 or 1");
        s[k] = pm ? (int8_t)v : v == 1 ? 1 : -1;
    }
    return BZ_OK;
}

static bz_status ising_energy_rows(void *impl, const float *x, size_t n, float *out)
{
    bz_ising *p = impl;
    int8_t *s = malloc(n * p->n + 1);
    if (!s)
        return bz_fail(p->ctx, BZ_E_NOMEM, "out of memory");
    bz_status st = rows_to_spins(p, x, n, s);
    for (size_t r = 0; r < n && !st; r++)
        out[r] = (float)bz_ising_energy(p, s + r * p->n);
    free(s);
    return st;
}

static bz_status ising_score(void *impl, bz_model_score_kind what, const float *x, size_t n,
                             uint64_t seed, double *out)
{
    (void)seed;
    bz_ising *p = impl;
    if (what != BZ_MS_FREE_ENERGY)
        return bz_fail(p->ctx, BZ_E_UNSUPPORTED, "an Ising problem scores only its energy "
                                                 "(BZ_SCORE_FREE_ENERGY)");
    if (!n)
        return bz_fail(p->ctx, BZ_E_INVALID_ARG, "no rows to score");
    int8_t *s = malloc(n * p->n);
    if (!s)
        return bz_fail(p->ctx, BZ_E_NOMEM, "out of memory");
    bz_status st = rows_to_spins(p, x, n, s);
    double sum = 0;
    for (size_t r = 0; r < n && !st; r++)
        sum += bz_ising_energy(p, s + r * p->n);
    free(s);
    if (!st)
        *out = sum / (double)n;
    return st;
}

static bz_status ising_sample(void *impl, const int32_t *labels, size_t n, unsigned steps,
                              uint64_t seed, float *out)
{
    bz_ising *p = impl;
    if (labels)
        return bz_fail(p->ctx, BZ_E_UNSUPPORTED, "an Ising problem has no classes to clamp");
    double beta;
    bz_status st = beta_of(p, &beta);
    if (st)
        return st;
    int8_t *s = malloc(n * p->n + 1);
    if (!s)
        return bz_fail(p->ctx, BZ_E_NOMEM, "out of memory for %zu samples", n);
    st = bz_ising_sample(p, beta, n, steps, seed, s, NULL);
    bool pm = p->kind == BZ_PROBLEM_ISING;
    for (size_t k = 0; k < n * p->n && !st; k++)
        out[k] = pm ? (float)s[k] : s[k] > 0 ? 1.0f : 0.0f;
    free(s);
    return st;
}

/* ln sum_s exp(-beta E(s)) over all 2^n states in Gray-code order: one flip
 * per state, the local fields kept up to date. */
static bz_status ising_log_z(void *impl, const bz_ais_options *ais, const float *base,
                             size_t n_base, bz_ais_result *out)
{
    (void)base;
    (void)n_base;
    bz_ising *p = impl;
    if (ais)
        return bz_fail(p->ctx, BZ_E_UNSUPPORTED, "an Ising problem has exact log Z only (pass "
                                                 "no AIS options)");
    if (p->n > LOG_Z_MAX_N)
        return bz_fail(p->ctx, BZ_E_UNSUPPORTED, "exact log Z enumerates 2^n states; n = %u is "
                                                 "above %d", p->n, LOG_Z_MAX_N);
    double beta;
    bz_status st = beta_of(p, &beta);
    if (st)
        return st;
    const uint32_t n = p->n;
    int8_t *s = malloc(n);
    double *f = malloc(n * sizeof *f);
    if (!s || !f) {
        free(s);
        free(f);
        return bz_fail(p->ctx, BZ_E_NOMEM, "out of memory");
    }
    for (uint32_t i = 0; i < n; i++)
        s[i] = -1;
    for (uint32_t i = 0; i < n; i++) { /* f_i = h_i + sum_j J_ij s_j */
        f[i] = p->h[i];
        if (p->dense)
            for (uint32_t j = 0; j < n; j++)
                f[i] += (double)p->J[(size_t)i * n + j] * s[j];
        else
            for (uint32_t k = p->rowp[i]; k < p->rowp[i + 1]; k++)
                f[i] += (double)p->val[k] * s[p->col[k]];
    }
    double e = bz_ising_energy(p, s);
    double mx = -beta * e, sum = 1; /* sum of exp(-beta E - mx) */
    for (uint64_t g = 1; g < (uint64_t)1 << n; g++) {
        uint32_t k = (uint32_t)__builtin_ctzll(g); /* the bit that changes */
        e -= 2.0 * s[k] * f[k];
        s[k] = (int8_t)-s[k];
        if (p->dense) {
            for (uint32_t j = 0; j < n; j++)
                f[j] += 2.0 * p->J[(size_t)j * n + k] * s[k];
        } else {
            for (uint32_t q = p->rowp[k]; q < p->rowp[k + 1]; q++)
                f[p->col[q]] += 2.0 * p->val[q] * s[k];
        }
        double a = -beta * e;
        if (a > mx) {
            sum = sum * exp(mx - a) + 1;
            mx = a;
        } else {
            sum += exp(a - mx);
        }
    }
    free(s);
    free(f);
    out->log_z = mx + log(sum);
    out->log_z_sd = 0;
    out->log_z_lo = out->log_z_hi = out->log_z;
    return BZ_OK;
}

const bz_model_kind bz_kind_ising = {
    .version = BZ_MODEL_KIND_VERSION,
    .name = "ising",
    .description = "optimisation problem, a Boltzmann machine with fixed weights",
    .article = "an Ising problem",
    .own_meta = own_meta,
    .read = ising_read,
    .write = ising_write,
    .destroy = ising_destroy,
    .meta = ising_meta,
    .shape = ising_shape,
    .transform = NULL,
    .reconstruct = NULL,
    .sample = ising_sample,
    .free_energy = ising_energy_rows,
    .score = ising_score,
    .log_z = ising_log_z,
    .predict_proba = NULL,
    .train = NULL,
};

bz_status bz_ising_save(const bz_ising *p, const char *path)
{
    if (!p || !p->ctx || !path)
        return BZ_E_INVALID_ARG;
    return bz_model_file_write(&bz_kind_ising, (void *)p, p->ctx, path, NULL, NULL);
}

bz_status bz_ising_load_model(bz_context *ctx, const char *path, bz_ising **out)
{
    *out = NULL;
    return bz_model_file_read(ctx, path, &bz_kind_ising, NULL, NULL, (void **)out, NULL);
}
