#include "models/ais_layers.h"
#include "blas/gemm.h"
#include "engine/check.h"
#include "models/rbm.h"
#include "ops/ops_dbm.h"
#include "ref/reference.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void bz_ais_options_init(bz_ais_options *o)
{
    o->runs = 100;
    o->betas = 10000;
    o->seed = 1;
    o->collapsed_every = 0;
    o->hop_every = 10;
    o->uniform_base = 0;
}

size_t bz_ais_proposal_rows(const float *mu, size_t n, size_t cols, size_t most, float *out)
{
    size_t P = n < most ? n : most;
    for (size_t p = 0; p < P; p++)
        for (size_t j = 0; j < cols; j++) {
            float m = mu[(p * n / P) * cols + j];
            out[p * cols + j] = m < 1e-4f ? 1e-4f : m > 1 - 1e-4f ? 1 - 1e-4f : m;
        }
    return P;
}

void bz_ais_base_rate(const float *x, size_t n, size_t nv, float *a)
{
    for (size_t i = 0; i < nv; i++) {
        double p = 0.5;
        if (x && n) {
            double s = 0;
            for (size_t k = 0; k < n; k++)
                s += x[k * nv + i];
            p = (s + 0.05 * (double)n) / (1.1 * (double)n);
        }
        a[i] = (float)log(p / (1 - p));
    }
}

/* Salakhutdinov & Murray's schedule shape: 500 steps up to 0.5, 4000 up to
 * 0.9, 10000 up to 1 (of 14500), scaled to the requested count. */
static double beta_at(unsigned k, unsigned K)
{
    double n1 = K * (500.0 / 14500.0), n2 = K * (4000.0 / 14500.0);
    double n3 = (double)K - n1 - n2;
    double x = (double)k;
    if (x <= n1)
        return 0.5 * x / n1;
    if (x <= n1 + n2)
        return 0.5 + 0.4 * (x - n1) / n2;
    return 0.9 + 0.1 * (x - n1 - n2) / n3;
}

/* out = x_{l-1} W_{l-1} + x_{l+1} W_l^T (whichever exist), rows x s[l]. */
static bz_status total_input(const bz_ais_net *n, size_t l, bz_buf *x, size_t rows, bz_buf *out)
{
    float beta = 0.0f;
    if (l > 0) {
        CHECK(bz_sgemm(n->ctx, false, false, rows, n->s[l], n->s[l - 1], 1.0f, &x[l - 1], 0,
                       n->s[l - 1], n->W[l - 1], 0, n->s[l], 0.0f, out, 0, n->s[l]));
        beta = 1.0f;
    }
    if (l < n->L)
        CHECK(bz_sgemm(n->ctx, false, true, rows, n->s[l], n->s[l + 1], 1.0f, &x[l + 1], 0,
                       n->s[l + 1], n->W[l], 0, n->s[l + 1], beta, out, 0, n->s[l]));
    return BZ_OK;
}

/* W_l transposed on the device (s[l+1] x s[l]). */
static bz_status upload_transposed(const bz_ais_net *n, size_t l, bz_buf *out)
{
    size_t p = n->s[l], q = n->s[l + 1];
    float *w = malloc(p * q * sizeof *w), *t = malloc(p * q * sizeof *t);
    bz_status st = (w && t) ? bz_buf_read(n->ctx, n->W[l], 0, w, p * q)
                            : bz_fail(n->ctx, BZ_E_NOMEM, "out of memory");
    if (!st) {
        for (size_t i = 0; i < p; i++)
            for (size_t j = 0; j < q; j++)
                t[j * p + i] = w[i * q + j];
        if (!(st = bz_buf_alloc(n->ctx, out, p * q)))
            st = bz_buf_write(n->ctx, out, 0, t, p * q);
    }
    free(w);
    free(t);
    return st;
}

static uint64_t stream(bool reverse, unsigned k, unsigned slot)
{
    return BZ_STREAM_AIS ^ bz_rbm_stream(k, reverse ? 1 : 0, slot);
}

