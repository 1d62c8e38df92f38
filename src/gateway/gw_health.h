/*
 * gw_health.h — active health checks, run on the main thread's loop, and
 * the per-endpoint "healthy" flags they publish to the workers.
 *
 * Layer:     gateway.
 * Owns:      one probe timer per (cluster with health_check, endpoint):
 *            connect, "GET <path>" with Connection: close, read the status
 *            line; 2xx passes, anything else (or timeout) fails; the
 *            thresholds flip the shared flag. Flags live until
 *            gw_health_free, so workers may keep pointers across reloads.
 * Not here:  passive ejection (per worker, gw_upstream.c).
 */
#ifndef GW_HEALTH_H
#define GW_HEALTH_H

#include <stdatomic.h>
#include <stdbool.h>
#include <uv.h>

#include "gw_config.h"

typedef struct gw_health_flag {
    atomic_bool healthy;
} gw_health_flag;

typedef struct gw_health gw_health;

gw_health *gw_health_new(uv_loop_t *loop);
/* Main thread: starts, keeps or stops probes to match cfg. */
void gw_health_apply(gw_health *h, const gw_config *cfg);
/* Any thread: the flag for an endpoint of a health-checked cluster, or
 * NULL when that cluster has no health check. */
const gw_health_flag *gw_health_flag_for(gw_health *h, const char *cluster, const char *address);
/* Stops every probe; on_closed runs when all handles are closed. */
void gw_health_stop(gw_health *h, void (*on_closed)(void *), void *user);
void gw_health_free(gw_health *h);

static inline bool gw_health_is_up(const gw_health_flag *f)
{
    return !f || atomic_load_explicit(&f->healthy, memory_order_relaxed);
}

#endif
