/*
 * The MPI side of data-parallel training (see dist.h): MPI start and end, the
 * collectives behind bz_comm, per-rank device choice and job-wide abort.
 */
#include "dist/dist.h"
#include "engine/engine.h"

#include <mpi.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* MPI counts are int: long buffers go in pieces of at most this many. */
#define CHUNK ((size_t)1 << 30)

static bz_status mpi_failed(bz_comm *c, int rc, const char *what)
{
    char msg[MPI_MAX_ERROR_STRING];
    int len = 0;
    if (MPI_Error_string(rc, msg, &len) != MPI_SUCCESS)
        snprintf(msg, sizeof msg, "error %d", rc);
    snprintf(c->error, sizeof c->error, "%s failed on rank %d: %s", what, c->rank, msg);
    return BZ_E_IO;
}

static bz_status sum_f32(bz_comm *c, float *x, size_t n)
{
    for (size_t off = 0; off < n; off += CHUNK) {
        size_t m = n - off < CHUNK ? n - off : CHUNK;
        int rc = MPI_Allreduce(MPI_IN_PLACE, x + off, (int)m, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
        if (rc != MPI_SUCCESS)
            return mpi_failed(c, rc, "MPI_Allreduce");
    }
    return BZ_OK;
}

static bz_status sum_f64(bz_comm *c, double *x, size_t n)
{
    int rc = MPI_Allreduce(MPI_IN_PLACE, x, (int)n, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
    return rc == MPI_SUCCESS ? BZ_OK : mpi_failed(c, rc, "MPI_Allreduce");
}

static bz_status bcast_f32(bz_comm *c, float *x, size_t n)
{
    for (size_t off = 0; off < n; off += CHUNK) {
        size_t m = n - off < CHUNK ? n - off : CHUNK;
        int rc = MPI_Bcast(x + off, (int)m, MPI_FLOAT, 0, MPI_COMM_WORLD);
        if (rc != MPI_SUCCESS)
            return mpi_failed(c, rc, "MPI_Bcast");
    }
    return BZ_OK;
}

static bz_status bcast_u64(bz_comm *c, uint64_t *x, size_t n)
{
    int rc = MPI_Bcast(x, (int)n, MPI_UINT64_T, 0, MPI_COMM_WORLD);
    return rc == MPI_SUCCESS ? BZ_OK : mpi_failed(c, rc, "MPI_Bcast");
}

int bz_dist_init(int *argc, char ***argv, bz_comm **out)
{
    *out = NULL;
    int inited = 0;
    MPI_Initialized(&inited);
    if (!inited && MPI_Init(argc, argv) != MPI_SUCCESS) {
        fprintf(stderr, "boltzcl: MPI_Init failed; start the job with mpirun -np N\n");
        return -1;
    }
    bz_comm *c = calloc(1, sizeof *c);
    if (!c) {
        fprintf(stderr, "boltzcl: out of memory\n");
        MPI_Abort(MPI_COMM_WORLD, 1);
        return -1;
    }
    MPI_Comm_rank(MPI_COMM_WORLD, &c->rank);
    MPI_Comm_size(MPI_COMM_WORLD, &c->size);
    /* Ranks on this node, from a shared-memory split (works under any
     * launcher); Open MPI's variable only as a fallback. */
    MPI_Comm node;
    if (MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, c->rank, MPI_INFO_NULL,
                            &node) == MPI_SUCCESS) {
        MPI_Comm_rank(node, &c->local_rank);
        MPI_Comm_free(&node);
    } else {
        const char *lr = getenv("OMPI_COMM_WORLD_LOCAL_RANK");
        c->local_rank = lr ? atoi(lr) : 0;
    }
    /* Failures come back as codes, so a rank can say what broke before the
     * job is ended. */
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    c->sum_f32 = sum_f32;
    c->sum_f64 = sum_f64;
    c->bcast_f32 = bcast_f32;
    c->bcast_u64 = bcast_u64;
    *out = c;
    return 0;
}

void bz_dist_finalize(bz_comm *c)
{
    free(c);
    int fin = 0;
    MPI_Finalized(&fin);
    if (!fin)
        MPI_Finalize();
}

void bz_dist_abort(bz_comm *c, int code, const char *fmt, ...)
{
    char host[MPI_MAX_PROCESSOR_NAME] = "?";
    int len = 0;
    MPI_Get_processor_name(host, &len);
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fprintf(stderr, "boltzcl: rank %d of %d (%s): %s; ending the whole job\n", c ? c->rank : -1,
            c ? c->size : 0, host, msg);
    fflush(stderr);
    MPI_Abort(MPI_COMM_WORLD, code ? code : 1);
    exit(code ? code : 1); /* not reached */
}

void bz_dist_pick_device(const bz_comm *c, const char *user_sel, char *out, size_t size)
{
    const char *sel_text = user_sel ? user_sel : getenv("BOLTZCL_DEVICE");
    snprintf(out, size, "%s", sel_text ? sel_text : "");
    bz_device_selector sel;
    bz_error err = {0};
    if (bz_device_selector_parse(sel_text, &sel, &err) || sel.kind == BZ_SEL_INDEX)
        return; /* one device named, or a bad selector the context will explain */
    bz_device_info *devs = NULL;
    size_t n = 0;
    if (bz_devices_list(&devs, &n, &err) || n == 0) {
        free(devs);
        return;
    }
    size_t *order = malloc(n * sizeof *order);
    size_t m = order ? bz_devices_rank(devs, n, &sel, order) : 0;
    if (m > 0) {
        /* Round-robin over the devices of the best type that matched. */
        cl_device_type best = devs[order[0]].type & (CL_DEVICE_TYPE_GPU | CL_DEVICE_TYPE_ACCELERATOR |
                                                     CL_DEVICE_TYPE_CPU);
        size_t same = 0;
        while (same < m && (devs[order[same]].type & best))
            same++;
        same = same ? same : m;
        const bz_device_info *d = &devs[order[(size_t)c->local_rank % same]];
        snprintf(out, size, "%u:%u", d->platform_index, d->device_index);
    }
    free(order);
    free(devs);
}

static double wall(void)
{
    return MPI_Wtime();
}

void bz_dist_barrier(void)
{
    MPI_Barrier(MPI_COMM_WORLD);
}

double bz_dist_max(double x)
{
    MPI_Allreduce(MPI_IN_PLACE, &x, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
    return x;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double bz_dist_time_allreduce(bz_comm *c, size_t n, int reps, double *best)
{
    reps = reps < 1 ? 1 : reps;
    float *x = calloc(n ? n : 1, sizeof *x);
    double *t = calloc((size_t)reps, sizeof *t);
    if (!x || !t) {
        free(x);
        free(t);
        return -1;
    }
    sum_f32(c, x, n); /* warm-up: connections, buffers */
    for (int i = 0; i < reps; i++) {
        MPI_Barrier(MPI_COMM_WORLD);
        double t0 = wall();
        sum_f32(c, x, n);
        t[i] = wall() - t0;
    }
    /* Per repetition the slowest rank's time is the job's; report the
     * median (robust on a loaded machine) and the fastest. */
    MPI_Allreduce(MPI_IN_PLACE, t, reps, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
    qsort(t, (size_t)reps, sizeof *t, cmp_double);
    double med = t[reps / 2];
    if (best)
        *best = t[0];
    free(x);
    free(t);
    return med;
}
