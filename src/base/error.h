/*
 * Error records shared by every layer. A bz_error carries the status and a
 * human-readable message naming the file, offset, OpenCL call or CLBlast
 * status involved; the context keeps one as its "last error".
 */
#ifndef BZ_BASE_ERROR_H
#define BZ_BASE_ERROR_H

#include "boltzcl.h"

#include <stdarg.h>

#define BZ_ERRMSG_MAX 2048

typedef struct bz_error {
    bz_status status;
    char msg[BZ_ERRMSG_MAX];
} bz_error;

/* Records status and a printf-style message; returns status so callers can
 * write `return bz_error_set(err, BZ_E_FORMAT, "...")`. err may be NULL. */
bz_status bz_error_set(bz_error *err, bz_status status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
bz_status bz_error_vset(bz_error *err, bz_status status, const char *fmt, va_list ap);

/* Prepends "prefix: " to an existing message, to add context on the way up. */
void bz_error_prefix(bz_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

void bz_error_clear(bz_error *err);

/* Symbolic name of an OpenCL error code ("CL_OUT_OF_RESOURCES"), or
 * "CL_UNKNOWN_ERROR(<n>)" in a static buffer for codes we do not know. */
const char *bz_cl_error_name(int code);

/* Symbolic name of a CLBlast status code. */
const char *bz_clblast_status_name(int code);

#endif
