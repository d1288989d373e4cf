/*
 * libFuzzer target: the --device / BOLTZCL_DEVICE selector parser, then the
 * ranking and the device listing of error messages over a fixed set of
 * made-up devices (no OpenCL call is made). Checks what the parser promises:
 * a selector that parses has a known kind, in-range indices and a trimmed,
 * non-empty, terminated name; one that does not has a message.
 */
#include "engine/engine.h"

#include <ctype.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fake_devices(bz_device_info *d)
{
    memset(d, 0, 3 * sizeof *d);
    static const char *const names[] = {"pthread-skylake-avx512", "NVIDIA GeForce RTX 4090",
                                        "gfx1100"};
    static const char *const vendors[] = {"AuthenticAMD", "NVIDIA Corporation",
                                          "Advanced Micro Devices, Inc."};
    static const cl_device_type types[] = {CL_DEVICE_TYPE_CPU, CL_DEVICE_TYPE_GPU,
                                           CL_DEVICE_TYPE_GPU | CL_DEVICE_TYPE_DEFAULT};
    for (unsigned i = 0; i < 3; i++) {
        d[i].platform_index = i == 0 ? 0 : 1;
        d[i].device_index = i == 2 ? 1 : 0;
        strcpy(d[i].name, names[i]);
        strcpy(d[i].vendor, vendors[i]);
        strcpy(d[i].platform_name, i == 0 ? "Portable Computing Language" : "Other");
        d[i].type = types[i];
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';

    bz_device_selector sel;
    bz_error err = {0};
    bz_status st = bz_device_selector_parse(text, &sel, &err);
    if (st == BZ_OK) {
        switch (sel.kind) {
        case BZ_SEL_AUTO:
        case BZ_SEL_GPU:
        case BZ_SEL_CPU: break;
        case BZ_SEL_INDEX:
            if (sel.platform > 1000 || sel.device > 1000)
                __builtin_trap();
            break;
        case BZ_SEL_NAME: {
            size_t len = strnlen(sel.name, sizeof sel.name);
            if (len == 0 || len == sizeof sel.name || isspace((unsigned char)sel.name[0]) ||
                isspace((unsigned char)sel.name[len - 1]) || !strstr(text, sel.name))
                __builtin_trap();
            break;
        }
        default: __builtin_trap();
        }
        bz_device_info devs[3];
        size_t order[3];
        fake_devices(devs);
        size_t n = bz_devices_rank(devs, 3, &sel, order);
        if (n > 3)
            __builtin_trap();
        for (size_t i = 0; i < n; i++)
            if (order[i] >= 3 || (i > 0 && order[i] == order[i - 1]))
                __builtin_trap();
        if (sel.kind == BZ_SEL_AUTO && n != 3)
            __builtin_trap();
        /* The "no device matches" message, into a buffer that may be short. */
        char list[64 + 1];
        size_t cap = 1 + (size > 0 ? data[0] % 64 : 0);
        list[0] = '\0';
        bz_devices_describe(devs, 3, list, cap);
        if (strlen(list) >= cap)
            __builtin_trap();
    } else if (st != BZ_E_INVALID_ARG || err.status != st || err.msg[0] == '\0') {
        __builtin_trap();
    }
    free(text);
    return 0;
}
