/*
 * The table of model kinds. Adding a kind: a file in src/models/ that
 * defines its bz_model_kind, and one line here.
 */
#include "models/model.h"
#include "models/dybm.h"

#include <stdint.h>
#include <string.h>

static const bz_model_kind *const kinds[] = {
    &bz_kind_rbm,
    &bz_kind_dbn,
    &bz_kind_dbm,
    &bz_kind_ising,
    &bz_kind_dybm,
    &bz_kind_cf,
};

const bz_model_kind *bz_model_kind_next(void **opaque)
{
    uintptr_t i = (uintptr_t)*opaque;
    if (i >= sizeof kinds / sizeof *kinds)
        return NULL;
    *opaque = (void *)(i + 1);
    return kinds[i];
}

const bz_model_kind *bz_model_kind_find(const char *name)
{
    for (size_t i = 0; name && i < sizeof kinds / sizeof *kinds; i++)
        if (!strcmp(kinds[i]->name, name))
            return kinds[i];
    return NULL;
}
