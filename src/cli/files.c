#include "cli/files.h"

#include "base/text.h"
#include "base/atomic_file.h"
#include "io/dataset.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#define LOCK_SUFFIX ".boltzcl-lock"

/* Who a path is: its device and inode when it exists, else its canonical
 * name (real folder + file name), so that "a/../x" and "x" meet. */
typedef struct identity {
    bool exists;
    dev_t dev;
    ino_t ino;
    char canon[PATH_MAX + 256];
} identity;

static void identify(const char *path, bool follow, identity *id)
{
    struct stat st;
    memset(id, 0, sizeof *id);
    if ((follow ? stat(path, &st) : lstat(path, &st)) == 0) {
        id->exists = true;
        id->dev = st.st_dev;
        id->ino = st.st_ino;
    }
    const char *slash = strrchr(path, '/');
    char dir[PATH_MAX];
    const char *base = path;
    if (slash) {
        size_t dl = slash == path ? 1 : (size_t)(slash - path);
        if (dl >= sizeof dir)
            dl = sizeof dir - 1;
        memcpy(dir, path, dl);
        dir[dl] = '\0';
        base = slash + 1;
    } else {
        strcpy(dir, ".");
    }
    char real[PATH_MAX];
    if (realpath(dir, real))
        snprintf(id->canon, sizeof id->canon, "%s/%s", real, base);
    else
        snprintf(id->canon, sizeof id->canon, "%s", path);
}

static bool same(const identity *a, const identity *b)
{
    if (a->exists && b->exists)
        return a->dev == b->dev && a->ino == b->ino;
    return strcmp(a->canon, b->canon) == 0;
}

/* Paths are the user's; escaped for the terminal like any echoed text. */
static const char *shown(const char *path, char *buf, size_t cap)
{
    bz_text_escape(buf, cap, path, BZ_ESC_CONTROL);
    return buf;
}

static int check_folder(const char *cmd, const char *opt, const char *path)
{
    const char *slash = strrchr(path, '/');
    char dir[PATH_MAX], b1[512], b2[512];
    if (!slash)
        return 0;
    size_t dl = slash == path ? 1 : (size_t)(slash - path);
    if (dl >= sizeof dir)
        return 0; /* the probe below reports it */
    memcpy(dir, path, dl);
    dir[dl] = '\0';
    struct stat st;
    if (stat(dir, &st) != 0) {
        fprintf(stderr, "boltzcl %s: %s %s: the folder %s %s\n", cmd, opt,
                shown(path, b1, sizeof b1), shown(dir, b2, sizeof b2),
                errno == ENOENT ? "does not exist" : strerror(errno));
        return 1;
    }
    if (!S_ISDIR(st.st_mode)) {
        fprintf(stderr, "boltzcl %s: %s %s: %s is not a folder\n", cmd, opt,
                shown(path, b1, sizeof b1), shown(dir, b2, sizeof b2));
        return 1;
    }
    return 0;
}

/* The locks this process holds, released at exit. A command locks one
 * output; a few slots leave room for tests that run several. */
#define MAX_LOCKS 4
static struct {
    int fd;
    char *path;
} locks[MAX_LOCKS];
static int n_locks;

static void release_locks(void)
{
    for (int i = 0; i < n_locks; i++) {
        /* Removed while still held, and only if it is still ours and empty. */
        struct stat a, b;
        if (fstat(locks[i].fd, &a) == 0 && lstat(locks[i].path, &b) == 0 &&
            a.st_dev == b.st_dev && a.st_ino == b.st_ino && b.st_size == 0)
            unlink(locks[i].path);
        close(locks[i].fd);
        free(locks[i].path);
    }
    n_locks = 0;
}

