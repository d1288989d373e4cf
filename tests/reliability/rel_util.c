#include "rel_util.h"

#include "models/rbm.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

const char *rel_boltzcl;

static void die(const char *what)
{
    fprintf(stderr, "reliability test setup: %s: %s\n", what, strerror(errno));
    exit(1);
}

void rel_init(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s PATH-TO-BOLTZCL\n", argv[0]);
        exit(1);
    }
    rel_boltzcl = argv[1];
    /* A child killed while we write to its pipe must not kill us. */
    signal(SIGPIPE, SIG_IGN);
}

char *rel_tmpdir(const char *tag)
{
    const char *base = getenv("TMPDIR");
    char tmpl[512];
    snprintf(tmpl, sizeof tmpl, "%s/boltzcl-%s-XXXXXX", base && base[0] ? base : "/tmp", tag);
    if (!mkdtemp(tmpl))
        die("mkdtemp");
    return strdup(tmpl);
}

void rel_rmtree(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    while (d && (e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        char *p = rel_path(dir, e->d_name);
        unlink(p);
        free(p);
    }
    if (d)
        closedir(d);
    rmdir(dir);
}

char *rel_path(const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = malloc(n);
    if (!p)
        die("malloc");
    snprintf(p, n, "%s/%s", dir, name);
    return p;
}

void rel_write_csv(const char *path, size_t n, size_t dim, uint64_t seed)
{
    FILE *f = fopen(path, "w");
    if (!f)
        die(path);
    uint64_t s = seed * 2654435761u + 1;
    for (size_t i = 0; i < n; i++) {
        fprintf(f, "%zu", i % 3);
        for (size_t j = 0; j < dim; j++) {
            s = s * 6364136223846793005ULL + 1442695040888963407ULL;
            /* Structured rows (a class-dependent half is mostly on) so that
             * training has something to learn. */
            unsigned p = (j % 3 == i % 3) ? 85 : 20;
            fprintf(f, ",%d", (int)((s >> 33) % 100) < (int)p);
        }
        fputc('\n', f);
    }
    if (fclose(f) != 0)
        die(path);
}

char *rel_read(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap + 1);
    size_t r;
    while (buf && (r = fread(buf + n, 1, cap - n, f)) > 0) {
        n += r;
        if (n == cap) {
            char *nb = realloc(buf, cap * 2 + 1);
            if (!nb)
                die("realloc");
            buf = nb;
            cap *= 2;
        }
    }
    fclose(f);
    if (!buf)
        die("malloc");
    buf[n] = '\0';
    if (len)
        *len = n;
    return buf;
}

void rel_write(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(data, 1, len, f) != len || fclose(f) != 0)
        die(path);
}

bool rel_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

/* environ with the extra entries replacing those of the same name. */
static char **make_env(const char *const *extra)
{
    size_t n = 0, m = 0;
    while (environ[n])
        n++;
    while (extra && extra[m])
        m++;
    char **env = calloc(n + m + 1, sizeof *env);
    if (!env)
        die("calloc");
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        bool replaced = false;
        for (size_t j = 0; j < m; j++) {
            size_t name = strcspn(extra[j], "=");
            replaced = replaced || (!strncmp(environ[i], extra[j], name) &&
                                    environ[i][name] == '=');
        }
        if (!replaced)
            env[k++] = environ[i];
    }
    for (size_t j = 0; j < m; j++)
        env[k++] = (char *)extra[j];
    env[k] = NULL;
    return env;
}

static char **make_argv(const char *const *args)
{
    size_t n = 0;
    while (args[n])
        n++;
    char **argv = calloc(n + 2, sizeof *argv);
    if (!argv)
        die("calloc");
    argv[0] = (char *)rel_boltzcl;
    for (size_t i = 0; i < n; i++)
        argv[i + 1] = (char *)args[i];
    return argv;
}

