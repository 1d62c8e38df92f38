/* wasi_raw.c — WASI guest: calls the preview1 (and a few preview0) imports
 * directly and checks the exact errno values a host must return: bad fds,
 * bad pointers (EFAULT, never a trap), stdio not seekable and not a TTY,
 * preopen discovery, sandbox refusals, rights, renumber, stubs, and the
 * wasi_unstable layouts (fd_seek whence order, 56-byte filestat).
 *
 * Run with a preopen: sluice run --dir HOST::/data wasi_raw.wasm
 * Prints "ok - X" / "FAIL - X"; exits with the number of failures. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <wasi/api.h>

#define IMPORT(m, n) __attribute__((import_module(m), import_name(n)))
IMPORT("wasi_snapshot_preview1", "proc_raise") int32_t raw_proc_raise(int32_t sig);
IMPORT("wasi_unstable", "fd_seek")
int32_t p0_fd_seek(int32_t fd, int64_t off, int32_t whence, int32_t out);
IMPORT("wasi_unstable", "fd_filestat_get") int32_t p0_fd_filestat_get(int32_t fd, int32_t out);
IMPORT("wasi_snapshot_preview1", "path_open")
int32_t raw_path_open(int32_t dirfd, int32_t dirflags, int32_t path, int32_t path_len,
                      int32_t oflags, int64_t base, int64_t inheriting, int32_t fdflags,
                      int32_t out);
IMPORT("wasi_unstable", "fd_write")
int32_t p0_fd_write(int32_t fd, int32_t iovs, int32_t n, int32_t out);

/* Far beyond any memory this program has (a few pages). */
#define BAD ((void *)(uintptr_t)0xFFFFFF00u)
#define BADI ((int32_t)0xFFFFFF00u)

static int failed;

static void check(int ok, const char *what)
{
    printf("%s - %s\n", ok ? "ok" : "FAIL", what);
    if (!ok)
        failed++;
}

static void expect(__wasi_errno_t got, __wasi_errno_t want, const char *what)
{
    char buf[160];
    snprintf(buf, sizeof buf, "%s (got %u, want %u)", what, got, want);
    check(got == want, got == want ? what : buf);
}

