/* memhog.c — WAGI guest: allocates 1 MiB blocks (touching each) until
 * QUERY_STRING n=<MiB> are held, or until malloc fails (memory.grow
 * refused by max_memory_pages). Success: 200 "allocated N MiB". Failure:
 * a stderr line and exit(1) → 500. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* every block is linked into this list, so the compiler cannot drop the
 * allocations (malloc + memset with no later use may be elided) */
static void *volatile head;

int main(void)
{
    const char *q = getenv("QUERY_STRING");
    long want = q && !strncmp(q, "n=", 2) ? atol(q + 2) : 1L << 20;
    long got = 0;
    while (got < want) {
        char *p = malloc(1 << 20);
        if (!p) {
            fprintf(stderr, "malloc failed after %ld MiB\n", got);
            return 1;
        }
        memset(p, 0xab, 1 << 20);
        *(void **)p = head;
        head = p;
        got++;
    }
    printf("Content-Type: text/plain\n\nallocated %ld MiB\n", got);
    return 0;
}
