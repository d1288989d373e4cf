#include "io/filebuf.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

bz_status bz_read_file(const char *path, size_t max_bytes, uint8_t **buf, size_t *len,
                       bz_error *err)
{
    if (!path || !buf || !len)
        return bz_error_set(err, BZ_E_INVALID_ARG, "bz_read_file: NULL argument");
    *buf = NULL;
    *len = 0;

    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return bz_error_set(err, BZ_E_IO, "%s: cannot open: %s", path, strerror(errno));

    struct stat st;
    if (fstat(fd, &st) != 0) {
        int e = errno;
        close(fd);
        return bz_error_set(err, BZ_E_IO, "%s: cannot stat: %s", path, strerror(e));
    }
    if (S_ISDIR(st.st_mode)) {
        close(fd);
        return bz_error_set(err, BZ_E_IO, "%s: is a directory, expected a file", path);
    }

    size_t cap = 64 * 1024;
    if (S_ISREG(st.st_mode)) {
        if ((uintmax_t)st.st_size > (uintmax_t)max_bytes) {
            close(fd);
            return bz_error_set(err, BZ_E_FORMAT,
                                "%s: file is %jd bytes, larger than the %zu-byte limit", path,
                                (intmax_t)st.st_size, max_bytes);
        }
        /* +1: room to notice growth and for the NUL terminator. */
        cap = (size_t)st.st_size + 1;
    }

    uint8_t *data = malloc(cap);
    if (!data) {
        close(fd);
        return bz_error_set(err, BZ_E_NOMEM, "%s: cannot allocate %zu bytes to read it", path,
                            cap);
    }
    size_t n = 0;
    for (;;) {
        if (n == cap) {
            if (cap > max_bytes) {
                free(data);
                close(fd);
                return bz_error_set(err, BZ_E_FORMAT,
                                    "%s: file is larger than the %zu-byte limit", path,
                                    max_bytes);
            }
            size_t ncap = cap > SIZE_MAX / 2 ? SIZE_MAX : cap * 2;
            uint8_t *nd = realloc(data, ncap);
            if (!nd) {
                free(data);
                close(fd);
                return bz_error_set(err, BZ_E_NOMEM, "%s: cannot allocate %zu bytes to read it",
                                    path, ncap);
            }
            data = nd;
            cap = ncap;
        }
        size_t want = cap - n;
        if (want > (size_t)1 << 30)
            want = (size_t)1 << 30;
        ssize_t r = read(fd, data + n, want);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            int e = errno;
            free(data);
            close(fd);
            return bz_error_set(err, BZ_E_IO, "%s: read failed at offset %zu: %s", path, n,
                                strerror(e));
        }
        if (r == 0)
            break;
        n += (size_t)r;
    }
    close(fd);
    if (n > max_bytes) {
        free(data);
        return bz_error_set(err, BZ_E_FORMAT, "%s: file is larger than the %zu-byte limit", path,
                            max_bytes);
    }
    if (n == cap) {
        uint8_t *nd = realloc(data, n + 1);
        if (!nd) {
            free(data);
            return bz_error_set(err, BZ_E_NOMEM, "%s: cannot allocate %zu bytes", path, n + 1);
        }
        data = nd;
    }
    data[n] = 0;
    *buf = data;
    *len = n;
    return BZ_OK;
}

int bz_is_gzip(const void *buf, size_t len)
{
    const uint8_t *b = buf;
    return len >= 2 && b[0] == 0x1f && b[1] == 0x8b;
}

