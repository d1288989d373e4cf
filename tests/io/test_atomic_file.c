/* Atomic replacement: the old file survives every failure. */
#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <cmocka.h>

#include "base/atomic_file.h"
#include "io/safetensors.h"
#include "io_test_util.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <grp.h>
#include <unistd.h>

static int setup(void **state)
{
    *state = tu_mkdtemp();
    return 0;
}

static int teardown(void **state)
{
    tu_rmtree(*state);
    return 0;
}

static void assert_content(const char *path, const char *want)
{
    size_t n;
    uint8_t *b = tu_read_file(path, &n);
    assert_non_null(b);
    assert_int_equal(n, strlen(want));
    assert_memory_equal(b, want, n);
    free(b);
}

static void test_create_and_replace(void **state)
{
    char *p = tu_join(*state, "f.txt");
    bz_error err = {0};
    assert_int_equal(bz_atomic_write_file(p, "first", 5, &err), BZ_OK);
    assert_content(p, "first");
    assert_int_equal(bz_atomic_write_file(p, "second!", 7, &err), BZ_OK);
    assert_content(p, "second!");
    assert_int_equal(bz_atomic_write_file(p, "", 0, &err), BZ_OK);
    assert_content(p, "");
    assert_int_equal(tu_count_temp_files(*state), 0);
    /* Permissions follow the umask like an ordinary new file. */
    struct stat st;
    assert_int_equal(stat(p, &st), 0);
    mode_t um = umask(022);
    umask(um);
    assert_int_equal(st.st_mode & 0777, 0666 & ~um);
    free(p);
}

static void test_abort_keeps_original(void **state)
{
    char *p = tu_join(*state, "keep.txt");
    tu_write_file(p, "original", 8);
    bz_atomic_file af;
    bz_error err = {0};
    assert_int_equal(bz_atomic_open(&af, p, &err), BZ_OK);
    assert_int_equal(tu_count_temp_files(*state), 1);
    assert_int_equal(bz_atomic_write(&af, "partial new conte", 17, &err), BZ_OK);
    fflush(af.fp);
    assert_content(p, "original");
    bz_atomic_abort(&af);
    assert_null(af.fp);
    assert_content(p, "original");
    assert_int_equal(tu_count_temp_files(*state), 0);
    bz_atomic_abort(&af); /* idempotent */
    free(p);
}

/* A write that fails half-way (file size limit: EFBIG, as on a full disk)
 * leaves the previous model intact and no temporary behind. */
static void test_failed_write_keeps_original(void **state)
{
    char *p = tu_join(*state, "model.safetensors");
    const float small[2] = {1, 2};
    const size_t s2[1] = {2};
    bz_st_writer *w;
    bz_error err = {0};
    bz_st_writer_create(&w, &err);
    bz_st_writer_add(w, "W", BZ_ST_F32, 1, s2, small, 0, &err);
    assert_int_equal(bz_st_writer_write(w, p, &err), BZ_OK);
    bz_st_writer_free(w);
    size_t orig_len;
    uint8_t *orig = tu_read_file(p, &orig_len);

    size_t big_n = 1 << 20;
    float *big = calloc(big_n, sizeof *big);
    const size_t sb[1] = {big_n};
    bz_st_writer_create(&w, &err);
    bz_st_writer_add(w, "W", BZ_ST_F32, 1, sb, big, 0, &err);

    struct rlimit old;
    assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
    void (*prev)(int) = signal(SIGXFSZ, SIG_IGN);
    struct rlimit lim = old;
    lim.rlim_cur = 64 * 1024;
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
    bz_status st = bz_st_writer_write(w, p, &err);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
    signal(SIGXFSZ, prev);

    assert_int_equal(st, BZ_E_IO);
    assert_true(tu_has(err.msg, p));
    assert_true(tu_has(err.msg, "File too large"));
    size_t now_len;
    uint8_t *now = tu_read_file(p, &now_len);
    assert_int_equal(now_len, orig_len);
    assert_memory_equal(now, orig, orig_len);
    assert_int_equal(tu_count_temp_files(*state), 0);
    bz_st_file *f;
    assert_int_equal(bz_st_open(p, &f, &err), BZ_OK);
    bz_st_close(f);

    bz_st_writer_free(w);
    free(now);
    free(orig);
    free(big);
    free(p);
}

