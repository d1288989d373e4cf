#include "base/error.h"
#include "base/text.h"

#include <CL/cl.h>
#include <stdio.h>
#include <string.h>

bz_status bz_error_vset(bz_error *err, bz_status status, const char *fmt, va_list ap)
{
    if (err) {
        err->status = status;
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        /* Messages quote file names, file contents and model metadata; a
         * control character there must not reach a terminal as itself. A
         * compiler log keeps its lines. */
        bz_text_escape_inplace(err->msg, sizeof err->msg,
                               BZ_ESC_CONTROL |
                                   (status == BZ_E_BUILD ? BZ_ESC_KEEP_LINES : 0));
    }
    return status;
}

bz_status bz_error_set(bz_error *err, bz_status status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    bz_error_vset(err, status, fmt, ap);
    va_end(ap);
    return status;
}

void bz_error_prefix(bz_error *err, const char *fmt, ...)
{
    if (!err)
        return;
    char prefix[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    bz_text_escape_inplace(prefix, sizeof prefix, BZ_ESC_CONTROL);
    /* Shift the old message right and put the prefix in front, truncating
     * the tail if the whole no longer fits. */
    size_t pl = strlen(prefix), ol = strlen(err->msg);
    if (pl + 2 >= sizeof err->msg)
        pl = sizeof err->msg - 3;
    if (pl + 2 + ol >= sizeof err->msg)
        ol = sizeof err->msg - pl - 3;
    memmove(err->msg + pl + 2, err->msg, ol);
    err->msg[pl + 2 + ol] = '\0';
    memcpy(err->msg, prefix, pl);
    err->msg[pl] = ':';
    err->msg[pl + 1] = ' ';
}

void bz_error_clear(bz_error *err)
{
    if (err) {
        err->status = BZ_OK;
        err->msg[0] = '\0';
    }
}

const char *bz_strerror(int status)
{
    switch (status) {
    case BZ_OK: return "success";
    case BZ_E_INVALID_ARG: return "invalid argument";
    case BZ_E_NO_PLATFORM: return "no OpenCL platform installed";
    case BZ_E_NO_DEVICE: return "no matching OpenCL device";
    case BZ_E_OPENCL: return "OpenCL call failed";
    case BZ_E_BUILD: return "kernel compilation failed";
    case BZ_E_BLAS: return "CLBlast call failed";
    case BZ_E_NOMEM: return "out of host memory";
    case BZ_E_DEVICE_MEM: return "out of device memory";
    case BZ_E_IO: return "file input/output error";
    case BZ_E_FORMAT: return "corrupt or unrecognised file contents";
    case BZ_E_SHAPE: return "shapes do not fit";
    case BZ_E_SELFTEST: return "device failed its self-test";
    case BZ_E_DIVERGED: return "training diverged";
    case BZ_E_UNSUPPORTED: return "not supported";
    case BZ_E_INTERRUPTED: return "interrupted";
    case BZ_E_INTERNAL: return "internal error";
    default: return "unknown status code";
    }
}

const char *bz_cl_error_name(int code)
{
#define E(x) case x: return #x
    switch (code) {
    E(CL_SUCCESS); E(CL_DEVICE_NOT_FOUND); E(CL_DEVICE_NOT_AVAILABLE);
    E(CL_COMPILER_NOT_AVAILABLE); E(CL_MEM_OBJECT_ALLOCATION_FAILURE);
    E(CL_OUT_OF_RESOURCES); E(CL_OUT_OF_HOST_MEMORY); E(CL_PROFILING_INFO_NOT_AVAILABLE);
    E(CL_MEM_COPY_OVERLAP); E(CL_IMAGE_FORMAT_MISMATCH); E(CL_IMAGE_FORMAT_NOT_SUPPORTED);
    E(CL_BUILD_PROGRAM_FAILURE); E(CL_MAP_FAILURE); E(CL_MISALIGNED_SUB_BUFFER_OFFSET);
    E(CL_EXEC_STATUS_ERROR_FOR_EVENTS_IN_WAIT_LIST); E(CL_COMPILE_PROGRAM_FAILURE);
    E(CL_LINKER_NOT_AVAILABLE); E(CL_LINK_PROGRAM_FAILURE); E(CL_DEVICE_PARTITION_FAILED);
    E(CL_KERNEL_ARG_INFO_NOT_AVAILABLE); E(CL_INVALID_VALUE); E(CL_INVALID_DEVICE_TYPE);
    E(CL_INVALID_PLATFORM); E(CL_INVALID_DEVICE); E(CL_INVALID_CONTEXT);
    E(CL_INVALID_QUEUE_PROPERTIES); E(CL_INVALID_COMMAND_QUEUE); E(CL_INVALID_HOST_PTR);
    E(CL_INVALID_MEM_OBJECT); E(CL_INVALID_IMAGE_FORMAT_DESCRIPTOR); E(CL_INVALID_IMAGE_SIZE);
    E(CL_INVALID_SAMPLER); E(CL_INVALID_BINARY); E(CL_INVALID_BUILD_OPTIONS);
    E(CL_INVALID_PROGRAM); E(CL_INVALID_PROGRAM_EXECUTABLE); E(CL_INVALID_KERNEL_NAME);
    E(CL_INVALID_KERNEL_DEFINITION); E(CL_INVALID_KERNEL); E(CL_INVALID_ARG_INDEX);
    E(CL_INVALID_ARG_VALUE); E(CL_INVALID_ARG_SIZE); E(CL_INVALID_KERNEL_ARGS);
    E(CL_INVALID_WORK_DIMENSION); E(CL_INVALID_WORK_GROUP_SIZE); E(CL_INVALID_WORK_ITEM_SIZE);
    E(CL_INVALID_GLOBAL_OFFSET); E(CL_INVALID_EVENT_WAIT_LIST); E(CL_INVALID_EVENT);
    E(CL_INVALID_OPERATION); E(CL_INVALID_GL_OBJECT); E(CL_INVALID_BUFFER_SIZE);
    E(CL_INVALID_MIP_LEVEL); E(CL_INVALID_GLOBAL_WORK_SIZE); E(CL_INVALID_PROPERTY);
    E(CL_INVALID_IMAGE_DESCRIPTOR); E(CL_INVALID_COMPILER_OPTIONS); E(CL_INVALID_LINKER_OPTIONS);
    E(CL_INVALID_DEVICE_PARTITION_COUNT);
    case -1001: return "CL_PLATFORM_NOT_FOUND_KHR";
    default: {
        static _Thread_local char buf[48];
        snprintf(buf, sizeof buf, "CL_UNKNOWN_ERROR(%d)", code);
        return buf;
    }
    }
#undef E
}
