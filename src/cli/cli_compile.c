/*
 * cli_compile.c — `sluice compile [options] IN.wasm -o OUT.slaot`: the
 * ahead-of-time compiler (sluice/aot.h), with the time it took and the
 * speed in seconds per MB of wasm.
 *
 * Layer: cli. Sees sluice/vm.h and sluice/aot.h only.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "sluice/aot.h"

static int compile_usage(const char *why)
{
    if (why)
        fprintf(stderr, "sluice compile: %s\n", why);
    fprintf(stderr,
            "usage: sluice compile [--jobs N] [--cc CC] [--keep-sources] [--quiet]\n"
            "                      IN.wasm -o OUT.slaot\n"
            "  compiles a module to native code for this machine (through C and the\n"
            "  system C compiler, $SLUICE_CC or cc); run it with `sluice run --aot`\n"
            "  or the gateway's `runtime: aot`\n");
    return CLI_EXIT_USAGE;
}

int cli_compile_main(int argc, char **argv)
{
    sl_aot_options o = {0};
    const char *in = NULL, *out = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-o") && i + 1 < argc) {
            out = argv[++i];
        } else if (!strcmp(a, "--jobs") && i + 1 < argc) {
            long n = strtol(argv[++i], NULL, 10);
            if (n < 1 || n > 256)
                return compile_usage("--jobs needs 1..256");
            o.jobs = (unsigned)n;
        } else if (!strcmp(a, "--cc") && i + 1 < argc) {
            o.cc = argv[++i];
        } else if (!strcmp(a, "--keep-sources")) {
            o.keep_sources = true;
        } else if (!strcmp(a, "--quiet") || !strcmp(a, "-q")) {
            o.quiet = true;
        } else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            compile_usage(NULL);
            return CLI_EXIT_OK;
        } else if (a[0] == '-' || in) {
            return compile_usage("unexpected argument");
        } else {
            in = a;
        }
    }
    if (!in || !out)
        return compile_usage("needs IN.wasm and -o OUT");
    uint8_t *bytes;
    size_t len;
    int e = cli_read_file(in, &bytes, &len);
    if (e) {
        fprintf(stderr, "sluice: %s: %s\n", in, strerror(e));
        return CLI_EXIT_ERROR;
    }
    sl_engine *engine = sl_engine_new(NULL);
    sl_diag d;
    memset(&d, 0, sizeof d);
    d.offset = SIZE_MAX;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    sl_err err = engine ? sl_aot_compile(engine, bytes, len, out, &o, &d) : SL_ERR_NOMEM;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    free(bytes);
    sl_engine_free(engine);
    if (err) {
        if (d.err == SL_OK)
            d.err = err;
        cli_print_diag(in, &d);
        return CLI_EXIT_ERROR;
    }
    double s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    if (!o.quiet)
        fprintf(stderr, "sluice compile: %s -> %s: %.3f s, %zu bytes of wasm, %.2f s/MB\n", in,
                out, s, len, len ? s / ((double)len / 1e6) : 0.0);
    return CLI_EXIT_OK;
}
