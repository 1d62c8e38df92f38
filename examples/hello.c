/*
 * hello.c — the example WASI program behind `make run`.
 *
 * Prints "hello, <argv[1]>" (or "hello, world"), then the contents of
 * /data/greeting.txt when the host preopened a directory as /data
 * (`sluice run --dir examples::/data ...` does). Built for wasm32-wasi with
 * Debian's clang by the Makefile's `wasm` target.
 */
#include <stdio.h>

int main(int argc, char **argv)
{
    printf("hello, %s\n", argc > 1 ? argv[1] : "world");
    FILE *f = fopen("/data/greeting.txt", "r");
    if (!f)
        return 0; /* no preopen: the greeting is optional */
    char line[256];
    while (fgets(line, sizeof line, f))
        fputs(line, stdout);
    fclose(f);
    return 0;
}
