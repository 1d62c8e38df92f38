/* exit.c — WAGI guest: exit codes after output, by QUERY_STRING:
 * partial  (Content-Length 100, 5 bytes sent, exit 3 → 500),
 * complete (Content-Length 5, 5 bytes sent, exit 3 → the response),
 * noend    (headers never ended, exit 3 → 500),
 * zero     (a response, then exit(0) → proc_exit(0) is success). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(void)
{
    const char *q = getenv("QUERY_STRING");
    if (!q)
        q = "";
    if (!strcmp(q, "partial"))
        printf("Content-Type: text/plain\nContent-Length: 100\n\nhello");
    else if (!strcmp(q, "complete"))
        printf("Content-Type: text/plain\nContent-Length: 5\n\nhello");
    else if (!strcmp(q, "noend"))
        printf("Content-Type: text/plain\n");
    else if (!strcmp(q, "zero")) {
        printf("Content-Type: text/plain\n\nbye\n");
        exit(0);
    }
    exit(3);
}
