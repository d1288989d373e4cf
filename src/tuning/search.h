/*
 * Where tuning files are looked for. An explicit file (the context option
 * tuning_file or $BOLTZCL_TUNING_FILE) is used alone, so that a test or a
 * user can pin the parameters; "off" there means CLBlast's built-in values.
 * Otherwise: $XDG_CONFIG_HOME/boltzcl/tuning*.jsonl (user, from
 * boltzcl-tune), then the shipped files (*.jsonl) in <datadir>/boltzcl/tuning,
 * then in the source tree's tuning folder so that an uninstalled build finds
 * them too.
 */
#ifndef BZ_TUNING_SEARCH_H
#define BZ_TUNING_SEARCH_H

#include "tuning/db.h"

#include <stdbool.h>

/* True when the explicit setting turns tuning off. */
bool bz_tuning_is_off(const char *explicit_file);

/* Loads every file on the path into db. Returns how many files exist. */
int bz_tuning_load_search_path(bz_tuning_db *db, const char *explicit_file,
                               bz_tuning_warn_fn warn, void *user);

/* The user's tuning file, where boltzcl-tune writes by default. */
void bz_tuning_user_file(char *buf, size_t size);

#endif
