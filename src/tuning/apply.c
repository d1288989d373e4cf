#include "tuning/apply.h"
#include "tuning/search.h"

#include <clblast_c.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *type_key(cl_device_type t)
{
    if (t & CL_DEVICE_TYPE_GPU)
        return "gpu";
    if (t & CL_DEVICE_TYPE_ACCELERATOR)
        return "accelerator";
    if (t & CL_DEVICE_TYPE_CPU)
        return "cpu";
    return "other";
}

void bz_tuning_target_of(const bz_context *ctx, bz_tuning_target *t)
{
    t->device = ctx->dev.name;
    t->vendor = ctx->dev.vendor;
    t->driver = ctx->dev.driver;
    t->type = type_key(ctx->dev.type);
    t->version = bz_version_string();
    t->batch = 0;
}

/* CLBlast keeps one parameter set per device for the whole process; this is
 * the context whose sets were applied last, so that another context on the
 * same device re-applies its own before it switches batch entries. A race
 * between threads here can only choose which checked set runs a product,
 * never its result. */
static const bz_context *params_owner;
static _Atomic unsigned long generation;

unsigned long bz_tuning_generation(void)
{
    return generation;
}

int bz_tuning_apply_params(bz_context *ctx, const bz_tune_params *p, char *why, size_t size)
{
    int refused = 0;
    for (int k = 0; k < BZ_TK_COUNT; k++) {
        if (!p->has[k])
            continue;
        const bz_tk_desc *d = &bz_tk_table[k];
        const char *problem = bz_tp_check(p, k, (size_t)ctx->dev.local_mem,
                                          ctx->dev.max_work_group);
        if (problem) {
            snprintf(why, size, "%s: %s", d->name, problem);
            refused++;
            continue;
        }
        CLBlastStatusCode s = CLBlastOverrideParameters(
            ctx->dev.id, d->name, CLBlastPrecisionSingle, d->n, (const char **)d->params, p->v[k]);
        generation++;
        if (s != CLBlastSuccess) {
            snprintf(why, size, "%s: CLBlastOverrideParameters failed: %s (%d)", d->name,
                     bz_clblast_status_name(s), (int)s);
            refused++;
        }
    }
    if (p->wg_elementwise) {
        size_t wg = p->wg_elementwise;
        ctx->wg_elementwise = wg > ctx->dev.max_work_group ? ctx->dev.max_work_group : wg;
    }
    return refused;
}

/* One batch entry per batch size that has a matching one: the best match
 * for that size, as for the device's entry. */
static void collect_batches(bz_context *ctx, const bz_tuning_db *db, bz_tuning_target *t,
                            struct bz_tuning_state *ts)
{
    for (size_t i = 0; i < db->count; i++) {
        size_t b = db->entries[i].batch;
        bool seen = b == 0;
        for (size_t j = 0; j < ts->n_batches && !seen; j++)
            seen = ts->batches[j].batch == b;
        if (seen)
            continue;
        t->batch = b;
        const bz_tuning_entry *e = bz_tuning_db_match(db, t);
        t->batch = 0;
        if (!e)
            continue;
        if (ts->n_batches == BZ_TUNING_MAX_BATCHES) {
            bz_log(ctx, BZ_LOG_WARN, "tuning: more than %d batch sizes have entries; %s ignored",
                   BZ_TUNING_MAX_BATCHES, e->source);
            continue;
        }
        bz_tuning_batch *tb = &ts->batches[ts->n_batches++];
        tb->batch = b;
        tb->params = e->params;
        snprintf(tb->source, sizeof tb->source, "%s", e->source);
        tb->refused = false;
    }
}

static void warn_cb(void *user, const char *msg)
{
    bz_log(user, BZ_LOG_WARN, "%s", msg);
}

bool bz_tuning_apply_for_context(bz_context *ctx)
{
    const char *explicit_file = ctx->tuning_file[0] ? ctx->tuning_file : NULL;
    if (bz_tuning_is_off(explicit_file)) {
        snprintf(ctx->tuning_source, sizeof ctx->tuning_source,
                 "none (tuning turned off; CLBlast's built-in parameters)");
        return false;
    }
    bz_tuning_db db = {0};
    int files = bz_tuning_load_search_path(&db, explicit_file, warn_cb, ctx);
    bz_tuning_target t;
    bz_tuning_target_of(ctx, &t);
    const bz_tuning_entry *e = bz_tuning_db_match(&db, &t);
    bool applied = false;
    struct bz_tuning_state *ts = calloc(1, sizeof *ts);
    if (ts) {
        free(ctx->tuning);
        ctx->tuning = ts;
        ts->applied = -1;
        ts->has_base = e != NULL;
        if (e)
            ts->base = e->params;
        collect_batches(ctx, &db, &t, ts);
    }
    params_owner = ctx;
    if (!e) {
        snprintf(ctx->tuning_source, sizeof ctx->tuning_source,
                 "none (%s; CLBlast's built-in parameters)",
                 files ? "no entry matches this device" : "no tuning file found");
    } else {
        char why[256] = "";
        int refused = bz_tuning_apply_params(ctx, &e->params, why, sizeof why);
        if (refused)
            bz_log(ctx, BZ_LOG_WARN, "tuning entry %s: %d kernel(s) left at CLBlast's values: %s",
                   e->source, refused, why);
        snprintf(ctx->tuning_source, sizeof ctx->tuning_source,
                 "%.300s (device \"%.150s\", driver \"%.100s\")%s", e->source, e->device,
                 e->driver, refused ? ", partly applied" : "");
        if (refused && ctx->tuning) /* what stands is no longer the entry's set */
            ctx->tuning->has_base = false;
        bz_log(ctx, BZ_LOG_INFO, "tuning in force: %s", ctx->tuning_source);
        for (int k = 0; k < BZ_TK_COUNT; k++)
            applied = applied || e->params.has[k];
    }
    bz_tuning_db_free(&db);
    return applied;
}

