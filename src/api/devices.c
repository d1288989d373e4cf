/* Public device listing over the engine's device table. */
#include "engine/engine.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bz_status bz_devices_query(bz_device_desc **out, size_t *count)
{
    if (!out || !count)
        return BZ_E_INVALID_ARG;
    *out = NULL;
    *count = 0;
    bz_device_info *devs = NULL;
    size_t n = 0;
    bz_error err = {0};
    bz_status st = bz_devices_list(&devs, &n, &err);
    if (st)
        return st;
    bz_device_desc *d = calloc(n ? n : 1, sizeof *d);
    if (!d) {
        free(devs);
        return BZ_E_NOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        const bz_device_info *s = &devs[i];
        d[i].platform_index = s->platform_index;
        d[i].device_index = s->device_index;
        snprintf(d[i].platform, sizeof d[i].platform, "%s", s->platform_name);
        snprintf(d[i].name, sizeof d[i].name, "%s", s->name);
        snprintf(d[i].vendor, sizeof d[i].vendor, "%s", s->vendor);
        snprintf(d[i].driver, sizeof d[i].driver, "%s", s->driver);
        snprintf(d[i].version, sizeof d[i].version, "%s", s->version);
        d[i].is_gpu = (s->type & CL_DEVICE_TYPE_GPU) != 0;
        d[i].is_cpu = (s->type & CL_DEVICE_TYPE_CPU) != 0;
        d[i].compute_units = s->compute_units;
        d[i].global_mem = s->global_mem;
        d[i].max_alloc = s->max_alloc;
    }
    free(devs);
    *out = d;
    *count = n;
    return BZ_OK;
}

long bz_devices_pick(const bz_device_desc *devices, size_t count, const char *selector)
{
    if (!devices || !count)
        return -1;
    const char *text = selector ? selector : getenv("BOLTZCL_DEVICE");
    bz_device_selector sel;
    bz_error err = {0};
    if (bz_device_selector_parse(text, &sel, &err))
        return -1;
    /* The ranking reads only the fields a descriptor carries. */
    bz_device_info *info = calloc(count, sizeof *info);
    size_t *order = calloc(count, sizeof *order);
    long pick = -1;
    if (info && order) {
        for (size_t i = 0; i < count; i++) {
            info[i].platform_index = devices[i].platform_index;
            info[i].device_index = devices[i].device_index;
            snprintf(info[i].name, sizeof info[i].name, "%s", devices[i].name);
            snprintf(info[i].vendor, sizeof info[i].vendor, "%s", devices[i].vendor);
            info[i].type = devices[i].is_gpu   ? CL_DEVICE_TYPE_GPU
                           : devices[i].is_cpu ? CL_DEVICE_TYPE_CPU
                                               : CL_DEVICE_TYPE_ACCELERATOR;
        }
        if (bz_devices_rank(info, count, &sel, order) > 0)
            pick = (long)order[0];
    }
    free(info);
    free(order);
    return pick;
}
