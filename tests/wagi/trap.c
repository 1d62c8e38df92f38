/* trap.c — WAGI guest: writes a complete-looking response, flushes it,
 * then traps (unreachable) → 500 with the trap message. */
#include <stdio.h>

int main(void)
{
    printf("Content-Type: text/plain\n\nbefore the trap\n");
    fflush(stdout);
    __builtin_trap();
}
