/* RBM life cycle, parameters and the deterministic up/down passes. */
#include "models/rbm.h"
#include "engine/check.h"
#include "blas/gemm.h"
#include "ops/ops.h"
#include "ref/reference.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static void release_work(bz_rbm *r)
{
    bz_buf *bufs[] = {&r->V0, &r->V1, &r->Vs, &r->H0, &r->H1, &r->Hs, &r->tmp_h, &r->err_acc,
                      &r->err_col};
    for (size_t i = 0; i < sizeof bufs / sizeof *bufs; i++)
        bz_buf_release(bufs[i]);
    r->cap = 0;
}

/* Device bytes of what bz_rbm_create allocates: weights, biases, their
 * velocities and the sparsity estimates. */
static size_t param_bytes(size_t nv, size_t nh)
{
    return (2 * nv * nh + 2 * nv + 3 * nh) * sizeof(float);
}

/* Device bytes of bz_rbm_reserve's work space for `rows` rows. */
static size_t work_bytes(size_t nv, size_t nh, size_t rows)
{
    return (3 * rows * (nv + nh) + nh + rows) * sizeof(float);
}

size_t bz_rbm_device_bytes(size_t nv, size_t nh, size_t rows)
{
    return param_bytes(nv, nh) + work_bytes(nv, nh, rows);
}

void bz_rbm_free(bz_rbm *r)
{
    if (!r)
        return;
    release_work(r);
    bz_rbm_free(r->padded);
    bz_buf *bufs[] = {&r->W, &r->vb, &r->hb, &r->vW, &r->vvb, &r->vhb, &r->q, &r->chain};
    for (size_t i = 0; i < sizeof bufs / sizeof *bufs; i++)
        bz_buf_release(bufs[i]);
    free(r->data_mean);
    free(r->data_std);
    bz_meta_free(&r->meta);
    free(r);
}

bz_status bz_rbm_create(bz_context *ctx, size_t nv, size_t nh, bz_unit_type visible,
                        uint64_t seed, bz_rbm **out)
{
    if (!ctx || !out)
        return BZ_E_INVALID_ARG;
    *out = NULL;
    if (!ctx->ready)
        return bz_fail(ctx, BZ_E_INVALID_ARG, "bz_rbm_create: the context has no device");
    const bz_units *vis = bz_units_get(visible);
    if (!vis)
        return bz_fail(ctx, BZ_E_INVALID_ARG, "unknown visible unit type %d", (int)visible);
    if (nv == 0 || nh == 0 || nv > (1u << 24) || nh > (1u << 24) || nv * nh > ((size_t)1 << 31))
        return bz_fail(ctx, BZ_E_SHAPE, "an RBM of %zu visible and %zu hidden units is not "
                       "supported (each between 1 and 2^24, at most 2^31 weights)", nv, nh);
    size_t need = param_bytes(nv, nh);
    if (need > bz_device_budget(ctx))
        return bz_fail(ctx, BZ_E_DEVICE_MEM,
                       "an RBM of %zu visible and %zu hidden units needs %zu MiB of device "
                       "memory for its weights, biases and their velocities; %s can give %llu MiB",
                       nv, nh, need >> 20, ctx->dev.name,
                       (unsigned long long)(bz_device_budget(ctx) >> 20));
    bz_rbm *r = calloc(1, sizeof *r);
    if (!r)
        return bz_fail(ctx, BZ_E_NOMEM, "out of memory");
    r->ctx = ctx;
    r->nv = nv;
    r->nh = nh;
    r->vis = vis;
    r->hid = bz_units_get(BZ_UNIT_BERNOULLI);
    bz_status st;
    if ((st = bz_buf_alloc(ctx, &r->W, nv * nh)) || (st = bz_buf_alloc(ctx, &r->vb, nv)) ||
        (st = bz_buf_alloc(ctx, &r->hb, nh)) || (st = bz_buf_alloc(ctx, &r->vW, nv * nh)) ||
        (st = bz_buf_alloc(ctx, &r->vvb, nv)) || (st = bz_buf_alloc(ctx, &r->vhb, nh)) ||
        (st = bz_buf_alloc(ctx, &r->q, nh)))
        goto fail;
    /* W ~ N(0, 0.01^2) from the counter-based generator: the same model for
     * the same seed on any device. */
    float *w = malloc(nv * nh * sizeof *w);
    if (!w) {
        st = bz_fail(ctx, BZ_E_NOMEM, "out of memory");
        goto fail;
    }
    float zero = 0.0f;
    for (size_t i = 0; i < nv * nh; i++) {
        bz_ref_gaussian(&w[i], &zero, 1, seed, BZ_STREAM_INIT, i);
        w[i] *= 0.01f;
    }
    st = bz_buf_write(ctx, &r->W, 0, w, nv * nh);
    free(w);
    if (st || (st = bz_buf_fill(ctx, &r->vb, 0.0f, 0, nv)) ||
        (st = bz_buf_fill(ctx, &r->hb, 0.0f, 0, nh)) ||
        (st = bz_buf_fill(ctx, &r->vW, 0.0f, 0, nv * nh)) ||
        (st = bz_buf_fill(ctx, &r->vvb, 0.0f, 0, nv)) ||
        (st = bz_buf_fill(ctx, &r->vhb, 0.0f, 0, nh)) ||
        (st = bz_buf_fill(ctx, &r->q, 0.0f, 0, nh)))
        goto fail;
    *out = r;
    return BZ_OK;
fail:
    bz_rbm_free(r);
    return st;
}

