/*
 * embed.c — the embedding example of docs/embedding.md: load a module, give
 * it one host function, call an export, report a trap. Built and run by
 * tests/cli/suite.sh, so the documented code keeps compiling and working.
 *   cc -Iinclude examples/embed/embed.c build/libsluice.a -lm -lpthread -o embed
 *   ./embed guest.wasm      (guest imports env.log(ptr, len), exports fib)
 */
#include <sluice/vm.h>

#include <stdio.h>
#include <stdlib.h>

static sl_trap *host_log(sl_instance *caller, sl_val *args, void *user) {
    uint8_t *p; /* checked access: fetch and bounds check are one call */
    if (!sl_mem_slice(caller, (uint32_t)args[0].i32, (uint32_t)args[1].i32, &p))
        return sl_trap_new(SL_TRAP_HOST, "log: bad pointer");
    printf("%s: %.*s\n", (const char *)user, args[1].i32, (const char *)p);
    return NULL; /* results, if any, go back in args[] */
}

static int run(const uint8_t *wasm, size_t len) {
    sl_engine *e = sl_engine_new(NULL);
    sl_module *m; sl_diag d; sl_instance *inst; sl_trap *t = NULL;
    if (sl_module_new(e, wasm, len, &m, &d)) { printf("load: %s\n", d.msg); return 1; }
    sl_linker *l = sl_linker_new(e);
    sl_linker_define_func(l, "env", "log", "ii:", host_log, "guest");
    if (sl_instantiate(l, m, NULL, &inst, &d, &t)) { printf("link: %s\n", t ? sl_trap_message(t) : d.msg); return 1; }
    sl_val args[1] = {{.i32 = 30}}, res[1];
    t = sl_func_call(sl_instance_func(inst, "fib"), args, res);
    if (t) { printf("trap: %s\n", sl_trap_message(t)); sl_trap_free(t); }
    else printf("fib(30) = %d\n", res[0].i32);
    sl_instance_free(inst); sl_linker_free(l); sl_module_free(m); sl_engine_free(e);
    return 0;
}

int main(int argc, char **argv) {
    static uint8_t buf[1 << 20];
    FILE *f = argc > 1 ? fopen(argv[1], "rb") : NULL;
    if (!f) { fprintf(stderr, "usage: embed guest.wasm\n"); return 2; }
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    return run(buf, n);
}
