#include "io/ratings.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef enum { LAYOUT_CSV, LAYOUT_TAB, LAYOUT_DAT } layout;

void bz_ratings_free(bz_ratings *r)
{
    if (!r)
        return;
    free(r->user);
    free(r->item);
    free(r->value);
    free(r->line);
    memset(r, 0, sizeof *r);
}

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r';
}

/* One field [b, e) without surrounding spaces and double quotes. */
static void trim(const char **b, const char **e)
{
    while (*b < *e && is_space(**b))
        (*b)++;
    while (*e > *b && is_space((*e)[-1]))
        (*e)--;
    if (*e - *b >= 2 && **b == '"' && (*e)[-1] == '"') {
        (*b)++;
        (*e)--;
    }
}

/* An unsigned id: 0 ok, 1 not a number, 2 beyond 32 bits. */
static int parse_id(const char *b, const char *e, uint32_t *out)
{
    if (b == e)
        return 1;
    uint64_t v = 0;
    for (const char *q = b; q < e; q++) {
        if (*q < '0' || *q > '9')
            return 1;
        v = v * 10 + (uint64_t)(*q - '0');
        if (v > UINT32_MAX)
            return 2;
    }
    *out = (uint32_t)v;
    return 0;
}

/* A decimal rating, [+-]digits[.digits], read without the locale. */
static int parse_value(const char *b, const char *e, float *out)
{
    int neg = 0;
    if (b < e && (*b == '+' || *b == '-'))
        neg = *b++ == '-';
    double v = 0, scale = 1;
    int digits = 0, dot = 0;
    for (const char *q = b; q < e; q++) {
        if (*q == '.' && !dot) {
            dot = 1;
        } else if (*q >= '0' && *q <= '9') {
            if (digits++ > 12)
                return 1;
            if (dot)
                v += (scale /= 10) * (*q - '0');
            else
                v = v * 10 + (*q - '0');
        } else {
            return 1;
        }
    }
    if (!digits)
        return 1;
    *out = (float)(neg ? -v : v);
    return 0;
}

/* Splits [b, e) into at most max fields; returns how many. */
static size_t split(const char *b, const char *e, layout lay, const char **fb, const char **fe,
                    size_t max)
{
    size_t n = 0;
    const char *s = b;
    for (const char *q = b;; q++) {
        size_t sep = 0;
        if (q < e) {
            if (lay == LAYOUT_DAT && q + 1 < e && q[0] == ':' && q[1] == ':')
                sep = 2;
            else if ((lay == LAYOUT_TAB && *q == '\t') || (lay == LAYOUT_CSV && *q == ','))
                sep = 1;
        }
        if (q == e || sep) {
            if (n < max) {
                fb[n] = s;
                fe[n] = q;
                trim(&fb[n], &fe[n]);
            }
            n++;
            if (q == e)
                break;
            q += sep - 1;
            s = q + 1;
        }
    }
    return n;
}

static const char *layout_name(layout l)
{
    return l == LAYOUT_DAT ? "user::item::rating" : l == LAYOUT_TAB ? "user<TAB>item<TAB>rating"
                                                                     : "user,item,rating";
}

static int grow(bz_ratings *r, size_t *cap, int with_rating)
{
    size_t c = *cap ? *cap * 2 : 4096;
    uint32_t *u = realloc(r->user, c * sizeof *u);
    if (u)
        r->user = u;
    uint32_t *i = realloc(r->item, c * sizeof *i);
    if (i)
        r->item = i;
    uint32_t *l = realloc(r->line, c * sizeof *l);
    if (l)
        r->line = l;
    float *v = with_rating ? realloc(r->value, c * sizeof *v) : NULL;
    if (v)
        r->value = v;
    if (!u || !i || !l || (with_rating && !v))
        return -1;
    *cap = c;
    return 0;
}

typedef struct pair_ix {
    uint64_t key;
    size_t at;
} pair_ix;

static int cmp_pair(const void *a, const void *b)
{
    const pair_ix *x = a, *y = b;
    if (x->key != y->key)
        return x->key < y->key ? -1 : 1;
    return x->at < y->at ? -1 : x->at > y->at;
}

static bz_status check_duplicates(const bz_ratings *r, bz_error *err)
{
    pair_ix *p = malloc((r->n ? r->n : 1) * sizeof *p);
    if (!p)
        return bz_error_set(err, BZ_E_NOMEM, "%s: out of memory", r->path);
    for (size_t i = 0; i < r->n; i++)
        p[i] = (pair_ix){((uint64_t)r->user[i] << 32) | r->item[i], i};
    qsort(p, r->n, sizeof *p, cmp_pair);
    size_t bad = r->n, first = 0;
    for (size_t i = 1; i < r->n; i++)
        if (p[i].key == p[i - 1].key && (bad == r->n || p[i].at < bad)) {
            bad = p[i].at;
            first = p[i - 1].at;
        }
    free(p);
    if (bad < r->n)
        return bz_error_set(err, BZ_E_FORMAT,
                            "%s:%u: user %u and item %u appear twice (first at line %u); each "
                            "pair may have one rating", r->path, r->line[bad], r->user[bad],
                            r->item[bad], r->line[first]);
    return BZ_OK;
}

