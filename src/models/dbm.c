/* DBM life cycle, mean field, transforms and Gibbs sampling. */
#include "models/dbm.h"
#include "engine/check.h"
#include "blas/gemm.h"
#include "ref/reference.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static void release_work(bz_dbm *d)
{
    bz_buf_release(&d->X0);
    for (size_t l = 0; l <= BZ_DBM_MAX_HIDDEN; l++) {
        bz_buf_release(&d->MU[l]);
        bz_buf_release(&d->P[l]);
    }
    bz_buf_release(&d->Q);
    bz_buf_release(&d->D);
    bz_buf_release(&d->acc);
    d->cap = 0;
}

static void release_chains(bz_dbm *d)
{
    for (size_t l = 0; l <= BZ_DBM_MAX_HIDDEN; l++)
        bz_buf_release(&d->C[l]);
    bz_buf_release(&d->CA);
    bz_buf_release(&d->CB);
    d->n_chains = 0;
    d->chains_valid = false;
}

void bz_dbm_free(bz_dbm *d)
{
    if (!d)
        return;
    release_work(d);
    release_chains(d);
    for (size_t l = 0; l <= BZ_DBM_MAX_HIDDEN; l++) {
        bz_buf_release(&d->b[l]);
        bz_buf_release(&d->vb[l]);
        if (l < BZ_DBM_MAX_HIDDEN) {
            bz_buf_release(&d->W[l]);
            bz_buf_release(&d->vW[l]);
        }
    }
    bz_dbn_free(d->clf);
    bz_meta_free(&d->meta);
    free(d);
}

bz_status bz_dbm_create(bz_context *ctx, const size_t *sizes, size_t L, uint64_t seed,
                        bz_dbm **out)
{
    if (!ctx || !sizes || !out)
        return BZ_E_INVALID_ARG;
    *out = NULL;
    if (!ctx->ready)
        return bz_fail(ctx, BZ_E_INVALID_ARG, "bz_dbm_create: the context has no device");
    if (L < 2 || L > BZ_DBM_MAX_HIDDEN)
        return bz_fail(ctx, BZ_E_SHAPE, "a DBM has 2 or 3 hidden layers, not %zu", L);
    for (size_t l = 0; l <= L; l++)
        if (sizes[l] == 0 || sizes[l] > (1u << 24))
            return bz_fail(ctx, BZ_E_SHAPE, "layer %zu of the DBM has %zu units (1 to 2^24)", l,
                           sizes[l]);
    for (size_t l = 0; l < L; l++)
        if (sizes[l] * sizes[l + 1] > ((size_t)1 << 31))
            return bz_fail(ctx, BZ_E_SHAPE, "DBM weights %zu of %zu x %zu are too many", l,
                           sizes[l], sizes[l + 1]);
    bz_dbm *d = calloc(1, sizeof *d);
    if (!d)
        return bz_fail(ctx, BZ_E_NOMEM, "out of memory");
    d->ctx = ctx;
    d->L = L;
    for (size_t l = 0; l <= L; l++)
        d->s[l] = sizes[l];
    bz_status st = BZ_OK;
    for (size_t l = 0; l <= L && !st; l++) {
        size_t n = d->s[l];
        if ((st = bz_buf_alloc(ctx, &d->b[l], n)) || (st = bz_buf_alloc(ctx, &d->vb[l], n)) ||
            (st = bz_buf_fill(ctx, &d->b[l], 0.0f, 0, n)) ||
            (st = bz_buf_fill(ctx, &d->vb[l], 0.0f, 0, n)))
            break;
        if (l == L)
            break;
        size_t m = n * d->s[l + 1];
        float *w = malloc(m * sizeof *w);
        if (!w) {
            st = bz_fail(ctx, BZ_E_NOMEM, "out of memory for %zu weights", m);
            break;
        }
        float zero = 0.0f;
        for (size_t i = 0; i < m; i++) {
            bz_ref_gaussian(&w[i], &zero, 1, seed, BZ_STREAM_INIT + 32 + l, i);
            w[i] *= 0.01f;
        }
        if (!(st = bz_buf_alloc(ctx, &d->W[l], m)) && !(st = bz_buf_alloc(ctx, &d->vW[l], m)) &&
            !(st = bz_buf_write(ctx, &d->W[l], 0, w, m)))
            st = bz_buf_fill(ctx, &d->vW[l], 0.0f, 0, m);
        free(w);
    }
    if (st) {
        bz_dbm_free(d);
        return st;
    }
    *out = d;
    return BZ_OK;
}

bz_status bz_dbm_set_meta(bz_dbm *d, const char *key, const char *value)
{
    return bz_meta_set(&d->meta, d->ctx, key, value);
}

const char *bz_dbm_get_meta(const bz_dbm *d, const char *key)
{
    return bz_meta_get(&d->meta, key);
}

