/* The boltzcl command: one binary, one subcommand per job. */
#include "cli/cli.h"
#include "engine/engine.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

double bz_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

bz_context *bz_cli_open(const char *device, bool quiet)
{
    bz_context_options o;
    bz_context_options_init(&o);
    o.device = device;
    if (quiet)
        o.log_level = BZ_LOG_ERROR;
    bz_context *ctx = NULL;
    bz_status st = bz_context_create(&o, &ctx);
    if (st != BZ_OK) {
        fprintf(stderr, "boltzcl: cannot open an OpenCL device: %s\n  %s\n", bz_strerror(st),
                bz_last_error(ctx));
        bz_context_free(ctx);
        return NULL;
    }
    return ctx;
}

int bz_cli_fail(const char *cmd, bz_context *ctx, bz_status st)
{
    const char *detail = ctx ? bz_last_error(ctx) : "";
    fprintf(stderr, "boltzcl %s: %s%s%s\n", cmd, bz_strerror(st), detail[0] ? ": " : "", detail);
    return 1;
}

typedef struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *help;
} command;

static const command commands[] = {
    {"train", bz_cmd_train, "train a model: boltzcl train rbm --data fashion-mnist"},
    {"eval", bz_cmd_eval, "measure a saved model: errors, pseudo-likelihood, AIS log Z"},
    {"sample", bz_cmd_sample, "pictures of a saved model: Gibbs samples, filters, reconstructions"},
    {"transform", bz_cmd_transform, "hidden-unit features of data, as .npy or CSV"},
    {"predict", bz_cmd_predict, "classes from a DBN or DBM; ratings of user,item pairs"},
    {"recommend", bz_cmd_recommend, "items a user has not rated, best first, from a ratings model"},
    {"devices", bz_cmd_devices, "list OpenCL platforms and devices, mark the one boltzcl picks"},
    {"bench", bz_cmd_bench, "measure GEMM and kernel rates on the selected device"},
    {"tune", bz_cmd_tune, "search GEMM parameters for the device, write a tuning entry"},
    {"anneal", bz_cmd_anneal, "solve Max-Cut, QUBO and Ising problems by annealing on the device"},
};

static void usage(FILE *f)
{
    fprintf(f,
            "boltzcl %s: Boltzmann machines on any OpenCL device\n\n"
            "usage: boltzcl <command> [options]   (boltzcl <command> --help for details)\n\n"
            "commands:\n",
            bz_version_string());
    for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
        fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].help);
    fprintf(f, "\nEvery command that uses a device takes --device (P:D, gpu, cpu, or part of a\n"
               "device name); BOLTZCL_DEVICE sets the default.\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
        usage(stdout);
        return 0;
    }
    if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "version") == 0) {
        printf("boltzcl %s\n", bz_version_string());
        return 0;
    }
    for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
        if (strcmp(cmd, commands[i].name) == 0)
            return commands[i].run(argc - 2, argv + 2);
    fprintf(stderr, "boltzcl: unknown command '%s'\n\n", cmd);
    usage(stderr);
    return 2;
}
