/* The host Philox reference against the published known-answer vectors
 * (Salmon et al., Random123 kat_vectors), and the stream layout rules. */
#include "ref/reference.h"

#include <math.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

/* Our layout maps (seed, stream, block) onto (key, counter); these helpers
 * recover a raw counter/key call from it. */
static void raw(uint32_t c0, uint32_t c1, uint32_t c2, uint32_t c3, uint32_t k0, uint32_t k1,
                uint32_t out[4])
{
    uint64_t block = ((uint64_t)c1 << 32) | c0;
    uint64_t stream = ((uint64_t)c3 << 32) | c2;
    uint64_t seed = ((uint64_t)k1 << 32) | k0;
    bz_ref_philox_block(seed, stream, block, out);
}

static void test_kat_zero(void **state)
{
    (void)state;
    uint32_t r[4];
    raw(0, 0, 0, 0, 0, 0, r);
    assert_int_equal(r[0], 0x6627e8d5u);
    assert_int_equal(r[1], 0xe169c58du);
    assert_int_equal(r[2], 0xbc57ac4cu);
    assert_int_equal(r[3], 0x9b00dbd8u);
}

static void test_kat_ones(void **state)
{
    (void)state;
    uint32_t r[4];
    raw(0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu, r);
    assert_int_equal(r[0], 0x408f276du);
    assert_int_equal(r[1], 0x41c83b0eu);
    assert_int_equal(r[2], 0xa20bc7c6u);
    assert_int_equal(r[3], 0x6d5451fdu);
}

static void test_kat_pi(void **state)
{
    (void)state;
    uint32_t r[4];
    raw(0x243f6a88u, 0x85a308d3u, 0x13198a2eu, 0x03707344u, 0xa4093822u, 0x299f31d0u, r);
    assert_int_equal(r[0], 0xd16cfe09u);
    assert_int_equal(r[1], 0x94fdccebu);
    assert_int_equal(r[2], 0x5001e420u);
    assert_int_equal(r[3], 0x24126ea1u);
}

static void test_stream_layout(void **state)
{
    (void)state;
    /* Element e is word e % 4 of block e / 4, whatever offset a call starts at. */
    uint32_t blk[4], fill[11];
    bz_ref_philox_block(7, 3, 5, blk);
    bz_ref_philox_fill(fill, 11, 7, 3, 17);
    /* Elements 20..23 are block 5. */
    for (int w = 0; w < 4; w++)
        assert_int_equal(fill[3 + w], blk[w]);
    /* Different streams and seeds give different bits. */
    assert_int_not_equal(bz_ref_philox_u32(7, 3, 0), bz_ref_philox_u32(7, 4, 0));
    assert_int_not_equal(bz_ref_philox_u32(7, 3, 0), bz_ref_philox_u32(8, 3, 0));
}

static void test_uniform_range(void **state)
{
    (void)state;
    assert_true(bz_ref_u01(0) == 0.0f);
    assert_true(bz_ref_u01(0xffffffffu) < 1.0f);
    assert_true(bz_ref_u01_open0(0) > 0.0f);
    assert_true(bz_ref_u01_open0(0xffffffffu) == 1.0f);
    /* The mean of many draws is 1/2 within 5 sigma. */
    double s = 0;
    const int n = 200000;
    for (int i = 0; i < n; i++)
        s += bz_ref_u01(bz_ref_philox_u32(1, 2, (uint64_t)i));
    double mean = s / n, sigma = sqrt(1.0 / 12.0 / n);
    assert_true(fabs(mean - 0.5) < 5 * sigma);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kat_zero),      cmocka_unit_test(test_kat_ones),
        cmocka_unit_test(test_kat_pi),        cmocka_unit_test(test_stream_layout),
        cmocka_unit_test(test_uniform_range),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
