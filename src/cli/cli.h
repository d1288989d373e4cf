/* Subcommands of the boltzcl tool and the helpers they share. */
#ifndef BZ_CLI_CLI_H
#define BZ_CLI_CLI_H

#include "boltzcl.h"
#include "cli/args.h"

int bz_cmd_devices(int argc, char **argv);
int bz_cmd_bench(int argc, char **argv);
int bz_cmd_bench_rbm(int argc, char **argv);
int bz_cmd_train(int argc, char **argv);
int bz_cmd_tune(int argc, char **argv);
/* The per-model commands: dispatch.c picks the implementation for the kind
 * of the --model file (bz_model_kind_of_file), or says which commands the
 * kind has. */
int bz_cmd_eval(int argc, char **argv);
int bz_cmd_sample(int argc, char **argv);
int bz_cmd_transform(int argc, char **argv);
int bz_cmd_predict(int argc, char **argv);
/* RBMs (cmd_eval.c, cmd_sample.c, cmd_transform.c). */
int bz_cmd_eval_rbm(int argc, char **argv);
int bz_cmd_eval_dbn(int argc, char **argv); /* the classifier report, eval's options only */
int bz_cmd_sample_rbm(int argc, char **argv);
int bz_cmd_transform_rbm(int argc, char **argv);
/* Deep belief networks (cmd_train_dbn.c, cmd_predict.c). */
int bz_cmd_train_dbn(int argc, char **argv);
int bz_cmd_predict_dbn(int argc, char **argv);
int bz_cmd_sample_dbn(int argc, char **argv);
int bz_cmd_transform_dbn(int argc, char **argv);
/* Deep Boltzmann machines (cmd_train_dbm.c, bench_dbm.c). */
int bz_cmd_train_dbm(int argc, char **argv);
int bz_cmd_eval_dbm(int argc, char **argv);
int bz_cmd_sample_dbm(int argc, char **argv);
int bz_cmd_transform_dbm(int argc, char **argv);
int bz_cmd_predict_dbm(int argc, char **argv);
int bz_cmd_bench_dbm(int argc, char **argv);
/* Dynamic Boltzmann machines (cmd_dybm.c, bench_dybm.c). */
int bz_cmd_bench_dybm(int argc, char **argv);
int bz_cmd_train_dybm(int argc, char **argv);
int bz_cmd_predict_dybm(int argc, char **argv);
int bz_cmd_sample_dybm(int argc, char **argv);
/* Collaborative filtering (cmd_cf.c). */
int bz_cmd_train_cf(int argc, char **argv);
int bz_cmd_eval_cf(int argc, char **argv);
int bz_cmd_predict_cf(int argc, char **argv);
int bz_cmd_recommend(int argc, char **argv);
/* Optimisation problems (cmd_anneal.c). */
int bz_cmd_anneal(int argc, char **argv);

/* Opens a context on `device` (NULL: $BOLTZCL_DEVICE or automatic). On
 * failure prints the detailed error and returns NULL. */
bz_context *bz_cli_open(const char *device, bool quiet);

/* Prints "boltzcl <cmd>: <strerror>: <detail>" for a failed call. */
int bz_cli_fail(const char *cmd, bz_context *ctx, bz_status st);

double bz_now(void);

#endif
