/*
 * bz_context_create: the engine's context with the device set-up that lives
 * above it (CLBlast's tuning and temporary buffer from blas, the
 * known-answer self-test over ops and ref), and the library's version.
 */
#include "api/selftest.h"
#include "blas/gemm.h"
#include "engine/engine.h"

static const bz_device_hooks device_hooks = {
    .setup = bz_gemm_setup,
    .check = bz_selftest,
    .teardown = bz_gemm_forget_device,
};

bz_status bz_context_create(const bz_context_options *opts, bz_context **out)
{
    return bz_context_open(opts, &device_hooks, out);
}

unsigned bz_version_number(void)
{
    return BOLTZCL_VERSION_NUMBER;
}

const char *bz_version_string(void)
{
    return BOLTZCL_VERSION_STRING;
}

unsigned bz_abi_version(void)
{
    return BOLTZCL_ABI_VERSION;
}
