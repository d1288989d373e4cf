/*
 * The device samplers of Ising problems (kernels/anneal.cl): simulated
 * annealing of many replicas with restarts, parallel tempering with replica
 * exchange on the host between launches, and fixed-temperature sampling.
 * A launch runs many sweeps of every replica; the host reads back one energy
 * per replica after each launch to keep the best state, watch the clock and
 * exchange temperatures.
 */
#include "models/anneal.h"
#include "engine/check.h"
#include "engine/engine.h"
#include "ref/anneal_ref.h"
#include "ref/reference.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Spin updates per launch: long enough that the host's read-back and the
 * launch cost vanish, short enough to watch a time limit (about 50 ms on two
 * CPU cores). A function of the sizes only, so that the states observed, and
 * so the best one, are the same on every device. */
#define UPDATES_PER_LAUNCH ((uint64_t)1 << 23)

/* Stream of parallel tempering's exchange decisions (host side). */
#define PT_SWAP_STREAM UINT64_C(0x2000000000000000)

struct bz_ising_dev {
    cl_program prog;
    cl_kernel k_init, k_sweeps, k_colour;
    bz_buf rowp, col, val, h;
    bool coloured; /* order, start and n_colours set */
    bz_buf order, start;
    uint32_t n_colours;
};

void bz_ising_release_device(bz_ising *p)
{
    struct bz_ising_dev *d = p->dev;
    if (!d)
        return;
    if (d->k_init)
        clReleaseKernel(d->k_init);
    if (d->k_sweeps)
        clReleaseKernel(d->k_sweeps);
    if (d->k_colour)
        clReleaseKernel(d->k_colour);
    bz_buf_release(&d->order);
    bz_buf_release(&d->start);
    if (d->prog)
        clReleaseProgram(d->prog);
    bz_buf_release(&d->rowp);
    bz_buf_release(&d->col);
    bz_buf_release(&d->val);
    bz_buf_release(&d->h);
    free(d);
    p->dev = NULL;
}

static bz_status dev_build(bz_ising *p);

/* The program and the problem on the device, once per problem; a failure
 * leaves nothing half made behind. */
static bz_status dev_open(bz_ising *p)
{
    if (p->dev)
        return BZ_OK;
    bz_status st = dev_build(p);
    if (st)
        bz_ising_release_device(p);
    return st;
}

static bz_status dev_build(bz_ising *p)
{
    bz_context *ctx = p->ctx;
    if (!ctx || !ctx->ready)
        return ctx ? bz_fail(ctx, BZ_E_INVALID_ARG, "the context has no device")
                   : BZ_E_INVALID_ARG;
    struct bz_ising_dev *d = calloc(1, sizeof *d);
    if (!d)
        return bz_fail(ctx, BZ_E_NOMEM, "out of memory");
    p->dev = d;
    static const char *const files[] = {"philox.cl", "anneal.cl"};
    CHECK(bz_program_build(ctx, files, 2, "", &d->prog));
    cl_int rc;
    d->k_init = clCreateKernel(d->prog, "anneal_init", &rc);
    if (rc != CL_SUCCESS)
        return bz_cl_fail(ctx, rc, "clCreateKernel", "anneal_init");
    d->k_sweeps = clCreateKernel(d->prog, "anneal_sweeps", &rc);
    if (rc != CL_SUCCESS)
        return bz_cl_fail(ctx, rc, "clCreateKernel", "anneal_sweeps");
    d->k_colour = clCreateKernel(d->prog, "anneal_colour_sweeps", &rc);
    if (rc != CL_SUCCESS)
        return bz_cl_fail(ctx, rc, "clCreateKernel", "anneal_colour_sweeps");
    size_t n = p->n;
    if (p->dense) {
        CHECK(bz_buf_alloc(ctx, &d->val, n * n));
        CHECK(bz_buf_write(ctx, &d->val, 0, p->J, n * n));
        CHECK(bz_buf_alloc(ctx, &d->rowp, 1));
        CHECK(bz_buf_alloc(ctx, &d->col, 1));
    } else {
        CHECK(bz_buf_alloc(ctx, &d->rowp, n + 1));
        CHECK(bz_buf_write(ctx, &d->rowp, 0, p->rowp, n + 1));
        CHECK(bz_buf_alloc(ctx, &d->col, p->nnz));
        CHECK(bz_buf_alloc(ctx, &d->val, p->nnz));
        if (p->nnz) {
            CHECK(bz_buf_write(ctx, &d->col, 0, p->col, p->nnz));
            CHECK(bz_buf_write(ctx, &d->val, 0, p->val, p->nnz));
        }
    }
    CHECK(bz_buf_alloc(ctx, &d->h, n));
    CHECK(bz_buf_write(ctx, &d->h, 0, p->h, n));
    return BZ_OK;
}