/* One transition at beta, leaving p_beta of the odd layers invariant; Z[l]
 * (even l) holds the even layers' inputs from the current odd state. */
static bz_status transition(const bz_ais_net *n, bz_buf *X, bz_buf *Z, bz_buf *A, bz_buf *WT,
                            bz_buf *terms, bz_buf *dx, const bz_buf *bA, size_t M, float beta,
                            bool collapsed, uint64_t seed, bool reverse, unsigned k)
{
    const size_t L = n->L;
    if (collapsed)
        for (size_t l = 1; l <= L; l += 2)
            CHECK(bz_op_dbm_ais_collapsed_sweep(
                n->ctx, &X[l], &Z[l - 1], l < L ? &Z[l + 1] : NULL, &WT[l - 1],
                l < L ? n->W[l] : NULL, n->b[l], n->b[l - 1], l < L ? n->b[l + 1] : NULL,
                l == 1 ? bA : NULL, terms, dx, M, n->s[l], n->s[l - 1], l < L ? n->s[l + 1] : 0, beta,
                (bz_rng_pos){seed, stream(reverse, k, 8u + (unsigned)l), 0}));
    /* even given odd, from the inputs in Z (kept up to date by the sweep) */
    for (size_t l = 0; l <= L; l += 2)
        CHECK(bz_op_dbm_sample_layer(n->ctx, &X[l], &Z[l], NULL, n->b[l], l == 0 ? bA : NULL, M,
                                     n->s[l], beta,
                                     (bz_rng_pos){seed, stream(reverse, k, (unsigned)l), 0}));
    /* odd given even */
    for (size_t l = 1; l <= L; l += 2) {
        CHECK(total_input(n, l, X, M, A));
        CHECK(bz_op_dbm_sample_layer(n->ctx, &X[l], A, NULL, n->b[l], NULL, M, n->s[l], beta,
                                     (bz_rng_pos){seed, stream(reverse, k, (unsigned)l), 0}));
    }
    return BZ_OK;
}

/* The proposal's buffers on the device. */
typedef struct hopper {
    size_t P, cols, off[BZ_AIS_MAX_HIDDEN + 1];
    bz_buf mu, lg, c, Xp[BZ_AIS_MAX_HIDDEN + 1], Zp[BZ_AIS_MAX_HIDDEN + 1], lp, lpc, lpp, lppc,
        g, gp, acc;
} hopper;

static void hopper_release(hopper *h)
{
    bz_buf *b[] = {&h->mu, &h->lg, &h->c, &h->lp, &h->lpc, &h->lpp, &h->lppc, &h->g, &h->gp,
                   &h->acc};
    for (size_t i = 0; i < sizeof b / sizeof *b; i++)
        bz_buf_release(b[i]);
    for (size_t l = 0; l <= BZ_AIS_MAX_HIDDEN; l++) {
        bz_buf_release(&h->Xp[l]);
        bz_buf_release(&h->Zp[l]);
    }
}

