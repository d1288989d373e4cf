/*
 * Problem files and the Ising form, without a device: G-set/rudy Max-Cut,
 * sparse QUBO and Ising text, dense .npy and safetensors; every energy
 * against the problem's own definition over all states; refusals naming the
 * file and line; the annealing range and schedules.
 */
#include "io/npy.h"
#include "io/safetensors.h"
#include "models/anneal.h"
#include "models/ising.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

static char dir[64];

static const char *path_of(const char *name)
{
    static char p[160];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    return p;
}

static const char *write_text(const char *name, const char *text)
{
    const char *p = path_of(name);
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    return p;
}

static void spins_of(uint64_t code, uint32_t n, int8_t *s)
{
    for (uint32_t i = 0; i < n; i++)
        s[i] = (code >> i) & 1 ? 1 : -1;
}

static bz_ising *read_ok(const char *path, bz_problem_kind kind)
{
    bz_error err = {0};
    bz_ising *p = NULL;
    bz_status st = bz_ising_read(path, kind, &p, &err);
    if (st)
        fail_msg("reading %s: %s", path, err.msg);
    return p;
}

/* Refused with BZ_E_FORMAT (or `want`) and a message holding `needle`. */
static void refused(const char *path, bz_problem_kind kind, bz_status want, const char *needle)
{
    bz_error err = {0};
    bz_ising *p = NULL;
    bz_status st = bz_ising_read(path, kind, &p, &err);
    if (st != want || !strstr(err.msg, needle))
        fail_msg("%s: status %d, message '%s'; wanted %d with '%s'", path, (int)st, err.msg,
                 (int)want, needle);
    assert_null(p);
}

static void test_gset(void **state)
{
    (void)state;
    /* 5 vertices; a repeated edge (1,2) adds up to weight 3 */
    const char *p = write_text("g.txt", "5 6\n1 2 1\n2 3 -1\n3 4 2\n4 5 1\n5 1 1\n2 1 2\n");
    bz_ising *g = read_ok(p, BZ_PROBLEM_MAXCUT);
    assert_int_equal(g->n, 5);
    assert_int_equal(g->pairs, 5);
    int w[5][5] = {{0}};
    w[0][1] = w[1][0] = 3;
    w[1][2] = w[2][1] = -1;
    w[2][3] = w[3][2] = 2;
    w[3][4] = w[4][3] = 1;
    w[4][0] = w[0][4] = 1;
    int8_t s[5];
    for (uint64_t c = 0; c < 32; c++) {
        spins_of(c, 5, s);
        double cut = 0;
        for (int i = 0; i < 5; i++)
            for (int j = i + 1; j < 5; j++)
                if (s[i] != s[j])
                    cut += w[i][j];
        assert_true(bz_ising_objective(g, bz_ising_energy(g, s)) == cut);
    }
    assert_true(g->dense); /* 5 of 10 pairs */
    bz_ising_free(g);
    /* a sparse one: CSR with both directions, columns ascending */
    g = read_ok(write_text("g0.txt", "8 5\n8 1 1\n1 3 1\n3 8 2\n2 1 1\n5 8 -1\n"),
                BZ_PROBLEM_MAXCUT);
    assert_false(g->dense);
    assert_int_equal(g->nnz, 10);
    uint32_t want_col[] = {1, 2, 7, 0, 0, 7, 7, 0, 2, 4};
    assert_memory_equal(g->col, want_col, sizeof want_col);
    float want_val[] = {0.5f, 0.5f, 0.5f, 0.5f, 0.5f, 1.0f, -0.5f, 0.5f, 1.0f, -0.5f};
    assert_memory_equal(g->val, want_val, sizeof want_val);
    assert_true(g->offset == -2.0); /* minus half the total weight */
    bz_ising_free(g);

    refused(write_text("g1", "5 2\n1 2 1\n"), BZ_PROBLEM_MAXCUT, BZ_E_FORMAT, "g1:2: the header "
                                                                                 "gives 2");
    refused(write_text("g2", "5 1\n1 6 1\n"), BZ_PROBLEM_MAXCUT, BZ_E_FORMAT, "g2:2: vertex 6 out");
    refused(write_text("g3", "5 1\n0 2 1\n"), BZ_PROBLEM_MAXCUT, BZ_E_FORMAT, "1-based");
    refused(write_text("g4", "5 1\n2 2 1\n"), BZ_PROBLEM_MAXCUT, BZ_E_FORMAT, "g4:2: loop");
    refused(write_text("g5", "5 1\n1 2\n"), BZ_PROBLEM_MAXCUT, BZ_E_FORMAT, "g5:2: expected `i j");
    refused(write_text("g6", "5 1\n1 2 x\n"), BZ_PROBLEM_MAXCUT, BZ_E_FORMAT, "'x' is not");
    refused(write_text("g7", "5 1\n1 2 nan\n"), BZ_PROBLEM_MAXCUT, BZ_E_FORMAT, "g7:2:");
    refused(write_text("g8", "1 2 1\n"), BZ_PROBLEM_MAXCUT, BZ_E_FORMAT, "g8:1: a G-set");
    refused(write_text("g9", "five 1\n"), BZ_PROBLEM_MAXCUT, BZ_E_FORMAT, "g9:1: the header");
    refused(write_text("g10", "3 1\n1 2 1\n2 3 1\n"), BZ_PROBLEM_MAXCUT, BZ_E_FORMAT,
            "g10:3: more entries");
    refused(write_text("g11", "3 1\n1 2 1 7\n"), BZ_PROBLEM_MAXCUT, BZ_E_FORMAT, "g11:2:");
    refused(write_text("g12", ""), BZ_PROBLEM_MAXCUT, BZ_E_FORMAT, "no entries");
    refused(path_of("absent"), BZ_PROBLEM_MAXCUT, BZ_E_IO, "absent");
}

