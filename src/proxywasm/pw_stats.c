/*
 * pw_stats.c — host-side counters per plugin name (VM creations, failures,
 * traps, CPU-limit hits, recoveries, rebuilds, callbacks, time in guest
 * code), process-wide. Entries are created at pw_plugin_new (mutex) and
 * never freed; updates are relaxed atomics (no lock on the request path).
 * Not here:  plugin-defined metrics (pw_metrics.c).
 */
#include <pthread.h>
#include <stdlib.h>

#include "pw_int.h"

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pw__stats *head;

pw__stats *pw__stats_get(const char *name)
{
    pthread_mutex_lock(&mu);
    pw__stats *s;
    for (s = head; s; s = s->next)
        if (!strcmp(s->name, name))
            break;
    if (!s && (s = calloc(1, sizeof *s)) != NULL) {
        s->name = strdup(name);
        if (!s->name) {
            free(s);
            s = NULL;
        } else {
            s->next = head;
            head = s;
        }
    }
    pthread_mutex_unlock(&mu);
    return s;
}

static void label(ut_buf *out, const char *metric, const char *name, unsigned long long v)
{
    ut_buf_printf(out, "%s{plugin=", metric);
    ut_buf_json_str(out, name, strlen(name));
    ut_buf_printf(out, "} %llu\n", v);
}

void pw_stats_write_prometheus(ut_buf *out)
{
    static const struct {
        const char *name, *help;
        size_t off;
    } rows[] = {
        {"sluice_wasm_vm_created_total", "plugin VMs created", offsetof(pw__stats, vm_created)},
        {"sluice_wasm_vm_failed_total", "plugin VMs failed", offsetof(pw__stats, vm_failed)},
        {"sluice_wasm_traps_total", "traps in plugin code", offsetof(pw__stats, traps)},
        {"sluice_wasm_cpu_limit_total", "callbacks stopped by the CPU limit",
         offsetof(pw__stats, cpu_limit)},
        {"sluice_wasm_recoveries_total", "VMs re-created after a failure",
         offsetof(pw__stats, recoveries)},
        {"sluice_wasm_rebuilds_total", "VMs rebuilt on request (wasm_need_rebuild)",
         offsetof(pw__stats, rebuilds)},
        {"sluice_wasm_callbacks_total", "guest callbacks", offsetof(pw__stats, callbacks)},
        {"sluice_wasm_guest_ns_total", "wall time in guest callbacks (ns)",
         offsetof(pw__stats, guest_ns)},
    };
    pthread_mutex_lock(&mu);
    for (size_t r = 0; r < sizeof rows / sizeof rows[0]; r++) {
        ut_buf_printf(out, "# HELP %s %s\n# TYPE %s counter\n", rows[r].name, rows[r].help,
                      rows[r].name);
        for (pw__stats *s = head; s; s = s->next)
            label(out, rows[r].name, s->name,
                  atomic_load_explicit((atomic_ullong *)((char *)s + rows[r].off),
                                       memory_order_relaxed));
    }
    pthread_mutex_unlock(&mu);
}