bz_status bz_ratings_parse(const char *text, size_t len, const char *name, int with_rating,
                           bz_ratings *out, bz_error *err)
{
    memset(out, 0, sizeof *out);
    snprintf(out->path, sizeof out->path, "%s", name);
    const char *p = text, *end = text + len;
    if (len >= 3 && (unsigned char)p[0] == 0xEF && (unsigned char)p[1] == 0xBB &&
        (unsigned char)p[2] == 0xBF)
        p += 3;
    layout lay = LAYOUT_CSV;
    int decided = 0;
    size_t cap = 0, line = 0;
    bz_status st = BZ_OK;
    while (p < end) {
        const char *e = memchr(p, '\n', (size_t)(end - p));
        if (!e)
            e = end;
        line++;
        const char *b = p;
        p = e < end ? e + 1 : end;
        const char *tb = b, *te = e;
        trim(&tb, &te);
        if (tb == te)
            continue;
        if (memchr(b, '\0', (size_t)(e - b))) {
            st = bz_error_set(err, BZ_E_FORMAT, "%s:%zu: a NUL byte: not a text ratings file",
                              name, line);
            goto fail;
        }
        if (line > UINT32_MAX) {
            st = bz_error_set(err, BZ_E_FORMAT, "%s: more than %u lines", name, UINT32_MAX);
            goto fail;
        }
        const char *fb[5], *fe[5];
        if (!decided) {
            decided = 1;
            for (const char *q = b; q + 1 < e; q++)
                if (q[0] == ':' && q[1] == ':')
                    lay = LAYOUT_DAT;
            if (lay == LAYOUT_DAT)
                ;
            else if (memchr(b, '\t', (size_t)(e - b)))
                lay = LAYOUT_TAB;
            size_t nf = split(b, e, lay, fb, fe, 5);
            uint32_t id;
            if (lay == LAYOUT_CSV && nf >= 2 && parse_id(fb[0], fe[0], &id) == 1)
                continue; /* a header: userId,movieId,rating,timestamp */
        }
        size_t need = with_rating ? 3 : 2;
        size_t nf = split(b, e, lay, fb, fe, 5);
        if (nf < need) {
            st = bz_error_set(err, BZ_E_FORMAT, "%s:%zu: %zu field%s where %s needs at least %zu "
                              "(%s%s)", name, line, nf, nf == 1 ? "" : "s",
                              with_rating ? "a rating" : "a pair", need, layout_name(lay),
                              with_rating ? "" : " without the rating");
            goto fail;
        }
        if (out->n == cap && grow(out, &cap, with_rating)) {
            st = bz_error_set(err, BZ_E_NOMEM, "%s: out of memory at line %zu", name, line);
            goto fail;
        }
        for (int f = 0; f < 2; f++) {
            uint32_t *dst = f ? &out->item[out->n] : &out->user[out->n];
            int rc = parse_id(fb[f], fe[f], dst);
            if (rc) {
                st = bz_error_set(err, BZ_E_FORMAT,
                                  rc == 2 ? "%s:%zu: %s id '%.*s' does not fit 32 bits"
                                          : "%s:%zu: %s id '%.*s' is not an unsigned integer",
                                  name, line, f ? "item" : "user", (int)(fe[f] - fb[f] > 40 ? 40 : fe[f] - fb[f]),
                                  fb[f]);
                goto fail;
            }
        }
        if (with_rating && parse_value(fb[2], fe[2], &out->value[out->n])) {
            st = bz_error_set(err, BZ_E_FORMAT, "%s:%zu: rating '%.*s' is not a number", name,
                              line, (int)(fe[2] - fb[2] > 40 ? 40 : fe[2] - fb[2]), fb[2]);
            goto fail;
        }
        out->line[out->n++] = (uint32_t)line;
    }
    if (out->n == 0) {
        st = bz_error_set(err, BZ_E_FORMAT, "%s: no %s in the file", name,
                          with_rating ? "ratings" : "user,item pairs");
        goto fail;
    }
    if ((st = check_duplicates(out, err)))
        goto fail;
    return BZ_OK;
fail:
    bz_ratings_free(out);
    return st;
}

bz_status bz_ratings_read(const char *path, int with_rating, bz_ratings *out, bz_error *err)
{
    memset(out, 0, sizeof *out);
    FILE *f = fopen(path, "rb");
    if (!f)
        return bz_error_set(err, BZ_E_IO, "cannot open %s: %s", path, strerror(errno));
    char *buf = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (len == cap) {
            size_t c = cap ? cap * 2 : 1 << 20;
            char *b = realloc(buf, c);
            if (!b) {
                free(buf);
                fclose(f);
                return bz_error_set(err, BZ_E_NOMEM, "out of memory reading %s", path);
            }
            buf = b;
            cap = c;
        }
        size_t got = fread(buf + len, 1, cap - len, f);
        len += got;
        if (got == 0)
            break;
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        free(buf);
        return bz_error_set(err, BZ_E_IO, "cannot read %s", path);
    }
    bz_status st = bz_ratings_parse(buf, len, path, with_rating, out, err);
    free(buf);
    return st;
}

