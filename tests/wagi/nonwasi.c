/* nonwasi.c — WAGI guest that imports env.host_magic, a function WASI does
 * not have: wagi_handler_new must refuse it with a clear message. */
#include <stdio.h>

__attribute__((import_module("env"), import_name("host_magic"))) int host_magic(int);

int main(void)
{
    printf("Content-Type: text/plain\n\n%d\n", host_magic(1));
    return 0;
}