static bz_status hopper_make(const bz_ais_net *n, const bz_ais_proposal *p, size_t M, hopper *h)
{
    bz_context *c = n->ctx;
    h->P = p->P;
    h->cols = 0;
    for (size_t l = 1; l <= n->L; l += 2) {
        h->off[l] = h->cols;
        h->cols += n->s[l];
    }
    const size_t P = h->P, w = h->cols;
    float *lg = malloc(P * w * sizeof *lg), *cc = malloc(P * sizeof *cc);
    bz_status st = lg && cc ? BZ_OK : bz_fail(c, BZ_E_NOMEM, "out of memory");
    for (size_t r = 0; r < P && !st; r++) {
        double s = 0;
        for (size_t j = 0; j < w; j++) {
            double m = p->mu[r * w + j];
            lg[r * w + j] = (float)log(m / (1 - m));
            s += log(1 - m);
        }
        cc[r] = (float)s;
    }
    if (!st && !(st = bz_buf_alloc(c, &h->mu, P * w)) &&
        !(st = bz_buf_write(c, &h->mu, 0, p->mu, P * w)) && !(st = bz_buf_alloc(c, &h->lg, P * w)) &&
        !(st = bz_buf_write(c, &h->lg, 0, lg, P * w)) && !(st = bz_buf_alloc(c, &h->c, P)))
        st = bz_buf_write(c, &h->c, 0, cc, P);
    bz_buf *rows[] = {&h->lp, &h->lpc, &h->lpp, &h->lppc, &h->acc};
    for (size_t i = 0; i < sizeof rows / sizeof *rows && !st; i++)
        st = bz_buf_alloc(c, rows[i], M);
    if (!st && !(st = bz_buf_alloc(c, &h->g, M * P)))
        st = bz_buf_alloc(c, &h->gp, M * P);
    for (size_t l = 0; l <= n->L && !st; l++)
        st = bz_buf_alloc(c, l % 2 ? &h->Xp[l] : &h->Zp[l], M * n->s[l]);
    free(lg);
    free(cc);
    return st;
}

/* log p*_beta of the state X (even inputs Z) into lp, up to a constant. */
static bz_status log_target(const bz_ais_net *n, bz_buf *X, bz_buf *Z, const bz_buf *bA,
                            bz_buf *lp, bz_buf *lpc, bz_buf *terms, size_t M, float beta)
{
    CHECK(bz_buf_fill(n->ctx, lp, 0.0f, 0, M));
    CHECK(bz_buf_fill(n->ctx, lpc, 0.0f, 0, M));
    for (size_t l = 0; l <= n->L; l++)
        CHECK(bz_op_dbm_ais_logw(n->ctx, lp, lpc, terms, l % 2 ? &X[l] : &Z[l], n->b[l],
                                 l == 0 ? bA : NULL, l % 2 == 1, true, M, n->s[l], 0.0f, beta));
    return BZ_OK;
}

/* The products of the states with logit(mu): g = sum_odd X_l LG_l^T. */
static bz_status mixture_products(const bz_ais_net *n, hopper *h, bz_buf *X, bz_buf *g, size_t M)
{
    float acc = 0.0f;
    for (size_t l = 1; l <= n->L; l += 2, acc = 1.0f)
        CHECK(bz_sgemm(n->ctx, false, true, M, h->P, n->s[l], 1.0f, &X[l], 0, n->s[l], &h->lg,
                       h->off[l], h->cols, acc, g, 0, h->P));
    return BZ_OK;
}

static bz_status hop(const bz_ais_net *n, hopper *h, bz_buf *X, bz_buf *Z, const bz_buf *bA,
                     bz_buf *terms, size_t M, float beta, uint64_t seed, bool reverse, unsigned k)
{
    for (size_t l = 1; l <= n->L; l += 2)
        CHECK(bz_op_dbm_ais_propose(n->ctx, &h->Xp[l], &h->mu, M, n->s[l], h->P, h->cols,
                                    h->off[l], seed, stream(reverse, k, 24),
                                    stream(reverse, k, 25u + (unsigned)l)));
    for (size_t l = 0; l <= n->L; l += 2)
        CHECK(total_input(n, l, h->Xp, M, &h->Zp[l]));
    CHECK(log_target(n, X, Z, bA, &h->lp, &h->lpc, terms, M, beta));
    CHECK(log_target(n, h->Xp, h->Zp, bA, &h->lpp, &h->lppc, terms, M, beta));
    CHECK(mixture_products(n, h, X, &h->g, M));
    CHECK(mixture_products(n, h, h->Xp, &h->gp, M));
    CHECK(bz_op_dbm_ais_mh_accept(n->ctx, &h->acc, &h->lp, &h->lpp, &h->g, &h->gp, &h->c, M,
                                  h->P, seed, stream(reverse, k, 30)));
    for (size_t l = 0; l <= n->L; l++)
        CHECK(bz_op_dbm_ais_take_rows(n->ctx, l % 2 ? &X[l] : &Z[l], l % 2 ? &h->Xp[l] : &h->Zp[l],
                                      &h->acc, M, n->s[l]));
    return BZ_OK;
}

