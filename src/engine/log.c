#include "engine/engine.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *level_name(int level)
{
    switch (level) {
    case BZ_LOG_ERROR: return "error";
    case BZ_LOG_WARN: return "warning";
    case BZ_LOG_INFO: return "info";
    default: return "debug";
    }
}

void bz_log(bz_context *ctx, int level, const char *fmt, ...)
{
    if (!ctx || level > ctx->log_level)
        return;
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (ctx->log)
        ctx->log(ctx->log_user, level, msg);
    else
        fprintf(stderr, "boltzcl: %s: %s\n", level_name(level), msg);
}

bz_status bz_fail(bz_context *ctx, bz_status status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (ctx)
        bz_error_vset(&ctx->err, status, fmt, ap);
    va_end(ap);
    return status;
}

bz_status bz_cl_fail(bz_context *ctx, cl_int code, const char *call, const char *what)
{
    bz_status st = BZ_E_OPENCL;
    if (code == CL_MEM_OBJECT_ALLOCATION_FAILURE || code == CL_OUT_OF_HOST_MEMORY ||
        code == CL_INVALID_BUFFER_SIZE)
        st = BZ_E_DEVICE_MEM;
    return bz_fail(ctx, st, "%s(%s) failed: %s (%d)", call, what ? what : "",
                   bz_cl_error_name(code), (int)code);
}

bool bz_fault_hit(bz_context *ctx)
{
    if (!ctx || ctx->fault_countdown <= 0)
        return false;
    return --ctx->fault_countdown == 0;
}

static double mono_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

double bz_prof_begin(bz_context *ctx)
{
    if (!ctx->profile)
        return 0.0;
    clFinish(ctx->queue);
    return mono_now();
}

void bz_prof_end(bz_context *ctx, const char *name, double t0)
{
    if (!ctx->profile)
        return;
    clFinish(ctx->queue);
    double dt = mono_now() - t0;
    size_t i = 0;
    while (i < ctx->n_prof && strcmp(ctx->prof[i].name, name) != 0)
        i++;
    if (i == ctx->n_prof) {
        if (ctx->n_prof == BZ_MAX_KERNELS)
            return;
        snprintf(ctx->prof[i].name, sizeof ctx->prof[i].name, "%s", name);
        ctx->n_prof++;
    }
    ctx->prof[i].seconds += dt;
    ctx->prof[i].calls++;
}

void bz_prof_report(bz_context *ctx)
{
    if (!ctx->profile || ctx->n_prof == 0)
        return;
    double total = 0;
    for (size_t i = 0; i < ctx->n_prof; i++)
        total += ctx->prof[i].seconds;
    fprintf(stderr, "boltzcl profile (synchronous, %.3f s in all):\n", total);
    for (size_t i = 0; i < ctx->n_prof; i++)
        fprintf(stderr, "  %-28s %9lu calls %9.3f s %6.1f%% %9.1f us/call\n", ctx->prof[i].name,
                ctx->prof[i].calls, ctx->prof[i].seconds, 100 * ctx->prof[i].seconds / total,
                1e6 * ctx->prof[i].seconds / (double)ctx->prof[i].calls);
}
