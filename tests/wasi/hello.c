/* hello.c — WASI guest: prints one line to stdout (fd_write, stdio
 * buffering, exit 0). Checked by tests/wasi/suite.sh. */
#include <stdio.h>

int main(void)
{
    printf("hello, world\n");
    return 0;
}
