/*
 * cli_wagi.c — `sluice wagi -c modules.toml`: serves a WAGI modules.toml
 * (CGI-over-WASI handlers, a fresh instance per request) on the gateway.
 *
 * Owns:      argument parsing for the subcommand.
 * Not here:  the mapping to gateway routes (src/gateway/gw_wagi_toml.c),
 *            running modules (src/wagi/).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "gw_server.h"
#include "gw_wagi_toml.h"

static void usage(FILE *out)
{
    fputs("usage: sluice wagi -c MODULES.toml [--listen HOST:PORT] [--admin HOST:PORT]\n"
          "                   [--workers N] [--access-log]\n"
          "\n"
          "Serves the WAGI modules in MODULES.toml (docs/wagi-modules.md), each request\n"
          "in a fresh instance. --listen defaults to 127.0.0.1:3000 ($PORT overrides its\n"
          "port), --admin to 127.0.0.1:9901. Editing the file or SIGHUP reloads it.\n",
          out);
}

int cli_wagi_main(int argc, char **argv)
{
    const char *config = NULL;
    gw_wagi_toml_opts o = {0};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        bool has = i + 1 < argc;
        if ((!strcmp(a, "-c") || !strcmp(a, "--config")) && has) {
            config = argv[++i];
        } else if (!strcmp(a, "--listen") && has) {
            o.listen = argv[++i];
        } else if (!strcmp(a, "--admin") && has) {
            o.admin = argv[++i];
        } else if (!strcmp(a, "--workers") && has) {
            char *end;
            long n = strtol(argv[++i], &end, 10);
            if (*end || n < 0 || n > 1024) {
                fprintf(stderr, "sluice wagi: --workers wants 0..1024\n");
                return CLI_EXIT_USAGE;
            }
            o.workers = (unsigned)n;
        } else if (!strcmp(a, "--access-log")) {
            o.access_log = true;
        } else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            return CLI_EXIT_OK;
        } else {
            fprintf(stderr, "sluice wagi: unexpected argument '%s'\n", a);
            usage(stderr);
            return CLI_EXIT_USAGE;
        }
    }
    if (!config) {
        usage(stderr);
        return CLI_EXIT_USAGE;
    }
    return gw_server_run_wagi(config, &o);
}