bz_status bz_dbm_get_layer(bz_dbm *d, size_t l, float *w, float *b)
{
    if (!d || l > d->L || (w && l == d->L))
        return BZ_E_INVALID_ARG;
    if (w)
        CHECK(bz_buf_read(d->ctx, &d->W[l], 0, w, d->s[l] * d->s[l + 1]));
    if (b)
        CHECK(bz_buf_read(d->ctx, &d->b[l], 0, b, d->s[l]));
    return BZ_OK;
}

bz_status bz_dbm_set_layer(bz_dbm *d, size_t l, const float *w, const float *b)
{
    if (!d || l > d->L || (w && l == d->L))
        return BZ_E_INVALID_ARG;
    if (w)
        CHECK(bz_buf_write(d->ctx, &d->W[l], 0, w, d->s[l] * d->s[l + 1]));
    if (b)
        CHECK(bz_buf_write(d->ctx, &d->b[l], 0, b, d->s[l]));
    return BZ_OK;
}

static size_t widest(const bz_dbm *d)
{
    size_t w = 0;
    for (size_t l = 0; l <= d->L; l++)
        w = d->s[l] > w ? d->s[l] : w;
    return w;
}

bz_status bz_dbm_reserve_chains(bz_dbm *d, size_t M)
{
    if (d->n_chains == M)
        return BZ_OK;
    release_chains(d);
    bz_status st = BZ_OK;
    for (size_t l = 0; l <= d->L && !st; l++)
        st = bz_buf_alloc(d->ctx, &d->C[l], M * d->s[l]);
    if (!st)
        st = bz_buf_alloc(d->ctx, &d->CA, M * widest(d));
    if (!st)
        st = bz_buf_alloc(d->ctx, &d->CB, M * widest(d));
    if (st) {
        release_chains(d);
        return st;
    }
    d->n_chains = M;
    return BZ_OK;
}

bz_status bz_dbm_set_chains(bz_dbm *d, float *const *x, size_t M)
{
    if (!d || !x || M == 0)
        return BZ_E_INVALID_ARG;
    CHECK(bz_dbm_reserve_chains(d, M));
    for (size_t l = 0; l <= d->L; l++)
        CHECK(bz_buf_write(d->ctx, &d->C[l], 0, x[l], M * d->s[l]));
    d->chains_valid = true;
    return BZ_OK;
}

bz_status bz_dbm_get_chains(bz_dbm *d, float *const *x)
{
    if (!d || !x || !d->chains_valid)
        return d ? bz_fail(d->ctx, BZ_E_INVALID_ARG, "the DBM has no persistent chains yet")
                 : BZ_E_INVALID_ARG;
    for (size_t l = 0; l <= d->L; l++)
        CHECK(bz_buf_read(d->ctx, &d->C[l], 0, x[l], d->n_chains * d->s[l]));
    return BZ_OK;
}

bz_status bz_dbm_reserve(bz_dbm *d, size_t rows)
{
    if (rows <= d->cap)
        return BZ_OK;
    release_work(d);
    bz_context *c = d->ctx;
    size_t w = widest(d);
    bz_status st = bz_buf_alloc(c, &d->X0, rows * d->s[0]);
    for (size_t l = 1; l <= d->L && !st; l++)
        if (!(st = bz_buf_alloc(c, &d->MU[l], rows * d->s[l])))
            st = bz_buf_alloc(c, &d->P[l], rows * d->s[l]);
    if (!st)
        st = bz_buf_alloc(c, &d->Q, rows * w);
    if (!st)
        st = bz_buf_alloc(c, &d->D, rows * w);
    if (!st)
        st = bz_buf_alloc(c, &d->acc, rows);
    if (st) {
        release_work(d);
        return st;
    }
    d->cap = rows;
    return BZ_OK;
}

/* out = x W_{l-1} (rows x s[l]): the input of layer l from below. */
static bz_status below(bz_dbm *d, size_t l, const bz_buf *x, size_t rows, float alpha,
                       bz_buf *out)
{
    return bz_sgemm(d->ctx, false, false, rows, d->s[l], d->s[l - 1], alpha, x, 0, d->s[l - 1],
                    &d->W[l - 1], 0, d->s[l], 0.0f, out, 0, d->s[l]);
}

/* out = x W_l^T (rows x s[l]): the input of layer l from above. */
static bz_status above(bz_dbm *d, size_t l, const bz_buf *x, size_t rows, bz_buf *out)
{
    return bz_sgemm(d->ctx, false, true, rows, d->s[l], d->s[l + 1], 1.0f, x, 0, d->s[l + 1],
                    &d->W[l], 0, d->s[l + 1], 0.0f, out, 0, d->s[l]);
}

