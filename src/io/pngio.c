#include "io/pngio.h"

#include "base/atomic_file.h"
#include "io/filebuf.h"

#include <errno.h>
#include <math.h>
#include <png.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static bz_status write_png(const char *path, const uint8_t *pix, size_t w, size_t h,
                           int channels, bz_error *err)
{
    if (!path || !pix)
        return bz_error_set(err, BZ_E_INVALID_ARG, "bz_png_write: NULL argument");
    if (w == 0 || h == 0 || w > BZ_PNG_MAX_DIM || h > BZ_PNG_MAX_DIM)
        return bz_error_set(err, BZ_E_INVALID_ARG,
                            "%s: image size %zu x %zu, expected 1 to %d pixels each way", path,
                            w, h, BZ_PNG_MAX_DIM);
    bz_atomic_file af;
    bz_status st = bz_atomic_open(&af, path, err);
    if (st != BZ_OK)
        return st;
    png_image img;
    memset(&img, 0, sizeof img);
    img.version = PNG_IMAGE_VERSION;
    img.width = (png_uint_32)w;
    img.height = (png_uint_32)h;
    img.format = channels == 3 ? PNG_FORMAT_RGB : PNG_FORMAT_GRAY;
    int ok = png_image_write_to_stdio(&img, af.fp, 0, pix, (png_int_32)(w * (size_t)channels),
                                      NULL);
    if (!ok) {
        bz_error_set(err, BZ_E_IO, "%s: libpng: %s", path, img.message);
        png_image_free(&img);
        bz_atomic_abort(&af);
        return BZ_E_IO;
    }
    png_image_free(&img);
    return bz_atomic_commit(&af, err);
}

bz_status bz_png_write_gray(const char *path, const uint8_t *pix, size_t w, size_t h,
                            bz_error *err)
{
    return write_png(path, pix, w, h, 1, err);
}

bz_status bz_png_write_rgb(const char *path, const uint8_t *pix, size_t w, size_t h,
                           bz_error *err)
{
    return write_png(path, pix, w, h, 3, err);
}

static uint8_t to_byte(float v)
{
    if (!(v > 0.0f))
        return 0;
    if (v >= 1.0f)
        return 255;
    return (uint8_t)lrintf(v * 255.0f);
}

bz_status bz_png_write_tiles(const char *path, const float *tiles, size_t n_tiles,
                             size_t tile_h, size_t tile_w, size_t grid_cols,
                             int per_tile_normalize, bz_error *err)
{
    if (!path || !tiles)
        return bz_error_set(err, BZ_E_INVALID_ARG, "bz_png_write_tiles: NULL argument");
    if (n_tiles == 0 || tile_h == 0 || tile_w == 0)
        return bz_error_set(err, BZ_E_INVALID_ARG,
                            "%s: %zu tiles of %zu x %zu, expected at least one non-empty tile",
                            path, n_tiles, tile_h, tile_w);
    if (tile_h >= BZ_PNG_MAX_DIM || tile_w >= BZ_PNG_MAX_DIM || n_tiles > BZ_PNG_MAX_DIM *
                                                                            (size_t)BZ_PNG_MAX_DIM)
        return bz_error_set(err, BZ_E_INVALID_ARG, "%s: tiles too large for a PNG", path);
    size_t cols = grid_cols;
    if (cols == 0) {
        cols = (size_t)ceil(sqrt((double)n_tiles));
        while (cols * cols < n_tiles)
            cols++;
        while (cols > 1 && (cols - 1) * (cols - 1) >= n_tiles)
            cols--;
    }
    if (cols > n_tiles)
        cols = n_tiles;
    size_t rows = (n_tiles + cols - 1) / cols;
    if (cols > (BZ_PNG_MAX_DIM - 1) / (tile_w + 1) || rows > (BZ_PNG_MAX_DIM - 1) / (tile_h + 1))
        return bz_error_set(err, BZ_E_INVALID_ARG,
                            "%s: a grid of %zu x %zu tiles of %zu x %zu exceeds %d pixels", path,
                            rows, cols, tile_h, tile_w, BZ_PNG_MAX_DIM);
    size_t W = cols * (tile_w + 1) + 1, H = rows * (tile_h + 1) + 1;
    size_t tsize = tile_h * tile_w;
    for (size_t t = 0; t < n_tiles; t++)
        for (size_t i = 0; i < tsize; i++)
            if (!isfinite(tiles[t * tsize + i]))
                return bz_error_set(err, BZ_E_INVALID_ARG,
                                    "%s: tile %zu, pixel (row %zu, column %zu) is not finite",
                                    path, t, i / tile_w, i % tile_w);
    uint8_t *img = malloc(W * H);
    if (!img)
        return bz_error_set(err, BZ_E_NOMEM, "%s: cannot allocate %zu x %zu pixels", path, W, H);
    memset(img, BZ_PNG_BORDER, W * H);
    for (size_t t = 0; t < n_tiles; t++) {
        const float *src = tiles + t * tsize;
        double lo = 0.0, scale = 1.0;
        int flat = 0;
        if (per_tile_normalize) {
            float mn = src[0], mx = src[0];
            for (size_t i = 1; i < tsize; i++) {
                if (src[i] < mn)
                    mn = src[i];
                if (src[i] > mx)
                    mx = src[i];
            }
            lo = mn;
            flat = !(mx > mn);
            scale = flat ? 0.0 : 1.0 / ((double)mx - (double)mn);
        }
        size_t r0 = (t / cols) * (tile_h + 1) + 1, c0 = (t % cols) * (tile_w + 1) + 1;
        for (size_t y = 0; y < tile_h; y++) {
            uint8_t *dst = img + (r0 + y) * W + c0;
            for (size_t x = 0; x < tile_w; x++) {
                float v = src[y * tile_w + x];
                dst[x] = flat ? (uint8_t)BZ_PNG_BORDER : to_byte((float)((v - lo) * scale));
            }
        }
    }
    bz_status st = write_png(path, img, W, H, 1, err);
    free(img);
    return st;
}

