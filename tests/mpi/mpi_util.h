/*
 * What the mpi suite's tests share: the environment Open MPI needs here and
 * running mpirun with the reliability helpers (rel_util.h).
 */
#ifndef BZ_TESTS_MPI_UTIL_H
#define BZ_TESTS_MPI_UTIL_H

/* Open MPI: root in containers and CI, more ranks than cores, and no
 * single-copy shared memory (ptrace is often forbidden in containers).
 * NULL-terminated, MPI_ENV_COUNT entries before the NULL. */
#define MPI_ENV_COUNT 3
extern const char *const mpi_env[MPI_ENV_COUNT + 1];

/* rel_run with mpirun (the path given) in place of the boltzcl binary: args
 * are mpirun's. Returns the wait status. */
int mpi_run(const char *mpirun, const char *const *args, const char *const *env, char **err);

/* Runs the MPMD job `args` (rank 1 with an injected device fault) and checks
 * that it fails with a message naming rank 1 and ending the whole job, and
 * that no model was written to `out`. */
void mpi_expect_rank1_failure(const char *mpirun, const char *const *args, const char *out);

#endif
