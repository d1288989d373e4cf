#include "base/atomic_file.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static char *dup_str(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}

static void release(bz_atomic_file *af)
{
    free(af->path);
    free(af->tmp_path);
    af->path = NULL;
    af->tmp_path = NULL;
    af->fp = NULL;
}

/* Temporaries are named "<path>.boltzcl-tmp.<pid>.<8 hex digits>": a name no
 * user picks by chance, so the sweep below can never mistake a user's file
 * (say "model.safetensors.tmp.20241201") for one of ours. */
#define TMP_TAG ".boltzcl-tmp."
#define TMP_RAND_DIGITS 8

/* A temporary file is stale when the process that wrote it is gone from this
 * host and it has not been touched for a while (the age guards a writer on
 * another host sharing the folder, whose pid means nothing here). */
#define STALE_AGE_S 60

static bool is_stale_temp(const char *full, const char *name, const char *base, time_t now)
{
    size_t bl = strlen(base), tl = strlen(TMP_TAG);
    if (strncmp(name, base, bl) != 0 || strncmp(name + bl, TMP_TAG, tl) != 0)
        return false;
    const char *p = name + bl + tl;
    const char *q = p;
    while (*q >= '0' && *q <= '9')
        q++;
    if (q == p || q - p > 10 || *p == '0' || *q != '.')
        return false;
    long pid = strtol(p, NULL, 10);
    q++;
    for (int i = 0; i < TMP_RAND_DIGITS; i++, q++)
        if (!((*q >= '0' && *q <= '9') || (*q >= 'a' && *q <= 'f')))
            return false;
    if (*q)
        return false;
    if (pid <= 0 || pid == (long)getpid() || kill((pid_t)pid, 0) == 0 || errno != ESRCH)
        return false;
    struct stat st;
    if (lstat(full, &st) != 0 || !S_ISREG(st.st_mode))
        return false;
    return now - st.st_mtime >= STALE_AGE_S;
}

/* Removes what a killed writer of `path` left behind, so that a run resumed
 * after SIGKILL does not leave the folder to fill up. */
static void sweep_stale_temps(const char *path)
{
    const char *slash = strrchr(path, '/');
    char dir[4096];
    const char *base = path;
    if (slash) {
        size_t dl = (size_t)(slash - path);
        if (dl >= sizeof dir)
            return;
        memcpy(dir, path, dl);
        dir[dl ? dl : 1] = '\0';
        if (!dl)
            dir[0] = '/';
        base = slash + 1;
    } else {
        snprintf(dir, sizeof dir, ".");
    }
    DIR *d = opendir(dir);
    if (!d)
        return;
    time_t now = time(NULL);
    struct dirent *e;
    char full[4096];
    while ((e = readdir(d)))
        if ((size_t)snprintf(full, sizeof full, "%s/%s", dir, e->d_name) < sizeof full &&
            is_stale_temp(full, e->d_name, base, now))
            unlink(full);
    closedir(d);
}

static const char *kind_of(mode_t m)
{
    if (S_ISLNK(m)) return "a symbolic link";
    if (S_ISDIR(m)) return "a directory";
    if (S_ISCHR(m)) return "a character device";
    if (S_ISBLK(m)) return "a block device";
    if (S_ISFIFO(m)) return "a FIFO";
    if (S_ISSOCK(m)) return "a socket";
    return "not a regular file";
}

bz_status bz_atomic_check_target(const char *path, struct stat *st, bool *exists, bz_error *err)
{
    struct stat s;
    if (lstat(path, &s) != 0) {
        if (errno != ENOENT)
            return bz_error_set(err, BZ_E_IO, "%s: cannot inspect the output path: %s", path,
                                strerror(errno));
        if (exists)
            *exists = false;
        return BZ_OK;
    }
    if (!S_ISREG(s.st_mode))
        return bz_error_set(err, BZ_E_IO,
                            "%s: output exists and is %s; boltzcl writes only regular files "
                            "and never replaces anything else (name a regular file)",
                            path, kind_of(s.st_mode));
    if (st)
        *st = s;
    if (exists)
        *exists = true;
    return BZ_OK;
}

