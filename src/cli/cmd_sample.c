/*
 * boltzcl sample: pictures of what a saved RBM has learned: Gibbs samples
 * (from noise, or from data with --from), reconstructions and filters.
 */
#include "cli/cli.h"
#include "cli/files.h"
#include "cli/rbm_common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void model_tiles(bz_rbm *rbm, size_t *th, size_t *tw)
{
    const char *h = bz_rbm_get_meta(rbm, "image_height"), *w = bz_rbm_get_meta(rbm, "image_width");
    bz_cli_tile_shape(rbm->nv, h ? strtoul(h, NULL, 10) : 0, w ? strtoul(w, NULL, 10) : 0, th, tw);
}

int bz_cmd_sample_rbm(int argc, char **argv)
{
    const char *model = NULL, *out = NULL, *from = NULL, *filters = NULL, *recon = NULL,
               *device = NULL;
    size_t n = 100, steps = 1000;
    long seed = 1;
    const bz_opt opts[] = {
        {"model", BZ_OPT_STRING, &model, "FILE", "the RBM"},
        {"out", BZ_OPT_STRING, &out, "PNG", "grid of Gibbs samples"},
        {"n", BZ_OPT_SIZE, &n, "N", "number of chains (100)"},
        {"steps", BZ_OPT_SIZE, &steps, "N", "Gibbs steps (1000)"},
        {"from", BZ_OPT_STRING, &from, "D", "start the chains from these data (default: noise)"},
        {"recon", BZ_OPT_STRING, &recon, "PNG", "originals and reconstructions of --from data"},
        {"filters", BZ_OPT_STRING, &filters, "PNG", "one tile per hidden unit"},
        {"seed", BZ_OPT_INT, &seed, "N", "random seed (1)"},
        {"device", BZ_OPT_STRING, &device, "SEL", "device (P:D, gpu, cpu, or name part)"},
        {0},
    };
    const char *pos[1];
    size_t npos;
    int pr = bz_args_parse("sample", "--model FILE --out PNG [options]", opts, argc, argv, pos, 0,
                           &npos);
    if (pr)
        return pr > 0 ? 0 : 2;
    if (!model || (!out && !filters && !recon)) {
        fprintf(stderr, "boltzcl sample: --model and at least one of --out, --filters, --recon "
                        "are required\n");
        return 2;
    }
    if (n == 0 || n > 10000 || steps == 0 || steps > 1000000 || seed < 0) {
        fprintf(stderr, "boltzcl sample: 1 <= --n <= 10000, 1 <= --steps <= 10^6, --seed >= 0\n");
        return 2;
    }
    if (recon && !from) {
        fprintf(stderr, "boltzcl sample: --recon needs --from DATA\n");
        return 2;
    }
    int files_rc = bz_cli_check_files(
        "sample", (const bz_file_arg[]){{"--model", model}, {"--from", from}, {0}},
        (const bz_file_arg[]){{"--out", out}, {"--filters", filters}, {"--recon", recon}, {0}},
        false);
    if (files_rc)
        return files_rc;
    bz_context *ctx = bz_cli_open(device, false);
    if (!ctx)
        return 1;
    int rc = 1;
    bz_rbm *rbm = NULL;
    bz_dataset ds = {0};
    bz_status st = bz_rbm_load(ctx, model, &rbm);
    if (st) {
        bz_cli_fail("sample", ctx, st);
        goto out;
    }
    size_t th, tw;
    model_tiles(rbm, &th, &tw);
    if (from && bz_cli_load_for_model("sample", from, rbm, &ds))
        goto out;
    if (from && n > ds.n)
        n = ds.n;
    if (out && bz_cli_write_samples("sample", rbm, n, (unsigned)steps, (uint64_t)seed,
                                    from ? ds.x : NULL, th, tw, out))
        goto out;
    if (filters && bz_cli_write_filters("sample", rbm, th, tw, filters))
        goto out;
    if (recon && bz_cli_write_recon("sample", rbm, &ds, n < 50 ? n : 50, th, tw, recon))
        goto out;
    rc = 0;
out:
    bz_dataset_free(&ds);
    bz_rbm_free(rbm);
    bz_context_free(ctx);
    return rc;
}
