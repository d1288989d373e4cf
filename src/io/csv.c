#include "io/csv.h"

#include "base/atomic_file.h"
#include "io/filebuf.h"

#include <errno.h>
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void bz_csv_options_init(bz_csv_options *opts)
{
    if (!opts)
        return;
    opts->labels = 1;
    opts->header = -1;
    opts->delimiter = ',';
}

void bz_csv_free(bz_csv *csv)
{
    if (!csv)
        return;
    free(csv->x);
    free(csv->labels);
    memset(csv, 0, sizeof *csv);
}

/* Runs number conversion in the C locale on this thread only, whatever
 * setlocale() the application did. */
typedef struct c_locale_guard {
    locale_t c;
    locale_t old;
} c_locale_guard;

static void c_locale_enter(c_locale_guard *g)
{
    g->c = newlocale(LC_ALL_MASK, "C", (locale_t)0);
    g->old = g->c ? uselocale(g->c) : (locale_t)0;
}

static void c_locale_leave(c_locale_guard *g)
{
    if (g->c) {
        uselocale(g->old);
        freelocale(g->c);
    }
}

typedef struct field {
    const char *p;
    size_t n;
} field;

enum { TOK_OK = 0, TOK_UNTERMINATED, TOK_AFTER_QUOTE };

static int is_blank(char c, char delim)
{
    return (c == ' ' || c == '\t') && c != delim;
}

/* Reads the field starting at *pos of line s[0..len). Sets *more when a
 * delimiter follows it. On error *pos is the offending position. */
static int next_field(const char *s, size_t len, size_t *pos, char delim, field *f, int *more)
{
    size_t i = *pos, j = i;
    while (j < len && is_blank(s[j], delim))
        j++;
    if (j < len && s[j] == '"') {
        size_t k = j + 1;
        for (;;) {
            if (k >= len) {
                *pos = j;
                return TOK_UNTERMINATED;
            }
            if (s[k] == '"') {
                if (k + 1 < len && s[k + 1] == '"') {
                    k += 2;
                    continue;
                }
                break;
            }
            k++;
        }
        f->p = s + j + 1;
        f->n = k - (j + 1);
        k++;
        while (k < len && is_blank(s[k], delim))
            k++;
        if (k < len && s[k] != delim) {
            *pos = k;
            return TOK_AFTER_QUOTE;
        }
        i = k;
    } else {
        const char *d = memchr(s + i, delim, len - i);
        size_t end = d ? (size_t)(d - s) : len;
        f->p = s + i;
        f->n = end - i;
        i = end;
    }
    if (i < len) {
        *more = 1;
        *pos = i + 1;
    } else {
        *more = 0;
        *pos = len;
    }
    return TOK_OK;
}

/* Printable excerpt of a field for messages. */
static const char *excerpt(const field *f, char *out, size_t cap)
{
    size_t n = f->n < cap - 4 ? f->n : cap - 4;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)f->p[i];
        out[i] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
    }
    if (n < f->n) {
        memcpy(out + n, "...", 4);
    } else {
        out[n] = 0;
    }
    return out;
}

static field trim(field f, char delim)
{
    while (f.n && is_blank(f.p[0], delim)) {
        f.p++;
        f.n--;
    }
    while (f.n && is_blank(f.p[f.n - 1], delim))
        f.n--;
    return f;
}

enum { NUM_OK = 0, NUM_EMPTY, NUM_BAD, NUM_TOOLONG, NUM_NONFINITE, NUM_RANGE };

#define NUM_MAXLEN 127