bz_status bz_gunzip(const void *buf, size_t len, const char *name, size_t max_out,
                    uint8_t **out, size_t *out_len, bz_error *err)
{
    if (!out || !out_len || (!buf && len))
        return bz_error_set(err, BZ_E_INVALID_ARG, "bz_gunzip: NULL argument");
    if (!name)
        name = "<memory>";
    *out = NULL;
    *out_len = 0;
    if (!bz_is_gzip(buf, len))
        return bz_error_set(err, BZ_E_FORMAT, "%s: offset 0: expected gzip magic 1f 8b", name);
    if (max_out > SIZE_MAX / 2)
        max_out = SIZE_MAX / 2;

    z_stream zs;
    memset(&zs, 0, sizeof zs);
    if (inflateInit2(&zs, 15 + 16) != Z_OK)
        return bz_error_set(err, BZ_E_NOMEM, "%s: cannot initialise zlib", name);

    const uint8_t *in = buf;
    size_t in_off = 0;    /* compressed bytes consumed so far */
    /* Initial capacity: the gzip trailer's ISIZE (uncompressed size mod 2^32
     * of the last member) when plausible -- exact for the usual single-member
     * file under 4 GiB -- else a guess; the buffer grows as needed anyway.
     * Deflate cannot expand by more than about 1032:1, which bounds a lying
     * trailer. */
    size_t cap = len < 4096 ? 8192 : (len < SIZE_MAX / 4 ? len * 4 : len);
    if (len >= 18) {
        const uint8_t *t = (const uint8_t *)buf + len - 4;
        size_t isize = (size_t)t[0] | (size_t)t[1] << 8 | (size_t)t[2] << 16 |
                       (size_t)t[3] << 24;
        if (len <= SIZE_MAX / 1032 && isize <= len * 1032)
            cap = isize;
    }
    if (cap > max_out)
        cap = max_out;
    cap += 1; /* NUL terminator, and room to notice max_out being exceeded */
    uint8_t *o = malloc(cap);
    size_t n = 0;
    bz_status st = BZ_OK;
    if (!o) {
        st = bz_error_set(err, BZ_E_NOMEM, "%s: cannot allocate %zu bytes", name, cap);
        goto done;
    }

    for (;;) {
        if (n == cap) {
            if (n > max_out) {
                st = bz_error_set(err, BZ_E_FORMAT,
                                  "%s: decompressed data exceeds the %zu-byte limit", name,
                                  max_out);
                goto done;
            }
            size_t ncap = cap > SIZE_MAX / 2 ? SIZE_MAX : cap * 2;
            if (ncap > max_out + 1)
                ncap = max_out + 1;
            if (ncap <= cap)
                ncap = cap + 1;
            uint8_t *no = realloc(o, ncap);
            if (!no) {
                st = bz_error_set(err, BZ_E_NOMEM, "%s: cannot allocate %zu bytes", name, ncap);
                goto done;
            }
            o = no;
            cap = ncap;
        }
        size_t in_chunk = len - in_off;
        if (in_chunk > UINT_MAX)
            in_chunk = UINT_MAX;
        size_t out_chunk = cap - n;
        if (out_chunk > UINT_MAX)
            out_chunk = UINT_MAX;
        zs.next_in = (Bytef *)(uintptr_t)(in + in_off);
        zs.avail_in = (uInt)in_chunk;
        zs.next_out = o + n;
        zs.avail_out = (uInt)out_chunk;
        int zr = inflate(&zs, Z_NO_FLUSH);
        in_off += in_chunk - zs.avail_in;
        n += out_chunk - zs.avail_out;
        if (zr == Z_STREAM_END) {
            if (in_off == len)
                break;
            /* Another gzip member may follow, as gzread() accepts. */
            if (!bz_is_gzip(in + in_off, len - in_off)) {
                st = bz_error_set(err, BZ_E_FORMAT,
                                  "%s: offset %zu: %zu trailing bytes after the gzip stream "
                                  "(expected end of file or another gzip member)",
                                  name, in_off, len - in_off);
                goto done;
            }
            inflateReset(&zs);
            continue;
        }
        if (zr == Z_OK)
            continue;
        if (zr == Z_BUF_ERROR) {
            if (zs.avail_out == 0)
                continue; /* output full: grow and go on */
            st = bz_error_set(err, BZ_E_FORMAT,
                              "%s: gzip stream truncated: compressed data ends at offset %zu "
                              "before the end of the stream (%zu bytes decompressed so far)",
                              name, len, n);
            goto done;
        }
        if (zr == Z_MEM_ERROR) {
            st = bz_error_set(err, BZ_E_NOMEM, "%s: zlib out of memory", name);
            goto done;
        }
        st = bz_error_set(err, BZ_E_FORMAT, "%s: compressed offset %zu: corrupt gzip data: %s",
                          name, in_off, zs.msg ? zs.msg : "inflate failed");
        goto done;
    }
    if (n > max_out) {
        st = bz_error_set(err, BZ_E_FORMAT, "%s: decompressed data exceeds the %zu-byte limit",
                          name, max_out);
        goto done;
    }
    if (n == cap) {
        uint8_t *no = realloc(o, n + 1);
        if (!no) {
            st = bz_error_set(err, BZ_E_NOMEM, "%s: cannot allocate %zu bytes", name, n + 1);
            goto done;
        }
        o = no;
    }
    o[n] = 0;
    *out = o;
    *out_len = n;
    o = NULL;
done:
    inflateEnd(&zs);
    free(o);
    return st;
}
