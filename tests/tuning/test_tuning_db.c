/*
 * The tuning-file format: valid entries, malformed lines skipped with one
 * warning each, wildcard and most-specific-first matching, driver and
 * version mismatches falling back, ties going to the earlier source, the
 * writer's round trip and the search path.
 */
#include "tuning/db.h"
#include "tuning/search.h"
#include "tuner/tune_output.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#define XGEMM                                                                                     \
    "\"Xgemm\":{\"GEMMK\":0,\"KREG\":1,\"KWG\":32,\"KWI\":2,\"MDIMA\":8,\"MDIMC\":8,"           \
    "\"MWG\":64,\"NDIMB\":8,\"NDIMC\":8,\"NWG\":64,\"SA\":0,\"SB\":0,\"STRM\":0,\"STRN\":0,"    \
    "\"VWM\":8,\"VWN\":8}"
#define ROUTINE(n) "\"GemmRoutine\":{\"XGEMM_MIN_INDIRECT_SIZE\":" #n "}"

typedef struct warnings {
    int count;
    char last[1024];
} warnings;

static void on_warn(void *user, const char *msg)
{
    warnings *w = user;
    w->count++;
    snprintf(w->last, sizeof w->last, "%s", msg);
}

static const bz_tuning_target epyc = {"pthread-skylake-avx512-AMD EPYC", "AuthenticAMD",
                                      "3.1+debian", "cpu", "0.1.0", 0};

static size_t routine_of(const bz_tuning_entry *e)
{
    return e->params.v[BZ_TK_GEMM_ROUTINE][0];
}

static void valid_entry_is_read(void **state)
{
    (void)state;
    bz_tuning_db db = {0};
    warnings w = {0};
    const char *text = "# a comment\n\n   \n"
                       "{\"device\":\"pthread-*\",\"driver\":\"3.1+debian\",\"clblast\":{" XGEMM
                       "," ROUTINE(300) "},\"boltzcl_kernels\":{\"wg_elementwise\":128},"
                       "\"measured\":{\"anything\":[1,2]}}\n";
    assert_int_equal(bz_tuning_db_parse(&db, text, "t", 1, on_warn, &w), 0);
    assert_int_equal(w.count, 0);
    assert_int_equal(db.count, 1);
    const bz_tuning_entry *e = &db.entries[0];
    assert_string_equal(e->device, "pthread-*");
    assert_string_equal(e->vendor, "*"); /* absent keys match anything */
    assert_string_equal(e->version, "*");
    assert_true(e->params.has[BZ_TK_XGEMM]);
    assert_false(e->params.has[BZ_TK_XGEMM_DIRECT]);
    assert_int_equal(bz_tp_get(&e->params, BZ_TK_XGEMM, "MWG"), 64);
    assert_int_equal(bz_tp_get(&e->params, BZ_TK_XGEMM, "VWN"), 8);
    assert_int_equal(routine_of(e), 300);
    assert_int_equal(e->params.wg_elementwise, 128);
    assert_string_equal(e->source, "t:4");
    bz_tuning_db_free(&db);
}

