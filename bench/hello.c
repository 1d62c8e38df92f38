/* hello — the smallest useful WASI program, for the start-up measurement:
 * one fd_write and a proc_exit. */
#include <stdio.h>

int main(void)
{
    puts("hello from sluice bench");
    return 0;
}
