/* counter.c — WAGI guest: a static counter, incremented once per run and
 * printed. Every request gets a fresh instance, so the body is always 1. */
#include <stdio.h>

static int counter;

int main(void)
{
    counter++;
    printf("Content-Type: text/plain\n\n%d\n", counter);
    return 0;
}