/* Parses a whole trimmed field as a finite float (C locale is in effect). */
static int parse_number(field f, char delim, float *out)
{
    f = trim(f, delim);
    if (f.n == 0)
        return NUM_EMPTY;
    if (f.n > NUM_MAXLEN)
        return NUM_TOOLONG;
    char buf[NUM_MAXLEN + 1];
    memcpy(buf, f.p, f.n);
    buf[f.n] = 0;
    if (strlen(buf) != f.n)
        return NUM_BAD; /* embedded NUL */
    char *end;
    errno = 0;
    /* strtof rounds once, straight to float: "%.9g" output of any float,
     * FLT_MAX included, reads back exactly. */
    float v = strtof(buf, &end);
    if (end != buf + f.n || end == buf)
        return NUM_BAD;
    if (isnan(v) || (isinf(v) && errno != ERANGE))
        return NUM_NONFINITE;
    if (isinf(v))
        return NUM_RANGE;
    *out = v;
    return NUM_OK;
}

enum { LAB_OK = 0, LAB_EMPTY, LAB_BAD, LAB_NEGATIVE, LAB_RANGE };

static int parse_label(field f, char delim, int32_t *out)
{
    f = trim(f, delim);
    if (f.n == 0)
        return LAB_EMPTY;
    size_t i = 0;
    int neg = 0;
    if (f.p[0] == '-' || f.p[0] == '+') {
        neg = f.p[0] == '-';
        i = 1;
    }
    if (i == f.n)
        return LAB_BAD;
    long v = 0;
    for (; i < f.n; i++) {
        if (f.p[i] < '0' || f.p[i] > '9')
            return LAB_BAD;
        if (v <= BZ_CSV_MAX_LABEL)
            v = v * 10 + (f.p[i] - '0');
    }
    if (neg && v != 0)
        return LAB_NEGATIVE;
    if (v > BZ_CSV_MAX_LABEL)
        return LAB_RANGE;
    *out = (int32_t)v;
    return LAB_OK;
}

/* Counts the fields of one line, reporting quoting errors. */
static bz_status count_fields(const char *s, size_t len, char delim, const char *name,
                              size_t line_no, size_t *count, bz_error *err)
{
    size_t pos = 0, n = 0;
    int more = 1;
    while (more) {
        field f;
        int t = next_field(s, len, &pos, delim, &f, &more);
        n++;
        if (t == TOK_UNTERMINATED)
            return bz_error_set(err, BZ_E_FORMAT,
                                "%s: line %zu, column %zu: unterminated quoted field "
                                "(expected a closing '\"' before the end of the line)",
                                name, line_no, n);
        if (t == TOK_AFTER_QUOTE)
            return bz_error_set(err, BZ_E_FORMAT,
                                "%s: line %zu, column %zu: unexpected character '%c' after a "
                                "closing quote (expected '%c' or end of line)",
                                name, line_no, n,
                                (s[pos] >= 0x20 && s[pos] < 0x7f) ? s[pos] : '?', delim);
    }
    *count = n;
    return BZ_OK;
}

static int line_is_numeric_free(const char *s, size_t len, char delim)
{
    size_t pos = 0;
    int more = 1;
    while (more) {
        field f;
        if (next_field(s, len, &pos, delim, &f, &more) != TOK_OK)
            return 1;
        float v;
        int r = parse_number(f, delim, &v);
        if (r != NUM_EMPTY && r != NUM_BAD && r != NUM_TOOLONG)
            return 0; /* looks like a number (even a rejected one) */
    }
    return 1;
}

