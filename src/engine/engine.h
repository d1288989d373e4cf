/*
 * The engine's internal view of a context: the OpenCL objects, the device's
 * description, the kernel program and its cache. Only the library and its
 * tests include this; applications see the opaque handle in boltzcl.h.
 */
#ifndef BZ_ENGINE_ENGINE_H
#define BZ_ENGINE_ENGINE_H

#include "boltzcl.h"
#include "base/error.h"

#include <CL/cl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- devices (device.c) ------------------------------------------------ */

typedef struct bz_device_info {
    cl_platform_id platform;
    cl_device_id id;
    unsigned platform_index, device_index;
    char platform_name[128];
    char name[256];
    char vendor[128];
    char driver[128];  /* CL_DRIVER_VERSION */
    char version[128]; /* CL_DEVICE_VERSION */
    cl_device_type type;
    cl_uint compute_units;
    cl_ulong global_mem, max_alloc, local_mem;
    size_t max_work_group;
    bool is_pocl;
} bz_device_info;

typedef enum bz_selector_kind {
    BZ_SEL_AUTO,  /* GPU first, then accelerators, then the CPU */
    BZ_SEL_INDEX, /* "P:D" */
    BZ_SEL_GPU,
    BZ_SEL_CPU,
    BZ_SEL_NAME /* case-insensitive substring of the device name */
} bz_selector_kind;

typedef struct bz_device_selector {
    bz_selector_kind kind;
    unsigned platform, device;
    char name[128];
} bz_device_selector;

/* Lists every device of every platform. BZ_E_NO_PLATFORM (naming the Debian
 * package to install) when the ICD loader finds no platform. */
bz_status bz_devices_list(bz_device_info **out, size_t *count, bz_error *err);

/* Parses a BOLTZCL_DEVICE / --device value. NULL or "" means automatic. */
bz_status bz_device_selector_parse(const char *text, bz_device_selector *sel, bz_error *err);

/* Writes into order[] the indices of the devices that match sel, best first,
 * and returns how many there are. */
size_t bz_devices_rank(const bz_device_info *devs, size_t count, const bz_device_selector *sel,
                       size_t *order);

/* Appends a one-line-per-device listing to buf (for error messages). */
void bz_devices_describe(const bz_device_info *devs, size_t count, char *buf, size_t size);

/* ---- buffers (buffer.c) ------------------------------------------------ */

typedef struct bz_buf {
    cl_mem mem;
    size_t count; /* number of floats (or 32-bit words) */
} bz_buf;

/* ---- the context --------------------------------------------------------- */

#define BZ_MAX_KERNELS 64

typedef struct bz_kernel_entry {
    char name[48];
    cl_kernel kernel;
} bz_kernel_entry;

struct bz_context {
    bz_error err;
    bz_log_fn log;
    void *log_user;
    int log_level;

    bz_device_info dev;
    cl_context cl;
    cl_command_queue queue;
    bool ready; /* device opened, program built, self-test passed */
    const struct bz_device_hooks *hooks; /* set-up and check from above (bz_context_open) */

    int binary_cache; /* resolved: 0 or 1 */
    char cache_dir[1024];
    char kernel_dir[1024];

    cl_program program;
    bz_kernel_entry kernels[BZ_MAX_KERNELS];
    size_t n_kernels;

    /* binary-cache statistics, for tests and `devices --check` */
    unsigned cache_hits, cache_stores;

    /* work-group size for 1-D element-wise kernels (tunable) */
    size_t wg_elementwise;

    /* tuning (src/tuning): the explicit file or "off" ("" = search path),
     * and which entry is in force, for `boltzcl devices --check` */
    char tuning_file[1024];
    char tuning_source[640];
    struct bz_tuning_state *tuning; /* tuning/apply.h; NULL when none was read */

    /* CLBlast's temporary buffer, kept between products (blas/gemm.c) */
    struct bz_gemm_temp *gemm_temp;

    /* BOLTZCL_PROFILE=1: every launch is timed (synchronously) per name and
     * the totals are logged when the context is freed */
    bool profile;
    size_t n_prof;
    struct {
        char name[48];
        double seconds;
        unsigned long calls;
    } prof[BZ_MAX_KERNELS];

    /* fault injection (tests): the N-th fallible engine operation fails */
    long fault_countdown;
};

/* ---- logging and errors (log.c) ------------------------------------------ */

