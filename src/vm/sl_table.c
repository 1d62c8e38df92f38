/*
 * sl_table.c — tables of references: creation, table.grow, size.
 *
 * Layer:     engine (src/vm). Uses sl_runtime.h only.
 * Invariant: elems holds exactly `size` values (NULL when size is 0); size
 *            never exceeds max. A funcref is an sl_func pointer, an
 *            externref the host's pointer; NULL is the null reference.
 * Ownership: reference-counted like memories. A table does not own the
 *            functions it points to (see sl_instance.c on lifetimes).
 * Not here:  table.get/set/fill/copy/init (sl_interp.c), segment
 *            application at instantiation (sl_instance.c).
 */
#include "sl_runtime.h"

#include <stdlib.h>

sl_table *
sl__table_new(uint8_t elem_type, uint32_t min, uint32_t max, sl_val init)
{
    if (min > max)
        return NULL;
    sl_table *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    if (min) {
        t->elems = calloc(min, sizeof *t->elems); /* calloc checks min * size */
        if (!t->elems) {
            free(t);
            return NULL;
        }
        for (uint32_t i = 0; i < min; i++)
            t->elems[i] = init;
    }
    t->size = min;
    t->max = max;
    t->elem_type = elem_type;
    t->refs = 1;
    return t;
}

void
sl__table_release(sl_table *t)
{
    if (!t || --t->refs)
        return;
    free(t->elems);
    free(t);
}

int64_t
sl__table_grow(sl_table *t, uint32_t delta, sl_val init, uint32_t limit)
{
    uint64_t old = t->size, n = old + delta;
    if (n > t->max || n > limit || n > SIZE_MAX / sizeof(sl_val))
        return -1;
    if (delta == 0)
        return (int64_t)old;
    sl_val *p = realloc(t->elems, (size_t)n * sizeof *p);
    if (!p)
        return -1;
    for (uint64_t i = old; i < n; i++)
        p[i] = init;
    t->elems = p;
    t->size = (uint32_t)n;
    return (int64_t)old;
}

uint32_t
sl_table_size(const sl_table *t)
{
    return t ? t->size : 0;
}
