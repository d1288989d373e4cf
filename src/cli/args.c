#include "cli/args.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool bz_args_bad(const char *cmd, bool bad, const char *opt, const char *rule)
{
    if (bad)
        fprintf(stderr, "boltzcl %s: out-of-range option: %s must be %s\n", cmd, opt, rule);
    return bad;
}

void bz_args_usage(const char *cmd, const char *synopsis, const bz_opt *opts)
{
    printf("usage: boltzcl %s %s\n\noptions:\n", cmd, synopsis);
    for (const bz_opt *o = opts; o->name; o++) {
        char left[64];
        if (o->type == BZ_OPT_FLAG)
            snprintf(left, sizeof left, "--%s", o->name);
        else
            snprintf(left, sizeof left, "--%s %s", o->name, o->metavar ? o->metavar : "X");
        printf("  %-28s %s\n", left, o->help ? o->help : "");
    }
    printf("  %-28s %s\n", "--help", "show this help");
}

static int parse_value(const char *cmd, const bz_opt *o, const char *v)
{
    char *end = NULL;
    errno = 0;
    switch (o->type) {
    case BZ_OPT_FLAG: *(bool *)o->dest = true; return 0;
    case BZ_OPT_STRING: *(const char **)o->dest = v; return 0;
    case BZ_OPT_INT: {
        long x = strtol(v, &end, 10);
        if (errno || end == v || *end) {
            fprintf(stderr, "boltzcl %s: --%s expects an integer, got '%s'\n", cmd, o->name, v);
            return -1;
        }
        *(long *)o->dest = x;
        return 0;
    }
    case BZ_OPT_SIZE: {
        if (v[0] == '-') {
            fprintf(stderr, "boltzcl %s: --%s must not be negative, got '%s'\n", cmd, o->name, v);
            return -1;
        }
        unsigned long long x = strtoull(v, &end, 10);
        if (errno || end == v || *end || x > (unsigned long long)1 << 40) {
            fprintf(stderr, "boltzcl %s: --%s expects a count, got '%s'\n", cmd, o->name, v);
            return -1;
        }
        *(size_t *)o->dest = (size_t)x;
        return 0;
    }
    case BZ_OPT_FLOAT: {
        double x = strtod(v, &end);
        if (errno || end == v || *end || !isfinite(x)) {
            fprintf(stderr, "boltzcl %s: --%s expects a number, got '%s'\n", cmd, o->name, v);
            return -1;
        }
        *(double *)o->dest = x;
        return 0;
    }
    }
    return -1;
}

int bz_args_parse(const char *cmd, const char *synopsis, const bz_opt *opts, int argc,
                  char **argv, const char **pos, size_t max_pos, size_t *n_pos)
{
    *n_pos = 0;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            bz_args_usage(cmd, synopsis, opts);
            return 1;
        }
        if (strncmp(a, "--", 2) != 0 || a[2] == '\0') {
            if (*n_pos >= max_pos) {
                fprintf(stderr, "boltzcl %s: unexpected argument '%s' (see --help)\n", cmd, a);
                return -1;
            }
            pos[(*n_pos)++] = a;
            continue;
        }
        const char *name = a + 2;
        const char *eq = strchr(name, '=');
        size_t nlen = eq ? (size_t)(eq - name) : strlen(name);
        const bz_opt *o = opts;
        for (; o->name; o++)
            if (strlen(o->name) == nlen && strncmp(o->name, name, nlen) == 0)
                break;
        if (!o->name) {
            fprintf(stderr, "boltzcl %s: unknown option '--%.*s' (see 'boltzcl %s --help')\n", cmd,
                    (int)nlen, name, cmd);
            return -1;
        }
        const char *v = NULL;
        if (o->type == BZ_OPT_FLAG) {
            if (eq) {
                fprintf(stderr, "boltzcl %s: --%s takes no value\n", cmd, o->name);
                return -1;
            }
        } else if (eq) {
            v = eq + 1;
        } else if (i + 1 < argc) {
            v = argv[++i];
        } else {
            fprintf(stderr, "boltzcl %s: --%s needs a value (%s)\n", cmd, o->name,
                    o->metavar ? o->metavar : "X");
            return -1;
        }
        if (parse_value(cmd, o, v) != 0)
            return -1;
    }
    (void)synopsis;
    return 0;
}