static void random_tag(char out[TMP_RAND_DIGITS + 1])
{
    uint32_t r = 0;
    if (getrandom(&r, sizeof r, GRND_NONBLOCK) != (ssize_t)sizeof r) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        r = (uint32_t)ts.tv_nsec ^ (uint32_t)getpid() * 2654435761u;
    }
    snprintf(out, TMP_RAND_DIGITS + 1, "%08x", (unsigned)r);
}

bz_status bz_atomic_open(bz_atomic_file *af, const char *path, bz_error *err)
{
    if (!af)
        return bz_error_set(err, BZ_E_INVALID_ARG, "bz_atomic_open: NULL file handle");
    af->fp = NULL;
    af->path = NULL;
    af->tmp_path = NULL;
    if (!path || !*path)
        return bz_error_set(err, BZ_E_INVALID_ARG, "bz_atomic_open: empty output path");
    size_t plen = strlen(path);
    if (path[plen - 1] == '/')
        return bz_error_set(err, BZ_E_INVALID_ARG, "%s: output path names a directory", path);
    struct stat old;
    bool had_old = false;
    bz_status cst = bz_atomic_check_target(path, &old, &had_old, err);
    if (cst != BZ_OK)
        return cst;

    af->path = dup_str(path);
    size_t cap = plen + 64;
    af->tmp_path = malloc(cap);
    if (!af->path || !af->tmp_path) {
        release(af);
        return bz_error_set(err, BZ_E_NOMEM, "%s: out of memory", path);
    }

    sweep_stale_temps(path);
    int fd = -1;
    long pid = (long)getpid();
    for (unsigned attempt = 0; attempt < 100; attempt++) {
        char tag[TMP_RAND_DIGITS + 1];
        random_tag(tag);
        snprintf(af->tmp_path, cap, "%s" TMP_TAG "%ld.%s", path, pid, tag);
        fd = open(af->tmp_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd >= 0 || errno != EEXIST)
            break;
    }
    if (fd < 0) {
        int e = errno;
        bz_error_set(err, BZ_E_IO, "%s: cannot create temporary file %s: %s", path,
                     af->tmp_path, strerror(e));
        release(af);
        return BZ_E_IO;
    }
    /* The new file takes the place of the old one, so it takes its mode and
     * owner too: a model kept 0600 must not come back world-readable. */
    if (had_old) {
        struct stat now;
        const char *what = NULL;
        if (fchmod(fd, old.st_mode & 07777) != 0)
            what = "mode";
        else if (fstat(fd, &now) == 0 && (now.st_uid != old.st_uid || now.st_gid != old.st_gid) &&
                 fchown(fd, old.st_uid, old.st_gid) != 0)
            what = "owner";
        if (what) {
            int e = errno;
            close(fd);
            unlink(af->tmp_path);
            bz_error_set(err, BZ_E_IO,
                         "%s: cannot give the new file the %s of the one it replaces (%s); "
                         "the old file is left as it was",
                         path, what, strerror(e));
            release(af);
            return BZ_E_IO;
        }
    }
    af->fp = fdopen(fd, "wb");
    if (!af->fp) {
        int e = errno;
        close(fd);
        unlink(af->tmp_path);
        bz_error_set(err, BZ_E_IO, "%s: fdopen failed: %s", path, strerror(e));
        release(af);
        return BZ_E_IO;
    }
    return BZ_OK;
}

bz_status bz_atomic_probe(const char *path, bz_error *err)
{
    bz_atomic_file af;
    bz_status st = bz_atomic_open(&af, path, err);
    if (st == BZ_OK)
        bz_atomic_abort(&af);
    return st;
}

