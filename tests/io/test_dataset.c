/* Dataset loading (IDX with labels, CSV, named datasets) and transforms. */
#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <cmocka.h>

#include "io/dataset.h"
#include "io_test_util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int setup(void **state)
{
    *state = tu_mkdtemp();
    return 0;
}

static int teardown(void **state)
{
    tu_rmtree(*state);
    return 0;
}

/* n images of h x w with pixel (i, p) = (i*7 + p) % 256, labels i % 10. */
static void write_images(const char *path, uint32_t n, uint32_t h, uint32_t w, int gz)
{
    size_t sz = (size_t)n * h * w, len;
    uint8_t *px = malloc(sz + 1);
    for (size_t i = 0; i < n; i++)
        for (size_t p = 0; p < (size_t)h * w; p++)
            px[i * h * w + p] = (uint8_t)((i * 7 + p) % 256);
    const uint32_t d[3] = {n, h, w};
    uint8_t *b = tu_idx(0x08, 3, d, px, sz, &len);
    if (gz) {
        size_t gn;
        uint8_t *g = tu_gzip(b, len, &gn);
        tu_write_file(path, g, gn);
        free(g);
    } else {
        tu_write_file(path, b, len);
    }
    free(b);
    free(px);
}

static void write_labels(const char *path, uint32_t n, int gz)
{
    uint8_t *lab = malloc(n + 1);
    for (uint32_t i = 0; i < n; i++)
        lab[i] = (uint8_t)(i % 10);
    size_t len;
    const uint32_t d[1] = {n};
    uint8_t *b = tu_idx(0x08, 1, d, lab, n, &len);
    if (gz) {
        size_t gn;
        uint8_t *g = tu_gzip(b, len, &gn);
        tu_write_file(path, g, gn);
        free(g);
    } else {
        tu_write_file(path, b, len);
    }
    free(b);
    free(lab);
}

static void test_idx_with_labels_beside(void **state)
{
    char *im = tu_join(*state, "train-images-idx3-ubyte");
    char *lb = tu_join(*state, "train-labels-idx1-ubyte");
    write_images(im, 12, 3, 2, 0);
    write_labels(lb, 12, 0);
    bz_dataset ds;
    bz_error err = {0};
    assert_int_equal(bz_dataset_load(im, &ds, &err), BZ_OK);
    assert_int_equal(ds.n, 12);
    assert_int_equal(ds.dim, 6);
    assert_int_equal(ds.height, 3);
    assert_int_equal(ds.width, 2);
    assert_non_null(ds.labels);
    assert_int_equal(ds.n_classes, 10);
    assert_true(ds.max_value == 255.0f);
    assert_int_equal(ds.labels[11], 1);
    assert_true(ds.x[5 * 6 + 4] == (float)((5 * 7 + 4) % 256));
    assert_string_equal(ds.name, im);
    bz_dataset_free(&ds);
    assert_null(ds.x);
    free(im);
    free(lb);
}

static void test_idx_gz_label_patterns(void **state)
{
    /* Images gzipped, labels raw, MNIST mirror style "images.idx3". */
    char *im = tu_join(*state, "t10k-images.idx3-ubyte.gz");
    char *lb = tu_join(*state, "t10k-labels.idx1-ubyte");
    write_images(im, 5, 2, 2, 1);
    write_labels(lb, 5, 0);
    bz_dataset ds;
    bz_error err = {0};
    assert_int_equal(bz_dataset_load(im, &ds, &err), BZ_OK);
    assert_int_equal(ds.n, 5);
    assert_non_null(ds.labels);
    assert_int_equal(ds.labels[4], 4);
    bz_dataset_free(&ds);

    /* No labels file at all: labels NULL. */
    char *solo = tu_join(*state, "solo-images-idx3-ubyte");
    write_images(solo, 4, 2, 2, 0);
    assert_int_equal(bz_dataset_load(solo, &ds, &err), BZ_OK);
    assert_null(ds.labels);
    assert_int_equal(ds.n_classes, 0);
    bz_dataset_free(&ds);

    /* Explicit labels path. */
    char *other = tu_join(*state, "whatever.idx");
    write_labels(other, 4, 1);
    assert_int_equal(bz_dataset_load_idx(solo, other, &ds, &err), BZ_OK);
    assert_int_equal(ds.labels[3], 3);
    bz_dataset_free(&ds);
    free(other);
    free(solo);
    free(im);
    free(lb);
}