static void malformed_lines_are_skipped(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "{\"device\":\"x\",\"driver\":\"*\",\"clblast\":{" ROUTINE(3) "}", /* cut short */
        "[1, 2, 3]",
        "{\"driver\":\"*\",\"clblast\":{" ROUTINE(3) "}}",                 /* no device */
        "{\"device\":7,\"driver\":\"*\",\"clblast\":{" ROUTINE(3) "}}",    /* not a string */
        "{\"device\":\"x\",\"driver\":\"*\"}",                             /* sets nothing */
        "{\"device\":\"x\",\"driver\":\"*\",\"clblast\":{\"Xgemm\":{\"MWG\":64}}}", /* partial */
        "{\"device\":\"x\",\"driver\":\"*\",\"clblast\":{\"Xgemmm\":{}}}",  /* typo */
        "{\"device\":\"x\",\"driver\":\"*\",\"clblast\":{\"GemmRoutine\":"
        "{\"XGEMM_MIN_INDIRECT_SIZE\":-4}}}",
        "{\"device\":\"x\",\"driver\":\"*\",\"clblast\":{\"GemmRoutine\":"
        "{\"XGEMM_MIN_INDIRECT_SIZE\":\"big\"}}}",
        "{\"device\":\"x\",\"driver\":\"*\",\"clblast\":{\"GemmRoutine\":"
        "{\"XGEMM_MIN_INDIRECT_SIZE\":5,\"EXTRA\":1}}}",
        "{\"device\":\"x\",\"driver\":\"*\",\"boltzcl_kernels\":{\"wg_elementwise\":0}}",
        "{\"device\":\"x\",\"driver\":\"*\",\"batch\":0,\"clblast\":{" ROUTINE(3) "}}",
        "{\"device\":\"x\",\"driver\":\"*\",\"batch\":-32,\"clblast\":{" ROUTINE(3) "}}",
        "{\"device\":\"x\",\"driver\":\"*\",\"batch\":\"32\",\"clblast\":{" ROUTINE(3) "}}",
        "{\"device\":\"x\",\"driver\":\"*\",\"boltzcl_kernels\":{\"wg_other\":64}}",
    };
    const size_t n_bad = sizeof bad / sizeof *bad;
    char text[8192] = "{\"device\":\"a\",\"driver\":\"*\",\"clblast\":{" ROUTINE(1) "}}\n";
    for (size_t i = 0; i < n_bad; i++) {
        strcat(text, bad[i]);
        strcat(text, "\n");
    }
    strcat(text, "{\"device\":\"b\",\"driver\":\"*\",\"clblast\":{" ROUTINE(2) "}}");
    bz_tuning_db db = {0};
    warnings w = {0};
    assert_int_equal(bz_tuning_db_parse(&db, text, "f.jsonl", 1, on_warn, &w), (int)n_bad);
    assert_int_equal(w.count, (int)n_bad);
    /* the message names the file and line of the last bad entry */
    char where[64];
    snprintf(where, sizeof where, "f.jsonl, line %zu", n_bad + 1);
    assert_non_null(strstr(w.last, where));
    assert_non_null(strstr(w.last, "wg_other"));
    /* the good lines on either side survive */
    assert_int_equal(db.count, 2);
    assert_string_equal(db.entries[0].device, "a");
    assert_string_equal(db.entries[1].device, "b");
    assert_int_equal(routine_of(&db.entries[1]), 2);
    bz_tuning_db_free(&db);
}

static const char *const ladder =
    "{\"device\":\"*\",\"driver\":\"*\",\"type\":\"cpu\",\"clblast\":{" ROUTINE(1) "}}\n"
    "{\"device\":\"*\",\"driver\":\"*\",\"vendor\":\"AuthenticAMD\",\"type\":\"cpu\","
    "\"clblast\":{" ROUTINE(2) "}}\n"
    "{\"device\":\"pthread-*\",\"driver\":\"*\",\"clblast\":{" ROUTINE(3) "}}\n"
    "{\"device\":\"pthread-*\",\"driver\":\"3.1+debian\",\"clblast\":{" ROUTINE(4) "}}\n"
    "{\"device\":\"pthread-skylake-avx512-AMD EPYC\",\"driver\":\"*\",\"clblast\":{" ROUTINE(5)
    "}}\n"
    "{\"device\":\"pthread-skylake-avx512-AMD EPYC\",\"driver\":\"3.1+debian\",\"clblast\":{"
    ROUTINE(6) "}}\n";

/* Keeps the first n lines of the ladder, each more specific than the last. */
static size_t match_with(size_t lines, const bz_tuning_target *t)
{
    char text[4096];
    const char *p = ladder;
    for (size_t i = 0; i < lines; i++)
        p = strchr(p, '\n') + 1;
    snprintf(text, sizeof text, "%.*s", (int)(p - ladder), ladder);
    bz_tuning_db db = {0};
    assert_int_equal(bz_tuning_db_parse(&db, text, "ladder", 1, NULL, NULL), 0);
    assert_int_equal(db.count, lines);
    const bz_tuning_entry *e = bz_tuning_db_match(&db, t);
    size_t r = e ? routine_of(e) : 0;
    bz_tuning_db_free(&db);
    return r;
}

static void most_specific_entry_wins(void **state)
{
    (void)state;
    /* exact device+driver > exact device, any driver > device glob + exact driver > device
     * glob > vendor+type > type */
    for (size_t lines = 1; lines <= 6; lines++)
        assert_int_equal(match_with(lines, &epyc), lines);
    assert_int_equal(match_with(0, &epyc), 0); /* nothing: CLBlast's own values */
}

static void order_in_file_does_not_matter(void **state)
{
    (void)state;
    /* the ladder reversed: specificity, not position, decides */
    char text[4096] = "";
    const char *lines[6];
    const char *p = ladder;
    for (int i = 0; i < 6; i++) {
        lines[i] = p;
        p = strchr(p, '\n') + 1;
    }
    for (int i = 5; i >= 0; i--)
        strncat(text, lines[i], (size_t)(strchr(lines[i], '\n') + 1 - lines[i]));
    bz_tuning_db db = {0};
    assert_int_equal(bz_tuning_db_parse(&db, text, "rev", 1, NULL, NULL), 0);
    const bz_tuning_entry *e = bz_tuning_db_match(&db, &epyc);
    assert_non_null(e);
    assert_int_equal(routine_of(e), 6);
    bz_tuning_db_free(&db);
}

