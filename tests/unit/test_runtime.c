/*
 * test_runtime.c — unit tests for the engine's run-time objects: engine,
 * traps, linear memories (guard and explicit builds), tables, the linker,
 * and instantiation of hand-built modules.
 *
 * Owns:     src/vm/sl_engine.c sl_trap.c sl_memory.c sl_table.c
 *           sl_linker.c sl_instance.c.
 * Not here: decoding (modules are built by hand below), executing wasm code
 *           (only host functions are called), the SIGSEGV handler.
 * Build:    tests/unit/suite.sh builds it against $BUILD/libsluice.a (make
 *           test, test-check, test-asan). By hand, from the repository root
 *           (add -DSL_MEMCHECK_EXPLICIT and use build-check/ for the
 *           explicit-bounds-check build; CC=clang works too):
 *   make build/libsluice.a && cc -std=c11 -D_GNU_SOURCE -g -Wall -Wextra \
 *      -Wno-unused-parameter -Iinclude -Isrc/util -Isrc/vm \
 *      tests/unit/test_runtime.c build/libsluice.a -lm -lpthread \
 *      -o build/test_runtime && build/test_runtime
 * Output:   "ok - NAME" / "not ok - NAME" lines, then "N passed, N failed".
 */
#include "sl_linker.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* Hand-built modules below name imports and exports with C strings; the
 * decoder also records their lengths (names may contain NUL), so fill those
 * in before instantiating. */
static sl_err
instantiate_fixed(sl_linker *l, const sl_module *cm, const sl_instance_config *cfg,
                  sl_instance **out, sl_diag *d, sl_trap **t)
{
    sl_module *m = (sl_module *)cm;
    for (uint32_t i = 0; m && i < m->n_imports; i++) {
        m->imports[i].module_len = (uint32_t)strlen(m->imports[i].module);
        m->imports[i].name_len = (uint32_t)strlen(m->imports[i].name);
    }
    for (uint32_t i = 0; m && i < m->n_exports; i++)
        m->exports[i].name_len = (uint32_t)strlen(m->exports[i].name);
    return sl_instantiate(l, cm, cfg, out, d, t);
}
#define sl_instantiate instantiate_fixed

/* sl__linker_lookup with C-string names. */
static bool
lookup(const sl_linker *l, const char *module, const char *name, sl_extern *x)
{
    return sl__linker_lookup(l, module, (uint32_t)strlen(module), name, (uint32_t)strlen(name), x);
}

static int n_pass, n_fail;

static void
check(int cond, const char *name)
{
    printf("%s - %s\n", cond ? "ok" : "not ok", name);
    if (cond)
        n_pass++;
    else
        n_fail++;
}

/* ---- engine and traps ------------------------------------------------------------ */

static void
test_engine(void)
{
    sl_engine *e = sl_engine_new(NULL);
    check(e && e->limits.max_memory_pages == 65536 && e->limits.max_table_elems == 10000000 &&
              e->limits.value_stack_slots == (1u << 20) && e->limits.max_call_depth == 20000,
          "engine: default limits");
    sl_engine_free(e);

    sl_engine_config cfg = {.limits = {.max_memory_pages = 100, .max_call_depth = 7}};
    e = sl_engine_new(&cfg);
    check(e && e->limits.max_memory_pages == 100 && e->limits.max_call_depth == 7 &&
              e->limits.max_table_elems == 10000000,
          "engine: config overrides only non-zero fields");
    sl_limits l = {.max_table_elems = 3};
    sl__limits_inherit(&l, &e->limits);
    check(l.max_table_elems == 3 && l.max_memory_pages == 100 && l.max_call_depth == 7,
          "engine: limits inherit zero fields");
    sl_engine_free(e);

    check(!strcmp(sl_err_str(SL_OK), "ok") && !strcmp(sl_err_str(SL_ERR_LINK), "unlinkable") &&
              !strcmp(sl_err_str(SL_ERR_LIMIT), "resource limit exceeded") &&
              !strcmp(sl_err_str((sl_err)999), "unknown error"),
          "engine: sl_err_str");
}

static void
test_traps(void)
{
    sl_trap *t = sl_trap_new(SL_TRAP_MEMORY_OOB, NULL);
    check(sl_trap_kind_of(t) == SL_TRAP_MEMORY_OOB &&
              !strcmp(sl_trap_message(t), "out of bounds memory access"),
          "trap: standard message");
    check(sl_trap_frame_count(t) == 0 && sl_trap_frame_name(t, 0) == NULL &&
              sl_trap_frame_func(t, 0) == UINT32_MAX,
          "trap: no frames");
    sl__trap_push_frame(t, 3, "inner");
    sl__trap_push_frame(t, 7, NULL);
    check(sl_trap_frame_count(t) == 2 && !strcmp(sl_trap_frame_name(t, 0), "inner") &&
              sl_trap_frame_func(t, 0) == 3 && !strcmp(sl_trap_frame_name(t, 1), "func[7]") &&
              sl_trap_frame_func(t, 1) == 7,
          "trap: frames innermost first, func[N] without a name");
    for (uint32_t i = 0; i < 5000; i++)
        sl__trap_push_frame(t, i, "f");
    check(sl_trap_frame_count(t) == 1024 && sl_trap_frame_func(t, 1023) == 1021,
          "trap: deep backtraces are truncated");
    sl_trap_free(t);

    t = sl_trap_new(SL_TRAP_HOST, "bad thing");
    check(sl_trap_kind_of(t) == SL_TRAP_HOST && !strcmp(sl_trap_message(t), "bad thing"),
          "trap: custom message");
    sl_trap_free(t);

    t = sl_trap_exit(42);
    check(sl_trap_kind_of(t) == SL_TRAP_EXIT && sl_trap_exit_code(t) == 42 &&
              !strcmp(sl_trap_message(t), "exit with code 42"),
          "trap: exit");
    sl_trap_free(t);
    sl_trap_free(NULL);
    check(sl_trap_kind_of(NULL) == SL_TRAP_NONE && sl_trap_frame_count(NULL) == 0,
          "trap: NULL accessors");
}

/* ---- memories ------------------------------------------------------------------------- */

static bool
all_zero(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i])
            return false;
    return true;
}

static void
on_fault(int sig)
{
    _exit(77);
}

/* Runs fn in a child; true when it faulted. The child's own handler makes
 * this work under ASan too, which otherwise reports the fault and aborts. */
static bool
faults(void (*fn)(volatile uint8_t *), volatile uint8_t *p)
{
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        struct sigaction sa = {.sa_handler = on_fault};
        sigaction(SIGSEGV, &sa, NULL);
        sigaction(SIGBUS, &sa, NULL);
        fn(p);
        _exit(0);
    }
    int status;
    if (pid < 0 || waitpid(pid, &status, 0) != pid)
        return false;
    return (WIFEXITED(status) && WEXITSTATUS(status) == 77) ||
           (WIFSIGNALED(status) && (WTERMSIG(status) == SIGSEGV || WTERMSIG(status) == SIGBUS));
}

