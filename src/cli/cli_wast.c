/*
 * cli_wast.c — executes the commands of one wast2json (wabt) JSON file.
 *
 * Owns:      the meaning of each command (module, register, action,
 *            assert_return, assert_trap, assert_exhaustion, assert_invalid,
 *            assert_malformed, assert_unlinkable, assert_uninstantiable),
 *            the JSON value encoding (decimal strings of the unsigned bit
 *            pattern; externref N is the pointer N+1 so that 0 stays null),
 *            NaN patterns, message comparison, and the standard "spectest"
 *            host module. See cli_wast.h for the reporting contract.
 * Policy:    a failure of the right kind passes; its message is compared
 *            too (ours must contain the expected text), and a mismatch in
 *            wording alone is a note in --verbose (a failure with
 *            --strict-messages). Text-format modules ("module_type":"text")
 *            and v128 values are skipped: there is no text parser and no
 *            SIMD. Every command counts as one test, modules and registers
 *            included.
 * Not here:  processes, crash recovery, output format, totals
 *            (cli_spectest.c).
 * Ownership: modules and instances stay alive until the file ends (later
 *            commands and registered names refer to them), then instances,
 *            linker, modules and engine are freed in that order.
 */
#include "cli_wast.h"
#include "sluice/aot.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "ut_json.h"

typedef struct named {
    char *name;
    sl_instance *inst; /* NULL when the named module failed */
} named;

typedef struct session {
    const cli_wast_opts *opts;
    cli_reporter *rep;
    char *dir; /* the JSON file's directory: module paths are relative to it */
    sl_engine *engine;
    sl_linker *linker;
    sl_module **mods;
    size_t n_mods, cap_mods;
    sl_instance **insts;
    size_t n_insts, cap_insts;
    named *names;
    size_t n_names, cap_names;
    sl_instance *current; /* the last module command's instance */
    long line;
    bool quiet;
    char why[640];
} session;

/* Sets the reason reported with a fail or skip outcome; returns o. */
static cli_outcome why(session *s, cli_outcome o, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static cli_outcome why(session *s, cli_outcome o, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->why, sizeof s->why, fmt, ap);
    va_end(ap);
    return o;
}

