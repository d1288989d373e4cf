#include "tuning/db.h"
#include "io/filebuf.h"
#include <sys/stat.h>
#include <unistd.h>

#include <ctype.h>
#include <errno.h>
#include <fnmatch.h>
#include <json-c/json.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void warnf(bz_tuning_warn_fn warn, void *user, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void warnf(bz_tuning_warn_fn warn, void *user, const char *fmt, ...)
{
    if (!warn)
        return;
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    warn(user, msg);
}

/* Reads a string key into dst; absent means "*". Returns an error or NULL. */
static const char *get_key(json_object *o, const char *key, bool required, char *dst, size_t size)
{
    json_object *v;
    if (!json_object_object_get_ex(o, key, &v)) {
        if (required)
            return "a required key is missing";
        snprintf(dst, size, "*");
        return NULL;
    }
    if (!json_object_is_type(v, json_type_string))
        return "a key is not a string";
    const char *s = json_object_get_string(v);
    if (!s[0] || strlen(s) >= size)
        return "a key is empty or too long";
    snprintf(dst, size, "%s", s);
    return NULL;
}

static bool get_count(json_object *v, size_t *out)
{
    if (!json_object_is_type(v, json_type_int))
        return false;
    int64_t x = json_object_get_int64(v);
    if (x < 0 || x > 1000000)
        return false;
    *out = (size_t)x;
    return true;
}

static bool parse_kernel(json_object *params, int k, bz_tune_params *p, char *why, size_t size)
{
    const bz_tk_desc *d = &bz_tk_table[k];
    if (!json_object_is_type(params, json_type_object)) {
        snprintf(why, size, "\"%s\" is not an object", d->name);
        return false;
    }
    bool seen[BZ_TK_MAX_PARAMS] = {0};
    json_object_object_foreach(params, name, val) {
        int i = bz_tk_param(k, name);
        if (i < 0) {
            snprintf(why, size, "%s has no parameter \"%s\"", d->name, name);
            return false;
        }
        if (!get_count(val, &p->v[k][i])) {
            snprintf(why, size, "%s.%s is not a non-negative integer", d->name, name);
            return false;
        }
        seen[i] = true;
    }
    for (size_t i = 0; i < d->n; i++)
        if (!seen[i]) {
            snprintf(why, size, "%s lacks %s (CLBlast needs every parameter of a kernel)",
                     d->name, d->params[i]);
            return false;
        }
    p->has[k] = true;
    return true;
}

/* Absent: 0 (the device's entry). */
static bool parse_batch(json_object *o, size_t *batch)
{
    json_object *v;
    *batch = 0;
    if (!json_object_object_get_ex(o, "batch", &v))
        return true;
    return get_count(v, batch) && *batch > 0;
}

static bool parse_params(json_object *o, bz_tune_params *p, char *why, size_t size)
{
    json_object *cl = NULL, *own = NULL;
    bool any = false;
    if (json_object_object_get_ex(o, "clblast", &cl)) {
        if (!json_object_is_type(cl, json_type_object)) {
            snprintf(why, size, "\"clblast\" is not an object");
            return false;
        }
        json_object_object_foreach(cl, kname, kval) {
            int k = bz_tk_find(kname);
            if (k < 0) {
                snprintf(why, size, "unknown CLBlast kernel \"%s\"", kname);
                return false;
            }
            if (!parse_kernel(kval, k, p, why, size))
                return false;
            any = true;
        }
    }
    if (json_object_object_get_ex(o, "boltzcl_kernels", &own)) {
        if (!json_object_is_type(own, json_type_object)) {
            snprintf(why, size, "\"boltzcl_kernels\" is not an object");
            return false;
        }
        json_object_object_foreach(own, name, val) {
            if (strcmp(name, "wg_elementwise") != 0) {
                snprintf(why, size, "unknown boltzcl kernel parameter \"%s\"", name);
                return false;
            }
            if (!get_count(val, &p->wg_elementwise) || p->wg_elementwise == 0) {
                snprintf(why, size, "wg_elementwise is not a positive integer");
                return false;
            }
            any = true;
        }
    }
    if (!any)
        snprintf(why, size, "the entry sets no parameters (no \"clblast\" or \"boltzcl_kernels\")");
    return any;
}

