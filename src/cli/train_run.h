/*
 * What every `train` command shares around the library's trainer: the
 * signal handlers that ask it to stop, the progress bar and per-epoch lines,
 * the --log file, the fingerprint of settings, and turning the outcome into
 * messages and exit codes (128 + signal after a stop, with the full command
 * that resumes the run).
 */
#ifndef BZ_CLI_TRAIN_RUN_H
#define BZ_CLI_TRAIN_RUN_H

#include "boltzcl.h"

#include <stdbool.h>
#include <stdio.h>

/* SIGINT, SIGTERM and SIGHUP ask the trainer to stop after the batch. */
void bz_cli_train_signals(void);

typedef struct bz_cli_progress {
    bool bar;    /* a progress bar on the terminal */
    bool quiet;  /* no per-epoch lines */
    FILE *log;   /* one JSON line per epoch, or NULL */
    int last_pct;
    /* test hook (tests/mpi): BOLTZCL_TEST_KILL_RANK=R:E:B makes rank R kill
     * itself with SIGKILL after batch B of epoch E (1-based) of any phase, as
     * a crash would; -1 when off */
    long kill_epoch, kill_batch;
    /* test hook (tests/reliability): BOLTZCL_TEST_SIGNAL_AFTER=N:S raises
     * signal S once N batches (of all phases, counted from this process's
     * start) are done: a kill or a stop at an exact place */
    long signal_after, batches_seen;
    int signal_number;
} bz_cli_progress;

/* Sets up p (bar when stderr is a terminal and not quiet; the kill hook
 * for `rank`, -1 without ranks). */
void bz_cli_progress_init(bz_cli_progress *p, bool quiet, int rank);
/* The bz_train_progress_fn to pass with p as user. */
void bz_cli_progress_cb(void *user, const bz_train_progress *pr);

/* Appends ";key=value" to a fingerprint text. */
void bz_cli_fp_add(char *fp, size_t size, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* The checkpoint path (--checkpoint, else OUT.ckpt) into buf. */
void bz_cli_checkpoint_path(const char *checkpoint, const char *out, char *buf, size_t size);

/* The trainer's options every train command sets alike: the checkpoint,
 * the checkpoint to resume (NULL: a fresh run), whether an existing
 * checkpoint may be overwritten, and the fingerprint of the settings. */
void bz_cli_train_options(bz_train_options *to, const char *checkpoint, const char *resume,
                          bool overwrite, const char *fingerprint);

/* Opens the --log file at path, appended to when resuming; on failure
 * prints "boltzcl NAME: cannot write PATH: why" and returns non-zero. */
int bz_cli_train_log_open(const char *name, const char *path, bool append, FILE **out);

/* The exit code for a trainer's outcome, after its message: 0, 128 +
 * signal after a stop (with where it stopped, the checkpoint and the full
 * command that resumes it), 1 otherwise. root: this
 * process reports. */
int bz_cli_train_outcome(const char *cmd, bz_context *ctx, bz_status st,
                         const bz_train_result *res, const char *checkpoint, bool root);

/* Before the run: whether the folders of the model (out, the option
 * naming it out_opt) and of the checkpoint have room for them, by the
 * trainer's upper bounds (bz_cli_check_space); 0 or the exit status. */
int bz_cli_train_check_space(const char *cmd, const bz_trainer *t, const char *out_opt,
                             const char *out, const char *checkpoint);

/* Rows of a train command's option table that every kind shares: the
 * checkpoint and resuming, then the figures and the device. `a` is the
 * command's arguments, with fields of these names. */
#define BZ_CLI_TRAIN_STATE_OPTS(a)                                                          \
    {"checkpoint", BZ_OPT_STRING, &(a).checkpoint, "FILE", "checkpoint file (OUT.ckpt)"},   \
    {"resume", BZ_OPT_STRING, &(a).resume, "FILE",                                          \
     "continue from a checkpoint (made with the same settings and data)"},                  \
    {"overwrite", BZ_OPT_FLAG, &(a).overwrite, NULL,                                        \
     "start over even if the checkpoint file exists"}
#define BZ_CLI_TRAIN_REPORT_OPTS(a)                                                         \
    {"log", BZ_OPT_STRING, &(a).log, "FILE", "one JSON line of figures per epoch"},         \
    {"json", BZ_OPT_FLAG, &(a).json, NULL, "print the final figures as JSON on stdout"},    \
    {"quiet", BZ_OPT_FLAG, &(a).quiet, NULL, "no progress or per-epoch lines on stderr"},   \
    {"device", BZ_OPT_STRING, &(a).device, "SEL", "device (P:D, gpu, cpu, or name part)"}

/* The arguments after `boltzcl train` ("rbm", ...), kept for resume hints. */
void bz_cli_set_train_argv(int argc, char **argv);

#endif