static void note(session *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note(session *s, const char *fmt, ...)
{
    if (!s->opts->verbose || s->quiet)
        return;
    char buf[640];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    s->rep->note(s->rep, s->line, buf);
}

/* Appends p to a growable pointer array; false when out of memory. */
static bool push_ptr(void ***arr, size_t *n, size_t *cap, void *p)
{
    if (*n == *cap) {
        size_t nc = *cap ? *cap * 2 : 16;
        void **na = realloc(*arr, nc * sizeof *na);
        if (!na)
            return false;
        *arr = na;
        *cap = nc;
    }
    (*arr)[(*n)++] = p;
    return true;
}

static bool keep_module(session *s, sl_module *m)
{
    return push_ptr((void ***)&s->mods, &s->n_mods, &s->cap_mods, m);
}

static bool keep_instance(session *s, sl_instance *i)
{
    return push_ptr((void ***)&s->insts, &s->n_insts, &s->cap_insts, i);
}

/* Binds a $name to an instance (NULL = the named module failed). */
static bool bind_name(session *s, const char *name, sl_instance *inst)
{
    if (s->n_names == s->cap_names) {
        size_t nc = s->cap_names ? s->cap_names * 2 : 8;
        named *nn = realloc(s->names, nc * sizeof *nn);
        if (!nn)
            return false;
        s->names = nn;
        s->cap_names = nc;
    }
    char *copy = strdup(name);
    if (!copy)
        return false;
    s->names[s->n_names].name = copy;
    s->names[s->n_names++].inst = inst;
    return true;
}

/* The latest binding of name; *found says whether one exists. */
static sl_instance *lookup_name(session *s, const char *name, bool *found)
{
    for (size_t i = s->n_names; i-- > 0;)
        if (strcmp(s->names[i].name, name) == 0) {
            *found = true;
            return s->names[i].inst;
        }
    *found = false;
    return NULL;
}

/* ---- the spectest host module --------------------------------------------- */

static sl_trap *host_print(sl_instance *caller, sl_val *args, void *user)
{
    session *s = user;
    if (s->opts->verbose && !s->quiet)
        printf("spectest.print()\n");
    return NULL;
}

#define HOST_PRINT(fn, label, fmt, expr)                              \
    static sl_trap *fn(sl_instance *caller, sl_val *args, void *user) \
    {                                                                 \
        session *s = user;                                            \
        if (s->opts->verbose && !s->quiet)                            \
            printf("spectest." label "(" fmt ")\n", expr);            \
        return NULL;                                                  \
    }
HOST_PRINT(host_print_i32, "print_i32", "%" PRId32, args[0].i32)
HOST_PRINT(host_print_i64, "print_i64", "%" PRId64, args[0].i64)
HOST_PRINT(host_print_f32, "print_f32", "%g", (double)args[0].f32)
HOST_PRINT(host_print_f64, "print_f64", "%g", args[0].f64)
#undef HOST_PRINT

static sl_trap *host_print_i32_f32(sl_instance *caller, sl_val *args, void *user)
{
    session *s = user;
    if (s->opts->verbose && !s->quiet)
        printf("spectest.print_i32_f32(%" PRId32 ", %g)\n", args[0].i32, (double)args[1].f32);
    return NULL;
}

static sl_trap *host_print_f64_f64(sl_instance *caller, sl_val *args, void *user)
{
    session *s = user;
    if (s->opts->verbose && !s->quiet)
        printf("spectest.print_f64_f64(%g, %g)\n", args[0].f64, args[1].f64);
    return NULL;
}

/* Defines the module every spec test may import as "spectest". */
static sl_err define_spectest(session *s)
{
    static const struct {
        const char *name, *sig;
        sl_host_fn fn;
    } funcs[] = {
        {"print", ":", host_print},
        {"print_i32", "i:", host_print_i32},
        {"print_i64", "I:", host_print_i64},
        {"print_f32", "f:", host_print_f32},
        {"print_f64", "F:", host_print_f64},
        {"print_i32_f32", "if:", host_print_i32_f32},
        {"print_f64_f64", "FF:", host_print_f64_f64},
    };
    sl_linker *l = s->linker;
    sl_err rc = SL_OK;
    for (size_t i = 0; rc == SL_OK && i < sizeof funcs / sizeof funcs[0]; i++)
        rc = sl_linker_define_func(l, "spectest", funcs[i].name, funcs[i].sig, funcs[i].fn, s);
    sl_val v;
    v.bits = 0;
    v.i32 = 666;
    if (rc == SL_OK)
        rc = sl_linker_define_global(l, "spectest", "global_i32", SL_I32, false, v);
    v.bits = 0;
    v.i64 = 666;
    if (rc == SL_OK)
        rc = sl_linker_define_global(l, "spectest", "global_i64", SL_I64, false, v);
    v.bits = 0;
    v.f32 = 666.6f;
    if (rc == SL_OK)
        rc = sl_linker_define_global(l, "spectest", "global_f32", SL_F32, false, v);
    v.bits = 0;
    v.f64 = 666.6;
    if (rc == SL_OK)
        rc = sl_linker_define_global(l, "spectest", "global_f64", SL_F64, false, v);
    if (rc == SL_OK)
        rc = sl_linker_define_table(l, "spectest", "table", SL_FUNCREF, 10, 20);
    if (rc == SL_OK)
        rc = sl_linker_define_memory(l, "spectest", "memory", 1, 2);
    return rc;
}

/* ---- values ------------------------------------------------------------------ */

typedef enum exp_kind {
    EXP_EXACT,
    EXP_NAN_CANONICAL,
    EXP_NAN_ARITHMETIC,
    EXP_NONNULL, /* a reference with no value given: any non-null one */
} exp_kind;

typedef struct wval {
    sl_valtype type;
    exp_kind kind;
    sl_val v;
} wval;

static bool parse_u64_dec(const char *s, uint64_t max, uint64_t *out)
{
    if (!s || *s < '0' || *s > '9')
        return false;
    for (const char *q = s; *q; q++)
        if (*q < '0' || *q > '9')
            return false;
    errno = 0;
    unsigned long long v = strtoull(s, NULL, 10);
    if (errno == ERANGE || v > max)
        return false;
    *out = v;
    return true;
}

static bool type_from_name(const char *name, sl_valtype *t)
{
    static const struct {
        const char *name;
        sl_valtype t;
    } types[] = {
        {"i32", SL_I32},           {"i64", SL_I64},         {"f32", SL_F32}, {"f64", SL_F64},
        {"externref", SL_EXTERNREF}, {"funcref", SL_FUNCREF}, {"v128", SL_V128},
    };
    for (size_t i = 0; name && i < sizeof types / sizeof types[0]; i++)
        if (strcmp(name, types[i].name) == 0) {
            *t = types[i].t;
            return true;
        }
    return false;
}

/* Reads one {"type": T, "value": V}. Returns CLI_PASS, CLI_SKIP (v128 or an
 * unknown type) or CLI_FAIL (malformed value), with the reason set. */
static cli_outcome parse_wval(session *s, const ut_json *j, bool expected, wval *out)
{
    const char *tname = ut_json_str(ut_json_get(j, "type"));
    const ut_json *jv = ut_json_get(j, "value");
    const char *val = ut_json_str(jv);
    memset(out, 0, sizeof *out);
    if (!type_from_name(tname, &out->type))
        return why(s, CLI_SKIP, "value type '%s' not supported", tname ? tname : "(none)");
    if (out->type == SL_V128)
        return why(s, CLI_SKIP, "v128 values not supported (no SIMD)");
    uint64_t u = 0;
    bool is_float = out->type == SL_F32 || out->type == SL_F64;
    if (expected && is_float && val && strcmp(val, "nan:canonical") == 0) {
        out->kind = EXP_NAN_CANONICAL;
        return CLI_PASS;
    }
    if (expected && is_float && val && strcmp(val, "nan:arithmetic") == 0) {
        out->kind = EXP_NAN_ARITHMETIC;
        return CLI_PASS;
    }
    switch (out->type) {
    case SL_I32:
    case SL_F32:
        if (!parse_u64_dec(val, UINT32_MAX, &u))
            break;
        {
            uint32_t b = (uint32_t)u;
            memcpy(&out->v, &b, sizeof b); /* low 32 bits: i32 and f32 alike */
        }
        return CLI_PASS;
    case SL_I64:
    case SL_F64:
        if (!parse_u64_dec(val, UINT64_MAX, &u))
            break;
        out->v.bits = u;
        return CLI_PASS;
    case SL_EXTERNREF:
    case SL_FUNCREF:
        if (!jv || (val && strcmp(val, "null") != 0 && out->type == SL_FUNCREF)) {
            if (!expected)
                return why(s, CLI_SKIP, "non-null %s argument not supported",
                           cli_valtype_name(out->type));
            out->kind = EXP_NONNULL;
            return CLI_PASS;
        }
        if (val && strcmp(val, "null") == 0) {
            out->v.ref = NULL;
            return CLI_PASS;
        }
        if (!parse_u64_dec(val, UINTPTR_MAX - 1, &u))
            break;
        out->v.ref = (void *)(uintptr_t)(u + 1);
        return CLI_PASS;
    default:
        break;
    }
    return why(s, CLI_FAIL, "bad %s value '%s' in the JSON", tname, val ? val : "(none)");
}

static uint32_t low32(sl_val v)
{
    uint32_t b;
    memcpy(&b, &v, sizeof b);
    return b;
}

static bool val_matches(const wval *e, sl_valtype t, sl_val got)
{
    if (t != e->type)
        return false;
    uint32_t b32 = low32(got);
    uint64_t b64 = got.bits;
    switch (t) {
    case SL_I32:
        return b32 == low32(e->v);
    case SL_F32:
        if (e->kind == EXP_NAN_CANONICAL)
            return (b32 & 0x7FFFFFFFu) == 0x7FC00000u;
        if (e->kind == EXP_NAN_ARITHMETIC)
            return (b32 & 0x7FC00000u) == 0x7FC00000u;
        return b32 == low32(e->v);
    case SL_I64:
        return b64 == e->v.bits;
    case SL_F64:
        if (e->kind == EXP_NAN_CANONICAL)
            return (b64 & UINT64_C(0x7FFFFFFFFFFFFFFF)) == UINT64_C(0x7FF8000000000000);
        if (e->kind == EXP_NAN_ARITHMETIC)
            return (b64 & UINT64_C(0x7FF8000000000000)) == UINT64_C(0x7FF8000000000000);
        return b64 == e->v.bits;
    case SL_EXTERNREF:
    case SL_FUNCREF:
        if (e->kind == EXP_NONNULL)
            return got.ref != NULL;
        return got.ref == e->v.ref;
    default:
        return false;
    }
}

/* "i32:-1", "f32:1.5 (0x3fc00000)", "externref:null" */
static void describe(sl_valtype t, sl_val v, char *buf, size_t n)
{
    char text[64];
    cli_val_format(t, v, text, sizeof text);
    if (t == SL_F32)
        snprintf(buf, n, "f32:%s (0x%08" PRIx32 ")", text, low32(v));
    else if (t == SL_F64)
        snprintf(buf, n, "f64:%s (0x%016" PRIx64 ")", text, v.bits);
    else
        snprintf(buf, n, "%s:%s", cli_valtype_name(t), text);
}

static void describe_expected(const wval *e, char *buf, size_t n)
{
    switch (e->kind) {
    case EXP_NAN_CANONICAL:
        snprintf(buf, n, "%s:nan:canonical", cli_valtype_name(e->type));
        break;
    case EXP_NAN_ARITHMETIC:
        snprintf(buf, n, "%s:nan:arithmetic", cli_valtype_name(e->type));
        break;
    case EXP_NONNULL:
        snprintf(buf, n, "%s:non-null", cli_valtype_name(e->type));
        break;
    default:
        describe(e->type, e->v, buf, n);
        break;
    }
}

/* ---- actions --------------------------------------------------------------- */

typedef struct act {
    sl_trap *trap; /* owned */
    size_t n_res;
    sl_valtype *types;
    sl_val *vals;
} act;

static void act_free(act *a)
{
    if (a->trap)
        sl_trap_free(a->trap);
    free(a->types);
    free(a->vals);
    memset(a, 0, sizeof *a);
}

/* Reads a name field that the engine API can take as a C string. */
static const char *name_field(session *s, const ut_json *j, const char *key, cli_outcome *o)
{
    size_t n;
    const char *str = ut_json_strn(ut_json_get(j, key), &n);
    if (!str) {
        *o = why(s, CLI_FAIL, "missing \"%s\" in the JSON", key);
        return NULL;
    }
    if (strlen(str) != n) {
        *o = why(s, CLI_SKIP, "name with a NUL byte cannot be looked up");
        return NULL;
    }
    return str;
}

/* The instance an action or register refers to ("module" field or the
 * current one). NULL with the reason set when there is none. */
static sl_instance *target_instance(session *s, const ut_json *j, const char *key)
{
    const char *name = ut_json_str(ut_json_get(j, key));
    if (!name) {
        if (!s->current)
            why(s, CLI_FAIL, "no module instantiated (the last module command failed)");
        return s->current;
    }
    bool found;
    sl_instance *inst = lookup_name(s, name, &found);
    if (!inst)
        why(s, CLI_FAIL, found ? "module %s failed to instantiate" : "unknown module %s", name);
    return inst;
}

static cli_outcome invoke(session *s, sl_instance *inst, const ut_json *a, act *r)
{
    cli_outcome o = CLI_FAIL;
    const char *field = name_field(s, a, "field", &o);
    if (!field)
        return o;
    sl_func *f = sl_instance_func(inst, field);
    if (!f)
        return why(s, CLI_FAIL, "no exported function \"%s\"", field);
    const ut_json *jargs = ut_json_get(a, "args");
    size_t np = sl_func_param_count(f), nr = sl_func_result_count(f);
    if (ut_json_len(jargs) != np)
        return why(s, CLI_FAIL, "\"%s\" takes %zu arguments, the test passes %zu", field, np,
                   ut_json_len(jargs));
    size_t nslots = (np > nr ? np : nr) + 1;
    sl_val *args = calloc(nslots, sizeof *args);
    r->vals = calloc(nslots, sizeof *r->vals);
    r->types = calloc(nr + 1, sizeof *r->types);
    if (!args || !r->vals || !r->types) {
        free(args);
        return why(s, CLI_FAIL, "out of memory");
    }
    for (size_t i = 0; i < np; i++) {
        wval w;
        o = parse_wval(s, ut_json_at(jargs, i), false, &w);
        if (o == CLI_PASS && w.type != sl_func_param_type(f, i))
            o = why(s, CLI_FAIL, "argument %zu is %s but \"%s\" takes %s", i,
                    cli_valtype_name(w.type), field,
                    cli_valtype_name(sl_func_param_type(f, i)));
        if (o != CLI_PASS) {
            free(args);
            return o;
        }
        args[i] = w.v;
    }
    for (size_t i = 0; i < nr; i++) {
        r->types[i] = sl_func_result_type(f, i);
        if (r->types[i] == SL_V128) {
            free(args);
            return why(s, CLI_SKIP, "v128 results not supported (no SIMD)");
        }
    }
    r->trap = sl_func_call(f, args, r->vals);
    r->n_res = r->trap ? 0 : nr;
    free(args);
    return CLI_PASS;
}

static cli_outcome get_global(session *s, sl_instance *inst, const ut_json *a, act *r)
{
    cli_outcome o = CLI_FAIL;
    const char *field = name_field(s, a, "field", &o);
    if (!field)
        return o;
    sl_global *g = sl_instance_global(inst, field);
    if (!g)
        return why(s, CLI_FAIL, "no exported global \"%s\"", field);
    r->types = calloc(1, sizeof *r->types);
    r->vals = calloc(1, sizeof *r->vals);
    if (!r->types || !r->vals)
        return why(s, CLI_FAIL, "out of memory");
    r->types[0] = sl_global_type(g);
    if (r->types[0] == SL_V128)
        return why(s, CLI_SKIP, "v128 globals not supported (no SIMD)");
    r->vals[0] = sl_global_get(g);
    r->n_res = 1;
    return CLI_PASS;
}

/* Runs the command's "action". CLI_PASS means it ran (r->trap may be set);
 * otherwise the action could not run and the reason is set. */
static cli_outcome run_action(session *s, const ut_json *cmd, act *r)
{
    memset(r, 0, sizeof *r);
    const ut_json *a = ut_json_get(cmd, "action");
    const char *type = ut_json_str(ut_json_get(a, "type"));
    if (!type)
        return why(s, CLI_FAIL, "command has no action");
    sl_instance *inst = target_instance(s, a, "module");
    if (!inst)
        return CLI_FAIL;
    if (strcmp(type, "invoke") == 0)
        return invoke(s, inst, a, r);
    if (strcmp(type, "get") == 0)
        return get_global(s, inst, a, r);
    return why(s, CLI_SKIP, "action type \"%s\" not supported", type);
}

/* Our message must contain the expected text; wording alone never fails
 * unless --strict-messages. */
static cli_outcome check_message(session *s, const char *what, const char *got,
                                 const char *expected)
{
    if (!expected || !*expected || (got && strstr(got, expected)))
        return CLI_PASS;
    if (s->opts->strict_messages)
        return why(s, CLI_FAIL, "%s: message mismatch: expected \"%s\", got \"%s\"", what,
                   expected, got ? got : "");
    note(s, "message mismatch (%s): expected \"%s\", got \"%s\"", what, expected,
         got ? got : "");
    return CLI_PASS;
}

/* ---- modules --------------------------------------------------------------------- */

static bool is_text_module(const ut_json *cmd)
{
    const char *mt = ut_json_str(ut_json_get(cmd, "module_type"));
    const char *fn = ut_json_str(ut_json_get(cmd, "filename"));
    size_t n = fn ? strlen(fn) : 0;
    return (mt && strcmp(mt, "text") == 0) || (n > 4 && strcmp(fn + n - 4, ".wat") == 0);
}

/* Reads and decodes the command's "filename". On failure diag is filled
 * (SL_ERR_IO for a file that cannot be read). */
static sl_err load_module(session *s, const ut_json *cmd, sl_module **mod, sl_diag *diag)
{
    memset(diag, 0, sizeof *diag);
    diag->offset = SIZE_MAX;
    diag->func = UINT32_MAX;
    *mod = NULL;
    const char *fn = ut_json_str(ut_json_get(cmd, "filename"));
    if (!fn) {
        diag->err = SL_ERR_ARG;
        snprintf(diag->msg, sizeof diag->msg, "command has no \"filename\"");
        return diag->err;
    }
    char *path = malloc(strlen(s->dir) + strlen(fn) + 2);
    if (!path) {
        diag->err = SL_ERR_NOMEM;
        return diag->err;
    }
    if (fn[0] == '/')
        strcpy(path, fn);
    else
        sprintf(path, "%s/%s", s->dir, fn);
    uint8_t *bytes;
    size_t len;
    int err = cli_read_file(path, &bytes, &len);
    if (err) {
        diag->err = SL_ERR_IO;
        snprintf(diag->msg, sizeof diag->msg, "%s: %s", path, strerror(err));
        free(path);
        return diag->err;
    }
    free(path);
    sl_err rc = sl_module_new(s->engine, bytes, len, mod, diag);
    if (rc == SL_OK && s->opts->aot) {
        rc = sl_aot_prepare(*mod, bytes, len, SL_RUNTIME_AOT, s->opts->aot_cache, diag);
        if (rc != SL_OK) {
            sl_module_free(*mod);
            *mod = NULL;
            snprintf(s->why, sizeof s->why, "aot: %s", diag->msg);
        }
    }
    free(bytes);
    if (rc != SL_OK) {
        *mod = NULL;
        if (diag->err == SL_OK)
            diag->err = rc;
    } else if (!keep_module(s, *mod)) {
        sl_module_free(*mod);
        *mod = NULL;
        diag->err = rc = SL_ERR_NOMEM;
    }
    return rc;
}

/* Instantiates through the linker. On success the instance is kept for
 * the rest of the file. On failure *trap may be set (owned). */
static sl_err instantiate(session *s, sl_module *mod, sl_instance **inst, sl_diag *diag,
                          sl_trap **trap)
{
    memset(diag, 0, sizeof *diag);
    diag->offset = SIZE_MAX;
    diag->func = UINT32_MAX;
    *inst = NULL;
    *trap = NULL;
    sl_err rc = sl_instantiate(s->linker, mod, NULL, inst, diag, trap);
    if (rc != SL_OK) {
        *inst = NULL;
        if (diag->err == SL_OK)
            diag->err = rc;
        return rc;
    }
    if (!keep_instance(s, *inst)) {
        sl_instance_free(*inst);
        *inst = NULL;
        diag->err = SL_ERR_NOMEM;
        return SL_ERR_NOMEM;
    }
    return SL_OK;
}

/* Describes a load/instantiate failure: the trap's message or the diag. */
static void failure_text(const sl_diag *d, const sl_trap *t, char *buf, size_t n)
{
    if (t)
        snprintf(buf, n, "trap: %s", sl_trap_message(t));
    else
        cli_diag_message(d, buf, n);
}

/* ---- commands --------------------------------------------------------------------- */

static cli_outcome cmd_module(session *s, const ut_json *cmd)
{
    const char *name = ut_json_str(ut_json_get(cmd, "name"));
    s->current = NULL;
    if (is_text_module(cmd)) {
        if (name)
            bind_name(s, name, NULL);
        return why(s, CLI_SKIP, "text-format module");
    }
    sl_module *mod;
    sl_instance *inst = NULL;
    sl_trap *trap = NULL;
    sl_diag diag;
    char text[400];
    cli_outcome o = CLI_PASS;
    if (load_module(s, cmd, &mod, &diag) != SL_OK) {
        cli_diag_message(&diag, text, sizeof text);
        o = why(s, CLI_FAIL, "module failed to load: %s", text);
    } else if (instantiate(s, mod, &inst, &diag, &trap) != SL_OK) {
        failure_text(&diag, trap, text, sizeof text);
        o = why(s, CLI_FAIL, "module failed to instantiate: %s", text);
    }
    if (trap)
        sl_trap_free(trap);
    s->current = inst;
    if (name && !bind_name(s, name, inst))
        o = why(s, CLI_FAIL, "out of memory");
    return o;
}

static cli_outcome cmd_register(session *s, const ut_json *cmd)
{
    const char *as = ut_json_str(ut_json_get(cmd, "as"));
    if (!as)
        return why(s, CLI_FAIL, "register without \"as\"");
    sl_instance *inst = target_instance(s, cmd, "name");
    if (!inst)
        return CLI_FAIL;
    sl_err rc = sl_linker_define_instance(s->linker, as, inst);
    if (rc != SL_OK)
        return why(s, CLI_FAIL, "register as \"%s\": %s", as, sl_err_str(rc));
    return CLI_PASS;
}

static cli_outcome cmd_action(session *s, const ut_json *cmd)
{
    act r;
    cli_outcome o = run_action(s, cmd, &r);
    if (o == CLI_PASS && r.trap)
        o = why(s, CLI_FAIL, "unexpected trap: %s", sl_trap_message(r.trap));
    act_free(&r);
    return o;
}

static cli_outcome compare_results(session *s, const ut_json *expected, const act *r)
{
    size_t ne = ut_json_len(expected);
    if (ne != r->n_res)
        return why(s, CLI_FAIL, "expected %zu results, got %zu", ne, r->n_res);
    for (size_t i = 0; i < ne; i++) {
        wval e;
        cli_outcome o = parse_wval(s, ut_json_at(expected, i), true, &e);
        if (o != CLI_PASS)
            return o;
        if (!val_matches(&e, r->types[i], r->vals[i])) {
            char got[96], want[96];
            describe(r->types[i], r->vals[i], got, sizeof got);
            describe_expected(&e, want, sizeof want);
            return why(s, CLI_FAIL, "result %zu: got %s, expected %s", i, got, want);
        }
    }
    return CLI_PASS;
}

static cli_outcome cmd_assert_return(session *s, const ut_json *cmd)
{
    act r;
    cli_outcome o = run_action(s, cmd, &r);
    if (o == CLI_PASS && r.trap)
        o = why(s, CLI_FAIL, "unexpected trap: %s", sl_trap_message(r.trap));
    else if (o == CLI_PASS)
        o = compare_results(s, ut_json_get(cmd, "expected"), &r);
    act_free(&r);
    return o;
}

static cli_outcome cmd_assert_uninstantiable(session *s, const ut_json *cmd);

/* assert_trap and assert_exhaustion: the action must trap (for exhaustion,
 * with SL_TRAP_STACK_EXHAUSTED). */
static cli_outcome cmd_assert_trap(session *s, const ut_json *cmd)
{
    const char *type = ut_json_str(ut_json_get(cmd, "type"));
    bool exhaustion = strcmp(type, "assert_exhaustion") == 0;
    const char *text = ut_json_str(ut_json_get(cmd, "text"));
    if (!ut_json_get(cmd, "action") && ut_json_get(cmd, "filename"))
        return cmd_assert_uninstantiable(s, cmd); /* older wast2json: trap in a module */
    act r;
    cli_outcome o = run_action(s, cmd, &r);
    if (o != CLI_PASS) {
        act_free(&r);
        return o;
    }
    if (!r.trap) {
        o = why(s, CLI_FAIL, "expected trap \"%s\", but it returned", text ? text : "");
    } else if (exhaustion && sl_trap_kind_of(r.trap) != SL_TRAP_STACK_EXHAUSTED) {
        o = why(s, CLI_FAIL, "expected call stack exhaustion, got trap: %s",
                sl_trap_message(r.trap));
    } else if (sl_trap_kind_of(r.trap) == SL_TRAP_EXIT) {
        o = why(s, CLI_FAIL, "expected trap \"%s\", got an exit trap", text ? text : "");
    } else {
        o = check_message(s, "trap", sl_trap_message(r.trap), text);
    }
    act_free(&r);
    return o;
}

/* assert_invalid / assert_malformed: decoding must fail with that kind. */
static cli_outcome cmd_assert_bad_module(session *s, const ut_json *cmd, sl_err want)
{
    const char *text = ut_json_str(ut_json_get(cmd, "text"));
    if (is_text_module(cmd))
        return why(s, CLI_SKIP, "text-format module");
    sl_module *mod;
    sl_diag diag;
    sl_err rc = load_module(s, cmd, &mod, &diag);
    const char *kind = want == SL_ERR_MALFORMED ? "malformed" : "invalid";
    if (rc == SL_OK)
        return why(s, CLI_FAIL, "module loaded, expected %s (\"%s\")", kind, text ? text : "");
    char msg[400];
    cli_diag_message(&diag, msg, sizeof msg);
    if (rc != want)
        return why(s, CLI_FAIL, "expected %s (\"%s\"), got %s: %s", kind, text ? text : "",
                   sl_err_str(rc), msg);
    return check_message(s, kind, diag.msg, text);
}

static cli_outcome cmd_assert_invalid(session *s, const ut_json *cmd)
{
    return cmd_assert_bad_module(s, cmd, SL_ERR_INVALID);
}

static cli_outcome cmd_assert_malformed(session *s, const ut_json *cmd)
{
    return cmd_assert_bad_module(s, cmd, SL_ERR_MALFORMED);
}

/* assert_unlinkable / assert_uninstantiable: the module loads, and
 * instantiation fails with a link error / a trap. */
static cli_outcome cmd_assert_inst_fails(session *s, const ut_json *cmd, bool want_trap)
{
    const char *text = ut_json_str(ut_json_get(cmd, "text"));
    const char *what = want_trap ? "instantiation trap" : "link error";
    if (is_text_module(cmd))
        return why(s, CLI_SKIP, "text-format module");
    sl_module *mod;
    sl_instance *inst;
    sl_trap *trap = NULL;
    sl_diag diag;
    char msg[400];
    if (load_module(s, cmd, &mod, &diag) != SL_OK) {
        cli_diag_message(&diag, msg, sizeof msg);
        return why(s, CLI_FAIL, "module failed to load: %s", msg);
    }
    sl_err rc = instantiate(s, mod, &inst, &diag, &trap);
    cli_outcome o;
    if (rc == SL_OK) {
        o = why(s, CLI_FAIL, "instantiated, expected %s \"%s\"", what, text ? text : "");
    } else if (want_trap ? (rc == SL_ERR_TRAP && trap) : rc == SL_ERR_LINK) {
        o = check_message(s, what, trap ? sl_trap_message(trap) : diag.msg, text);
    } else {
        failure_text(&diag, trap, msg, sizeof msg);
        o = why(s, CLI_FAIL, "expected %s \"%s\", got %s: %s", what, text ? text : "",
                sl_err_str(rc), msg);
    }
    if (trap)
        sl_trap_free(trap);
    return o;
}

static cli_outcome cmd_assert_unlinkable(session *s, const ut_json *cmd)
{
    return cmd_assert_inst_fails(s, cmd, false);
}

static cli_outcome cmd_assert_uninstantiable(session *s, const ut_json *cmd)
{
    return cmd_assert_inst_fails(s, cmd, true);
}

static cli_outcome run_command(session *s, const ut_json *cmd)
{
    static const struct {
        const char *type;
        cli_outcome (*fn)(session *, const ut_json *);
    } table[] = {
        {"module", cmd_module},
        {"register", cmd_register},
        {"action", cmd_action},
        {"assert_return", cmd_assert_return},
        {"assert_trap", cmd_assert_trap},
        {"assert_exhaustion", cmd_assert_trap},
        {"assert_invalid", cmd_assert_invalid},
        {"assert_malformed", cmd_assert_malformed},
        {"assert_unlinkable", cmd_assert_unlinkable},
        {"assert_uninstantiable", cmd_assert_uninstantiable},
    };
    const char *type = ut_json_str(ut_json_get(cmd, "type"));
    if (!type)
        return why(s, CLI_FAIL, "command without a \"type\"");
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
        if (strcmp(type, table[i].type) == 0)
            return table[i].fn(s, cmd);
    return why(s, CLI_SKIP, "command \"%s\" not supported", type);
}

/* ---- the file ------------------------------------------------------------------------ */

static bool in_list(const long *v, size_t n, long x)
{
    for (size_t i = 0; i < n; i++)
        if (v[i] == x)
            return true;
    return false;
}

static char *dir_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        return strdup(".");
    if (slash == path)
        return strdup("/");
    return strndup(path, (size_t)(slash - path));
}