static bool parse_entry(const char *line, bz_tuning_entry *e, char *why, size_t size)
{
    enum json_tokener_error jerr;
    json_object *o = json_tokener_parse_verbose(line, &jerr);
    if (!o) {
        snprintf(why, size, "not valid JSON (%s)", json_tokener_error_desc(jerr));
        return false;
    }
    bool ok = false;
    const char *err = NULL;
    memset(e, 0, sizeof *e);
    if (!json_object_is_type(o, json_type_object))
        snprintf(why, size, "not a JSON object");
    else if ((err = get_key(o, "device", true, e->device, sizeof e->device)) ||
             (err = get_key(o, "driver", true, e->driver, sizeof e->driver)) ||
             (err = get_key(o, "vendor", false, e->vendor, sizeof e->vendor)) ||
             (err = get_key(o, "type", false, e->type, sizeof e->type)) ||
             (err = get_key(o, "boltzcl", false, e->version, sizeof e->version)))
        snprintf(why, size, "%s (device, driver, vendor, type, boltzcl)", err);
    else if (!parse_batch(o, &e->batch))
        snprintf(why, size, "\"batch\" is not a positive integer");
    else
        ok = parse_params(o, &e->params, why, size);
    json_object_put(o);
    return ok;
}

/* Literal 2, glob 1, "*" 0: a literal key says more about the device. */
static int key_weight(const char *pattern)
{
    if (strcmp(pattern, "*") == 0)
        return 0;
    return strpbrk(pattern, "*?[") ? 1 : 2;
}

static int specificity(const bz_tuning_entry *e)
{
    return key_weight(e->device) * 100 + key_weight(e->driver) * 10 + key_weight(e->vendor) +
           key_weight(e->type);
}

static bool db_push(bz_tuning_db *db, const bz_tuning_entry *e)
{
    if (db->count == db->cap) {
        size_t cap = db->cap ? db->cap * 2 : 8;
        bz_tuning_entry *n = realloc(db->entries, cap * sizeof *n);
        if (!n)
            return false;
        db->entries = n;
        db->cap = cap;
    }
    db->entries[db->count++] = *e;
    return true;
}

int bz_tuning_db_parse(bz_tuning_db *db, const char *text, const char *name, int precedence,
                       bz_tuning_warn_fn warn, void *user)
{
    int skipped = 0;
    unsigned lineno = 0;
    const char *p = text;
    bz_tuning_entry *e = malloc(sizeof *e);
    if (!e)
        return -1;
    while (*p) {
        const char *end = strchr(p, '\n');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        lineno++;
        const char *s = p;
        while (s < p + len && isspace((unsigned char)*s))
            s++;
        if (s < p + len && *s != '#') {
            char *line = strndup(s, (size_t)(p + len - s));
            char why[256];
            if (!line) {
                free(e);
                return -1;
            }
            if (parse_entry(line, e, why, sizeof why)) {
                snprintf(e->source, sizeof e->source, "%s:%u", name, lineno);
                e->precedence = precedence;
                e->specificity = specificity(e);
                if (!db_push(db, e)) {
                    free(line);
                    free(e);
                    return -1;
                }
            } else {
                warnf(warn, user, "tuning file %s, line %u skipped: %s", name, lineno, why);
                skipped++;
            }
            free(line);
        }
        p += len;
        if (*p == '\n')
            p++;
    }
    free(e);
    return skipped;
}

