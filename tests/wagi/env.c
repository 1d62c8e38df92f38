/* env.c — WAGI guest: prints its whole environment as the body, one
 * NAME=VALUE per line, so the test can check every CGI variable. */
#include <stdio.h>

extern char **environ;

int main(void)
{
    printf("Content-Type: text/plain\n\n");
    for (char **e = environ; e && *e; e++)
        printf("%s\n", *e);
    return 0;
}
