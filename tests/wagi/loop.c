/* loop.c — WAGI guest: never finishes. QUERY_STRING "spew" writes to
 * stdout forever (the output cap must stop it); anything else spins
 * without a host call (the deadline must stop it). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(void)
{
    const char *q = getenv("QUERY_STRING");
    if (q && !strcmp(q, "spew")) {
        printf("Content-Type: text/plain\n\n");
        for (;;)
            printf("spew spew spew spew spew spew spew spew spew spew spew spew\n");
    }
    volatile unsigned long x = 0;
    for (;;)
        x++;
}
