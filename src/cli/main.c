/*
 * main.c — the `sluice` executable: picks a subcommand and runs it.
 *
 * Owns:      subcommand dispatch, `sluice help` and `sluice version`, and
 *            the top-level usage text. Exit codes are listed in cli.h
 *            (0 ok, 1 error, 2 usage, 134 trap, or the guest's exit code).
 * Not here:  what each subcommand does (cli_run.c, cli_validate.c,
 *            cli_spectest.c), anything about the engine.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"

#define SLUICE_VERSION "0.1.0"

static void usage(FILE *out)
{
    fputs("usage: sluice <command> [options]\n"
          "\n"
          "commands:\n"
          "  run [--dir HOST[::GUEST]]... [--env K=V]... [--invoke FUNC]\n"
          "      [--max-memory-pages N] [--timeout MS] MODULE.wasm [ARGS...]\n"
          "                 run a WASI command (its _start), or call FUNC with ARGS\n"
          "      [--aot] [--aot-cache DIR]\n"
          "  validate FILE  decode and validate a module; print \"FILE: valid\"\n"
          "  compile IN.wasm -o OUT.slaot\n"
          "                 compile a module to native code (AOT; docs/aot.md)\n"
          "  spectest [--verbose] [--aot] FILE.json...\n"
          "                 run wabt wast2json output (the WebAssembly spec tests)\n"
          "  gateway -c FILE run the API gateway with a YAML config (docs/config.md)\n"
          "  wagi -c FILE    serve a WAGI modules.toml (docs/wagi-modules.md)\n"
          "  version        print the version\n"
          "  help           print this text\n"
          "\n"
          "exit codes: 0 ok, 1 error or failed tests, 2 usage, 134 trap,\n"
          "            otherwise the guest's proc_exit code\n",
          out);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return CLI_EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "run") == 0)
        return cli_run_main(argc - 1, argv + 1);
    if (strcmp(cmd, "validate") == 0)
        return cli_validate_main(argc - 1, argv + 1);
    if (strcmp(cmd, "spectest") == 0)
        return cli_spectest_main(argc - 1, argv + 1);
    if (strcmp(cmd, "compile") == 0)
        return cli_compile_main(argc - 1, argv + 1);
    if (strcmp(cmd, "gateway") == 0)
        return cli_gateway_main(argc - 1, argv + 1);
    if (strcmp(cmd, "wagi") == 0)
        return cli_wagi_main(argc - 1, argv + 1);
    if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
        printf("sluice %s\n", SLUICE_VERSION);
        return CLI_EXIT_OK;
    }
    if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
        usage(stdout);
        return CLI_EXIT_OK;
    }
    fprintf(stderr, "sluice: unknown command '%s'\n", cmd);
    usage(stderr);
    return CLI_EXIT_USAGE;
}
