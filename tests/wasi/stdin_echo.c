/* stdin_echo.c — WASI guest: copies stdin to stdout until EOF (fd_read,
 * fd_write) and reports the byte count on stderr. Checked by
 * tests/wasi/suite.sh. */
#include <stdio.h>

int main(void)
{
    char buf[4096];
    size_t n, total = 0;
    while ((n = fread(buf, 1, sizeof buf, stdin)) > 0) {
        if (fwrite(buf, 1, n, stdout) != n)
            return 2;
        total += n;
    }
    if (ferror(stdin))
        return 3;
    fprintf(stderr, "stdin_echo: %zu bytes\n", total);
    return 0;
}