bool bz_anneal_replica_major(const bz_context *ctx)
{
    return (ctx->dev.type & CL_DEVICE_TYPE_CPU) != 0;
}

size_t bz_anneal_default_replicas(const bz_context *ctx)
{
    size_t cu = ctx->dev.compute_units ? ctx->dev.compute_units : 1;
    return bz_anneal_replica_major(ctx) ? cu : 64 * cu;
}

/* The colour classes on the device, made on first use. */
static bz_status dev_colour(bz_ising *p)
{
    struct bz_ising_dev *d = p->dev;
    if (d->coloured)
        return BZ_OK;
    bz_error err = {0};
    bz_ising_colouring c;
    bz_status st = bz_ising_colour(p, &c, &err);
    if (st)
        return bz_fail(p->ctx, st, "%s", err.msg);
    st = bz_buf_alloc(p->ctx, &d->order, p->n);
    if (!st)
        st = bz_buf_write(p->ctx, &d->order, 0, c.order, p->n);
    if (!st)
        st = bz_buf_alloc(p->ctx, &d->start, (size_t)c.n_colours + 1);
    if (!st)
        st = bz_buf_write(p->ctx, &d->start, 0, c.start, (size_t)c.n_colours + 1);
    d->n_colours = c.n_colours;
    d->coloured = !st;
    bz_ising_colouring_free(&c);
    return st;
}

/* Local memory the colour-parallel sweep may take for one replica's spins. */
static bool fits_local(const bz_ising *p)
{
    return !p->dense && p->ctx && (cl_ulong)p->n + 1024 <= p->ctx->dev.local_mem;
}

bz_update_scheme bz_anneal_scheme(const bz_ising *p, size_t R, bz_update_scheme want)
{
    if (want != BZ_UPDATE_AUTO)
        return want;
    const bz_context *ctx = p->ctx;
    size_t cu = ctx->dev.compute_units ? ctx->dev.compute_units : 1;
    /* A GPU needs some 16 work-items per compute unit at the least to hide
     * its latencies; with fewer replicas than that, the work-items of a
     * colour class fill it instead. */
    if (!bz_anneal_replica_major(ctx) && fits_local(p) && R < 16 * cu)
        return BZ_UPDATE_COLOUR;
    return BZ_UPDATE_REPLICA;
}

/* ---- a set of replicas on the device ---- */

bz_status bz_anneal_run_open(bz_ising *p, size_t R, size_t n_beta, bz_update_scheme scheme,
                             bz_anneal_run *run)
{
    memset(run, 0, sizeof *run);
    run->p = p;
    CHECK(dev_open(p));
    bz_context *ctx = p->ctx;
    if (scheme != BZ_UPDATE_AUTO && scheme != BZ_UPDATE_REPLICA && scheme != BZ_UPDATE_COLOUR)
        return bz_fail(ctx, BZ_E_INVALID_ARG, "unknown update scheme %d", (int)scheme);
    if (R == 0 || R > UINT32_MAX / 2)
        return bz_fail(ctx, BZ_E_INVALID_ARG, "replicas must be 1..%u", UINT32_MAX / 2);
    size_t n = p->n, cells = n * R;
    if (cells / R != n || cells * 5 > bz_device_budget(ctx))
        return bz_fail(ctx, BZ_E_DEVICE_MEM,
                       "%zu replicas of %zu spins need %zu MiB of device memory, more than the "
                       "%zu MiB boltzcl plans to use on %s",
                       R, n, (cells * 5) >> 20, bz_device_budget(ctx) >> 20, ctx->dev.name);
    run->R = R;
    bool rm = bz_anneal_replica_major(ctx);
    run->si = rm ? 1 : (uint32_t)R;
    run->sr = rm ? (uint32_t)n : 1;
    run->local = rm ? 1 : (ctx->dev.max_work_group >= 64 ? 64 : ctx->dev.max_work_group);
    if (bz_anneal_scheme(p, R, scheme) == BZ_UPDATE_COLOUR) {
        if (!fits_local(p))
            return bz_fail(ctx, BZ_E_UNSUPPORTED,
                           "the colour-parallel update needs sparse couplings and %u spins in "
                           "local memory (%llu bytes on %s)",
                           p->n, (unsigned long long)ctx->dev.local_mem, ctx->dev.name);
        CHECK(dev_colour(p));
        run->colour = true;
        run->si = 1;
        run->sr = (uint32_t)n;
        /* a work-item per variable of a class, up to what the device runs
         * in one group: 8 on a CPU, 64 on a GPU */
        size_t want = rm ? 8 : 64;
        run->local = want < ctx->dev.max_work_group ? want : ctx->dev.max_work_group;
    }
    CHECK(bz_buf_alloc(ctx, &run->spin, (cells + 3) / 4));
    CHECK(bz_buf_alloc(ctx, &run->field, cells));
    CHECK(bz_buf_alloc(ctx, &run->energy, R));
    CHECK(bz_buf_alloc(ctx, &run->beta, n_beta ? n_beta : 1));
    run->e = malloc(R * sizeof *run->e);
    if (!run->e)
        return bz_fail(ctx, BZ_E_NOMEM, "out of memory");
    return BZ_OK;
}

