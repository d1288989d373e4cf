/*
 * What `train rbm` and `train dbn` share for --distributed: starting the MPI
 * job around a command's body, ending the whole job when one rank fails, and
 * each rank's device. Compiled with or without MPI (BZ_HAVE_MPI).
 */
#ifndef BZ_CLI_CLI_DIST_H
#define BZ_CLI_CLI_DIST_H

#include "dist/dist.h"

#include <stdbool.h>
#include <stddef.h>

/* body(arg, NULL) when not distributed. Otherwise starts MPI and runs
 * body(arg, comm) on every rank; a rank whose body fails (other than by an
 * interruption, 130) ends the whole job, since the others may be waiting for
 * it inside a collective. cmd names the command in messages ("train"). */
int bz_cli_run_ranks(const char *cmd, bool distributed, int (*body)(void *arg, bz_comm *comm),
                     void *arg);

/* The device selector for this rank: the user's without comm, else one
 * device of the node per local rank (bz_dist_pick_device); NULL for the
 * automatic choice. buf holds the text. */
const char *bz_cli_rank_device(const bz_comm *comm, const char *user, char *buf, size_t size);

#endif
