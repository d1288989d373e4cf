/*
 * Helpers for the reliability tests, which drive the boltzcl command-line
 * tool as a user would: temporary directories, small generated datasets,
 * running the tool (with extra environment variables, stderr captured) and
 * comparing files and models.
 */
#ifndef BZ_TESTS_REL_UTIL_H
#define BZ_TESTS_REL_UTIL_H

#include "boltzcl.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Path of the boltzcl binary, from the test's first argument. */
extern const char *rel_boltzcl;

/* Takes the binary's path from argv[1]; exits with a message without it. */
void rel_init(int argc, char **argv);

/* Creates a fresh temporary directory (removed by rel_rmtree). */
char *rel_tmpdir(const char *tag);
void rel_rmtree(const char *dir);

/* dir + "/" + name, malloc'ed. */
char *rel_path(const char *dir, const char *name);

/* Writes a CSV of n rows: a label, then dim binary features drawn from
 * seed. */
void rel_write_csv(const char *path, size_t n, size_t dim, uint64_t seed);

/* Whole file into a malloc'ed buffer (NUL-terminated); NULL when absent. */
char *rel_read(const char *path, size_t *len);
void rel_write(const char *path, const void *data, size_t len);
bool rel_exists(const char *path);

/* Runs `boltzcl args...` (args NULL-terminated) with the extra environment
 * entries env ("NAME=value", NULL-terminated, may be NULL), stdout to
 * /dev/null and stderr into *err (malloc'ed, may be NULL to discard).
 * Returns the wait status. */
int rel_run(const char *const *args, const char *const *env, char **err);

/* Starts `boltzcl args...` in the background; stderr into err_path (or a
 * pipe when err_fd is not NULL: its read end is returned there). */
pid_t rel_spawn(const char *const *args, const char *const *env, const char *err_path,
                int *err_fd);

/* Describes a wait status for messages ("exit 1", "signal 9"). */
const char *rel_status_str(int status);

/* Seconds since an arbitrary point (monotonic). */
double rel_now(void);

/* A model's parameters as host arrays (freed with rel_params_free). */
typedef struct rel_params {
    size_t nv, nh;
    float *w, *vb, *hb;
} rel_params;

/* Loads a model (checkpoint = false) or a checkpoint file with the library;
 * returns the status and fills p (may be NULL) when it loads. */
bz_status rel_load(bz_context *ctx, const char *path, bool checkpoint, rel_params *p,
                   unsigned *next_epoch);
void rel_params_free(rel_params *p);
/* Bit-identical W, vbias and hbias. */
bool rel_params_equal(const rel_params *a, const rel_params *b);

/* Opens a context; exits 77 (skipped) when there is no device. */
bz_context *rel_open_context(void);

#endif
