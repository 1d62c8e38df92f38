/*
 * gw_wagi_toml.h — a WAGI modules.toml as a gateway config (see
 * gw_wagi_toml.c for the mapping). Used by `sluice wagi`.
 */
#ifndef GW_WAGI_TOML_H
#define GW_WAGI_TOML_H

#include <stdbool.h>
#include <stddef.h>

#include "ut_buf.h"

typedef struct gw_wagi_toml_opts {
    const char *listen; /* NULL = "127.0.0.1:3000" (WAGI's default) */
    const char *admin;  /* NULL = "127.0.0.1:9901" */
    unsigned workers;   /* 0 = CPUs */
    bool access_log;
} gw_wagi_toml_opts;

/* Returns the YAML text (malloc'd, *out_len bytes), or NULL with err set.
 * Relative module and volume paths are resolved against source's
 * directory by the modules.toml loader. */
char *gw_wagi_toml_to_yaml(const char *toml, size_t len, const char *source,
                           const gw_wagi_toml_opts *o, size_t *out_len, char *err, size_t err_len);

#endif