bz_status bz_dbm_mean_field_dev(bz_dbm *d, size_t rows, unsigned iters, float tol,
                                unsigned *sweeps)
{
    bz_context *c = d->ctx;
    const size_t L = d->L;
    if (rows > d->cap)
        return bz_fail(c, BZ_E_INTERNAL, "mean field on %zu rows, work space for %zu", rows,
                       d->cap);
    /* Bottom-up initialisation with doubled weights below the top layer,
     * which stand in for the missing input from above. */
    const bz_buf *x = &d->X0;
    for (size_t l = 1; l <= L; l++) {
        CHECK(below(d, l, x, rows, l < L ? 2.0f : 1.0f, &d->Q));
        CHECK(bz_op_bias_sigmoid(c, &d->MU[l], &d->Q, &d->b[l], rows, d->s[l]));
        x = &d->MU[l];
    }
    CHECK(below(d, 1, &d->X0, rows, 1.0f, &d->P[1])); /* constant while v is clamped */
    float *acc = NULL;
    if (tol > 0 && !(acc = malloc(rows * sizeof *acc)))
        return bz_fail(c, BZ_E_NOMEM, "out of memory");
    unsigned it = 0;
    bz_status st = BZ_OK;
    while (it < iters && !st) {
        it++;
        if (acc)
            st = bz_buf_fill(c, &d->acc, 0.0f, 0, rows);
        for (size_t parity = 1; parity <= 2 && !st; parity++) {
            for (size_t l = parity; l <= L && !st; l += 2) {
                if (l > 1 && (st = below(d, l, &d->MU[l - 1], rows, 1.0f, &d->P[l])))
                    break;
                if (l < L && (st = above(d, l, &d->MU[l + 1], rows, &d->Q)))
                    break;
                st = bz_op_dbm_mf_update(c, &d->MU[l], &d->D, &d->P[l], l < L ? &d->Q : NULL,
                                         &d->b[l], rows, d->s[l]);
                if (!st && acc)
                    st = bz_op_dbm_rows_absmax_acc(c, &d->acc, &d->D, rows, d->s[l]);
            }
        }
        if (!st && acc) {
            if ((st = bz_buf_read(c, &d->acc, 0, acc, rows)))
                break;
            float mx = 0;
            for (size_t r = 0; r < rows; r++)
                mx = fmaxf(mx, acc[r]);
            if (mx < tol)
                break;
        }
    }
    free(acc);
    if (sweeps)
        *sweeps = it;
    return st;
}

/* Runs mean field over host rows in chunks; emit copies what is wanted. */
typedef bz_status (*emit_fn)(bz_dbm *d, size_t first, size_t rows, void *arg);

static bz_status for_chunks(bz_dbm *d, const float *x, size_t n, unsigned iters, float tol,
                            emit_fn emit, void *arg)
{
    if (!d || !x || n == 0)
        return BZ_E_INVALID_ARG;
    const size_t chunk = 1000;
    CHECK(bz_dbm_reserve(d, n < chunk ? n : chunk));
    for (size_t first = 0; first < n; first += d->cap) {
        size_t rows = n - first < d->cap ? n - first : d->cap;
        CHECK(bz_buf_write(d->ctx, &d->X0, 0, x + first * d->s[0], rows * d->s[0]));
        CHECK(bz_dbm_mean_field_dev(d, rows, iters, tol, NULL));
        CHECK(emit(d, first, rows, arg));
    }
    return BZ_OK;
}

typedef struct emit_arg {
    float *out;
    size_t layer; /* 0: all hidden layers side by side */
} emit_arg;

static bz_status emit_layers(bz_dbm *d, size_t first, size_t rows, void *argp)
{
    emit_arg *a = argp;
    size_t width = 0;
    for (size_t l = 1; l <= d->L; l++)
        width += a->layer ? (l == a->layer ? d->s[l] : 0) : d->s[l];
    float *tmp = malloc(rows * widest(d) * sizeof *tmp);
    if (!tmp)
        return bz_fail(d->ctx, BZ_E_NOMEM, "out of memory");
    size_t col = 0;
    bz_status st = BZ_OK;
    for (size_t l = 1; l <= d->L && !st; l++) {
        if (a->layer && l != a->layer)
            continue;
        if ((st = bz_buf_read(d->ctx, &d->MU[l], 0, tmp, rows * d->s[l])))
            break;
        for (size_t r = 0; r < rows; r++)
            memcpy(a->out + (first + r) * width + col, tmp + r * d->s[l], d->s[l] * sizeof *tmp);
        col += d->s[l];
    }
    free(tmp);
    return st;
}

bz_status bz_dbm_transform(bz_dbm *d, const float *x, size_t n, unsigned iters, float tol,
                           float *out)
{
    if (!out)
        return BZ_E_INVALID_ARG;
    emit_arg a = {out, 0};
    return for_chunks(d, x, n, iters, tol, emit_layers, &a);
}

