/*
 * String metadata carried into a model file (hyperparameters, data shape,
 * preprocessing): one small table shared by every model type.
 */
#ifndef BZ_MODELS_META_H
#define BZ_MODELS_META_H

#include "engine/engine.h"

#define BZ_META_MAX 32

typedef struct bz_meta {
    size_t n;
    char *key[BZ_META_MAX], *val[BZ_META_MAX];
} bz_meta;

/* Sets or replaces key (both strings are copied); errors go to ctx. */
bz_status bz_meta_set(bz_meta *m, bz_context *ctx, const char *key, const char *value);
/* The value of key, or NULL. */
const char *bz_meta_get(const bz_meta *m, const char *key);
void bz_meta_free(bz_meta *m);

#endif