void bz_anneal_run_close(bz_anneal_run *run)
{
    bz_buf_release(&run->spin);
    bz_buf_release(&run->field);
    bz_buf_release(&run->energy);
    bz_buf_release(&run->beta);
    free(run->e);
    free(run->all);
    memset(run, 0, sizeof *run);
}

#define SET_ARGS(k, name, ...)                                                                \
    do {                                                                                      \
        const bz_kernel_arg a_[] = {__VA_ARGS__};                                             \
        CHECK(bz_kernel_set_args(p->ctx, k, name, a_, sizeof a_ / sizeof *a_));               \
    } while (0)
#define KB BZ_KARG_BUF
#define KU BZ_KARG_U32
#define KL BZ_KARG_U64

static bz_status launch(bz_anneal_run *run, cl_kernel k, const char *name, bool groups)
{
    bz_context *ctx = run->p->ctx;
    /* groups: one work-group of `local` items per replica, else one item */
    size_t local = groups ? run->local : run->colour ? 1 : run->local;
    size_t global = groups ? run->R * local : (run->R + local - 1) / local * local;
    if (bz_fault_hit(ctx))
        return bz_fail(ctx, BZ_E_OPENCL, "clEnqueueNDRangeKernel(%s): injected fault", name);
    double t0 = bz_prof_begin(ctx);
    cl_int rc = clEnqueueNDRangeKernel(ctx->queue, k, 1, NULL, &global, &local, 0, NULL, NULL);
    if (rc != CL_SUCCESS)
        return bz_cl_fail(ctx, rc, "clEnqueueNDRangeKernel", name);
    bz_prof_end(ctx, name, t0);
    return BZ_OK;
}

bz_status bz_anneal_run_init(bz_anneal_run *run, bool randomize, uint64_t seed,
                             uint64_t stream_base)
{
    bz_ising *p = run->p;
    struct bz_ising_dev *d = p->dev;
    SET_ARGS(d->k_init, "anneal_init", KB(&d->rowp), KB(&d->col), KB(&d->val), KB(&d->h),
             KB(&run->spin), KB(&run->field), KB(&run->energy), KU(p->n), KU(run->R),
             KU(p->dense), KU(run->si), KU(run->sr), KU(randomize), KL(seed), KL(stream_base));
    return launch(run, d->k_init, "anneal_init", false);
}

bz_status bz_anneal_run_sweeps(bz_anneal_run *run, uint32_t beta_base, uint32_t bs, uint32_t br,
                               uint32_t sweeps, uint64_t seed, uint64_t stream_base,
                               uint64_t sweep_base)
{
    bz_ising *p = run->p;
    struct bz_ising_dev *d = p->dev;
    if (run->colour) {
        /* the last argument: n bytes of local memory */
        SET_ARGS(d->k_colour, "anneal_colour_sweeps", KB(&d->rowp), KB(&d->col), KB(&d->val),
                 KB(&d->h), KB(&run->spin), KB(&run->energy), KB(&run->beta), KU(beta_base),
                 KU(bs), KU(br), KB(&d->order), KB(&d->start), KU(d->n_colours), KU(p->n),
                 KU(sweeps), KL(seed), KL(stream_base), KL(sweep_base),
                 ((bz_kernel_arg){p->n, NULL}));
        return launch(run, d->k_colour, "anneal_colour_sweeps", true);
    }
    SET_ARGS(d->k_sweeps, "anneal_sweeps", KB(&d->rowp), KB(&d->col), KB(&d->val), KB(&d->h),
             KB(&run->spin), KB(&run->field), KB(&run->energy), KB(&run->beta), KU(beta_base),
             KU(bs), KU(br), KU(p->n), KU(run->R), KU(p->dense), KU(run->si), KU(run->sr),
             KU(sweeps), KL(seed), KL(stream_base), KL(sweep_base));
    return launch(run, d->k_sweeps, "anneal_sweeps", false);
}

