/* headers.c — WAGI guest: two Set-Cookie fields (order must be kept), a
 * custom header, and a Content-Length that matches the body (dropped from
 * the response headers: the caller frames the body). */
#include <stdio.h>

int main(void)
{
    printf("Content-Type: text/plain\r\n"
           "Set-Cookie: a=1; Path=/\r\n"
           "X-Custom: yes  \r\n"
           "Set-Cookie: b=2\r\n"
           "Content-Length: 3\r\n"
           "\r\n"
           "ok\n");
    return 0;
}
