/*
 * The tuning database: text files of one JSON object per line, each line a
 * parameter set for the devices its keys match. Format (README, "Tuning"):
 *
 *   # comment
 *   {"device": "pthread-*", "vendor": "*", "driver": "3.1+debian",
 *    "type": "cpu", "boltzcl": "0.1.*",
 *    "clblast": {"Xgemm": {"GEMMK": 0, ...}, "XgemmDirect": {...}, "Copy": {...},
 *                "Pad": {...}, "Transpose": {...}, "Padtranspose": {...},
 *                "GemmRoutine": {"XGEMM_MIN_INDIRECT_SIZE": 512}},
 *    "boltzcl_kernels": {"wg_elementwise": 256},
 *    "measured": {...}}
 *
 * (on one line). Keys are case-insensitive shell globs; "device" and "driver"
 * are required, the others default to "*". A kernel listed under "clblast"
 * must give every parameter CLBlast defines for it (CLBlast accepts nothing
 * less); kernels not listed keep CLBlast's values. "measured" and keys
 * starting with "_" are informative and ignored. One line per entry keeps a
 * damaged entry from taking the rest of the file with it: it is reported and
 * skipped.
 *
 * Matching: every key must match; the most specific entry wins, specificity
 * ranking device over driver over vendor and type, a literal key over a glob
 * over "*". Equal specificity goes to the earlier source (the explicit file,
 * then the user's, then the shipped ones), then the earlier line.
 *
 * An entry with "batch": N (a positive integer) is a batch entry: it matches
 * only a target asking for batch N, and the engine lays its kernels over the
 * device's entry while a model trains with minibatches of N rows (GEMM tiles
 * that suit 100 rows waste most of their work on 32). Entries without
 * "batch" match only targets with no batch: the device's entry.
 */
#ifndef BZ_TUNING_DB_H
#define BZ_TUNING_DB_H

#include "tuning/params.h"

#include <stddef.h>

typedef struct bz_tuning_entry {
    char device[256], vendor[128], driver[128], type[32], version[32];
    size_t batch; /* 0: the device's entry; N: a batch entry for minibatches of N */
    bz_tune_params params;
    char source[600]; /* "path:line" */
    int precedence;   /* lower wins ties: order of the source in the search */
    int specificity;
} bz_tuning_entry;

typedef struct bz_tuning_db {
    bz_tuning_entry *entries;
    size_t count, cap;
} bz_tuning_db;

/* Receives one message per malformed line or unreadable file. */
typedef void (*bz_tuning_warn_fn)(void *user, const char *message);

/* The device an entry is matched against. type: "cpu", "gpu", "accelerator".
 * batch: 0 for the device's entry, N for the batch entry of batch N. */
typedef struct bz_tuning_target {
    const char *device, *vendor, *driver, *type, *version;
    size_t batch;
} bz_tuning_target;

/* Appends the valid entries of text (name is used in messages); returns the
 * number of lines skipped as malformed. -1 when out of memory. */
int bz_tuning_db_parse(bz_tuning_db *db, const char *text, const char *name, int precedence,
                       bz_tuning_warn_fn warn, void *user);

/* As above for a file. A missing file is no error (returns 0, no warning);
 * an unreadable one is warned about. */
int bz_tuning_db_load(bz_tuning_db *db, const char *path, int precedence, bz_tuning_warn_fn warn,
                      void *user);

void bz_tuning_db_free(bz_tuning_db *db);

/* The best entry for target, or NULL (CLBlast's built-in parameters). */
const bz_tuning_entry *bz_tuning_db_match(const bz_tuning_db *db, const bz_tuning_target *t);

/* Serialises an entry as one line (no newline) into a malloc'ed string;
 * measured (may be NULL) is a JSON object text stored under "measured". */
char *bz_tuning_entry_format(const bz_tuning_entry *e, const char *measured_json);

#endif
