/*
 * How good is an RBM: reconstruction error, free energy, the
 * pseudo-log-likelihood scikit-learn reports, and the partition function,
 * estimated by annealed importance sampling (Salakhutdinov & Murray 2008;
 * forward and reverse, models/ais_layers.h) or computed exactly by
 * enumeration when one layer is small.
 */
#include "blas/gemm.h"
#include "engine/check.h"
#include "models/ais_layers.h"
#include "models/rbm.h"
#include "ops/ops.h"
#include "ref/reference.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define EVAL_CHUNK 1000

static bz_status check_data(bz_rbm *r, bz_data *d)
{
    if (!r || !d)
        return BZ_E_INVALID_ARG;
    if (d->dim != r->nv)
        return bz_fail(r->ctx, BZ_E_SHAPE,
                       "data rows have %zu values but the RBM has %zu visible units", d->dim, r->nv);
    return bz_rbm_reserve(r, d->n < EVAL_CHUNK ? d->n : EVAL_CHUNK);
}

bz_status bz_rbm_reconstruction_error(bz_rbm *r, bz_data *d, double *mse)
{
    CHECK(check_data(r, d));
    bz_context *c = r->ctx;
    CHECK(bz_buf_fill(c, &r->err_acc, 0.0f, 0, r->cap));
    for (size_t first = 0; first < d->n; first += r->cap) {
        size_t rows = d->n - first < r->cap ? d->n - first : r->cap;
        CHECK(bz_data_fetch(d, first, rows, &r->V0));
        CHECK(bz_rbm_up(r, &r->V0, rows, &r->H0));
        CHECK(r->hid->mean(r->hid, c, &r->H0, &r->H0, &r->hb, rows, r->nh));
        CHECK(bz_rbm_down(r, &r->H0, rows, &r->V1));
        CHECK(r->vis->mean(r->vis, c, &r->V1, &r->V1, &r->vb, rows, r->nv));
        CHECK(bz_op_row_sq_err_acc(c, &r->err_acc, &r->V0, &r->V1, rows, r->nv));
    }
    float *acc = malloc(r->cap * sizeof *acc);
    if (!acc)
        return bz_fail(c, BZ_E_NOMEM, "out of memory");
    bz_status st = bz_buf_read(c, &r->err_acc, 0, acc, r->cap);
    double s = 0;
    for (size_t i = 0; i < r->cap; i++)
        s += acc[i];
    free(acc);
    *mse = s / ((double)d->n * (double)r->nv);
    return st;
}

/* Free energies of the first `rows` rows of v (uses H0 and err_acc). */
static bz_status free_energies(bz_rbm *r, const bz_buf *v, size_t rows, float *out)
{
    CHECK(bz_rbm_up(r, v, rows, &r->H0));
    CHECK(bz_op_free_energy_rows(r->ctx, &r->err_acc, v, &r->vb, &r->H0, &r->hb, rows, r->nv,
                                 r->nh, r->vis->quadratic_energy, 1.0f));
    return bz_buf_read(r->ctx, &r->err_acc, 0, out, rows);
}

bz_status bz_rbm_mean_free_energy(bz_rbm *r, bz_data *d, double *mean)
{
    CHECK(check_data(r, d));
    float *f = malloc(r->cap * sizeof *f);
    if (!f)
        return bz_fail(r->ctx, BZ_E_NOMEM, "out of memory");
    double s = 0;
    bz_status st = BZ_OK;
    for (size_t first = 0; st == BZ_OK && first < d->n; first += r->cap) {
        size_t rows = d->n - first < r->cap ? d->n - first : r->cap;
        st = bz_data_fetch(d, first, rows, &r->V0);
        if (!st)
            st = free_energies(r, &r->V0, rows, f);
        for (size_t i = 0; st == BZ_OK && i < rows; i++)
            s += f[i];
    }
    free(f);
    *mean = s / (double)d->n;
    return st;
}

bz_status bz_rbm_pseudo_log_likelihood(bz_rbm *r, bz_data *d, uint64_t seed, double *mean)
{
    CHECK(check_data(r, d));
    bz_context *c = r->ctx;
    if (!r->vis->binary)
        return bz_fail(c, BZ_E_UNSUPPORTED,
                       "pseudo-log-likelihood needs binary visible units (this RBM's are %s)",
                       r->vis->name);
    bz_buf idx = {0};
    float *f0 = malloc(r->cap * sizeof *f0), *f1 = malloc(r->cap * sizeof *f1);
    uint32_t *hidx = malloc(r->cap * sizeof *hidx);
    bz_status st = (f0 && f1 && hidx) ? bz_buf_alloc(c, &idx, r->cap)
                                      : bz_fail(c, BZ_E_NOMEM, "out of memory");
    double s = 0;
    for (size_t first = 0; st == BZ_OK && first < d->n; first += r->cap) {
        size_t rows = d->n - first < r->cap ? d->n - first : r->cap;
        /* One entry per row, chosen by the generator keyed on the row. */
        for (size_t i = 0; i < rows; i++)
            hidx[i] = (uint32_t)(((uint64_t)bz_ref_philox_u32(seed, BZ_STREAM_EVAL, first + i) *
                                  r->nv) >> 32);
        if ((st = bz_data_fetch(d, first, rows, &r->V0)) ||
            (st = bz_buf_copy(c, &r->V0, 0, &r->V1, 0, rows * r->nv)) ||
            (st = bz_buf_write(c, &idx, 0, hidx, rows)) ||
            (st = bz_op_flip_entries(c, &r->V1, &idx, rows, r->nv)) ||
            (st = free_energies(r, &r->V0, rows, f0)) || (st = free_energies(r, &r->V1, rows, f1)))
            break;
        /* log sigmoid(F(v~) - F(v)) = -softplus(F(v) - F(v~)) */
        for (size_t i = 0; i < rows; i++)
            s += -(double)r->nv * bz_ref_softplus((double)f0[i] - (double)f1[i]);
    }
    bz_buf_release(&idx);
    free(f0);
    free(f1);
    free(hidx);
    *mean = s / (double)d->n;
    return st;
}

