/*
 * sl_deadline.c — the process-wide deadline thread (vm.h "deadlines").
 *
 * Owns:      one detached thread, started on the first registration, and
 *            the doubly linked list of registered nodes (guarded by mu).
 *            While some node is armed the thread wakes every millisecond
 *            and interrupts each instance whose armed deadline has passed
 *            (once per arm). When nothing has been armed for LINGER_MS it
 *            blocks on a condition variable until the next arm.
 * Lock-free: arm/disarm touch only the node's atomics and a global armed
 *            count; they lock mu only to wake a sleeping thread. A node's
 *            state is seq << 2 | phase: arm bumps seq, so the thread's
 *            compare-and-swap ARMED → FIRING can never fire a later arm
 *            of the same node (no ABA between check and interrupt).
 * Not here:  what a fired deadline means (WAGI: 504; proxy-wasm: the VM
 *            failed). Moved here from src/wagi so both host ABIs share it.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <time.h>

#include <sluice/vm.h>

#define TICK_NS 1000000L /* 1 ms between checks */
#define LINGER_MS 20     /* keep ticking this long after the last arm */

enum { PH_IDLE = 0, PH_ARMED = 1, PH_FIRING = 2, PH_FIRED = 3 };

static pthread_once_t once = PTHREAD_ONCE_INIT;
static int start_err;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static sl_deadline *head;       /* guarded by mu */
static atomic_long n_armed;     /* nodes currently armed */
static atomic_bool sleeping;    /* the thread waits on cv */

uint64_t sl_clock_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void scan(uint64_t now)
{
    for (sl_deadline *d = head; d; d = d->next_) {
        uint64_t st = __atomic_load_n(&d->state_, __ATOMIC_ACQUIRE);
        if ((st & 3) != PH_ARMED)
            continue;
        if (now < __atomic_load_n(&d->at_ns_, __ATOMIC_ACQUIRE))
            continue;
        uint64_t firing = (st & ~(uint64_t)3) | PH_FIRING;
        if (!__atomic_compare_exchange_n(&d->state_, &st, firing, false, __ATOMIC_ACQ_REL,
                                         __ATOMIC_ACQUIRE))
            continue; /* disarmed or re-armed meanwhile */
        sl_instance_interrupt(d->inst_);
        __atomic_store_n(&d->state_, (firing & ~(uint64_t)3) | PH_FIRED, __ATOMIC_RELEASE);
    }
}

static void *watchdog_main(void *arg)
{
    (void)arg;
    unsigned idle_ticks = 0;
    pthread_mutex_lock(&mu);
    for (;;) {
        if (atomic_load(&n_armed) <= 0) {
            if (idle_ticks >= LINGER_MS) {
                atomic_store(&sleeping, true);
                while (atomic_load(&n_armed) <= 0)
                    pthread_cond_wait(&cv, &mu);
                atomic_store(&sleeping, false);
            } else {
                idle_ticks++;
            }
        } else {
            idle_ticks = 0;
        }
        scan(sl_clock_ns());
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

int sl_deadline_register(sl_deadline *d, sl_instance *inst)
{
    pthread_once(&once, start_once);
    if (start_err)
        return start_err;
    d->inst_ = inst;
    d->prev_ = NULL;
    __atomic_store_n(&d->at_ns_, 0, __ATOMIC_RELAXED);
    __atomic_store_n(&d->state_, PH_IDLE, __ATOMIC_RELAXED);
    pthread_mutex_lock(&mu);
    d->next_ = head;
    if (head)
        head->prev_ = d;
    head = d;
    pthread_mutex_unlock(&mu);
    return 0;
}

void sl_deadline_unregister(sl_deadline *d)
{
    (void)sl_deadline_disarm(d);
    pthread_mutex_lock(&mu);
    if (d->prev_)
        d->prev_->next_ = d->next_;
    else
        head = d->next_;
    if (d->next_)
        d->next_->prev_ = d->prev_;
    pthread_mutex_unlock(&mu);
    d->prev_ = d->next_ = NULL;
}

void sl_deadline_arm(sl_deadline *d, uint64_t at_ns)
{
    uint64_t st = __atomic_load_n(&d->state_, __ATOMIC_RELAXED);
    __atomic_store_n(&d->at_ns_, at_ns, __ATOMIC_RELEASE);
    uint64_t seq = (st >> 2) + 1;
    __atomic_store_n(&d->state_, seq << 2 | PH_ARMED, __ATOMIC_RELEASE);
    if (atomic_fetch_add(&n_armed, 1) == 0 && atomic_load(&sleeping)) {
        pthread_mutex_lock(&mu);
        pthread_cond_signal(&cv);
        pthread_mutex_unlock(&mu);
    }
}

bool sl_deadline_disarm(sl_deadline *d)
{
    uint64_t st = __atomic_load_n(&d->state_, __ATOMIC_ACQUIRE);
    if ((st & 3) == PH_IDLE)
        return false;
    for (;;) {
        uint64_t idle = st & ~(uint64_t)3;
        if ((st & 3) == PH_ARMED) {
            if (__atomic_compare_exchange_n(&d->state_, &st, idle, false, __ATOMIC_ACQ_REL,
                                            __ATOMIC_ACQUIRE)) {
                atomic_fetch_sub(&n_armed, 1);
                return false;
            }
            continue; /* the thread is firing it: st was reloaded */
        }
        if ((st & 3) == PH_FIRING) { /* the thread is inside sl_instance_interrupt */
            sched_yield();
            st = __atomic_load_n(&d->state_, __ATOMIC_ACQUIRE);
            continue;
        }
        /* PH_FIRED */
        __atomic_store_n(&d->state_, idle, __ATOMIC_RELEASE);
        atomic_fetch_sub(&n_armed, 1);
        return true;
    }
}
