/* safetensors writer and strict reader. */
#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <cmocka.h>

#include "io/safetensors.h"
#include "io_test_util.h"

#include <stdio.h>
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

/* 8-byte LE length + header text + data. */
static uint8_t *make_st(const char *json, const void *data, size_t dlen, size_t *len)
{
    size_t h = strlen(json);
    uint8_t *b = malloc(8 + h + dlen + 1);
    for (int i = 0; i < 8; i++)
        b[i] = (uint8_t)((uint64_t)h >> (8 * i));
    memcpy(b + 8, json, h);
    if (dlen)
        memcpy(b + 8 + h, data, dlen);
    *len = 8 + h + dlen;
    return b;
}

static bz_status parse_json(const char *json, size_t dlen, bz_error *err)
{
    uint8_t data[256] = {0};
    size_t n;
    uint8_t *b = make_st(json, data, dlen, &n);
    bz_st_file *f = NULL;
    bz_status st = bz_st_parse(b, n, "m.safetensors", &f, err);
    if (st == BZ_OK)
        assert_non_null(f);
    else
        assert_null(f);
    bz_st_close(f);
    free(b);
    return st;
}

static void test_round_trip(void **state)
{
    const float w[6] = {1, -2, 3.5f, 4, 5e-8f, -6e7f};
    const float b[2] = {0.25f, -0.5f};
    const int32_t counts[4] = {1, -2, 3, 2147483647};
    const double d[2] = {1.0 / 3.0, -1e300};
    const float scalar = 42.0f;
    const size_t sw[2] = {3, 2}, sb[1] = {2}, sc[1] = {4}, sd[1] = {2}, se[2] = {0, 5};
    bz_st_writer *wr;
    bz_error err = {0};
    assert_int_equal(bz_st_writer_create(&wr, &err), BZ_OK);
    assert_int_equal(bz_st_writer_add(wr, "W", BZ_ST_F32, 2, sw, w, 0, &err), BZ_OK);
    assert_int_equal(bz_st_writer_add(wr, "vbias", BZ_ST_F32, 1, sb, b, 1, &err), BZ_OK);
    assert_int_equal(bz_st_writer_add(wr, "counts", BZ_ST_I32, 1, sc, counts, 1, &err), BZ_OK);
    assert_int_equal(bz_st_writer_add(wr, "d", BZ_ST_F64, 1, sd, d, 1, &err), BZ_OK);
    assert_int_equal(bz_st_writer_add(wr, "s", BZ_ST_F32, 0, NULL, &scalar, 1, &err), BZ_OK);
    assert_int_equal(bz_st_writer_add(wr, "empty", BZ_ST_F32, 2, se, NULL, 0, &err), BZ_OK);
    assert_int_equal(bz_st_writer_set_meta(wr, "model", "rbm", &err), BZ_OK);
    assert_int_equal(bz_st_writer_set_meta(wr, "epochs", "3", &err), BZ_OK);
    assert_int_equal(bz_st_writer_set_meta(wr, "epochs", "10", &err), BZ_OK); /* replaces */
    assert_int_equal(bz_st_writer_set_meta(wr, "note", "quote \" slash / \xc3\xa9", &err),
                     BZ_OK);
    char *path = tu_join(*state, "m.safetensors");
    assert_int_equal(bz_st_writer_write(wr, path, &err), BZ_OK);
    bz_st_writer_free(wr);
    assert_int_equal(tu_count_temp_files(*state), 0);

    bz_st_file *f;
    assert_int_equal(bz_st_open(path, &f, &err), BZ_OK);
    assert_int_equal(bz_st_count(f), 6);
    const bz_st_tensor *t = bz_st_find(f, "W");
    assert_non_null(t);
    assert_int_equal(t->dtype, BZ_ST_F32);
    assert_int_equal(t->ndim, 2);
    assert_int_equal(t->shape[0], 3);
    assert_int_equal(t->shape[1], 2);
    assert_int_equal(t->numel, 6);
    assert_int_equal(t->nbytes, 24);
    assert_memory_equal(t->data, w, sizeof w);
    assert_int_equal(t->offset % 4, 0);
    t = bz_st_find(f, "counts");
    assert_int_equal(t->dtype, BZ_ST_I32);
    assert_memory_equal(t->data, counts, sizeof counts);
    t = bz_st_find(f, "d");
    assert_int_equal(t->dtype, BZ_ST_F64);
    assert_int_equal(t->offset % 8, 0);
    assert_memory_equal(t->data, d, sizeof d);
    t = bz_st_find(f, "s");
    assert_int_equal(t->ndim, 0);
    assert_int_equal(t->numel, 1);
    assert_memory_equal(t->data, &scalar, 4);
    t = bz_st_find(f, "empty");
    assert_int_equal(t->numel, 0);
    assert_int_equal(t->shape[1], 5);
    assert_null(bz_st_find(f, "nope"));
    assert_string_equal(bz_st_meta(f, "model"), "rbm");
    assert_string_equal(bz_st_meta(f, "epochs"), "10");
    assert_string_equal(bz_st_meta(f, "note"), "quote \" slash / \xc3\xa9");
    assert_null(bz_st_meta(f, "missing"));
    assert_int_equal(bz_st_meta_count(f), 3);

    float got[2];
    assert_int_equal(bz_st_read_f32(f, "vbias", 1, sb, got, &err), BZ_OK);
    assert_memory_equal(got, b, sizeof b);
    const size_t wrong[1] = {3};
    assert_int_equal(bz_st_read_f32(f, "vbias", 1, wrong, got, &err), BZ_E_SHAPE);
    assert_true(tu_has(err.msg, "tensor 'vbias' has shape [2], expected [3]"));
    assert_int_equal(bz_st_read_f32(f, "counts", 0, NULL, NULL, &err), BZ_E_FORMAT);
    assert_true(tu_has(err.msg, "tensor 'counts' has dtype I32, expected F32"));
    assert_int_equal(bz_st_read_f32(f, "hbias", 0, NULL, NULL, &err), BZ_E_FORMAT);
    assert_true(tu_has(err.msg, "m.safetensors: tensor 'hbias' not found"));
    bz_st_close(f);
    free(path);
}

