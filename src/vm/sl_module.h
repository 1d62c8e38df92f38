/*
 * sl_module.h — the decoded, validated, lowered module: the engine's one
 * immutable data structure, shared read-only by every instance and thread.
 *
 * Layer:     engine (src/vm), internal. Filled by sl_decode.c (sections) and
 *            sl_lower.c (function bodies); read by sl_instance.c, sl_interp.c.
 * Ownership: every pointer inside a module is owned by the module and freed
 *            by sl_module_free; nothing borrows the caller's input bytes.
 * Not here:  instance state (sl_runtime.h), the public API (sluice/vm.h).
 */
#ifndef SL_MODULE_H
#define SL_MODULE_H

#include "sluice/vm.h"

#include <stdint.h>

/* Value-type helpers. */
static inline bool
sl__is_reftype(uint8_t t)
{
    return t == SL_FUNCREF || t == SL_EXTERNREF;
}
static inline bool
sl__is_valtype(uint8_t t)
{
    return t == SL_I32 || t == SL_I64 || t == SL_F32 || t == SL_F64 || sl__is_reftype(t);
}
/* Slots a value occupies in a frame: 2 for v128 (when SIMD lands), else 1. */
static inline uint32_t
sl__slots_of(uint8_t t)
{
    return t == SL_V128 ? 2u : 1u;
}

typedef struct sl_functype {
    uint32_t n_params, n_results;
    uint8_t *types;     /* n_params param types then n_results result types */
    uint32_t n_param_slots, n_result_slots;
    uint32_t hash;      /* structural hash, for fast call_indirect checks */
} sl_functype;

/* Structural hash (fills sl_functype.hash; decoder and linker must agree)
 * and structural equality. */
uint32_t sl__functype_hash(const sl_functype *ft);
bool sl__functype_equal(const sl_functype *a, const sl_functype *b);

typedef struct sl_limits_def {
    uint64_t min, max;
    bool has_max;
} sl_limits_def;

typedef struct sl_tabletype {
    uint8_t elem; /* SL_FUNCREF or SL_EXTERNREF */
    sl_limits_def limits;
} sl_tabletype;

typedef struct sl_memtype {
    sl_limits_def limits; /* in 64 KiB pages; memory64 later sets is_64 */
    bool is_64;
} sl_memtype;

typedef struct sl_globaltype {
    uint8_t type;
    bool is_mutable;
} sl_globaltype;

/* A constant expression of WebAssembly 2.0: exactly one of these, then end. */
typedef enum sl_const_op {
    SL_CONST_I32,
    SL_CONST_I64,
    SL_CONST_F32,
    SL_CONST_F64,
    SL_CONST_REF_NULL,  /* value.bits = 0; type in reftype */
    SL_CONST_REF_FUNC,  /* index = function index */
    SL_CONST_GLOBAL_GET /* index = global index (an imported one, in 2.0) */
} sl_const_op;

typedef struct sl_constexpr {
    sl_const_op op;
    uint8_t reftype; /* for REF_NULL */
    uint32_t index;  /* for REF_FUNC and GLOBAL_GET */
    sl_val value;    /* for the numeric consts */
} sl_constexpr;

typedef struct sl_import {
    char *module, *name; /* NUL-terminated copies (names are valid UTF-8) */
    sl_externkind kind;
    uint32_t type_index;  /* FUNC */
    sl_tabletype table;   /* TABLE */
    sl_memtype mem;       /* MEMORY */
    sl_globaltype global; /* GLOBAL */
    /* Byte lengths of module and name: names may contain NUL bytes and are
     * compared byte for byte (memcmp over these lengths, not strcmp). */
    uint32_t module_len, name_len;
} sl_import;

typedef struct sl_export {
    char *name;
    sl_externkind kind;
    uint32_t index; /* in the kind's index space (imports first) */
    uint32_t name_len; /* byte length of name (it may contain NUL bytes) */
} sl_export;

typedef struct sl_global_def {
    sl_globaltype type;
    sl_constexpr init;
} sl_global_def;

typedef enum sl_segmode { SL_SEG_ACTIVE, SL_SEG_PASSIVE, SL_SEG_DECLARATIVE } sl_segmode;

typedef struct sl_elem {
    sl_segmode mode;
    uint8_t reftype;
    uint32_t table;      /* ACTIVE */
    sl_constexpr offset; /* ACTIVE */
    uint32_t n_items;
    sl_constexpr *items; /* each REF_FUNC, REF_NULL or GLOBAL_GET */
} sl_elem;

