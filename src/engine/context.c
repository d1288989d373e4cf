/*
 * Context creation: every device check on one path with one exit. Candidate
 * devices are tried best first (GPU, accelerator, CPU); a device that cannot
 * build our kernels or fails the known-answer self-test is skipped with a
 * warning and the next one is tried. What set-up and check mean is given by
 * the layers above (bz_device_hooks; src/api/context.c), so the engine
 * depends on nothing above it.
 */
#include "engine/engine.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const main_kernel_files[] = {
    "common.cl", "philox.cl", "elementwise.cl", "sample.cl", "update.cl", "reduce.cl", "rbm.cl",
    "dbn.cl", "dbm.cl",
};

void bz_context_options_init(bz_context_options *opts)
{
    memset(opts, 0, sizeof *opts);
    opts->log_level = BZ_LOG_WARN;
    opts->binary_cache = -1;
}

static void close_device(bz_context *ctx)
{
    for (size_t i = 0; i < ctx->n_kernels; i++)
        clReleaseKernel(ctx->kernels[i].kernel);
    ctx->n_kernels = 0;
    if (ctx->program)
        clReleaseProgram(ctx->program);
    ctx->program = NULL;
    if (ctx->queue) {
        clFinish(ctx->queue);
        clReleaseCommandQueue(ctx->queue);
    }
    ctx->queue = NULL;
    if (ctx->cl) {
        if (ctx->hooks && ctx->hooks->teardown)
            ctx->hooks->teardown(ctx);
        clReleaseContext(ctx->cl);
    }
    ctx->cl = NULL;
    ctx->ready = false;
}

static bz_status open_device(bz_context *ctx, const bz_device_info *dev, int cache_opt,
                             bool selftest)
{
    ctx->dev = *dev;
    ctx->binary_cache = cache_opt < 0 ? !dev->is_pocl : cache_opt;
    ctx->wg_elementwise = dev->max_work_group >= 256 ? 256 : dev->max_work_group;
    if (ctx->wg_elementwise == 0)
        ctx->wg_elementwise = 1;

    cl_int rc;
    cl_context_properties props[] = {CL_CONTEXT_PLATFORM, (cl_context_properties)dev->platform,
                                     0};
    if (bz_fault_hit(ctx))
        return bz_fail(ctx, BZ_E_OPENCL, "clCreateContext: injected fault");
    ctx->cl = clCreateContext(props, 1, &dev->id, NULL, NULL, &rc);
    if (rc != CL_SUCCESS)
        return bz_cl_fail(ctx, rc, "clCreateContext", dev->name);
    ctx->queue = clCreateCommandQueue(ctx->cl, dev->id, 0, &rc);
    if (rc != CL_SUCCESS)
        return bz_cl_fail(ctx, rc, "clCreateCommandQueue", dev->name);

    bz_status st = bz_program_build(ctx, main_kernel_files,
                                    sizeof main_kernel_files / sizeof *main_kernel_files, "",
                                    &ctx->program);
    if (st != BZ_OK)
        return st;
    if (ctx->hooks && ctx->hooks->setup && (st = ctx->hooks->setup(ctx)) != BZ_OK)
        return st;
    ctx->ready = true;
    if (selftest && ctx->hooks && ctx->hooks->check) {
        st = ctx->hooks->check(ctx);
        if (st != BZ_OK) {
            ctx->ready = false;
            return st;
        }
    }
    return BZ_OK;
}

static void copy_opt(char *dst, size_t size, const char *opt, const char *env)
{
    const char *v = opt ? opt : getenv(env);
    snprintf(dst, size, "%s", v ? v : "");
}

