/*
 * Known-answer self-test of a device (selftest.c), run by bz_context_create
 * on each candidate device unless skipped.
 */
#ifndef BZ_API_SELFTEST_H
#define BZ_API_SELFTEST_H

#include "engine/engine.h"

bz_status bz_selftest(bz_context *ctx);

#endif