/* The exact layout the Python/Rust reference produces and reads. */
static void test_reference_layout(void **state)
{
    (void)state;
    const float w[4] = {1, 2, 3, 4};
    const double d[1] = {0.5};
    const size_t s22[2] = {2, 2}, s1[1] = {1};
    bz_st_writer *wr;
    bz_error err = {0};
    assert_int_equal(bz_st_writer_create(&wr, &err), BZ_OK);
    assert_int_equal(bz_st_writer_add(wr, "W", BZ_ST_F32, 2, s22, w, 0, &err), BZ_OK);
    assert_int_equal(bz_st_writer_add(wr, "a/d", BZ_ST_F64, 1, s1, d, 0, &err), BZ_OK);
    assert_int_equal(bz_st_writer_set_meta(wr, "format", "pt", &err), BZ_OK);
    uint8_t *buf;
    size_t len;
    assert_int_equal(bz_st_writer_to_memory(wr, &buf, &len, &err), BZ_OK);
    bz_st_writer_free(wr);

    const char *json = "{\"__metadata__\":{\"format\":\"pt\"},"
                       "\"a/d\":{\"dtype\":\"F64\",\"shape\":[1],\"data_offsets\":[0,8]},"
                       "\"W\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[8,24]}}";
    size_t jl = strlen(json), padded = (jl + 7) / 8 * 8;
    uint64_t n = 0;
    for (int i = 7; i >= 0; i--)
        n = n << 8 | buf[i];
    assert_int_equal(n, padded);
    assert_int_equal(len, 8 + padded + 24);
    assert_memory_equal(buf + 8, json, jl);
    for (size_t i = jl; i < padded; i++)
        assert_int_equal(buf[8 + i], ' ');
    assert_memory_equal(buf + 8 + padded, d, 8);
    assert_memory_equal(buf + 8 + padded + 8, w, 16);
    free(buf);
}

