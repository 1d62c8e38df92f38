/*
 * test_wasi_paths.c — unit tests for the WASI path sandbox (src/wasi/wasi_sandbox.c):
 * the lexical checks, path splitting, and beneath-root resolution on a real
 * directory tree full of hostile symlinks, once with openat2 and once with
 * the component-by-component fallback.
 *
 * Build and run (from the repo root):
 *   cc -std=c11 -D_GNU_SOURCE -Wall -Wextra -Iinclude -Isrc/wasi \
 *      tests/unit/test_wasi_paths.c src/wasi/wasi_sandbox.c src/wasi/wasi_conv.c \
 *      -o build/test_wasi_paths && build/test_wasi_paths
 * (linking against build/libsluice.a instead of the two .c files works too.)
 * Prints "ok - X" / "not ok - X" per check and ends with "N passed, N failed";
 * exit status 0 only when nothing failed.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "wasi_int.h"

static int n_pass, n_fail;
static const char *mode_name = "";

static void check(bool ok, const char *what, const char *detail)
{
    if (ok) {
        n_pass++;
        printf("ok - %s%s\n", mode_name, what);
    } else {
        n_fail++;
        printf("not ok - %s%s (%s)\n", mode_name, what, detail);
    }
}

static void expect_err(int got, int want, const char *what)
{
    char d[64];
    snprintf(d, sizeof d, "got errno %d, want %d", got, want);
    check(got == want, what, d);
}

/* ---- pure helpers ------------------------------------------------------------- */

static void test_check(void)
{
    static const struct {
        const char *path;
        int want;
    } cases[] = {
        {"a", 0},
        {".", 0},
        {"a/b/c", 0},
        {"a/../b", 0},
        {"a/b/../../c", 0},
        {"./a/./b/", 0},
        {"a//b", 0},
        {"a/..", 0},
        {"...", 0}, /* a plain name */
        {"..a/b", 0},
        {"", WASI_ENOENT},
        {"/", WASI_ENOTCAPABLE},
        {"/etc/passwd", WASI_ENOTCAPABLE},
        {"..", WASI_ENOTCAPABLE},
        {"../x", WASI_ENOTCAPABLE},
        {"a/../..", WASI_ENOTCAPABLE},
        {"a/../../b", WASI_ENOTCAPABLE},
        {"./..", WASI_ENOTCAPABLE},
        {"a/./../../", WASI_ENOTCAPABLE},
        {"a/b/../../../c", WASI_ENOTCAPABLE},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char what[96];
        snprintf(what, sizeof what, "path_check(\"%s\")", cases[i].path);
        expect_err(wasi__path_check(cases[i].path, strlen(cases[i].path)), cases[i].want, what);
    }
    expect_err(wasi__path_check("a\0b", 3), WASI_EINVAL, "path_check rejects NUL");
    char *big = malloc(WASI_PATH_MAX + 2);
    memset(big, 'a', WASI_PATH_MAX + 1);
    expect_err(wasi__path_check(big, WASI_PATH_MAX + 1), WASI_ENAMETOOLONG, "path_check length");
    free(big);

    char *dup;
    int err = wasi__path_dup((const uint8_t *)"ab/c", 3, &dup);
    check(!err && dup && strcmp(dup, "ab/") == 0, "path_dup copies exactly len bytes", "mismatch");
    free(dup);
    err = wasi__path_dup((const uint8_t *)"../x", 4, &dup);
    check(err == WASI_ENOTCAPABLE && !dup, "path_dup refuses escapes", "accepted");
}

