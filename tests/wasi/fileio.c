/* fileio.c — WASI guest: file I/O inside the preopen /data, and escape
 * attempts that must all fail.
 *
 * Expects (tests/wasi/suite.sh sets this up on the host):
 *   /data/inside.txt      "inside\n"
 *   /data/link_in     ->  inside.txt                 (stays inside)
 *   /data/link_out    ->  ../outside.txt             (leaves the sandbox)
 *   /data/link_abs    ->  <absolute host path of outside.txt>
 *   /data/link_updir  ->  ..                         (the sandbox's parent)
 * Prints "ok - X" / "FAIL - X" per check; exits with the number of failures.
 * Leaves /data as it found it. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int failed;

static void check(int ok, const char *what)
{
    if (ok) {
        printf("ok - %s\n", what);
    } else {
        printf("FAIL - %s (errno %d: %s)\n", what, errno, strerror(errno));
        failed++;
    }
}

static long file_size(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 ? (long)st.st_size : -1;
}

static int dir_has(const char *dir, const char *name)
{
    DIR *d = opendir(dir);
    int found = 0;
    if (!d)
        return 0;
    struct dirent *de;
    while ((de = readdir(d)))
        found |= strcmp(de->d_name, name) == 0;
    closedir(d);
    return found;
}

/* Reading must fail; and if it somehow opened, the secret must not show. */
static void no_read(const char *path, const char *what)
{
    FILE *f = fopen(path, "r");
    char buf[64] = "";
    if (f) {
        if (!fgets(buf, sizeof buf, f))
            buf[0] = '\0';
        fclose(f);
    }
    errno = 0;
    check(!f && strstr(buf, "secret") == NULL, what);
}