static void
read_byte(volatile uint8_t *p)
{
    (void)*p;
}

static void
write_byte(volatile uint8_t *p)
{
    *p = 1;
}

static void
test_memory(void)
{
    sl_memory *m = sl__memory_new(1, 3);
    check(m && m->base && m->size == 65536 && m->pages == 1 && m->max_pages == 3 && m->refs == 1,
          "memory: new");
    check(sl_memory_data(m) == m->base && sl_memory_size(m) == 65536, "memory: accessors");
    check(all_zero(m->base, 65536), "memory: starts zeroed");
    m->base[0] = 1;
    m->base[65535] = 2;
    check(sl_memory_grow(m, 1) == 1 && m->pages == 2 && m->size == 131072, "memory: grow 1");
    check(m->base[0] == 1 && m->base[65535] == 2 && all_zero(m->base + 65536, 65536),
          "memory: grow keeps data, new page zero");
    m->base[131071] = 3;
    check(sl_memory_grow(m, 0) == 2, "memory: grow 0 returns size");
    check(sl_memory_grow(m, 2) == -1 && m->pages == 2, "memory: grow past max fails");
    check(sl_memory_grow(m, UINT32_MAX) == -1 && m->pages == 2, "memory: grow by 2^32-1 fails");
    check(sl_memory_grow(m, 1) == 2 && m->pages == 3 && m->base[131071] == 3,
          "memory: grow to max");
    check(sl_memory_grow(m, 1) == -1, "memory: -1 at max");
    if (SL_MEM_GUARDED) {
        uint8_t *b = m->base;
        check(m->reserved == ((size_t)8 << 30) + 65536, "memory: 8 GiB + 64 KiB reserved");
        check(sl__memory_owns_fault(b) && sl__memory_owns_fault(b + m->size) &&
                  sl__memory_owns_fault(b + ((size_t)8 << 30) + 65535),
              "memory: owns_fault inside the reservation");
        check(!sl__memory_owns_fault(b - 1) &&
                  !sl__memory_owns_fault(b + ((size_t)8 << 30) + 65536) &&
                  !sl__memory_owns_fault(&n_pass) && !sl__memory_owns_fault(NULL),
              "memory: owns_fault outside");
        check(!faults(write_byte, b + m->size - 1), "memory: last byte accessible");
        check(faults(read_byte, b + m->size), "memory: first byte past size faults");
        check(faults(write_byte, b + 0xFFFFFFFFull + 0xFFFFFFFFull),
              "memory: i32 address + u32 offset faults");
        sl__memory_release(m);
        check(!sl__memory_owns_fault(b), "memory: released reservation not owned");
    } else {
        check(!sl__memory_owns_fault(m->base), "memory: explicit build owns no faults");
        sl__memory_release(m);
    }

    m = sl__memory_new(0, 0);
    check(m && m->base && m->size == 0 && sl_memory_grow(m, 1) == -1 && sl_memory_grow(m, 0) == 0,
          "memory: zero pages, zero max has a base");
    sl__memory_release(m);
    m = sl__memory_new(0, 2);
    check(m && m->base && sl_memory_grow(m, 1) == 0 && m->size == 65536 &&
              all_zero(m->base, 65536),
          "memory: grow from zero pages");
    m->refs++;
    sl__memory_release(m);
    check(m->refs == 1, "memory: release drops one reference");
    sl__memory_release(m);

    check(sl__memory_new(3, 2) == NULL, "memory: min > max fails");
    m = sl__memory_new(1, UINT32_MAX);
    check(m && m->max_pages == 65536, "memory: max clamped to 65536 pages");
    if (m && SL_MEM_GUARDED) {
        /* 4 GiB by mprotect only: nothing is touched. */
        check(sl_memory_grow(m, 65535) == 1 && m->size == 4294967296ull &&
                  sl_memory_grow(m, 1) == -1,
              "memory: grows to 65536 pages, not beyond");
    }
    sl__memory_release(m);

    /* sl_mem_slice */
    sl_instance inst = {0};
    uint8_t *p = (uint8_t *)1;
    check(!sl_mem_slice(&inst, 0, 0, &p) && p == NULL, "mem_slice: no memory");
    check(!sl_mem_slice(NULL, 0, 0, &p), "mem_slice: no instance");
    inst.mem0 = sl__memory_new(1, 1);
    uint8_t *base = inst.mem0->base;
    check(sl_mem_slice(&inst, 0, 65536, &p) && p == base, "mem_slice: whole memory");
    check(sl_mem_slice(&inst, 65536, 0, &p) && p == base + 65536, "mem_slice: empty at end");
    check(sl_mem_slice(&inst, 100, 10, &p) && p == base + 100, "mem_slice: middle");
    check(!sl_mem_slice(&inst, 65536, 1, &p), "mem_slice: one past end");
    check(!sl_mem_slice(&inst, 1, 65536, &p), "mem_slice: len too long");
    check(!sl_mem_slice(&inst, 65537, 0, &p), "mem_slice: empty past end");
    check(!sl_mem_slice(&inst, UINT64_MAX, 2, &p) && !sl_mem_slice(&inst, 2, UINT64_MAX, &p) &&
              !sl_mem_slice(&inst, UINT64_MAX, UINT64_MAX, &p),
          "mem_slice: off + len overflow");
    sl__memory_release(inst.mem0);
}

static void
test_memory_registry(void)
{
    if (!SL_MEM_GUARDED)
        return;
    enum { MAX = 5000 };
    static sl_memory *mems[MAX];
    int n = 0;
    while (n < MAX && (mems[n] = sl__memory_new(0, 1)) != NULL)
        n++;
    /* mmap itself may give out first (RLIMIT_AS, 47-bit address space). */
    if (n < 4096)
        printf("# registry test: only %d reservations fit; registry limit not reached\n", n);
    check(n <= 4096, "memory: registry full → NULL");
    bool all_owned = true;
    for (int i = 0; i < n; i++)
        all_owned &= sl__memory_owns_fault(mems[i]->base + 12345);
    check(all_owned, "memory: every live reservation is registered");
    if (n) {
        uint8_t *b = mems[n / 2]->base;
        sl__memory_release(mems[n / 2]);
        check(!sl__memory_owns_fault(b), "memory: released slot forgotten");
        mems[n / 2] = sl__memory_new(0, 1);
        check(mems[n / 2] != NULL, "memory: freed slot reused");
    }
    for (int i = 0; i < n; i++)
        sl__memory_release(mems[i]);
}

/* ---- tables --------------------------------------------------------------------------- */

