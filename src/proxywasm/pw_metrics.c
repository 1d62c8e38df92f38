/*
 * pw_metrics.c — plugin-defined metrics (§2.14), process-wide: every worker
 * VM updates the same stat. Ids carry the type in the low two bits
 * ((index + 1) << 2 | type: first ids 4, 5, 6); defining a name again
 * returns the same id. Definitions take a mutex (on_configure); updates
 * are lock-free: storage is a fixed table of chunk pointers published with
 * release stores, values are atomics. Histograms keep count, sum and
 * power-of-4 buckets.
 * Not here:  host-side stats (pw_stats.c).
 */
#include <pthread.h>
#include <stdlib.h>

#include "pw_int.h"

#define CHUNK 256
#define MAX_CHUNKS 256 /* 65536 metrics */
#define NBUCKETS 16    /* le 1, 4, 16, ... 4^14, +Inf */

typedef struct metric {
    uint32_t type;
    char *name;
    size_t name_len;
    atomic_llong value; /* counter, gauge */
    atomic_ullong count, sum, buckets[NBUCKETS];
} metric;

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static metric *_Atomic chunks[MAX_CHUNKS];
static uint32_t n_metrics; /* guarded by mu */

static metric *lookup(uint32_t id)
{
    if (id < 4)
        return NULL;
    uint32_t idx = (id >> 2) - 1;
    if (idx / CHUNK >= MAX_CHUNKS)
        return NULL;
    metric *c = atomic_load_explicit(&chunks[idx / CHUNK], memory_order_acquire);
    if (!c)
        return NULL;
    metric *m = &c[idx % CHUNK];
    uint32_t t = __atomic_load_n(&m->type, __ATOMIC_ACQUIRE);
    if (!t || t - 1 != (id & 3))
        return NULL;
    return m;
}

pw_status pw__metric_define(uint32_t type, const char *name, size_t len, uint32_t *id)
{
    if (type > 2)
        return PW_BAD_ARGUMENT;
    pthread_mutex_lock(&mu);
    for (uint32_t i = 0; i < n_metrics; i++) {
        metric *m = &chunks[i / CHUNK][i % CHUNK];
        if (m->type - 1 == type && m->name_len == len && !memcmp(m->name, name, len)) {
            *id = (i + 1) << 2 | type;
            pthread_mutex_unlock(&mu);
            return PW_OK;
        }
    }
    uint32_t i = n_metrics;
    pw_status st = PW_INTERNAL_FAILURE;
    if (i / CHUNK >= MAX_CHUNKS)
        goto out;
    if (!chunks[i / CHUNK]) {
        metric *c = calloc(CHUNK, sizeof *c);
        if (!c)
            goto out;
        atomic_store_explicit(&chunks[i / CHUNK], c, memory_order_release);
    }
    metric *m = &chunks[i / CHUNK][i % CHUNK];
    m->name = malloc(len + 1);
    if (!m->name)
        goto out;
    memcpy(m->name, name, len);
    m->name[len] = '\0';
    m->name_len = len;
    __atomic_store_n(&m->type, type + 1, __ATOMIC_RELEASE);
    n_metrics++;
    *id = (i + 1) << 2 | type;
    st = PW_OK;
out:
    pthread_mutex_unlock(&mu);
    return st;
}

pw_status pw__metric_increment(uint32_t id, int64_t delta)
{
    metric *m = lookup(id);
    if (!m)
        return PW_NOT_FOUND;
    if (m->type == 3 || (m->type == 1 && delta <= 0))
        return PW_BAD_ARGUMENT;
    atomic_fetch_add_explicit(&m->value, delta, memory_order_relaxed);
    return PW_OK;
}

pw_status pw__metric_record(uint32_t id, uint64_t value)
{
    metric *m = lookup(id);
    if (!m)
        return PW_NOT_FOUND;
    if (m->type == 1) {
        atomic_fetch_add_explicit(&m->value, (long long)value, memory_order_relaxed);
    } else if (m->type == 2) {
        atomic_store_explicit(&m->value, (long long)value, memory_order_relaxed);
    } else {
        unsigned b = 0;
        uint64_t le = 1;
        while (b < NBUCKETS - 1 && value > le)
            b++, le *= 4;
        atomic_fetch_add_explicit(&m->buckets[b], 1, memory_order_relaxed);
        atomic_fetch_add_explicit(&m->count, 1, memory_order_relaxed);
        atomic_fetch_add_explicit(&m->sum, value, memory_order_relaxed);
    }
    return PW_OK;
}

pw_status pw__metric_get(uint32_t id, uint64_t *value)
{
    metric *m = lookup(id);
    if (!m)
        return PW_NOT_FOUND;
    if (m->type == 3)
        return PW_BAD_ARGUMENT;
    *value = (uint64_t)atomic_load_explicit(&m->value, memory_order_relaxed);
    return PW_OK;
}

static void put_name(ut_buf *out, const metric *m)
{
    ut_buf_puts(out, "sluice_plugin_");
    for (size_t i = 0; i < m->name_len; i++) {
        char c = m->name[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '_' || c == ':';
        ut_buf_putc(out, ok ? c : '_');
    }
}

void pw_metrics_write_prometheus(ut_buf *out)
{
    static const char *const types[] = {"", "counter", "gauge", "histogram"};
    pthread_mutex_lock(&mu);
    for (uint32_t i = 0; i < n_metrics; i++) {
        metric *m = &chunks[i / CHUNK][i % CHUNK];
        ut_buf_puts(out, "# TYPE ");
        put_name(out, m);
        ut_buf_printf(out, " %s\n", types[m->type]);
        if (m->type != 3) {
            put_name(out, m);
            ut_buf_printf(out, " %lld\n", (long long)atomic_load(&m->value));
            continue;
        }
        unsigned long long cum = 0, le = 1;
        for (unsigned b = 0; b < NBUCKETS; b++, le *= 4) {
            cum += atomic_load(&m->buckets[b]);
            put_name(out, m);
            if (b == NBUCKETS - 1)
                ut_buf_printf(out, "_bucket{le=\"+Inf\"} %llu\n", cum);
            else
                ut_buf_printf(out, "_bucket{le=\"%llu\"} %llu\n", le, cum);
        }
        put_name(out, m);
        ut_buf_printf(out, "_sum %llu\n", (unsigned long long)atomic_load(&m->sum));
        put_name(out, m);
        ut_buf_printf(out, "_count %llu\n", (unsigned long long)atomic_load(&m->count));
    }
    pthread_mutex_unlock(&mu);
}
