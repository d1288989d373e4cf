/* IDX reader: formats, gzip, and every rejection path. */
#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <cmocka.h>

#include "io/idx.h"
#include "io_test_util.h"

#include <math.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>

static int setup(void **state)
{
    *state = tu_mkdtemp();
    return 0;
}

static int teardown(void **state)
{
    tu_rmtree(*state);
    return 0;
}

static const uint8_t pixels[12] = {0, 1, 2, 3, 10, 20, 30, 40, 255, 254, 128, 7};
static const uint32_t dims3[3] = {3, 2, 2};

static void check_pixels(const bz_idx *idx)
{
    assert_int_equal(idx->type, BZ_IDX_U8);
    assert_int_equal(idx->ndim, 3);
    assert_int_equal(idx->dims[0], 3);
    assert_int_equal(idx->dims[1], 2);
    assert_int_equal(idx->dims[2], 2);
    assert_int_equal(idx->count, 12);
    for (int i = 0; i < 12; i++)
        assert_true(idx->data[i] == (float)pixels[i]);
}

static void test_raw_file_round_trip(void **state)
{
    size_t n;
    uint8_t *b = tu_idx(BZ_IDX_U8, 3, dims3, pixels, sizeof pixels, &n);
    char *path = tu_join(*state, "x-images-idx3-ubyte");
    tu_write_file(path, b, n);
    bz_idx idx;
    bz_error err = {0};
    assert_int_equal(bz_idx_load(path, &idx, &err), BZ_OK);
    check_pixels(&idx);
    bz_idx_free(&idx);
    assert_null(idx.data);
    free(path);
    free(b);
}

static void test_gzip_file_and_memory(void **state)
{
    size_t n, gn;
    uint8_t *b = tu_idx(BZ_IDX_U8, 3, dims3, pixels, sizeof pixels, &n);
    uint8_t *gz = tu_gzip(b, n, &gn);
    char *path = tu_join(*state, "x.gz");
    tu_write_file(path, gz, gn);
    bz_idx idx;
    bz_error err = {0};
    assert_int_equal(bz_idx_load(path, &idx, &err), BZ_OK);
    check_pixels(&idx);
    bz_idx_free(&idx);
    assert_int_equal(bz_idx_parse(gz, gn, "mem.gz", &idx, &err), BZ_OK);
    check_pixels(&idx);
    bz_idx_free(&idx);

    /* Two concatenated gzip members decode as one stream (as gzread does). */
    size_t g1, g2;
    uint8_t *m1 = tu_gzip(b, 10, &g1);
    uint8_t *m2 = tu_gzip(b + 10, n - 10, &g2);
    uint8_t *cat = malloc(g1 + g2);
    memcpy(cat, m1, g1);
    memcpy(cat + g1, m2, g2);
    assert_int_equal(bz_idx_parse(cat, g1 + g2, "cat.gz", &idx, &err), BZ_OK);
    check_pixels(&idx);
    bz_idx_free(&idx);
    free(cat);
    free(m1);
    free(m2);
    free(path);
    free(gz);
    free(b);
}

static void put_be(uint8_t *p, uint64_t v, int bytes)
{
    for (int i = 0; i < bytes; i++)
        p[i] = (uint8_t)(v >> (8 * (bytes - 1 - i)));
}

