/*
 * cli_validate.c — `sluice validate FILE`: decode and validate one module.
 *
 * Owns:      the validate subcommand. Prints "FILE: valid" and exits 0, or
 *            "sluice: FILE: MESSAGE at offset 0xN" on stderr and exits 1.
 * Not here:  instantiation or linking (a valid module may still fail to
 *            link; `sluice run` reports that).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

int cli_validate_main(int argc, char **argv)
{
    if (argc != 2 || argv[1][0] == '\0') {
        fprintf(stderr, "usage: sluice validate FILE\n");
        return CLI_EXIT_USAGE;
    }
    const char *path = argv[1];
    uint8_t *bytes;
    size_t len;
    int err = cli_read_file(path, &bytes, &len);
    if (err) {
        fprintf(stderr, "sluice: %s: %s\n", path, strerror(err));
        return CLI_EXIT_ERROR;
    }
    sl_engine *engine = sl_engine_new(NULL);
    if (!engine) {
        free(bytes);
        fprintf(stderr, "sluice: out of memory\n");
        return CLI_EXIT_ERROR;
    }
    sl_module *mod = NULL;
    sl_diag diag;
    memset(&diag, 0, sizeof diag);
    diag.offset = SIZE_MAX;
    sl_err rc = sl_module_new(engine, bytes, len, &mod, &diag);
    free(bytes);
    int status;
    if (rc == SL_OK) {
        printf("%s: valid\n", path);
        status = CLI_EXIT_OK;
        sl_module_free(mod);
    } else {
        if (diag.err == SL_OK)
            diag.err = rc;
        cli_print_diag(path, &diag);
        status = CLI_EXIT_ERROR;
    }
    sl_engine_free(engine);
    return status;
}
