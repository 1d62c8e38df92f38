/* badheader.c — WAGI guest: a header value with a control byte (0x01);
 * must become a 500, never a crash or a forwarded header. */
#include <stdio.h>

int main(void)
{
    printf("Content-Type: text/plain\nX-Bad: a\001b\n\nbody\n");
    return 0;
}
