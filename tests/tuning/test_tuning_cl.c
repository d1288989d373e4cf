/*
 * Tuned CLBlast parameters on a real device: SGEMM still matches the
 * double-precision reference for all four transpose combinations at odd
 * shapes, on the direct path and on the indirect one (each compiles anew, so
 * a split between them would only repeat these);
 * a context comes up with tuning off, and with a damaged tuning file; batch
 * entries switch in and out with the same results. Exits
 * 77 (skipped) without an OpenCL device.
 */
#include "blas/gemm.h"
#include "engine/engine.h"
#include "ref/reference.h"
#include "tuning/apply.h"
#include "tuner/space.h"
#include "tuner/tune.h"

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

static int warnings_seen, batch_switches;

static void count_log(void *user, int level, const char *msg)
{
    (void)user;
    if (strstr(msg, "tuning for batch"))
        batch_switches++;
    if (level == BZ_LOG_WARN) {
        warnings_seen++;
        fprintf(stderr, "(logged) %s\n", msg);
    }
}

static bz_context *open_with(const char *tuning_file)
{
    bz_context_options o;
    bz_context_options_init(&o);
    o.tuning_file = tuning_file;
    o.log = count_log;
    o.log_level = BZ_LOG_INFO; /* the batch switches are counted from their messages */
    bz_context *ctx = NULL;
    bz_status st = bz_context_create(&o, &ctx);
    if (st == BZ_E_NO_PLATFORM || st == BZ_E_NO_DEVICE) {
        fprintf(stderr, "skipping: no OpenCL device (%s)\n", bz_last_error(ctx));
        bz_context_free(ctx);
        exit(77);
    }
    if (st != BZ_OK)
        fprintf(stderr, "context: %s: %s\n", bz_strerror(st), bz_last_error(ctx));
    assert_int_equal(st, BZ_OK);
    return ctx;
}

static float rnd(uint64_t *s)
{
    return (float)((bz_space_rand(s) >> 40) & 0xFFFFFF) / 8388608.0f - 1.0f;
}

/* One product through the engine against the reference; returns the error. */
static double product_error(bz_context *ctx, bool ta, bool tb, size_t m, size_t n, size_t k)
{
    size_t na = m * k, nb = k * n, nc = m * n;
    size_t lda = ta ? m : k, ldb = tb ? k : n;
    float *a = malloc(na * 4), *b = malloc(nb * 4), *c = malloc(nc * 4), *r = malloc(nc * 4);
    assert_non_null(a);
    assert_non_null(b);
    assert_non_null(c);
    assert_non_null(r);
    uint64_t s = m * 1000003 + n * 101 + k + (ta ? 7 : 0) + (tb ? 13 : 0);
    for (size_t i = 0; i < na; i++)
        a[i] = rnd(&s);
    for (size_t i = 0; i < nb; i++)
        b[i] = rnd(&s);
    for (size_t i = 0; i < nc; i++)
        r[i] = rnd(&s);
    bz_buf da = {0}, db = {0}, dc = {0};
    assert_int_equal(bz_buf_alloc(ctx, &da, na), BZ_OK);
    assert_int_equal(bz_buf_alloc(ctx, &db, nb), BZ_OK);
    assert_int_equal(bz_buf_alloc(ctx, &dc, nc), BZ_OK);
    assert_int_equal(bz_buf_write(ctx, &da, 0, a, na), BZ_OK);
    assert_int_equal(bz_buf_write(ctx, &db, 0, b, nb), BZ_OK);
    assert_int_equal(bz_buf_write(ctx, &dc, 0, r, nc), BZ_OK);
    bz_status st = bz_sgemm(ctx, ta, tb, m, n, k, 1.25f, &da, 0, lda, &db, 0, ldb, -0.5f, &dc, 0, n);
    if (st)
        fprintf(stderr, "sgemm: %s\n", bz_last_error(ctx));
    assert_int_equal(st, BZ_OK);
    assert_int_equal(bz_buf_read(ctx, &dc, 0, c, nc), BZ_OK);
    bz_ref_sgemm(ta, tb, m, n, k, 1.25f, a, lda, b, ldb, -0.5f, r, n);
    double err = bz_tune_rel_error(c, r, nc);
    bz_buf_release(&da);
    bz_buf_release(&db);
    bz_buf_release(&dc);
    free(a);
    free(b);
    free(c);
    free(r);
    return err;
}