int main(void)
{
    char buf[256];

    /* write, read back */
    FILE *f = fopen("/data/test.txt", "w");
    check(f != NULL, "create /data/test.txt");
    if (!f)
        return 1;
    fputs("hello file\n", f);
    fprintf(f, "%d\n", 42);
    check(fclose(f) == 0, "close after write");
    check(file_size("/data/test.txt") == 14, "size is 14");
    f = fopen("/data/test.txt", "r");
    check(f && fgets(buf, sizeof buf, f) && strcmp(buf, "hello file\n") == 0, "read line 1");
    check(f && fgets(buf, sizeof buf, f) && strcmp(buf, "42\n") == 0, "read line 2");
    check(f && !fgets(buf, sizeof buf, f) && feof(f), "then EOF");
    if (f)
        fclose(f);

    /* positioned I/O, seek, truncate, sync */
    int fd = open("/data/test.txt", O_RDWR);
    check(fd >= 0, "open O_RDWR");
    check(pwrite(fd, "J", 1, 0) == 1, "pwrite at 0");
    memset(buf, 0, sizeof buf);
    check(pread(fd, buf, 5, 0) == 5 && memcmp(buf, "Jello", 5) == 0, "pread sees it");
    check(lseek(fd, 0, SEEK_END) == 14, "lseek end");
    check(lseek(fd, 2, SEEK_SET) == 2 && read(fd, buf, 3) == 3 && memcmp(buf, "llo", 3) == 0,
          "lseek set + read");
    check(ftruncate(fd, 5) == 0, "ftruncate to 5");
    struct stat st;
    check(fstat(fd, &st) == 0 && st.st_size == 5 && S_ISREG(st.st_mode), "fstat after truncate");
    check(fsync(fd) == 0, "fsync");
    check(close(fd) == 0, "close");
    f = fopen("/data/test.txt", "a");
    check(f && fputs("XY", f) >= 0 && fclose(f) == 0, "append");
    check(file_size("/data/test.txt") == 7, "size after append is 7");

    /* directories and listing */
    check(mkdir("/data/dir", 0755) == 0, "mkdir /data/dir");
    check(mkdir("/data/dir", 0755) == -1 && errno == EEXIST, "mkdir again is EEXIST");
    f = fopen("/data/dir/a.txt", "w");
    check(f && fclose(f) == 0, "create /data/dir/a.txt");
    check(dir_has("/data", "test.txt") && dir_has("/data", "dir") && dir_has("/data", "inside.txt"),
          "readdir /data lists test.txt, dir, inside.txt");
    check(dir_has("/data/dir", "a.txt"), "readdir /data/dir lists a.txt");
    check(rmdir("/data/dir") == -1 && errno == ENOTEMPTY, "rmdir non-empty is ENOTEMPTY");

    /* rename, unlink, rmdir */
    check(rename("/data/test.txt", "/data/dir/renamed.txt") == 0, "rename into dir");
    check(stat("/data/test.txt", &st) == -1 && errno == ENOENT, "old name is gone");
    check(file_size("/data/dir/renamed.txt") == 7, "new name has the data");
    check(unlink("/data/dir/renamed.txt") == 0, "unlink renamed.txt");
    check(unlink("/data/dir/a.txt") == 0, "unlink a.txt");
    check(unlink("/data/dir/a.txt") == -1 && errno == ENOENT, "unlink again is ENOENT");
    check(rmdir("/data/dir") == 0, "rmdir /data/dir");
    check(stat("/data/dir", &st) == -1 && errno == ENOENT, "dir is gone");

    /* symlinks that stay inside work */
    f = fopen("/data/link_in", "r");
    check(f && fgets(buf, sizeof buf, f) && strcmp(buf, "inside\n") == 0,
          "read through an inside symlink");
    if (f)
        fclose(f);
    check(symlink("inside.txt", "/data/mylink") == 0, "symlink inside");
    ssize_t n = readlink("/data/mylink", buf, sizeof buf);
    check(n == 10 && memcmp(buf, "inside.txt", 10) == 0, "readlink");
    check(lstat("/data/mylink", &st) == 0 && S_ISLNK(st.st_mode), "lstat sees a symlink");
    check(stat("/data/mylink", &st) == 0 && S_ISREG(st.st_mode), "stat follows it");
    check(unlink("/data/mylink") == 0, "unlink the symlink");

    /* escapes: all must fail */
    no_read("/data/../outside.txt", "no escape with /data/../");
    no_read("/data/sub/../../outside.txt", "no escape with sub/../../");
    no_read("../outside.txt", "no escape with a relative ../");
    no_read("/etc/passwd", "no access outside any preopen");
    no_read("/data/link_out", "no escape via a relative symlink");
    no_read("/data/link_abs", "no escape via an absolute symlink");
    no_read("/data/link_updir/outside.txt", "no escape via a symlink to ..");
    f = fopen("/data/link_out", "w");
    check(f == NULL, "cannot write through an escaping symlink");
    if (f)
        fclose(f);
    check(stat("/data/link_out", &st) == -1, "stat does not follow an escaping symlink");
    check(mkdir("/data/../escape_dir", 0755) == -1, "no mkdir above the preopen");
    check(mkdir("/data/link_updir/escape_dir", 0755) == -1, "no mkdir through a symlink to ..");
    check(rename("/data/inside.txt", "/data/../stolen.txt") == -1, "no rename out");
    check(rename("/data/inside.txt", "/data/link_updir/stolen.txt") == -1,
          "no rename out through a symlink");
    check(link("/data/inside.txt", "/data/link_updir/hard.txt") == -1, "no hard link out");
    /* Create a symlink that points out, then try to use it. */
    if (symlink("../outside.txt", "/data/myout") == 0) {
        no_read("/data/myout", "a guest-made escaping symlink cannot be followed");
        f = fopen("/data/myout", "w");
        check(f == NULL, "nor written through");
        if (f)
            fclose(f);
        check(unlink("/data/myout") == 0, "and can be removed");
    } else {
        check(1, "guest cannot make an escaping symlink");
    }
    errno = 0;
    int rc = symlink("/etc/passwd", "/data/myabs");
    if (rc == 0) {
        no_read("/data/myabs", "a guest-made absolute symlink cannot be followed");
        unlink("/data/myabs");
    } else {
        check(1, "absolute symlink targets are refused");
    }

    printf("fileio: %d failed\n", failed);
    return failed;
}
