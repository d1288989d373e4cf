/* boltzcl anneal: Max-Cut, QUBO and Ising problems by simulated annealing or
 * parallel tempering on the device. */
#include "cli/cli.h"
#include "cli/files.h"
#include "cli/rbm_common.h"
#include "models/ising.h"
#include "models/model.h"

#include <json-c/json.h>
#include <math.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static volatile int stop_requested;

static void on_sigint(int sig)
{
    (void)sig;
    stop_requested = 1;
}

typedef struct trace {
    const bz_ising *p;
    FILE *log;  /* human lines, NULL when quiet */
    json_object *points;
} trace;

/* Energies over time: one line (and one JSON point) per improvement. */
static void on_progress(void *user, double seconds, double best, uint64_t sweeps)
{
    trace *t = user;
    double obj = bz_ising_objective(t->p, best);
    if (t->log)
        fprintf(t->log, "  %9.3f s  sweep %10llu  best %s %.10g\n", seconds,
                (unsigned long long)sweeps,
                bz_ising_kind(t->p) == BZ_PROBLEM_MAXCUT ? "cut" : "energy", obj);
    if (t->points) {
        json_object *pt = json_object_new_array();
        json_object_array_add(pt, json_object_new_double(seconds));
        json_object_array_add(pt, json_object_new_double(obj));
        json_object_array_add(t->points, pt);
    }
}

