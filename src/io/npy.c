#include "io/npy.h"

#include "base/atomic_file.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "npy output assumes a little-endian host ('<f4')"
#endif

#define NPY_ALIGN 64
#define NPY_PREFIX 10 /* magic (6) + version (2) + header length (2) */

size_t bz_npy_header_f32(int ndim, const size_t *shape, char *buf, size_t cap)
{
    if (ndim < 0 || ndim > BZ_NPY_MAX_DIMS || (ndim && !shape) || !buf)
        return 0;
    char dict[512];
    size_t n = (size_t)snprintf(dict, sizeof dict,
                                "{'descr': '<f4', 'fortran_order': False, 'shape': (");
    for (int i = 0; i < ndim; i++)
        n += (size_t)snprintf(dict + n, sizeof dict - n, "%s%zu", i ? ", " : "", shape[i]);
    n += (size_t)snprintf(dict + n, sizeof dict - n, "%s), }", ndim == 1 ? "," : "");
    /* The dict, spaces, then '\n' end at a multiple of NPY_ALIGN. */
    size_t total = (NPY_PREFIX + n + 1 + NPY_ALIGN - 1) / NPY_ALIGN * NPY_ALIGN;
    size_t hlen = total - NPY_PREFIX;
    if (total > cap || hlen > UINT16_MAX)
        return 0;
    memcpy(buf, "\x93NUMPY\x01\x00", 8);
    buf[8] = (char)(hlen & 0xff);
    buf[9] = (char)(hlen >> 8);
    memcpy(buf + NPY_PREFIX, dict, n);
    memset(buf + NPY_PREFIX + n, ' ', total - NPY_PREFIX - n - 1);
    buf[total - 1] = '\n';
    return total;
}

bz_status bz_npy_write_f32(const char *path, const float *data, int ndim, const size_t *shape,
                           bz_error *err)
{
    if (!path || (ndim > 0 && !shape))
        return bz_error_set(err, BZ_E_INVALID_ARG, "bz_npy_write_f32: NULL argument");
    if (ndim < 0 || ndim > BZ_NPY_MAX_DIMS)
        return bz_error_set(err, BZ_E_INVALID_ARG, "%s: %d dimensions, expected 0 to %d", path,
                            ndim, BZ_NPY_MAX_DIMS);
    size_t count = 1;
    for (int i = 0; i < ndim; i++)
        if (shape[i] == 0)
            count = 0;
    for (int i = 0; count && i < ndim; i++) {
        if (count > SIZE_MAX / sizeof(float) / shape[i])
            return bz_error_set(err, BZ_E_INVALID_ARG, "%s: shape overflows", path);
        count *= shape[i];
    }
    if (count && !data)
        return bz_error_set(err, BZ_E_INVALID_ARG, "%s: NULL data", path);
    char hdr[1024];
    size_t hn = bz_npy_header_f32(ndim, shape, hdr, sizeof hdr);
    if (!hn)
        return bz_error_set(err, BZ_E_INTERNAL, "%s: npy header does not fit", path);
    bz_atomic_file af;
    bz_status st = bz_atomic_open(&af, path, err);
    if (st != BZ_OK)
        return st;
    st = bz_atomic_write(&af, hdr, hn, err);
    if (st == BZ_OK)
        st = bz_atomic_write(&af, data, count * sizeof(float), err);
    if (st != BZ_OK) {
        bz_atomic_abort(&af);
        return st;
    }
    return bz_atomic_commit(&af, err);
}

bz_status bz_npy_write_f32_2d(const char *path, const float *data, size_t rows, size_t cols,
                              bz_error *err)
{
    size_t shape[2] = {rows, cols};
    return bz_npy_write_f32(path, data, 2, shape, err);
}