typedef struct sl_data {
    sl_segmode mode; /* ACTIVE or PASSIVE */
    uint32_t mem;
    sl_constexpr offset;
    uint32_t len;
    uint8_t *bytes;
} sl_data;

/* One cell of lowered code: a handler address (or opcode number in the
 * switch build) followed by operand cells. See sl_lower.h for the format. */
typedef union sl_cell {
    const void *handler;
    uint64_t u64;
    int64_t i64;
    uint32_t u32[2];
    int32_t i32[2];
} sl_cell;

typedef struct sl_code {
    sl_cell *cells;
    uint32_t n_cells;
    uint32_t n_param_slots;  /* params occupy slots [0, n_param_slots) */
    uint32_t n_local_slots;  /* params + declared locals */
    uint32_t const_base;     /* constants occupy [const_base, const_base + n_consts) */
    uint32_t n_consts;
    /* Frame image copied at each call over [n_param_slots, const_base +
     * n_consts): zeroed locals and padding, then the constants. */
    uint64_t *consts;
    uint32_t n_init;
    uint32_t frame_slots;    /* locals + max operand stack + constants */
} sl_code;

typedef struct sl_funcdef {
    uint32_t type_index;
    uint32_t body_offset, body_len; /* in the original bytes, for diagnostics */
    uint32_t n_locals;              /* declared locals, excluding params */
    uint8_t *local_types;           /* n_locals entries */
    sl_code code;                   /* filled by the lowerer */
} sl_funcdef;

struct sl_module {
    sl_engine *engine;

    uint32_t n_types;
    sl_functype *types;

    uint32_t n_imports;
    sl_import *imports;
    /* Counts of imported entities of each kind; they come first in each index
     * space. */
    uint32_t n_func_imports, n_table_imports, n_mem_imports, n_global_imports;

    uint32_t n_funcs; /* total: imports + defined */
    uint32_t *func_types; /* type index of every function, imports included */
    sl_funcdef *funcs;    /* defined functions: funcs[i] is function n_func_imports + i */

    uint32_t n_tables; /* total */
    sl_tabletype *tables;
    uint32_t n_mems; /* total */
    sl_memtype *mems;
    uint32_t n_globals; /* total */
    sl_globaltype *global_types; /* every global, imports included */
    sl_global_def *globals;      /* defined globals: globals[i] is global n_global_imports + i */

    uint32_t n_exports;
    sl_export *exports;

    bool has_start;
    uint32_t start;

    uint32_t n_elems;
    sl_elem *elems;

    bool has_data_count;
    uint32_t data_count;
    uint32_t n_datas;
    sl_data *datas;

    /* C.refs of the spec: functions that ref.func may name inside bodies
     * (those appearing in elems, exports or global initialisers). */
    uint8_t *func_declared; /* n_funcs booleans */

    /* From the "name" custom section (subsection 1); NULL entries when absent. */
    char **func_names; /* n_funcs entries, or NULL */
    char *module_name;

    /* What instantiation learns once and reuses (sl_runtime.h): the
     * prepared image of memory 0 and the last import resolution; the one
     * part of a module that changes after sl_module_new, behind its own
     * synchronisation. NULL for modules not made by sl_module_new (unit
     * tests build modules by hand): they copy data segments and resolve
     * imports every time. */
    struct sl_module_cache *cache;

    /* A snapshot (sl_snapshot.c) borrows every array from the module it was
     * taken from except mems, globals, elems, datas and snap_bytes (the
     * bytes of its memory segments), which it owns. NULL otherwise. */
    const sl_module *snapshot_of;
    uint8_t *snap_bytes;
};

/* Decodes every section of bytes into m (zeroed by the caller, engine set),
 * checking structure and every module-level validation rule (index bounds,
 * limits, constant expressions, export uniqueness, start type, data count),
 * then validates and lowers each function body through sl__lower_funcs.
 * On failure fills diag and returns SL_ERR_MALFORMED or SL_ERR_INVALID;
 * the caller frees m with sl__module_clear. */
sl_err sl__module_decode(sl_module *m, const uint8_t *bytes, size_t len, sl_diag *diag);
void sl__module_clear(sl_module *m);

/* Validates and lowers every defined function body (bytes are the module's
 * bytes; each sl_funcdef gives its body's range) and fills their sl_code.
 * Provided by sl_lower.c; on failure fills diag, with diag->func set. */
sl_err sl__lower_funcs(sl_module *m, const uint8_t *bytes, sl_diag *diag);

/* Fills diag (may be NULL) and returns err. printf-style message. */
sl_err sl__diag(sl_diag *diag, sl_err err, size_t offset, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif /* SL_MODULE_H */