static void test_sparse_text(void **state)
{
    (void)state;
    /* QUBO: diagonal linear, both orders of a pair add up, comments */
    const char *q = write_text("q.txt", "# a QUBO\n4 6\n0 0 -1\n1 1 2.5\n0 1 3\n1 0 -1\n"
                                        "2 3 -4\n3 3 1\n");
    bz_ising *p = read_ok(q, BZ_PROBLEM_QUBO);
    assert_int_equal(p->n, 4);
    int8_t s[4];
    for (uint64_t c = 0; c < 16; c++) {
        spins_of(c, 4, s);
        int x[4];
        for (int i = 0; i < 4; i++)
            x[i] = s[i] > 0;
        double want = -1 * x[0] + 2.5 * x[1] + 2 * x[0] * x[1] - 4 * x[2] * x[3] + x[3];
        assert_true(fabs(bz_ising_energy(p, s) - want) < 1e-12);
    }
    bz_ising_free(p);
    /* Ising without a header: n from the largest index */
    p = read_ok(write_text("i.txt", "0 1 0.5\n1 2 -1\n2 2 0.25\n4 0 1\n"), BZ_PROBLEM_ISING);
    assert_int_equal(p->n, 5);
    int8_t t[5];
    for (uint64_t c = 0; c < 32; c++) {
        spins_of(c, 5, t);
        double want = 0.5 * t[0] * t[1] - t[1] * t[2] + 0.25 * t[2] + t[4] * t[0];
        assert_true(fabs(bz_ising_energy(p, t) - want) < 1e-12);
    }
    assert_int_equal(p->pairs, 3);
    bz_ising_free(p);
    refused(write_text("s1", "3 1\n0 3 1\n"), BZ_PROBLEM_ISING, BZ_E_FORMAT, "s1:2: index 3 out "
                                                                             "of range 0..2");
    refused(write_text("s2", "0 1 1\n\n1 2 inf\n"), BZ_PROBLEM_QUBO, BZ_E_FORMAT, "s2:3:");
    refused(write_text("s3", "0 -1 1\n"), BZ_PROBLEM_QUBO, BZ_E_FORMAT, "s3:1:");
    refused(write_text("s4", "0 1 1\n2 3\n"), BZ_PROBLEM_ISING, BZ_E_FORMAT, "s4:2: expected");
    refused(write_text("s5", "0 1 1e39\n"), BZ_PROBLEM_ISING, BZ_E_FORMAT, "overflows");
}