bz_status bz_anneal_run_energies(bz_anneal_run *run)
{
    return bz_buf_read(run->p->ctx, &run->energy, 0, run->e, run->R);
}

static bz_status read_bytes(bz_context *ctx, const bz_buf *b, size_t off, void *dst, size_t n)
{
    if (bz_fault_hit(ctx))
        return bz_fail(ctx, BZ_E_OPENCL, "clEnqueueReadBuffer: injected fault");
    cl_int rc = clEnqueueReadBuffer(ctx->queue, b->mem, CL_TRUE, off, n, dst, 0, NULL, NULL);
    if (rc != CL_SUCCESS)
        return bz_cl_fail(ctx, rc, "clEnqueueReadBuffer", "replica spins");
    return BZ_OK;
}

bz_status bz_anneal_run_spins(bz_anneal_run *run, size_t r, int8_t *dst)
{
    bz_context *ctx = run->p->ctx;
    size_t n = run->p->n;
    if (run->si == 1)
        return read_bytes(ctx, &run->spin, r * n, dst, n);
    if (!run->all && !(run->all = malloc(n * run->R)))
        return bz_fail(ctx, BZ_E_NOMEM, "out of memory");
    CHECK(read_bytes(ctx, &run->spin, 0, run->all, n * run->R));
    for (size_t i = 0; i < n; i++)
        dst[i] = run->all[i * run->R + r];
    return BZ_OK;
}

bz_status bz_anneal_run_all_spins(bz_anneal_run *run, int8_t *dst)
{
    bz_context *ctx = run->p->ctx;
    size_t n = run->p->n, R = run->R;
    if (run->si == 1)
        return read_bytes(ctx, &run->spin, 0, dst, n * R);
    if (!run->all && !(run->all = malloc(n * R)))
        return bz_fail(ctx, BZ_E_NOMEM, "out of memory");
    CHECK(read_bytes(ctx, &run->spin, 0, run->all, n * R));
    for (size_t r = 0; r < R; r++)
        for (size_t i = 0; i < n; i++)
            dst[r * n + i] = run->all[i * R + r];
    return BZ_OK;
}

bz_status bz_anneal_run_fields(bz_anneal_run *run, float *dst)
{
    bz_context *ctx = run->p->ctx;
    size_t n = run->p->n, R = run->R;
    float *tmp = malloc(n * R * sizeof *tmp);
    if (!tmp)
        return bz_fail(ctx, BZ_E_NOMEM, "out of memory");
    bz_status st = bz_buf_read(ctx, &run->field, 0, tmp, n * R);
    if (!st)
        for (size_t r = 0; r < R; r++)
            for (size_t i = 0; i < n; i++)
                dst[r * n + i] = tmp[(size_t)i * run->si + r * run->sr];
    free(tmp);
    return st;
}

uint32_t bz_anneal_chunk(size_t n, size_t R, uint32_t remaining)
{
    uint64_t per = (uint64_t)n * R;
    uint64_t c = per ? UPDATES_PER_LAUNCH / per : remaining;
    if (c < 1)
        c = 1;
    return c < remaining ? (uint32_t)c : remaining;
}

/* ---- best-state tracking shared by the samplers ---- */

typedef struct tracker {
    bz_ising *p;
    const bz_anneal_limits *lim;
    double t0;
    double best;
    int8_t *best_s, *tmp;
    double ttt;
    uint64_t sweeps;
    bool done; /* a limit was reached */
    bool interrupted;
} tracker;

static bz_status tracker_open(tracker *tk, bz_ising *p, const bz_anneal_limits *lim)
{
    memset(tk, 0, sizeof *tk);
    tk->p = p;
    tk->lim = lim;
    tk->best = INFINITY;
    tk->ttt = -1;
    tk->best_s = malloc(p->n);
    tk->tmp = malloc(p->n);
    if (!tk->best_s || !tk->tmp)
        return bz_fail(p->ctx, BZ_E_NOMEM, "out of memory");
    tk->t0 = bz_mono_s();
    return BZ_OK;
}

