/*
 * The public face of the ratings RBM (models/cf.h): a model from the
 * caller's arrays of ratings (checked and mapped to classes and dense
 * indexes by the same io/ratings.h routines as the command's files), its
 * trainer through the generic one, predictions in the caller's ids, top-N
 * recommendation and RMSE/MAE.
 */
#include "boltzcl.h"
#include "io/ratings.h"
#include "models/cf.h"
#include "models/cf_trainer.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void bz_cf_train_options_init(bz_cf_train_options *o)
{
    if (!o)
        return;
    memset(o, 0, sizeof *o);
    o->hidden = 128;
    o->epochs = 20;
    o->batch_size = 64;
    o->learning_rate = 1.0f;
    o->lr_decay = 0.05f;
    o->momentum_initial = 0.5f;
    o->momentum_final = 0.5f;
    o->momentum_epochs = 5;
    o->weight_decay = 0.001f;
    o->cd_start = 1;
    o->cd_max = 9;
    o->cd_every = 10;
    o->seed = 1;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* The row of the first (user, item) pair given twice, or n when none. */
static size_t first_duplicate(const uint32_t *user, const uint32_t *item, size_t n,
                              uint64_t *keys)
{
    for (size_t k = 0; k < n; k++)
        keys[k] = ((uint64_t)user[k] << 32) | item[k];
    qsort(keys, n, sizeof *keys, cmp_u64);
    for (size_t k = 1; k < n; k++)
        if (keys[k] == keys[k - 1])
            for (size_t r = 0; r < n; r++)
                if ((((uint64_t)user[r] << 32) | item[r]) == keys[k])
                    return r;
    return n;
}

bz_status bz_cf_create_from_ratings(bz_context *ctx, const uint32_t *user, const uint32_t *item,
                                    const float *rating, size_t n, float lo, float hi, float step,
                                    const bz_cf_train_options *o, bz_cf **out)
{
    if (!ctx || !out)
        return BZ_E_INVALID_ARG;
    *out = NULL;
    if (!user || !item || !rating || !o || n == 0)
        return bz_fail(ctx, BZ_E_INVALID_ARG,
                       "a ratings model needs users, items, ratings, options and n > 0");
    if (o->hidden == 0 || o->hidden > 65536)
        return bz_fail(ctx, BZ_E_INVALID_ARG, "hidden units must be between 1 and 65536, not %zu",
                       o->hidden);
    if (n > UINT32_MAX)
        return bz_fail(ctx, BZ_E_INVALID_ARG, "at most %u ratings", (unsigned)UINT32_MAX);
    bz_error err = {0};
    bz_rating_scale scale;
    char text[96];
    snprintf(text, sizeof text, "%.9g:%.9g:%.9g", (double)lo, (double)hi, (double)step);
    if (bz_rating_scale_parse(text, &scale, &err))
        return bz_fail(ctx, BZ_E_INVALID_ARG, "%s", err.msg);
    for (size_t k = 0; k < n; k++)
        if (!isfinite(rating[k]))
            return bz_fail(ctx, BZ_E_INVALID_ARG, "rating of row %zu (user %u, item %u) is not "
                           "finite", k, user[k], item[k]);
    bz_status st = BZ_OK;
    bz_ratings r = {.n = n, .user = (uint32_t *)user, .item = (uint32_t *)item,
                    .value = (float *)rating};
    snprintf(r.path, sizeof r.path, "ratings row");
    uint8_t *cls = malloc(n);
    uint32_t *line = malloc(n * sizeof *line), *uids = NULL, *iids = NULL;
    uint32_t *du = malloc(n * sizeof *du), *di = malloc(n * sizeof *di);
    uint64_t *keys = malloc(n * sizeof *keys);
    size_t nu = 0, ni = 0;
    if (!cls || !line || !du || !di || !keys) {
        st = bz_fail(ctx, BZ_E_NOMEM, "out of memory for %zu ratings", n);
        goto out;
    }
    for (size_t k = 0; k < n; k++)
        line[k] = (uint32_t)k;
    r.line = line;
    if (bz_ratings_classes(&r, &scale, cls, &err)) {
        st = bz_fail(ctx, BZ_E_INVALID_ARG, "%s", err.msg);
        goto out;
    }
    size_t dup = first_duplicate(user, item, n, keys);
    if (dup < n) {
        st = bz_fail(ctx, BZ_E_INVALID_ARG, "ratings row %zu: user %u and item %u are rated "
                     "more than once", dup, user[dup], item[dup]);
        goto out;
    }
    if (bz_ids_unique(user, n, &uids, &nu, &err) || bz_ids_unique(item, n, &iids, &ni, &err)) {
        st = bz_fail(ctx, err.status ? err.status : BZ_E_NOMEM, "%s", err.msg);
        goto out;
    }
    for (size_t k = 0; k < n; k++) {
        du[k] = (uint32_t)bz_ids_find(uids, nu, user[k]);
        di[k] = (uint32_t)bz_ids_find(iids, ni, item[k]);
    }
    bz_cf_config cfg = {o->hidden, scale.classes, scale.lo, scale.step, o->item_based != 0,
                        o->conditional != 0};
    st = bz_cf_create(ctx, &cfg, uids, nu, iids, ni, du, di, cls, n, o->seed, out);
out:
    free(cls);
    free(line);
    free(du);
    free(di);
    free(keys);
    free(uids);
    free(iids);
    return st;
}

bz_status bz_cf_get_info(const bz_cf *cf, bz_cf_info *out)
{
    if (!cf || !out)
        return BZ_E_INVALID_ARG;
    *out = (bz_cf_info){
        .n_users = cf->n_users,
        .n_items = cf->n_items,
        .n_ratings = cf->n_ratings,
        .hidden = cf->H,
        .lo = cf->cfg.lo,
        .hi = cf->cfg.lo + cf->cfg.step * (float)(cf->K - 1),
        .step = cf->cfg.step,
        .item_based = cf->cfg.item_based,
        .conditional = cf->cfg.conditional,
        .mean_rating = bz_cf_mean_rating(cf),
    };
    return BZ_OK;
}

bz_status bz_cf_get_ids(const bz_cf *cf, uint32_t *users, uint32_t *items)
{
    if (!cf || !users || !items)
        return BZ_E_INVALID_ARG;
    memcpy(users, cf->user_ids, cf->n_users * sizeof *users);
    memcpy(items, cf->item_ids, cf->n_items * sizeof *items);
    return BZ_OK;
}

bz_status bz_cf_trainer_create(bz_cf *cf, const bz_cf_train_options *o, bz_trainer **out)
{
    if (!cf || !o || !out)
        return BZ_E_INVALID_ARG;
    *out = NULL;
    if (o->epochs == 0 || o->batch_size == 0 || !(o->learning_rate > 0) ||
        !(o->momentum_initial >= 0 && o->momentum_initial < 1) ||
        !(o->momentum_final >= 0 && o->momentum_final < 1) || !(o->weight_decay >= 0) ||
        !(o->lr_decay >= 0) || o->cd_every == 0 || o->cd_start == 0 || o->cd_max < o->cd_start ||
        o->cd_max > 100)
        return bz_fail(cf->ctx, BZ_E_INVALID_ARG,
                       "ratings RBM training needs epochs, batch_size, cd_start and cd_every "
                       ">= 1, learning_rate > 0, momenta in [0, 1), weight_decay and lr_decay "
                       ">= 0, and cd_start <= cd_max <= 100");
    bz_cf_train_opts t;
    bz_cf_train_opts_init(&t);
    t.batch = o->batch_size;
    t.learning_rate = o->learning_rate;
    t.lr_decay = o->lr_decay;
    t.momentum_initial = o->momentum_initial;
    t.momentum_final = o->momentum_final;
    t.momentum_epochs = o->momentum_epochs;
    t.weight_decay = o->weight_decay;
    t.k_start = o->cd_start;
    t.k_max = o->cd_max;
    t.k_every = o->cd_every;
    t.mean_field = o->mean_field != 0;
    t.seed = o->seed;
    return bz_cf_trainer_make_own(cf, &t, o->epochs, out);
}

bz_status bz_cf_predict_ratings(bz_cf *cf, const uint32_t *user, const uint32_t *item, size_t n,
                                float *out, size_t *n_unknown)
{
    if (!cf || (n && (!user || !item || !out)))
        return BZ_E_INVALID_ARG;
    uint32_t *du = malloc((n ? n : 1) * sizeof *du), *di = malloc((n ? n : 1) * sizeof *di);
    size_t *where = malloc((n ? n : 1) * sizeof *where);
    float *p = malloc((n ? n : 1) * sizeof *p);
    bz_cf_set set = {0};
    bz_status st = BZ_OK;
    if (!du || !di || !where || !p) {
        st = bz_fail(cf->ctx, BZ_E_NOMEM, "out of memory predicting %zu pairs", n);
        goto out;
    }
    size_t nk = 0;
    float mean = bz_cf_mean_rating(cf);
    for (size_t k = 0; k < n; k++) {
        long u = bz_ids_find(cf->user_ids, cf->n_users, user[k]);
        long i = bz_ids_find(cf->item_ids, cf->n_items, item[k]);
        out[k] = mean;
        if (u >= 0 && i >= 0) {
            du[nk] = (uint32_t)u;
            di[nk] = (uint32_t)i;
            where[nk++] = k;
        }
    }
    if (n_unknown)
        *n_unknown = n - nk;
    if (nk == 0)
        goto out;
    /* a conditional model learns from "rated" too: the pairs asked about
     * count as rated with the rating unknown */
    if ((st = bz_cf_set_make(cf, du, di, nk, &set)) ||
        (st = bz_cf_predict(cf, &set, du, di, nk, p)))
        goto out;
    for (size_t q = 0; q < nk; q++)
        out[where[q]] = p[q];
out:
    bz_cf_set_free(&set);
    free(du);
    free(di);
    free(where);
    free(p);
    return st;
}

typedef struct scored {
    uint32_t item;
    float r;
} scored;

static int by_rating(const void *a, const void *b)
{
    const scored *x = a, *y = b;
    if (x->r != y->r)
        return x->r > y->r ? -1 : 1;
    return x->item < y->item ? -1 : x->item > y->item;
}

bz_status bz_cf_recommend(bz_cf *cf, uint32_t user, size_t top, uint32_t *items,
                          float *ratings, size_t *n_out)
{
    if (!cf || !n_out || (top && (!items || !ratings)))
        return BZ_E_INVALID_ARG;
    *n_out = 0;
    long u = bz_ids_find(cf->user_ids, cf->n_users, user);
    if (u < 0)
        return bz_fail(cf->ctx, BZ_E_INVALID_ARG, "user %u is not in the model's ratings", user);
    size_t ni = cf->n_items, n = 0;
    uint8_t *rated = calloc(ni, 1);
    uint32_t *pu = malloc(ni * sizeof *pu), *pi = malloc(ni * sizeof *pi);
    float *p = malloc(ni * sizeof *p);
    scored *s = malloc(ni * sizeof *s);
    bz_cf_set set = {0};
    bz_status st = BZ_OK;
    if (!rated || !pu || !pi || !p || !s) {
        st = bz_fail(cf->ctx, BZ_E_NOMEM, "out of memory ranking %zu items", ni);
        goto out;
    }
    for (size_t k = 0; k < cf->n_ratings; k++)
        if (cf->r_user[k] == (uint32_t)u)
            rated[cf->r_item[k]] = 1;
    for (size_t i = 0; i < ni; i++)
        if (!rated[i]) {
            pu[n] = (uint32_t)u;
            pi[n++] = (uint32_t)i;
        }
    if (n && ((st = bz_cf_set_make(cf, NULL, NULL, 0, &set)) ||
              (st = bz_cf_predict(cf, &set, pu, pi, n, p))))
        goto out;
    for (size_t k = 0; k < n; k++)
        s[k] = (scored){cf->item_ids[pi[k]], p[k]};
    qsort(s, n, sizeof *s, by_rating);
    if (top > n)
        top = n;
    for (size_t k = 0; k < top; k++) {
        items[k] = s[k].item;
        ratings[k] = s[k].r;
    }
    *n_out = top;
out:
    bz_cf_set_free(&set);
    free(rated);
    free(pu);
    free(pi);
    free(p);
    free(s);
    return st;
}

bz_status bz_cf_evaluate(bz_cf *cf, const uint32_t *user, const uint32_t *item,
                         const float *rating, size_t n, double *rmse, double *mae)
{
    if (!cf || !user || !item || !rating || !rmse || !mae)
        return BZ_E_INVALID_ARG;
    if (n == 0)
        return bz_fail(cf->ctx, BZ_E_INVALID_ARG, "no ratings to evaluate");
    for (size_t k = 0; k < n; k++)
        if (!isfinite(rating[k]))
            return bz_fail(cf->ctx, BZ_E_INVALID_ARG, "rating of row %zu (user %u, item %u) is "
                           "not finite", k, user[k], item[k]);
    float *p = malloc(n * sizeof *p);
    if (!p)
        return bz_fail(cf->ctx, BZ_E_NOMEM, "out of memory evaluating %zu ratings", n);
    bz_status st = bz_cf_predict_ratings(cf, user, item, n, p, NULL);
    double se = 0, ae = 0;
    for (size_t k = 0; !st && k < n; k++) {
        double e = (double)p[k] - (double)rating[k];
        se += e * e;
        ae += fabs(e);
    }
    free(p);
    if (!st) {
        *rmse = sqrt(se / (double)n);
        *mae = ae / (double)n;
    }
    return st;
}