size_t bz_rbm_n_visible(const bz_rbm *r)
{
    return r ? r->nv : 0;
}

size_t bz_rbm_n_hidden(const bz_rbm *r)
{
    return r ? r->nh : 0;
}

bz_unit_type bz_rbm_visible_type(const bz_rbm *r)
{
    return r ? r->vis->type : BZ_UNIT_BERNOULLI;
}

bz_status bz_rbm_get_params(bz_rbm *r, float *w, float *vb, float *hb)
{
    if (!r)
        return BZ_E_INVALID_ARG;
    if (w)
        CHECK(bz_buf_read(r->ctx, &r->W, 0, w, r->nv * r->nh));
    if (vb)
        CHECK(bz_buf_read(r->ctx, &r->vb, 0, vb, r->nv));
    if (hb)
        CHECK(bz_buf_read(r->ctx, &r->hb, 0, hb, r->nh));
    return BZ_OK;
}

bz_status bz_rbm_set_params(bz_rbm *r, const float *w, const float *vb, const float *hb)
{
    if (!r)
        return BZ_E_INVALID_ARG;
    if (w)
        CHECK(bz_buf_write(r->ctx, &r->W, 0, w, r->nv * r->nh));
    if (vb)
        CHECK(bz_buf_write(r->ctx, &r->vb, 0, vb, r->nv));
    if (hb)
        CHECK(bz_buf_write(r->ctx, &r->hb, 0, hb, r->nh));
    r->chain_valid = false;
    return BZ_OK;
}

bz_status bz_rbm_init_visible_bias(bz_rbm *r, const float *x, size_t n)
{
    if (!r || !x || n == 0)
        return BZ_E_INVALID_ARG;
    float *b = malloc(r->nv * sizeof *b);
    if (!b)
        return bz_fail(r->ctx, BZ_E_NOMEM, "out of memory");
    for (size_t i = 0; i < r->nv; i++) {
        double s = 0;
        for (size_t k = 0; k < n; k++)
            s += x[k * r->nv + i];
        double p = s / (double)n;
        if (r->vis->binary) {
            /* Clamp so that always-off pixels get a large negative bias, not -inf. */
            p = p < 0.001 ? 0.001 : p > 0.999 ? 0.999 : p;
            b[i] = (float)log(p / (1 - p));
        } else {
            b[i] = (float)p;
        }
    }
    bz_status st = bz_buf_write(r->ctx, &r->vb, 0, b, r->nv);
    free(b);
    return st;
}

bz_status bz_rbm_reserve(bz_rbm *r, size_t rows)
{
    if (rows <= r->cap)
        return BZ_OK;
    /* Each buffer may be below the device's largest allocation and all of
     * them together still more than it has: say so with the sizes rather
     * than fail later in a kernel launch. */
    size_t work = work_bytes(r->nv, r->nh, rows);
    size_t model = param_bytes(r->nv, r->nh) + r->chain.count * sizeof(float);
    if (work + model > bz_device_budget(r->ctx))
        return bz_fail(r->ctx, BZ_E_DEVICE_MEM,
                       "a batch of %zu rows needs %zu MiB of device work space besides the "
                       "model's %zu MiB; %s can give %llu MiB: use a smaller batch",
                       rows, work >> 20, model >> 20, r->ctx->dev.name,
                       (unsigned long long)(bz_device_budget(r->ctx) >> 20));
    release_work(r);
    bz_context *c = r->ctx;
    bz_status st;
    if ((st = bz_buf_alloc(c, &r->V0, rows * r->nv)) ||
        (st = bz_buf_alloc(c, &r->V1, rows * r->nv)) ||
        (st = bz_buf_alloc(c, &r->Vs, rows * r->nv)) ||
        (st = bz_buf_alloc(c, &r->H0, rows * r->nh)) ||
        (st = bz_buf_alloc(c, &r->H1, rows * r->nh)) ||
        (st = bz_buf_alloc(c, &r->Hs, rows * r->nh)) ||
        (st = bz_buf_alloc(c, &r->tmp_h, r->nh)) ||
        (st = bz_buf_alloc(c, &r->err_acc, rows)) ||
        (st = bz_buf_alloc(c, &r->err_col, r->nv))) {
        release_work(r);
        return st;
    }
    r->cap = rows;
    return BZ_OK;
}

