#include "io/idx.h"

#include "io/filebuf.h"

#include <float.h>
#include <stdbool.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

const char *bz_idx_type_name(int type)
{
    switch (type) {
    case BZ_IDX_U8: return "u8";
    case BZ_IDX_I8: return "i8";
    case BZ_IDX_I16: return "i16";
    case BZ_IDX_I32: return "i32";
    case BZ_IDX_F32: return "f32";
    case BZ_IDX_F64: return "f64";
    default: return "unknown";
    }
}

static size_t type_size(int type)
{
    switch (type) {
    case BZ_IDX_U8:
    case BZ_IDX_I8: return 1;
    case BZ_IDX_I16: return 2;
    case BZ_IDX_I32:
    case BZ_IDX_F32: return 4;
    case BZ_IDX_F64: return 8;
    default: return 0;
    }
}

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

static uint64_t be64(const uint8_t *p)
{
    return (uint64_t)be32(p) << 32 | be32(p + 4);
}

static bz_status parse_raw(const uint8_t *b, size_t len, const char *name, bz_idx *out,
                           bz_error *err)
{
    if (len < 4)
        return bz_error_set(err, BZ_E_FORMAT,
                            "%s: truncated: expected a 4-byte IDX magic number, found %zu bytes",
                            name, len);
    if (b[0] != 0 || b[1] != 0)
        return bz_error_set(err, BZ_E_FORMAT,
                            "%s: offset 0: not an IDX file: magic %02x %02x %02x %02x, "
                            "expected 00 00 <type> <ndim>",
                            name, b[0], b[1], b[2], b[3]);
    int type = b[2];
    size_t esize = type_size(type);
    if (!esize)
        return bz_error_set(err, BZ_E_FORMAT,
                            "%s: offset 2: unknown IDX element type 0x%02x, expected 0x08 (u8), "
                            "0x09 (i8), 0x0B (i16), 0x0C (i32), 0x0D (f32) or 0x0E (f64)",
                            name, type);
    int ndim = b[3];
    if (ndim == 0)
        return bz_error_set(err, BZ_E_FORMAT,
                            "%s: offset 3: IDX dimension count is 0, expected 1 to %d", name,
                            BZ_IDX_MAX_DIMS);
    if (ndim > BZ_IDX_MAX_DIMS)
        return bz_error_set(err, BZ_E_FORMAT,
                            "%s: offset 3: IDX file has %d dimensions, at most %d supported",
                            name, ndim, BZ_IDX_MAX_DIMS);
    size_t hdr = 4 + 4 * (size_t)ndim;
    if (len < hdr)
        return bz_error_set(err, BZ_E_FORMAT,
                            "%s: truncated header: expected %zu bytes for %d dimensions, "
                            "found %zu",
                            name, hdr, ndim, len);

    size_t dims[BZ_IDX_MAX_DIMS];
    size_t count = 1;
    for (int i = 0; i < ndim; i++) {
        uint32_t d = be32(b + 4 + 4 * (size_t)i);
        if (d == 0)
            return bz_error_set(err, BZ_E_FORMAT, "%s: offset %zu: dimension %d is zero", name,
                                4 + 4 * (size_t)i, i);
        if (count > SIZE_MAX / d)
            return bz_error_set(err, BZ_E_FORMAT,
                                "%s: offset %zu: dimensions overflow: the product of sizes "
                                "up to dimension %d exceeds the address space",
                                name, 4 + 4 * (size_t)i, i);
        dims[i] = d;
        count *= d;
    }
    if (count > SIZE_MAX / esize || count > SIZE_MAX / sizeof(float))
        return bz_error_set(err, BZ_E_FORMAT,
                            "%s: dimensions overflow: %zu elements of %zu bytes exceed the "
                            "address space",
                            name, count, esize);
    size_t payload = count * esize;
    size_t avail = len - hdr;
    if (avail < payload)
        return bz_error_set(err, BZ_E_FORMAT,
                            "%s: truncated: expected %zu data bytes after the %zu-byte header "
                            "(%zu bytes in all), found %zu (%zu in all)",
                            name, payload, hdr, hdr + payload, avail, len);
    if (avail > payload)
        return bz_error_set(err, BZ_E_FORMAT,
                            "%s: offset %zu: %zu trailing bytes after the %zu expected data "
                            "bytes (expected end of file)",
                            name, hdr + payload, avail - payload, payload);

    float *data = malloc(count * sizeof(float));
    if (!data)
        return bz_error_set(err, BZ_E_NOMEM, "%s: cannot allocate %zu floats", name, count);
    const uint8_t *p = b + hdr;
    switch (type) {
    case BZ_IDX_U8:
        for (size_t i = 0; i < count; i++)
            data[i] = (float)p[i];
        break;
    case BZ_IDX_I8:
        for (size_t i = 0; i < count; i++)
            data[i] = (float)(int8_t)p[i];
        break;
    case BZ_IDX_I16:
        for (size_t i = 0; i < count; i++) {
            uint16_t u = (uint16_t)(p[2 * i] << 8 | p[2 * i + 1]);
            data[i] = (float)(int16_t)u;
        }
        break;
    case BZ_IDX_I32:
        for (size_t i = 0; i < count; i++)
            data[i] = (float)(int32_t)be32(p + 4 * i);
        break;
    case BZ_IDX_F32:
        for (size_t i = 0; i < count; i++) {
            uint32_t u = be32(p + 4 * i);
            float f;
            memcpy(&f, &u, sizeof f);
            data[i] = f;
        }
        break;
    case BZ_IDX_F64:
        for (size_t i = 0; i < count; i++) {
            uint64_t u = be64(p + 8 * i);
            double d;
            memcpy(&d, &u, sizeof d);
            if (isfinite(d) && fabs(d) > FLT_MAX) {
                free(data);
                return bz_error_set(err, BZ_E_FORMAT,
                                    "%s: offset %zu: element %zu = %g is outside the float32 "
                                    "range",
                                    name, hdr + 8 * i, i, d);
            }
            data[i] = (float)d;
        }
        break;
    default:
        free(data);
        return bz_error_set(err, BZ_E_INTERNAL, "%s: unhandled IDX type", name);
    }

    memset(out, 0, sizeof *out);
    out->type = type;
    out->ndim = ndim;
    memcpy(out->dims, dims, (size_t)ndim * sizeof dims[0]);
    out->count = count;
    out->data = data;
    return BZ_OK;
}