static bz_status parse_row(const char *s, size_t len, const char *name, size_t line_no,
                           const bz_csv_options *o, float *row, int32_t *label, bz_error *err)
{
    size_t pos = 0, col = 0;
    int more = 1;
    char ex[48];
    while (more) {
        field f;
        next_field(s, len, &pos, o->delimiter, &f, &more); /* validated by count_fields */
        col++;
        if (o->labels && col == 1) {
            int r = parse_label(f, o->delimiter, label);
            if (r == LAB_EMPTY)
                return bz_error_set(err, BZ_E_FORMAT,
                                    "%s: line %zu, column 1: empty label, expected an integer "
                                    "class label",
                                    name, line_no);
            if (r == LAB_NEGATIVE)
                return bz_error_set(err, BZ_E_FORMAT,
                                    "%s: line %zu, column 1: label '%s' is negative, expected "
                                    "0 to %d",
                                    name, line_no, excerpt(&f, ex, sizeof ex), BZ_CSV_MAX_LABEL);
            if (r == LAB_RANGE)
                return bz_error_set(err, BZ_E_FORMAT,
                                    "%s: line %zu, column 1: label '%s' is too large, expected "
                                    "0 to %d",
                                    name, line_no, excerpt(&f, ex, sizeof ex), BZ_CSV_MAX_LABEL);
            if (r != LAB_OK)
                return bz_error_set(err, BZ_E_FORMAT,
                                    "%s: line %zu, column 1: label '%s' is not an integer, "
                                    "expected a class label 0 to %d",
                                    name, line_no, excerpt(&f, ex, sizeof ex), BZ_CSV_MAX_LABEL);
            continue;
        }
        float v = 0.0f;
        int r = parse_number(f, o->delimiter, &v);
        switch (r) {
        case NUM_OK:
            break;
        case NUM_EMPTY:
            return bz_error_set(err, BZ_E_FORMAT,
                                "%s: line %zu, column %zu: empty field, expected a number", name,
                                line_no, col);
        case NUM_NONFINITE:
            return bz_error_set(err, BZ_E_FORMAT,
                                "%s: line %zu, column %zu: value '%s' is not finite "
                                "(NaN and Inf are not allowed)",
                                name, line_no, col, excerpt(&f, ex, sizeof ex));
        case NUM_RANGE:
            return bz_error_set(err, BZ_E_FORMAT,
                                "%s: line %zu, column %zu: value '%s' is outside the float32 "
                                "range",
                                name, line_no, col, excerpt(&f, ex, sizeof ex));
        case NUM_TOOLONG:
            return bz_error_set(err, BZ_E_FORMAT,
                                "%s: line %zu, column %zu: field of %zu characters is too long "
                                "for a number",
                                name, line_no, col, f.n);
        default:
            return bz_error_set(err, BZ_E_FORMAT,
                                "%s: line %zu, column %zu: '%s' is not a number", name,
                                line_no, col, excerpt(&f, ex, sizeof ex));
        }
        *row++ = v;
    }
    return BZ_OK;
}

static size_t count_newlines(const char *p, size_t n)
{
    size_t c = 0;
    const char *end = p + n;
    while (p < end) {
        const char *q = memchr(p, '\n', (size_t)(end - p));
        if (!q)
            break;
        c++;
        p = q + 1;
    }
    return c;
}

