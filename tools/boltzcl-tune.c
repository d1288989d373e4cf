/* boltzcl-tune: the tuner as a tool of its own; the same code as `boltzcl tune`. */
#include "cli/cli.h"

#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
    if (argc > 1 && (strcmp(argv[1], "--version") == 0)) {
        printf("boltzcl-tune %s\n", bz_version_string());
        return 0;
    }
    return bz_cmd_tune(argc - 1, argv + 1);
}
