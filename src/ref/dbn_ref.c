#include "ref/dbn_ref.h"
#include "ref/reference.h"

#include <math.h>

void bz_ref_bias_relu(float *y, const float *x, const float *b, size_t rows, size_t cols)
{
    for (size_t r = 0; r < rows; r++)
        for (size_t c = 0; c < cols; c++) {
            float z = x[r * cols + c] + b[c];
            y[r * cols + c] = z > 0.0f ? z : 0.0f;
        }
}

/* Softmax of one group in double, from the float sums x + b as the kernel
 * forms them. Returns log-sum-exp. */
static double softmax_group(float *y, const float *x, const float *b, size_t k)
{
    double m = -INFINITY;
    for (size_t j = 0; j < k; j++) {
        double z = (double)(x[j] + b[j]);
        m = z > m ? z : m;
    }
    double s = 0;
    for (size_t j = 0; j < k; j++)
        s += exp((double)(x[j] + b[j]) - m);
    for (size_t j = 0; j < k; j++)
        y[j] = (float)(exp((double)(x[j] + b[j]) - m) / s);
    return m + log(s);
}

void bz_ref_bias_softmax(float *y, const float *x, const float *b, size_t rows, size_t cols)
{
    for (size_t r = 0; r < rows; r++)
        softmax_group(y + r * cols, x + r * cols, b, cols);
}

void bz_ref_softmax_xent_grad(float *prob, float *delta, float *loss, float *correct,
                              const float *x, const float *b, const float *labels, size_t rows,
                              size_t cols, float scale)
{
    for (size_t r = 0; r < rows; r++) {
        size_t y = (size_t)labels[r], arg = 0;
        float best = -INFINITY;
        for (size_t j = 0; j < cols; j++) {
            float z = x[r * cols + j] + b[j];
            if (z > best) {
                best = z;
                arg = j;
            }
        }
        double lse = softmax_group(prob + r * cols, x + r * cols, b, cols);
        for (size_t j = 0; j < cols; j++)
            delta[r * cols + j] =
                (float)((double)scale * ((double)prob[r * cols + j] - (j == y ? 1.0 : 0.0)));
        loss[r] += (float)(lse - (double)(x[r * cols + y] + b[y]));
        correct[r] += arg == y ? 1.0f : 0.0f;
    }
}

int bz_ref_dropout_keep(uint64_t seed, uint64_t stream, uint64_t index, float p)
{
    return bz_ref_u01(bz_ref_philox_u32(seed, stream, index)) >= p;
}

void bz_ref_dropout_fwd(float *a, size_t n, float p, uint64_t seed, uint64_t stream,
                        uint64_t offset)
{
    for (size_t i = 0; i < n; i++)
        a[i] = bz_ref_dropout_keep(seed, stream, offset + i, p) ? a[i] / (1.0f - p) : 0.0f;
}

void bz_ref_act_backward(float *delta, const float *a, size_t n, int act, float p, uint64_t seed,
                         uint64_t stream, uint64_t offset)
{
    for (size_t i = 0; i < n; i++) {
        double g = 1.0, h = a[i];
        if (p > 0.0f) {
            if (!bz_ref_dropout_keep(seed, stream, offset + i, p)) {
                delta[i] = 0.0f;
                continue;
            }
            g = 1.0 / (1.0 - (double)p);
            h = (double)a[i] * (1.0 - (double)p);
        }
        double d = act == 0 ? h * (1.0 - h) : (h > 0.0 ? 1.0 : 0.0);
        delta[i] = (float)((double)delta[i] * g * d);
    }
}

void bz_ref_bias_sigmoid_softmax_tail(float *y, const float *x, const float *b, size_t rows,
                                      size_t cols, size_t k)
{
    size_t first = cols - k;
    for (size_t r = 0; r < rows; r++) {
        for (size_t c = 0; c < first; c++)
            y[r * cols + c] = (float)bz_ref_sigmoid((double)(x[r * cols + c] + b[c]));
        if (k)
            softmax_group(y + r * cols + first, x + r * cols + first, b + first, k);
    }
}

void bz_ref_sample_bernoulli_softmax_tail(float *out, const float *mean, size_t rows,
                                          size_t cols, size_t k, uint64_t seed, uint64_t stream,
                                          uint64_t offset)
{
    size_t first = cols - k;
    for (size_t r = 0; r < rows; r++) {
        for (size_t c = 0; c < first; c++) {
            size_t e = r * cols + c;
            out[e] = bz_ref_u01(bz_ref_philox_u32(seed, stream, offset + e)) < mean[e] ? 1.0f
                                                                                       : 0.0f;
        }
        if (!k)
            continue;
        size_t o = r * cols + first, pick = k - 1;
        float u = bz_ref_u01(bz_ref_philox_u32(seed, stream, offset + o)), acc = 0.0f;
        /* float running sum in the kernel's order, so ties break alike */
        for (size_t j = 0; j < k; j++) {
            acc += mean[o + j];
            if (u < acc) {
                pick = j;
                break;
            }
        }
        for (size_t j = 0; j < k; j++)
            out[o + j] = j == pick ? 1.0f : 0.0f;
    }
}
