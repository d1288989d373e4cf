/* Writing the tuner's result into a tuning file without losing its others. */
#ifndef BZ_TUNER_TUNE_OUTPUT_H
#define BZ_TUNER_TUNE_OUTPUT_H

#include "tuning/db.h"

#include <stdbool.h>

/* Puts e (with measured, a JSON object text or NULL) into the file at path,
 * replacing a line with the same device, vendor, driver and boltzcl keys and
 * keeping every other line. Creates the file and its folders; replaces the
 * file atomically. */
bool bz_tuning_file_put(const char *path, const bz_tuning_entry *e, const char *measured,
                        char *why, size_t size);

/* Creates the folders of path and checks a file can be written there (a
 * temporary is made and removed), so that an unwritable place is found
 * before a search, not after it. */
bool bz_tuning_file_check(const char *path, char *why, size_t size);

#endif