static void test_not_safetensors(void **state)
{
    (void)state;
    bz_error err = {0};
    bz_st_file *f = NULL;
    uint8_t rnd[100];
    uint64_t rng = 1;
    for (int i = 0; i < 100; i++)
        rnd[i] = (uint8_t)tu_rand(&rng);
    rnd[7] = 0x40; /* make the length clearly huge */
    assert_int_equal(bz_st_parse(rnd, sizeof rnd, "r.bin", &f, &err), BZ_E_FORMAT);
    assert_true(tu_has(err.msg, "r.bin: not a safetensors file: header length"));
    assert_true(tu_has(err.msg, "exceeds file size 100"));
    assert_null(f);

    const uint8_t png[24] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0, 0, 13, 'I', 'H'};
    assert_int_equal(bz_st_parse(png, sizeof png, "x.png", &f, &err), BZ_E_FORMAT);
    assert_true(tu_has(err.msg, "x.png: not a safetensors file"));

    assert_int_equal(bz_st_parse("abc", 3, "short", &f, &err), BZ_E_FORMAT);
    assert_true(tu_has(err.msg, "short: not a safetensors file: 3 bytes"));

    /* The exact message for a length beyond the file. */
    uint8_t hb[100] = {0};
    uint64_t big = 1234567;
    for (int i = 0; i < 8; i++)
        hb[i] = (uint8_t)(big >> (8 * i));
    assert_int_equal(bz_st_parse(hb, sizeof hb, "h", &f, &err), BZ_E_FORMAT);
    assert_string_equal(err.msg,
                        "h: not a safetensors file: header length 1234567 exceeds file size 100");

    /* A header that is not a JSON object. */
    assert_int_equal(parse_json("[1,2]   ", 0, &err), BZ_E_FORMAT);
    assert_true(tu_has(err.msg, "offset 8: expected a JSON header starting with '{'"));
}

static void test_truncated_file(void **state)
{
    char *path = tu_join(*state, "t.safetensors");
    const float w[6] = {1, 2, 3, 4, 5, 6};
    const size_t s[1] = {6};
    bz_st_writer *wr;
    bz_error err = {0};
    bz_st_writer_create(&wr, &err);
    bz_st_writer_add(wr, "W", BZ_ST_F32, 1, s, w, 0, &err);
    uint8_t *buf;
    size_t len;
    assert_int_equal(bz_st_writer_to_memory(wr, &buf, &len, &err), BZ_OK);
    bz_st_writer_free(wr);
    tu_write_file(path, buf, len - 5);
    bz_st_file *f;
    assert_int_equal(bz_st_open(path, &f, &err), BZ_E_FORMAT);
    assert_true(tu_has(err.msg, path));
    assert_true(tu_has(err.msg, "tensor 'W': data_offsets [0, 24] run past the end of the "
                                "19-byte data buffer"));
    /* Cut inside the header. */
    tu_write_file(path, buf, 20);
    assert_int_equal(bz_st_open(path, &f, &err), BZ_E_FORMAT);
    assert_true(tu_has(err.msg, "exceeds file size 20"));
    /* Every truncation fails cleanly; only the full file parses. */
    for (size_t n = 0; n < len; n++)
        assert_int_equal(bz_st_parse(buf, n, "cut", &f, &err), BZ_E_FORMAT);
    assert_int_equal(bz_st_parse(buf, len, "full", &f, &err), BZ_OK);
    bz_st_close(f);
    free(buf);
    free(path);
}