static void test_all_element_types(void **state)
{
    (void)state;
    const uint32_t d[1] = {3};
    bz_idx idx;
    bz_error err = {0};
    size_t n;
    uint8_t *b;

    const uint8_t i8[3] = {0x80, 0xff, 0x7f};
    b = tu_idx(BZ_IDX_I8, 1, d, i8, 3, &n);
    assert_int_equal(bz_idx_parse(b, n, "i8", &idx, &err), BZ_OK);
    assert_true(idx.data[0] == -128.0f && idx.data[1] == -1.0f && idx.data[2] == 127.0f);
    bz_idx_free(&idx);
    free(b);

    uint8_t i16[6];
    put_be(i16, (uint16_t)-300, 2);
    put_be(i16 + 2, 0x7fff, 2);
    put_be(i16 + 4, 5, 2);
    b = tu_idx(BZ_IDX_I16, 1, d, i16, 6, &n);
    assert_int_equal(bz_idx_parse(b, n, "i16", &idx, &err), BZ_OK);
    assert_true(idx.data[0] == -300.0f && idx.data[1] == 32767.0f && idx.data[2] == 5.0f);
    bz_idx_free(&idx);
    free(b);

    uint8_t i32[12];
    put_be(i32, (uint32_t)-70000, 4);
    put_be(i32 + 4, 16777216, 4);
    put_be(i32 + 8, 1, 4);
    b = tu_idx(BZ_IDX_I32, 1, d, i32, 12, &n);
    assert_int_equal(bz_idx_parse(b, n, "i32", &idx, &err), BZ_OK);
    assert_true(idx.data[0] == -70000.0f && idx.data[1] == 16777216.0f && idx.data[2] == 1.0f);
    bz_idx_free(&idx);
    free(b);

    const float fv[3] = {-1.5f, 3.25e-5f, 1e30f};
    uint8_t f32[12];
    for (int i = 0; i < 3; i++) {
        uint32_t u;
        memcpy(&u, &fv[i], 4);
        put_be(f32 + 4 * i, u, 4);
    }
    b = tu_idx(BZ_IDX_F32, 1, d, f32, 12, &n);
    assert_int_equal(bz_idx_parse(b, n, "f32", &idx, &err), BZ_OK);
    assert_int_equal(idx.type, BZ_IDX_F32);
    for (int i = 0; i < 3; i++)
        assert_true(idx.data[i] == fv[i]);
    bz_idx_free(&idx);
    free(b);

    const double dv[3] = {-2.5, 0.125, 1e-3};
    uint8_t f64[24];
    for (int i = 0; i < 3; i++) {
        uint64_t u;
        memcpy(&u, &dv[i], 8);
        put_be(f64 + 8 * i, u, 8);
    }
    b = tu_idx(BZ_IDX_F64, 1, d, f64, 24, &n);
    assert_int_equal(bz_idx_parse(b, n, "f64", &idx, &err), BZ_OK);
    for (int i = 0; i < 3; i++)
        assert_true(idx.data[i] == (float)dv[i]);
    bz_idx_free(&idx);

    /* A double beyond the float range is an error, not a silent Inf. */
    double big = 1e300;
    uint64_t u;
    memcpy(&u, &big, 8);
    put_be(b + 8 + 8, u, 8);
    assert_int_equal(bz_idx_parse(b, n, "big.idx", &idx, &err), BZ_E_FORMAT);
    assert_true(tu_has(err.msg, "big.idx: offset 16: element 1"));
    assert_true(tu_has(err.msg, "float32 range"));
    assert_null(idx.data);
    free(b);
}

