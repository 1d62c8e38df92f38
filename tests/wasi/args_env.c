/* args_env.c — WASI guest: prints argc/argv, the variables named FOO,
 * EMPTY and MISSING, and how many environment entries it sees
 * (args_*, environ_*). Checked by tests/wasi/suite.sh. */
#include <stdio.h>
#include <stdlib.h>

extern char **environ;

static void show(const char *k)
{
    const char *v = getenv(k);
    printf("%s=%s\n", k, v ? v : "<unset>");
}

int main(int argc, char **argv)
{
    printf("argc=%d\n", argc);
    for (int i = 0; i < argc; i++)
        printf("argv[%d]=%s\n", i, argv[i]);
    show("FOO");
    show("EMPTY");
    show("MISSING");
    int n = 0;
    for (char **e = environ; e && *e; e++)
        n++;
    printf("environ=%d\n", n);
    return 0;
}