/* ---- annealed importance sampling ------------------------------------------ */

/* AIS over the hidden layer with the visible one summed out
 * (models/ais_layers.h: an RBM is its one-hidden-layer case). */
#define PROPOSAL_ROWS 1000

static bz_status rbm_ais_check(bz_rbm *r, bz_data *base, const bz_ais_options *o,
                               bz_ais_net *n, float **a)
{
    bz_context *c = r->ctx;
    if (r->vis->quadratic_energy)
        return bz_fail(c, BZ_E_UNSUPPORTED,
                       "AIS is implemented for Bernoulli visible units only (this RBM's are %s)",
                       r->vis->name);
    if (base && base->dim != r->nv)
        return bz_fail(c, BZ_E_SHAPE, "base data has %zu values per row, the RBM %zu", base->dim,
                       r->nv);
    if (!(*a = malloc(r->nv * sizeof **a)))
        return bz_fail(c, BZ_E_NOMEM, "out of memory");
    /* Base-rate model: visible biases from the data's smoothed means. */
    bool data = base && base->host && !(o && o->uniform_base);
    bz_ais_base_rate(data ? base->host : NULL, data ? base->n : 0, r->nv, *a);
    *n = (bz_ais_net){.ctx = c, .L = 1, .s = {r->nv, r->nh}, .W = {&r->W}, .b = {&r->vb, &r->hb}};
    return BZ_OK;
}

/* p(h | v) exactly for rows k n / M of the host rows x (M of them), into mu
 * (M x nh); with draw, Bernoulli draws of it instead. */
static bz_status rbm_posteriors(bz_rbm *r, const float *x, size_t n, size_t M, bool draw,
                                uint64_t seed, float *mu)
{
    const size_t nv = r->nv, nh = r->nh;
    float *w = malloc(nv * nh * sizeof *w), *hb = malloc(nh * sizeof *hb);
    bz_status st = w && hb ? bz_rbm_get_params(r, w, NULL, hb)
                           : bz_fail(r->ctx, BZ_E_NOMEM, "out of memory");
    for (size_t k = 0; k < M && !st; k++) {
        const float *v = x + (k * n / M) * nv;
        for (size_t j = 0; j < nh; j++) {
            double z = hb[j];
            for (size_t i = 0; i < nv; i++)
                z += (double)v[i] * w[i * nh + j];
            float p = (float)bz_ref_sigmoid(z);
            if (draw)
                p = bz_ref_u01(bz_ref_philox_u32(seed, BZ_STREAM_AIS ^ 0xf1u, k * nh + j)) < p;
            mu[k * nh + j] = p;
        }
    }
    free(w);
    free(hb);
    return st;
}

/* Runs AIS with the mode-hopping proposals from base's rows when it has
 * host rows. */
static bz_status rbm_ais_run(bz_rbm *r, bz_data *base, const bz_ais_net *n, const float *a,
                             const bz_ais_options *o, float *const *start, bz_ais_result *out)
{
    if (!base || !base->host || base->n == 0)
        return bz_ais_layers(n, a, o, start, NULL, out);
    size_t P = base->n < PROPOSAL_ROWS ? base->n : PROPOSAL_ROWS;
    float *mu = malloc(P * r->nh * sizeof *mu);
    bz_status st = mu ? rbm_posteriors(r, base->host, base->n, P, false, 0, mu)
                      : bz_fail(r->ctx, BZ_E_NOMEM, "out of memory");
    if (!st) {
        bz_ais_proposal prop = {mu, bz_ais_proposal_rows(mu, P, r->nh, P, mu)};
        st = bz_ais_layers(n, a, o, start, &prop, out);
    }
    free(mu);
    return st;
}

bz_status bz_rbm_ais(bz_rbm *r, bz_data *base, const bz_ais_options *o, bz_ais_result *out)
{
    if (!r || !out)
        return BZ_E_INVALID_ARG;
    bz_ais_net n;
    float *a = NULL;
    bz_status st = rbm_ais_check(r, base, o, &n, &a);
    if (!st)
        st = rbm_ais_run(r, base, &n, a, o, NULL, out);
    free(a);
    return st;
}

