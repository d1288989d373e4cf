/*
 * Kernel sources, program builds and the compiled-binary cache.
 *
 * Binaries are cached only on GPU drivers by default: POCL keeps its own
 * cache, and reading CL_PROGRAM_BINARIES back from POCL makes it build extra
 * generic variants. The cache key hashes the sources, options, device,
 * driver and engine version; the entry also stores the key text itself, so a
 * stale, foreign or truncated entry is detected and rebuilt.
 */
#include "engine/engine.h"
#include "engine/hash.h"
#include "engine/kernel_sources.h"
#include "base/atomic_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CACHE_MAGIC "BZCLBIN1"
#define BUILD_LOG_HEAD 1500

const char *bz_program_base_options(void)
{
    return "-cl-std=CL1.2";
}

static bz_status read_file(bz_context *ctx, const char *path, char **text, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return bz_fail(ctx, BZ_E_IO, "cannot open kernel source %s: %s", path, strerror(errno));
    char *buf = NULL;
    size_t n = 0, cap = 0;
    for (;;) {
        if (n + 4096 + 1 > cap) {
            cap = cap ? cap * 2 : 16384;
            char *g = realloc(buf, cap);
            if (!g) {
                free(buf);
                fclose(f);
                return bz_fail(ctx, BZ_E_NOMEM, "out of memory reading %s", path);
            }
            buf = g;
        }
        size_t r = fread(buf + n, 1, 4096, f);
        n += r;
        if (r < 4096)
            break;
    }
    bool bad = ferror(f);
    fclose(f);
    if (bad) {
        free(buf);
        return bz_fail(ctx, BZ_E_IO, "error reading kernel source %s", path);
    }
    buf[n] = '\0';
    *text = buf;
    *len = n;
    return BZ_OK;
}

bz_status bz_kernel_source_read(bz_context *ctx, const char *name, char **text, size_t *len)
{
    if (ctx->kernel_dir[0]) {
        char path[1400];
        snprintf(path, sizeof path, "%s/%s", ctx->kernel_dir, name);
        return read_file(ctx, path, text, len);
    }
    for (const bz_kernel_source *s = bz_embedded_kernels; s->name; s++) {
        if (strcmp(s->name, name) == 0) {
            char *copy = malloc(s->len + 1);
            if (!copy)
                return bz_fail(ctx, BZ_E_NOMEM, "out of memory");
            memcpy(copy, s->text, s->len + 1);
            *text = copy;
            *len = s->len;
            return BZ_OK;
        }
    }
    return bz_fail(ctx, BZ_E_INTERNAL, "no embedded kernel source named %s", name);
}

/* ---- binary cache --------------------------------------------------------- */

static int mkdir_p(const char *dir)
{
    char tmp[1024];
    snprintf(tmp, sizeof tmp, "%s", dir);
    for (char *p = tmp + 1; *p; p++) {
        if (*p == '/') {
            *p = '\0';
            if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
                return -1;
            *p = '/';
        }
    }
    if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
        return -1;
    return 0;
}

static void cache_path(const bz_context *ctx, uint64_t key, char *path, size_t size)
{
    snprintf(path, size, "%s/%016llx.bin", ctx->cache_dir, (unsigned long long)key);
}

static bool read_exact(FILE *f, void *p, size_t n)
{
    return fread(p, 1, n, f) == n;
}

/* Returns a malloc'd binary when the entry exists and is whole and matches
 * the key text; NULL otherwise (the caller rebuilds from source). */
static unsigned char *cache_load(bz_context *ctx, const char *path, const char *key_text,
                                 size_t *bin_len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    unsigned char *bin = NULL;
    char magic[8];
    uint64_t klen = 0, blen = 0, bhash = 0;
    char *ktext = NULL;
    if (!read_exact(f, magic, 8) || memcmp(magic, CACHE_MAGIC, 8) != 0)
        goto stale;
    if (!read_exact(f, &klen, 8) || klen != strlen(key_text))
        goto stale;
    ktext = malloc(klen + 1);
    if (!ktext || !read_exact(f, ktext, klen))
        goto stale;
    ktext[klen] = '\0';
    if (strcmp(ktext, key_text) != 0)
        goto stale;
    if (!read_exact(f, &blen, 8) || !read_exact(f, &bhash, 8) || blen == 0 ||
        blen > (uint64_t)1 << 30)
        goto stale;
    bin = malloc(blen);
    if (!bin || !read_exact(f, bin, blen) || bz_fnv64(BZ_FNV64_INIT, bin, blen) != bhash)
        goto stale;
    free(ktext);
    fclose(f);
    *bin_len = blen;
    return bin;
stale:
    bz_log(ctx, BZ_LOG_INFO, "kernel cache entry %s is stale or damaged; rebuilding", path);
    free(ktext);
    free(bin);
    fclose(f);
    return NULL;
}

