/*
 * pw_shared.c — process-wide shared data (§2.12) and shared queues (§2.13).
 *
 * Shared data: one table keyed by (vm_id, key) under a read-write lock;
 *            every successful set takes a new CAS from a process-global
 *            counter starting at 1 (0 skipped on wrap). A non-zero cas that
 *            differs from an existing key's → CAS_MISMATCH.
 * Queues:    (vm_id, name) → id (1, 2, ...), items FIFO, and the owner that
 *            receives on_queue_ready: a pw__owner (atomic refcount) plus the
 *            owner's root index. Enqueue (any thread) takes an owner
 *            reference under the lock, then posts delivery through the
 *            owner's pw_host.post; delivery runs on the owner's thread and
 *            does nothing if that VM is gone (owner->vm cleared by the VM on
 *            the same thread), then drops the reference.
 * Not here:  dropping data when the last VM of a vm_id goes away (kept for
 *            the process lifetime; see docs/proxywasm.md).
 */
#include <pthread.h>
#include <stdlib.h>

#include "pw_int.h"

typedef struct entry {
    struct entry *next;
    char *vm_id;
    char *key;
    size_t key_len;
    uint8_t *val;
    size_t val_len;
    uint32_t cas;
} entry;

#define NBUCKET 1024
static pthread_rwlock_t data_lock = PTHREAD_RWLOCK_INITIALIZER;
static entry *buckets[NBUCKET];
static uint32_t cas_counter;

static uint32_t hash(const char *vm_id, const char *key, size_t n)
{
    uint32_t h = 2166136261u;
    for (const char *p = vm_id; *p; p++)
        h = (h ^ (uint8_t)*p) * 16777619u;
    h = (h ^ 0xff) * 16777619u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (uint8_t)key[i]) * 16777619u;
    return h;
}

static entry *find(const char *vm_id, const char *key, size_t n, uint32_t h)
{
    for (entry *e = buckets[h % NBUCKET]; e; e = e->next)
        if (e->key_len == n && !memcmp(e->key, key, n) && !strcmp(e->vm_id, vm_id))
            return e;
    return NULL;
}

pw_status pw__shared_get(const char *vm_id, const char *key, size_t key_len, ut_buf *out,
                         uint32_t *cas)
{
    uint32_t h = hash(vm_id, key, key_len);
    pthread_rwlock_rdlock(&data_lock);
    entry *e = find(vm_id, key, key_len, h);
    pw_status st = PW_NOT_FOUND;
    if (e) {
        ut_buf_append(out, e->val, e->val_len);
        *cas = e->cas;
        st = out->oom ? PW_INTERNAL_FAILURE : PW_OK;
    }
    pthread_rwlock_unlock(&data_lock);
    return st;
}

pw_status pw__shared_set(const char *vm_id, const char *key, size_t key_len,
                         const uint8_t *val, size_t val_len, uint32_t cas)
{
    uint32_t h = hash(vm_id, key, key_len);
    uint8_t *copy = malloc(val_len ? val_len : 1);
    if (!copy)
        return PW_INTERNAL_FAILURE;
    if (val_len)
        memcpy(copy, val, val_len);
    pthread_rwlock_wrlock(&data_lock);
    entry *e = find(vm_id, key, key_len, h);
    pw_status st = PW_OK;
    if (e && cas && e->cas != cas) {
        st = PW_CAS_MISMATCH;
    } else {
        if (!e) {
            e = calloc(1, sizeof *e);
            if (e) {
                e->vm_id = strdup(vm_id);
                e->key = malloc(key_len ? key_len : 1);
            }
            if (!e || !e->vm_id || !e->key) {
                if (e) {
                    free(e->vm_id);
                    free(e->key);
                    free(e);
                }
                st = PW_INTERNAL_FAILURE;
                goto out;
            }
            memcpy(e->key, key, key_len);
            e->key_len = key_len;
            e->next = buckets[h % NBUCKET];
            buckets[h % NBUCKET] = e;
        }
        free(e->val);
        e->val = copy;
        e->val_len = val_len;
        copy = NULL;
        if (++cas_counter == 0)
            cas_counter = 1;
        e->cas = cas_counter;
    }
out:
    pthread_rwlock_unlock(&data_lock);
    free(copy);
    return st;
}

/* ---- queues ------------------------------------------------------------------------- */

typedef struct item {
    struct item *next;
    size_t len;
    uint8_t data[];
} item;

typedef struct queue {
    uint32_t id;
    char *vm_id;
    char *name;
    size_t name_len;
    item *head, *tail;
    pw__owner *owner;
    size_t owner_root;
} queue;