static void session_free(session *s)
{
    for (size_t i = s->n_insts; i-- > 0;)
        sl_instance_free(s->insts[i]);
    if (s->linker)
        sl_linker_free(s->linker);
    for (size_t i = 0; i < s->n_mods; i++)
        sl_module_free(s->mods[i]);
    if (s->engine)
        sl_engine_free(s->engine);
    for (size_t i = 0; i < s->n_names; i++)
        free(s->names[i].name);
    free(s->names);
    free(s->insts);
    free(s->mods);
    free(s->dir);
}

/* Reads and parses the JSON; NULL with the reason reported on failure. */
static ut_json *read_json(const char *path, cli_reporter *rep)
{
    uint8_t *text;
    size_t len;
    char msg[256];
    int err = cli_read_file(path, &text, &len);
    if (err) {
        snprintf(msg, sizeof msg, "cannot read: %s", strerror(err));
        rep->outcome(rep, 0, CLI_FAIL, msg);
        return NULL;
    }
    ut_json_err jerr;
    ut_json *root = ut_json_parse((const char *)text, len, 0, &jerr);
    free(text);
    if (!root) {
        snprintf(msg, sizeof msg, "bad JSON at line %zu, column %zu: %s", jerr.line, jerr.col,
                 jerr.msg);
        rep->outcome(rep, 0, CLI_FAIL, msg);
        return NULL;
    }
    if (ut_json_type_of(ut_json_get(root, "commands")) != UT_JSON_ARRAY) {
        rep->outcome(rep, 0, CLI_FAIL, "not wast2json output: no \"commands\" array");
        ut_json_free(root);
        return NULL;
    }
    return root;
}

