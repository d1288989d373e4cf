#include "tuner/tune_output.h"

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

bool bz_tuning_file_put(const char *path, const bz_tuning_entry *e, const char *measured,
                        char *why, size_t size)
{
    char *entry = bz_tuning_entry_format(e, measured);
    char tmp[1100];
    snprintf(tmp, sizeof tmp, "%s.tmp%ld", path, (long)getpid());
    make_parents(path);
    FILE *in = fopen(path, "r"), *out = entry ? fopen(tmp, "w") : NULL;
    if (!out) {
        snprintf(why, size, "cannot write %s: %s", tmp, entry ? strerror(errno) : "out of memory");
        if (in)
            fclose(in);
        free(entry);
        return false;
    }
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
    bool ok = fflush(out) == 0 && fsync(fileno(out)) == 0;
    ok = fclose(out) == 0 && ok;
    if (!ok || rename(tmp, path) != 0) {
        snprintf(why, size, "cannot write %s: %s", path, strerror(errno));
        unlink(tmp);
        return false;
    }
    return true;
}
