/*
 * boltzcl eval: how good a saved RBM is on some data. Reconstruction error,
 * pseudo-log-likelihood and mean free energy always; with --ais the
 * partition function by annealed importance sampling and the average
 * log-likelihood it implies, plus the exact value when a layer is small.
 */
#include "cli/ais_report.h"
#include "cli/cli.h"
#include "cli/files.h"
#include "cli/rbm_common.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EXACT_LIMIT 20

/* eval on a DBN scores its classifier, as predict does, and takes only the
 * options both share; anything else is refused here under eval's name,
 * rather than by predict's parser as "boltzcl predict: unknown option". */
int bz_cmd_eval_dbn(int argc, char **argv)
{
    static const char *const shared[] = {"--model", "--data", "--json", "--device"};
    for (int i = 0; i < argc; i++) {
        if (strncmp(argv[i], "--", 2) != 0)
            continue;
        size_t len = strcspn(argv[i], "=");
        bool known = false;
        for (size_t k = 0; k < sizeof shared / sizeof *shared; k++)
            known = known || (strlen(shared[k]) == len && !strncmp(argv[i], shared[k], len));
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
            known = true;
        if (!known) {
            fprintf(stderr, "boltzcl eval: %.*s does not apply to a DBN: eval on a DBN scores its "
                            "classifier (accuracy, as predict does) and takes --model, --data, "
                            "--json and --device; --ais and its options are for RBM and DBM "
                            "files\n", (int)len, argv[i]);
            return 2;
        }
        if (strcmp(argv[i], "--json") != 0 && !argv[i][len] && i + 1 < argc)
            i++; /* its value */
    }
    return bz_cmd_predict_dbn(argc, argv);
}

