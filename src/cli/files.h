/*
 * The files a command reads and writes, checked together before any work:
 * the one place that decides whether a command may go ahead with the paths
 * it was given. Every command calls bz_cli_check_files with its inputs and
 * outputs right after parsing its options.
 *
 * It refuses, naming the options involved:
 *   - an output that is the same file as an input or as another output
 *     (same device and inode, or the same canonical path for one that does
 *     not exist yet; the labels file beside IDX images counts as an input);
 *   - an output that exists and is not a regular file: a symbolic link, a
 *     device, a FIFO, a socket or a directory is never written through,
 *     written into or replaced;
 *   - an output whose folder is missing, read-only or otherwise unwritable
 *     (a temporary is created and removed there), so that a long run does
 *     not discover it at the end.
 * With lock set, the first output is also locked for the length of the run
 * (an flock on "OUT.boltzcl-lock" beside it), so that a second run with the
 * same output fails at once instead of interleaving its checkpoints.
 */
#ifndef BZ_CLI_FILES_H
#define BZ_CLI_FILES_H

#include <stdbool.h>
#include <stdint.h>

/* An option and the path it names; a NULL path is skipped. Lists end with
 * an entry whose opt is NULL. */
typedef struct bz_file_arg {
    const char *opt;  /* "--out" */
    const char *path;
} bz_file_arg;

/* 0 when the command may go ahead; otherwise prints "boltzcl CMD: ..." and
 * returns the exit status (2 for conflicting arguments, 1 for files that
 * cannot be written). With lock, the first output stays locked until the
 * process exits (the lock file is removed at a normal exit; one left by a
 * killed run is empty, unlocked, and reused). */
int bz_cli_check_files(const char *cmd, const bz_file_arg *inputs, const bz_file_arg *outputs,
                       bool lock);

/* An output and an upper bound of the bytes it will take; rewritten: the
 * file is replaced again and again during the run (a checkpoint), so a new
 * copy is written beside the old one each time. */
typedef struct bz_space_need {
    const char *opt;
    const char *path;
    uint64_t bytes; /* 0: unknown, not checked */
    bool rewritten;
} bz_space_need;

/* 0 when every file system the outputs go to has room for them all at
 * once; otherwise prints which folder, how much the run needs there (per
 * option) and how much is free, and returns 1. Called before a long run,
 * after the sizes are known. Lists end with an entry whose opt is NULL. */
int bz_cli_check_space(const char *cmd, const bz_space_need *needs);

/* s escaped for a terminal (control characters and bytes that are not UTF-8
 * as \xNN, by bz_text_escape), in one of a few rotating static buffers: for
 * messages that echo a path, metadata or file contents. */
const char *bz_cli_safe(const char *s);

/* The data `eval` uses when --data is not given: the test split of an
 * installed data set the model names. A path in the model's metadata is
 * never opened on the file's word (it could point anywhere); then this
 * prints why --data is needed and returns NULL. */
const char *bz_cli_default_eval_data(const char *cmd, const char *model_data);

#endif