static void test_bad_offsets_and_shapes(void **state)
{
    (void)state;
    bz_error err = {0};
    assert_int_equal(parse_json("{\"W\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}",
                                8, &err),
                     BZ_OK);
    /* Out of range. */
    assert_int_equal(parse_json("{\"W\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}",
                                8, &err),
                     BZ_E_FORMAT);
    assert_true(tu_has(err.msg, "m.safetensors: tensor 'W': data_offsets [0, 16] run past the "
                                "end of the 8-byte data buffer"));
    /* Size mismatch. */
    assert_int_equal(parse_json("{\"W\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}",
                                8, &err),
                     BZ_E_FORMAT);
    assert_true(tu_has(err.msg, "tensor 'W': data_offsets [0, 8] hold 8 bytes, but F32 [3] "
                                "needs 12"));
    /* Overlap. */
    assert_int_equal(
        parse_json("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                   "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}",
                   12, &err),
        BZ_E_FORMAT);
    assert_true(tu_has(err.msg, "tensor 'b' (data_offsets [4, 12]) overlaps tensor 'a'"));
    /* Gap, and bytes left after the last tensor. */
    assert_int_equal(
        parse_json("{\"a\":{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[0,2]},"
                   "\"b\":{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[4,6]}}",
                   6, &err),
        BZ_E_FORMAT);
    assert_true(tu_has(err.msg, "2 unused bytes in the data buffer before tensor 'b'"));
    assert_int_equal(parse_json("{\"a\":{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[0,2]}}",
                                5, &err),
                     BZ_E_FORMAT);
    assert_true(tu_has(err.msg, "3 bytes after the last tensor"));
    /* Reversed, negative, fractional and overflowing numbers. */
    assert_int_equal(parse_json("{\"a\":{\"dtype\":\"U8\",\"shape\":[0],\"data_offsets\":[2,0]}}",
                                2, &err),
                     BZ_E_FORMAT);
    assert_true(tu_has(err.msg, "end before they begin"));
    assert_int_equal(parse_json("{\"a\":{\"dtype\":\"U8\",\"shape\":[-2],\"data_offsets\":[0,2]}}",
                                2, &err),
                     BZ_E_FORMAT);
    assert_true(tu_has(err.msg, "tensor 'a': shape[0] is negative"));
    assert_int_equal(parse_json("{\"a\":{\"dtype\":\"U8\",\"shape\":[2.0],\"data_offsets\":[0,2]}}",
                                2, &err),
                     BZ_E_FORMAT);
    assert_true(tu_has(err.msg, "shape[0] is not an integer"));
    assert_int_equal(parse_json("{\"a\":{\"dtype\":\"F64\",\"shape\":[4294967296,4294967296],"
                                "\"data_offsets\":[0,2]}}",
                                2, &err),
                     BZ_E_FORMAT);
    assert_true(tu_has(err.msg, "overflows the byte count"));
    assert_int_equal(parse_json("{\"a\":{\"dtype\":\"U8\",\"shape\":[2],"
                                "\"data_offsets\":[0,18446744073709551615]}}",
                                2, &err),
                     BZ_E_FORMAT);
    assert_int_equal(parse_json("{\"a\":{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[0]}}",
                                2, &err),
                     BZ_E_FORMAT);
    assert_true(tu_has(err.msg, "data_offsets is not an array [begin, end]"));
    /* Zero-size tensors may share an offset. */
    assert_int_equal(
        parse_json("{\"a\":{\"dtype\":\"U8\",\"shape\":[0],\"data_offsets\":[0,0]},"
                   "\"b\":{\"dtype\":\"U8\",\"shape\":[1,0],\"data_offsets\":[0,0]}}",
                   0, &err),
        BZ_OK);
    assert_int_equal(parse_json("{}", 0, &err), BZ_OK);
}

