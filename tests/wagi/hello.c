/* hello.c — WAGI guest: the smallest document response (Content-Type and
 * a one-line body). Used by tests/wagi/test_wagi.c for the basic case, the
 * concurrency test and the per-request timing. */
#include <stdio.h>

int main(void)
{
    printf("Content-Type: text/plain\n\nhello, world\n");
    return 0;
}
