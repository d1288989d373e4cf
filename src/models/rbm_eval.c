/*
 * How good is an RBM: reconstruction error, free energy, the
 * pseudo-log-likelihood scikit-learn reports, and the partition function,
 * estimated by annealed importance sampling (Salakhutdinov & Murray 2008) or
 * computed exactly by enumeration when one layer is small.
 */
#include "blas/gemm.h"
#include "engine/check.h"
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

void bz_ais_options_init(bz_ais_options *o)
{
    o->runs = 100;
    o->betas = 10000;
    o->seed = 1;
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

bz_status bz_rbm_ais(bz_rbm *r, bz_data *base, const bz_ais_options *o_in, bz_ais_result *out)
{
    if (!r || !out)
        return BZ_E_INVALID_ARG;
    bz_context *c = r->ctx;
    bz_ais_options o;
    bz_ais_options_init(&o);
    if (o_in)
        o = *o_in;
    if (r->vis->quadratic_energy)
        return bz_fail(c, BZ_E_UNSUPPORTED,
                       "AIS is implemented for Bernoulli visible units only (this RBM's are %s)",
                       r->vis->name);
    if (o.runs == 0 || o.betas < 10)
        return bz_fail(c, BZ_E_INVALID_ARG, "AIS needs at least 1 run and 10 temperatures");
    if (base && base->dim != r->nv)
        return bz_fail(c, BZ_E_SHAPE, "base data has %zu values per row, the RBM %zu", base->dim,
                       r->nv);
    const size_t M = o.runs, nv = r->nv, nh = r->nh;

    /* Base-rate model: visible biases from the data's smoothed means. */
    float *ba = malloc(nv * sizeof *ba);
    double *logw = malloc(M * sizeof *logw);
    float *lw = malloc(M * sizeof *lw);
    if (!ba || !logw || !lw) {
        free(ba);
        free(logw);
        free(lw);
        return bz_fail(c, BZ_E_NOMEM, "out of memory");
    }
    double log_za = (double)nh * log(2.0);
    for (size_t i = 0; i < nv; i++) {
        double p = 0.5;
        if (base && base->host) {
            double s = 0;
            for (size_t k = 0; k < base->n; k++)
                s += base->host[k * nv + i];
            p = (s + 0.05 * (double)base->n) / (1.1 * (double)base->n);
        }
        ba[i] = (float)log(p / (1 - p));
        log_za += bz_ref_softplus(ba[i]);
    }

    bz_buf v = {0}, hp = {0}, h = {0}, vp = {0}, bw = {0}, bA = {0}, zh = {0};
    bz_status st;
    if ((st = bz_buf_alloc(c, &v, M * nv)) || (st = bz_buf_alloc(c, &hp, M * nh)) ||
        (st = bz_buf_alloc(c, &h, M * nh)) || (st = bz_buf_alloc(c, &vp, M * nv)) ||
        (st = bz_buf_alloc(c, &bw, M)) || (st = bz_buf_alloc(c, &bA, nv)) ||
        (st = bz_buf_alloc(c, &zh, nh)))
        goto done;
    if ((st = bz_buf_write(c, &bA, 0, ba, nv)) || (st = bz_buf_fill(c, &zh, 0.0f, 0, nh)) ||
        (st = bz_buf_fill(c, &bw, 0.0f, 0, M)) || (st = bz_buf_fill(c, &vp, 0.0f, 0, M * nv)))
        goto done;
    /* v ~ p_A: sigmoid(0 * (vp + b) + 1 * a) = sigmoid(a). */
    if ((st = bz_op_bias_sigmoid_tempered(c, &v, &vp, &r->vb, &bA, M, nv, 0.0f)) ||
        (st = bz_op_bernoulli(c, &v, &v, M * nv, (bz_rng_pos){o.seed, BZ_STREAM_AIS, 0})))
        goto done;
    const unsigned K = o.betas;
    for (unsigned k = 1; k <= K; k++) {
        float bprev = (float)beta_at(k - 1, K), b = (float)beta_at(k, K);
        if ((st = bz_rbm_up(r, &v, M, &hp)) ||
            (st = bz_op_ais_logw(c, &bw, &v, &bA, &r->vb, &hp, &r->hb, M, nv, nh, bprev, b)))
            goto done;
        if (k == K)
            break;
        /* Drain the queue now and then: CLBlast frees its temporary buffers
         * only as products complete, so thousands of queued temperatures
         * would hold gigabytes (and a deep queue slows POCL down). */
        if (k % 16 == 0 && (st = bz_finish(c)))
            goto done;
        /* Transition that leaves p_k invariant: h | v, then v | h, at beta_k. */
        uint64_t s1 = bz_rbm_stream(k, 0, 0), s2 = bz_rbm_stream(k, 0, 1);
        if ((st = bz_op_bias_sigmoid_tempered(c, &h, &hp, &r->hb, &zh, M, nh, b)) ||
            (st = bz_op_bernoulli(c, &h, &h, M * nh, (bz_rng_pos){o.seed, BZ_STREAM_AIS ^ s1, 0})) ||
            (st = bz_rbm_down(r, &h, M, &vp)) ||
            (st = bz_op_bias_sigmoid_tempered(c, &v, &vp, &r->vb, &bA, M, nv, b)) ||
            (st = bz_op_bernoulli(c, &v, &v, M * nv, (bz_rng_pos){o.seed, BZ_STREAM_AIS ^ s2, 0})))
            goto done;
    }
    if ((st = bz_buf_read(c, &bw, 0, lw, M)))
        goto done;
    {
        double mx = -INFINITY;
        for (size_t i = 0; i < M; i++) {
            logw[i] = lw[i];
            if (logw[i] > mx)
                mx = logw[i];
        }
        if (!isfinite(mx)) {
            st = bz_fail(c, BZ_E_DIVERGED, "AIS weights are not finite: the model's parameters "
                                           "are probably not finite either");
            goto done;
        }
        double m = 0, m2 = 0;
        for (size_t i = 0; i < M; i++) {
            double w = exp(logw[i] - mx);
            m += w;
            m2 += w * w;
        }
        m /= (double)M;
        double var = M > 1 ? (m2 / (double)M - m * m) * (double)M / (double)(M - 1) : 0.0;
        double se = sqrt(var > 0 ? var : 0) / sqrt((double)M);
        out->log_z = log_za + mx + log(m);
        out->log_z_sd = se / m;
        out->log_z_lo = log_za + mx + log(m - 3 * se > 1e-300 ? m - 3 * se : 1e-300);
        out->log_z_hi = log_za + mx + log(m + 3 * se);
    }
done:;
    bz_buf *bufs[] = {&v, &hp, &h, &vp, &bw, &bA, &zh};
    for (size_t i = 0; i < sizeof bufs / sizeof *bufs; i++)
        bz_buf_release(bufs[i]);
    free(ba);
    free(logw);
    free(lw);
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