static void
test_tables(void)
{
    int a, b;
    sl_table *t = sl__table_new(SL_FUNCREF, 2, 5, (sl_val){.ref = &a});
    check(t && t->size == 2 && t->max == 5 && t->elem_type == SL_FUNCREF &&
              t->elems[0].ref == &a && t->elems[1].ref == &a && sl_table_size(t) == 2,
          "table: new fills with init");
    check(sl__table_grow(t, 3, (sl_val){.ref = &b}, 100) == 2 && t->size == 5 &&
              t->elems[1].ref == &a && t->elems[2].ref == &b && t->elems[4].ref == &b,
          "table: grow fills new slots");
    check(sl__table_grow(t, 1, (sl_val){.ref = NULL}, 100) == -1 && t->size == 5,
          "table: grow past max fails");
    check(sl__table_grow(t, 0, (sl_val){.ref = NULL}, 100) == 5, "table: grow 0");
    sl__table_release(t);

    t = sl__table_new(SL_EXTERNREF, 0, UINT32_MAX, (sl_val){.ref = NULL});
    check(t && t->size == 0 && sl_table_size(t) == 0, "table: empty");
    check(sl__table_grow(t, 10, (sl_val){.ref = &a}, 10) == 0 && t->size == 10 &&
              t->elems[9].ref == &a,
          "table: grow from empty up to the limit");
    check(sl__table_grow(t, 1, (sl_val){.ref = NULL}, 10) == -1, "table: instance limit");
    check(sl__table_grow(t, UINT32_MAX, (sl_val){.ref = NULL}, UINT32_MAX) == -1 &&
              t->size == 10,
          "table: grow by 2^32-1 fails");
    sl__table_release(t);
    check(sl__table_new(SL_FUNCREF, 3, 2, (sl_val){.ref = NULL}) == NULL,
          "table: min > max fails");
    check(sl_table_size(NULL) == 0, "table: size of NULL");
}

/* ---- linker ----------------------------------------------------------------------------- */

static int host_calls;

static sl_trap *
host_add(sl_instance *caller, sl_val *args, void *user)
{
    host_calls++;
    args[0].i32 = args[0].i32 + args[1].i32 + (user ? *(int *)user : 0);
    return NULL;
}

static sl_trap *
host_nop(sl_instance *caller, sl_val *args, void *user)
{
    host_calls++;
    return NULL;
}

static sl_trap *
host_fail(sl_instance *caller, sl_val *args, void *user)
{
    return sl_trap_new(SL_TRAP_HOST, "start failed");
}

static sl_func *
lookup_func(sl_linker *l, const char *module, const char *name)
{
    sl_extern x;
    return lookup(l, module, name, &x) && x.kind == SL_EXTERN_FUNC ? x.func : NULL;
}

static void
test_linker(sl_engine *e)
{
    sl_linker *l = sl_linker_new(e);
    check(l != NULL && sl_linker_new(NULL) == NULL, "linker: new");
    check(sl_linker_define_func(l, "env", "add", "ii:i", host_add, NULL) == SL_OK,
          "linker: define ii:i");
    sl_func *f = lookup_func(l, "env", "add");
    check(f && f->inst == NULL && f->host == host_add && !strcmp(f->debug_name, "env.add") &&
              sl_func_param_count(f) == 2 && sl_func_result_count(f) == 1 &&
              sl_func_param_type(f, 0) == SL_I32 && sl_func_result_type(f, 0) == SL_I32 &&
              f->type->n_param_slots == 2 && f->type->n_result_slots == 1,
          "linker: host function and its type");
    check(sl_linker_define_func(l, "env", "all", "iIfFrR:Ri", host_nop, NULL) == SL_OK, "linker: all letters");
    f = lookup_func(l, "env", "all");
    static const uint8_t want[] = {SL_I32, SL_I64, SL_F32, SL_F64, SL_EXTERNREF, SL_FUNCREF,
                                   SL_FUNCREF, SL_I32};
    check(f && f->type->n_params == 6 && f->type->n_results == 2 &&
              !memcmp(f->type->types, want, 8),
          "linker: sig letters map to types");
    check(sl_linker_define_func(l, "env", "v", ":", host_nop, NULL) == SL_OK &&
              (f = lookup_func(l, "env", "v")) && f->type->n_params == 0 &&
              f->type->n_results == 0,
          "linker: empty sig ':'");
    check(sl_linker_define_func(l, "env", "x", "", host_nop, NULL) == SL_ERR_ARG &&
              sl_linker_define_func(l, "env", "x", "ii", host_nop, NULL) == SL_ERR_ARG &&
              sl_linker_define_func(l, "env", "x", "i:i:i", host_nop, NULL) == SL_ERR_ARG &&
              sl_linker_define_func(l, "env", "x", "ix:i", host_nop, NULL) == SL_ERR_ARG &&
              sl_linker_define_func(l, "env", "x", ":v", host_nop, NULL) == SL_ERR_ARG &&
              sl_linker_define_func(l, "env", "x", NULL, host_nop, NULL) == SL_ERR_ARG &&
              sl_linker_define_func(l, "env", "x", "i:", NULL, NULL) == SL_ERR_ARG &&
              lookup_func(l, "env", "x") == NULL,
          "linker: bad sigs rejected");

    sl_func *old = lookup_func(l, "env", "add");
    int three = 3;
    check(sl_linker_define_func(l, "env", "add", "ii:i", host_add, &three) == SL_OK &&
              (f = lookup_func(l, "env", "add")) != old && f->user == &three &&
              old->host == host_add,
          "linker: redefinition replaces, old function stays alive");
    sl_val args[2] = {{.i32 = 2}, {.i32 = 5}}, res[1] = {{0}};
    sl_trap *t = sl_func_call(f, args, res);
    check(!t && res[0].i32 == 10 && args[0].i32 == 2, "func_call: host function, args borrowed");
    sl_trap_free(t);
    t = sl_func_call(NULL, NULL, NULL);
    check(t && sl_trap_kind_of(t) == SL_TRAP_HOST, "func_call: NULL function traps");
    sl_trap_free(t);

    check(lookup_func(l, "env", "nope") == NULL && lookup_func(l, "nope", "add") == NULL,
          "linker: unknown names");
    /* module/name split must matter: "a.b"+"c" is not "a"+"b.c" etc. */
    check(sl_linker_define_func(l, "ab", "c", ":", host_nop, NULL) == SL_OK &&
              lookup_func(l, "a", "bc") == NULL && lookup_func(l, "abc", "") == NULL,
          "linker: key is the (module, name) pair");

    /* Many definitions: rehashing keeps all of them. */
    char mod[16], name[16];
    bool ok = true;
    for (int i = 0; i < 500; i++) {
        snprintf(mod, sizeof mod, "m%d", i % 7);
        snprintf(name, sizeof name, "f%d", i);
        ok &= sl_linker_define_func(l, mod, name, "i:", host_nop, NULL) == SL_OK;
    }
    for (int i = 0; i < 500; i++) {
        snprintf(mod, sizeof mod, "m%d", i % 7);
        snprintf(name, sizeof name, "f%d", i);
        ok &= lookup_func(l, mod, name) != NULL;
    }
    check(ok && lookup_func(l, "env", "add") == f, "linker: 500 definitions survive rehashing");

    sl_extern x;
    check(sl_linker_define_memory(l, "spectest", "memory", 1, 2) == SL_OK &&
              lookup(l, "spectest", "memory", &x) && x.kind == SL_EXTERN_MEMORY &&
              x.mem->pages == 1 && x.mem->max_pages == 2 && x.mem->decl_max == 2 && !x.owner,
          "linker: define memory");
    check(sl_linker_define_memory(l, "m", "inf", 0, UINT32_MAX) == SL_OK &&
              lookup(l, "m", "inf", &x) && x.mem->decl_max == UINT32_MAX &&
              x.mem->max_pages == 65536,
          "linker: memory without max");
    check(sl_linker_define_memory(l, "m", "bad", 3, 2) == SL_ERR_ARG &&
              sl_linker_define_memory(l, "m", "bad", 65537, UINT32_MAX) == SL_ERR_ARG &&
              sl_linker_define_memory(l, "m", "bad", 0, 65537) == SL_ERR_ARG,
          "linker: bad memory limits");
    check(sl_linker_define_table(l, "spectest", "table", SL_FUNCREF, 10, 20) == SL_OK &&
              lookup(l, "spectest", "table", &x) && x.kind == SL_EXTERN_TABLE &&
              x.table->size == 10 && x.table->max == 20 && x.table->elems[9].ref == NULL,
          "linker: define table");
    check(sl_linker_define_table(l, "m", "bad", SL_I32, 0, 1) == SL_ERR_ARG &&
              sl_linker_define_table(l, "m", "bad", SL_FUNCREF, 2, 1) == SL_ERR_ARG,
          "linker: bad tables");
    check(sl_linker_define_global(l, "spectest", "global_i32", SL_I32, false,
                                  (sl_val){.i32 = 666}) == SL_OK &&
              lookup(l, "spectest", "global_i32", &x) && x.kind == SL_EXTERN_GLOBAL &&
              sl_global_get(x.global).i32 == 666 && sl_global_type(x.global) == SL_I32 &&
              !sl_global_set(x.global, (sl_val){.i32 = 1}) && x.global->val.i32 == 666,
          "linker: define immutable global");
    check(sl_linker_define_global(l, "m", "g", SL_F64, true, (sl_val){.f64 = 1.5}) == SL_OK &&
              lookup(l, "m", "g", &x) &&
              sl_global_set(x.global, (sl_val){.f64 = 2.5}) && sl_global_get(x.global).f64 == 2.5,
          "linker: mutable global");
    check(sl_linker_define_global(l, "m", "bad", (sl_valtype)0x40, true, (sl_val){0}) ==
              SL_ERR_ARG,
          "linker: bad global type");
    /* Replacing a memory entry drops the linker's reference to the old one. */
    check(sl_linker_define_memory(l, "spectest", "memory", 1, 1) == SL_OK &&
              lookup(l, "spectest", "memory", &x) && x.mem->max_pages == 1,
          "linker: memory redefinition");
    sl_linker_free(l);

    sl_engine_config cfg = {.limits = {.max_memory_pages = 4, .max_table_elems = 8}};
    sl_engine *small = sl_engine_new(&cfg);
    l = sl_linker_new(small);
    check(sl_linker_define_memory(l, "m", "big", 5, UINT32_MAX) == SL_ERR_LIMIT &&
              sl_linker_define_table(l, "m", "big", SL_FUNCREF, 9, 100) == SL_ERR_LIMIT,
          "linker: engine limits apply to host objects");
    check(sl_linker_define_memory(l, "m", "capped", 1, UINT32_MAX) == SL_OK &&
              lookup(l, "m", "capped", &x) && x.mem->max_pages == 4 &&
              x.mem->decl_max == UINT32_MAX,
          "linker: engine limit caps growth, not the declared type");
    sl_linker_free(l);
    sl_engine_free(small);
}

