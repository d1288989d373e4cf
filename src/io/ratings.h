/*
 * Ratings files for collaborative filtering: one rating a line, as
 *   MovieLens-100K u.data   user<TAB>item<TAB>rating<TAB>timestamp
 *   MovieLens-1M ratings.dat user::item::rating::timestamp
 *   MovieLens ratings.csv   userId,movieId,rating,timestamp (header line)
 *   plain CSV               user,item,rating
 * The layout is taken from the first line that is not blank: "::" makes it
 * ratings.dat, a tab u.data, otherwise CSV, whose first line is a header
 * when its first field is not a number. Fields after the rating are
 * ignored. Ids are unsigned integers that fit 32 bits; ratings are decimal
 * numbers. Every error names the file and the line.
 *
 * A rating scale (lowest value, step, number of classes) maps values to the
 * classes of the softmax units: 0.5..5 in half stars is 10 classes, 1..5 is
 * 5. Dense indexes: the sorted distinct ids of a file, so that the model
 * can speak the file's ids back.
 */
#ifndef BZ_IO_RATINGS_H
#define BZ_IO_RATINGS_H

#include "base/error.h"

#include <stddef.h>
#include <stdint.h>

#define BZ_RATINGS_MAX_CLASSES 15

typedef struct bz_ratings {
    size_t n;
    uint32_t *user, *item; /* the file's ids */
    float *value;          /* ratings; NULL for a pairs file */
    uint32_t *line;        /* the line of each entry, for messages */
    char path[512];
} bz_ratings;

/* Reads a ratings file (with_rating 1) or a file of user,item pairs
 * (with_rating 0: a third field, when there, is ignored). Refuses bad lines,
 * ids beyond 32 bits, non-numeric or non-finite ratings, an empty file and
 * duplicate user,item pairs. */
bz_status bz_ratings_read(const char *path, int with_rating, bz_ratings *out, bz_error *err);
/* Parses a file image held in memory (name is used in messages). */
bz_status bz_ratings_parse(const char *text, size_t len, const char *name, int with_rating,
                           bz_ratings *out, bz_error *err);
void bz_ratings_free(bz_ratings *r);

typedef struct bz_rating_scale {
    float lo, step;
    unsigned classes;
} bz_rating_scale;

/* "LO:HI:STEP" (e.g. "0.5:5:0.5") into a scale; BZ_E_INVALID_ARG otherwise. */
bz_status bz_rating_scale_parse(const char *text, bz_rating_scale *s, bz_error *err);
/* The scale the file's values suggest: half steps when any value has a
 * half, from one step up to the largest value (at least 5). */
bz_status bz_rating_scale_guess(const bz_ratings *r, bz_rating_scale *s, bz_error *err);
/* The class of every rating (out: n of them); a value off the scale is an
 * error naming the file, the line and the scale. */
bz_status bz_ratings_classes(const bz_ratings *r, const bz_rating_scale *s, uint8_t *out,
                             bz_error *err);

/* Sorted distinct values of ids (n of them) into *out (malloc'd), count in
 * *n_out. */
bz_status bz_ids_unique(const uint32_t *ids, size_t n, uint32_t **out, size_t *n_out,
                        bz_error *err);
/* The dense index of id in sorted ids, or -1 when absent. */
long bz_ids_find(const uint32_t *ids, size_t n, uint32_t id);

/* A random split of the entries into test (fraction of them) and the rest,
 * with a seed: keep[i] is 1 for a training entry. */
void bz_ratings_split(size_t n, double test_fraction, uint64_t seed, uint8_t *keep);

#endif