static pthread_mutex_t q_mu = PTHREAD_MUTEX_INITIALIZER;
static queue *queues; /* index id - 1 */
static uint32_t n_queues;

void pw__owner_unref(pw__owner *o)
{
    if (o && atomic_fetch_sub(&o->refs, 1) == 1)
        free(o);
}

pw_status pw__queue_register(pw_vm *vm, const char *name, size_t name_len, uint32_t *id)
{
    const char *vm_id = vm->plugin->vm_id;
    if (!vm->owner)
        return PW_INTERNAL_FAILURE;
    pw_status st = PW_OK;
    pthread_mutex_lock(&q_mu);
    queue *q = NULL;
    for (uint32_t i = 0; i < n_queues; i++)
        if (queues[i].name_len == name_len && !memcmp(queues[i].name, name, name_len) &&
            !strcmp(queues[i].vm_id, vm_id))
            q = &queues[i];
    if (!q) {
        queue *nq = realloc(queues, (n_queues + 1) * sizeof *nq);
        if (!nq) {
            st = PW_INTERNAL_FAILURE;
            goto out;
        }
        queues = nq;
        q = &queues[n_queues];
        memset(q, 0, sizeof *q);
        q->vm_id = strdup(vm_id);
        q->name = malloc(name_len ? name_len : 1);
        if (!q->vm_id || !q->name) {
            free(q->vm_id);
            free(q->name);
            st = PW_INTERNAL_FAILURE;
            goto out;
        }
        memcpy(q->name, name, name_len);
        q->name_len = name_len;
        q->id = ++n_queues;
    }
    atomic_fetch_add(&vm->owner->refs, 1);
    pw__owner_unref(q->owner);
    q->owner = vm->owner;
    q->owner_root = vm->eff.root;
    *id = q->id;
out:
    pthread_mutex_unlock(&q_mu);
    return st;
}

pw_status pw__queue_resolve(const char *vm_id, size_t vm_id_len, const char *name,
                            size_t name_len, uint32_t *id)
{
    pw_status st = PW_NOT_FOUND;
    pthread_mutex_lock(&q_mu);
    for (uint32_t i = 0; i < n_queues; i++)
        if (queues[i].name_len == name_len && !memcmp(queues[i].name, name, name_len) &&
            strlen(queues[i].vm_id) == vm_id_len && !memcmp(queues[i].vm_id, vm_id, vm_id_len)) {
            *id = queues[i].id;
            st = PW_OK;
            break;
        }
    pthread_mutex_unlock(&q_mu);
    return st;
}

typedef struct delivery {
    pw__owner *owner;
    size_t root;
    uint32_t qid;
} delivery;

static void deliver(void *arg)
{
    delivery *d = arg;
    if (d->owner->vm)
        pw__vm_queue_ready(d->owner->vm, d->root, d->qid);
    pw__owner_unref(d->owner);
    free(d);
}

pw_status pw__queue_enqueue(uint32_t id, const uint8_t *val, size_t len)
{
    item *it = malloc(sizeof *it + (len ? len : 1));
    delivery *d = malloc(sizeof *d);
    if (!it || !d) {
        free(it);
        free(d);
        return PW_INTERNAL_FAILURE;
    }
    it->next = NULL;
    it->len = len;
    if (len)
        memcpy(it->data, val, len);
    pthread_mutex_lock(&q_mu);
    if (id == 0 || id > n_queues) {
        pthread_mutex_unlock(&q_mu);
        free(it);
        free(d);
        return PW_NOT_FOUND;
    }
    queue *q = &queues[id - 1];
    if (q->tail)
        q->tail->next = it;
    else
        q->head = it;
    q->tail = it;
    pw__owner *o = q->owner;
    if (o && o->post) {
        atomic_fetch_add(&o->refs, 1);
        d->owner = o;
        d->root = q->owner_root;
        d->qid = id;
    } else {
        o = NULL;
    }
    pthread_mutex_unlock(&q_mu);
    if (o)
        o->post(o->post_user, deliver, d);
    else
        free(d);
    return PW_OK;
}

pw_status pw__queue_dequeue(uint32_t id, ut_buf *out)
{
    pthread_mutex_lock(&q_mu);
    if (id == 0 || id > n_queues) {
        pthread_mutex_unlock(&q_mu);
        return PW_NOT_FOUND;
    }
    queue *q = &queues[id - 1];
    item *it = q->head;
    if (it) {
        q->head = it->next;
        if (!q->head)
            q->tail = NULL;
    }
    pthread_mutex_unlock(&q_mu);
    if (!it)
        return PW_EMPTY;
    ut_buf_append(out, it->data, it->len);
    free(it);
    return out->oom ? PW_INTERNAL_FAILURE : PW_OK;
}
