/*
 * Crash-safe file replacement, shared by every writer (the io layer, the engine's binary cache).
 *
 * bz_atomic_open creates "<path>.boltzcl-tmp.<pid>.<8 hex>" (O_EXCL) in the
 * target's directory, with the mode and owner of the file it will replace
 * (0666 & ~umask for a new one); callers write through af->fp; bz_atomic_commit
 * flushes, fsyncs and closes it, renames it over path and fsyncs the
 * directory. Until the rename succeeds the original file at path (if any) is
 * untouched, so a crash or error leaves either the old file or the complete
 * new one, never a torn mix. bz_atomic_abort (also called by a failing
 * commit) closes and unlinks the temporary.
 *
 * Only regular files are replaced: a symbolic link, device, FIFO, socket or
 * directory at path is refused (BZ_E_IO naming what it is), at open and again
 * right before the rename, so the rename can never put a file in its place.
 */
#ifndef BZ_BASE_ATOMIC_FILE_H
#define BZ_BASE_ATOMIC_FILE_H

#include "base/error.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/stat.h>

typedef struct bz_atomic_file {
    FILE *fp;       /* write here; NULL when not open */
    char *path;     /* final destination */
    char *tmp_path; /* temporary beside it */
} bz_atomic_file;

bz_status bz_atomic_open(bz_atomic_file *af, const char *path, bz_error *err);

/* fwrite with error reporting (BZ_E_IO naming the temporary's final path).
 * Does not abort on failure; the caller calls bz_atomic_abort. */
bz_status bz_atomic_write(bz_atomic_file *af, const void *data, size_t n, bz_error *err);

/* Makes the new contents visible at path. On failure the temporary is
 * removed and the original file is left as it was. Always releases af. */
bz_status bz_atomic_commit(bz_atomic_file *af, bz_error *err);

/* Discards the temporary; safe to call on a zeroed or released af. */
void bz_atomic_abort(bz_atomic_file *af);

/* BZ_OK when path is absent or a regular file (then *st, *exists say so;
 * either may be NULL), BZ_E_IO naming what it is otherwise. */
bz_status bz_atomic_check_target(const char *path, struct stat *st, bool *exists, bz_error *err);

/* Checks that path could be written now: the target check above, then a
 * temporary created and removed beside it (missing folder, permissions,
 * read-only file system). Nothing at path is touched. */
bz_status bz_atomic_probe(const char *path, bz_error *err);

/* One-shot: atomically replaces path with n bytes of data. */
bz_status bz_atomic_write_file(const char *path, const void *data, size_t n, bz_error *err);

#endif
