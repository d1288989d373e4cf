/*
 * Table-driven option parsing shared by every subcommand: `--name value`,
 * `--name=value` and boolean `--flag`. Unknown options, missing values and
 * values that do not parse give a message naming the option.
 */
#ifndef BZ_CLI_ARGS_H
#define BZ_CLI_ARGS_H

#include <stdbool.h>
#include <stddef.h>

typedef enum bz_opt_type {
    BZ_OPT_FLAG,   /* bool*, set to true */
    BZ_OPT_STRING, /* const char** */
    BZ_OPT_INT,    /* long* */
    BZ_OPT_SIZE,   /* size_t*, must be >= 0 */
    BZ_OPT_FLOAT,  /* double* */
} bz_opt_type;

typedef struct bz_opt {
    const char *name; /* without the leading dashes */
    bz_opt_type type;
    void *dest;
    const char *metavar;
    const char *help;
} bz_opt;

/* Parses argv[0..argc) against opts (terminated by a NULL name). Positional
 * arguments are collected into pos (up to max_pos). Returns 0 on success,
 * 1 when --help was given (usage printed), -1 on error (message printed to
 * stderr with the command name). */
int bz_args_parse(const char *cmd, const char *synopsis, const bz_opt *opts, int argc,
                  char **argv, const char **pos, size_t max_pos, size_t *n_pos);

/* Range checks after parsing, one option at a time, so that the message
 * names the option at fault: when bad, prints "boltzcl CMD: OPT must be
 * RULE" and returns true. Chain them with ||. */
bool bz_args_bad(const char *cmd, bool bad, const char *opt, const char *rule);

void bz_args_usage(const char *cmd, const char *synopsis, const bz_opt *opts);

#endif