bz_status bz_dbm_transform_layer(bz_dbm *d, const float *x, size_t n, unsigned iters, float tol,
                                 size_t l, float *out)
{
    if (!out || !d || l == 0 || l > d->L)
        return BZ_E_INVALID_ARG;
    emit_arg a = {out, l};
    return for_chunks(d, x, n, iters, tol, emit_layers, &a);
}

static bz_status emit_clf(bz_dbm *d, size_t first, size_t rows, void *argp)
{
    float *out = argp;
    size_t nv = d->s[0], n2 = d->s[2], w = nv + n2;
    float *tmp = malloc(rows * (nv > n2 ? nv : n2) * sizeof *tmp);
    if (!tmp)
        return bz_fail(d->ctx, BZ_E_NOMEM, "out of memory");
    bz_status st = bz_buf_read(d->ctx, &d->X0, 0, tmp, rows * nv);
    for (size_t r = 0; !st && r < rows; r++)
        memcpy(out + (first + r) * w, tmp + r * nv, nv * sizeof *tmp);
    if (!st)
        st = bz_buf_read(d->ctx, &d->MU[2], 0, tmp, rows * n2);
    for (size_t r = 0; !st && r < rows; r++)
        memcpy(out + (first + r) * w + nv, tmp + r * n2, n2 * sizeof *tmp);
    free(tmp);
    return st;
}

bz_status bz_dbm_classifier_inputs(bz_dbm *d, const float *x, size_t n, unsigned iters,
                                   float tol, float *out)
{
    if (!out)
        return BZ_E_INVALID_ARG;
    return for_chunks(d, x, n, iters, tol, emit_clf, out);
}

/* ---- Gibbs sampling ---- */

bz_status bz_dbm_gibbs_sweep(bz_dbm *d, size_t M, uint64_t seed, unsigned epoch, size_t batch,
                             unsigned step)
{
    const size_t L = d->L;
    for (size_t parity = 1; parity <= 2; parity++) {
        for (size_t l = parity % 2; l <= L; l += 2) {
            const bz_buf *b = NULL;
            if (l > 0) {
                CHECK(below(d, l, &d->C[l - 1], M, 1.0f, &d->CA));
                if (l < L) {
                    CHECK(above(d, l, &d->C[l + 1], M, &d->CB));
                    b = &d->CB;
                }
            } else {
                CHECK(above(d, 0, &d->C[1], M, &d->CA));
            }
            CHECK(bz_op_dbm_sample_layer(
                d->ctx, &d->C[l], &d->CA, b, &d->b[l], NULL, M, d->s[l], 1.0f,
                (bz_rng_pos){seed, bz_ref_dbm_stream(epoch, batch, step, (unsigned)l), 0}));
        }
    }
    return BZ_OK;
}

bz_status bz_dbm_sample(bz_dbm *d, size_t n, unsigned steps, uint64_t seed, float *out)
{
    if (!d || !out || n == 0 || steps == 0)
        return BZ_E_INVALID_ARG;
    bz_context *c = d->ctx;
    /* Separate chains from training's, which stay as they are. */
    bz_dbm tmp = *d;
    memset(tmp.C, 0, sizeof tmp.C);
    memset(&tmp.CA, 0, sizeof tmp.CA);
    memset(&tmp.CB, 0, sizeof tmp.CB);
    tmp.n_chains = 0;
    tmp.chains_valid = false;
    bz_status st = bz_dbm_reserve_chains(&tmp, n);
    for (size_t l = 0; l <= d->L && !st; l++) {
        /* uniform noise: Bernoulli(0.5) of every unit */
        if (!(st = bz_buf_fill(c, &tmp.CA, 0.5f, 0, n * d->s[l])))
            st = bz_op_bernoulli(c, &tmp.C[l], &tmp.CA, n * d->s[l],
                                 (bz_rng_pos){seed, BZ_STREAM_INIT + 64 + l, 0});
    }
    for (unsigned s = 0; s < steps && !st; s++) {
        st = bz_dbm_gibbs_sweep(&tmp, n, seed, s + 1, 0, 0);
        /* bound what is queued (and CLBlast's temporaries with it) */
        if (!st && s % 16 == 15)
            st = bz_finish(c);
    }
    /* the visible means given the last h1 */
    if (!st && !(st = above(&tmp, 0, &tmp.C[1], n, &tmp.CA)) &&
        !(st = bz_op_bias_sigmoid(c, &tmp.CB, &tmp.CA, &d->b[0], n, d->s[0])))
        st = bz_buf_read(c, &tmp.CB, 0, out, n * d->s[0]);
    release_chains(&tmp);
    return st;
}
