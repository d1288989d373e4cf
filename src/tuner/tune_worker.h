/*
 * The tuner's OpenCL side, run in a child process and driven over pipes by
 * line commands (all numbers in text):
 *   B                  time CLBlast's built-in parameters (before any E)
 *   E <limit> <vals>   check and time a candidate; give up beyond limit s
 *   V <vals>           check the final set at odd shapes, all transposes,
 *                      both paths, then time it
 *   W                  sweep the element-wise work-group size
 * Replies: "H <fields>" once at start, then "R ok <t per shape>",
 * "R slow", "R bad <why>", "R fail <why>" or "R wg <size> <GB/s>".
 */
#ifndef BZ_TUNER_TUNE_WORKER_H
#define BZ_TUNER_TUNE_WORKER_H

#include "tuner/tune.h"

/* Never returns: exits the child process. */
void bz_tune_worker(int in_fd, int out_fd, const bz_tune_options *o) __attribute__((noreturn));

#endif
