/* noheaders.c — WAGI guest: a body with no CGI header at all → 500. */
#include <stdio.h>

int main(void)
{
    printf("just a body, no headers\n");
    return 0;
}