int bz_tuning_db_load(bz_tuning_db *db, const char *path, int precedence, bz_tuning_warn_fn warn,
                      void *user)
{
    /* A FIFO or device named as a tuning file must not block or feed us
     * forever: regular files only, opened without waiting. */
    struct stat sb;
    bz_error oerr = {0};
    int fd = bz_open_input(path, &sb, &oerr);
    FILE *f = fd >= 0 ? fdopen(fd, "rb") : NULL;
    if (!f) {
        if (fd >= 0)
            close(fd);
        if (stat(path, &sb) == 0 || errno != ENOENT)
            warnf(warn, user, "tuning file %s", oerr.msg);
        return 0;
    }
    char *text = NULL;
    size_t len = 0, cap = 0;
    int rc = 0;
    for (;;) {
        if (len + 4096 + 1 > cap) {
            cap = cap ? cap * 2 : 65536;
            if (cap > ((size_t)16 << 20)) { /* no tuning file is legitimately this big */
                warnf(warn, user, "tuning file %s is larger than 16 MiB; ignored", path);
                rc = 1;
                break;
            }
            char *n = realloc(text, cap);
            if (!n) {
                rc = -1;
                break;
            }
            text = n;
        }
        size_t got = fread(text + len, 1, cap - len - 1, f);
        len += got;
        if (got == 0)
            break;
    }
    if (rc == 0 && ferror(f)) {
        warnf(warn, user, "tuning file %s cannot be read: %s", path, strerror(errno));
        rc = 1;
    }
    fclose(f);
    if (rc == 0) {
        text[len] = '\0';
        rc = bz_tuning_db_parse(db, text, path, precedence, warn, user);
    }
    free(text);
    return rc;
}

void bz_tuning_db_free(bz_tuning_db *db)
{
    free(db->entries);
    memset(db, 0, sizeof *db);
}

static void lower(char *dst, size_t size, const char *src)
{
    size_t i = 0;
    for (; src && src[i] && i + 1 < size; i++)
        dst[i] = (char)tolower((unsigned char)src[i]);
    dst[i] = '\0';
}

/* Case-insensitive, as vendors change the case of names between drivers;
 * folded by hand because FNM_CASEFOLD is a GNU extension. */
static bool key_matches(const char *pattern, const char *value)
{
    char p[256], v[256];
    lower(p, sizeof p, pattern);
    lower(v, sizeof v, value);
    return fnmatch(p, v, 0) == 0;
}

const bz_tuning_entry *bz_tuning_db_match(const bz_tuning_db *db, const bz_tuning_target *t)
{
    const bz_tuning_entry *best = NULL;
    for (size_t i = 0; i < db->count; i++) {
        const bz_tuning_entry *e = &db->entries[i];
        if (e->batch != t->batch || !key_matches(e->device, t->device) || !key_matches(e->driver, t->driver) ||
            !key_matches(e->vendor, t->vendor) || !key_matches(e->type, t->type) ||
            !key_matches(e->version, t->version))
            continue;
        if (!best || e->specificity > best->specificity ||
            (e->specificity == best->specificity && e->precedence < best->precedence))
            best = e;
    }
    return best;
}

char *bz_tuning_entry_format(const bz_tuning_entry *e, const char *measured_json)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "device", json_object_new_string(e->device));
    json_object_object_add(o, "vendor", json_object_new_string(e->vendor));
    json_object_object_add(o, "driver", json_object_new_string(e->driver));
    json_object_object_add(o, "type", json_object_new_string(e->type));
    json_object_object_add(o, "boltzcl", json_object_new_string(e->version));
    if (e->batch)
        json_object_object_add(o, "batch", json_object_new_int64((int64_t)e->batch));
    json_object *cl = json_object_new_object();
    for (int k = 0; k < BZ_TK_COUNT; k++) {
        if (!e->params.has[k])
            continue;
        json_object *ko = json_object_new_object();
        for (size_t i = 0; i < bz_tk_table[k].n; i++)
            json_object_object_add(ko, bz_tk_table[k].params[i],
                                   json_object_new_int64((int64_t)e->params.v[k][i]));
        json_object_object_add(cl, bz_tk_table[k].name, ko);
    }
    json_object_object_add(o, "clblast", cl);
    if (e->params.wg_elementwise) {
        json_object *own = json_object_new_object();
        json_object_object_add(own, "wg_elementwise",
                               json_object_new_int64((int64_t)e->params.wg_elementwise));
        json_object_object_add(o, "boltzcl_kernels", own);
    }
    if (measured_json) {
        json_object *m = json_tokener_parse(measured_json);
        if (m)
            json_object_object_add(o, "measured", m);
    }
    char *s = strdup(
        json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
    json_object_put(o);
    return s;
}