static void test_label_count_mismatch(void **state)
{
    char *im = tu_join(*state, "a-images-idx3-ubyte");
    char *lb = tu_join(*state, "a-labels-idx1-ubyte");
    write_images(im, 6, 2, 2, 0);
    write_labels(lb, 5, 0);
    bz_dataset ds;
    bz_error err = {0};
    assert_int_equal(bz_dataset_load(im, &ds, &err), BZ_E_SHAPE);
    assert_true(tu_has(err.msg, lb));
    assert_true(tu_has(err.msg, "5 labels, but"));
    assert_true(tu_has(err.msg, "has 6 images"));
    assert_null(ds.x);

    /* A labels file that exists but is corrupt is an error, not "no labels". */
    tu_write_file(lb, "\0\0\x08\x01\0\0\0\x06\x01", 9);
    assert_int_equal(bz_dataset_load(im, &ds, &err), BZ_E_FORMAT);
    assert_true(tu_has(err.msg, lb));
    assert_true(tu_has(err.msg, "truncated"));

    /* Labels with a float type or out-of-range values. */
    const uint32_t d1[1] = {6};
    uint8_t neg[24] = {0};
    neg[20] = 0xff;
    neg[21] = 0xff;
    neg[22] = 0xff;
    neg[23] = 0xff; /* label 5 = -1 */
    size_t n;
    uint8_t *b = tu_idx(0x0C, 1, d1, neg, sizeof neg, &n);
    tu_write_file(lb, b, n);
    free(b);
    assert_int_equal(bz_dataset_load(im, &ds, &err), BZ_E_FORMAT);
    assert_true(tu_has(err.msg, "label 5 is -1, expected 0 to 65535"));
    b = tu_idx(0x0D, 1, d1, neg, sizeof neg, &n);
    tu_write_file(lb, b, n);
    free(b);
    assert_int_equal(bz_dataset_load(im, &ds, &err), BZ_E_FORMAT);
    assert_true(tu_has(err.msg, "labels have element type f32"));

    /* Passing a labels file as the data. */
    write_labels(lb, 6, 0);
    assert_int_equal(bz_dataset_load(lb, &ds, &err), BZ_E_SHAPE);
    assert_true(tu_has(err.msg, "is this a labels file?"));
    free(im);
    free(lb);
}

static void test_non_finite_idx(void **state)
{
    char *p = tu_join(*state, "f.idx");
    const uint32_t d[2] = {2, 3};
    uint8_t payload[24] = {0};
    payload[4 * 4 + 0] = 0x7f; /* row 1, column 1 = NaN */
    payload[4 * 4 + 1] = 0xc0;
    size_t n;
    uint8_t *b = tu_idx(0x0D, 2, d, payload, sizeof payload, &n);
    tu_write_file(p, b, n);
    free(b);
    bz_dataset ds;
    bz_error err = {0};
    assert_int_equal(bz_dataset_load(p, &ds, &err), BZ_E_FORMAT);
    assert_true(tu_has(err.msg, "row 1, column 1: value is NaN"));
    assert_true(tu_has(err.msg, p));
    free(p);
}

static void test_csv_dataset(void **state)
{
    char *p = tu_join(*state, "digits.csv");
    const char *text = "label,pixel0,pixel1\n3,0,255\n1,-10,5\n";
    tu_write_file(p, text, strlen(text));
    bz_dataset ds;
    bz_error err = {0};
    assert_int_equal(bz_dataset_load(p, &ds, &err), BZ_OK);
    assert_int_equal(ds.n, 2);
    assert_int_equal(ds.dim, 2);
    assert_int_equal(ds.height, 0);
    assert_int_equal(ds.n_classes, 4);
    assert_true(ds.max_value == 255.0f);
    bz_dataset_scale01(&ds);
    assert_true(ds.x[1] == 1.0f);
    assert_true(fabsf(ds.x[2] + 10.0f / 255.0f) < 1e-7f);
    bz_dataset_free(&ds);
    tu_write_file(p, "label,a\n1,x\n", 12);
    assert_int_equal(bz_dataset_load(p, &ds, &err), BZ_E_FORMAT);
    assert_true(tu_has(err.msg, "line 2, column 2"));
    free(p);
}

