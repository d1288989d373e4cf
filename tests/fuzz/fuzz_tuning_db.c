/*
 * libFuzzer target: the tuning-file parser (bz_tuning_db_parse, from memory),
 * the matcher and the entry formatter. Checks that every skipped line was
 * warned about, that a match is one of the parsed entries, and that an entry
 * survives a round trip through bz_tuning_entry_format and the parser.
 */
#include "tuning/db.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void count_warning(void *user, const char *message)
{
    if (!message || !message[0])
        __builtin_trap();
    (*(int *)user)++;
}

static void check_round_trip(const bz_tuning_entry *e)
{
    char *line = bz_tuning_entry_format(e, "{\"gflops\":1.5}");
    if (!line)
        return; /* out of memory */
    bz_tuning_db again = {0};
    int warnings = 0;
    int rc = bz_tuning_db_parse(&again, line, "round-trip", 0, count_warning, &warnings);
    if (rc != 0 || warnings != 0 || again.count != 1)
        __builtin_trap();
    const bz_tuning_entry *f = &again.entries[0];
    if (strcmp(e->device, f->device) || strcmp(e->vendor, f->vendor) ||
        strcmp(e->driver, f->driver) || strcmp(e->type, f->type) ||
        strcmp(e->version, f->version) || e->specificity != f->specificity || e->batch != f->batch ||
        memcmp(&e->params, &f->params, sizeof e->params) != 0)
        __builtin_trap();
    bz_tuning_db_free(&again);
    free(line);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';

    bz_tuning_db db = {0};
    int warnings = 0;
    int skipped = bz_tuning_db_parse(&db, text, "fuzz", 1, count_warning, &warnings);
    if (skipped >= 0 && skipped != warnings)
        __builtin_trap();
    if (db.count > db.cap || (db.count && !db.entries))
        __builtin_trap();

    static const bz_tuning_target targets[] = {
        {"pthread-skylake-avx512-AMD EPYC", "AuthenticAMD", "3.1+debian", "cpu", "0.1.0", 0},
        {"pthread-skylake-avx512-AMD EPYC", "AuthenticAMD", "3.1+debian", "cpu", "0.1.0", 32},
        {"NVIDIA GeForce RTX 4090", "NVIDIA Corporation", "550.54", "gpu", "0.1.0", 0},
        {"", "", "", "", "", 0},
    };
    for (size_t t = 0; t < sizeof targets / sizeof *targets; t++) {
        const bz_tuning_entry *m = bz_tuning_db_match(&db, &targets[t]);
        if (m && (m < db.entries || m >= db.entries + db.count || m->batch != targets[t].batch))
            __builtin_trap();
    }
    for (size_t i = 0; i < db.count && i < 8; i++) {
        const bz_tuning_entry *e = &db.entries[i];
        for (int k = 0; k < BZ_TK_COUNT; k++)
            if (e->params.has[k])
                (void)bz_tp_check(&e->params, k, 65536, 1024);
        check_round_trip(e);
    }
    bz_tuning_db_free(&db);
    free(text);
    return 0;
}
