// Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3",
// SC 2011). A counter-based generator: the output for a counter depends on
// nothing else, so any device, any work-group size and the host reference in
// src/ref/philox_ref.c produce the same bits.
//
// boltzcl's layout: key = (seed low, seed high), counter = (block low, block
// high, stream low, stream high). Element e of a stream uses word e % 4 of
// block e / 4.

#define BZ_PHILOX_M0 0xD2511F53u
#define BZ_PHILOX_M1 0xCD9E8D57u
#define BZ_PHILOX_W0 0x9E3779B9u
#define BZ_PHILOX_W1 0xBB67AE85u

// One Philox round on the counter words c0..c3 with round key (k0, k1). The
// 64-bit product rather than mul_hi: CPU compilers vectorise it (one widening
// multiply per lane), mul_hi they often scalarise.
#define BZ_PHILOX_ROUND(c0, c1, c2, c3, k0, k1)                                     \
    do {                                                                            \
        ulong p0_ = (ulong)BZ_PHILOX_M0 * (c0), p1_ = (ulong)BZ_PHILOX_M1 * (c2);   \
        uint n0_ = (uint)(p1_ >> 32) ^ (c1) ^ (k0), n2_ = (uint)(p0_ >> 32) ^ (c3) ^ (k1); \
        c1 = (uint)p1_;                                                             \
        c3 = (uint)p0_;                                                             \
        c0 = n0_;                                                                   \
        c2 = n2_;                                                                   \
    } while (0)

// The four words of block `block` into c0..c3 (uint lvalues), in
// straight-line scalar arithmetic. POCL runs a kernel as a loop over
// work-items and LLVM vectorises that loop only when it is innermost and free
// of vector types, so neither uint4 nor a loop over the rounds may appear in
// a kernel that should run 8-16 work-items per instruction.
#define BZ_PHILOX_WORDS(seed, stream, block, c0, c1, c2, c3)                        \
    do {                                                                            \
        c0 = (uint)(block);                                                         \
        c1 = (uint)((block) >> 32);                                                 \
        c2 = (uint)(stream);                                                        \
        c3 = (uint)((stream) >> 32);                                                \
        uint k0_ = (uint)(seed), k1_ = (uint)((seed) >> 32);                        \
        BZ_PHILOX_ROUND(c0, c1, c2, c3, k0_, k1_);                                  \
        BZ_PHILOX_ROUND(c0, c1, c2, c3, k0_ + 1u * BZ_PHILOX_W0, k1_ + 1u * BZ_PHILOX_W1); \
        BZ_PHILOX_ROUND(c0, c1, c2, c3, k0_ + 2u * BZ_PHILOX_W0, k1_ + 2u * BZ_PHILOX_W1); \
        BZ_PHILOX_ROUND(c0, c1, c2, c3, k0_ + 3u * BZ_PHILOX_W0, k1_ + 3u * BZ_PHILOX_W1); \
        BZ_PHILOX_ROUND(c0, c1, c2, c3, k0_ + 4u * BZ_PHILOX_W0, k1_ + 4u * BZ_PHILOX_W1); \
        BZ_PHILOX_ROUND(c0, c1, c2, c3, k0_ + 5u * BZ_PHILOX_W0, k1_ + 5u * BZ_PHILOX_W1); \
        BZ_PHILOX_ROUND(c0, c1, c2, c3, k0_ + 6u * BZ_PHILOX_W0, k1_ + 6u * BZ_PHILOX_W1); \
        BZ_PHILOX_ROUND(c0, c1, c2, c3, k0_ + 7u * BZ_PHILOX_W0, k1_ + 7u * BZ_PHILOX_W1); \
        BZ_PHILOX_ROUND(c0, c1, c2, c3, k0_ + 8u * BZ_PHILOX_W0, k1_ + 8u * BZ_PHILOX_W1); \
        BZ_PHILOX_ROUND(c0, c1, c2, c3, k0_ + 9u * BZ_PHILOX_W0, k1_ + 9u * BZ_PHILOX_W1); \
    } while (0)

// The block as a vector, for kernels that pick one word of it.
inline uint4 bz_philox_block(ulong seed, ulong stream, ulong block)
{
    uint c0, c1, c2, c3;
    BZ_PHILOX_WORDS(seed, stream, block, c0, c1, c2, c3);
    return (uint4)(c0, c1, c2, c3);
}

// Uniform in [0, 1) with 24 random bits: exact in float, so comparing it with
// a probability gives the same answer on the host.
inline float bz_u01(uint x)
{
    return (float)(x >> 8) * (1.0f / 16777216.0f);
}

// Uniform in (0, 1]: safe for log().
inline float bz_u01_open0(uint x)
{
    return (float)((x >> 8) + 1u) * (1.0f / 16777216.0f);
}

inline uint bz_word(uint4 r, uint i)
{
    return i == 0 ? r.x : i == 1 ? r.y : i == 2 ? r.z : r.w;
}