static void test_named_dataset_from_data_dir(void **state)
{
    char *fm = tu_join(*state, "fashion-mnist");
    assert_int_equal(mkdir(fm, 0700), 0);
    char *a = tu_join(fm, "train-images-idx3-ubyte.gz");
    char *b = tu_join(fm, "train-labels-idx1-ubyte.gz");
    char *c = tu_join(fm, "t10k-images-idx3-ubyte.gz");
    write_images(a, 20, 4, 4, 1);
    write_labels(b, 20, 1);
    write_images(c, 7, 4, 4, 1);
    setenv("BOLTZCL_DATA_DIR", *state, 1);
    bz_dataset ds;
    bz_error err = {0};
    assert_int_equal(bz_dataset_load("fashion-mnist", &ds, &err), BZ_OK);
    assert_int_equal(ds.n, 20);
    assert_int_equal(ds.dim, 16);
    assert_int_equal(ds.n_classes, 10);
    assert_string_equal(ds.name, "fashion-mnist");
    bz_dataset_free(&ds);
    assert_int_equal(bz_dataset_load("fashion-mnist:train", &ds, &err), BZ_OK);
    bz_dataset_free(&ds);
    /* The test split's labels are missing. */
    assert_int_equal(bz_dataset_load("fashion-mnist:test", &ds, &err), BZ_E_IO);
    assert_true(tu_has(err.msg, "t10k-labels-idx1-ubyte.gz"));
    assert_true(tu_has(err.msg, "apt-get install dataset-fashion-mnist"));
    char *d = tu_join(fm, "t10k-labels-idx1-ubyte.gz");
    write_labels(d, 7, 1);
    assert_int_equal(bz_dataset_load("fashion-mnist:test", &ds, &err), BZ_OK);
    assert_int_equal(ds.n, 7);
    assert_string_equal(ds.name, "fashion-mnist:test");
    bz_dataset_free(&ds);
    assert_int_equal(bz_dataset_load("fashion-mnist:val", &ds, &err), BZ_E_INVALID_ARG);
    assert_true(tu_has(err.msg, "unknown split 'val'"));
    setenv("BOLTZCL_DATA_DIR", fm, 1); /* no fashion-mnist/ inside */
    assert_int_equal(bz_dataset_load("fashion-mnist", &ds, &err), BZ_E_IO);
    assert_true(tu_has(err.msg, "apt-get install dataset-fashion-mnist"));
    unsetenv("BOLTZCL_DATA_DIR");
    free(a);
    free(b);
    free(c);
    free(d);
    free(fm);
}

static void test_real_fashion_mnist(void **state)
{
    (void)state;
    const char *dir = "/usr/share/datasets/fashion-mnist";
    struct stat st;
    if (stat(dir, &st) != 0)
        skip();
    unsetenv("BOLTZCL_DATA_DIR");
    bz_dataset ds;
    bz_error err = {0};
    const char *specs[2] = {"fashion-mnist", "fashion-mnist:test"};
    const size_t want_n[2] = {60000, 10000};
    for (int s = 0; s < 2; s++) {
        assert_int_equal(bz_dataset_load(specs[s], &ds, &err), BZ_OK);
        assert_int_equal(ds.n, want_n[s]);
        assert_int_equal(ds.dim, 784);
        assert_int_equal(ds.height, 28);
        assert_int_equal(ds.width, 28);
        assert_int_equal(ds.n_classes, 10);
        assert_true(ds.max_value == 255.0f);
        size_t per_class[10] = {0};
        for (size_t i = 0; i < ds.n; i++) {
            assert_true(ds.labels[i] >= 0 && ds.labels[i] < 10);
            per_class[ds.labels[i]]++;
        }
        for (int k = 0; k < 10; k++)
            assert_int_equal(per_class[k], want_n[s] / 10); /* balanced classes */
        float mx = 0;
        for (size_t i = 0; i < ds.n * ds.dim; i++)
            if (ds.x[i] > mx)
                mx = ds.x[i];
        assert_true(mx == 255.0f);
        bz_dataset_free(&ds);
    }
}

