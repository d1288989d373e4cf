// Shared definitions for every boltzcl kernel. OpenCL C 1.2.
// Element-wise kernels are launched 1-D over a global size rounded up to the
// work-group size, so every kernel checks its bounds.

#ifndef BZ_COMMON_CL
#define BZ_COMMON_CL

// Numerically safe logistic function: exp() of a large positive argument
// overflows to +inf and 1/(1+inf) is exactly 0, which is the right limit.
inline float bz_sigmoid(float z)
{
    return 1.0f / (1.0f + exp(-z));
}

// log(1 + exp(z)) without overflow for large z or loss for very negative z.
inline float bz_softplus(float z)
{
    return z > 0.0f ? z + log1p(exp(-z)) : log1p(exp(z));
}

#endif
