/* stderr.c — WAGI guest: writes log lines to stderr — two in one write,
 * one ending in CRLF, one of 5000 bytes (logged in pieces), and a last one
 * without a newline (flushed when the run ends) — then a normal response. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(void)
{
    static char big[5001];
    write(2, "line one\nline two\n", 18);
    write(2, "crlf line\r\n", 11);
    memset(big, 'x', 5000);
    big[5000] = '\n';
    write(2, big, 5001);
    write(2, "par", 3);
    write(2, "tial", 4);
    printf("Content-Type: text/plain\n\nlogged\n");
    return 0;
}