static int take_lock(const char *cmd, const char *opt, const char *out)
{
    char b1[512];
    size_t n = strlen(out) + sizeof LOCK_SUFFIX;
    char *lp = malloc(n);
    if (!lp || n_locks == MAX_LOCKS) {
        free(lp);
        fprintf(stderr, "boltzcl %s: cannot lock %s: too many locks or out of memory\n", cmd,
                shown(out, b1, sizeof b1));
        return 1;
    }
    snprintf(lp, n, "%s" LOCK_SUFFIX, out);
    /* A finishing run removes its lock file; one that opened the old file
     * just before may then hold a lock on a file no longer there, so the
     * path is checked again after locking and the open retried. */
    for (int attempt = 0; attempt < 10; attempt++) {
        int fd = open(lp, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, 0666);
        if (fd < 0) {
            fprintf(stderr, "boltzcl %s: %s %s: cannot create the lock file %s: %s\n", cmd, opt,
                    shown(out, b1, sizeof b1), lp, strerror(errno));
            break;
        }
        struct stat a, b;
        if (fstat(fd, &a) != 0 || !S_ISREG(a.st_mode) || a.st_size != 0) {
            fprintf(stderr, "boltzcl %s: %s: %s exists and is not an (empty) boltzcl lock "
                            "file; not touching it\n", cmd, opt, lp);
            close(fd);
            break;
        }
        if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
            int e = errno;
            close(fd);
            if (e == EWOULDBLOCK)
                fprintf(stderr, "boltzcl %s: %s %s: another boltzcl run is writing it (it "
                                "holds %s); wait for that run or choose another %s\n",
                        cmd, opt, shown(out, b1, sizeof b1), lp, opt);
            else
                fprintf(stderr, "boltzcl %s: %s: cannot lock %s: %s\n", cmd, opt, lp,
                        strerror(e));
            break;
        }
        if (stat(lp, &b) == 0 && b.st_dev == a.st_dev && b.st_ino == a.st_ino) {
            static bool registered;
            if (!registered)
                registered = atexit(release_locks) == 0;
            locks[n_locks].fd = fd;
            locks[n_locks].path = lp;
            n_locks++;
            return 0;
        }
        close(fd);
    }
    free(lp);
    return 1;
}

int bz_cli_check_files(const char *cmd, const bz_file_arg *inputs, const bz_file_arg *outputs,
                       bool lock)
{
    enum { MAX_FILES = 32 };
    static identity ids[MAX_FILES]; /* large: kept off the stack */
    const char *opt[MAX_FILES], *path[MAX_FILES];
    bool is_out[MAX_FILES];
    static char label_path[8][PATH_MAX];
    size_t n = 0, nl = 0;
    char b1[512], b2[512];
    for (const bz_file_arg *a = inputs; a && a->opt && n < MAX_FILES; a++) {
        if (!a->path || bz_dataset_is_named(a->path))
            continue;
        opt[n] = a->opt, path[n] = a->path, is_out[n] = false;
        identify(a->path, true, &ids[n++]);
        /* IDX images come with a labels file read from beside them. */
        if (nl < 8 && n < MAX_FILES &&
            bz_dataset_labels_path(a->path, label_path[nl], sizeof label_path[nl])) {
            opt[n] = a->opt, path[n] = label_path[nl++], is_out[n] = false;
            identify(path[n], true, &ids[n]);
            n++;
        }
    }
    const bz_file_arg *first_out = NULL;
    for (const bz_file_arg *a = outputs; a && a->opt && n < MAX_FILES; a++) {
        if (!a->path)
            continue;
        if (!first_out)
            first_out = a;
        opt[n] = a->opt, path[n] = a->path, is_out[n] = true;
        identify(a->path, false, &ids[n++]);
    }
    for (size_t i = 0; i < n; i++) {
        if (!is_out[i])
            continue;
        for (size_t j = 0; j < i; j++) {
            if (!same(&ids[i], &ids[j]))
                continue;
            if (is_out[j])
                fprintf(stderr, "boltzcl %s: %s and %s name the same file (%s); each output "
                                "needs its own\n", cmd, opt[j], opt[i],
                        shown(path[i], b1, sizeof b1));
            else
                fprintf(stderr, "boltzcl %s: %s %s is the same file as %s %s, which this "
                                "command reads; writing it would destroy it\n", cmd, opt[i],
                        shown(path[i], b1, sizeof b1), opt[j], shown(path[j], b2, sizeof b2));
            return 2;
        }
    }
    for (size_t i = 0; i < n; i++) {
        if (!is_out[i])
            continue;
        bz_error err = {0};
        if (check_folder(cmd, opt[i], path[i]))
            return 1;
        if (bz_atomic_check_target(path[i], NULL, NULL, &err) != BZ_OK) {
            fprintf(stderr, "boltzcl %s: %s %s\n", cmd, opt[i], err.msg);
            return 1;
        }
        if (bz_atomic_probe(path[i], &err) != BZ_OK) {
            fprintf(stderr, "boltzcl %s: %s cannot be written: %s\n", cmd, opt[i], err.msg);
            return 1;
        }
    }
    if (lock && first_out)
        return take_lock(cmd, first_out->opt, first_out->path);
    return 0;
}