static const size_t shapes[][3] = {
    {1, 7, 63}, {7, 257, 100}, {63, 100, 257}, {100, 1, 7}, {257, 63, 1}, {257, 257, 100},
};

static void check_all(bz_context *ctx, const char *what)
{
    for (size_t s = 0; s < sizeof shapes / sizeof *shapes; s++)
        for (int tr = 0; tr < 4; tr++) {
            size_t m = shapes[s][0], n = shapes[s][1], k = shapes[s][2];
            double err = product_error(ctx, tr & 1, tr >> 1, m, n, k);
            if (!bz_tune_accept(err, k))
                fprintf(stderr, "%s: %zux%zux%zu trans %d%d: relative error %g\n", what, m, n,
                        k, tr & 1, tr >> 1, err);
            assert_true(bz_tune_accept(err, k));
        }
}

/* A tuned-looking set (wide vectors, big tiles) and the threshold given. */
static void tuned_set(bz_tune_params *p, size_t min_indirect)
{
    bz_tune_params d[8], i[8];
    assert_true(bz_space_seeds(BZ_MODE_DIRECT, d, 8) >= 1);
    assert_true(bz_space_seeds(BZ_MODE_INDIRECT, i, 8) >= 1);
    *p = i[0];
    memcpy(p->v[BZ_TK_XGEMM_DIRECT], d[1].v[BZ_TK_XGEMM_DIRECT], sizeof p->v[0]);
    p->v[BZ_TK_GEMM_ROUTINE][0] = min_indirect;
    p->wg_elementwise = 64;
}

static void tuned_parameters_give_reference_results(void **state)
{
    (void)state;
    bz_context *ctx = open_with("off");
    assert_non_null(strstr(ctx->tuning_source, "none"));
    static const struct {
        const char *what;
        size_t min_indirect;
    } paths[] = {
        {"direct path", BZ_FORCE_DIRECT},
        {"indirect path", BZ_FORCE_INDIRECT},
    };
    for (size_t p = 0; p < sizeof paths / sizeof *paths; p++) {
        bz_tune_params tp;
        tuned_set(&tp, paths[p].min_indirect);
        char why[256] = "";
        assert_int_equal(bz_tuning_apply_params(ctx, &tp, why, sizeof why), 0);
        assert_int_equal(ctx->wg_elementwise, 64);
        check_all(ctx, paths[p].what);
    }
    bz_context_free(ctx);
}

static void runs_with_a_damaged_tuning_file(void **state)
{
    (void)state;
    char path[] = "/tmp/bz-tuning-cl-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "w");
    assert_non_null(f);
    /* a broken line, then an entry whose Xgemm tile cannot fit any device's
     * local memory: refused, the rest applied */
    fprintf(f, "{\"device\": \"*\", oops\n"
               "{\"device\":\"*\",\"driver\":\"*\",\"clblast\":{\"Xgemm\":{\"GEMMK\":0,"
               "\"KREG\":1,\"KWG\":32,\"KWI\":2,\"MDIMA\":8,\"MDIMC\":8,\"MWG\":65536,"
               "\"NDIMB\":8,\"NDIMC\":8,\"NWG\":64,\"SA\":1,\"SB\":0,\"STRM\":0,\"STRN\":0,"
               "\"VWM\":8,\"VWN\":8},\"GemmRoutine\":{\"XGEMM_MIN_INDIRECT_SIZE\":64}}}\n");
    fclose(f);
    warnings_seen = 0;
    bz_context *ctx = open_with(path);
    assert_true(warnings_seen >= 2); /* the bad line and the refused kernel */
    assert_non_null(strstr(ctx->tuning_source, path));
    assert_non_null(strstr(ctx->tuning_source, "partly applied"));
    double err = product_error(ctx, false, true, 100, 257, 63);
    assert_true(bz_tune_accept(err, 63));
    bz_context_free(ctx);
    unlink(path);
}

