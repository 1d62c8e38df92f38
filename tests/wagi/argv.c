/* argv.c — WAGI guest: prints argc and every argv[i] (one per line, in
 * brackets so empty arguments show) as the body. */
#include <stdio.h>

int main(int argc, char **argv)
{
    printf("Content-Type: text/plain\n\nargc=%d\n", argc);
    for (int i = 0; i < argc; i++)
        printf("argv[%d]=[%s]\n", i, argv[i]);
    return 0;
}
