/*
 * sl_trap.c — trap values: kind, message, exit code and backtrace.
 *
 * Layer:     engine (src/vm). Uses sl_runtime.h only. The interpreter creates
 *            traps and pushes frames while unwinding; host functions create
 *            them through the public API.
 * Invariant: a trap always has a message (the kind's standard one when the
 *            creator gave none). When memory runs out while creating a trap,
 *            sl_trap_new returns a shared static "out of memory" trap rather
 *            than NULL, because NULL means "no trap" to every caller;
 *            sl_trap_free and sl__trap_push_frame recognise and skip it.
 * Ownership: sl_trap_new/sl_trap_exit return owned; free with sl_trap_free.
 *            The trap owns copies of its message and frame names.
 * Threads:   a trap belongs to one thread; the static OOM trap is read-only.
 * Not here:  raising traps in guest code (sl_interp.c).
 */
#include "sl_runtime.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Deeper backtraces are truncated: a stack-exhaustion trap would otherwise
 * copy one name per frame for every one of max_call_depth frames. */
#define SL_TRAP_MAX_FRAMES 1024u

static char oom_msg[] = "out of memory";
static sl_trap oom_trap = {.kind = SL_TRAP_OOM, .msg = oom_msg};

static const char *
kind_message(sl_trap_kind kind)
{
    switch (kind) {
#define SL_X_(name, str) \
    case name:           \
        return str;
        SL_TRAP_LIST(SL_X_)
#undef SL_X_
    case SL_TRAP_NONE:
        break;
    }
    return "trap";
}

sl_trap *
sl_trap_new(sl_trap_kind kind, const char *msg)
{
    sl_trap *t = calloc(1, sizeof *t);
    if (!t)
        return &oom_trap;
    t->kind = kind;
    t->msg = strdup(msg ? msg : kind_message(kind));
    if (!t->msg) {
        free(t);
        return &oom_trap;
    }
    return t;
}

sl_trap *
sl_trap_exit(int code)
{
    char buf[48];
    snprintf(buf, sizeof buf, "exit with code %d", code);
    sl_trap *t = sl_trap_new(SL_TRAP_EXIT, buf);
    if (t != &oom_trap)
        t->exit_code = code;
    return t;
}

void
sl_trap_free(sl_trap *trap)
{
    if (!trap || trap == &oom_trap)
        return;
    for (uint32_t i = 0; i < trap->n_frames; i++)
        free(trap->frame_names[i]);
    free(trap->frame_names);
    free(trap->frame_funcs);
    free(trap->msg);
    free(trap);
}

sl_trap_kind
sl_trap_kind_of(const sl_trap *trap)
{
    return trap ? trap->kind : SL_TRAP_NONE;
}

const char *
sl_trap_message(const sl_trap *trap)
{
    return trap ? trap->msg : "";
}

int
sl_trap_exit_code(const sl_trap *trap)
{
    return trap ? trap->exit_code : 0;
}

size_t
sl_trap_frame_count(const sl_trap *trap)
{
    return trap ? trap->n_frames : 0;
}

const char *
sl_trap_frame_name(const sl_trap *trap, size_t i)
{
    return trap && i < trap->n_frames ? trap->frame_names[i] : NULL;
}

uint32_t
sl_trap_frame_func(const sl_trap *trap, size_t i)
{
    return trap && i < trap->n_frames ? trap->frame_funcs[i] : UINT32_MAX;
}

/* Capacity doubles from 8: it is full exactly when n is 0 or a power of two
 * of at least 8, so no separate capacity field is needed. */
static bool
grow_frames(sl_trap *t)
{
    uint32_t n = t->n_frames;
    if (n != 0 && (n < 8 || (n & (n - 1)) != 0))
        return true;
    uint32_t cap = n ? 2 * n : 8;
    uint32_t *funcs = realloc(t->frame_funcs, cap * sizeof *funcs);
    if (!funcs)
        return false;
    t->frame_funcs = funcs;
    char **names = realloc(t->frame_names, cap * sizeof *names);
    if (!names)
        return false;
    t->frame_names = names;
    return true;
}

void
sl__trap_push_frame(sl_trap *t, uint32_t func, const char *name)
{
    if (!t || t == &oom_trap || t->n_frames >= SL_TRAP_MAX_FRAMES || !grow_frames(t))
        return;
    char buf[24];
    if (!name) {
        snprintf(buf, sizeof buf, "func[%u]", (unsigned)func);
        name = buf;
    }
    char *copy = strdup(name);
    if (!copy)
        return;
    t->frame_funcs[t->n_frames] = func;
    t->frame_names[t->n_frames] = copy;
    t->n_frames++;
}