static bz_dataset make_ds(size_t n, size_t dim)
{
    bz_dataset ds;
    memset(&ds, 0, sizeof ds);
    ds.n = n;
    ds.dim = dim;
    ds.x = malloc(n * dim * sizeof(float));
    ds.labels = malloc(n * sizeof(int32_t));
    for (size_t i = 0; i < n; i++) {
        ds.labels[i] = (int32_t)i; /* row id, to follow rows through shuffles */
        for (size_t j = 0; j < dim; j++)
            ds.x[i * dim + j] = (float)(i * 10 + j);
    }
    ds.n_classes = (int)n;
    ds.max_value = (float)((n - 1) * 10 + dim - 1);
    snprintf(ds.name, sizeof ds.name, "synthetic");
    return ds;
}

static void test_transforms(void **state)
{
    (void)state;
    bz_dataset ds = make_ds(4, 3);
    for (size_t i = 0; i < 4; i++)
        ds.x[i * 3 + 2] = 5.0f; /* constant column */
    float mean[3], sd[3];
    bz_dataset_standardize(&ds, mean, sd);
    assert_true(fabsf(mean[0] - 15.0f) < 1e-6f);
    assert_true(fabsf(sd[0] - sqrtf(125.0f)) < 1e-4f);
    assert_true(mean[2] == 5.0f);
    assert_true(sd[2] == 1e-8f);
    for (size_t j = 0; j < 2; j++) {
        double m = 0, v = 0;
        for (size_t i = 0; i < 4; i++)
            m += ds.x[i * 3 + j];
        m /= 4;
        for (size_t i = 0; i < 4; i++)
            v += (ds.x[i * 3 + j] - m) * (ds.x[i * 3 + j] - m);
        assert_true(fabs(m) < 1e-6 && fabs(v / 4 - 1) < 1e-5);
    }
    for (size_t i = 0; i < 4; i++)
        assert_true(ds.x[i * 3 + 2] == 0.0f);
    bz_error err = {0};
    assert_int_equal(bz_dataset_check_finite(&ds, &err), BZ_OK);

    /* Applying the same statistics to other data gives the same result. */
    bz_dataset other = make_ds(4, 3);
    for (size_t i = 0; i < 4; i++)
        other.x[i * 3 + 2] = 5.0f;
    bz_dataset_apply_standardization(&other, mean, sd);
    assert_memory_equal(other.x, ds.x, 12 * sizeof(float));
    bz_dataset_free(&other);

    bz_dataset_binarize(&ds, 0.0f);
    for (size_t i = 0; i < 12; i++)
        assert_true(ds.x[i] == 0.0f || ds.x[i] == 1.0f);
    assert_true(ds.x[0] == 0.0f && ds.x[9] == 1.0f);
    assert_true(ds.max_value == 1.0f);

    ds.x[7] = INFINITY;
    assert_int_equal(bz_dataset_check_finite(&ds, &err), BZ_E_FORMAT);
    assert_true(tu_has(err.msg, "synthetic: row 2, column 1: value is Inf"));
    bz_dataset_free(&ds);

    ds = make_ds(3, 2);
    bz_dataset_scale01(&ds);
    assert_true(ds.x[5] == 1.0f);
    assert_true(ds.max_value == 1.0f);
    bz_dataset_free(&ds);
}

