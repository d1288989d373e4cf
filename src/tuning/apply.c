#include "tuning/apply.h"
#include "tuning/search.h"

#include <clblast_c.h>
#include <stdio.h>
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
}