static void test_dense(void **state)
{
    (void)state;
    enum { N = 6 };
    float m[N * N];
    unsigned long long seed = 5;
    for (int k = 0; k < N * N; k++) {
        seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
        m[k] = (float)((int)((seed >> 40) % 9) - 4) / 2;
    }
    bz_error err = {0};
    assert_int_equal(bz_npy_write_f32_2d(path_of("j.npy"), m, N, N, &err), BZ_OK);
    bz_ising *q = read_ok(path_of("j.npy"), BZ_PROBLEM_QUBO);
    bz_ising *is = read_ok(path_of("j.npy"), BZ_PROBLEM_ISING);
    int8_t s[N];
    for (uint64_t c = 0; c < (1u << N); c++) {
        spins_of(c, N, s);
        double eq = 0, ei = 0;
        for (int i = 0; i < N; i++)
            for (int j = 0; j < N; j++) {
                eq += (double)m[i * N + j] * (s[i] > 0) * (s[j] > 0);
                ei += (double)m[i * N + j] * (i == j ? s[i] : s[i] * s[j]);
            }
        assert_true(fabs(bz_ising_energy(q, s) - eq) < 1e-9);
        assert_true(fabs(bz_ising_energy(is, s) - ei) < 1e-9);
    }
    assert_true(q->dense);
    bz_ising_free(q);

    /* safetensors: J (F64) and h (F32) */
    double md[N * N];
    float h[N];
    for (int k = 0; k < N * N; k++)
        md[k] = m[k];
    for (int i = 0; i < N; i++)
        h[i] = (float)i - 2.5f;
    bz_st_writer *w;
    assert_int_equal(bz_st_writer_create(&w, &err), BZ_OK);
    size_t shp[2] = {N, N}, hs[1] = {N};
    assert_int_equal(bz_st_writer_add(w, "J", BZ_ST_F64, 2, shp, md, 1, &err), BZ_OK);
    assert_int_equal(bz_st_writer_add(w, "h", BZ_ST_F32, 1, hs, h, 1, &err), BZ_OK);
    assert_int_equal(bz_st_writer_write(w, path_of("p.safetensors"), &err), BZ_OK);
    bz_st_writer_free(w);
    bz_ising *st = read_ok(path_of("p.safetensors"), BZ_PROBLEM_ISING);
    for (uint64_t c = 0; c < (1u << N); c++) {
        spins_of(c, N, s);
        double e = bz_ising_energy(is, s);
        for (int i = 0; i < N; i++)
            e += h[i] * s[i];
        assert_true(fabs(bz_ising_energy(st, s) - e) < 1e-9);
    }
    bz_ising_free(st);
    bz_ising_free(is);
    /* Max-Cut needs a symmetric adjacency matrix with a zero diagonal */
    refused(path_of("j.npy"), BZ_PROBLEM_MAXCUT, BZ_E_FORMAT, "diagonal");
    refused(path_of("p.safetensors"), BZ_PROBLEM_MAXCUT, BZ_E_FORMAT, "no tensor 'W'");
    float r[6] = {0};
    assert_int_equal(bz_npy_write_f32_2d(path_of("r.npy"), r, 2, 3, &err), BZ_OK);
    refused(path_of("r.npy"), BZ_PROBLEM_ISING, BZ_E_SHAPE, "square");
    /* a truncated .npy */
    FILE *f = fopen(path_of("j.npy"), "rb");
    char buf[400];
    size_t len = fread(buf, 1, sizeof buf, f);
    fclose(f);
    f = fopen(path_of("t.npy"), "wb");
    fwrite(buf, 1, len - 7, f);
    fclose(f);
    refused(path_of("t.npy"), BZ_PROBLEM_ISING, BZ_E_FORMAT, "shape needs 144");
    /* a foreign dtype */
    size_t at = 0;
    while (at + 3 < len && memcmp(buf + at, "<f4", 3) != 0)
        at++;
    assert_true(at + 3 < len);
    memcpy(buf + at, "<u2", 3);
    f = fopen(path_of("u.npy"), "wb");
    fwrite(buf, 1, len, f);
    fclose(f);
    refused(path_of("u.npy"), BZ_PROBLEM_ISING, BZ_E_FORMAT, "dtype");
    /* binary data that is no .npy */
    f = fopen(path_of("b.bin"), "wb");
    fwrite("\x01\x00\x02", 1, 3, f);
    fclose(f);
    refused(path_of("b.bin"), BZ_PROBLEM_ISING, BZ_E_FORMAT, "binary data");
}