static void tracker_close(tracker *tk)
{
    free(tk->best_s);
    free(tk->tmp);
}

/* Looks at the replicas' energies after a launch: the lowest one, when it may
 * beat the best so far, is read back and its exact energy computed. Then the
 * limits. */
static bz_status observe(tracker *tk, bz_anneal_run *run)
{
    bz_ising *p = tk->p;
    CHECK(bz_anneal_run_energies(run));
    size_t rb = 0;
    for (size_t r = 1; r < run->R; r++)
        if (run->e[r] < run->e[rb])
            rb = r;
    double cand = (double)run->e[rb] + p->offset;
    double slack = 1e-5 * (fabs(tk->best) + fabs(cand) + 1);
    if (!(cand < tk->best - slack) && isfinite(tk->best)) {
        /* nothing new */
    } else {
        CHECK(bz_anneal_run_spins(run, rb, tk->tmp));
        double e = bz_ising_energy(p, tk->tmp);
        if (e < tk->best) {
            tk->best = e;
            memcpy(tk->best_s, tk->tmp, p->n);
            double now = bz_mono_s() - tk->t0;
            if (tk->lim->use_target && tk->ttt < 0 && e <= tk->lim->target)
                tk->ttt = now;
            if (tk->lim->progress)
                tk->lim->progress(tk->lim->progress_user, now, e, tk->sweeps);
        }
    }
    double now = bz_mono_s() - tk->t0;
    if (tk->lim->seconds > 0 && now >= tk->lim->seconds)
        tk->done = true;
    if (tk->ttt >= 0)
        tk->done = true;
    if (tk->lim->stop && *tk->lim->stop) {
        tk->done = true;
        tk->interrupted = true;
    }
    return BZ_OK;
}

static void fill_result(const tracker *tk, const bz_anneal_run *run, bz_anneal_result *res,
                        int8_t *best)
{
    double sec = bz_mono_s() - tk->t0;
    res->best_energy = tk->best;
    res->seconds = sec;
    res->time_to_target = tk->ttt;
    res->sweeps = tk->sweeps;
    res->replicas = run->R;
    res->spin_updates = tk->sweeps * run->R * tk->p->n;
    res->spin_updates_per_s = sec > 0 ? (double)res->spin_updates / sec : 0;
    if (best)
        memcpy(best, tk->best_s, tk->p->n);
}

/* ---- simulated annealing ---- */

void bz_anneal_options_init(bz_anneal_options *o)
{
    memset(o, 0, sizeof *o);
    o->sweeps = 1000;
    o->sweeps_per_beta = 1;
    o->restarts = 1;
    o->schedule = BZ_SCHEDULE_GEOMETRIC;
    o->seed = 1;
}

static bz_status check_limits(bz_context *ctx, const bz_anneal_limits *l)
{
    if (!(l->seconds >= 0) || !isfinite(l->seconds) || (l->use_target && !isfinite(l->target)))
        return bz_fail(ctx, BZ_E_INVALID_ARG, "the time limit and target must be finite, "
                                              "seconds >= 0");
    return BZ_OK;
}

static bz_status check_range(bz_context *ctx, double lo, double hi)
{
    if (!(lo > 0) || !(hi >= lo) || !isfinite(hi))
        return bz_fail(ctx, BZ_E_INVALID_ARG,
                       "the inverse temperatures must satisfy 0 < beta_min <= beta_max (got %g, %g)",
                       lo, hi);
    return BZ_OK;
}

void bz_anneal_schedule(bz_schedule kind, double lo, double hi, uint32_t sweeps, uint32_t spb,
                        float *beta)
{
    uint32_t levels = (sweeps + spb - 1) / spb;
    for (uint32_t t = 0; t < sweeps; t++) {
        uint32_t k = t / spb;
        double f = levels > 1 ? (double)k / (levels - 1) : 1.0;
        beta[t] = (float)(kind == BZ_SCHEDULE_LINEAR ? lo + (hi - lo) * f : lo * pow(hi / lo, f));
    }
}

