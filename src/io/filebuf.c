#include "io/filebuf.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

size_t bz_mem_available(void)
{
    /* Test hook: a fixed figure, so that tests of the refusal do not depend
     * on the machine they run on. */
    const char *fake = getenv("BOLTZCL_TEST_MEM_AVAILABLE");
    if (fake && *fake) {
        char *end;
        unsigned long long v = strtoull(fake, &end, 10);
        if (!*end)
            return (size_t)v;
    }
    FILE *f = fopen("/proc/meminfo", "re");
    if (f) {
        char line[256];
        unsigned long long kb;
        while (fgets(line, sizeof line, f))
            if (sscanf(line, "MemAvailable: %llu kB", &kb) == 1) {
                fclose(f);
                return kb > SIZE_MAX / 1024 ? SIZE_MAX : (size_t)kb * 1024;
            }
        fclose(f);
    }
    long pages = sysconf(_SC_AVPHYS_PAGES), psz = sysconf(_SC_PAGESIZE);
    if (pages > 0 && psz > 0 && (unsigned long)pages <= SIZE_MAX / (unsigned long)psz)
        return (size_t)pages * (size_t)psz;
    return SIZE_MAX; /* unknown: the allocator will say */
}

bz_status bz_mem_check(const char *name, size_t bytes, const char *what, bz_error *err)
{
    size_t avail = bz_mem_available();
    if (bytes > avail)
        return bz_error_set(err, BZ_E_NOMEM,
                            "%s: %s needs %zu bytes, more than the %zu bytes of memory "
                            "available",
                            name, what, bytes, avail);
    return BZ_OK;
}

static const char *kind_of(mode_t m)
{
    if (S_ISDIR(m)) return "a directory";
    if (S_ISCHR(m)) return "a character device";
    if (S_ISBLK(m)) return "a block device";
    if (S_ISFIFO(m)) return "a FIFO";
    if (S_ISSOCK(m)) return "a socket";
    return "not a regular file";
}

int bz_open_input(const char *path, struct stat *st, bz_error *err)
{
    /* O_NONBLOCK: opening a FIFO with no writer would block forever before
     * fstat could say what it is. Cleared again for a regular file. */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (fd < 0) {
        bz_error_set(err, BZ_E_IO, "%s: cannot open: %s", path, strerror(errno));
        return -1;
    }
    if (fstat(fd, st) != 0) {
        int e = errno;
        close(fd);
        bz_error_set(err, BZ_E_IO, "%s: cannot stat: %s", path, strerror(e));
        return -1;
    }
    if (!S_ISREG(st->st_mode)) {
        close(fd);
        bz_error_set(err, BZ_E_IO,
                     "%s: is %s; boltzcl reads data, models and tuning files only from "
                     "regular files",
                     path, kind_of(st->st_mode));
        return -1;
    }
    int fl = fcntl(fd, F_GETFL);
    if (fl >= 0)
        fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
    return fd;
}

bz_status bz_read_file(const char *path, size_t max_bytes, uint8_t **buf, size_t *len,
                       bz_error *err)
{
    if (!path || !buf || !len)
        return bz_error_set(err, BZ_E_INVALID_ARG, "bz_read_file: NULL argument");
    *buf = NULL;
    *len = 0;

    struct stat st;
    int fd = bz_open_input(path, &st, err);
    if (fd < 0)
        return err ? err->status : BZ_E_IO;

    if ((uintmax_t)st.st_size > (uintmax_t)max_bytes) {
        close(fd);
        return bz_error_set(err, BZ_E_FORMAT,
                            "%s: file is %jd bytes, larger than the %zu-byte limit", path,
                            (intmax_t)st.st_size, max_bytes);
    }
    bz_status mst = bz_mem_check(path, (size_t)st.st_size, "reading the file", err);
    if (mst != BZ_OK) {
        close(fd);
        return mst;
    }
    /* +1: room to notice growth and for the NUL terminator. */
    size_t cap = (size_t)st.st_size + 1;

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

bz_status bz_gunzip_prefix(const void *buf, size_t len, const char *name, uint8_t *out,
                           size_t want, size_t *got, bz_error *err)
{
    *got = 0;
    if (!name)
        name = "<memory>";
    if (!bz_is_gzip(buf, len))
        return bz_error_set(err, BZ_E_FORMAT, "%s: offset 0: expected gzip magic 1f 8b", name);
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    if (inflateInit2(&zs, 15 + 16) != Z_OK)
        return bz_error_set(err, BZ_E_NOMEM, "%s: cannot initialise zlib", name);
    bz_status st = BZ_OK;
    zs.next_in = (Bytef *)(uintptr_t)buf;
    zs.avail_in = len > UINT_MAX ? UINT_MAX : (uInt)len;
    zs.next_out = out;
    zs.avail_out = (uInt)want;
    while (zs.avail_out > 0) {
        int zr = inflate(&zs, Z_NO_FLUSH);
        if (zr == Z_STREAM_END) {
            /* Another member may follow, as in the full read. */
            size_t used = (len > UINT_MAX ? UINT_MAX : len) - zs.avail_in;
            if (!bz_is_gzip((const uint8_t *)buf + used, len - used))
                break;
            inflateReset(&zs);
            continue;
        }
        if (zr == Z_OK)
            continue;
        if (zr == Z_BUF_ERROR && zs.avail_in == 0)
            break; /* input ends: the full read reports the truncation */
        st = bz_error_set(err, BZ_E_FORMAT, "%s: corrupt gzip data: %s", name,
                          zs.msg ? zs.msg : "inflate failed");
        break;
    }
    *got = want - zs.avail_out;
    inflateEnd(&zs);
    return st;
}

bz_status bz_gunzip(const void *buf, size_t len, const char *name, size_t max_out,
                    uint8_t **out, size_t *out_len, bz_error *err)
{
    return bz_gunzip_declared(buf, len, name, max_out, NULL, out, out_len, err);
}

bz_status bz_gunzip_declared(const void *buf, size_t len, const char *name, size_t max_out,
                             const char *declared_by, uint8_t **out, size_t *out_len,
                             bz_error *err)
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
    /* Never inflate past the memory there is: a small bomb would otherwise
     * run the machine into the out-of-memory killer before any limit. */
    size_t avail = bz_mem_available();
    bool mem_bound = !declared_by && avail < max_out;
    if (mem_bound)
        max_out = avail;
    char limit_text[160];
    if (declared_by)
        snprintf(limit_text, sizeof limit_text, "the %zu bytes %s declares", max_out,
                 declared_by);
    else if (mem_bound)
        snprintf(limit_text, sizeof limit_text, "the %zu bytes of memory available", max_out);
    else
        snprintf(limit_text, sizeof limit_text, "the %zu-byte limit", max_out);

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
                                  "%s: decompressed data exceeds %s; stopped there", name,
                                  limit_text);
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
        st = bz_error_set(err, BZ_E_FORMAT, "%s: decompressed data exceeds %s", name,
                          limit_text);
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
