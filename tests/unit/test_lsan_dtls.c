/*
 * The leak checker must survive a process whose threads hold dynamic TLS
 * blocks, as every process with POCL's libraries loaded does. GCC 12's
 * sanitizer runtime takes a dynamic TLS block that lies 16 bytes past a
 * 4 KiB boundary for one with a glibc 2.19-2.24 header and reads its bounds
 * from the bytes before it; scanning that range killed the leak checker's
 * tracer at exit ("Tracer caught signal 11"), at random in CI. Here every
 * block lands there (ASan's allocator puts these small blocks 16 bytes into
 * their pages), so without intercept_tls_get_addr=0 (tools/check.sh) this
 * test fails every time under the sanitizers; without them it is a plain
 * thread test.
 */
#include <dlfcn.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define THREADS 200

static char *(*touch)(void);
static pthread_barrier_t bar;
static int at_page_16;

static void *run(void *arg)
{
    (void)arg;
    if ((uintptr_t)touch() % 4096 == 16)
        __atomic_add_fetch(&at_page_16, 1, __ATOMIC_RELAXED);
    pthread_barrier_wait(&bar); /* all blocks allocated */
    pthread_barrier_wait(&bar); /* never passed: alive at exit */
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s LIBRARY\n", argv[0]);
        return 1;
    }
    void *lib = dlopen(argv[1], RTLD_NOW);
    if (lib) /* POSIX's way to take a function from dlsym */
        *(void **)(&touch) = dlsym(lib, "bz_dtls_touch");
    if (!lib || !touch) {
        fprintf(stderr, "%s\n", dlerror());
        return 1;
    }
    pthread_barrier_init(&bar, NULL, THREADS + 1);
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 1 << 16);
    for (int i = 0; i < THREADS; i++) {
        pthread_t t;
        if (pthread_create(&t, &attr, run, NULL) != 0) {
            fprintf(stderr, "pthread_create failed\n");
            return 1;
        }
    }
    pthread_barrier_wait(&bar);
    printf("%d threads alive, %d dynamic TLS blocks 16 bytes past a page\n", THREADS,
           at_page_16);
    fflush(stdout);
    /* The leak check runs at exit, with the threads and their blocks alive. */
    exit(0);
}