static void test_split(void)
{
    static const struct {
        const char *path, *dir, *last;
        bool trailing;
    } cases[] = {
        {"a", "", "a", false},         {"a/b", "a", "b", false},
        {"a/b/", "a", "b", true},      {"a//b//", "a", "b", true},
        {"x/y/z", "x/y", "z", false},  {".", "", ".", false},
        {"a/..", "a", "..", false},    {"", "", "", false},
        {"///", "", "", false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t dl, ll;
        const char *last;
        bool tr;
        wasi__path_split(cases[i].path, &dl, &last, &ll, &tr);
        bool ok = dl == strlen(cases[i].dir) && strncmp(cases[i].path, cases[i].dir, dl) == 0 &&
                  ll == strlen(cases[i].last) && strncmp(last, cases[i].last, ll) == 0 &&
                  tr == cases[i].trailing;
        char what[64], d[128];
        snprintf(what, sizeof what, "path_split(\"%s\")", cases[i].path);
        snprintf(d, sizeof d, "dir '%.*s' last '%.*s' trailing %d", (int)dl, cases[i].path,
                 (int)ll, last, tr);
        check(ok, what, d);
    }
}

/* ---- resolution on a real tree ------------------------------------------------------- */

static char top[256];
static int root = -1;

static void mk(const char *rel, const char *content)
{
    char p[512];
    snprintf(p, sizeof p, "%s/%s", top, rel);
    if (!content) {
        mkdir(p, 0755);
        return;
    }
    FILE *f = fopen(p, "w");
    if (f) {
        fputs(content, f);
        fclose(f);
    }
}

static void ln(const char *target, const char *rel)
{
    char p[512];
    snprintf(p, sizeof p, "%s/%s", top, rel);
    if (symlink(target, p) != 0)
        perror("symlink");
}

static bool exists(const char *rel)
{
    char p[512];
    struct stat st;
    snprintf(p, sizeof p, "%s/%s", top, rel);
    return lstat(p, &st) == 0;
}

/* Opens path and checks it is the same file as host path rel (NULL: expect
 * failure with want_err). */
static void open_case(const char *path, int flags, bool follow, const char *rel, int want_err)
{
    char what[160];
    snprintf(what, sizeof what, "open \"%s\"%s%s", path, follow ? "" : " nofollow",
             flags & O_CREAT ? " creat" : "");
    int fd = -1;
    int err = wasi__sandbox_open(root, path, flags, 0644, follow, &fd);
    if (!rel) {
        expect_err(err, want_err, what);
        if (fd >= 0)
            close(fd);
        return;
    }
    if (err) {
        char d[64];
        snprintf(d, sizeof d, "errno %d", err);
        check(false, what, d);
        return;
    }
    struct stat a, b;
    char p[512];
    snprintf(p, sizeof p, "%s/%s", top, rel);
    bool same = fstat(fd, &a) == 0 && lstat(p, &b) == 0 && a.st_ino == b.st_ino &&
                a.st_dev == b.st_dev;
    check(same, what, "opened the wrong file");
    close(fd);
}

static void parent_case(const char *path, bool follow, const char *dir_rel, const char *name,
                        int want_err)
{
    char what[160];
    snprintf(what, sizeof what, "parent \"%s\"%s", path, follow ? " follow" : "");
    int dfd = -1;
    char got[WASI_NAME_MAX + 1];
    int err = wasi__sandbox_parent(root, path, follow, &dfd, got);
    if (!dir_rel) {
        expect_err(err, want_err, what);
        if (dfd >= 0)
            close(dfd);
        return;
    }
    if (err) {
        char d[64];
        snprintf(d, sizeof d, "errno %d", err);
        check(false, what, d);
        return;
    }
    struct stat a, b;
    char p[512];
    snprintf(p, sizeof p, "%s/%s", top, dir_rel);
    bool ok = fstat(dfd, &a) == 0 && stat(p, &b) == 0 && a.st_ino == b.st_ino &&
              strcmp(got, name) == 0;
    char d[320];
    snprintf(d, sizeof d, "name '%s' want '%s' in %s", got, name, dir_rel);
    check(ok, what, d);
    close(dfd);
}

static void test_tree(void)
{
    open_case("file.txt", O_RDONLY, true, "root/file.txt", 0);
    open_case("./sub/../file.txt", O_RDONLY, true, "root/file.txt", 0);
    open_case("sub/inner.txt", O_RDONLY, true, "root/sub/inner.txt", 0);
    open_case(".", O_RDONLY | O_DIRECTORY, true, "root", 0);
    open_case("sub/..", O_RDONLY | O_DIRECTORY, true, "root", 0);
    open_case("sub/deeper/", O_RDONLY, true, "root/sub/deeper", 0);
    open_case("../outside.txt", O_RDONLY, true, NULL, WASI_ENOTCAPABLE);
    open_case("sub/../../outside.txt", O_RDONLY, true, NULL, WASI_ENOTCAPABLE);
    open_case("/etc/passwd", O_RDONLY, true, NULL, WASI_ENOTCAPABLE);
    open_case("nope", O_RDONLY, true, NULL, WASI_ENOENT);
    open_case("file.txt/", O_RDONLY, true, NULL, WASI_ENOTDIR);
    open_case("file.txt/x", O_RDONLY, true, NULL, WASI_ENOTDIR);
    /* symlinks that stay inside */
    open_case("link_in", O_RDONLY, true, "root/sub/inner.txt", 0);
    open_case("link_in", O_RDONLY, false, NULL, WASI_ELOOP);
    open_case("link_in", O_PATH, false, "root/link_in", 0);
    open_case("link_dir/inner.txt", O_RDONLY, true, "root/sub/inner.txt", 0);
    open_case("link_dir/inner.txt", O_RDONLY, false, "root/sub/inner.txt", 0);
    open_case("link_dir/", O_RDONLY, false, "root/sub", 0);
    open_case("sub/link_up", O_RDONLY, true, "root/file.txt", 0);
    open_case("chain", O_RDONLY, true, "root/sub/inner.txt", 0);
    /* symlinks that leave */
    open_case("link_out", O_RDONLY, true, NULL, WASI_ENOTCAPABLE);
    open_case("link_abs", O_RDONLY, true, NULL, WASI_ENOTCAPABLE);
    open_case("link_abs_in", O_RDONLY, true, NULL, WASI_ENOTCAPABLE);
    open_case("link_dotdot/outside.txt", O_RDONLY, true, NULL, WASI_ENOTCAPABLE);
    open_case("link_dotdot/root/file.txt", O_RDONLY, true, NULL, WASI_ENOTCAPABLE);
    open_case("sub/link_up2", O_RDONLY, true, NULL, WASI_ENOTCAPABLE);
    open_case("link_outdir/x", O_RDONLY, true, NULL, WASI_ENOTCAPABLE);
    open_case("loop1", O_RDONLY, true, NULL, WASI_ELOOP);
    /* creating through an escaping symlink must not create anything outside */
    open_case("link_newout", O_WRONLY | O_CREAT, true, NULL, WASI_ENOTCAPABLE);
    check(!exists("created_outside.txt"), "nothing created outside via dangling link", "created");
    open_case("link_dotdot/created_outside.txt", O_WRONLY | O_CREAT, true, NULL,
              WASI_ENOTCAPABLE);
    check(!exists("created_outside.txt"), "nothing created outside via ..-link", "created");
    /* creating inside works, also through an inside dangling link */
    open_case("new_inside.txt", O_WRONLY | O_CREAT | O_EXCL, true, "root/new_inside.txt", 0);
    char p[512];
    snprintf(p, sizeof p, "%s/root/new_inside.txt", top);
    unlink(p);
    open_case("link_newin", O_WRONLY | O_CREAT, true, "root/sub/made_by_link.txt", 0);
    snprintf(p, sizeof p, "%s/root/sub/made_by_link.txt", top);
    unlink(p);
    open_case("link_newin", O_WRONLY | O_CREAT | O_EXCL, true, NULL, WASI_EEXIST);

    parent_case("sub/inner.txt", false, "root/sub", "inner.txt", 0);
    parent_case("file.txt", false, "root", "file.txt", 0);
    parent_case("link_dir/inner.txt", false, "root/sub", "inner.txt", 0);
    parent_case("link_in", false, "root", "link_in", 0);
    parent_case("link_in", true, "root/sub", "inner.txt", 0);
    parent_case("link_out", false, "root", "link_out", 0);
    parent_case("link_out", true, NULL, NULL, WASI_ENOTCAPABLE);
    parent_case("link_abs", true, NULL, NULL, WASI_ENOTCAPABLE);
    parent_case("link_dotdot/x", false, NULL, NULL, WASI_ENOTCAPABLE);
    parent_case("link_dotdot/..", false, NULL, NULL, WASI_ENOTCAPABLE);
    parent_case("link_dir/..", false, "root", "", 0);
    parent_case(".", false, "root", "", 0);
    parent_case("sub/deeper/", false, "root/sub", "deeper", 0);
    parent_case("file.txt/", false, NULL, NULL, WASI_ENOTDIR);
    parent_case("../x", false, NULL, NULL, WASI_ENOTCAPABLE);
    parent_case("/x", false, NULL, NULL, WASI_ENOTCAPABLE);
    parent_case("loop1", true, NULL, NULL, WASI_ELOOP);
    parent_case("nope/x", false, NULL, NULL, WASI_ENOENT);
}

static void rm_rf(const char *path)
{
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", path);
    if (system(cmd) != 0)
        fprintf(stderr, "cleanup failed: %s\n", path);
}

int main(void)
{
    test_check();
    test_split();

    snprintf(top, sizeof top, "/tmp/sluice-wasi-paths.XXXXXX");
    if (!mkdtemp(top)) {
        perror("mkdtemp");
        return 1;
    }
    mk("outside.txt", "secret\n");
    mk("root", NULL);
    mk("root/file.txt", "file\n");
    mk("root/sub", NULL);
    mk("root/sub/deeper", NULL);
    mk("root/sub/inner.txt", "inner\n");
    mk("outdir", NULL);
    ln("sub/inner.txt", "root/link_in");
    ln("sub", "root/link_dir");
    ln("../outside.txt", "root/link_out");
    ln("/etc/passwd", "root/link_abs");
    char abs_in[512];
    snprintf(abs_in, sizeof abs_in, "%s/root/file.txt", top);
    ln(abs_in, "root/link_abs_in"); /* absolute, even if it points inside */
    ln("..", "root/link_dotdot");
    ln("../outdir", "root/link_outdir");
    ln("loop2", "root/loop1");
    ln("loop1", "root/loop2");
    ln("../file.txt", "root/sub/link_up");
    ln("../../outside.txt", "root/sub/link_up2");
    ln("link_dir/../link_in", "root/chain");
    ln("../created_outside.txt", "root/link_newout");
    ln("sub/made_by_link.txt", "root/link_newin");

    char rp[512];
    snprintf(rp, sizeof rp, "%s/root", top);
    root = open(rp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (root < 0) {
        perror("open root");
        return 1;
    }

    bool have_openat2 = false;
#ifdef SYS_openat2
    {
        uint64_t how[3] = {O_RDONLY | O_CLOEXEC, 0, 0x08};
        long fd = syscall(SYS_openat2, root, "file.txt", how, sizeof how);
        have_openat2 = fd >= 0;
        if (fd >= 0)
            close((int)fd);
    }
#endif
    printf("# openat2 on this kernel: %s\n", have_openat2 ? "yes" : "no");
    if (have_openat2) {
        mode_name = "[openat2] ";
        wasi__sandbox_use_openat2(true);
        test_tree();
    }
    mode_name = "[walk] ";
    wasi__sandbox_use_openat2(false);
    test_tree();

    close(root);
    rm_rf(top);
    printf("%d passed, %d failed\n", n_pass, n_fail);
    return n_fail != 0;
}