bz_status bz_rating_scale_parse(const char *text, bz_rating_scale *s, bz_error *err)
{
    double lo, hi, step;
    char tail;
    if (!text || sscanf(text, "%lf:%lf:%lf%c", &lo, &hi, &step, &tail) != 3 || !isfinite(lo) ||
        !isfinite(hi) || !(step > 0) || !(hi > lo))
        return bz_error_set(err, BZ_E_INVALID_ARG, "a rating scale is LO:HI:STEP with HI > LO "
                            "and STEP > 0 (0.5:5:0.5, 1:5:1), not '%s'", text ? text : "");
    double k = (hi - lo) / step + 1;
    if (fabs(k - round(k)) > 1e-6 || round(k) < 2 || round(k) > BZ_RATINGS_MAX_CLASSES)
        return bz_error_set(err, BZ_E_INVALID_ARG, "rating scale '%s': (HI - LO) / STEP + 1 must "
                            "be a whole number of classes between 2 and %d", text,
                            BZ_RATINGS_MAX_CLASSES);
    *s = (bz_rating_scale){(float)lo, (float)step, (unsigned)round(k)};
    return BZ_OK;
}

bz_status bz_rating_scale_guess(const bz_ratings *r, bz_rating_scale *s, bz_error *err)
{
    int half = 0;
    float hi = 5;
    for (size_t i = 0; i < r->n; i++) {
        float v = r->value[i];
        if (v != floorf(v))
            half = 1;
        if (v > hi)
            hi = v;
    }
    float step = half ? 0.5f : 1.0f;
    /* compared as a float first: a huge rating would overflow the count */
    float kf = floorf(hi / step + 0.5f);
    unsigned k = kf > BZ_RATINGS_MAX_CLASSES ? BZ_RATINGS_MAX_CLASSES + 1 : (unsigned)kf;
    if (k > BZ_RATINGS_MAX_CLASSES)
        return bz_error_set(err, BZ_E_FORMAT, "%s: ratings up to %g make more than %d classes; "
                            "give the scale with --scale LO:HI:STEP", r->path, (double)hi,
                            BZ_RATINGS_MAX_CLASSES);
    *s = (bz_rating_scale){step, step, k};
    return BZ_OK;
}

bz_status bz_ratings_classes(const bz_ratings *r, const bz_rating_scale *s, uint8_t *out,
                             bz_error *err)
{
    for (size_t i = 0; i < r->n; i++) {
        float v = r->value[i];
        float k = roundf((v - s->lo) / s->step);
        if (!(k >= 0 && k < (float)s->classes) || fabsf(s->lo + k * s->step - v) > 1e-4f)
            return bz_error_set(err, BZ_E_FORMAT,
                                "%s:%u: rating %g is outside the scale %g to %g in steps of %g",
                                r->path, r->line[i], (double)v, (double)s->lo,
                                (double)(s->lo + (float)(s->classes - 1) * s->step),
                                (double)s->step);
        out[i] = (uint8_t)k;
    }
    return BZ_OK;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

bz_status bz_ids_unique(const uint32_t *ids, size_t n, uint32_t **out, size_t *n_out,
                        bz_error *err)
{
    uint32_t *u = malloc((n ? n : 1) * sizeof *u);
    if (!u)
        return bz_error_set(err, BZ_E_NOMEM, "out of memory");
    if (n)
        memcpy(u, ids, n * sizeof *u);
    qsort(u, n, sizeof *u, cmp_u32);
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (m == 0 || u[m - 1] != u[i])
            u[m++] = u[i];
    *out = u;
    *n_out = m;
    return BZ_OK;
}

long bz_ids_find(const uint32_t *ids, size_t n, uint32_t id)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (ids[mid] < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < n && ids[lo] == id ? (long)lo : -1;
}

/* splitmix64: a seeded shuffle that is the same everywhere */
static uint64_t mix(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

void bz_ratings_split(size_t n, double test_fraction, uint64_t seed, uint8_t *keep)
{
    size_t n_test = (size_t)floor(test_fraction * (double)n + 0.5);
    size_t *ix = malloc((n ? n : 1) * sizeof *ix);
    for (size_t i = 0; i < n; i++)
        keep[i] = 1;
    if (!ix) { /* without memory for the shuffle: every k-th entry */
        for (size_t i = 0; n_test && i < n; i += n / n_test)
            keep[i] = 0;
        return;
    }
    uint64_t s = seed;
    for (size_t i = 0; i < n; i++)
        ix[i] = i;
    for (size_t i = n; i > 1; i--) {
        size_t j = (size_t)(mix(&s) % i), t = ix[i - 1];
        ix[i - 1] = ix[j];
        ix[j] = t;
    }
    for (size_t i = 0; i < n_test; i++)
        keep[ix[i]] = 0;
    free(ix);
}