bz_status bz_anneal(bz_ising *p, const bz_anneal_options *o, int8_t *best, bz_anneal_result *res)
{
    if (!p || !o || !res || !p->ctx)
        return BZ_E_INVALID_ARG;
    bz_context *ctx = p->ctx;
    memset(res, 0, sizeof *res);
    CHECK(check_limits(ctx, &o->limits));
    if (o->sweeps == 0 || o->sweeps_per_beta == 0 ||
        (o->schedule != BZ_SCHEDULE_GEOMETRIC && o->schedule != BZ_SCHEDULE_LINEAR))
        return bz_fail(ctx, BZ_E_INVALID_ARG, "sweeps and sweeps per beta must be positive, the "
                                              "schedule geometric or linear");
    if (o->restarts == 0 && !(o->limits.seconds > 0))
        return bz_fail(ctx, BZ_E_INVALID_ARG, "unlimited restarts need a time limit");
    double lo = o->beta_min, hi = o->beta_max, alo, ahi;
    bz_ising_beta_range(p, &alo, &ahi);
    if (lo == 0)
        lo = alo;
    if (hi == 0)
        hi = ahi > lo ? ahi : lo;
    CHECK(check_range(ctx, lo, hi));
    CHECK(dev_open(p));
    size_t R = o->replicas ? o->replicas : bz_anneal_default_replicas(ctx);
    /* anneal a runs min(sweeps 2^a, sweeps_max) sweeps when sweeps_max is
     * larger: short anneals answer early, long ones improve later */
    uint32_t cap = o->sweeps_max > o->sweeps ? o->sweeps_max : o->sweeps;
    float *sched = malloc(cap * sizeof *sched);
    if (!sched)
        return bz_fail(ctx, BZ_E_NOMEM, "out of memory for the schedule");
    bz_anneal_run run;
    tracker tk;
    bz_status st = bz_anneal_run_open(p, R, cap, o->scheme, &run);
    if (!st)
        st = tracker_open(&tk, p, &o->limits);
    if (st) {
        free(sched);
        bz_anneal_run_close(&run);
        return st;
    }
    unsigned anneals = 0;
    uint32_t S = 0;
    for (uint64_t a = 0; !st && !tk.done && (o->restarts == 0 || a < o->restarts); a++) {
        uint64_t grow = a < 32 ? (uint64_t)o->sweeps << a : cap;
        uint32_t Sa = grow < cap ? (uint32_t)grow : cap;
        if (Sa != S) {
            S = Sa;
            bz_anneal_schedule(o->schedule, lo, hi, S, o->sweeps_per_beta, sched);
            st = bz_buf_write(ctx, &run.beta, 0, sched, S);
        }
        uint32_t chunk = bz_anneal_chunk(p->n, R, S);
        uint64_t sb = a * R;
        if (!st)
            st = bz_anneal_run_init(&run, true, o->seed, sb);
        for (uint32_t t = 0; !st && t < S && !tk.done;) {
            uint32_t c = S - t < chunk ? S - t : chunk;
            st = bz_anneal_run_sweeps(&run, t, 1, 0, c, o->seed, sb, t);
            t += c;
            tk.sweeps += c;
            if (!st)
                st = observe(&tk, &run);
            if (!st && t == S)
                anneals++;
        }
    }
    free(sched);
    if (!st) {
        fill_result(&tk, &run, res, best);
        res->anneals = anneals;
        res->beta_min = lo;
        res->beta_max = hi;
        if (tk.interrupted)
            st = BZ_E_INTERRUPTED;
    }
    tracker_close(&tk);
    bz_anneal_run_close(&run);
    return st;
}

/* ---- parallel tempering ---- */

void bz_pt_options_init(bz_pt_options *o)
{
    memset(o, 0, sizeof *o);
    o->temperatures = 0;
    o->sweeps = 10000;
    o->exchange_every = 10;
    o->burn_in = UINT32_MAX; /* sweeps / 4 */
    o->seed = 1;
}

static void pt_range(const bz_ising *p, const bz_pt_options *o, double *lo, double *hi)
{
    double alo, ahi;
    bz_ising_beta_range(p, &alo, &ahi);
    *lo = o->beta_min == 0 ? alo : o->beta_min;
    *hi = o->beta_max == 0 ? (ahi > *lo ? ahi : *lo) : o->beta_max;
}

size_t bz_pt_ladder_size(const bz_ising *p, const bz_pt_options *o)
{
    if (!p || !o)
        return 0;
    if (o->temperatures)
        return o->temperatures;
    double lo, hi;
    pt_range(p, o, &lo, &hi);
    double k = ceil(sqrt((double)p->n) * log(hi > lo && lo > 0 ? hi / lo : 1.0) / 2);
    return k < 4 ? 4 : k > 1024 ? 1024 : (size_t)k;
}