bz_status bz_csv_parse(const char *buf, size_t len, const char *name,
                       const bz_csv_options *opts, bz_csv *out, bz_error *err)
{
    if (!out)
        return bz_error_set(err, BZ_E_INVALID_ARG, "bz_csv_parse: NULL output");
    memset(out, 0, sizeof *out);
    if (!buf && len)
        return bz_error_set(err, BZ_E_INVALID_ARG, "bz_csv_parse: NULL buffer");
    if (!name)
        name = "<memory>";
    bz_csv_options o;
    bz_csv_options_init(&o);
    if (opts)
        o = *opts;
    if (o.delimiter == '"' || o.delimiter == '\n' || o.delimiter == '\r' || o.delimiter == 0)
        return bz_error_set(err, BZ_E_INVALID_ARG, "%s: invalid CSV delimiter 0x%02x", name,
                            (unsigned char)o.delimiter);
    if (o.header < -1 || o.header > 1)
        return bz_error_set(err, BZ_E_INVALID_ARG, "%s: header must be -1, 0 or 1", name);
    o.labels = o.labels != 0;

    size_t pos = 0;
    if (len >= 3 && (unsigned char)buf[0] == 0xEF && (unsigned char)buf[1] == 0xBB &&
        (unsigned char)buf[2] == 0xBF)
        pos = 3;

    c_locale_guard loc;
    c_locale_enter(&loc);

    bz_status st = BZ_OK;
    size_t line_no = 0, ncols = 0, fcols = 0, first_line = 0, rows = 0, bound = 0;
    float *x = NULL;
    int32_t *labels = NULL;
    int had_header = 0;

    while (pos < len) {
        line_no++;
        const char *s = buf + pos;
        const char *eol = memchr(s, '\n', len - pos);
        size_t n = eol ? (size_t)(eol - s) : len - pos;
        size_t next = pos + n + (eol ? 1 : 0);
        if (n && s[n - 1] == '\r')
            n--;
        size_t k = 0;
        while (k < n && (s[k] == ' ' || s[k] == '\t'))
            k++;
        if (k == n) {
            pos = next;
            continue;
        }

        size_t nf = 0;
        st = count_fields(s, n, o.delimiter, name, line_no, &nf, err);
        if (st != BZ_OK)
            goto fail;

        if (!first_line) {
            first_line = line_no;
            ncols = nf;
            int is_header = o.header == 1 ||
                            (o.header == -1 && line_is_numeric_free(s, n, o.delimiter));
            if (o.labels && ncols < 2) {
                st = bz_error_set(err, BZ_E_FORMAT,
                                  "%s: line %zu: 1 column, expected a label column followed "
                                  "by at least one feature column",
                                  name, line_no);
                goto fail;
            }
            fcols = ncols - (size_t)o.labels;
            size_t data_start = is_header ? next : pos;
            size_t rem = len - data_start;
            /* Each data row takes at least 2*ncols-1 bytes (a character per
             * field and the delimiters), which bounds the row count by the
             * input size; one spare row is the scratch space a failing row
             * is parsed into. */
            size_t by_bytes = rem / (2 * ncols - 1) + 1;
            size_t by_lines = count_newlines(buf + data_start, rem) + 1;
            bound = (by_bytes < by_lines ? by_bytes : by_lines) + 1;
            if (bound > SIZE_MAX / sizeof(float) / fcols) {
                st = bz_error_set(err, BZ_E_NOMEM, "%s: too many values", name);
                goto fail;
            }
            x = malloc(bound * fcols * sizeof(float));
            if (o.labels)
                labels = malloc(bound * sizeof(int32_t));
            if (!x || (o.labels && !labels)) {
                st = bz_error_set(err, BZ_E_NOMEM, "%s: cannot allocate %zu x %zu values", name,
                                  bound, fcols);
                goto fail;
            }
            if (is_header) {
                had_header = 1;
                pos = next;
                continue;
            }
        }

        if (nf != ncols) {
            st = bz_error_set(err, BZ_E_FORMAT,
                              "%s: line %zu: %zu fields, expected %zu as on line %zu", name,
                              line_no, nf, ncols, first_line);
            goto fail;
        }
        if (rows >= bound) {
            st = bz_error_set(err, BZ_E_INTERNAL, "%s: line %zu: row bound exceeded", name,
                              line_no);
            goto fail;
        }
        st = parse_row(s, n, name, line_no, &o, x + rows * fcols,
                       o.labels ? labels + rows : NULL, err);
        if (st != BZ_OK)
            goto fail;
        rows++;
        pos = next;
    }

    if (!first_line) {
        st = bz_error_set(err, BZ_E_FORMAT, "%s: empty file, expected CSV rows of numbers",
                          name);
        goto fail;
    }
    if (rows == 0) {
        st = bz_error_set(err, BZ_E_FORMAT,
                          "%s: no data rows after the header on line %zu, expected at least one",
                          name, first_line);
        goto fail;
    }
    c_locale_leave(&loc);

    float *xs = realloc(x, rows * fcols * sizeof(float));
    if (xs)
        x = xs;
    if (labels) {
        int32_t *ls = realloc(labels, rows * sizeof(int32_t));
        if (ls)
            labels = ls;
    }
    out->rows = rows;
    out->cols = fcols;
    out->x = x;
    out->labels = labels;
    out->max_label = -1;
    for (size_t i = 0; labels && i < rows; i++)
        if (labels[i] > out->max_label)
            out->max_label = labels[i];
    out->had_header = had_header;
    return BZ_OK;

fail:
    c_locale_leave(&loc);
    free(x);
    free(labels);
    return st;
}