static void driver_mismatch_falls_back(void **state)
{
    (void)state;
    bz_tuning_target t = epyc;
    t.driver = "4.0";
    /* entries 4 and 6 name driver 3.1+debian: the exact device, any driver wins */
    assert_int_equal(match_with(6, &t), 5);
    assert_int_equal(match_with(4, &t), 3);
    t.device = "NVIDIA GeForce RTX 3060";
    t.vendor = "NVIDIA Corporation";
    t.type = "gpu";
    assert_int_equal(match_with(6, &t), 0); /* no CPU entry fits a GPU */
    t.type = "cpu";
    t.vendor = "GenuineIntel";
    assert_int_equal(match_with(6, &t), 1); /* only the any-CPU wildcard */
}

static void matching_ignores_case_and_checks_version(void **state)
{
    (void)state;
    bz_tuning_db db = {0};
    const char *text =
        "{\"device\":\"PTHREAD-*\",\"driver\":\"3.1+DEBIAN\",\"clblast\":{" ROUTINE(7) "}}\n"
        "{\"device\":\"*\",\"driver\":\"*\",\"boltzcl\":\"9.*\",\"clblast\":{" ROUTINE(8) "}}\n";
    assert_int_equal(bz_tuning_db_parse(&db, text, "c", 1, NULL, NULL), 0);
    const bz_tuning_entry *e = bz_tuning_db_match(&db, &epyc);
    assert_non_null(e);
    assert_int_equal(routine_of(e), 7);
    bz_tuning_target t = epyc;
    t.device = "cuda-thing";
    assert_null(bz_tuning_db_match(&db, &t)); /* the 9.* entry is for another boltzcl */
    t.version = "9.2.0";
    e = bz_tuning_db_match(&db, &t);
    assert_non_null(e);
    assert_int_equal(routine_of(e), 8);
    bz_tuning_db_free(&db);
}

static void ties_go_to_the_earlier_source(void **state)
{
    (void)state;
    bz_tuning_db db = {0};
    const char *a = "{\"device\":\"pthread-*\",\"driver\":\"*\",\"clblast\":{" ROUTINE(10) "}}\n"
                    "{\"device\":\"pthread-*\",\"driver\":\"*\",\"clblast\":{" ROUTINE(11) "}}\n";
    const char *b = "{\"device\":\"pthread-*\",\"driver\":\"*\",\"clblast\":{" ROUTINE(20) "}}\n";
    assert_int_equal(bz_tuning_db_parse(&db, b, "shipped", 5, NULL, NULL), 0);
    assert_int_equal(bz_tuning_db_parse(&db, a, "user", 1, NULL, NULL), 0);
    const bz_tuning_entry *e = bz_tuning_db_match(&db, &epyc);
    assert_non_null(e);
    assert_int_equal(routine_of(e), 10); /* user before shipped, first line first */
    assert_string_equal(e->source, "user:1");
    bz_tuning_db_free(&db);
}

static void formatted_entry_reads_back(void **state)
{
    (void)state;
    bz_tuning_entry e;
    memset(&e, 0, sizeof e);
    snprintf(e.device, sizeof e.device, "dev \"quoted\"/x");
    snprintf(e.vendor, sizeof e.vendor, "v");
    snprintf(e.driver, sizeof e.driver, "1.0");
    snprintf(e.type, sizeof e.type, "gpu");
    snprintf(e.version, sizeof e.version, "0.1.0");
    bz_tp_safe(&e.params);
    bz_tp_set(&e.params, BZ_TK_XGEMM_DIRECT, "WGD", 32);
    e.params.wg_elementwise = 64;
    char *line = bz_tuning_entry_format(&e, "{\"shapes\":[]}");
    assert_non_null(line);
    assert_null(strchr(line, '\n')); /* one entry, one line */
    bz_tuning_db db = {0};
    assert_int_equal(bz_tuning_db_parse(&db, line, "rt", 1, NULL, NULL), 0);
    assert_int_equal(db.count, 1);
    assert_string_equal(db.entries[0].device, e.device);
    assert_memory_equal(db.entries[0].params.v, e.params.v, sizeof e.params.v);
    assert_memory_equal(db.entries[0].params.has, e.params.has, sizeof e.params.has);
    assert_int_equal(db.entries[0].params.wg_elementwise, 64);
    free(line);
    bz_tuning_db_free(&db);
}

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