/* ln Z along the ladder by the trapezoid rule on d ln Z / d beta = -<E>,
 * from beta = 0 where ln Z = n ln 2 and <E> is the constant c. */
void bz_pt_log_z(const bz_ising *p, bz_pt_level *lv, size_t K)
{
    double lz = p->n * log(2.0), b0 = 0, m0 = p->offset;
    for (size_t k = 0; k < K; k++) {
        lz -= (lv[k].beta - b0) * (lv[k].mean_energy + m0) / 2;
        lv[k].log_z = lz;
        lv[k].free_energy = -lz / lv[k].beta;
        b0 = lv[k].beta;
        m0 = lv[k].mean_energy;
    }
}

bz_status bz_anneal_pt(bz_ising *p, const bz_pt_options *o, int8_t *best, bz_anneal_result *res,
                       bz_pt_level *levels)
{
    if (!p || !o || !res || !p->ctx)
        return BZ_E_INVALID_ARG;
    bz_context *ctx = p->ctx;
    memset(res, 0, sizeof *res);
    CHECK(check_limits(ctx, &o->limits));
    size_t K = bz_pt_ladder_size(p, o);
    if (K < 2 || K > 4096 || o->sweeps == 0 || o->exchange_every == 0)
        return bz_fail(ctx, BZ_E_INVALID_ARG, "parallel tempering needs 2..4096 temperatures and "
                                              "positive sweeps and exchange interval");
    double *ladder = malloc(K * sizeof *ladder);
    if (!ladder)
        return bz_fail(ctx, BZ_E_NOMEM, "out of memory");
    if (o->betas) {
        for (size_t k = 0; k < K; k++)
            ladder[k] = o->betas[k];
        for (size_t k = 0; k < K; k++)
            if (!(ladder[k] > 0) || !isfinite(ladder[k]) || (k && !(ladder[k] > ladder[k - 1]))) {
                free(ladder);
                return bz_fail(ctx, BZ_E_INVALID_ARG,
                               "the ladder must be finite, positive and increasing (beta %zu)", k);
            }
    } else {
        double lo, hi;
        pt_range(p, o, &lo, &hi);
        bz_status st = check_range(ctx, lo, hi);
        if (st) {
            free(ladder);
            return st;
        }
        for (size_t k = 0; k < K; k++)
            ladder[k] = lo * pow(hi / lo, (double)k / (K - 1));
    }
    bz_status st = dev_open(p);
    size_t M = o->ladders;
    if (!st && M == 0) {
        size_t want = bz_anneal_default_replicas(ctx);
        M = (want + K - 1) / K;
    }
    size_t R = K * M;
    uint32_t burn = o->burn_in == UINT32_MAX ? o->sweeps / 4 : o->burn_in;
    size_t *lev = malloc(R * sizeof *lev), *at = malloc(R * sizeof *at);
    float *cb = malloc(R * sizeof *cb);
    double *sum = calloc(K, sizeof *sum), *sq = calloc(K, sizeof *sq);
    uint64_t *cnt = calloc(K, sizeof *cnt), *tried = calloc(K, sizeof *tried),
             *took = calloc(K, sizeof *took);
    bz_anneal_run run = {0};
    tracker tk = {0};
    bool have_tk = false;
    if (!st && (!lev || !at || !cb || !sum || !sq || !cnt || !tried || !took))
        st = bz_fail(ctx, BZ_E_NOMEM, "out of memory");
    if (!st) {
        for (size_t c = 0; c < R; c++) {
            lev[c] = c % K;
            at[c] = c; /* at[m K + k]: the chain at level k of ladder m */
            cb[c] = (float)ladder[lev[c]];
        }
        st = bz_anneal_run_open(p, R, R, o->scheme, &run);
    }
    if (!st)
        st = bz_buf_write(ctx, &run.beta, 0, cb, R);
    if (!st && !(st = tracker_open(&tk, p, &o->limits)))
        have_tk = true;
    if (!st)
        st = bz_anneal_run_init(&run, true, o->seed, 0);
    uint64_t done = 0;
    for (uint64_t round = 0; !st && done < o->sweeps && !tk.done; round++) {
        uint32_t c = o->sweeps - done < o->exchange_every ? (uint32_t)(o->sweeps - done)
                                                          : o->exchange_every;
        st = bz_anneal_run_sweeps(&run, 0, 0, 1, c, o->seed, 0, done);
        done += c;
        tk.sweeps += c;
        if (!st)
            st = observe(&tk, &run);
        if (st)
            break;
        if (done > burn) {
            for (size_t ch = 0; ch < R; ch++) {
                double e = (double)run.e[ch] + p->offset;
                sum[lev[ch]] += e;
                sq[lev[ch]] += e * e;
                cnt[lev[ch]]++;
            }
        }
        /* Exchanges between levels (k, k+1), even k on even rounds and odd k
         * on odd ones, each ladder on its own stream. */
        bool moved = false;
        for (size_t m = 0; m < M; m++) {
            for (size_t k = round & 1; k + 1 < K; k += 2) {
                size_t a = at[m * K + k], b = at[m * K + k + 1];
                double delta = (ladder[k] - ladder[k + 1]) *
                               ((double)run.e[a] - (double)run.e[b]);
                uint32_t w = bz_ref_philox_u32(o->seed, PT_SWAP_STREAM + m, round * K + k);
                tried[k]++;
                if (delta >= 0 || bz_ref_u01_open0(w) < exp(delta)) {
                    took[k]++;
                    at[m * K + k] = b;
                    at[m * K + k + 1] = a;
                    lev[a] = k + 1;
                    lev[b] = k;
                    cb[a] = (float)ladder[k + 1];
                    cb[b] = (float)ladder[k];
                    moved = true;
                }
            }
        }
        if (moved)
            st = bz_buf_write(ctx, &run.beta, 0, cb, R);
    }
    if (!st) {
        fill_result(&tk, &run, res, best);
        res->beta_min = ladder[0];
        res->beta_max = ladder[K - 1];
        res->anneals = 1;
        res->temperatures = K;
        if (levels) {
            for (size_t k = 0; k < K; k++) {
                bz_pt_level *l = &levels[k];
                memset(l, 0, sizeof *l);
                l->beta = ladder[k];
                l->samples = cnt[k];
                if (cnt[k]) {
                    l->mean_energy = sum[k] / cnt[k];
                    double var = sq[k] / cnt[k] - l->mean_energy * l->mean_energy;
                    l->sd_energy = var > 0 ? sqrt(var) : 0;
                }
                l->swap_rate = tried[k] ? (double)took[k] / tried[k] : 0;
            }
            bz_pt_log_z(p, levels, K);
        }
        if (tk.interrupted)
            st = BZ_E_INTERRUPTED;
    }
    if (have_tk)
        tracker_close(&tk);
    bz_anneal_run_close(&run);
    free(ladder);
    free(lev);
    free(at);
    free(cb);
    free(sum);
    free(sq);
    free(cnt);
    free(tried);
    free(took);
    return st;
}

