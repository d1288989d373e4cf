/*
 * Whole-file reads and in-memory gzip decompression shared by the io readers.
 * Internal to the io layer.
 */
#ifndef BZ_IO_FILEBUF_H
#define BZ_IO_FILEBUF_H

#include "base/error.h"

#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

/* Opens path for reading when it is a regular file and fills *st; returns
 * the descriptor, or -1 with BZ_E_IO in err naming what it is (a device, a
 * FIFO, a directory...). A FIFO never blocks the open: it is opened without
 * waiting for a writer, then refused. /dev/zero as data, a FIFO as a model:
 * neither can make a reader wait or grow without bound. */
int bz_open_input(const char *path, struct stat *st, bz_error *err);

/* Bytes of memory available now (MemAvailable of /proc/meminfo, else free
 * pages; SIZE_MAX when unknown). BOLTZCL_TEST_MEM_AVAILABLE overrides it for
 * tests. */
size_t bz_mem_available(void);

/* BZ_E_NOMEM naming name and what when bytes exceed bz_mem_available(): a
 * size declared by a file is compared with memory before it is allocated. */
bz_status bz_mem_check(const char *name, size_t bytes, const char *what, bz_error *err);

/* Largest file bz_read_file accepts and largest output bz_gunzip produces by
 * default: far above any dataset we handle, far below address-space limits. */
#define BZ_IO_MAX_BYTES ((size_t)1 << (sizeof(size_t) >= 8 ? 36 : 30))

/*
 * Reads the whole file at path into a new buffer (*buf, to be free()d) of
 * *len bytes, followed by a NUL byte that *len does not count. Regular files
 * only (see bz_open_input). Fails with BZ_E_IO naming the path and
 * strerror(errno), BZ_E_FORMAT when the file exceeds max_bytes, BZ_E_NOMEM
 * when it is larger than the memory available.
 */
bz_status bz_read_file(const char *path, size_t max_bytes, uint8_t **buf, size_t *len,
                       bz_error *err);

/* True when buf starts with the gzip magic bytes 1f 8b. */
int bz_is_gzip(const void *buf, size_t len);

/*
 * Decompresses a complete gzip stream (one or more concatenated members) into
 * a new buffer (*out, free()d by the caller; NUL-terminated, not counted in
 * *out_len). The output buffer grows with the data actually produced, so a
 * short stream never reserves more than it yields; output beyond max_out, or
 * beyond the memory available (bz_mem_available), is BZ_E_FORMAT, found as
 * soon as it is produced. Corrupt or truncated streams and trailing non-gzip bytes are
 * BZ_E_FORMAT with the compressed offset; name is used in messages.
 */
bz_status bz_gunzip(const void *buf, size_t len, const char *name, size_t max_out,
                    uint8_t **out, size_t *out_len, bz_error *err);

/* As bz_gunzip, but the limit is a size the data's own header declares
 * (declared_by names it in the message: "its IDX header"); the memory check
 * is then the caller's, made before. */
bz_status bz_gunzip_declared(const void *buf, size_t len, const char *name, size_t max_out,
                             const char *declared_by, uint8_t **out, size_t *out_len,
                             bz_error *err);

/* Inflates at most `want` bytes of the start of a gzip stream into out (a
 * header to read before deciding how much to inflate); *got may be less when
 * the stream is shorter. */
bz_status bz_gunzip_prefix(const void *buf, size_t len, const char *name, uint8_t *out,
                           size_t want, size_t *got, bz_error *err);

#endif
