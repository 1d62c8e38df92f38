/*
 * gw_server.h — the gateway process: the main thread that owns the
 * configuration, the workers, the admin listener, health checks, signals,
 * hot reload and graceful shutdown.
 *
 * Layer:     gateway (top). The CLI calls gw_server_run and nothing else.
 */
#ifndef GW_SERVER_H
#define GW_SERVER_H

struct gw_server;

/* Runs the gateway with the config file at path until SIGTERM/SIGINT and
 * a graceful drain. Returns the process exit code (0 after a clean drain,
 * 1 when the config or a listener cannot be set up). */
int gw_server_run(const char *config_path);

/* The same for a WAGI modules.toml (`sluice wagi`): the file is turned
 * into a gateway config on every (re)load (gw_wagi_toml.c). */
struct gw_wagi_toml_opts;
int gw_server_run_wagi(const char *modules_toml, const struct gw_wagi_toml_opts *opts);

/* Worker threads call this as they exit (thread-safe). */
void gw_server_worker_exited(struct gw_server *s);

#endif
