/*
 * sl_engine.c — the engine object (resolved default limits), the error
 * strings of SL_ERR_LIST, and limit inheritance.
 *
 * Layer:     engine (src/vm). Uses sl_runtime.h only.
 * Invariant: an engine's limits never have a zero field; every instance's
 *            limits are resolved against them (sl__limits_inherit) so the
 *            interpreter never sees a zero either.
 * Ownership: sl_engine_new returns owned; the engine owns nothing else.
 *            Freeing the last live engine unmaps the memory reservations
 *            pooled by sl_memory.c (every instance is gone by then).
 * Threads:   an engine is immutable after creation; share it freely.
 * Not here:  modules (sl_module.c), instances (sl_instance.c).
 */
#include "sl_runtime.h"

#include <stdlib.h>

static const sl_limits default_limits = {
    .max_memory_pages = SL_MAX_PAGES,
    .max_table_elems = 10000000u,
    .value_stack_slots = 1u << 20,
    .max_call_depth = 20000u,
};

void
sl__limits_inherit(sl_limits *l, const sl_limits *base)
{
    if (!l->max_memory_pages)
        l->max_memory_pages = base->max_memory_pages;
    if (!l->max_table_elems)
        l->max_table_elems = base->max_table_elems;
    if (!l->value_stack_slots)
        l->value_stack_slots = base->value_stack_slots;
    if (!l->max_call_depth)
        l->max_call_depth = base->max_call_depth;
}

/* Live engines: the last one freed empties the reservation pool. */
static atomic_uint live_engines;

sl_engine *
sl_engine_new(const sl_engine_config *cfg)
{
    sl_engine *e = calloc(1, sizeof *e);
    if (!e)
        return NULL;
    atomic_fetch_add(&live_engines, 1);
    if (cfg)
        e->limits = cfg->limits;
    sl__limits_inherit(&e->limits, &default_limits);
    /* A memory can never exceed 4 GiB (65536 pages) in wasm32. */
    if (e->limits.max_memory_pages > SL_MAX_PAGES)
        e->limits.max_memory_pages = SL_MAX_PAGES;
    return e;
}

void
sl_engine_free(sl_engine *engine)
{
    if (!engine)
        return;
    free(engine);
    if (atomic_fetch_sub(&live_engines, 1) == 1)
        sl__memory_pool_drain();
}

const char *
sl_err_str(sl_err err)
{
    switch (err) {
#define SL_X_(name, str) \
    case name:           \
        return str;
        SL_ERR_LIST(SL_X_)
#undef SL_X_
    }
    return "unknown error";
}
