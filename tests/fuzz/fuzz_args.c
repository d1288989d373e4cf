/*
 * libFuzzer target: the command-line option parser (src/cli/args.c) with an
 * option table shaped like `boltzcl train rbm`'s. The input is split at NUL
 * bytes into argv; the first byte picks how many positional arguments are
 * allowed (0-3). Besides not crashing, the parser must keep its promises:
 * a known return value, positional arguments that are argv elements, and on
 * success values that passed their checks.
 */
#include "cli/args.h"

#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_ARGS 64

typedef struct values {
    const char *data, *device, *out, *visible, *binarize, *resume;
    size_t hidden, epochs, batch, k;
    double lr, momentum, val_split;
    long seed, momentum_epochs;
    bool pcd, json, quiet;
} values;

/* True when s points into one of the argv strings (an option's value is
 * either a whole argument or the part after '='). */
static bool within_argv(const char *s, char **argv, int argc)
{
    for (int i = 0; i < argc; i++) {
        size_t len = strlen(argv[i]);
        if (s >= argv[i] && s <= argv[i] + len)
            return true;
    }
    return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    size_t max_pos = data[0] & 3;
    data++;
    size--;

    /* One NUL-terminated copy; argv points into it. */
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    char *argv[MAX_ARGS];
    int argc = 0;
    for (size_t i = 0; i <= size && argc < MAX_ARGS;) {
        argv[argc++] = text + i;
        i += strlen(text + i) + 1;
    }

    values v = {.lr = -1, .seed = 1};
    const bz_opt opts[] = {
        {"data", BZ_OPT_STRING, &v.data, "D", "data"},
        {"hidden", BZ_OPT_SIZE, &v.hidden, "N", "hidden units"},
        {"epochs", BZ_OPT_SIZE, &v.epochs, "N", "epochs"},
        {"batch", BZ_OPT_SIZE, &v.batch, "N", "minibatch size"},
        {"lr", BZ_OPT_FLOAT, &v.lr, "F", "learning rate"},
        {"k", BZ_OPT_SIZE, &v.k, "N", "Gibbs steps"},
        {"pcd", BZ_OPT_FLAG, &v.pcd, NULL, "persistent contrastive divergence"},
        {"visible", BZ_OPT_STRING, &v.visible, "T", "unit type"},
        {"momentum", BZ_OPT_FLOAT, &v.momentum, "F", "momentum"},
        {"momentum-epochs", BZ_OPT_INT, &v.momentum_epochs, "N", "epochs at that momentum"},
        {"binarize", BZ_OPT_STRING, &v.binarize, "M", "binarisation"},
        {"val-split", BZ_OPT_FLOAT, &v.val_split, "F", "held-out fraction"},
        {"seed", BZ_OPT_INT, &v.seed, "N", "random seed"},
        {"out", BZ_OPT_STRING, &v.out, "FILE", "model file"},
        {"resume", BZ_OPT_STRING, &v.resume, "FILE", "checkpoint"},
        {"json", BZ_OPT_FLAG, &v.json, NULL, "JSON output"},
        {"quiet", BZ_OPT_FLAG, &v.quiet, NULL, "no progress"},
        {"device", BZ_OPT_STRING, &v.device, NULL, "device (no metavar)"},
        {0},
    };
    const char *pos[3] = {0};
    size_t n_pos = 99;
    int rc = bz_args_parse("fuzz", "[options]", opts, argc, argv, pos, max_pos, &n_pos);

    if (rc != 0 && rc != 1 && rc != -1)
        __builtin_trap();
    if (n_pos > max_pos)
        __builtin_trap();
    for (size_t i = 0; i < n_pos; i++) {
        bool found = false;
        for (int j = 0; j < argc; j++)
            found = found || pos[i] == argv[j];
        if (!found)
            __builtin_trap();
    }
    if (rc == 0) {
        const size_t size_max = (size_t)1 << 40;
        if (v.hidden > size_max || v.epochs > size_max || v.batch > size_max || v.k > size_max)
            __builtin_trap();
        if (!isfinite(v.lr) || !isfinite(v.momentum) || !isfinite(v.val_split))
            __builtin_trap();
        const char *strs[] = {v.data, v.device, v.out, v.visible, v.binarize, v.resume};
        for (size_t i = 0; i < sizeof strs / sizeof *strs; i++)
            if (strs[i] && !within_argv(strs[i], argv, argc))
                __builtin_trap();
    }
    free(text);
    return 0;
}