/* Writes one entry line for every device: params, for batch (0: none). */
static void put_entry(FILE *f, const bz_tune_params *p, size_t batch)
{
    bz_tuning_entry e;
    memset(&e, 0, sizeof e);
    snprintf(e.device, sizeof e.device, "*");
    snprintf(e.vendor, sizeof e.vendor, "*");
    snprintf(e.driver, sizeof e.driver, "*");
    snprintf(e.type, sizeof e.type, "*");
    snprintf(e.version, sizeof e.version, "*");
    e.batch = batch;
    e.params = *p;
    char *line = bz_tuning_entry_format(&e, NULL);
    assert_non_null(line);
    fprintf(f, "%s\n", line);
    free(line);
}

/* The device's entry sends every product down the direct path, the batch-32
 * entry down the indirect one with other tiles, and the batch-64 entry asks
 * for a tile no device holds: switching between them keeps every product at
 * the reference, a second context's entry is put back before a switch, and
 * the impossible kernel is refused with a warning. */
static void batch_entries_switch_with_reference_results(void **state)
{
    (void)state;
    char path[] = "/tmp/bz-tuning-batch-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "w");
    assert_non_null(f);
    bz_tune_params base, b32, b64;
    tuned_set(&base, BZ_FORCE_DIRECT);
    memset(&b32, 0, sizeof b32);
    bz_tune_params seeds[8];
    assert_true(bz_space_seeds(BZ_MODE_INDIRECT, seeds, 8) >= 2);
    b32.has[BZ_TK_XGEMM] = b32.has[BZ_TK_GEMM_ROUTINE] = true;
    memcpy(b32.v[BZ_TK_XGEMM], seeds[1].v[BZ_TK_XGEMM], sizeof b32.v[0]);
    b32.v[BZ_TK_GEMM_ROUTINE][0] = BZ_FORCE_INDIRECT;
    b64 = b32;
    bz_tp_set(&b64, BZ_TK_XGEMM, "MWG", 65536);
    bz_tp_set(&b64, BZ_TK_XGEMM, "SA", 1);
    put_entry(f, &base, 0);
    put_entry(f, &b32, 32);
    put_entry(f, &b64, 64);
    fclose(f);

    warnings_seen = batch_switches = 0;
    bz_context *ctx = open_with(path);
    assert_int_equal(warnings_seen, 0);
    assert_non_null(ctx->tuning);
    assert_int_equal(ctx->tuning->n_batches, 2);
    assert_int_equal(ctx->tuning->applied, -1);
    static const size_t probe[][3] = {{32, 257, 100}, {100, 63, 32}, {7, 33, 257}};
    for (int round = 0; round < 2; round++) {
        for (size_t batch = 32; batch <= 100; batch += 68) {
            assert_int_equal(bz_gemm_use_batch(ctx, batch), BZ_OK);
            assert_int_equal(ctx->tuning->applied,
                             batch == 32 ? (ctx->tuning->batches[0].batch == 32 ? 0 : 1) : -1);
            for (size_t s = 0; s < sizeof probe / sizeof *probe; s++)
                for (int tr = 0; tr < 4; tr++) {
                    double err = product_error(ctx, tr & 1, tr >> 1, probe[s][0], probe[s][1],
                                               probe[s][2]);
                    assert_true(bz_tune_accept(err, probe[s][2]));
                }
        }
    }
    assert_int_equal(batch_switches, 2); /* to 32, once per round */
    assert_int_equal(bz_gemm_use_batch(ctx, 100), BZ_OK);
    assert_int_equal(batch_switches, 2); /* nothing to do: no message */

    /* another context on the device applies its entry; the first one's next
     * switch lays its batch entry on again */
    assert_int_equal(bz_gemm_use_batch(ctx, 32), BZ_OK);
    assert_int_equal(batch_switches, 3);
    bz_context *other = open_with(path);
    assert_int_equal(bz_gemm_use_batch(ctx, 32), BZ_OK);
    assert_int_equal(batch_switches, 4);
    bz_context_free(other);

    /* the impossible tile: refused with a warning, products still right */
    warnings_seen = 0;
    assert_int_equal(bz_gemm_use_batch(ctx, 64), BZ_OK);
    assert_true(warnings_seen >= 1);
    double err = product_error(ctx, false, true, 64, 257, 100);
    assert_true(bz_tune_accept(err, 100));
    bz_context_free(ctx);
    unlink(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(tuned_parameters_give_reference_results),
        cmocka_unit_test(runs_with_a_damaged_tuning_file),
        cmocka_unit_test(batch_entries_switch_with_reference_results),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