static void test_bad_entries_and_metadata(void **state)
{
    (void)state;
    bz_error err = {0};
    assert_int_equal(parse_json("{\"__metadata__\":{\"epochs\":10}}", 0, &err), BZ_E_FORMAT);
    assert_true(tu_has(err.msg, "__metadata__ value for key 'epochs' is a JSON int, expected a "
                                "string"));
    assert_int_equal(parse_json("{\"__metadata__\":[\"x\"]}", 0, &err), BZ_E_FORMAT);
    assert_true(tu_has(err.msg, "__metadata__ is a JSON array, expected an object"));
    assert_int_equal(parse_json("{\"__metadata__\":{\"k\":\"v\"}}", 0, &err), BZ_OK);
    assert_int_equal(parse_json("{\"a\":{\"dtype\":\"F33\",\"shape\":[1],\"data_offsets\":[0,4]}}",
                                4, &err),
                     BZ_E_FORMAT);
    assert_true(tu_has(err.msg, "tensor 'a': unknown dtype \"F33\""));
    assert_int_equal(parse_json("{\"a\":{\"shape\":[1],\"data_offsets\":[0,4]}}", 4, &err),
                     BZ_E_FORMAT);
    assert_true(tu_has(err.msg, "tensor 'a': missing \"dtype\""));
    assert_int_equal(parse_json("{\"a\":[1,2]}", 0, &err), BZ_E_FORMAT);
    assert_true(tu_has(err.msg, "tensor 'a': entry is a JSON array, expected an object"));
    assert_int_equal(parse_json("{\"a\":{\"dtype\":\"U8\",\"shape\":[1,1,1,1,1,1,1,1,1],"
                                "\"data_offsets\":[0,1]}}",
                                1, &err),
                     BZ_E_FORMAT);
    assert_true(tu_has(err.msg, "9 dimensions, at most 8"));
    /* Broken JSON, trailing bytes, NUL, invalid UTF-8. */
    assert_int_equal(parse_json("{\"a\":{\"dtype\" \"U8\"}}", 0, &err), BZ_E_FORMAT);
    assert_true(tu_has(err.msg, "invalid JSON header"));
    assert_true(tu_has(err.msg, "m.safetensors: offset 22"));
    assert_int_equal(parse_json("{\"a\":1", 0, &err), BZ_E_FORMAT);
    assert_true(tu_has(err.msg, "ends before its object is complete"));
    assert_int_equal(parse_json("{}   x  ", 0, &err), BZ_E_FORMAT);
    assert_true(tu_has(err.msg, "offset 13: unexpected data after the JSON header"));
    assert_int_equal(parse_json("{}\n \t ", 0, &err), BZ_OK);
    assert_int_equal(parse_json("{\"\xff\":1}", 0, &err), BZ_E_FORMAT);
    assert_int_equal(parse_json("{\"a\":'x'}", 0, &err), BZ_E_FORMAT);
    uint8_t nul[16];
    size_t n;
    uint8_t *b = make_st("{\"a\":\"b\"}", NULL, 0, &n);
    b[12] = 0;
    bz_st_file *f;
    assert_int_equal(bz_st_parse(b, n, "nul", &f, &err), BZ_E_FORMAT);
    assert_true(tu_has(err.msg, "nul: offset 12: NUL byte inside the JSON header"));
    free(b);
    (void)nul;
}