bz_status bz_csv_load(const char *path, const bz_csv_options *opts, bz_csv *out,
                      bz_error *err)
{
    if (!out)
        return bz_error_set(err, BZ_E_INVALID_ARG, "bz_csv_load: NULL output");
    memset(out, 0, sizeof *out);
    if (!path)
        return bz_error_set(err, BZ_E_INVALID_ARG, "bz_csv_load: NULL path");
    uint8_t *buf = NULL;
    size_t len = 0;
    bz_status st = bz_read_file(path, BZ_IO_MAX_BYTES, &buf, &len, err);
    if (st != BZ_OK)
        return st;
    if (bz_is_gzip(buf, len)) {
        uint8_t *raw = NULL;
        size_t raw_len = 0;
        st = bz_gunzip(buf, len, path, BZ_IO_MAX_BYTES, &raw, &raw_len, err);
        free(buf);
        if (st != BZ_OK)
            return st;
        buf = raw;
        len = raw_len;
    }
    st = bz_csv_parse((const char *)buf, len, path, opts, out, err);
    free(buf);
    return st;
}

bz_status bz_csv_write(const char *path, const float *x, size_t rows, size_t cols,
                       const int32_t *labels, int header, bz_error *err)
{
    if (!path || (!x && rows && cols))
        return bz_error_set(err, BZ_E_INVALID_ARG, "bz_csv_write: NULL argument");
    if (cols == 0 && !labels)
        return bz_error_set(err, BZ_E_INVALID_ARG, "%s: nothing to write: 0 columns", path);
    for (size_t i = 0; i < rows; i++)
        for (size_t j = 0; j < cols; j++)
            if (!isfinite(x[i * cols + j]))
                return bz_error_set(err, BZ_E_INVALID_ARG,
                                    "%s: value at row %zu, column %zu is not finite", path, i,
                                    j);

    /* A float in %.9g takes at most 15 characters; 24 leaves room. */
    if (cols > (SIZE_MAX - 64) / 24)
        return bz_error_set(err, BZ_E_INVALID_ARG, "%s: too many columns", path);
    size_t cap = cols * 24 + 64;
    char *line = malloc(cap);
    if (!line)
        return bz_error_set(err, BZ_E_NOMEM, "%s: out of memory", path);

    bz_atomic_file af;
    bz_status st = bz_atomic_open(&af, path, err);
    if (st != BZ_OK) {
        free(line);
        return st;
    }
    c_locale_guard loc;
    c_locale_enter(&loc);
    if (header) {
        size_t n = 0;
        if (labels)
            n += (size_t)snprintf(line + n, cap - n, "label");
        for (size_t j = 0; j < cols; j++)
            n += (size_t)snprintf(line + n, cap - n, "%sx%zu", (labels || j) ? "," : "", j);
        line[n++] = '\n';
        st = bz_atomic_write(&af, line, n, err);
    }
    for (size_t i = 0; st == BZ_OK && i < rows; i++) {
        size_t n = 0;
        if (labels)
            n += (size_t)snprintf(line + n, cap - n, "%d", (int)labels[i]);
        for (size_t j = 0; j < cols; j++)
            n += (size_t)snprintf(line + n, cap - n, "%s%.9g", (labels || j) ? "," : "",
                                  (double)x[i * cols + j]);
        line[n++] = '\n';
        st = bz_atomic_write(&af, line, n, err);
    }
    c_locale_leave(&loc);
    free(line);
    if (st != BZ_OK) {
        bz_atomic_abort(&af);
        return st;
    }
    return bz_atomic_commit(&af, err);
}