void cli_wast_run_file(const char *json_path, const cli_wast_opts *opts, cli_reporter *rep)
{
    session s;
    memset(&s, 0, sizeof s);
    s.opts = opts;
    s.rep = rep;
    ut_json *root = read_json(json_path, rep);
    if (!root)
        return;
    s.dir = dir_of(json_path);
    s.engine = s.dir ? sl_engine_new(NULL) : NULL;
    s.linker = s.engine ? sl_linker_new(s.engine) : NULL;
    if (!s.linker || define_spectest(&s) != SL_OK) {
        rep->outcome(rep, 0, CLI_FAIL, "cannot set up the engine and the spectest module");
        goto out;
    }
    const ut_json *cmds = ut_json_get(root, "commands");
    for (size_t i = 0; i < ut_json_len(cmds); i++) {
        const ut_json *cmd = ut_json_at(cmds, i);
        double line = 0;
        ut_json_num(ut_json_get(cmd, "line"), &line);
        s.line = (long)line;
        if (in_list(opts->skip_lines, opts->n_skip_lines, s.line))
            continue;
        s.quiet = s.line <= opts->quiet_until;
        s.why[0] = '\0';
        rep->begin(rep, s.line);
        if (opts->timeout_s)
            alarm(opts->timeout_s);
        cli_outcome o = run_command(&s, cmd);
        if (opts->timeout_s)
            alarm(0);
        fflush(stdout);
        if (!s.quiet)
            rep->outcome(rep, s.line, o, s.why);
    }
out:
    session_free(&s);
    ut_json_free(root);
}
