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
