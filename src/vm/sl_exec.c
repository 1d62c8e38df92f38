/*
 * sl_exec.c — entering wasm: the per-thread value stack and frame array,
 * the guard-page fault handler, and trap backtraces.
 *
 * Layer:     engine (src/vm). sl__invoke is the one door into execution,
 *            used by sl_func_call, the start function and host re-entry.
 * Threads:   all state is thread-local; the SIGSEGV handler only jumps when
 *            the faulting address lies inside a live linear-memory
 *            reservation and this thread is running wasm, else it restores
 *            the previous handler so the fault is reported normally.
 * Ownership: the stacks are mapped once per thread and kept for its life;
 *            a thread-specific key's destructor unmaps them at thread exit.
 * Not here:  the dispatch loop (sl_interp.c).
 */
#include "sl_exec.h"

#include <pthread.h>
#include <stdio.h>
#include <ucontext.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

static _Thread_local sl__exec *tl_exec;
static struct sigaction previous_segv, previous_bus;
static pthread_once_t signals_once = PTHREAD_ONCE_INIT;
/* The same state under a key, whose destructor frees it when its thread
 * exits (worker threads come and go: each would leak its stacks). */
static pthread_key_t exec_key;
static pthread_once_t key_once = PTHREAD_ONCE_INIT;
static bool key_ok;

static void
on_fault(int sig, siginfo_t *si, void *uc)
{
    sl__exec *ex = tl_exec;
    if (ex && ex->jmp && sl__memory_owns_fault(si->si_addr)) {
#if defined(__x86_64__)
        const ucontext_t *u = uc;
        ex->fault_pc = (void *)u->uc_mcontext.gregs[REG_RIP];
#else
        (void)uc;
#endif
        siglongjmp(*ex->jmp, 1);
    }
    /* Not ours: put the old handler back; the fault repeats and is
     * reported as it would have been without us. */
    sigaction(sig, sig == SIGSEGV ? &previous_segv : &previous_bus, NULL);
}

static void
install_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_fault;
    sa.sa_flags = SA_SIGINFO | SA_NODEFER; /* NODEFER: no mask to restore */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGSEGV, &sa, &previous_segv);
    sigaction(SIGBUS, &sa, &previous_bus);
}