bz_status bz_atomic_write(bz_atomic_file *af, const void *data, size_t n, bz_error *err)
{
    if (!af || !af->fp)
        return bz_error_set(err, BZ_E_INVALID_ARG, "bz_atomic_write: file is not open");
    if (n == 0)
        return BZ_OK;
    errno = 0;
    if (fwrite(data, 1, n, af->fp) != n) {
        int e = errno ? errno : EIO;
        return bz_error_set(err, BZ_E_IO, "%s: write failed: %s", af->path, strerror(e));
    }
    return BZ_OK;
}

void bz_atomic_abort(bz_atomic_file *af)
{
    if (!af)
        return;
    if (af->fp)
        fclose(af->fp);
    if (af->tmp_path)
        unlink(af->tmp_path);
    release(af);
}

/* fsync the directory holding path so the rename itself is durable. */
static bz_status sync_dir(const char *path, bz_error *err)
{
    const char *slash = strrchr(path, '/');
    char *dir;
    if (!slash) {
        dir = dup_str(".");
    } else {
        size_t n = slash == path ? 1 : (size_t)(slash - path);
        dir = malloc(n + 1);
        if (dir) {
            memcpy(dir, path, n);
            dir[n] = 0;
        }
    }
    if (!dir)
        return bz_error_set(err, BZ_E_NOMEM, "%s: out of memory", path);
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    bz_status st = BZ_OK;
    if (fd < 0) {
        st = bz_error_set(err, BZ_E_IO, "%s: cannot open directory %s to sync it: %s", path,
                          dir, strerror(errno));
    } else {
        /* Some file systems cannot fsync a directory (EINVAL); the rename
         * has happened either way, so only real I/O errors count. */
        if (fsync(fd) != 0 && errno != EINVAL && errno != EROFS)
            st = bz_error_set(err, BZ_E_IO, "%s: fsync of directory %s failed: %s", path, dir,
                              strerror(errno));
        close(fd);
    }
    free(dir);
    return st;
}

bz_status bz_atomic_commit(bz_atomic_file *af, bz_error *err)
{
    if (!af || !af->fp)
        return bz_error_set(err, BZ_E_INVALID_ARG, "bz_atomic_commit: file is not open");
    errno = 0;
    if (fflush(af->fp) != 0 || ferror(af->fp)) {
        int e = errno ? errno : EIO;
        bz_error_set(err, BZ_E_IO, "%s: write failed: %s", af->path, strerror(e));
        bz_atomic_abort(af);
        return BZ_E_IO;
    }
    if (fsync(fileno(af->fp)) != 0) {
        int e = errno;
        bz_error_set(err, BZ_E_IO, "%s: fsync failed: %s", af->path, strerror(e));
        bz_atomic_abort(af);
        return BZ_E_IO;
    }
    FILE *fp = af->fp;
    af->fp = NULL;
    if (fclose(fp) != 0) {
        int e = errno;
        bz_error_set(err, BZ_E_IO, "%s: close failed: %s", af->path, strerror(e));
        bz_atomic_abort(af);
        return BZ_E_IO;
    }
    /* Something may have been put at the path while we wrote (a FIFO, a
     * link): check again right before the rename, which would replace it. */
    if (bz_atomic_check_target(af->path, NULL, NULL, err) != BZ_OK) {
        bz_atomic_abort(af);
        return BZ_E_IO;
    }
    if (rename(af->tmp_path, af->path) != 0) {
        int e = errno;
        bz_error_set(err, BZ_E_IO, "%s: cannot rename %s over it: %s", af->path, af->tmp_path,
                     strerror(e));
        bz_atomic_abort(af);
        return BZ_E_IO;
    }
    bz_status st = sync_dir(af->path, err);
    release(af);
    return st;
}

bz_status bz_atomic_write_file(const char *path, const void *data, size_t n, bz_error *err)
{
    bz_atomic_file af;
    bz_status st = bz_atomic_open(&af, path, err);
    if (st != BZ_OK)
        return st;
    st = bz_atomic_write(&af, data, n, err);
    if (st != BZ_OK) {
        bz_atomic_abort(&af);
        return st;
    }
    return bz_atomic_commit(&af, err);
}
