/* boltzcl tune (also the boltzcl-tune tool): options in, the library's tuner
 * (bz_tune_run) run. Public API only, so boltzcl-tune links just the shared
 * library. */
#include "cli/args.h"
#include "cli/cli.h"

#include <limits.h>
#include <stdio.h>

int bz_cmd_tune(int argc, char **argv)
{
    bz_tune_options o;
    bz_tune_options_init(&o);
    const char *device = NULL, *out = NULL, *state = NULL;
    double seconds = o.seconds, timeout = o.candidate_timeout;
    long reps = o.reps, seed = (long)o.seed, batch = LONG_MIN; /* LONG_MIN: not given */
    bool fresh = false;
    const bz_opt opts[] = {
        {"device", BZ_OPT_STRING, &device, "SEL", "device to tune (P:D, gpu, cpu, or name part)"},
        {"seconds", BZ_OPT_FLOAT, &seconds, "S", "search budget in seconds (default 600)"},
        {"out", BZ_OPT_STRING, &out, "FILE",
         "tuning file to update (default $XDG_CONFIG_HOME/boltzcl/tuning.jsonl)"},
        {"state", BZ_OPT_STRING, &state, "FILE",
         "progress file to resume from (default in $XDG_CACHE_HOME/boltzcl)"},
        {"fresh", BZ_OPT_FLAG, &fresh, NULL, "ignore the progress of an earlier run"},
        {"reps", BZ_OPT_INT, &reps, "N", "timed runs per shape, best kept (default 3)"},
        {"seed", BZ_OPT_INT, &seed, "N", "random seed of the search (default 1)"},
        {"batch", BZ_OPT_INT, &batch, "N",
         "tune the products of minibatches of N rows, for an entry used at that batch size "
         "only (default: batch-100 products, for the device's entry)"},
        {"timeout", BZ_OPT_FLOAT, &timeout, "S",
         "seconds before a candidate counts as hung (default 180)"},
        {0},
    };
    const char *pos[1];
    size_t npos = 0;
    int r = bz_args_parse("tune", "[options]", opts, argc, argv, pos, 0, &npos);
    if (r)
        return r > 0 ? 0 : 2;
    const char *c = "tune";
    if (bz_args_bad(c, !(seconds >= 0), "--seconds", ">= 0") ||
        bz_args_bad(c, reps < 1 || reps > 1000, "--reps", "between 1 and 1000") ||
        bz_args_bad(c, !(timeout > 0), "--timeout", "> 0") ||
        bz_args_bad(c, seed < 0, "--seed", ">= 0") ||
        bz_args_bad(c, batch != LONG_MIN && (batch < 1 || batch > 65536), "--batch",
                    "between 1 and 65536"))
        return 2;
    o.batch = batch > 0 ? (size_t)batch : 0;
    o.device = device;
    o.seconds = seconds;
    o.out = out;
    o.state = state;
    o.fresh = fresh;
    o.reps = (int)reps;
    o.seed = (unsigned long)seed;
    o.candidate_timeout = timeout;
    return bz_tune_run(&o);
}
