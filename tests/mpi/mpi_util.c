/* Helpers of the mpi suite (see mpi_util.h). */
#include "mpi_util.h"
#include "rel_util.h"

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
