#include "engine/engine.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

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
