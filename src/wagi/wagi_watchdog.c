/*
 * wagi_watchdog.c — the process-wide deadline thread for WAGI requests.
 *
 * Owns:      one detached thread, started once (wagi__watchdog_start, on the
 *            first wagi_handler_new), and the list of running requests.
 *            While something is registered it wakes every millisecond and
 *            calls sl_instance_interrupt on each instance past its
 *            deadline (once; the engine keeps the flag until the guest
 *            observes it). When the list has stayed empty for LINGER_MS it
 *            blocks on a condition variable until the next registration, so
 *            an idle process pays nothing; the linger spares a wake-up
 *            syscall per request under light sequential load.
 * Cost:      add and remove are one uncontended mutex round each: a
 *            registration is a node on the caller's stack linked into a
 *            doubly linked list (no allocation). The watchdog holds the
 *            mutex while it interrupts, so an instance is never freed under
 *            it (remove waits for the scan).
 * Not here:  deciding what a fired deadline means (wagi_handler.c: 504).
 *            A guest sleeping inside a host call (poll_oneoff) is stopped
 *            only when that call returns (the engine polls the flag at
 *            calls and loop back-edges).
 */
#include <errno.h>
#include <pthread.h>
#include <time.h>

#include "wagi_int.h"

#define TICK_NS 1000000L /* 1 ms between checks */
#define LINGER_MS 20     /* keep ticking this long after the list empties */

static pthread_once_t once = PTHREAD_ONCE_INIT;
static int start_err;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static wagi__watch *head; /* guarded by mu */
static bool sleeping;     /* guarded by mu: the thread waits on cv */

uint64_t wagi__now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void *watchdog_main(void *arg)
{
    (void)arg;
    unsigned idle_ticks = 0;
    pthread_mutex_lock(&mu);
    for (;;) {
        if (!head) {
            if (idle_ticks >= LINGER_MS) {
                sleeping = true;
                while (!head)
                    pthread_cond_wait(&cv, &mu);
                sleeping = false;
            } else {
                idle_ticks++;
            }
        }
        if (head) {
            idle_ticks = 0;
            uint64_t now = wagi__now_ns();
            for (wagi__watch *w = head; w; w = w->next) {
                if (!w->fired && now >= w->deadline_ns) {
                    w->fired = true;
                    sl_instance_interrupt(w->inst);
                }
            }
        }
        pthread_mutex_unlock(&mu);
        struct timespec ts = {0, TICK_NS};
        while (clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, &ts) == EINTR)
            ;
        pthread_mutex_lock(&mu);
    }
    return NULL;
}

static void start_once(void)
{
    pthread_t t;
    pthread_attr_t attr;
    start_err = pthread_attr_init(&attr);
    if (start_err)
        return;
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&attr, 256 * 1024);
    start_err = pthread_create(&t, &attr, watchdog_main, NULL);
    pthread_attr_destroy(&attr);
}

int wagi__watchdog_start(void)
{
    pthread_once(&once, start_once);
    return start_err;
}

void wagi__watch_add(wagi__watch *w)
{
    w->prev = NULL;
    w->fired = false;
    pthread_mutex_lock(&mu);
    w->next = head;
    if (head)
        head->prev = w;
    head = w;
    if (sleeping)
        pthread_cond_signal(&cv);
    pthread_mutex_unlock(&mu);
}

void wagi__watch_remove(wagi__watch *w)
{
    pthread_mutex_lock(&mu);
    if (w->prev)
        w->prev->next = w->next;
    else
        head = w->next;
    if (w->next)
        w->next->prev = w->prev;
    pthread_mutex_unlock(&mu);
    w->prev = w->next = NULL;
}