/* ---- instantiation of hand-built modules ------------------------------------------------- */

static uint8_t ty_v_v[1], ty_ii_i[3] = {SL_I32, SL_I32, SL_I32}, ty_R_v[1] = {SL_FUNCREF};
static sl_functype types[] = {
    {.n_params = 0, .n_results = 0, .types = ty_v_v},
    {.n_params = 2, .n_results = 1, .types = ty_ii_i, .n_param_slots = 2, .n_result_slots = 1},
    {.n_params = 1, .n_results = 0, .types = ty_R_v, .n_param_slots = 1},
};

/* Hand-built types need the structural hash the decoder computes (type
 * equality compares it); take it from linker functions of the same types. */
static void
hash_types(sl_engine *e)
{
    static const char *sigs[] = {":", "ii:i", "R:"};
    sl_linker *l = sl_linker_new(e);
    for (int i = 0; i < 3; i++) {
        sl_linker_define_func(l, "t", sigs[i], sigs[i], host_nop, NULL);
        sl_func *f = lookup_func(l, "t", sigs[i]);
        types[i].hash = f ? f->type->hash : 0;
    }
    sl_linker_free(l);
}

static sl_constexpr
c_i32(int32_t v)
{
    return (sl_constexpr){.op = SL_CONST_I32, .value = {.i32 = v}};
}

static sl_constexpr
c_func(uint32_t i)
{
    return (sl_constexpr){.op = SL_CONST_REF_FUNC, .index = i};
}

static sl_constexpr
c_global(uint32_t i)
{
    return (sl_constexpr){.op = SL_CONST_GLOBAL_GET, .index = i};
}

/* A module importing env.add (func ii:i), env.mem (memory 1), env.tab
 * (table 2 funcref), env.g (global i32) and defining two functions, a
 * memory (1 3), a table (4 funcref), a mutable global initialised from the
 * imported one and a funcref global = ref.func 1; segments fill both. */
typedef struct big_module {
    sl_module m;
    sl_import imports[4];
    uint32_t func_types[3];
    sl_funcdef funcs[2];
    sl_tabletype tables[2];
    sl_memtype mems[2];
    sl_globaltype global_types[3];
    sl_global_def globals[2];
    sl_export exports[6];
    sl_elem elems[4];
    sl_constexpr items[4][3];
    sl_data datas[3];
} big_module;

static uint8_t data0[] = "hello", data1[] = "xy", data2[] = "passive";