/* A batch entry matches only its batch size, and the device's entry only a
 * target without one, each by the usual specificity. */
static void batch_entries_match_only_their_batch(void **state)
{
    (void)state;
    const char *text =
        "{\"device\":\"pthread-*\",\"driver\":\"*\",\"clblast\":{" ROUTINE(1) "}}\n"
        "{\"device\":\"pthread-*\",\"driver\":\"*\",\"batch\":32,\"clblast\":{" ROUTINE(2)
        "}}\n"
        "{\"device\":\"pthread-skylake-avx512-AMD EPYC\",\"driver\":\"*\",\"batch\":32,"
        "\"clblast\":{" ROUTINE(3) "}}\n"
        "{\"device\":\"pthread-*\",\"driver\":\"*\",\"batch\":64,\"clblast\":{" ROUTINE(4)
        "}}\n";
    bz_tuning_db db = {0};
    warnings w = {0};
    assert_int_equal(bz_tuning_db_parse(&db, text, "t", 1, on_warn, &w), 0);
    assert_int_equal(db.count, 4);
    assert_int_equal(db.entries[0].batch, 0);
    assert_int_equal(db.entries[1].batch, 32);
    bz_tuning_target t = epyc;
    const bz_tuning_entry *e = bz_tuning_db_match(&db, &t);
    assert_non_null(e);
    assert_int_equal(routine_of(e), 1); /* never a batch entry without a batch */
    t.batch = 32;
    e = bz_tuning_db_match(&db, &t);
    assert_non_null(e);
    assert_int_equal(routine_of(e), 3); /* the literal device name is more specific */
    t.batch = 64;
    assert_int_equal(routine_of(bz_tuning_db_match(&db, &t)), 4);
    t.batch = 100;
    assert_null(bz_tuning_db_match(&db, &t));
    /* the key survives formatting */
    char *line = bz_tuning_entry_format(&db.entries[3], NULL);
    assert_non_null(line);
    assert_non_null(strstr(line, "\"batch\":64"));
    bz_tuning_db again = {0};
    assert_int_equal(bz_tuning_db_parse(&again, line, "again", 1, on_warn, &w), 0);
    assert_int_equal(again.count, 1);
    assert_int_equal(again.entries[0].batch, 64);
    free(line);
    bz_tuning_db_free(&again);
    bz_tuning_db_free(&db);
}

