/* exitcode.c — WASI guest: prints a line, then exit(7) (proc_exit; the
 * buffered line must still be flushed). Checked by tests/wasi/suite.sh. */
#include <stdio.h>
#include <stdlib.h>

int main(void)
{
    printf("exiting with 7\n");
    exit(7);
}
