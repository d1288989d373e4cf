#include "io/series.h"
#include "io/csv.h"
#include "io/filebuf.h"
#include "io/npy_read.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void bz_series_free(bz_series *s)
{
    if (s) {
        free(s->x);
        memset(s, 0, sizeof *s);
    }
}

/* Whether a header's first field (up to the delimiter) names a time. */
static bool names_time(const char *p, const char *end)
{
    static const char *const names[] = {"time", "date", "year", "month", "t", "timestamp",
                                        "index", "datetime", NULL};
    while (p < end && (*p == ' ' || *p == '"' || *p == '\t'))
        p++;
    const char *q = p;
    while (q < end && *q != ',' && *q != '"' && *q != '\n' && *q != '\r' && *q != ' ')
        q++;
    for (size_t i = 0; names[i]; i++)
        if ((size_t)(q - p) == strlen(names[i]) && !strncasecmp(p, names[i], (size_t)(q - p)))
            return true;
    return false;
}

/* The text without the first field of each line (a quoted field may hold
 * commas); lines stay where they were, so messages keep their numbers. */
static char *drop_first_field(const char *buf, size_t len, size_t *out_len)
{
    char *o = malloc(len + 1);
    if (!o)
        return NULL;
    size_t n = 0, i = 0;
    while (i < len) {
        bool q = false;
        size_t j = i;
        while (j < len && (q || (buf[j] != ',' && buf[j] != '\n'))) {
            if (buf[j] == '"')
                q = !q;
            j++;
        }
        if (j < len && buf[j] == ',')
            j++; /* the delimiter goes with the field */
        size_t e = j;
        while (e < len && buf[e] != '\n')
            e++;
        if (e < len)
            e++;
        memcpy(o + n, buf + j, e - j);
        n += e - j;
        i = e;
    }
    *out_len = n;
    return o;
}

static bz_status load_csv(const char *path, const uint8_t *buf, size_t len, bool time_column,
                          bz_series *out, bz_error *err)
{
    const char *text = (const char *)buf;
    size_t skip = len >= 3 && !memcmp(text, "\xEF\xBB\xBF", 3) ? 3 : 0;
    const char *line_end = memchr(text + skip, '\n', len - skip);
    if (!line_end)
        line_end = text + len;
    bool drop = time_column || names_time(text + skip, line_end);
    char *stripped = NULL;
    size_t slen = len;
    if (drop && !(stripped = drop_first_field(text + skip, len - skip, &slen)))
        return bz_error_set(err, BZ_E_NOMEM, "%s: out of memory", path);
    bz_csv_options o;
    bz_csv_options_init(&o);
    o.labels = 0;
    bz_csv csv;
    bz_status st = bz_csv_parse(drop ? stripped : text, drop ? slen : len, path, &o, &csv, err);
    free(stripped);
    if (st)
        return st;
    out->rows = csv.rows;
    out->cols = csv.cols;
    out->x = csv.x;
    out->had_header = csv.had_header != 0;
    out->dropped_time = drop;
    csv.x = NULL;
    bz_csv_free(&csv);
    return BZ_OK;
}

bz_status bz_series_load(const char *path, bool time_column, bz_series *out, bz_error *err)
{
    memset(out, 0, sizeof *out);
    uint8_t *buf = NULL, *raw = NULL;
    size_t len = 0, raw_len = 0;
    bz_status st = bz_read_file(path, BZ_IO_MAX_BYTES, &raw, &raw_len, err);
    if (st)
        return st;
    if (bz_is_gzip(raw, raw_len)) {
        st = bz_gunzip(raw, raw_len, path, BZ_IO_MAX_BYTES, &buf, &len, err);
        free(raw);
        if (st)
            return st;
    } else {
        buf = raw;
        len = raw_len;
    }
    st = bz_series_parse(buf, len, path, time_column, out, err);
    free(buf);
    return st;
}

bz_status bz_series_parse(const uint8_t *buf, size_t len, const char *path, bool time_column,
                          bz_series *out, bz_error *err)
{
    memset(out, 0, sizeof *out);
    bz_status st;
    if (bz_npy_is_npy(buf, len)) {
        bz_npy_array a;
        st = bz_npy_parse_f32(buf, len, path, &a, err);
        if (st)
            return st;
        if (a.ndim != 1 && a.ndim != 2) {
            free(a.data);
            return bz_error_set(err, BZ_E_FORMAT, "%s: a series is a 1-D or 2-D array (time "
                                                  "steps x variables), not %d-D", path, a.ndim);
        }
        out->rows = a.shape[0];
        out->cols = a.ndim == 2 ? a.shape[1] : 1;
        out->x = a.data;
        for (size_t q = 0; q < out->rows * out->cols; q++)
            if (!isfinite(out->x[q])) {
                size_t r = q / out->cols, c = q % out->cols;
                bz_series_free(out);
                return bz_error_set(err, BZ_E_FORMAT, "%s: row %zu, column %zu (from 1) is not "
                                                      "finite", path, r + 1, c + 1);
            }
    } else {
        st = load_csv(path, buf, len, time_column, out, err);
        if (st)
            return st;
    }
    if (!out->rows || !out->cols) {
        bz_series_free(out);
        return bz_error_set(err, BZ_E_FORMAT, "%s: no values (a series needs rows of numbers)",
                            path);
    }
    return BZ_OK;
}
