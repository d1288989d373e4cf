/* PNG writers, checked by reading the files back. */
#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <cmocka.h>

#include "io/pngio.h"
#include "io_test_util.h"

#include <math.h>
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

static void test_gray_and_rgb(void **state)
{
    char *p = tu_join(*state, "g.png");
    uint8_t g[3 * 2] = {0, 50, 100, 150, 200, 255};
    bz_error err = {0};
    assert_int_equal(bz_png_write_gray(p, g, 3, 2, &err), BZ_OK);
    uint8_t *pix;
    size_t w, h;
    int ch;
    assert_int_equal(bz_png_read(p, &pix, &w, &h, &ch, &err), BZ_OK);
    assert_int_equal(w, 3);
    assert_int_equal(h, 2);
    assert_int_equal(ch, 1);
    assert_memory_equal(pix, g, sizeof g);
    free(pix);

    uint8_t rgb[2 * 2 * 3] = {255, 0, 0, 0, 255, 0, 0, 0, 255, 10, 20, 30};
    assert_int_equal(bz_png_write_rgb(p, rgb, 2, 2, &err), BZ_OK);
    assert_int_equal(bz_png_read(p, &pix, &w, &h, &ch, &err), BZ_OK);
    assert_int_equal(ch, 3);
    assert_int_equal(w, 2);
    assert_memory_equal(pix, rgb, sizeof rgb);
    free(pix);
    assert_int_equal(tu_count_temp_files(*state), 0);

    assert_int_equal(bz_png_write_gray(p, g, 0, 2, &err), BZ_E_INVALID_ARG);
    assert_true(tu_has(err.msg, "image size 0 x 2"));
    free(p);
}

static void test_tiles_clamped(void **state)
{
    char *p = tu_join(*state, "t.png");
    /* 5 tiles of 4 rows x 3 columns; tile t pixel i = (t*12+i)/60, with
     * out-of-range values in tile 4. */
    float tiles[5 * 12];
    for (int i = 0; i < 60; i++)
        tiles[i] = (float)i / 60.0f;
    tiles[48] = -1.0f;
    tiles[49] = 2.0f;
    bz_error err = {0};
    assert_int_equal(bz_png_write_tiles(p, tiles, 5, 4, 3, 3, 0, &err), BZ_OK);
    uint8_t *pix;
    size_t w, h;
    int ch;
    assert_int_equal(bz_png_read(p, &pix, &w, &h, &ch, &err), BZ_OK);
    assert_int_equal(w, 3 * (3 + 1) + 1);
    assert_int_equal(h, 2 * (4 + 1) + 1);
    assert_int_equal(ch, 1);
#define AT(y, x) pix[(y) * w + (x)]
    assert_int_equal(AT(0, 0), BZ_PNG_BORDER);
    assert_int_equal(AT(5, 7), BZ_PNG_BORDER); /* border between tile rows */
    assert_int_equal(AT(1, 1), 0);             /* tile 0 pixel (0,0) = 0 */
    /* tile 0 pixel (row 2, col 1) = 7/60 */
    assert_int_equal(AT(1 + 2, 1 + 1), (int)lrintf(7.0f / 60.0f * 255.0f));
    /* tile 2 (grid row 0, col 2) pixel (3, 2) = (24+11)/60 */
    assert_int_equal(AT(1 + 3, 9 + 2), (int)lrintf(35.0f / 60.0f * 255.0f));
    /* tile 4 (grid row 1, col 1): clamped values */
    assert_int_equal(AT(6, 5), 0);
    assert_int_equal(AT(6, 6), 255);
    /* grid cell 5 is empty */
    assert_int_equal(AT(7, 10), BZ_PNG_BORDER);
    free(pix);

    /* Automatic grid: 5 tiles -> 3 columns, 2 rows. */
    assert_int_equal(bz_png_write_tiles(p, tiles, 5, 4, 3, 0, 0, &err), BZ_OK);
    assert_int_equal(bz_png_read(p, &pix, &w, &h, &ch, &err), BZ_OK);
    assert_int_equal(w, 13);
    assert_int_equal(h, 11);
    free(pix);
    free(p);
}

static void test_tiles_per_tile_normalized(void **state)
{
    char *p = tu_join(*state, "f.png");
    float tiles[3 * 4] = {-3, -1, 1, 5, /* tile 0: min -3 max 5 */
                          7, 7, 7, 7,   /* tile 1: constant */
                          0, 1e-3f, 2e-3f, 4e-3f};
    bz_error err = {0};
    assert_int_equal(bz_png_write_tiles(p, tiles, 3, 2, 2, 3, 1, &err), BZ_OK);
    uint8_t *pix;
    size_t w, h;
    int ch;
    assert_int_equal(bz_png_read(p, &pix, &w, &h, &ch, &err), BZ_OK);
    assert_int_equal(w, 10);
    assert_int_equal(h, 4);
    assert_int_equal(AT(1, 1), 0);
    assert_int_equal(AT(1, 2), (int)lrintf(2.0f / 8.0f * 255.0f));
    assert_int_equal(AT(2, 2), 255);
    assert_int_equal(AT(1, 4), 128);
    assert_int_equal(AT(2, 5), 128);
    assert_int_equal(AT(1, 7), 0);
    assert_int_equal(AT(2, 8), 255);
    assert_int_equal(AT(2, 7), (int)lrintf(0.5f * 255.0f));
#undef AT
    free(pix);
    free(p);
}

static void test_tiles_rejects(void **state)
{
    char *p = tu_join(*state, "bad.png");
    float tiles[8] = {0, 0, 0, 0, 0, NAN, 0, 0};
    bz_error err = {0};
    assert_int_equal(bz_png_write_tiles(p, tiles, 2, 2, 2, 0, 0, &err), BZ_E_INVALID_ARG);
    assert_true(tu_has(err.msg, "tile 1, pixel (row 0, column 1) is not finite"));
    assert_false(tu_file_exists(p));
    assert_int_equal(bz_png_write_tiles(p, tiles, 0, 2, 2, 0, 0, &err), BZ_E_INVALID_ARG);
    char *q = tu_join(*state, "no/such/dir/x.png");
    assert_int_equal(bz_png_write_tiles(q, tiles, 1, 2, 2, 0, 0, &err), BZ_E_IO);
    assert_true(tu_has(err.msg, q));
    assert_true(tu_has(err.msg, "No such file or directory"));
    uint8_t *pix;
    size_t w, h;
    int ch;
    tu_write_file(p, "not a png", 9);
    assert_int_equal(bz_png_read(p, &pix, &w, &h, &ch, &err), BZ_E_FORMAT);
    assert_true(tu_has(err.msg, p));
    free(q);
    free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_gray_and_rgb, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tiles_clamped, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tiles_per_tile_normalized, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tiles_rejects, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