int bz_cmd_anneal(int argc, char **argv)
{
    const char *problem = NULL, *out = NULL, *device = NULL, *schedule = "geometric";
    const char *save_problem = NULL;
    const char *scheme_s = "auto";
    bool maxcut = false, qubo = false, ising = false, pt = false, json = false, quiet = false;
    size_t replicas = 0, sweeps = 0, sweeps_max = 0, spb = 1, restarts = 0, temps = 0, exchange = 10;
    long seed = 1;
    double target = NAN, seconds = 0, beta_min = 0, beta_max = 0;
    const bz_opt opts[] = {
        {"problem", BZ_OPT_STRING, &problem, "FILE", "the problem (README: formats)"},
        {"maxcut", BZ_OPT_FLAG, &maxcut, NULL, "Max-Cut, G-set/rudy text or a dense adjacency "
                                                "matrix (default for text files)"},
        {"qubo", BZ_OPT_FLAG, &qubo, NULL, "QUBO: minimise x'Qx over x in {0,1}"},
        {"ising", BZ_OPT_FLAG, &ising, NULL, "Ising: minimise sum J s s + sum h s over s = +-1 "
                                              "(default for .npy/.safetensors)"},
        {"replicas", BZ_OPT_SIZE, &replicas, "R", "replicas at once (default: for the device); "
                                                  "with --pt, ladders x temperatures"},
        {"sweeps", BZ_OPT_SIZE, &sweeps, "S", "sweeps of one anneal (1000); with --pt, "
                                              "in all (10000, or unlimited with --seconds)"},
        {"sweeps-max", BZ_OPT_SIZE, &sweeps_max, "N", "anneal k runs min(S 2^k, N) sweeps: "
                                                      "early answers, then longer anneals"},
        {"sweeps-per-beta", BZ_OPT_SIZE, &spb, "N", "sweeps at each temperature (1)"},
        {"restarts", BZ_OPT_SIZE, &restarts, "N", "anneals per replica (1; with --seconds: "
                                                  "until the time is up)"},
        {"schedule", BZ_OPT_STRING, &schedule, "S", "geometric or linear in beta"},
        {"beta-min", BZ_OPT_FLOAT, &beta_min, "B", "hottest inverse temperature (from the "
                                                   "problem's scale)"},
        {"beta-max", BZ_OPT_FLOAT, &beta_max, "B", "coldest inverse temperature (idem)"},
        {"pt", BZ_OPT_FLAG, &pt, NULL, "parallel tempering instead of annealing"},
        {"temps", BZ_OPT_SIZE, &temps, "K", "temperatures of the --pt ladder (from the "
                                                "problem's size and scale)"},
        {"exchange-every", BZ_OPT_SIZE, &exchange, "N", "sweeps between --pt exchanges (10)"},
        {"scheme", BZ_OPT_STRING, &scheme_s, "S", "spin updates: auto, replica (a work-item "
                                                  "per replica) or colour (a work-group per "
                                                  "replica, colour classes in parallel)"},
        {"target", BZ_OPT_FLOAT, &target, "V", "stop at this objective (cut for Max-Cut, "
                                               "else energy) and report the time to it"},
        {"seconds", BZ_OPT_FLOAT, &seconds, "T", "stop after T seconds of sampling"},
        {"seed", BZ_OPT_INT, &seed, "N", "random seed (1)"},
        {"out", BZ_OPT_STRING, &out, "FILE", "write the best assignment, one value per line"},
        {"save-problem", BZ_OPT_STRING, &save_problem, "FILE", "save the problem as a boltzcl "
                                                               "model file (kind ising) first"},
        {"json", BZ_OPT_FLAG, &json, NULL, "print one JSON object on stdout"},
        {"quiet", BZ_OPT_FLAG, &quiet, NULL, "no progress lines"},
        {"device", BZ_OPT_STRING, &device, "SEL", "device (P:D, gpu, cpu, or name part)"},
        {NULL, 0, NULL, NULL, NULL},
    };
    size_t n_pos = 0;
    int r = bz_args_parse("anneal", "--problem FILE [--maxcut|--qubo|--ising] [options]", opts,
                          argc, argv, NULL, 0, &n_pos);
    if (r)
        return r > 0 ? 0 : 2;
    if (!problem) {
        fprintf(stderr, "boltzcl anneal: --problem FILE is required\n");
        return 2;
    }
    if (maxcut + qubo + ising > 1) {
        fprintf(stderr, "boltzcl anneal: choose one of --maxcut, --qubo, --ising\n");
        return 2;
    }
    bz_schedule sched;
    if (strcmp(schedule, "geometric") == 0) {
        sched = BZ_SCHEDULE_GEOMETRIC;
    } else if (strcmp(schedule, "linear") == 0) {
        sched = BZ_SCHEDULE_LINEAR;
    } else {
        fprintf(stderr, "boltzcl anneal: --schedule must be geometric or linear, not '%s'\n",
                schedule);
        return 2;
    }
    bz_update_scheme scheme;
    if (strcmp(scheme_s, "auto") == 0) {
        scheme = BZ_UPDATE_AUTO;
    } else if (strcmp(scheme_s, "replica") == 0) {
        scheme = BZ_UPDATE_REPLICA;
    } else if (strcmp(scheme_s, "colour") == 0 || strcmp(scheme_s, "color") == 0) {
        scheme = BZ_UPDATE_COLOUR;
    } else {
        fprintf(stderr, "boltzcl anneal: --scheme must be auto, replica or colour, not '%s'\n",
                scheme_s);
        return 2;
    }
    if (!(seconds >= 0) || !isfinite(seconds) || sweeps > UINT32_MAX || sweeps_max > UINT32_MAX || spb == 0 ||
        spb > UINT32_MAX || restarts > UINT32_MAX || exchange == 0 || exchange > UINT32_MAX ||
        seed < 0 || beta_min < 0 || beta_max < 0 || (pt && temps && (temps < 2 || temps > 4096))) {
        fprintf(stderr, "boltzcl anneal: out-of-range option (--seconds >= 0, --sweeps and "
                        "--restarts below 2^32, --temps 2..4096, betas >= 0, --seed >= 0)\n");
        return 2;
    }
    /* The files before anything else: an output that is the problem file, a
     * FIFO or device, or a folder that cannot be written is refused now,
     * not after a long run. */
    int files_rc = bz_cli_check_files("anneal", (const bz_file_arg[]){{"--problem", problem}, {0}},
                                      (const bz_file_arg[]){{"--out", out},
                                                            {"--save-problem", save_problem},
                                                            {0}},
                                      false);
    if (files_rc)
        return files_rc;
    const char *dot = strrchr(problem, '.');
    bool binary = dot && (strcmp(dot, ".npy") == 0 || strcmp(dot, ".safetensors") == 0);
    bz_problem_kind kind = maxcut ? BZ_PROBLEM_MAXCUT
                           : qubo ? BZ_PROBLEM_QUBO
                           : ising ? BZ_PROBLEM_ISING
                           : binary ? BZ_PROBLEM_ISING
                                    : BZ_PROBLEM_MAXCUT;
    bool has_target = !isnan(target);
    if (has_target && !isfinite(target)) {
        fprintf(stderr, "boltzcl anneal: --target must be finite\n");
        return 2;
    }
    FILE *info = json ? stderr : stdout;

    /* Ctrl-C from here on ends the run after the current launch and reports
     * the best state so far. */
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigint;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    /* The file first: a bad problem is reported before any device work. A
     * saved problem (a boltzcl model file of kind ising) carries its kind
     * and is read through the model loader, which needs the context. */
    char saved[16];
    bz_model_file_kind(problem, saved, sizeof saved);
    bool is_saved = strcmp(saved, "ising") == 0;
    if (saved[0] && !is_saved) {
        fprintf(stderr, "boltzcl anneal: %s holds a boltzcl %s model, not an optimisation "
                        "problem\n", bz_cli_safe(problem), bz_cli_safe(saved));
        return 1;
    }
    bz_error err = {0};
    bz_ising *p = NULL;
    bz_status st = is_saved ? BZ_OK : bz_ising_read(problem, kind, &p, &err);
    if (st) {
        fprintf(stderr, "boltzcl anneal: %s: %s\n", bz_strerror(st), err.msg);
        return 1;
    }
    bz_context *ctx = bz_cli_open(device, json || quiet);
    if (!ctx) {
        bz_ising_free(p);
        return 1;
    }
    if (is_saved) {
        if ((st = bz_ising_load_model(ctx, problem, &p))) {
            bz_cli_fail("anneal", ctx, st);
            bz_context_free(ctx);
            return 1;
        }
        if ((maxcut || qubo || ising) && kind != p->kind) {
            fprintf(stderr, "boltzcl anneal: %s is a saved %s problem; drop --%s\n",
                    bz_cli_safe(problem), p->kind == BZ_PROBLEM_MAXCUT ? "Max-Cut"
                                          : p->kind == BZ_PROBLEM_QUBO ? "QUBO" : "Ising",
                    maxcut ? "maxcut" : qubo ? "qubo" : "ising");
            bz_ising_free(p);
            bz_context_free(ctx);
            return 2;
        }
        kind = p->kind;
    }
    p->ctx = ctx;
    if (save_problem && (st = bz_ising_save(p, save_problem))) {
        bz_cli_fail("anneal", ctx, st);
        bz_ising_free(p);
        bz_context_free(ctx);
        return 1;
    }
    const char *kname = kind == BZ_PROBLEM_MAXCUT ? "Max-Cut" : kind == BZ_PROBLEM_QUBO ? "QUBO"
                                                                                           : "Ising";
    if (!quiet)
        fprintf(info, "%s problem %s: %u variables, %zu couplings (%s), device %s\n", kname,
                problem, p->n, p->pairs, p->dense ? "dense" : "sparse", bz_device_name(ctx));

    trace tr = {p, quiet ? NULL : info, json ? json_object_new_array() : NULL};
    bz_anneal_limits lim = {0};
    lim.seconds = seconds;
    lim.use_target = has_target;
    lim.target = kind == BZ_PROBLEM_MAXCUT ? -target : target;
    lim.progress = on_progress;
    lim.progress_user = &tr;
    lim.stop = &stop_requested;

    int8_t *best = malloc(p->n);
    bz_anneal_result res;
    bz_pt_level *levels = NULL;
    int rc = 1;
    if (!best) {
        fprintf(stderr, "boltzcl anneal: out of memory\n");
        goto done;
    }
    if (pt) {
        bz_pt_options o;
        bz_pt_options_init(&o);
        o.temperatures = temps;
        o.beta_min = beta_min;
        o.beta_max = beta_max;
        temps = o.temperatures = bz_pt_ladder_size(p, &o);
        o.ladders = replicas ? (replicas + temps - 1) / temps : 0;
        o.sweeps = sweeps ? (unsigned)sweeps : seconds > 0 ? UINT32_MAX : 10000;
        o.exchange_every = (unsigned)exchange;
        o.seed = (uint64_t)seed;
        o.scheme = scheme;
        o.limits = lim;
        levels = calloc(temps, sizeof *levels);
        if (!levels) {
            fprintf(stderr, "boltzcl anneal: out of memory\n");
            goto done;
        }
        if (!quiet)
            fprintf(info, "parallel tempering: %zu temperatures, exchanges every %zu sweeps\n",
                    temps, exchange);
        st = bz_anneal_pt(p, &o, best, &res, levels);
    } else {
        bz_anneal_options o;
        bz_anneal_options_init(&o);
        o.replicas = replicas;
        if (sweeps)
            o.sweeps = (unsigned)sweeps;
        o.sweeps_max = (unsigned)sweeps_max;
        o.sweeps_per_beta = (unsigned)spb;
        o.restarts = restarts ? (unsigned)restarts : seconds > 0 ? 0 : 1;
        o.schedule = sched;
        o.beta_min = beta_min;
        o.beta_max = beta_max;
        o.seed = (uint64_t)seed;
        o.scheme = scheme;
        o.limits = lim;
        if (!quiet)
            fprintf(info, "simulated annealing: %u%s%.0u sweeps per anneal, %s schedule\n",
                    o.sweeps, o.sweeps_max > o.sweeps ? " doubling up to " : "",
                    o.sweeps_max > o.sweeps ? o.sweeps_max : 0u, schedule);
        st = bz_anneal(p, &o, best, &res);
    }
    if (st && st != BZ_E_INTERRUPTED) {
        bz_cli_fail("anneal", ctx, st);
        goto done;
    }
    bool interrupted = st == BZ_E_INTERRUPTED;
    if (interrupted)
        fprintf(stderr, "boltzcl anneal: interrupted; reporting the best state so far\n");
    if (out && (st = bz_ising_save_solution(p, best, out))) {
        bz_cli_fail("anneal", ctx, st);
        goto done;
    }
    double obj = bz_ising_objective(p, res.best_energy);
    {
        fprintf(info, "best %s %.10g after %.3f s; %llu sweeps x %zu replicas, %.3g spin "
                      "updates/s; beta %.4g..%.4g\n",
                kind == BZ_PROBLEM_MAXCUT ? "cut" : "energy", obj, res.seconds,
                (unsigned long long)res.sweeps, res.replicas, res.spin_updates_per_s,
                res.beta_min, res.beta_max);
        if (has_target)
            fprintf(info, res.time_to_target >= 0 ? "target %.10g reached after %.3f s\n"
                                                  : "target %.10g not reached\n",
                    target, res.time_to_target);
        if (levels && !quiet) {
            fprintf(info, "%6s %10s %14s %12s %10s %14s\n", "level", "beta", "mean energy", "sd",
                    "swap rate", "free energy");
            for (size_t k = 0; k < temps; k++)
                fprintf(info, "%6zu %10.5g %14.8g %12.6g %10.3f %14.8g\n", k, levels[k].beta,
                        levels[k].mean_energy, levels[k].sd_energy, levels[k].swap_rate,
                        levels[k].free_energy);
        }
    }
    if (json) {
        json_object *o = json_object_new_object();
        json_object_object_add(o, "problem", json_object_new_string(problem));
        json_object_object_add(o, "kind", json_object_new_string(kname));
        json_object_object_add(o, "variables", json_object_new_int64(p->n));
        json_object_object_add(o, "couplings", json_object_new_int64((int64_t)p->pairs));
        json_object_object_add(o, "sampler", json_object_new_string(pt ? "pt" : "sa"));
        if (kind == BZ_PROBLEM_MAXCUT)
            json_object_object_add(o, "best_cut", json_object_new_double(obj));
        json_object_object_add(o, "best_energy", json_object_new_double(res.best_energy));
        json_object_object_add(o, "seconds", json_object_new_double(res.seconds));
        json_object_object_add(o, "time_to_target", res.time_to_target >= 0
                                                         ? json_object_new_double(res.time_to_target)
                                                         : NULL);
        json_object_object_add(o, "sweeps", json_object_new_int64((int64_t)res.sweeps));
        json_object_object_add(o, "replicas", json_object_new_int64((int64_t)res.replicas));
        json_object_object_add(o, "anneals", json_object_new_int64(res.anneals));
        json_object_object_add(o, "spin_updates_per_s", json_object_new_double(res.spin_updates_per_s));
        json_object_object_add(o, "beta_min", json_object_new_double(res.beta_min));
        json_object_object_add(o, "beta_max", json_object_new_double(res.beta_max));
        json_object_object_add(o, "interrupted", json_object_new_boolean(interrupted));
        json_object_object_add(o, "trace", tr.points);
        tr.points = NULL;
        if (levels) {
            json_object *a = json_object_new_array();
            for (size_t k = 0; k < temps; k++) {
                json_object *l = json_object_new_object();
                json_object_object_add(l, "beta", json_object_new_double(levels[k].beta));
                json_object_object_add(l, "mean_energy", json_object_new_double(levels[k].mean_energy));
                json_object_object_add(l, "sd_energy", json_object_new_double(levels[k].sd_energy));
                json_object_object_add(l, "swap_rate", json_object_new_double(levels[k].swap_rate));
                json_object_object_add(l, "log_z", json_object_new_double(levels[k].log_z));
                json_object_object_add(l, "free_energy", json_object_new_double(levels[k].free_energy));
                json_object_object_add(l, "samples", json_object_new_int64((int64_t)levels[k].samples));
                json_object_array_add(a, l);
            }
            json_object_object_add(o, "levels", a);
        }
        json_object_object_add(o, "device", json_object_new_string(bz_device_name(ctx)));
        if (out)
            json_object_object_add(o, "solution", json_object_new_string(out));
        bz_cli_print_json(o);
        json_object_put(o);
    }
    rc = interrupted ? 130 : 0;
done:
    json_object_put(tr.points);
    free(levels);
    free(best);
    bz_ising_free(p);
    bz_context_free(ctx);
    return rc;
}
