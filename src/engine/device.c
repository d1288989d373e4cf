/*
 * Finding devices and choosing one. Every query goes through one path so a
 * missing ICD, an empty platform or an odd driver gives one clear message.
 */
#include "engine/engine.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_PLATFORMS 16
#define MAX_DEVICES_PER_PLATFORM 64

static void query_str(cl_device_id d, cl_device_info what, char *buf, size_t size)
{
    buf[0] = '\0';
    if (clGetDeviceInfo(d, what, size, buf, NULL) != CL_SUCCESS)
        snprintf(buf, size, "?");
    buf[size - 1] = '\0';
    /* Some drivers pad names with spaces. */
    size_t n = strlen(buf);
    while (n > 0 && isspace((unsigned char)buf[n - 1]))
        buf[--n] = '\0';
}

static bool contains_nocase(const char *hay, const char *needle)
{
    size_t hn = strlen(hay), nn = strlen(needle);
    if (nn == 0)
        return true;
    for (size_t i = 0; i + nn <= hn; i++) {
        size_t j = 0;
        while (j < nn && tolower((unsigned char)hay[i + j]) == tolower((unsigned char)needle[j]))
            j++;
        if (j == nn)
            return true;
    }
    return false;
}

bz_status bz_devices_list(bz_device_info **out, size_t *count, bz_error *err)
{
    *out = NULL;
    *count = 0;
    cl_platform_id plats[MAX_PLATFORMS];
    cl_uint np = 0;
    cl_int rc = clGetPlatformIDs(MAX_PLATFORMS, plats, &np);
    if (rc == -1001 /* CL_PLATFORM_NOT_FOUND_KHR */ || (rc == CL_SUCCESS && np == 0))
        return bz_error_set(err, BZ_E_NO_PLATFORM,
                            "no OpenCL platform is installed; for the CPU, install POCL: "
                            "apt-get install pocl-opencl-icd (GPU users: the vendor's OpenCL "
                            "ICD, e.g. nvidia-opencl-icd, mesa-opencl-icd or intel-opencl-icd)");
    if (rc != CL_SUCCESS)
        return bz_error_set(err, BZ_E_OPENCL, "clGetPlatformIDs failed: %s (%d)",
                            bz_cl_error_name(rc), (int)rc);
    if (np > MAX_PLATFORMS)
        np = MAX_PLATFORMS;

    size_t cap = 8, n = 0;
    bz_device_info *devs = calloc(cap, sizeof *devs);
    if (!devs)
        return bz_error_set(err, BZ_E_NOMEM, "out of memory listing devices");
    for (cl_uint p = 0; p < np; p++) {
        char pname[128] = "?";
        clGetPlatformInfo(plats[p], CL_PLATFORM_NAME, sizeof pname, pname, NULL);
        pname[sizeof pname - 1] = '\0';
        cl_device_id ids[MAX_DEVICES_PER_PLATFORM];
        cl_uint nd = 0;
        rc = clGetDeviceIDs(plats[p], CL_DEVICE_TYPE_ALL, MAX_DEVICES_PER_PLATFORM, ids, &nd);
        if (rc == CL_DEVICE_NOT_FOUND || nd == 0)
            continue; /* an empty platform is not an error */
        if (rc != CL_SUCCESS)
            continue;
        if (nd > MAX_DEVICES_PER_PLATFORM)
            nd = MAX_DEVICES_PER_PLATFORM;
        for (cl_uint d = 0; d < nd; d++) {
            if (n == cap) {
                bz_device_info *grown = realloc(devs, 2 * cap * sizeof *devs);
                if (!grown) {
                    free(devs);
                    return bz_error_set(err, BZ_E_NOMEM, "out of memory listing devices");
                }
                devs = grown;
                cap *= 2;
            }
            bz_device_info *di = &devs[n++];
            memset(di, 0, sizeof *di);
            di->platform = plats[p];
            di->id = ids[d];
            di->platform_index = p;
            di->device_index = d;
            snprintf(di->platform_name, sizeof di->platform_name, "%s", pname);
            query_str(ids[d], CL_DEVICE_NAME, di->name, sizeof di->name);
            query_str(ids[d], CL_DEVICE_VENDOR, di->vendor, sizeof di->vendor);
            query_str(ids[d], CL_DRIVER_VERSION, di->driver, sizeof di->driver);
            query_str(ids[d], CL_DEVICE_VERSION, di->version, sizeof di->version);
            clGetDeviceInfo(ids[d], CL_DEVICE_TYPE, sizeof di->type, &di->type, NULL);
            clGetDeviceInfo(ids[d], CL_DEVICE_MAX_COMPUTE_UNITS, sizeof di->compute_units,
                            &di->compute_units, NULL);
            clGetDeviceInfo(ids[d], CL_DEVICE_GLOBAL_MEM_SIZE, sizeof di->global_mem,
                            &di->global_mem, NULL);
            clGetDeviceInfo(ids[d], CL_DEVICE_MAX_MEM_ALLOC_SIZE, sizeof di->max_alloc,
                            &di->max_alloc, NULL);
            clGetDeviceInfo(ids[d], CL_DEVICE_LOCAL_MEM_SIZE, sizeof di->local_mem,
                            &di->local_mem, NULL);
            clGetDeviceInfo(ids[d], CL_DEVICE_MAX_WORK_GROUP_SIZE, sizeof di->max_work_group,
                            &di->max_work_group, NULL);
            di->is_pocl = contains_nocase(pname, "Portable Computing Language") ||
                          contains_nocase(di->version, "pocl");
        }
    }
    if (n == 0) {
        free(devs);
        return bz_error_set(err, BZ_E_NO_PLATFORM,
                            "%u OpenCL platform(s) found but none has a device; for the CPU, "
                            "install POCL: apt-get install pocl-opencl-icd",
                            (unsigned)np);
    }
    *out = devs;
    *count = n;
    return BZ_OK;
}