bz_status bz_png_read(const char *path, uint8_t **pix, size_t *w, size_t *h, int *channels,
                      bz_error *err)
{
    if (!path || !pix || !w || !h || !channels)
        return bz_error_set(err, BZ_E_INVALID_ARG, "bz_png_read: NULL argument");
    *pix = NULL;
    png_image img;
    memset(&img, 0, sizeof img);
    img.version = PNG_IMAGE_VERSION;
    /* Regular files only, and the size the header declares checked against
     * memory before it is allocated, as for every other input. */
    struct stat sb;
    int fd = bz_open_input(path, &sb, err);
    if (fd < 0)
        return err ? err->status : BZ_E_IO;
    FILE *fp = fdopen(fd, "rb");
    if (!fp) {
        close(fd);
        return bz_error_set(err, BZ_E_IO, "%s: cannot open: %s", path, strerror(errno));
    }
    if (!png_image_begin_read_from_stdio(&img, fp)) {
        fclose(fp);
        return bz_error_set(err, BZ_E_FORMAT, "%s: cannot read PNG: %s", path, img.message);
    }
    int ch = (img.format & PNG_FORMAT_FLAG_COLOR) ? 3 : 1;
    img.format = ch == 3 ? PNG_FORMAT_RGB : PNG_FORMAT_GRAY;
    size_t size = PNG_IMAGE_SIZE(img);
    bz_status mst = bz_mem_check(path, size, "the image its header declares", err);
    uint8_t *buf = mst == BZ_OK ? malloc(size ? size : 1) : NULL;
    if (!buf) {
        png_image_free(&img);
        fclose(fp);
        return mst != BZ_OK ? mst
                            : bz_error_set(err, BZ_E_NOMEM, "%s: cannot allocate %zu bytes", path,
                                           size);
    }
    if (!png_image_finish_read(&img, NULL, buf, 0, NULL)) {
        free(buf);
        bz_status st = bz_error_set(err, BZ_E_FORMAT, "%s: cannot decode PNG: %s", path,
                                    img.message);
        png_image_free(&img);
        fclose(fp);
        return st;
    }
    fclose(fp);
    *pix = buf;
    *w = img.width;
    *h = img.height;
    *channels = ch;
    png_image_free(&img);
    return BZ_OK;
}