bz_status bz_rbm_reserve_chains(bz_rbm *r, size_t rows)
{
    if (r->chain.mem && r->chain.count >= rows * r->nh)
        return BZ_OK;
    bz_buf_release(&r->chain);
    r->chain_valid = false;
    return bz_buf_alloc(r->ctx, &r->chain, rows * r->nh);
}

bz_status bz_rbm_up(bz_rbm *r, const bz_buf *v, size_t rows, bz_buf *h)
{
    return bz_sgemm(r->ctx, false, false, rows, r->nh, r->nv, 1.0f, v, 0, r->nv, &r->W, 0, r->nh,
                    0.0f, h, 0, r->nh);
}

bz_status bz_rbm_down(bz_rbm *r, const bz_buf *h, size_t rows, bz_buf *v)
{
    return bz_sgemm(r->ctx, false, true, rows, r->nv, r->nh, 1.0f, h, 0, r->nh, &r->W, 0, r->nh,
                    0.0f, v, 0, r->nv);
}

/* Runs fn over the host rows in device-sized chunks. */
typedef bz_status (*chunk_fn)(bz_rbm *r, size_t rows, const float *in, float *out, void *arg);

static bz_status for_chunks(bz_rbm *r, const float *in, size_t n, size_t in_dim, float *out,
                            size_t out_dim, chunk_fn fn, void *arg)
{
    if (!r || !in || !out)
        return BZ_E_INVALID_ARG;
    const size_t chunk = 1000;
    CHECK(bz_rbm_reserve(r, n < chunk ? n : chunk));
    for (size_t first = 0; first < n; first += r->cap) {
        size_t rows = n - first < r->cap ? n - first : r->cap;
        CHECK(bz_buf_write(r->ctx, &r->V0, 0, in + first * in_dim, rows * in_dim));
        CHECK(fn(r, rows, in + first * in_dim, out + first * out_dim, arg));
    }
    return BZ_OK;
}

static bz_status transform_chunk(bz_rbm *r, size_t rows, const float *in, float *out, void *arg)
{
    (void)in;
    (void)arg;
    CHECK(bz_rbm_up(r, &r->V0, rows, &r->H0));
    CHECK(r->hid->mean(r->hid, r->ctx, &r->H0, &r->H0, &r->hb, rows, r->nh));
    return bz_buf_read(r->ctx, &r->H0, 0, out, rows * r->nh);
}

bz_status bz_rbm_transform(bz_rbm *r, const float *v, size_t n, float *h)
{
    return for_chunks(r, v, n, r ? r->nv : 0, h, r ? r->nh : 0, transform_chunk, NULL);
}

static bz_status recon_chunk(bz_rbm *r, size_t rows, const float *in, float *out, void *arg)
{
    (void)in;
    (void)arg;
    CHECK(bz_rbm_up(r, &r->V0, rows, &r->H0));
    CHECK(r->hid->mean(r->hid, r->ctx, &r->H0, &r->H0, &r->hb, rows, r->nh));
    CHECK(bz_rbm_down(r, &r->H0, rows, &r->V1));
    CHECK(r->vis->mean(r->vis, r->ctx, &r->V1, &r->V1, &r->vb, rows, r->nv));
    return bz_buf_read(r->ctx, &r->V1, 0, out, rows * r->nv);
}

bz_status bz_rbm_reconstruct(bz_rbm *r, const float *v, size_t n, float *out)
{
    return for_chunks(r, v, n, r ? r->nv : 0, out, r ? r->nv : 0, recon_chunk, NULL);
}

static bz_status fe_chunk(bz_rbm *r, size_t rows, const float *in, float *out, void *arg)
{
    (void)in;
    (void)arg;
    CHECK(bz_rbm_up(r, &r->V0, rows, &r->H0));
    CHECK(bz_op_free_energy_rows(r->ctx, &r->err_acc, &r->V0, &r->vb, &r->H0, &r->hb, rows, r->nv,
                                 r->nh, r->vis->quadratic_energy, 1.0f));
    return bz_buf_read(r->ctx, &r->err_acc, 0, out, rows);
}