pid_t rel_spawn(const char *const *args, const char *const *env, const char *err_path,
                int *err_fd)
{
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    int pipefd[2] = {-1, -1};
    if (err_fd) {
        if (pipe(pipefd) != 0)
            die("pipe");
        posix_spawn_file_actions_adddup2(&fa, pipefd[1], 2);
        posix_spawn_file_actions_addclose(&fa, pipefd[0]);
        posix_spawn_file_actions_addclose(&fa, pipefd[1]);
    } else if (err_path) {
        posix_spawn_file_actions_addopen(&fa, 2, err_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    } else {
        posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    }
    char **argv = make_argv(args), **envp = make_env(env);
    pid_t pid;
    int rc = posix_spawn(&pid, rel_boltzcl, &fa, NULL, argv, envp);
    posix_spawn_file_actions_destroy(&fa);
    free(argv);
    free(envp);
    if (rc != 0) {
        errno = rc;
        die(rel_boltzcl);
    }
    if (err_fd) {
        close(pipefd[1]);
        *err_fd = pipefd[0];
    }
    return pid;
}

int rel_run(const char *const *args, const char *const *env, char **err)
{
    int fd;
    pid_t pid = rel_spawn(args, env, NULL, &fd);
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap + 1);
    if (!buf)
        die("malloc");
    for (;;) {
        ssize_t r = read(fd, buf + n, cap - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        n += (size_t)r;
        if (n == cap) {
            char *nb = realloc(buf, cap * 2 + 1);
            if (!nb)
                die("realloc");
            buf = nb;
            cap *= 2;
        }
    }
    close(fd);
    buf[n] = '\0';
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            die("waitpid");
    if (err)
        *err = buf;
    else
        free(buf);
    return status;
}

const char *rel_status_str(int status)
{
    static char buf[64];
    if (WIFEXITED(status))
        snprintf(buf, sizeof buf, "exit %d", WEXITSTATUS(status));
    else if (WIFSIGNALED(status))
        snprintf(buf, sizeof buf, "killed by signal %d", WTERMSIG(status));
    else
        snprintf(buf, sizeof buf, "wait status %#x", (unsigned)status);
    return buf;
}

double rel_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

bz_status rel_load(bz_context *ctx, const char *path, bool checkpoint, rel_params *p,
                   unsigned *next_epoch)
{
    bz_rbm *r = NULL;
    bz_rbm_resume at = {0, 0};
    bz_status st = checkpoint ? bz_rbm_load_checkpoint(ctx, path, &r, &at)
                              : bz_rbm_load(ctx, path, &r);
    if (st)
        return st;
    if (next_epoch)
        *next_epoch = at.epoch;
    if (p) {
        p->nv = bz_rbm_n_visible(r);
        p->nh = bz_rbm_n_hidden(r);
        p->w = malloc(p->nv * p->nh * sizeof *p->w);
        p->vb = malloc(p->nv * sizeof *p->vb);
        p->hb = malloc(p->nh * sizeof *p->hb);
        if (!p->w || !p->vb || !p->hb)
            die("malloc");
        st = bz_rbm_get_params(r, p->w, p->vb, p->hb);
        if (st)
            rel_params_free(p);
    }
    bz_rbm_free(r);
    return st;
}

void rel_params_free(rel_params *p)
{
    free(p->w);
    free(p->vb);
    free(p->hb);
    memset(p, 0, sizeof *p);
}

bool rel_params_equal(const rel_params *a, const rel_params *b)
{
    return a->nv == b->nv && a->nh == b->nh &&
           memcmp(a->w, b->w, a->nv * a->nh * sizeof *a->w) == 0 &&
           memcmp(a->vb, b->vb, a->nv * sizeof *a->vb) == 0 &&
           memcmp(a->hb, b->hb, a->nh * sizeof *a->hb) == 0;
}

bz_context *rel_open_context(void)
{
    bz_context_options o;
    bz_context_options_init(&o);
    bz_context *ctx = NULL;
    bz_status st = bz_context_create(&o, &ctx);
    if (st == BZ_E_NO_PLATFORM || st == BZ_E_NO_DEVICE) {
        fprintf(stderr, "skipping: no OpenCL device (%s)\n", bz_last_error(ctx));
        bz_context_free(ctx);
        exit(77);
    }
    if (st) {
        fprintf(stderr, "cannot create a context: %s: %s\n", bz_strerror(st), bz_last_error(ctx));
        bz_context_free(ctx);
        exit(1);
    }
    return ctx;
}