/* Problem files go through the bounded reader of regular files: a FIFO or a
 * device is refused without blocking, and a .npy's declared size is checked
 * against memory before it is allocated. */
static void test_not_regular_and_memory(void **state)
{
    (void)state;
    const char *fifo = path_of("fifo.npy");
    assert_int_equal(mkfifo(fifo, 0600), 0);
    refused(fifo, BZ_PROBLEM_ISING, BZ_E_IO, "FIFO");
    refused(fifo, BZ_PROBLEM_MAXCUT, BZ_E_IO, "FIFO");
    unlink(fifo);
    refused("/dev/zero", BZ_PROBLEM_MAXCUT, BZ_E_IO, "device");
    float m[100 * 100] = {0};
    m[1] = m[100] = 1;
    bz_error err = {0};
    assert_int_equal(bz_npy_write_f32_2d(path_of("big.npy"), m, 100, 100, &err), BZ_OK);
    setenv("BOLTZCL_TEST_MEM_AVAILABLE", "20000", 1); /* the array needs 40,000 bytes */
    refused(path_of("big.npy"), BZ_PROBLEM_ISING, BZ_E_NOMEM, "memory available");
    setenv("BOLTZCL_TEST_MEM_AVAILABLE", "100000000", 1);
    bz_ising *p = read_ok(path_of("big.npy"), BZ_PROBLEM_ISING);
    unsetenv("BOLTZCL_TEST_MEM_AVAILABLE");
    assert_int_equal(p->n, 100);
    assert_int_equal(p->pairs, 1);
    bz_ising_free(p);
    unlink(path_of("big.npy"));
}

static void test_ranges_and_schedules(void **state)
{
    (void)state;
    bz_error err = {0};
    bz_ising_term t[] = {{0, 1, 1}, {1, 2, -1}, {0, 2, 1}, {2, 3, 1}};
    bz_ising *p = NULL;
    assert_int_equal(bz_ising_build_terms(BZ_PROBLEM_MAXCUT, 4, t, 4, "t", &p, &err), BZ_OK);
    double lo, hi, dmax, dmin;
    bz_ising_scales(p, &dmax, &dmin);
    assert_true(dmax == 3.0 && dmin == 1.0); /* vertex 2: three edges of 1/2, x2 */
    bz_ising_beta_range(p, &lo, &hi);
    assert_true(fabs(lo - log(2.0) / 3) < 1e-15 && fabs(hi - log(400.0)) < 1e-15);
    float b[9];
    bz_anneal_schedule(BZ_SCHEDULE_GEOMETRIC, 0.1, 10, 9, 3, b);
    assert_true(b[0] == 0.1f && b[2] == 0.1f && b[3] == 1.0f && b[8] == 10.0f);
    bz_anneal_schedule(BZ_SCHEDULE_LINEAR, 1, 2, 5, 1, b);
    assert_true(b[0] == 1.0f && b[2] == 1.5f && b[4] == 2.0f);
    bz_pt_options po;
    bz_pt_options_init(&po);
    assert_int_equal(bz_pt_ladder_size(p, &po), 4); /* ceil(2 ln(3 ln 400 / ln 2) / 2) = 4 */
    po.beta_min = 0.001;
    po.beta_max = 1000;
    assert_int_equal(bz_pt_ladder_size(p, &po), 14); /* ceil(2 ln 10^6 / 2) */
    po.temperatures = 7;
    assert_int_equal(bz_pt_ladder_size(p, &po), 7);
    bz_ising_free(p);
    /* linear terms are no edges */
    bz_ising_term loop[] = {{1, 1, 1}};
    assert_int_equal(bz_ising_build_terms(BZ_PROBLEM_MAXCUT, 3, loop, 1, "t", &p, &err),
                     BZ_E_FORMAT);
    assert_non_null(strstr(err.msg, "loop"));
    bz_ising_term far[] = {{0, 3, 1}};
    assert_int_equal(bz_ising_build_terms(BZ_PROBLEM_ISING, 3, far, 1, "t", &p, &err),
                     BZ_E_FORMAT);
}