void bz_tuning_apply_safe(bz_context *ctx)
{
    bz_tune_params p;
    bz_tp_safe(&p);
    char why[256];
    if (bz_tuning_apply_params(ctx, &p, why, sizeof why))
        bz_log(ctx, BZ_LOG_WARN, "the conservative GEMM parameters were refused too: %s", why);
    snprintf(ctx->tuning_source, sizeof ctx->tuning_source,
             "boltzcl's conservative fallback (the tuned entry failed)");
    if (ctx->tuning) {
        /* batch entries come from the same files: not trusted either */
        ctx->tuning->has_base = true;
        ctx->tuning->base = p;
        ctx->tuning->n_batches = 0;
        ctx->tuning->applied = -1;
    }
    params_owner = ctx;
}

/* Overrides the kernels of over, and where over lacks one that the previous
 * batch entry set, the device's value; a kernel neither has stays as CLBlast
 * last had it (CLBlast offers no way back to its own values). */
static void apply_layer(bz_context *ctx, const struct bz_tuning_state *ts,
                        const bz_tune_params *prev, const bz_tune_params *over)
{
    bz_tune_params p = {0};
    for (int k = 0; k < BZ_TK_COUNT; k++) {
        const bz_tune_params *from = over && over->has[k] ? over
                                     : ts->has_base && ts->base.has[k] ? &ts->base
                                                                       : NULL;
        bool need = params_owner != ctx || (over && over->has[k]) || (prev && prev->has[k]);
        if (from && need) {
            p.has[k] = true;
            memcpy(p.v[k], from->v[k], sizeof p.v[k]);
        }
    }
    p.wg_elementwise = over && over->wg_elementwise ? over->wg_elementwise
                       : ts->has_base                 ? ts->base.wg_elementwise
                                                      : 0;
    char why[256];
    if (bz_tuning_apply_params(ctx, &p, why, sizeof why))
        bz_log(ctx, BZ_LOG_WARN, "tuning: a batch entry's kernel was refused: %s", why);
}

const bz_tuning_batch *bz_tuning_use_batch(bz_context *ctx, size_t batch, bool *changed)
{
    struct bz_tuning_state *ts = ctx->tuning;
    *changed = false;
    if (!ts)
        return NULL;
    int want = -1;
    for (size_t i = 0; i < ts->n_batches; i++)
        if (ts->batches[i].batch == batch && !ts->batches[i].refused)
            want = (int)i;
    if (want == ts->applied && params_owner == ctx)
        return want < 0 ? NULL : &ts->batches[want];
    if (want < 0 && ts->applied < 0 && !ts->has_base) {
        ts->applied = -1; /* nothing of ours to put back */
        return NULL;
    }
    const bz_tune_params *prev = ts->applied >= 0 ? &ts->batches[ts->applied].params : NULL;
    apply_layer(ctx, ts, prev, want >= 0 ? &ts->batches[want].params : NULL);
    ts->applied = want;
    params_owner = ctx;
    *changed = true;
    if (want >= 0)
        bz_log(ctx, BZ_LOG_INFO, "tuning for batch %zu in force: %s", batch,
               ts->batches[want].source);
    return want < 0 ? NULL : &ts->batches[want];
}

void bz_tuning_refuse_batch(bz_context *ctx)
{
    struct bz_tuning_state *ts = ctx->tuning;
    if (!ts || ts->applied < 0)
        return;
    bz_tune_params *prev = &ts->batches[ts->applied].params;
    ts->batches[ts->applied].refused = true;
    apply_layer(ctx, ts, prev, NULL);
    ts->applied = -1;
}

void bz_tuning_forget(const bz_context *ctx)
{
    if (params_owner == ctx)
        params_owner = NULL;
}

bool bz_tuning_gemm_tiles(const bz_context *ctx, bz_gemm_tiles *t)
{
    const struct bz_tuning_state *ts = ctx->tuning;
    if (!ts)
        return false;
    const int kx = BZ_TK_XGEMM, kr = BZ_TK_GEMM_ROUTINE;
    const bz_tune_params *over = ts->applied >= 0 ? &ts->batches[ts->applied].params : NULL;
    const bz_tune_params *x = over && over->has[kx]        ? over
                              : ts->has_base && ts->base.has[kx] ? &ts->base
                                                                 : NULL;
    const bz_tune_params *r = over && over->has[kr]        ? over
                              : ts->has_base && ts->base.has[kr] ? &ts->base
                                                                 : NULL;
    if (!x || !r)
        return false;
    t->gemmk = bz_tp_get(x, kx, "GEMMK");
    t->mwg = bz_tp_get(x, kx, "MWG");
    t->nwg = bz_tp_get(x, kx, "NWG");
    t->kwg = bz_tp_get(x, kx, "KWG");
    t->min_indirect = bz_tp_get(r, kr, "XGEMM_MIN_INDIRECT_SIZE");
    return t->mwg && t->nwg && t->kwg;
}
