/*
 * The tuner's pieces that need no device: CLBlast's constraints, the search
 * space staying inside them, the candidate encoding, the result check that
 * rejects wrong products, and the resumable state file.
 */
#include "tuner/space.h"
#include "tuner/tune.h"
#include "tuner/tune_state.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#define LOCAL_MEM 32768
#define MAX_WG 256

static bool mode_ok(const bz_tune_params *p, int mode)
{
    for (int k = 0; k < BZ_TK_COUNT; k++) {
        bool in = mode == BZ_MODE_DIRECT ? k == BZ_TK_XGEMM_DIRECT
                                         : k != BZ_TK_XGEMM_DIRECT && k != BZ_TK_GEMM_ROUTINE;
        if (in && bz_tp_check(p, k, LOCAL_MEM, MAX_WG))
            return false;
    }
    return true;
}

static void constraints_reject_what_clblast_cannot_build(void **state)
{
    (void)state;
    bz_tune_params p;
    bz_tp_safe(&p);
    for (int k = 0; k < BZ_TK_COUNT; k++)
        assert_null(bz_tp_check(&p, k, LOCAL_MEM, MAX_WG));
    bz_tune_params q = p;
    bz_tp_set(&q, BZ_TK_XGEMM, "MWG", 24); /* not a multiple of MDIMC*VWM = 8 ... */
    bz_tp_set(&q, BZ_TK_XGEMM, "VWM", 2);  /* ... once VWM is 2: 24 % 16 */
    assert_non_null(bz_tp_check(&q, BZ_TK_XGEMM, LOCAL_MEM, MAX_WG));
    q = p;
    bz_tp_set(&q, BZ_TK_XGEMM, "KWI", 3); /* KWG 16 % 3 */
    assert_non_null(bz_tp_check(&q, BZ_TK_XGEMM, LOCAL_MEM, MAX_WG));
    q = p;
    bz_tp_set(&q, BZ_TK_XGEMM, "SA", 1);
    bz_tp_set(&q, BZ_TK_XGEMM, "MWG", 4096);
    bz_tp_set(&q, BZ_TK_XGEMM, "KWG", 32); /* 32*4096 floats of local memory */
    assert_non_null(bz_tp_check(&q, BZ_TK_XGEMM, LOCAL_MEM, MAX_WG));
    /* Tiles that divide the model's sizes (KWG 20, NWG 100) are fine without
     * local memory, where MDIMA and NDIMB do not constrain KWG; with it the
     * loaders need KWG to be a multiple of MDIMC*NDIMC/NDIMB (80/10 = 8). */
    q = p;
    static const struct {
        const char *name;
        size_t value;
    } divides[] = {{"SA", 0},    {"SB", 0},     {"MDIMC", 8},  {"MDIMA", 8},
                   {"MWG", 128}, {"VWM", 8},    {"NDIMC", 10}, {"NDIMB", 10},
                   {"NWG", 100}, {"VWN", 2},    {"KWG", 20},   {"KWI", 2}};
    for (size_t i = 0; i < sizeof divides / sizeof *divides; i++)
        bz_tp_set(&q, BZ_TK_XGEMM, divides[i].name, divides[i].value);
    assert_null(bz_tp_check(&q, BZ_TK_XGEMM, LOCAL_MEM, MAX_WG));
    bz_tp_set(&q, BZ_TK_XGEMM, "SB", 1);
    assert_non_null(bz_tp_check(&q, BZ_TK_XGEMM, LOCAL_MEM, MAX_WG));
    q = p;
    bz_tp_set(&q, BZ_TK_XGEMM_DIRECT, "MDIMCD", 32);
    bz_tp_set(&q, BZ_TK_XGEMM_DIRECT, "NDIMCD", 32); /* 1024 work-items */
    assert_non_null(bz_tp_check(&q, BZ_TK_XGEMM_DIRECT, LOCAL_MEM, MAX_WG));
    q = p;
    bz_tp_set(&q, BZ_TK_COPY, "COPY_VW", 3);
    assert_non_null(bz_tp_check(&q, BZ_TK_COPY, LOCAL_MEM, MAX_WG));
    q = p;
    q.v[BZ_TK_GEMM_ROUTINE][0] = 0;
    assert_non_null(bz_tp_check(&q, BZ_TK_GEMM_ROUTINE, LOCAL_MEM, MAX_WG));
}