static void
big_module_init(big_module *b, sl_engine *e)
{
    memset(b, 0, sizeof *b);
    sl_module *m = &b->m;
    m->engine = e;
    m->n_types = 3;
    m->types = types;
    b->imports[0] = (sl_import){.module = "env", .module_len = 3, .name = "add", .name_len = 3, .kind = SL_EXTERN_FUNC,
                                .type_index = 1};
    b->imports[1] = (sl_import){.module = "env", .module_len = 3, .name = "mem", .name_len = 3, .kind = SL_EXTERN_MEMORY,
                                .mem = {.limits = {.min = 1}}};
    b->imports[2] = (sl_import){.module = "env", .module_len = 3, .name = "tab", .name_len = 3, .kind = SL_EXTERN_TABLE,
                                .table = {.elem = SL_FUNCREF, .limits = {.min = 2}}};
    b->imports[3] = (sl_import){.module = "env", .module_len = 3, .name = "g", .name_len = 1, .kind = SL_EXTERN_GLOBAL,
                                .global = {.type = SL_I32}};
    m->n_imports = 4;
    m->imports = b->imports;
    m->n_func_imports = m->n_table_imports = m->n_mem_imports = m->n_global_imports = 1;
    m->n_funcs = 3;
    b->func_types[0] = 1;
    b->func_types[1] = 0;
    b->func_types[2] = 1;
    m->func_types = b->func_types;
    b->funcs[0].type_index = 0;
    b->funcs[1].type_index = 1;
    m->funcs = b->funcs;
    m->n_tables = 2;
    b->tables[0] = b->imports[2].table;
    b->tables[1] = (sl_tabletype){.elem = SL_FUNCREF, .limits = {.min = 4}};
    m->tables = b->tables;
    m->n_mems = 2;
    b->mems[0] = b->imports[1].mem;
    b->mems[1] = (sl_memtype){.limits = {.min = 1, .max = 3, .has_max = true}};
    m->mems = b->mems;
    m->n_globals = 3;
    b->global_types[0] = b->imports[3].global;
    b->global_types[1] = (sl_globaltype){.type = SL_I32, .is_mutable = true};
    b->global_types[2] = (sl_globaltype){.type = SL_FUNCREF};
    m->global_types = b->global_types;
    b->globals[0] = (sl_global_def){.type = b->global_types[1], .init = c_global(0)};
    b->globals[1] = (sl_global_def){.type = b->global_types[2], .init = c_func(1)};
    m->globals = b->globals;
    b->exports[0] = (sl_export){.name = "f1", .name_len = 2, .kind = SL_EXTERN_FUNC, .index = 1};
    b->exports[1] = (sl_export){.name = "add", .name_len = 3, .kind = SL_EXTERN_FUNC, .index = 0};
    b->exports[2] = (sl_export){.name = "mem", .name_len = 3, .kind = SL_EXTERN_MEMORY, .index = 1};
    b->exports[3] = (sl_export){.name = "tab", .name_len = 3, .kind = SL_EXTERN_TABLE, .index = 1};
    b->exports[4] = (sl_export){.name = "g", .name_len = 1, .kind = SL_EXTERN_GLOBAL, .index = 1};
    b->exports[5] = (sl_export){.name = "fg", .name_len = 2, .kind = SL_EXTERN_GLOBAL, .index = 2};
    m->n_exports = 6;
    m->exports = b->exports;
    /* elem 0: active table 1 at 1: f1, null, f0(import)
     * elem 1: active imported table 0 at global g(0)... uses i32 1: f2
     * elem 2: passive: f2
     * elem 3: declarative: f1 */
    b->items[0][0] = c_func(1);
    b->items[0][1] = (sl_constexpr){.op = SL_CONST_REF_NULL, .reftype = SL_FUNCREF};
    b->items[0][2] = c_func(0);
    b->items[1][0] = c_func(2);
    b->items[2][0] = c_func(2);
    b->items[3][0] = c_func(1);
    b->elems[0] = (sl_elem){.mode = SL_SEG_ACTIVE, .reftype = SL_FUNCREF, .table = 1,
                            .offset = c_i32(1), .n_items = 3, .items = b->items[0]};
    b->elems[1] = (sl_elem){.mode = SL_SEG_ACTIVE, .reftype = SL_FUNCREF, .table = 0,
                            .offset = c_i32(1), .n_items = 1, .items = b->items[1]};
    b->elems[2] = (sl_elem){.mode = SL_SEG_PASSIVE, .reftype = SL_FUNCREF, .n_items = 1,
                            .items = b->items[2]};
    b->elems[3] = (sl_elem){.mode = SL_SEG_DECLARATIVE, .reftype = SL_FUNCREF, .n_items = 1,
                            .items = b->items[3]};
    m->n_elems = 4;
    m->elems = b->elems;
    /* data 0: imported memory at 100 "hello"; data 1: own memory at g "xy";
     * data 2: passive. */
    b->datas[0] = (sl_data){.mode = SL_SEG_ACTIVE, .mem = 0, .offset = c_i32(100), .len = 5,
                            .bytes = data0};
    b->datas[1] = (sl_data){.mode = SL_SEG_ACTIVE, .mem = 1, .offset = c_global(0), .len = 2,
                            .bytes = data1};
    b->datas[2] = (sl_data){.mode = SL_SEG_PASSIVE, .len = 7, .bytes = data2};
    m->n_datas = 3;
    m->datas = b->datas;
    m->has_data_count = true;
    m->data_count = 3;
}

static sl_linker *
env_linker(sl_engine *e)
{
    sl_linker *l = sl_linker_new(e);
    sl_linker_define_func(l, "env", "add", "ii:i", host_add, NULL);
    sl_linker_define_memory(l, "env", "mem", 1, UINT32_MAX);
    sl_linker_define_table(l, "env", "tab", SL_FUNCREF, 3, UINT32_MAX);
    sl_linker_define_global(l, "env", "g", SL_I32, false, (sl_val){.i32 = 7});
    return l;
}

static sl_extern
get(sl_linker *l, const char *module, const char *name)
{
    sl_extern x = {0};
    lookup(l, module, name, &x);
    return x;
}

static bool
diag_starts(const sl_diag *d, sl_err err, const char *prefix)
{
    return d->err == err && !strncmp(d->msg, prefix, strlen(prefix));
}

