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
 *            Guard build, per request: a memory may start as a module's
 *            prepared image mapped copy-on-write (sl_image.c), and a
 *            released reservation is not unmapped but scrubbed back to its
 *            initial state and pooled (up to SL_MEMORY_POOL_MAX), so that
 *            instantiate+free costs no mmap/munmap and, for the same
 *            module, usually no system call at all (see "reservations and
 *            their pool" and "scrubbing" below).
 * Invariant: base is valid (non-NULL) even for a zero-page memory; pages
 *            never exceeds max_pages nor SL_MAX_PAGES; bytes past the old
 *            size are zero after a grow; a new memory reads as zero except
 *            for its image, whatever an earlier owner of its reservation
 *            wrote; only reservations owned by a live memory are in the
 *            fault registry.
 * Ownership: reference-counted: the creator holds the first reference,
 *            each importing instance or linker entry adds one. Pooled
 *            reservations belong to the pool; the last sl_engine_free
 *            unmaps them.
 * Threads:   a memory is used by one thread at a time, except the fault
 *            registry, which is lock-free so a signal handler may read it,
 *            and the pool, behind a mutex (held for a few loads and stores;
 *            scrubbing and system calls happen outside it).
 * Not here:  the SIGSEGV handler itself and the jump buffer (sl_exec.c),
 *            building images (sl_image.c).
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

#include <fcntl.h>
#include <pthread.h>
#include <sys/mman.h>
#include <unistd.h>

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

/* ---- reservations and their pool ------------------------------------------
 *
 * A reservation's state, whether live or pooled, is (image_id, image_len,
 * rw): [0, image_len) is a MAP_PRIVATE mapping of image image_id,
 * [image_len, rw) anonymous, both readable and writable; [rw, RESERVATION)
 * anonymous PROT_NONE. rw >= image_len. A pooled reservation is scrubbed
 * (below: [0, rw) reads as the image followed by zeros again) and absent
 * from the fault registry. Taking one from the pool fixes up the image and
 * the protection for the new memory; for the same module's image and
 * initial size that costs no system call at all. */

typedef struct resv {
    uint8_t *base;
    uint64_t image_id;
    size_t image_len, rw;
} resv;

/* Memories that grew past this are unmapped rather than pooled: their page
 * tables would stay behind. */
#define POOL_KEEP_MAX ((size_t)128 << 20)

static pthread_mutex_t pool_lock = PTHREAD_MUTEX_INITIALIZER;
static resv pool[SL_MEMORY_POOL_MAX];
static unsigned pool_n;
static atomic_uint pool_cap = SL_MEMORY_POOL_MAX; /* written under pool_lock */

/* Takes a pooled reservation, preferably one already holding this image. */
static bool
pool_take(uint64_t image_id, resv *out)
{
    pthread_mutex_lock(&pool_lock);
    bool found = pool_n > 0;
    if (found) {
        unsigned pick = pool_n - 1; /* most recently pooled: warmest */
        for (unsigned i = pool_n; i-- > 0;)
            if (pool[i].image_id == image_id) {
                pick = i;
                break;
            }
        *out = pool[pick];
        pool[pick] = pool[--pool_n];
    }
    pthread_mutex_unlock(&pool_lock);
    return found;
}

/* Keeps a scrubbed reservation if there is room; else unmaps it. */
static void
pool_put(const resv *r)
{
    pthread_mutex_lock(&pool_lock);
    bool kept = pool_n < atomic_load_explicit(&pool_cap, memory_order_relaxed);
    if (kept)
        pool[pool_n++] = *r;
    pthread_mutex_unlock(&pool_lock);
    if (!kept)
        munmap(r->base, RESERVATION);
}

size_t
sl__memory_pool_count(void)
{
    pthread_mutex_lock(&pool_lock);
    size_t n = pool_n;
    pthread_mutex_unlock(&pool_lock);
    return n;
}

/* Unmaps the pooled reservations holding image forget_id (when not 0) and
 * any beyond the first `cap`. Unmapping happens outside the lock. */
static void
pool_trim(unsigned cap, uint64_t forget_id)
{
    resv gone[SL_MEMORY_POOL_MAX];
    unsigned n_gone = 0;
    pthread_mutex_lock(&pool_lock);
    for (unsigned i = 0; i < pool_n;) {
        if ((forget_id && pool[i].image_id == forget_id) || pool_n > cap) {
            gone[n_gone++] = pool[i];
            pool[i] = pool[--pool_n];
        } else {
            i++;
        }
    }
    pthread_mutex_unlock(&pool_lock);
    for (unsigned i = 0; i < n_gone; i++)
        munmap(gone[i].base, RESERVATION);
}

unsigned
sl__memory_pool_set_cap(unsigned cap)
{
    if (cap > SL_MEMORY_POOL_MAX)
        cap = SL_MEMORY_POOL_MAX;
    pthread_mutex_lock(&pool_lock);
    unsigned old = atomic_exchange(&pool_cap, cap);
    pthread_mutex_unlock(&pool_lock);
    pool_trim(cap, 0);
    return old;
}

void
sl__memory_pool_drain(void)
{
    pool_trim(0, 0);
}

void
sl__memory_pool_forget(uint64_t image_id)
{
    if (image_id)
        pool_trim(SL_MEMORY_POOL_MAX, image_id);
}

/* Brings r to the state (img, size): see the comment above struct resv. */
static bool
resv_setup(resv *r, const sl_mem_image *img, size_t size)
{
    uint64_t id = img ? img->id : 0;
    size_t len = img ? img->len : 0;
    if (r->image_id != id) {
        if (len && mmap(r->base, len, PROT_READ | PROT_WRITE,
                        MAP_PRIVATE | MAP_FIXED | MAP_NORESERVE, img->fd, 0) == MAP_FAILED)
            return false;
        /* The old image's tail becomes anonymous zero, still inside rw. */
        if (r->image_len > len &&
            mmap(r->base + len, r->image_len - len, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_NORESERVE, -1, 0) == MAP_FAILED)
            return false;
        r->image_id = id;
        r->image_len = len;
        if (r->rw < len)
            r->rw = len;
    }
    /* A tail that the last owner grew into: its scrubbed pages may still be
     * resident; drop them before it becomes inaccessible. */
    if (r->rw > size && (madvise(r->base + size, r->rw - size, MADV_DONTNEED) != 0 ||
                         mprotect(r->base + size, r->rw - size, PROT_NONE) != 0))
        return false;
    if (r->rw < size && mprotect(r->base + r->rw, size - r->rw, PROT_READ | PROT_WRITE) != 0)
        return false;
    r->rw = size;
    return true;
}

sl_memory *
sl__memory_new_image(uint32_t min_pages, uint32_t max_pages, const sl_mem_image *img)
{
    sl_memory *mem = memory_alloc(min_pages, &max_pages);
    if (!mem)
        return NULL;
    resv r;
    if (!pool_take(img ? img->id : 0, &r)) {
        void *p = mmap(NULL, RESERVATION, PROT_NONE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (p == MAP_FAILED)
            goto out_free;
        r = (resv){.base = p};
    }
    if (!resv_setup(&r, img, (size_t)mem->size) || !registry_add((uintptr_t)r.base))
        goto out_unmap;
    mem->base = r.base;
    mem->reserved = RESERVATION;
    mem->image_id = r.image_id;
    mem->image_len = r.image_len;
    mem->image_master = r.image_id ? img->master : NULL;
    return mem;

out_unmap:
    munmap(r.base, RESERVATION);
out_free:
    free(mem);
    return NULL;
}

sl_memory *
sl__memory_new(uint32_t min_pages, uint32_t max_pages)
{
    return sl__memory_new_image(min_pages, max_pages, NULL);
}

void
sl__memory_unimage(sl_memory *mem)
{
    if (!mem->image_len)
        return;
    if (mmap(mem->base, mem->image_len, PROT_READ | PROT_WRITE,
             MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_NORESERVE, -1, 0) == MAP_FAILED) {
        /* Cannot fail short of address-space exhaustion; zero by hand. */
        memset(mem->base, 0, mem->image_len);
        mem->pristine = false;
        return;
    }
    mem->image_id = 0;
    mem->image_len = 0;
    mem->image_master = NULL;
}

/* ---- scrubbing a reservation for the pool ----------------------------------
 *
 * MADV_DONTNEED resets [0, rw) in one call, but every page the next
 * instance touches then faults again, and on a VM a fault or a system call
 * costs microseconds. So a reservation is scrubbed in place when it can be:
 * one read of /proc/self/pagemap says which pages are mapped; a mapped page
 * of the image part that is private (written, hence copied) gets the
 * image's bytes back, a mapped anonymous page that is not all zero is
 * zeroed; unmapped pages and the image's own (file) pages are clean. The
 * pages stay resident for the next instance, up to KEEP_RESIDENT bytes per
 * reservation; past that, or if pagemap is unavailable or a page was
 * swapped out, DONTNEED it is. */

#define PM_PRESENT (1ull << 63)
#define PM_SWAPPED (1ull << 62)
#define PM_FILE (1ull << 61) /* file page or shared anonymous: not a private copy */
#define KEEP_RESIDENT ((size_t)1 << 20)
#define SCAN_MAX ((size_t)16 << 20)

/* -2: not opened yet, -1: unavailable, else the descriptor. */
static atomic_int pagemap = -2;
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;

/* The descriptor names the process that opened it: a child must reopen. */
static void
pagemap_atfork_child(void)
{
    int fd = atomic_exchange(&pagemap, -2);
    if (fd >= 0)
        close(fd);
}

static void
pagemap_atfork(void)
{
    pthread_atfork(NULL, NULL, pagemap_atfork_child);
}

static int
pagemap_fd(void)
{
    int fd = atomic_load_explicit(&pagemap, memory_order_acquire);
    if (fd != -2)
        return fd;
    pthread_once(&atfork_once, pagemap_atfork);
    int mine = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
    if (mine < 0)
        mine = -1;
    int expected = -2;
    if (atomic_compare_exchange_strong(&pagemap, &expected, mine))
        return mine;
    if (mine >= 0)
        close(mine); /* another thread opened it first */
    return expected;
}

static bool
page_is_zero(const uint8_t *p, size_t n)
{
    const uint64_t *w = (const uint64_t *)(const void *)p;
    uint64_t acc = 0;
    for (size_t i = 0; i < n / 8; i += 8)
        acc |= w[i] | w[i + 1] | w[i + 2] | w[i + 3] | w[i + 4] | w[i + 5] | w[i + 6] | w[i + 7];
    return acc == 0;
}

/* Restores [0, rw) of a released memory in place; false when it could not
 * (the caller then uses MADV_DONTNEED, which is always correct). */
static bool
scrub_in_place(const sl_memory *mem)
{
    size_t rw = (size_t)mem->size, page = (size_t)sysconf(_SC_PAGESIZE);
    int fd = rw <= SCAN_MAX ? pagemap_fd() : -1;
    if (fd < 0)
        return false;
    uint8_t *base = mem->base;
    size_t n = rw / page, kept = 0;
    uint64_t pm[256];
    for (size_t i = 0; i < n;) {
        size_t chunk = n - i < 256 ? n - i : 256;
        off_t at = (off_t)(((uintptr_t)base / page + i) * sizeof *pm);
        if (pread(fd, pm, chunk * sizeof *pm, at) != (ssize_t)(chunk * sizeof *pm))
            return false;
        for (size_t j = 0; j < chunk; j++, i++) {
            uint64_t e = pm[j];
            if (!(e & (PM_PRESENT | PM_SWAPPED)))
                continue; /* never touched, or already dropped */
            if (e & PM_SWAPPED)
                return false;
            uint8_t *p = base + i * page;
            if (i * page < mem->image_len) {
                if (e & PM_FILE)
                    continue; /* the image's page itself, read only */
                memcpy(p, mem->image_master + i * page, page);
            } else if (!page_is_zero(p, page)) {
                memset(p, 0, page);
            }
            if ((kept += page) > KEEP_RESIDENT)
                return false;
        }
    }
    return true;
}

static void
memory_unmap(sl_memory *mem)
{
    /* Unregister first: from here on a fault in it is not a wasm trap, and
     * once unmapped the range may be handed out again. */
    registry_remove((uintptr_t)mem->base);
    resv r = {.base = mem->base, .image_id = mem->image_id, .image_len = mem->image_len,
              .rw = (size_t)mem->size};
    if (r.rw <= POOL_KEEP_MAX && atomic_load_explicit(&pool_cap, memory_order_relaxed) &&
        (r.rw == 0 || mem->pristine || scrub_in_place(mem) ||
         madvise(r.base, r.rw, MADV_DONTNEED) == 0))
        pool_put(&r);
    else
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

sl_memory *
sl__memory_new_image(uint32_t min_pages, uint32_t max_pages, const sl_mem_image *img)
{
    /* No images here: sl__module_image returns NULL in this build. */
    return img ? NULL : sl__memory_new(min_pages, max_pages);
}

void
sl__memory_unimage(sl_memory *mem)
{
}

size_t
sl__memory_pool_count(void)
{
    return 0;
}

unsigned
sl__memory_pool_set_cap(unsigned cap)
{
    return 0;
}

void
sl__memory_pool_drain(void)
{
}

void
sl__memory_pool_forget(uint64_t image_id)
{
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
    if (!mem)
        return NULL;
    mem->pristine = false; /* the caller may write through it */
    return mem->base;
}

uint64_t
sl_memory_size(const sl_memory *mem)
{
    return mem ? mem->size : 0;
}

bool
sl_mem_slice(sl_instance *inst, uint64_t off, uint64_t len, uint8_t **ptr)
{
    sl_memory *mem = inst ? inst->mem0 : NULL;
    /* Written so that off + len is never computed: it may wrap. */
    if (!mem || len > mem->size || off > mem->size - len) {
        *ptr = NULL;
        return false;
    }
    mem->pristine = false; /* the caller may write through it */
    *ptr = mem->base + off;
    return true;
}
