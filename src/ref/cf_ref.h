/*
 * Plain-C references for the ratings RBM (models/cf.h), on dense blocks of
 * n rows: V [n x C*K] one-hot ratings, M [n x C] rated, Mc [n x C] known
 * to be rated (the conditional input; D NULL when the model is not
 * conditional). Written as loops over the rated entries only, so that a
 * missing rating visibly takes no part.
 */
#ifndef BZ_REF_CF_REF_H
#define BZ_REF_CF_REF_H

#include <stddef.h>
#include <stdint.h>

/* P [n x H] = sigmoid(V W + Mc D + hb). */
void bz_ref_cf_hidden(const float *V, const float *M, const float *Mc, const float *W,
                      const float *hb, const float *D, size_t n, size_t C, size_t K, size_t H,
                      float *P);

/* E [n x C]: lo + step * the expected class of each column's softmax given
 * the hidden activations P. */
void bz_ref_cf_expected(const float *P, const float *W, const float *vb, size_t n, size_t C,
                        size_t K, size_t H, float lo, float step, float *E);

/* The gradient statistics of a mean-field CD-T chain: hidden probabilities
 * P of the data, then T times the masked softmax probabilities of the rated
 * columns and the hidden probabilities of those; gW = V^T P - Vn^T Hn,
 * gvb, ghb and gD (when D) alike. */
void bz_ref_cf_grad(const float *V, const float *M, const float *Mc, const float *W,
                    const float *vb, const float *hb, const float *D, size_t n, size_t C,
                    size_t K, size_t H, unsigned T, float *gW, float *gvb, float *ghb, float *gD);

/* The same statistics for one sampled CD-1 step, with the device's draws:
 * hidden states of the data from Philox stream stream * 64 (element r * H +
 * j), one class per rated column from stream stream * 64 + 1 (element
 * r * C + c: the first class whose running sum of exp(logit - max) passes
 * u * z), and hidden probabilities of the reconstruction. */
void bz_ref_cf_grad_sampled(const float *V, const float *M, const float *Mc, const float *W,
                            const float *vb, const float *hb, const float *D, size_t n, size_t C,
                            size_t K, size_t H, uint64_t seed, uint64_t stream, float *gW,
                            float *gvb, float *ghb, float *gD);

#endif