static void test_unwritable_or_missing_dir(void **state)
{
    bz_error err = {0};
    char *p = tu_join(*state, "nodir/f.txt");
    assert_int_equal(bz_atomic_write_file(p, "x", 1, &err), BZ_E_IO);
    assert_true(tu_has(err.msg, p));
    assert_true(tu_has(err.msg, "cannot create temporary file"));
    assert_true(tu_has(err.msg, "No such file or directory"));
    free(p);

    assert_int_equal(bz_atomic_write_file("", "x", 1, &err), BZ_E_INVALID_ARG);
    char *d = tu_join(*state, "sub/");
    assert_int_equal(bz_atomic_write_file(d, "x", 1, &err), BZ_E_INVALID_ARG);
    free(d);
}

/* Writes f as an unprivileged user in a child process: root ignores
 * directory permissions, and CI runs as root, so the refusal is exercised
 * there by dropping to nobody (65534) before the attempt. The child's exit
 * status says what happened: 0 refused with "Permission denied". */
static int write_as_nobody(const char *dir, const char *f)
{
    pid_t c = fork();
    if (c == 0) {
        bz_error err = {0};
        if (setgroups(0, NULL) != 0 || setgid(65534) != 0 || setuid(65534) != 0)
            _exit(3);
        if (geteuid() == 0)
            _exit(4); /* still privileged: the check would prove nothing */
        if (access(dir, X_OK) != 0)
            _exit(6); /* cannot even reach the folder: not the refusal under test */
        if (access(dir, W_OK) == 0)
            _exit(7);
        bz_status st = bz_atomic_write_file(f, "new", 3, &err);
        _exit(st == BZ_E_IO && tu_has(err.msg, "Permission denied") ? 0 : 5);
    }
    assert_true(c > 0);
    int status = 0;
    assert_int_equal(waitpid(c, &status, 0), c);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* A read-only directory refuses the temporary file and leaves the old file. */
static void test_read_only_dir(void **state)
{
    bz_error err = {0};
    char *ro = tu_join(*state, "ro");
    assert_int_equal(mkdir(ro, 0755), 0);
    char *f = tu_join(ro, "f.txt");
    tu_write_file(f, "original", 8);
    assert_int_equal(chmod(f, 0644), 0);
    assert_int_equal(chmod(ro, 0555), 0);
    if (geteuid() != 0) {
        assert_int_equal(bz_atomic_write_file(f, "new", 3, &err), BZ_E_IO);
        assert_true(tu_has(err.msg, "Permission denied"));
    } else {
        /* nobody must reach ro: open the scratch folder for the child */
        struct stat sb;
        assert_int_equal(stat(*state, &sb), 0);
        assert_int_equal(chmod(*state, 0755), 0);
        int rc = write_as_nobody(ro, f);
        assert_int_equal(chmod(*state, sb.st_mode & 07777), 0);
        assert_int_equal(rc, 0);
    }
    assert_content(f, "original");
    assert_int_equal(tu_count_temp_files(ro), 0);
    chmod(ro, 0700);
    free(f);
    free(ro);
}

/* A directory appears at the path after the data was written: the commit
 * refuses to rename over it and the temporary is still cleaned up. */
static void test_rename_failure_cleans_up(void **state)
{
    char *d = tu_join(*state, "target");
    bz_atomic_file af;
    bz_error err = {0};
    assert_int_equal(bz_atomic_open(&af, d, &err), BZ_OK);
    assert_int_equal(bz_atomic_write(&af, "data", 4, &err), BZ_OK);
    assert_int_equal(mkdir(d, 0700), 0);
    char *inner = tu_join(d, "x");
    tu_write_file(inner, "keep", 4);
    assert_int_equal(bz_atomic_commit(&af, &err), BZ_E_IO);
    assert_true(tu_has(err.msg, "is a directory"));
    assert_int_equal(tu_count_temp_files(*state), 0);
    assert_content(inner, "keep");
    free(inner);
    free(d);
}

/* A pid that no process has now: a child that has exited and been reaped. */
static long dead_pid(void)
{
    pid_t c = fork();
    if (c == 0)
        _exit(0);
    assert_true(c > 0);
    int status;
    assert_int_equal(waitpid(c, &status, 0), c);
    return (long)c;
}

static char *temp_named(const char *dir, const char *name, long age_s)
{
    char *p = tu_join(dir, name);
    tu_write_file(p, "half", 4);
    struct timeval tv[2];
    gettimeofday(&tv[0], NULL);
    tv[0].tv_sec -= age_s;
    tv[1] = tv[0];
    assert_int_equal(utimes(p, tv), 0);
    return p;
}

static char *temp_of(const char *dir, const char *suffix, long age_s)
{
    char name[128];
    snprintf(name, sizeof name, "m.st.boltzcl-tmp.%s", suffix);
    return temp_named(dir, name, age_s);
}

/* What a SIGKILLed writer left behind is swept by the next write of the
 * same file; a temporary of a live process, or one touched recently (maybe
 * by a writer on another host), and other files stay. */
static void test_stale_temporaries_swept(void **state)
{
    char buf[64];
    long dead = dead_pid();
    snprintf(buf, sizeof buf, "%ld.0123abcd", dead);
    char *stale = temp_of(*state, buf, 3600);
    snprintf(buf, sizeof buf, "%ld.ffffffff", dead);
    char *stale2 = temp_of(*state, buf, 3600);
    /* Names a user may give their own files, which the old sweep (any
     * "<name>.tmp.<digits>" of a dead pid) deleted: never touched now. */
    char *user1 = temp_named(*state, "m.st.tmp.20241201", 3600);
    snprintf(buf, sizeof buf, "m.st.tmp.%ld", dead);
    char *user2 = temp_named(*state, buf, 3600);
    snprintf(buf, sizeof buf, "%ld.0123abcd.bak", dead);
    char *user3 = temp_of(*state, buf, 3600);
    snprintf(buf, sizeof buf, "%ld.0123ABCD", dead);
    char *user4 = temp_of(*state, buf, 3600);
    snprintf(buf, sizeof buf, "%ld.0123abcd", dead);
    char *fresh_dir = tu_join(*state, "sub");
    assert_int_equal(mkdir(fresh_dir, 0700), 0);
    char *fresh = temp_of(fresh_dir, buf, 0);
    snprintf(buf, sizeof buf, "%ld.0123abcd", (long)getppid());
    char *live = temp_of(*state, buf, 3600);
    char *other = temp_of(*state, "notapid", 3600);
    char *f = tu_join(*state, "m.st"), *g = tu_join(fresh_dir, "m.st");
    bz_error err = {0};
    assert_int_equal(bz_atomic_write_file(f, "model", 5, &err), BZ_OK);
    assert_int_equal(bz_atomic_write_file(g, "model", 5, &err), BZ_OK);
    assert_content(f, "model");
    assert_int_equal(access(stale, F_OK), -1);
    assert_int_equal(access(stale2, F_OK), -1);
    assert_int_equal(access(fresh, F_OK), 0);
    assert_int_equal(access(live, F_OK), 0);
    assert_int_equal(access(other, F_OK), 0);
    assert_int_equal(access(user1, F_OK), 0);
    assert_int_equal(access(user2, F_OK), 0);
    assert_int_equal(access(user3, F_OK), 0);
    assert_int_equal(access(user4, F_OK), 0);
    free(user1), free(user2), free(user3), free(user4);
    free(stale), free(stale2), free(fresh), free(live), free(other), free(f), free(g);
    free(fresh_dir);
}

/* Whatever is at the path that is not a regular file is refused, before
 * and at the rename, and left exactly as it was. */
static void assert_refused_kept(const char *p, mode_t kind, const char *what)
{
    bz_error err = {0};
    assert_int_equal(bz_atomic_write_file(p, "model", 5, &err), BZ_E_IO);
    assert_true(tu_has(err.msg, what));
    struct stat st;
    assert_int_equal(lstat(p, &st), 0);
    assert_int_equal(st.st_mode & S_IFMT, kind);
}

static void test_non_regular_targets_refused(void **state)
{
    char *target = tu_join(*state, "real");
    tu_write_file(target, "keep", 4);
    char *link = tu_join(*state, "link");
    assert_int_equal(symlink(target, link), 0);
    assert_refused_kept(link, S_IFLNK, "symbolic link");
    assert_content(target, "keep");
    char *dangling = tu_join(*state, "dangling");
    assert_int_equal(symlink("nowhere", dangling), 0);
    assert_refused_kept(dangling, S_IFLNK, "symbolic link");
    char *fifo = tu_join(*state, "fifo");
    assert_int_equal(mkfifo(fifo, 0600), 0);
    assert_refused_kept(fifo, S_IFIFO, "FIFO");
    char *sub = tu_join(*state, "sub");
    assert_int_equal(mkdir(sub, 0700), 0);
    assert_refused_kept(sub, S_IFDIR, "directory");
    assert_int_equal(tu_count_temp_files(*state), 0);

    /* A FIFO put at the path while the file is written is not replaced. */
    char *late = tu_join(*state, "late");
    bz_atomic_file af;
    bz_error err = {0};
    assert_int_equal(bz_atomic_open(&af, late, &err), BZ_OK);
    assert_int_equal(bz_atomic_write(&af, "x", 1, &err), BZ_OK);
    assert_int_equal(mkfifo(late, 0600), 0);
    assert_int_equal(bz_atomic_commit(&af, &err), BZ_E_IO);
    struct stat st;
    assert_int_equal(lstat(late, &st), 0);
    assert_true(S_ISFIFO(st.st_mode));
    assert_int_equal(tu_count_temp_files(*state), 0);

    /* A device node made here (never the system's own /dev/null). */
    char *dev = tu_join(*state, "null");
    if (mknod(dev, S_IFCHR | 0666, makedev(1, 3)) == 0) {
        assert_refused_kept(dev, S_IFCHR, "character device");
    } else {
        print_message("mknod not permitted here: device case not run\n");
    }
    free(target), free(link), free(dangling), free(fifo), free(sub), free(late), free(dev);
}

/* A replaced file keeps its mode, and (as root, who can give files away)
 * its owner. */
static void test_mode_and_owner_kept(void **state)
{
    char *p = tu_join(*state, "m.st");
    tu_write_file(p, "old", 3);
    assert_int_equal(chmod(p, 0600), 0);
    bool root = geteuid() == 0;
    if (root)
        assert_int_equal(chown(p, 1234, 1235), 0);
    bz_error err = {0};
    assert_int_equal(bz_atomic_write_file(p, "new", 3, &err), BZ_OK);
    assert_content(p, "new");
    struct stat st;
    assert_int_equal(stat(p, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0600);
    if (root) {
        assert_int_equal(st.st_uid, 1234);
        assert_int_equal(st.st_gid, 1235);
    }
    assert_int_equal(chmod(p, 0640), 0);
    assert_int_equal(bz_atomic_write_file(p, "newer", 5, &err), BZ_OK);
    assert_int_equal(stat(p, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0640);
    free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_create_and_replace, setup, teardown),
        cmocka_unit_test_setup_teardown(test_abort_keeps_original, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failed_write_keeps_original, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unwritable_or_missing_dir, setup, teardown),
        cmocka_unit_test_setup_teardown(test_read_only_dir, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rename_failure_cleans_up, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stale_temporaries_swept, setup, teardown),
        cmocka_unit_test_setup_teardown(test_non_regular_targets_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mode_and_owner_kept, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
