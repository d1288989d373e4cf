#include "cli/train_run.h"
#include "cli/cli.h"
#include "cli/files.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void on_signal(int sig)
{
    bz_request_stop(sig); /* async-signal-safe: stores one flag */
}

void bz_cli_train_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
}

void bz_cli_progress_init(bz_cli_progress *p, bool quiet, int rank)
{
    memset(p, 0, sizeof *p);
    p->quiet = quiet;
    p->bar = !quiet && isatty(2);
    p->last_pct = -1;
    p->kill_epoch = p->kill_batch = -1;
    p->signal_after = -1;
    const char *after = getenv("BOLTZCL_TEST_SIGNAL_AFTER");
    if (after && sscanf(after, "%ld:%d", &p->signal_after, &p->signal_number) != 2)
        p->signal_after = -1;
    const char *hook = getenv("BOLTZCL_TEST_KILL_RANK");
    int kill_rank = -1;
    long e, b;
    if (rank >= 0 && hook && sscanf(hook, "%d:%ld:%ld", &kill_rank, &e, &b) == 3 &&
        kill_rank == rank) {
        p->kill_epoch = e;
        p->kill_batch = b;
    }
}

void bz_cli_progress_cb(void *user, const bz_train_progress *pr)
{
    bz_cli_progress *p = user;
    char where[64] = "";
    if (strcmp(pr->phase, "train") != 0) {
        if (pr->layer)
            snprintf(where, sizeof where, "%s %u/%u ", pr->phase, pr->layer, pr->layers);
        else
            snprintf(where, sizeof where, "%s ", pr->phase);
    }
    if (pr->epoch_done) {
        if (p->bar && p->last_pct >= 0)
            fprintf(stderr, "\r%70s\r", "");
        p->last_pct = -1;
        if (!p->quiet)
            fprintf(stderr, "%s%s\n", where, pr->summary);
        if (p->log) {
            fprintf(p->log, "%s\n", pr->metrics_json);
            fflush(p->log);
        }
        return;
    }
    if (p->kill_epoch == (long)pr->epoch && p->kill_batch == (long)pr->batch)
        raise(SIGKILL);
    if (++p->batches_seen == p->signal_after)
        raise(p->signal_number);
    if (!p->bar || !pr->batches)
        return;
    int pct = (int)(100 * pr->batch / pr->batches);
    if (pct == p->last_pct)
        return;
    p->last_pct = pct;
    char bar[31];
    int fill = pct * 30 / 100;
    for (int i = 0; i < 30; i++)
        bar[i] = i < fill ? '#' : '.';
    bar[30] = '\0';
    fprintf(stderr, "\r  %sepoch %u/%u [%s] %3d%%", where, pr->epoch, pr->epochs, bar, pct);
    fflush(stderr);
}

void bz_cli_fp_add(char *fp, size_t size, const char *key, const char *fmt, ...)
{
    size_t len = strlen(fp);
    if (len + 2 >= size)
        return;
    int n = snprintf(fp + len, size - len, "%s%s=", len ? ";" : "", key);
    if (n < 0 || (size_t)n >= size - len)
        return;
    len += (size_t)n;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(fp + len, size - len, fmt, ap);
    va_end(ap);
    /* Values never carry the separator. */
    for (char *q = fp + len; *q; q++)
        if (*q == ';' || *q == '\n')
            *q = '_';
}

void bz_cli_train_options(bz_train_options *to, const char *checkpoint, const char *resume,
                          bool overwrite, const char *fingerprint)
{
    bz_train_options_init(to);
    to->checkpoint = checkpoint;
    to->resume = resume != NULL;
    to->resume_from = resume;
    to->overwrite = overwrite;
    to->fingerprint = fingerprint;
}

int bz_cli_train_log_open(const char *name, const char *path, bool append, FILE **out)
{
    if (!(*out = fopen(path, append ? "a" : "w"))) {
        fprintf(stderr, "boltzcl %s: cannot write %s: %s\n", name, path, strerror(errno));
        return 1;
    }
    return 0;
}

void bz_cli_checkpoint_path(const char *checkpoint, const char *out, char *buf, size_t size)
{
    if (checkpoint)
        snprintf(buf, size, "%s", checkpoint);
    else
        snprintf(buf, size, "%s.ckpt", out);
}

static int train_argc;
static char **train_argv;

void bz_cli_set_train_argv(int argc, char **argv)
{
    train_argc = argc;
    train_argv = argv;
}

/* One argument as the shell reads it back. */
static void put_arg(const char *a)
{
    bool plain = *a != '\0';
    for (const char *q = a; *q; q++)
        if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
                    "_-./:=,+@%", *q))
            plain = false;
    if (plain) {
        fprintf(stderr, " %s", a);
        return;
    }
    fputs(" '", stderr);
    for (const char *q = a; *q; q++) {
        if (*q == '\'')
            fputs("'\\''", stderr);
        else
            fputc(*q, stderr);
    }
    fputc('\'', stderr);
}

static void print_resume_command(const char *checkpoint)
{
    fputs("boltzcl train", stderr);
    for (int i = 0; i < train_argc; i++) {
        const char *a = train_argv[i];
        /* The run's own --resume and --overwrite give way to the
         * checkpoint just written. */
        if (!strcmp(a, "--overwrite") || !strncmp(a, "--resume=", 9))
            continue;
        if (!strcmp(a, "--resume") && i + 1 < train_argc) {
            i++;
            continue;
        }
        put_arg(a);
    }
    fputs(" --resume", stderr);
    put_arg(checkpoint);
    fputc('\n', stderr);
}

int bz_cli_train_outcome(const char *cmd, bz_context *ctx, bz_status st,
                         const bz_train_result *res, const char *checkpoint, bool root)
{
    if (st == BZ_OK)
        return 0;
    if (st == BZ_E_INTERRUPTED) {
        int sig = res->stop_signal > 0 && res->stop_signal < 64 ? res->stop_signal : SIGINT;
        if (root) {
            fprintf(stderr, "%sinterrupted in ", isatty(2) ? "\n" : "");
            if (strcmp(res->phase ? res->phase : "train", "train") != 0) {
                fprintf(stderr, "%s ", res->phase);
                if (res->layer)
                    fprintf(stderr, "layer %u ", res->layer);
            }
            fprintf(stderr, "epoch %u after batch %zu (%s); saved %s\nresume with: ",
                    res->epoch + 1, res->batch, strsignal(sig), checkpoint);
            print_resume_command(checkpoint);
        }
        return 128 + sig;
    }
    bz_cli_fail(cmd, ctx, st);
    return 1;
}

int bz_cli_train_check_space(const char *cmd, const bz_trainer *t, const char *out_opt,
                             const char *out, const char *checkpoint)
{
    uint64_t model = 0, ckpt = 0;
    if (bz_trainer_output_bytes(t, &model, &ckpt) != BZ_OK)
        return 0;
    char name[64];
    snprintf(name, sizeof name, "train %s", cmd);
    return bz_cli_check_space(name, (const bz_space_need[]){{out_opt, out, model, false},
                                                            {"--checkpoint", checkpoint, ckpt, true},
                                                            {0}});
}
