/*
 * The search: random sampling of both GEMM paths, then local steps around
 * the best of each, every candidate checked against the host reference
 * before it is timed (tune_worker.c). At the end the two paths' winners are
 * combined, XGEMM_MIN_INDIRECT_SIZE is set where the faster path changes,
 * and the combination is verified again before it is written.
 */
#include "tuner/tune.h"
#include "tuner/space.h"
#include "tuner/tune_output.h"
#include "tuner/tune_proc.h"
#include "tuner/tune_state.h"
#include "tuning/search.h"

#include "boltzcl.h"

#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* The products of one CD step of a 784-500 RBM at batch B (100 unless
 * `tune --batch` says otherwise), and the gradient over 2B rows (CD-k chains
 * and the DBN's larger batches). Set before the worker process forks. */
bz_tune_shape bz_tune_shapes[] = {
    {100, 500, 784, false, false},
    {100, 784, 500, false, true},
    {784, 500, 100, true, false},
    {784, 500, 200, true, false},
};
const size_t bz_tune_n_shapes = sizeof bz_tune_shapes / sizeof *bz_tune_shapes;

void bz_tune_set_batch(size_t batch)
{
    bz_tune_shapes[0].m = batch;
    bz_tune_shapes[1].m = batch;
    bz_tune_shapes[2].k = batch;
    bz_tune_shapes[3].k = 2 * batch;
}

double bz_tune_tolerance(size_t k)
{
    return 1e-4 * sqrt((double)(k ? k : 1));
}

double bz_tune_rel_error(const float *c, const float *ref, size_t n)
{
    double worst = 0, scale = 1e-30;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)c[i] - (double)ref[i]);
        if (!(d <= worst)) /* NaN lands here too */
            worst = isnan(d) ? INFINITY : d;
        if (fabs((double)ref[i]) > scale)
            scale = fabs((double)ref[i]);
    }
    return worst / scale;
}

bool bz_tune_accept(double rel_error, size_t k)
{
    return rel_error <= bz_tune_tolerance(k);
}

void bz_tune_options_init(bz_tune_options *o)
{
    memset(o, 0, sizeof *o);
    o->seconds = 600;
    o->reps = 3;
    o->seed = 1;
    o->candidate_timeout = 180;
}

static volatile sig_atomic_t stop_requested;

