/*
 * The tuner's child process: started with fork() before this process has
 * touched OpenCL, talked to with one line per request, killed and restarted
 * when a candidate crashes the driver or runs past its time.
 */
#ifndef BZ_TUNER_TUNE_PROC_H
#define BZ_TUNER_TUNE_PROC_H

#include "tuner/tune.h"

#include <sys/types.h>

typedef struct bz_tune_proc {
    pid_t pid;
    int to_fd, from_fd;
    char buf[8192];
    size_t len;
    char hello[1024]; /* the worker's "H ..." line */
} bz_tune_proc;

/* Starts a worker and waits up to wait_s seconds for its hello; false with
 * why when the device cannot be opened in that time. */
bool bz_tune_proc_start(bz_tune_proc *w, const bz_tune_options *o, double wait_s, char *why,
                        size_t size);

/* Sends one command line and reads one reply line within timeout seconds.
 * On a crash or timeout the worker is gone (pid 0) and why says which. */
bool bz_tune_proc_ask(bz_tune_proc *w, const char *cmd, double timeout, char *reply, size_t size,
                      char *why, size_t why_size);

void bz_tune_proc_stop(bz_tune_proc *w);

#endif
