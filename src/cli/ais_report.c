#include "cli/ais_report.h"

#include <math.h>

/* An interval's unbounded end is null in JSON. */
static json_object *finite_or_null(double x)
{
    return isfinite(x) ? json_object_new_double(x) : NULL;
}

void bz_cli_ais_report(FILE *txt, json_object *o, const bz_ais_result *res,
                       const bz_ais_result *rev, size_t runs, size_t betas, double secs,
                       double rsecs)
{
    fprintf(txt, "  log_z (AIS)        %.4f +- %.4f  (%.4f .. %.4f, log of the mean weight "
                 "-+ 3 standard errors; %zu runs, %zu betas, %.1f s)\n",
            res->log_z, res->log_z_sd, res->log_z_lo, res->log_z_hi, runs, betas, secs);
    fprintf(txt, "  log_z (reverse)    %.4f +- %.4f  (%.4f .. %.4f; from the data's "
                 "posteriors, errs high where AIS errs low; %.1f s)\n",
            rev->log_z, rev->log_z_sd, rev->log_z_lo, rev->log_z_hi, rsecs);
    if (rev->log_z_lo > res->log_z_hi || res->log_z_lo > rev->log_z_hi)
        fprintf(txt, "  warning: AIS and reverse AIS disagree by %.2f nats: neither "
                     "estimate is reliable; more --ais-betas or --ais-runs may help\n",
                fabs(rev->log_z - res->log_z));
    json_object_object_add(o, "log_z", json_object_new_double(res->log_z));
    json_object_object_add(o, "log_z_sd", json_object_new_double(res->log_z_sd));
    json_object_object_add(o, "log_z_lo", finite_or_null(res->log_z_lo));
    json_object_object_add(o, "log_z_hi", finite_or_null(res->log_z_hi));
    json_object_object_add(o, "log_z_reverse", json_object_new_double(rev->log_z));
    json_object_object_add(o, "log_z_reverse_sd", json_object_new_double(rev->log_z_sd));
    json_object_object_add(o, "log_z_reverse_lo", finite_or_null(rev->log_z_lo));
    json_object_object_add(o, "log_z_reverse_hi", finite_or_null(rev->log_z_hi));
}
