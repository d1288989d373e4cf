#include "base/text.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Length of the strict UTF-8 sequence at s (no overlong forms, surrogates or
 * code points past U+10FFFF) and its code point, or 0 when s does not start
 * one. */
static size_t utf8_seq(const unsigned char *s, uint32_t *cp)
{
    unsigned c = s[0];
    size_t n;
    uint32_t min, v;
    if (c < 0x80) {
        *cp = c;
        return 1;
    } else if ((c & 0xE0) == 0xC0) {
        n = 2, min = 0x80, v = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
        n = 3, min = 0x800, v = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
        n = 4, min = 0x10000, v = c & 0x07;
    } else {
        return 0;
    }
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        v = v << 6 | (s[i] & 0x3F);
    }
    if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
        return 0;
    *cp = v;
    return n;
}

static bool is_control(uint32_t cp, int mode)
{
    if ((mode & BZ_ESC_KEEP_LINES) && (cp == '\n' || cp == '\t'))
        return false;
    return cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp < 0xA0);
}

size_t bz_text_escape(char *dst, size_t cap, const char *src, int mode)
{
    const unsigned char *s = (const unsigned char *)(src ? src : "");
    size_t need = 0, used = 0;
    bool stop = cap == 0;
    while (*s) {
        char piece[8];
        size_t pl;
        uint32_t cp;
        size_t n = utf8_seq(s, &cp);
        if (!n) {
            pl = (size_t)snprintf(piece, sizeof piece, "\\x%02x", s[0]);
            n = 1;
        } else if ((mode & BZ_ESC_CONTROL) && is_control(cp, mode)) {
            pl = cp < 0x80 ? (size_t)snprintf(piece, sizeof piece, "\\x%02x", (unsigned)cp)
                           : (size_t)snprintf(piece, sizeof piece, "\\u%04x", (unsigned)cp);
        } else {
            memcpy(piece, s, n);
            pl = n;
        }
        if (!stop && used + pl < cap) {
            memcpy(dst + used, piece, pl);
            used += pl;
        } else {
            stop = true; /* whole escapes only: never half of one */
        }
        need += pl;
        s += n;
    }
    if (cap)
        dst[used] = '\0';
    return need;
}

bool bz_text_is_clean(const char *src, int mode)
{
    const unsigned char *s = (const unsigned char *)(src ? src : "");
    while (*s) {
        uint32_t cp;
        size_t n = utf8_seq(s, &cp);
        if (!n || ((mode & BZ_ESC_CONTROL) && is_control(cp, mode)))
            return false;
        s += n;
    }
    return true;
}

void bz_text_escape_inplace(char *s, size_t cap, int mode)
{
    if (!s || !cap || bz_text_is_clean(s, mode))
        return;
    char *tmp = malloc(cap);
    if (!tmp) {
        /* No room to escape: blank what cannot be shown rather than show it. */
        for (unsigned char *p = (unsigned char *)s; *p; p++)
            if (*p < 0x20 || *p >= 0x7F)
                *p = '?';
        return;
    }
    bz_text_escape(tmp, cap, s, mode);
    memcpy(s, tmp, strlen(tmp) + 1);
    free(tmp);
}
