/*
 * cli_gateway.c — `sluice gateway -c FILE`: runs the API gateway.
 *
 * Owns:      argument parsing for the subcommand.
 * Not here:  everything the gateway does (src/gateway/gw_server.c).
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "gw_server.h"

static void usage(FILE *out)
{
    fputs("usage: sluice gateway -c FILE\n"
          "\n"
          "Runs the HTTP gateway with the YAML config FILE (see docs/config.md).\n"
          "  SIGHUP, POST /reload on the admin port, or editing FILE reloads it;\n"
          "  SIGTERM or SIGINT drains in-flight requests and exits 0.\n"
          "  $PORT, when set, overrides the first listener's port.\n",
          out);
}

int cli_gateway_main(int argc, char **argv)
{
    const char *config = NULL;
    for (int i = 1; i < argc; i++) {
        if ((!strcmp(argv[i], "-c") || !strcmp(argv[i], "--config")) && i + 1 < argc) {
            config = argv[++i];
        } else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            usage(stdout);
            return CLI_EXIT_OK;
        } else {
            fprintf(stderr, "sluice gateway: unexpected argument '%s'\n", argv[i]);
            usage(stderr);
            return CLI_EXIT_USAGE;
        }
    }
    if (!config) {
        usage(stderr);
        return CLI_EXIT_USAGE;
    }
    return gw_server_run(config);
}
