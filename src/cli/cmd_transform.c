/* boltzcl transform: hidden-unit probabilities as features, as .npy or CSV. */
#include "cli/cli.h"
#include "cli/files.h"
#include "cli/rbm_common.h"
#include "io/csv.h"
#include "io/npy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}

int bz_cmd_transform_rbm(int argc, char **argv)
{
    const char *model = NULL, *data = NULL, *out = NULL, *device = NULL;
    const bz_opt opts[] = {
        {"model", BZ_OPT_STRING, &model, "FILE", "the RBM"},
        {"data", BZ_OPT_STRING, &data, "D", "rows to transform"},
        {"out", BZ_OPT_STRING, &out, "FILE", "features: .npy, or .csv (label column first when "
                                             "the data has labels)"},
        {"device", BZ_OPT_STRING, &device, "SEL", "device (P:D, gpu, cpu, or name part)"},
        {0},
    };
    const char *pos[1];
    size_t npos;
    int pr = bz_args_parse("transform", "--model FILE --data D --out FILE", opts, argc, argv, pos,
                           0, &npos);
    if (pr)
        return pr > 0 ? 0 : 2;
    if (!model || !data || !out) {
        fprintf(stderr, "boltzcl transform: --model, --data and --out are required\n");
        return 2;
    }
    bool npy = ends_with(out, ".npy");
    if (!npy && !ends_with(out, ".csv")) {
        fprintf(stderr, "boltzcl transform: --out must end in .npy or .csv\n");
        return 2;
    }
    int files_rc = bz_cli_check_files("transform",
                                (const bz_file_arg[]){{"--model", model}, {"--data", data}, {0}},
                                (const bz_file_arg[]){{"--out", out}, {0}}, false);
    if (files_rc)
        return files_rc;
    bz_context *ctx = bz_cli_open(device, false);
    if (!ctx)
        return 1;
    int rc = 1;
    bz_rbm *rbm = NULL;
    bz_dataset ds = {0};
    float *h = NULL;
    bz_status st = bz_rbm_load(ctx, model, &rbm);
    if (st) {
        bz_cli_fail("transform", ctx, st);
        goto out;
    }
    if (bz_cli_load_for_model("transform", data, rbm, &ds))
        goto out;
    h = malloc(ds.n * rbm->nh * sizeof *h);
    if (!h) {
        fprintf(stderr, "boltzcl transform: out of memory\n");
        goto out;
    }
    if ((st = bz_rbm_transform(rbm, ds.x, ds.n, h))) {
        bz_cli_fail("transform", ctx, st);
        goto out;
    }
    bz_error err = {0};
    st = npy ? bz_npy_write_f32_2d(out, h, ds.n, rbm->nh, &err)
             : bz_csv_write(out, h, ds.n, rbm->nh, ds.labels, 1, &err);
    if (st) {
        fprintf(stderr, "boltzcl transform: %s\n", err.msg);
        goto out;
    }
    fprintf(stderr, "wrote %zu x %zu features to %s\n", ds.n, rbm->nh, out);
    rc = 0;
out:
    free(h);
    bz_dataset_free(&ds);
    bz_rbm_free(rbm);
    bz_context_free(ctx);
    return rc;
}
