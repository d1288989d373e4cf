/* --json and --log text: non-finite numbers are written as null, so that
 * every line parses as JSON (json-c alone writes a bare NaN). */
#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <cmocka.h>

#include "cli/rbm_common.h"

#include <math.h>
#include <string.h>

static void test_non_finite_become_null(void **state)
{
    (void)state;
    json_object *o = json_object_new_object();
    json_object_object_add(o, "a", json_object_new_double(NAN));
    json_object_object_add(o, "b", json_object_new_double(1.5));
    json_object_object_add(o, "c", json_object_new_double(INFINITY));
    json_object *arr = json_object_new_array();
    json_object_array_add(arr, json_object_new_double(-INFINITY));
    json_object_array_add(arr, json_object_new_double(2.0));
    json_object *inner = json_object_new_object();
    json_object_object_add(inner, "d", json_object_new_double(NAN));
    json_object_array_add(arr, inner);
    json_object_object_add(o, "arr", arr);
    const char *text = bz_cli_json_text(o);
    assert_null(strstr(text, "NaN"));
    assert_null(strstr(text, "nan"));
    assert_null(strstr(text, "Infinity"));
    json_object *back = json_tokener_parse(text);
    assert_non_null(back);
    json_object *v;
    assert_true(json_object_object_get_ex(back, "a", &v) && v == NULL);
    assert_true(json_object_object_get_ex(back, "c", &v) && v == NULL);
    assert_true(json_object_object_get_ex(back, "b", &v) && json_object_get_double(v) == 1.5);
    assert_true(json_object_object_get_ex(back, "arr", &v));
    assert_null(json_object_array_get_idx(v, 0));
    assert_true(json_object_get_double(json_object_array_get_idx(v, 1)) == 2.0);
    json_object *d;
    assert_true(json_object_object_get_ex(json_object_array_get_idx(v, 2), "d", &d) && !d);
    json_object_put(back);
    json_object_put(o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_non_finite_become_null),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
