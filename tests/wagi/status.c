/* status.c — WAGI guest: answers "Status: <QUERY_STRING with %20 as
 * space>" with a small text body, e.g. ?404%20Not%20Found or ?201. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(void)
{
    const char *q = getenv("QUERY_STRING");
    char st[64] = "";
    for (size_t i = 0, k = 0; q && q[i] && k + 1 < sizeof st; i++) {
        if (!strncmp(q + i, "%20", 3)) {
            st[k++] = ' ';
            i += 2;
        } else {
            st[k++] = q[i];
        }
    }
    printf("Status: %s\nContent-Type: text/plain\n\nstatus body\n", st);
    return 0;
}
