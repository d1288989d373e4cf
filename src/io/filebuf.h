/*
 * Whole-file reads and in-memory gzip decompression shared by the io readers.
 * Internal to the io layer.
 */
#ifndef BZ_IO_FILEBUF_H
#define BZ_IO_FILEBUF_H

#include "base/error.h"

#include <stddef.h>
#include <stdint.h>

/* Largest file bz_read_file accepts and largest output bz_gunzip produces by
 * default: far above any dataset we handle, far below address-space limits. */
#define BZ_IO_MAX_BYTES ((size_t)1 << (sizeof(size_t) >= 8 ? 36 : 30))

/*
 * Reads the whole file at path into a new buffer (*buf, to be free()d) of
 * *len bytes, followed by a NUL byte that *len does not count. Works on
 * regular files and on pipes. Fails with BZ_E_IO naming the path and
 * strerror(errno), or BZ_E_FORMAT when the file exceeds max_bytes.
 */
bz_status bz_read_file(const char *path, size_t max_bytes, uint8_t **buf, size_t *len,
                       bz_error *err);

/* True when buf starts with the gzip magic bytes 1f 8b. */
int bz_is_gzip(const void *buf, size_t len);

/*
 * Decompresses a complete gzip stream (one or more concatenated members) into
 * a new buffer (*out, free()d by the caller; NUL-terminated, not counted in
 * *out_len). The output buffer grows with the data actually produced, so a
 * short stream never reserves more than it yields; output beyond max_out is
 * BZ_E_FORMAT. Corrupt or truncated streams and trailing non-gzip bytes are
 * BZ_E_FORMAT with the compressed offset; name is used in messages.
 */
bz_status bz_gunzip(const void *buf, size_t len, const char *name, size_t max_out,
                    uint8_t **out, size_t *out_len, bz_error *err);

#endif
