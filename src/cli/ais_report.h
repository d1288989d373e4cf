/* The AIS figures eval prints for an RBM and for a DBM (ais_report.c). */
#ifndef BZ_CLI_AIS_REPORT_H
#define BZ_CLI_AIS_REPORT_H

#include "boltzcl.h"

#include <json-c/json.h>
#include <stdio.h>

/* Both estimates of log Z (forward AIS res and reverse AIS rev, with their
 * intervals, the runs and betas used and the seconds each took) as lines of
 * txt and as the log_z* members of o, with the warning when the intervals
 * do not meet. What log Z implies for the model is the caller's. */
void bz_cli_ais_report(FILE *txt, json_object *o, const bz_ais_result *res,
                       const bz_ais_result *rev, size_t runs, size_t betas, double secs,
                       double rsecs);

#endif