/* ---- sampling at one temperature ---- */

bz_status bz_ising_sample(bz_ising *p, double beta, size_t replicas, unsigned sweeps,
                          uint64_t seed, int8_t *out, double *energies)
{
    if (!p || !p->ctx || !out)
        return BZ_E_INVALID_ARG;
    bz_context *ctx = p->ctx;
    if (!(beta >= 0) || !isfinite(beta) || replicas == 0)
        return bz_fail(ctx, BZ_E_INVALID_ARG, "sampling needs beta >= 0 and replicas > 0");
    bz_anneal_run run;
    bz_status st = bz_anneal_run_open(p, replicas, 1, BZ_UPDATE_AUTO, &run);
    float b = (float)beta;
    if (!st)
        st = bz_buf_write(ctx, &run.beta, 0, &b, 1);
    if (!st)
        st = bz_anneal_run_init(&run, true, seed, 0);
    uint32_t chunk = bz_anneal_chunk(p->n, replicas, sweeps ? sweeps : 1);
    for (uint32_t t = 0; !st && t < sweeps;) {
        uint32_t c = sweeps - t < chunk ? sweeps - t : chunk;
        st = bz_anneal_run_sweeps(&run, 0, 0, 0, c, seed, 0, t);
        t += c;
    }
    if (!st)
        st = bz_anneal_run_all_spins(&run, out);
    if (!st && energies)
        for (size_t r = 0; r < replicas; r++)
            energies[r] = bz_ising_energy(p, out + r * p->n);
    bz_anneal_run_close(&run);
    return st;
}
