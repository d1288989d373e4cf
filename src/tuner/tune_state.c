#include "tuner/tune_state.h"
#include "tuner/space.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static bool push(bz_tune_state *s, const bz_tune_result *r)
{
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 64;
        bz_tune_result *n = realloc(s->r, cap * sizeof *n);
        if (!n)
            return false;
        s->r = n;
        s->cap = cap;
    }
    s->r[s->n++] = *r;
    return true;
}

static bool parse_times(const char **p, double *t, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char *e;
        t[i] = strtod(*p, &e);
        if (e == *p || !(t[i] >= 0))
            return false;
        *p = e;
    }
    return true;
}

/* Malformed lines (a run killed mid-write) are skipped: they only cost a
 * re-measurement. */
static void load_line(bz_tune_state *s, const char *line, size_t n_shapes)
{
    const char *p = line + 2;
    if (line[0] == 'B' && line[1] == ' ') {
        if (parse_times(&p, s->baseline, n_shapes))
            s->have_baseline = true;
        return;
    }
    if (line[0] != 'C' || line[1] != ' ')
        return;
    bz_tune_result r;
    memset(&r, 0, sizeof r);
    int used = 0;
    if (sscanf(p, "%d %7s %n", &r.mode, r.status, &used) != 2 || r.mode < 0 ||
        r.mode >= BZ_MODE_COUNT)
        return;
    p += used;
    if (!parse_times(&p, r.t, n_shapes))
        return;
    while (*p == ' ')
        p++;
    if (*p != '|' || !bz_space_decode(&r.p, p + 1, NULL))
        return;
    bz_space_encode(&r.p, r.key, sizeof r.key);
    r.total = INFINITY;
    if (strcmp(r.status, "ok") == 0) {
        r.total = 0;
        for (size_t i = 0; i < n_shapes; i++)
            r.total += r.t[i];
    }
    push(s, &r);
}

static void make_parents(const char *path)
{
    char dir[1400];
    snprintf(dir, sizeof dir, "%s", path);
    for (char *p = dir + 1; *p; p++)
        if (*p == '/') {
            *p = '\0';
            mkdir(dir, 0755); /* EEXIST is the usual answer */
            *p = '/';
        }
}

bool bz_tune_state_open(bz_tune_state *s, const char *path, const char *key, bool fresh,
                        size_t n_shapes, char *why, size_t size)
{
    memset(s, 0, sizeof *s);
    char line[4096];
    /* A FIFO or device named as the state file would block the open or feed
     * the tuner for ever: regular files only. */
    struct stat sb;
    if (lstat(path, &sb) == 0 && !S_ISREG(sb.st_mode)) {
        snprintf(why, size, "the state file %s is not a regular file", path);
        return false;
    }
    FILE *f = fresh ? NULL : fopen(path, "r");
    bool same = false;
    if (f) {
        while (fgets(line, sizeof line, f)) {
            line[strcspn(line, "\n")] = '\0';
            if (line[0] == 'K' && line[1] == ' ')
                same = strcmp(line + 2, key) == 0;
            else if (same)
                load_line(s, line, n_shapes);
        }
        fclose(f);
    }
    if (!same) { /* another device's or no memory: start over */
        s->n = 0;
        s->have_baseline = false;
    }
    make_parents(path);
    s->f = fopen(path, same ? "a" : "w");
    if (!s->f) {
        snprintf(why, size, "cannot write the state file %s: %s", path, strerror(errno));
        return false;
    }
    if (!same)
        fprintf(s->f, "# boltzcl-tune state v1\nK %s\n", key);
    fflush(s->f);
    return true;
}

bool bz_tune_state_add(bz_tune_state *s, const bz_tune_result *r, size_t n_shapes)
{
    fprintf(s->f, "C %d %s", r->mode, r->status);
    for (size_t i = 0; i < n_shapes; i++)
        fprintf(s->f, " %.9f", r->t[i]);
    fprintf(s->f, " | %s\n", r->key);
    fflush(s->f);
    return push(s, r);
}

void bz_tune_state_baseline(bz_tune_state *s, const double *t, size_t n_shapes)
{
    memcpy(s->baseline, t, n_shapes * sizeof *t);
    s->have_baseline = true;
    fprintf(s->f, "B");
    for (size_t i = 0; i < n_shapes; i++)
        fprintf(s->f, " %.9f", t[i]);
    fprintf(s->f, "\n");
    fflush(s->f);
}

const bz_tune_result *bz_tune_state_find(const bz_tune_state *s, const char *key)
{
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->r[i].key, key) == 0)
            return &s->r[i];
    return NULL;
}

void bz_tune_state_close(bz_tune_state *s)
{
    if (s->f)
        fclose(s->f);
    free(s->r);
    memset(s, 0, sizeof *s);
}
