/*
 * Two helpers the model and kernel-launch files share: the early return that passes a failed
 * call's status up unchanged (the context already holds the detailed
 * message), and a monotonic clock for the epoch timings.
 */
#ifndef BZ_ENGINE_CHECK_H
#define BZ_ENGINE_CHECK_H

#include "boltzcl.h"

#include <time.h>

#define CHECK(x)            \
    do {                    \
        bz_status c_ = (x); \
        if (c_)             \
            return c_;      \
    } while (0)

static inline double bz_mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

#endif
