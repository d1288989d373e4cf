/*
 * The tuner's memory: every candidate tried, in a text file appended line by
 * line, so a run that was stopped or crashed resumes without re-measuring.
 *   # boltzcl-tune state v1
 *   K <device>\t<driver>\t<boltzcl version>
 *   B <t per shape>                 CLBlast's built-in parameters
 *   C <mode> <status> <t per shape> | <all parameter values>
 * Times in seconds, 0 where not measured; status ok, slow, bad, fail, crash.
 */
#ifndef BZ_TUNER_TUNE_STATE_H
#define BZ_TUNER_TUNE_STATE_H

#include "tuning/params.h"

#include <stdbool.h>
#include <stdio.h>

#define BZ_TUNE_MAX_SHAPES 8

typedef struct bz_tune_result {
    int mode;
    char status[8];
    double t[BZ_TUNE_MAX_SHAPES];
    double total; /* sum of t when ok, else infinite */
    bz_tune_params p;
    char key[512]; /* encoded values: the identity of the candidate */
} bz_tune_result;

typedef struct bz_tune_state {
    bz_tune_result *r;
    size_t n, cap;
    bool have_baseline;
    double baseline[BZ_TUNE_MAX_SHAPES];
    FILE *f; /* open for appending */
} bz_tune_state;

/* Opens path, reading what a run on the same device key left there (all of
 * it is dropped when key differs or fresh is set). */
bool bz_tune_state_open(bz_tune_state *s, const char *path, const char *key, bool fresh,
                        size_t n_shapes, char *why, size_t size);
bool bz_tune_state_add(bz_tune_state *s, const bz_tune_result *r, size_t n_shapes);
void bz_tune_state_baseline(bz_tune_state *s, const double *t, size_t n_shapes);
const bz_tune_result *bz_tune_state_find(const bz_tune_state *s, const char *key);
void bz_tune_state_close(bz_tune_state *s);

#endif
