/* JSON text for --json and --log: one line, valid JSON whatever the figures. */
#include "cli/rbm_common.h"

#include <math.h>
#include <stdio.h>

/* json-c writes a non-finite double as a bare NaN or Infinity, which no
 * JSON parser accepts: such numbers become null, as the README promises. */
static void finite_or_null(json_object *o)
{
    if (json_object_is_type(o, json_type_object)) {
        json_object_object_foreach(o, key, v) {
            if (json_object_is_type(v, json_type_double) && !isfinite(json_object_get_double(v)))
                json_object_object_add(o, key, NULL); /* replaces in place */
            else
                finite_or_null(v);
        }
    } else if (json_object_is_type(o, json_type_array)) {
        for (size_t i = 0; i < json_object_array_length(o); i++) {
            json_object *v = json_object_array_get_idx(o, i);
            if (json_object_is_type(v, json_type_double) && !isfinite(json_object_get_double(v)))
                json_object_array_put_idx(o, i, NULL);
            else
                finite_or_null(v);
        }
    }
}

const char *bz_cli_json_text(json_object *o)
{
    finite_or_null(o);
    return json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
}

void bz_cli_print_json(json_object *o)
{
    printf("%s\n", bz_cli_json_text(o));
    fflush(stdout);
}