bz_status bz_context_open(const bz_context_options *opts_in, const bz_device_hooks *hooks,
                          bz_context **out)
{
    if (!out)
        return BZ_E_INVALID_ARG;
    bz_context_options defaults;
    bz_context_options_init(&defaults);
    const bz_context_options *opts = opts_in ? opts_in : &defaults;

    bz_context *ctx = calloc(1, sizeof *ctx);
    *out = ctx;
    if (!ctx)
        return BZ_E_NOMEM;
    ctx->hooks = hooks;
    ctx->log = opts->log;
    ctx->log_user = opts->log_user;
    ctx->log_level = opts->log_level;

    copy_opt(ctx->kernel_dir, sizeof ctx->kernel_dir, opts->kernel_dir, "BOLTZCL_KERNEL_DIR");
    copy_opt(ctx->tuning_file, sizeof ctx->tuning_file, opts->tuning_file, "BOLTZCL_TUNING_FILE");
    if (opts->cache_dir) {
        snprintf(ctx->cache_dir, sizeof ctx->cache_dir, "%s", opts->cache_dir);
    } else if (getenv("XDG_CACHE_HOME") && getenv("XDG_CACHE_HOME")[0]) {
        snprintf(ctx->cache_dir, sizeof ctx->cache_dir, "%s/boltzcl", getenv("XDG_CACHE_HOME"));
    } else {
        const char *home = getenv("HOME");
        snprintf(ctx->cache_dir, sizeof ctx->cache_dir, "%s/.cache/boltzcl", home ? home : ".");
    }
    const char *prof = getenv("BOLTZCL_PROFILE");
    ctx->profile = prof && prof[0] == '1';
    const char *fault = getenv("BOLTZCL_FAULT");
    if (fault && fault[0])
        ctx->fault_countdown = strtol(fault, NULL, 10);

    const char *device = opts->device ? opts->device : getenv("BOLTZCL_DEVICE");
    bz_device_selector sel;
    bz_status st = bz_device_selector_parse(device, &sel, &ctx->err);
    if (st != BZ_OK)
        return st;

    bz_device_info *devs = NULL;
    size_t n_devs = 0;
    st = bz_devices_list(&devs, &n_devs, &ctx->err);
    if (st != BZ_OK)
        return st;
    size_t *order = calloc(n_devs, sizeof *order);
    if (!order) {
        free(devs);
        return bz_fail(ctx, BZ_E_NOMEM, "out of memory");
    }
    size_t n_cand = bz_devices_rank(devs, n_devs, &sel, order);
    if (n_cand == 0) {
        char list[1024] = "";
        bz_devices_describe(devs, n_devs, list, sizeof list);
        st = bz_fail(ctx, BZ_E_NO_DEVICE, "no OpenCL device matches '%s'; available devices:%s",
                     device ? device : "", list);
    } else {
        st = BZ_E_NO_DEVICE;
        for (size_t c = 0; c < n_cand; c++) {
            const bz_device_info *d = &devs[order[c]];
            st = open_device(ctx, d, opts->binary_cache, !opts->skip_selftest);
            if (st == BZ_OK)
                break;
            bz_log(ctx, BZ_LOG_WARN, "device %u:%u (%s) is unusable: %s%s", d->platform_index,
                   d->device_index, d->name, ctx->err.msg,
                   c + 1 < n_cand ? "; trying the next device" : "");
            close_device(ctx);
        }
        if (st != BZ_OK && n_cand > 1)
            bz_error_prefix(&ctx->err, "all %zu matching devices failed; the last said", n_cand);
    }
    free(order);
    free(devs);
    if (st == BZ_OK)
        bz_error_clear(&ctx->err);
    return st;
}

void bz_context_free(bz_context *ctx)
{
    if (!ctx)
        return;
    bz_prof_report(ctx);
    close_device(ctx);
    free(ctx->tuning);
    free(ctx);
}

const char *bz_last_error(const bz_context *ctx)
{
    return ctx ? ctx->err.msg : "no context (out of memory?)";
}

const char *bz_device_name(const bz_context *ctx)
{
    return ctx && ctx->ready ? ctx->dev.name : "";
}

const char *bz_device_driver(const bz_context *ctx)
{
    return ctx && ctx->ready ? ctx->dev.driver : "";
}

bz_status bz_finish(bz_context *ctx)
{
    if (!ctx || !ctx->queue)
        return BZ_E_INVALID_ARG;
    cl_int rc = clFinish(ctx->queue);
    return rc == CL_SUCCESS ? BZ_OK : bz_cl_fail(ctx, rc, "clFinish", "");
}
