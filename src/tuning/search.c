#include "tuning/search.h"
#include "tuning/tuning_paths.h"

#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

bool bz_tuning_is_off(const char *explicit_file)
{
    return explicit_file &&
           (strcasecmp(explicit_file, "off") == 0 || strcasecmp(explicit_file, "none") == 0);
}

static void config_dir(char *buf, size_t size)
{
    const char *xdg = getenv("XDG_CONFIG_HOME");
    if (xdg && xdg[0]) {
        snprintf(buf, size, "%s/boltzcl", xdg);
    } else {
        const char *home = getenv("HOME");
        snprintf(buf, size, "%s/.config/boltzcl", home && home[0] ? home : ".");
    }
}

void bz_tuning_user_file(char *buf, size_t size)
{
    char dir[1024];
    config_dir(dir, sizeof dir);
    snprintf(buf, size, "%s/tuning.jsonl", dir);
}

static int load_glob(bz_tuning_db *db, const char *dir, const char *pattern, int *precedence,
                     bz_tuning_warn_fn warn, void *user)
{
    char pat[1200];
    snprintf(pat, sizeof pat, "%s/%s", dir, pattern);
    glob_t g;
    int found = 0;
    if (glob(pat, 0, NULL, &g) == 0) {
        for (size_t i = 0; i < g.gl_pathc; i++) {
            bz_tuning_db_load(db, g.gl_pathv[i], (*precedence)++, warn, user);
            found++;
        }
    }
    globfree(&g);
    return found;
}

int bz_tuning_load_search_path(bz_tuning_db *db, const char *explicit_file,
                               bz_tuning_warn_fn warn, void *user)
{
    if (bz_tuning_is_off(explicit_file))
        return 0;
    if (explicit_file && explicit_file[0]) {
        if (access(explicit_file, R_OK) != 0 && warn) {
            char msg[1200];
            snprintf(msg, sizeof msg, "tuning file %s cannot be read; using built-in parameters",
                     explicit_file);
            warn(user, msg);
            return 0;
        }
        bz_tuning_db_load(db, explicit_file, 0, warn, user);
        return 1;
    }
    int precedence = 1, found = 0;
    char dir[1024];
    config_dir(dir, sizeof dir);
    found += load_glob(db, dir, "tuning*.jsonl", &precedence, warn, user);
    found += load_glob(db, BZ_TUNING_DIR_INSTALL, "*.jsonl", &precedence, warn, user);
#ifdef BZ_TUNING_DIR_SOURCE
    found += load_glob(db, BZ_TUNING_DIR_SOURCE, "*.jsonl", &precedence, warn, user);
#endif
    return found;
}
