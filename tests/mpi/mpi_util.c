/* Helpers of the mpi suite (see mpi_util.h). */
#include "mpi_util.h"
#include "rel_util.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <cmocka.h>

const char *const mpi_env[MPI_ENV_COUNT + 1] = {
    "OMPI_ALLOW_RUN_AS_ROOT=1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1",
    "OMPI_MCA_btl_vader_single_copy_mechanism=none", NULL};

int mpi_run(const char *mpirun, const char *const *args, const char *const *env, char **err)
{
    const char *saved = rel_boltzcl;
    rel_boltzcl = mpirun;
    int st = rel_run(args, env, err);
    rel_boltzcl = saved;
    return st;
}

void mpi_expect_rank1_failure(const char *mpirun, const char *const *args, const char *out)
{
    char *err = NULL;
    int st = mpi_run(mpirun, args, mpi_env, &err);
    if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
        fail_msg("the job succeeded although rank 1's device failed:\n%s", err);
    if (!strstr(err, "injected fault") || !strstr(err, "rank 1 of 2") ||
        !strstr(err, "ending the whole job"))
        fail_msg("no message naming rank 1 and its failure:\n%s", err);
    fprintf(stderr, "device failure on rank 1: %s\n", rel_status_str(st));
    free(err);
    assert_false(rel_exists(out));
}
