/*
 * sl_image.c — prepared memory images: the initial contents of a module's
 * memory 0, built once per module, mapped copy-on-write by every instance.
 *
 * Layer:     engine (src/vm). Uses sl_module.h (read-only) and
 *            sl_runtime.h; sl_instance.c asks for the image, sl_memory.c
 *            maps it, sl_module.c creates and frees the cache holding it.
 * What:      for a module whose memory 0 is defined and whose active data
 *            segments all have i32.const offsets and fit in the initial
 *            memory, a sealed memfd holding bytes [0, len) of the initial
 *            memory (len: the end of the last segment, rounded up to a host
 *            page). An instance maps it MAP_PRIVATE over the start of its
 *            reservation instead of copying the segments: untouched pages
 *            stay shared, written ones are copied by the kernel. Any other
 *            module (imported memory, a global.get offset, a segment that
 *            would trap) gets no image and copies segments as before, so
 *            the spec's order of effects and traps is unchanged.
 * Threads:   the module is shared read-only by many threads; the cache is
 *            built at most once, under image_lock, and published with a
 *            release store of its state (readers: one acquire load).
 * Builds:    guard-page memories only; the explicit-check build never
 *            builds an image (sl__module_image returns NULL).
 * Not here:  mapping and the reservation pool (sl_memory.c), applying
 *            segments (sl_instance.c).
 */
#include "sl_runtime.h"

#include <stdlib.h>

#if SL_MEM_GUARDED

#include <fcntl.h>
#include <pthread.h>
#include <sys/mman.h>
#include <unistd.h>

static pthread_mutex_t image_lock = PTHREAD_MUTEX_INITIALIZER;
static atomic_uint_fast64_t next_id = 1;

/* Fills img and returns true when m can and should have an image. */
static bool
image_build(const sl_module *m, sl_mem_image *img)
{
    if (m->n_mems == 0 || m->n_mem_imports != 0 || m->mems[0].is_64)
        return false;
    uint64_t size = m->mems[0].limits.min * (uint64_t)SL_PAGE_SIZE;
    uint64_t end = 0;
    for (uint32_t i = 0; i < m->n_datas; i++) {
        const sl_data *d = &m->datas[i];
        if (d->mode != SL_SEG_ACTIVE)
            continue;
        if (d->mem != 0 || d->offset.op != SL_CONST_I32)
            return false;
        uint64_t off = (uint32_t)d->offset.value.i32;
        if (off + d->len > size)
            return false; /* instantiation traps: leave that to the copying path */
        if (d->len && off + d->len > end)
            end = off + d->len;
    }
    if (end == 0)
        return false; /* nothing to map: anonymous zero pages are as good */
    uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);
    uint64_t len = (end + page - 1) / page * page;
    if (len > size || len > SIZE_MAX)
        return false; /* host pages larger than 64 KiB */

    int fd = memfd_create("sluice-image", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (fd < 0)
        return false;
    if (ftruncate(fd, (off_t)len) != 0)
        goto fail;
    /* In segment order, so a later segment overwrites an earlier one as
     * copying would. */
    for (uint32_t i = 0; i < m->n_datas; i++) {
        const sl_data *d = &m->datas[i];
        if (d->mode != SL_SEG_ACTIVE || !d->len)
            continue;
        off_t off = (off_t)(uint32_t)d->offset.value.i32;
        for (uint32_t done = 0; done < d->len;) {
            ssize_t n = pwrite(fd, d->bytes + done, d->len - done, off + done);
            if (n <= 0)
                goto fail;
            done += (uint32_t)n;
        }
    }
    /* Sealed: nothing can change or truncate it under live mappings (a
     * truncated file would turn accesses into SIGBUS). */
    if (fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) != 0)
        goto fail;
    void *master = mmap(NULL, (size_t)len, PROT_READ, MAP_SHARED, fd, 0);
    if (master == MAP_FAILED)
        goto fail;
    img->master = master;
    img->fd = fd;
    img->len = (size_t)len;
    img->id = atomic_fetch_add(&next_id, 1);
    return true;

fail:
    close(fd);
    return false;
}

const sl_mem_image *
sl__module_image(const sl_module *m)
{
    struct sl_module_cache *c = m->cache;
    if (!c)
        return NULL;
    int state = atomic_load_explicit(&c->state, memory_order_acquire);
    if (state == SL_IMAGE_UNBUILT) {
        pthread_mutex_lock(&image_lock);
        state = atomic_load_explicit(&c->state, memory_order_relaxed);
        if (state == SL_IMAGE_UNBUILT) {
            state = image_build(m, &c->img) ? SL_IMAGE_READY : SL_IMAGE_NONE;
            atomic_store_explicit(&c->state, state, memory_order_release);
        }
        pthread_mutex_unlock(&image_lock);
    }
    return state == SL_IMAGE_READY ? &c->img : NULL;
}

void
sl__image_drop(struct sl_module_cache *c)
{
    if (atomic_load(&c->state) == SL_IMAGE_READY) {
        /* Pooled reservations still map it; live ones cannot (vm.h: a
         * module outlives its instances). */
        sl__memory_pool_forget(c->img.id);
        munmap((void *)c->img.master, c->img.len);
        close(c->img.fd);
    }
}

#else /* explicit bounds checks: no images */

const sl_mem_image *
sl__module_image(const sl_module *m)
{
    return NULL;
}

void
sl__image_drop(struct sl_module_cache *c)
{
}

#endif /* SL_MEM_GUARDED */
