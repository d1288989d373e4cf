/* The --distributed plumbing of the training commands (see cli_dist.h). */
#include "cli/cli_dist.h"

#include <stdio.h>

int bz_cli_run_ranks(const char *cmd, bool distributed, int (*body)(void *arg, bz_comm *comm),
                     void *arg)
{
    if (!distributed)
        return body(arg, NULL);
#ifdef BZ_HAVE_MPI
    (void)cmd;
    bz_comm *comm = NULL;
    if (bz_dist_init(NULL, NULL, &comm))
        return 1;
    int rc = body(arg, comm);
    if (rc != 0 && rc != 129 && rc != 130 && rc != 143)
        bz_dist_abort(comm, rc, "training failed (see the message above)");
    bz_dist_finalize(comm);
    return rc;
#else
    fprintf(stderr, "boltzcl %s: --distributed needs a build with MPI (install "
                    "libopenmpi-dev and reconfigure with -Dmpi=enabled)\n", cmd);
    return 2;
#endif
}

const char *bz_cli_rank_device(const bz_comm *comm, const char *user, char *buf, size_t size)
{
#ifdef BZ_HAVE_MPI
    if (comm) {
        bz_dist_pick_device(comm, user, buf, size);
        return buf[0] ? buf : NULL;
    }
#else
    (void)comm;
    (void)buf;
    (void)size;
#endif
    return user;
}