static void test_writer_rejects(void **state)
{
    (void)state;
    bz_st_writer *wr;
    bz_error err = {0};
    const float v[1] = {1};
    const size_t s[1] = {1};
    bz_st_writer_create(&wr, &err);
    assert_int_equal(bz_st_writer_add(wr, "W", BZ_ST_F32, 1, s, v, 0, &err), BZ_OK);
    assert_int_equal(bz_st_writer_add(wr, "W", BZ_ST_F32, 1, s, v, 0, &err), BZ_E_INVALID_ARG);
    assert_true(tu_has(err.msg, "tensor 'W' added twice"));
    assert_int_equal(bz_st_writer_add(wr, "__metadata__", BZ_ST_F32, 1, s, v, 0, &err),
                     BZ_E_INVALID_ARG);
    assert_int_equal(bz_st_writer_add(wr, "", BZ_ST_F32, 1, s, v, 0, &err), BZ_E_INVALID_ARG);
    assert_int_equal(bz_st_writer_add(wr, "\xc3(", BZ_ST_F32, 1, s, v, 0, &err),
                     BZ_E_INVALID_ARG);
    assert_int_equal(bz_st_writer_add(wr, "x", BZ_ST_F32, 9, s, v, 0, &err), BZ_E_INVALID_ARG);
    assert_int_equal(bz_st_writer_add(wr, "x", BZ_ST_F32, 1, s, NULL, 0, &err),
                     BZ_E_INVALID_ARG);
    assert_int_equal(bz_st_writer_add(wr, "x", (bz_st_dtype)99, 1, s, v, 0, &err),
                     BZ_E_INVALID_ARG);
    assert_int_equal(bz_st_writer_set_meta(wr, "\xed\xa0\x80", "v", &err), BZ_E_INVALID_ARG);
    /* A value that is not UTF-8 (a data path, say) is stored escaped: a save
     * at the end of a run must not fail over it. */
    assert_int_equal(bz_st_writer_set_meta(wr, "k", "d\xed\xa0\x80\xff.csv", &err), BZ_OK);
    uint8_t *buf;
    size_t len;
    assert_int_equal(bz_st_writer_to_memory(wr, &buf, &len, &err), BZ_OK);
    bz_st_file *f;
    assert_int_equal(bz_st_parse(buf, len, "m", &f, &err), BZ_OK);
    assert_string_equal(bz_st_meta(f, "k"), "d\\xed\\xa0\\x80\\xff.csv");
    bz_st_close(f);
    free(buf);
    bz_st_writer_free(wr);
}

static void test_robust_to_corruption(void **state)
{
    (void)state;
    const float w[4] = {1, 2, 3, 4};
    const int32_t c[2] = {5, 6};
    const size_t s4[1] = {4}, s2[1] = {2};
    bz_st_writer *wr;
    bz_error err;
    bz_st_writer_create(&wr, &err);
    bz_st_writer_add(wr, "W", BZ_ST_F32, 1, s4, w, 0, &err);
    bz_st_writer_add(wr, "c", BZ_ST_I32, 1, s2, c, 0, &err);
    bz_st_writer_set_meta(wr, "k", "v", &err);
    uint8_t *buf;
    size_t len;
    assert_int_equal(bz_st_writer_to_memory(wr, &buf, &len, &err), BZ_OK);
    bz_st_writer_free(wr);
    uint8_t *m = malloc(len);
    uint64_t rng = 99;
    for (int it = 0; it < 20000; it++) {
        memcpy(m, buf, len);
        int k = 1 + (int)(tu_rand(&rng) % 3);
        for (int i = 0; i < k; i++) {
            size_t at = tu_rand(&rng) % len;
            /* Mostly hit the header, where the structure is. */
            if (it & 1)
                at = tu_rand(&rng) % (len < 100 ? len : 100);
            m[at] = (it & 2) ? (uint8_t)tu_rand(&rng)
                             : (uint8_t)(m[at] ^ (1u << (tu_rand(&rng) % 8)));
        }
        bz_st_file *f = NULL;
        bz_status st = bz_st_parse(m, len, "fuzz", &f, &err);
        assert_true(st == BZ_OK || st == BZ_E_FORMAT);
        if (st == BZ_OK) {
            for (size_t i = 0; i < bz_st_count(f); i++) {
                const bz_st_tensor *t = bz_st_at(f, i);
                assert_true(t->offset + t->nbytes <= len);
            }
        }
        bz_st_close(f);
    }
    free(m);
    free(buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
        cmocka_unit_test(test_reference_layout),
        cmocka_unit_test(test_not_safetensors),
        cmocka_unit_test_setup_teardown(test_truncated_file, setup, teardown),
        cmocka_unit_test(test_bad_offsets_and_shapes),
        cmocka_unit_test(test_bad_entries_and_metadata),
        cmocka_unit_test(test_writer_rejects),
        cmocka_unit_test(test_robust_to_corruption),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