static void cache_store(bz_context *ctx, const char *path, const char *key_text,
                        const unsigned char *bin, size_t blen)
{
    if (mkdir_p(ctx->cache_dir) != 0) {
        bz_log(ctx, BZ_LOG_WARN, "cannot create kernel cache %s: %s", ctx->cache_dir,
               strerror(errno));
        return;
    }
    /* Written atomically, so a reader never sees half an entry; the length
     * and hash inside catch anything else. */
    uint64_t klen = strlen(key_text), bl = blen, bh = bz_fnv64(BZ_FNV64_INIT, bin, blen);
    bz_atomic_file af = {0};
    bz_error err = {0};
    bz_status st = bz_atomic_open(&af, path, &err);
    if (!st)
        st = bz_atomic_write(&af, CACHE_MAGIC, 8, &err);
    if (!st)
        st = bz_atomic_write(&af, &klen, 8, &err);
    if (!st)
        st = bz_atomic_write(&af, key_text, klen, &err);
    if (!st)
        st = bz_atomic_write(&af, &bl, 8, &err);
    if (!st)
        st = bz_atomic_write(&af, &bh, 8, &err);
    if (!st)
        st = bz_atomic_write(&af, bin, blen, &err);
    if (!st)
        st = bz_atomic_commit(&af, &err);
    else
        bz_atomic_abort(&af);
    if (st) {
        bz_log(ctx, BZ_LOG_WARN, "could not write kernel cache entry: %s", err.msg);
        return;
    }
    ctx->cache_stores++;
}

/* ---- builds --------------------------------------------------------------- */

static bz_status build_failed(bz_context *ctx, cl_program prog, cl_int rc)
{
    size_t log_len = 0;
    clGetProgramBuildInfo(prog, ctx->dev.id, CL_PROGRAM_BUILD_LOG, 0, NULL, &log_len);
    char *log = malloc(log_len + 1);
    if (log && clGetProgramBuildInfo(prog, ctx->dev.id, CL_PROGRAM_BUILD_LOG, log_len, log,
                                     NULL) == CL_SUCCESS) {
        log[log_len] = '\0';
    } else if (log) {
        log[0] = '\0';
    }
    bz_status st = bz_fail(ctx, BZ_E_BUILD, "clBuildProgram failed: %s (%d); build log:\n%.*s%s",
                           bz_cl_error_name(rc), (int)rc, BUILD_LOG_HEAD, log ? log : "",
                           (log && strlen(log) > BUILD_LOG_HEAD) ? "\n[... log truncated]" : "");
    free(log);
    return st;
}