bz_status bz_rbm_free_energy(bz_rbm *r, const float *v, size_t n, float *f)
{
    return for_chunks(r, v, n, r ? r->nv : 0, f, 1, fe_chunk, NULL);
}

typedef struct sample_arg {
    unsigned steps;
    uint64_t seed;
    size_t first;
    bool from_noise;
} sample_arg;

static bz_status sample_chunk(bz_rbm *r, size_t rows, const float *in, float *out, void *argp)
{
    (void)in;
    sample_arg *a = argp;
    bz_context *c = r->ctx;
    size_t nv = r->nv, nh = r->nh;
    /* Stream positions are keyed by the absolute row, so the result does not
     * depend on how rows are chunked. */
    uint64_t vpos = (uint64_t)a->first * nv, hpos = (uint64_t)a->first * nh;
    if (a->from_noise) {
        /* Uniform noise in [0,1) for Bernoulli units; standard normal noise
         * around the visible biases would be the Gaussian analogue. */
        CHECK(bz_buf_fill(c, &r->V1, 0.5f, 0, rows * nv));
        CHECK(r->vis->sample(r->vis, c, &r->V0, &r->V1, rows, nv,
                             (bz_rng_pos){a->seed, bz_rbm_stream(0, 0, 255), vpos}));
    }
    for (unsigned s = 0; s < a->steps; s++) {
        CHECK(bz_rbm_up(r, &r->V0, rows, &r->H0));
        CHECK(r->hid->mean_sample(r->hid, c, &r->H0, &r->Hs, &r->H0, &r->hb, rows, nh,
                                  (bz_rng_pos){a->seed, bz_rbm_stream(s + 1, 0, 0), hpos}));
        CHECK(bz_rbm_down(r, &r->Hs, rows, &r->V1));
        CHECK(r->vis->mean_sample(r->vis, c, &r->V1, &r->V0, &r->V1, &r->vb, rows, nv,
                                  (bz_rng_pos){a->seed, bz_rbm_stream(s + 1, 0, 1), vpos}));
        /* Bounded queue: see the AIS loop in rbm_eval.c. */
        if (s % 16 == 15)
            CHECK(bz_finish(c));
    }
    a->first += rows;
    return bz_buf_read(c, &r->V1, 0, out, rows * nv);
}

bz_status bz_rbm_sample(bz_rbm *r, const float *v_init, size_t n, unsigned steps, uint64_t seed,
                        float *out)
{
    if (!r || !out || n == 0 || steps == 0)
        return BZ_E_INVALID_ARG;
    sample_arg a = {steps, seed, 0, v_init == NULL};
    if (v_init)
        return for_chunks(r, v_init, n, r->nv, out, r->nv, sample_chunk, &a);
    /* From noise: the chunk input is unused; pass out as a dummy source of
     * the right size after zeroing it. */
    memset(out, 0, n * r->nv * sizeof *out);
    return for_chunks(r, out, n, r->nv, out, r->nv, sample_chunk, &a);
}

bz_status bz_rbm_set_meta(bz_rbm *r, const char *key, const char *value)
{
    return bz_meta_set(&r->meta, r->ctx, key, value);
}

const char *bz_rbm_get_meta(const bz_rbm *r, const char *key)
{
    return bz_meta_get(&r->meta, key);
}

bz_status bz_rbm_set_standardization(bz_rbm *r, const float *mean, const float *std)
{
    if (!r || !mean || !std)
        return BZ_E_INVALID_ARG;
    for (size_t i = 0; i < r->nv; i++)
        if (!isfinite(mean[i]) || !isfinite(std[i]) || !(std[i] > 0))
            return bz_fail(r->ctx, BZ_E_INVALID_ARG, "standardisation of feature %zu: mean %g, "
                                                     "std %g (a std must be positive and both "
                                                     "finite)", i, (double)mean[i],
                           (double)std[i]);
    float *m = malloc(r->nv * sizeof *m), *s = malloc(r->nv * sizeof *s);
    if (!m || !s) {
        free(m);
        free(s);
        return bz_fail(r->ctx, BZ_E_NOMEM, "out of memory");
    }
    memcpy(m, mean, r->nv * sizeof *m);
    memcpy(s, std, r->nv * sizeof *s);
    free(r->data_mean);
    free(r->data_std);
    r->data_mean = m;
    r->data_std = s;
    return BZ_OK;
}

int bz_rbm_get_standardization(const bz_rbm *r, float *mean, float *std)
{
    if (!r || !r->data_mean)
        return 0;
    if (mean)
        memcpy(mean, r->data_mean, r->nv * sizeof *mean);
    if (std)
        memcpy(std, r->data_std, r->nv * sizeof *std);
    return 1;
}
