/* libFuzzer target: ratings files (the four layouts of src/io/ratings.h);
 * the first byte picks ratings or pairs, then the accepted entries go
 * through the scale guess, the classes and the id maps as `train cf` uses
 * them. */
#include "io/ratings.h"

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    int with_rating = !(data[0] & 1);
    bz_ratings r;
    bz_error err;
    if (bz_ratings_parse((const char *)data + 1, size - 1, "fuzz", with_rating, &r, &err) !=
        BZ_OK)
        return 0;
    /* Accepted: at least one entry, every rating finite, lines counted
     * from 1. */
    if (r.n == 0 || !r.user || !r.item || !r.line)
        __builtin_trap();
    for (size_t k = 0; k < r.n; k++) {
        if (r.line[k] == 0 || (with_rating && !isfinite(r.value[k])))
            __builtin_trap();
    }
    uint32_t *ids = NULL;
    size_t n_ids = 0;
    if (bz_ids_unique(r.user, r.n, &ids, &n_ids, &err) == BZ_OK) {
        /* sorted, distinct, and every user found at its place */
        for (size_t k = 1; k < n_ids; k++)
            if (ids[k - 1] >= ids[k])
                __builtin_trap();
        for (size_t k = 0; k < r.n; k++) {
            long at = bz_ids_find(ids, n_ids, r.user[k]);
            if (at < 0 || ids[at] != r.user[k])
                __builtin_trap();
        }
        free(ids);
    }
    bz_rating_scale s;
    if (with_rating && bz_rating_scale_guess(&r, &s, &err) == BZ_OK) {
        uint8_t *cls = malloc(r.n);
        if (cls && bz_ratings_classes(&r, &s, cls, &err) == BZ_OK)
            for (size_t k = 0; k < r.n; k++)
                if (cls[k] >= s.classes || s.classes > BZ_RATINGS_MAX_CLASSES)
                    __builtin_trap();
        free(cls);
    }
    bz_ratings_free(&r);
    return 0;
}