int main(void)
{
    __wasi_fdstat_t fs;
    __wasi_filesize_t pos;
    __wasi_size_t n;
    __wasi_fd_t fd, fd2;

    /* Our own raw fd_write calls interleave with printf: keep lines whole. */
    setvbuf(stdout, NULL, _IOLBF, 0);

    /* stdio */
    expect(__wasi_fd_fdstat_get(1, &fs), 0, "fdstat of stdout");
    check(fs.fs_filetype != __WASI_FILETYPE_CHARACTER_DEVICE, "stdout is not a char device");
    check(!(fs.fs_rights_base & (__WASI_RIGHTS_FD_SEEK | __WASI_RIGHTS_FD_TELL)),
          "stdout has no seek/tell rights");
    check(fs.fs_rights_base & __WASI_RIGHTS_FD_WRITE, "stdout is writable");
    expect(__wasi_fd_seek(1, 0, __WASI_WHENCE_SET, &pos), __WASI_ERRNO_SPIPE, "seek stdout");
    expect(__wasi_fd_tell(0, &pos), __WASI_ERRNO_SPIPE, "tell stdin");
    __wasi_ciovec_t iov = {(const uint8_t *)"raw write\n", 10};
    expect(__wasi_fd_write(1, &iov, 1, &n), 0, "fd_write stdout");
    check(n == 10, "fd_write reports all bytes written");
    expect(__wasi_fd_write(0, &iov, 1, &n), __WASI_ERRNO_BADF, "write to stdin is EBADF");

    /* bad fds */
    expect(__wasi_fd_write(99, &iov, 1, &n), __WASI_ERRNO_BADF, "fd_write bad fd");
    expect(__wasi_fd_close(99), __WASI_ERRNO_BADF, "fd_close bad fd");
    expect(__wasi_fd_fdstat_get(99, &fs), __WASI_ERRNO_BADF, "fdstat bad fd");
    expect(__wasi_fd_readdir(1, (uint8_t *)&fs, sizeof fs, 0, &n), __WASI_ERRNO_NOTDIR,
           "readdir on stdout");

    /* bad pointers: EFAULT, not a trap */
    expect(__wasi_random_get(BAD, 4096), __WASI_ERRNO_FAULT, "random_get bad buffer");
    expect(__wasi_fd_write(1, BAD, 1, &n), __WASI_ERRNO_FAULT, "fd_write bad iovec array");
    __wasi_ciovec_t badiov = {BAD, 16};
    expect(__wasi_fd_write(1, &badiov, 1, &n), __WASI_ERRNO_FAULT, "fd_write bad iovec buffer");
    expect(__wasi_fd_write(1, &iov, 1, BAD), __WASI_ERRNO_FAULT, "fd_write bad nwritten");
    expect(__wasi_clock_time_get(0, 1, BAD), __WASI_ERRNO_FAULT, "clock_time_get bad out");
    expect(__wasi_args_sizes_get(BAD, &n), __WASI_ERRNO_FAULT, "args_sizes_get bad out");
    expect(__wasi_fd_prestat_dir_name(3, BAD, 5), __WASI_ERRNO_FAULT, "prestat_dir_name bad buf");
    expect(raw_path_open(3, 0, BADI, 8, 0, 0, 0, 0, (int32_t)(uintptr_t)&fd),
           __WASI_ERRNO_FAULT, "path_open bad path");
    expect(raw_path_open(3, 0, (int32_t)(uintptr_t) "x", 1, 0, 0, 0, 0, BADI),
           __WASI_ERRNO_FAULT, "path_open bad fd out-pointer");
    expect(__wasi_fd_read(0, (__wasi_iovec_t *)BAD, 1, &n), __WASI_ERRNO_FAULT,
           "fd_read bad iovec array");

    /* preopens */
    __wasi_prestat_t ps;
    expect(__wasi_fd_prestat_get(3, &ps), 0, "prestat of fd 3");
    check(ps.tag == __WASI_PREOPENTYPE_DIR && ps.u.dir.pr_name_len == 5, "fd 3 is a dir, len 5");
    char name[8] = {0};
    expect(__wasi_fd_prestat_dir_name(3, (uint8_t *)name, 5), 0, "prestat_dir_name");
    check(memcmp(name, "/data", 5) == 0, "fd 3 is /data");
    expect(__wasi_fd_prestat_dir_name(3, (uint8_t *)name, 2), __WASI_ERRNO_NAMETOOLONG,
           "prestat_dir_name short buffer");
    expect(__wasi_fd_prestat_get(4, &ps), __WASI_ERRNO_BADF, "no fd 4: EBADF ends the scan");
    expect(__wasi_fd_prestat_get(1, &ps), __WASI_ERRNO_BADF, "stdout is not a preopen");

    /* sandbox */
    const __wasi_rights_t rw = __WASI_RIGHTS_FD_READ | __WASI_RIGHTS_FD_WRITE |
                               __WASI_RIGHTS_FD_SEEK | __WASI_RIGHTS_FD_TELL |
                               __WASI_RIGHTS_FD_FILESTAT_GET;
    expect(__wasi_path_open(3, 0, "../x", __WASI_OFLAGS_CREAT, rw, 0, 0, &fd),
           __WASI_ERRNO_NOTCAPABLE, "path_open ../x");
    expect(__wasi_path_open(3, 0, "/etc/passwd", 0, rw, 0, 0, &fd), __WASI_ERRNO_NOTCAPABLE,
           "path_open absolute");
    expect(__wasi_path_open(3, 0, "a/../../x", 0, rw, 0, 0, &fd), __WASI_ERRNO_NOTCAPABLE,
           "path_open a/../../x");
    expect(__wasi_path_create_directory(3, ".."), __WASI_ERRNO_NOTCAPABLE, "mkdir ..");
    expect(__wasi_path_symlink("/etc", 3, "abs"), __WASI_ERRNO_NOTCAPABLE,
           "absolute symlink target");
    expect(__wasi_path_open(3, 0, "nope", 0, rw, 0, 0, &fd), __WASI_ERRNO_NOENT,
           "path_open missing file");
    expect(__wasi_path_open(1, 0, "x", 0, rw, 0, 0, &fd), __WASI_ERRNO_NOTDIR,
           "path_open relative to stdout");

    /* a file: rights, seek, filestat, renumber */
    expect(__wasi_path_open(3, 0, "raw.txt", __WASI_OFLAGS_CREAT | __WASI_OFLAGS_TRUNC, rw,
                            0, 0, &fd),
           0, "create raw.txt");
    __wasi_ciovec_t ten = {(const uint8_t *)"0123456789", 10};
    expect(__wasi_fd_write(fd, &ten, 1, &n), 0, "write 10 bytes");
    expect(__wasi_fd_fdstat_get(fd, &fs), 0, "fdstat of file");
    check(fs.fs_filetype == __WASI_FILETYPE_REGULAR_FILE, "file is a regular file");
    check((fs.fs_rights_base & rw) == rw, "file keeps the requested rights");
    expect(__wasi_fd_fdstat_set_rights(fd, __WASI_RIGHTS_FD_READ | __WASI_RIGHTS_FD_SEEK, 0), 0,
           "rights can shrink");
    expect(__wasi_fd_fdstat_set_rights(fd, rw, 0), __WASI_ERRNO_NOTCAPABLE, "but never grow");
    expect(__wasi_fd_seek(fd, -3, __WASI_WHENCE_END, &pos), 0, "seek end-3");
    check(pos == 7, "at 7");
    expect(__wasi_fd_seek(fd, 0, 7, &pos), __WASI_ERRNO_INVAL, "bad whence");

    /* wasi_unstable: whence cur 0, end 1, set 2; filestat nlink u32 @20,
     * size @24 */
    uint64_t p0pos = 0;
    expect(p0_fd_seek(fd, 2, 2, (int32_t)(uintptr_t)&p0pos), 0, "preview0 seek SET(2)");
    check(p0pos == 2, "preview0 SET went to 2");
    expect(p0_fd_seek(fd, 0, 1, (int32_t)(uintptr_t)&p0pos), 0, "preview0 seek END(1)");
    check(p0pos == 10, "preview0 END went to 10");
    _Alignas(8) uint8_t st0[56 + 8];
    memset(st0, 0xAA, sizeof st0);
    expect(p0_fd_filestat_get(fd, (int32_t)(uintptr_t)st0), 0, "preview0 filestat");
    uint32_t nlink0;
    uint64_t size0;
    memcpy(&nlink0, st0 + 20, 4);
    memcpy(&size0, st0 + 24, 8);
    check(st0[16] == __WASI_FILETYPE_REGULAR_FILE && nlink0 == 1 && size0 == 10 &&
              st0[56] == 0xAA,
          "preview0 filestat layout (56 bytes, nlink u32)");
    __wasi_filestat_t st;
    expect(__wasi_fd_filestat_get(fd, &st), 0, "preview1 filestat");
    check(st.size == 10 && st.nlink == 1 && st.filetype == __WASI_FILETYPE_REGULAR_FILE,
          "preview1 filestat layout");
    uint32_t p0n = 0;
    expect(p0_fd_write(1, (int32_t)(uintptr_t)&iov, 1, (int32_t)(uintptr_t)&p0n), 0,
           "preview0 fd_write");

    expect(__wasi_path_open(3, 0, "raw2.txt", __WASI_OFLAGS_CREAT, rw, 0, 0, &fd2), 0,
           "create raw2.txt");
    expect(__wasi_fd_renumber(fd, fd2), 0, "renumber raw.txt over raw2.txt");
    expect(__wasi_fd_close(fd), __WASI_ERRNO_BADF, "old number is closed");
    expect(__wasi_fd_filestat_get(fd2, &st), 0, "new number works");
    check(st.size == 10, "new number is raw.txt");
    expect(__wasi_fd_renumber(fd2, 77), __WASI_ERRNO_BADF, "renumber onto a closed fd");
    uint8_t rb[4];
    __wasi_iovec_t riov = {rb, 4};
    expect(__wasi_fd_pread(fd2, &riov, 1, 6, &n), 0, "pread at 6");
    check(n == 4 && memcmp(rb, "6789", 4) == 0, "pread data");
    expect(__wasi_fd_allocate(fd2, 0, 100), 0, "fd_allocate");
    expect(__wasi_fd_advise(fd2, 0, 0, __WASI_ADVICE_SEQUENTIAL), 0, "fd_advise");
    expect(__wasi_fd_datasync(fd2), 0, "fd_datasync");
    expect(__wasi_fd_close(fd2), 0, "close");
    expect(__wasi_path_filestat_get(3, 0, ".", &st), 0, "path_filestat_get .");
    check(st.filetype == __WASI_FILETYPE_DIRECTORY, ". is a directory");
    expect(__wasi_path_filestat_set_times(3, 0, "raw.txt", 1000000000ull * 86400, 0,
                                          __WASI_FSTFLAGS_ATIM),
           0, "set atime");
    expect(__wasi_path_filestat_get(3, 0, "raw.txt", &st), 0, "stat raw.txt");
    check(st.atim == 1000000000ull * 86400 && st.size == 100, "atime and allocated size");
    expect(__wasi_path_filestat_set_times(3, 0, "raw.txt", 1, 0,
                                          __WASI_FSTFLAGS_ATIM | __WASI_FSTFLAGS_ATIM_NOW),
           __WASI_ERRNO_INVAL, "ATIM with ATIM_NOW is EINVAL");
    expect(__wasi_path_unlink_file(3, "raw.txt"), 0, "unlink raw.txt");
    expect(__wasi_path_unlink_file(3, "raw2.txt"), 0, "unlink raw2.txt");
    expect(__wasi_path_remove_directory(3, "."), __WASI_ERRNO_INVAL, "rmdir . is EINVAL");

    /* poll: stdout is writable now; zero subscriptions is EINVAL */
    __wasi_subscription_t sub;
    __wasi_event_t ev;
    memset(&sub, 0, sizeof sub);
    sub.userdata = 5;
    sub.u.tag = __WASI_EVENTTYPE_FD_WRITE;
    sub.u.u.fd_write.file_descriptor = 1;
    expect(__wasi_poll_oneoff(&sub, &ev, 1, &n), 0, "poll stdout writable");
    check(n == 1 && ev.userdata == 5 && ev.type == __WASI_EVENTTYPE_FD_WRITE && ev.error == 0,
          "poll event for stdout");
    sub.u.u.fd_write.file_descriptor = 99;
    expect(__wasi_poll_oneoff(&sub, &ev, 1, &n), 0, "poll bad fd");
    check(n == 1 && ev.error == __WASI_ERRNO_BADF, "poll bad fd reports EBADF in the event");
    expect(__wasi_poll_oneoff(&sub, &ev, 0, &n), __WASI_ERRNO_INVAL, "poll with 0 subs");

    /* stubs */
    expect(raw_proc_raise(2), __WASI_ERRNO_NOSYS, "proc_raise is ENOSYS");
    expect(__wasi_sched_yield(), 0, "sched_yield");
    expect(__wasi_sock_shutdown(1, __WASI_SDFLAGS_WR), __WASI_ERRNO_NOTSUP, "sock_shutdown");
    expect(__wasi_sock_shutdown(99, __WASI_SDFLAGS_WR), __WASI_ERRNO_BADF, "sock_shutdown bad fd");

    printf("wasi_raw: %d failed\n", failed);
    return failed;
}
