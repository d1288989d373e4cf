#include "tuner/tune_output.h"

#include "base/atomic_file.h"

#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static bool same_key(json_object *o, const char *key, const char *value)
{
    json_object *v;
    const char *s = json_object_object_get_ex(o, key, &v) ? json_object_get_string(v) : "*";
    return s && strcmp(s, value) == 0;
}

static size_t batch_of(json_object *o)
{
    json_object *v;
    return json_object_object_get_ex(o, "batch", &v) ? (size_t)json_object_get_int64(v) : 0;
}

static bool replaces(const char *line, const bz_tuning_entry *e)
{
    while (*line == ' ' || *line == '\t')
        line++;
    if (*line != '{')
        return false;
    json_object *o = json_tokener_parse(line);
    bool r = o && json_object_is_type(o, json_type_object) && same_key(o, "device", e->device) &&
             same_key(o, "vendor", e->vendor) && same_key(o, "driver", e->driver) &&
             same_key(o, "boltzcl", e->version) && batch_of(o) == e->batch;
    json_object_put(o);
    return r;
}

static void make_parents(const char *path)
{
    char dir[1024];
    snprintf(dir, sizeof dir, "%s", path);
    for (char *p = dir + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        mkdir(dir, 0755); /* EEXIST is the usual answer */
        *p = '/';
    }
}

bool bz_tuning_file_check(const char *path, char *why, size_t size)
{
    make_parents(path);
    bz_error err = {0};
    if (bz_atomic_probe(path, &err) != BZ_OK) {
        snprintf(why, size, "the tuning file cannot be written: %s", err.msg);
        return false;
    }
    return true;
}

bool bz_tuning_file_put(const char *path, const bz_tuning_entry *e, const char *measured,
                        char *why, size_t size)
{
    char *entry = bz_tuning_entry_format(e, measured);
    make_parents(path);
    /* The shared atomic writer: a link or device at path is refused, and the
     * file keeps its mode and owner. */
    bz_atomic_file af = {0};
    bz_error err = {0};
    if (!entry || bz_atomic_open(&af, path, &err) != BZ_OK) {
        snprintf(why, size, "%s", entry ? err.msg : "out of memory");
        free(entry);
        return false;
    }
    FILE *in = fopen(path, "r"), *out = af.fp;
    if (!in)
        fprintf(out, "# boltzcl tuning file: one JSON object per line (written by boltzcl-tune)\n");
    char *line = NULL;
    size_t cap = 0;
    while (in && getline(&line, &cap, in) > 0) {
        if (!replaces(line, e))
            fputs(line, out);
        if (line[0] && line[strlen(line) - 1] != '\n')
            fputc('\n', out);
    }
    free(line);
    if (in)
        fclose(in);
    fprintf(out, "%s\n", entry);
    free(entry);
    if (bz_atomic_commit(&af, &err) != BZ_OK) {
        snprintf(why, size, "%s", err.msg);
        return false;
    }
    return true;
}
