/*
 * Making untrusted text safe to print or store. File contents, model
 * metadata and paths reach messages and metadata; a control character in
 * them could retitle a terminal or forge a line of output, and bytes that are
 * not UTF-8 cannot go into a safetensors header. One escaping rule serves
 * both: what is not shown as itself becomes \xNN (bytes) or \uNNNN (C1
 * control code points).
 */
#ifndef BZ_ENGINE_TEXT_H
#define BZ_ENGINE_TEXT_H

#include <stdbool.h>
#include <stddef.h>

enum {
    BZ_ESC_UTF8 = 0,     /* escape only bytes that are not strict UTF-8 */
    BZ_ESC_CONTROL = 1,  /* also C0 controls, DEL and C1 controls */
    BZ_ESC_KEEP_LINES = 2, /* with BZ_ESC_CONTROL: leave newlines and tabs */
};

/* Writes the escaped form of src into dst (always NUL-terminated, cut short
 * at a whole escape when cap is too small); returns the length the full
 * escaped text needs, excluding the NUL, like snprintf. dst may be src's
 * buffer only when nothing needs escaping; use a separate buffer. */
size_t bz_text_escape(char *dst, size_t cap, const char *src, int mode);

/* True when src has nothing bz_text_escape(mode) would change. */
bool bz_text_is_clean(const char *src, int mode);

/* Escapes s in place (cap is the size of its buffer), truncating if the
 * escaped text does not fit. */
void bz_text_escape_inplace(char *s, size_t cap, int mode);

#endif
