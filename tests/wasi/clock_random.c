/* clock_random.c — WASI guest: clocks are sane and monotonic, sleeping
 * (poll_oneoff) waits at least as long as asked, cputime clocks work, and
 * random_get fills buffers with fresh bytes. Prints "ok - X" / "FAIL - X";
 * exits with the number of failures. Checked by tests/wasi/suite.sh. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <wasi/api.h>

static int failed;

static void check(int ok, const char *what)
{
    printf("%s - %s\n", ok ? "ok" : "FAIL", what);
    if (!ok)
        failed++;
}

static uint64_t now(__wasi_clockid_t id)
{
    __wasi_timestamp_t t = 0;
    if (__wasi_clock_time_get(id, 1, &t) != 0)
        return 0;
    return t;
}

int main(void)
{
    struct timespec res, ts;
    check(clock_getres(CLOCK_MONOTONIC, &res) == 0 && (res.tv_sec > 0 || res.tv_nsec > 0) &&
              res.tv_sec == 0 && res.tv_nsec <= 1000000,
          "monotonic resolution is in (0, 1ms]");
    check(clock_gettime(CLOCK_REALTIME, &ts) == 0 && ts.tv_sec > 1600000000,
          "realtime is after 2020");

    uint64_t prev = now(__WASI_CLOCKID_MONOTONIC), bad = 0;
    for (int i = 0; i < 10000; i++) {
        uint64_t t = now(__WASI_CLOCKID_MONOTONIC);
        if (t < prev)
            bad++;
        prev = t;
    }
    check(prev != 0 && bad == 0, "monotonic never goes backwards (10000 reads)");

    uint64_t t0 = now(__WASI_CLOCKID_MONOTONIC);
    struct timespec nap = {0, 20 * 1000 * 1000};
    int rc = nanosleep(&nap, NULL);
    uint64_t slept = now(__WASI_CLOCKID_MONOTONIC) - t0;
    check(rc == 0 && slept >= 20000000u && slept < 2000000000u,
          "nanosleep(20ms) sleeps 20ms..2s (poll_oneoff clock)");

    /* Two clock subscriptions: only the earlier one fires. */
    __wasi_subscription_t subs[2];
    memset(subs, 0, sizeof subs);
    subs[0].userdata = 11;
    subs[0].u.tag = __WASI_EVENTTYPE_CLOCK;
    subs[0].u.u.clock.id = __WASI_CLOCKID_MONOTONIC;
    subs[0].u.u.clock.timeout = 5 * 1000 * 1000;
    subs[1] = subs[0];
    subs[1].userdata = 22;
    subs[1].u.u.clock.timeout = 3000ull * 1000 * 1000;
    __wasi_event_t ev[2];
    __wasi_size_t n = 0;
    t0 = now(__WASI_CLOCKID_MONOTONIC);
    __wasi_errno_t e = __wasi_poll_oneoff(subs, ev, 2, &n);
    slept = now(__WASI_CLOCKID_MONOTONIC) - t0;
    check(e == 0 && n == 1 && ev[0].userdata == 11 && ev[0].error == 0 &&
              ev[0].type == __WASI_EVENTTYPE_CLOCK && slept >= 5000000u && slept < 2000000000u,
          "poll_oneoff wakes for the earliest clock only");

    /* Absolute deadline on the realtime clock. */
    subs[0].u.u.clock.id = __WASI_CLOCKID_REALTIME;
    subs[0].u.u.clock.timeout = now(__WASI_CLOCKID_REALTIME) + 10 * 1000 * 1000;
    subs[0].u.u.clock.flags = __WASI_SUBCLOCKFLAGS_SUBSCRIPTION_CLOCK_ABSTIME;
    t0 = now(__WASI_CLOCKID_MONOTONIC);
    e = __wasi_poll_oneoff(subs, ev, 1, &n);
    slept = now(__WASI_CLOCKID_MONOTONIC) - t0;
    check(e == 0 && n == 1 && slept >= 8000000u && slept < 2000000000u,
          "poll_oneoff absolute realtime deadline");

    check(now(__WASI_CLOCKID_PROCESS_CPUTIME_ID) > 0, "process cputime clock");
    check(now(__WASI_CLOCKID_THREAD_CPUTIME_ID) > 0, "thread cputime clock");
    __wasi_timestamp_t t;
    check(__wasi_clock_time_get(9, 1, &t) == __WASI_ERRNO_INVAL, "unknown clock is EINVAL");
    check(__wasi_clock_res_get(9, &t) == __WASI_ERRNO_INVAL, "unknown clock res is EINVAL");

    static uint8_t a[65536], b[65536];
    check(__wasi_random_get(a, sizeof a) == 0 && __wasi_random_get(b, sizeof b) == 0,
          "random_get succeeds (64 KiB)");
    int zeros = 0;
    for (size_t i = 0; i < sizeof a; i++)
        zeros += a[i] == 0;
    check(zeros < 1000, "random bytes are not mostly zero");
    check(memcmp(a, b, sizeof a) != 0, "two random buffers differ");
    uint8_t small[16] = {0};
    check(getentropy(small, sizeof small) == 0, "getentropy");
    check(__wasi_random_get(small, 0) == 0, "random_get of 0 bytes");

    printf("clock_random: %d failed\n", failed);
    return failed;
}
