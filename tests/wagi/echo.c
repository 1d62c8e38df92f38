/* echo.c — WAGI guest: copies stdin (the request body) to stdout byte for
 * byte. The test sends complete CGI output as the body, so this one module
 * drives the stdout-parser cases (line ends, bad fields, redirects...) and
 * the 5 MB body / output-cap cases. */
#include <stdio.h>

int main(void)
{
    static char buf[65536];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, stdin)) > 0)
        if (fwrite(buf, 1, n, stdout) != n)
            return 2;
    return ferror(stdin) ? 3 : 0;
}
