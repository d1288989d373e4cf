/*
 * Trains a small deep belief network and classifies with it, through the
 * public C API alone (boltzcl.h, libboltzcl). Build against an installed
 * library:
 *
 *   cc dbn_classify.c $(pkg-config --cflags --libs boltzcl) -o dbn_classify
 *   ./dbn_classify fashion-mnist fashion-mnist:test 10000
 *
 * Arguments (all optional): training data, test data, training rows to use
 * (0: all), and a least test accuracy below which the program exits 1.
 */
#include <boltzcl.h>

#include <stdio.h>
#include <stdlib.h>

/* Prints the failure with the context's detailed message. */
static int fail(bz_context *ctx, const char *what, bz_status st)
{
    fprintf(stderr, "dbn_classify: %s: %s: %s\n", what, bz_strerror(st), bz_last_error(ctx));
    return 1;
}

static void on_epoch(void *user, const bz_dbn_epoch_info *e)
{
    (void)user;
    printf("fine-tuning epoch %u: loss %.4f, training accuracy %.4f\n", e->epoch, e->loss,
           e->train_accuracy);
}

int main(int argc, char **argv)
{
    const char *train_spec = argc > 1 ? argv[1] : "fashion-mnist";
    const char *test_spec = argc > 2 ? argv[2] : "fashion-mnist:test";
    size_t rows = argc > 3 ? strtoul(argv[3], NULL, 10) : 10000;
    double least = argc > 4 ? strtod(argv[4], NULL) : 0;
    if (bz_abi_version() != BOLTZCL_ABI_VERSION) {
        fprintf(stderr, "dbn_classify: built for libboltzcl ABI %d, running with %u\n",
                BOLTZCL_ABI_VERSION, bz_abi_version());
        return 1;
    }

    bz_context *ctx = NULL;
    bz_dataset *train = NULL, *test = NULL;
    bz_dbn *dbn = NULL;
    bz_model *model = NULL;
    int32_t *pred = NULL;
    int rc = 1;
    bz_status st = bz_context_create(NULL, &ctx);
    if (st) {
        rc = fail(ctx, "no device", st);
        goto out;
    }
    printf("device: %s\n", bz_device_name(ctx));

    /* Data: pixels scaled to [0, 1]. */
    if ((st = bz_dataset_open(ctx, train_spec, &train)) ||
        (st = bz_dataset_open(ctx, test_spec, &test))) {
        rc = fail(ctx, "data", st);
        goto out;
    }
    bz_dataset_scale01(train);
    bz_dataset_scale01(test);
    size_t n = bz_dataset_rows(train), dim = bz_dataset_dim(train);
    size_t classes = bz_dataset_n_classes(train);
    if (rows && rows < n)
        n = rows;
    if (classes < 2 || bz_dataset_dim(test) != dim) {
        fprintf(stderr, "dbn_classify: need labelled data of the same width\n");
        goto out;
    }

    /* A dim-256-128 network with a softmax over the classes. */
    const size_t sizes[] = {dim, 256, 128};
    if ((st = bz_dbn_create(ctx, sizes, 2, classes, BZ_ACT_SIGMOID, 1, &dbn))) {
        rc = fail(ctx, "create", st);
        goto out;
    }
    /* Greedy pretraining: 2 epochs per layer of CD-1. */
    bz_rbm_train_options pre;
    bz_rbm_train_options_init(&pre);
    pre.batch_size = 50;
    const float *x = bz_dataset_x(train);
    const int32_t *y = bz_dataset_labels(train);
    if ((st = bz_dbn_pretrain(dbn, x, y, n, &pre, 2, NULL, NULL))) {
        rc = fail(ctx, "pretraining", st);
        goto out;
    }
    /* Fine-tuning, 10 epochs: the last tenth of the rows validates (early stopping). */
    bz_dbn_finetune_options ft;
    bz_dbn_finetune_options_init(&ft);
    ft.epochs = 10;
    ft.lr_decay = 0.1f;
    size_t nv = n / 10, nt = n - nv;
    bz_dbn_finetune_result res;
    if ((st = bz_dbn_finetune(dbn, x, y, nt, x + nt * dim, y + nt, nv, &ft, on_epoch, NULL,
                              &res))) {
        rc = fail(ctx, "fine-tuning", st);
        goto out;
    }
    printf("best epoch %u, validation accuracy %.4f\n", res.best_epoch, res.best_val_accuracy);

    /* Save, then classify through the generic handle that loads any kind. */
    const char *path = "dbn_classify.safetensors";
    if ((st = bz_dbn_save(dbn, path)) || (st = bz_model_load(ctx, path, &model))) {
        rc = fail(ctx, path, st);
        goto out;
    }
    size_t m = bz_dataset_rows(test);
    if (!(pred = malloc(m * sizeof *pred)))
        goto out;
    if ((st = bz_model_predict(model, bz_dataset_x(test), m, pred))) {
        rc = fail(ctx, "predict", st);
        goto out;
    }
    size_t right = 0;
    for (size_t i = 0; i < m; i++)
        right += pred[i] == bz_dataset_labels(test)[i];
    double acc = (double)right / (double)m;
    printf("%s model %s: test accuracy %.4f on %zu rows\n",
           bz_model_kind_name(bz_model_get_kind(model)), path, acc, m);
    rc = acc >= least ? 0 : 1;
    if (rc)
        fprintf(stderr, "dbn_classify: accuracy %.4f is below %.4f\n", acc, least);
out:
    free(pred);
    bz_model_free(model);
    bz_dbn_free(dbn);
    bz_dataset_close(train);
    bz_dataset_close(test);
    bz_context_free(ctx);
    return rc;
}
