#include "models/meta.h"

#include <stdlib.h>
#include <string.h>

bz_status bz_meta_set(bz_meta *m, bz_context *ctx, const char *key, const char *value)
{
    for (size_t i = 0; i < m->n; i++) {
        if (strcmp(m->key[i], key) == 0) {
            char *v = strdup(value);
            if (!v)
                return bz_fail(ctx, BZ_E_NOMEM, "out of memory");
            free(m->val[i]);
            m->val[i] = v;
            return BZ_OK;
        }
    }
    if (m->n == BZ_META_MAX)
        return bz_fail(ctx, BZ_E_INVALID_ARG, "too many metadata entries (%d)", BZ_META_MAX);
    char *k = strdup(key), *v = strdup(value);
    if (!k || !v) {
        free(k);
        free(v);
        return bz_fail(ctx, BZ_E_NOMEM, "out of memory");
    }
    m->key[m->n] = k;
    m->val[m->n++] = v;
    return BZ_OK;
}

const char *bz_meta_get(const bz_meta *m, const char *key)
{
    for (size_t i = 0; i < m->n; i++)
        if (strcmp(m->key[i], key) == 0)
            return m->val[i];
    return NULL;
}

void bz_meta_free(bz_meta *m)
{
    for (size_t i = 0; i < m->n; i++) {
        free(m->key[i]);
        free(m->val[i]);
    }
    m->n = 0;
}
