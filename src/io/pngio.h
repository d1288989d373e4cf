/*
 * 8-bit PNG output through libpng (simplified API), written atomically, and
 * a reader used by tests to check what was written.
 */
#ifndef BZ_IO_PNGIO_H
#define BZ_IO_PNGIO_H

#include "base/error.h"

#include <stddef.h>
#include <stdint.h>

/* Largest width or height accepted (libpng's default user limit). */
#define BZ_PNG_MAX_DIM 1000000
/* Grey level of the 1-pixel borders between tiles and of empty grid cells. */
#define BZ_PNG_BORDER 128

/* pix: h rows of w bytes. */
bz_status bz_png_write_gray(const char *path, const uint8_t *pix, size_t w, size_t h,
                            bz_error *err);
/* pix: h rows of w RGB triples. */
bz_status bz_png_write_rgb(const char *path, const uint8_t *pix, size_t w, size_t h,
                           bz_error *err);

/*
 * Writes n_tiles grey tiles of tile_h x tile_w floats (tile t at
 * tiles + t*tile_h*tile_w, row-major) in a grid of grid_cols columns
 * (0: ceil(sqrt(n_tiles))) with a 1-pixel BZ_PNG_BORDER border around and
 * between tiles. Image size: cols*(tile_w+1)+1 by rows*(tile_h+1)+1.
 * per_tile_normalize == 0: values clamped to [0,1] then scaled to 0..255;
 * != 0: each tile min-max normalised to 0..255 (a constant tile becomes 128),
 * for filters. NaN/Inf are refused (BZ_E_INVALID_ARG naming tile and pixel).
 */
bz_status bz_png_write_tiles(const char *path, const float *tiles, size_t n_tiles,
                             size_t tile_h, size_t tile_w, size_t grid_cols,
                             int per_tile_normalize, bz_error *err);

/* Reads any PNG as 8-bit grey (channels 1) or RGB (channels 3, when the file
 * has colour); *pix is malloc()ed, h rows of w*channels bytes. */
bz_status bz_png_read(const char *path, uint8_t **pix, size_t *w, size_t *h, int *channels,
                      bz_error *err);

#endif