static void test_truncated(void **state)
{
    size_t n;
    uint8_t *b = tu_idx(BZ_IDX_U8, 3, dims3, pixels, 10, &n); /* 2 bytes short */
    char *path = tu_join(*state, "short-images-idx3-ubyte");
    tu_write_file(path, b, n);
    bz_idx idx;
    bz_error err = {0};
    assert_int_equal(bz_idx_load(path, &idx, &err), BZ_E_FORMAT);
    assert_int_equal(err.status, BZ_E_FORMAT);
    assert_true(tu_has(err.msg, path));
    assert_true(tu_has(err.msg, "truncated"));
    assert_true(tu_has(err.msg, "expected 12 data bytes"));
    assert_true(tu_has(err.msg, "found 10"));
    assert_null(idx.data);

    /* Header cut short. */
    assert_int_equal(bz_idx_parse(b, 9, "h.idx", &idx, &err), BZ_E_FORMAT);
    assert_true(tu_has(err.msg, "h.idx: truncated header: expected 16 bytes for 3 dimensions, "
                                "found 9"));
    assert_int_equal(bz_idx_parse(b, 2, "m.idx", &idx, &err), BZ_E_FORMAT);
    assert_true(tu_has(err.msg, "found 2 bytes"));
    assert_int_equal(bz_idx_parse(b, 0, "empty.idx", &idx, &err), BZ_E_FORMAT);
    assert_true(tu_has(err.msg, "empty.idx"));

    /* Truncated gzip stream. */
    size_t full, gn;
    uint8_t *ok = tu_idx(BZ_IDX_U8, 3, dims3, pixels, 12, &full);
    uint8_t *gz = tu_gzip(ok, full, &gn);
    assert_int_equal(bz_idx_parse(gz, gn - 6, "t.gz", &idx, &err), BZ_E_FORMAT);
    assert_true(tu_has(err.msg, "t.gz: gzip stream truncated"));
    /* Garbage after the gzip stream. */
    uint8_t *gz2 = malloc(gn + 3);
    memcpy(gz2, gz, gn);
    memcpy(gz2 + gn, "abc", 3);
    assert_int_equal(bz_idx_parse(gz2, gn + 3, "g.gz", &idx, &err), BZ_E_FORMAT);
    assert_true(tu_has(err.msg, "3 trailing bytes after the gzip stream"));
    /* Corrupt deflate data. */
    gz2[12] ^= 0xff;
    gz2[13] ^= 0x55;
    assert_int_equal(bz_idx_parse(gz2, gn, "c.gz", &idx, &err), BZ_E_FORMAT);
    assert_true(tu_has(err.msg, "c.gz"));
    free(gz2);
    free(gz);
    free(ok);
    free(path);
    free(b);
}

static void test_bad_magic_and_type(void **state)
{
    (void)state;
    bz_idx idx;
    bz_error err = {0};
    const uint8_t png[16] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    assert_int_equal(bz_idx_parse(png, sizeof png, "pic.png", &idx, &err), BZ_E_FORMAT);
    assert_true(tu_has(err.msg, "pic.png: offset 0: not an IDX file: magic 89 50 4e 47"));

    const uint8_t badtype[8] = {0, 0, 0x07, 1, 0, 0, 0, 0};
    assert_int_equal(bz_idx_parse(badtype, 8, "t.idx", &idx, &err), BZ_E_FORMAT);
    assert_true(tu_has(err.msg, "t.idx: offset 2: unknown IDX element type 0x07"));

    const uint8_t nodims[4] = {0, 0, 8, 0};
    assert_int_equal(bz_idx_parse(nodims, 4, "z.idx", &idx, &err), BZ_E_FORMAT);
    assert_true(tu_has(err.msg, "offset 3: IDX dimension count is 0"));

    const uint8_t manydims[4] = {0, 0, 8, 9};
    assert_int_equal(bz_idx_parse(manydims, 4, "m.idx", &idx, &err), BZ_E_FORMAT);
    assert_true(tu_has(err.msg, "9 dimensions, at most 8"));
}

static void test_dims_overflow_and_zero(void **state)
{
    (void)state;
    bz_idx idx;
    bz_error err = {0};
    size_t n;
    const uint32_t huge[4] = {0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu};
    uint8_t *b = tu_idx(BZ_IDX_U8, 4, huge, NULL, 0, &n);
    assert_int_equal(bz_idx_parse(b, n, "o.idx", &idx, &err), BZ_E_FORMAT);
    assert_true(tu_has(err.msg, "o.idx: offset"));
    assert_true(tu_has(err.msg, "overflow"));
    free(b);

    /* Product fits in size_t but not once multiplied by the element size. */
    const uint32_t big2[2] = {0x80000000u, 0x80000000u};
    b = tu_idx(BZ_IDX_F64, 2, big2, NULL, 0, &n);
    assert_int_equal(bz_idx_parse(b, n, "o2.idx", &idx, &err), BZ_E_FORMAT);
    assert_true(tu_has(err.msg, "overflow"));
    free(b);

    /* Declared size far larger than the data: truncated, nothing huge allocated. */
    const uint32_t big1[1] = {0xffffffffu};
    b = tu_idx(BZ_IDX_I32, 1, big1, "abcd", 4, &n);
    assert_int_equal(bz_idx_parse(b, n, "t.idx", &idx, &err), BZ_E_FORMAT);
    assert_true(tu_has(err.msg, "expected 17179869180 data bytes"));
    assert_true(tu_has(err.msg, "found 4"));
    free(b);

    const uint32_t zero[3] = {3, 0, 2};
    b = tu_idx(BZ_IDX_U8, 3, zero, NULL, 0, &n);
    assert_int_equal(bz_idx_parse(b, n, "z.idx", &idx, &err), BZ_E_FORMAT);
    assert_true(tu_has(err.msg, "z.idx: offset 8: dimension 1 is zero"));
    free(b);
}

