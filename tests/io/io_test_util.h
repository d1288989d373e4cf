/* Fixture helpers shared by the io tests: temp dirs, files, gzip, IDX. */
#ifndef BZ_TESTS_IO_TEST_UTIL_H
#define BZ_TESTS_IO_TEST_UTIL_H

#include <stddef.h>
#include <stdint.h>

/* Creates a fresh directory under $TMPDIR (or /tmp); never NULL. */
char *tu_mkdtemp(void);
/* Removes a directory tree made by tu_mkdtemp and frees the string. */
void tu_rmtree(char *dir);
/* dir + "/" + name in a new string. */
char *tu_join(const char *dir, const char *name);

void tu_write_file(const char *path, const void *data, size_t n);
/* Whole file, NUL-terminated; NULL if it cannot be read. */
uint8_t *tu_read_file(const char *path, size_t *len);
int tu_file_exists(const char *path);
/* Number of entries in dir whose name contains ".boltzcl-tmp." */
int tu_count_temp_files(const char *dir);

/* gzip (RFC 1952) of data, malloc()ed. */
uint8_t *tu_gzip(const void *data, size_t n, size_t *out_len);

/* IDX image: magic 00 00 type ndim, big-endian dims, then payload bytes
 * (already big-endian); malloc()ed. */
uint8_t *tu_idx(int type, int ndim, const uint32_t *dims, const void *payload,
                size_t payload_len, size_t *out_len);

/* True when s contains sub (for readable asserts). */
int tu_has(const char *s, const char *sub);

/* Deterministic pseudo-random generator for tests. */
uint64_t tu_rand(uint64_t *state);

#endif
