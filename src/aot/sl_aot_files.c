/*
 * sl_aot_files.c — the headers generated C includes, embedded in sluice
 * (assembler .incbin of the very files the engine is built from, so the
 * generated code and the engine can never disagree about sl_native.h or
 * an operation's semantics). sl_aot_build.c writes them next to the
 * generated sources.
 *
 * Layer: src/aot. The paths are relative to the repository root, where
 *        make runs the compiler; the Makefile lists them as dependencies.
 */
#include "sl_aot.h"

#include <pthread.h>
#include <string.h>

#define SL_EMBED(sym, path)                                                    \
    __asm__(".section .rodata\n"                                               \
            ".balign 16\n"                                                     \
            ".globl " #sym "\n"                                                \
            ".hidden " #sym "\n" #sym ":\n"                                    \
            ".incbin \"" path "\"\n"                                           \
            ".byte 0\n"                                                        \
            ".previous\n");                                                    \
    extern const char sym[]

SL_EMBED(sl__aot_text_vm, "include/sluice/vm.h");
SL_EMBED(sl__aot_text_native, "src/vm/sl_native.h");
SL_EMBED(sl__aot_text_numeric, "src/vm/sl_numeric.h");
SL_EMBED(sl__aot_text_ops, "src/vm/sl_ops.def");
SL_EMBED(sl__aot_text_prelude, "src/aot/sl_aot_prelude.h");

const sl_aot_file sl__aot_files[] = {
    {"sluice/vm.h", sl__aot_text_vm},
    {"sl_native.h", sl__aot_text_native},
    {"sl_numeric.h", sl__aot_text_numeric},
    {"sl_ops.def", sl__aot_text_ops},
    {"sl_aot_prelude.h", sl__aot_text_prelude},
};
const size_t sl__aot_n_files = sizeof sl__aot_files / sizeof sl__aot_files[0];

static uint8_t files_sha[32];
static pthread_once_t files_once = PTHREAD_ONCE_INIT;

static void
hash_files(void)
{
    ut_buf all = {0};
    for (size_t i = 0; i < sl__aot_n_files; i++) {
        ut_buf_puts(&all, sl__aot_files[i].name);
        ut_buf_putc(&all, 0);
        ut_buf_puts(&all, sl__aot_files[i].text);
        ut_buf_putc(&all, 0);
    }
    if (!all.oom)
        sl__aot_sha256((const uint8_t *)all.data, all.len, files_sha);
    ut_buf_free(&all);
}

const uint8_t *
sl__aot_files_sha256(void)
{
    pthread_once(&files_once, hash_files);
    return files_sha;
}