static void sampling_and_steps_stay_valid(void **state)
{
    (void)state;
    uint64_t rng = 42;
    for (int mode = 0; mode < BZ_MODE_COUNT; mode++) {
        size_t distinct = 0;
        char first[512] = "";
        for (int i = 0; i < 300; i++) {
            bz_tune_params p;
            bz_tp_safe(&p);
            bz_space_random(&p, mode, &rng, LOCAL_MEM, MAX_WG);
            assert_true(mode_ok(&p, mode));
            char key[512];
            bz_space_encode(&p, key, sizeof key);
            if (i == 0)
                snprintf(first, sizeof first, "%s", key);
            else if (strcmp(key, first) != 0)
                distinct++;
            bz_tune_params q = p;
            bz_space_mutate(&q, mode, &rng, LOCAL_MEM, MAX_WG);
            assert_true(mode_ok(&q, mode));
            assert_memory_not_equal(q.v, p.v, sizeof p.v);
        }
        assert_true(distinct > 250); /* a search, not a constant */
        bz_tune_params seeds[8];
        size_t n = bz_space_seeds(mode, seeds, 8);
        assert_true(n >= 2);
        for (size_t i = 0; i < n; i++) /* seeds may assume 64 KiB, as GPUs and CPUs have */
            for (int k = 0; k < BZ_TK_COUNT; k++)
                assert_null(bz_tp_check(&seeds[i], k, 65536, 1024));
    }
}

static void encoding_round_trips(void **state)
{
    (void)state;
    uint64_t rng = 7;
    bz_tune_params p, q;
    bz_tp_safe(&p);
    bz_space_random(&p, BZ_MODE_INDIRECT, &rng, LOCAL_MEM, MAX_WG);
    char key[512];
    bz_space_encode(&p, key, sizeof key);
    memset(&q, 0, sizeof q);
    const char *end;
    assert_true(bz_space_decode(&q, key, &end));
    assert_int_equal(*end, '\0');
    assert_memory_equal(p.v, q.v, sizeof p.v);
    assert_false(bz_space_decode(&q, "1 2 3", NULL)); /* too few values */
}

static void wrong_products_are_rejected(void **state)
{
    (void)state;
    enum { N = 1000 };
    static float ref[N], c[N];
    for (int i = 0; i < N; i++)
        ref[i] = c[i] = (float)sin(i) * 20.0f;
    assert_true(bz_tune_accept(bz_tune_rel_error(c, ref, N), 784));
    c[17] *= 1.0f + 1e-6f; /* rounding-sized: fine */
    assert_true(bz_tune_accept(bz_tune_rel_error(c, ref, N), 784));
    c[17] += 1.0f; /* one wrong element in a thousand */
    assert_false(bz_tune_accept(bz_tune_rel_error(c, ref, N), 784));
    c[17] = ref[17];
    c[999] = NAN;
    assert_false(bz_tune_accept(bz_tune_rel_error(c, ref, N), 784));
    c[999] = 1e30f; /* an element the kernel never wrote */
    assert_false(bz_tune_accept(bz_tune_rel_error(c, ref, N), 784));
    /* the bound grows with k as float accumulation error does */
    assert_true(bz_tune_tolerance(10000) > bz_tune_tolerance(100));
    assert_true(bz_tune_tolerance(784) < 1e-2);
}

static void state_file_resumes(void **state)
{
    (void)state;
    char path[] = "/tmp/bz-tune-state-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    char why[256];
    bz_tune_state s;
    assert_true(bz_tune_state_open(&s, path, "dev\tdrv\t0.1.0", true, 4, why, sizeof why));
    double base[4] = {1, 2, 3, 4};
    bz_tune_state_baseline(&s, base, 4);
    bz_tune_result r;
    memset(&r, 0, sizeof r);
    bz_tp_safe(&r.p);
    r.mode = BZ_MODE_INDIRECT;
    snprintf(r.status, sizeof r.status, "ok");
    r.t[0] = 0.5;
    r.t[3] = 0.25;
    bz_space_encode(&r.p, r.key, sizeof r.key);
    assert_true(bz_tune_state_add(&s, &r, 4));
    snprintf(r.status, sizeof r.status, "crash");
    r.key[0] = '9'; /* another candidate */
    assert_true(bz_space_decode(&r.p, r.key, NULL));
    assert_true(bz_tune_state_add(&s, &r, 4));
    bz_tune_state_close(&s);
    FILE *f = fopen(path, "a"); /* a line cut off by a kill */
    assert_non_null(f);
    fputs("C 1 ok 0.1 0.2", f);
    fclose(f);

    assert_true(bz_tune_state_open(&s, path, "dev\tdrv\t0.1.0", false, 4, why, sizeof why));
    assert_true(s.have_baseline);
    assert_true(s.baseline[3] == 4);
    assert_int_equal(s.n, 2);
    assert_string_equal(s.r[0].status, "ok");
    assert_true(fabs(s.r[0].total - 0.75) < 1e-9);
    assert_false(isfinite(s.r[1].total)); /* a crash never counts as fast */
    assert_non_null(bz_tune_state_find(&s, s.r[1].key));
    bz_tune_state_close(&s);

    /* another device's state is not reused */
    assert_true(bz_tune_state_open(&s, path, "other\tdrv\t0.1.0", false, 4, why, sizeof why));
    assert_int_equal(s.n, 0);
    assert_false(s.have_baseline);
    bz_tune_state_close(&s);
    unlink(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(constraints_reject_what_clblast_cannot_build),
        cmocka_unit_test(sampling_and_steps_stay_valid),
        cmocka_unit_test(encoding_round_trips),
        cmocka_unit_test(wrong_products_are_rejected),
        cmocka_unit_test(state_file_resumes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