bz_status bz_rbm_ais_reverse(bz_rbm *r, bz_data *data, bz_data *base, const bz_ais_options *o_in,
                             bz_ais_result *out)
{
    if (!r || !data || !data->host || data->n == 0 || !out)
        return BZ_E_INVALID_ARG;
    bz_ais_options o;
    bz_ais_options_init(&o);
    if (o_in)
        o = *o_in;
    if (o.runs == 0)
        return bz_fail(r->ctx, BZ_E_INVALID_ARG, "AIS needs at least 1 run");
    if (data->dim != r->nv)
        return bz_fail(r->ctx, BZ_E_SHAPE, "data has %zu values per row, the RBM %zu", data->dim,
                       r->nv);
    bz_ais_net n;
    float *a = NULL;
    bz_status st = rbm_ais_check(r, base, &o, &n, &a);
    if (st)
        return st;
    /* Run k starts from an exact draw of p(h | v) for a row spread over the
     * data. */
    float *h = malloc(o.runs * r->nh * sizeof *h);
    if (!h)
        st = bz_fail(r->ctx, BZ_E_NOMEM, "out of memory");
    if (!st && !(st = rbm_posteriors(r, data->host, data->n, o.runs, true, o.seed, h))) {
        float *start[2] = {NULL, h};
        st = rbm_ais_run(r, base ? base : data, &n, a, &o, start, out);
    }
    free(h);
    free(a);
    return st;
}

/* ---- exact partition function ------------------------------------------------ */

#define EXACT_MAX_UNITS 24

bz_status bz_rbm_exact_log_z(bz_rbm *r, double *log_z)
{
    if (!r || !log_z)
        return BZ_E_INVALID_ARG;
    bz_context *c = r->ctx;
    const size_t nv = r->nv, nh = r->nh;
    bool gauss = r->vis->quadratic_energy;
    bool over_h = nh <= EXACT_MAX_UNITS && (gauss || nh <= nv || nv > EXACT_MAX_UNITS);
    if (!over_h && (gauss || nv > EXACT_MAX_UNITS))
        return bz_fail(c, BZ_E_UNSUPPORTED,
                       "exact log Z enumerates a layer of at most %d units (%s); this RBM has "
                       "%zu visible and %zu hidden",
                       EXACT_MAX_UNITS, gauss ? "the hidden one, for Gaussian visible units" : "either",
                       nv, nh);
    float *w = malloc(nv * nh * sizeof *w), *vb = malloc(nv * sizeof *vb),
          *hb = malloc(nh * sizeof *hb);
    size_t n_enum = over_h ? nh : nv, n_other = over_h ? nv : nh;
    double *pre = malloc(n_other * sizeof *pre);
    if (!w || !vb || !hb || !pre) {
        free(w);
        free(vb);
        free(hb);
        free(pre);
        return bz_fail(c, BZ_E_NOMEM, "out of memory");
    }
    bz_status st = bz_rbm_get_params(r, w, vb, hb);
    if (st == BZ_OK) {
        /* Enumerate the small layer x in Gray-code order, keeping the other
         * layer's pre-activations up to date with one column per flip. */
        const float *own_b = over_h ? hb : vb, *other_b = over_h ? vb : hb;
        bool *x = calloc(n_enum, sizeof *x);
        double lin = 0; /* own_b . x */
        for (size_t i = 0; i < n_other; i++)
            pre[i] = gauss ? 0.0 : other_b[i];
        double mx = -INFINITY, sum = 0;
        uint64_t count = (uint64_t)1 << n_enum;
        for (uint64_t g = 0; x && g < count; g++) {
            if (g > 0) {
                unsigned bit = (unsigned)__builtin_ctzll(g);
                x[bit] = !x[bit];
                double sgn = x[bit] ? 1.0 : -1.0;
                lin += sgn * own_b[bit];
                for (size_t i = 0; i < n_other; i++)
                    pre[i] += sgn * (over_h ? w[i * nh + bit] : w[bit * nh + i]);
            }
            double t = lin;
            if (gauss) {
                /* integral over v of exp(-0.5|v-b|^2 + v.Wh) = (2 pi)^(nv/2) exp(b.Wh + 0.5 |Wh|^2) */
                for (size_t i = 0; i < n_other; i++)
                    t += other_b[i] * pre[i] + 0.5 * pre[i] * pre[i];
                t += 0.5 * (double)nv * log(2 * M_PI);
            } else {
                for (size_t i = 0; i < n_other; i++)
                    t += bz_ref_softplus(pre[i]);
            }
            if (t > mx) {
                sum = sum * exp(mx - t) + 1.0;
                mx = t;
            } else {
                sum += exp(t - mx);
            }
        }
        if (!x)
            st = bz_fail(c, BZ_E_NOMEM, "out of memory");
        free(x);
        *log_z = mx + log(sum);
    }
    free(w);
    free(vb);
    free(hb);
    free(pre);
    return st;
}
