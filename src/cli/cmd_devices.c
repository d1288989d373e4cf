/* boltzcl devices: what OpenCL offers here and what boltzcl would use. */
#include "cli/cli.h"
#include "engine/engine.h"
#include "tuning/apply.h"

#include <stdio.h>
#include <stdlib.h>

static const char *type_str(cl_device_type t)
{
    if (t & CL_DEVICE_TYPE_GPU)
        return "GPU";
    if (t & CL_DEVICE_TYPE_ACCELERATOR)
        return "accelerator";
    if (t & CL_DEVICE_TYPE_CPU)
        return "CPU";
    return "other";
}

int bz_cmd_devices(int argc, char **argv)
{
    const char *device = NULL;
    bool check = false;
    const bz_opt opts[] = {
        {"device", BZ_OPT_STRING, &device, "SEL", "selection to evaluate (default $BOLTZCL_DEVICE)"},
        {"check", BZ_OPT_FLAG, &check, NULL, "open the picked device and run its self-test"},
        {0},
    };
    const char *pos[1];
    size_t npos;
    int r = bz_args_parse("devices", "[--device SEL] [--check]", opts, argc, argv, pos, 0, &npos);
    if (r)
        return r > 0 ? 0 : 2;
    if (!device)
        device = getenv("BOLTZCL_DEVICE");

    bz_error err = {0};
    bz_device_info *devs = NULL;
    size_t n = 0;
    bz_status st = bz_devices_list(&devs, &n, &err);
    if (st != BZ_OK) {
        fprintf(stderr, "boltzcl devices: %s\n", err.msg);
        return 1;
    }
    bz_device_selector sel;
    size_t *order = calloc(n, sizeof *order);
    size_t picked = (size_t)-1;
    int rc = 0;
    st = bz_device_selector_parse(device, &sel, &err);
    if (st != BZ_OK) {
        fprintf(stderr, "boltzcl devices: %s\n", err.msg);
        rc = 2;
    } else if (order && bz_devices_rank(devs, n, &sel, order) > 0) {
        picked = order[0];
    }

    unsigned last_platform = (unsigned)-1;
    for (size_t i = 0; i < n; i++) {
        const bz_device_info *d = &devs[i];
        if (d->platform_index != last_platform) {
            printf("platform %u: %s\n", d->platform_index, d->platform_name);
            last_platform = d->platform_index;
        }
        printf("%s %u:%u  %s\n", i == picked ? "*" : " ", d->platform_index, d->device_index,
               d->name);
        printf("        type %s, vendor %s%s\n", type_str(d->type), d->vendor,
               d->is_pocl ? ", POCL" : "");
        printf("        driver %s, %s\n", d->driver, d->version);
        printf("        %u compute units, %llu MiB global memory (largest buffer %llu MiB), "
               "%llu KiB local, work-group <= %zu\n",
               d->compute_units, (unsigned long long)(d->global_mem >> 20),
               (unsigned long long)(d->max_alloc >> 20), (unsigned long long)(d->local_mem >> 10),
               d->max_work_group);
    }
    if (rc == 0) {
        if (picked == (size_t)-1) {
            printf("\nno device matches the selection '%s'\n", device ? device : "");
            rc = 1;
        } else {
            printf("\n* = the device boltzcl picks%s%s%s\n", device ? " for '" : "",
                   device ? device : "", device ? "'" : " (set BOLTZCL_DEVICE or --device to choose)");
        }
    }
    if (rc == 0 && check) {
        double t0 = bz_now();
        bz_context *ctx = bz_cli_open(device, false);
        if (!ctx) {
            rc = 1;
        } else {
            printf("self-test passed on %s (%.2f s including kernel builds)\n", bz_device_name(ctx),
                   bz_now() - t0);
            printf("tuning in force: %s\n", ctx->tuning_source);
            for (size_t i = 0; ctx->tuning && i < ctx->tuning->n_batches; i++)
                printf("  at batch %zu, laid over it: %s\n", ctx->tuning->batches[i].batch,
                       ctx->tuning->batches[i].source);
            bz_context_free(ctx);
        }
    }
    free(order);
    free(devs);
    return rc;
}
