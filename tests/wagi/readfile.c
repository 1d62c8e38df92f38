/* readfile.c — WAGI guest: prints /data/hello.txt (a volume preopened by
 * the handler) as the body; 404 when it cannot be opened. */
#include <stdio.h>

int main(void)
{
    FILE *f = fopen("/data/hello.txt", "r");
    if (!f) {
        printf("Status: 404\nContent-Type: text/plain\n\nno file\n");
        return 0;
    }
    char buf[256];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    printf("Content-Type: text/plain\n\n");
    fwrite(buf, 1, n, stdout);
    return 0;
}
