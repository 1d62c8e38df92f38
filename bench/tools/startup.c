/*
 * startup — wall-clock start-up timer (a stand-in for hyperfine).
 *   startup RUNS TIMEOUT_S cmd [args...]
 * Runs cmd RUNS times (stdin/stdout/stderr on /dev/null), timing each from
 * fork to exit with CLOCK_MONOTONIC. Prints
 *   runs=N median_ms=M min_ms=A max_ms=B
 * and exits 0, or prints "error=..." and exits 1 if a run fails, exits
 * non-zero or exceeds TIMEOUT_S seconds (the child is then killed).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: startup RUNS TIMEOUT_S cmd [args...]\n");
        return 2;
    }
    int runs = atoi(argv[1]);
    double timeout_s = atof(argv[2]);
    if (runs < 1 || runs > 10000 || timeout_s <= 0) {
        fprintf(stderr, "startup: bad RUNS or TIMEOUT_S\n");
        return 2;
    }
    double *t = calloc((size_t)runs, sizeof *t);
    sigset_t chld;
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    sigprocmask(SIG_BLOCK, &chld, NULL);

    for (int i = 0; i < runs; i++) {
        double t0 = now_ms();
        pid_t pid = fork();
        if (pid < 0) {
            printf("error=fork: %d\n", errno);
            return 1;
        }
        if (pid == 0) {
            sigprocmask(SIG_UNBLOCK, &chld, NULL);
            int fd = open("/dev/null", O_RDWR);
            dup2(fd, 0);
            dup2(fd, 1);
            dup2(fd, 2);
            execvp(argv[3], argv + 3);
            _exit(127);
        }
        double deadline = t0 + timeout_s * 1e3;
        int status = 0;
        for (;;) {
            pid_t r = waitpid(pid, &status, WNOHANG);
            if (r == pid)
                break;
            double left = deadline - now_ms();
            if (left <= 0) {
                kill(pid, SIGKILL);
                waitpid(pid, &status, 0);
                printf("error=run %d timed out after %.0f s\n", i + 1, timeout_s);
                return 1;
            }
            struct timespec ts = {(time_t)(left / 1e3), (long)(((long long)left % 1000) * 1000000)};
            sigtimedwait(&chld, NULL, &ts); /* woken by SIGCHLD or the deadline */
        }
        t[i] = now_ms() - t0;
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
            printf("error=run %d exited with status %d\n", i + 1,
                   WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
            return 1;
        }
    }
    qsort(t, (size_t)runs, sizeof *t, cmp);
    double med = runs % 2 ? t[runs / 2] : (t[runs / 2 - 1] + t[runs / 2]) / 2;
    printf("runs=%d median_ms=%.2f min_ms=%.2f max_ms=%.2f\n", runs, med, t[0], t[runs - 1]);
    return 0;
}