static void file_put_replaces_only_its_own_line(void **state)
{
    (void)state;
    char dir[] = "/tmp/bz-tuning-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[256];
    snprintf(path, sizeof path, "%s/sub/tuning.jsonl", dir);
    bz_tuning_entry e;
    memset(&e, 0, sizeof e);
    snprintf(e.device, sizeof e.device, "d");
    snprintf(e.vendor, sizeof e.vendor, "v");
    snprintf(e.driver, sizeof e.driver, "1");
    snprintf(e.type, sizeof e.type, "cpu");
    snprintf(e.version, sizeof e.version, "0.1.0");
    e.params.has[BZ_TK_GEMM_ROUTINE] = true;
    e.params.v[BZ_TK_GEMM_ROUTINE][0] = 1;
    char why[256];
    assert_true(bz_tuning_file_put(path, &e, NULL, why, sizeof why));
    /* another device's entry and a comment, then a second put for e's key */
    FILE *f = fopen(path, "a");
    assert_non_null(f);
    fputs("# keep me\n{\"device\":\"other\",\"driver\":\"*\",\"clblast\":{" ROUTINE(9) "}}\n", f);
    fclose(f);
    e.params.v[BZ_TK_GEMM_ROUTINE][0] = 2;
    assert_true(bz_tuning_file_put(path, &e, "{\"x\":1}", why, sizeof why));
    /* the same device's batch entry is a line of its own, twice put */
    e.batch = 32;
    e.params.v[BZ_TK_GEMM_ROUTINE][0] = 7;
    assert_true(bz_tuning_file_put(path, &e, NULL, why, sizeof why));
    e.params.v[BZ_TK_GEMM_ROUTINE][0] = 8;
    assert_true(bz_tuning_file_put(path, &e, NULL, why, sizeof why));
    bz_tuning_db db = {0};
    warnings w = {0};
    assert_int_equal(bz_tuning_db_load(&db, path, 1, on_warn, &w), 0);
    assert_int_equal(w.count, 0);
    assert_int_equal(db.count, 3);
    size_t seen_d = 0, routine_d = 0, seen_32 = 0, routine_32 = 0;
    for (size_t i = 0; i < db.count; i++)
        if (strcmp(db.entries[i].device, "d") == 0 && db.entries[i].batch == 0) {
            seen_d++;
            routine_d = routine_of(&db.entries[i]);
        } else if (strcmp(db.entries[i].device, "d") == 0) {
            seen_32++;
            routine_32 = routine_of(&db.entries[i]);
        }
    assert_int_equal(seen_d, 1);
    assert_int_equal(routine_d, 2);
    assert_int_equal(seen_32, 1);
    assert_int_equal(routine_32, 8);
    bz_tuning_db_free(&db);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

static void search_path_order(void **state)
{
    (void)state;
    char dir[] = "/tmp/bz-tuning-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[400], sub[256];
    snprintf(sub, sizeof sub, "%s/boltzcl", dir);
    assert_int_equal(mkdir(sub, 0755), 0);
    snprintf(path, sizeof path, "%s/tuning.jsonl", sub);
    write_text(path, "{\"device\":\"pthread-skylake-avx512-AMD EPYC\",\"driver\":\"3.1+debian\","
                     "\"clblast\":{" ROUTINE(77) "}}\nnot json\n");
    setenv("XDG_CONFIG_HOME", dir, 1);
    bz_tuning_db db = {0};
    warnings w = {0};
    assert_true(bz_tuning_load_search_path(&db, NULL, on_warn, &w) >= 1);
    assert_int_equal(w.count, 1); /* the bad line, and nothing in the shipped files */
    const bz_tuning_entry *e = bz_tuning_db_match(&db, &epyc);
    assert_non_null(e);
    assert_int_equal(routine_of(e), 77); /* the user's file before the shipped ones */
    assert_int_equal(e->precedence, 1);
    bz_tuning_db_free(&db);

    /* an explicit file is used alone */
    char other[256];
    snprintf(other, sizeof other, "%s/pinned.jsonl", dir);
    write_text(other, "{\"device\":\"*\",\"driver\":\"*\",\"clblast\":{" ROUTINE(5) "}}\n");
    assert_int_equal(bz_tuning_load_search_path(&db, other, on_warn, &w), 1);
    assert_int_equal(db.count, 1);
    assert_int_equal(routine_of(bz_tuning_db_match(&db, &epyc)), 5);
    bz_tuning_db_free(&db);

    /* "off" loads nothing; a missing explicit file is a warning, not an error */
    assert_true(bz_tuning_is_off("OFF"));
    assert_int_equal(bz_tuning_load_search_path(&db, "off", on_warn, &w), 0);
    assert_int_equal(db.count, 0);
    int before = w.count;
    snprintf(other, sizeof other, "%s/missing.jsonl", dir);
    assert_int_equal(bz_tuning_load_search_path(&db, other, on_warn, &w), 0);
    assert_int_equal(w.count, before + 1);
    assert_int_equal(db.count, 0);

    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

static void shipped_files_parse_cleanly(void **state)
{
    (void)state;
    /* whatever the project ships must load without a single warning */
    char dir[] = "/tmp/bz-tuning-XXXXXX";
    assert_non_null(mkdtemp(dir));
    setenv("XDG_CONFIG_HOME", dir, 1); /* empty: only the shipped files */
    bz_tuning_db db = {0};
    warnings w = {0};
    bz_tuning_load_search_path(&db, NULL, on_warn, &w);
    assert_int_equal(w.count, 0);
    for (size_t i = 0; i < db.count; i++)
        for (int k = 0; k < BZ_TK_COUNT; k++)
            if (db.entries[i].params.has[k])
                assert_null(bz_tp_check(&db.entries[i].params, k, 32768, 256));
    bz_tuning_db_free(&db);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(valid_entry_is_read),
        cmocka_unit_test(malformed_lines_are_skipped),
        cmocka_unit_test(most_specific_entry_wins),
        cmocka_unit_test(order_in_file_does_not_matter),
        cmocka_unit_test(driver_mismatch_falls_back),
        cmocka_unit_test(matching_ignores_case_and_checks_version),
        cmocka_unit_test(ties_go_to_the_earlier_source),
        cmocka_unit_test(formatted_entry_reads_back),
        cmocka_unit_test(batch_entries_match_only_their_batch),
        cmocka_unit_test(file_put_replaces_only_its_own_line),
        cmocka_unit_test(search_path_order),
        cmocka_unit_test(shipped_files_parse_cleanly),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
