/* redirect.c — WAGI guest: the redirect shapes of RFC 3875 §6, chosen by
 * QUERY_STRING: abs (Location only → 302), abs301 (Status 301 then
 * Location), loc301 (Location then Status 301), local (Location: /other),
 * localq (Location: /other?a=b), netpath (Location: //evil.example/x),
 * doc (Location + Content-Type + body → 302 with the body). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(void)
{
    const char *q = getenv("QUERY_STRING");
    if (!q)
        q = "";
    if (!strcmp(q, "abs"))
        printf("Location: http://example.com/next\n\n");
    else if (!strcmp(q, "abs301"))
        printf("Status: 301 Moved Permanently\nLocation: http://example.com/moved\n\n");
    else if (!strcmp(q, "loc301"))
        printf("Location: http://example.com/moved\nStatus: 301\n\n");
    else if (!strcmp(q, "local"))
        printf("Location: /other\n\n");
    else if (!strcmp(q, "localq"))
        printf("Location: /other?a=b\r\n\r\n");
    else if (!strcmp(q, "netpath"))
        printf("Location: //evil.example/x\n\n");
    else if (!strcmp(q, "doc"))
        printf("Location: http://example.com/doc\nContent-Type: text/html\n\n<a href=x>x</a>\n");
    else
        printf("Content-Type: text/plain\n\nunknown case\n");
    return 0;
}