static void
test_instantiate_ok(sl_engine *e)
{
    big_module b;
    big_module_init(&b, e);
    sl_linker *l = env_linker(e);
    int user;
    sl_instance_config cfg = {.user_data = &user};
    sl_instance *inst = NULL;
    sl_diag d = {0};
    sl_trap *t = NULL;
    sl_err err = sl_instantiate(l, &b.m, &cfg, &inst, &d, &t);
    check(err == SL_OK && inst && !t, "instantiate: ok");
    if (err) {
        printf("# %s\n", d.msg);
        sl_linker_free(l);
        return;
    }
    sl_extern env_mem = get(l, "env", "mem"), env_tab = get(l, "env", "tab"),
              env_g = get(l, "env", "g"), env_add = get(l, "env", "add");
    check(sl_instance_user_data(inst) == &user && sl_instance_module(inst) == &b.m &&
              inst->limits.max_memory_pages == 65536,
          "instance: user data, module, limits");
    check(inst->funcs[0] == env_add.func && inst->funcs[1] == &inst->own_funcs[0] &&
              inst->funcs[2] == &inst->own_funcs[1] && inst->own_funcs[0].inst == inst &&
              inst->own_funcs[1].index == 2 && inst->own_funcs[1].type == &types[1] &&
              inst->own_funcs[0].code == &b.funcs[0].code,
          "instance: function index space");
    check(inst->mems[0] == env_mem.mem && env_mem.mem->refs == 2 && inst->mem0 == env_mem.mem &&
              inst->mems[1]->pages == 1 && inst->mems[1]->max_pages == 3 &&
              inst->mems[1]->decl_max == 3,
          "instance: memories (imported referenced, defined created)");
    check(inst->tables[0] == env_tab.table && env_tab.table->refs == 2 &&
              inst->tables[1]->size == 4 && inst->tables[1]->max == UINT32_MAX,
          "instance: tables");
    check(inst->globals[0] == env_g.global && env_g.global->refs == 2 &&
              inst->globals[1]->val.i32 == 7 && inst->globals[1]->is_mutable &&
              inst->globals[2]->val.ref == inst->funcs[1],
          "instance: globals (global.get, ref.func)");
    sl_table *t1 = inst->tables[1];
    check(t1->elems[0].ref == NULL && t1->elems[1].ref == inst->funcs[1] &&
              t1->elems[2].ref == NULL && t1->elems[3].ref == env_add.func,
          "instance: active elem applied");
    check(env_tab.table->elems[1].ref == inst->funcs[2] && env_tab.table->elems[0].ref == NULL,
          "instance: active elem into imported table");
    check(!inst->elem_values[0] && inst->elem_sizes[0] == 0 && !inst->elem_values[1] &&
              inst->elem_sizes[2] == 1 && inst->elem_values[2][0].ref == inst->funcs[2] &&
              !inst->elem_values[3] && inst->elem_sizes[3] == 0,
          "instance: active/declarative dropped, passive kept");
    check(!memcmp(env_mem.mem->base + 100, "hello", 5) &&
              !memcmp(inst->mems[1]->base + 7, "xy", 2),
          "instance: data segments applied");
    check(inst->data_dropped[0] && inst->data_dropped[1] && !inst->data_dropped[2],
          "instance: active data dropped, passive kept");
    check(sl_instance_func(inst, "f1") == inst->funcs[1] &&
              sl_instance_func(inst, "add") == env_add.func &&
              sl_instance_memory(inst, "mem") == inst->mems[1] &&
              sl_instance_table(inst, "tab") == inst->tables[1] &&
              sl_instance_global(inst, "g") == inst->globals[1],
          "instance: exports by name");
    check(!sl_instance_func(inst, "mem") && !sl_instance_memory(inst, "f1") &&
              !sl_instance_func(inst, "none") && !sl_instance_func(NULL, "f1"),
          "instance: absent exports and wrong kinds");
    sl_global *g = sl_instance_global(inst, "g");
    check(sl_global_set(g, (sl_val){.i32 = 9}) && sl_global_get(g).i32 == 9 &&
              sl_global_type(g) == SL_I32 && !sl_global_set(inst->globals[2], (sl_val){0}),
          "instance: global get/set");
    sl_val args[2] = {{.i32 = 1}, {.i32 = 2}}, res[1];
    t = sl_func_call(sl_instance_func(inst, "add"), args, res);
    check(!t && res[0].i32 == 3, "instance: call an exported host function");
    sl_trap_free(t);
    check(atomic_load(&inst->interrupt) == 0, "instance: interrupt clear");
    sl_instance_interrupt(inst);
    check(atomic_load(&inst->interrupt) == 1, "instance: interrupt sets the flag");

    /* Register it and link a second module against its exports. */
    check(sl_linker_define_instance(l, "A", inst) == SL_OK && inst->refs == 2,
          "linker: define_instance references the instance");
    sl_extern x = get(l, "A", "f1");
    check(x.kind == SL_EXTERN_FUNC && x.func == inst->funcs[1] && x.owner == inst,
          "linker: instance export func");
    x = get(l, "A", "mem");
    check(x.kind == SL_EXTERN_MEMORY && x.mem == inst->mems[1] && x.mem->refs == 2,
          "linker: instance export memory (referenced)");

    sl_module m2 = {.engine = e};
    sl_import imps[3] = {
        {.module = "A", .name = "f1", .kind = SL_EXTERN_FUNC, .type_index = 0},
        {.module = "A", .name = "mem", .kind = SL_EXTERN_MEMORY,
         .mem = {.limits = {.min = 1, .max = 3, .has_max = true}}},
        {.module = "A", .name = "g", .kind = SL_EXTERN_GLOBAL,
         .global = {.type = SL_I32, .is_mutable = true}},
    };
    sl_memtype mt = imps[1].mem;
    sl_globaltype gt = imps[2].global;
    uint32_t ft = 0;
    m2.types = types;
    m2.n_types = 3;
    m2.imports = imps;
    m2.n_imports = 3;
    m2.n_func_imports = m2.n_mem_imports = m2.n_global_imports = 1;
    m2.n_funcs = 1;
    m2.func_types = &ft;
    m2.n_mems = 1;
    m2.mems = &mt;
    m2.n_globals = 1;
    m2.global_types = &gt;
    sl_export reexp = {.name = "f1again", .kind = SL_EXTERN_FUNC, .index = 0};
    m2.exports = &reexp;
    m2.n_exports = 1;
    sl_instance *i2 = NULL;
    err = sl_instantiate(l, &m2, NULL, &i2, &d, &t);
    check(err == SL_OK && i2 && i2->n_deps == 1 && i2->deps[0] == inst && inst->refs == 3 &&
              i2->mem0 == inst->mems[1] && i2->globals[0] == inst->globals[1],
          "instantiate: imports from a registered instance keep it alive");
    if (err)
        printf("# %s\n", d.msg);
    /* A re-exported import: one import, two instances to keep alive. */
    sl_import imp3 = {.module = "B", .name = "f1again", .kind = SL_EXTERN_FUNC, .type_index = 0};
    uint32_t ft3 = 0;
    sl_module m3 = {.engine = e, .types = types, .n_types = 3, .imports = &imp3, .n_imports = 1,
                    .n_func_imports = 1, .n_funcs = 1, .func_types = &ft3};
    sl_instance *i3 = NULL;
    err = i2 ? sl_linker_define_instance(l, "B", i2) : SL_ERR_ARG;
    if (!err)
        err = sl_instantiate(l, &m3, NULL, &i3, &d, &t);
    check(err == SL_OK && i3 && i3->funcs[0] == inst->funcs[1] && i3->n_deps == 2 &&
              ((i3->deps[0] == inst && i3->deps[1] == i2) ||
               (i3->deps[0] == i2 && i3->deps[1] == inst)),
          "instantiate: re-exported function references both instances");
    sl_instance_free(inst); /* the embedder's reference; linker and i2 keep it */
    check(i2 && i2->globals[0]->val.i32 == 9 && i2->mem0->base[7] == 'x',
          "instance: usable after the exporter's owner freed it");
    sl_instance_free(i3);
    sl_instance_free(i2);
    sl_linker_free(l);
}