static void test_trailing_bytes(void **state)
{
    (void)state;
    uint8_t payload[15];
    memcpy(payload, pixels, 12);
    memcpy(payload + 12, "xyz", 3);
    size_t n;
    uint8_t *b = tu_idx(BZ_IDX_U8, 3, dims3, payload, sizeof payload, &n);
    bz_idx idx;
    bz_error err = {0};
    assert_int_equal(bz_idx_parse(b, n, "tr.idx", &idx, &err), BZ_E_FORMAT);
    assert_true(tu_has(err.msg, "tr.idx: offset 28: 3 trailing bytes"));
    assert_null(idx.data);
    free(b);
}

static void test_missing_file(void **state)
{
    char *path = tu_join(*state, "does-not-exist.idx");
    bz_idx idx;
    bz_error err = {0};
    assert_int_equal(bz_idx_load(path, &idx, &err), BZ_E_IO);
    assert_true(tu_has(err.msg, path));
    assert_true(tu_has(err.msg, "No such file or directory"));
    assert_int_equal(bz_idx_load(*state, &idx, &err), BZ_E_IO);
    assert_true(tu_has(err.msg, "is a directory"));
    free(path);
}

/* A gzip bomb: a header declaring 300 images of 28x28 followed by 64 MiB
 * of zeros. Decompression stops right after the 235,216 declared bytes
 * (the old reader inflated the whole stream, then found trailing bytes). */
static void test_gzip_bomb_stops_at_declared_size(void **state)
{
    (void)state;
    const size_t extra = (size_t)64 << 20;
    const uint32_t dims[3] = {300, 28, 28};
    size_t payload = 300 * 28 * 28, n;
    uint8_t *zeros = calloc(payload + extra, 1);
    assert_non_null(zeros);
    uint8_t *b = tu_idx(BZ_IDX_U8, 3, dims, zeros, payload, &n);
    uint8_t *all = malloc(n + extra);
    memcpy(all, b, n);
    memset(all + n, 0, extra);
    size_t gn;
    uint8_t *gz = tu_gzip(all, n + extra, &gn);
    free(all);
    free(b);
    free(zeros);
    bz_idx idx;
    bz_error err = {0};
    assert_int_equal(bz_idx_parse(gz, gn, "bomb.gz", &idx, &err), BZ_E_FORMAT);
    assert_true(tu_has(err.msg, "exceeds the 235216 bytes its IDX header declares"));
    free(gz);
}

/* A header claiming more than memory holds is refused before inflating. */
static void test_gzip_declared_size_checked_against_memory(void **state)
{
    (void)state;
    const uint32_t dims[3] = {10000, 28, 28};
    uint8_t *px = calloc(10000 * 28 * 28, 1);
    size_t n, gn;
    uint8_t *b = tu_idx(BZ_IDX_U8, 3, dims, px, 10000 * 28 * 28, &n);
    uint8_t *gz = tu_gzip(b, n, &gn);
    bz_idx idx;
    bz_error err = {0};
    setenv("BOLTZCL_TEST_MEM_AVAILABLE", "1000000", 1);
    assert_int_equal(bz_idx_parse(gz, gn, "big.gz", &idx, &err), BZ_E_NOMEM);
    assert_true(tu_has(err.msg, "more than the 1000000 bytes of memory available"));
    setenv("BOLTZCL_TEST_MEM_AVAILABLE", "100000000", 1);
    assert_int_equal(bz_idx_parse(gz, gn, "big.gz", &idx, &err), BZ_OK);
    bz_idx_free(&idx);
    unsetenv("BOLTZCL_TEST_MEM_AVAILABLE");
    free(gz);
    free(b);
    free(px);
}