bz_status bz_ais_layers(const bz_ais_net *n, const float *a, const bz_ais_options *o_in,
                        float *const *start, const bz_ais_proposal *prop, bz_ais_result *out)
{
    if (!n || !a || !out || n->L < 1 || n->L > BZ_AIS_MAX_HIDDEN)
        return BZ_E_INVALID_ARG;
    bz_context *c = n->ctx;
    bz_ais_options o;
    bz_ais_options_init(&o);
    if (o_in)
        o = *o_in;
    if (o.runs == 0 || o.betas < 10)
        return bz_fail(c, BZ_E_INVALID_ARG, "AIS needs at least 1 run and 10 temperatures");
    const size_t M = o.runs, L = n->L, nv = n->s[0];
    const bool reverse = start != NULL;
    const unsigned every = o.collapsed_every;
    size_t wodd = 0, wnb = 0; /* widest odd layer, most neighbours of one */
    for (size_t l = 1; l <= L; l += 2) {
        wodd = n->s[l] > wodd ? n->s[l] : wodd;
        size_t nb = n->s[l - 1] + (l < L ? n->s[l + 1] : 0);
        wnb = nb > wnb ? nb : wnb;
    }
    /* X: every layer's states; Z: the even layers' inputs; A: an odd layer's
     * input; WT: W_{l-1}^T for the collapsed sweep of odd l */
    bz_buf X[BZ_AIS_MAX_HIDDEN + 1] = {{0}}, Z[BZ_AIS_MAX_HIDDEN + 1] = {{0}},
           WT[BZ_AIS_MAX_HIDDEN] = {{0}}, A = {0}, sum = {0}, comp = {0}, bA = {0}, terms = {0},
           dx = {0}, T = {0}; /* T: per-unit terms of the weights, M x widest layer */
    hopper hp = {0};
    float *lw = malloc(M * sizeof *lw);
    bz_status st = lw ? BZ_OK : bz_fail(c, BZ_E_NOMEM, "out of memory");
    if (!st && prop && prop->P && o.hop_every)
        st = hopper_make(n, prop, M, &hp);
    for (size_t l = 0; l <= L && !st; l++) {
        st = bz_buf_alloc(c, &X[l], M * n->s[l]);
        if (!st && l % 2 == 0)
            st = bz_buf_alloc(c, &Z[l], M * n->s[l]);
        if (!st && l % 2 == 1 && every)
            st = upload_transposed(n, l - 1, &WT[l - 1]);
    }
    if (!st && every && !(st = bz_buf_alloc(c, &terms, M * wnb)))
        st = bz_buf_alloc(c, &dx, M);
    size_t wall = 0;
    for (size_t l = 0; l <= L; l++)
        wall = n->s[l] > wall ? n->s[l] : wall;
    if (st || (st = bz_buf_alloc(c, &T, M * wall)) || (st = bz_buf_alloc(c, &A, M * wodd)) || (st = bz_buf_alloc(c, &sum, M)) ||
        (st = bz_buf_alloc(c, &comp, M)) || (st = bz_buf_alloc(c, &bA, nv)) ||
        (st = bz_buf_write(c, &bA, 0, a, nv)) || (st = bz_buf_fill(c, &sum, 0.0f, 0, M)) ||
        (st = bz_buf_fill(c, &comp, 0.0f, 0, M)) || (st = bz_buf_fill(c, &A, 0.0f, 0, M * wodd)))
        goto done;
    /* The odd layers: uniform under the base model, or the given states. */
    for (size_t l = 1; l <= L && !st; l += 2)
        st = reverse ? bz_buf_write(c, &X[l], 0, start[l], M * n->s[l])
                     : bz_op_dbm_sample_layer(c, &X[l], &A, NULL, n->b[l], NULL, M, n->s[l],
                                              0.0f, (bz_rng_pos){o.seed, stream(false, 0, 16u + (unsigned)l), 0});
    const unsigned K = o.betas;
    for (unsigned k = 1; k <= K && !st; k++) {
        /* forward: p_{k-1} -> p_k; reverse: p_{K-k+1} -> p_{K-k} */
        float bprev = (float)beta_at(reverse ? K - k + 1 : k - 1, K),
              b = (float)beta_at(reverse ? K - k : k, K);
        for (size_t l = 0; l <= L && !st; l += 2)
            if (!(st = total_input(n, l, X, M, &Z[l])))
                st = bz_op_dbm_ais_logw(c, &sum, &comp, &T, &Z[l], n->b[l], l == 0 ? &bA : NULL,
                                        false, false, M, n->s[l], bprev, b);
        for (size_t l = 1; l <= L && !st; l += 2)
            st = bz_op_dbm_ais_logw(c, &sum, &comp, &T, &X[l], n->b[l], NULL, true, false, M,
                                    n->s[l], bprev, b);
        if (st || k == K)
            break;
        /* Drain the queue now and then: CLBlast frees its temporary buffers
         * only as products complete, so thousands of queued temperatures
         * would hold gigabytes (and a deep queue slows POCL down). */
        if (k % 16 == 0 && (st = bz_finish(c)))
            break;
        if (hp.P && k % o.hop_every == 0 &&
            (st = hop(n, &hp, X, Z, &bA, &T, M, b, o.seed, reverse, k)))
            break;
        st = transition(n, X, Z, &A, WT, &terms, &dx, &bA, M, b, every && k % every == 0, o.seed,
                        reverse, k);
    }
    if (st || (st = bz_buf_read(c, &sum, 0, lw, M)))
        goto done;
    double log_z0 = 0, mx = -INFINITY;
    for (size_t i = 0; i < nv; i++)
        log_z0 += bz_ref_softplus(a[i]);
    for (size_t l = 1; l <= L; l++)
        log_z0 += (double)n->s[l] * log(2.0);
    for (size_t i = 0; i < M; i++)
        mx = lw[i] > mx ? lw[i] : mx;
    if (!isfinite(mx)) {
        st = bz_fail(c, BZ_E_DIVERGED, "AIS weights are not finite: the model's parameters "
                                       "are probably not finite either");
        goto done;
    }
    double m = 0, m2 = 0;
    for (size_t i = 0; i < M; i++) {
        double e = exp((double)lw[i] - mx);
        m += e;
        m2 += e * e;
    }
    m /= (double)M;
    double var = M > 1 ? (m2 / (double)M - m * m) * (double)M / (double)(M - 1) : 0.0;
    double se = sqrt(var > 0 ? var : 0) / sqrt((double)M);
    /* the interval's lower end is unbounded when the weights are too spread */
    double lo = m - 3 * se > 0 ? mx + log(m - 3 * se) : -INFINITY, hi = mx + log(m + 3 * se);
    double mid = mx + log(m);
    out->log_z_sd = se / m;
    if (reverse) { /* log Z = log Z_0 - log mean(w) */
        out->log_z = log_z0 - mid;
        out->log_z_lo = log_z0 - hi;
        out->log_z_hi = log_z0 - lo;
    } else {
        out->log_z = log_z0 + mid;
        out->log_z_lo = log_z0 + lo;
        out->log_z_hi = log_z0 + hi;
    }
done:
    for (size_t l = 0; l <= BZ_AIS_MAX_HIDDEN; l++) {
        bz_buf_release(&X[l]);
        bz_buf_release(&Z[l]);
        if (l < BZ_AIS_MAX_HIDDEN)
            bz_buf_release(&WT[l]);
    }
    bz_buf *rest[] = {&A, &sum, &comp, &bA, &terms, &dx, &T};
    for (size_t i = 0; i < sizeof rest / sizeof *rest; i++)
        bz_buf_release(rest[i]);
    hopper_release(&hp);
    free(lw);
    return st;
}