void bz_log(bz_context *ctx, int level, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Records an error on the context and returns its status. */
bz_status bz_fail(bz_context *ctx, bz_status status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Records a failed OpenCL call: "clEnqueueNDRangeKernel(sigmoid) failed:
 * CL_OUT_OF_RESOURCES (-5)". Maps allocation failures to BZ_E_DEVICE_MEM. */
bz_status bz_cl_fail(bz_context *ctx, cl_int code, const char *call, const char *what);

/* True when fault injection says this operation must fail (see README,
 * BOLTZCL_FAULT). */
bool bz_fault_hit(bz_context *ctx);

/* ---- program and kernels (program.c) --------------------------------------- */

/* Reads the text of a kernel file by name: from kernel_dir when set, else the
 * embedded copy. Caller frees. */
bz_status bz_kernel_source_read(bz_context *ctx, const char *name, char **text, size_t *len);

/* Builds a program from the named sources (concatenated in order) with the
 * given extra options; on compile errors returns BZ_E_BUILD with the head of
 * the build log in the context's error. Uses the binary cache when enabled. */
bz_status bz_program_build(bz_context *ctx, const char *const *files, size_t n_files,
                           const char *options, cl_program *out);

/* The engine's own kernels, from the main program (built at context creation). */
bz_status bz_kernel(bz_context *ctx, const char *name, cl_kernel *out);

/* Options every program gets: "-cl-std=CL1.2 ..." */
const char *bz_program_base_options(void);

/* ---- buffers (buffer.c) ---------------------------------------------------- */

bz_status bz_buf_alloc(bz_context *ctx, bz_buf *buf, size_t count);
/* Device memory boltzcl plans to use at most: all of a GPU's, half of what a
 * CPU device reports (its buffers are host memory, which also holds the
 * host-side copies of data and models, and POCL reports free RAM). */
size_t bz_device_budget(const bz_context *ctx);
void bz_buf_release(bz_buf *buf);
bz_status bz_buf_write(bz_context *ctx, bz_buf *buf, size_t offset, const void *src, size_t count);
bz_status bz_buf_read(bz_context *ctx, const bz_buf *buf, size_t offset, void *dst, size_t count);
bz_status bz_buf_fill(bz_context *ctx, bz_buf *buf, float value, size_t offset, size_t count);
bz_status bz_buf_copy(bz_context *ctx, const bz_buf *src, size_t src_off, bz_buf *dst,
                      size_t dst_off, size_t count);
/* rows x cols floats from src (rows pitch src_pitch floats apart) to dst
 * (dst_pitch apart), both from offset 0. */
bz_status bz_buf_copy_rect(bz_context *ctx, const bz_buf *src, size_t src_pitch, bz_buf *dst,
                           size_t dst_pitch, size_t rows, size_t cols);
/* dst (dst_rows x dst_cols) = src (rows x src_cols, no larger) in its top
 * left corner and `fill` everywhere else; rows = 1 for vectors. */
bz_status bz_buf_copy_padded(bz_context *ctx, const bz_buf *src, size_t src_cols, size_t rows,
                             bz_buf *dst, size_t dst_cols, size_t dst_rows, float fill);

/* ---- profiling (log.c) ----------------------------------------------------- */

/* With profiling on, wraps a launch: returns a start time after draining the
 * queue, and bz_prof_end adds the elapsed time to `name`. */
double bz_prof_begin(bz_context *ctx);
void bz_prof_end(bz_context *ctx, const char *name, double t0);
void bz_prof_report(bz_context *ctx);

/* ---- opening a context ---------------------------------------------------- */

/* What the layers above the engine do with each candidate device: set up
 * the GEMM library (blas), then check the device (the known-answer
 * self-test, which needs ops and ref), and undo the set-up when the device
 * is closed. The engine calls them without knowing what they are, so it
 * depends on nothing above it. Any hook may be NULL. */
typedef struct bz_device_hooks {
    bz_status (*setup)(bz_context *ctx);
    bz_status (*check)(bz_context *ctx);
    void (*teardown)(bz_context *ctx);
} bz_device_hooks;

/* Opens a context as bz_context_create documents, trying candidate devices
 * best first and skipping one whose set-up or check fails. hooks must stay
 * valid for the context's life (a static table). */
bz_status bz_context_open(const bz_context_options *opts, const bz_device_hooks *hooks,
                          bz_context **out);

/* ---- pacing a training loop (pace.c) ------------------------------------- */

/* At most two steps in flight: bz_pace_step after each step's commands
 * waits for the step before last; bz_pace_end releases what is left. */
typedef struct bz_pacer {
    cl_event mark[2];
    unsigned next;
} bz_pacer;

bz_status bz_pace_step(bz_context *ctx, bz_pacer *p);
void bz_pace_end(bz_pacer *p);

/* ---- enqueue helper -------------------------------------------------------- */

/* A kernel argument: its size and where its value is. The BZ_KARG_* macros
 * make one from a buffer or a value (a compound literal that lives to the
 * end of the enclosing block). */
typedef struct bz_kernel_arg {
    size_t size;
    const void *value;
} bz_kernel_arg;
#define BZ_KARG_BUF(b) ((bz_kernel_arg){sizeof(cl_mem), &(b)->mem})
#define BZ_KARG_U32(v) ((bz_kernel_arg){sizeof(cl_uint), &(cl_uint){(cl_uint)(v)}})
#define BZ_KARG_I32(v) ((bz_kernel_arg){sizeof(cl_int), &(cl_int){(cl_int)(v)}})
#define BZ_KARG_U64(v) ((bz_kernel_arg){sizeof(cl_ulong), &(cl_ulong){(cl_ulong)(v)}})
#define BZ_KARG_F32(v) ((bz_kernel_arg){sizeof(cl_float), &(cl_float){(cl_float)(v)}})

/* Sets the n arguments of k (a kernel of any program); a failure names the
 * kernel and the argument's index. */
bz_status bz_kernel_set_args(bz_context *ctx, cl_kernel k, const char *name,
                             const bz_kernel_arg *args, size_t n);

/* Launches a 1-D kernel over `global` items (rounded up to the work-group). */
bz_status bz_launch1d(bz_context *ctx, cl_kernel k, const char *name, size_t global);
/* Launches a kernel over a rows x cols grid: dimension 0 the column j,
 * dimension 1 the row r (both rounded up to the work-group, which the kernel
 * guards against). Kernels of per-column operands (biases) take j from the
 * grid instead of i % cols: integer division does not vectorise on CPU
 * devices, and it cost as much as the work of such a kernel there. */
bz_status bz_launch_rows(bz_context *ctx, cl_kernel k, const char *name, size_t rows,
                         size_t cols);

#endif