bz_status bz_idx_parse(const void *buf, size_t len, const char *name, bz_idx *out,
                       bz_error *err)
{
    if (!out)
        return bz_error_set(err, BZ_E_INVALID_ARG, "bz_idx_parse: NULL output");
    memset(out, 0, sizeof *out);
    if (!buf && len)
        return bz_error_set(err, BZ_E_INVALID_ARG, "bz_idx_parse: NULL buffer");
    if (!name)
        name = "<memory>";
    if (!bz_is_gzip(buf, len))
        return parse_raw(buf, len, name, out, err);

    /* The IDX header says how much data follows: inflate the header alone
     * first, check its claim against memory, then inflate exactly that much
     * and no more, so a gzip bomb stops after the declared size. */
    uint8_t head[4 + 4 * BZ_IDX_MAX_DIMS];
    size_t got = 0;
    bz_status st = bz_gunzip_prefix(buf, len, name, head, sizeof head, &got, err);
    if (st != BZ_OK)
        return st;
    size_t declared = 0;
    if (got >= 4 && head[0] == 0 && head[1] == 0 && type_size(head[2]) && head[3] &&
        head[3] <= BZ_IDX_MAX_DIMS && got >= 4 + 4 * (size_t)head[3]) {
        size_t hdr = 4 + 4 * (size_t)head[3], count = 1;
        bool overflow = false;
        for (int i = 0; i < head[3]; i++) {
            uint32_t d = be32(head + 4 + 4 * (size_t)i);
            if (d && count > SIZE_MAX / d)
                overflow = true;
            else
                count *= d;
        }
        size_t es = type_size(head[2]);
        if (!overflow && count <= (SIZE_MAX - hdr) / (es + sizeof(float))) {
            declared = hdr + count * es;
            /* The inflated file and the floats made from it live together. */
            st = bz_mem_check(name, declared + count * sizeof(float),
                              "the data its IDX header declares", err);
            if (st != BZ_OK)
                return st;
        }
    }
    if (!declared) /* a header parse_raw refuses, naming the offset */
        return parse_raw(head, got, name, out, err);
    uint8_t *raw = NULL;
    size_t raw_len = 0;
    st = bz_gunzip_declared(buf, len, name, declared, "its IDX header", &raw, &raw_len, err);
    if (st != BZ_OK)
        return st;
    st = parse_raw(raw, raw_len, name, out, err);
    free(raw);
    return st;
}

bz_status bz_idx_load(const char *path, bz_idx *out, bz_error *err)
{
    if (!out)
        return bz_error_set(err, BZ_E_INVALID_ARG, "bz_idx_load: NULL output");
    memset(out, 0, sizeof *out);
    if (!path)
        return bz_error_set(err, BZ_E_INVALID_ARG, "bz_idx_load: NULL path");
    uint8_t *buf = NULL;
    size_t len = 0;
    bz_status st = bz_read_file(path, BZ_IO_MAX_BYTES, &buf, &len, err);
    if (st != BZ_OK)
        return st;
    st = bz_idx_parse(buf, len, path, out, err);
    free(buf);
    return st;
}

void bz_idx_free(bz_idx *idx)
{
    if (!idx)
        return;
    free(idx->data);
    memset(idx, 0, sizeof *idx);
}