bz_status bz_program_build(bz_context *ctx, const char *const *files, size_t n_files,
                           const char *options, cl_program *out)
{
    *out = NULL;
    if (bz_fault_hit(ctx))
        return bz_fail(ctx, BZ_E_BUILD, "clBuildProgram: injected fault");

    /* Concatenate the sources so line numbers in the log map to one text. */
    char *src = NULL;
    size_t src_len = 0;
    for (size_t i = 0; i < n_files; i++) {
        char *t = NULL;
        size_t l = 0;
        bz_status st = bz_kernel_source_read(ctx, files[i], &t, &l);
        if (st != BZ_OK) {
            free(src);
            return st;
        }
        char *g = realloc(src, src_len + l + 64 + strlen(files[i]));
        if (!g) {
            free(t);
            free(src);
            return bz_fail(ctx, BZ_E_NOMEM, "out of memory");
        }
        src = g;
        src_len += (size_t)sprintf(src + src_len, "// file: %s\n", files[i]);
        memcpy(src + src_len, t, l);
        src_len += l;
        src[src_len++] = '\n';
        src[src_len] = '\0';
        free(t);
    }

    char opts[1024];
    snprintf(opts, sizeof opts, "%s %s", bz_program_base_options(), options ? options : "");

    char *key_text = NULL;
    uint64_t key = 0;
    char path[1200] = "";
    if (ctx->binary_cache) {
        size_t kl = strlen(opts) + strlen(ctx->dev.name) + strlen(ctx->dev.driver) +
                    strlen(ctx->dev.platform_name) + 128;
        key_text = malloc(kl);
        if (key_text) {
            uint64_t sh = bz_fnv64(BZ_FNV64_INIT, src, src_len);
            snprintf(key_text, kl, "boltzcl %s|src %016llx|opts %s|dev %s|plat %s|drv %s",
                     BOLTZCL_VERSION_STRING, (unsigned long long)sh, opts, ctx->dev.name,
                     ctx->dev.platform_name, ctx->dev.driver);
            key = bz_fnv64_str(BZ_FNV64_INIT, key_text);
            cache_path(ctx, key, path, sizeof path);
        }
    }

    cl_int rc = CL_SUCCESS;
    cl_program prog = NULL;
    bool from_cache = false;
    if (key_text) {
        size_t blen = 0;
        unsigned char *bin = cache_load(ctx, path, key_text, &blen);
        if (bin) {
            const unsigned char *bins[1] = {bin};
            cl_int bstatus = CL_SUCCESS;
            prog = clCreateProgramWithBinary(ctx->cl, 1, &ctx->dev.id, &blen, bins, &bstatus,
                                             &rc);
            free(bin);
            if (rc == CL_SUCCESS && bstatus == CL_SUCCESS &&
                clBuildProgram(prog, 1, &ctx->dev.id, opts, NULL, NULL) == CL_SUCCESS) {
                from_cache = true;
            } else {
                if (prog)
                    clReleaseProgram(prog);
                prog = NULL;
                bz_log(ctx, BZ_LOG_INFO, "cached kernel binary %s rejected by the driver", path);
            }
        }
    }
    if (!prog) {
        const char *srcs[1] = {src};
        prog = clCreateProgramWithSource(ctx->cl, 1, srcs, &src_len, &rc);
        if (rc != CL_SUCCESS) {
            free(src);
            free(key_text);
            return bz_cl_fail(ctx, rc, "clCreateProgramWithSource", "");
        }
        rc = clBuildProgram(prog, 1, &ctx->dev.id, opts, NULL, NULL);
        if (rc != CL_SUCCESS) {
            bz_status st = build_failed(ctx, prog, rc);
            clReleaseProgram(prog);
            free(src);
            free(key_text);
            return st;
        }
    }
    free(src);

    if (key_text && !from_cache) {
        size_t blen = 0;
        if (clGetProgramInfo(prog, CL_PROGRAM_BINARY_SIZES, sizeof blen, &blen, NULL) ==
                CL_SUCCESS &&
            blen > 0) {
            unsigned char *bin = malloc(blen);
            unsigned char *bins[1] = {bin};
            if (bin && clGetProgramInfo(prog, CL_PROGRAM_BINARIES, sizeof bins, bins, NULL) ==
                           CL_SUCCESS)
                cache_store(ctx, path, key_text, bin, blen);
            free(bin);
        }
    }
    if (from_cache)
        ctx->cache_hits++;
    if (from_cache)
        bz_log(ctx, BZ_LOG_DEBUG, "kernels loaded from cache %s", path);
    free(key_text);
    *out = prog;
    return BZ_OK;
}

bz_status bz_kernel(bz_context *ctx, const char *name, cl_kernel *out)
{
    for (size_t i = 0; i < ctx->n_kernels; i++) {
        if (strcmp(ctx->kernels[i].name, name) == 0) {
            *out = ctx->kernels[i].kernel;
            return BZ_OK;
        }
    }
    if (!ctx->program)
        return bz_fail(ctx, BZ_E_INVALID_ARG, "no kernel program: the context has no device");
    if (ctx->n_kernels == BZ_MAX_KERNELS)
        return bz_fail(ctx, BZ_E_INTERNAL, "kernel table full");
    cl_int rc;
    cl_kernel k = clCreateKernel(ctx->program, name, &rc);
    if (rc != CL_SUCCESS)
        return bz_cl_fail(ctx, rc, "clCreateKernel", name);
    bz_kernel_entry *e = &ctx->kernels[ctx->n_kernels++];
    snprintf(e->name, sizeof e->name, "%s", name);
    e->kernel = k;
    *out = k;
    return BZ_OK;
}