/* Greedy colouring: valid on random sparse graphs, at most degree + 1
 * classes; the validity check catches a broken colouring. */
static void test_colouring(void **state)
{
    (void)state;
    unsigned long long seed = 9;
    for (int g = 0; g < 4; g++) {
        uint32_t n = 50 + 150 * g;
        bz_ising_term *t = malloc((size_t)n * 8 * sizeof *t);
        size_t m = 0;
        for (uint32_t i = 0; i < n; i++)
            for (int e = 0; e < 4; e++) {
                seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
                uint32_t j = (uint32_t)((seed >> 33) % n);
                if (j != i)
                    t[m++] = (bz_ising_term){i, j, (seed >> 20) & 1 ? 1.0 : -1.0};
            }
        bz_error err = {0};
        bz_ising *p = NULL;
        assert_int_equal(bz_ising_build_terms(BZ_PROBLEM_MAXCUT, n, t, m, "g", &p, &err), BZ_OK);
        bz_ising_colouring c;
        assert_int_equal(bz_ising_colour(p, &c, &err), BZ_OK);
        assert_true(bz_ising_colouring_valid(p, &c));
        uint32_t maxdeg = 0;
        for (uint32_t i = 0; i < n; i++)
            if (p->rowp[i + 1] - p->rowp[i] > maxdeg)
                maxdeg = p->rowp[i + 1] - p->rowp[i];
        assert_true(c.n_colours >= 2 && c.n_colours <= maxdeg + 1);
        /* move a coupled variable into its neighbour's class: invalid */
        uint32_t a = 0;
        while (p->rowp[a + 1] == p->rowp[a])
            a++;
        uint32_t b = p->col[p->rowp[a]];
        uint32_t qa = 0, qb = 0;
        for (uint32_t q = 0; q < n; q++) {
            qa = c.order[q] == a ? q : qa;
            qb = c.order[q] == b ? q : qb;
        }
        uint32_t ka = 0;
        while (c.start[ka + 1] <= qa)
            ka++;
        uint32_t kb = 0;
        while (c.start[kb + 1] <= qb)
            kb++;
        uint32_t other = c.start[kb] == qb ? c.order[c.start[kb] + 1] : c.order[c.start[kb]];
        if (c.start[kb + 1] - c.start[kb] > 1 && other != a) {
            /* swap a with another member of b's class */
            uint32_t qo = c.order[c.start[kb]] == b ? c.start[kb] + 1 : c.start[kb];
            c.order[qa] = c.order[qo];
            c.order[qo] = a;
            assert_false(bz_ising_colouring_valid(p, &c));
        }
        c.order[0] = c.order[1]; /* a variable twice, another missing */
        assert_false(bz_ising_colouring_valid(p, &c));
        bz_ising_colouring_free(&c);
        bz_ising_free(p);
        free(t);
    }
}

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/bz-ising-XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gset),
        cmocka_unit_test(test_sparse_text),
        cmocka_unit_test(test_dense),
        cmocka_unit_test(test_not_regular_and_memory),
        cmocka_unit_test(test_ranges_and_schedules),
        cmocka_unit_test(test_colouring),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