bz_status bz_device_selector_parse(const char *text, bz_device_selector *sel, bz_error *err)
{
    memset(sel, 0, sizeof *sel);
    sel->kind = BZ_SEL_AUTO;
    if (!text)
        return BZ_OK;
    while (isspace((unsigned char)*text))
        text++;
    size_t len = strlen(text);
    while (len > 0 && isspace((unsigned char)text[len - 1]))
        len--;
    if (len == 0 || (len == 4 && strncasecmp(text, "auto", 4) == 0))
        return BZ_OK;
    if (len >= sizeof sel->name)
        return bz_error_set(err, BZ_E_INVALID_ARG, "device selector '%.*s' is too long",
                            (int)len, text);
    char buf[sizeof sel->name];
    memcpy(buf, text, len);
    buf[len] = '\0';

    if (strcasecmp(buf, "gpu") == 0) {
        sel->kind = BZ_SEL_GPU;
        return BZ_OK;
    }
    if (strcasecmp(buf, "cpu") == 0) {
        sel->kind = BZ_SEL_CPU;
        return BZ_OK;
    }
    /* "P:D": both parts all digits. Anything else with a colon and digits is
     * almost certainly a typo of this form, so it is rejected, not matched
     * as a name. */
    const char *colon = strchr(buf, ':');
    bool digits_or_colon = true;
    for (const char *c = buf; *c; c++)
        if (!isdigit((unsigned char)*c) && *c != ':')
            digits_or_colon = false;
    if (colon && digits_or_colon) {
        char *end = NULL;
        unsigned long p = strtoul(buf, &end, 10);
        if (end != colon || colon == buf)
            goto bad_index;
        unsigned long d = strtoul(colon + 1, &end, 10);
        if (*end != '\0' || end == colon + 1 || p > 1000 || d > 1000)
            goto bad_index;
        sel->kind = BZ_SEL_INDEX;
        sel->platform = (unsigned)p;
        sel->device = (unsigned)d;
        return BZ_OK;
    }
    if (digits_or_colon)
        goto bad_index;
    sel->kind = BZ_SEL_NAME;
    memcpy(sel->name, buf, len + 1);
    return BZ_OK;

bad_index:
    return bz_error_set(err, BZ_E_INVALID_ARG,
                        "invalid device selector '%s': use P:D (platform and device index, "
                        "e.g. 0:1), gpu, cpu, or part of a device name",
                        buf);
}

static int type_rank(cl_device_type t)
{
    if (t & CL_DEVICE_TYPE_GPU)
        return 0;
    if (t & CL_DEVICE_TYPE_ACCELERATOR)
        return 1;
    if (t & CL_DEVICE_TYPE_CPU)
        return 2;
    return 3;
}

size_t bz_devices_rank(const bz_device_info *devs, size_t count, const bz_device_selector *sel,
                       size_t *order)
{
    size_t n = 0;
    for (size_t i = 0; i < count; i++) {
        const bz_device_info *d = &devs[i];
        bool ok = false;
        switch (sel->kind) {
        case BZ_SEL_AUTO: ok = true; break;
        case BZ_SEL_INDEX:
            ok = d->platform_index == sel->platform && d->device_index == sel->device;
            break;
        case BZ_SEL_GPU: ok = (d->type & CL_DEVICE_TYPE_GPU) != 0; break;
        case BZ_SEL_CPU: ok = (d->type & CL_DEVICE_TYPE_CPU) != 0; break;
        case BZ_SEL_NAME:
            ok = contains_nocase(d->name, sel->name) || contains_nocase(d->vendor, sel->name);
            break;
        }
        if (ok)
            order[n++] = i;
    }
    /* Stable insertion sort: GPUs first, then by discovery order. */
    for (size_t i = 1; i < n; i++) {
        size_t v = order[i], j = i;
        while (j > 0 && type_rank(devs[order[j - 1]].type) > type_rank(devs[v].type)) {
            order[j] = order[j - 1];
            j--;
        }
        order[j] = v;
    }
    return n;
}

static const char *type_name(cl_device_type t)
{
    if (t & CL_DEVICE_TYPE_GPU)
        return "GPU";
    if (t & CL_DEVICE_TYPE_ACCELERATOR)
        return "accelerator";
    if (t & CL_DEVICE_TYPE_CPU)
        return "CPU";
    return "other";
}

void bz_devices_describe(const bz_device_info *devs, size_t count, char *buf, size_t size)
{
    size_t used = strlen(buf);
    for (size_t i = 0; i < count && used + 1 < size; i++) {
        int w = snprintf(buf + used, size - used, "\n  %u:%u  %s (%s, %s)",
                         devs[i].platform_index, devs[i].device_index, devs[i].name,
                         type_name(devs[i].type), devs[i].platform_name);
        if (w < 0)
            break;
        used += (size_t)w;
        if (used >= size)
            used = size - 1;
    }
}