static sl_err
try_link(sl_linker *l, const sl_module *m, sl_diag *d)
{
    sl_instance *inst = NULL;
    sl_trap *t = NULL;
    memset(d, 0, sizeof *d);
    sl_err err = sl_instantiate(l, m, NULL, &inst, d, &t);
    sl_trap_free(t);
    sl_instance_free(inst);
    return err;
}

/* One-import module. */
static sl_module
one_import(sl_engine *e, sl_import *imp)
{
    sl_module m = {.engine = e, .types = types, .n_types = 3, .imports = imp, .n_imports = 1};
    switch (imp->kind) {
    case SL_EXTERN_FUNC:
        m.n_func_imports = m.n_funcs = 1;
        break;
    case SL_EXTERN_TABLE:
        m.n_table_imports = m.n_tables = 1;
        m.tables = &imp->table;
        break;
    case SL_EXTERN_MEMORY:
        m.n_mem_imports = m.n_mems = 1;
        m.mems = &imp->mem;
        break;
    case SL_EXTERN_GLOBAL:
        m.n_global_imports = m.n_globals = 1;
        m.global_types = &imp->global;
        break;
    }
    return m;
}

static void
test_link_errors(sl_engine *e)
{
    sl_linker *l = env_linker(e);
    sl_linker_define_memory(l, "env", "mem12", 1, 2);
    sl_linker_define_table(l, "env", "tab_ext", SL_EXTERNREF, 3, 5);
    sl_diag d;

    sl_import imp = {.module = "spectest", .name = "foo", .kind = SL_EXTERN_FUNC};
    sl_module m = one_import(e, &imp);
    check(try_link(l, &m, &d) == SL_ERR_LINK && diag_starts(&d, SL_ERR_LINK, "unknown import") &&
              strstr(d.msg, "\"spectest\".\"foo\""),
          "link: unknown import");
    check(try_link(NULL, &m, &d) == SL_ERR_LINK, "link: no linker, imports unknown");

    imp = (sl_import){.module = "env", .module_len = 3, .name = "add", .name_len = 3, .kind = SL_EXTERN_FUNC, .type_index = 0};
    m = one_import(e, &imp);
    check(try_link(l, &m, &d) == SL_ERR_LINK &&
              diag_starts(&d, SL_ERR_LINK, "incompatible import type"),
          "link: function type mismatch");
    imp.type_index = 1;
    check(try_link(l, &m, &d) == SL_OK, "link: function type match");

    imp = (sl_import){.module = "env", .module_len = 3, .name = "add", .name_len = 3, .kind = SL_EXTERN_MEMORY};
    m = one_import(e, &imp);
    check(try_link(l, &m, &d) == SL_ERR_LINK &&
              diag_starts(&d, SL_ERR_LINK, "incompatible import type"),
          "link: kind mismatch");

    imp = (sl_import){.module = "env", .module_len = 3, .name = "mem", .name_len = 3, .kind = SL_EXTERN_MEMORY,
                      .mem = {.limits = {.min = 1, .max = 2, .has_max = true}}};
    m = one_import(e, &imp);
    check(try_link(l, &m, &d) == SL_ERR_LINK, "link: memory without max vs declared max");
    imp.mem.limits = (sl_limits_def){.min = 2};
    check(try_link(l, &m, &d) == SL_ERR_LINK, "link: memory too small");
    imp.name = "mem12";
    imp.mem.limits = (sl_limits_def){.min = 1, .max = 2, .has_max = true};
    check(try_link(l, &m, &d) == SL_OK, "link: memory limits equal");
    imp.mem.limits = (sl_limits_def){.min = 0, .max = 3, .has_max = true};
    check(try_link(l, &m, &d) == SL_OK, "link: memory limits subtype");
    imp.mem.limits = (sl_limits_def){.min = 1, .max = 1, .has_max = true};
    check(try_link(l, &m, &d) == SL_ERR_LINK, "link: memory max larger than declared");

    imp = (sl_import){.module = "env", .module_len = 3, .name = "tab", .name_len = 3, .kind = SL_EXTERN_TABLE,
                      .table = {.elem = SL_FUNCREF, .limits = {.min = 3}}};
    m = one_import(e, &imp);
    check(try_link(l, &m, &d) == SL_OK, "link: table ok");
    imp.table.limits.min = 4;
    check(try_link(l, &m, &d) == SL_ERR_LINK, "link: table too small");
    imp.table.limits = (sl_limits_def){.min = 1, .max = 10, .has_max = true};
    check(try_link(l, &m, &d) == SL_ERR_LINK, "link: table without max vs declared max");
    imp.name = "tab_ext";
    imp.table.limits = (sl_limits_def){.min = 1, .max = 10, .has_max = true};
    check(try_link(l, &m, &d) == SL_ERR_LINK, "link: table elem type mismatch");
    imp.table.elem = SL_EXTERNREF;
    check(try_link(l, &m, &d) == SL_OK, "link: externref table with max");

    imp = (sl_import){.module = "env", .module_len = 3, .name = "g", .name_len = 1, .kind = SL_EXTERN_GLOBAL,
                      .global = {.type = SL_I32, .is_mutable = true}};
    m = one_import(e, &imp);
    check(try_link(l, &m, &d) == SL_ERR_LINK, "link: global mutability mismatch");
    imp.global = (sl_globaltype){.type = SL_I64};
    check(try_link(l, &m, &d) == SL_ERR_LINK, "link: global type mismatch");
    imp.global = (sl_globaltype){.type = SL_I32};
    check(try_link(l, &m, &d) == SL_OK, "link: global ok");
    sl_linker_free(l);
}

static void
test_instantiate_limits(sl_engine *e)
{
    sl_diag d;
    sl_memtype mt = {.limits = {.min = 2}};
    sl_module m = {.engine = e, .n_mems = 1, .mems = &mt};
    sl_instance_config cfg = {.limits = {.max_memory_pages = 1}};
    sl_instance *inst = NULL;
    sl_trap *t = NULL;
    check(sl_instantiate(NULL, &m, &cfg, &inst, &d, &t) == SL_ERR_LIMIT && !inst && !t,
          "limits: memory min above the instance limit");
    mt.limits.min = 1;
    cfg.limits.max_memory_pages = 2;
    check(sl_instantiate(NULL, &m, &cfg, &inst, &d, &t) == SL_OK && inst &&
              inst->mem0->max_pages == 2 && inst->mem0->decl_max == UINT32_MAX &&
              sl_memory_grow(inst->mem0, 1) == 1 && sl_memory_grow(inst->mem0, 1) == -1,
          "limits: instance limit caps memory.grow");
    sl_instance_free(inst);
    inst = NULL;

    sl_tabletype tt = {.elem = SL_FUNCREF, .limits = {.min = 11}};
    m = (sl_module){.engine = e, .n_tables = 1, .tables = &tt};
    cfg = (sl_instance_config){.limits = {.max_table_elems = 10}};
    check(sl_instantiate(NULL, &m, &cfg, &inst, &d, &t) == SL_ERR_LIMIT && !inst,
          "limits: table min above the instance limit");
    m = (sl_module){.engine = e};
    check(sl_instantiate(NULL, &m, NULL, &inst, &d, &t) == SL_OK && inst && !inst->mem0,
          "instantiate: empty module");
    sl_instance_free(inst);
    check(sl_instantiate(NULL, NULL, NULL, &inst, &d, &t) == SL_ERR_ARG,
          "instantiate: NULL module");
}

