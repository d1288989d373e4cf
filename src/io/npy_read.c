#include "io/npy_read.h"
#include "io/filebuf.h"

#include <stdlib.h>
#include <string.h>

static const char magic[6] = {(char)0x93, 'N', 'U', 'M', 'P', 'Y'};

bool bz_npy_is_npy(const void *buf, size_t len)
{
    return len >= 6 && memcmp(buf, magic, 6) == 0;
}

/* The text after 'key': in the header dict, spaces skipped; NULL if absent. */
static const char *value_of(const char *hdr, const char *key)
{
    const char *p = strstr(hdr, key);
    if (!p)
        return NULL;
    p += strlen(key);
    while (*p == ' ')
        p++;
    if (*p != ':')
        return NULL;
    p++;
    while (*p == ' ')
        p++;
    return p;
}

bz_status bz_npy_parse_f32(const void *buf, size_t len, const char *name, bz_npy_array *out,
                           bz_error *err)
{
    memset(out, 0, sizeof *out);
    const unsigned char *b = buf;
    if (!bz_npy_is_npy(buf, len) || len < 10)
        return bz_error_set(err, BZ_E_FORMAT, "%s: not a .npy file", name);
    unsigned major = b[6];
    size_t hlen, start;
    if (major == 1) {
        hlen = (size_t)b[8] | (size_t)b[9] << 8;
        start = 10;
    } else if (major == 2 || major == 3) {
        if (len < 12)
            return bz_error_set(err, BZ_E_FORMAT, "%s: truncated .npy header", name);
        hlen = (size_t)b[8] | (size_t)b[9] << 8 | (size_t)b[10] << 16 | (size_t)b[11] << 24;
        start = 12;
    } else {
        return bz_error_set(err, BZ_E_FORMAT, "%s: .npy format version %u is not supported",
                            name, major);
    }
    if (hlen > len - start || hlen > 65536)
        return bz_error_set(err, BZ_E_FORMAT, "%s: the .npy header runs past the file", name);
    char hdr[65537];
    memcpy(hdr, b + start, hlen);
    hdr[hlen] = '\0';
    if (strlen(hdr) != hlen)
        return bz_error_set(err, BZ_E_FORMAT, "%s: NUL byte in the .npy header", name);

    const char *d = value_of(hdr, "'descr'");
    size_t item = 0;
    int kind = 0; /* 1 float, 2 int */
    if (d && (strncmp(d, "'<f4'", 5) == 0 || strncmp(d, "'<f8'", 5) == 0 ||
              strncmp(d, "'<i4'", 5) == 0 || strncmp(d, "'<i8'", 5) == 0)) {
        kind = d[2] == 'f' ? 1 : 2;
        item = (size_t)(d[3] - '0');
    } else {
        return bz_error_set(err, BZ_E_FORMAT,
                            "%s: .npy dtype %.8s is not supported (little-endian float32, "
                            "float64, int32 or int64)",
                            name, d ? d : "(none)");
    }
    const char *fo = value_of(hdr, "'fortran_order'");
    if (!fo || strncmp(fo, "False", 5) != 0)
        return bz_error_set(err, BZ_E_FORMAT,
                            "%s: only C-order .npy arrays are read (fortran_order must be False)",
                            name);
    const char *s = value_of(hdr, "'shape'");
    if (!s || *s != '(')
        return bz_error_set(err, BZ_E_FORMAT, "%s: the .npy header has no shape", name);
    s++;
    size_t numel = 1;
    for (;;) {
        while (*s == ' ' || *s == ',')
            s++;
        if (*s == ')')
            break;
        if (*s < '0' || *s > '9' || out->ndim == BZ_NPY_READ_MAX_DIMS)
            return bz_error_set(err, BZ_E_FORMAT, "%s: bad shape in the .npy header", name);
        char *end;
        unsigned long long v = strtoull(s, &end, 10);
        if (v > ((size_t)1 << 40) || (v && numel > ((size_t)1 << 40) / v))
            return bz_error_set(err, BZ_E_FORMAT, "%s: the .npy shape is too large", name);
        out->shape[out->ndim++] = (size_t)v;
        numel *= (size_t)v;
        s = end;
    }
    size_t data = start + hlen;
    if (len - data != numel * item)
        return bz_error_set(err, BZ_E_FORMAT,
                            "%s: the .npy data holds %zu bytes, its shape needs %zu", name,
                            len - data, numel * item);
    /* the declared size against memory before it is allocated */
    bz_status st;
    if ((st = bz_mem_check(name, numel * sizeof(float), "the .npy array", err)))
        return st;
    float *x = malloc((numel ? numel : 1) * sizeof *x);
    if (!x)
        return bz_error_set(err, BZ_E_NOMEM, "%s: out of memory", name);
    const unsigned char *p = b + data;
    for (size_t k = 0; k < numel; k++, p += item) {
        if (kind == 1 && item == 4) {
            memcpy(&x[k], p, 4);
        } else if (kind == 1) {
            double v;
            memcpy(&v, p, 8);
            x[k] = (float)v;
        } else if (item == 4) {
            int32_t v;
            memcpy(&v, p, 4);
            x[k] = (float)v;
        } else {
            int64_t v;
            memcpy(&v, p, 8);
            x[k] = (float)v;
        }
    }
    out->numel = numel;
    out->data = x;
    return BZ_OK;
}