int bz_cmd_eval_rbm(int argc, char **argv)
{
    const char *model = NULL, *data = NULL, *device = NULL, *base = NULL;
    bool json = false, ais = false;
    size_t runs = 100, betas = 10000, limit = 0;
    long seed = 1;
    const bz_opt opts[] = {
        {"model", BZ_OPT_STRING, &model, "FILE", "the RBM to evaluate"},
        {"data", BZ_OPT_STRING, &data, "D", "data (default: the model's test split)"},
        {"rows", BZ_OPT_SIZE, &limit, "N", "use only the first N rows"},
        {"ais", BZ_OPT_FLAG, &ais, NULL, "estimate log Z by annealed importance sampling"},
        {"ais-runs", BZ_OPT_SIZE, &runs, "N", "AIS runs (100)"},
        {"ais-betas", BZ_OPT_SIZE, &betas, "N", "AIS intermediate distributions (10000)"},
        {"ais-base", BZ_OPT_STRING, &base, "D", "data for the base-rate model (default: --data)"},
        {"seed", BZ_OPT_INT, &seed, "N", "random seed (1)"},
        {"json", BZ_OPT_FLAG, &json, NULL, "print the figures as JSON on stdout"},
        {"device", BZ_OPT_STRING, &device, "SEL", "device (P:D, gpu, cpu, or name part)"},
        {0},
    };
    const char *pos[1];
    size_t npos;
    int pr = bz_args_parse("eval", "--model FILE [--data D] [--ais] [options]", opts, argc, argv,
                           pos, 0, &npos);
    if (pr)
        return pr > 0 ? 0 : 2;
    if (!model) {
        fprintf(stderr, "boltzcl eval: --model is required\n");
        return 2;
    }
    if (runs == 0 || betas < 10 || seed < 0) {
        fprintf(stderr, "boltzcl eval: --ais-runs >= 1, --ais-betas >= 10, --seed >= 0\n");
        return 2;
    }
    bz_context *ctx = bz_cli_open(device, false);
    if (!ctx)
        return 1;
    int rc = 1;
    bz_rbm *rbm = NULL;
    bz_dataset ds = {0}, bs = {0};
    bz_data *d = NULL, *db = NULL;
    json_object *o = json_object_new_object();
    bz_status st = bz_rbm_load(ctx, model, &rbm);
    if (st) {
        bz_cli_fail("eval", ctx, st);
        goto out;
    }
    if (!data) {
        data = bz_cli_default_eval_data("eval", bz_rbm_get_meta(rbm, "data"));
        if (!data)
            goto out;
    }
    if (bz_cli_load_for_model("eval", data, rbm, &ds))
        goto out;
    size_t n = limit && limit < ds.n ? limit : ds.n;
    if ((st = bz_data_create(ctx, ds.x, n, ds.dim, &d))) {
        bz_cli_fail("eval", ctx, st);
        goto out;
    }
    double mse, fe, pll = NAN;
    if ((st = bz_rbm_reconstruction_error(rbm, d, &mse)) ||
        (st = bz_rbm_mean_free_energy(rbm, d, &fe))) {
        bz_cli_fail("eval", ctx, st);
        goto out;
    }
    bool binary = rbm->vis->binary;
    if (binary && (st = bz_rbm_pseudo_log_likelihood(rbm, d, (uint64_t)seed, &pll))) {
        bz_cli_fail("eval", ctx, st);
        goto out;
    }
    FILE *txt = json ? stderr : stdout;
    fprintf(txt, "model %s: %zu-%zu RBM (%s visible), %zu rows of %s\n", bz_cli_safe(model),
            rbm->nv, rbm->nh, rbm->vis->name, n, bz_cli_safe(data));
    fprintf(txt, "  recon_mse          %.6f\n  mean_free_energy   %.4f\n", mse, fe);
    if (binary)
        fprintf(txt, "  pseudo_ll          %.4f\n", pll);
    json_object_object_add(o, "rows", json_object_new_int64((int64_t)n));
    json_object_object_add(o, "recon_mse", json_object_new_double(mse));
    json_object_object_add(o, "mean_free_energy", json_object_new_double(fe));
    json_object_object_add(o, "pseudo_ll", binary ? json_object_new_double(pll) : NULL);

    /* With the exact log Z every derived figure uses it (log_z_used). */
    bool small = rbm->nh <= EXACT_LIMIT || (binary && rbm->nv <= EXACT_LIMIT);
    double lz = NAN;
    if (small) {
        if ((st = bz_rbm_exact_log_z(rbm, &lz))) {
            bz_cli_fail("eval", ctx, st);
            goto out;
        }
        fprintf(txt, "  exact_log_z        %.4f\n  exact avg log-lik  %.4f\n", lz, -fe - lz);
        json_object_object_add(o, "exact_log_z", json_object_new_double(lz));
        json_object_object_add(o, "exact_avg_log_likelihood", json_object_new_double(-fe - lz));
    }
    if (ais) {
        bz_data *basedata = d;
        if (base) {
            if (bz_cli_load_for_model("eval", base, rbm, &bs))
                goto out;
            if ((st = bz_data_create(ctx, bs.x, bs.n, bs.dim, &db))) {
                bz_cli_fail("eval", ctx, st);
                goto out;
            }
            basedata = db;
        }
        bz_ais_options ao;
        bz_ais_options_init(&ao);
        ao.runs = (unsigned)runs;
        ao.betas = (unsigned)betas;
        ao.seed = (uint64_t)seed;
        bz_ais_result res, rev;
        double t0 = bz_now();
        if ((st = bz_rbm_ais(rbm, basedata, &ao, &res))) {
            bz_cli_fail("eval", ctx, st);
            goto out;
        }
        double secs = bz_now() - t0;
        t0 = bz_now();
        if ((st = bz_rbm_ais_reverse(rbm, d, basedata, &ao, &rev))) {
            bz_cli_fail("eval", ctx, st);
            goto out;
        }
        double rsecs = bz_now() - t0;
        bz_cli_ais_report(txt, o, &res, &rev, runs, betas, secs, rsecs);
        double used = isnan(lz) ? res.log_z : lz;
        fprintf(txt, "  avg_log_likelihood %.4f  (%s log Z", -fe - used, isnan(lz) ? "AIS" : "the exact");
        if (isnan(lz))
            fprintf(txt, "; %.4f with the reverse estimate", -fe - rev.log_z);
        fprintf(txt, ")\n");
        json_object_object_add(o, "avg_log_likelihood", json_object_new_double(-fe - used));
        json_object_object_add(o, "avg_log_likelihood_reverse",
                               json_object_new_double(-fe - rev.log_z));
        json_object_object_add(o, "ais_seconds", json_object_new_double(secs));
        json_object_object_add(o, "reverse_ais_seconds", json_object_new_double(rsecs));
    }
    json_object_object_add(o, "log_z_used", json_object_new_string(
                                                small ? "exact" : ais ? "ais" : "none"));
    if (json)
        bz_cli_print_json(o);
    rc = 0;
out:
    json_object_put(o);
    bz_data_free(d);
    bz_data_free(db);
    bz_dataset_free(&ds);
    bz_dataset_free(&bs);
    bz_rbm_free(rbm);
    bz_context_free(ctx);
    return rc;
}