static void *
map_zeroed(size_t bytes)
{
    void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                   -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

static void
exec_free(void *p)
{
    sl__exec *ex = p;
    if (ex->stack)
        munmap(ex->stack, ex->n_slots * sizeof(sl_val));
    if (ex->frames)
        munmap(ex->frames, ex->n_frames * sizeof(sl__frame));
    free(ex);
    tl_exec = NULL;
}

static void
make_key(void)
{
    key_ok = pthread_key_create(&exec_key, exec_free) == 0;
}

/* Returns this thread's exec state, sized for the limits, or NULL. */
static sl__exec *
exec_for(const sl_limits *lim)
{
    sl__exec *ex = tl_exec;
    if (!ex) {
        pthread_once(&key_once, make_key);
        ex = calloc(1, sizeof *ex);
        if (!ex)
            return NULL;
        tl_exec = ex;
        if (key_ok)
            (void)pthread_setspecific(exec_key, ex); /* on failure: kept for life */
    }
    if (ex->depth == 0 && (ex->n_slots < lim->value_stack_slots ||
                           ex->n_frames < lim->max_call_depth + 2)) {
        if (ex->stack)
            munmap(ex->stack, ex->n_slots * sizeof(sl_val));
        if (ex->frames)
            munmap(ex->frames, ex->n_frames * sizeof(sl__frame));
        ex->n_slots = lim->value_stack_slots;
        ex->n_frames = lim->max_call_depth + 2;
        ex->stack = map_zeroed(ex->n_slots * sizeof(sl_val));
        ex->frames = map_zeroed(ex->n_frames * sizeof(sl__frame));
        if (!ex->stack || !ex->frames) {
            if (ex->stack)
                munmap(ex->stack, ex->n_slots * sizeof(sl_val));
            if (ex->frames)
                munmap(ex->frames, ex->n_frames * sizeof(sl__frame));
            ex->stack = NULL;
            ex->frames = NULL;
            ex->n_slots = ex->n_frames = 0;
            return NULL;
        }
    }
    return ex;
}

static const char *
frame_name(const sl_func *f, char *buf, size_t n)
{
    if (!f->inst)
        return f->debug_name ? f->debug_name : "<host>";
    const sl_module *m = f->inst->module;
    if (m->func_names && m->func_names[f->index])
        return m->func_names[f->index];
    snprintf(buf, n, "func[%u]", f->index);
    return buf;
}

void
sl__exec_backtrace(sl__exec *ex, sl_trap *t, uint32_t lowest)
{
    char buf[32];
    for (uint32_t d = ex->depth; d >= lowest && d > 0; d--) {
        const sl_func *f = ex->frames[d].func;
        sl__trap_push_frame(t, f->inst ? f->index : UINT32_MAX, frame_name(f, buf, sizeof buf));
    }
}

/* The guard-page fault path: ex->depth still names the faulting frame. */
static sl_trap *
fault_trap(sl__exec *ex, uint32_t base)
{
    sl_trap *t = sl_trap_new(SL_TRAP_MEMORY_OOB, NULL);
    if (t)
        sl__exec_backtrace(ex, t, base);
    ex->depth = base - 1;
    return t;
}

static sl_trap *
invoke_wasm(sl__exec *ex, sl_func *f, sl_val *args_results, const sl_limits *lim)
{
    const sl_functype *ft = f->type;
    sl_val *fp = ex->depth ? ex->top : ex->stack;
    const sl_val *end = ex->stack + lim->value_stack_slots;
    size_t n_in = ft->n_param_slots, n_out = ft->n_result_slots;
    if (end > ex->stack + ex->n_slots)
        end = ex->stack + ex->n_slots;
    if (fp + (n_in > n_out ? n_in : n_out) > end)
        return sl_trap_new(SL_TRAP_STACK_EXHAUSTED, NULL);
    memcpy(fp, args_results, n_in * sizeof(sl_val));

    sigjmp_buf jb;
    sigjmp_buf *volatile prev = ex->jmp;
    sl_val *volatile saved_top = ex->top;
    volatile uint32_t base = ex->depth + 1;
    sl_trap *t;
    if (sigsetjmp(jb, 0)) {
        ex->jmp = prev;
        ex->top = saved_top;
        return fault_trap(ex, base);
    }
    ex->jmp = &jb;
    t = sl__interp_run(ex, f, fp, end, lim->max_call_depth + 1);
    ex->jmp = prev;
    ex->top = saved_top;
    if (!t)
        memcpy(args_results, fp, n_out * sizeof(sl_val));
    return t;
}

void
sl__exec_raise(sl_trap *t)
{
    sl__exec *ex = tl_exec;
    if (!ex || !ex->jmp)
        abort(); /* native code runs only under invoke_native's buffer */
    ex->raised = t;
    siglongjmp(*ex->jmp, 2);
}

/* The lowest frame address native code may use on this thread: the
 * thread's stack bottom plus a margin for host functions and the fault
 * handler, or 0 (unchecked) when the stack cannot be found. */
#define NATIVE_STACK_MARGIN (256u * 1024u)
static _Thread_local const char *tl_stack_limit;

static const char *
stack_limit(void)
{
    if (!tl_stack_limit) {
        pthread_attr_t a;
        void *lo = NULL;
        size_t size = 0;
        if (pthread_getattr_np(pthread_self(), &a) == 0) {
            if (pthread_attr_getstack(&a, &lo, &size) != 0)
                lo = NULL;
            pthread_attr_destroy(&a);
        }
        tl_stack_limit = lo && size > 2 * NATIVE_STACK_MARGIN
                             ? (const char *)lo + NATIVE_STACK_MARGIN
                             : (const char *)1;
    }
    return tl_stack_limit;
}

static sl_trap *
invoke_native(sl__exec *ex, sl_func *f, sl_val *args_results)
{
    sl_nctx *c = f->nat.nctx;
    sigjmp_buf jb;
    sigjmp_buf *volatile prev = ex->jmp;
    const char *volatile prev_floor = c->stack_floor;
    c->stack_floor = stack_limit();
    /* a pending interrupt stops the first call (see sl_native.h) */
    c->stack_limit = atomic_load(c->interrupt) ? (const char *)UINTPTR_MAX : c->stack_floor;
    int r = sigsetjmp(jb, 0);
    if (r) {
        ex->jmp = prev;
        c->stack_floor = prev_floor;
        c->stack_limit = prev_floor;
        sl_trap *t = ex->raised;
        ex->raised = NULL;
        if (r == 1) {
            t = sl_trap_new(SL_TRAP_MEMORY_OOB, NULL);
            /* Only the faulting function: the frames above it are dead
             * stack after the jump (what called it may be overwritten). */
            sl__native_backtrace(t, NULL, (uintptr_t)ex->fault_pc);
        }
        return t ? t : sl_trap_new(SL_TRAP_HOST, "native code left without a trap");
    }
    ex->jmp = &jb;
    f->nat.entry(c, f->nat.native, (sl_nval *)args_results);
    ex->jmp = prev;
    c->stack_floor = prev_floor;
    c->stack_limit = prev_floor;
    return NULL;
}

sl_trap *
sl__invoke(sl_func *f, sl_val *args_results)
{
    if (SL_MEM_GUARDED)
        pthread_once(&signals_once, install_signals);
    if (f->host)
        return f->host(NULL, args_results, f->user);
    const sl_limits *lim = &f->inst->limits;
    sl__exec *ex = exec_for(lim);
    if (!ex)
        return sl_trap_new(SL_TRAP_OOM, NULL);
    atomic_int *prev_interrupt = ex->interrupt;
    if (ex->depth == 0)
        ex->interrupt = &f->inst->interrupt;
    sl_trap *t = f->nat.native ? invoke_native(ex, f, args_results)
                               : invoke_wasm(ex, f, args_results, lim);
    ex->interrupt = prev_interrupt;
    return t;
}