static void on_sigint(int sig)
{
    (void)sig;
    stop_requested = 1;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static double flops(const bz_tune_shape *s)
{
    return 2.0 * (double)s->m * (double)s->n * (double)s->k;
}

static double total_flops(void)
{
    double f = 0;
    for (size_t i = 0; i < bz_tune_n_shapes; i++)
        f += flops(&bz_tune_shapes[i]);
    return f;
}

typedef struct tuner {
    const bz_tune_options *o;
    bz_tune_proc w;
    bz_tune_state st;
    char type[32], device[256], vendor[128], driver[128];
    size_t local_mem, max_wg;
    uint64_t rng;
    double t0;
    size_t tried, invalid; /* this run */
} tuner;

static const bz_tune_result *best_of(const tuner *t, int mode)
{
    const bz_tune_result *b = NULL;
    for (size_t i = 0; i < t->st.n; i++) {
        const bz_tune_result *r = &t->st.r[i];
        if (r->mode == mode && isfinite(r->total) && (!b || r->total < b->total))
            b = r;
    }
    return b;
}

static void progress(const tuner *t, bool final)
{
    double el = now() - t->t0, frac = fmin(1.0, el / t->o->seconds);
    const bz_tune_result *d = best_of(t, BZ_MODE_DIRECT), *i = best_of(t, BZ_MODE_INDIRECT);
    char bar[21];
    for (int k = 0; k < 20; k++)
        bar[k] = k < (int)(frac * 20) ? '#' : '.';
    bar[20] = '\0';
    bool tty = isatty(STDERR_FILENO);
    fprintf(stderr, "%s[%s] %3.0f%% %4.0f/%.0f s  %zu tried (%zu rejected), %zu known  "
                    "best GFLOP/s: direct %.1f, indirect %.1f%s",
            tty ? "\r" : "", bar, frac * 100, el, t->o->seconds, t->tried, t->invalid, t->st.n,
            d ? total_flops() / d->total * 1e-9 : 0.0, i ? total_flops() / i->total * 1e-9 : 0.0,
            tty && !final ? "   " : "\n");
    fflush(stderr);
}

/* --seconds covers the whole run: starting the worker, the first timing of
 * CLBlast's own parameters, the search, the verification and the final
 * timings. The search stops at this share of it, leaving the rest for what
 * follows; every wait on the worker is cut at the end of the budget. */
#define SEARCH_SHARE 0.75

static double budget_left(const tuner *t)
{
    return t->t0 + t->o->seconds - now();
}

static bool restart(tuner *t)
{
    char why[512];
    if (t->w.pid > 0)
        return true;
    double wait = fmin(300, budget_left(t));
    if (wait <= 0 || !bz_tune_proc_start(&t->w, t->o, wait, why, sizeof why)) {
        if (wait <= 0)
            snprintf(why, sizeof why, "the --seconds budget has ended");
        fprintf(stderr, "boltzcl-tune: %s\n", why);
        return false;
    }
    return true;
}

/* Times one candidate (or the built-in set with cmd "B"); fills r. Status
 * "budget" when the --seconds budget ended first. */
static bool measure(tuner *t, const char *cmd, bz_tune_result *r, double timeout)
{
    char reply[2048], why[512];
    r->total = INFINITY;
    double left = budget_left(t);
    if (left <= 0) {
        snprintf(r->status, sizeof r->status, "budget");
        return true;
    }
    bool capped = left < timeout;
    if (capped)
        timeout = left;
    if (!restart(t))
        return false;
    if (!bz_tune_proc_ask(&t->w, cmd, timeout, reply, sizeof reply, why, sizeof why)) {
        if (capped && budget_left(t) <= 0) {
            snprintf(r->status, sizeof r->status, "budget");
            return true;
        }
        snprintf(r->status, sizeof r->status, "crash");
        fprintf(stderr, "%sboltzcl-tune: candidate skipped: %s\n",
                isatty(STDERR_FILENO) ? "\n" : "", why);
        return true;
    }
    r->total = INFINITY;
    if (strncmp(reply, "R ok", 4) == 0) {
        const char *p = reply + 4;
        r->total = 0;
        for (size_t i = 0; i < bz_tune_n_shapes; i++) {
            char *e;
            r->t[i] = strtod(p, &e);
            p = e;
            r->total += r->t[i];
        }
        snprintf(r->status, sizeof r->status, "ok");
    } else {
        int n = 0;
        sscanf(reply, "R %7s %n", r->status, &n);
        if (strcmp(r->status, "slow") != 0)
            fprintf(stderr, "%sboltzcl-tune: candidate rejected (%s): %s\n",
                    isatty(STDERR_FILENO) ? "\n" : "", r->status, reply + n);
    }
    return true;
}

/* Copies the mode's kernels of src into p. */
static void take_mode(bz_tune_params *p, const bz_tune_params *src, int mode)
{
    for (int k = 0; k < BZ_TK_COUNT; k++)
        if (k != BZ_TK_GEMM_ROUTINE && (mode == BZ_MODE_DIRECT) == (k == BZ_TK_XGEMM_DIRECT))
            memcpy(p->v[k], src->v[k], sizeof p->v[k]);
}

static void candidate(tuner *t, int mode, int seed, bool local, bz_tune_params *p)
{
    const bz_tune_result *own = best_of(t, mode), *other = best_of(t, !mode);
    bz_tp_safe(p);
    /* the other path's kernels are compiled too: keep them at known-good values */
    if (other)
        *p = other->p;
    bz_tune_params seeds[8];
    bool seeded = seed >= 0 && (size_t)seed < bz_space_seeds(mode, seeds, 8);
    for (int k = 0; seeded && k < BZ_TK_COUNT; k++) /* a seed too big for this device */
        seeded = k == BZ_TK_GEMM_ROUTINE || !bz_tp_check(&seeds[seed], k, t->local_mem, t->max_wg);
    if (seeded) {
        take_mode(p, &seeds[seed], mode);
    } else if (local && own) {
        take_mode(p, &own->p, mode);
        bz_space_mutate(p, mode, &t->rng, t->local_mem, t->max_wg);
    } else {
        bz_space_random(p, mode, &t->rng, t->local_mem, t->max_wg);
    }
    p->v[BZ_TK_GEMM_ROUTINE][0] = mode == BZ_MODE_DIRECT ? BZ_FORCE_DIRECT : BZ_FORCE_INDIRECT;
    p->wg_elementwise = 0;
}

static void search(tuner *t)
{
    size_t count[BZ_MODE_COUNT] = {0};
    for (size_t i = 0; i < t->st.n; i++)
        count[t->st.r[i].mode]++;
    int dupes = 0, seed = 0;
    bz_tune_params tmp[8];
    size_t n_seeds = bz_space_seeds(BZ_MODE_DIRECT, tmp, 8) + bz_space_seeds(BZ_MODE_INDIRECT, tmp, 8);
    while (!stop_requested && now() - t->t0 < SEARCH_SHARE * t->o->seconds && dupes < 200) {
        double el = now() - t->t0;
        const bz_tune_result *bd = best_of(t, BZ_MODE_DIRECT), *bi = best_of(t, BZ_MODE_INDIRECT);
        int mode;
        bool local;
        int use_seed = -1;
        if ((size_t)seed < n_seeds) {
            /* seeds first, alternating paths */
            mode = seed % 2 ? BZ_MODE_INDIRECT : BZ_MODE_DIRECT;
            use_seed = seed / 2;
            local = false;
            seed++;
        } else if (el < 0.2 * t->o->seconds || !bd || !bi) {
            /* explore both paths evenly first */
            mode = count[BZ_MODE_DIRECT] <= count[BZ_MODE_INDIRECT] ? BZ_MODE_DIRECT
                                                                     : BZ_MODE_INDIRECT;
            local = false;
        } else {
            int lead = bd->total <= bi->total ? BZ_MODE_DIRECT : BZ_MODE_INDIRECT;
            mode = bz_space_rand(&t->rng) % 10 < 7 ? lead : !lead;
            local = bz_space_rand(&t->rng) % 10 != 0; /* now and then a fresh start */
        }
        bz_tune_result r;
        memset(&r, 0, sizeof r);
        r.mode = mode;
        candidate(t, mode, use_seed, local, &r.p);
        bz_space_encode(&r.p, r.key, sizeof r.key);
        if (bz_tune_state_find(&t->st, r.key)) {
            dupes++;
            continue;
        }
        dupes = 0;
        const bz_tune_result *own = best_of(t, mode);
        char cmd[1024];
        /* a candidate twice as slow as the best is not worth timing in full */
        snprintf(cmd, sizeof cmd, "E %.6f %s", own ? 2.0 * own->total : 0.0, r.key);
        if (!measure(t, cmd, &r, t->o->candidate_timeout) || !strcmp(r.status, "budget"))
            break; /* a candidate cut short by the budget is not recorded */
        count[mode]++;
        t->tried++;
        if (strcmp(r.status, "ok") != 0 && strcmp(r.status, "slow") != 0)
            t->invalid++;
        bz_tune_state_add(&t->st, &r, bz_tune_n_shapes);
        progress(t, false);
    }
    progress(t, true);
}

/* XGEMM_MIN_INDIRECT_SIZE: CLBlast takes the direct path when m*n*k is
 * below its cube. Chosen to give each shape its faster path where one
 * threshold can, and placed midway (geometrically) between the shapes on
 * either side so that neighbouring sizes follow their nearest shape. */
static size_t choose_threshold(const bz_tune_result *d, const bz_tune_result *i)
{
    if (!d)
        return BZ_FORCE_INDIRECT;
    if (!i)
        return BZ_FORCE_DIRECT;
    double best = INFINITY, lo = 0, hi = 0;
    /* candidate cut: direct for products <= x, indirect above */
    for (size_t c = 0; c <= bz_tune_n_shapes; c++) {
        double cut = c == 0 ? 0 : flops(&bz_tune_shapes[c - 1]) / 2, total = 0, above = INFINITY;
        for (size_t s = 0; s < bz_tune_n_shapes; s++) {
            double mnk = flops(&bz_tune_shapes[s]) / 2;
            total += mnk <= cut ? d->t[s] : i->t[s];
            if (mnk > cut && mnk < above)
                above = mnk;
        }
        if (total < best - 1e-12) {
            best = total;
            lo = cut;
            hi = above;
        }
    }
    double x;
    if (lo == 0)
        x = hi / 2; /* indirect everywhere we measured */
    else if (!isfinite(hi))
        x = lo * 4; /* direct everywhere we measured */
    else
        x = sqrt(lo * hi);
    size_t s = (size_t)ceil(cbrt(x));
    return s < 1 ? 1 : s;
}

static void merge(bz_tune_params *p, const bz_tune_result *d, const bz_tune_result *i)
{
    bz_tp_safe(p);
    if (i)
        *p = i->p;
    if (d)
        memcpy(p->v[BZ_TK_XGEMM_DIRECT], d->p.v[BZ_TK_XGEMM_DIRECT], sizeof p->v[0]);
    p->v[BZ_TK_GEMM_ROUTINE][0] = choose_threshold(d, i);
}

static const char *trans_name(const bz_tune_shape *s)
{
    return s->ta ? (s->tb ? "TT" : "TN") : (s->tb ? "NT" : "NN");
}

static char *measured_json(const tuner *t, const double *tuned, size_t wg, double gbs,
                           bool gemm_written)
{
    static char buf[4096];
    size_t n = (size_t)snprintf(buf, sizeof buf, "{\"shapes\":[");
    for (size_t i = 0; i < bz_tune_n_shapes; i++) {
        const bz_tune_shape *s = &bz_tune_shapes[i];
        n += (size_t)snprintf(buf + n, sizeof buf - n,
                              "%s{\"m\":%zu,\"n\":%zu,\"k\":%zu,\"trans\":\"%s\","
                              "\"gflops_builtin\":%.1f,\"gflops_tuned\":%.1f}",
                              i ? "," : "", s->m, s->n, s->k, trans_name(s),
                              t->st.have_baseline ? flops(s) / t->st.baseline[i] * 1e-9 : 0.0,
                              flops(s) / tuned[i] * 1e-9);
    }
    snprintf(buf + n, sizeof buf - n,
             "],\"gemm_sets_written\":%s,\"wg_elementwise_gbps\":%.2f,\"candidates\":%zu,"
             "\"wg\":%zu}",
             gemm_written ? "true" : "false", gbs, t->st.n, wg);
    return buf;
}

static int finish(tuner *t)
{
    const bz_tune_result *d = best_of(t, BZ_MODE_DIRECT), *i = best_of(t, BZ_MODE_INDIRECT);
    if (!d && !i) {
        if (budget_left(t) <= 0 || t->tried == 0)
            fprintf(stderr, "boltzcl-tune: the %.0f s budget ended before any candidate was "
                            "timed; nothing written (give more --seconds; a rerun resumes "
                            "from the state file)\n", t->o->seconds);
        else
            fprintf(stderr, "boltzcl-tune: no candidate produced correct results; nothing "
                            "written\n");
        return 1;
    }
    /* the combination first, then each path alone with the other at safe values */
    const bz_tune_result *tries[3][2] = {{d, i}, {NULL, i}, {d, NULL}};
    bz_tune_result fin;
    bool ok = false;
    for (int k = 0; k < 3 && !ok; k++) {
        if (!tries[k][0] && !tries[k][1])
            continue;
        memset(&fin, 0, sizeof fin);
        merge(&fin.p, tries[k][0], tries[k][1]);
        bz_space_encode(&fin.p, fin.key, sizeof fin.key);
        char cmd[1024];
        snprintf(cmd, sizeof cmd, "V %s", fin.key);
        fprintf(stderr, "boltzcl-tune: verifying the result at odd shapes, all transposes...\n");
        if (!measure(t, cmd, &fin, 3 * t->o->candidate_timeout))
            return 1;
        if (!strcmp(fin.status, "budget")) {
            fprintf(stderr, "boltzcl-tune: the %.0f s budget ended before the result was "
                            "verified; nothing written (give more --seconds; a rerun resumes "
                            "from the state file)\n", t->o->seconds);
            return 1;
        }
        ok = strcmp(fin.status, "ok") == 0;
    }
    if (!ok) {
        fprintf(stderr, "boltzcl-tune: the best parameters fail verification; nothing written\n");
        return 1;
    }
    char reply[256], why[256];
    size_t wg = 0;
    double gbs = 0;
    double wait = fmin(t->o->candidate_timeout, budget_left(t));
    if (wait > 0 && restart(t) &&
        bz_tune_proc_ask(&t->w, "W", wait, reply, sizeof reply, why, sizeof why))
        sscanf(reply, "R wg %zu %lf", &wg, &gbs);
    fin.p.wg_elementwise = wg;

    bz_tuning_entry e;
    memset(&e, 0, sizeof e);
    snprintf(e.device, sizeof e.device, "%s", t->device);
    snprintf(e.vendor, sizeof e.vendor, "%s", t->vendor);
    snprintf(e.driver, sizeof e.driver, "%s", t->driver);
    snprintf(e.type, sizeof e.type, "%s", t->type);
    snprintf(e.version, sizeof e.version, "%s", bz_version_string());
    e.params = fin.p;
    e.batch = t->o->batch;
    char path[1100];
    if (t->o->out)
        snprintf(path, sizeof path, "%s", t->o->out);
    else
        bz_tuning_user_file(path, sizeof path);

    if (t->st.have_baseline && budget_left(t) > 0) {
        /* The built-in rates were taken at the start, on a device that may
         * not have reached its clocks yet; a fresh worker times them again
         * and the faster of the two is what the tuned set must beat (on an
         * H200 the start-up figure once made a slower set look 9% faster). */
        bz_tune_result b;
        memset(&b, 0, sizeof b);
        bz_tune_proc_stop(&t->w);
        if (measure(t, "B", &b, 3 * t->o->candidate_timeout) && strcmp(b.status, "ok") == 0)
            for (size_t s = 0; s < bz_tune_n_shapes; s++)
                if (b.t[s] > 0 && b.t[s] < t->st.baseline[s])
                    t->st.baseline[s] = b.t[s];
    }
    printf("device: %s (driver %s)\n\n%-22s %10s %10s %7s\n", t->device, t->driver, "shape",
           "built-in", "tuned", "ratio");
    for (size_t s = 0; s < bz_tune_n_shapes; s++) {
        const bz_tune_shape *sh = &bz_tune_shapes[s];
        double b = t->st.have_baseline ? flops(sh) / t->st.baseline[s] * 1e-9 : 0;
        double tu = flops(sh) / fin.t[s] * 1e-9;
        char name[64];
        snprintf(name, sizeof name, "%zux%zux%zu %s", sh->m, sh->n, sh->k, trans_name(sh));
        printf("%-22s %10.1f %10.1f %6.2fx\n", name, b, tu, b > 0 ? tu / b : 0.0);
    }
    printf("XGEMM_MIN_INDIRECT_SIZE %zu, wg_elementwise %zu (%.1f GB/s)\n",
           fin.p.v[BZ_TK_GEMM_ROUTINE][0], wg, gbs);
    /* A short search on a device CLBlast already knows can end below its
     * built-in parameters; an entry that slows the device down is worse than
     * none, so the GEMM sets are then left out (geometric mean over shapes). */
    bool gemm_written = true;
    if (t->st.have_baseline) {
        double log_ratio = 0;
        for (size_t s = 0; s < bz_tune_n_shapes; s++)
            log_ratio += log(t->st.baseline[s] / fin.t[s]);
        double ratio = exp(log_ratio / (double)bz_tune_n_shapes);
        if (!(ratio > 1.0)) {
            printf("the tuned GEMM parameters are %.2fx the built-in ones: CLBlast's built-in "
                   "GEMM parameters stay in force\n",
                   ratio);
            for (int k = 0; k < BZ_TK_COUNT; k++)
                e.params.has[k] = false;
            gemm_written = false;
            if (!wg) {
                printf("nothing better than the defaults was found; nothing written\n");
                return 0;
            }
        }
    }
    if (!bz_tuning_file_put(path, &e, measured_json(t, fin.t, wg, gbs, gemm_written), why,
                            sizeof why)) {
        fprintf(stderr, "boltzcl-tune: %s\n", why);
        return 1;
    }
    printf("written to %s\n", path);
    return 0;
}

static void parse_hello(tuner *t)
{
    /* "H\t<type>\t<device>\t<vendor>\t<driver>\t<local_mem>\t<max_wg>" */
    char *f[7] = {0}, *save = NULL, *h = t->w.hello;
    for (int k = 0; k < 7; k++, h = NULL)
        f[k] = strtok_r(h, "\t", &save);
    snprintf(t->type, sizeof t->type, "%s", f[1] ? f[1] : "");
    snprintf(t->device, sizeof t->device, "%s", f[2] ? f[2] : "");
    snprintf(t->vendor, sizeof t->vendor, "%s", f[3] ? f[3] : "");
    snprintf(t->driver, sizeof t->driver, "%s", f[4] ? f[4] : "");
    t->local_mem = f[5] ? (size_t)strtoull(f[5], NULL, 10) : 16384;
    t->max_wg = f[6] ? (size_t)strtoull(f[6], NULL, 10) : 256;
}

static void state_path(const tuner *t, char *buf, size_t size)
{
    if (t->o->state) {
        snprintf(buf, size, "%s", t->o->state);
        return;
    }
    char name[200];
    size_t n = 0;
    for (const char *p = t->device; *p && n + 1 < sizeof name; p++)
        name[n++] = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                            (*p >= '0' && *p <= '9') || *p == '-' || *p == '.'
                        ? *p
                        : '_';
    name[n] = '\0';
    const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
    if (xdg && xdg[0])
        snprintf(buf, size, "%s/boltzcl/tune-%s.state", xdg, name);
    else
        snprintf(buf, size, "%s/.cache/boltzcl/tune-%s.state", home && home[0] ? home : ".",
                 name);
}

int bz_tune_run(const bz_tune_options *o)
{
    tuner t;
    memset(&t, 0, sizeof t);
    t.o = o;
    t.rng = o->seed ? o->seed : 1;
    /* the shapes follow the batch; set before the worker forks */
    bz_tune_set_batch(o->batch ? o->batch : 100);
    t.t0 = now(); /* the budget starts now, worker start-up included */
    char why[512];
    /* Where the result goes must be writable before the search, not found
     * unwritable at its end. */
    char opath[1100];
    if (o->out)
        snprintf(opath, sizeof opath, "%s", o->out);
    else
        bz_tuning_user_file(opath, sizeof opath);
    if (!bz_tuning_file_check(opath, why, sizeof why)) {
        fprintf(stderr, "boltzcl-tune: %s\n", why);
        return 1;
    }
    if (!bz_tune_proc_start(&t.w, o, fmin(300, budget_left(&t)), why, sizeof why)) {
        fprintf(stderr, "boltzcl-tune: cannot open the device: %s\n", why);
        return 1;
    }
    parse_hello(&t);
    char spath[1300], key[700];
    state_path(&t, spath, sizeof spath);
    /* the batch is part of the key: a run for another batch times other shapes */
    snprintf(key, sizeof key, "%s\t%s\t%s\tbatch %zu", t.device, t.driver, bz_version_string(),
             bz_tune_shapes[0].m);
    if (!bz_tune_state_open(&t.st, spath, key, o->fresh, bz_tune_n_shapes, why, sizeof why)) {
        fprintf(stderr, "boltzcl-tune: %s\n", why);
        bz_tune_proc_stop(&t.w);
        return 1;
    }
    fprintf(stderr, "boltzcl-tune: %s (driver %s), %.0f s budget, state %s%s\n", t.device,
            t.driver, o->seconds, spath, t.st.n ? " (resuming)" : "");
    /* the worker is fresh, so CLBlast still has its own values: measure them now */
    if (!t.st.have_baseline) {
        bz_tune_result b;
        memset(&b, 0, sizeof b);
        if (measure(&t, "B", &b, 3 * o->candidate_timeout) && strcmp(b.status, "ok") == 0)
            bz_tune_state_baseline(&t.st, b.t, bz_tune_n_shapes);
    }
    struct sigaction sa, old;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigint;
    sigaction(SIGINT, &sa, &old);
    search(&t);
    stop_requested = 0;
    int rc = finish(&t);
    sigaction(SIGINT, &old, NULL);
    bz_tune_proc_stop(&t.w);
    bz_tune_state_close(&t.st);
    return rc;
}
