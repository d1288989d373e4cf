/* A library with a small thread-local block, loaded with dlopen by
 * test_lsan_dtls.c: glibc gives each thread that touches it a dynamic TLS
 * block from malloc. */
__thread char bz_dtls_block[8];

char *bz_dtls_touch(void);
char *bz_dtls_touch(void)
{
    bz_dtls_block[0] = 1;
    return bz_dtls_block;
}
