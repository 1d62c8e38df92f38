/*
 * replay_main.c — the main() that turns a libFuzzer target into a plain
 * replay program: it runs LLVMFuzzerTestOneInput once on each file named on
 * the command line (no libFuzzer needed, so it builds with gcc or clang and
 * any $SAN flags).
 *
 * Owns:   reading inputs and reporting them; nothing engine-specific.
 * Build:  cc ... tests/fuzz/fuzz_X.c tests/fuzz/replay_main.c libsluice.a
 *         (tests/regression/suite.sh does this for every target).
 * Output: "ok FILE" after each input that returned; exit status 0 when all
 *         did. A crash or sanitizer report ends the process abnormally.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

static int
read_file(const char *path, uint8_t **out, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    size_t cap = 4096, n = 0;
    uint8_t *buf = malloc(cap);
    while (buf) {
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (n < cap)
            break;
        uint8_t *bigger = realloc(buf, cap * 2);
        if (!bigger) {
            free(buf);
            buf = NULL;
            break;
        }
        buf = bigger;
        cap *= 2;
    }
    int err = ferror(f);
    fclose(f);
    if (!buf || err) {
        free(buf);
        return -1;
    }
    *out = buf;
    *len = n;
    return 0;
}

int
main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s INPUT...\n", argv[0]);
        return 2;
    }
    if (LLVMFuzzerInitialize)
        LLVMFuzzerInitialize(&argc, &argv);
    int status = 0;
    for (int i = 1; i < argc; i++) {
        uint8_t *data;
        size_t len;
        if (read_file(argv[i], &data, &len) != 0) {
            fprintf(stderr, "%s: cannot read\n", argv[i]);
            status = 1;
            continue;
        }
        /* Exact-size copy so ASan catches any read past the input. */
        uint8_t *exact = malloc(len ? len : 1);
        if (!exact) {
            free(data);
            return 1;
        }
        for (size_t k = 0; k < len; k++)
            exact[k] = data[k];
        free(data);
        LLVMFuzzerTestOneInput(exact, len);
        free(exact);
        printf("ok %s\n", argv[i]);
        fflush(stdout);
    }
    return status;
}