static void folder_of(const char *path, char *dir, size_t size)
{
    const char *slash = strrchr(path, '/');
    size_t dl = !slash ? 0 : slash == path ? 1 : (size_t)(slash - path);
    if (!slash || dl >= size) {
        snprintf(dir, size, "%s", slash ? path : ".");
        return;
    }
    memcpy(dir, path, dl);
    dir[dl] = '\0';
}

static const char *mib(uint64_t bytes, char *buf, size_t size)
{
    snprintf(buf, size, "%.1f MiB", (double)bytes / (1024.0 * 1024.0));
    return buf;
}

int bz_cli_check_space(const char *cmd, const bz_space_need *needs)
{
    enum { MAX_NEEDS = 16 };
    struct {
        dev_t dev;
        uint64_t bytes;
        bool counted;
    } n[MAX_NEEDS];
    size_t count = 0;
    for (const bz_space_need *a = needs; a && a->opt && count < MAX_NEEDS; a++) {
        char dir[PATH_MAX];
        struct stat st, cur;
        n[count].bytes = 0;
        n[count].counted = false;
        if (a->path && a->bytes) {
            folder_of(a->path, dir, sizeof dir);
            if (stat(dir, &st) == 0) {
                /* A file replaced once needs its new copy beside the old one
                 * (whose room is already taken); a checkpoint that does not
                 * exist yet will, from its second write on, be two copies. */
                bool exists = stat(a->path, &cur) == 0;
                n[count].dev = st.st_dev;
                n[count].bytes = a->rewritten && !exists ? 2 * a->bytes : a->bytes;
            }
        }
        count++;
    }
    for (size_t i = 0; i < count; i++) {
        if (!n[i].bytes || n[i].counted)
            continue;
        uint64_t total = 0;
        for (size_t k = i; k < count; k++)
            if (n[k].bytes && !n[k].counted && n[k].dev == n[i].dev) {
                total += n[k].bytes;
                n[k].counted = true;
            }
        char dir[PATH_MAX], b1[512], m1[32], m2[32], m3[32];
        folder_of(needs[i].path, dir, sizeof dir);
        struct statvfs vfs;
        if (statvfs(dir, &vfs) != 0)
            continue; /* the writability probe has already vouched for it */
        uint64_t avail = (uint64_t)vfs.f_bavail * vfs.f_frsize;
        if (total <= avail)
            continue;
        fprintf(stderr, "boltzcl %s: not enough free space in %s: this run writes up to %s "
                        "there and %s are free (",
                cmd, shown(dir, b1, sizeof b1), mib(total, m1, sizeof m1), mib(avail, m2, sizeof m2));
        const char *sep = "";
        for (size_t k = 0; k < count; k++)
            if (n[k].bytes && n[k].dev == n[i].dev) {
                fprintf(stderr, "%s%s %s%s", sep, needs[k].opt, mib(n[k].bytes, m3, sizeof m3),
                        n[k].bytes != needs[k].bytes ? " as two copies while it is replaced" : "");
                sep = "; ";
            }
        fprintf(stderr, "); nothing was written: free some space or write elsewhere\n");
        return 1;
    }
    return 0;
}

const char *bz_cli_safe(const char *s)
{
    static char bufs[4][1024];
    static unsigned next;
    char *b = bufs[next++ % 4];
    bz_text_escape(b, sizeof bufs[0], s ? s : "(null)", BZ_ESC_CONTROL);
    return b;
}

const char *bz_cli_default_eval_data(const char *cmd, const char *model_data)
{
    char b[512];
    if (model_data && !strcmp(model_data, "fashion-mnist"))
        return "fashion-mnist:test";
    if (model_data && bz_dataset_is_named(model_data))
        return model_data;
    if (model_data)
        fprintf(stderr, "boltzcl %s: --data is required: the model was trained on %s, and a "
                        "path written in a model file is not opened without your say (give "
                        "--data with it, or other data)\n",
                cmd, shown(model_data, b, sizeof b));
    else
        fprintf(stderr, "boltzcl %s: --data is required (the model does not name its data)\n",
                cmd);
    return NULL;
}
