/* trap.c — WASI guest: writes a line to stderr (unbuffered), then executes
 * `unreachable` via __builtin_trap(). The host must report a trap and exit
 * non-zero; nothing after the trap may run. Checked by tests/wasi/suite.sh. */
#include <stdio.h>

int main(void)
{
    fprintf(stderr, "about to trap\n");
    __builtin_trap();
    printf("after trap\n");
    return 0;
}
