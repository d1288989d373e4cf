/* Escaping untrusted text: control characters never reach a terminal as
 * themselves, bytes that are not UTF-8 never reach a safetensors header. */
#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <cmocka.h>

#include "base/error.h"
#include "base/text.h"

#include <string.h>

static void test_escape(void **state)
{
    (void)state;
    char b[128];
    /* A terminal title sequence, a fake line and a C1 CSI. */
    bz_text_escape(b, sizeof b, "a\x1b]0;x\x07\nOK\xc2\x9b", BZ_ESC_CONTROL);
    assert_string_equal(b, "a\\x1b]0;x\\x07\\x0aOK\\u009b");
    /* UTF-8 text stays as it is, broken bytes are escaped. */
    bz_text_escape(b, sizeof b, "caf\xc3\xa9 \xff\xed\xa0\x80", BZ_ESC_CONTROL);
    assert_string_equal(b, "caf\xc3\xa9 \\xff\\xed\\xa0\\x80");
    /* The metadata mode keeps controls (JSON escapes them) but not bad bytes. */
    bz_text_escape(b, sizeof b, "a\tb\xfe", BZ_ESC_UTF8);
    assert_string_equal(b, "a\tb\\xfe");
    assert_true(bz_text_is_clean("plain text", BZ_ESC_CONTROL));
    assert_false(bz_text_is_clean("bell\x07", BZ_ESC_CONTROL));
    assert_true(bz_text_is_clean("bell\x07", BZ_ESC_UTF8));
    /* Cut short at a whole escape, never half of one; length as snprintf. */
    char s[6];
    size_t need = bz_text_escape(s, sizeof s, "ab\x01zz", BZ_ESC_CONTROL);
    assert_int_equal(need, 8);
    assert_string_equal(s, "ab");
}

static void test_error_messages_escaped(void **state)
{
    (void)state;
    bz_error err = {0};
    bz_error_set(&err, BZ_E_FORMAT, "%s: bad value '%s'", "f.csv", "\x1b[2J\rmodel verified OK");
    assert_null(strchr(err.msg, '\x1b'));
    assert_null(strchr(err.msg, '\r'));
    assert_non_null(strstr(err.msg, "\\x1b[2J\\x0dmodel verified OK"));
    bz_error_prefix(&err, "loading %s", "m\x07");
    assert_null(strchr(err.msg, '\x07'));
    /* A compiler log keeps its lines. */
    bz_error_set(&err, BZ_E_BUILD, "line 1\nline 2\x1b");
    assert_string_equal(err.msg, "line 1\nline 2\\x1b");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_escape),
        cmocka_unit_test(test_error_messages_escaped),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
