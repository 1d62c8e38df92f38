/*
 * cli.h — what the files of the `sluice` command line share.
 *
 * Layer:     cli (top). Sees include/sluice/vm.h, src/util and src/wasi;
 *            never src/vm internals.
 * Owns:      the exit-code contract, the subcommand entry points, and small
 *            helpers (reading files, printing load errors and traps,
 *            parsing and printing values) used by more than one subcommand.
 */
#ifndef CLI_H
#define CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sluice/vm.h"

/* Exit codes of every subcommand. A guest's proc_exit code is passed
 * through unchanged by `sluice run` (truncated to 8 bits by the OS). */
#define CLI_EXIT_OK 0
#define CLI_EXIT_ERROR 1   /* load/validation/link error, I/O error, failed tests */
#define CLI_EXIT_USAGE 2   /* bad command line */
#define CLI_EXIT_TRAP 134  /* the guest trapped (128 + SIGABRT, as wasmtime does) */

/* Subcommands. argv[0] is the subcommand name ("run", ...). Each returns
 * the process exit code. */
int cli_run_main(int argc, char **argv);
int cli_validate_main(int argc, char **argv);
int cli_gateway_main(int argc, char **argv);
int cli_wagi_main(int argc, char **argv);
int cli_spectest_main(int argc, char **argv);
int cli_compile_main(int argc, char **argv);

/* Reads a whole file into a malloc'd buffer (returns owned *data; free it).
 * Returns 0 or an errno value. */
int cli_read_file(const char *path, uint8_t **data, size_t *len);

/* The path's last component ("a/b/c.wasm" -> "c.wasm"). Borrows path. */
const char *cli_basename(const char *path);

/* "sluice: FILE: MESSAGE at offset 0xN" on stderr (offset omitted when the
 * diag has none). */
void cli_print_diag(const char *file, const sl_diag *d);
/* Formats the diag's message as above, without the "sluice: FILE: " part. */
void cli_diag_message(const sl_diag *d, char *buf, size_t n);

/* "sluice: trap: MESSAGE" then one "  I: NAME" line per backtrace frame,
 * innermost first, on stderr. Borrows trap. */
void cli_print_trap(const sl_trap *trap);

/* "i32", "f64", "externref", ... ("?" for unknown). */
const char *cli_valtype_name(sl_valtype t);

/* Parses a command-line argument of type t:
 *   i32/i64  signed or unsigned decimal, or 0x hex (optionally negated)
 *   f32/f64  decimal or hex float, inf, -inf, nan, nan:0xPAYLOAD
 *   externref null or N (passed as the non-null reference N+1)
 *   funcref  null
 * Returns false when s does not fit the type. */
bool cli_val_parse(sl_valtype t, const char *s, sl_val *out);

/* Prints a value the way `sluice run --invoke` shows results: ints as
 * signed decimal, floats with the fewest digits that read back to the same
 * value ("nan", "-inf", "nan:0x200000" for a non-canonical NaN). */
void cli_val_format(sl_valtype t, sl_val v, char *buf, size_t n);

#endif /* CLI_H */
