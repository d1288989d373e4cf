/*
 * eval, sample, transform and predict work on whatever kind of model the
 * --model file holds: the file's kind (bz_model_kind_of_file, through the
 * library's registry) picks the implementation from one table, and a kind
 * without the command is told so, with the commands it does have.
 */
#include "cli/cli.h"

#include <stdio.h>
#include <string.h>

typedef int (*cmd_fn)(int argc, char **argv);

enum { EVAL, SAMPLE, TRANSFORM, PREDICT, N_CMDS };
static const char *const cmd_names[N_CMDS] = {"eval", "sample", "transform", "predict"};

/* One row per kind; NULL: the kind lacks the command. A DBN's eval is its
 * classification report. */
static const struct {
    const char *kind;
    cmd_fn fn[N_CMDS];
} table[] = {
    {"rbm", {bz_cmd_eval_rbm, bz_cmd_sample_rbm, bz_cmd_transform_rbm, NULL}},
    {"dbn", {bz_cmd_eval_dbn, bz_cmd_sample_dbn, bz_cmd_transform_dbn, bz_cmd_predict_dbn}},
    {"dbm", {bz_cmd_eval_dbm, bz_cmd_sample_dbm, bz_cmd_transform_dbm, bz_cmd_predict_dbm}},
    {"ising", {NULL, NULL, NULL, NULL}}, /* boltzcl anneal --problem */
    {"dybm", {NULL, bz_cmd_sample_dybm, NULL, bz_cmd_predict_dybm}},
    {"cf", {bz_cmd_eval_cf, NULL, NULL, bz_cmd_predict_cf}}, /* and boltzcl recommend */
};
#define N_KINDS (sizeof table / sizeof *table)

/* The --model FILE among the arguments, or NULL. */
static const char *model_arg(int argc, char **argv)
{
    const char *path = NULL;
    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "--model") && i + 1 < argc)
            path = argv[i + 1];
        else if (!strncmp(argv[i], "--model=", 8))
            path = argv[i] + 8;
    }
    return path;
}

static int dispatch(int cmd, int argc, char **argv)
{
    const char *path = model_arg(argc, argv);
    const bz_model_kind *k = path ? bz_model_kind_of_file(path) : NULL;
    /* No model, an unreadable file or not a boltzcl model: the first kind
     * with the command parses the options and its loader names the
     * problem. */
    for (size_t i = 0; !k && i < N_KINDS; i++)
        if (table[i].fn[cmd])
            return table[i].fn[cmd](argc, argv);
    for (size_t i = 0; i < N_KINDS; i++) {
        if (strcmp(table[i].kind, bz_model_kind_name(k)) != 0)
            continue;
        if (table[i].fn[cmd])
            return table[i].fn[cmd](argc, argv);
        char has[64] = "";
        for (int c = 0; c < N_CMDS; c++)
            if (table[i].fn[c])
                snprintf(has + strlen(has), sizeof has - strlen(has), "%s%s", has[0] ? ", " : "",
                         cmd_names[c]);
        if (!has[0]) /* an optimisation problem: its command is anneal */
            fprintf(stderr, "boltzcl %s: %s holds %s model (%s), which supports none of eval, "
                            "sample, transform and predict; solve it with boltzcl anneal "
                            "--problem FILE\n", cmd_names[cmd], path, bz_model_kind_name(k),
                    bz_model_kind_description(k));
        else
            fprintf(stderr, "boltzcl %s: %s holds %s model (%s), which does not support %s; "
                            "it supports %s\n", cmd_names[cmd], path, bz_model_kind_name(k),
                    bz_model_kind_description(k), cmd_names[cmd], has);
        return 1;
    }
    fprintf(stderr, "boltzcl %s: %s holds %s model (%s), which the command line does not "
                    "handle yet; use the C API (bz_model_load)\n", cmd_names[cmd], path,
            bz_model_kind_name(k), bz_model_kind_description(k));
    return 1;
}

int bz_cmd_eval(int argc, char **argv)
{
    return dispatch(EVAL, argc, argv);
}

int bz_cmd_sample(int argc, char **argv)
{
    return dispatch(SAMPLE, argc, argv);
}

int bz_cmd_transform(int argc, char **argv)
{
    return dispatch(TRANSFORM, argc, argv);
}

int bz_cmd_predict(int argc, char **argv)
{
    return dispatch(PREDICT, argc, argv);
}
