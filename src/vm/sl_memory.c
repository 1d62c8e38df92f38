/*
 * sl_memory.c — linear memories: creation, memory.grow, the checked host
 * accessor sl_mem_slice, and the registry the SIGSEGV handler consults.
 *
 * Layer:     engine (src/vm). Uses sl_runtime.h only.
 * Builds:    guard pages (default, SL_MEM_GUARDED=1): each memory reserves
 *            8 GiB + 64 KiB of PROT_NONE address space and makes its first
 *            `size` bytes readable and writable; memory.grow is an mprotect,
 *            so the base never moves and any i32 address + u32 offset lands
 *            inside the reservation (an access past `size` faults).
 *            Explicit checks (-DSL_MEMCHECK_EXPLICIT): a plain allocation of
 *            exactly `size` bytes that realloc moves on grow; the
 *            interpreter checks every access.
 * Invariant: base is valid (non-NULL) even for a zero-page memory; pages
 *            never exceeds max_pages nor SL_MAX_PAGES; bytes past the old
 *            size are zero after a grow.
 * Ownership: reference-counted: the creator holds the first reference,
 *            each importing instance or linker entry adds one.
 * Threads:   a memory is used by one thread at a time, except the fault
 *            registry, which is lock-free so a signal handler may read it.
 * Not here:  the SIGSEGV handler itself and the jump buffer (sl_interp.c).
 */
#include "sl_runtime.h"

#include <stdlib.h>
#include <string.h>

static sl_memory *
memory_alloc(uint32_t min_pages, uint32_t *max_pages)
{
    if (*max_pages > SL_MAX_PAGES)
        *max_pages = SL_MAX_PAGES;
    if (min_pages > *max_pages)
        return NULL;
    sl_memory *mem = calloc(1, sizeof *mem);
    if (!mem)
        return NULL;
    mem->pages = min_pages;
    mem->max_pages = *max_pages;
    mem->size = (uint64_t)min_pages * SL_PAGE_SIZE;
    mem->decl_max = UINT32_MAX;
    mem->refs = 1;
    return mem;
}

#if SL_MEM_GUARDED

#include <sys/mman.h>

#if UINTPTR_MAX < UINT64_MAX
#error "guard-page memories need a 64-bit host; build with -DSL_MEMCHECK_EXPLICIT"
#endif
_Static_assert(ATOMIC_POINTER_LOCK_FREE == 2, "the fault registry must be lock-free");

/* 4 GiB of i32 addresses + 4 GiB of u32 offsets, plus one page so that an
 * access of up to 16 bytes at the very end also faults inside. */
#define RESERVATION (((size_t)8 << 30) + SL_PAGE_SIZE)
#define REGISTRY_SLOTS 4096

/* Bases of live reservations; 0 = free slot. Every reservation has the same
 * size, so one word per slot describes it and a reader never sees a torn
 * [begin, end) pair. Slots are claimed with CAS; registry_used is a
 * high-water mark that bounds the reader's scan. */
static atomic_uintptr_t registry[REGISTRY_SLOTS];
static atomic_size_t registry_used;

static bool
registry_add(uintptr_t base)
{
    for (size_t i = 0; i < REGISTRY_SLOTS; i++) {
        uintptr_t expected = 0;
        if (atomic_load_explicit(&registry[i], memory_order_relaxed) == 0 &&
            atomic_compare_exchange_strong(&registry[i], &expected, base)) {
            size_t used = atomic_load(&registry_used);
            while (used < i + 1 && !atomic_compare_exchange_weak(&registry_used, &used, i + 1))
                ;
            return true;
        }
    }
    return false;
}

static void
registry_remove(uintptr_t base)
{
    size_t used = atomic_load(&registry_used);
    for (size_t i = 0; i < used; i++) {
        uintptr_t expected = base;
        if (atomic_compare_exchange_strong(&registry[i], &expected, 0))
            return;
    }
}

