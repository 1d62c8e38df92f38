/*
 * sl_aot.h — internals shared by the files of src/aot.
 *
 *   sl_aot_emit.c   Wasm → C (the translator)
 *   sl_aot_build.c  the C compiler driver and the artifact writer
 *   sl_aot_load.c   artifact checks, loading, the cache and tier-up
 *   sl_aot_files.c  the headers shipped to the C compiler
 *
 * Layer: src/aot; sees the engine's internals (sl_runtime.h) because it
 *        produces what sl_native.h describes.
 */
#ifndef SL_AOT_H
#define SL_AOT_H

#include "sluice/aot.h"
#include "sl_runtime.h"
#include "ut_buf.h"

/* Artifact header (little-endian host layout; target guards the rest). */
#define SL_AOT_MAGIC "\x7fSLAOT\r\n"
#define SL_AOT_TARGET_LEN 24
typedef struct sl_aot_header {
    char magic[8];
    uint32_t abi;         /* SL_NATIVE_ABI */
    uint32_t header_size; /* sizeof(sl_aot_header) */
    uint8_t module_sha256[32];
    uint64_t payload_len;
    uint8_t payload_sha256[32];
    char target[SL_AOT_TARGET_LEN]; /* e.g. "x86_64-linux-guard" */
    uint8_t headers_sha256[32]; /* of the shipped headers (sl__aot_files):
                                 * catches any ABI drift SL_NATIVE_ABI missed */
} sl_aot_header;

/* This build's target string (architecture, OS, memory strategy). */
const char *sl__aot_target(void);
void sl__aot_sha256(const uint8_t *p, size_t n, uint8_t out[32]);

/* Writes the translation of m (from bytes) into out[0..parts): part 0 has
 * the manifest; each part compiles alone. */
sl_err sl__aot_emit(const sl_module *m, const uint8_t *bytes, const uint8_t sha256[32],
                    unsigned parts, ut_buf *out, sl_diag *diag);

/* The shipped headers: name (relative to the include directory) and text. */
typedef struct sl_aot_file {
    const char *name;
    const char *text;
} sl_aot_file;
extern const sl_aot_file sl__aot_files[];
extern const size_t sl__aot_n_files;
/* SHA-256 over every shipped header's name and text (computed once). */
const uint8_t *sl__aot_files_sha256(void);

#endif /* SL_AOT_H */
