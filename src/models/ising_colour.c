/* Greedy graph colouring of a problem's coupling graph, for the
 * colour-parallel sweep (kernels/anneal.cl, anneal_colour_sweeps). */
#include "models/ising.h"

#include <stdlib.h>
#include <string.h>

bz_status bz_ising_colour(const bz_ising *p, bz_ising_colouring *out, bz_error *err)
{
    memset(out, 0, sizeof *out);
    uint32_t n = p->n;
    if (p->dense)
        return bz_error_set(err, BZ_E_UNSUPPORTED,
                            "a densely coupled problem has no useful colouring");
    uint32_t *colour = malloc((size_t)n * sizeof *colour);
    uint32_t *mark = malloc(((size_t)n + 1) * sizeof *mark);
    if (!colour || !mark) {
        free(colour);
        free(mark);
        return bz_error_set(err, BZ_E_NOMEM, "out of memory colouring %u variables", n);
    }
    /* Variables in index order take the smallest colour no coupled,
     * already coloured variable has: at most (largest degree + 1) colours.
     * mark[c] == i + 1 says colour c is taken around variable i. */
    for (uint32_t c = 0; c <= n; c++)
        mark[c] = 0;
    uint32_t C = 0;
    for (uint32_t i = 0; i < n; i++) {
        for (uint32_t k = p->rowp[i]; k < p->rowp[i + 1]; k++)
            if (p->col[k] < i)
                mark[colour[p->col[k]]] = i + 1;
        uint32_t c = 0;
        while (mark[c] == i + 1)
            c++;
        colour[i] = c;
        if (c + 1 > C)
            C = c + 1;
    }
    out->n_colours = C;
    out->start = calloc((size_t)C + 1, sizeof *out->start);
    out->order = malloc((size_t)n * sizeof *out->order);
    if (!out->start || !out->order) {
        free(colour);
        free(mark);
        bz_ising_colouring_free(out);
        return bz_error_set(err, BZ_E_NOMEM, "out of memory colouring %u variables", n);
    }
    for (uint32_t i = 0; i < n; i++)
        out->start[colour[i] + 1]++;
    for (uint32_t c = 0; c < C; c++)
        out->start[c + 1] += out->start[c];
    memcpy(mark, out->start, (size_t)C * sizeof *mark);
    for (uint32_t i = 0; i < n; i++)
        out->order[mark[colour[i]]++] = i;
    free(colour);
    free(mark);
    return BZ_OK;
}

void bz_ising_colouring_free(bz_ising_colouring *c)
{
    free(c->start);
    free(c->order);
    memset(c, 0, sizeof *c);
}

bool bz_ising_colouring_valid(const bz_ising *p, const bz_ising_colouring *c)
{
    uint32_t n = p->n;
    if (!c->start || !c->order || c->start[0] != 0 || c->start[c->n_colours] != n)
        return false;
    uint32_t *cls = malloc((size_t)n * sizeof *cls);
    if (!cls)
        return false;
    for (uint32_t i = 0; i < n; i++)
        cls[i] = UINT32_MAX;
    bool ok = true;
    for (uint32_t k = 0; ok && k < c->n_colours; k++) {
        if (c->start[k] >= c->start[k + 1]) /* no empty class */
            ok = false;
        for (uint32_t q = c->start[k]; ok && q < c->start[k + 1]; q++) {
            uint32_t i = c->order[q];
            if (i >= n || cls[i] != UINT32_MAX) /* every variable exactly once */
                ok = false;
            else
                cls[i] = k;
        }
    }
    for (uint32_t i = 0; ok && i < n; i++) /* no coupling inside a class */
        for (uint32_t k = p->rowp[i]; ok && k < p->rowp[i + 1]; k++)
            if (cls[p->col[k]] == cls[i])
                ok = false;
    free(cls);
    return ok;
}