/* Async-signal-safe: atomic loads only, no locks, no allocation. */
bool
sl__memory_owns_fault(const void *addr)
{
    uintptr_t a = (uintptr_t)addr;
    size_t used = atomic_load(&registry_used);
    for (size_t i = 0; i < used; i++) {
        uintptr_t b = atomic_load(&registry[i]);
        if (b && a >= b && a - b < RESERVATION)
            return true;
    }
    return false;
}

sl_memory *
sl__memory_new(uint32_t min_pages, uint32_t max_pages)
{
    sl_memory *mem = memory_alloc(min_pages, &max_pages);
    if (!mem)
        return NULL;
    void *p = mmap(NULL, RESERVATION, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                   -1, 0);
    if (p == MAP_FAILED)
        goto out_free;
    if (mem->size && mprotect(p, (size_t)mem->size, PROT_READ | PROT_WRITE) != 0)
        goto out_unmap;
    if (!registry_add((uintptr_t)p))
        goto out_unmap;
    mem->base = p;
    mem->reserved = RESERVATION;
    return mem;

out_unmap:
    munmap(p, RESERVATION);
out_free:
    free(mem);
    return NULL;
}

static void
memory_unmap(sl_memory *mem)
{
    /* Unregister first: once unmapped, the range may be handed out again. */
    registry_remove((uintptr_t)mem->base);
    munmap(mem->base, mem->reserved);
}

static bool
memory_commit(sl_memory *mem, uint64_t new_size)
{
    /* Pages past the old size were never accessible, hence still zero. */
    return mprotect(mem->base + mem->size, (size_t)(new_size - mem->size),
                    PROT_READ | PROT_WRITE) == 0;
}

#else /* explicit bounds checks */

bool
sl__memory_owns_fault(const void *addr)
{
    return false;
}

sl_memory *
sl__memory_new(uint32_t min_pages, uint32_t max_pages)
{
    sl_memory *mem = memory_alloc(min_pages, &max_pages);
    if (!mem)
        return NULL;
    if (mem->size > SIZE_MAX) {
        free(mem);
        return NULL;
    }
    /* One byte for a zero-page memory, so that base is never NULL. */
    size_t n = mem->size ? (size_t)mem->size : 1;
    mem->base = calloc(1, n);
    if (!mem->base) {
        free(mem);
        return NULL;
    }
    mem->reserved = n;
    return mem;
}

static void
memory_unmap(sl_memory *mem)
{
    free(mem->base);
}

static bool
memory_commit(sl_memory *mem, uint64_t new_size)
{
    if (new_size > SIZE_MAX)
        return false;
    uint8_t *p = realloc(mem->base, (size_t)new_size);
    if (!p)
        return false;
    memset(p + mem->size, 0, (size_t)(new_size - mem->size));
    mem->base = p;
    mem->reserved = (size_t)new_size;
    return true;
}

#endif /* SL_MEM_GUARDED */

void
sl__memory_release(sl_memory *mem)
{
    if (!mem || --mem->refs)
        return;
    memory_unmap(mem);
    free(mem);
}

int64_t
sl_memory_grow(sl_memory *mem, uint32_t delta)
{
    uint64_t old = mem->pages, pages = old + delta;
    if (pages > mem->max_pages || pages > SL_MAX_PAGES)
        return -1;
    if (delta == 0)
        return (int64_t)old;
    if (!memory_commit(mem, pages * SL_PAGE_SIZE))
        return -1;
    mem->pages = (uint32_t)pages;
    mem->size = pages * SL_PAGE_SIZE;
    return (int64_t)old;
}

uint8_t *
sl_memory_data(sl_memory *mem)
{
    return mem ? mem->base : NULL;
}

uint64_t
sl_memory_size(const sl_memory *mem)
{
    return mem ? mem->size : 0;
}

bool
sl_mem_slice(sl_instance *inst, uint64_t off, uint64_t len, uint8_t **ptr)
{
    const sl_memory *mem = inst ? inst->mem0 : NULL;
    /* Written so that off + len is never computed: it may wrap. */
    if (!mem || len > mem->size || off > mem->size - len) {
        *ptr = NULL;
        return false;
    }
    *ptr = mem->base + off;
    return true;
}
