/* What the RBM commands share: loading and preparing data the way a model
 * expects it, and drawing pictures of models and samples. */
#ifndef BZ_CLI_RBM_COMMON_H
#define BZ_CLI_RBM_COMMON_H

#include "io/dataset.h"
#include "models/rbm.h"

#include <json-c/json.h>

typedef enum bz_binarize { BZ_BIN_NONE, BZ_BIN_THRESHOLD, BZ_BIN_STOCHASTIC } bz_binarize;

typedef struct bz_prep {
    bool scale;        /* to [0, 1] */
    bz_binarize binarize;
    float threshold;
    bool standardize;  /* per feature; for Gaussian visible units */
} bz_prep;

/* Parses --binarize none|threshold|stochastic|<threshold value>. */
int bz_cli_parse_binarize(const char *cmd, const char *text, bz_prep *p);

/* Loads `spec` and applies the preparation; prints the error and returns
 * non-zero on failure. */
int bz_cli_load(const char *cmd, const char *spec, const bz_prep *p, bz_dataset *ds);

/* Prepares data for an existing model: the scaling and binarisation recorded
 * in its metadata, and its standardisation when it has one. */
int bz_cli_load_for_model(const char *cmd, const char *spec, bz_rbm *rbm, bz_dataset *ds);
/* The same for a model of any kind. */
int bz_cli_load_for(const char *cmd, const char *spec, bz_model *m, bz_dataset *ds);

/* Loads a model file through the registry, of `kind` when not NULL
 * ("dbn"); prints the loader's message and returns NULL on failure. */
bz_model *bz_cli_load_model(const char *cmd, bz_context *ctx, const char *path,
                            const char *kind);

/* Tile shape for pictures of rows of `dim` values: the image shape when the
 * model or data knows it, a square when dim is one, else a strip. */
void bz_cli_tile_shape(size_t dim, size_t height, size_t width, size_t *th, size_t *tw);

int bz_cli_write_filters(const char *cmd, bz_rbm *rbm, size_t th, size_t tw, const char *path);
int bz_cli_write_samples(const char *cmd, bz_rbm *rbm, size_t n, unsigned steps, uint64_t seed,
                         const float *init, size_t th, size_t tw, const char *path);
int bz_cli_write_recon(const char *cmd, bz_rbm *rbm, const bz_dataset *ds, size_t n, size_t th,
                       size_t tw, const char *path);

/* Undoes standardisation so pictures show pixels, in place. */
void bz_cli_unstandardize(const bz_rbm *rbm, float *x, size_t rows);

/* o as one line of JSON text (owned by o), non-finite numbers as null. */
const char *bz_cli_json_text(json_object *o);

/* Prints a JSON object on stdout, one line (bz_cli_json_text). */
void bz_cli_print_json(json_object *o);

#endif
