#include "tuner/tune_proc.h"
#include "tuner/tune_worker.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void reap(bz_tune_proc *w, bool kill_it, char *why, size_t size)
{
    if (w->pid <= 0)
        return;
    if (kill_it)
        kill(w->pid, SIGKILL);
    int status = 0;
    while (waitpid(w->pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (why && WIFSIGNALED(status) && !kill_it)
        snprintf(why, size, "the worker died of signal %d (%s)", WTERMSIG(status),
                 strsignal(WTERMSIG(status)));
    else if (why && WIFEXITED(status) && !kill_it)
        snprintf(why, size, "the worker exited with status %d", WEXITSTATUS(status));
    close(w->to_fd);
    close(w->from_fd);
    w->pid = 0;
    w->len = 0;
}

/* One line out of the pipe, waiting at most until deadline. */
static int read_line(bz_tune_proc *w, double deadline, char *line, size_t size)
{
    for (;;) {
        char *nl = memchr(w->buf, '\n', w->len);
        if (nl) {
            size_t n = (size_t)(nl - w->buf);
            snprintf(line, size, "%.*s", (int)n, w->buf);
            memmove(w->buf, nl + 1, w->len - n - 1);
            w->len -= n + 1;
            return 0;
        }
        if (w->len == sizeof w->buf)
            w->len = 0; /* a line this long is garbage; drop it */
        double left = deadline - now();
        if (left <= 0)
            return -2;
        struct pollfd pfd = {w->from_fd, POLLIN, 0};
        int r = poll(&pfd, 1, (int)(left * 1000) + 1);
        if (r < 0 && errno == EINTR)
            return -3;
        if (r <= 0)
            continue;
        ssize_t got = read(w->from_fd, w->buf + w->len, sizeof w->buf - w->len);
        if (got <= 0)
            return -1;
        w->len += (size_t)got;
    }
}

bool bz_tune_proc_start(bz_tune_proc *w, const bz_tune_options *o, double wait_s, char *why,
                        size_t size)
{
    int down[2], up[2];
    memset(w, 0, sizeof *w);
    if (pipe(down) || pipe(up)) {
        snprintf(why, size, "pipe: %s", strerror(errno));
        return false;
    }
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        snprintf(why, size, "fork: %s", strerror(errno));
        return false;
    }
    if (pid == 0) {
        /* Ctrl-C is for the search, which then still needs its worker */
        signal(SIGINT, SIG_IGN);
        close(down[1]);
        close(up[0]);
        bz_tune_worker(down[0], up[1], o);
    }
    close(down[0]);
    close(up[1]);
    w->pid = pid;
    w->to_fd = down[1];
    w->from_fd = up[0];
    /* opening the device builds boltzcl's kernels: slow on a cold cache */
    int r;
    double deadline = now() + wait_s;
    do
        r = read_line(w, deadline, w->hello, sizeof w->hello);
    while (r == -3);
    if (r == 0 && w->hello[0] == 'H')
        return true;
    if (r == 0)
        snprintf(why, size, "%s", w->hello[0] == 'X' ? w->hello + 2 : w->hello);
    else if (r == -2)
        snprintf(why, size, "the device did not open within %.0f s (building kernels on a "
                            "cold cache?)", wait_s);
    else
        snprintf(why, size, "the worker did not start");
    reap(w, true, NULL, 0);
    return false;
}

bool bz_tune_proc_ask(bz_tune_proc *w, const char *cmd, double timeout, char *reply, size_t size,
                      char *why, size_t why_size)
{
    size_t len = strlen(cmd);
    if (w->pid <= 0) {
        snprintf(why, why_size, "no worker");
        return false;
    }
    void (*old)(int) = signal(SIGPIPE, SIG_IGN);
    ssize_t put = write(w->to_fd, cmd, len);
    if (put == (ssize_t)len && (len == 0 || cmd[len - 1] != '\n'))
        put = write(w->to_fd, "\n", 1) == 1 ? put : -1;
    signal(SIGPIPE, old);
    if (put < 0) {
        reap(w, false, why, why_size);
        return false;
    }
    double deadline = now() + timeout;
    int r;
    do
        r = read_line(w, deadline, reply, size);
    while (r == -3); /* interrupted: the reply still comes */
    if (r == 0)
        return true;
    if (r == -2) {
        snprintf(why, why_size, "no answer within %.0f s (hung?)", timeout);
        reap(w, true, NULL, 0);
    } else {
        reap(w, false, why, why_size);
    }
    return false;
}

void bz_tune_proc_stop(bz_tune_proc *w)
{
    if (w->pid <= 0)
        return;
    if (write(w->to_fd, "Q\n", 2) != 2) {
        /* the worker is gone already; reap it below */
    }
    reap(w, false, NULL, 0);
}