static void test_split_and_subset(void **state)
{
    (void)state;
    bz_dataset ds = make_ds(100, 3);
    bz_dataset tr, va, tr2, va2;
    bz_error err = {0};
    assert_int_equal(bz_dataset_split(&ds, 0.2, 42, &tr, &va, &err), BZ_OK);
    assert_int_equal(va.n, 20);
    assert_int_equal(tr.n, 80);
    assert_int_equal(tr.dim, 3);
    /* Every row appears exactly once, with its own features. */
    int seen[100] = {0};
    const bz_dataset *parts[2] = {&tr, &va};
    for (int p = 0; p < 2; p++)
        for (size_t i = 0; i < parts[p]->n; i++) {
            int32_t id = parts[p]->labels[i];
            seen[id]++;
            assert_true(parts[p]->x[i * 3 + 1] == (float)(id * 10 + 1));
        }
    for (int i = 0; i < 100; i++)
        assert_int_equal(seen[i], 1);
    /* It is shuffled... */
    int in_order = 1;
    for (size_t i = 0; i < tr.n; i++)
        in_order &= tr.labels[i] == (int32_t)i;
    assert_false(in_order);
    /* ...the same way for the same seed, differently for another. */
    assert_int_equal(bz_dataset_split(&ds, 0.2, 42, &tr2, &va2, &err), BZ_OK);
    assert_memory_equal(tr.labels, tr2.labels, tr.n * sizeof(int32_t));
    assert_memory_equal(va.x, va2.x, va.n * 3 * sizeof(float));
    bz_dataset_free(&tr2);
    bz_dataset_free(&va2);
    assert_int_equal(bz_dataset_split(&ds, 0.2, 43, &tr2, &va2, &err), BZ_OK);
    assert_memory_not_equal(tr.labels, tr2.labels, tr.n * sizeof(int32_t));
    bz_dataset_free(&tr2);
    bz_dataset_free(&va2);
    /* Pinned permutation: the shuffle must not change between releases. */
    assert_int_equal(bz_dataset_split(&ds, 0.0, 1, &tr2, &va2, &err), BZ_OK);
    assert_int_equal(va2.n, 0);
    assert_int_equal(tr2.n, 100);
    const int32_t first[5] = {32, 42, 35, 28, 3};
    assert_memory_equal(tr2.labels, first, sizeof first);
    bz_dataset_free(&tr2);
    bz_dataset_free(&va2);
    bz_dataset_free(&tr);
    bz_dataset_free(&va);

    assert_int_equal(bz_dataset_split(&ds, 1.0, 1, &tr, &va, &err), BZ_E_INVALID_ARG);
    assert_true(tu_has(err.msg, "outside [0, 1)"));
    assert_int_equal(bz_dataset_split(&ds, 0.001, 1, &tr, &va, &err), BZ_E_INVALID_ARG);
    assert_true(tu_has(err.msg, "empty validation set"));

    bz_dataset sub;
    assert_int_equal(bz_dataset_subset(&ds, 10, 5, &sub, &err), BZ_OK);
    assert_int_equal(sub.n, 5);
    assert_int_equal(sub.labels[0], 10);
    assert_true(sub.x[4 * 3 + 2] == 142.0f);
    assert_string_equal(sub.name, "synthetic");
    bz_dataset_free(&sub);
    assert_int_equal(bz_dataset_subset(&ds, 98, 5, &sub, &err), BZ_E_INVALID_ARG);
    assert_true(tu_has(err.msg, "rows 98..103 requested, dataset has 100 rows"));
    assert_int_equal(bz_dataset_subset(&ds, SIZE_MAX, 2, &sub, &err), BZ_E_INVALID_ARG);
    bz_dataset_free(&ds);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_idx_with_labels_beside, setup, teardown),
        cmocka_unit_test_setup_teardown(test_idx_gz_label_patterns, setup, teardown),
        cmocka_unit_test_setup_teardown(test_label_count_mismatch, setup, teardown),
        cmocka_unit_test_setup_teardown(test_non_finite_idx, setup, teardown),
        cmocka_unit_test_setup_teardown(test_csv_dataset, setup, teardown),
        cmocka_unit_test_setup_teardown(test_named_dataset_from_data_dir, setup, teardown),
        cmocka_unit_test(test_real_fashion_mnist),
        cmocka_unit_test(test_transforms),
        cmocka_unit_test(test_split_and_subset),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