static void
test_instantiate_traps(sl_engine *e)
{
    sl_linker *l = env_linker(e);
    sl_extern env_mem = get(l, "env", "mem"), env_tab = get(l, "env", "tab");
    sl_diag d;
    sl_instance *inst = NULL;
    sl_trap *t = NULL;

    /* data: "hello" at 100 into the imported memory, then "xy" out of bounds. */
    big_module b;
    big_module_init(&b, e);
    b.datas[1].offset = c_i32(65535);
    memset(env_mem.mem->base + 100, 0, 5);
    sl_err err = sl_instantiate(l, &b.m, NULL, &inst, &d, &t);
    check(err == SL_ERR_TRAP && !inst && t && sl_trap_kind_of(t) == SL_TRAP_MEMORY_OOB &&
              diag_starts(&d, SL_ERR_TRAP, "out of bounds memory access"),
          "trap: data segment out of bounds");
    check(!memcmp(env_mem.mem->base + 100, "hello", 5),
          "trap: earlier data segment stays written");
    sl_trap_free(t);
    t = NULL;

    b.datas[1].offset = c_i32(-1); /* 0xFFFFFFFF + 2 must not wrap */
    err = sl_instantiate(l, &b.m, NULL, &inst, &d, &t);
    check(err == SL_ERR_TRAP && sl_trap_kind_of(t) == SL_TRAP_MEMORY_OOB,
          "trap: data offset 0xFFFFFFFF");
    sl_trap_free(t);
    t = NULL;
    b.datas[1].offset = c_i32(65536 - 2);
    b.datas[0].len = 0;
    b.datas[0].offset = c_i32(65536);
    err = sl_instantiate(l, &b.m, NULL, &inst, &d, &t);
    check(err == SL_OK && inst && !memcmp(inst->mems[1]->base + 65534, "xy", 2),
          "data: empty segment at the end, segment ending at the end");
    sl_instance_free(inst);
    inst = NULL;
    b.datas[0].offset = c_i32(65537);
    err = sl_instantiate(l, &b.m, NULL, &inst, &d, &t);
    check(err == SL_ERR_TRAP && sl_trap_kind_of(t) == SL_TRAP_MEMORY_OOB,
          "trap: empty data segment past the end");
    sl_trap_free(t);
    t = NULL;

    /* elem: segment 0 into own table ok, segment 1 into the imported table
     * (size 3) at offset 3 with 1 item → trap after segment 0 was applied. */
    big_module_init(&b, e);
    b.elems[0].table = 0; /* write f1 at 1.. of the imported table: 3 items don't fit */
    b.elems[0].offset = c_i32(0);
    b.elems[0].n_items = 1;
    b.elems[1].offset = c_i32(3);
    env_tab.table->elems[0].ref = NULL;
    err = sl_instantiate(l, &b.m, NULL, &inst, &d, &t);
    check(err == SL_ERR_TRAP && !inst && sl_trap_kind_of(t) == SL_TRAP_TABLE_OOB &&
              diag_starts(&d, SL_ERR_TRAP, "out of bounds table access"),
          "trap: elem segment out of bounds");
    sl_func *escaped = env_tab.table->elems[0].ref;
    check(escaped && escaped->inst && escaped->index == 1 && escaped->type == &types[0] &&
              escaped->inst->module == &b.m,
          "trap: earlier elem segment stays, its instance kept alive by the linker");
    check(!memcmp(env_mem.mem->base + 100, "hello", 5), "trap: no data applied after elem trap");
    sl_trap_free(t);
    t = NULL;

    b.elems[1].offset = c_i32(-1);
    err = sl_instantiate(l, &b.m, NULL, &inst, &d, &t);
    check(err == SL_ERR_TRAP && sl_trap_kind_of(t) == SL_TRAP_TABLE_OOB,
          "trap: elem offset 0xFFFFFFFF");
    sl_trap_free(t);
    t = NULL;
    b.elems[1].offset = c_i32(3);
    b.elems[1].n_items = 0;
    err = sl_instantiate(l, &b.m, NULL, &inst, &d, &t);
    check(err == SL_OK && inst, "elem: empty segment at the table's end");
    sl_instance_free(inst);
    inst = NULL;
    b.elems[1].offset = c_i32(4);
    err = sl_instantiate(l, &b.m, NULL, &inst, &d, &t);
    check(err == SL_ERR_TRAP && sl_trap_kind_of(t) == SL_TRAP_TABLE_OOB,
          "trap: empty elem segment past the end (2.0 bounds rule)");
    sl_trap_free(t);
    t = NULL;

    /* start functions */
    sl_linker_define_func(l, "env", "start", ":", host_nop, NULL);
    sl_linker_define_func(l, "env", "fail", ":", host_fail, NULL);
    sl_import imp = {.module = "env", .name = "start", .kind = SL_EXTERN_FUNC, .type_index = 0};
    sl_module m = one_import(e, &imp);
    m.has_start = true;
    m.start = 0;
    host_calls = 0;
    err = sl_instantiate(l, &m, NULL, &inst, &d, &t);
    check(err == SL_OK && inst && host_calls == 1, "start: runs once");
    sl_instance_free(inst);
    inst = NULL;
    imp.name = "fail";
    err = sl_instantiate(l, &m, NULL, &inst, &d, NULL);
    check(err == SL_ERR_TRAP && !inst && diag_starts(&d, SL_ERR_TRAP, "start failed"),
          "start: trap without a trap out-pointer");
    err = sl_instantiate(l, &m, NULL, &inst, &d, &t);
    check(err == SL_ERR_TRAP && !inst && sl_trap_kind_of(t) == SL_TRAP_HOST &&
              !strcmp(sl_trap_message(t), "start failed"),
          "start: trap returned");
    sl_trap_free(t);
    sl_linker_free(l);
}

int
main(void)
{
    test_engine();
    test_traps();
    test_memory();
    test_memory_registry();
    test_tables();
    sl_engine *e = sl_engine_new(NULL);
    test_linker(e);
    hash_types(e);
    test_instantiate_ok(e);
    test_link_errors(e);
    test_instantiate_limits(e);
    test_instantiate_traps(e);
    sl_engine_free(e);
    printf("%d passed, %d failed\n", n_pass, n_fail);
    return n_fail != 0;
}