static void on_alarm(int sig)
{
    (void)sig;
    fail_msg("reading a FIFO blocked");
}

/* A FIFO or a device as input is refused at once: no blocking on a FIFO
 * without a writer, no endless read of a zero device. */
static void test_non_regular_inputs_refused(void **state)
{
    signal(SIGALRM, on_alarm);
    alarm(10);
    char *fifo = tu_join(*state, "fifo");
    assert_int_equal(mkfifo(fifo, 0600), 0);
    bz_idx idx;
    bz_error err = {0};
    assert_int_equal(bz_idx_load(fifo, &idx, &err), BZ_E_IO);
    assert_true(tu_has(err.msg, "is a FIFO"));
    char *zero = tu_join(*state, "zero");
    if (mknod(zero, S_IFCHR | 0666, makedev(1, 5)) == 0) {
        assert_int_equal(bz_idx_load(zero, &idx, &err), BZ_E_IO);
        assert_true(tu_has(err.msg, "is a character device"));
    } else {
        print_message("mknod not permitted here: device case not run\n");
    }
    alarm(0);
    free(fifo);
    free(zero);
}

/* Every truncation and many random corruptions must fail cleanly. */
static void test_robust_to_corruption(void **state)
{
    (void)state;
    size_t n, gn;
    uint8_t *b = tu_idx(BZ_IDX_U8, 3, dims3, pixels, sizeof pixels, &n);
    uint8_t *gz = tu_gzip(b, n, &gn);
    bz_idx idx;
    bz_error err;
    for (size_t len = 0; len < n; len++)
        assert_int_equal(bz_idx_parse(b, len, "cut", &idx, &err), BZ_E_FORMAT);
    for (size_t len = 0; len < gn; len++)
        assert_int_equal(bz_idx_parse(gz, len, "cut.gz", &idx, &err), BZ_E_FORMAT);
    uint64_t rng = 42;
    uint8_t *m = malloc(gn > n ? gn : n);
    for (int it = 0; it < 20000; it++) {
        const uint8_t *src = (it & 1) ? gz : b;
        size_t len = (it & 1) ? gn : n;
        memcpy(m, src, len);
        int flips = 1 + (int)(tu_rand(&rng) % 4);
        for (int f = 0; f < flips; f++)
            m[tu_rand(&rng) % len] ^= (uint8_t)(1u << (tu_rand(&rng) % 8));
        bz_status st = bz_idx_parse(m, len, "fuzz", &idx, &err);
        /* A gzip'd header whose flipped sizes claim more than memory holds
         * is refused before inflating (BZ_E_NOMEM). */
        assert_true(st == BZ_OK || st == BZ_E_FORMAT || ((it & 1) && st == BZ_E_NOMEM));
        if (st == BZ_OK) {
            assert_non_null(idx.data);
            bz_idx_free(&idx);
        } else {
            assert_null(idx.data);
        }
    }
    free(m);
    free(gz);
    free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_raw_file_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_gzip_file_and_memory, setup, teardown),
        cmocka_unit_test(test_all_element_types),
        cmocka_unit_test_setup_teardown(test_truncated, setup, teardown),
        cmocka_unit_test(test_bad_magic_and_type),
        cmocka_unit_test(test_dims_overflow_and_zero),
        cmocka_unit_test(test_trailing_bytes),
        cmocka_unit_test_setup_teardown(test_missing_file, setup, teardown),
        cmocka_unit_test(test_robust_to_corruption),
        cmocka_unit_test(test_gzip_bomb_stops_at_declared_size),
        cmocka_unit_test(test_gzip_declared_size_checked_against_memory),
        cmocka_unit_test_setup_teardown(test_non_regular_inputs_refused, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
